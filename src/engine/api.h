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
/* DuckDB's handles, each its own type (as duckdb.h declares them), so
 * that passing one for another does not compile */
typedef struct dm_ddb_database_s *dm_ddb_database;
typedef struct dm_ddb_connection_s *dm_ddb_connection;
typedef struct dm_ddb_config_s *dm_ddb_config;
typedef struct dm_ddb_chunk_s *dm_ddb_chunk;
typedef struct dm_ddb_vector_s *dm_ddb_vector;
typedef struct dm_ddb_ltype_s *dm_ddb_ltype;
typedef struct dm_ddb_appender_s *dm_ddb_appender;
typedef struct dm_ddb_prepared_s *dm_ddb_prepared;
typedef struct dm_ddb_extracted_s *dm_ddb_extracted;
typedef struct dm_ddb_pending_s *dm_ddb_pending;

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

    /* data chunks and vectors (0.6+); results are passed by value */
    dm_ddb_chunk (*result_get_chunk)(struct dm_ddb_result res, dm_idx_t i);
    dm_idx_t (*result_chunk_count)(struct dm_ddb_result res);
    dm_ddb_ltype (*column_logical_type)(struct dm_ddb_result *res,
                                        dm_idx_t col);
    dm_idx_t (*chunk_get_size)(dm_ddb_chunk chunk);
    void (*chunk_set_size)(dm_ddb_chunk chunk, dm_idx_t size);
    void (*chunk_reset)(dm_ddb_chunk chunk);
    dm_ddb_vector (*chunk_get_vector)(dm_ddb_chunk chunk, dm_idx_t col);
    dm_ddb_chunk (*create_data_chunk)(dm_ddb_ltype *types, dm_idx_t n);
    void (*destroy_data_chunk)(dm_ddb_chunk *chunk);
    void *(*vector_get_data)(dm_ddb_vector v);
    uint64_t *(*vector_get_validity)(dm_ddb_vector v);
    void (*vector_ensure_validity_writable)(dm_ddb_vector v);
    void (*validity_set_row_invalid)(uint64_t *validity, dm_idx_t row);
    void (*vector_assign_string_element_len)(dm_ddb_vector v, dm_idx_t row,
                                             const char *s, dm_idx_t len);
    dm_ddb_vector (*list_vector_get_child)(dm_ddb_vector v);
    dm_idx_t (*list_vector_get_size)(dm_ddb_vector v);
    dm_ddb_vector (*struct_vector_get_child)(dm_ddb_vector v, dm_idx_t i);
    int (*get_type_id)(dm_ddb_ltype t);
    uint8_t (*decimal_width)(dm_ddb_ltype t);
    uint8_t (*decimal_scale)(dm_ddb_ltype t);
    int (*decimal_internal_type)(dm_ddb_ltype t);
    int (*enum_internal_type)(dm_ddb_ltype t);
    dm_ddb_ltype (*list_type_child_type)(dm_ddb_ltype t);
    dm_ddb_ltype (*map_type_key_type)(dm_ddb_ltype t);
    dm_ddb_ltype (*map_type_value_type)(dm_ddb_ltype t);
    dm_idx_t (*struct_type_child_count)(dm_ddb_ltype t);
    char *(*struct_type_child_name)(dm_ddb_ltype t, dm_idx_t i);
    dm_ddb_ltype (*struct_type_child_type)(dm_ddb_ltype t, dm_idx_t i);
    void (*destroy_logical_type)(dm_ddb_ltype *t);

    /* appender (0.6+) */
    int (*appender_create)(dm_ddb_connection con, const char *schema,
                           const char *table, dm_ddb_appender *out);
    const char *(*appender_error)(dm_ddb_appender app);
    int (*append_data_chunk)(dm_ddb_appender app, dm_ddb_chunk chunk);
    int (*appender_flush)(dm_ddb_appender app);
    int (*appender_close)(dm_ddb_appender app);
    int (*appender_destroy)(dm_ddb_appender *app);

    /* optional: 0.6.0+ (all releases we ship have it) */
    const char *(*library_version)(void);
    /* optional: 0.7+ (writing lists) */
    int (*list_vector_reserve)(dm_ddb_vector v, dm_idx_t capacity);
    int (*list_vector_set_size)(dm_ddb_vector v, dm_idx_t size);
    dm_idx_t (*union_type_member_count)(dm_ddb_ltype t);
    char *(*union_type_member_name)(dm_ddb_ltype t, dm_idx_t i);
    dm_ddb_ltype (*union_type_member_type)(dm_ddb_ltype t, dm_idx_t i);
    /* optional: 0.7+ (statement by statement, so no error goes unseen) */
    dm_idx_t (*extract_statements)(dm_ddb_connection con, const char *sql,
                                   dm_ddb_extracted *out);
    int (*prepare_extracted_statement)(dm_ddb_connection con,
                                       dm_ddb_extracted stmts, dm_idx_t i,
                                       dm_ddb_prepared *out);
    const char *(*extract_statements_error)(dm_ddb_extracted stmts);
    void (*destroy_extracted)(dm_ddb_extracted *stmts);
    /* optional: 1.5+, a string assigned without UTF-8 validation */
    void (*unsafe_vector_assign_string_element_len)(dm_ddb_vector v,
                                                    dm_idx_t row, const char *s,
                                                    dm_idx_t len);
    /* optional: 1.0+, fixed-size ARRAYs (0.x has no such type) */
    dm_ddb_ltype (*array_type_child_type)(dm_ddb_ltype t);
    dm_idx_t (*array_type_array_size)(dm_ddb_ltype t);
    dm_ddb_vector (*array_vector_get_child)(dm_ddb_vector v);
    /* optional: streaming results (0.8+; fetch_chunk 1.0+) */
    int (*pending_prepared_streaming)(dm_ddb_prepared prep,
                                      dm_ddb_pending *out_pending);
    dm_ddb_chunk (*stream_fetch_chunk)(struct dm_ddb_result res);
    dm_ddb_chunk (*fetch_chunk)(struct dm_ddb_result res);
    /* prepared statements (0.6+) */
    int (*prepare)(dm_ddb_connection con, const char *sql,
                   dm_ddb_prepared *out);
    int (*execute_pending)(dm_ddb_pending pending, struct dm_ddb_result *out);
    const char *(*pending_error)(dm_ddb_pending pending);
    void (*destroy_pending)(dm_ddb_pending *pending);
    int (*execute_prepared)(dm_ddb_prepared prep, struct dm_ddb_result *out);
    const char *(*prepare_error)(dm_ddb_prepared prep);
    void (*destroy_prepare)(dm_ddb_prepared *prep);
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
