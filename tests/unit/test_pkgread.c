/*
 * test_pkgread.c: the strict reader: every package vector verifies and
 * yields its exact members; every negative package vector fails for its
 * reason; crafted archives hit each rule; truncations and single-byte
 * flips of a signed package all fail cleanly (set TEST_STRIDE=N to test
 * every Nth offset only, e.g. under valgrind).
 */
#include "config.h"

#include <sys/mman.h>

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
#include "pkgread.h"
#include "sign.h"
#include "tar.h"
#include "zstream.h"

#define MTIME	1778068800LL

static uint8_t	 pub[32];
static size_t	 stride = 1;

static const char *const cases[] = {
	"tiny-noarch", "unsigned-noarch", "x86_64-triplet", "symlinks",
	"long-path-split", "long-path-pax", "non-ascii-nfc", "empty-file",
	"explicit-empty-dir", "dir-vs-file-order", "many-files", "large-file",
	"deps-full", "side-effects", "epoch-version", "json-escaping",
	"empty-payload", "hardlink-copies", "debug-paths",
};

static void
vec(const char *rel, struct buf *b)
{
	struct buf	 err = BUF_INIT;
	const char	*top = getenv("top_srcdir");
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/tests/vectors/%s", top ? top : "../..",
	    rel);
	if (read_file(path, 64 << 20, b, &err) == -1)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

/* An anonymous file holding `n` bytes of `p` compressed. */
static int
zfile(const void *p, size_t n)
{
	struct buf	 err = BUF_INIT;
	struct zout	*z;
	int		 fd;

	fd = memfd_create("pkg", MFD_CLOEXEC);
	assert_true(fd != -1);
	z = zout_new(fd, 1, 1, &err);
	assert_non_null(z);
	assert_int_equal(zout_write(z, p, n, &err), 0);
	assert_int_equal(zout_finish(z, NULL, &err), 0);
	zout_free(z);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	buf_free(&err);
	return fd;
}

static int
check_fd(int fd, int allow_unsigned, struct pkg_info *info, struct buf *err)
{
	struct pkg_verify_opts	 o;

	pkg_verify_opts_init(&o);
	o.keys = (const uint8_t (*)[32])&pub;
	o.nkeys = 1;
	o.allow_unsigned = allow_unsigned;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return pkg_verify_fd(fd, &o, info, err);
}

/* Verify an uncompressed tar; 0 or -1 with the message in err. */
static int
check_tar(const void *p, size_t n, int allow_unsigned, struct buf *err)
{
	struct pkg_info	 info;
	int		 fd = zfile(p, n), rc;

	rc = check_fd(fd, allow_unsigned, &info, err);
	pkg_info_free(&info);
	close(fd);
	return rc;
}

static void
test_vectors(void **state)
{
	struct pkg_info	 info;
	struct buf	 tar = BUF_INIT, m = BUF_INIT, f = BUF_INIT,
			 err = BUF_INIT, file = BUF_INIT;
	char		 rel[256], fpr[65];
	uint8_t		 h[32];
	size_t		 i;
	int		 fd, unsigned_case;
	ssize_t		 n;
	char		 b[4096];

	fingerprint_hex(pub, fpr);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&tar);
		buf_reset(&m);
		buf_reset(&f);
		buf_reset(&file);
		snprintf(rel, sizeof(rel), "packages/%s/expected.tar", cases[i]);
		vec(rel, &tar);
		snprintf(rel, sizeof(rel), "packages/%s/expected-manifest.json",
		    cases[i]);
		vec(rel, &m);
		snprintf(rel, sizeof(rel), "packages/%s/expected-files.json",
		    cases[i]);
		vec(rel, &f);
		unsigned_case = strcmp(cases[i], "unsigned-noarch") == 0;
		fd = zfile(tar.data, tar.len);
		if (check_fd(fd, unsigned_case, &info, &err) == -1)
			fail_msg("%s: %s", cases[i], buf_str(&err));
		assert_int_equal(info.manifest_json.len, m.len);
		assert_memory_equal(info.manifest_json.data, m.data, m.len);
		assert_int_equal(info.files_json.len, f.len);
		assert_memory_equal(info.files_json.data, f.data, f.len);
		assert_int_equal(info.tar_size, tar.len);
		assert_int_equal(info.is_signed, !unsigned_case);
		if (!unsigned_case)
			assert_string_equal(info.fpr, fpr);
		lseek(fd, 0, SEEK_SET);
		while ((n = read(fd, b, sizeof(b))) > 0)
			buf_add(&file, b, (size_t)n);
		assert_int_equal(info.size_compressed, file.len);
		sha256(file.data, file.len, h);
		assert_memory_equal(info.sha256, h, 32);
		assert_int_equal(strlen(info.sha256_hex), 64);
		pkg_info_free(&info);
		close(fd);
		/* Unsigned, and a signature is required. */
		if (unsigned_case) {
			assert_int_equal(check_tar(tar.data, tar.len, 0, &err),
			    -1);
			assert_non_null(strstr(err.data, "package is unsigned"));
		}
	}
	buf_free(&tar);
	buf_free(&m);
	buf_free(&f);
	buf_free(&err);
	buf_free(&file);
}

