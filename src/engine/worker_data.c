/*
 * worker_data.c - table data in and out of a DuckDB release, as encoded
 * vectors (vec.h): SCAN reads a query's result chunk by chunk, APPEND
 * feeds chunks to an appender. This is where DuckDB's vector memory is
 * touched, so it runs only in the worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vec.h"
#include "engine/worker_int.h"

#define STANDARD_VECTOR 2048
/* the SCAN flags of engine.h, which the worker does not include */
#define DM_SCAN_CHUNKS_FLAG 1u
#define DM_SCAN_PRINT_FLAG  2u

/* duckdb_string_t (16 bytes): u32 length, then 12 inlined bytes, or a
 * 4-byte prefix and a pointer at offset 8 */
union ddb_string {
    struct {
        uint32_t length;
        char prefix[4];
        const char *ptr;
    } pointer;
    struct {
        uint32_t length;
        char inlined[12];
    } inlined;
};

static uint8_t internal_width(int ddb_type)
{
    switch (ddb_type) {
    case 6: /* UTINYINT */
        return 1;
    case 3: /* SMALLINT */
    case 7: /* USMALLINT */
        return 2;
    case 4: /* INTEGER */
    case 8: /* UINTEGER */
        return 4;
    case 5: /* BIGINT */
        return 8;
    case 16: /* HUGEINT */
        return 16;
    default:
        return 0;
    }
}

/* Describe a logical type as a canonical type tree. */
static bool describe(struct worker *w, dm_ddb_ltype lt, struct dm_type_node *n,
                     int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    memset(n, 0, sizeof(*n));
    if (depth > DM_TYPE_MAX_DEPTH)
        return false;
    n->type = dm_type_from_release(w->major, w->minor, a->get_type_id(lt));
    n->width = dm_type_fixed_width(n->type);
    switch (n->type) {
    case DM_T_DECIMAL:
        n->dec_width = a->decimal_width(lt);
        n->dec_scale = a->decimal_scale(lt);
        n->width = internal_width(a->decimal_internal_type(lt));
        return n->width != 0;
    case DM_T_ENUM:
        n->width = internal_width(a->enum_internal_type(lt));
        return n->width != 0;
    case DM_T_TIME_TZ:
        n->flags = DM_TF_PACKED_TZ; /* only 1.x reports TIME_TZ */
        return true;
    case DM_T_LIST: {
        dm_ddb_ltype child = a->list_type_child_type(lt);
        n->children = calloc(1, sizeof(*n->children));
        n->names = calloc(1, sizeof(char *));
        n->nchildren = 1;
        bool ok = child && n->children && n->names &&
                  describe(w, child, &n->children[0], depth + 1);
        if (child)
            a->destroy_logical_type(&child);
        return ok;
    }
    case DM_T_MAP: {
        if (w->major == 0 && w->minor <= 6)
            return false; /* 0.6 MAPs are laid out differently */
        /* a LIST of STRUCT(key, value) */
        n->children = calloc(1, sizeof(*n->children));
        n->names = calloc(1, sizeof(char *));
        if (!n->children || !n->names)
            return false;
        n->nchildren = 1;
        struct dm_type_node *kv = &n->children[0];
        kv->type = DM_T_STRUCT;
        kv->children = calloc(2, sizeof(*kv->children));
        kv->names = calloc(2, sizeof(char *));
        if (!kv->children || !kv->names)
            return false;
        kv->nchildren = 2;
        kv->names[0] = strdup("key");
        kv->names[1] = strdup("value");
        dm_ddb_ltype k = a->map_type_key_type(lt);
        dm_ddb_ltype v = a->map_type_value_type(lt);
        bool ok = k && v && describe(w, k, &kv->children[0], depth + 1) &&
                  describe(w, v, &kv->children[1], depth + 1);
        if (k)
            a->destroy_logical_type(&k);
        if (v)
            a->destroy_logical_type(&v);
        return ok;
    }
    case DM_T_STRUCT:
    case DM_T_UNION: {
        bool is_union = n->type == DM_T_UNION;
        if (is_union && !a->union_type_member_count)
            return false;
        dm_idx_t members = is_union ? a->union_type_member_count(lt)
                                    : a->struct_type_child_count(lt);
        /* a union is a struct whose first child is the tag */
        dm_idx_t count = members + (is_union ? 1 : 0);
        if (count == 0 || count > DM_TYPE_MAX_CHILDREN)
            return false;
        n->children = calloc(count, sizeof(*n->children));
        n->names = calloc(count, sizeof(char *));
        if (!n->children || !n->names)
            return false;
        n->nchildren = (uint32_t)count;
        dm_idx_t first = 0;
        if (is_union) {
            n->children[0].type = DM_T_UTINYINT;
            n->children[0].width = 1;
            n->names[0] = strdup("");
            first = 1;
        }
        for (dm_idx_t i = 0; i < members; i++) {
            char *name = is_union ? a->union_type_member_name(lt, i)
                                  : a->struct_type_child_name(lt, i);
            n->names[first + i] = name ? strdup(name) : NULL;
            if (name)
                a->free(name);
            dm_ddb_ltype ct = is_union ? a->union_type_member_type(lt, i)
                                       : a->struct_type_child_type(lt, i);
            bool ok = ct && describe(w, ct, &n->children[first + i], depth + 1);
            if (ct)
                a->destroy_logical_type(&ct);
            if (!ok)
                return false;
        }
        return true;
    }
    default:
        return dm_type_phys(n) != DM_P_UNSUPPORTED;
    }
}

