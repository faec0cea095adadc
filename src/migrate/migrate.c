/* migrate.c - plan, stream, verify, publish (see migrate.h). */
#include "migrate/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "header/header.h"
#include "migrate/catalog.h"
#include "migrate/source.h"
#include "util/log.h"
#include "util/str.h"
#include "util/threads.h"
#include "verify/verify.h"

#define OLDEST_SUPPORTED 39 /* 0.6 */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum dm_code dm_target_storage(const char *release, const char *opt,
                               uint64_t *storage, struct dm_error *err)
{
    uint64_t lo, hi;
    int major, minor, patch;
    if (!dm_release_storage_range(release, &lo, &hi) ||
        !dm_release_parse(release, &major, &minor, &patch))
        return dm_fail(err, DM_ERR_USAGE, "DuckDB %s is not a known release",
                       release);
    if (lo == hi) { /* before 0.9: one format */
        if (opt)
            return dm_fail(err, DM_ERR_USAGE,
                           "--storage-version needs a 1.x target, not %s",
                           release);
        *storage = lo;
        return DM_OK;
    }
    if (!opt) { /* what 1.2-1.5 write by default */
        *storage = DM_STORAGE_V0_9;
        return DM_OK;
    }
    int a, b, c;
    if (!dm_release_parse(opt, &a, &b, &c) || a != 1 || b > 5 || c != 0)
        return dm_fail(err, DM_ERR_USAGE,
                       "--storage-version takes v1.0.0 ... v1.5.0, not '%s'",
                       opt);
    uint64_t v = b <= 1 ? DM_STORAGE_V0_9 : 63 + (uint64_t)b;
    if (v > hi)
        return dm_fail(err, DM_ERR_USAGE, "DuckDB %s cannot write %s", release,
                       opt);
    *storage = v;
    return DM_OK;
}

/* ---- the destination's temporary home --------------------------------- */

struct staging {
    char dir[PATH_MAX];                 /* DST's folder/.duckmig-XXXXXX */
    char path[PATH_MAX + NAME_MAX + 2]; /* dir/<DST's file name> */
    char final[PATH_MAX];
    char stem[NAME_MAX + 1]; /* catalog name: file name without extension */
};

static enum dm_code staging_create(struct staging *s, const char *dst,
                                   struct dm_error *err)
{
    char a[PATH_MAX], b[PATH_MAX];
    snprintf(a, sizeof(a), "%s", dst);
    snprintf(b, sizeof(b), "%s", dst);
    const char *dir = dirname(a), *base = basename(b);
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "/") == 0 ||
        strlen(base) > NAME_MAX)
        return dm_fail(err, DM_ERR_USAGE, "'%s' is not a file name", dst);
    if (snprintf(s->dir, sizeof(s->dir), "%s/.duckmig-XXXXXX", dir) >=
            (int)sizeof(s->dir) ||
        snprintf(s->final, sizeof(s->final), "%s", dst) >=
            (int)sizeof(s->final))
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", dst);
    if (!mkdtemp(s->dir)) {
        int e = errno;
        s->dir[0] = '\0';
        return dm_fail_errno(err, DM_ERR_IO, e,
                             "cannot create a temporary folder in '%s'", dir);
    }
    snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, base);
    snprintf(s->stem, sizeof(s->stem), "%s", base);
    char *dot = strchr(s->stem, '.');
    if (dot && dot != s->stem)
        *dot = '\0';
    return DM_OK;
}

/* Remove the staging folder and whatever is in it (no subfolders). */
static void staging_remove(struct staging *s)
{
    dm_db_folder_remove(s->dir, s->path);
}

static enum dm_code fsync_path(const char *path, int flags,
                               struct dm_error *err)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot open '%s'", path);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return dm_fail_errno(err, DM_ERR_IO, e, "cannot sync '%s'", path);
    return DM_OK;
}

/* fsync the file, rename it over DST, fsync DST's folder. */
static enum dm_code staging_publish(struct staging *s, struct dm_error *err)
{
    char wal[sizeof(s->path) + 8], a[PATH_MAX];
    snprintf(wal, sizeof(wal), "%s.wal", s->path);
    if (access(wal, F_OK) == 0)
        return dm_fail(err, DM_ERR_INTERNAL,
                       "the new file still has a WAL; not publishing it");
    enum dm_code rc = fsync_path(s->path, O_RDONLY, err);
    if (rc)
        return rc;
    if (rename(s->path, s->final) != 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot move '%s' to '%s'",
                             s->path, s->final);
    snprintf(a, sizeof(a), "%s", s->final);
    rc = fsync_path(dirname(a), O_RDONLY | O_DIRECTORY, err);
    rmdir(s->dir);
    s->dir[0] = '\0';
    return rc;
}

/* ---- building the target's DDL ---------------------------------------- */

/* SET search_path so that unqualified names resolve as in the source. */
static char *with_schema(const char *schema, const char *stmt)
{
    char *lit = NULL, *out = NULL;
    char *id = dm_sql_ident(schema);
    char *path = id ? dm_fmt("%s,main", id) : NULL;
    lit = path ? dm_sql_literal(path) : NULL;
    if (lit)
        out = dm_fmt("SET search_path = %s; %s", lit, stmt);
    free(lit);
    free(path);
    free(id);
    return out;
}

