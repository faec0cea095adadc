/*
 * test_vec.c - the column encoding that travels between engine workers:
 * type trees round-trip, vectors decode, malformed input is refused, and
 * fingerprints ignore row order but see every value (and NULLs); 1.x's
 * fixed-size ARRAYs and TIME_NS among them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/vec.h"

static struct dm_type_node leaf(enum dm_type t)
{
    struct dm_type_node n;
    memset(&n, 0, sizeof(n));
    n.type = t;
    n.width = dm_type_fixed_width(t);
    return n;
}

static void release_ids(void **state)
{
    (void)state;
    assert_int_equal(dm_type_from_release(0, 6, 28), DM_T_JSON);
    assert_int_equal(dm_type_from_release(0, 6, 29), DM_T_UNION);
    assert_int_equal(dm_type_from_release(0, 7, 28), DM_T_UNION);
    assert_int_equal(dm_type_from_release(0, 8, 29), DM_T_BIT);
    assert_int_equal(dm_type_from_release(1, 5, 31), DM_T_TIMESTAMP_TZ);
    assert_int_equal(dm_type_from_release(1, 5, 17), DM_T_VARCHAR);
    assert_int_equal(dm_type_from_release(1, 5, 99), DM_T_INVALID);
    /* TIME_NS (39) and ARRAY (33) are 1.x ids only */
    assert_int_equal(dm_type_from_release(1, 5, 39), DM_T_TIME_NS);
    assert_int_equal(dm_type_from_release(1, 5, 33), DM_T_ARRAY);
    assert_int_equal(dm_type_from_release(0, 8, 39), DM_T_INVALID);
    assert_int_equal(dm_type_from_release(0, 8, 33), DM_T_INVALID);
    assert_int_equal(dm_type_from_release(1, 5, 36), DM_T_INVALID);
    assert_int_equal(dm_type_fixed_width(DM_T_TIME_NS), 8);
    assert_string_equal(dm_type_name(DM_T_TIME_NS), "TIME_NS");
    assert_string_equal(dm_type_name(DM_T_ARRAY), "ARRAY");
    assert_int_equal(dm_type_fixed_width(DM_T_HUGEINT), 16);
    assert_int_equal(dm_type_fixed_width(DM_T_VARCHAR), 0);
}

static void tree_round_trip(void **state)
{
    (void)state;
    /* STRUCT("odd field" DECIMAL(18,4), l VARCHAR[]) */
    struct dm_type_node dec = leaf(DM_T_DECIMAL);
    dec.width = 8;
    dec.dec_width = 18;
    dec.dec_scale = 4;
    struct dm_type_node str = leaf(DM_T_VARCHAR);
    struct dm_type_node list = leaf(DM_T_LIST);
    list.nchildren = 1;
    list.children = &str;
    char *names[] = {(char *)"odd field", (char *)"l"};
    struct dm_type_node kids[] = {dec, list};
    struct dm_type_node st = leaf(DM_T_STRUCT);
    st.nchildren = 2;
    st.children = kids;
    st.names = names;

    struct dm_wbuf b = DM_WBUF_INIT;
    dm_type_write(&b, &st);
    struct dm_wcur c;
    dm_wcur_init(&c, &b);
    struct dm_type_node back;
    assert_true(dm_type_read(&c, &back));
    assert_int_equal(c.left, 0);
    assert_int_equal(back.type, DM_T_STRUCT);
    assert_int_equal(back.nchildren, 2);
    assert_string_equal(back.names[0], "odd field");
    assert_int_equal(back.children[0].dec_width, 18);
    assert_int_equal(back.children[0].dec_scale, 4);
    assert_int_equal(back.children[1].children[0].type, DM_T_VARCHAR);
    char why[128];
    assert_true(dm_type_compatible(&st, &back, why, sizeof(why)));
    dm_type_release(&back);

    /* a cut tree is refused, not half-read */
    b.len -= 3;
    dm_wcur_init(&c, &b);
    assert_false(dm_type_read(&c, &back));
    dm_wbuf_release(&b);
}

