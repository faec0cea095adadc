/*
 * vec.c - canonical types, type trees on the wire, and decoding plus
 * fingerprinting of encoded vectors. Pure C: used by the parent to verify
 * data it never hands to DuckDB, and by the workers for the type trees.
 */
#include "engine/vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dm_type dm_type_from_release(int major, int minor, int t)
{
    (void)minor;
    if (major == 0 && minor <= 6) {
        /* 0.6: JSON = 28, UNION = 29; no BIT, TIME_TZ or TIMESTAMP_TZ ids */
        if (t == 28)
            return DM_T_JSON;
        if (t == 29)
            return DM_T_UNION;
    }
    /* ARRAY and TIME_NS are 1.x ids: an 0.x release reports neither */
    if (major >= 1 && t == DM_T_TIME_NS)
        return DM_T_TIME_NS;
    if (t < 0 || t > DM_T_BIGNUM || (major == 0 && t == DM_T_ARRAY))
        return DM_T_INVALID;
    return (enum dm_type)t;
}

uint8_t dm_type_fixed_width(enum dm_type t)
{
    switch (t) {
    case DM_T_BOOLEAN:
    case DM_T_TINYINT:
    case DM_T_UTINYINT:
        return 1;
    case DM_T_SMALLINT:
    case DM_T_USMALLINT:
        return 2;
    case DM_T_INTEGER:
    case DM_T_UINTEGER:
    case DM_T_FLOAT:
    case DM_T_DATE:
        return 4;
    case DM_T_BIGINT:
    case DM_T_UBIGINT:
    case DM_T_DOUBLE:
    case DM_T_TIMESTAMP:
    case DM_T_TIMESTAMP_S:
    case DM_T_TIMESTAMP_MS:
    case DM_T_TIMESTAMP_NS:
    case DM_T_TIMESTAMP_TZ:
    case DM_T_TIME:
    case DM_T_TIME_TZ:
    case DM_T_TIME_NS:
        return 8;
    case DM_T_INTERVAL:
    case DM_T_HUGEINT:
    case DM_T_UHUGEINT:
    case DM_T_UUID:
        return 16;
    default:
        return 0;
    }
}

enum dm_phys dm_type_phys(const struct dm_type_node *t)
{
    switch (t->type) {
    case DM_T_VARCHAR:
    case DM_T_BLOB:
    case DM_T_BIT:
    case DM_T_JSON:
    case DM_T_BIGNUM:
        return DM_P_STRING;
    case DM_T_LIST:
    case DM_T_MAP:
        return DM_P_LIST;
    case DM_T_STRUCT:
    case DM_T_UNION:
        return DM_P_STRUCT;
    case DM_T_ARRAY:
        return t->array_size ? DM_P_ARRAY : DM_P_UNSUPPORTED;
    case DM_T_DECIMAL:
    case DM_T_ENUM:
        return t->width ? DM_P_FIXED : DM_P_UNSUPPORTED;
    default:
        return dm_type_fixed_width(t->type) ? DM_P_FIXED : DM_P_UNSUPPORTED;
    }
}

bool dm_type_has_list(const struct dm_type_node *t)
{
    if (dm_type_phys(t) == DM_P_LIST || (t->flags & DM_TF_MAP_OF_LISTS))
        return true;
    for (uint32_t i = 0; i < t->nchildren; i++)
        if (dm_type_has_list(&t->children[i]))
            return true;
    return false;
}

