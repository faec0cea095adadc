/* metrics.c - counters, EMF lines and the Prometheus endpoint (metrics.h). */
#include "metrics/metrics.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"

enum kind { K_FILES, K_BYTES, K_SECONDS, K_FAILURES, K_PROTECTION, K_CONNECT };

struct series {
    enum kind kind;
    char *queue; /* "" for the process-wide ones */
    char *label; /* status (files), reason (failures), else "" */
    double value;
    double reported; /* value at the last EMF summary */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series *all;
static size_t n_all, cap_all;
static int running;
static bool emf;
static FILE *emf_out;
static char emf_namespace[128] = "duckmig";
static long interval = 60;

void dm_metrics_init(FILE *out)
{
    /* the settings table allows none or emf */
    const char *mode = dm_setting(DM_SET_METRICS);
    const char *ns = dm_setting(DM_SET_METRICS_NAMESPACE);
    long every = (long)dm_setting_u64(DM_SET_METRICS_INTERVAL);
    pthread_mutex_lock(&lock);
    emf = strcmp(mode, "emf") == 0;
    emf_out = out;
    snprintf(emf_namespace, sizeof(emf_namespace), "%s", ns);
    interval = every;
    pthread_mutex_unlock(&lock);
}

bool dm_metrics_emf_enabled(void)
{
    pthread_mutex_lock(&lock);
    bool on = emf;
    pthread_mutex_unlock(&lock);
    return on;
}

long dm_metrics_interval(void)
{
    pthread_mutex_lock(&lock);
    long s = interval;
    pthread_mutex_unlock(&lock);
    return s;
}

/* The series (kind, queue, label), made when new; NULL when out of
 * memory (a counter is then lost, never the job). Under lock. */
static struct series *find(enum kind kind, const char *queue, const char *label)
{
    queue = queue ? queue : "";
    label = label ? label : "";
    for (size_t i = 0; i < n_all; i++)
        if (all[i].kind == kind && strcmp(all[i].queue, queue) == 0 &&
            strcmp(all[i].label, label) == 0)
            return &all[i];
    if (n_all == cap_all) {
        size_t cap = cap_all ? 2 * cap_all : 16;
        struct series *s = realloc(all, cap * sizeof(*s));
        if (!s)
            return NULL;
        all = s;
        cap_all = cap;
    }
    struct series *s = &all[n_all];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->queue = strdup(queue);
    s->label = strdup(label);
    if (!s->queue || !s->label) {
        free(s->queue);
        free(s->label);
        return NULL;
    }
    n_all++;
    return s;
}

static void add(enum kind kind, const char *queue, const char *label, double v)
{
    struct series *s = find(kind, queue, label);
    if (s)
        s->value += v;
}

void dm_metrics_queue(const char *queue)
{
    pthread_mutex_lock(&lock);
    add(K_BYTES, queue, NULL, 0);
    add(K_SECONDS, queue, NULL, 0);
    pthread_mutex_unlock(&lock);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* {"Name": name, "Unit": unit} for each pair */
static json_t *metric_defs(void)
{
    return json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "Name",
                     "Files", "Unit", "Count", "Name", "Bytes", "Unit", "Bytes",
                     "Name", "Seconds", "Unit", "Seconds", "Name", "Failures",
                     "Unit", "Count");
}

/* Write one EMF object: _aws with dimensions dims, then the members.
 * Under lock, so that lines from several threads never interleave. */
static void emf_write(json_t *dims, json_t *members)
{
    json_t *directive = json_pack("{s:s,s:o,s:o}", "Namespace", emf_namespace,
                                  "Dimensions", dims, "Metrics", metric_defs());
    json_t *aws = json_pack("{s:I,s:[o]}", "Timestamp", (json_int_t)now_ms(),
                            "CloudWatchMetrics", directive);
    char *line = NULL;
    if (aws && json_object_set_new(members, "_aws", aws) == 0)
        line = json_dumps(members, JSON_COMPACT | JSON_SORT_KEYS);
    else
        json_decref(aws);
    if (line && emf_out) {
        fprintf(emf_out, "%s\n", line);
        /* a pipe to the log driver is block-buffered: a line must leave
         * now, not when the task stops */
        fflush(emf_out);
    }
    free(line);
    json_decref(members);
}

void dm_metrics_job(const char *queue, enum dm_status st, const char *reason,
                    uint64_t bytes, double seconds)
{
    const char *status = dm_status_name(st);
    pthread_mutex_lock(&lock);
    add(K_FILES, queue, status, 1);
    add(K_BYTES, queue, NULL, (double)bytes);
    add(K_SECONDS, queue, NULL, seconds);
    if (reason)
        add(K_FAILURES, queue, reason, 1);
    if (emf) {
        json_t *dims = reason ? json_pack("[[s,s],[s,s]]", "Queue", "Status",
                                          "Queue", "Reason")
                              : json_pack("[[s,s]]", "Queue", "Status");
        json_t *m = json_pack("{s:s,s:s,s:s,s:i,s:I,s:f,s:i}", "event", "job",
                              "Queue", queue, "Status", status, "Files", 1,
                              "Bytes", (json_int_t)bytes, "Seconds", seconds,
                              "Failures", reason ? 1 : 0);
        if (m && reason)
            json_object_set_new(m, "Reason", json_string(reason));
        if (dims && m)
            emf_write(dims, m);
        else {
            json_decref(dims);
            json_decref(m);
        }
    }
    pthread_mutex_unlock(&lock);
}

void dm_metrics_count(enum dm_metric m, const char *queue)
{
    pthread_mutex_lock(&lock);
    add(m == DM_METRIC_PROTECTION_FAILURES ? K_PROTECTION : K_CONNECT,
        m == DM_METRIC_PROTECTION_FAILURES ? "" : queue, NULL, 1);
    pthread_mutex_unlock(&lock);
}

void dm_metrics_running(int delta)
{
    pthread_mutex_lock(&lock);
    running += delta;
    pthread_mutex_unlock(&lock);
}

void dm_metrics_emf_summary(void)
{
    static struct timespec last;
    pthread_mutex_lock(&lock);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double period = last.tv_sec ? (double)(now.tv_sec - last.tv_sec) +
                                      (double)(now.tv_nsec - last.tv_nsec) / 1e9
                                : 0;
    last = now;
    for (size_t q = 0; emf && q < n_all; q++) {
        /* one line per queue: the queue's K_BYTES series stands for it */
        if (all[q].kind != K_BYTES)
            continue;
        const char *queue = all[q].queue;
        double files = 0, bytes = 0, secs = 0, failures = 0;
        json_t *by_reason = json_object();
        for (size_t i = 0; i < n_all; i++) {
            struct series *s = &all[i];
            if (strcmp(s->queue, queue) != 0)
                continue;
            double d = s->value - s->reported;
            s->reported = s->value;
            if (s->kind == K_FILES)
                files += d;
            else if (s->kind == K_BYTES)
                bytes += d;
            else if (s->kind == K_SECONDS)
                secs += d;
            else if (s->kind == K_FAILURES) {
                failures += d;
                if (d > 0)
                    json_object_set_new(by_reason, s->label,
                                        json_integer((json_int_t)d));
            }
        }
        json_t *dims = json_pack("[[s]]", "Queue");
        json_t *m =
            json_pack("{s:s,s:s,s:I,s:I,s:f,s:I,s:f,s:i,s:o}", "event",
                      "summary", "Queue", queue, "Files", (json_int_t)files,
                      "Bytes", (json_int_t)bytes, "Seconds", secs, "Failures",
                      (json_int_t)failures, "PeriodSeconds", period, "Running",
                      running, "FailuresByReason", by_reason);
        if (dims && m)
            emf_write(dims, m);
        else {
            json_decref(dims);
            json_decref(m);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void add_label(struct dm_sbuf *b, const char *name, const char *v)
{
    dm_sbuf_addf(b, "%s=\"", name);
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            dm_sbuf_add(b, "\\\\");
        else if (*p == '"')
            dm_sbuf_add(b, "\\\"");
        else if (*p == '\n')
            dm_sbuf_add(b, "\\n");
        else
            dm_sbuf_addn(b, p, 1);
    }
    dm_sbuf_add(b, "\"");
}

static const struct {
    enum kind kind;
    const char *name, *help, *label;
} families[] = {
    {K_FILES, "duckmig_files_total",
     "Files whose job finished, by queue and outcome status.", "status"},
    {K_BYTES, "duckmig_bytes_total",
     "Bytes of the source files whose job finished, by queue.", NULL},
    {K_SECONDS, "duckmig_job_seconds_total",
     "Seconds spent in jobs that finished, by queue.", NULL},
    {K_FAILURES, "duckmig_failures_total",
     "Jobs that failed (or were skipped), by queue and reason.", "reason"},
    {K_PROTECTION, "duckmig_task_protection_failures_total",
     "ECS task scale-in protection calls that failed.", NULL},
    {K_CONNECT, "duckmig_broker_connect_failures_total",
     "Broker connection attempts that failed, by queue.", NULL},
};

char *dm_metrics_prometheus(void)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    pthread_mutex_lock(&lock);
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        dm_sbuf_addf(&b, "# HELP %s %s\n# TYPE %s counter\n", families[f].name,
                     families[f].help, families[f].name);
        for (size_t i = 0; i < n_all; i++) {
            const struct series *s = &all[i];
            if (s->kind != families[f].kind)
                continue;
            dm_sbuf_add(&b, families[f].name);
            if (s->queue[0] || families[f].label) {
                dm_sbuf_add(&b, "{");
                if (s->queue[0])
                    add_label(&b, "queue", s->queue);
                if (families[f].label) {
                    if (s->queue[0])
                        dm_sbuf_add(&b, ",");
                    add_label(&b, families[f].label, s->label);
                }
                dm_sbuf_add(&b, "}");
            }
            dm_sbuf_addf(&b, " %.17g\n", s->value);
        }
    }
    dm_sbuf_addf(&b,
                 "# HELP duckmig_jobs_running Jobs running now.\n"
                 "# TYPE duckmig_jobs_running gauge\n"
                 "duckmig_jobs_running %d\n",
                 running);
    pthread_mutex_unlock(&lock);
    return dm_sbuf_take(&b);
}

void dm_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_all; i++) {
        free(all[i].queue);
        free(all[i].label);
    }
    free(all);
    all = NULL;
    n_all = cap_all = 0;
    running = 0;
    pthread_mutex_unlock(&lock);
}