/* ---- encoding (SCAN) ------------------------------------------------- */

static void encode_validity(struct dm_wbuf *b, const uint64_t *validity,
                            uint64_t count)
{
    uint8_t all = 1;
    if (validity) {
        for (uint64_t i = 0; i < (count + 63) / 64 && all; i++) {
            uint64_t want = (i + 1) * 64 <= count
                                ? UINT64_MAX
                                : (UINT64_C(1) << (count % 64)) - 1;
            if ((validity[i] & want) != want)
                all = 0;
        }
    }
    dm_wbuf_bytes(b, &all, 1);
    if (!all) /* little-endian words are already LSB-first bytes */
        dm_wbuf_bytes(b, validity, (count + 7) / 8);
}

static bool row_valid(const uint64_t *validity, uint64_t row)
{
    return !validity || (validity[row / 64] >> (row % 64)) & 1;
}

static void encode_vector(struct worker *w, struct dm_wbuf *b, dm_ddb_vector v,
                          const struct dm_type_node *t, uint64_t count)
{
    const struct dm_duckdb_api *a = &w->api;
    const uint64_t *validity = a->vector_get_validity(v);
    encode_validity(b, validity, count);
    const uint8_t *data = a->vector_get_data(v);

    switch (dm_type_phys(t)) {
    case DM_P_FIXED:
        dm_wbuf_bytes(b, data, count * t->width);
        return;
    case DM_P_STRING: {
        const union ddb_string *s = (const void *)data;
        for (uint64_t r = 0; r < count; r++) {
            if (!row_valid(validity, r)) {
                dm_wbuf_u32(b, 0);
                continue;
            }
            uint32_t len = s[r].inlined.length;
            dm_wbuf_u32(b, len);
            dm_wbuf_bytes(
                b, len <= 12 ? s[r].inlined.inlined : s[r].pointer.ptr, len);
        }
        return;
    }
    case DM_P_LIST: {
        dm_wbuf_bytes(b, data, count * 16);
        uint64_t child_count = a->list_vector_get_size(v);
        dm_wbuf_u64(b, child_count);
        encode_vector(w, b, a->list_vector_get_child(v), &t->children[0],
                      child_count);
        return;
    }
    case DM_P_STRUCT:
        for (uint32_t i = 0; i < t->nchildren; i++)
            encode_vector(w, b, a->struct_vector_get_child(v, i),
                          &t->children[i], count);
        return;
    default:
        return;
    }
}

static void release_types(struct dm_type_node *types, size_t n)
{
    for (size_t i = 0; types && i < n; i++)
        dm_type_release(&types[i]);
    free(types);
}

/*
 * Start a query's result: streaming where the release can (0.8+), so that
 * memory stays bounded by a chunk, else materialized (0.6, 0.7).
 */