static char *create_table_sql(const struct dm_cat_table *t)
{
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *body = strdup("");
    for (size_t i = 0; body && i < t->nitems; i++) {
        char *item = NULL;
        if (i < t->ncols) {
            /* "<name> <type><rest>": re-quote the name, fix the type */
            const struct dm_cat_column *c = &t->cols[i];
            const char *it = t->items[i];
            char *qn = dm_sql_ident(c->name);
            size_t skip = 0;
            if (it[0] == '"') {
                skip = 1;
                while (it[skip] && !(it[skip] == '"' && it[skip + 1] != '"'))
                    skip += it[skip] == '"' ? 2 : 1;
                skip++;
            } else {
                skip = strlen(c->name);
            }
            const char *rest = it + skip;
            if (*rest == ' ')
                rest++;
            size_t tl = strlen(c->type);
            if (qn && strncmp(rest, c->type, tl) == 0)
                item = dm_fmt("%s %s%s", qn, c->type_sql, rest + tl);
            else if (qn)
                item = dm_fmt("%s %s", qn, rest);
            free(qn);
        } else {
            item = strdup(t->items[i]);
        }
        char *next = item ? dm_fmt("%s%s%s", body, i ? ", " : "", item) : NULL;
        free(item);
        free(body);
        body = next;
    }
    char *sql =
        s && n && body ? dm_fmt("CREATE TABLE %s.%s(%s)", s, n, body) : NULL;
    char *out = sql ? with_schema(t->schema, sql) : NULL;
    free(sql);
    free(body);
    free(s);
    free(n);
    return out;
}

static char *create_type_sql(const struct dm_cat_type *t)
{
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *labels = strdup("");
    for (size_t i = 0; labels && i < t->nlabels; i++) {
        char *lit = dm_sql_literal(t->labels[i] ? t->labels[i] : "");
        char *next = lit ? dm_fmt("%s%s%s", labels, i ? ", " : "", lit) : NULL;
        free(lit);
        free(labels);
        labels = next;
    }
    char *out = s && n && labels
                    ? dm_fmt("CREATE TYPE %s.%s AS ENUM (%s)", s, n, labels)
                    : NULL;
    free(labels);
    free(s);
    free(n);
    return out;
}

static char *create_sequence_sql(const struct dm_cat_sequence *q)
{
    char *s = dm_sql_ident(q->schema), *n = dm_sql_ident(q->name);
    char *out = s && n
                    ? dm_fmt("CREATE SEQUENCE %s.%s INCREMENT BY %lld "
                             "MINVALUE %lld MAXVALUE %lld START %lld %s",
                             s, n, (long long)q->increment, (long long)q->min,
                             (long long)q->max, (long long)q->next,
                             q->cycle ? "CYCLE" : "NO CYCLE")
                    : NULL;
    free(s);
    free(n);
    return out;
}

/* Skip blanks and SQL comments. */
static const char *skip_blank(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

static const char *skip_word(const char *p, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(p, word, n) == 0 &&
        (p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '\r'))
        return skip_blank(p + n);
    return NULL;
}

/*
 * A view's stored SQL names the view as it was first created, which dbt
 * then renamed (x__dbt_tmp -> x): put the catalog's name in its place.
 * Returns NULL when the statement is not a plain CREATE VIEW.
 */
static char *view_sql(const struct dm_cat_object *v)
{
    const char *p = skip_blank(v->sql), *q;
    if (!(p = skip_word(p, "CREATE")))
        return NULL;
    if ((q = skip_word(p, "OR")) && (q = skip_word(q, "REPLACE")))
        p = q;
    if ((q = skip_word(p, "TEMP")) || (q = skip_word(p, "TEMPORARY")))
        return NULL;
    if (!(p = skip_word(p, "VIEW")))
        return NULL;
    /* the (possibly qualified, possibly quoted) name */
    for (;;) {
        if (*p == '"') {
            p++;
            while (*p && !(p[0] == '"' && p[1] != '"'))
                p += p[0] == '"' ? 2 : 1;
            if (*p)
                p++;
        } else {
            while (*p && *p != '.' && *p != '(' && *p != ' ' && *p != '\n' &&
                   *p != '\t')
                p++;
        }
        if (*p != '.')
            break;
        p++;
    }
    char *s = dm_sql_ident(v->schema), *n = dm_sql_ident(v->name);
    char *out = s && n ? dm_fmt("CREATE VIEW %s.%s%s", s, n, p) : NULL;
    free(s);
    free(n);
    return out;
}

/* ---- macros: their definitions only survive in EXPORT's schema.sql ---- */

/* What 0.6-0.8 EXPORT names a table's data file, so we can point it at
 * /dev/null: [schema_]table, lower case, [^a-z0-9] -> '_'. A miss only
 * costs disk in the staging folder. */
