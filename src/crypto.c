/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * crypto.c: SHA-256, HMAC-SHA256, Ed25519 keys and signatures, strict
 * base64 and the PEM key-file formats, over OpenSSL 3 EVP.
 *
 * Trust: key files are operator files but are parsed as if hostile (size
 * bounded, strict formats); public keys, signatures and base64 text come
 * from repositories, packages and webhooks and are untrusted.  Secret
 * material (seeds, decoded PKCS#8) is cleansed before its memory is
 * released.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "log.h"

#define PEM_TYPE_MAX	64

/* DER SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410). */
static const uint8_t spki_prefix[12] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void	 b64_encode(const uint8_t *, size_t, struct buf *, int);
static int	 b64_value(int);
static int	 b64_decode(const char *, size_t, uint8_t *, size_t, size_t *,
		    int);
static size_t	 line_end(const char *, size_t, size_t, size_t *);
static int	 pem_begin(const char *, size_t, char [PEM_TYPE_MAX],
		    size_t *, const char **);
static int	 pem_first(const char *, size_t, char [PEM_TYPE_MAX],
		    uint8_t **, size_t *, const char **);
static int	 pkcs8_seed(const uint8_t *, size_t, uint8_t [32],
		    const char **);

void
crypto_init(void)
{
	EVP_MD		*md;
	EVP_MAC		*mac;
	EVP_SIGNATURE	*sig;

	if (OPENSSL_init_crypto(0, NULL) != 1)
		fatalx("libcrypto initialisation failed");
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	sig = EVP_SIGNATURE_fetch(NULL, "ED25519", NULL);
	if (md == NULL || mac == NULL || sig == NULL)
		fatalx("libcrypto lacks SHA256, HMAC or ED25519");
	EVP_MD_free(md);
	EVP_MAC_free(mac);
	EVP_SIGNATURE_free(sig);
}

/* ---- SHA-256 ---------------------------------------------------------- */

void
sha256(const void *p, size_t n, uint8_t out[32])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1)
		fatalx("EVP_Digest(SHA256) failed");
}

void
sha256_init(struct sha256_ctx *c)
{
	if ((c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex2(c->md, EVP_sha256(), NULL) != 1)
		fatalx("EVP_DigestInit(SHA256) failed");
}

void
sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
	if (EVP_DigestUpdate(c->md, p, n) != 1)
		fatalx("EVP_DigestUpdate failed");
}

void
sha256_final(struct sha256_ctx *c, uint8_t out[32])
{
	if (EVP_DigestFinal_ex(c->md, out, NULL) != 1)
		fatalx("EVP_DigestFinal failed");
	sha256_free(c);
}

void
sha256_free(struct sha256_ctx *c)
{
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

/* Hash everything readable from fd; *size gets the byte count. */
int
sha256_fd(int fd, uint8_t out[32], uint64_t *size, struct buf *err)
{
	struct sha256_ctx	 c;
	char			 chunk[65536];
	ssize_t			 n;
	uint64_t		 total = 0;

	sha256_init(&c);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sha256_free(&c);
			return errf(err, "read: %s", strerror(errno));
		}
		if (n == 0)
			break;
		sha256_update(&c, chunk, (size_t)n);
		total += (uint64_t)n;
	}
	sha256_final(&c, out);
	if (size != NULL)
		*size = total;
	return 0;
}

/* ---- HMAC-SHA256 ------------------------------------------------------ */

void
hmac_init(struct hmac_ctx *c, const void *key, size_t keylen)
{
	OSSL_PARAM	 params[2];
	EVP_MAC		*mac;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		fatalx("EVP_MAC_fetch(HMAC) failed");
	c->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (c->mac == NULL)
		fatalx("EVP_MAC_CTX_new failed");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(c->mac, keylen == 0 ? (const void *)"" : key,
	    keylen, params) != 1)
		fatalx("EVP_MAC_init(HMAC-SHA256) failed");
}

void
hmac_update(struct hmac_ctx *c, const void *p, size_t n)
{
	if (EVP_MAC_update(c->mac, p, n) != 1)
		fatalx("EVP_MAC_update failed");
}

void
hmac_final(struct hmac_ctx *c, uint8_t out[32])
{
	size_t	 len = 0;

	if (EVP_MAC_final(c->mac, out, &len, 32) != 1 || len != 32)
		fatalx("EVP_MAC_final failed");
	hmac_free(c);
}