/* ---- the endpoint ---- */

struct dm_metrics_server {
    int fd;
    pthread_t thread;
    atomic_bool stop;
};

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* One request on fd: read its head (bounded in size and time: a client
 * that says nothing cannot hold the thread), answer, close. */
static void serve_one(int fd)
{
    char req[4096];
    size_t got = 0;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (got < sizeof(req) - 1) {
        ssize_t n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[got] = '\0';
    bool get = strncmp(req, "GET ", 4) == 0,
         head = strncmp(req, "HEAD ", 5) == 0;
    const char *path = get ? req + 4 : head ? req + 5 : "";
    bool metrics = (get || head) && (strncmp(path, "/metrics ", 9) == 0 ||
                                     strncmp(path, "/ ", 2) == 0);
    char *body = metrics ? dm_metrics_prometheus() : NULL;
    const char *status = metrics && body ? "200 OK"
                         : metrics       ? "500 Internal Server Error"
                         : get || head   ? "404 Not Found"
                                         : "405 Method Not Allowed";
    const char *text = body ? body : "not found: GET /metrics\n";
    char *head_text = dm_fmt("HTTP/1.0 %s\r\n"
                             "Content-Type: text/plain; version=0.0.4; "
                             "charset=utf-8\r\n"
                             "Content-Length: %zu\r\n"
                             "Connection: close\r\n\r\n",
                             status, strlen(text));
    if (head_text) {
        send_all(fd, head_text, strlen(head_text));
        if (!head)
            send_all(fd, text, strlen(text));
    }
    free(head_text);
    free(body);
    close(fd);
}

static void *server_thread(void *arg)
{
    struct dm_metrics_server *s = arg;
    /* polled, so that a stop is seen within a tick without a wake-up
     * pipe */
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        int r = poll(&p, 1, 200);
        if (r <= 0)
            continue;
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0)
            serve_one(c);
    }
    return NULL;
}

