/*
 * vec.h - column data on the wire: canonical types and vector encoding.
 *
 * Table data travels between engine workers as DuckDB vectors in their
 * physical form, so a reader on 0.6.1 and a writer on 1.5.6 exchange
 * values without a text round trip. Both sides describe a column by a
 * type tree in canonical type ids (DuckDB 1.x's duckdb_type numbers; each
 * worker maps its own release's numbering), and the parent can decode and
 * fingerprint the same bytes without loading DuckDB.
 *
 * Type tree, recursively: u8 type, u8 width (bytes of a fixed value),
 *   u8 decimal width, u8 decimal scale, u8 flags, for an ARRAY only a
 *   u32 array size, then u32 n children, then n x (name, tree): the
 *   element of a LIST, MAP or ARRAY, the members of a STRUCT or UNION.
 * Vector of `count` rows, recursively:
 *   u8 all_valid; if 0: ceil(count / 8) bytes of validity bits (LSB first)
 *   fixed:  count x width bytes (rows that are NULL hold anything)
 *   string: count x (u32 length, bytes); NULL rows have length 0
 *   list:   count x (u64 offset, u64 length), u64 child_count, child vector
 *   array:  child vector of count x size rows, row r's elements at
 *           r x size .. r x size + size - 1 (a NULL row keeps its slots,
 *           sent as DuckDB holds them: no value of the column reads them)
 *   struct: one vector per child, each of count rows
 * A CHUNK frame is: u32 count, u32 ncols, ncols vectors.
 */
#ifndef DM_ENGINE_VEC_H
#define DM_ENGINE_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/wire.h"
#include "util/error.h"

enum dm_type {
    DM_T_INVALID = 0,
    DM_T_BOOLEAN = 1,
    DM_T_TINYINT = 2,
    DM_T_SMALLINT = 3,
    DM_T_INTEGER = 4,
    DM_T_BIGINT = 5,
    DM_T_UTINYINT = 6,
    DM_T_USMALLINT = 7,
    DM_T_UINTEGER = 8,
    DM_T_UBIGINT = 9,
    DM_T_FLOAT = 10,
    DM_T_DOUBLE = 11,
    DM_T_TIMESTAMP = 12,
    DM_T_DATE = 13,
    DM_T_TIME = 14,
    DM_T_INTERVAL = 15,
    DM_T_HUGEINT = 16,
    DM_T_VARCHAR = 17,
    DM_T_BLOB = 18,
    DM_T_DECIMAL = 19,
    DM_T_TIMESTAMP_S = 20,
    DM_T_TIMESTAMP_MS = 21,
    DM_T_TIMESTAMP_NS = 22,
    DM_T_ENUM = 23,
    DM_T_LIST = 24,
    DM_T_STRUCT = 25,
    DM_T_MAP = 26,
    DM_T_UUID = 27,
    DM_T_UNION = 28,
    DM_T_BIT = 29,
    DM_T_TIME_TZ = 30,
    DM_T_TIMESTAMP_TZ = 31,
    DM_T_UHUGEINT = 32,
    DM_T_ARRAY = 33,
    DM_T_BIGNUM = 35,
    DM_T_TIME_NS = 39, /* 1.x: int64 nanoseconds since midnight */
    DM_T_JSON = 100,   /* 0.6's own JSON type id; a string */
};

enum dm_phys {
    DM_P_UNSUPPORTED = 0,
    DM_P_FIXED,
    DM_P_STRING,
    DM_P_LIST,
    DM_P_STRUCT,
    DM_P_ARRAY, /* fixed-size list: one child of count x array_size rows */
};

#define DM_TYPE_MAX_CHILDREN 4096
/* Columns of one result or table: more than DuckDB lets a table have
 * (a frame larger than DM_WIRE_MAX_FRAME is refused on its own). */
#define DM_MAX_COLUMNS    1000000
#define DM_TYPE_MAX_DEPTH 32
/* DuckDB's own bounds on an ARRAY's size (1.x: "at least 1", "at most
 * 100000"): a tree outside them is malformed, and the bound keeps
 * count x size far from overflowing */
