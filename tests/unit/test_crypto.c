/*
 * test_crypto.c: SHA-256, HMAC, base64, Ed25519 key formats and
 * signatures against the key vectors in tests/vectors/keys.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"

#define PUB_HEX	"03a107bff3ce10be1d70dd18e74bc099" \
		"67e4d6309ba50d5f1ddc8664125531b8"
#define FPR	"56475aa75463474c0285df5dbf2bcab7" \
		"3da651358839e9b77481b2eab107708c"

/* X25519 and P-256 keys, PKCS#8 "PRIVATE KEY": right armour, wrong key. */
static const char x25519_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIBgyYJ5eur8xEBG1teJ2eHseZkXwaoEQbqVEY/PJ/GdL\n"
    "-----END PRIVATE KEY-----\n";
static const char p256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMcDIaebbJtzQfLUV\n"
    "RGeqELepaa8W7qId+a4DW+LS9PqhRANCAARoLZagF5qDr5T23Gh7oy7+ujP6QnvO\n"
    "Fi5HbwED1CeP1uYKrsdBMZRIahzoqzrGNKvtbeWBqiUfH6KG/xwB7np3\n"
    "-----END PRIVATE KEY-----\n";
static const char x25519_pub_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VuAyEAIFVdw0D94WVvqN+OTWD4w1bqYblrxhuXkjKl3mgcRx8=\n"
    "-----END PUBLIC KEY-----\n";
static const char test_pem_body[] =
    "MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";

static char *
vec_path(const char *rel)
{
	const char	*top = getenv("top_srcdir");

	return xasprintf("%s/tests/vectors/%s", top != NULL ? top : ".", rel);
}

static void
vec_read(const char *rel, struct buf *out)
{
	struct buf	 err = BUF_INIT;
	char		*p = vec_path(rel);

	if (read_file(p, 1 << 20, out, &err) == -1)
		fail_msg("%s", buf_str(&err));
	free(p);
	buf_free(&err);
}

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
	hex_encode(p, n, out);
}

static void
sha_hex(const char *s, char out[65])
{
	uint8_t	 d[32];

	sha256(s, strlen(s), d);
	hex_of(d, 32, out);
}

