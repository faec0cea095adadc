/*
 * test_header.c - header parsing on crafted headers: every storage version
 * in the table, both layouts, truncated and foreign input, checksums,
 * encryption, the 2.0 marker and in-place upgrades (65 + serialization).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "header/header.h"

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void seal(uint8_t *block)
{
    put64(block, dm_header_checksum(block + 8, DM_HEADER_BLOCK - 8));
}

struct db_fields {
    uint64_t iteration, meta, free_list, blocks, ser;
};

/* A file's first 12 KiB as DuckDB writes them for storage version v. */
static void craft(uint8_t *buf, uint64_t v, const char *lib,
                  struct db_fields d1, struct db_fields d2)
{
    memset(buf, 0, DM_HEADER_SIZE);
    memcpy(buf + 8, "DUCK", 4);
    put64(buf + 12, v);
    if (v < 64) {
        buf[20] = 4;  /* FieldWriter: 4 fields */
        buf[24] = 32; /* of 32 bytes */
    } else if (lib) {
        memcpy(buf + 52, lib, strlen(lib));
        memcpy(buf + 84, "abcdef1234", 10);
    }
    seal(buf);
    struct db_fields ds[2] = {d1, d2};
    for (int i = 0; i < 2; i++) {
        uint8_t *h = buf + DM_HEADER_BLOCK * (i + 1);
        put64(h + 8, ds[i].iteration);
        put64(h + 16, ds[i].meta);
        put64(h + 24, ds[i].free_list);
        put64(h + 32, ds[i].blocks);
        if (v >= 64) {
            put64(h + 40, 262144);
            put64(h + 48, 2048);
            put64(h + 56, ds[i].ser);
        }
        seal(h);
    }
}

static const struct db_fields D_OLD = {1, 0, UINT64_MAX, 3, 0};
static const struct db_fields D_NEW = {2, 1, UINT64_MAX, 4, 0};

static void every_version_in_table(void **state)
{
    (void)state;
    static const uint64_t versions[] = {1,  4,  6,  11, 13, 15, 17, 18,
                                        21, 25, 27, 31, 33, 38, 39, 43,
                                        51, 64, 65, 66, 67, 68};
    uint8_t buf[DM_HEADER_SIZE];
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        struct dm_header_info info;
        struct dm_error err = DM_ERROR_INIT;
        uint64_t v = versions[i];
        struct db_fields d = D_NEW;
        d.ser = v > 64 ? v - 61 : 0;
        craft(buf, v, "v1.5.6", D_OLD, d);
        assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, &err), DM_OK);
        assert_int_equal(info.storage_version, v);
        assert_true(dm_header_checksums_ok(&info));
        assert_non_null(dm_storage_releases(v));
        assert_non_null(dm_storage_releases(v)[0]);
        assert_int_equal(info.has_library, v >= 64);
        if (v >= 64)
            assert_string_equal(info.library_version, "v1.5.6");
    }
    assert_null(dm_storage_releases(40));
    assert_null(dm_storage_releases(999));
}

static void release_names(void **state)
{
    (void)state;
    const char *const *r = dm_storage_releases(39);
    assert_string_equal(r[0], "0.6.0");
    assert_string_equal(r[1], "0.6.1");
    assert_null(r[2]);
    r = dm_storage_releases(33);
    assert_string_equal(r[3], "0.4.0");
    r = dm_storage_releases(68);
    assert_string_equal(r[0], "1.5.x");
}

static void active_header_is_higher_iteration(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    craft(buf, 39, NULL, D_OLD, D_NEW);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_int_equal(info.active, 1);
    assert_int_equal(info.db[1].block_count, 4);
    craft(buf, 39, NULL, D_NEW, D_OLD);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_int_equal(info.active, 0);
    assert_int_equal(info.db[0].block_alloc_size, DM_DEFAULT_BLOCK_ALLOC_SIZE);
    assert_false(info.has_library);
    assert_false(info.encrypted);
}

