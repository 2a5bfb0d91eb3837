/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sign.c: signature envelopes, detached-signature verification and the
 * in-process ("local") signer.
 *
 * Trust: sigenv_parse() and sig_detached_verify() read untrusted text
 * (package members, .sig files fetched or found in a state directory) and
 * decode it strictly, as the consumer does (CONSUMER.md §1.4).  The
 * local signer holds private keys; in the daemon only the signer process
 * links it with real keys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "sign.h"

#define WHAT	"signature envelope"

struct named_key {
	char		*nk_name;
	struct pm_key	 nk_key;
};

struct local_signer {
	struct pm_key		 ls_pkg;
	int			 ls_has_pkg;
	struct named_key	*ls_keys;
	size_t			 ls_nkeys;
};

static int	 is_lower_hex(const char *, size_t);
static int	 local_sign(struct signer *, enum sign_kind, const char *,
		    const char *, const uint8_t [32], uint8_t [64],
		    uint8_t [32], struct buf *);

static const char *const sigenv_members[] = {
	"schema_version", "algorithm", "key_fingerprint", "signature", NULL
};

const char *
sign_kind_name(enum sign_kind kind)
{
	switch (kind) {
	case SIGN_PACKAGE:
		return "package";
	case SIGN_BINARY:
		return "binary";
	case SIGN_INDEX:
		return "index";
	}
	return "unknown";
}

static int
is_lower_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void
sigenv_write(struct buf *out, const char fpr[65], const uint8_t sig[64])
{
	struct buf	 b64 = BUF_INIT;
	struct jw	 w;

	if (strlen(fpr) != 64 || !is_lower_hex(fpr, 64))
		fatalx("sigenv_write: bad fingerprint");
	b64_encode_nopad(sig, 64, &b64);
	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version");
	jw_int(&w, 1);
	jw_key(&w, "algorithm");
	jw_str(&w, "ed25519");
	jw_key(&w, "key_fingerprint");
	jw_str(&w, fpr);
	jw_key(&w, "signature");
	jw_strn(&w, b64.data, b64.len);
	jw_obj_end(&w);
	jw_end(&w);
	buf_free(&b64);
}

/*
 * Strict decoding: exactly the four members, schema_version the integer
 * 1, algorithm "ed25519", a 64-character lowercase hex fingerprint and
 * 86 characters of unpadded base64 decoding to 64 bytes; only whitespace
 * may follow the object.
 */
int
sigenv_parse(const char *s, size_t n, char fpr[65], uint8_t sig[64],
    struct buf *err)
{
	struct buf	 e = BUF_INIT;
	yajl_val	 v = NULL;
	const char	*alg, *fp, *sg;
	int64_t		 ver;
	uint8_t		 raw[66];
	size_t		 rawlen;
	int		 rc = -1;

	if (n > SIGENV_MAX) {
		errf(err, WHAT ": larger than %d bytes", SIGENV_MAX);
		goto out;
	}
	if ((v = json_parse(s, n, &e)) == NULL) {
		errf(err, WHAT ": %s", buf_str(&e));
		goto out;
	}
	if (json_only_members(v, sigenv_members, WHAT, err) == -1 ||
	    json_get_int64(v, "schema_version", WHAT, &ver, err) == -1 ||
	    json_get_str(v, "algorithm", WHAT, &alg, err) == -1 ||
	    json_get_str(v, "key_fingerprint", WHAT, &fp, err) == -1 ||
	    json_get_str(v, "signature", WHAT, &sg, err) == -1)
		goto out;
	if (ver != 1)
		errf(err, WHAT ": schema_version is %lld, expected 1",
		    (long long)ver);
	else if (strcmp(alg, "ed25519") != 0)
		errf(err, WHAT ": algorithm is not \"ed25519\"");
	else if (strlen(fp) != 64 || !is_lower_hex(fp, 64))
		errf(err, WHAT ": key_fingerprint is not 64 lowercase hex "
		    "characters");
	else if (strlen(sg) != 86 ||
	    b64_decode_nopad(sg, 86, raw, sizeof(raw), &rawlen) == -1 ||
	    rawlen != 64)
		errf(err, WHAT ": signature is not 64 bytes of unpadded "
		    "standard base64");
	else {
		memcpy(fpr, fp, 65);
		memcpy(sig, raw, 64);
		rc = 0;
	}
 out:
	yajl_tree_free(v);
	buf_free(&e);
	return rc;
}

/*
 * A detached .sig: the envelope's Ed25519 signature over SHA-256(file)
 * must verify under one of the keys.  As in the consumer, the envelope's
 * fingerprint is only format-checked.
 */