static void
test_negative_vectors(void **state)
{
	static const struct { const char *c, *msg; } neg[] = {
		{ "pkg-bad-name", "name: package name \"Hello_World\"" },
		{ "pkg-bad-version", "version: version \"1.0\": no -revision" },
		{ "pkg-description-control-char", "description: description" },
		{ "pkg-description-u0001", "U+0001" },
		{ "pkg-unsorted-deps", "dependencies: not sorted by name "
		    "(\"zlib\" before \"libc\"" },
		{ "pkg-duplicate-dep", "dependencies: duplicate entry \"libc\"" },
		{ "pkg-dep-arch", "dependency arch \"x86_64\"" },
		{ "pkg-bad-side-effect", "side effect \"systemd-reload\"" },
		{ "pkg-duplicate-side-effect", "\"ldconfig\" appears more than "
		    "once" },
		{ "pkg-bad-constraint", "constraint \"~> 1.2\"" },
		{ "pkg-timestamp-offset", "timestamp \"2026-05-06T14:00:00+02:00\""
		    " must be UTC" },
		{ "pkg-fractional-timestamp", "the signature does not verify" },
		{ "pkg-non-nfc-path", "not in Unicode NFC" },
		{ "pkg-control-char-path", "control character '\\t'" },
		{ "pkg-old-dir-order", "payload entries are not sorted "
		    "(\"usr/include/asm/fpu.h\" after \"usr/include/asm/fpu/\"" },
		{ "pkg-tampered-content", "hash mismatch" },
		{ "pkg-unsigned-policy-required", "package is unsigned" },
		{ "pkg-signed-by-unknown-key", "signing key 24f6ed6acbfe1009c030"
		    "d7ca567c33ca4830911498236b5561a6c82abec5de28 is not in the "
		    "trust set" },
	};
	struct pkg_verify_opts	 o;
	struct pkg_info		 info;
	struct buf		 err = BUF_INIT;
	const char		*top = getenv("top_srcdir");
	char			 path[4096];
	size_t			 i;

	pkg_verify_opts_init(&o);
	o.keys = (const uint8_t (*)[32])&pub;
	o.nkeys = 1;
	for (i = 0; i < nitems(neg); i++) {
		buf_reset(&err);
		snprintf(path, sizeof(path), "%s/tests/vectors/negative/%s/"
		    "package.peipkg", top ? top : "../..", neg[i].c);
		if (pkg_verify_file(path, &o, &info, &err) != -1 ||
		    strstr(buf_str(&err), neg[i].msg) == NULL)
			fail_msg("%s: want \"%s\", got \"%s\"", neg[i].c,
			    neg[i].msg, buf_str(&err));
		assert_string_equal(info.mf.name, "");
		pkg_info_free(&info);
	}
	buf_free(&err);
}

