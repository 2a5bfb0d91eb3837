/*
 * test_sign.c: signature envelopes (BEHAVIOUR.md §2.4, §9.2, §9.3),
 * strict envelope parsing, detached verification and the local signer.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"
#include "sign.h"

#define FPR	"56475aa75463474c0285df5dbf2bcab7" \
		"3da651358839e9b77481b2eab107708c"
#define ENV_PRE	"{\"schema_version\":1,\"algorithm\":\"ed25519\"," \
		"\"key_fingerprint\":\"" FPR "\",\"signature\":\""
#define SIG_REPO "Cl9otWMBUYFd4XWfphoQabgl43DnkgpWeZLjJ5TtfkxKDdF+IAS28DHW" \
		"JdKBcrXWdhLM7F9FYIDcq9rhwWmxBA"
#define SIG_PKG	"7sE1SwmK1YvVkcilyy8GL8YfyMEH8Sqj53IZTUbGmSn7MUUhXdONgzzD" \
		"azLOu3cyOZggm4jjE7bG/gBGyez2Bg"

struct fixture {
	struct pm_key	 key;
	struct signer	*signer;
};

static void
vec_read(const char *rel, struct buf *out)
{
	struct buf	 err = BUF_INIT;
	const char	*top = getenv("top_srcdir");
	char		*p;

	p = xasprintf("%s/tests/vectors/%s", top != NULL ? top : ".", rel);
	buf_reset(out);
	if (read_file(p, 1 << 20, out, &err) == -1)
		fail_msg("%s", buf_str(&err));
	free(p);
	buf_free(&err);
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	struct buf	 err = BUF_INIT, p = BUF_INIT;

	buf_addf(&p, "%s/tests/vectors/keys/test-ed25519.seed",
	    getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".");
	if (key_load_file(p.data, &f->key, &err) == -1)
		fail_msg("%s", buf_str(&err));
	f->signer = signer_local_new(&f->key);
	buf_free(&p);
	buf_free(&err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	signer_local_free(f->signer);
	key_free(&f->key);
	free(f);
	return 0;
}

/* Every detached signature of BEHAVIOUR.md §9.2, byte for byte. */
static void
test_repo_signatures(void **state)
{
	static const char *const files[] = {
		"repo.json", "index/active.json", "index/archive.json"
	};
	struct fixture	*f = *state;
	struct buf	 doc = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	struct buf	 err = BUF_INIT;
	uint8_t		 digest[32];
	char		 rel[128];
	size_t		 i;

	for (i = 0; i < nitems(files); i++) {
		snprintf(rel, sizeof(rel), "repos/basic/00-init/state/%s",
		    files[i]);
		vec_read(rel, &doc);
		snprintf(rel, sizeof(rel), "repos/basic/00-init/state/%s.sig",
		    files[i]);
		vec_read(rel, &want);
		sha256(doc.data, doc.len, digest);
		buf_reset(&out);
		assert_int_equal(sign_envelope(f->signer, SIGN_INDEX, files[i],
		    digest, &out, &err), 0);
		assert_int_equal(out.len, SIGENV_LEN);
		assert_int_equal(want.len, SIGENV_LEN);
		assert_memory_equal(out.data, want.data, SIGENV_LEN);
	}
	/* The text of §9.2 itself, independent of the vector files. */
	vec_read("repos/basic/00-init/state/repo.json", &doc);
	sha256(doc.data, doc.len, digest);
	buf_reset(&out);
	assert_int_equal(sign_envelope(f->signer, SIGN_INDEX, "repo.json",
	    digest, &out, &err), 0);
	assert_string_equal(buf_str(&out), ENV_PRE SIG_REPO "\"}\n");
	buf_free(&doc);
	buf_free(&want);
	buf_free(&out);
	buf_free(&err);
}

/* The §9.3 package signature from its digest. */
static void
test_package_signature(void **state)
{
	struct fixture	*f = *state;
	struct buf	 want = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	uint8_t		 digest[32];

	assert_int_equal(hex_decode("b8b05ecfe926f9ce463dee107b52429c"
	    "339dc1da045669e89d0a1413cf682944", 64, digest), 0);
	assert_int_equal(sign_envelope(f->signer, SIGN_PACKAGE, "hello",
	    digest, &out, &err), 0);
	assert_string_equal(buf_str(&out), ENV_PRE SIG_PKG "\"}\n");
	vec_read("packages/tiny-noarch/expected-signature.json", &want);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	buf_free(&want);
	buf_free(&out);
	buf_free(&err);
}

