/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * msg.c: framing, typed payloads, dispatch tables and the libevent peer
 * of the IPC protocol (msg.h, doc/PROTOCOL).
 *
 * Trust: every record read here may come from a hostile child.  All
 * checks report and return -1; fatalx() is reserved for allocation
 * failure and for misuse by our own startup code (msg_register_names).
 * msg_recv() allocates nothing, so no length field can make us allocate.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"

#define RECV_FDS_ROOM	8	/* room to see, and close, surplus fds */
#define NAMETABS_MAX	16

_Static_assert(sizeof(struct pm_hdr) == PM_HDR_SIZE, "pm_hdr layout");
_Static_assert(PM_PAYLOAD_MAX == 65520, "update the overflow message");

struct nametab {
	const struct msg_typename	*nt_tab;
	size_t				 nt_n;
};

struct fdset {
	int	 fds[RECV_FDS_ROOM];
	size_t	 n;
	int	 foreign;	/* a control message other than SCM_RIGHTS */
};

static int	 put(struct msgbuf *, const void *, size_t);
static void	 hdr_fill(struct pm_hdr *, const struct msgbuf *, int);
static int	 send_iov(int, struct iovec *, int, size_t, int);
static void	 collect_fds(struct msghdr *, struct fdset *);
static void	 close_fds(struct fdset *);
static int	 check_record(struct msg *, size_t, int, const struct fdset *,
		    struct buf *);
static int	 get(struct msg *, void *, size_t, const char *);
static int	 getfail(struct msg *, size_t, const char *);
static int	 get_counted(struct msg *, const uint8_t **, uint32_t *,
		    size_t);
static const struct msg_handler *lookup(const struct msg_handler *,
		    uint16_t);
static int	 check_entry(struct peer *, const struct msg_handler *,
		    struct msg *, const char *, struct buf *);
static void	 peer_dropf(struct peer *, int, const char *, ...)
		    PM_PRINTF(3, 4);
static void	 peer_dequeue(struct peer *, struct peer_out *);
static void	 peer_readcb(evutil_socket_t, short, void *);
static void	 peer_writecb(evutil_socket_t, short, void *);
static void	 peer_lostcb(evutil_socket_t, short, void *);

static struct nametab	 nametabs[NAMETABS_MAX];
static size_t		 nnametabs;

/* ---- building ----------------------------------------------------- */

void
msg_init(struct msgbuf *mb, uint16_t type, uint32_t id)
{
	mb->mb_type = type;
	mb->mb_id = id;
	mb->mb_len = 0;
	mb->mb_error = NULL;
}

static int
put(struct msgbuf *mb, const void *p, size_t n)
{
	if (mb->mb_error != NULL)
		return -1;
	if (n > PM_PAYLOAD_MAX - mb->mb_len) {
		mb->mb_error = "payload over the 65520-byte limit";
		return -1;
	}
	if (n > 0)
		memcpy(mb->mb_data + mb->mb_len, p, n);
	mb->mb_len += n;
	return 0;
}

int
msg_put_u8(struct msgbuf *mb, uint8_t v)
{
	return put(mb, &v, sizeof(v));
}

int
msg_put_u16(struct msgbuf *mb, uint16_t v)
{
	return put(mb, &v, sizeof(v));
}

int
msg_put_u32(struct msgbuf *mb, uint32_t v)
{
	return put(mb, &v, sizeof(v));
}

int
msg_put_u64(struct msgbuf *mb, uint64_t v)
{
	return put(mb, &v, sizeof(v));
}

int
msg_put_i64(struct msgbuf *mb, int64_t v)
{
	return put(mb, &v, sizeof(v));
}