/* what a 0.8 worker reads materialized: a LIST or MAP at any depth */
static void lists_found_at_any_depth(void **state)
{
    (void)state;
    struct dm_type_node i32 = leaf(DM_T_INTEGER), str = leaf(DM_T_VARCHAR);
    assert_false(dm_type_has_list(&i32));
    struct dm_type_node list = leaf(DM_T_LIST);
    list.nchildren = 1;
    list.children = &i32;
    assert_true(dm_type_has_list(&list));
    struct dm_type_node map = leaf(DM_T_MAP);
    map.nchildren = 1;
    map.children = &i32;
    assert_true(dm_type_has_list(&map));
    /* STRUCT(a VARCHAR, b STRUCT(c INTEGER[])) and STRUCT(a, b VARCHAR) */
    char *names[] = {(char *)"a", (char *)"b"};
    struct dm_type_node inner = leaf(DM_T_STRUCT);
    inner.nchildren = 1;
    inner.children = &list;
    inner.names = names;
    struct dm_type_node kids[] = {str, inner};
    struct dm_type_node outer = leaf(DM_T_STRUCT);
    outer.nchildren = 2;
    outer.children = kids;
    outer.names = names;
    assert_true(dm_type_has_list(&outer));
    kids[1] = str;
    assert_false(dm_type_has_list(&outer));
    /* a 0.6 MAP: a STRUCT of two LISTs, flagged */
    struct dm_type_node map06 = leaf(DM_T_MAP);
    map06.flags = DM_TF_MAP_OF_LISTS;
    assert_true(dm_type_has_list(&map06));
}

static void compatibility(void **state)
{
    (void)state;
    char why[128];
    struct dm_type_node ts = leaf(DM_T_TIMESTAMP),
                        tstz = leaf(DM_T_TIMESTAMP_TZ);
    struct dm_type_node i32 = leaf(DM_T_INTEGER), i64 = leaf(DM_T_BIGINT);
    struct dm_type_node json = leaf(DM_T_JSON), vc = leaf(DM_T_VARCHAR);
    assert_true(dm_type_compatible(&ts, &tstz, why, sizeof(why)));
    assert_true(dm_type_compatible(&json, &vc, why, sizeof(why)));
    assert_false(dm_type_compatible(&i32, &i64, why, sizeof(why)));
    assert_non_null(strstr(why, "INTEGER cannot be stored as BIGINT"));
    struct dm_type_node e1 = leaf(DM_T_ENUM), e2 = leaf(DM_T_ENUM);
    e1.width = 1;
    e2.width = 2;
    assert_false(dm_type_compatible(&e1, &e2, why, sizeof(why)));
}

/* An ARRAY of size elements of *elem (which the caller keeps). */
static struct dm_type_node array_of(struct dm_type_node *elem, uint32_t size)
{
    struct dm_type_node n = leaf(DM_T_ARRAY);
    n.array_size = size;
    n.nchildren = 1;
    n.children = elem;
    return n;
}