static void
test_sigenv_roundtrip(void **state)
{
	struct buf	 out = BUF_INIT, err = BUF_INIT, t = BUF_INIT;
	uint8_t		 sig[64], sig2[64];
	char		 fpr[65];
	const char	*s;
	int		 i;

	for (i = 0; i < 64; i++)
		sig[i] = (uint8_t)(i * 7 + 3);
	sigenv_write(&out, FPR, sig);
	assert_int_equal(out.len, SIGENV_LEN);
	assert_int_equal(sigenv_parse(out.data, out.len, fpr, sig2, &err), 0);
	assert_string_equal(fpr, FPR);
	assert_memory_equal(sig, sig2, 64);

	/* Member order and whitespace do not matter; trailing space is ok. */
	s = " { \"signature\" : \"" SIG_PKG "\", \"key_fingerprint\":\"" FPR
	    "\",\n\"algorithm\":\"ed25519\",\"schema_version\":1}\n\r\n\t ";
	assert_int_equal(sigenv_parse(s, strlen(s), fpr, sig2, &err), 0);
	buf_adds(&t, ENV_PRE SIG_PKG "\"}");
	assert_int_equal(sigenv_parse(t.data, t.len, fpr, sig, &err), 0);
	assert_memory_equal(sig, sig2, 64);
	assert_string_equal(buf_str(&err), "");
	buf_free(&out);
	buf_free(&err);
	buf_free(&t);
}

/* Parsing must fail with exactly this message. */
static void
env_fails(const char *s, size_t n, const char *msg)
{
	struct buf	 err = BUF_INIT;
	uint8_t		 sig[64];
	char		 fpr[65];

	assert_int_equal(sigenv_parse(s, n, fpr, sig, &err), -1);
	assert_string_equal(buf_str(&err), msg);
	buf_free(&err);
}

#define ENV_FAILS(lit, msg)	env_fails((lit), strlen(lit), (msg))
#define BAD_B64	"signature envelope: signature is not 64 bytes of unpadded " \
		"standard base64"

static void
test_sigenv_negative(void **state)
{
	struct buf	 padded = BUF_INIT, big = BUF_INIT, sig63 = BUF_INIT;
	uint8_t		 raw[65] = { 0 };

	vec_read("negative/repo-sig-padded-base64/state/repo.json.sig",
	    &padded);
	env_fails(padded.data, padded.len, BAD_B64);
	ENV_FAILS(ENV_PRE SIG_PKG "==\"}\n", BAD_B64);
	ENV_FAILS(ENV_PRE SIG_PKG "\",\"extra\":1}\n",
	    "signature envelope: unknown member \"extra\"");
	ENV_FAILS(ENV_PRE SIG_PKG "\",\"x\":1,\"comment\":\"\"}\n",
	    "signature envelope: unknown members \"x\", \"comment\"");
	ENV_FAILS(ENV_PRE SIG_PKG "\",\"signature\":\"" SIG_PKG "\"}\n",
	    "signature envelope: duplicate member \"signature\"");
	ENV_FAILS("{\"schema_version\":1,\"algorithm\":\"Ed25519\","
	    "\"key_fingerprint\":\"" FPR "\",\"signature\":\"" SIG_PKG "\"}",
	    "signature envelope: algorithm is not \"ed25519\"");
	ENV_FAILS("{\"schema_version\":1,\"algorithm\":\"ed25519\","
	    "\"key_fingerprint\":\"56475AA75463474C0285DF5DBF2BCAB73DA651358839"
	    "E9B77481B2EAB107708C\",\"signature\":\"" SIG_PKG "\"}",
	    "signature envelope: key_fingerprint is not 64 lowercase hex "
	    "characters");
	ENV_FAILS("{\"schema_version\":1,\"algorithm\":\"ed25519\","
	    "\"key_fingerprint\":\"" FPR "0\",\"signature\":\"" SIG_PKG "\"}",
	    "signature envelope: key_fingerprint is not 64 lowercase hex "
	    "characters");
	/* 63 and 65 bytes. */
	b64_encode_nopad(raw, 63, &sig63);
	buf_adds(&big, ENV_PRE);
	buf_add(&big, sig63.data, sig63.len);
	buf_adds(&big, "\"}");
	env_fails(big.data, big.len, BAD_B64);
	buf_reset(&sig63);
	buf_reset(&big);
	b64_encode_nopad(raw, 65, &sig63);
	buf_adds(&big, ENV_PRE);
	buf_add(&big, sig63.data, sig63.len);
	buf_adds(&big, "\"}");
	env_fails(big.data, big.len, BAD_B64);
	/* Non-canonical last character ('g' has a low bit set). */
	ENV_FAILS(ENV_PRE "7sE1SwmK1YvVkcilyy8GL8YfyMEH8Sqj53IZTUbGmSn7MUUhXdON"
	    "gzzDazLOu3cyOZggm4jjE7bG/gBGyez2Bh\"}", BAD_B64);
	ENV_FAILS(ENV_PRE SIG_PKG "\"}\nx",
	    "signature envelope: parse error: trailing garbage");
	ENV_FAILS(ENV_PRE SIG_PKG "\"}\n{}",
	    "signature envelope: parse error: trailing garbage");
	ENV_FAILS("{\"schema_version\":1.0,\"algorithm\":\"ed25519\","
	    "\"key_fingerprint\":\"" FPR "\",\"signature\":\"" SIG_PKG "\"}",
	    "signature envelope: member \"schema_version\" must be an "
	    "integer");
	ENV_FAILS("{\"schema_version\":\"1\",\"algorithm\":\"ed25519\","
	    "\"key_fingerprint\":\"" FPR "\",\"signature\":\"" SIG_PKG "\"}",
	    "signature envelope: member \"schema_version\" must be an "
	    "integer");
	ENV_FAILS("{\"schema_version\":2,\"algorithm\":\"ed25519\","
	    "\"key_fingerprint\":\"" FPR "\",\"signature\":\"" SIG_PKG "\"}",
	    "signature envelope: schema_version is 2, expected 1");
	ENV_FAILS("{\"schema_version\":1,\"algorithm\":\"ed25519\","
	    "\"key_fingerprint\":\"" FPR "\"}",
	    "signature envelope: member \"signature\" is missing");
	ENV_FAILS("[]", "signature envelope: not a JSON object");
	/* A bare base64 .sig (the spec's form) is not JSON. */
	ENV_FAILS(SIG_REPO, "signature envelope: lexical error: invalid char "
	    "in json text.");
	buf_reset(&big);
	buf_adds(&big, ENV_PRE SIG_PKG "\"}");
	while (big.len <= SIGENV_MAX)
		buf_addc(&big, ' ');
	env_fails(big.data, big.len,
	    "signature envelope: larger than 65536 bytes");
	buf_free(&padded);
	buf_free(&big);
	buf_free(&sig63);
}

