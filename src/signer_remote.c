/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * signer_remote.c: the signer interface over a parent channel
 * (signer_remote.h).
 *
 * Trust: PM_SIGN_ANS comes from the signer through the parent; it is
 * parsed strictly and its signature verified before it is returned.
 * Other messages are copied verbatim for the owner, never interpreted.
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "msg.h"
#include "msgtypes.h"
#include "sign.h"
#include "signer_remote.h"

struct kept {
	TAILQ_ENTRY(kept)	 k_entry;
	int			 k_fd;
	size_t			 k_len;		/* header + payload */
	uint8_t			 k_rec[];
};

struct remote {
	int			 r_sock;
	int			 r_timeout_ms;
	uint8_t			 r_pub[32];
	int			 r_have_pub;
	int			(*r_other)(void *, struct msg *);
	void			*r_other_arg;
	struct msg		*r_msg;
	TAILQ_HEAD(, kept)	 r_kept;
	size_t			 r_nkept;
	uint64_t		 r_stale;
};

static uint32_t	 next_id;

static int64_t	 now_ms(void);
static int	 wait_for(struct remote *, short, int64_t, struct buf *);
static int	 send_req(struct remote *, struct msgbuf *, int64_t,
		    struct buf *);
static int	 keep(struct remote *, struct msg *, struct buf *);
static int	 other(struct remote *, struct msg *, struct buf *);
static int	 read_answer(struct remote *, struct msg *, enum sign_kind,
		    const char *, const uint8_t [32], uint8_t [64],
		    uint8_t [32], struct buf *);
static int	 remote_sign(struct signer *, enum sign_kind, const char *,
		    const char *, const uint8_t [32], uint8_t [64],
		    uint8_t [32], struct buf *);

struct signer *
signer_remote_new(const struct signer_remote_opts *o)
{
	struct signer	*s = xcalloc(1, sizeof(*s));
	struct remote	*r = xcalloc(1, sizeof(*r));

	r->r_sock = o->sock;
	r->r_timeout_ms = o->timeout_ms > 0 ? o->timeout_ms :
	    SIGNER_REMOTE_TIMEOUT_MS;
	if (o->expect_pub != NULL) {
		memcpy(r->r_pub, o->expect_pub, 32);
		r->r_have_pub = 1;
	}
	r->r_other = o->other;
	r->r_other_arg = o->other_arg;
	r->r_msg = xmalloc(sizeof(*r->r_msg));
	r->r_msg->m_fd = -1;
	TAILQ_INIT(&r->r_kept);
	s->sign = remote_sign;
	s->ctx = r;
	return s;
}

void
signer_remote_free(struct signer *s)
{
	struct remote	*r;
	struct kept	*k;

	if (s == NULL)
		return;
	r = s->ctx;
	while ((k = TAILQ_FIRST(&r->r_kept)) != NULL) {
		TAILQ_REMOVE(&r->r_kept, k, k_entry);
		if (k->k_fd != -1)
			close(k->k_fd);
		free(k);
	}
	free(r->r_msg);
	free(r);
	free(s);
}

int
signer_remote_next(struct signer *s, struct msg *m)
{
	struct remote	*r = s->ctx;
	struct kept	*k;

	if ((k = TAILQ_FIRST(&r->r_kept)) == NULL)
		return 0;
	TAILQ_REMOVE(&r->r_kept, k, k_entry);
	r->r_nkept--;
	memcpy(m->m_rec.b, k->k_rec, k->k_len);
	memcpy(&m->m_hdr, k->k_rec, PM_HDR_SIZE);
	m->m_data = m->m_rec.b + PM_HDR_SIZE;
	m->m_len = k->k_len - PM_HDR_SIZE;
	m->m_off = m->m_bad_off = 0;
	m->m_bad = NULL;
	m->m_fd = k->k_fd;
	free(k);
	return 1;
}

size_t
signer_remote_kept(const struct signer *s)
{
	return ((const struct remote *)s->ctx)->r_nkept;
}

uint64_t
signer_remote_stale(const struct signer *s)
{
	return ((const struct remote *)s->ctx)->r_stale;
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when the socket is ready for `ev`, -1 at the deadline or on error. */
static int
wait_for(struct remote *r, short ev, int64_t deadline, struct buf *err)
{
	struct pollfd	 pfd = { r->r_sock, ev, 0 };
	int64_t		 left;
	int		 n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return errf(err, "no answer from the signer within "
			    "%d ms", r->r_timeout_ms);
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n == -1 && errno != EINTR)
			return errf(err, "poll: %s", strerror(errno));
		if (n > 0)
			return 0;
	}
}

