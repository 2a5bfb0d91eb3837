/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * crypto.h: SHA-256, Ed25519 keys and signatures, strict base64, PEM key
 * files and HMAC-SHA256, over OpenSSL 3 EVP.
 *
 * Key formats (BEHAVIOUR.md §2.3, CONSUMER.md §1.3): a private key file is
 * exactly 32 raw seed bytes, or its first PEM block is "PRIVATE KEY"
 * holding a PKCS#8 Ed25519 key; a public key is exactly 32 raw bytes or
 * the first PEM block is "PUBLIC KEY" holding an Ed25519
 * SubjectPublicKeyInfo.  A fingerprint is the lowercase hex SHA-256 of the
 * 32 raw public-key bytes.
 *
 * libcrypto failures other than bad input (a missing built-in algorithm,
 * allocation) are treated like allocation failure: fatal.
 */
#ifndef PM_CRYPTO_H
#define PM_CRYPTO_H

#include <stdint.h>

#include <openssl/evp.h>

#include "util.h"

#define KEY_FILE_MAX	(64 * 1024)	/* largest key file read */

struct sha256_ctx {
	EVP_MD_CTX	*md;
};

struct hmac_ctx {
	EVP_MAC_CTX	*mac;
};

struct pm_key {
	uint8_t		 seed[32];
	uint8_t		 pub[32];
	char		 fpr[65];	/* lowercase hex SHA-256(pub) */
	EVP_PKEY	*pkey;
};

/* Load algorithm providers now, before a chroot or seccomp filter. */
void	 crypto_init(void);

void	 sha256(const void *, size_t, uint8_t [32]);
void	 sha256_init(struct sha256_ctx *);
void	 sha256_update(struct sha256_ctx *, const void *, size_t);
void	 sha256_final(struct sha256_ctx *, uint8_t [32]);	/* frees */
void	 sha256_free(struct sha256_ctx *);	/* abandon; idempotent */
int	 sha256_fd(int, uint8_t [32], uint64_t *, struct buf *);

int	 key_load_file(const char *, struct pm_key *, struct buf *);
int	 key_load_mem(const void *, size_t, const char *, struct pm_key *,
	    struct buf *);
int	 key_from_seed(const uint8_t [32], struct pm_key *, struct buf *);
void	 key_free(struct pm_key *);
void	 key_sign(const struct pm_key *, const uint8_t *, size_t,
	    uint8_t [64]);
int	 ed25519_verify(const uint8_t [32], const uint8_t *, size_t,
	    const uint8_t [64]);

int	 pubkey_parse(const void *, size_t, uint8_t [32], struct buf *);
void	 pubkey_pem(const uint8_t [32], struct buf *);
void	 fingerprint_hex(const uint8_t [32], char [65]);

void	 b64_encode_nopad(const uint8_t *, size_t, struct buf *);
int	 b64_decode_nopad(const char *, size_t, uint8_t *, size_t, size_t *);

void	 hmac_init(struct hmac_ctx *, const void *, size_t);
void	 hmac_update(struct hmac_ctx *, const void *, size_t);
void	 hmac_final(struct hmac_ctx *, uint8_t [32]);	/* frees */
void	 hmac_free(struct hmac_ctx *);		/* abandon; idempotent */
int	 ct_equal(const void *, const void *, size_t);

#endif /* PM_CRYPTO_H */