const char *dm_type_name(enum dm_type t)
{
    static const char *const names[] = {
        "INVALID",     "BOOLEAN",      "TINYINT",      "SMALLINT", "INTEGER",
        "BIGINT",      "UTINYINT",     "USMALLINT",    "UINTEGER", "UBIGINT",
        "FLOAT",       "DOUBLE",       "TIMESTAMP",    "DATE",     "TIME",
        "INTERVAL",    "HUGEINT",      "VARCHAR",      "BLOB",     "DECIMAL",
        "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "ENUM",     "LIST",
        "STRUCT",      "MAP",          "UUID",         "UNION",    "BIT",
        "TIME_TZ",     "TIMESTAMP_TZ", "UHUGEINT",     "ARRAY",    "ANY",
        "BIGNUM"};
    /* past BIGNUM, only TIME_NS is a canonical id (36-38 are DuckDB's
     * literal and NULL types, which no column has) */
    if (t == DM_T_TIME_NS)
        return "TIME_NS";
    if (t == DM_T_JSON)
        return "JSON";
    if ((unsigned)t < sizeof(names) / sizeof(names[0]))
        return names[t];
    return "UNKNOWN";
}

void dm_type_write(struct dm_wbuf *b, const struct dm_type_node *t)
{
    uint8_t head[5] = {(uint8_t)t->type, t->width, t->dec_width, t->dec_scale,
                       t->flags};
    dm_wbuf_bytes(b, head, sizeof(head));
    if (t->type == DM_T_ARRAY)
        dm_wbuf_u32(b, t->array_size);
    dm_wbuf_u32(b, t->nchildren);
    for (uint32_t i = 0; i < t->nchildren; i++) {
        dm_wbuf_str(b, t->names ? t->names[i] : NULL);
        dm_type_write(b, &t->children[i]);
    }
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static bool type_read(struct dm_wcur *c, struct dm_type_node *t, int depth)
{
    memset(t, 0, sizeof(*t));
    if (depth > DM_TYPE_MAX_DEPTH)
        return false;
    uint32_t head = dm_wcur_u32(c);
    t->type = (enum dm_type)(head & 0xff);
    t->width = (uint8_t)(head >> 8);
    t->dec_width = (uint8_t)(head >> 16);
    t->dec_scale = (uint8_t)(head >> 24);
    const uint8_t *flags = dm_wcur_take(c, 1);
    t->flags = flags ? *flags : 0;
    if (t->type == DM_T_ARRAY)
        t->array_size = dm_wcur_u32(c);
    uint32_t n = dm_wcur_u32(c);
    if (c->bad || n > DM_TYPE_MAX_CHILDREN)
        return false;
    /* an ARRAY is its element and a size DuckDB allows, or malformed */
    if (t->type == DM_T_ARRAY &&
        (n != 1 || !t->array_size || t->array_size > DM_ARRAY_MAX_SIZE))
        return false;
    if (n == 0)
        return true;
    t->children = calloc(n, sizeof(*t->children));
    t->names = calloc(n, sizeof(char *));
    if (!t->children || !t->names)
        return false;
    t->nchildren = n;
    for (uint32_t i = 0; i < n; i++) {
        t->names[i] = dm_wcur_str(c, NULL);
        if (c->bad || !type_read(c, &t->children[i], depth + 1))
            return false;
    }
    return true;
}

bool dm_type_read(struct dm_wcur *c, struct dm_type_node *t)
{
    if (type_read(c, t, 0))
        return true;
    dm_type_release(t);
    return false;
}

void dm_type_release(struct dm_type_node *t)
{
    for (uint32_t i = 0; i < t->nchildren; i++) {
        if (t->names)
            free(t->names[i]);
        if (t->children)
            dm_type_release(&t->children[i]);
    }
    free(t->names);
    free(t->children);
    memset(t, 0, sizeof(*t));
}

static bool is_string_type(enum dm_type t)
{
    return t == DM_T_VARCHAR || t == DM_T_JSON;
}

bool dm_type_compatible(const struct dm_type_node *from,
                        const struct dm_type_node *to, char *why,
                        size_t why_len)
{
    enum dm_phys pf = dm_type_phys(from), pt = dm_type_phys(to);
    bool same =
        from->type == to->type ||
        (is_string_type(from->type) && is_string_type(to->type)) ||
        /* 0.x reports TIMESTAMPTZ as TIMESTAMP, TIMETZ as TIME */
        (from->type == DM_T_TIMESTAMP && to->type == DM_T_TIMESTAMP_TZ) ||
        (from->type == DM_T_TIME && to->type == DM_T_TIME_TZ);
    if (!same || pf != pt || pf == DM_P_UNSUPPORTED) {
        snprintf(why, why_len, "%s cannot be stored as %s",
                 dm_type_name(from->type), dm_type_name(to->type));
        return false;
    }
    if (pf == DM_P_ARRAY && from->array_size != to->array_size) {
        snprintf(why, why_len, "ARRAY of %u elements cannot be stored as %u",
                 from->array_size, to->array_size);
        return false;
    }
    if (pf == DM_P_FIXED && from->width != to->width) {
        snprintf(why, why_len, "%s of %u bytes cannot be stored in %u bytes",
                 dm_type_name(from->type), from->width, to->width);
        return false;
    }
    if (from->nchildren != to->nchildren) {
        snprintf(why, why_len, "%s with %u members cannot be stored as %u",
                 dm_type_name(from->type), from->nchildren, to->nchildren);
        return false;
    }
    for (uint32_t i = 0; i < from->nchildren; i++)
        if (!dm_type_compatible(&from->children[i], &to->children[i], why,
                                why_len))
            return false;
    return true;
}

/* ---- views -------------------------------------------------------------- */

bool dm_vec_view_read(struct dm_wcur *c, const struct dm_type_node *t,
                      uint64_t count, struct dm_vec_view *v, int depth)
{
    memset(v, 0, sizeof(*v));
    v->type = t;
    v->count = count;
    if (depth > DM_TYPE_MAX_DEPTH)
        return false;
    const uint8_t *all = dm_wcur_take(c, 1);
    if (!all)
        return false;
    if (!*all && !(v->validity = dm_wcur_take(c, (count + 7) / 8)))
        return false;

    switch (dm_type_phys(t)) {
    case DM_P_FIXED:
        if (t->width && count > c->left / t->width)
            return c->bad = true, false;
        v->data = dm_wcur_take(c, count * t->width);
        return v->data != NULL;
    case DM_P_STRING:
        if (count > c->left / 4)
            return c->bad = true, false;
        v->strings = malloc((count ? count : 1) * sizeof(*v->strings));
        if (!v->strings)
            return false;
        for (uint64_t r = 0; r < count; r++) {
            v->strings[r] = c->p;
            uint32_t len = dm_wcur_u32(c);
            if (c->bad || !dm_wcur_take(c, len))
                return false;
        }
        return true;
    case DM_P_LIST: {
        if (count > c->left / 16)
            return c->bad = true, false;
        v->data = dm_wcur_take(c, count * 16);
        uint64_t child_count = dm_wcur_u64(c);
        if (c->bad || t->nchildren < 1)
            return false;
        for (uint64_t r = 0; r < count; r++) {
            if (!dm_vec_valid(v, r))
                continue;
            uint64_t off = rd64(v->data + r * 16);
            uint64_t len = rd64(v->data + r * 16 + 8);
            if (off > child_count || len > child_count - off)
                return false;
        }
        v->children = calloc(1, sizeof(*v->children));
        return v->children && dm_vec_view_read(c, &t->children[0], child_count,
                                               v->children, depth + 1);
    }
    case DM_P_ARRAY: {
        /* count x size child rows: with size bounded by type_read and
         * count by the bytes left, the product does not overflow; the
         * child's own read checks that its rows are there */
        if (t->nchildren != 1 || t->array_size > DM_ARRAY_MAX_SIZE ||
            count > c->left)
            return c->bad = true, false;
        v->children = calloc(1, sizeof(*v->children));
        return v->children &&
               dm_vec_view_read(c, &t->children[0], count * t->array_size,
                                v->children, depth + 1);
    }
    case DM_P_STRUCT:
        v->children =
            calloc(t->nchildren ? t->nchildren : 1, sizeof(*v->children));
        if (!v->children)
            return false;
        for (uint32_t i = 0; i < t->nchildren; i++)
            if (!dm_vec_view_read(c, &t->children[i], count, &v->children[i],
                                  depth + 1))
                return false;
        return true;
    default:
        return false;
    }
}

void dm_vec_view_release(struct dm_vec_view *v)
{
    if (!v || !v->type)
        return;
    uint32_t n = 0;
    if (dm_type_phys(v->type) == DM_P_LIST ||
        dm_type_phys(v->type) == DM_P_ARRAY)
        n = 1;
    else if (dm_type_phys(v->type) == DM_P_STRUCT)
        n = v->type->nchildren;
    for (uint32_t i = 0; v->children && i < n; i++)
        dm_vec_view_release(&v->children[i]);
    free(v->children);
    free(v->strings);
    memset(v, 0, sizeof(*v));
}

bool dm_vec_valid(const struct dm_vec_view *v, uint64_t row)
{
    return !v->validity || (v->validity[row / 8] >> (row % 8)) & 1;
}

/* ---- hashing ----------------------------------------------------------- */

static uint64_t mix(uint64_t h)
{
    /* murmur3's finalizer: every input bit reaches every output bit */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* hash_bytes: the first mix takes the length times HASH_LENGTH, the last
 * the tail ^ HASH_TAIL (fingerprint_fixed unrolls it with the same two) */
#define HASH_LENGTH 0x9e3779b97f4a7c15ULL
#define HASH_TAIL   0x5bd1e995

static uint64_t hash_bytes(uint64_t seed, const uint8_t *p, size_t n)
{
    uint64_t h = mix(seed ^ (n * HASH_LENGTH));
    while (n >= 8) {
        h = mix(h ^ rd64(p));
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    return mix(h ^ tail ^ HASH_TAIL);
}

#define HASH_NULL 0x6e756c6c6e756c6cULL

/* Is a value of t hashed as its own bytes, hash_bytes(width, v, width)?
 * TIME and TIME_TZ are hashed in one canonical form instead. */
static bool hashed_as_bytes(const struct dm_type_node *t)
{
    return dm_type_phys(t) == DM_P_FIXED && t->type != DM_T_TIME &&
           t->type != DM_T_TIME_TZ;
}

uint64_t dm_vec_hash(const struct dm_vec_view *v, uint64_t row)
{
    if (!dm_vec_valid(v, row))
        return HASH_NULL;
    const struct dm_type_node *t = v->type;
    if (hashed_as_bytes(t))
        return hash_bytes(t->width, v->data + row * t->width, t->width);
    switch (dm_type_phys(t)) {
    case DM_P_FIXED: { /* TIME, TIME_TZ */
        const uint8_t *p = v->data + row * t->width;
        if (t->type == DM_T_TIME_TZ && (t->flags & DM_TF_PACKED_TZ)) {
            /* 1.x packs (micros << 24 | 57599 - offset); hash micros and
             * offset, as the 0.x form (micros, offset 0) would be */
            uint64_t bits = rd64(p);
            uint64_t canon[2] = {bits >> 24, 57599 - (bits & 0xffffff)};
            return hash_bytes(t->type, (const uint8_t *)canon, 16);
        }
        uint64_t canon[2] = {rd64(p), 0};
        return hash_bytes(DM_T_TIME_TZ, (const uint8_t *)canon, 16);
    }
    case DM_P_STRING: {
        uint32_t len;
        memcpy(&len, v->strings[row], 4);
        return hash_bytes(0x5354, v->strings[row] + 4, len);
    }
    case DM_P_LIST: {
        uint64_t off = rd64(v->data + row * 16);
        uint64_t len = rd64(v->data + row * 16 + 8);
        uint64_t h = mix(0x4c495354 ^ len);
        for (uint64_t i = 0; i < len; i++)
            h = mix(h ^ dm_vec_hash(v->children, off + i)) + i;
        return h;
    }
    case DM_P_ARRAY: {
        /* its elements, in order; a NULL row was answered above, whatever
         * its slots in the child hold */
        uint64_t size = t->array_size, off = row * size;
        uint64_t h = mix(0x4152524159 ^ size);
        for (uint64_t i = 0; i < size; i++)
            h = mix(h ^ dm_vec_hash(v->children, off + i)) + i;
        return h;
    }
    case DM_P_STRUCT: {
        if (t->type == DM_T_UNION && t->nchildren > 1) {
            /* a union is its tag and its one live member: what a release
             * leaves in the other members is no part of the value */
            const struct dm_vec_view *tag = &v->children[0];
            if (!dm_vec_valid(tag, row))
                return HASH_NULL;
            uint8_t k = tag->data[row * tag->type->width];
            if ((uint32_t)k + 1 >= t->nchildren)
                return 0;
            return mix(mix(0x554e494f ^ k) ^
                       dm_vec_hash(&v->children[k + 1], row));
        }
        uint64_t h = mix(0x53545255 ^ t->nchildren);
        for (uint32_t i = 0; i < t->nchildren; i++)
            h = mix(h ^ dm_vec_hash(&v->children[i], row)) + i;
        return h;
    }
    default:
        return 0;
    }
}

/*
 * dm_vec_hash of every row of a vector hashed_as_bytes, a column at a
 * time: the same values as hash_bytes(width, value, width), whose first
 * mix depends on the width only and is done once.
 */
static void fingerprint_fixed(struct dm_fingerprint *f,
                              const struct dm_vec_view *v)
{
    const uint8_t w = v->type->width;
    const uint64_t h0 = mix(w ^ (w * HASH_LENGTH));
    const uint8_t *p = v->data;
    for (uint64_t r = 0; r < v->count; r++, p += w) {
        uint64_t h;
        if (!dm_vec_valid(v, r)) {
            h = HASH_NULL;
            f->nulls++;
        } else if (w == 8) {
            h = mix(mix(h0 ^ rd64(p)) ^ HASH_TAIL);
        } else if (w == 16) {
            h = mix(mix(mix(h0 ^ rd64(p)) ^ rd64(p + 8)) ^ HASH_TAIL);
        } else {
            uint64_t tail = 0;
            memcpy(&tail, p, w);
            h = mix(h0 ^ tail ^ HASH_TAIL);
        }
        f->sum += h;
        f->xor_ ^= mix(h);
    }
    f->rows += v->count;
}

void dm_fingerprint_add(struct dm_fingerprint *f, const struct dm_vec_view *v)
{
    /* the unrolled widths: every fixed type is 1, 2, 4, 8 or 16 wide */
    if (hashed_as_bytes(v->type) &&
        (v->type->width <= 8 || v->type->width == 16)) {
        fingerprint_fixed(f, v);
        return;
    }
    for (uint64_t r = 0; r < v->count; r++) {
        uint64_t h = dm_vec_hash(v, r);
        f->rows++;
        if (!dm_vec_valid(v, r))
            f->nulls++;
        f->sum += h;
        f->xor_ ^= mix(h);
    }
}

void dm_table_print_release(struct dm_table_print *p)
{
    free(p->cols);
    memset(p, 0, sizeof(*p));
}

bool dm_table_print_chunk(struct dm_table_print *p, size_t ncols,
                          const struct dm_type_node *types,
                          const uint8_t *chunk, size_t len)
{
    if (!p->cols) {
        p->cols = calloc(ncols ? ncols : 1, sizeof(*p->cols));
        if (!p->cols)
            return false;
        p->ncols = ncols;
    }
    struct dm_wbuf b = {(uint8_t *)chunk, len, len, false};
    struct dm_wcur c;
    dm_wcur_init(&c, &b);
    uint32_t count = dm_wcur_u32(&c);
    uint32_t n = dm_wcur_u32(&c);
    if (c.bad || n != p->ncols)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        struct dm_vec_view v;
        bool ok = dm_vec_view_read(&c, &types[i], count, &v, 0);
        if (ok)
            dm_fingerprint_add(&p->cols[i], &v);
        dm_vec_view_release(&v);
        if (!ok)
            return false;
    }
    p->rows += count;
    return true;
}
