/*
 * progress.c - what a long migration is doing, said while it does it: on
 * a terminal one line redrawn in place (tables and rows copied so far,
 * and the step), otherwise an info log line at most every
 * DUCKMIG_PROGRESS_SECONDS (default 30; 0: at every step), which a
 * service's log collector keeps. Rows are counted a table at a time:
 * they stream from the reader's process to the writer's without passing
 * through this one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "migrate/migrate_int.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/settings.h"

void progress_start(struct progress *p, const char *name, size_t tables)
{
    p->name = name;
    p->tables_total = tables;
    p->tables = 0;
    p->rows = 0;
    p->rows_known = false;
    p->every = (double)dm_setting_u64(DM_SET_PROGRESS_SECONDS);
    p->tty = isatty(2);
    p->drawn = false;
    p->last = dm_clock_now();
}

void progress_note(struct progress *p, const char *step)
{
    char rows[48] = "";
    double t = dm_clock_now();
    if (p->rows_known)
        snprintf(rows, sizeof(rows), ", %llu rows",
                 (unsigned long long)p->rows);
    if (p->tty) {
        fprintf(stderr, "\r\033[Kmigrate: %zu/%zu tables%s copied; %s",
                p->tables, p->tables_total, rows, step);
        fflush(stderr);
        p->drawn = true;
        return;
    }
    if (t - p->last < p->every)
        return;
    p->last = t;
    dm_info("migrate", "%s: %zu/%zu tables%s copied; %s", p->name, p->tables,
            p->tables_total, rows, step);
}

void progress_end(struct progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
}
