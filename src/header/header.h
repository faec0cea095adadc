/*
 * header.h - read a DuckDB file's version without loading DuckDB.
 *
 * A DuckDB file starts with three 4096-byte blocks: the main header (written
 * once, at creation) and two database headers written alternately at each
 * checkpoint; the one with the higher iteration is active. See
 * docs/file-format.md for the layout by release and where each fact comes
 * from. Everything here is pure: parse a buffer, no I/O but the helper that
 * reads a file's first 12 KiB.
 *
 * Usage:
 *   1. dm_header_read_file(path, &info, &err), or dm_header_parse() on a
 *      buffer you already hold;
 *   2. info.storage_version is the effective format; dm_storage_releases()
 *      names the releases that write it; dm_release_can_read() tells
 *      whether an engine release opens it.
 */
#ifndef DM_HEADER_H
#define DM_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "release/release.h"
#include "util/error.h"

#define DM_HEADER_BLOCK 4096
#define DM_HEADER_SIZE  (3 * DM_HEADER_BLOCK)
/* Main header value from 2.0 on; the real version is in the db header. */
#define DM_STORAGE_MARKER_2_0       999
#define DM_DEFAULT_BLOCK_ALLOC_SIZE 262144u

struct dm_db_header {
    bool checksum_ok;
    uint64_t iteration;
    uint64_t meta_block;
    uint64_t free_list;
    uint64_t block_count;
    uint64_t block_alloc_size; /* 0.10+; DM_DEFAULT_... when absent */
    uint64_t vector_size;      /* 0.10+; 0 when absent */
    uint64_t serialization;    /* 1.2+ compat version; 2.0: storage */
};

struct dm_header_info {
    uint64_t main_version;    /* raw u64 at offset 12 */
    uint64_t storage_version; /* effective version, see .c */
    uint64_t serialization;   /* compat version from the db header */
    bool main_checksum_ok;
    bool encrypted;
    bool has_library;         /* 0.9+ headers name the creator */
    char library_version[33]; /* e.g. "v1.1.3", NUL-terminated */
    char library_hash[33];
    int active; /* 0 or 1; -1 when unreadable */
    struct dm_db_header db[2];
};

/* Is the file's active state plausible: checksums of main + active ok. */
bool dm_header_checksums_ok(const struct dm_header_info *info);

/*
 * Parse the first len bytes of a file (len >= DM_HEADER_SIZE to see both
 * database headers). Fails with DM_ERR_NOT_DUCKDB or DM_ERR_TRUNCATED; a
 * bad checksum is not a parse failure, it is reported in the info.
 */
enum dm_code dm_header_parse(const uint8_t *buf, size_t len,
                             struct dm_header_info *out, struct dm_error *err);

/*
 * Open path, parse its headers and check that the file is as long as its
 * active header says (a file cut short in transit fails with
 * DM_ERR_TRUNCATED). file_size receives the size; may be NULL.
 */
enum dm_code dm_header_read_file(const char *path, struct dm_header_info *out,
                                 uint64_t *file_size, struct dm_error *err);

/*
 * Is a file of size bytes, whose headers are info, whole (see
 * dm_header_read_file)? For headers read without the file (a ranged GET
 * and the listing's size). DM_ERR_TRUNCATED names name when it is not.
 */
enum dm_code dm_header_check_size(const struct dm_header_info *info,
                                  uint64_t size, const char *name,
                                  struct dm_error *err);

/* DuckDB's block checksum: 5381 xor-folded with each u64 word * C. */
uint64_t dm_header_checksum(const uint8_t *buf, size_t len);

#endif