static void export_file_name(const char *schema, const char *table, char *out,
                             size_t n)
{
    char raw[1024];
    if (strcmp(schema, "main") == 0)
        snprintf(raw, sizeof(raw), "%s", table);
    else
        snprintf(raw, sizeof(raw), "%s_%s", schema, table);
    size_t o = 0;
    for (size_t i = 0; raw[i] && o + 5 < n; i++) {
        char ch = raw[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        /* EXPORT keeps a-z only: digits too become '_' */
        out[o++] = (ch >= 'a' && ch <= 'z') ? ch : '_';
    }
    snprintf(out + o, n - o, ".csv");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
        if (len + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/*
 * Wait for this process's turn to EXPORT: an exclusive flock on a file
 * every duckmig on the machine shares. Returns the descriptor to close
 * when done, or -1 (no lock could be had: go on without it).
 */
static int export_turn_take(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/duckmig-export.lock",
             tmp && *tmp ? tmp : "/tmp");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    return fd;
}

/* Remove the files and links directly in dir (EXPORT writes no folders). */
static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            unlinkat(dirfd(d), e->d_name, 0) != 0)
            dm_debug("migrate", "cannot remove %s/%s", dir, e->d_name);
    closedir(d);
}

/* Run the source release's EXPORT and keep its CREATE MACRO statements. */
static enum dm_code export_macros(struct dm_engine *reader,
                                  const struct dm_catalog *cat,
                                  const struct staging *st, char ***macros,
                                  size_t *nmacros, struct dm_error *err)
{
    char dir[PATH_MAX + 16], file[PATH_MAX + 1100];
    char name[1024];
    enum dm_code rc = DM_OK;
    char *schema_sql = NULL, *sql = NULL, *lit = NULL;

    *macros = NULL;
    *nmacros = 0;
    snprintf(dir, sizeof(dir), "%s/export", st->dir);
    if (mkdir(dir, 0700) != 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'", dir);
    for (size_t i = 0; i < cat->ntables; i++) {
        export_file_name(cat->tables[i].schema, cat->tables[i].name, name,
                         sizeof(name));
        snprintf(file, sizeof(file), "%s/%s", dir, name);
        if (symlink("/dev/null", file) != 0 && errno != EEXIST)
            dm_debug("migrate", "cannot link %s to /dev/null", file);
    }
    lit = dm_sql_literal(dir);
    sql = lit ? dm_fmt("EXPORT DATABASE %s", lit) : NULL;
    if (!sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* DuckDB write-locks each file it exports to, /dev/null included, so
     * two migrations exporting at once (batch --jobs) would refuse each
     * other: exports take turns */
    int turn = export_turn_take();
    rc = dm_engine_exec(reader, sql, err);
    if (turn >= 0)
        close(turn);
    if (rc)
        goto out;
    snprintf(file, sizeof(file), "%s/schema.sql", dir);
    schema_sql = slurp(file);
    if (!schema_sql) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot read '%s'", file);
        goto out;
    }
    for (char *p = strstr(schema_sql, "CREATE MACRO"); p;
         p = strstr(p, "CREATE MACRO")) {
        char *end = strstr(p, ";\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char **grown = realloc(*macros, (*nmacros + 1) * sizeof(char *));
        if (!grown) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        *macros = grown;
        (*macros)[(*nmacros)++] = strndup(p, len);
        p += len;
    }
out:
    /* the staging folder must hold only the new file when we publish:
     * everything EXPORT wrote goes, whatever name it chose */
    remove_files(dir);
    rmdir(dir);
    free(schema_sql);
    free(sql);
    free(lit);
    return rc;
}

/* Which macro does "CREATE MACRO main.add1(x) AS ..." define? */
static bool macro_matches(const char *stmt, const struct dm_cat_object *m)
{
    char *s = NULL, *plain = NULL;
    bool hit = false;
    /* EXPORT writes schema.name unquoted, or quoted when it must */
    s = dm_sql_ident(m->name);
    plain = dm_fmt("%s.%s(", m->schema, m->name);
    char *quoted = s ? dm_fmt("%s.%s(", m->schema, s) : NULL;
    hit = (plain && strstr(stmt, plain)) || (quoted && strstr(stmt, quoted));
    free(quoted);
    free(plain);
    free(s);
    return hit;
}

/* ---- the retry pool: tables, macros, views in dependency order -------- */

struct pending {
    size_t order;   /* when it was created: tables load in this order */
    bool rewritten; /* the old default catalog name was dropped */
    const char *kind;
    const char *schema;
    const char *name;
    char *sql;
    char *error;
    bool done;
};

/* main.main.x -> main.x, quoted or not (a 0.6 view naming the default
 * database, which later releases call by the file's name) */
static char *drop_main_catalog(const char *sql)
{
    static const char *const from[] = {"\"main\".\"main\".", "main.main.",
                                       "\"main\".main.", "main.\"main\"."};
    static const char *const to[] = {"\"main\".", "main.", "main.",
                                     "\"main\"."};
    char *out = strdup(sql);
    for (size_t k = 0; out && k < 4; k++) {
        char *hit;
        while ((hit = strstr(out, from[k]))) {
            size_t fl = strlen(from[k]), tl = strlen(to[k]);
            memcpy(hit, to[k], tl);
            memmove(hit + tl, hit + fl, strlen(hit + fl) + 1);
        }
    }
    return out;
}

static void run_pool(struct dm_engine *w, struct pending *p, size_t n,
                     struct dm_report *r)
{
    bool progress = true;
    size_t created = 0;
    while (progress) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (p[i].done || !p[i].sql)
                continue;
            struct dm_error err = DM_ERROR_INIT;
            if (dm_engine_exec(w, p[i].sql, &err) != DM_OK && !p[i].rewritten &&
                strstr(err.msg, "Catalog \"main\" does not exist")) {
                /* 0.6 had no catalogs: main.main.t meant schema main */
                char *fixed = drop_main_catalog(p[i].sql);
                if (fixed) {
                    free(p[i].sql);
                    p[i].sql = fixed;
                    p[i].rewritten = true;
                    dm_error_clear(&err);
                    dm_engine_exec(w, p[i].sql, &err);
                }
            }
            if (err.code == DM_OK) {
                p[i].done = progress = true;
                p[i].order = created++;
            } else {
                free(p[i].error);
                p[i].error = strdup(err.msg);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i].done)
            continue;
        const char *why =
            p[i].error ? p[i].error : "its definition could not be read";
        char line[512];
        snprintf(line, sizeof(line), "%s", why);
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        dm_report_add(r, p[i].kind, p[i].schema, p[i].name, DM_ITEM_NOT_CARRIED,
                      "%s", line);
        dm_warn("migrate", "%s %s.%s not carried over: %s", p[i].kind,
                p[i].schema, p[i].name, line);
    }
}

