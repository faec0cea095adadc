/*
 * api.h - one DuckDB release's C API, reached through a function table.
 *
 * duckmig never links against libduckdb: each release is dlopen()ed in a
 * worker process of its own (two releases export the same C and C++
 * symbols and must not share an address space, docs/engines.md). This
 * header declares the small part of the C ABI we use. The ABI has been
 * stable for these symbols from 0.6 to 1.5: handles are pointers to
 * pointers and duckdb_result is six machine words.
 *
 * Required symbols fail dm_duckdb_api_load(); optional ones (marked below)
 * are NULL in releases that lack them, and callers check before use.
 */
#ifndef DM_ENGINE_API_H
#define DM_ENGINE_API_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

typedef uint64_t dm_idx_t;
typedef void *dm_ddb_database;
typedef void *dm_ddb_connection;
typedef void *dm_ddb_config;

/* duckdb_result: five deprecated words then internal_data (0.3.2 - 1.5). */
struct dm_ddb_result {
    uint64_t deprecated[5];
    void *internal_data;
};

/* duckdb_state: DuckDBSuccess = 0, DuckDBError = 1 */
#define DM_DDB_SUCCESS 0

struct dm_duckdb_api {
    void *handle; /* from dlopen */

    int (*open_ext)(const char *path, dm_ddb_database *out, dm_ddb_config cfg,
                    char **out_error);
    void (*close)(dm_ddb_database *db);
    int (*create_config)(dm_ddb_config *out);
    int (*set_config)(dm_ddb_config cfg, const char *name, const char *option);
    void (*destroy_config)(dm_ddb_config *cfg);
    int (*connect)(dm_ddb_database db, dm_ddb_connection *out);
    void (*disconnect)(dm_ddb_connection *con);

    int (*query)(dm_ddb_connection con, const char *sql,
                 struct dm_ddb_result *out);
    void (*destroy_result)(struct dm_ddb_result *res);
    const char *(*result_error)(struct dm_ddb_result *res);
    dm_idx_t (*column_count)(struct dm_ddb_result *res);
    dm_idx_t (*row_count)(struct dm_ddb_result *res);
    dm_idx_t (*rows_changed)(struct dm_ddb_result *res);
    const char *(*column_name)(struct dm_ddb_result *res, dm_idx_t col);
    char *(*value_varchar)(struct dm_ddb_result *res, dm_idx_t col,
                           dm_idx_t row);
    bool (*value_is_null)(struct dm_ddb_result *res, dm_idx_t col,
                          dm_idx_t row);
    void (*free)(void *ptr);

    /* optional: 0.6.0+ (all releases we ship have it) */
    const char *(*library_version)(void);
};

/*
 * dlopen library_path (RTLD_NOW | RTLD_LOCAL) and resolve every symbol.
 * Fails with DM_ERR_ENGINE naming the path and the missing symbol.
 */
enum dm_code dm_duckdb_api_load(const char *library_path,
                                struct dm_duckdb_api *api,
                                struct dm_error *err);

/* dlclose; the table is zeroed. Safe on a zeroed table. */
void dm_duckdb_api_unload(struct dm_duckdb_api *api);

#endif
