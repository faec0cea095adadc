/*
 * ledger.h - what happened to every file, durably, in PostgreSQL.
 *
 * One row per (source, destination) in duckmig_ledger, created by the
 * publisher ("queued") and updated by the consumer that takes the message
 * ("running", then "migrated", "already_at_target", "already_done",
 * "incomplete", "skipped", "failed" or "requeued"). Consumers write their
 * own results: they need DB_SECRET (a role that may only update this
 * table is enough; docs/fleet.md). Statements are parameterized; a
 * refused password invalidates the cached secret and reconnects once.
 */
#ifndef DM_LEDGER_H
#define DM_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "secrets/secrets.h"
#include "util/error.h"

struct dm_ledger;

/* Connect with the RDS-shaped secret named secret_name (host, port,
 * username, password, dbname; sslmode optional) and create the table. */
enum dm_code dm_ledger_open(struct dm_secrets *secrets, const char *secret_name,
                            struct dm_ledger **out, struct dm_error *err);
void dm_ledger_close(struct dm_ledger *l);

/* The libpq connection, for the publisher's goal query. */
struct pg_conn *dm_ledger_conn(struct dm_ledger *l);

enum dm_code dm_ledger_queued(struct dm_ledger *l, const char *source,
                              const char *destination, const char *tracker,
                              const char *queue, uint64_t size,
                              struct dm_error *err);

enum dm_code dm_ledger_started(struct dm_ledger *l, const char *source,
                               const char *destination, const char *queue,
                               int attempt, struct dm_error *err);

/* Attempts recorded so far for (source, destination); 0 when unknown. */
enum dm_code dm_ledger_attempts(struct dm_ledger *l, const char *source,
                                const char *destination, int *attempts,
                                struct dm_error *err);

struct dm_ledger_result {
    const char *source, *destination, *tracker, *queue;
    const char *status;
    const char *src_version, *dst_version; /* may be NULL */
    uint64_t src_size, dst_size;
    int attempts;
    const char *error;        /* NULL when none */
    const char *verification; /* JSON text, NULL when none */
    double seconds;
};

enum dm_code dm_ledger_finished(struct dm_ledger *l,
                                const struct dm_ledger_result *r,
                                struct dm_error *err);

/* `duckmig status`: counts by status, throughput over the last hour, an
 * ETA for what is queued or running, and the failures. */
enum dm_code dm_ledger_report(struct dm_ledger *l, FILE *out, bool json,
                              struct dm_error *err);

#endif
