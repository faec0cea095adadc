/*
 * ledger.h - what happened to every file, durably, in PostgreSQL.
 *
 * One row per (source, destination) in duckmig_ledger (the table is made
 * once by `duckmig ledger init`), written by the publisher ("queued") and
 * updated by the consumer that takes the message
 * ("running", then "migrated", "already_at_target", "already_done",
 * "incomplete", "skipped", "failed" or "requeued"). Consumers write their
 * own results: they need DB_SECRET (a role with SELECT, INSERT and UPDATE
 * on this table is enough; docs/fleet.md). Statements are parameterized; a
 * refused password invalidates the cached secret and reconnects once.
 */
#ifndef DM_LEDGER_H
#define DM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "secrets/secrets.h"
#include "util/error.h"
#include "util/status.h"

struct dm_ledger;

/* Connect with the RDS-shaped secret named secret_name (host, port,
 * username, password, dbname; sslmode optional). Nothing is created: the
 * table is made once by dm_ledger_init. */
enum dm_code dm_ledger_open(struct dm_secrets *secrets, const char *secret_name,
                            struct dm_ledger **out, struct dm_error *err);
void dm_ledger_close(struct dm_ledger *l);

/* The libpq connection, for doctor's account of the login (who, where). */
struct pg_conn *dm_ledger_conn(struct dm_ledger *l);

/* What GOAL_QUERY returned, one row per tracker: its first two columns
 * as text, NULL for an SQL NULL. The publisher checks each value before
 * it becomes part of a key. */
struct dm_goal_row {
    char *tracker, *site;
};
struct dm_goal {
    struct dm_goal_row *rows;
    size_t n;
};

/* Run the publisher's goal query (on the ledger's database) into *out;
 * DM_ERR_SQL when it fails or returns fewer than two columns. */
enum dm_code dm_ledger_goal(struct dm_ledger *l, const char *query,
                            struct dm_goal *out, struct dm_error *err);
void dm_goal_release(struct dm_goal *g);

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
    enum dm_status status;
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

/* `duckmig ledger init`: create the table when it is not there, and
 * with grant_role (may be NULL) grant that role what the runtime needs:
 * SELECT, INSERT, UPDATE. */
enum dm_code dm_ledger_init(struct dm_ledger *l, const char *grant_role,
                            struct dm_error *err);

/* Connect with the secret, dm_ledger_init, close: `duckmig ledger init`. */
enum dm_code dm_ledger_setup(const char *secret_name, const char *grant_role,
                             struct dm_error *err);

/* Checks for `duckmig doctor`: the table is there, the role holds SELECT,
 * INSERT and UPDATE on it (has_table_privilege), it has the ledger's
 * columns. On failure, fix gets the remedy (one line). */
enum dm_code dm_ledger_check_table(struct dm_ledger *l, char *fix, size_t fixn,
                                   struct dm_error *err);
/* GOAL_QUERY runs (no rows, read only) and returns two columns or more. */
enum dm_code dm_ledger_check_goal(struct dm_ledger *l, const char *query,
                                  char *fix, size_t fixn, struct dm_error *err);

/* `duckmig status`: counts by status, throughput over the last hour, an
 * ETA for what is queued or running, and the failures. */
enum dm_code dm_ledger_report(struct dm_ledger *l, FILE *out, bool json,
                              struct dm_error *err);

#endif