static void
test_detached_verify(void **state)
{
	struct fixture	*f = *state;
	struct buf	 doc = BUF_INIT, sig = BUF_INIT, err = BUF_INIT;
	struct buf	 other = BUF_INIT;
	uint8_t		 pubs[2][32], seed[32];
	struct pm_key	 k2;
	int		 i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x20 + i);
	assert_int_equal(key_from_seed(seed, &k2, NULL), 0);
	memcpy(pubs[0], k2.pub, 32);
	memcpy(pubs[1], f->key.pub, 32);

	vec_read("repos/basic/01-publish-hello/state/index/active.json", &doc);
	vec_read("repos/basic/01-publish-hello/state/index/active.json.sig",
	    &sig);
	/* Only the second key verifies. */
	assert_int_equal(sig_detached_verify(doc.data, doc.len, sig.data,
	    sig.len, (const uint8_t (*)[32])pubs, 2, &err), 0);
	assert_int_equal(sig_detached_verify(doc.data, doc.len, sig.data,
	    sig.len, (const uint8_t (*)[32])pubs, 1, &err), -1);
	assert_string_equal(buf_str(&err), "signature does not verify "
	    "against any of the 1 trusted key");
	buf_reset(&err);
	/* Signature over the raw bytes instead of their digest. */
	vec_read("repos/basic/01-publish-hello/state/index/archive.json.sig",
	    &other);
	assert_int_equal(sig_detached_verify(doc.data, doc.len, other.data,
	    other.len, (const uint8_t (*)[32])pubs, 2, &err), -1);
	buf_reset(&err);
	/* Tampered file. */
	doc.data[10] ^= 1;
	assert_int_equal(sig_detached_verify(doc.data, doc.len, sig.data,
	    sig.len, (const uint8_t (*)[32])pubs, 2, &err), -1);
	assert_string_equal(buf_str(&err), "signature does not verify "
	    "against any of the 2 trusted keys");
	buf_reset(&err);
	/* Padded envelope. */
	vec_read("negative/repo-sig-padded-base64/state/repo.json", &doc);
	vec_read("negative/repo-sig-padded-base64/state/repo.json.sig", &sig);
	assert_int_equal(sig_detached_verify(doc.data, doc.len, sig.data,
	    sig.len, (const uint8_t (*)[32])pubs, 2, &err), -1);
	assert_string_equal(buf_str(&err), BAD_B64);
	buf_reset(&err);
	/* The named fingerprint is only format-checked, as in the consumer. */
	vec_read("repos/basic/00-init/state/repo.json", &doc);
	vec_read("repos/basic/00-init/state/repo.json.sig", &sig);
	memset(sig.data + strlen("{\"schema_version\":1,\"algorithm\":"
	    "\"ed25519\",\"key_fingerprint\":\""), '0', 64);
	assert_int_equal(sig_detached_verify(doc.data, doc.len, sig.data,
	    sig.len, (const uint8_t (*)[32])pubs, 2, &err), 0);
	assert_int_equal(sig_detached_verify(doc.data, doc.len, sig.data,
	    sig.len, NULL, 0, &err), -1);
	key_free(&k2);
	buf_free(&doc);
	buf_free(&sig);
	buf_free(&err);
	buf_free(&other);
}