static void
test_truncation(void **state)
{
	struct buf	 tar = BUF_INIT, err = BUF_INIT, z = BUF_INIT;
	struct pkg_info	 info;
	size_t		 cut;
	ssize_t		 n;
	char		 b[4096];
	int		 fd, cfd, rc;

	vec("packages/tiny-noarch/expected.tar", &tar);
	for (cut = 0; cut < tar.len; cut += stride) {
		buf_reset(&err);
		rc = check_tar(tar.data, cut, 0, &err);
		/* Only a missing (part of the) trailer is tolerated. */
		if (cut == 5632 || cut == 6144)
			assert_int_equal(rc, 0);
		else if (rc != -1 || err.len == 0)
			fail_msg("tar cut at %zu: rc %d", cut, rc);
	}
	/* The compressed file cut anywhere. */
	fd = zfile(tar.data, tar.len);
	while ((n = read(fd, b, sizeof(b))) > 0)
		buf_add(&z, b, (size_t)n);
	close(fd);
	for (cut = 0; cut < z.len; cut++) {
		buf_reset(&err);
		cfd = memfd_create("cut", MFD_CLOEXEC);
		assert_int_equal(write_full(cfd, z.data, cut), 0);
		rc = check_fd(cfd, 0, &info, &err);
		if (rc != -1 || err.len == 0)
			fail_msg("zstd cut at %zu: rc %d", cut, rc);
		pkg_info_free(&info);
		close(cfd);
	}
	buf_free(&tar);
	buf_free(&err);
	buf_free(&z);
}

/* Every single-byte change to a signed package is refused. */
static void
test_flips(void **state)
{
	static const unsigned char masks[] = { 0x01, 0x80 };
	struct buf	 tar = BUF_INIT, err = BUF_INIT, z = BUF_INIT;
	struct pkg_info	 info;
	size_t		 i, k, ok = 0;
	ssize_t		 n;
	char		 b[4096];
	int		 fd, rc;

	vec("packages/tiny-noarch/expected.tar", &tar);
	for (k = 0; k < nitems(masks); k++) {
		for (i = 0; i < tar.len; i += stride) {
			tar.data[i] ^= masks[k];
			buf_reset(&err);
			rc = check_tar(tar.data, tar.len, 1, &err);
			tar.data[i] ^= masks[k];
			if (rc != -1 || err.len == 0)
				fail_msg("flip 0x%02x at %zu accepted", masks[k],
				    i);
		}
	}
	/* Compressed flips: never a crash; a failure always says why. */
	fd = zfile(tar.data, tar.len);
	while ((n = read(fd, b, sizeof(b))) > 0)
		buf_add(&z, b, (size_t)n);
	close(fd);
	for (i = 0; i < z.len; i++) {
		z.data[i] ^= 0xff;
		fd = memfd_create("flip", MFD_CLOEXEC);
		assert_int_equal(write_full(fd, z.data, z.len), 0);
		buf_reset(&err);
		rc = check_fd(fd, 1, &info, &err);
		assert_true(rc == 0 || (rc == -1 && err.len > 0));
		ok += rc == 0;
		pkg_info_free(&info);
		close(fd);
		z.data[i] ^= 0xff;
	}
	/* Only frame-header bits that do not change the output may pass. */
	assert_true(ok < 8);
	buf_free(&tar);
	buf_free(&err);
	buf_free(&z);
}

/* ---- crafted archives ------------------------------------------------- */

static int
mem_sink(void *arg, const void *p, size_t n, struct buf *err)
{
	buf_add(arg, p, n);
	return 0;
}

#define HELLO_SHA "4f91e7c17054930fd12bf2de72f8f31eb44090052475b88dc2338163d642e7ac"

static char *
manifest_json(unsigned long long size)
{
	return xasprintf("{\"schema_version\":1,\"name\":\"hello\","
	    "\"version\":\"0.1-1\",\"architecture\":\"noarch\","
	    "\"dependencies\":[],\"conflicts\":[],\"size_installed\":%llu,"
	    "\"build\":{\"timestamp\":\"2026-05-06T12:00:00Z\","
	    "\"farm_id\":\"\",\"source_ref\":\"\"}}\n", size);
}

static const char files1[] = "{\"schema_version\":1,\"algorithm\":\"sha256\","
    "\"entries\":[{\"path\":\"usr/m\",\"size\":14,\"hash\":\"" HELLO_SHA
    "\"}]}\n";

/* manifest, files.json (14-byte usr/m), usr/, usr/m */
static void
start(struct tar_writer *tw, struct buf *out)
{
	struct buf	 err = BUF_INIT;
	char		*m = manifest_json(14);

	tar_init(tw, mem_sink, out, MTIME);
	assert_int_equal(tar_add_file_mem(tw, ".peipkg/manifest.json", m,
	    strlen(m), &err), 0);
	assert_int_equal(tar_add_file_mem(tw, ".peipkg/files.json", files1,
	    strlen(files1), &err), 0);
	assert_int_equal(tar_add_dir(tw, "usr/", &err), 0);
	assert_int_equal(tar_add_file_mem(tw, "usr/m", "Hello, Peios!\n", 14,
	    &err), 0);
	free(m);
	buf_free(&err);
}

