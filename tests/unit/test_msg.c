/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_msg.c: IPC framing, typed payloads, fd passing, dispatch tables
 * and the libevent peer queue (src/msg.c).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "msg.h"

/* Test-only message types. */
enum {
	T_PLAIN = 7,
	T_A = 10,
	T_ONCE = 11,
	T_FAIL = 12,
	T_FD = 13,
	T_SEQ = 14
};

static const struct msg_typename names[] = {
	{ T_PLAIN, "T_PLAIN" }, { T_A, "T_A" }, { T_ONCE, "T_ONCE" },
	{ T_FAIL, "T_FAIL" }, { T_FD, "T_FD" }, { T_SEQ, "T_SEQ" }
};

static int		 sv[2];
static struct msg	*m;
static struct msgbuf	*mb;
static struct buf	 err;
static int		 ncalls;

static int
setup(void **state)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	m = calloc(1, sizeof(*m));
	mb = calloc(1, sizeof(*mb));
	m->m_fd = -1;
	buf_init(&err);
	ncalls = 0;
	msg_register_names(names, nitems(names));
	return 0;
}

static int
teardown(void **state)
{
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	msg_release(m);
	free(m);
	free(mb);
	buf_free(&err);
	return 0;
}

static int
count_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Send raw bytes as one record, with nfds copies of fd attached. */
static void
send_raw(int s, const void *p, size_t n, int fd, size_t nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	char		*cbuf = NULL;
	size_t		 i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)p;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		cbuf = calloc(1, CMSG_SPACE(nfds * sizeof(int)));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd,
			    sizeof(int));
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)n);
	free(cbuf);
}

static size_t
mkrec(uint8_t *out, uint16_t type, uint8_t version, uint8_t flags,
    uint32_t len, uint32_t reserved, const void *payload, size_t plen)
{
	struct pm_hdr	 h = { type, version, flags, len, 99, reserved };

	memcpy(out, &h, sizeof(h));
	if (plen > 0)
		memcpy(out + sizeof(h), payload, plen);
	return sizeof(h) + plen;
}

static void
expect_recv_error(const char *want)
{
	buf_reset(&err);
	assert_int_equal(msg_recv(sv[1], m, &err), -1);
	assert_int_equal(errno, EPROTO);
	assert_string_equal(buf_str(&err), want);
	assert_int_equal(m->m_fd, -1);
}

/* ---- building and round trips ------------------------------------- */

static void
build_all(struct msgbuf *b)
{
	static const uint8_t	 bytes[] = { 0, 1, 2, 0xff };

	msg_init(b, T_A, 42);
	assert_int_equal(msg_put_u8(b, 0xab), 0);
	assert_int_equal(msg_put_u16(b, 0xbeef), 0);
	assert_int_equal(msg_put_u32(b, 0xdeadbeef), 0);
	assert_int_equal(msg_put_u64(b, 0x0123456789abcdefULL), 0);
	assert_int_equal(msg_put_i64(b, -5), 0);
	assert_int_equal(msg_put_str(b, "hello"), 0);
	assert_int_equal(msg_put_str(b, ""), 0);
	assert_int_equal(msg_put_bytes(b, bytes, sizeof(bytes)), 0);
	assert_int_equal(msg_put_bytes(b, NULL, 0), 0);
	assert_int_equal(msg_put_fixed(b, "xyz", 3), 0);
}