enum dm_code dm_metrics_serve(const char *address, int port,
                              struct dm_metrics_server **out,
                              struct dm_error *err)
{
    *out = NULL;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct dm_metrics_server *s = NULL;
    enum dm_code rc = DM_OK;
    int fd = -1, one = 1;
    if (port < 1 || port > 65535) {
        rc = dm_fail(err, DM_ERR_USAGE, "metrics port %d: not 1-65535", port);
        goto out;
    }
    int gai = getaddrinfo(address, portstr, &hints, &res);
    if (gai != 0) {
        rc = dm_fail(err, DM_ERR_USAGE, "metrics address '%s': %s", address,
                     gai_strerror(gai));
        goto out;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno,
                           "cannot serve metrics on %s:%d", address, port);
        goto out;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    s->fd = fd;
    if (pthread_create(&s->thread, NULL, server_thread, s) != 0) {
        rc = dm_fail(err, DM_ERR_GENERIC, "cannot start the metrics thread");
        goto out;
    }
    fd = -1;
    *out = s;
    s = NULL;
    dm_info("metrics", "serving Prometheus metrics on http://%s:%d/metrics",
            address, port);
out:
    free(s);
    if (fd >= 0)
        close(fd);
    if (res)
        freeaddrinfo(res);
    return rc;
}

void dm_metrics_server_stop(struct dm_metrics_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    free(s);
}
