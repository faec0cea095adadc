/* report.c - collecting and printing per-object outcomes. */
#include "catalog/report.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

const char *dm_item_status_name(enum dm_item_status s)
{
    switch (s) {
    case DM_ITEM_OK:
        return "ok";
    case DM_ITEM_NOT_CARRIED:
        return "not_carried";
    case DM_ITEM_MISMATCH:
        return "mismatch";
    case DM_ITEM_MISSING:
        return "missing";
    case DM_ITEM_EXTRA:
        return "extra";
    case DM_ITEM_CHANGED:
        return "changed";
    }
    return "unknown";
}

void dm_report_add(struct dm_report *r, const char *kind, const char *schema,
                   const char *name, enum dm_item_status status,
                   const char *detail_fmt, ...)
{
    if (r->nitems == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct dm_report_item *p = realloc(r->items, cap * sizeof(*p));
        if (!p)
            return;
        r->items = p;
        r->cap = cap;
    }
    struct dm_report_item *it = &r->items[r->nitems];
    char *full = NULL, *detail = NULL;
    if (schema && *schema) {
        if (asprintf(&full, "%s.%s", schema, name) < 0)
            full = NULL;
    } else {
        full = strdup(name);
    }
    va_list ap;
    va_start(ap, detail_fmt);
    if (vasprintf(&detail, detail_fmt, ap) < 0)
        detail = NULL;
    va_end(ap);
    it->kind = strdup(kind);
    it->name = full;
    it->status = status;
    it->detail = detail;
    if (!it->kind || !it->name || !it->detail) {
        free(it->kind);
        free(it->name);
        free(it->detail);
        return;
    }
    r->nitems++;
}

size_t dm_report_count(const struct dm_report *r, enum dm_item_status s)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nitems; i++)
        n += r->items[i].status == s;
    return n;
}

bool dm_report_mismatch(const struct dm_report *r)
{
    return dm_report_count(r, DM_ITEM_MISMATCH) ||
           dm_report_count(r, DM_ITEM_MISSING) ||
           dm_report_count(r, DM_ITEM_EXTRA);
}

bool dm_report_incomplete(const struct dm_report *r)
{
    return dm_report_count(r, DM_ITEM_NOT_CARRIED) ||
           dm_report_count(r, DM_ITEM_CHANGED);
}

bool dm_report_has(const struct dm_report *r, const char *kind,
                   const char *schema, const char *name,
                   enum dm_item_status status)
{
    size_t sl = strlen(schema);
    for (size_t i = 0; r && i < r->nitems; i++) {
        const struct dm_report_item *it = &r->items[i];
        if (it->status != status || strcmp(it->kind, kind) != 0)
            continue;
        const char *n = it->name;
        if (sl && (strncmp(n, schema, sl) != 0 || n[sl] != '.'))
            continue;
        if (strcmp(sl ? n + sl + 1 : n, name) == 0)
            return true;
    }
    return false;
}

void dm_report_release(struct dm_report *r)
{
    for (size_t i = 0; i < r->nitems; i++) {
        free(r->items[i].kind);
        free(r->items[i].name);
        free(r->items[i].detail);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

void dm_report_print(const struct dm_report *r, FILE *out, bool verbose)
{
    static const char *const kinds[] = {
        "schema", "type", "sequence", "table",   "constraint", "data",
        "macro",  "view", "index",    "meaning", "computed"};
    for (size_t i = 0; i < r->nitems; i++) {
        const struct dm_report_item *it = &r->items[i];
        if (it->status == DM_ITEM_OK && !verbose)
            continue;
        /* names and reasons come from the file: no escape sequence of
         * theirs reaches a terminal */
        fprintf(out, "  %-11s %-10s ", dm_item_status_name(it->status),
                it->kind);
        dm_fputs_safe(it->name, out);
        fputs(": ", out);
        dm_fputs_safe(it->detail, out);
        fputc('\n', out);
    }
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        size_t all = 0, ok = 0;
        for (size_t i = 0; i < r->nitems; i++) {
            if (strcmp(r->items[i].kind, kinds[k]) != 0)
                continue;
            all++;
            ok += r->items[i].status == DM_ITEM_OK;
        }
        if (all)
            fprintf(out, "  %-11s %zu/%zu ok\n", kinds[k], ok, all);
    }
    fprintf(out, "  indexes     %zu/%zu present in the new file%s\n",
            r->indexes_present, r->indexes_expected,
            r->indexes_present == r->indexes_expected ? "" : "  <-- MISSING");
}

json_t *dm_report_json(const struct dm_report *r)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < r->nitems; i++) {
        const struct dm_report_item *it = &r->items[i];
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:s, s:s}", "kind",
                                        it->kind, "name", it->name, "status",
                                        dm_item_status_name(it->status),
                                        "detail", it->detail));
    }
    return json_pack(
        "{s:{s:I, s:I, s:b}, s:I, s:I, s:I, s:I, s:I, s:o}", "indexes",
        "expected", (json_int_t)r->indexes_expected, "present",
        (json_int_t)r->indexes_present, "all_present",
        r->indexes_present == r->indexes_expected, "tables",
        (json_int_t)r->tables, "rows", (json_int_t)r->rows, "not_carried",
        (json_int_t)dm_report_count(r, DM_ITEM_NOT_CARRIED), "changed",
        (json_int_t)dm_report_count(r, DM_ITEM_CHANGED), "mismatches",
        (json_int_t)(dm_report_count(r, DM_ITEM_MISMATCH) +
                     dm_report_count(r, DM_ITEM_MISSING) +
                     dm_report_count(r, DM_ITEM_EXTRA)),
        "items", items ? items : json_array());
}