/* Parse what build_all() wrote; -1 at the first failing getter. */
static int
parse_all(struct msg *r)
{
	uint8_t		 u8, fixed[3];
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;
	int64_t		 i64;
	char		*s1 = NULL, *s2 = NULL;
	const void	*p1, *p2;
	size_t		 n1, n2;
	int		 rv = -1;

	if (msg_get_u8(r, &u8) == -1 || msg_get_u16(r, &u16) == -1 ||
	    msg_get_u32(r, &u32) == -1 || msg_get_u64(r, &u64) == -1 ||
	    msg_get_i64(r, &i64) == -1 || msg_get_str(r, &s1, 16) == -1 ||
	    msg_get_str(r, &s2, 16) == -1 ||
	    msg_get_bytes(r, &p1, &n1, 16) == -1 ||
	    msg_get_bytes(r, &p2, &n2, 16) == -1 ||
	    msg_get_fixed(r, fixed, 3) == -1 || msg_end(r) == -1)
		goto out;
	assert_int_equal(u8, 0xab);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(u32, 0xdeadbeef);
	assert_true(u64 == 0x0123456789abcdefULL);
	assert_true(i64 == -5);
	assert_string_equal(s1, "hello");
	assert_string_equal(s2, "");
	assert_int_equal(n1, 4);
	assert_memory_equal(p1, "\0\1\2\xff", 4);
	assert_int_equal(n2, 0);
	assert_memory_equal(fixed, "xyz", 3);
	rv = 0;
out:
	free(s1);
	free(s2);
	return rv;
}

/* Exact wire bytes (host order; the CI hosts are little-endian). */
static const uint8_t wire_all[] = {
	10, 0, 1, 0, 51, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0,
	0xab, 0xef, 0xbe, 0xef, 0xbe, 0xad, 0xde,
	0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
	0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o',
	0, 0, 0, 0,
	4, 0, 0, 0, 0, 1, 2, 0xff,
	0, 0, 0, 0,
	'x', 'y', 'z'
};

static void
test_wire_layout(void **state)
{
	uint8_t	 got[256];

	build_all(mb);
	assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	assert_int_equal(recv(sv[1], got, sizeof(got), 0),
	    (ssize_t)sizeof(wire_all));
	assert_memory_equal(got, wire_all, sizeof(wire_all));
}

static void
test_roundtrip(void **state)
{
	build_all(mb);
	assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(m->m_hdr.type, T_A);
	assert_int_equal(m->m_hdr.version, PM_PROTO_VERSION);
	assert_int_equal(m->m_hdr.flags, 0);
	assert_int_equal(m->m_hdr.id, 42);
	assert_int_equal(m->m_len, 51);
	assert_int_equal(m->m_fd, -1);
	assert_int_equal(parse_all(m), 0);
	assert_int_equal(m->m_off, 51);
}

static void
test_limit(void **state)
{
	static uint8_t	 big[PM_PAYLOAD_MAX + 1], got[PM_PAYLOAD_MAX];

	memset(big, 'q', sizeof(big));
	big[0] = 'Q';
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_fixed(mb, big, PM_PAYLOAD_MAX), 0);
	assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(m->m_len, PM_PAYLOAD_MAX);
	assert_int_equal(msg_get_fixed(m, got, sizeof(got)), 0);
	assert_memory_equal(got, big, sizeof(got));
	assert_int_equal(msg_end(m), 0);

	/* One byte over, in one put or at the end of many. */
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_fixed(mb, big, PM_PAYLOAD_MAX + 1), -1);
	assert_string_equal(mb->mb_error, "payload over the 65520-byte limit");
	assert_int_equal(msg_send(sv[0], mb, -1, &err), -1);
	assert_string_equal(buf_str(&err), "message T_PLAIN (7) not sent: "
	    "payload over the 65520-byte limit");
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_fixed(mb, big, PM_PAYLOAD_MAX - 1), 0);
	assert_int_equal(msg_put_u16(mb, 1), -1);
	assert_int_equal(msg_put_u8(mb, 1), -1);	/* sticky */
	assert_int_equal(mb->mb_len, PM_PAYLOAD_MAX - 1);
	/* A counted field is all or nothing. */
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_fixed(mb, big, PM_PAYLOAD_MAX - 8), 0);
	assert_int_equal(msg_put_bytes(mb, big, 5), -1);
	assert_int_equal(mb->mb_len, PM_PAYLOAD_MAX - 8);
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_fixed(mb, big, PM_PAYLOAD_MAX - 8), 0);
	assert_int_equal(msg_put_bytes(mb, big, 4), 0);
	assert_int_equal(mb->mb_len, PM_PAYLOAD_MAX);
}