static void foreign_file(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    struct dm_error err = DM_ERROR_INIT;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, &err),
                     DM_ERR_NOT_DUCKDB);
    assert_non_null(strstr(err.msg, "not a DuckDB file"));
    /* SQLite's magic is not ours either */
    memcpy(buf, "SQLite format 3", 16);
    dm_error_clear(&err);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, &err),
                     DM_ERR_NOT_DUCKDB);
}

static void truncated_buffers(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    craft(buf, 43, NULL, D_OLD, D_NEW);
    static const size_t lens[] = {
        0, 8, 12, 19, 20, 4095, 4096, 8192, DM_HEADER_SIZE - 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct dm_error err = DM_ERROR_INIT;
        enum dm_code rc = dm_header_parse(buf, lens[i], &info, &err);
        /* 8..11 bytes cannot show the magic: still truncated, not foreign */
        assert_int_equal(rc, DM_ERR_TRUNCATED);
        assert_non_null(strstr(err.msg, "truncated"));
    }
}

static void bad_checksums(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    craft(buf, 51, NULL, D_OLD, D_NEW);
    buf[100] ^= 1; /* main header body */
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_false(info.main_checksum_ok);
    assert_false(dm_header_checksums_ok(&info));

    craft(buf, 51, NULL, D_OLD, D_NEW);
    buf[2 * DM_HEADER_BLOCK + 200] ^= 0x80; /* active db header */
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_true(info.main_checksum_ok);
    assert_false(info.db[1].checksum_ok);
    assert_false(dm_header_checksums_ok(&info));

    craft(buf, 51, NULL, D_OLD, D_NEW);
    buf[DM_HEADER_BLOCK + 200] ^= 0x80; /* the inactive one does not count */
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_true(dm_header_checksums_ok(&info));
}

static void checksum_of_zeros_is_seed(void **state)
{
    (void)state;
    uint8_t zeros[4088] = {0};
    assert_int_equal(dm_header_checksum(zeros, sizeof(zeros)), 5381);
}

static void encrypted_flag(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    craft(buf, 67, "v1.4.0", D_OLD, D_NEW);
    buf[20] = 1;
    seal(buf);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_true(info.encrypted);
    assert_int_equal(info.active, -1);
    assert_int_equal(info.storage_version, 67);
    assert_true(dm_header_checksums_ok(&info));
}

static void marker_999_reads_db_header(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    struct db_fields d = D_NEW;
    d.ser = 69;
    craft(buf, 999, "v2.0.0", D_OLD, d);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_int_equal(info.main_version, 999);
    assert_int_equal(info.storage_version, 69);
    assert_string_equal(dm_storage_releases(69)[0], "2.0.x");
}

static void in_place_upgrade_uses_serialization(void **state)
{
    (void)state;
    uint8_t buf[DM_HEADER_SIZE];
    struct dm_header_info info;
    struct db_fields d = D_NEW;
    d.ser = 7; /* 1.5 */
    craft(buf, 65, "v1.1.3", D_OLD, d);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_int_equal(info.main_version, 65);
    assert_int_equal(info.storage_version, 68);
    /* a 64 main header ignores the field (old builds wrote junk there) */
    craft(buf, 64, "v1.1.3", D_OLD, d);
    assert_int_equal(dm_header_parse(buf, sizeof(buf), &info, NULL), DM_OK);
    assert_int_equal(info.storage_version, 64);
}

static void serialization_map(void **state)
{
    (void)state;
    assert_int_equal(dm_storage_from_serialization(4), 65);
    assert_int_equal(dm_storage_from_serialization(7), 68);
    assert_int_equal(dm_storage_from_serialization(8), 69);
    assert_int_equal(dm_storage_from_serialization(3), 0);
    assert_int_equal(dm_storage_from_serialization(0), 0);
}