/* ---- data ---------------------------------------------------------------- */

/*
 * A table's rows go from the reader to the writer over a socket of their
 * own, without passing through duckmig: the reader fingerprints them as
 * it sends them, and duckmig only starts the two ends and collects what
 * each reports.
 */
struct relay {
    struct dm_engine *writer;
    const char *into_schema, *into_table; /* the table or its stage */
    int reader_end, writer_end; /* duckmig's copies, until handed over */
    bool appending;             /* the writer took APPEND */
    struct dm_error err;
};

/* The reader has its end and has sent the schema: start the writer. */
static int begin_append(void *ctx, const struct dm_scan_schema *schema)
{
    struct relay *rl = ctx;
    /* only the workers may hold the socket's ends, so that either one
     * sees the other stop */
    close(rl->reader_end);
    rl->reader_end = -1;
    char **names = malloc((schema->ncols ? schema->ncols : 1) * sizeof(char *));
    enum dm_code rc = DM_ERR_NOMEM;
    if (names) {
        for (size_t i = 0; i < schema->ncols; i++)
            names[i] = schema->names[i];
        rc = dm_engine_append_begin(rl->writer, rl->into_schema, rl->into_table,
                                    schema->ncols, names, schema->types,
                                    rl->writer_end, &rl->err);
        free(names);
    } else {
        dm_fail(&rl->err, rc, "out of memory");
    }
    close(rl->writer_end);
    rl->writer_end = -1;
    rl->appending = rc == DM_OK;
    return rc;
}

static bool has_generated(const struct dm_cat_table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].generated)
            return true;
    return false;
}

#define STAGE_TABLE "__duckmig_stage"

/*
 * Copy one table's rows from reader to writer. The appender of 0.8 wants
 * generated columns too, so a table that has them is filled through a
 * stage table of its stored columns, then INSERT ... SELECT.
 */