static int
send_req(struct remote *r, struct msgbuf *mb, int64_t deadline,
    struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 rc;

	for (;;) {
		if (wait_for(r, POLLOUT, deadline, err) == -1)
			return -1;
		buf_reset(&e);
		errno = 0;
		if ((rc = msg_send(r->r_sock, mb, -1, &e)) == 0 ||
		    (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
	}
	if (rc == -1)
		errf(err, "%s", buf_str(&e));
	buf_free(&e);
	return rc;
}

static int
keep(struct remote *r, struct msg *m, struct buf *err)
{
	struct kept	*k;
	size_t		 len = PM_HDR_SIZE + m->m_len;

	if (r->r_nkept >= SIGNER_REMOTE_KEEP_MAX) {
		msg_release(m);
		return errf(err, "more than %d messages arrived while waiting "
		    "for the signer", SIGNER_REMOTE_KEEP_MAX);
	}
	k = xmalloc(sizeof(*k) + len);
	memcpy(k->k_rec, &m->m_hdr, PM_HDR_SIZE);
	memcpy(k->k_rec + PM_HDR_SIZE, m->m_data, m->m_len);
	k->k_len = len;
	k->k_fd = msg_take_fd(m);
	TAILQ_INSERT_TAIL(&r->r_kept, k, k_entry);
	r->r_nkept++;
	return 0;
}

/* A message that is not the awaited answer. */
static int
other(struct remote *r, struct msg *m, struct buf *err)
{
	int	 v = SR_KEEP;

	if (m->m_hdr.type == PM_SIGN_ANS) {
		r->r_stale++;
		msg_release(m);
		return 0;
	}
	if (r->r_other != NULL)
		v = r->r_other(r->r_other_arg, m);
	if (v == SR_KEEP)
		return keep(r, m, err);
	msg_release(m);
	if (v == SR_ABORT)
		return errf(err, "gave up waiting for the signer: %s (%u) "
		    "could not be handled", msg_type_name(m->m_hdr.type),
		    m->m_hdr.type);
	return 0;
}

/* PM_SIGN_ANS: u8 ok, fixed[64] signature, fixed[32] key, str error. */
static int
read_answer(struct remote *r, struct msg *m, enum sign_kind kind,
    const char *subject, const uint8_t digest[32], uint8_t sig[64],
    uint8_t pub[32], struct buf *err)
{
	char		*e = NULL, got[65], want[65];
	uint8_t		 ok;
	int		 rc = -1;

	if (msg_get_u8(m, &ok) == -1 || msg_get_fixed(m, sig, 64) == -1 ||
	    msg_get_fixed(m, pub, 32) == -1 ||
	    msg_get_str(m, &e, PM_ERR_MAX) == -1 || msg_end(m) == -1 ||
	    ok > 1)
		errf(err, "%s signature for %s: malformed answer: %s",
		    sign_kind_name(kind), subject, m->m_bad != NULL ?
		    m->m_bad : "bad ok flag");
	else if (!ok)
		errf(err, "%s signature for %s refused by the signer: %s",
		    sign_kind_name(kind), subject, e[0] != '\0' ? e :
		    "no reason given");
	else if (!ed25519_verify(pub, digest, 32, sig))
		errf(err, "%s signature for %s from the signer does not "
		    "verify", sign_kind_name(kind), subject);
	else if (r->r_have_pub && memcmp(pub, r->r_pub, 32) != 0) {
		fingerprint_hex(pub, got);
		fingerprint_hex(r->r_pub, want);
		errf(err, "%s signature for %s made with key %s, expected "
		    "%s", sign_kind_name(kind), subject, got, want);
	} else
		rc = 0;
	free(e);
	msg_release(m);
	return rc;
}

static int
remote_sign(struct signer *s, enum sign_kind kind, const char *subject,
    const char *keyname, const uint8_t digest[32], uint8_t sig[64],
    uint8_t pub[32], struct buf *err)
{
	struct remote	*r = s->ctx;
	struct msgbuf	*mb;
	struct msg	*m = r->r_msg;
	uint32_t	 id;
	int64_t		 deadline = now_ms() + r->r_timeout_ms;
	int		 n, rc = -1;

	if (keyname == NULL)
		keyname = "";
	if (subject == NULL || strlen(subject) > PM_STR_MAX ||
	    strlen(keyname) > PM_ID_MAX)
		return errf(err, "%s signature: subject or key name missing "
		    "or too long", sign_kind_name(kind));
	if (++next_id == 0)
		next_id = 1;
	id = next_id;
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_SIGN_REQ, id);
	msg_put_u8(mb, (uint8_t)kind);
	msg_put_str(mb, subject);
	msg_put_str(mb, keyname);
	msg_put_fixed(mb, digest, 32);
	if (send_req(r, mb, deadline, err) == -1)
		goto out;
	for (;;) {
		if (wait_for(r, POLLIN, deadline, err) == -1)
			goto out;
		if ((n = msg_recv(r->r_sock, m, err)) == 2)
			continue;
		if (n != 1) {
			if (n == 0)
				errf(err, "the channel closed while waiting "
				    "for the signer");
			goto out;
		}
		if (m->m_hdr.type == PM_SIGN_ANS && m->m_hdr.id == id)
			break;
		if (other(r, m, err) == -1)
			goto out;
	}
	rc = read_answer(r, m, kind, subject, digest, sig, pub, err);
out:
	if (rc == -1)
		memset(sig, 0, 64);
	free(mb);
	return rc;
}