/* Sign everything so far and add the signature entry and trailer. */
static void
sign_finish(struct tar_writer *tw, struct buf *out)
{
	struct buf	 seed = BUF_INIT, err = BUF_INIT, env = BUF_INIT;
	struct pm_key	 key;
	uint8_t		 d[32], sig[64];

	vec("keys/test-ed25519.seed", &seed);
	assert_int_equal(key_load_mem(seed.data, seed.len, "seed", &key, &err),
	    0);
	sha256(out->data, out->len, d);
	key_sign(&key, d, 32, sig);
	sigenv_write(&env, key.fpr, sig);
	assert_int_equal(tar_add_file_mem(tw, ".peipkg/signature", env.data,
	    env.len, &err), 0);
	assert_int_equal(tar_finish(tw, &err), 0);
	key_free(&key);
	buf_free(&seed);
	buf_free(&err);
	buf_free(&env);
}

/* Patch a header field at tar offset `hdr` and fix its checksum. */
static void
patch(struct buf *t, size_t hdr, size_t off, const void *p, size_t n)
{
	unsigned char	*b = (unsigned char *)t->data + hdr;

	memcpy(b + off, p, n);
	snprintf((char *)b + 148, 8, "%06o", tar_checksum(b));
	b[155] = ' ';
}

static void
expect(const struct buf *t, int allow_unsigned, const char *msg)
{
	struct buf	 err = BUF_INIT;

	if (check_tar(t->data, t->len, allow_unsigned, &err) != -1 ||
	    strstr(buf_str(&err), msg) == NULL)
		fail_msg("want \"%s\", got \"%s\"", msg, buf_str(&err));
	buf_free(&err);
}