static void array_trees(void **state)
{
    (void)state;
    /* STRUCT(x INTEGER[2])[] and TIME_NS, as a 1.5 reader describes them */
    struct dm_type_node i32 = leaf(DM_T_INTEGER);
    struct dm_type_node arr = array_of(&i32, 2);
    char *names[] = {(char *)"x"};
    struct dm_type_node st = leaf(DM_T_STRUCT);
    st.nchildren = 1;
    st.children = &arr;
    st.names = names;
    struct dm_type_node list = leaf(DM_T_LIST);
    list.nchildren = 1;
    list.children = &st;
    struct dm_type_node ns = leaf(DM_T_TIME_NS);
    assert_int_equal(dm_type_phys(&arr), DM_P_ARRAY);
    assert_int_equal(dm_type_phys(&ns), DM_P_FIXED);

    struct dm_wbuf b = DM_WBUF_INIT;
    dm_type_write(&b, &list);
    dm_type_write(&b, &ns);
    struct dm_wcur c;
    dm_wcur_init(&c, &b);
    struct dm_type_node back, back_ns;
    assert_true(dm_type_read(&c, &back));
    assert_true(dm_type_read(&c, &back_ns));
    assert_int_equal(c.left, 0);
    const struct dm_type_node *ba = &back.children[0].children[0];
    assert_int_equal(ba->type, DM_T_ARRAY);
    assert_int_equal(ba->array_size, 2);
    assert_int_equal(ba->children[0].type, DM_T_INTEGER);
    assert_int_equal(back_ns.type, DM_T_TIME_NS);
    assert_int_equal(back_ns.width, 8);
    char why[128];
    assert_true(dm_type_compatible(&list, &back, why, sizeof(why)));
    assert_true(dm_type_compatible(&ns, &back_ns, why, sizeof(why)));

    /* another size, or another element, is another type */
    struct dm_type_node arr3 = array_of(&i32, 3);
    assert_false(dm_type_compatible(&arr, &arr3, why, sizeof(why)));
    assert_non_null(strstr(why, "ARRAY of 2 elements cannot be stored as 3"));
    struct dm_type_node i64 = leaf(DM_T_BIGINT);
    struct dm_type_node arr_big = array_of(&i64, 2);
    assert_false(dm_type_compatible(&arr, &arr_big, why, sizeof(why)));
    struct dm_type_node time = leaf(DM_T_TIME);
    assert_false(dm_type_compatible(&ns, &time, why, sizeof(why)));
    assert_false(dm_type_compatible(&arr, &list, why, sizeof(why)));
    dm_type_release(&back);
    dm_type_release(&back_ns);

    /* sizes DuckDB refuses, and an ARRAY without its one element, are
     * malformed trees */
    static const uint32_t bad_sizes[] = {0, DM_ARRAY_MAX_SIZE + 1, UINT32_MAX};
    for (size_t k = 0; k < 3; k++) {
        struct dm_type_node bad = array_of(&i32, bad_sizes[k]);
        b.len = 0;
        dm_type_write(&b, &bad);
        dm_wcur_init(&c, &b);
        assert_false(dm_type_read(&c, &back));
    }
    struct dm_type_node two[2] = {leaf(DM_T_INTEGER), leaf(DM_T_INTEGER)};
    struct dm_type_node bad = array_of(two, 3);
    bad.nchildren = 2;
    b.len = 0;
    dm_type_write(&b, &bad);
    dm_wcur_init(&c, &b);
    assert_false(dm_type_read(&c, &back));
    dm_wbuf_release(&b);
}

/* Encode count BIGINTs (NULL where valid[i] == 0) the way workers do. */
static void put_bigints(struct dm_wbuf *b, const int64_t *v, const int *valid,
                        uint32_t count)
{
    uint8_t all = 1, bits[8] = {0};
    for (uint32_t i = 0; i < count; i++) {
        if (valid[i])
            bits[i / 8] |= (uint8_t)(1u << (i % 8));
        else
            all = 0;
    }
    dm_wbuf_bytes(b, &all, 1);
    if (!all)
        dm_wbuf_bytes(b, bits, (count + 7) / 8);
    dm_wbuf_bytes(b, v, count * 8);
}

static void put_strings(struct dm_wbuf *b, const char *const *v, uint32_t count)
{
    uint8_t all = 1;
    for (uint32_t i = 0; i < count; i++)
        all &= v[i] != NULL;
    dm_wbuf_bytes(b, &all, 1);
    if (!all) {
        uint8_t bits[8] = {0};
        for (uint32_t i = 0; i < count; i++)
            if (v[i])
                bits[i / 8] |= (uint8_t)(1u << (i % 8));
        dm_wbuf_bytes(b, bits, (count + 7) / 8);
    }
    for (uint32_t i = 0; i < count; i++) {
        dm_wbuf_u32(b, v[i] ? (uint32_t)strlen(v[i]) : 0);
        if (v[i])
            dm_wbuf_bytes(b, v[i], strlen(v[i]));
    }
}

