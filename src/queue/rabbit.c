/* rabbit.c - RabbitMQ through rabbitmq-c 0.11 (see rabbit.h). */
#include "queue/rabbit.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "secrets/secrets.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"

#define CHANNEL 1

struct dm_rabbit {
    amqp_connection_state_t conn;
    char *consumer_tag;
    bool consuming;
};

void dm_rabbit_config_release(struct dm_rabbit_config *cfg)
{
    if (!cfg)
        return;
    if (cfg->password)
        memset(cfg->password, 0, strlen(cfg->password));
    free(cfg->host);
    free(cfg->username);
    free(cfg->password);
    free(cfg->vhost);
    free(cfg->cacert);
    memset(cfg, 0, sizeof(*cfg));
}

static char *str_or(json_t *o, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? strdup(v) : def ? strdup(def) : NULL;
}

/* "amqp[s]://user:pass@host:port/vhost" through curl's URL parser */
static enum dm_code from_url(const char *url, struct dm_rabbit_config *cfg,
                             struct dm_error *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL,
         *path = NULL;
    enum dm_code rc = DM_OK;
    if (!u ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
            CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        (strcmp(scheme, "amqp") != 0 && strcmp(scheme, "amqps") != 0)) {
        rc = dm_fail(err, DM_ERR_USAGE,
                     "RabbitMQ secret: \"url\" is not amqp[s]://...");
        goto out;
    }
    cfg->tls = strcmp(scheme, "amqps") == 0;
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
    curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
    uint64_t port_no = 0;
    if (port && !dm_parse_u64_in(port, 1, 65535, &port_no)) {
        rc = dm_fail(err, DM_ERR_USAGE,
                     "RabbitMQ secret: \"url\" has no port number (1-65535)");
        goto out;
    }
    cfg->port = (int)port_no;
    cfg->host = strdup(host);
    if (user)
        cfg->username = strdup(user);
    if (pass)
        cfg->password = strdup(pass);
    if (path && strlen(path) > 1)
        cfg->vhost = strdup(path + 1);
out:
    if (pass)
        memset(pass, 0, strlen(pass));
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(pass);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* "port": a number or a string of digits, 1-65535; absent or null: the
 * default. Anything else is a mistake to name, not a reason to talk to
 * 5672 (atoi("abc") is 0, which meant the default). */
static enum dm_code port_of(json_t *port, int *out, struct dm_error *err)
{
    *out = 0;
    if (!port || json_is_null(port))
        return DM_OK;
    long long v = -1;
    if (json_is_integer(port)) {
        v = json_integer_value(port);
    } else if (json_is_string(port)) {
        uint64_t u;
        if (dm_parse_u64_in(json_string_value(port), 1, 65535, &u))
            v = (long long)u;
    }
    if (v >= 1 && v <= 65535) {
        *out = (int)v;
        return DM_OK;
    }
    char shown[40] = "";
    if (json_is_string(port))
        snprintf(shown, sizeof(shown), " (\"%.24s\")", json_string_value(port));
    else if (json_is_integer(port))
        snprintf(shown, sizeof(shown), " (%lld)",
                 (long long)json_integer_value(port));
    return dm_fail(err, DM_ERR_USAGE,
                   "RabbitMQ secret: \"port\"%s is not a port number "
                   "(1-65535)",
                   shown);
}

enum dm_code dm_rabbit_config_from_json(json_t *secret,
                                        struct dm_rabbit_config *cfg,
                                        struct dm_error *err)
{
    memset(cfg, 0, sizeof(*cfg));
    enum dm_code rc = DM_OK;
    const char *url = json_string_value(json_object_get(secret, "url"));
    if (url) {
        rc = from_url(url, cfg, err);
        if (rc)
            return rc;
    } else {
        cfg->host = str_or(secret, "host", NULL);
        json_t *port = json_object_get(secret, "port");
        rc = port_of(port, &cfg->port, err);
        if (rc) {
            dm_rabbit_config_release(cfg);
            return rc;
        }
        cfg->tls = json_is_true(json_object_get(secret, "tls")) ||
                   json_is_true(json_object_get(secret, "ssl"));
    }
    if (!cfg->username)
        cfg->username = str_or(secret, "username", "guest");
    if (!cfg->password)
        cfg->password = str_or(secret, "password", "guest");
    if (!cfg->vhost)
        cfg->vhost = str_or(secret, "vhost", "/");
    cfg->cacert =
        str_or(secret, "cacert", "/etc/ssl/certs/ca-certificates.crt");
    if (!cfg->port)
        cfg->port = cfg->tls ? 5671 : 5672;
    if (cfg->port == 5671)
        cfg->tls = true;
    cfg->heartbeat = (int)dm_setting_u64(DM_SET_RABBIT_HEARTBEAT);
    if (!cfg->host) {
        dm_rabbit_config_release(cfg);
        return dm_fail(err, DM_ERR_USAGE,
                       "RabbitMQ secret: no \"host\" (or \"url\")");
    }
    if (!cfg->username || !cfg->password || !cfg->vhost || !cfg->cacert) {
        dm_rabbit_config_release(cfg);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    return DM_OK;
}

void dm_delivery_release(struct dm_delivery *d)
{
    if (!d)
        return;
    free(d->body);
    free(d->message_id);
    free(d->reason);
    free(d->from_queue);
    memset(d, 0, sizeof(*d));
}

/* A failed rpc as an error: library errors are the network's, server
 * exceptions carry the broker's reply text. */
static enum dm_code rpc_fail(amqp_rpc_reply_t rep, const char *what,
                             struct dm_error *err)
{
    switch (rep.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return DM_OK;
    case AMQP_RESPONSE_NONE:
        return dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: %s: no reply", what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: %s: %s", what,
                       amqp_error_string2(rep.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (rep.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = rep.reply.decoded;
            return dm_fail(
                err, m->reply_code == 403 ? DM_ERR_AUTH : DM_ERR_NETWORK,
                "RabbitMQ: %s: connection closed: %u %.*s", what, m->reply_code,
                (int)m->reply_text.len, (char *)m->reply_text.bytes);
        }
        if (rep.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = rep.reply.decoded;
            return dm_fail(err, DM_ERR_NETWORK,
                           "RabbitMQ: %s: channel closed: %u %.*s", what,
                           m->reply_code, (int)m->reply_text.len,
                           (char *)m->reply_text.bytes);
        }
        return dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: %s: server error %08x",
                       what, rep.reply.id);
    }
    return dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: %s failed", what);
}

/*
 * A login the broker refused at connection.open: 530 NOT_ALLOWED says
 * "vhost X not found" or "access to vhost X refused for user Y", both
 * configuration that no retry will fix; "vhost X is down" (a node still
 * starting) is the network's, retried.
 */
static enum dm_code login_fail(amqp_rpc_reply_t rep,
                               const struct dm_rabbit_config *cfg,
                               struct dm_error *err)
{
    if (rep.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        rep.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = rep.reply.decoded;
        char text[256];
        snprintf(text, sizeof(text), "%.*s", (int)m->reply_text.len,
                 (char *)m->reply_text.bytes);
        if (m->reply_code == 530 && strstr(text, "not found"))
            return dm_fail(err, DM_ERR_NOT_FOUND,
                           "RabbitMQ: vhost '%s' not found (%u %s)", cfg->vhost,
                           m->reply_code, text);
        if (m->reply_code == 403 ||
            (m->reply_code == 530 && strstr(text, "refused")))
            return dm_fail(err, DM_ERR_AUTH,
                           "RabbitMQ: login as '%s' on vhost '%s' refused "
                           "(%u %s)",
                           cfg->username, cfg->vhost, m->reply_code, text);
    }
    return rpc_fail(rep, "login", err);
}

enum dm_code dm_rabbit_connect(const struct dm_rabbit_config *cfg,
                               struct dm_rabbit **out, struct dm_error *err)
{
    *out = NULL;
    struct dm_rabbit *r = calloc(1, sizeof(*r));
    if (!r)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = DM_OK;
    r->conn = amqp_new_connection();
    amqp_socket_t *sock =
        cfg->tls ? amqp_ssl_socket_new(r->conn) : amqp_tcp_socket_new(r->conn);
    if (!sock) {
        rc = dm_fail(err, DM_ERR_NOMEM, "RabbitMQ: cannot make a socket");
        goto fail;
    }
    if (cfg->tls) {
        /* 0.11 has no default verify paths: the CA bundle is required */
        if (amqp_ssl_socket_set_cacert(sock, cfg->cacert) != AMQP_STATUS_OK) {
            rc = dm_fail(err, DM_ERR_USAGE, "RabbitMQ: cannot load CA '%s'",
                         cfg->cacert);
            goto fail;
        }
        amqp_ssl_socket_set_verify_peer(sock, 1);
        amqp_ssl_socket_set_verify_hostname(sock, 1);
    }
    /* a peer that never answers (a TLS port spoken to in plain AMQP, a
     * black-holed route) must fail, not hang */
    struct timeval hs = {10, 0}, rpc = {60, 0};
    amqp_set_handshake_timeout(r->conn, &hs);
    amqp_set_rpc_timeout(r->conn, &rpc);
    struct timeval tv = {10, 0};
    int st = amqp_socket_open_noblock(sock, cfg->host, cfg->port, &tv);
    if (st != AMQP_STATUS_OK) {
        /* a certificate we do not trust will not become trusted by
         * trying again, nor will a TLS handshake with a port that does
         * not speak TLS succeed: refuse at once, as configuration */
        bool tls = st == AMQP_STATUS_SSL_PEER_VERIFY_FAILED ||
                   st == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED ||
                   st == AMQP_STATUS_SSL_CONNECTION_FAILED ||
                   st == AMQP_STATUS_SSL_ERROR;
        rc = dm_fail(err, tls ? DM_ERR_AUTH : DM_ERR_NETWORK,
                     "RabbitMQ: cannot connect to %s:%d: %s%s", cfg->host,
                     cfg->port, amqp_error_string2(st),
                     st == AMQP_STATUS_SSL_CONNECTION_FAILED
                         ? " (TLS handshake failed: is this port TLS?)"
                         : "");
        goto fail;
    }
    amqp_rpc_reply_t rep =
        amqp_login(r->conn, cfg->vhost, 0, 131072, cfg->heartbeat,
                   AMQP_SASL_METHOD_PLAIN, cfg->username, cfg->password);
    if (rep.reply_type != AMQP_RESPONSE_NORMAL) {
        rc = login_fail(rep, cfg, err);
        if (rep.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            rep.library_error == AMQP_STATUS_CONNECTION_CLOSED) {
            dm_error_clear(err);
            rc = dm_fail(err, DM_ERR_AUTH,
                         "RabbitMQ: login as '%s' on vhost '%s' refused",
                         cfg->username, cfg->vhost);
        }
        goto fail;
    }
    amqp_channel_open(r->conn, CHANNEL);
    rc = rpc_fail(amqp_get_rpc_reply(r->conn), "channel.open", err);
    if (rc)
        goto fail;
    amqp_confirm_select(r->conn, CHANNEL);
    rc = rpc_fail(amqp_get_rpc_reply(r->conn), "confirm.select", err);
    if (rc)
        goto fail;
    *out = r;
    return DM_OK;
fail:
    amqp_destroy_connection(r->conn);
    free(r);
    return rc;
}

enum dm_code dm_rabbit_connect_secret(struct dm_secrets *secrets,
                                      const char *name, struct dm_rabbit **out,
                                      struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *secret = NULL;
        struct dm_rabbit_config cfg;
        dm_error_clear(err);
        rc = dm_secret_get(secrets, name, &secret, err);
        if (rc)
            return rc;
        rc = dm_rabbit_config_from_json(secret, &cfg, err);
        json_decref(secret);
        if (rc)
            return rc;
        rc = dm_rabbit_connect(&cfg, out, err);
        dm_rabbit_config_release(&cfg);
        if (rc != DM_ERR_AUTH)
            break;
        dm_secret_invalidate(secrets, name);
    }
    return rc;
}

void dm_rabbit_close(struct dm_rabbit *r)
{
    if (!r)
        return;
    amqp_channel_close(r->conn, CHANNEL, AMQP_REPLY_SUCCESS);
    amqp_connection_close(r->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(r->conn);
    free(r->consumer_tag);
    free(r);
}

enum dm_code dm_rabbit_declare(struct dm_rabbit *r, const char *queue,
                               struct dm_error *err)
{
    char *dead = dm_fmt("%s.dead", queue);
    if (!dead)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = DM_OK;
    amqp_exchange_declare(
        r->conn, CHANNEL, amqp_cstring_bytes(DM_DEAD_EXCHANGE),
        amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
    rc =
        rpc_fail(amqp_get_rpc_reply(r->conn), "declare " DM_DEAD_EXCHANGE, err);
    if (rc)
        goto out;
    amqp_queue_declare(r->conn, CHANNEL, amqp_cstring_bytes(dead), 0, 1, 0, 0,
                       amqp_empty_table);
    rc =
        rpc_fail(amqp_get_rpc_reply(r->conn), "declare dead-letter queue", err);
    if (rc)
        goto out;
    amqp_queue_bind(r->conn, CHANNEL, amqp_cstring_bytes(dead),
                    amqp_cstring_bytes(DM_DEAD_EXCHANGE),
                    amqp_cstring_bytes(queue), amqp_empty_table);
    rc = rpc_fail(amqp_get_rpc_reply(r->conn), "bind dead-letter queue", err);
    if (rc)
        goto out;
    amqp_table_entry_t args[2];
    args[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    args[0].value.kind = AMQP_FIELD_KIND_UTF8;
    args[0].value.value.bytes = amqp_cstring_bytes(DM_DEAD_EXCHANGE);
    args[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    args[1].value.kind = AMQP_FIELD_KIND_UTF8;
    args[1].value.value.bytes = amqp_cstring_bytes(queue);
    amqp_table_t table = {2, args};
    amqp_queue_declare(r->conn, CHANNEL, amqp_cstring_bytes(queue), 0, 1, 0, 0,
                       table);
    rc = rpc_fail(amqp_get_rpc_reply(r->conn), "declare queue", err);
out:
    free(dead);
    return rc;
}

/* After the broker closed our channel (a passive declare of a queue that
 * is not there): answer close-ok and open it again, with confirms. */
static enum dm_code reopen_channel(struct dm_rabbit *r, struct dm_error *err)
{
    amqp_channel_close_ok_t ok;
    memset(&ok, 0, sizeof(ok));
    if (amqp_send_method(r->conn, CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) !=
        AMQP_STATUS_OK)
        return dm_fail(err, DM_ERR_NETWORK,
                       "RabbitMQ: cannot answer channel.close");
    amqp_channel_open(r->conn, CHANNEL);
    enum dm_code rc =
        rpc_fail(amqp_get_rpc_reply(r->conn), "channel.open", err);
    if (!rc) {
        amqp_confirm_select(r->conn, CHANNEL);
        rc = rpc_fail(amqp_get_rpc_reply(r->conn), "confirm.select", err);
    }
    return rc;
}

enum dm_code dm_rabbit_queue_check(struct dm_rabbit *r, const char *queue,
                                   bool *exists, uint32_t *messages,
                                   uint32_t *consumers, struct dm_error *err)
{
    *exists = false;
    *messages = *consumers = 0;
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(r->conn, CHANNEL, amqp_cstring_bytes(queue), 1, 0, 0,
                           0, amqp_empty_table);
    amqp_rpc_reply_t rep = amqp_get_rpc_reply(r->conn);
    if (ok && rep.reply_type == AMQP_RESPONSE_NORMAL) {
        *exists = true;
        *messages = ok->message_count;
        *consumers = ok->consumer_count;
        return DM_OK;
    }
    if (rep.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        rep.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
        ((amqp_channel_close_t *)rep.reply.decoded)->reply_code == 404)
        return reopen_channel(r, err);
    return rpc_fail(rep, "passive declare", err);
}

/* Wait for the broker's confirm of the last publish. */
static enum dm_code wait_confirm(struct dm_rabbit *r, struct dm_error *err)
{
    for (;;) {
        amqp_frame_t frame;
        struct timeval tv = {30, 0};
        int st = amqp_simple_wait_frame_noblock(r->conn, &frame, &tv);
        if (st == AMQP_STATUS_TIMEOUT)
            return dm_fail(err, DM_ERR_NETWORK,
                           "RabbitMQ: no publisher confirm within 30 s");
        if (st != AMQP_STATUS_OK)
            return dm_fail(err, DM_ERR_NETWORK,
                           "RabbitMQ: waiting for a "
                           "confirm: %s",
                           amqp_error_string2(st));
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD:
            return DM_OK;
        case AMQP_BASIC_NACK_METHOD:
            return dm_fail(err, DM_ERR_NETWORK,
                           "RabbitMQ: the broker refused the message (nack)");
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_message_t m;
            amqp_read_message(r->conn, frame.channel, &m, 0);
            amqp_destroy_message(&m);
            return dm_fail(err, DM_ERR_NETWORK,
                           "RabbitMQ: the message could not be routed (no "
                           "such queue)");
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD:
            return dm_fail(err, DM_ERR_NETWORK,
                           "RabbitMQ: the broker closed the channel");
        default:
            break;
        }
    }
}

enum dm_code dm_rabbit_publish(struct dm_rabbit *r, const char *queue,
                               const char *body, size_t len,
                               const char *message_id, const char *reason,
                               const char *from_queue, int attempts,
                               struct dm_error *err)
{
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof(props));
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG;
    props.delivery_mode = 2; /* persistent */
    props.content_type = amqp_cstring_bytes("application/json");
    if (message_id) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        props.message_id = amqp_cstring_bytes(message_id);
    }
    amqp_table_entry_t h[3];
    int n = 0;
    if (reason) {
        h[n].key = amqp_cstring_bytes("x-duckmig-reason");
        h[n].value.kind = AMQP_FIELD_KIND_UTF8;
        h[n++].value.value.bytes = amqp_cstring_bytes(reason);
    }
    if (from_queue) {
        h[n].key = amqp_cstring_bytes("x-duckmig-queue");
        h[n].value.kind = AMQP_FIELD_KIND_UTF8;
        h[n++].value.value.bytes = amqp_cstring_bytes(from_queue);
    }
    h[n].key = amqp_cstring_bytes("x-duckmig-attempts");
    h[n].value.kind = AMQP_FIELD_KIND_I32;
    h[n++].value.value.i32 = attempts;
    props.headers = (amqp_table_t){n, h};
    amqp_bytes_t payload = {len, (void *)body};
    int st =
        amqp_basic_publish(r->conn, CHANNEL, amqp_cstring_bytes(""),
                           amqp_cstring_bytes(queue), 1, 0, &props, payload);
    if (st != AMQP_STATUS_OK)
        return dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: publish to %s: %s",
                       queue, amqp_error_string2(st));
    return wait_confirm(r, err);
}

enum dm_code dm_rabbit_consume(struct dm_rabbit *r, const char *queue,
                               struct dm_error *err)
{
    amqp_basic_qos(r->conn, CHANNEL, 0, 1, 0);
    enum dm_code rc = rpc_fail(amqp_get_rpc_reply(r->conn), "basic.qos", err);
    if (rc)
        return rc;
    amqp_basic_consume_ok_t *ok =
        amqp_basic_consume(r->conn, CHANNEL, amqp_cstring_bytes(queue),
                           amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    rc = rpc_fail(amqp_get_rpc_reply(r->conn), "basic.consume", err);
    if (rc)
        return rc;
    free(r->consumer_tag);
    r->consumer_tag = strndup(ok->consumer_tag.bytes, ok->consumer_tag.len);
    r->consuming = true;
    return DM_OK;
}

static char *header_str(amqp_table_t *t, const char *key)
{
    for (int i = 0; i < t->num_entries; i++) {
        amqp_table_entry_t *e = &t->entries[i];
        if (e->key.len == strlen(key) &&
            memcmp(e->key.bytes, key, e->key.len) == 0 &&
            (e->value.kind == AMQP_FIELD_KIND_UTF8 ||
             e->value.kind == AMQP_FIELD_KIND_BYTES))
            return strndup(e->value.value.bytes.bytes,
                           e->value.value.bytes.len);
    }
    return NULL;
}

static int header_int(amqp_table_t *t, const char *key)
{
    for (int i = 0; i < t->num_entries; i++) {
        amqp_table_entry_t *e = &t->entries[i];
        if (e->key.len == strlen(key) &&
            memcmp(e->key.bytes, key, e->key.len) == 0) {
            switch (e->value.kind) {
            case AMQP_FIELD_KIND_I32:
                return e->value.value.i32;
            case AMQP_FIELD_KIND_I64:
                return (int)e->value.value.i64;
            case AMQP_FIELD_KIND_I16:
                return e->value.value.i16;
            case AMQP_FIELD_KIND_I8:
                return e->value.value.i8;
            case AMQP_FIELD_KIND_U8:
                return e->value.value.u8;
            default:
                return 0;
            }
        }
    }
    return 0;
}

static enum dm_code copy_message(amqp_message_t *m, uint64_t tag,
                                 bool redelivered, struct dm_delivery *d,
                                 struct dm_error *err)
{
    d->tag = tag;
    d->redelivered = redelivered;
    d->len = m->body.len;
    d->body = malloc(m->body.len + 1);
    if (!d->body)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    memcpy(d->body, m->body.bytes, m->body.len);
    d->body[m->body.len] = '\0';
    amqp_basic_properties_t *p = &m->properties;
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        d->message_id = strndup(p->message_id.bytes, p->message_id.len);
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
        d->reason = header_str(&p->headers, "x-duckmig-reason");
        d->from_queue = header_str(&p->headers, "x-duckmig-queue");
        d->attempts = header_int(&p->headers, "x-duckmig-attempts");
    }
    return DM_OK;
}

enum dm_code dm_rabbit_next(struct dm_rabbit *r, int timeout_ms,
                            struct dm_delivery *d, struct dm_error *err)
{
    memset(d, 0, sizeof(*d));
    amqp_envelope_t env;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    amqp_maybe_release_buffers(r->conn);
    amqp_rpc_reply_t rep = amqp_consume_message(r->conn, &env, &tv, 0);
    if (rep.reply_type == AMQP_RESPONSE_NORMAL) {
        enum dm_code rc = copy_message(&env.message, env.delivery_tag,
                                       env.redelivered, d, err);
        amqp_destroy_envelope(&env);
        return rc;
    }
    if (rep.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        rep.library_error == AMQP_STATUS_TIMEOUT)
        return DM_OK;
    if (rep.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        rep.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t frame;
        struct timeval zero = {0, 0};
        int st = amqp_simple_wait_frame_noblock(r->conn, &frame, &zero);
        if (st == AMQP_STATUS_TIMEOUT)
            return DM_OK;
        if (st != AMQP_STATUS_OK)
            return dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: %s",
                           amqp_error_string2(st));
        if (frame.frame_type == AMQP_FRAME_METHOD) {
            switch (frame.payload.method.id) {
            case AMQP_CHANNEL_CLOSE_METHOD: {
                amqp_channel_close_t *m = frame.payload.method.decoded;
                /* e.g. consumer_timeout: 406 PRECONDITION_FAILED */
                return dm_fail(err, DM_ERR_NETWORK,
                               "RabbitMQ closed the channel: %u %.*s",
                               m->reply_code, (int)m->reply_text.len,
                               (char *)m->reply_text.bytes);
            }
            case AMQP_CONNECTION_CLOSE_METHOD:
                return dm_fail(err, DM_ERR_NETWORK,
                               "RabbitMQ closed the connection");
            case AMQP_BASIC_CANCEL_METHOD:
                return dm_fail(err, DM_ERR_NETWORK,
                               "RabbitMQ cancelled the consumer (queue "
                               "deleted?)");
            default:
                return DM_OK;
            }
        }
        return DM_OK;
    }
    return rpc_fail(rep, "consume", err);
}

