/*
 * header.c - parse DuckDB file headers (which release wrote what is
 * release/release.h's).
 *
 * Layout (little-endian), from DuckDB's single_file_block_manager.cpp at
 * each release tag:
 *   main header @0:   u64 checksum of bytes 8..4095 | "DUCK" | u64 version
 *     <= 0.8 (version < 64): FieldWriter framing u32 count, u64 size, then
 *                            flags[4]
 *     >= 0.9: flags[4] @20 (flags[0] & 1: encrypted, 1.4+),
 *             library_git_desc[32] @52, library_git_hash[32] @84
 *   db headers @4096, @8192: u64 checksum | iteration | meta_block |
 *     free_list | block_count | (0.10+) block_alloc_size | vector_size |
 *     (1.2+) serialization compatibility
 * The active database header is the one with the higher iteration.
 */
#include "header/header.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

#define CHECKSUM_MULTIPLIER 0xbf58476d1ce4e5b9ULL

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t dm_header_checksum(const uint8_t *buf, size_t len)
{
    uint64_t result = 5381;
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++)
        result ^= le64(buf + i * 8) * CHECKSUM_MULTIPLIER;
    /* Header blocks are 4088 bytes after the checksum: no remainder. */
    return result;
}

/* ---- parsing ---------------------------------------------------------- */

static void copy_cstr(char *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[i] = '\0';
}

static void parse_db_header(const uint8_t *p, bool modern,
                            struct dm_db_header *h)
{
    h->checksum_ok = le64(p) == dm_header_checksum(p + 8, DM_HEADER_BLOCK - 8);
    h->iteration = le64(p + 8);
    h->meta_block = le64(p + 16);
    h->free_list = le64(p + 24);
    h->block_count = le64(p + 32);
    h->block_alloc_size = DM_DEFAULT_BLOCK_ALLOC_SIZE;
    h->vector_size = 0;
    h->serialization = 0;
    if (modern) {
        uint64_t bs = le64(p + 40);
        if (bs)
            h->block_alloc_size = bs;
        h->vector_size = le64(p + 48);
        h->serialization = le64(p + 56);
    }
}

enum dm_code dm_header_parse(const uint8_t *buf, size_t len,
                             struct dm_header_info *out, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    out->active = -1;
    if (len >= 12 && memcmp(buf + 8, "DUCK", 4) != 0)
        return dm_fail(err, DM_ERR_NOT_DUCKDB,
                       "not a DuckDB file (no DUCK magic at offset 8)");
    if (len < DM_HEADER_BLOCK)
        goto short_file;

    out->main_version = le64(buf + 12);
    out->main_checksum_ok =
        le64(buf) == dm_header_checksum(buf + 8, DM_HEADER_BLOCK - 8);
    bool modern = out->main_version >= DM_STORAGE_V0_9;
    if (modern) {
        out->encrypted = (le64(buf + 20) & 1) != 0;
        out->has_library = true;
        copy_cstr(out->library_version, buf + 52, 32);
        copy_cstr(out->library_hash, buf + 84, 32);
    }

    if (len < DM_HEADER_SIZE)
        goto short_file;
    out->storage_version = out->main_version;
    if (out->encrypted)
        return DM_OK; /* database headers are encrypted: nothing to read */

    parse_db_header(buf + DM_HEADER_BLOCK, modern, &out->db[0]);
    parse_db_header(buf + 2 * DM_HEADER_BLOCK, modern, &out->db[1]);
    out->active = out->db[1].iteration > out->db[0].iteration ? 1 : 0;
    out->serialization = out->db[out->active].serialization;

    /*
     * The main header is written once; a later in-place upgrade records
     * the real level in the db header (1.2+), and 2.0 puts a 999 marker in
     * the main header and the storage version in the db header field.
     */
    if (out->main_version == DM_STORAGE_MARKER_2_0) {
        out->storage_version = out->serialization;
    } else if (out->main_version > DM_STORAGE_V0_9) {
        uint64_t v = dm_storage_from_serialization(out->serialization);
        if (v > out->storage_version)
            out->storage_version = v;
    }
    return DM_OK;

short_file:
    return dm_fail(err, DM_ERR_TRUNCATED,
                   "truncated DuckDB file (%zu bytes, headers need %d)", len,
                   DM_HEADER_SIZE);
}

