/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * signer_remote.h: a struct signer (sign.h) that asks the signer process
 * over a parent channel: sign() sends PM_SIGN_REQ (kind, subject, key
 * name, digest) and waits, bounded, for the PM_SIGN_ANS with the same
 * request id.  The answer is believed only if its signature verifies
 * against the returned public key over the digest, and, when the caller
 * names the expected public key, if it is that key.
 *
 * sign() is synchronous: it is meant for a process that can block while
 * a signature is made, the build worker or the publisher's publish
 * child.  The channel may be blocking or non-blocking (poll() does the
 * waiting either way).  Other messages can arrive on the channel while
 * sign() waits; each goes to opts.other when set (which may handle it at
 * once, e.g. answer PM_PING, or keep it), otherwise it is kept in
 * arrival order, with its fd, for the owner to dispatch afterwards with
 * signer_remote_next().  An answer with another request id (left over
 * from a request that timed out) is dropped.
 *
 * Request ids come from one counter per process, so several remote
 * signers may share a channel.  Library code: never logs.
 *
 * Trust: the answer comes through the parent from the signer process;
 * it is checked cryptographically before use, and malformed answers are
 * errors, not crashes.
 */
#ifndef PM_SIGNER_REMOTE_H
#define PM_SIGNER_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "sign.h"
#include "util.h"

#define SIGNER_REMOTE_TIMEOUT_MS	30000
#define SIGNER_REMOTE_KEEP_MAX		1024	/* messages kept meanwhile */

/* opts.other return values. */
#define SR_HANDLED	0	/* done with it (the callback released it) */
#define SR_KEEP		1	/* keep it for signer_remote_next() */
#define SR_ABORT	(-1)	/* stop waiting: sign() fails */

struct signer_remote_opts {
	int		 sock;		/* the channel (not owned) */
	int		 timeout_ms;	/* per request; 0: the default */
	const uint8_t	*expect_pub;	/* 32 bytes (copied), or NULL */
	/* For messages other than the awaited answer; NULL: keep all. */
	int		(*other)(void *arg, struct msg *);
	void		*other_arg;
};

struct signer	*signer_remote_new(const struct signer_remote_opts *);
/* Closes the fds of kept messages that were never taken. */
void		 signer_remote_free(struct signer *);
/*
 * Move the oldest kept message into *m (the caller releases it with
 * msg_release(), or takes its fd); 1 when one was moved, 0 when none is
 * left.
 */
int		 signer_remote_next(struct signer *, struct msg *m);
size_t		 signer_remote_kept(const struct signer *);
/* Answers dropped because their request id was not awaited. */
uint64_t	 signer_remote_stale(const struct signer *);

#endif /* PM_SIGNER_REMOTE_H */
