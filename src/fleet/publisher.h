/*
 * publisher.h - the seed's publisher (`duckmig publish`): the trackers of
 * the goal table become one message per file, each confirmed by the
 * broker and recorded in the ledger before the next. Here so that the
 * command is only its options, and the publisher can be driven alone.
 */
#ifndef DM_FLEET_PUBLISHER_H
#define DM_FLEET_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet/message.h"
#include "util/error.h"

/* What the command line (and the variables behind its defaults) chose;
 * the rest (buckets, queues, secrets, GOAL_QUERY) is read from the
 * environment by the publisher. */
struct dm_publisher_opts {
    enum dm_datastore from, to;
    uint64_t big;    /* files of this size or more go to the big queue */
    bool dry_run;    /* print the messages; write nothing anywhere */
    const char *raw; /* --raw QUEUE: stdin's lines, as they are; or NULL */
};

/*
 * Check every dependency, then publish (fleet/publisher.c says how).
 * DM_OK when every file was published (or printed, in a dry run); a
 * failure is in err; DM_ERR_GENERIC with err->code still DM_OK when all
 * else was published but goal rows or files were skipped, each said.
 */
enum dm_code dm_publisher_run(const struct dm_publisher_opts *o,
                              struct dm_error *err);

#endif