static void
test_local_signer(void **state)
{
	struct fixture	*f = *state;
	struct signer	*s;
	struct pm_key	 k2, copy;
	struct buf	 err = BUF_INIT, out = BUF_INIT;
	uint8_t		 seed[32], digest[32], sig[64], pub[32];
	int		 i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x20 + i);
	assert_int_equal(key_from_seed(seed, &k2, NULL), 0);
	sha256("payload", 7, digest);

	/* The signer copies its keys: the caller may free them. */
	assert_int_equal(key_from_seed(f->key.seed, &copy, NULL), 0);
	s = signer_local_new(&copy);
	key_free(&copy);
	assert_int_equal(signer_local_add_key(s, "fw", &k2, &err), 0);
	assert_int_equal(signer_local_add_key(s, "fw", &k2, &err), -1);
	assert_string_equal(buf_str(&err),
	    "signing key \"fw\" is already loaded");
	buf_reset(&err);

	assert_int_equal(s->sign(s, SIGN_BINARY, "usr/bin/x", "fw", digest,
	    sig, pub, &err), 0);
	assert_memory_equal(pub, k2.pub, 32);
	assert_int_equal(ed25519_verify(pub, digest, 32, sig), 1);
	assert_int_equal(s->sign(s, SIGN_BINARY, "usr/bin/x", NULL, digest,
	    sig, pub, &err), 0);
	assert_memory_equal(pub, f->key.pub, 32);
	assert_int_equal(ed25519_verify(pub, digest, 32, sig), 1);

	assert_int_equal(s->sign(s, SIGN_BINARY, "usr/bin/x", "boot", digest,
	    sig, pub, &err), -1);
	assert_string_equal(buf_str(&err), "binary signature for usr/bin/x: "
	    "signing key \"boot\" is not configured");
	buf_reset(&err);
	assert_int_equal(s->sign(s, SIGN_PACKAGE, "hello", "fw", digest,
	    sig, pub, &err), -1);
	assert_string_equal(buf_str(&err), "package signature for hello: "
	    "a key name applies only to binary signatures");
	buf_reset(&err);
	assert_int_equal(s->sign(s, (enum sign_kind)9, "hello", NULL, digest,
	    sig, pub, &err), -1);
	assert_string_equal(buf_str(&err),
	    "signature for hello: unknown kind 9");
	buf_reset(&err);
	signer_local_free(s);

	/* A signer with no package key. */
	s = signer_local_new(NULL);
	assert_int_equal(sign_envelope(s, SIGN_INDEX, "repo.json", digest,
	    &out, &err), -1);
	assert_string_equal(buf_str(&err), "index signature for repo.json: "
	    "no package signing key is loaded");
	assert_int_equal(out.len, 0);
	signer_local_free(s);
	signer_local_free(NULL);
	key_free(&k2);
	buf_free(&err);
	buf_free(&out);
}

/* A signer whose answer does not verify (corrupted IPC, wrong key). */
static int
bad_sign(struct signer *s, enum sign_kind kind, const char *subject,
    const char *keyname, const uint8_t digest[32], uint8_t sig[64],
    uint8_t pub[32], struct buf *err)
{
	struct fixture	*f = s->ctx;

	key_sign(&f->key, digest, 32, sig);
	memcpy(pub, f->key.pub, 32);
	sig[0] ^= 1;
	return 0;
}

static void
test_sign_envelope_checks(void **state)
{
	struct signer	 s = { bad_sign, *state };
	struct buf	 err = BUF_INIT, out = BUF_INIT;
	uint8_t		 digest[32] = { 0 };

	assert_int_equal(sign_envelope(&s, SIGN_PACKAGE, "hello", digest,
	    &out, &err), -1);
	assert_string_equal(buf_str(&err),
	    "package signature for hello does not verify");
	assert_int_equal(out.len, 0);
	assert_string_equal(sign_kind_name(SIGN_BINARY), "binary");
	buf_free(&err);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repo_signatures),
		cmocka_unit_test(test_package_signature),
		cmocka_unit_test(test_sigenv_roundtrip),
		cmocka_unit_test(test_sigenv_negative),
		cmocka_unit_test(test_detached_verify),
		cmocka_unit_test(test_local_signer),
		cmocka_unit_test(test_sign_envelope_checks),
	};

	crypto_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