int
msg_put_bytes(struct msgbuf *mb, const void *p, size_t n)
{
	uint32_t	 n32;

	if (mb->mb_error == NULL && p == NULL && n > 0)
		mb->mb_error = "NULL bytes pointer";
	/* Check the whole field first so a failed put leaves no prefix. */
	if (mb->mb_error == NULL && (n > PM_PAYLOAD_MAX ||
	    sizeof(n32) + n > PM_PAYLOAD_MAX - mb->mb_len))
		mb->mb_error = "payload over the 65520-byte limit";
	if (mb->mb_error != NULL)
		return -1;
	n32 = (uint32_t)n;
	put(mb, &n32, sizeof(n32));
	return put(mb, p, n);
}

int
msg_put_str(struct msgbuf *mb, const char *s)
{
	if (s == NULL) {
		if (mb->mb_error == NULL)
			mb->mb_error = "NULL string";
		return -1;
	}
	return msg_put_bytes(mb, s, strlen(s));
}

int
msg_put_fixed(struct msgbuf *mb, const void *p, size_t n)
{
	if (mb->mb_error == NULL && p == NULL && n > 0)
		mb->mb_error = "NULL fixed-field pointer";
	return put(mb, p, n);
}

/* ---- sending ------------------------------------------------------ */

static void
hdr_fill(struct pm_hdr *h, const struct msgbuf *mb, int fd)
{
	memset(h, 0, sizeof(*h));
	h->type = mb->mb_type;
	h->version = PM_PROTO_VERSION;
	h->flags = fd >= 0 ? PM_F_FD : 0;
	h->len = (uint32_t)mb->mb_len;
	h->id = mb->mb_id;
}

/* One sendmsg of a whole record; -1 with errno set (EMSGSIZE if short). */
static int
send_iov(int sock, struct iovec *iov, int iovcnt, size_t total, int fd)
{
	struct msghdr	 mh;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct cmsghdr	*c;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)iovcnt;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != total) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
msg_send(int sock, struct msgbuf *mb, int fd, struct buf *err)
{
	struct pm_hdr	 h;
	struct iovec	 iov[2];

	if (mb->mb_error != NULL)
		return errf(err, "message %s (%u) not sent: %s",
		    msg_type_name(mb->mb_type), mb->mb_type, mb->mb_error);
	hdr_fill(&h, mb, fd);
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = mb->mb_data;
	iov[1].iov_len = mb->mb_len;
	if (send_iov(sock, iov, 2, sizeof(h) + mb->mb_len, fd) == -1)
		return errf(err, "send message %s (%u): %s",
		    msg_type_name(mb->mb_type), mb->mb_type, strerror(errno));
	return 0;
}

/* ---- receiving ---------------------------------------------------- */

static void
collect_fds(struct msghdr *mh, struct fdset *fs)
{
	struct cmsghdr	*c;
	size_t		 i, n;
	int		 fd;

	fs->n = 0;
	fs->foreign = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_RIGHTS) {
			fs->foreign = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (fs->n < nitems(fs->fds))
				fs->fds[fs->n++] = fd;
			else
				close(fd);	/* cannot happen: no room */
		}
	}
}

static void
close_fds(struct fdset *fs)
{
	size_t	 i;

	for (i = 0; i < fs->n; i++)
		close(fs->fds[i]);
	fs->n = 0;
}

/* 1 if the record is a well-framed message, 0 for EOF, -1 otherwise. */
static int
check_record(struct msg *m, size_t n, int mflags, const struct fdset *fs,
    struct buf *err)
{
	struct pm_hdr	*h = &m->m_hdr;