static enum dm_code copy_table(struct dm_engine *reader,
                               struct dm_engine *writer,
                               const struct dm_cat_table *t,
                               struct dm_table_print *print,
                               struct dm_error *err)
{
    struct relay rl;
    memset(&rl, 0, sizeof(rl));
    rl.writer = writer;
    rl.into_schema = t->schema;
    rl.into_table = t->name;
    rl.reader_end = rl.writer_end = -1;
    bool stage = has_generated(t);
    char *cols = dm_stored_columns_sql(t);
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *sql =
        cols && s && n ? dm_fmt("SELECT %s FROM %s.%s", cols, s, n) : NULL;
    char *mk = NULL, *fill = NULL;
    enum dm_code rc = DM_OK;
    uint64_t rows = 0;
    if (!sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (stage) {
        mk = dm_fmt("CREATE TABLE main.%s AS %s LIMIT 0", STAGE_TABLE, sql);
        fill =
            dm_fmt("INSERT INTO %s.%s (%s) SELECT * FROM main.%s; DROP TABLE "
                   "main.%s",
                   s, n, cols, STAGE_TABLE, STAGE_TABLE);
        if (!mk || !fill) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        rc = dm_engine_exec(writer, mk, err);
        if (rc)
            goto out;
        rl.into_schema = "main";
        rl.into_table = STAGE_TABLE;
    }
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        rc = dm_fail_errno(err, DM_ERR_ENGINE, errno, "socketpair");
        goto out;
    }
    rl.reader_end = ends[0];
    rl.writer_end = ends[1];
    struct dm_error serr = DM_ERROR_INIT;
    rc = dm_scan_table(reader, t, DM_SCAN_CHUNKS | DM_SCAN_PRINT, rl.reader_end,
                       begin_append, &rl, print, &serr);
    /* the writer answers once the reader's rows stop, whatever stopped
     * them; each side says what went wrong on its own side */
    enum dm_code wrc = DM_OK;
    if (rl.appending)
        wrc = dm_engine_append_end(writer, &rows, &rl.err);
    if (rc || wrc) {
        /* a side that only saw the other stop (DM_ERR_ENGINE) is not the
         * cause; the other side's reason is */
        if (rl.err.code && (!serr.code || serr.code == DM_ERR_ENGINE))
            rc = dm_fail(err, rl.err.code, "writing %s.%s: %s", t->schema,
                         t->name, rl.err.msg);
        else if (!rl.err.code || rl.err.code == DM_ERR_ENGINE)
            rc = dm_fail(err, rc, "copying %s.%s: %s", t->schema, t->name,
                         serr.msg);
        else
            rc = dm_fail(err, serr.code, "copying %s.%s: %s; the writer: %s",
                         t->schema, t->name, serr.msg, rl.err.msg);
        goto out;
    }
    if (stage) {
        rc = dm_engine_exec(writer, fill, err);
        if (rc)
            goto out;
    }
    if (rows != print->rows)
        rc = dm_fail(err, DM_ERR_INTERNAL,
                     "%s.%s: %llu rows read but %llu appended", t->schema,
                     t->name, (unsigned long long)print->rows,
                     (unsigned long long)rows);
    dm_debug("migrate", "%s.%s: %llu rows", t->schema, t->name,
             (unsigned long long)rows);
out:
    if (rl.reader_end >= 0)
        close(rl.reader_end);
    if (rl.writer_end >= 0)
        close(rl.writer_end);
    free(fill);
    free(mk);
    free(sql);
    free(cols);
    free(s);
    free(n);
    return rc;
}

/* ---- the two routes --------------------------------------------------- */

static void free_pool(struct pending *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].sql);
        free(p[i].error);
    }
    free(p);
}

static enum dm_code exec_report(struct dm_engine *w, const char *sql,
                                const char *kind, const char *schema,
                                const char *name, struct dm_report *r)
{
    struct dm_error e = DM_ERROR_INIT;
    if (!sql) {
        dm_report_add(r, kind, schema, name, DM_ITEM_NOT_CARRIED,
                      "its definition could not be built");
        return DM_ERR_NOMEM;
    }
    if (dm_engine_exec(w, sql, &e) != DM_OK) {
        dm_report_add(r, kind, schema, name, DM_ITEM_NOT_CARRIED, "%s", e.msg);
        return e.code;
    }
    return DM_OK;
}

static void create_indexes(struct dm_engine *writer,
                           const struct dm_catalog *src, struct dm_report *r)
{
    for (size_t i = 0; i < src->nindexes; i++) {
        const struct dm_cat_object *x = &src->indexes[i];
        char *sql = x->sql ? with_schema(x->schema, x->sql) : NULL;
        if (!x->sql)
            dm_report_add(r, "index", x->schema, x->name, DM_ITEM_NOT_CARRIED,
                          "the source keeps no SQL for it");
        else
            exec_report(writer, sql, "index", x->schema, x->name, r);
        free(sql);
    }
}

/* DuckDB's task threads in e; a speed setting, so a failure is only logged */
static void set_threads(struct dm_engine *e, size_t n)
{
    struct dm_error err = DM_ERROR_INIT;
    char sql[64];
    snprintf(sql, sizeof(sql), "SET threads TO %zu", n);
    if (dm_engine_exec(e, sql, &err) != DM_OK)
        dm_debug("migrate", "%s: %s", sql, err.msg);
}

/*
 * Start the target release and open (or create) path with the writer's
 * settings: the storage version asked for, and a memory limit when
 * DUCKMIG_MEMORY_LIMIT gives one (DuckDB's own syntax, "1GB").
 */
static enum dm_code writer_open(const char *release, const char *path,
                                const char *storage_version,
                                struct dm_engine **out, struct dm_error *err)
{
    struct dm_setting set[2];
    size_t nset = 0;
    if (storage_version)
        set[nset++] = (struct dm_setting){"storage_compatibility_version",
                                          storage_version};
    const char *limit = getenv("DUCKMIG_MEMORY_LIMIT");
    if (limit && *limit)
        set[nset++] = (struct dm_setting){"memory_limit", limit};
    enum dm_code rc = dm_engine_start(release, out, err);
    if (!rc)
        rc = dm_engine_open(*out, path, 0, set, nset, err);
    if (rc) {
        dm_engine_stop(*out);
        *out = NULL;
    }
    return rc;
}

