/* plan.c - `batch --dry-run` (see plan.h). */
#include "fleet/plan.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/outcome.h"
#include "header/header.h"
#include "migrate/migrate.h"
#include "release/release.h"
#include "util/str.h"
#include "util/text.h"
#include "util/settings.h"

#define MIB 1048576.0
/* headers read at a time: each costs a round trip on S3 */
#define PROBE_THREADS 8

/* What the listing holds: the files, their WALs, in-place backups. */
struct listed {
    char *key;
    uint64_t size;
    const char *problem; /* static text, or NULL */
};

struct listing {
    struct listed *v;
    size_t n, cap;
    bool nomem;
};

static int collect(const struct dm_object *o, void *ud)
{
    struct listing *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct listed *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->nomem = true;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    struct listed *e = &l->v[l->n];
    e->key = strdup(o->key);
    e->size = o->size;
    e->problem = o->problem;
    if (!e->key) {
        l->nomem = true;
        return 1;
    }
    l->n++;
    return 0;
}

static int cmp_listed(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->key,
                  ((const struct listed *)b)->key);
}

static const struct listed *find(const struct listing *l, const char *key)
{
    struct listed k = {(char *)key, 0, NULL};
    return bsearch(&k, l->v, l->n, sizeof(*l->v), cmp_listed);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The totals of one source storage version. */
struct version_count {
    uint64_t storage;
    size_t files;
    uint64_t bytes;
};

struct plan {
    const struct dm_plan_opts *o;
    struct dm_store *src, *dst;
    char release[DM_RELEASE_MAX];
    uint64_t target_storage;
    struct version_count versions[64];
    size_t nversions;
    size_t files, by_action[5];
    uint64_t bytes;
    const struct listed *largest;
    uint64_t largest_wal, largest_with_wal;
    json_t *entries;
};

static const char *const actions[] = {
    "migrate", "already_at_target", "destination_exists", "resume", "skipped",
};
enum { A_MIGRATE, A_ALREADY, A_DST_EXISTS, A_RESUME, A_SKIPPED };

static int cmp_version(const void *a, const void *b)
{
    uint64_t x = ((const struct version_count *)a)->storage;
    uint64_t y = ((const struct version_count *)b)->storage;
    return x < y ? -1 : x > y;
}

static void count_version(struct plan *p, uint64_t storage, uint64_t size)
{
    size_t i = 0;
    while (i < p->nversions && p->versions[i].storage != storage)
        i++;
    if (i == p->nversions) {
        if (p->nversions == sizeof(p->versions) / sizeof(*p->versions))
            return; /* more versions than DuckDB ever had: not counted */
        p->versions[p->nversions++] = (struct version_count){storage, 0, 0};
    }
    p->versions[i].files++;
    p->versions[i].bytes += size;
}

/* Why a file that is not skipped gets its action: a note, not an error
 * (why->code stays DM_OK). */
static void note(struct dm_error *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct dm_error *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
    va_end(ap);
}

/*
 * What the store says of one file, learnt by probe() on one of a few
 * threads (a ranged GET costs a round trip; a fleet holds thousands):
 * only store calls and pure parsing, nothing shared is written. The
 * action is decided from it afterwards, on one thread (decide()).
 */
struct probe {
    const struct listed *e;
    char *dst_key;
    struct dm_header_info info;
    bool have_info;      /* the header parsed */
    struct dm_error why; /* a refusal found here: skipped */
    bool dst_exists;
    uint64_t dst_size;
};

static void probe(const struct plan *p, struct probe *pr)
{
    const struct listed *e = pr->e;
    struct dm_error *why = &pr->why;
    uint8_t buf[DM_HEADER_SIZE];
    size_t got = 0;
    /* what batch's listing refuses, for the same reasons */
    if (!pr->dst_key) {
        dm_fail(why, DM_ERR_NOMEM, "out of memory");
        return;
    }
    if (e->problem) {
        dm_fail(why, DM_ERR_NOT_FOUND, "%s", e->problem);
        return;
    }
    if (!dm_utf8_valid(e->key)) {
        dm_fail(why, DM_ERR_BAD_KEY,
                "the name is not UTF-8, and a job's message (JSON) cannot "
                "carry it");
        return;
    }
    if (dm_key_check(e->key, strlen(e->key), why) ||
        dm_key_check(pr->dst_key, strlen(pr->dst_key), why))
        return;
    /* the header alone: never the whole file */
    if (dm_store_read_range(p->src, e->key, 0, buf, sizeof(buf), &got, why))
        return;
    struct dm_error perr = DM_ERROR_INIT;
    if (dm_header_parse(buf, got, &pr->info, &perr)) {
        dm_fail(why, perr.code, "%s: %s%s", e->key,
                perr.code == DM_ERR_NOT_DUCKDB ? "a foreign file: " : "",
                perr.msg);
        return;
    }
    pr->have_info = true;
    if (dm_header_check_size(&pr->info, e->size, e->key, why))
        return;
    struct dm_object d = {0};
    struct dm_error derr = DM_ERROR_INIT;
    if (!p->o->backup_suffix && p->dst &&
        dm_store_stat(p->dst, pr->dst_key, &d, &derr) == DM_OK) {
        pr->dst_exists = true;
        pr->dst_size = d.size;
    }
    dm_object_release(&d);
}

/* Probes shared out among threads: the next one to take. */
struct probes {
    const struct plan *p;
    struct probe *v;
    size_t n;
    _Atomic size_t next;
};

static void *probe_worker(void *arg)
{
    struct probes *ps = arg;
    for (size_t i; (i = atomic_fetch_add(&ps->next, 1)) < ps->n;)
        probe(ps->p, &ps->v[i]);
    return NULL;
}

/* Probe every file, PROBE_THREADS at a time (all on this thread when
 * none can start). */
static void probe_all(const struct plan *p, struct probe *v, size_t n)
{
    struct probes ps = {p, v, n, 0};
    pthread_t tid[PROBE_THREADS];
    size_t started = 0;
    while (started < PROBE_THREADS && started < n &&
           pthread_create(&tid[started], NULL, probe_worker, &ps) == 0)
        started++;
    probe_worker(&ps);
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

/* The action a batch would take for a probed file, and why (why->code
 * stays DM_OK for a note). */
static int decide(const struct plan *p, const struct listing *l,
                  struct probe *pr)
{
    const struct listed *e = pr->e;
    struct dm_error *why = &pr->why;
    char engine[DM_RELEASE_MAX];
    if (why->code ||
        dm_migrate_check_source(&pr->info, p->release, p->target_storage,
                                e->key, engine, why))
        return A_SKIPPED;
    if (p->o->backup_suffix) {
        char *backup = dm_fmt("%s%s", e->key, p->o->backup_suffix);
        bool resume = backup && find(l, backup);
        free(backup);
        if (resume) {
            note(why,
                 "its backup %s%s is there: an earlier run stopped, and "
                 "this one goes on from the backup",
                 e->key, p->o->backup_suffix);
            return A_RESUME;
        }
    }
    if (pr->info.storage_version == p->target_storage) {
        note(why,
             "already at storage %llu (DuckDB %s): copied as it is, once "
             "its release has read every table whole",
             (unsigned long long)pr->info.storage_version, p->release);
        return A_ALREADY;
    }
    if (pr->dst_exists) {
        note(why,
             "the destination exists (%llu bytes): kept when it verifies "
             "against the source (already_done), else migrated again and "
             "replaced",
             (unsigned long long)pr->dst_size);
        return A_DST_EXISTS;
    }
    return A_MIGRATE;
}

static void plan_file(struct plan *p, const struct listing *l, struct probe *pr)
{
    const struct listed *e = pr->e;
    int a = decide(p, l, pr);
    const struct dm_error *why = &pr->why;
    const char *dst_key = pr->dst_key;
    uint64_t storage = pr->have_info ? pr->info.storage_version : 0;
    p->files++;
    p->bytes += e->size;
    p->by_action[a]++;
    if (storage)
        count_version(p, storage, e->size);
    if (a != A_SKIPPED) {
        char *walk = dm_fmt("%s.wal", e->key);
        const struct listed *wal = walk ? find(l, walk) : NULL;
        free(walk);
        if (!p->largest || e->size > p->largest->size)
            p->largest = e;
        if (wal && wal->size > p->largest_wal)
            p->largest_wal = wal->size;
        /* a 0.6-0.8 file with a WAL is replayed in a copy of itself */
        if (wal && e->size > p->largest_with_wal)
            p->largest_with_wal = e->size;
    }
    json_t *j = json_object();
    if (j) {
        dm_json_set_name(j, "source", e->key);
        if (dst_key)
            dm_json_set_name(j, "destination", dst_key);
        json_object_set_new(j, "source_size",
                            json_integer((json_int_t)e->size));
        char name[64];
        dm_storage_release_name(storage, name, sizeof(name));
        json_object_set_new(j, "source_storage",
                            storage ? json_integer((json_int_t)storage)
                                    : json_null());
        json_object_set_new(j, "source_release",
                            storage ? json_string(name) : json_null());
        json_object_set_new(j, "action", json_string(actions[a]));
        json_object_set_new(j, "code", json_string(dm_code_name(why->code)));
        json_object_set_new(j, "reason",
                            why->msg[0] ? dm_json_text(why->msg, NULL)
                                        : json_null());
        json_array_append_new(p->entries, j);
    }
}

/* Where the plan looks: a local folder is a store rooted at it. An
 * absent DST is no error: nothing is there yet. */
static enum dm_code open_store(const struct dm_location *loc, bool as_dest,
                               struct dm_store **out, struct dm_error *err)
{
    if (loc->kind == DM_LOC_PATH)
        return dm_store_open_local(loc->key, out, err);
    return dm_location_store(loc, as_dest, out, err);
}

static json_t *disk_json(const struct plan *p)
{
    uint64_t largest = p->largest ? p->largest->size : 0;
    uint64_t task = 2 * largest + p->largest_wal + p->largest_with_wal;
    json_t *d =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "formula",
                  "2 * largest_file + largest_wal + largest_file_with_wal",
                  "largest_file", (json_int_t)largest, "largest_wal",
                  (json_int_t)p->largest_wal, "largest_file_with_wal",
                  (json_int_t)p->largest_with_wal, "bytes", (json_int_t)task,
                  "jobs", (json_int_t)p->o->jobs, "bytes_for_jobs",
                  (json_int_t)(task * (uint64_t)p->o->jobs));
    if (d && p->largest)
        dm_json_set_name(d, "largest_source", p->largest->key);
    return d;
}

static json_t *plan_json(const struct plan *p)
{
    json_t *doc = dm_json_document("batch");
    if (!doc)
        return NULL;
    json_object_set_new(doc, "dry_run", json_true());
    dm_json_set_name(doc, "source", p->o->src_arg);
    dm_json_set_name(doc, "destination", p->o->dst_arg);
    json_object_set_new(doc, "target_release", json_string(p->release));
    json_object_set_new(doc, "target_storage",
                        json_integer((json_int_t)p->target_storage));
    json_object_set_new(doc, "files", json_integer((json_int_t)p->files));
    json_object_set_new(doc, "bytes", json_integer((json_int_t)p->bytes));
    json_t *counts = json_object();
    for (size_t a = 0; counts && a < 5; a++)
        json_object_set_new(counts, actions[a],
                            json_integer((json_int_t)p->by_action[a]));
    json_object_set_new(doc, "counts", counts ? counts : json_null());
    json_t *vs = json_array();
    for (size_t i = 0; vs && i < p->nversions; i++) {
        char name[64];
        dm_storage_release_name(p->versions[i].storage, name, sizeof(name));
        json_array_append_new(
            vs, json_pack("{s:I, s:s, s:I, s:I}", "source_storage",
                          (json_int_t)p->versions[i].storage, "source_release",
                          name, "files", (json_int_t)p->versions[i].files,
                          "bytes", (json_int_t)p->versions[i].bytes));
    }
    json_object_set_new(doc, "versions", vs ? vs : json_null());
    json_t *disk = disk_json(p);
    json_object_set_new(doc, "disk_per_task", disk ? disk : json_null());
    json_object_set(doc, "plan", p->entries);
    return doc;
}

enum dm_code dm_plan_make(const struct dm_plan_opts *o, json_t **doc,
                          bool *would_skip, struct dm_error *err)
{
    struct plan p;
    struct listing l = {NULL, 0, 0, false};
    struct probe *probes = NULL;
    size_t nfiles = 0;
    memset(&p, 0, sizeof(p));
    p.o = o;
    *doc = NULL;
    *would_skip = false;
    const char *to = o->target ? o->target : dm_setting(DM_SET_MIGRATE_VERSION);
    enum dm_code rc = dm_release_normalize(to, p.release, err);
    if (!rc)
        rc = dm_target_storage(p.release, NULL, &p.target_storage, err);
    if (!rc)
        rc = open_store(o->src, false, &p.src, err);
    if (!rc && !o->backup_suffix) {
        struct dm_error derr = DM_ERROR_INIT;
        enum dm_code drc = open_store(o->dst, true, &p.dst, &derr);
        if (drc && drc != DM_ERR_NOT_FOUND)
            rc = dm_fail(err, drc, "%s", derr.msg);
    }
    if (!rc)
        rc = dm_store_list(p.src, o->src_prefix, collect, &l, err);
    if (!rc && l.nomem)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (rc)
        goto out;
    qsort(l.v, l.n, sizeof(*l.v), cmp_listed);
    p.entries = json_array();
    if (!p.entries) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        if (ends_with(l.v[i].key, ".duckdb"))
            nfiles++;
    probes = calloc(nfiles ? nfiles : 1, sizeof(*probes));
    if (!probes) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0, k = 0; i < l.n; i++) {
        if (!ends_with(l.v[i].key, ".duckdb"))
            continue;
        const char *rel = l.v[i].key + strlen(o->src_prefix);
        probes[k].e = &l.v[i];
        /* NULL when out of memory: probe() says so */
        probes[k].dst_key = o->backup_suffix
                                ? strdup(l.v[i].key)
                                : dm_fmt("%s%s", o->dst_prefix, rel);
        k++;
    }
    probe_all(&p, probes, nfiles);
    for (size_t k = 0; k < nfiles; k++)
        plan_file(&p, &l, &probes[k]);
    qsort(p.versions, p.nversions, sizeof(*p.versions), cmp_version);
    *would_skip = p.by_action[A_SKIPPED] > 0;
    *doc = plan_json(&p);
    if (!*doc)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
out:
    for (size_t k = 0; probes && k < nfiles; k++)
        free(probes[k].dst_key);
    free(probes);
    json_decref(p.entries);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].key);
    free(l.v);
    dm_store_close(p.dst);
    dm_store_close(p.src);
    return rc;
}