static struct dm_table_print print_of(const int64_t *ints, const int *valid,
                                      const char *const *strs, uint32_t n)
{
    struct dm_type_node types[2] = {leaf(DM_T_BIGINT), leaf(DM_T_VARCHAR)};
    struct dm_wbuf b = DM_WBUF_INIT;
    dm_wbuf_u32(&b, n);
    dm_wbuf_u32(&b, 2);
    put_bigints(&b, ints, valid, n);
    put_strings(&b, strs, n);
    struct dm_table_print p;
    memset(&p, 0, sizeof(p));
    assert_true(dm_table_print_chunk(&p, 2, types, b.data, b.len));
    dm_wbuf_release(&b);
    return p;
}

static bool same_print(const struct dm_table_print *a,
                       const struct dm_table_print *b)
{
    if (a->rows != b->rows || a->ncols != b->ncols)
        return false;
    for (size_t i = 0; i < a->ncols; i++)
        if (a->cols[i].sum != b->cols[i].sum ||
            a->cols[i].xor_ != b->cols[i].xor_ ||
            a->cols[i].nulls != b->cols[i].nulls)
            return false;
    return true;
}

static void fingerprints(void **state)
{
    (void)state;
    int64_t a[] = {1, 2, 3, 0};
    int va[] = {1, 1, 1, 0};
    const char *sa[] = {"x", "", "a much longer string", NULL};
    int64_t b[] = {3, 0, 1, 2}; /* same rows, another order */
    int vb[] = {1, 0, 1, 1};
    const char *sb[] = {"a much longer string", NULL, "x", ""};
    struct dm_table_print pa = print_of(a, va, sa, 4);
    struct dm_table_print pb = print_of(b, vb, sb, 4);
    assert_true(same_print(&pa, &pb));
    assert_int_equal(pa.rows, 4);
    assert_int_equal(pa.cols[0].nulls, 1);
    assert_int_equal(pa.cols[1].nulls, 1);

    /* one value changed, '' turned NULL, a NULL turned 0 */
    int64_t c[] = {1, 2, 4, 0};
    struct dm_table_print pc = print_of(c, va, sa, 4);
    assert_false(same_print(&pa, &pc));
    const char *sd[] = {"x", NULL, "a much longer string", NULL};
    struct dm_table_print pd = print_of(a, va, sd, 4);
    assert_false(same_print(&pa, &pd));
    int vz[] = {1, 1, 1, 1};
    struct dm_table_print pz = print_of(a, vz, sa, 4);
    assert_false(same_print(&pa, &pz));
    dm_table_print_release(&pa);
    dm_table_print_release(&pb);
    dm_table_print_release(&pc);
    dm_table_print_release(&pd);
    dm_table_print_release(&pz);
}

/*
 * One chunk of an INTEGER[3] column: rows of 3 elements each (NULL where
 * enull[row * 3 + i]), a row NULL where rnull[row]; a NULL row's slots
 * hold elems like any other's.
 */
static struct dm_table_print array_print(const int32_t *elems, const int *enull,
                                         const int *rnull, uint32_t rows)
{
    struct dm_type_node i32 = leaf(DM_T_INTEGER);
    struct dm_type_node arr = array_of(&i32, 3);
    struct dm_wbuf b = DM_WBUF_INIT;
    dm_wbuf_u32(&b, rows);
    dm_wbuf_u32(&b, 1);
    uint8_t all = 0, bits[4] = {0}, ebits[4] = {0};
    for (uint32_t r = 0; r < rows; r++)
        if (!rnull[r])
            bits[r / 8] |= (uint8_t)(1u << (r % 8));
    dm_wbuf_bytes(&b, &all, 1);
    dm_wbuf_bytes(&b, bits, (rows + 7) / 8);
    for (uint32_t e = 0; e < rows * 3; e++)
        if (!enull[e])
            ebits[e / 8] |= (uint8_t)(1u << (e % 8));
    dm_wbuf_bytes(&b, &all, 1);
    dm_wbuf_bytes(&b, ebits, (rows * 3 + 7) / 8);
    dm_wbuf_bytes(&b, elems, rows * 3 * 4);

    /* every byte is read: the child holds rows x 3 elements */
    struct dm_wcur c;
    dm_wcur_init(&c, &b);
    assert_int_equal(dm_wcur_u32(&c), rows);
    assert_int_equal(dm_wcur_u32(&c), 1);
    struct dm_vec_view v;
    assert_true(dm_vec_view_read(&c, &arr, rows, &v, 0));
    assert_int_equal(c.left, 0);
    assert_int_equal(v.children[0].count, rows * 3);
    dm_vec_view_release(&v);

    struct dm_table_print p;
    memset(&p, 0, sizeof(p));
    assert_true(dm_table_print_chunk(&p, 1, &arr, b.data, b.len));
    dm_wbuf_release(&b);
    return p;
}