static enum dm_code migrate_legacy(const struct dm_migrate_opts *o,
                                   struct dm_migrate_result *res,
                                   const struct staging *st,
                                   struct dm_error *err)
{
    double t0 = now();
    struct dm_engine *reader = NULL, *writer = NULL, *check = NULL;
    struct dm_rows *builtin = NULL, *tbuiltin = NULL;
    struct dm_catalog src, dst;
    bool have_src = false, have_dst = false;
    struct pending *pool = NULL;
    size_t npool = 0;
    char **macro_sql = NULL;
    size_t nmacro_sql = 0;
    struct dm_table_print *prints = NULL;
    struct dm_report *r = &res->report;
    enum dm_code rc;

    rc = dm_catalog_open(res->src_release, o->src, &reader, &builtin, err);
    if (!rc)
        rc = dm_catalog_read(reader, builtin, &src, err);
    have_src = !rc;
    if (rc)
        goto out;
    if (src.nmacros) {
        rc = export_macros(reader, &src, st, &macro_sql, &nmacro_sql, err);
        if (rc)
            goto out;
    }

    rc = writer_open(res->dst_release, st->path, o->storage_version, &writer,
                     err);
    if (rc)
        goto out;

    for (size_t i = 0; i < src.nschemas; i++) {
        char *id = dm_sql_ident(src.schemas[i]);
        char *sql = id ? dm_fmt("CREATE SCHEMA %s", id) : NULL;
        exec_report(writer, sql, "schema", "", src.schemas[i], r);
        free(sql);
        free(id);
    }
    for (size_t i = 0; i < src.ntypes; i++) {
        char *sql = create_type_sql(&src.types[i]);
        exec_report(writer, sql, "type", src.types[i].schema, src.types[i].name,
                    r);
        free(sql);
    }
    for (size_t i = 0; i < src.nsequences; i++) {
        char *sql = create_sequence_sql(&src.sequences[i]);
        exec_report(writer, sql, "sequence", src.sequences[i].schema,
                    src.sequences[i].name, r);
        free(sql);
    }

    npool = src.nmacros + src.ntables + src.nviews;
    pool = calloc(npool ? npool : 1, sizeof(*pool));
    if (!pool) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < src.nmacros; i++, k++) {
        const struct dm_cat_object *m = &src.macros[i];
        pool[k] = (struct pending){
            .kind = "macro", .schema = m->schema, .name = m->name};
        for (size_t j = 0; j < nmacro_sql && !pool[k].sql; j++)
            if (macro_matches(macro_sql[j], m))
                pool[k].sql = with_schema(m->schema, macro_sql[j]);
    }
    for (size_t i = 0; i < src.ntables; i++, k++)
        pool[k] = (struct pending){.kind = "table",
                                   .schema = src.tables[i].schema,
                                   .name = src.tables[i].name,
                                   .sql = create_table_sql(&src.tables[i])};
    for (size_t i = 0; i < src.nviews; i++, k++) {
        const struct dm_cat_object *v = &src.views[i];
        char *stmt = v->sql ? view_sql(v) : NULL;
        pool[k] =
            (struct pending){.kind = "view",
                             .schema = v->schema,
                             .name = v->name,
                             .sql = stmt ? with_schema(v->schema, stmt) : NULL};
        free(stmt);
    }
    run_pool(writer, pool, npool, r);
    /* DUCKMIG_INDEXES=before builds them before the rows (bench/migrate.sh
     * measures both; after is faster on both targets) */
    const char *when = getenv("DUCKMIG_INDEXES");
    bool indexes_first = when && strcmp(when, "before") == 0;
    if (indexes_first)
        create_indexes(writer, &src, r);
    double t1 = now();
    res->t_schema = t1 - t0;

    prints = calloc(src.ntables ? src.ntables : 1, sizeof(*prints));
    if (!prints) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* the writer's append lanes are its parallelism while rows load: its
     * own task threads would only spin waiting for their work */
    set_threads(writer, 1);
    /* load in creation order: a referenced table before its referrers */
    for (size_t i = 0; i < src.ntables; i++)
        if (!pool[src.nmacros + i].done)
            dm_report_add(r, "data", src.tables[i].schema, src.tables[i].name,
                          DM_ITEM_NOT_CARRIED, "its table was not created");
    for (size_t next = 0; next < npool; next++) {
        for (size_t i = 0; i < src.ntables; i++) {
            const struct pending *pt = &pool[src.nmacros + i];
            if (!pt->done || pt->order != next)
                continue;
            rc = copy_table(reader, writer, &src.tables[i], &prints[i], err);
            if (rc)
                goto out;
        }
    }
    double t2 = now();
    res->t_data = t2 - t1;
    /* the source is read: its engine's memory is not held through the
     * index build */
    dm_engine_stop(reader);
    reader = NULL;
    if (indexes_first) {
        set_threads(writer, dm_thread_count()); /* for the CHECKPOINT */
    } else {
        /* a fresh writer builds the indexes: the one that loaded the rows
         * holds their blocks in memory, and an index build (in memory in
         * 0.8) on top of them would raise the peak by the table's size */
        rc = dm_engine_exec(writer, "CHECKPOINT", err);
        dm_engine_stop(writer);
        writer = NULL;
        if (!rc)
            rc = writer_open(res->dst_release, st->path, o->storage_version,
                             &writer, err);
        if (rc)
            goto out;
        create_indexes(writer, &src, r);
    }
    rc = dm_engine_exec(writer, "CHECKPOINT", err);
    res->t_indexes = now() - t2;
    if (rc)
        goto out;
    dm_engine_stop(writer);
    writer = NULL;

    /* verify what is on disk, with a fresh engine */
    double t3 = now();
    rc = dm_catalog_open(res->dst_release, st->path, &check, &tbuiltin, err);
    if (!rc)
        rc = dm_catalog_read(check, tbuiltin, &dst, err);
    have_dst = !rc;
    if (rc)
        goto out;
    dm_verify_catalog(&src, &dst, r, r);
    for (size_t i = 0; i < src.ntables; i++) {
        const struct dm_cat_table *t = &src.tables[i];
        const struct dm_cat_table *u =
            dm_catalog_find_table(&dst, t->schema, t->name);
        if (!u || !pool[src.nmacros + i].done)
            continue;
        struct dm_table_print p;
        rc = dm_table_fingerprint(check, u, &p, err);
        if (!rc)
            dm_verify_table_data(t, &prints[i], &p, r);
        dm_table_print_release(&p);
        if (rc)
            goto out;
    }
    res->t_verify = now() - t3;