static const char *start_result(struct worker *w, const char *sql,
                                struct dm_ddb_result *res, bool *streaming)
{
    const struct dm_duckdb_api *a = &w->api;
    *streaming = false;
    if (!a->pending_prepared_streaming ||
        !(a->fetch_chunk || a->stream_fetch_chunk)) {
        if (a->query(w->con, sql, res) != DM_DDB_SUCCESS) {
            const char *m = a->result_error(res);
            return m ? m : "query failed";
        }
        return NULL;
    }
    static char msg[DM_ERROR_MSG_MAX];
    void *prep = NULL, *pending = NULL;
    const char *failure = NULL;
    if (a->prepare(w->con, sql, &prep) != DM_DDB_SUCCESS) {
        const char *m = a->prepare_error(prep);
        snprintf(msg, sizeof(msg), "%s", m ? m : "prepare failed");
        failure = msg;
    } else if (a->pending_prepared_streaming(prep, &pending) !=
               DM_DDB_SUCCESS) {
        const char *m = a->pending_error(pending);
        snprintf(msg, sizeof(msg), "%s", m ? m : "query failed");
        failure = msg;
    } else if (a->execute_pending(pending, res) != DM_DDB_SUCCESS) {
        const char *m = a->result_error(res);
        snprintf(msg, sizeof(msg), "%s", m ? m : "query failed");
        failure = msg;
    } else {
        *streaming = true;
    }
    if (pending)
        a->destroy_pending(&pending);
    if (prep)
        a->destroy_prepare(&prep);
    return failure;
}

static dm_ddb_chunk next_chunk(struct worker *w, struct dm_ddb_result *res,
                               bool streaming, dm_idx_t index)
{
    const struct dm_duckdb_api *a = &w->api;
    if (!streaming)
        return a->result_get_chunk(*res, index);
    return a->fetch_chunk ? a->fetch_chunk(*res) : a->stream_fetch_chunk(*res);
}

enum dm_code worker_handle_scan(struct worker *w, struct dm_wcur *c)
{
    bool streaming = false;
    const struct dm_duckdb_api *a = &w->api;
    struct dm_ddb_result res;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_type_node *types = NULL;
    enum dm_code rc = DM_OK;
    dm_idx_t ncols = 0;
    char msg[DM_ERROR_MSG_MAX];