static void
test_crafted(void **state)
{
	struct tar_writer	 tw;
	struct buf		 t = BUF_INIT, err = BUF_INIT;
	char			*m;

	/* The base case is good, signed and unsigned. */
	start(&tw, &t);
	sign_finish(&tw, &t);
	assert_int_equal(check_tar(t.data, t.len, 0, &err), 0);
	/* An entry after the signature. */
	t.len -= 1024;
	assert_int_equal(tar_add_dir(&tw, "zzz/", &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 0, "entry zzz/ at offset 4608 follows .peipkg/signature");
	buf_reset(&t);

	/* Types a package may not hold; a global PAX header. */
	start(&tw, &t);
	assert_int_equal(tar_add_symlink(&tw, "usr/z", "m", &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	assert_int_equal(check_tar(t.data, t.len, 1, &err), 0);
	patch(&t, 3584, 156, "1", 1);
	expect(&t, 1, "tar entry at offset 3584 has type '1'");
	patch(&t, 3584, 156, "g", 1);
	expect(&t, 1, "has type 'g'");
	patch(&t, 3584, 156, "\0", 1);	/* legacy file, but size 0 vs... */
	expect(&t, 1, "payload file usr/z (at offset 3584) has no entry in "
	    ".peipkg/files.json");
	patch(&t, 3584, 156, "2", 1);
	patch(&t, 3584, 124, "00000000001", 11);
	expect(&t, 1, "symlink usr/z (at offset 3584) has a non-zero size");
	patch(&t, 3584, 124, "00000000000", 11);
	patch(&t, 3584, 157, "\0", 1);
	expect(&t, 1, "symlink usr/z (at offset 3584) has an empty target");
	patch(&t, 3584, 157, "m", 1);
	patch(&t, 3584, 100, "0000x77", 7);
	expect(&t, 1, "tar header at offset 3584: invalid mode field");
	patch(&t, 3584, 100, "0000777", 7);
	patch(&t, 3584, 257, "ustaR", 5);
	expect(&t, 1, "tar header at offset 3584: not a ustar header");
	patch(&t, 3584, 257, "ustar", 5);
	t.data[3584 + 148] ^= 1;
	expect(&t, 1, "tar header at offset 3584: bad checksum");
	t.data[3584 + 148] ^= 1;
	assert_int_equal(check_tar(t.data, t.len, 1, &err), 0);
	/* Non-zero data after the trailer. */
	buf_add(&t, "\0\0\0x", 4);
	expect(&t, 1, "non-zero data after the end of the archive");
	t.len -= 4;
	/* A zero block, then a non-zero block. */
	t.data[t.len - 1] = 1;
	expect(&t, 1, "non-zero tar block at offset 4608 after a zero block");
	buf_reset(&t);

	/* Sizes: files.json vs payload vs size_installed. */
	m = manifest_json(15);
	tar_init(&tw, mem_sink, &t, MTIME);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/manifest.json", m,
	    strlen(m), &err), 0);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/files.json", files1,
	    strlen(files1), &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 1, ".peipkg/manifest.json: size_installed is 15 but the "
	    "files in .peipkg/files.json total 14 bytes");
	free(m);
	buf_reset(&t);
	m = manifest_json(14);
	tar_init(&tw, mem_sink, &t, MTIME);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/manifest.json", m,
	    strlen(m), &err), 0);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/files.json", files1,
	    strlen(files1), &err), 0);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/extra", "x", 1, &err),
	    0);
	assert_int_equal(tar_add_file_mem(&tw, "usr/n", "x", 1, &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 1, ".peipkg/files.json lists usr/m, which is not a regular "
	    "file in the payload");
	buf_reset(&t);
	/* Metadata after the payload, manifest not first. */
	start(&tw, &t);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/late", "x", 1, &err),
	    0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 1, "metadata entry .peipkg/late (at offset 3584) comes "
	    "after payload entries");
	buf_reset(&t);
	tar_init(&tw, mem_sink, &t, MTIME);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/files.json", files1,
	    strlen(files1), &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 1, "tar entry at offset 0 must be the regular file "
	    ".peipkg/manifest.json");
	buf_reset(&t);

	/* A path under a symlink; a directory with a symlink's path. */
	tar_init(&tw, mem_sink, &t, MTIME);
	free(m);
	m = manifest_json(0);
	{
		const char *f0 = "{\"schema_version\":1,\"algorithm\":"
		    "\"sha256\",\"entries\":[]}\n";
		assert_int_equal(tar_add_file_mem(&tw, ".peipkg/manifest.json",
		    m, strlen(m), &err), 0);
		assert_int_equal(tar_add_file_mem(&tw, ".peipkg/files.json",
		    f0, strlen(f0), &err), 0);
		assert_int_equal(tar_add_symlink(&tw, "usr", "/etc", &err), 0);
		assert_int_equal(tar_add_symlink(&tw, "usr.d", "x", &err), 0);
		assert_int_equal(tar_add_dir(&tw, "usr/", &err), 0);
		assert_int_equal(tar_add_symlink(&tw, "usr/x", "y", &err), 0);
		assert_int_equal(tar_finish(&tw, &err), 0);
	}
	expect(&t, 1, "directory usr/ (at offset 3072) has the path of an "
	    "earlier file or symlink");
	t.len = 3072;
	assert_int_equal(tar_add_symlink(&tw, "usr/x", "y", &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 1, "payload entry usr/x (at offset 3072) lies beneath the "
	    "file or symlink usr");
	t.len = 3072;
	assert_int_equal(tar_finish(&tw, &err), 0);
	assert_int_equal(check_tar(t.data, t.len, 1, &err), 0);
	buf_reset(&t);
	free(m);
	m = manifest_json(14);

	/* Content that does not match files.json. */
	tar_init(&tw, mem_sink, &t, MTIME);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/manifest.json", m,
	    strlen(m), &err), 0);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/files.json", files1,
	    strlen(files1), &err), 0);
	assert_int_equal(tar_add_file_mem(&tw, "usr/m", "Hello, Peios?\n", 14,
	    &err), 0);
	assert_int_equal(tar_finish(&tw, &err), 0);
	expect(&t, 1, "payload file usr/m (at offset 2048) hash mismatch");
	buf_reset(&t);
	free(m);

	/* A PAX header (non-ASCII name) before the signature entry. */
	start(&tw, &t);
	{
		size_t sigoff = t.len;
		sign_finish(&tw, &t);
		/* rename the signature via a PAX path record */
		struct buf pax = BUF_INIT;
		struct buf t2 = BUF_INIT;
		buf_add(&t2, t.data, sigoff);
		tar_pax_record(&pax, "path", ".peipkg/signature");
		/* x header + data, then the original signature entry */
		{
			unsigned char h[512];
			memset(h, 0, sizeof(h));
			memcpy(h, "PaxHeaders.0/signature", 22);
			snprintf((char *)h + 100, 8, "%07o", 0);
			snprintf((char *)h + 108, 8, "%07o", 0);
			snprintf((char *)h + 116, 8, "%07o", 0);
			snprintf((char *)h + 124, 12, "%011o",
			    (unsigned)pax.len);
			snprintf((char *)h + 136, 12, "%011o", 0);
			h[156] = 'x';
			memcpy(h + 257, "ustar\0" "00", 8);
			snprintf((char *)h + 148, 8, "%06o", tar_checksum(h));
			h[155] = ' ';
			buf_add(&t2, h, 512);
			memset(h, 0, sizeof(h));
			memcpy(h, pax.data, pax.len);
			buf_add(&t2, h, 512);
		}
		buf_add(&t2, t.data + sigoff, t.len - sigoff);
		expect(&t2, 1, ".peipkg/signature (at offset 4608) is preceded "
		    "by a PAX extended header");
		/* Two PAX headers in a row. */
		buf_reset(&t);
		buf_add(&t, t2.data, sigoff + 1024);
		buf_add(&t, t2.data + sigoff, t2.len - sigoff);
		expect(&t, 1, "two PAX headers in a row at offset 4608");
		buf_free(&pax);
		buf_free(&t2);
	}
	buf_free(&t);
	buf_free(&err);
}

