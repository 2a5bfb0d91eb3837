/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sign.h: the signature envelope (BEHAVIOUR.md §2.4, CONSUMER.md §1.4),
 * detached-signature verification and the signer interface.
 *
 * Everything we sign is a 32-byte SHA-256 digest used as the Ed25519
 * message: of the uncompressed tar before the signature entry (package),
 * of a binary with its blob zeroed (binary), of a file's exact bytes
 * (repo.json and the indexes).  Code that produces signatures calls a
 * struct signer and never holds a key itself: the local signer below
 * wraps loaded keys (tests, tools); the daemon plugs in one that asks
 * the signer process over IPC.
 */
#ifndef PM_SIGN_H
#define PM_SIGN_H

#include <stdint.h>

#include "crypto.h"
#include "util.h"

#define SIGENV_LEN	229		/* bytes written by sigenv_write */
#define SIGENV_MAX	(64 * 1024)	/* largest envelope parsed */

enum sign_kind {
	SIGN_PACKAGE = 1,
	SIGN_BINARY = 2,
	SIGN_INDEX = 3
};

struct signer {
	/*
	 * Sign a 32-byte SHA-256 digest.  `subject` says what is signed
	 * (package name, binary path, index file name) and `keyname`
	 * selects a [[signing_key]] for SIGN_BINARY (NULL = the
	 * package/repository key).  On success fills sig and the public key
	 * used and returns 0; else -1 with a message in err.
	 */
	int	(*sign)(struct signer *, enum sign_kind, const char *subject,
		    const char *keyname, const uint8_t digest[32],
		    uint8_t sig[64], uint8_t pub[32], struct buf *err);
	void	*ctx;
};

const char *sign_kind_name(enum sign_kind);	/* "package", ... */

void	 sigenv_write(struct buf *, const char [65], const uint8_t [64]);
int	 sigenv_parse(const char *, size_t, char [65], uint8_t [64],
	    struct buf *);
int	 sig_detached_verify(const void *, size_t, const char *, size_t,
	    const uint8_t (*)[32], size_t, struct buf *);

/* Sign with keyname NULL, check the answer, append the envelope. */
int	 sign_envelope(struct signer *, enum sign_kind, const char *,
	    const uint8_t [32], struct buf *, struct buf *);

/* A signer over keys loaded in this process; keys are copied. */
struct signer *signer_local_new(const struct pm_key *);	/* NULL: none */
int	 signer_local_add_key(struct signer *, const char *,
	    const struct pm_key *, struct buf *);
void	 signer_local_free(struct signer *);

#endif /* PM_SIGN_H */
