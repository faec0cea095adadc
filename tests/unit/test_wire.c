/*
 * test_wire.c - the engine worker protocol: frames survive a real pipe,
 * NULL and empty strings stay apart, malformed frames are refused, a
 * socket handed over with a frame arrives working.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/wire.h"

static void round_trip(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct dm_wbuf b = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;

    dm_wbuf_begin(&b, DM_W_ROWS);
    dm_wbuf_u32(&b, 0xdeadbeef);
    dm_wbuf_u64(&b, 0x0123456789abcdefULL);
    dm_wbuf_str(&b, "héllo\ttab");
    dm_wbuf_str(&b, "");
    dm_wbuf_str(&b, NULL);
    assert_int_equal(dm_wire_send(fds[1], &b, &err), DM_OK);

    struct dm_wbuf in = DM_WBUF_INIT;
    enum dm_wire_type type;
    assert_int_equal(dm_wire_recv(fds[0], &in, &type, &err), DM_OK);
    assert_int_equal(type, DM_W_ROWS);

    struct dm_wcur c;
    bool is_null;
    dm_wcur_init(&c, &in);
    assert_int_equal(dm_wcur_u32(&c), 0xdeadbeef);
    assert_true(dm_wcur_u64(&c) == 0x0123456789abcdefULL);
    char *s = dm_wcur_str(&c, &is_null);
    assert_string_equal(s, "héllo\ttab");
    assert_false(is_null);
    free(s);
    s = dm_wcur_str(&c, &is_null);
    assert_string_equal(s, "");
    assert_false(is_null);
    free(s);
    s = dm_wcur_str(&c, &is_null);
    assert_null(s);
    assert_true(is_null);
    assert_false(c.bad);
    assert_int_equal(c.left, 0);

    /* reading past the end is recorded, not a crash */
    assert_int_equal(dm_wcur_u32(&c), 0);
    assert_true(c.bad);

    close(fds[1]);
    dm_error_clear(&err);
    assert_int_equal(dm_wire_recv(fds[0], &in, &type, &err), DM_ERR_PROTOCOL);
    assert_non_null(strstr(err.msg, "closed"));
    close(fds[0]);
    dm_wbuf_release(&b);
    dm_wbuf_release(&in);
}

static void cut_short_and_oversized(void **state)
{
    (void)state;
    int fds[2];
    struct dm_wbuf in = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_wire_type type;

    /* header promises 100 bytes, 3 arrive, then EOF */
    assert_int_equal(pipe(fds), 0);
    uint8_t cut[] = {100, 0, 0, 0, DM_W_QUERY, 'a', 'b', 'c'};
    assert_int_equal(write(fds[1], cut, sizeof(cut)), (ssize_t)sizeof(cut));
    close(fds[1]);
    assert_int_equal(dm_wire_recv(fds[0], &in, &type, &err), DM_ERR_PROTOCOL);
    assert_non_null(strstr(err.msg, "cut short"));
    close(fds[0]);

    /* a length beyond the limit is refused before any allocation */
    assert_int_equal(pipe(fds), 0);
    uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f, DM_W_ROWS};
    assert_int_equal(write(fds[1], huge, sizeof(huge)), (ssize_t)sizeof(huge));
    dm_error_clear(&err);
    assert_int_equal(dm_wire_recv(fds[0], &in, &type, &err), DM_ERR_PROTOCOL);
    assert_non_null(strstr(err.msg, "too large"));
    close(fds[0]);
    close(fds[1]);
    dm_wbuf_release(&in);
}

static void string_longer_than_frame(void **state)
{
    (void)state;
    struct dm_wbuf b = DM_WBUF_INIT;
    dm_wbuf_begin(&b, DM_W_QUERY);
    dm_wbuf_u32(&b, 1000); /* claims 1000 bytes of string */
    dm_wbuf_bytes(&b, "xy", 2);
    /* skip the 5-byte frame header as dm_wire_recv would */
    struct dm_wbuf payload = {b.data + 5, b.len - 5, 0, false};
    struct dm_wcur c;
    dm_wcur_init(&c, &payload);
    assert_null(dm_wcur_str(&c, NULL));
    assert_true(c.bad);
    dm_wbuf_release(&b);
}

static void big_frames_grow(void **state)
{
    (void)state;
    struct dm_wbuf b = DM_WBUF_INIT;
    dm_wbuf_begin(&b, DM_W_ROWS);
    for (int i = 0; i < 100000; i++)
        dm_wbuf_str(&b, "0123456789");
    assert_false(b.oom);
    assert_int_equal(b.len, 5 + 100000 * 14);
    dm_wbuf_release(&b);
}

/* The descriptors this process has open. */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void passes_a_descriptor(void **state)
{
    (void)state;
    int chan[2], peer[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, chan), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, peer), 0);
    struct dm_wbuf b = DM_WBUF_INIT, in = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_wire_type type;

    /* a frame with a descriptor, then one without: only the first brings
     * one, and both read back whole */
    dm_wbuf_begin(&b, DM_W_APPEND);
    dm_wbuf_str(&b, "with");
    assert_int_equal(dm_wire_send_fd(chan[0], &b, peer[1], &err), DM_OK);
    dm_wbuf_begin(&b, DM_W_END);
    assert_int_equal(dm_wire_send(chan[0], &b, &err), DM_OK);
    close(peer[1]); /* the receiver's copy is its own */

    int got = -1;
    assert_int_equal(dm_wire_recv_fd(chan[1], &in, &type, &got, &err), DM_OK);
    assert_int_equal(type, DM_W_APPEND);
    struct dm_wcur c;
    dm_wcur_init(&c, &in);
    char *s = dm_wcur_str(&c, NULL);
    assert_string_equal(s, "with");
    free(s);
    assert_true(got >= 0);
    assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
    int none = -1;
    assert_int_equal(dm_wire_recv_fd(chan[1], &in, &type, &none, &err), DM_OK);
    assert_int_equal(type, DM_W_END);
    assert_int_equal(none, -1);

    /* what comes through the received end arrives at the other one */
    assert_int_equal(write(got, "ping", 4), 4);
    char buf[4];
    assert_int_equal(read(peer[0], buf, 4), 4);
    assert_memory_equal(buf, "ping", 4);
    /* and closing it is what the other end sees */
    close(got);
    assert_int_equal(read(peer[0], buf, 4), 0);

    /* a descriptor nobody asked for is not leaked */
    int before = open_fds();
    dm_wbuf_begin(&b, DM_W_OK);
    assert_int_equal(dm_wire_send_fd(chan[0], &b, peer[0], &err), DM_OK);
    assert_int_equal(dm_wire_recv(chan[1], &in, &type, &err), DM_OK);
    assert_int_equal(type, DM_W_OK);
    assert_int_equal(open_fds(), before);
    int held = dup(0);
    assert_int_equal(dm_wire_send_fd(chan[0], &b, peer[0], &err), DM_OK);
    assert_int_equal(dm_wire_recv_fd(chan[1], &in, &type, &held, &err), DM_OK);
    assert_int_equal(open_fds(), before + 1); /* held, and nothing more */
    close(held);

    close(peer[0]);
    close(chan[0]);
    close(chan[1]);
    dm_wbuf_release(&b);
    dm_wbuf_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(cut_short_and_oversized),
        cmocka_unit_test(string_longer_than_frame),
        cmocka_unit_test(big_frames_grow),
        cmocka_unit_test(passes_a_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