#define DM_ARRAY_MAX_SIZE 100000

/* flags */
#define DM_TF_PACKED_TZ 1 /* TIME_TZ in 1.x's packed (micros, offset) form */
/* a 0.6 MAP, held as STRUCT(key LIST, value LIST) (the reader's own
 * layout: on the wire every MAP is a LIST of STRUCT(key, value)) */
#define DM_TF_MAP_OF_LISTS 2

struct dm_type_node {
    enum dm_type type;
    uint8_t width; /* bytes per value of a fixed type */
    uint8_t dec_width, dec_scale;
    uint8_t flags;
    uint32_t array_size; /* ARRAY: elements per row, 1..DM_ARRAY_MAX_SIZE */
    uint32_t nchildren;
    char **names; /* struct / union member names */
    struct dm_type_node *children;
};

/* Canonical id from a release's duckdb_type number (major, minor). */
enum dm_type dm_type_from_release(int major, int minor, int duckdb_type);
enum dm_phys dm_type_phys(const struct dm_type_node *t);
/* Whether t is, or holds at any depth, a LIST or MAP. */
bool dm_type_has_list(const struct dm_type_node *t);
/* Bytes per value of a fixed-width type (DECIMAL/ENUM: set in the node). */
uint8_t dm_type_fixed_width(enum dm_type t);
const char *dm_type_name(enum dm_type t);

void dm_type_write(struct dm_wbuf *b, const struct dm_type_node *t);
/* Parse a tree; returns false on malformed input. */
bool dm_type_read(struct dm_wcur *c, struct dm_type_node *t);
void dm_type_release(struct dm_type_node *t);

/*
 * Can data of type `from` be appended as `to`, byte for byte or with a
 * known conversion? why gets a reason when not.
 */
bool dm_type_compatible(const struct dm_type_node *from,
                        const struct dm_type_node *to, char *why,
                        size_t why_len);

/* ---- decoding without DuckDB (parent side) -------------------------- */

struct dm_vec_view {
    const struct dm_type_node *type;
    uint64_t count;
    const uint8_t *validity; /* NULL: all valid */
    const uint8_t *data;     /* fixed: values; list: entries */
    const uint8_t **strings; /* string: per row pointer to (u32 len, bytes) */
    /* list: 1 (child_count rows); array: 1 (count x array_size rows);
     * struct: n */
    struct dm_vec_view *children;
};

/* Decode one vector of count rows of type t; false when malformed. */
bool dm_vec_view_read(struct dm_wcur *c, const struct dm_type_node *t,
                      uint64_t count, struct dm_vec_view *v, int depth);
void dm_vec_view_release(struct dm_vec_view *v);
bool dm_vec_valid(const struct dm_vec_view *v, uint64_t row);

/*
 * A value's 64-bit hash, the same for the same value whichever release
 * produced the vector (TIME_TZ of 0.x and 1.x are brought to one form).
 */
uint64_t dm_vec_hash(const struct dm_vec_view *v, uint64_t row);

/* Order-independent fingerprint of one column. */
struct dm_fingerprint {
    uint64_t rows;
    uint64_t nulls;
    uint64_t sum;
    uint64_t xor_;
};

void dm_fingerprint_add(struct dm_fingerprint *f, const struct dm_vec_view *v);

/* A table's (or a query's) row count and per-column fingerprints. */
struct dm_table_print {
    uint64_t rows;
    size_t ncols;
    struct dm_fingerprint *cols;
};

void dm_table_print_release(struct dm_table_print *p);

/*
 * Fold one encoded chunk (count, ncols, vectors) of the given column
 * types into p, allocating p->cols on first use. False when malformed.
 */
bool dm_table_print_chunk(struct dm_table_print *p, size_t ncols,
                          const struct dm_type_node *types,
                          const uint8_t *chunk, size_t len);

#endif