int
sig_detached_verify(const void *file, size_t len, const char *sigtext,
    size_t siglen, const uint8_t (*pubs)[32], size_t npubs, struct buf *err)
{
	char	 fpr[65];
	uint8_t	 sig[64], digest[32];
	size_t	 i;

	if (sigenv_parse(sigtext, siglen, fpr, sig, err) == -1)
		return -1;
	sha256(file, len, digest);
	for (i = 0; i < npubs; i++)
		if (ed25519_verify(pubs[i], digest, sizeof(digest), sig))
			return 0;
	return errf(err, "signature does not verify against any of the %zu "
	    "trusted key%s", npubs, npubs == 1 ? "" : "s");
}

int
sign_envelope(struct signer *s, enum sign_kind kind, const char *subject,
    const uint8_t digest[32], struct buf *out, struct buf *err)
{
	uint8_t	 sig[64], pub[32];
	char	 fpr[65];

	if (s->sign(s, kind, subject, NULL, digest, sig, pub, err) == -1)
		return -1;
	/* A broken signer (or IPC) must not yield a bad signature file. */
	if (!ed25519_verify(pub, digest, 32, sig))
		return errf(err, "%s signature for %s does not verify",
		    sign_kind_name(kind), subject);
	fingerprint_hex(pub, fpr);
	sigenv_write(out, fpr, sig);
	return 0;
}

/* ---- the local signer ------------------------------------------------- */

struct signer *
signer_local_new(const struct pm_key *pkgkey)
{
	struct signer		*s;
	struct local_signer	*ls;

	s = xcalloc(1, sizeof(*s));
	ls = xcalloc(1, sizeof(*ls));
	if (pkgkey != NULL) {
		if (key_from_seed(pkgkey->seed, &ls->ls_pkg, NULL) == -1)
			fatalx("signer_local_new: cannot copy the key");
		ls->ls_has_pkg = 1;
	}
	s->sign = local_sign;
	s->ctx = ls;
	return s;
}

int
signer_local_add_key(struct signer *s, const char *name,
    const struct pm_key *key, struct buf *err)
{
	struct local_signer	*ls = s->ctx;
	struct named_key	*nk;
	size_t			 i;

	for (i = 0; i < ls->ls_nkeys; i++)
		if (strcmp(ls->ls_keys[i].nk_name, name) == 0)
			return errf(err, "signing key \"%s\" is already "
			    "loaded", name);
	ls->ls_keys = xreallocarray(ls->ls_keys, ls->ls_nkeys + 1,
	    sizeof(*ls->ls_keys));
	nk = &ls->ls_keys[ls->ls_nkeys];
	if (key_from_seed(key->seed, &nk->nk_key, err) == -1)
		return -1;
	nk->nk_name = xstrdup(name);
	ls->ls_nkeys++;
	return 0;
}

void
signer_local_free(struct signer *s)
{
	struct local_signer	*ls;
	size_t			 i;

	if (s == NULL)
		return;
	ls = s->ctx;
	if (ls->ls_has_pkg)
		key_free(&ls->ls_pkg);
	for (i = 0; i < ls->ls_nkeys; i++) {
		key_free(&ls->ls_keys[i].nk_key);
		free(ls->ls_keys[i].nk_name);
	}
	free(ls->ls_keys);
	free(ls);
	free(s);
}

static int
local_sign(struct signer *s, enum sign_kind kind, const char *subject,
    const char *keyname, const uint8_t digest[32], uint8_t sig[64],
    uint8_t pub[32], struct buf *err)
{
	struct local_signer	*ls = s->ctx;
	const struct pm_key	*k = NULL;
	size_t			 i;

	if (kind != SIGN_PACKAGE && kind != SIGN_BINARY && kind != SIGN_INDEX)
		return errf(err, "signature for %s: unknown kind %d", subject,
		    (int)kind);
	if (keyname != NULL && kind != SIGN_BINARY)
		return errf(err, "%s signature for %s: a key name applies only "
		    "to binary signatures", sign_kind_name(kind), subject);
	if (keyname != NULL) {
		for (i = 0; i < ls->ls_nkeys && k == NULL; i++)
			if (strcmp(ls->ls_keys[i].nk_name, keyname) == 0)
				k = &ls->ls_keys[i].nk_key;
		if (k == NULL)
			return errf(err, "binary signature for %s: signing "
			    "key \"%s\" is not configured", subject, keyname);
	} else if (ls->ls_has_pkg)
		k = &ls->ls_pkg;
	else
		return errf(err, "%s signature for %s: no package signing key "
		    "is loaded", sign_kind_name(kind), subject);
	key_sign(k, digest, 32, sig);
	memcpy(pub, k->pub, 32);
	return 0;
}