	if (mflags & MSG_CTRUNC)
		return errf(err, "control data truncated (too many fds, "
		    "or our fd table is full)");
	if (mflags & MSG_TRUNC)
		return errf(err, "record larger than %d bytes", PM_MSG_MAX);
	if (fs->foreign)
		return errf(err, "unexpected control message");
	if (n == 0 && fs->n == 0)
		return 0;
	if (n < PM_HDR_SIZE)
		return errf(err, "short record (%zu bytes, header is %d)",
		    n, PM_HDR_SIZE);
	memcpy(h, m->m_rec.b, PM_HDR_SIZE);
	if (h->version != PM_PROTO_VERSION)
		return errf(err, "protocol version %u, expected %d",
		    h->version, PM_PROTO_VERSION);
	if (h->reserved != 0)
		return errf(err, "reserved header field is 0x%08x, must be 0",
		    h->reserved);
	if (h->flags & ~PM_F_KNOWN)
		return errf(err, "unknown flag bits 0x%02x",
		    h->flags & ~PM_F_KNOWN);
	if (h->len != n - PM_HDR_SIZE)
		return errf(err, "length field %u does not match the %zu "
		    "payload bytes received", h->len, n - PM_HDR_SIZE);
	if (fs->n > 1)
		return errf(err, "%zu fds received, at most 1 allowed", fs->n);
	if ((h->flags & PM_F_FD) && fs->n == 0)
		return errf(err, "PM_F_FD set but no fd received");
	if (!(h->flags & PM_F_FD) && fs->n != 0)
		return errf(err, "fd received without PM_F_FD");
	m->m_data = m->m_rec.b + PM_HDR_SIZE;
	m->m_len = h->len;
	return 1;
}

int
msg_recv(int sock, struct msg *m, struct buf *err)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * RECV_FDS_ROOM)];
	}		 cm;
	struct fdset	 fs;
	ssize_t		 n;
	int		 rv;

	memset(&m->m_hdr, 0, sizeof(m->m_hdr));
	m->m_data = m->m_rec.b + PM_HDR_SIZE;
	m->m_len = m->m_off = m->m_bad_off = 0;
	m->m_fd = -1;
	m->m_bad = NULL;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = m->m_rec.b;
	iov.iov_len = sizeof(m->m_rec.b);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 2;
		rv = errno;
		errf(err, "recvmsg: %s", strerror(rv));
		errno = rv;
		return -1;
	}
	collect_fds(&mh, &fs);
	rv = check_record(m, (size_t)n, mh.msg_flags, &fs, err);
	if (rv == 1 && fs.n == 1)
		m->m_fd = fs.fds[0];
	else
		close_fds(&fs);
	if (rv == -1)
		errno = EPROTO;
	return rv;
}

/* ---- reading payloads --------------------------------------------- */

static int
getfail(struct msg *m, size_t off, const char *why)
{
	m->m_off = off;
	m->m_bad = why;
	m->m_bad_off = off;
	return -1;
}

static int
get(struct msg *m, void *out, size_t n, const char *what)
{
	if (n > m->m_len - m->m_off)
		return getfail(m, m->m_off, what);
	if (n > 0)
		memcpy(out, m->m_data + m->m_off, n);
	m->m_off += n;
	return 0;
}

int
msg_get_u8(struct msg *m, uint8_t *v)
{
	return get(m, v, sizeof(*v), "truncated u8");
}

int
msg_get_u16(struct msg *m, uint16_t *v)
{
	return get(m, v, sizeof(*v), "truncated u16");
}

int
msg_get_u32(struct msg *m, uint32_t *v)
{
	return get(m, v, sizeof(*v), "truncated u32");
}

int
msg_get_u64(struct msg *m, uint64_t *v)
{
	return get(m, v, sizeof(*v), "truncated u64");
}

int
msg_get_i64(struct msg *m, int64_t *v)
{
	return get(m, v, sizeof(*v), "truncated i64");
}

int
msg_get_fixed(struct msg *m, void *out, size_t n)
{
	return get(m, out, n, "truncated fixed field");
}

/* A u32 length and that many bytes, at most maxlen. */
static int
get_counted(struct msg *m, const uint8_t **p, uint32_t *n, size_t maxlen)
{
	size_t	 start = m->m_off;

	if (get(m, n, sizeof(*n), "truncated length prefix") == -1)
		return -1;
	if (*n > maxlen)
		return getfail(m, start, "length over its limit");
	if (*n > m->m_len - m->m_off)
		return getfail(m, start, "truncated counted field");
	*p = m->m_data + m->m_off;
	m->m_off += *n;
	return 0;
}