static void arrays_hash_by_elements(void **state)
{
    (void)state;
    /* [1, NULL, 3], NULL (its slots hold 7, 8, 9), [4, 5, 6] */
    int32_t e[] = {1, 0, 3, 7, 8, 9, 4, 5, 6};
    int en[] = {0, 1, 0, 0, 0, 0, 0, 0, 0};
    int rn[] = {0, 1, 0};
    struct dm_table_print base = array_print(e, en, rn, 3);
    assert_int_equal(base.rows, 3);
    assert_int_equal(base.cols[0].nulls, 1);

    /* another order of the rows: the same column */
    int32_t e2[] = {4, 5, 6, 1, 0, 3, 0, 0, 0};
    int en2[] = {0, 0, 0, 0, 1, 0, 1, 1, 1};
    int rn2[] = {0, 0, 1};
    struct dm_table_print reordered = array_print(e2, en2, rn2, 3);
    assert_true(same_print(&base, &reordered));

    /* what a NULL row's slots hold is no part of the value */
    int32_t e3[] = {1, 0, 3, 0, 0, 0, 4, 5, 6};
    int en3[] = {0, 1, 0, 1, 1, 1, 0, 0, 0};
    struct dm_table_print stale = array_print(e3, en3, rn, 3);
    assert_true(same_print(&base, &stale));

    /* but every element of a live row is, and where it stands */
    int32_t changed[] = {1, 0, 3, 7, 8, 9, 4, 5, 7};
    struct dm_table_print pc = array_print(changed, en, rn, 3);
    assert_false(same_print(&base, &pc));
    int32_t swapped[] = {3, 0, 1, 7, 8, 9, 4, 5, 6};
    struct dm_table_print ps = array_print(swapped, en, rn, 3);
    assert_false(same_print(&base, &ps));
    int en0[] = {0, 0, 0, 0, 0, 0, 0, 0, 0}; /* NULL element -> 0 */
    struct dm_table_print pz = array_print(e, en0, rn, 3);
    assert_false(same_print(&base, &pz));
    int rn0[] = {0, 0, 0}; /* the NULL row -> [7, 8, 9] */
    struct dm_table_print pr = array_print(e, en, rn0, 3);
    assert_false(same_print(&base, &pr));
    assert_int_equal(pr.cols[0].nulls, 0);
    /* an array is more than its elements: [5] is not 5, and its size
     * is part of its hash */
    struct dm_type_node i32 = leaf(DM_T_INTEGER);
    struct dm_type_node a3 = array_of(&i32, 3), a1 = array_of(&i32, 1);
    int32_t one = 5;
    struct dm_vec_view child = {&i32, 3, NULL, (const uint8_t *)e, NULL, NULL};
    struct dm_vec_view v3 = {&a3, 1, NULL, NULL, NULL, &child};
    struct dm_vec_view c1 = {&i32, 1, NULL, (const uint8_t *)&one, NULL, NULL};
    struct dm_vec_view v1 = {&a1, 1, NULL, NULL, NULL, &c1};
    struct dm_vec_view plain = {&i32, 1,   NULL, (const uint8_t *)&one,
                                NULL, NULL};
    assert_true(dm_vec_hash(&v1, 0) != dm_vec_hash(&plain, 0));
    assert_true(dm_vec_hash(&v3, 0) != dm_vec_hash(&v1, 0));

    /* a NULL row hashes as NULL does in any other column */
    uint8_t none = 0;
    struct dm_vec_view null_row = {&a3, 1, &none, NULL, NULL, &child};
    struct dm_vec_view null_int = {&i32, 1,   &none, (const uint8_t *)&one,
                                   NULL, NULL};
    assert_true(dm_vec_hash(&null_row, 0) == dm_vec_hash(&null_int, 0));

    dm_table_print_release(&base);
    dm_table_print_release(&reordered);
    dm_table_print_release(&stale);
    dm_table_print_release(&pc);
    dm_table_print_release(&ps);
    dm_table_print_release(&pz);
    dm_table_print_release(&pr);
}

