/* wire.c - frame encoding and blocking frame I/O for engine workers. */
#include "engine/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME_HEADER 5

void dm_wbuf_release(struct dm_wbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

static bool reserve(struct dm_wbuf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void dm_wbuf_bytes(struct dm_wbuf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void dm_wbuf_u32(struct dm_wbuf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    dm_wbuf_bytes(b, t, 4);
}

void dm_wbuf_u64(struct dm_wbuf *b, uint64_t v)
{
    dm_wbuf_u32(b, (uint32_t)v);
    dm_wbuf_u32(b, (uint32_t)(v >> 32));
}

void dm_wbuf_str(struct dm_wbuf *b, const char *s)
{
    if (!s) {
        dm_wbuf_u32(b, DM_WIRE_NULL_LEN);
        return;
    }
    size_t n = strlen(s);
    if (n >= DM_WIRE_NULL_LEN) {
        b->oom = true;
        return;
    }
    dm_wbuf_u32(b, (uint32_t)n);
    dm_wbuf_bytes(b, s, n);
}

void dm_wbuf_begin(struct dm_wbuf *b, enum dm_wire_type type)
{
    b->len = 0;
    b->oom = false;
    uint8_t hdr[FRAME_HEADER] = {0, 0, 0, 0, (uint8_t)type};
    dm_wbuf_bytes(b, hdr, sizeof(hdr));
}

static enum dm_code write_all(int fd, const uint8_t *p, size_t n,
                              struct dm_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return dm_fail_errno(err, DM_ERR_PROTOCOL, errno,
                                 "engine channel write failed");
        p += w;
        n -= (size_t)w;
    }
    return DM_OK;
}

/* Returns bytes read (< n only at EOF) or -1 with errno. */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Write the frame's first bytes with the npass descriptors of pass
 * attached (SCM_RIGHTS); returns the bytes written, or -1 with errno. */
static ssize_t send_with_fds(int fd, const uint8_t *p, size_t n,
                             const int *pass, size_t npass)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * DM_WIRE_MAX_FDS)];
    } control;
    struct iovec iov = {(void *)p, n};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = CMSG_SPACE(sizeof(int) * npass)};
    memset(control.buf, 0, sizeof(control.buf));
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * npass);
    memcpy(CMSG_DATA(cm), pass, sizeof(int) * npass);
    ssize_t w;
    do
        w = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w;
}

enum dm_code dm_wire_send(int fd, struct dm_wbuf *b, struct dm_error *err)
{
    return dm_wire_send_fd(fd, b, -1, err);
}

enum dm_code dm_wire_send_fd(int fd, struct dm_wbuf *b, int pass,
                             struct dm_error *err)
{
    return dm_wire_send_fds(fd, b, &pass, pass >= 0, err);
}

enum dm_code dm_wire_send_fds(int fd, struct dm_wbuf *b, const int *pass,
                              size_t npass, struct dm_error *err)
{
    if (npass > DM_WIRE_MAX_FDS)
        return dm_fail(err, DM_ERR_PROTOCOL, "too many descriptors to pass");
    if (b->oom || b->len < FRAME_HEADER)
        return dm_fail(err, DM_ERR_NOMEM, "engine frame could not be built");
    size_t payload = b->len - FRAME_HEADER;
    if (payload > DM_WIRE_MAX_FRAME)
        return dm_fail(err, DM_ERR_PROTOCOL,
                       "engine frame of %zu bytes is too large", payload);
    b->data[0] = (uint8_t)payload;
    b->data[1] = (uint8_t)(payload >> 8);
    b->data[2] = (uint8_t)(payload >> 16);
    b->data[3] = (uint8_t)(payload >> 24);
    size_t sent = 0;
    if (npass) {
        ssize_t w = send_with_fds(fd, b->data, b->len, pass, npass);
        if (w < 0)
            return dm_fail_errno(err, DM_ERR_PROTOCOL, errno,
                                 "engine channel write failed");
        sent = (size_t)w;
    }
    return write_all(fd, b->data + sent, b->len - sent, err);
}

/* Read up to n bytes, taking the descriptors passed with them into the
 * free (-1) places of passed[0..max) (those beyond are closed). */