    struct dm_table_print print;
    memset(&print, 0, sizeof(print));
    char *sql = dm_wcur_str(c, NULL);
    uint32_t flags = dm_wcur_u32(c);
    if (c->bad || !sql) {
        free(sql);
        return worker_send_error(w, DM_ERR_PROTOCOL, "malformed SCAN");
    }
    if (!w->con) {
        free(sql);
        return worker_send_error(w, DM_ERR_USAGE, "no database is open");
    }
    memset(&res, 0, sizeof(res));
    const char *failure = start_result(w, sql, &res, &streaming);
    if (failure) {
        rc = worker_send_error(w, DM_ERR_SQL, failure);
        goto out;
    }
    ncols = a->column_count(&res);
    types = calloc(ncols ? ncols : 1, sizeof(*types));
    if (!types) {
        rc = worker_send_error(w, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_SCHEMA);
    dm_wbuf_u32(&w->out, (uint32_t)ncols);
    for (dm_idx_t i = 0; i < ncols; i++) {
        dm_ddb_ltype lt = a->column_logical_type(&res, i);
        bool ok = lt && describe(w, lt, &types[i], 0);
        if (lt)
            a->destroy_logical_type(&lt);
        if (!ok) {
            snprintf(msg, sizeof(msg),
                     "column \"%s\" has a type (%s) duckmig cannot copy "
                     "from DuckDB %d.%d",
                     a->column_name(&res, i), dm_type_name(types[i].type),
                     w->major, w->minor);
            rc = worker_send_error(w, DM_ERR_UNSUPPORTED, msg);
            goto out;
        }
        dm_wbuf_str(&w->out, a->column_name(&res, i));
        dm_type_write(&w->out, &types[i]);
    }
    rc = dm_wire_send(w->fd, &w->out, &err);
    if (rc)
        goto out;

    dm_idx_t nchunks = streaming ? 0 : a->result_chunk_count(res);
    uint64_t total = 0;
    for (dm_idx_t ci = 0; streaming || ci < nchunks; ci++) {
        dm_ddb_chunk chunk = next_chunk(w, &res, streaming, ci);
        if (!chunk)
            break;
        uint64_t count = a->chunk_get_size(chunk);
        total += count;
        if (count == 0) {
            a->destroy_data_chunk(&chunk);
            continue;
        }
        dm_wbuf_begin(&w->out, DM_W_CHUNK);
        dm_wbuf_u32(&w->out, (uint32_t)count);
        dm_wbuf_u32(&w->out, (uint32_t)ncols);
        for (dm_idx_t col = 0; col < ncols; col++)
            encode_vector(w, &w->out, a->chunk_get_vector(chunk, col),
                          &types[col], count);
        a->destroy_data_chunk(&chunk);
        if (w->out.oom) {
            rc = worker_send_error(w, DM_ERR_NOMEM, "chunk too large");
            goto out;
        }
        /* hash here, where the data is: the parent only relays bytes */
        if ((flags & DM_SCAN_PRINT_FLAG) &&
            !dm_table_print_chunk(&print, ncols, types, w->out.data + 5,
                                  w->out.len - 5)) {
            rc = worker_send_error(w, DM_ERR_INTERNAL,
                                   "cannot fingerprint a chunk");
            goto out;
        }
        if (flags & DM_SCAN_CHUNKS_FLAG) {
            rc = dm_wire_send(w->fd, &w->out, &err);
            if (rc)
                goto out;
        }
    }
    if (streaming && a->result_error(&res)) {
        rc = worker_send_error(w, DM_ERR_SQL, a->result_error(&res));
        goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_DONE);
    dm_wbuf_u64(&w->out, total);
    dm_wbuf_u32(&w->out, (uint32_t)print.ncols);
    for (size_t i = 0; i < print.ncols; i++) {
        dm_wbuf_u64(&w->out, print.cols[i].rows);
        dm_wbuf_u64(&w->out, print.cols[i].nulls);
        dm_wbuf_u64(&w->out, print.cols[i].sum);
        dm_wbuf_u64(&w->out, print.cols[i].xor_);
    }
    rc = dm_wire_send(w->fd, &w->out, &err);
out:
    dm_table_print_release(&print);
    release_types(types, ncols);
    a->destroy_result(&res);
    free(sql);
    return rc;
}

/* ---- decoding (APPEND) ----------------------------------------------- */

/* 0.x TIMETZ (plain micros, UTC) -> 1.x packed (micros << 24 | offset) */
static uint64_t pack_timetz(uint64_t micros)
{
    return (micros << 24) | 57599; /* 57599 - offset, offset 0 */
}

static bool decode_vector(struct worker *w, struct dm_wcur *c, dm_ddb_vector v,
                          const struct dm_type_node *src,
                          const struct dm_type_node *dst, uint64_t count)
{
    const struct dm_duckdb_api *a = &w->api;
    const uint8_t *all = dm_wcur_take(c, 1);
    if (!all)
        return false;
    if (!*all) {
        const uint8_t *bits = dm_wcur_take(c, (count + 7) / 8);
        if (!bits)
            return false;
        a->vector_ensure_validity_writable(v);
        uint64_t *validity = a->vector_get_validity(v);
        for (uint64_t r = 0; r < count; r++)
            if (!((bits[r / 8] >> (r % 8)) & 1))
                a->validity_set_row_invalid(validity, r);
    }

    switch (dm_type_phys(dst)) {
    case DM_P_FIXED: {
        const uint8_t *p = dm_wcur_take(c, count * src->width);
        if (!p)
            return false;
        uint8_t *data = a->vector_get_data(v);
        if (dst->type == DM_T_TIME_TZ && (dst->flags & DM_TF_PACKED_TZ) &&
            !(src->flags & DM_TF_PACKED_TZ)) {
            for (uint64_t r = 0; r < count; r++) {
                uint64_t micros;
                memcpy(&micros, p + r * 8, 8);
                uint64_t packed = pack_timetz(micros);
                memcpy(data + r * 8, &packed, 8);
            }
        } else {
            memcpy(data, p, count * src->width);
        }
        return true;
    }
    case DM_P_STRING:
        for (uint64_t r = 0; r < count; r++) {
            uint32_t len = dm_wcur_u32(c);
            const uint8_t *p = dm_wcur_take(c, len);
            if (!p)
                return false;
            /* NULL rows carry length 0 and are masked by the validity */
            a->vector_assign_string_element_len(v, r, (const char *)p, len);
        }
        return true;
    case DM_P_LIST: {
        const uint8_t *entries = dm_wcur_take(c, count * 16);
        uint64_t child_count = dm_wcur_u64(c);
        if (!entries || c->bad || !a->list_vector_reserve)
            return false;
        if (a->list_vector_reserve(v, child_count) != DM_DDB_SUCCESS ||
            a->list_vector_set_size(v, child_count) != DM_DDB_SUCCESS)
            return false;
        memcpy(a->vector_get_data(v), entries, count * 16);
        return decode_vector(w, c, a->list_vector_get_child(v),
                             &src->children[0], &dst->children[0], child_count);
    }
    case DM_P_STRUCT:
        for (uint32_t i = 0; i < dst->nchildren; i++)
            if (!decode_vector(w, c, a->struct_vector_get_child(v, i),
                               &src->children[i], &dst->children[i], count))
                return false;
        return true;
    default:
        return false;
    }
}

/* Quote an identifier for SQL: "a""b". */
static void put_ident(struct dm_wbuf *b, const char *s)
{
    dm_wbuf_bytes(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            dm_wbuf_bytes(b, "\"", 1);
        dm_wbuf_bytes(b, s, 1);
    }
    dm_wbuf_bytes(b, "\"", 1);
}

struct appending {
    dm_ddb_appender app;
    dm_ddb_chunk chunk;
    dm_ddb_ltype *ltypes;
    struct dm_type_node *src, *dst;
    size_t ncols;
    uint64_t rows;
    char error[DM_ERROR_MSG_MAX];
};

static void appending_release(struct worker *w, struct appending *ap)
{
    const struct dm_duckdb_api *a = &w->api;
    if (ap->chunk)
        a->destroy_data_chunk(&ap->chunk);
    for (size_t i = 0; ap->ltypes && i < ap->ncols; i++)
        if (ap->ltypes[i])
            a->destroy_logical_type(&ap->ltypes[i]);
    free(ap->ltypes);
    if (ap->app)
        a->appender_destroy(&ap->app);
    release_types(ap->src, ap->ncols);
    release_types(ap->dst, ap->ncols);
}

/* Look up the target columns' logical types and check them against src. */
static bool prepare_append(struct worker *w, struct appending *ap,
                           const char *schema, const char *table,
                           char **columns)
{
    const struct dm_duckdb_api *a = &w->api;
    struct dm_ddb_result res;
    struct dm_wbuf sql = DM_WBUF_INIT;
    bool ok = false;

    dm_wbuf_bytes(&sql, "SELECT ", 7);
    for (size_t i = 0; i < ap->ncols; i++) {
        if (i)
            dm_wbuf_bytes(&sql, ", ", 2);
        put_ident(&sql, columns[i]);
    }
    dm_wbuf_bytes(&sql, " FROM ", 6);
    put_ident(&sql, schema);
    dm_wbuf_bytes(&sql, ".", 1);
    put_ident(&sql, table);
    dm_wbuf_bytes(&sql, " LIMIT 0", 9); /* with the NUL */
    memset(&res, 0, sizeof(res));
    if (sql.oom ||
        a->query(w->con, (const char *)sql.data, &res) != DM_DDB_SUCCESS) {
        snprintf(ap->error, sizeof(ap->error), "%s",
                 sql.oom ? "out of memory" : a->result_error(&res));
        goto out;
    }
    ap->ltypes = calloc(ap->ncols, sizeof(*ap->ltypes));
    ap->dst = calloc(ap->ncols, sizeof(*ap->dst));
    if (!ap->ltypes || !ap->dst) {
        snprintf(ap->error, sizeof(ap->error), "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ap->ncols; i++) {
        char why[256];
        ap->ltypes[i] = a->column_logical_type(&res, i);
        if (!ap->ltypes[i] || !describe(w, ap->ltypes[i], &ap->dst[i], 0)) {
            snprintf(ap->error, sizeof(ap->error),
                     "column \"%s\": DuckDB %d.%d type %s is not supported",
                     columns[i], w->major, w->minor,
                     dm_type_name(ap->dst[i].type));
            goto out;
        }
        if (!dm_type_compatible(&ap->src[i], &ap->dst[i], why, sizeof(why))) {
            snprintf(ap->error, sizeof(ap->error), "column \"%s\": %s",
                     columns[i], why);
            goto out;
        }
    }
    ap->chunk = a->create_data_chunk(ap->ltypes, ap->ncols);
    if (!ap->chunk) {
        snprintf(ap->error, sizeof(ap->error), "cannot create a data chunk");
        goto out;
    }
    if (a->appender_create(w->con, schema, table, &ap->app) != DM_DDB_SUCCESS) {
        const char *m = ap->app ? a->appender_error(ap->app) : NULL;
        snprintf(ap->error, sizeof(ap->error), "cannot append to %s.%s: %s",
                 schema, table, m ? m : "appender failed");
        goto out;
    }
    ok = true;
out:
    a->destroy_result(&res);
    dm_wbuf_release(&sql);
    return ok;
}

static void append_chunk(struct worker *w, struct appending *ap,
                         struct dm_wcur *c)
{
    const struct dm_duckdb_api *a = &w->api;
    uint32_t count = dm_wcur_u32(c);
    uint32_t ncols = dm_wcur_u32(c);
    if (c->bad || ncols != ap->ncols || count > STANDARD_VECTOR) {
        snprintf(ap->error, sizeof(ap->error), "malformed data chunk");
        return;
    }
    a->chunk_reset(ap->chunk);
    for (uint32_t i = 0; i < ncols; i++) {
        if (!decode_vector(w, c, a->chunk_get_vector(ap->chunk, i), &ap->src[i],
                           &ap->dst[i], count)) {
            snprintf(ap->error, sizeof(ap->error),
                     "malformed data for column %u", i + 1);
            return;
        }
    }
    a->chunk_set_size(ap->chunk, count);
    if (a->append_data_chunk(ap->app, ap->chunk) != DM_DDB_SUCCESS) {
        const char *m = a->appender_error(ap->app);
        snprintf(ap->error, sizeof(ap->error), "%s", m ? m : "append failed");
        return;
    }
    ap->rows += count;
}

enum dm_code worker_handle_append(struct worker *w, struct dm_wcur *c)
{
    const struct dm_duckdb_api *a = &w->api;
    struct appending ap;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_wbuf in = DM_WBUF_INIT;
    enum dm_wire_type type;
    enum dm_code rc = DM_OK;
    char **columns = NULL;

    memset(&ap, 0, sizeof(ap));
    char *schema = dm_wcur_str(c, NULL);
    char *table = dm_wcur_str(c, NULL);
    ap.ncols = dm_wcur_u32(c);
    if (!c->bad && ap.ncols && ap.ncols <= DM_TYPE_MAX_CHILDREN) {
        columns = calloc(ap.ncols, sizeof(char *));
        ap.src = calloc(ap.ncols, sizeof(*ap.src));
    }
    for (size_t i = 0; columns && ap.src && i < ap.ncols && !c->bad; i++) {
        columns[i] = dm_wcur_str(c, NULL);
        if (!columns[i] || !dm_type_read(c, &ap.src[i]))
            c->bad = true;
    }
    if (c->bad || !schema || !table || !columns || !ap.src) {
        rc = worker_send_error(w, DM_ERR_PROTOCOL, "malformed APPEND");
        goto out;
    }
    if (!w->con) {
        rc = worker_send_error(w, DM_ERR_USAGE, "no database is open");
        goto out;
    }
    if (!prepare_append(w, &ap, schema, table, columns)) {
        rc = worker_send_error(w, DM_ERR_SQL, ap.error);
        goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_OK);
    rc = dm_wire_send(w->fd, &w->out, &err);
    if (rc)
        goto out;

    /* CHUNK* END; after a failure the rest is read and dropped */
    for (;;) {
        struct dm_wcur fc;
        rc = dm_wire_recv(w->fd, &in, &type, &err);
        if (rc)
            goto out;
        if (type == DM_W_END)
            break;
        if (type != DM_W_CHUNK) {
            snprintf(ap.error, sizeof(ap.error), "unexpected frame");
            continue;
        }
        if (ap.error[0])
            continue;
        dm_wcur_init(&fc, &in);
        append_chunk(w, &ap, &fc);
    }
    if (!ap.error[0] && (a->appender_flush(ap.app) != DM_DDB_SUCCESS ||
                         a->appender_close(ap.app) != DM_DDB_SUCCESS)) {
        const char *m = a->appender_error(ap.app);
        snprintf(ap.error, sizeof(ap.error), "%s",
                 m ? m : "appender flush failed");
    }
    if (ap.error[0]) {
        rc = worker_send_error(w, DM_ERR_SQL, ap.error);
        goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_DONE);
    dm_wbuf_u64(&w->out, ap.rows);
    rc = dm_wire_send(w->fd, &w->out, &err);
out:
    appending_release(w, &ap);
    for (size_t i = 0; columns && i < ap.ncols; i++)
        free(columns[i]);
    free(columns);
    free(table);
    free(schema);
    dm_wbuf_release(&in);
    return rc;
}