/* TIME_NS is 8 bytes of nanoseconds, hashed as such (not as TIME). */
static void time_ns_hashes_its_nanoseconds(void **state)
{
    (void)state;
    struct dm_type_node ns = leaf(DM_T_TIME_NS), us = leaf(DM_T_TIME);
    int64_t a[2] = {45296123456789LL, 45296123456788LL};
    struct dm_vec_view v = {&ns, 2, NULL, (const uint8_t *)a, NULL, NULL};
    struct dm_vec_view t = {&us, 2, NULL, (const uint8_t *)a, NULL, NULL};
    assert_true(dm_vec_hash(&v, 0) != dm_vec_hash(&v, 1));
    assert_true(dm_vec_hash(&v, 0) != dm_vec_hash(&t, 0));
    struct dm_fingerprint f;
    memset(&f, 0, sizeof(f));
    dm_fingerprint_add(&f, &v);
    assert_int_equal(f.rows, 2);
    assert_true(f.sum == dm_vec_hash(&v, 0) + dm_vec_hash(&v, 1));
}

static void timetz_forms_hash_alike(void **state)
{
    (void)state;
    /* 0.x TIMETZ: micros; 1.x TIME_TZ: micros << 24 | (57599 - offset) */
    uint64_t micros = 45296000000ULL; /* 12:34:56 */
    uint64_t packed = micros << 24 | 57599;
    struct dm_type_node old = leaf(DM_T_TIME), new = leaf(DM_T_TIME_TZ);
    new.flags = DM_TF_PACKED_TZ;
    struct dm_vec_view vo = {&old, 1,   NULL, (const uint8_t *)&micros,
                             NULL, NULL};
    struct dm_vec_view vn = {&new, 1,   NULL, (const uint8_t *)&packed,
                             NULL, NULL};
    assert_true(dm_vec_hash(&vo, 0) == dm_vec_hash(&vn, 0));
    uint64_t other = (micros + 1) << 24 | 57599;
    vn.data = (const uint8_t *)&other;
    assert_false(dm_vec_hash(&vo, 0) == dm_vec_hash(&vn, 0));
}

/*
 * A fixed-width column is fingerprinted a column at a time: the sum of its
 * rows' hashes must be that of dm_vec_hash, row by row, for every width
 * (BOOLEAN .. HUGEINT), with NULLs among the rows.
 */
static void fixed_columns_hash_as_rows_do(void **state)
{
    (void)state;
    static const enum dm_type types[] = {DM_T_BOOLEAN, DM_T_SMALLINT,
                                         DM_T_INTEGER, DM_T_BIGINT,
                                         DM_T_HUGEINT, DM_T_DOUBLE};
    uint8_t data[16 * 20], validity[3] = {0xff, 0x5f, 0x0e};
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 37 + 11);
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        struct dm_type_node t = leaf(types[k]);
        struct dm_vec_view v = {&t, 20, validity, data, NULL, NULL};
        struct dm_fingerprint f;
        memset(&f, 0, sizeof(f));
        dm_fingerprint_add(&f, &v);
        uint64_t sum = 0, nulls = 0;
        for (uint64_t r = 0; r < 20; r++) {
            sum += dm_vec_hash(&v, r);
            nulls += !dm_vec_valid(&v, r);
        }
        assert_int_equal(f.rows, 20);
        assert_int_equal(f.nulls, nulls);
        assert_true(f.sum == sum);
    }
}

/* A union's value is its tag and its live member: what a release leaves
 * in the other members (a value, or NULL) does not change its hash. */
