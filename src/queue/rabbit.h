/*
 * rabbit.h - RabbitMQ through rabbitmq-c 0.11: the topology, publishing
 * with confirms, and a prefetch-1 consumer.
 *
 * Topology, declared by both sides (idempotent): for each work queue Q a
 * durable queue Q with x-dead-letter-exchange "duckmig.dead" and routing
 * key Q, and a durable queue "Q.dead" bound to that exchange with Q. A
 * consumer dead-letters by publishing the message to Q.dead itself, with
 * the reason in headers (x-duckmig-reason, x-duckmig-queue,
 * x-duckmig-attempts), then acking: RabbitMQ's own dead-lettering keeps
 * no reason. Messages are persistent and every publish waits for the
 * broker's confirm.
 *
 * rabbitmq-c is not thread-safe: one dm_rabbit belongs to one thread,
 * which must keep calling dm_rabbit_next so heartbeats flow.
 */
#ifndef DM_QUEUE_RABBIT_H
#define DM_QUEUE_RABBIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define DM_DEAD_EXCHANGE "duckmig.dead"

struct dm_rabbit_config {
    char *host;
    int port;
    char *username;
    char *password;
    char *vhost;
    bool tls;
    char *cacert;  /* TLS: CA bundle (default Debian's) */
    int heartbeat; /* seconds */
};

/*
 * From RABBIT_SECRET's JSON: host, port, username, password, vhost, tls
 * (true, or "ssl": true, or port 5671), cacert; or "url":
 * "amqp[s]://user:pass@host:port/vhost". Defaults: port 5672 (5671 with
 * TLS), vhost "/", heartbeat 30 s (RABBIT_HEARTBEAT). A port that is not
 * 1-65535 is refused (DM_ERR_USAGE).
 */
enum dm_code dm_rabbit_config_from_json(json_t *secret,
                                        struct dm_rabbit_config *cfg,
                                        struct dm_error *err);
void dm_rabbit_config_release(struct dm_rabbit_config *cfg);

struct dm_rabbit;

struct dm_delivery {
    uint64_t tag;
    char *body;
    size_t len;
    char *message_id;
    char *reason;     /* x-duckmig-reason, dead-lettered messages */
    char *from_queue; /* x-duckmig-queue */
    int attempts;     /* x-duckmig-attempts (0 when absent) */
    bool redelivered;
};

void dm_delivery_release(struct dm_delivery *d);

enum dm_code dm_rabbit_connect(const struct dm_rabbit_config *cfg,
                               struct dm_rabbit **out, struct dm_error *err);
void dm_rabbit_close(struct dm_rabbit *r);

struct dm_secrets;
/* Connect with the secret named name (RABBIT_SECRET); a refused login
 * invalidates the cached secret and tries once more (rotation). */
enum dm_code dm_rabbit_connect_secret(struct dm_secrets *secrets,
                                      const char *name, struct dm_rabbit **out,
                                      struct dm_error *err);

/* Q and Q.dead, as above. */
enum dm_code dm_rabbit_declare(struct dm_rabbit *r, const char *queue,
                               struct dm_error *err);

/* Is queue there (a passive declare, which creates nothing)? With its
 * ready messages and consumers. DM_OK with *exists false when it is not. */
enum dm_code dm_rabbit_queue_check(struct dm_rabbit *r, const char *queue,
                                   bool *exists, uint32_t *messages,
                                   uint32_t *consumers, struct dm_error *err);

/* Publish persistently to queue and wait for the broker's confirm. */
enum dm_code dm_rabbit_publish(struct dm_rabbit *r, const char *queue,
                               const char *body, size_t len,
                               const char *message_id, const char *reason,
                               const char *from_queue, int attempts,
                               struct dm_error *err);

/* Start consuming queue with prefetch 1 and manual acks. */
enum dm_code dm_rabbit_consume(struct dm_rabbit *r, const char *queue,
                               struct dm_error *err);

/* Wait up to timeout_ms for a delivery, serving heartbeats meanwhile.
 * DM_OK with d->body NULL: nothing came. */
enum dm_code dm_rabbit_next(struct dm_rabbit *r, int timeout_ms,
                            struct dm_delivery *d, struct dm_error *err);

/* The same, but the wait also ends as soon as wake_fd is readable (the
 * consumer's job ended): then DM_OK with d->body NULL, like a timeout.
 * wake_fd is not read; -1 waits for the broker alone. */
enum dm_code dm_rabbit_next_or_wake(struct dm_rabbit *r, int timeout_ms,
                                    int wake_fd, struct dm_delivery *d,
                                    struct dm_error *err);

/* One message from queue without consuming (basic.get, manual ack);
 * d->body NULL when the queue is empty. */
enum dm_code dm_rabbit_get(struct dm_rabbit *r, const char *queue,
                           struct dm_delivery *d, struct dm_error *err);

enum dm_code dm_rabbit_ack(struct dm_rabbit *r, uint64_t tag,
                           struct dm_error *err);
enum dm_code dm_rabbit_requeue(struct dm_rabbit *r, uint64_t tag,
                               struct dm_error *err);

/* Stop consuming (SIGTERM): no new deliveries. */
enum dm_code dm_rabbit_cancel(struct dm_rabbit *r, struct dm_error *err);

#endif