/* Decompression caps: absolute, then size_installed + 320 MiB. */
static void
test_bombs(void **state)
{
	struct pkg_verify_opts	 o;
	struct pkg_info		 info;
	struct tar_writer	 tw;
	struct buf		 t = BUF_INIT, err = BUF_INIT;
	struct zout		*z;
	static char		 zero[1 << 16];
	char			*m = manifest_json(0);
	const char		*f0 = "{\"schema_version\":1,\"algorithm\":"
	    "\"sha256\",\"entries\":[]}\n";
	uint64_t		 i;
	int			 fd;

	tar_init(&tw, mem_sink, &t, MTIME);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/manifest.json", m,
	    strlen(m), &err), 0);
	assert_int_equal(tar_add_file_mem(&tw, ".peipkg/files.json", f0,
	    strlen(f0), &err), 0);
	assert_int_equal(tar_begin_file(&tw, ".peipkg/junk", 400ULL << 20,
	    &err), 0);
	fd = memfd_create("bomb", MFD_CLOEXEC);
	z = zout_new(fd, 1, 1, &err);
	assert_int_equal(zout_write(z, t.data, t.len, &err), 0);
	for (i = 0; i < (400ULL << 20) / sizeof(zero); i++)
		assert_int_equal(zout_write(z, zero, sizeof(zero), &err), 0);
	assert_int_equal(zout_finish(z, NULL, &err), 0);
	zout_free(z);
	pkg_verify_opts_init(&o);
	o.allow_unsigned = 1;
	o.max_tar = 1 << 20;
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(pkg_verify_fd(fd, &o, &info, &err), -1);
	assert_non_null(strstr(err.data, "decompressed size exceeds the "
	    "1048576-byte limit"));
	pkg_info_free(&info);
	buf_reset(&err);
	o.max_tar = 500ULL << 20;
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(pkg_verify_fd(fd, &o, &info, &err), -1);
	assert_non_null(strstr(err.data, "decompressed size exceeds the "
	    "335544320-byte limit"));
	pkg_info_free(&info);
	close(fd);
	free(m);
	buf_free(&t);
	buf_free(&err);
}

static int
setup(void **state)
{
	struct buf	 b = BUF_INIT;

	vec("keys/test-ed25519.pub.raw", &b);
	assert_int_equal(b.len, 32);
	memcpy(pub, b.data, 32);
	buf_free(&b);
	if (getenv("TEST_STRIDE") != NULL)
		stride = strtoul(getenv("TEST_STRIDE"), NULL, 10);
	if (stride == 0)
		stride = 1;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_negative_vectors),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_crafted),
		cmocka_unit_test(test_bombs),
	};

	crypto_init();
	return cmocka_run_group_tests(tests, setup, NULL);
}