static ssize_t recv_with_fds(int fd, uint8_t *p, size_t n, int *passed,
                             size_t max)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * DM_WIRE_MAX_FDS)];
    } control;
    struct iovec iov = {p, n};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    ssize_t r;
    do
        r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    size_t at = 0;
    for (struct cmsghdr *cm = r >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm;
         cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfds; i++) {
            int got;
            memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            while (at < max && passed[at] >= 0)
                at++;
            if (at < max)
                passed[at++] = got;
            else
                close(got);
        }
    }
    return r;
}

enum dm_code dm_wire_recv(int fd, struct dm_wbuf *b, enum dm_wire_type *type,
                          struct dm_error *err)
{
    return dm_wire_recv_fd(fd, b, type, NULL, err);
}

enum dm_code dm_wire_recv_fd(int fd, struct dm_wbuf *b, enum dm_wire_type *type,
                             int *passed, struct dm_error *err)
{
    return dm_wire_recv_fds(fd, b, type, passed, passed ? 1 : 0, err);
}

enum dm_code dm_wire_recv_fds(int fd, struct dm_wbuf *b,
                              enum dm_wire_type *type, int *passed, size_t max,
                              struct dm_error *err)
{
    uint8_t hdr[FRAME_HEADER];
    ssize_t r;
    if (max) {
        /* descriptors come with the first byte of their frame */
        r = recv_with_fds(fd, hdr, sizeof(hdr), passed, max);
        if (r > 0 && (size_t)r < sizeof(hdr)) {
            ssize_t more = read_full(fd, hdr + r, sizeof(hdr) - (size_t)r);
            r = more < 0 ? -1 : r + more;
        }
    } else {
        r = read_full(fd, hdr, sizeof(hdr));
    }
    if (r < 0)
        return dm_fail_errno(err, DM_ERR_PROTOCOL, errno,
                             "engine channel read failed");
    if (r == 0)
        return dm_fail(err, DM_ERR_PROTOCOL, "engine channel closed");
    if ((size_t)r < sizeof(hdr))
        return dm_fail(err, DM_ERR_PROTOCOL, "engine frame cut short");

    uint32_t payload = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
                       (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    if (payload > DM_WIRE_MAX_FRAME)
        return dm_fail(err, DM_ERR_PROTOCOL,
                       "engine frame of %u bytes is too large", payload);
    b->len = 0;
    b->oom = false;
    if (!reserve(b, payload ? payload : 1))
        return dm_fail(err, DM_ERR_NOMEM, "no memory for engine frame");
    r = read_full(fd, b->data, payload);
    if (r < 0)
        return dm_fail_errno(err, DM_ERR_PROTOCOL, errno,
                             "engine channel read failed");
    if ((size_t)r < payload)
        return dm_fail(err, DM_ERR_PROTOCOL, "engine frame cut short");
    b->len = payload;
    *type = (enum dm_wire_type)hdr[4];
    return DM_OK;
}

void dm_wcur_init(struct dm_wcur *c, const struct dm_wbuf *b)
{
    c->p = b->data;
    c->left = b->len;
    c->bad = false;
}

const uint8_t *dm_wcur_take(struct dm_wcur *c, uint64_t n)
{
    if (c->bad || c->left < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

uint32_t dm_wcur_u32(struct dm_wcur *c)
{
    const uint8_t *p = dm_wcur_take(c, 4);
    if (!p)
        return 0;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

uint64_t dm_wcur_u64(struct dm_wcur *c)
{
    uint64_t lo = dm_wcur_u32(c);
    uint64_t hi = dm_wcur_u32(c);
    return lo | hi << 32;
}

char *dm_wcur_str(struct dm_wcur *c, bool *is_null)
{
    uint32_t n = dm_wcur_u32(c);
    if (is_null)
        *is_null = false;
    if (c->bad)
        return NULL;
    if (n == DM_WIRE_NULL_LEN) {
        if (is_null)
            *is_null = true;
        return NULL;
    }
    const uint8_t *p = dm_wcur_take(c, n);
    if (!p)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) {
        c->bad = true;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}