out:
    for (size_t i = 0; prints && i < src.ntables; i++)
        dm_table_print_release(&prints[i]);
    free(prints);
    free_pool(pool, npool);
    for (size_t i = 0; i < nmacro_sql; i++)
        free(macro_sql[i]);
    free(macro_sql);
    if (have_dst)
        dm_catalog_release(&dst);
    if (have_src)
        dm_catalog_release(&src);
    dm_rows_free(tbuiltin);
    dm_rows_free(builtin);
    dm_engine_stop(check);
    dm_engine_stop(writer);
    dm_engine_stop(reader);
    return rc;
}

/* INSERT INTO "stem".s.t (cols) SELECT cols FROM __duckmig_src.s.t */
static char *insert_from_source(const char *alias, const struct dm_cat_table *t)
{
    char *cols = dm_stored_columns_sql(t);
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *out = cols && s && n
                    ? dm_fmt("INSERT INTO %s.%s.%s (%s) SELECT %s FROM "
                             "__duckmig_src.%s.%s",
                             alias, s, n, cols, cols, s, n)
                    : NULL;
    free(cols);
    free(s);
    free(n);
    return out;
}

/*
 * 0.9+ files: the target release alone copies the schema (COPY FROM
 * DATABASE ... (SCHEMA)) and then the data table by table, retried until
 * every referenced table is loaded before its referrers (1.5's own DATA
 * copy does not order tables by foreign keys).
 */
static enum dm_code migrate_modern(const struct dm_migrate_opts *o,
                                   struct dm_migrate_result *res,
                                   const struct staging *st,
                                   struct dm_error *err)
{
    struct dm_engine *w = NULL, *reader = NULL;
    struct dm_rows *builtin = NULL;
    struct dm_catalog src;
    bool have_src = false;
    struct pending *pool = NULL;
    char *src_lit = dm_sql_literal(o->src), *dst_lit = dm_sql_literal(st->path);
    char *alias = dm_sql_ident(st->stem);
    char *sv = o->storage_version ? dm_sql_literal(o->storage_version) : NULL;
    char *attach_src = NULL, *attach_dst = NULL, *copy = NULL, *fin = NULL;
    enum dm_code rc = DM_OK;

    if (!src_lit || !dst_lit || !alias || (o->storage_version && !sv)) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dm_catalog_open(res->src_release, o->src, &reader, &builtin, err);
    if (!rc)
        rc = dm_catalog_read(reader, builtin, &src, err);
    have_src = !rc;
    dm_engine_stop(reader);
    reader = NULL;
    if (rc)
        goto out;

    attach_src = dm_fmt("ATTACH %s AS __duckmig_src (READ_ONLY)", src_lit);
    attach_dst =
        sv ? dm_fmt("ATTACH %s AS %s (STORAGE_VERSION %s)", dst_lit, alias, sv)
           : dm_fmt("ATTACH %s AS %s", dst_lit, alias);
    copy = dm_fmt("COPY FROM DATABASE __duckmig_src TO %s (SCHEMA)", alias);
    fin =
        dm_fmt("DETACH __duckmig_src; CHECKPOINT %s; DETACH %s", alias, alias);
    pool = calloc(src.ntables ? src.ntables : 1, sizeof(*pool));
    if (!attach_src || !attach_dst || !copy || !fin || !pool) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dm_engine_start(res->dst_release, &w, err);
    if (!rc)
        rc = dm_engine_open(w, ":memory:", 0, NULL, 0, err);
    if (!rc)
        rc = dm_engine_exec(w, attach_src, err);
    if (!rc)
        rc = dm_engine_exec(w, attach_dst, err);
    if (!rc)
        rc = dm_engine_exec(w, copy, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < src.ntables; i++)
        pool[i] =
            (struct pending){.kind = "data",
                             .schema = src.tables[i].schema,
                             .name = src.tables[i].name,
                             .sql = insert_from_source(alias, &src.tables[i])};
    run_pool(w, pool, src.ntables, &res->report);
    rc = dm_engine_exec(w, fin, err);
    dm_engine_stop(w);
    w = NULL;
    if (!rc)
        rc = dm_verify_files(o->src, st->path, &res->report, err);
out:
    dm_engine_stop(w);
    free_pool(pool, have_src ? src.ntables : 0);
    if (have_src)
        dm_catalog_release(&src);
    dm_rows_free(builtin);
    dm_engine_stop(reader);
    free(fin);
    free(copy);
    free(attach_dst);
    free(attach_src);
    free(sv);
    free(alias);
    free(dst_lit);
    free(src_lit);
    return rc;
}