bool dm_header_checksums_ok(const struct dm_header_info *info)
{
    if (!info->main_checksum_ok)
        return false;
    if (info->active < 0)
        return true; /* encrypted: only the main header is checkable */
    return info->db[info->active].checksum_ok;
}

/* Block id of a header pointer; 1.x packs a metadata index in the top byte. */
static uint64_t pointer_block(uint64_t p, bool modern)
{
    return modern ? p & 0x00ffffffffffffffULL : p;
}

/*
 * A file cut short in transit: blocks follow the headers in whole
 * block_alloc_size units, and the blocks the active header points at must
 * be there. (block_count alone proves nothing: 0.7 leaves trailing blocks
 * it counts but never wrote.) Returns why the shape is wrong, or NULL.
 */
static const char *file_shape_problem(const struct dm_header_info *info,
                                      uint64_t size, uint64_t *need)
{
    const struct dm_db_header *h = &info->db[info->active];
    bool modern = info->main_version >= DM_STORAGE_V0_9;
    uint64_t bs = h->block_alloc_size;
    if (size < DM_HEADER_SIZE || bs == 0)
        return "shorter than its headers";
    if ((size - DM_HEADER_SIZE) % bs != 0)
        return "not a whole number of blocks";
    const uint64_t ptrs[2] = {h->meta_block, h->free_list};
    for (int i = 0; i < 2; i++) {
        if (ptrs[i] == UINT64_MAX)
            continue; /* INVALID_BLOCK: nothing stored */
        uint64_t id = pointer_block(ptrs[i], modern);
        if (id >= (UINT64_MAX - DM_HEADER_SIZE) / bs - 1)
            return "its header points past any possible block";
        *need = DM_HEADER_SIZE + (id + 1) * bs;
        if (size < *need)
            return "the blocks its header points at are missing";
    }
    return NULL;
}

enum dm_code dm_header_check_size(const struct dm_header_info *info,
                                  uint64_t size, const char *name,
                                  struct dm_error *err)
{
    if (info->active < 0 || !dm_header_checksums_ok(info))
        return DM_OK; /* nothing trustworthy to measure the size against */
    uint64_t need = 0;
    const char *why = file_shape_problem(info, size, &need);
    if (why)
        return dm_fail(err, DM_ERR_TRUNCATED,
                       "%s: truncated DuckDB file (%llu bytes; %s)", name,
                       (unsigned long long)size, why);
    return DM_OK;
}

enum dm_code dm_header_read_file(const char *path, struct dm_header_info *out,
                                 uint64_t *file_size, struct dm_error *err)
{
    uint8_t buf[DM_HEADER_SIZE];
    enum dm_code rc = DM_OK;
    struct stat st;
    size_t got = 0;

    /* non-blocking until it is known to be a regular file: a FIFO
     * named like a database must not hang inspect, migrate or verify */
    int fd = dm_open_regular(AT_FDCWD, path, O_RDONLY, &st);
    if (fd < 0 && errno == ENODEV)
        return dm_fail(err, DM_ERR_IO, "%s: not a regular file", path);
    if (fd < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "%s", path);
    if (file_size)
        *file_size = (uint64_t)st.st_size;
    while (got < sizeof(buf)) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = dm_fail_errno(err, DM_ERR_IO, errno, "%s", path);
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }

    struct dm_error perr = DM_ERROR_INIT;
    rc = dm_header_parse(buf, got, out, &perr);
    if (rc) {
        dm_fail(err, rc, "%s: %s", path, perr.msg);
        goto out;
    }
    rc = dm_header_check_size(out, (uint64_t)st.st_size, path, err);
out:
    close(fd);
    return rc;
}
