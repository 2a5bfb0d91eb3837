/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fuzz_msg.c: libFuzzer harness for the IPC decoder (src/msg.c).
 *
 * Input: bits 0-1 of byte 0 pick how many fds ride along (0, 1, 2 or 5
 * copies of /dev/null); bit 2 repairs the header (version, reserved, len,
 * PM_F_FD to match the fds) so the fuzzer reaches the payload decoders
 * quickly.  The rest is written as one SOCK_SEQPACKET record and read
 * back with msg_recv().  A well-framed message goes through a sample
 * dispatch table whose handlers use every getter.  Invariants (abort on
 * violation): no fd survives a call, the getters never move past the
 * payload, and a MSG_ONCE type is refused the second time.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 h_ints(struct peer *, struct msg *);
static int	 h_strs(struct peer *, struct msg *);
static int	 h_once(struct peer *, struct msg *);
static int	 h_tagged(struct peer *, struct msg *);
static int	 h_reject(struct peer *, struct msg *);

static const struct msg_handler table[] = {
	{ 1, 0, 64, 0, h_ints },
	{ 2, 8, 4096, MSG_ALLOW_FD, h_strs },
	{ 3, 36, 36 + 4 + 64, MSG_ONCE, h_once },
	{ 4, 0, PM_PAYLOAD_MAX, 0, h_tagged },
	{ 5, 0, 0, MSG_ALLOW_FD | MSG_ONCE, h_reject },
	{ 0, 0, 0, 0, NULL }
};

static uint8_t	 rec[PM_MSG_MAX + 64];
static int	 sv[2] = { -1, -1 };
static int	 devnull = -1;
static struct msg *m;

static void
check_off(const struct msg *r)
{
	if (r->m_off > r->m_len || r->m_len > PM_PAYLOAD_MAX)
		abort();
}

static int
h_ints(struct peer *p, struct msg *r)
{
	uint8_t		 a;
	uint16_t	 b;
	uint32_t	 c;
	uint64_t	 d;
	int64_t		 e;

	if (msg_get_u8(r, &a) == -1 || msg_get_u16(r, &b) == -1 ||
	    msg_get_u32(r, &c) == -1 || msg_get_u64(r, &d) == -1 ||
	    msg_get_i64(r, &e) == -1)
		return -1;
	check_off(r);
	return msg_end(r);
}

static int
h_strs(struct peer *p, struct msg *r)
{
	const void	*b;
	char		*s;
	size_t		 n;
	int		 fd, rv = -1;

	if ((fd = msg_take_fd(r)) != -1)
		close(fd);
	if (msg_get_str(r, &s, 256) == -1)
		return -1;
	if (strlen(s) > 256)
		abort();
	if (msg_get_bytes(r, &b, &n, 1024) == 0 && n <= 1024 &&
	    (const uint8_t *)b + n <= r->m_data + r->m_len)
		rv = msg_end(r);
	check_off(r);
	free(s);
	return rv;
}

static int
h_once(struct peer *p, struct msg *r)
{
	uint8_t	 fixed[32];
	char	*s;

	if (msg_get_fixed(r, fixed, sizeof(fixed)) == -1 ||
	    msg_get_str(r, &s, 64) == -1)
		return -1;
	free(s);
	check_off(r);
	return msg_end(r);
}

/* A self-describing payload: tag byte, then a value of that kind. */
static int
h_tagged(struct peer *p, struct msg *r)
{
	const void	*b;
	char		*s;
	uint8_t		 tag, fx[8];
	uint32_t	 u;
	size_t		 n;
	int		 rv = 0;

	while (rv == 0 && r->m_off < r->m_len) {
		if (msg_get_u8(r, &tag) == -1)
			return -1;
		switch (tag % 4) {
		case 0:
			rv = msg_get_u32(r, &u);
			break;
		case 1:
			if ((rv = msg_get_str(r, &s, 512)) == 0)
				free(s);
			break;
		case 2:
			rv = msg_get_bytes(r, &b, &n, 4096);
			break;
		default:
			rv = msg_get_fixed(r, fx, sizeof(fx));
			break;
		}
		check_off(r);
	}
	return rv == 0 ? msg_end(r) : -1;
}

static int
h_reject(struct peer *p, struct msg *r)
{
	return msg_reject(r, "never allowed");
}

static void
init(void)
{
	int	 sz = 256 * 1024;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
}

static int
send_record(const uint8_t *p, size_t n, size_t nfds)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(5 * sizeof(int))];
	}		 cm;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	size_t		 i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)p;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &devnull,
			    sizeof(int));
	}
	return sendmsg(sv[0], &mh, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static void
repair(uint8_t *r, size_t n, size_t nfd)
{
	struct pm_hdr	 h;

	if (n < PM_HDR_SIZE)
		return;
	memcpy(&h, r, sizeof(h));
	h.version = PM_PROTO_VERSION;
	h.reserved = 0;
	h.len = (uint32_t)(n - PM_HDR_SIZE);
	h.flags = nfd == 1 ? PM_F_FD : 0;
	memcpy(r, &h, sizeof(h));
}

static int
lowest_free_fd(void)
{
	int	 fd = dup(0);

	if (fd != -1)
		close(fd);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 nfds[] = { 0, 1, 2, 5 };
	struct peer		 p;
	struct buf		 err = BUF_INIT;
	size_t			 n;
	int			 low, r;

	if (sv[0] == -1)
		init();
	if (size < 1)
		return 0;
	n = size - 1 < sizeof(rec) ? size - 1 : sizeof(rec);
	memcpy(rec, data + 1, n);
	if (data[0] & 4)
		repair(rec, n, nfds[data[0] & 3]);
	low = lowest_free_fd();
	if (send_record(rec, n, nfds[data[0] & 3]) == -1)
		return 0;	/* e.g. larger than the socket buffer */
	r = msg_recv(sv[1], m, &err);
	if (r == 1) {
		if (m->m_len != m->m_hdr.len || m->m_len > PM_PAYLOAD_MAX)
			abort();
		peer_init(&p, NULL, -1, "fuzz", 1, table, NULL, NULL, &err);
		if (msg_dispatch(&p, table, m, &err) == 0 &&
		    m->m_hdr.type == 3) {
			m->m_off = 0;
			if (msg_dispatch(&p, table, m, &err) != -1)
				abort();
		}
		check_off(m);
		msg_release(m);
		peer_free(&p);
	} else if (r == 2 || m->m_fd != -1)
		abort();	/* the record was sent: it must be there */
	buf_free(&err);
	if (lowest_free_fd() != low)
		abort();	/* an fd leaked */
	return 0;
}