static void union_hashes_live_member(void **state)
{
    (void)state;
    struct dm_type_node kids[3] = {leaf(DM_T_UTINYINT), leaf(DM_T_INTEGER),
                                   leaf(DM_T_BIGINT)};
    struct dm_type_node u = leaf(DM_T_UNION);
    u.nchildren = 3;
    u.children = kids;
    uint8_t tags[1] = {0};
    int32_t live[1] = {-1};
    int64_t dead_value[1] = {12345};
    uint8_t none[1] = {0}; /* validity: row 0 NULL */
    struct dm_vec_view members[3] = {
        {&kids[0], 1, NULL, tags, NULL, NULL},
        {&kids[1], 1, NULL, (const uint8_t *)live, NULL, NULL},
        {&kids[2], 1, NULL, (const uint8_t *)dead_value, NULL, NULL},
    };
    struct dm_vec_view v = {&u, 1, NULL, NULL, NULL, members};
    uint64_t with_value = dm_vec_hash(&v, 0);
    members[2].validity = none;
    assert_true(dm_vec_hash(&v, 0) == with_value);
    /* ... but the live member and the tag do */
    live[0] = -2;
    assert_true(dm_vec_hash(&v, 0) != with_value);
    live[0] = -1;
    tags[0] = 1;
    assert_true(dm_vec_hash(&v, 0) != with_value);
}

static void malformed_vectors(void **state)
{
    (void)state;
    struct dm_type_node t = leaf(DM_T_BIGINT);
    struct dm_wbuf b = DM_WBUF_INIT;
    uint8_t all = 1;
    dm_wbuf_bytes(&b, &all, 1);
    dm_wbuf_bytes(&b, "1234567", 7); /* 7 bytes for one BIGINT */
    struct dm_wcur c;
    struct dm_vec_view v;
    dm_wcur_init(&c, &b);
    assert_false(dm_vec_view_read(&c, &t, 1, &v, 0));
    dm_vec_view_release(&v);

    /* a list entry pointing past its child vector */
    struct dm_type_node child = leaf(DM_T_INTEGER);
    struct dm_type_node list = leaf(DM_T_LIST);
    list.nchildren = 1;
    list.children = &child;
    b.len = 0;
    dm_wbuf_bytes(&b, &all, 1);
    uint64_t entry[2] = {0, 5}; /* offset 0, length 5 */
    dm_wbuf_bytes(&b, entry, 16);
    dm_wbuf_u64(&b, 2); /* but only 2 child rows */
    dm_wbuf_bytes(&b, &all, 1);
    dm_wbuf_bytes(&b, "\1\0\0\0\2\0\0\0", 8);
    dm_wcur_init(&c, &b);
    assert_false(dm_vec_view_read(&c, &list, 1, &v, 0));
    dm_vec_view_release(&v);

    /* two rows of INTEGER[3] with the elements of one and a half */
    struct dm_type_node arr = array_of(&child, 3);
    b.len = 0;
    dm_wbuf_bytes(&b, &all, 1);
    dm_wbuf_bytes(&b, &all, 1);
    int32_t five[5] = {1, 2, 3, 4, 5};
    dm_wbuf_bytes(&b, five, sizeof(five));
    dm_wcur_init(&c, &b);
    assert_false(dm_vec_view_read(&c, &arr, 2, &v, 0));
    dm_vec_view_release(&v);
    /* a row count whose elements could not all be there, with a size
     * that would overflow count x size were it not bounded */
    struct dm_type_node huge = array_of(&child, UINT32_MAX);
    dm_wcur_init(&c, &b);
    assert_false(dm_vec_view_read(&c, &huge, UINT64_MAX / 2, &v, 0));
    dm_vec_view_release(&v);
    dm_wbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(release_ids),
        cmocka_unit_test(tree_round_trip),
        cmocka_unit_test(lists_found_at_any_depth),
        cmocka_unit_test(compatibility),
        cmocka_unit_test(array_trees),
        cmocka_unit_test(arrays_hash_by_elements),
        cmocka_unit_test(time_ns_hashes_its_nanoseconds),
        cmocka_unit_test(fingerprints),
        cmocka_unit_test(timetz_forms_hash_alike),
        cmocka_unit_test(fixed_columns_hash_as_rows_do),
        cmocka_unit_test(union_hashes_live_member),
        cmocka_unit_test(malformed_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