enum dm_code dm_migrate(const struct dm_migrate_opts *o,
                        struct dm_migrate_result *res, struct dm_error *err)
{
    struct dm_header_info info;
    struct staging st;
    struct stat sst, dst_st;
    enum dm_code rc;
    double t0 = now();

    memset(res, 0, sizeof(*res));
    memset(&st, 0, sizeof(st));
    const char *to = o->to ? o->to : getenv("DUCKDB_MIGRATE_VERSION");
    if (!to || !*to)
        to = DM_RELEASE_SEED_DEFAULT;
    rc = dm_release_normalize(to, res->dst_release, err);
    if (!rc)
        rc = dm_target_storage(res->dst_release, o->storage_version,
                               &res->dst_storage, err);
    if (rc)
        return rc;

    rc = dm_header_read_file(o->src, &info, &res->src_size, err);
    if (rc)
        return rc;
    if (!dm_header_checksums_ok(&info))
        return dm_fail(err, DM_ERR_CHECKSUM, "%s: header checksum mismatch",
                       o->src);
    res->src_storage = info.storage_version;
    if (info.encrypted)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "%s is encrypted; duckmig does not migrate encrypted "
                       "files",
                       o->src);
    if (info.storage_version < OLDEST_SUPPORTED) {
        const char *const *rel = dm_storage_releases(info.storage_version);
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "%s: storage version %llu (DuckDB %s) is older than "
                       "0.6, which duckmig does not support",
                       o->src, (unsigned long long)info.storage_version,
                       rel ? rel[0] : "unknown");
    }
    if (info.storage_version > res->dst_storage)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "%s: storage version %llu is newer than what DuckDB "
                       "%s writes (%llu); duckmig does not downgrade",
                       o->src, (unsigned long long)info.storage_version,
                       res->dst_release, (unsigned long long)res->dst_storage);
    if (!dm_engine_for_storage(info.storage_version, res->src_release))
        return dm_fail(err, DM_ERR_ENGINE,
                       "%s: no installed engine opens storage version %llu",
                       o->src, (unsigned long long)info.storage_version);
    char lib[PATH_MAX];
    rc = dm_engine_library(res->dst_release, lib, sizeof(lib), err);
    if (rc)
        return rc;
    if (info.storage_version == res->dst_storage && !o->force) {
        res->status = DM_MIG_ALREADY;
        res->seconds = now() - t0;
        return DM_OK;
    }
    if (stat(o->src, &sst) == 0 && stat(o->dst, &dst_st) == 0) {
        if (sst.st_dev == dst_st.st_dev && sst.st_ino == dst_st.st_ino)
            return dm_fail(err, DM_ERR_USAGE,
                           "source and destination are the same file");
        if (!o->force)
            return dm_fail(err, DM_ERR_USAGE,
                           "%s exists; use --force to replace it", o->dst);
    }

    rc = staging_create(&st, o->dst, err);
    if (rc)
        return rc;
    dm_info("migrate", "%s: storage %llu -> DuckDB %s (storage %llu)", o->src,
            (unsigned long long)info.storage_version, res->dst_release,
            (unsigned long long)res->dst_storage);
    if (info.storage_version < DM_STORAGE_V0_9) {
        /* a WAL beside a 0.6-0.8 file is replayed in a copy (source.h) */
        struct dm_source source;
        struct dm_migrate_opts from_copy = *o;
        rc = dm_source_prepare(o->src, res->src_release, st.dir, &source, err);
        from_copy.src = source.path;
        if (!rc)
            rc = migrate_legacy(&from_copy, res, &st, err);
        dm_source_remove(&source);
    } else {
        rc = migrate_modern(o, res, &st, err);
    }
    if (!rc && dm_report_mismatch(&res->report))
        rc = dm_fail(err, DM_ERR_VERIFY,
                     "verification of %s failed; nothing was written", o->dst);
    if (!rc) {
        struct stat nst;
        if (stat(st.path, &nst) == 0)
            res->dst_size = (uint64_t)nst.st_size;
        rc = staging_publish(&st, err);
    }
    staging_remove(&st);
    res->seconds = now() - t0;
    if (rc)
        return rc;
    res->status = dm_report_count(&res->report, DM_ITEM_NOT_CARRIED)
                      ? DM_MIG_INCOMPLETE
                      : DM_MIG_MIGRATED;
    return DM_OK;
}