enum dm_code dm_rabbit_next_or_wake(struct dm_rabbit *r, int timeout_ms,
                                    int wake_fd, struct dm_delivery *d,
                                    struct dm_error *err)
{
    /* frames rabbitmq-c has read already are not seen by poll: take
     * them at once */
    if (!amqp_data_in_buffer(r->conn) && !amqp_frames_enqueued(r->conn)) {
        struct pollfd fds[2] = {{amqp_get_sockfd(r->conn), POLLIN, 0},
                                {wake_fd, POLLIN, 0}};
        /* whatever ended the wait (a frame, the wake, the timeout, a
         * signal), the library is called below: heartbeats are sent
         * there, and a closed socket is noticed there */
        (void)poll(fds, 2, timeout_ms);
    }
    return dm_rabbit_next(r, 0, d, err);
}

enum dm_code dm_rabbit_get(struct dm_rabbit *r, const char *queue,
                           struct dm_delivery *d, struct dm_error *err)
{
    memset(d, 0, sizeof(*d));
    amqp_maybe_release_buffers(r->conn);
    amqp_rpc_reply_t rep =
        amqp_basic_get(r->conn, CHANNEL, amqp_cstring_bytes(queue), 0);
    enum dm_code rc = rpc_fail(rep, "basic.get", err);
    if (rc)
        return rc;
    if (rep.reply.id != AMQP_BASIC_GET_OK_METHOD)
        return DM_OK; /* empty */
    amqp_basic_get_ok_t *ok = rep.reply.decoded;
    uint64_t tag = ok->delivery_tag;
    bool redelivered = ok->redelivered;
    amqp_message_t m;
    rep = amqp_read_message(r->conn, CHANNEL, &m, 0);
    rc = rpc_fail(rep, "read message", err);
    if (rc)
        return rc;
    rc = copy_message(&m, tag, redelivered, d, err);
    amqp_destroy_message(&m);
    return rc;
}

enum dm_code dm_rabbit_ack(struct dm_rabbit *r, uint64_t tag,
                           struct dm_error *err)
{
    int st = amqp_basic_ack(r->conn, CHANNEL, tag, 0);
    return st == AMQP_STATUS_OK
               ? DM_OK
               : dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: ack: %s",
                         amqp_error_string2(st));
}

enum dm_code dm_rabbit_requeue(struct dm_rabbit *r, uint64_t tag,
                               struct dm_error *err)
{
    int st = amqp_basic_nack(r->conn, CHANNEL, tag, 0, 1);
    return st == AMQP_STATUS_OK
               ? DM_OK
               : dm_fail(err, DM_ERR_NETWORK, "RabbitMQ: nack: %s",
                         amqp_error_string2(st));
}

enum dm_code dm_rabbit_cancel(struct dm_rabbit *r, struct dm_error *err)
{
    if (!r->consuming)
        return DM_OK;
    r->consuming = false;
    amqp_basic_cancel(r->conn, CHANNEL, amqp_cstring_bytes(r->consumer_tag));
    return rpc_fail(amqp_get_rpc_reply(r->conn), "basic.cancel", err);
}