void
hmac_free(struct hmac_ctx *c)
{
	EVP_MAC_CTX_free(c->mac);
	c->mac = NULL;
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- base64 ----------------------------------------------------------- */

static void
b64_encode(const uint8_t *in, size_t n, struct buf *out, int pad)
{
	char		 q[4];
	size_t		 i, k;
	uint32_t	 v;

	for (i = 0; i < n; i += 3) {
		k = n - i < 3 ? n - i : 3;
		v = (uint32_t)in[i] << 16;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		q[0] = b64_alphabet[v >> 18 & 63];
		q[1] = b64_alphabet[v >> 12 & 63];
		q[2] = k > 1 ? b64_alphabet[v >> 6 & 63] : '=';
		q[3] = k > 2 ? b64_alphabet[v & 63] : '=';
		buf_add(out, q, pad ? 4 : k + 1);
	}
}

void
b64_encode_nopad(const uint8_t *in, size_t n, struct buf *out)
{
	b64_encode(in, n, out, 0);
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict standard-alphabet base64: with `padded`, '=' padding to a
 * multiple of 4 is required; without it, '=' is rejected.  Unused
 * trailing bits must be zero, so every byte string has one encoding.
 */
static int
b64_decode(const char *s, size_t n, uint8_t *out, size_t outmax,
    size_t *outlen, int padded)
{
	size_t		 i, o = 0, r, need;
	uint32_t	 v = 0;
	int		 d;

	r = n;
	if (padded) {
		if (n % 4 != 0)
			return -1;
		if (r > 0 && s[r - 1] == '=')
			r--;
		if (r > 0 && s[r - 1] == '=' && r % 4 == 3)
			r--;
	}
	if (r % 4 == 1 || (padded && n - r != (4 - r % 4) % 4))
		return -1;
	need = r / 4 * 3 + (r % 4 == 0 ? 0 : r % 4 - 1);
	if (need > outmax)
		return -1;
	for (i = 0; i < r; i++) {
		if ((d = b64_value((unsigned char)s[i])) == -1)
			return -1;
		v = v << 6 | (uint32_t)d;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)v;
			v = 0;
		}
	}
	if (r % 4 == 2) {
		if (v & 0x0f)
			return -1;
		out[o++] = (uint8_t)(v >> 4);
	} else if (r % 4 == 3) {
		if (v & 0x03)
			return -1;
		out[o++] = (uint8_t)(v >> 10);
		out[o++] = (uint8_t)(v >> 2);
	}
	*outlen = o;
	return 0;
}

int
b64_decode_nopad(const char *s, size_t n, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	return b64_decode(s, n, out, outmax, outlen, 0);
}

/* ---- PEM -------------------------------------------------------------- */

/*
 * The line starting at `i`: returns its length without the line break
 * and trailing spaces, tabs and CR; *next is the start of the next line.
 */
static size_t
line_end(const char *s, size_t n, size_t i, size_t *next)
{
	const char	*nl;
	size_t		 e;

	nl = memchr(s + i, '\n', n - i);
	e = nl == NULL ? n : (size_t)(nl - s);
	*next = nl == NULL ? n : e + 1;
	while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t' ||
	    s[e - 1] == '\r'))
		e--;
	return e - i;
}

/*
 * Find the first "-----BEGIN <type>-----" line, at the start of the data
 * or of a line (text before it is skipped); *body is where the next line
 * starts.
 */
static int
pem_begin(const char *s, size_t n, char type[PEM_TYPE_MAX], size_t *body,
    const char **why)
{
	const char	*p;
	size_t		 i = 0, len, tl;

	for (;;) {
		p = memmem(s + i, n - i, "-----BEGIN ", 11);
		if (p == NULL) {
			*why = "no PEM block found";
			return -1;
		}
		i = (size_t)(p - s);
		if (i == 0 || s[i - 1] == '\n')
			break;
		i++;
	}
	len = line_end(s, n, i, body);
	if (len < 16 || memcmp(s + i + len - 5, "-----", 5) != 0 ||
	    (tl = len - 16) >= PEM_TYPE_MAX ||
	    memchr(s + i + 11, '\0', tl) != NULL) {
		*why = "malformed PEM BEGIN line";
		return -1;
	}
	memcpy(type, s + i + 11, tl);
	type[tl] = '\0';
	return 0;
}

