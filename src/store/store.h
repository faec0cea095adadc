/*
 * store.h - where tracker files live: one interface, one backend per file
 * (local.c for a local folder or EFS mount, s3.c for S3).
 *
 * A store holds objects named by keys ("51/9324670152232801/x.duckdb").
 * Everything crosses a local file: get writes a key's content to a local
 * path, put makes a local file's content appear under a key. Both are
 * atomic at their destination (a temporary name, then a rename; a
 * multipart upload that only completes when every part is in), so a reader
 * never sees half an object and a failure leaves nothing behind.
 *
 * Locations on the command line: a local path, "efs:KEY" (under
 * MIGRATE_SRC when read, MIGRATE_DST when written, as in the seed) or
 * "s3://bucket/key".
 */
#ifndef DM_STORE_H
#define DM_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/file.h"
#include "util/progress.h"

struct dm_object {
    char *key;
    uint64_t size;
    char *etag; /* S3's ETag with its quotes; NULL for local files */
    /* local files: device and inode, which tell one file under two names
     * (0 for S3) */
    uint64_t dev, ino;
    /* listings only: why the store will not serve this entry (a symlink
     * that leads out of the root, a FIFO, ...), static text; NULL for an
     * object. A list callback skips such an entry, and may say so. */
    const char *problem;
};

void dm_object_release(struct dm_object *o);

/* Called once per listed object, in key order; non-zero stops the walk. */
typedef int (*dm_list_fn)(const struct dm_object *obj, void *ud);

struct dm_store;

struct dm_store_ops {
    const char *scheme; /* "efs", "s3" */
    enum dm_code (*stat)(struct dm_store *s, const char *key,
                         struct dm_object *out, struct dm_error *err);
    enum dm_code (*get)(struct dm_store *s, const char *key, const char *path,
                        struct dm_object *got, struct dm_progress *progress,
                        struct dm_error *err);
    enum dm_code (*put)(struct dm_store *s, const char *path, const char *key,
                        struct dm_object *put, struct dm_progress *progress,
                        struct dm_error *err);
    enum dm_code (*list)(struct dm_store *s, const char *prefix, dm_list_fn fn,
                         void *ud, struct dm_error *err);
    /* Delete key; a key that is not there is no error. */
    enum dm_code (*remove)(struct dm_store *s, const char *key,
                           struct dm_error *err);
    void (*close)(struct dm_store *s);
    /* Read up to len bytes of key from offset off into buf (S3: one
     * ranged GET), without fetching the object: a plan or inspect reads
     * a file's headers this way. *got is less than len only past the
     * object's end. DM_ERR_NOT_FOUND when key is not there. */
    enum dm_code (*read_range)(struct dm_store *s, const char *key,
                               uint64_t off, void *buf, size_t len, size_t *got,
                               struct dm_error *err);
};

struct dm_store {
    const struct dm_store_ops *ops;
    char *name; /* for messages: "s3://bucket", "/mnt/efs/root" */
};

/* A local folder (or an EFS mount) as a store rooted at root. */
enum dm_code dm_store_open_local(const char *root, struct dm_store **out,
                                 struct dm_error *err);

/* An S3 bucket, with the region, endpoint and credentials of the
 * environment (AWS_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, ...). */
enum dm_code dm_store_open_s3(const char *bucket, struct dm_store **out,
                              struct dm_error *err);

void dm_store_close(struct dm_store *s);

/*
 * The store's operations, as the rest of duckmig calls them: never
 * s->ops->... directly. Each does what its op in struct dm_store_ops
 * says, and is the one place (as SQLite's os.c is for its VFS) that
 *
 * - traces: with LOG_LEVEL=debug, one line per call: the op, the
 *   store's scheme and name, the key (a listing's prefix), the result
 *   code and the milliseconds it took;
 * - injects faults, for tests: DUCKMIG_STORE_FAULT=OP:SUBSTRING:CODE
 *   makes every OP (stat, get, put, list, remove, read_range, or * for
 *   any) on a key that contains SUBSTRING (may be empty: any key) fail
 *   with CODE (a number of util/error.h, 3, or its name, io) before the
 *   backend is called, so that nothing is read or written. SUBSTRING
 *   may hold ':'; OP and CODE may not. A value that does not parse
 *   fails every call with DM_ERR_USAGE rather than being ignored.
 */
enum dm_code dm_store_stat(struct dm_store *s, const char *key,
                           struct dm_object *out, struct dm_error *err);