int
msg_get_str(struct msg *m, char **out, size_t maxlen)
{
	const uint8_t	*p;
	size_t		 start = m->m_off;
	uint32_t	 n;

	*out = NULL;
	if (get_counted(m, &p, &n, maxlen) == -1)
		return -1;
	if (memchr(p, '\0', n) != NULL)
		return getfail(m, start, "NUL inside string");
	*out = xmalloc((size_t)n + 1);
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

int
msg_get_bytes(struct msg *m, const void **p, size_t *n, size_t maxlen)
{
	const uint8_t	*q;
	uint32_t	 n32;

	*p = NULL;
	*n = 0;
	if (get_counted(m, &q, &n32, maxlen) == -1)
		return -1;
	*p = q;
	*n = n32;
	return 0;
}

int
msg_end(struct msg *m)
{
	if (m->m_off != m->m_len)
		return getfail(m, m->m_off, "trailing bytes");
	return 0;
}

int
msg_reject(struct msg *m, const char *why)
{
	m->m_bad = why;
	m->m_bad_off = m->m_off;
	return -1;
}

int
msg_take_fd(struct msg *m)
{
	int	 fd = m->m_fd;

	m->m_fd = -1;
	return fd;
}

void
msg_release(struct msg *m)
{
	if (m->m_fd != -1)
		close(m->m_fd);
	m->m_fd = -1;
}

/* ---- names -------------------------------------------------------- */

void
msg_register_names(const struct msg_typename *tab, size_t n)
{
	size_t	 i;

	for (i = 0; i < nnametabs; i++)
		if (nametabs[i].nt_tab == tab)
			return;
	if (nnametabs == NAMETABS_MAX)
		fatalx("msg_register_names: more than %d tables",
		    NAMETABS_MAX);
	nametabs[nnametabs].nt_tab = tab;
	nametabs[nnametabs].nt_n = n;
	nnametabs++;
}

const char *
msg_type_name(uint16_t type)
{
	size_t	 i, j;

	for (i = 0; i < nnametabs; i++)
		for (j = 0; j < nametabs[i].nt_n; j++)
			if (nametabs[i].nt_tab[j].type == type)
				return nametabs[i].nt_tab[j].name;
	return "unknown";
}

/* ---- dispatch ----------------------------------------------------- */

static const struct msg_handler *
lookup(const struct msg_handler *tab, uint16_t type)
{
	if (tab == NULL)
		return NULL;
	for (; tab->fn != NULL; tab++)
		if (tab->type == type)
			return tab;
	return NULL;
}

static int
check_entry(struct peer *p, const struct msg_handler *h, struct msg *m,
    const char *who, struct buf *err)
{
	uint16_t	 t = m->m_hdr.type;
	const char	*name = msg_type_name(t);

	if (m->m_len < h->min_len || m->m_len > h->max_len)
		return errf(err, "%s: %s (%u): payload of %zu bytes outside "
		    "[%u, %u]", who, name, t, m->m_len, h->min_len,
		    h->max_len);
	if (m->m_fd != -1 && !(h->flags & MSG_ALLOW_FD))
		return errf(err, "%s: %s (%u): fd not allowed on this type",
		    who, name, t);
	if (!(h->flags & MSG_ONCE))
		return 0;
	if (p == NULL)
		return errf(err, "%s: %s (%u): MSG_ONCE needs a peer",
		    who, name, t);
	if (p->p_once[t / 8] & (1U << (t % 8)))
		return errf(err, "%s: %s (%u): repeated, allowed once",
		    who, name, t);
	p->p_once[t / 8] |= (uint8_t)(1U << (t % 8));
	return 0;
}

int
msg_dispatch(struct peer *p, const struct msg_handler *tab, struct msg *m,
    struct buf *err)
{
	const struct msg_handler *h;
	uint16_t	 t = m->m_hdr.type;
	char		 who[64];

	if (p != NULL)
		snprintf(who, sizeof(who), "%s[%ld]", p->p_role,
		    (long)p->p_pid);
	else
		snprintf(who, sizeof(who), "peer");
	if ((h = lookup(tab, t)) == NULL) {
		errf(err, "%s: unknown message type %u", who, t);
		goto fail;
	}
	if (check_entry(p, h, m, who, err) == -1)
		goto fail;
	m->m_bad = NULL;
	if (h->fn(p, m) == -1) {
		errf(err, "%s: %s (%u): %s (payload offset %zu of %zu)", who,
		    msg_type_name(t), t, m->m_bad != NULL ? m->m_bad :
		    "rejected by handler", m->m_bad_off, m->m_len);
		goto fail;
	}
	return 0;
fail:
	msg_release(m);
	return -1;
}

/* ---- peers -------------------------------------------------------- */

int
peer_init(struct peer *p, struct event_base *base, int sock,
    const char *role, pid_t pid, const struct msg_handler *table,
    peer_lost_fn lost, void *arg, struct buf *err)
{
	int	 fl;

	memset(p, 0, sizeof(*p));
	p->p_sock = sock;
	snprintf(p->p_role, sizeof(p->p_role), "%s", role);
	p->p_pid = pid;
	p->p_table = table;
	p->p_lost = lost;
	p->p_arg = arg;
	p->p_base = base;
	p->p_out_max = PEER_OUT_MAX;
	TAILQ_INIT(&p->p_outq);
	p->p_msg = xmalloc(sizeof(*p->p_msg));
	p->p_msg->m_fd = -1;
	if (base == NULL)
		return 0;
	if ((fl = fcntl(sock, F_GETFL)) == -1 ||
	    fcntl(sock, F_SETFL, fl | O_NONBLOCK) == -1) {
		errf(err, "peer %s: fcntl O_NONBLOCK: %s", role,
		    strerror(errno));
		goto fail;
	}
	p->p_ev_read = event_new(base, sock, EV_READ | EV_PERSIST,
	    peer_readcb, p);
	p->p_ev_write = event_new(base, sock, EV_WRITE | EV_PERSIST,
	    peer_writecb, p);
	p->p_ev_lost = event_new(base, -1, 0, peer_lostcb, p);
	if (p->p_ev_read == NULL || p->p_ev_write == NULL ||
	    p->p_ev_lost == NULL || event_add(p->p_ev_read, NULL) == -1) {
		errf(err, "peer %s: cannot set up libevent events", role);
		goto fail;
	}
	return 0;
fail:
	p->p_sock = -1;		/* the caller keeps the socket */
	peer_free(p);
	return -1;
}

static void
peer_dropf(struct peer *p, int proto, const char *fmt, ...)
{
	va_list	 ap;

	if (p->p_dead)
		return;
	p->p_dead = 1;
	p->p_proto_error = proto;
	va_start(ap, fmt);
	vsnprintf(p->p_why, sizeof(p->p_why), fmt, ap);
	va_end(ap);
	if (p->p_base == NULL)
		return;
	event_del(p->p_ev_read);
	event_del(p->p_ev_write);
	event_active(p->p_ev_lost, EV_TIMEOUT, 0);
}

void
peer_drop(struct peer *p, const char *why)
{
	peer_dropf(p, 0, "%s", why);
}

static void
peer_lostcb(evutil_socket_t fd, short ev, void *arg)
{
	struct peer	*p = arg;

	if (p->p_lost != NULL)
		p->p_lost(p, p->p_why);	/* may free p: touch nothing after */
}

static void
peer_readcb(evutil_socket_t fd, short ev, void *arg)
{
	struct peer	*p = arg;
	struct buf	 err = BUF_INIT;
	int		 i, r;

	for (i = 0; i < PEER_READ_BATCH && !p->p_dead; i++) {
		r = msg_recv(p->p_sock, p->p_msg, &err);
		if (r == 2)
			break;
		if (r == 0)
			peer_dropf(p, 0, "end of file");
		else if (r == -1)
			peer_dropf(p, errno == EPROTO, "%s%s",
			    errno == EPROTO ? "protocol error: " : "",
			    buf_str(&err));
		else if (msg_dispatch(p, p->p_table, p->p_msg, &err) == -1)
			peer_dropf(p, 1, "protocol error: %s", buf_str(&err));
		msg_release(p->p_msg);
	}
	buf_free(&err);
}

static void
peer_dequeue(struct peer *p, struct peer_out *po)
{
	TAILQ_REMOVE(&p->p_outq, po, po_entry);
	p->p_out_bytes -= po->po_len;
	if (po->po_fd != -1) {
		close(po->po_fd);
		p->p_out_fds--;
	}
	free(po);
}

static void
peer_writecb(evutil_socket_t fd, short ev, void *arg)
{
	struct peer	*p = arg;
	struct peer_out	*po;
	struct iovec	 iov;

	while ((po = TAILQ_FIRST(&p->p_outq)) != NULL) {
		iov.iov_base = po->po_data;
		iov.iov_len = po->po_len;
		if (send_iov(p->p_sock, &iov, 1, po->po_len,
		    po->po_fd) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			peer_dropf(p, 0, "sendmsg: %s", strerror(errno));
			return;
		}
		peer_dequeue(p, po);
	}
	event_del(p->p_ev_write);
}

int
peer_send(struct peer *p, struct msgbuf *mb, int fd)
{
	struct peer_out	*po;
	struct pm_hdr	 h;
	size_t		 len = PM_HDR_SIZE + mb->mb_len;

	if (p->p_dead || p->p_base == NULL || mb->mb_error != NULL)
		return -1;
	if (len > p->p_out_max || p->p_out_bytes > p->p_out_max - len ||
	    (fd >= 0 && p->p_out_fds >= PEER_OUT_FDS_MAX)) {
		peer_dropf(p, 0, "output queue full (%zu bytes and %zu fds "
		    "queued)", p->p_out_bytes, p->p_out_fds);
		return -1;
	}
	po = xmalloc(sizeof(*po) + len);
	po->po_fd = -1;
	if (fd >= 0 && (po->po_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(po);
		return -1;
	}
	hdr_fill(&h, mb, fd);
	memcpy(po->po_data, &h, PM_HDR_SIZE);
	memcpy(po->po_data + PM_HDR_SIZE, mb->mb_data, mb->mb_len);
	po->po_len = len;
	if (TAILQ_EMPTY(&p->p_outq) && event_add(p->p_ev_write, NULL) == -1) {
		if (po->po_fd != -1)
			close(po->po_fd);
		free(po);
		peer_dropf(p, 0, "event_add(EV_WRITE) failed");
		return -1;
	}
	TAILQ_INSERT_TAIL(&p->p_outq, po, po_entry);
	p->p_out_bytes += len;
	if (po->po_fd != -1)
		p->p_out_fds++;
	return 0;
}

void
peer_free(struct peer *p)
{
	struct peer_out	*po;

	if (p->p_ev_read != NULL)
		event_free(p->p_ev_read);
	if (p->p_ev_write != NULL)
		event_free(p->p_ev_write);
	if (p->p_ev_lost != NULL)
		event_free(p->p_ev_lost);
	p->p_ev_read = p->p_ev_write = p->p_ev_lost = NULL;
	while ((po = TAILQ_FIRST(&p->p_outq)) != NULL)
		peer_dequeue(p, po);
	if (p->p_msg != NULL) {
		msg_release(p->p_msg);
		free(p->p_msg);
		p->p_msg = NULL;
	}
	if (p->p_sock != -1)
		close(p->p_sock);
	p->p_sock = -1;
	p->p_dead = 1;
}