/*
 * Decode the first PEM block: BEGIN line, base64 lines, then
 * "-----END <type>-----".  Headers are not supported.  On success *der
 * is allocated; the caller cleanses and frees it.
 */
static int
pem_first(const char *s, size_t n, char type[PEM_TYPE_MAX], uint8_t **der,
    size_t *derlen, const char **why)
{
	char		*b64;
	size_t		 i, next, len, tl, k, bn = 0;
	int		 rc = -1;

	if (pem_begin(s, n, type, &next, why) == -1)
		return -1;
	tl = strlen(type);
	/* Sized once: no reallocation leaves key text in freed memory. */
	b64 = xmalloc(n - next + 1);
	for (i = next; i < n; i = next) {
		len = line_end(s, n, i, &next);
		if (len >= 9 && memcmp(s + i, "-----END ", 9) == 0) {
			if (len != tl + 14 ||
			    memcmp(s + i + 9, type, tl) != 0 ||
			    memcmp(s + i + 9 + tl, "-----", 5) != 0) {
				*why = "PEM END line does not match BEGIN";
				goto out;
			}
			break;
		}
		if (memchr(s + i, ':', len) != NULL) {
			*why = "PEM headers are not supported";
			goto out;
		}
		for (k = i; k < i + len; k++)
			if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r')
				b64[bn++] = s[k];
	}
	if (i >= n) {
		*why = "PEM block has no END line";
		goto out;
	}
	*der = xmalloc(bn + 1);
	if (b64_decode(b64, bn, *der, bn, derlen, 1) == -1) {
		OPENSSL_cleanse(*der, bn + 1);
		free(*der);
		*der = NULL;
		*why = "PEM body is not valid base64";
		goto out;
	}
	rc = 0;
 out:
	OPENSSL_cleanse(b64, bn);
	free(b64);
	return rc;
}

/* ---- keys ------------------------------------------------------------- */

static int
pkcs8_seed(const uint8_t *der, size_t len, uint8_t seed[32],
    const char **why)
{
	const unsigned char	*p = der;
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*pk = NULL;
	size_t			 sl = 32;
	int			 rc = -1;

	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (p8 == NULL || p != der + len) {
		*why = "PEM body is not a PKCS#8 private key";
		goto out;
	}
	if ((pk = EVP_PKCS82PKEY(p8)) == NULL ||
	    !EVP_PKEY_is_a(pk, "ED25519")) {
		*why = "PKCS#8 key is not an Ed25519 key";
		goto out;
	}
	if (EVP_PKEY_get_raw_private_key(pk, seed, &sl) != 1 || sl != 32) {
		*why = "cannot extract the Ed25519 seed";
		goto out;
	}
	rc = 0;
 out:
	EVP_PKEY_free(pk);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ERR_clear_error();
	return rc;
}

int
key_from_seed(const uint8_t seed[32], struct pm_key *k, struct buf *err)
{
	size_t	 pl = 32;

	memset(k, 0, sizeof(*k));
	k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed,
	    32);
	if (k->pkey == NULL ||
	    EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &pl) != 1 ||
	    pl != 32) {
		ERR_clear_error();
		key_free(k);
		return errf(err, "cannot create an Ed25519 key from the seed");
	}
	memcpy(k->seed, seed, 32);
	fingerprint_hex(k->pub, k->fpr);
	return 0;
}

int
key_load_mem(const void *data, size_t n, const char *name, struct pm_key *k,
    struct buf *err)
{
	char		 type[PEM_TYPE_MAX];
	const char	*why = NULL;
	uint8_t		 seed[32], *der = NULL;
	size_t		 derlen = 0;
	int		 rc = -1;

	memset(k, 0, sizeof(*k));
	if (n == 32) {
		memcpy(seed, data, 32);
	} else if (n > KEY_FILE_MAX) {
		why = "key file larger than 65536 bytes";
	} else if (pem_first(data, n, type, &der, &derlen, &why) == -1) {
		if (strcmp(why, "no PEM block found") == 0)
			why = "neither a 32-byte raw Ed25519 seed nor PEM";
	} else if (strcmp(type, "PRIVATE KEY") != 0) {
		errf(err, "%s: PEM block type is \"%s\", expected "
		    "\"PRIVATE KEY\" (PKCS#8 Ed25519)", name, type);
		goto out;
	} else
		(void)pkcs8_seed(der, derlen, seed, &why);
	if (why != NULL) {
		errf(err, "%s: %s", name, why);
		goto out;
	}
	if ((rc = key_from_seed(seed, k, err)) == -1)
		errf(err, "%s: unusable Ed25519 seed", name);
 out:
	OPENSSL_cleanse(seed, sizeof(seed));
	if (der != NULL)
		OPENSSL_cleanse(der, derlen);
	free(der);
	return rc;
}