enum dm_code dm_store_get(struct dm_store *s, const char *key, const char *path,
                          struct dm_object *got, struct dm_progress *progress,
                          struct dm_error *err);
enum dm_code dm_store_put(struct dm_store *s, const char *path, const char *key,
                          struct dm_object *put, struct dm_progress *progress,
                          struct dm_error *err);
enum dm_code dm_store_list(struct dm_store *s, const char *prefix,
                           dm_list_fn fn, void *ud, struct dm_error *err);
enum dm_code dm_store_remove(struct dm_store *s, const char *key,
                             struct dm_error *err);
enum dm_code dm_store_read_range(struct dm_store *s, const char *key,
                                 uint64_t off, void *buf, size_t len,
                                 size_t *got, struct dm_error *err);

/*
 * A key a store accepts: relative, no "." or ".." component, no empty
 * component, no control characters. len is the key's length as received
 * (from JSON, say): a NUL byte inside it is refused too.
 */
enum dm_code dm_key_check(const char *key, size_t len, struct dm_error *err);

/* The same rules for a listing prefix, which may be "" or end with '/'. */
enum dm_code dm_prefix_check(const char *prefix, struct dm_error *err);

/* Open the local file a put sends: a regular file, and its size.
 * DM_ERR_NOT_FOUND when it is missing. */
enum dm_code dm_open_upload(const char *path, int *fd, uint64_t *size,
                            struct dm_error *err);

enum dm_location_kind {
    DM_LOC_PATH, /* a local path, used as given */
    DM_LOC_EFS,  /* efs:KEY */
    DM_LOC_S3,   /* s3://bucket/key */
};

struct dm_location {
    enum dm_location_kind kind;
    char *bucket; /* S3 only */
    char *key;    /* the path for DM_LOC_PATH; may be "" for a prefix */
};

enum dm_code dm_location_parse(const char *text, struct dm_location *loc,
                               struct dm_error *err);
void dm_location_release(struct dm_location *loc);

/* The store behind an efs: or s3:// location; as_dest picks MIGRATE_DST
 * over MIGRATE_SRC for efs. */
enum dm_code dm_location_store(const struct dm_location *loc, bool as_dest,
                               struct dm_store **out, struct dm_error *err);

/* The EFS root: $MIGRATE_DST when as_dest, else $MIGRATE_SRC, or their
 * defaults. */
const char *dm_efs_root(bool as_dest);

/*
 * A location that names a folder (batch's SRC and DST): the key as a
 * prefix of whole path segments, "" or ending with one '/', so that
 * "s3://b/run1" takes run1/... and not run10/...; checked like a key (a
 * '..' or empty component is refused, exit 18). A local path is not a
 * key: "" for it. *prefix is malloc'd.
 */
enum dm_code dm_location_folder(const struct dm_location *loc, char **prefix,
                                struct dm_error *err);

/*
 * Where a folder location lies, to tell whether two overlap:
 * "s3://bucket/prefix/", or the absolute path of a local folder or of
 * efs:PREFIX under its root (MIGRATE_DST when as_dest, else MIGRATE_SRC)
 * with every symlink of the part that exists resolved; always ending
 * with '/'. *where is malloc'd.
 */
enum dm_code dm_location_resolve(const struct dm_location *loc, bool as_dest,
                                 char **where, struct dm_error *err);

/* Do two dm_location_resolve answers overlap: the same folder, or one
 * inside the other? */
bool dm_folders_overlap(const char *a, const char *b);

/*
 * A local file written under a temporary name beside its final path and
 * renamed into place by commit (after fsync of the file and the folder).
 * abort, or a commit that fails, removes the temporary file. Once open,
 * f owns dirfd and closes it on commit or abort.
 *
 * The temporary file is flock'ed by its writer until the rename (born
 * locked through O_TMPFILE where the filesystem has it), so that the
 * temporary files of a writer that was killed are known: the next
 * dm_atomic_open beside the same name removes them.
 */
struct dm_atomic_file {
    int dirfd;
    int fd;
    char *tmp;  /* name inside dirfd */
    char *name; /* final name inside dirfd */
};

enum dm_code dm_atomic_open(const char *path, struct dm_atomic_file *f,
                            struct dm_error *err);
enum dm_code dm_atomic_openat(int dirfd, const char *name,
                              struct dm_atomic_file *f, struct dm_error *err);
enum dm_code dm_atomic_commit(struct dm_atomic_file *f, struct dm_error *err);
void dm_atomic_abort(struct dm_atomic_file *f);

#endif