static void release_spellings(void **state)
{
    (void)state;
    int a, b, c;
    assert_true(dm_release_parse("0.8.1", &a, &b, &c));
    assert_int_equal(a * 100 + b * 10 + c, 81);
    assert_true(dm_release_parse("v0.8.1", &a, &b, &c));
    assert_true(dm_release_parse("duckdb0.8.1", &a, &b, &c));
    assert_true(dm_release_parse("1.10.2", &a, &b, &c));
    assert_int_equal(b, 10);
    assert_false(dm_release_parse("0.8", &a, &b, &c));
    assert_false(dm_release_parse("0.8.1x", &a, &b, &c));
    assert_false(dm_release_parse("", &a, &b, &c));
    assert_false(dm_release_parse(NULL, &a, &b, &c));
    assert_true(dm_release_cmp("0.10.0", "0.9.2") > 0);
    assert_true(dm_release_cmp("1.5.6", "v1.5.6") == 0);
}

static void release_ranges(void **state)
{
    (void)state;
    uint64_t lo, hi;
    assert_true(dm_release_storage_range("0.6.1", &lo, &hi));
    assert_int_equal(lo, 39);
    assert_int_equal(hi, 39);
    assert_true(dm_release_storage_range("0.8.0", &lo, &hi));
    assert_int_equal(lo, 51);
    assert_true(dm_release_storage_range("1.1.3", &lo, &hi));
    assert_int_equal(hi, 64);
    assert_true(dm_release_storage_range("1.2.0", &lo, &hi));
    assert_int_equal(hi, 65);
    assert_true(dm_release_storage_range("1.5.6", &lo, &hi));
    assert_int_equal(lo, 64);
    assert_int_equal(hi, 68);
    assert_true(dm_release_storage_range("2.0.0", &lo, &hi));
    assert_int_equal(hi, 69);
    assert_false(dm_release_storage_range("0.6.7", &lo, &hi));
    assert_false(dm_release_storage_range("3.0.0", &lo, &hi));

    assert_true(dm_release_can_read("0.7.1", 43));
    assert_false(dm_release_can_read("0.7.1", 39));
    assert_false(dm_release_can_read("0.8.1", 64));
    assert_false(dm_release_can_read("1.5.6", 51));
    assert_true(dm_release_can_read("1.5.6", 66));
    assert_false(dm_release_can_read("1.5.6", 69));
}

static char *write_temp(const uint8_t *data, size_t len)
{
    char *path = strdup("/tmp/dm-header-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void file_shape(void **state)
{
    (void)state;
    size_t size = DM_HEADER_SIZE + 2 * 262144;
    uint8_t *buf = calloc(1, size);
    struct dm_header_info info;
    struct db_fields d = {2, 1, UINT64_MAX, 2, 0};
    craft(buf, 43, NULL, D_OLD, d);

    char *p = write_temp(buf, size);
    uint64_t fsize = 0;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_header_read_file(p, &info, &fsize, &err), DM_OK);
    assert_int_equal(fsize, size);
    unlink(p);
    free(p);

    /* cut inside a block */
    p = write_temp(buf, size - 100);
    assert_int_equal(dm_header_read_file(p, &info, NULL, &err),
                     DM_ERR_TRUNCATED);
    assert_non_null(strstr(err.msg, p));
    unlink(p);
    free(p);

    /* a whole block missing: the metadata block 1 is gone */
    dm_error_clear(&err);
    p = write_temp(buf, size - 262144);
    assert_int_equal(dm_header_read_file(p, &info, NULL, &err),
                     DM_ERR_TRUNCATED);
    assert_non_null(strstr(err.msg, "missing"));
    unlink(p);
    free(p);

    /* missing file */
    dm_error_clear(&err);
    assert_int_equal(
        dm_header_read_file("/nonexistent/x.duckdb", &info, NULL, &err),
        DM_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.duckdb"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_version_in_table),
        cmocka_unit_test(release_names),
        cmocka_unit_test(active_header_is_higher_iteration),
        cmocka_unit_test(foreign_file),
        cmocka_unit_test(truncated_buffers),
        cmocka_unit_test(bad_checksums),
        cmocka_unit_test(checksum_of_zeros_is_seed),
        cmocka_unit_test(encrypted_flag),
        cmocka_unit_test(marker_999_reads_db_header),
        cmocka_unit_test(in_place_upgrade_uses_serialization),
        cmocka_unit_test(serialization_map),
        cmocka_unit_test(release_spellings),
        cmocka_unit_test(release_ranges),
        cmocka_unit_test(file_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