static uint64_t get_u64(json_t *j, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(j, key));
}

static const char *get_str(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

void dm_plan_print(json_t *doc, FILE *out)
{
    json_t *counts = json_object_get(doc, "counts");
    json_t *disk = json_object_get(doc, "disk_per_task");
    fprintf(out, "batch --dry-run: nothing was written.\n");
    fprintf(out, "%llu files, %.1f MiB, for DuckDB %s (storage %llu)\n",
            (unsigned long long)get_u64(doc, "files"),
            (double)get_u64(doc, "bytes") / MIB, get_str(doc, "target_release"),
            (unsigned long long)get_u64(doc, "target_storage"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "versions"), i, v)
    {
        fprintf(out, "  storage %-4llu DuckDB %-13s %6llu files %10.1f MiB\n",
                (unsigned long long)get_u64(v, "source_storage"),
                get_str(v, "source_release"),
                (unsigned long long)get_u64(v, "files"),
                (double)get_u64(v, "bytes") / MIB);
    }
    fprintf(out, "would: ");
    for (size_t a = 0; a < 5; a++)
        fprintf(out, "%s%llu %s", a ? ", " : "",
                (unsigned long long)get_u64(counts, actions[a]), actions[a]);
    fprintf(out, "\n");
    uint64_t task = get_u64(disk, "bytes");
    fprintf(out,
            "disk per task: 2 x largest file (%.1f MiB) + largest WAL "
            "(%.1f MiB) + largest file with a WAL, replayed in a copy "
            "(%.1f MiB) = %.1f MiB; x %llu jobs = %.1f MiB\n",
            (double)get_u64(disk, "largest_file") / MIB,
            (double)get_u64(disk, "largest_wal") / MIB,
            (double)get_u64(disk, "largest_file_with_wal") / MIB,
            (double)task / MIB, (unsigned long long)get_u64(disk, "jobs"),
            (double)get_u64(disk, "bytes_for_jobs") / MIB);
    json_array_foreach(json_object_get(doc, "plan"), i, v)
    {
        const char *action = get_str(v, "action");
        if (strcmp(action, "migrate") == 0)
            continue;
        const char *key = get_str(v, "source"), *reason = get_str(v, "reason");
        char *src = dm_escape(key);
        char *why = dm_escape(reason);
        /* most reasons start with the name already */
        bool named = strncmp(reason, key, strlen(key)) == 0;
        fprintf(out, "  %-18s %s%s%s\n", action,
                named ? ""
                : src ? src
                      : "?",
                named ? "" : ": ", why ? why : "?");
        free(why);
        free(src);
    }
}