static void
test_record_too_big(void **state)
{
	static uint8_t	 rec[PM_MSG_MAX + 1];
	size_t		 n;

	n = mkrec(rec, T_PLAIN, 1, 0, PM_PAYLOAD_MAX + 1, 0, NULL, 0);
	assert_int_equal(n, PM_HDR_SIZE);
	send_raw(sv[0], rec, sizeof(rec), -1, 0);
	expect_recv_error("record larger than 65536 bytes");
	/* Exactly PM_MSG_MAX with a matching header is fine. */
	mkrec(rec, T_PLAIN, 1, 0, PM_PAYLOAD_MAX, 0, NULL, 0);
	send_raw(sv[0], rec, PM_MSG_MAX, -1, 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(m->m_len, PM_PAYLOAD_MAX);
}

static void
test_build_errors(void **state)
{
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_str(mb, NULL), -1);
	assert_string_equal(mb->mb_error, "NULL string");
	assert_int_equal(msg_put_u8(mb, 1), -1);
	assert_int_equal(mb->mb_len, 0);
	msg_init(mb, T_PLAIN, 1);
	assert_int_equal(msg_put_bytes(mb, NULL, 3), -1);
	assert_string_equal(mb->mb_error, "NULL bytes pointer");
	msg_init(mb, T_PLAIN, 1);
	assert_null(mb->mb_error);
}

/* ---- truncation ---------------------------------------------------- */

