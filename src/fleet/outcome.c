/* outcome.c - the JSON contract of --json and --report (see outcome.h). */
#include "fleet/outcome.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "release/release.h"
#include "store/store.h"
#include "util/text.h"

json_t *dm_json_document(const char *command)
{
    return json_pack("{s:i, s:s}", "schema_version", DM_JSON_SCHEMA_VERSION,
                     "command", command);
}

void dm_storage_release_name(uint64_t storage, char *out, size_t cap)
{
    /* the header tells the storage version, which several releases
     * share: name the range */
    const char *const *r = dm_storage_releases(storage);
    size_t n = 0;
    while (r && r[n])
        n++;
    if (n == 1)
        snprintf(out, cap, "%s", r[0]);
    else if (n > 1)
        snprintf(out, cap, "%s-%s", r[0], r[n - 1]);
    else
        snprintf(out, cap, "storage %llu", (unsigned long long)storage);
}

static void set_version(json_t *o, const char *storage_key,
                        const char *release_key, uint64_t storage)
{
    char name[64];
    if (!storage) {
        json_object_set_new(o, storage_key, json_null());
        json_object_set_new(o, release_key, json_null());
        return;
    }
    dm_storage_release_name(storage, name, sizeof(name));
    json_object_set_new(o, storage_key, json_integer((json_int_t)storage));
    json_object_set_new(o, release_key, json_string(name));
}

static void set_name(json_t *o, const char *key, const char *name)
{
    /* a name that is not UTF-8 is kept with U+FFFD and marked, never
     * dropped with the whole object */
    if (name)
        dm_json_set_name(o, key, name);
    else
        json_object_set_new(o, key, json_null());
}

json_t *dm_file_outcome_json(const struct dm_file_outcome *o)
{
    json_t *j = dm_json_document(o->command);
    if (!j)
        return NULL;
    set_name(j, "source", o->source);
    set_name(j, "destination", o->destination);
    json_object_set_new(j, "status", json_string(dm_status_name(o->status)));
    json_object_set_new(j, "code", json_string(dm_code_name(o->code)));
    json_object_set_new(j, "exit_status", json_integer((json_int_t)o->code));
    /* an error cut at DM_ERROR_MSG_MAX may end inside a UTF-8 sequence,
     * and json_string would refuse it whole */
    json_object_set_new(j, "error",
                        o->error && o->error[0] ? dm_json_text(o->error, NULL)
                                                : json_null());
    set_version(j, "source_storage", "source_release", o->source_storage);
    set_version(j, "destination_storage", "destination_release",
                o->destination_storage);
    json_object_set_new(j, "source_size",
                        json_integer((json_int_t)o->source_size));
    json_object_set_new(j, "destination_size",
                        json_integer((json_int_t)o->destination_size));
    json_object_set_new(j, "seconds", json_real(o->seconds));
    json_object_set(j, "report", o->report ? o->report : json_null());
    return j;
}

enum dm_code dm_json_print(json_t *doc, struct dm_error *err)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!s)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    printf("%s\n", s);
    free(s);
    return DM_OK;
}

enum dm_code dm_json_write_report(const char *path, json_t *doc,
                                  struct dm_error *err)
{
    struct dm_atomic_file f = {-1, -1, NULL, NULL};
    char *s =
        doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    enum dm_code rc = DM_OK;
    if (!s)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    rc = dm_atomic_open(path, &f, err);
    if (rc)
        goto out;
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t w = write(f.fd, s + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc =
                dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", path);
            dm_atomic_abort(&f);
            goto out;
        }
        off += (size_t)w;
    }
    if (write(f.fd, "\n", 1) != 1) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", path);
        dm_atomic_abort(&f);
        goto out;
    }
    rc = dm_atomic_commit(&f, err);
out:
    free(s);
    return rc;
}
