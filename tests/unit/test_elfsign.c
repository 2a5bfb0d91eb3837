/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_elfsign.c: embedded binary signatures (BEHAVIOUR.md §3.5).  The
 * exact appended layout on a hand-made ELF64 file, an independent check
 * of the signature, a real executable that still runs after signing,
 * and every refusal: not ELF, 32-bit, big-endian, entry size, empty or
 * truncated section table, bad name offsets, already signed, symlinks,
 * failing or lying signers (the original must stay untouched).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
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
#include "elfsign.h"
#include "sign.h"

#define STRTAB		"\0.text\0.shstrtab\0"
#define STRTAB_LEN	(sizeof(STRTAB) - 1)	/* 17 */
#define TEXT_LEN	13
#define SHOFF		104			/* 64 + 17 + 13 = 94 -> 104 */
#define ELF_LEN		(SHOFF + 3 * 64)

static char		 dir[256];
static int		 dfd = -1;
static struct pm_key	 key;
static struct signer	*signer;

/* ---- helpers -------------------------------------------------------- */

static void
p16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
p32(uint8_t *p, uint32_t v)
{
	p16(p, (uint16_t)v);
	p16(p + 2, (uint16_t)(v >> 16));
}

static void
p64(uint8_t *p, uint64_t v)
{
	p32(p, (uint32_t)v);
	p32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
g64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A small valid ELF64 LE file: null, .text, .shstrtab sections. */
static void
make_elf(uint8_t b[ELF_LEN])
{
	uint8_t	*sh;

	memset(b, 0, ELF_LEN);
	memcpy(b, "\177ELF\2\1\1", 7);
	p16(b + 0x10, 2);		/* ET_EXEC */
	p16(b + 0x12, 62);		/* x86-64 */
	p32(b + 0x14, 1);
	p64(b + 0x28, SHOFF);
	p16(b + 0x34, 64);
	p16(b + 0x3a, 64);
	p16(b + 0x3c, 3);
	p16(b + 0x3e, 2);
	memcpy(b + 64, STRTAB, STRTAB_LEN);
	memcpy(b + 64 + STRTAB_LEN, "hello, world!", TEXT_LEN);
	sh = b + SHOFF + 64;		/* .text */
	p32(sh, 1);
	p32(sh + 4, 1);
	p64(sh + 0x18, 64 + STRTAB_LEN);
	p64(sh + 0x20, TEXT_LEN);
	sh += 64;			/* .shstrtab */
	p32(sh, 7);
	p32(sh + 4, 3);
	p64(sh + 0x18, 64);
	p64(sh + 0x20, STRTAB_LEN);
}

static void
put_file(const char *name, const void *b, size_t n, mode_t mode)
{
	int	 fd;

	(void)unlinkat(dfd, name, 0);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static uint8_t *
get_file(const char *name, size_t *n)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;
	char		*p;

	p = xasprintf("%s/%s", dir, name);
	assert_int_equal(read_file(p, 1 << 26, &b, &err), 0);
	free(p);
	buf_free(&err);
	*n = b.len;
	return (uint8_t *)buf_release(&b);
}

/* Sign `name`; the error text (or "" on success). */
static char *
sign_err(const char *name, struct signer *s, const char *keyname)
{
	struct buf	 err = BUF_INIT;
	int		 rc;

	rc = elfsign_file(dfd, name, s, keyname, name, &err);
	assert_int_equal(rc == -1, err.len > 0);
	buf_adds(&err, "");
	return buf_release(&err);
}

/* Refused with `msg`, file unchanged, no temporary left behind. */
static void
expect_refused_by(struct signer *s, const char *keyname, const char *name,
    const uint8_t *b, size_t n, const char *msg)
{
	struct stat	 sb;
	uint8_t		*after;
	size_t		 alen;
	char		*e, *tmp;

	put_file(name, b, n, 0755);
	e = sign_err(name, s, keyname);
	assert_string_equal(e, msg);
	free(e);
	after = get_file(name, &alen);
	assert_int_equal(alen, n);
	assert_memory_equal(after, b, n);
	free(after);
	tmp = xasprintf("%s%s", name, ELFSIGN_TMP_SUFFIX);
	assert_int_equal(fstatat(dfd, tmp, &sb, AT_SYMLINK_NOFOLLOW), -1);
	free(tmp);
}

static void
expect_refused(const char *name, const uint8_t *b, size_t n,
    const char *msg)
{
	expect_refused_by(signer, "tcb", name, b, n, msg);
}

static int
setup(void **state)
{
	uint8_t		 seed[32];
	struct buf	 err = BUF_INIT;
	size_t		 i;

	crypto_init();
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(key_from_seed(seed, &key, &err), 0);
	signer = signer_local_new(NULL);
	assert_int_equal(signer_local_add_key(signer, "tcb", &key, &err), 0);
	snprintf(dir, sizeof(dir), "%s/test_elfsign.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	buf_free(&err);
	return 0;
}

static int
teardown(void **state)
{
	close(dfd);
	assert_int_equal(rm_rf(dir), 0);
	signer_local_free(signer);
	key_free(&key);
	return 0;
}

/* ---- signing -------------------------------------------------------- */

/* Every appended byte, checked against §3.5 by hand. */
static void
test_layout(void **state)
{
	uint8_t		 orig[ELF_LEN], digest[32], *b, *sh;
	struct stat	 sb;
	size_t		 n, S = ELF_LEN, T = S + 65, P;
	char		*e;

	make_elf(orig);
	put_file("a.out", orig, sizeof(orig), 0751);
	e = sign_err("a.out", signer, "tcb");
	assert_string_equal(e, "");
	free(e);
	b = get_file("a.out", &n);
	P = (T + STRTAB_LEN + 11 + 7) & ~(size_t)7;
	assert_int_equal(n, P + 4 * 64);
	/* the original bytes, except e_shoff and e_shnum */
	assert_memory_equal(b, orig, 0x28);
	assert_int_equal(g64(b + 0x28), P);
	assert_memory_equal(b + 0x30, orig + 0x30, 0x3c - 0x30);
	assert_int_equal(b[0x3c] | b[0x3d] << 8, 4);
	assert_memory_equal(b + 0x3e, orig + 0x3e, ELF_LEN - 0x3e);
	/* the blob, the new name table, the padding */
	assert_int_equal(b[S], 0x01);
	assert_memory_equal(b + T, STRTAB, STRTAB_LEN);
	assert_memory_equal(b + T + STRTAB_LEN, ".peios.sig", 11);
	for (n = T + STRTAB_LEN + 11; n < P; n++)
		assert_int_equal(b[n], 0);
	/* old entries, the name table's moved, then the new one */
	assert_memory_equal(b + P, orig + SHOFF, 2 * 64);
	sh = b + P + 2 * 64;
	assert_memory_equal(sh, orig + SHOFF + 2 * 64, 0x18);
	assert_int_equal(g64(sh + 0x18), T);
	assert_int_equal(g64(sh + 0x20), STRTAB_LEN + 11);
	assert_memory_equal(sh + 0x28, orig + SHOFF + 2 * 64 + 0x28, 24);
	sh += 64;
	assert_int_equal(sh[0] | sh[1] << 8, STRTAB_LEN);
	assert_int_equal(g64(sh + 0x00) >> 32, 1);	/* SHT_PROGBITS */
	assert_int_equal(g64(sh + 0x08), 0);		/* flags */
	assert_int_equal(g64(sh + 0x10), 0);		/* addr */
	assert_int_equal(g64(sh + 0x18), S);
	assert_int_equal(g64(sh + 0x20), 65);
	assert_int_equal(g64(sh + 0x28), 0);		/* link, info */
	assert_int_equal(g64(sh + 0x30), 1);		/* addralign */
	assert_int_equal(g64(sh + 0x38), 0);		/* entsize */
	/* independent check: SHA-256 with the blob zeroed, Ed25519 */
	{
		uint8_t	 sig[64];

		memcpy(sig, b + S + 1, 64);
		memset(b + S, 0, 65);
		sha256(b, P + 4 * 64, digest);
		assert_true(ed25519_verify(key.pub, digest, 32, sig));
		sig[5] ^= 1;
		assert_false(ed25519_verify(key.pub, digest, 32, sig));
	}
	free(b);
	assert_int_equal(fstatat(dfd, "a.out", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0751);
	assert_int_equal(faccessat(dfd, "a.out.peios-sig.tmp", F_OK, 0), -1);
}

static void
test_verify(void **state)
{
	uint8_t		 orig[ELF_LEN], other[32];
	struct buf	 err = BUF_INIT;
	char		*e;
	int		 fd;

	make_elf(orig);
	put_file("v", orig, sizeof(orig), 0755);
	fd = openat(dfd, "v", O_RDONLY);
	assert_int_equal(elfsign_verify(fd, key.pub, &err), -1);
	assert_string_equal(err.data, "has no .peios.sig section");
	close(fd);
	e = sign_err("v", signer, "tcb");
	assert_string_equal(e, "");
	free(e);
	fd = openat(dfd, "v", O_RDWR);
	buf_reset(&err);
	assert_int_equal(elfsign_verify(fd, key.pub, &err), 0);
	memset(other, 9, sizeof(other));
	assert_int_equal(elfsign_verify(fd, other, &err), -1);
	assert_string_equal(err.data, "the signature does not verify");
	/* one byte of the original content changed */
	assert_int_equal(pwrite(fd, "H", 1, 64 + STRTAB_LEN), 1);
	buf_reset(&err);
	assert_int_equal(elfsign_verify(fd, key.pub, &err), -1);
	assert_string_equal(err.data, "the signature does not verify");
	/* an unknown blob version */
	assert_int_equal(pwrite(fd, "\2", 1, ELF_LEN), 1);
	buf_reset(&err);
	assert_int_equal(elfsign_verify(fd, key.pub, &err), -1);
	assert_string_equal(err.data, ".peios.sig: unknown blob version 2");
	close(fd);
	buf_free(&err);
}

static void
test_sign_twice(void **state)
{
	uint8_t	 orig[ELF_LEN], *b;
	size_t	 n;
	char	*e;

	make_elf(orig);
	put_file("twice", orig, sizeof(orig), 0755);
	e = sign_err("twice", signer, "tcb");
	assert_string_equal(e, "");
	free(e);
	b = get_file("twice", &n);
	expect_refused("twice", b, n, "already has a .peios.sig section");
	free(b);
}

/* The test machine's /bin/true, signed, still runs. */
static void
test_real_binary(void **state)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;
	char		*p, *e;
	int		 st, fd;

	if (read_file("/bin/true", 1 << 26, &b, &err) == -1 ||
	    b.len < 64 || b.data[4] != 2 || b.data[5] != 1)
		skip();
	put_file("true", b.data, b.len, 0755);
	e = sign_err("true", signer, "tcb");
	assert_string_equal(e, "");
	free(e);
	p = xasprintf("%s/true", dir);
	st = system(p);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fd = open(p, O_RDONLY);
	assert_int_equal(elfsign_verify(fd, key.pub, &err), 0);
	close(fd);
	free(p);
	buf_free(&b);
	buf_free(&err);
}

/* ---- refusals ------------------------------------------------------- */

static void
test_bad_inputs(void **state)
{
	uint8_t	 b[ELF_LEN];

	make_elf(b);
	expect_refused("short", b, 63, "not an ELF file");
	b[0] = 0x7e;
	expect_refused("magic", b, sizeof(b), "not an ELF file");
	make_elf(b);
	b[4] = 1;
	expect_refused("elf32", b, sizeof(b), "not a 64-bit ELF file "
	    "(EI_CLASS 1; only ELFCLASS64 can be signed)");
	make_elf(b);
	b[5] = 2;
	expect_refused("be", b, sizeof(b), "not a little-endian ELF file "
	    "(EI_DATA 2; only ELFDATA2LSB can be signed)");
	make_elf(b);
	p16(b + 0x3a, 40);
	expect_refused("entsize", b, sizeof(b), "section header entry size "
	    "is 40, not 64");
	make_elf(b);
	p16(b + 0x3c, 0);
	expect_refused("noshdr", b, sizeof(b), "has no section header table "
	    "(e_shnum 0)");
	make_elf(b);
	p16(b + 0x3e, 3);
	expect_refused("strndx", b, sizeof(b), "invalid section-name table "
	    "index 3 (e_shnum 3)");
	make_elf(b);
	expect_refused("trunc", b, sizeof(b) - 1, "section header table "
	    "(offset 104, 3 entries) lies outside the file (295 bytes)");
	make_elf(b);
	p64(b + 0x28, UINT64_MAX - 10);
	expect_refused("wrap", b, sizeof(b), "section header table (offset "
	    "18446744073709551605, 3 entries) lies outside the file "
	    "(296 bytes)");
	make_elf(b);
	p64(b + SHOFF + 2 * 64 + 0x20, 1000);
	expect_refused("strsize", b, sizeof(b), "section-name table lies "
	    "outside the file");
	make_elf(b);
	p32(b + SHOFF + 64, 17);
	expect_refused("name", b, sizeof(b), "section 1 has a bad name "
	    "offset");
}

static void
test_not_regular(void **state)
{
	uint8_t	 b[ELF_LEN];
	uint8_t	*after;
	size_t	 n;
	char	*e;

	make_elf(b);
	put_file("target", b, sizeof(b), 0755);
	assert_int_equal(symlinkat("target", dfd, "link"), 0);
	e = sign_err("link", signer, "tcb");
	assert_string_equal(e, "is a symlink (sign the file it points to "
	    "instead)");
	free(e);
	assert_int_equal(mkdirat(dfd, "d", 0755), 0);
	e = sign_err("d", signer, "tcb");
	assert_string_equal(e, "not a regular file");
	free(e);
	e = sign_err("missing", signer, "tcb");
	assert_string_equal(e, "No such file or directory");
	free(e);
	/* a hostile pre-created temporary name is replaced, not followed */
	assert_int_equal(symlinkat("target", dfd, "x.peios-sig.tmp"), 0);
	put_file("x", b, sizeof(b), 0755);
	e = sign_err("x", signer, "tcb");
	assert_string_equal(e, "");
	free(e);
	after = get_file("target", &n);
	assert_int_equal(n, sizeof(b));
	assert_memory_equal(after, b, n);
	free(after);
}

static int
lying_sign(struct signer *s, enum sign_kind kind, const char *subject,
    const char *keyname, const uint8_t digest[32], uint8_t sig[64],
    uint8_t pub[32], struct buf *err)
{
	assert_int_equal(kind, SIGN_BINARY);
	assert_string_equal(keyname, "tcb");
	assert_string_equal(subject, "lie");
	memset(sig, 0x5a, 64);
	memcpy(pub, key.pub, 32);
	return 0;
}

/* A signer that does not hold the key: refused, nothing changed. */
static void
test_signer_failures(void **state)
{
	uint8_t	 b[ELF_LEN];

	make_elf(b);
	expect_refused_by(signer, "other", "nokey", b, sizeof(b),
	    "binary signature for nokey: signing key \"other\" is not "
	    "configured");
}

static void
test_lying_signer(void **state)
{
	struct signer	 liar = { lying_sign, NULL };
	uint8_t		 b[ELF_LEN], *after;
	size_t		 n;
	char		*e;

	make_elf(b);
	put_file("lie", b, sizeof(b), 0755);
	e = sign_err("lie", &liar, "tcb");
	assert_string_equal(e, "the signature does not verify\n"
	    "post-sign self-verification failed");
	free(e);
	after = get_file("lie", &n);
	assert_int_equal(n, sizeof(b));
	assert_memory_equal(after, b, n);
	free(after);
	assert_int_equal(faccessat(dfd, "lie.peios-sig.tmp", F_OK, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_twice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_real_binary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_signer_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lying_signer, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