static void
test_truncated_records(void **state)
{
	char	 want[128];
	size_t	 k;

	for (k = 0; k < sizeof(wire_all); k++) {
		send_raw(sv[0], wire_all, k, -1, 0);
		buf_reset(&err);
		if (k == 0) {
			assert_int_equal(msg_recv(sv[1], m, &err), 0);
			continue;
		}
		if (k < PM_HDR_SIZE)
			snprintf(want, sizeof(want), "short record (%zu bytes, "
			    "header is 16)", k);
		else
			snprintf(want, sizeof(want), "length field 51 does not "
			    "match the %zu payload bytes received",
			    k - PM_HDR_SIZE);
		expect_recv_error(want);
	}
	/* The channel still works after all that. */
	send_raw(sv[0], wire_all, sizeof(wire_all), -1, 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(parse_all(m), 0);
}

static void
test_truncated_payloads(void **state)
{
	uint8_t	 rec[256];
	size_t	 c, n;

	/* The full message first, so stale bytes sit past each cut. */
	send_raw(sv[0], wire_all, sizeof(wire_all), -1, 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(parse_all(m), 0);
	for (c = 0; c < 51; c++) {
		n = mkrec(rec, T_A, 1, 0, (uint32_t)c, 0, wire_all + 16, c);
		send_raw(sv[0], rec, n, -1, 0);
		assert_int_equal(msg_recv(sv[1], m, &err), 1);
		assert_int_equal(m->m_len, c);
		assert_int_equal(parse_all(m), -1);
		assert_non_null(m->m_bad);
		assert_true(m->m_off <= c);
	}
}

static void
test_getter_bounds(void **state)
{
	const void	*p;
	char		*s = (char *)"sentinel";
	size_t		 n;
	uint32_t	 u;

	msg_init(mb, T_PLAIN, 0);
	msg_put_u32(mb, 7);
	msg_put_u8(mb, 0);
	msg_send(sv[0], mb, -1, &err);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(msg_get_u32(m, &u), 0);
	assert_int_equal(msg_end(m), -1);
	assert_string_equal(m->m_bad, "trailing bytes");
	assert_int_equal(m->m_bad_off, 4);

	msg_init(mb, T_PLAIN, 0);
	msg_put_str(mb, "abcdef");
	msg_put_bytes(mb, "a\0b", 3);
	msg_send(sv[0], mb, -1, &err);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(msg_get_str(m, &s, 5), -1);
	assert_null(s);
	assert_string_equal(m->m_bad, "length over its limit");
	assert_int_equal(m->m_off, 0);
	assert_int_equal(msg_get_str(m, &s, 6), 0);
	assert_string_equal(s, "abcdef");
	free(s);
	assert_int_equal(msg_get_str(m, &s, 100), -1);
	assert_string_equal(m->m_bad, "NUL inside string");
	assert_int_equal(m->m_bad_off, 10);
	assert_int_equal(m->m_off, 10);
	assert_int_equal(msg_get_bytes(m, &p, &n, 2), -1);
	assert_int_equal(msg_get_bytes(m, &p, &n, 3), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "a\0b", 3);
	assert_int_equal(msg_end(m), 0);

	/* A length prefix claiming 4 GiB. */
	msg_init(mb, T_PLAIN, 0);
	msg_put_u32(mb, 0xffffffff);
	msg_put_fixed(mb, "abc", 3);
	msg_send(sv[0], mb, -1, &err);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(msg_get_bytes(m, &p, &n, SIZE_MAX), -1);
	assert_string_equal(m->m_bad, "truncated counted field");
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(m->m_off, 0);
}

/* ---- header checks ------------------------------------------------- */

static void
test_bad_headers(void **state)
{
	uint8_t	 rec[64];
	size_t	 n;

	n = mkrec(rec, T_PLAIN, 2, 0, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	expect_recv_error("protocol version 2, expected 1");
	n = mkrec(rec, T_PLAIN, 0, 0, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	expect_recv_error("protocol version 0, expected 1");
	n = mkrec(rec, T_PLAIN, 1, 0, 0, 1, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	expect_recv_error("reserved header field is 0x00000001, must be 0");
	n = mkrec(rec, T_PLAIN, 1, 0x82, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	expect_recv_error("unknown flag bits 0x82");
	n = mkrec(rec, T_PLAIN, 1, 0, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(m->m_len, 0);
	assert_int_equal(msg_end(m), 0);
}

static void
test_absurd_lengths(void **state)
{
	static const uint32_t	 lens[] = { 0xffffffff, PM_HDR_SIZE - 1,
	    PM_PAYLOAD_MAX + 1, PM_MSG_MAX + 1, 1 };
	struct mallinfo2	 before, after;
	uint8_t			 rec[64];
	char			 want[128];
	size_t			 i, n;

	buf_addf(&err, "%4096s", "");	/* pre-size the error buffer */
	for (i = 0; i < nitems(lens); i++) {
		n = mkrec(rec, T_PLAIN, 1, 0, lens[i], 0, NULL, 0);
		send_raw(sv[0], rec, n, -1, 0);
		buf_reset(&err);
		before = mallinfo2();
		assert_int_equal(msg_recv(sv[1], m, &err), -1);
		after = mallinfo2();
		assert_int_equal(before.uordblks, after.uordblks);
		snprintf(want, sizeof(want), "length field %u does not match "
		    "the 0 payload bytes received", lens[i]);
		assert_string_equal(buf_str(&err), want);
	}
	/* A record one byte short of a header. */
	send_raw(sv[0], rec, PM_HDR_SIZE - 1, -1, 0);
	expect_recv_error("short record (15 bytes, header is 16)");
}

/* ---- fds ----------------------------------------------------------- */

static int
fd_handler(struct peer *p, struct msg *r)
{
	int	 fd = msg_take_fd(r);

	ncalls++;
	assert_true(fd >= 0);
	assert_int_equal(msg_take_fd(r), -1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	return msg_end(r);
}

static int
count_handler(struct peer *p, struct msg *r)
{
	ncalls++;
	return 0;
}

static const struct msg_handler fd_table[] = {
	{ T_FD, 0, 0, MSG_ALLOW_FD, fd_handler },
	{ T_PLAIN, 0, 0, 0, count_handler },
	{ 0, 0, 0, 0, NULL }
};

static void
test_fd_allowed(void **state)
{
	int	 pfd[2], before;
	char	 c;

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	before = count_fds();
	msg_init(mb, T_FD, 5);
	assert_int_equal(msg_send(sv[0], mb, pfd[1], &err), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(m->m_hdr.flags, PM_F_FD);
	assert_true(m->m_fd >= 0);
	assert_int_equal(msg_dispatch(NULL, fd_table, m, &err), 0);
	assert_int_equal(ncalls, 1);
	msg_release(m);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(count_fds(), before);
	close(pfd[0]);
	close(pfd[1]);
}

static void
test_fd_disallowed(void **state)
{
	int	 pfd[2], before;

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	before = count_fds();
	msg_init(mb, T_PLAIN, 5);
	assert_int_equal(msg_send(sv[0], mb, pfd[1], &err), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(count_fds(), before + 1);
	assert_int_equal(msg_dispatch(NULL, fd_table, m, &err), -1);
	assert_string_equal(buf_str(&err),
	    "peer: T_PLAIN (7): fd not allowed on this type");
	assert_int_equal(ncalls, 0);
	assert_int_equal(m->m_fd, -1);
	assert_int_equal(count_fds(), before);
	close(pfd[0]);
	close(pfd[1]);
}

static void
test_fd_violations(void **state)
{
	uint8_t	 rec[64];
	size_t	 n;
	int	 before, fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	before = count_fds();
	n = mkrec(rec, T_FD, 1, PM_F_FD, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, fd, 2);
	expect_recv_error("2 fds received, at most 1 allowed");
	assert_int_equal(count_fds(), before);
	n = mkrec(rec, T_FD, 1, 0, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, fd, 1);
	expect_recv_error("fd received without PM_F_FD");
	assert_int_equal(count_fds(), before);
	n = mkrec(rec, T_FD, 1, PM_F_FD, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	expect_recv_error("PM_F_FD set but no fd received");
	/* P5: 200 fds on one record. */
	send_raw(sv[0], rec, n, fd, 200);
	expect_recv_error("control data truncated (too many fds, or our fd "
	    "table is full)");
	assert_int_equal(count_fds(), before);
	/* An fd on an empty record is not EOF. */
	send_raw(sv[0], rec, 0, fd, 1);
	expect_recv_error("short record (0 bytes, header is 16)");
	assert_int_equal(count_fds(), before);
	/* A bad header with an fd closes the fd too. */
	n = mkrec(rec, T_FD, 3, PM_F_FD, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, fd, 1);
	expect_recv_error("protocol version 3, expected 1");
	assert_int_equal(count_fds(), before);
	close(fd);
}

/* ---- dispatch ------------------------------------------------------ */

static int
a_handler(struct peer *p, struct msg *r)
{
	uint32_t	 v;

	ncalls++;
	assert_non_null(p);
	assert_string_equal(p->p_role, "test");
	if (msg_get_u32(r, &v) == -1)
		return -1;
	if (r->m_len == 8 && msg_get_u32(r, &v) == -1)
		return -1;
	return msg_end(r);
}

static int
fail_handler(struct peer *p, struct msg *r)
{
	ncalls++;
	return msg_reject(r, "no such job");
}

static const struct msg_handler table[] = {
	{ T_A, 4, 8, 0, a_handler },
	{ T_ONCE, 0, 0, MSG_ONCE, count_handler },
	{ T_FAIL, 0, 16, 0, fail_handler },
	{ 0, 0, 0, 0, NULL }
};

static int
dispatch_len(struct peer *p, uint16_t type, size_t len)
{
	static const uint8_t	 zero[16];

	msg_init(mb, type, 0);
	msg_put_fixed(mb, zero, len);
	assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	buf_reset(&err);
	return msg_dispatch(p, table, m, &err);
}

static void
test_dispatch(void **state)
{
	struct peer	*p = calloc(1, sizeof(*p));

	assert_int_equal(peer_init(p, NULL, -1, "test", 77, table, NULL,
	    NULL, &err), 0);
	assert_int_equal(dispatch_len(p, T_A, 3), -1);
	assert_string_equal(buf_str(&err),
	    "test[77]: T_A (10): payload of 3 bytes outside [4, 8]");
	assert_int_equal(dispatch_len(p, T_A, 9), -1);
	assert_string_equal(buf_str(&err),
	    "test[77]: T_A (10): payload of 9 bytes outside [4, 8]");
	assert_int_equal(ncalls, 0);
	assert_int_equal(dispatch_len(p, T_A, 4), 0);
	assert_int_equal(dispatch_len(p, T_A, 8), 0);
	assert_int_equal(ncalls, 2);
	assert_int_equal(dispatch_len(p, T_A, 5), -1);
	assert_string_equal(buf_str(&err), "test[77]: T_A (10): trailing "
	    "bytes (payload offset 4 of 5)");
	assert_int_equal(dispatch_len(p, 999, 0), -1);
	assert_string_equal(buf_str(&err),
	    "test[77]: unknown message type 999");
	assert_int_equal(dispatch_len(p, T_PLAIN, 0), -1);
	assert_string_equal(buf_str(&err), "test[77]: unknown message type 7");
	ncalls = 0;
	assert_int_equal(dispatch_len(p, T_ONCE, 0), 0);
	assert_int_equal(dispatch_len(p, T_ONCE, 0), -1);
	assert_string_equal(buf_str(&err),
	    "test[77]: T_ONCE (11): repeated, allowed once");
	assert_int_equal(ncalls, 1);
	assert_int_equal(dispatch_len(p, T_FAIL, 2), -1);
	assert_string_equal(buf_str(&err), "test[77]: T_FAIL (12): no such "
	    "job (payload offset 0 of 2)");
	/* MSG_ONCE state is per peer. */
	assert_int_equal(dispatch_len(NULL, T_ONCE, 0), -1);
	assert_string_equal(buf_str(&err),
	    "peer: T_ONCE (11): MSG_ONCE needs a peer");
	peer_free(p);
	peer_init(p, NULL, -1, "test", 78, table, NULL, NULL, &err);
	assert_int_equal(dispatch_len(p, T_ONCE, 0), 0);
	peer_free(p);
	free(p);
}

static void
test_type_names(void **state)
{
	static const struct msg_typename more[] = { { 500, "T_LATER" } };

	assert_string_equal(msg_type_name(T_SEQ), "T_SEQ");
	assert_string_equal(msg_type_name(500), "unknown");
	msg_register_names(more, nitems(more));
	msg_register_names(more, nitems(more));
	assert_string_equal(msg_type_name(500), "T_LATER");
	assert_string_equal(msg_type_name(T_A), "T_A");
}

static void
test_eof_and_eagain(void **state)
{
	int	 fl = fcntl(sv[1], F_GETFL);

	assert_int_equal(fcntl(sv[1], F_SETFL, fl | O_NONBLOCK), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 2);
	msg_init(mb, T_PLAIN, 3);
	assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(msg_recv(sv[1], m, &err), 1);
	assert_int_equal(m->m_hdr.id, 3);
	assert_int_equal(msg_recv(sv[1], m, &err), 0);
	assert_int_equal(msg_recv(sv[1], m, &err), 0);
	assert_string_equal(buf_str(&err), "");
}

/* ---- the peer over a libevent loop --------------------------------- */

#define NSEQ	10000

struct qtest {
	struct event_base	*base;
	struct peer		*sender;
	struct event		*tick;
	struct msg		*r;
	uint32_t		 next;
	int			 saw_backlog;
	int			 nfds;
};

static void
reader_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct qtest	*q = arg;
	struct buf	 e = BUF_INIT;
	uint32_t	 seq;
	const void	*p;
	size_t		 n, i;
	int		 k, r;

	for (k = 0; k < 20; k++) {
		if ((r = msg_recv(sv[1], q->r, &e)) == 2)
			break;
		assert_int_equal(r, 1);
		assert_int_equal(q->r->m_hdr.type, T_SEQ);
		assert_int_equal(q->r->m_hdr.id, q->next);
		assert_int_equal(msg_get_u32(q->r, &seq), 0);
		assert_int_equal(seq, q->next);
		assert_int_equal(msg_get_bytes(q->r, &p, &n, 4096), 0);
		assert_int_equal(n, seq % 700);
		for (i = 0; i < n; i++)
			assert_int_equal(((const uint8_t *)p)[i],
			    (uint8_t)(seq + i));
		assert_int_equal(msg_end(q->r), 0);
		assert_int_equal(q->r->m_fd != -1, seq % 1000 == 0);
		if (q->r->m_fd != -1)
			q->nfds++;
		msg_release(q->r);
		if (++q->next == NSEQ / 2 && q->sender->p_out_bytes > 0 &&
		    event_pending(q->sender->p_ev_write, EV_WRITE, NULL))
			q->saw_backlog = 1;
		if (q->next == NSEQ) {
			event_base_loopbreak(q->base);
			break;
		}
	}
	buf_free(&e);
}

static void
test_peer_queue(void **state)
{
	struct qtest	 q;
	struct timeval	 tv = { 0, 1000 };
	uint8_t		 data[700];
	uint32_t	 i, j;
	int		 before, fl, dn;

	dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	memset(&q, 0, sizeof(q));
	before = count_fds();
	q.base = event_base_new();
	q.sender = calloc(1, sizeof(*q.sender));
	q.r = calloc(1, sizeof(*q.r));
	assert_int_equal(peer_init(q.sender, q.base, sv[0], "w", 1, NULL,
	    NULL, NULL, &err), 0);
	sv[0] = -1;
	q.sender->p_out_max = 64 * 1024 * 1024;
	fl = fcntl(sv[1], F_GETFL);
	fcntl(sv[1], F_SETFL, fl | O_NONBLOCK);
	for (i = 0; i < NSEQ; i++) {
		for (j = 0; j < i % 700; j++)
			data[j] = (uint8_t)(i + j);
		msg_init(mb, T_SEQ, i);
		msg_put_u32(mb, i);
		msg_put_bytes(mb, data, i % 700);
		assert_int_equal(peer_send(q.sender, mb,
		    i % 1000 == 0 ? dn : -1), 0);
	}
	assert_int_equal(q.sender->p_out_fds, NSEQ / 1000);
	assert_true(event_pending(q.sender->p_ev_write, EV_WRITE, NULL));
	q.tick = event_new(q.base, -1, EV_PERSIST, reader_tick, &q);
	event_add(q.tick, &tv);
	assert_int_equal(event_base_dispatch(q.base), 0);
	assert_int_equal(q.next, NSEQ);
	assert_int_equal(q.nfds, NSEQ / 1000);
	assert_int_equal(q.saw_backlog, 1);
	assert_int_equal(q.sender->p_out_bytes, 0);
	assert_int_equal(q.sender->p_out_fds, 0);
	assert_false(event_pending(q.sender->p_ev_write, EV_WRITE, NULL));
	assert_int_equal(q.sender->p_dead, 0);
	event_free(q.tick);
	peer_free(q.sender);
	event_base_free(q.base);
	free(q.sender);
	free(q.r);
	close(dn);
	/* The peer closed sv[0]; dn was opened before counting. */
	assert_int_equal(count_fds(), before - 2);
}

struct ltest {
	struct event_base	*base;
	char			 why[256];
	int			 proto;
	int			 nlost;
};

static void
lost_cb(struct peer *p, const char *why)
{
	struct ltest	*l = p->p_arg;

	snprintf(l->why, sizeof(l->why), "%s", why);
	l->proto = p->p_proto_error;
	l->nlost++;
	peer_free(p);
	free(p);
	event_base_loopbreak(l->base);
}

static struct peer *
reader_peer(struct ltest *l)
{
	struct peer	*p = calloc(1, sizeof(*p));

	memset(l, 0, sizeof(*l));
	l->base = event_base_new();
	assert_int_equal(peer_init(p, l->base, sv[1], "test", 0, table,
	    lost_cb, l, &err), 0);
	sv[1] = -1;
	return p;
}

static void
test_peer_protocol_error(void **state)
{
	struct ltest	 l;
	uint8_t		 rec[64];
	size_t		 n;
	int		 i;

	reader_peer(&l);
	for (i = 0; i < 3; i++) {
		msg_init(mb, T_A, 0);
		msg_put_u32(mb, (uint32_t)i);
		assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	}
	n = mkrec(rec, T_A, 2, 0, 0, 0, NULL, 0);
	send_raw(sv[0], rec, n, -1, 0);
	msg_send(sv[0], mb, -1, &err);	/* never read */
	assert_int_equal(event_base_dispatch(l.base), 0);
	assert_int_equal(ncalls, 3);
	assert_int_equal(l.nlost, 1);
	assert_int_equal(l.proto, 1);
	assert_string_equal(l.why,
	    "protocol error: protocol version 2, expected 1");
	event_base_free(l.base);
}

static void
test_peer_dispatch_error(void **state)
{
	struct ltest	 l;
	int		 before, dn = open("/dev/null", O_RDONLY | O_CLOEXEC);

	reader_peer(&l);
	before = count_fds();
	msg_init(mb, T_A, 0);
	msg_put_u32(mb, 1);
	assert_int_equal(msg_send(sv[0], mb, dn, &err), 0);
	assert_int_equal(event_base_dispatch(l.base), 0);
	assert_int_equal(ncalls, 0);
	assert_int_equal(l.proto, 1);
	assert_string_equal(l.why, "protocol error: test[0]: T_A (10): fd "
	    "not allowed on this type");
	assert_int_equal(count_fds(), before - 1);	/* peer socket too */
	event_base_free(l.base);
	close(dn);
}

static void
test_peer_eof(void **state)
{
	struct ltest	 l;

	reader_peer(&l);
	msg_init(mb, T_A, 0);
	msg_put_u32(mb, 1);
	assert_int_equal(msg_send(sv[0], mb, -1, &err), 0);
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(event_base_dispatch(l.base), 0);
	assert_int_equal(ncalls, 1);
	assert_int_equal(l.nlost, 1);
	assert_int_equal(l.proto, 0);
	assert_string_equal(l.why, "end of file");
	event_base_free(l.base);
}

static void
test_peer_queue_cap(void **state)
{
	static uint8_t	 big[60000];
	struct ltest	 l;
	struct peer	*p = reader_peer(&l);

	p->p_out_max = 100000;
	msg_init(mb, T_PLAIN, 0);
	msg_put_fixed(mb, big, sizeof(big));
	assert_int_equal(peer_send(p, mb, -1), 0);
	assert_int_equal(peer_send(p, mb, -1), -1);
	assert_int_equal(p->p_dead, 1);
	assert_int_equal(l.nlost, 0);		/* deferred to the loop */
	assert_int_equal(peer_send(p, mb, -1), -1);
	assert_int_equal(event_base_dispatch(l.base), 0);
	assert_int_equal(l.nlost, 1);
	assert_string_equal(l.why,
	    "output queue full (60016 bytes and 0 fds queued)");
	event_base_free(l.base);
}

static void
test_peer_drop(void **state)
{
	struct ltest	 l;
	struct peer	*p = reader_peer(&l);

	msg_init(mb, T_PLAIN, 0);
	msg_put_u8(mb, 1);
	mb->mb_error = "forced";
	assert_int_equal(peer_send(p, mb, -1), -1);
	assert_int_equal(p->p_dead, 0);
	peer_drop(p, "heartbeat timeout");
	peer_drop(p, "second reason is ignored");
	assert_int_equal(event_base_dispatch(l.base), 0);
	assert_int_equal(l.nlost, 1);
	assert_int_equal(l.proto, 0);
	assert_string_equal(l.why, "heartbeat timeout");
	event_base_free(l.base);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_wire_layout),
		T(test_roundtrip),
		T(test_limit),
		T(test_record_too_big),
		T(test_build_errors),
		T(test_truncated_records),
		T(test_truncated_payloads),
		T(test_getter_bounds),
		T(test_bad_headers),
		T(test_absurd_lengths),
		T(test_fd_allowed),
		T(test_fd_disallowed),
		T(test_fd_violations),
		T(test_dispatch),
		T(test_type_names),
		T(test_eof_and_eagain),
		T(test_peer_queue),
		T(test_peer_protocol_error),
		T(test_peer_dispatch_error),
		T(test_peer_eof),
		T(test_peer_queue_cap),
		T(test_peer_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
