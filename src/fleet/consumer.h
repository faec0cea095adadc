/*
 * consumer.h - the seed's consumer (`duckmig consume`): messages of one
 * queue, one at a time, each job in a child process, each outcome in the
 * ledger before the message is settled (acked, retried with backoff, or
 * dead-lettered). Here so that the command is only its options; the
 * policy is fleet/consumer.c's header comment.
 */
#ifndef DM_FLEET_CONSUMER_H
#define DM_FLEET_CONSUMER_H

#include "util/error.h"

/* What the command line (and the variables behind its defaults) chose;
 * the rest (QUEUE_NAME, secrets, attempts, timeouts) is read from the
 * environment by the consumer. */
struct dm_consumer_opts {
    long max_messages;           /* stop after this many; -1: never */
    int metrics_port;            /* Prometheus endpoint; 0: none */
    const char *metrics_address; /* where it listens */
};

/*
 * Check the settings, then consume until SIGTERM (or SIGINT), max_messages,
 * a broker that stays unreachable, or a ledger that refuses an outcome.
 * DM_OK after a stop; else the failure, in err.
 */
enum dm_code dm_consumer_run(const struct dm_consumer_opts *o,
                             struct dm_error *err);

#endif