int
key_load_file(const char *path, struct pm_key *k, struct buf *err)
{
	struct stat	 st;
	char		*data;
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd, rc = -1;

	memset(k, 0, sizeof(*k));
	data = xmalloc(KEY_FILE_MAX + 1);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &st) == -1) {
		errf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, "%s: not a regular file", path);
		goto out;
	}
	while (n <= KEY_FILE_MAX) {
		r = read(fd, data + n, KEY_FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			errf(err, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	rc = key_load_mem(data, n, path, k, err);
 out:
	if (fd != -1)
		close(fd);
	OPENSSL_cleanse(data, KEY_FILE_MAX + 1);
	free(data);
	return rc;
}

void
key_free(struct pm_key *k)
{
	EVP_PKEY_free(k->pkey);
	OPENSSL_cleanse(k, sizeof(*k));
	k->pkey = NULL;
}

/* Pure Ed25519 over msg (for us always a 32-byte SHA-256 digest). */
void
key_sign(const struct pm_key *k, const uint8_t *msg, size_t n,
    uint8_t sig[64])
{
	EVP_MD_CTX	*c;
	size_t		 sl = 64;

	if (k->pkey == NULL)
		fatalx("key_sign: key not loaded");
	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(c, NULL, NULL, NULL, NULL, k->pkey,
	    NULL) != 1 || EVP_DigestSign(c, sig, &sl, msg, n) != 1 ||
	    sl != 64)
		fatalx("Ed25519 signing failed");
	EVP_MD_CTX_free(c);
}

/* 1 if sig is a valid Ed25519 signature of msg under pub, else 0. */
int
ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n,
    const uint8_t sig[64])
{
	EVP_PKEY	*pk;
	EVP_MD_CTX	*c = NULL;
	int		 ok = 0;

	pk = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub, 32);
	if (pk == NULL || (c = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit_ex(c, NULL, NULL, NULL, NULL, pk, NULL) == 1 &&
	    EVP_DigestVerify(c, sig, 64, msg, n) == 1)
		ok = 1;
 out:
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ok;
}

/* 32 raw bytes, or the first PEM block, "PUBLIC KEY", Ed25519 SPKI. */
int
pubkey_parse(const void *data, size_t n, uint8_t pub[32], struct buf *err)
{
	char		 type[PEM_TYPE_MAX];
	const char	*why = NULL;
	uint8_t		*der = NULL;
	size_t		 derlen = 0;
	int		 rc = -1;

	if (n == 32) {
		memcpy(pub, data, 32);
		return 0;
	}
	if (n > KEY_FILE_MAX)
		why = "public key file larger than 65536 bytes";
	else if (pem_first(data, n, type, &der, &derlen, &why) == -1) {
		if (strcmp(why, "no PEM block found") == 0)
			why = "neither 32 raw bytes nor PEM";
	} else if (strcmp(type, "PUBLIC KEY") != 0) {
		errf(err, "PEM block type is \"%s\", expected \"PUBLIC KEY\"",
		    type);
	} else if (derlen != 44 || memcmp(der, spki_prefix, 12) != 0)
		why = "PUBLIC KEY is not an Ed25519 SubjectPublicKeyInfo";
	else {
		memcpy(pub, der + 12, 32);
		rc = 0;
	}
	if (why != NULL)
		errf(err, "%s", why);
	free(der);
	return rc;
}

/* The three-line keys/<fingerprint>.pub file (BEHAVIOUR.md §2.3). */
void
pubkey_pem(const uint8_t pub[32], struct buf *out)
{
	uint8_t	 der[44];

	memcpy(der, spki_prefix, 12);
	memcpy(der + 12, pub, 32);
	buf_adds(out, "-----BEGIN PUBLIC KEY-----\n");
	b64_encode(der, sizeof(der), out, 1);
	buf_adds(out, "\n-----END PUBLIC KEY-----\n");
}

void
fingerprint_hex(const uint8_t pub[32], char out[65])
{
	uint8_t	 d[32];

	sha256(pub, 32, d);
	hex_encode(d, 32, out);
}