static void
test_sha256(void **state)
{
	struct sha256_ctx	 c;
	char			 h[65], h2[65];
	uint8_t			 d[32];
	const char		*msg;

	msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha_hex("", h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	sha_hex("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sha_hex(msg, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	sha256_init(&c);
	sha256_update(&c, msg, 5);
	sha256_update(&c, "", 0);
	sha256_update(&c, msg + 5, strlen(msg) - 5);
	sha256_final(&c, d);
	assert_null(c.md);
	hex_of(d, 32, h2);
	assert_string_equal(h, h2);
	sha256_free(&c);	/* idempotent after final */
	sha256_init(&c);	/* abandoned context */
	sha256_update(&c, "x", 1);
	sha256_free(&c);
	sha256_free(&c);
}

static void
test_sha256_fd(void **state)
{
	char		 path[] = "/tmp/test_crypto.XXXXXX", h[65];
	uint8_t		 d[32];
	uint64_t	 size = 0;
	struct buf	 err = BUF_INIT, big = BUF_INIT;
	int		 fd, i;

	fd = mkstemp(path);
	assert_int_not_equal(fd, -1);
	unlink(path);
	/* 200000 bytes: more than one read chunk. */
	for (i = 0; i < 200000; i++)
		buf_addc(&big, 'a' + i % 26);
	assert_int_equal(write_full(fd, big.data, big.len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(sha256_fd(fd, d, &size, &err), 0);
	assert_int_equal(size, 200000);
	hex_of(d, 32, h);
	{
		uint8_t	 d2[32];
		char	 h2[65];

		sha256(big.data, big.len, d2);
		hex_of(d2, 32, h2);
		assert_string_equal(h, h2);
	}
	close(fd);
	assert_int_equal(sha256_fd(fd, d, &size, &err), -1);
	assert_string_equal(buf_str(&err), "read: Bad file descriptor");
	buf_free(&err);
	buf_free(&big);
}

static void
hmac_hex(const char *key, size_t keylen, const char *msg, size_t split,
    char out[65])
{
	struct hmac_ctx	 c;
	uint8_t		 d[32];

	hmac_init(&c, key, keylen);
	hmac_update(&c, msg, split);
	hmac_update(&c, msg + split, strlen(msg) - split);
	hmac_final(&c, d);
	assert_null(c.mac);
	hmac_free(&c);
	hex_of(d, 32, out);
}

static void
test_hmac(void **state)
{
	const char	*k = "It's a Secret to Everybody";
	char		 h[65];
	struct hmac_ctx	 c;

	/* GitHub's documented webhook example. */
	hmac_hex(k, strlen(k), "Hello, World!", 0, h);
	assert_string_equal(h, "757107ea0eb2509fc211221cce984b8a"
	    "37570b6d7586c22c46f4379c8b043e17");
	hmac_hex(k, strlen(k), "Hello, World!", 7, h);
	assert_string_equal(h, "757107ea0eb2509fc211221cce984b8a"
	    "37570b6d7586c22c46f4379c8b043e17");
	/* RFC 4231 test case 2. */
	hmac_hex("Jefe", 4, "what do ya want for nothing?", 3, h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	/* Empty key and message. */
	hmac_hex(NULL, 0, "", 0, h);
	assert_string_equal(h, "b613679a0814d9ec772f95d778c35fc5"
	    "ff1697c493715653c6c712144292c5ad");
	hmac_init(&c, "k", 1);	/* abandoned */
	hmac_free(&c);
}

static void
test_ct_equal(void **state)
{
	assert_true(ct_equal("abcd", "abcd", 4));
	assert_false(ct_equal("abcd", "abce", 4));
	assert_false(ct_equal("xbcd", "abcd", 4));
	assert_true(ct_equal("ab", "ac", 1));
	assert_true(ct_equal("", "x", 0));
}

static char *
b64(const char *s, size_t n)
{
	struct buf	 b = BUF_INIT;

	b64_encode_nopad((const uint8_t *)s, n, &b);
	buf_addc(&b, '\0');
	return buf_release(&b);
}

#define B64_EQ(in, n, out) do {				\
	char *s_ = b64((in), (n));			\
	assert_string_equal(s_, (out));			\
	free(s_);					\
} while (0)

static int
dec(const char *s, uint8_t *out, size_t max, size_t *len)
{
	return b64_decode_nopad(s, strlen(s), out, max, len);
}

static void
test_base64(void **state)
{
	uint8_t	 out[16];
	size_t	 len = 99;

	B64_EQ("", 0, "");
	B64_EQ("f", 1, "Zg");
	B64_EQ("fo", 2, "Zm8");
	B64_EQ("foo", 3, "Zm9v");
	B64_EQ("foob", 4, "Zm9vYg");
	B64_EQ("\xfb\xff\xbf", 3, "+/+/");
	B64_EQ("\0\0", 2, "AAA");

	assert_int_equal(dec("", out, 0, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(dec("Zm9vYg", out, sizeof(out), &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(dec("Zm8", out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "fo", 2);
	assert_int_equal(dec("+/+/", out, sizeof(out), &len), 0);
	assert_memory_equal(out, "\xfb\xff\xbf", 3);

	assert_int_equal(dec("Zg==", out, sizeof(out), &len), -1);
	assert_int_equal(dec("Zm8=", out, sizeof(out), &len), -1);
	assert_int_equal(dec("Zm9vY", out, sizeof(out), &len), -1);
	assert_int_equal(dec("Zh", out, sizeof(out), &len), -1);
	assert_int_equal(dec("Zm9", out, sizeof(out), &len), -1);
	assert_int_equal(dec("-_-_", out, sizeof(out), &len), -1);
	assert_int_equal(dec("Zm9v Yg", out, sizeof(out), &len), -1);
	assert_int_equal(dec("Zm9v\nYg", out, sizeof(out), &len), -1);
	/* Output bound. */
	assert_int_equal(dec("Zm9vYg", out, 3, &len), -1);
	assert_int_equal(dec("Zm9vYg", out, 4, &len), 0);
}

static void
check_test_key(const struct pm_key *k)
{
	char	 h[65];
	int	 i;

	hex_of(k->pub, 32, h);
	assert_string_equal(h, PUB_HEX);
	assert_string_equal(k->fpr, FPR);
	for (i = 0; i < 32; i++)
		assert_int_equal(k->seed[i], i);
	assert_non_null(k->pkey);
}

static void
test_key_vectors(void **state)
{
	struct pm_key	 a, b;
	struct buf	 err = BUF_INIT, hexf = BUF_INIT, fprf = BUF_INIT;
	uint8_t		 sa[64], sb[64], digest[32];
	char		*p1 = vec_path("keys/test-ed25519.seed");
	char		*p2 = vec_path("keys/test-ed25519.pem");

	assert_int_equal(key_load_file(p1, &a, &err), 0);
	assert_int_equal(key_load_file(p2, &b, &err), 0);
	assert_string_equal(buf_str(&err), "");
	check_test_key(&a);
	check_test_key(&b);
	vec_read("keys/public-key.hex", &hexf);
	vec_read("keys/fingerprint.txt", &fprf);
	assert_int_equal(hexf.len, 65);
	assert_memory_equal(hexf.data, PUB_HEX "\n", 65);
	assert_memory_equal(fprf.data, FPR "\n", 65);

	/* Both key files give identical signatures. */
	sha256("hello", 5, digest);
	key_sign(&a, digest, 32, sa);
	key_sign(&b, digest, 32, sb);
	assert_memory_equal(sa, sb, 64);
	assert_int_equal(ed25519_verify(a.pub, digest, 32, sa), 1);
	digest[0] ^= 1;
	assert_int_equal(ed25519_verify(a.pub, digest, 32, sa), 0);
	digest[0] ^= 1;
	sa[63] ^= 0x80;
	assert_int_equal(ed25519_verify(a.pub, digest, 32, sa), 0);
	sa[63] ^= 0x80;
	assert_int_equal(ed25519_verify(a.pub, digest, 31, sa), 0);

	key_free(&a);
	assert_null(a.pkey);
	assert_int_equal(a.seed[31], 0);
	key_free(&b);
	free(p1);
	free(p2);
	buf_free(&err);
	buf_free(&hexf);
	buf_free(&fprf);
}

/* Loading must fail with exactly this message (name "k"). */
static void
load_fails(const char *data, size_t n, const char *msg)
{
	struct pm_key	 k;
	struct buf	 err = BUF_INIT;

	assert_int_equal(key_load_mem(data, n, "k", &k, &err), -1);
	assert_string_equal(buf_str(&err), msg);
	assert_null(k.pkey);
	buf_free(&err);
}

static void
load_ok(const char *data, size_t n)
{
	struct pm_key	 k;
	struct buf	 err = BUF_INIT;

	if (key_load_mem(data, n, "k", &k, &err) == -1)
		fail_msg("%s", buf_str(&err));
	check_test_key(&k);
	key_free(&k);
	buf_free(&err);
}

static void
test_key_formats(void **state)
{
	struct buf	 seed = BUF_INIT, t = BUF_INIT, pub = BUF_INIT;
	char		*pem;

	vec_read("keys/test-ed25519.seed", &seed);
	vec_read("keys/test-ed25519.pub.pem", &pub);
	/* Seed plus newline is not a seed. */
	buf_add(&t, seed.data, 32);
	buf_addc(&t, '\n');
	load_fails(t.data, t.len,
	    "k: neither a 32-byte raw Ed25519 seed nor PEM");
	load_fails(t.data, 31,
	    "k: neither a 32-byte raw Ed25519 seed nor PEM");
	load_fails("", 0, "k: neither a 32-byte raw Ed25519 seed nor PEM");

	/* Leading text and CRLF line ends are accepted. */
	pem = xasprintf("comment line\r\n-----BEGIN PRIVATE KEY-----\r\n%s"
	    "\r\n-----END PRIVATE KEY-----\r\n", test_pem_body);
	load_ok(pem, strlen(pem));
	free(pem);
	/* Body split over lines. */
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\n%.20s\n%s\n"
	    "-----END PRIVATE KEY-----", test_pem_body, test_pem_body + 20);
	load_ok(pem, strlen(pem));
	free(pem);

	/*
	 * PKCS#8 v2 (RFC 8410 OneAsymmetricKey with the public key): not
	 * read by libcrypto 3.0, and no tool we know writes it for Ed25519.
	 */
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\n"
	    "MFECAQEwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
	    "gSEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n"
	    "-----END PRIVATE KEY-----\n");
	load_fails(pem, strlen(pem), "k: PEM body is not a PKCS#8 private key");
	free(pem);

	/* Wrong armour. */
	pem = xasprintf("-----BEGIN EC PRIVATE KEY-----\n%s\n"
	    "-----END EC PRIVATE KEY-----\n", test_pem_body);
	load_fails(pem, strlen(pem), "k: PEM block type is \"EC PRIVATE KEY\", "
	    "expected \"PRIVATE KEY\" (PKCS#8 Ed25519)");
	free(pem);
	load_fails(pub.data, pub.len, "k: PEM block type is \"PUBLIC KEY\", "
	    "expected \"PRIVATE KEY\" (PKCS#8 Ed25519)");
	/* "PRIVATE KEY", but not Ed25519. */
	load_fails(x25519_pem, strlen(x25519_pem),
	    "k: PKCS#8 key is not an Ed25519 key");
	load_fails(p256_pem, strlen(p256_pem),
	    "k: PKCS#8 key is not an Ed25519 key");
	/* Broken PEM. */
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\n%s\n", test_pem_body);
	load_fails(pem, strlen(pem), "k: PEM block has no END line");
	free(pem);
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\n%s\n"
	    "-----END PUBLIC KEY-----\n", test_pem_body);
	load_fails(pem, strlen(pem), "k: PEM END line does not match BEGIN");
	free(pem);
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\n%s=\n"
	    "-----END PRIVATE KEY-----\n", test_pem_body);
	load_fails(pem, strlen(pem), "k: PEM body is not valid base64");
	free(pem);
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
	    "\n%s\n-----END PRIVATE KEY-----\n", test_pem_body);
	load_fails(pem, strlen(pem), "k: PEM headers are not supported");
	free(pem);
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n");
	load_fails(pem, strlen(pem), "k: PEM body is not a PKCS#8 private key");
	free(pem);
	/* "-----BEGIN" in the middle of a line does not start a block. */
	pem = xasprintf("x-----BEGIN PRIVATE KEY-----\n%s\n"
	    "-----END PRIVATE KEY-----\n", test_pem_body);
	load_fails(pem, strlen(pem),
	    "k: neither a 32-byte raw Ed25519 seed nor PEM");
	free(pem);
	buf_free(&seed);
	buf_free(&t);
	buf_free(&pub);
}

static void
test_key_file_errors(void **state)
{
	struct pm_key	 k;
	struct buf	 err = BUF_INIT, big = BUF_INIT;
	char		 path[] = "/tmp/test_crypto.XXXXXX";
	int		 fd;

	assert_int_equal(key_load_file("/nonexistent/key", &k, &err), -1);
	assert_string_equal(buf_str(&err),
	    "/nonexistent/key: No such file or directory");
	buf_reset(&err);
	assert_int_equal(key_load_file("/tmp", &k, &err), -1);
	assert_string_equal(buf_str(&err), "/tmp: not a regular file");
	buf_reset(&err);

	/* 64 KiB of text before a valid PEM: too large. */
	fd = mkstemp(path);
	assert_int_not_equal(fd, -1);
	while (big.len < KEY_FILE_MAX)
		buf_adds(&big, "# padding padding padding padding\n");
	buf_addf(&big, "-----BEGIN PRIVATE KEY-----\n%s\n"
	    "-----END PRIVATE KEY-----\n", test_pem_body);
	assert_int_equal(write_full(fd, big.data, big.len), 0);
	close(fd);
	assert_int_equal(key_load_file(path, &k, &err), -1);
	assert_true(str_has_suffix(buf_str(&err),
	    ": key file larger than 65536 bytes"));
	assert_true(str_has_prefix(buf_str(&err), path));
	unlink(path);
	buf_free(&err);
	buf_free(&big);
}

static void
test_pubkey(void **state)
{
	struct buf	 pem = BUF_INIT, raw = BUF_INIT, out = BUF_INIT;
	struct buf	 err = BUF_INIT, priv = BUF_INIT;
	uint8_t		 pub[32], want[32];
	char		 fpr[65], *s;

	vec_read("keys/test-ed25519.pub.pem", &pem);
	vec_read("keys/test-ed25519.pub.raw", &raw);
	vec_read("keys/test-ed25519.pem", &priv);
	assert_int_equal(hex_decode(PUB_HEX, 64, want), 0);

	assert_int_equal(pubkey_parse(pem.data, pem.len, pub, &err), 0);
	assert_memory_equal(pub, want, 32);
	assert_int_equal(pubkey_parse(raw.data, raw.len, pub, &err), 0);
	assert_memory_equal(pub, want, 32);
	fingerprint_hex(pub, fpr);
	assert_string_equal(fpr, FPR);

	/* The exact three-line file peipkg-repo writes. */
	pubkey_pem(want, &out);
	assert_int_equal(out.len, pem.len);
	assert_memory_equal(out.data, pem.data, pem.len);
	assert_string_equal(buf_str(&out), "-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n"
	    "-----END PUBLIC KEY-----\n");

	assert_int_equal(pubkey_parse(priv.data, priv.len, pub, &err), -1);
	assert_string_equal(buf_str(&err),
	    "PEM block type is \"PRIVATE KEY\", expected \"PUBLIC KEY\"");
	buf_reset(&err);
	assert_int_equal(pubkey_parse(x25519_pub_pem, strlen(x25519_pub_pem),
	    pub, &err), -1);
	assert_string_equal(buf_str(&err),
	    "PUBLIC KEY is not an Ed25519 SubjectPublicKeyInfo");
	buf_reset(&err);
	assert_int_equal(pubkey_parse(raw.data, 31, pub, &err), -1);
	assert_string_equal(buf_str(&err), "neither 32 raw bytes nor PEM");
	buf_reset(&err);
	/* SPKI with a trailing byte. */
	s = xasprintf("-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbgA\n"
	    "-----END PUBLIC KEY-----\n");
	assert_int_equal(pubkey_parse(s, strlen(s), pub, &err), -1);
	assert_string_equal(buf_str(&err),
	    "PUBLIC KEY is not an Ed25519 SubjectPublicKeyInfo");
	free(s);
	buf_free(&pem);
	buf_free(&raw);
	buf_free(&out);
	buf_free(&err);
	buf_free(&priv);
}

static void
test_key_from_seed(void **state)
{
	struct pm_key	 k;
	uint8_t		 seed[32];
	int		 i;

	/* The second key of the negative vectors. */
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x20 + i);
	assert_int_equal(key_from_seed(seed, &k, NULL), 0);
	assert_true(str_has_prefix(k.fpr, "24f6ed6a"));
	assert_true(str_has_suffix(k.fpr, "de28"));
	key_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_sha256_fd),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_key_vectors),
		cmocka_unit_test(test_key_formats),
		cmocka_unit_test(test_key_file_errors),
		cmocka_unit_test(test_pubkey),
		cmocka_unit_test(test_key_from_seed),
	};

	crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
