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
    SYM(result_get_chunk, "duckdb_result_get_chunk"),
    SYM(result_chunk_count, "duckdb_result_chunk_count"),
    SYM(column_logical_type, "duckdb_column_logical_type"),
    SYM(chunk_get_size, "duckdb_data_chunk_get_size"),
    SYM(chunk_set_size, "duckdb_data_chunk_set_size"),
    SYM(chunk_reset, "duckdb_data_chunk_reset"),
    SYM(chunk_get_vector, "duckdb_data_chunk_get_vector"),
    SYM(create_data_chunk, "duckdb_create_data_chunk"),
    SYM(destroy_data_chunk, "duckdb_destroy_data_chunk"),
    SYM(vector_get_data, "duckdb_vector_get_data"),
    SYM(vector_get_validity, "duckdb_vector_get_validity"),
    SYM(vector_ensure_validity_writable,
        "duckdb_vector_ensure_validity_writable"),
    SYM(validity_set_row_invalid, "duckdb_validity_set_row_invalid"),
    SYM(vector_assign_string_element_len,
        "duckdb_vector_assign_string_element_len"),
    SYM(list_vector_get_child, "duckdb_list_vector_get_child"),
    SYM(list_vector_get_size, "duckdb_list_vector_get_size"),
    SYM(struct_vector_get_child, "duckdb_struct_vector_get_child"),
    SYM(get_type_id, "duckdb_get_type_id"),
    SYM(decimal_width, "duckdb_decimal_width"),
    SYM(decimal_scale, "duckdb_decimal_scale"),
    SYM(decimal_internal_type, "duckdb_decimal_internal_type"),
    SYM(enum_internal_type, "duckdb_enum_internal_type"),
    SYM(list_type_child_type, "duckdb_list_type_child_type"),
    SYM(map_type_key_type, "duckdb_map_type_key_type"),
    SYM(map_type_value_type, "duckdb_map_type_value_type"),
    SYM(struct_type_child_count, "duckdb_struct_type_child_count"),
    SYM(struct_type_child_name, "duckdb_struct_type_child_name"),
    SYM(struct_type_child_type, "duckdb_struct_type_child_type"),
    SYM(destroy_logical_type, "duckdb_destroy_logical_type"),
    SYM(appender_create, "duckdb_appender_create"),
    SYM(appender_error, "duckdb_appender_error"),
    SYM(append_data_chunk, "duckdb_append_data_chunk"),
    SYM(appender_flush, "duckdb_appender_flush"),
    SYM(appender_close, "duckdb_appender_close"),
    SYM(appender_destroy, "duckdb_appender_destroy"),
    SYM(execute_prepared, "duckdb_execute_prepared"),
    SYM(prepare, "duckdb_prepare"),
    SYM(execute_pending, "duckdb_execute_pending"),
    SYM(pending_error, "duckdb_pending_error"),
    SYM(destroy_pending, "duckdb_destroy_pending"),
    OPT(pending_prepared_streaming, "duckdb_pending_prepared_streaming"),
    OPT(stream_fetch_chunk, "duckdb_stream_fetch_chunk"),
    OPT(fetch_chunk, "duckdb_fetch_chunk"),
    SYM(prepare_error, "duckdb_prepare_error"),
    SYM(destroy_prepare, "duckdb_destroy_prepare"),
    OPT(library_version, "duckdb_library_version"),
    OPT(extract_statements, "duckdb_extract_statements"),
    OPT(prepare_extracted_statement, "duckdb_prepare_extracted_statement"),
    OPT(extract_statements_error, "duckdb_extract_statements_error"),
    OPT(destroy_extracted, "duckdb_destroy_extracted"),
    OPT(list_vector_reserve, "duckdb_list_vector_reserve"),
    OPT(list_vector_set_size, "duckdb_list_vector_set_size"),
    OPT(union_type_member_count, "duckdb_union_type_member_count"),
    OPT(union_type_member_name, "duckdb_union_type_member_name"),
    OPT(union_type_member_type, "duckdb_union_type_member_type"),
    OPT(array_type_child_type, "duckdb_array_type_child_type"),
    OPT(array_type_array_size, "duckdb_array_type_array_size"),
    OPT(array_vector_get_child, "duckdb_array_vector_get_child"),
    OPT(unsafe_vector_assign_string_element_len,
        "duckdb_unsafe_vector_assign_string_element_len"),
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
