/*
 * report.h - what happened to every object of a migration or verification.
 *
 * One item per schema object (and per table's data), with a status and a
 * reason. The same report is printed for people or as JSON, and its
 * outcome decides the exit status.
 */
#ifndef DM_CATALOG_REPORT_H
#define DM_CATALOG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum dm_item_status {
    DM_ITEM_OK = 0,
    DM_ITEM_NOT_CARRIED, /* the target does not allow it; reason given */
    DM_ITEM_MISMATCH,    /* present on both sides, but different */
    DM_ITEM_MISSING,     /* in the source, not in the destination */
    DM_ITEM_EXTRA,       /* in the destination only */
    /* carried, but it computes differently in the target release (a
     * behaviour DuckDB changed that the target cannot express); reason
     * given. Like NOT_CARRIED, it makes the outcome incomplete (14). */
    DM_ITEM_CHANGED,
};

struct dm_report_item {
    char *kind; /* schema, type, sequence, table, data, constraint, ... */
    char *name; /* schema.name */
    enum dm_item_status status;
    char *detail; /* reason, or a short description of what was checked */
};

struct dm_report {
    size_t nitems, cap;
    struct dm_report_item *items;
    /* the seed's question: does the new file have its indexes? */
    size_t indexes_expected, indexes_present;
    uint64_t rows;
    size_t tables;
};

void dm_report_add(struct dm_report *r, const char *kind, const char *schema,
                   const char *name, enum dm_item_status status,
                   const char *detail_fmt, ...)
    __attribute__((format(printf, 6, 7)));

size_t dm_report_count(const struct dm_report *r, enum dm_item_status s);
/* Verification failed: anything missing, different or extra. */
bool dm_report_mismatch(const struct dm_report *r);
/* Something was not carried, or computes differently (exit 14). */
bool dm_report_incomplete(const struct dm_report *r);
/* Is there an item of this kind and schema.name with this status? */
bool dm_report_has(const struct dm_report *r, const char *kind,
                   const char *schema, const char *name,
                   enum dm_item_status status);
void dm_report_release(struct dm_report *r);

const char *dm_item_status_name(enum dm_item_status s);

/* The report as a JSON object (jansson; caller json_decref()s). */
struct json_t;
struct json_t *dm_report_json(const struct dm_report *r);

/* Human-readable: problems first, then a summary line per kind. */
void dm_report_print(const struct dm_report *r, FILE *out, bool verbose);

#endif
