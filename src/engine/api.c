/* api.c - resolve a DuckDB release's C API into a function table. */
#include "engine/api.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

struct symbol {
    const char *name;
    size_t offset; /* of the function pointer inside struct dm_duckdb_api */
    bool optional;
};

#define SYM(field, name)                                                       \
    {                                                                          \
        name, offsetof(struct dm_duckdb_api, field), false                     \
    }
#define OPT(field, name)                                                       \
    {                                                                          \
        name, offsetof(struct dm_duckdb_api, field), true                      \
    }

static const struct symbol symbols[] = {
    SYM(open_ext, "duckdb_open_ext"),
    SYM(close, "duckdb_close"),
    SYM(create_config, "duckdb_create_config"),
    SYM(set_config, "duckdb_set_config"),
    SYM(destroy_config, "duckdb_destroy_config"),
    SYM(connect, "duckdb_connect"),
    SYM(disconnect, "duckdb_disconnect"),
    SYM(query, "duckdb_query"),
    SYM(destroy_result, "duckdb_destroy_result"),
    SYM(result_error, "duckdb_result_error"),
    SYM(column_count, "duckdb_column_count"),
    SYM(row_count, "duckdb_row_count"),
    SYM(rows_changed, "duckdb_rows_changed"),
    SYM(column_name, "duckdb_column_name"),
    SYM(value_varchar, "duckdb_value_varchar"),
    SYM(value_is_null, "duckdb_value_is_null"),
    SYM(free, "duckdb_free"),
    OPT(library_version, "duckdb_library_version"),
};

enum dm_code dm_duckdb_api_load(const char *library_path,
                                struct dm_duckdb_api *api, struct dm_error *err)
{
    memset(api, 0, sizeof(*api));
    void *handle = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return dm_fail(err, DM_ERR_ENGINE, "cannot load '%s': %s", library_path,
                       dlerror());

    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        void *fn = dlsym(handle, symbols[i].name);
        if (!fn && !symbols[i].optional) {
            dlclose(handle);
            memset(api, 0, sizeof(*api));
            return dm_fail(err, DM_ERR_ENGINE,
                           "'%s' lacks the required symbol %s", library_path,
                           symbols[i].name);
        }
        /* POSIX guarantees object/function pointer conversion for dlsym */
        memcpy((char *)api + symbols[i].offset, &fn, sizeof(fn));
    }
    api->handle = handle;
    return DM_OK;
}

void dm_duckdb_api_unload(struct dm_duckdb_api *api)
{
    if (api->handle)
        dlclose(api->handle);
    memset(api, 0, sizeof(*api));
}
