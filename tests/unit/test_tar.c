/*
 * test_tar.c: the canonical tar writer against the golden vectors
 * (every tests/vectors/packages/<case>/expected.tar is rebuilt from its
 * own entry list and must come out byte for byte), plus header details:
 * prefix-split boundaries, PAX record lengths and order, non-ASCII
 * names, 100-byte fields, long symlink targets.
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

#include "tar.h"

#define MTIME_20260506	1778068800LL	/* 2026-05-06T12:00:00Z */

static int
mem_sink(void *arg, const void *p, size_t n, struct buf *err)
{
	buf_add(arg, p, n);
	return 0;
}

static void
vec_path(char *out, size_t n, const char *rel)
{
	const char	*top = getenv("top_srcdir");

	snprintf(out, n, "%s/tests/vectors/%s", top ? top : "../..", rel);
}

static void
load(const char *rel, struct buf *b)
{
	struct buf	 err = BUF_INIT;
	char		 path[4096];

	vec_path(path, sizeof(path), rel);
	if (read_file(path, 64 << 20, b, &err) == -1)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

static uint64_t
octal(const unsigned char *f, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < n && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (f[i] - '0');
	return v;
}

static char *
field(const unsigned char *f, size_t n)
{
	return xstrndup((const char *)f, strnlen((const char *)f, n));
}

/* Value of PAX record `key` in data, or NULL. */
static char *
pax_get(const char *d, size_t n, const char *key)
{
	size_t	 i = 0, len, kl = strlen(key);
	char	*sp;

	while (i < n) {
		len = strtoul(d + i, &sp, 10);
		if (strncmp(sp + 1, key, kl) == 0 && sp[1 + kl] == '=')
			return xstrndup(sp + 2 + kl, d + i + len - (sp + 2 + kl) - 1);
		i += len;
	}
	return NULL;
}

/* Re-create every entry of a vector tar with the writer. */
static void
rebuild(const struct buf *in, int64_t mtime, struct buf *out)
{
	struct tar_writer	 tw;
	struct buf		 err = BUF_INIT;
	const unsigned char	*h;
	char			*name, *link, *prefix, *pp = NULL, *pl = NULL;
	uint64_t		 off = 0, size;
	int			 zero = 0;

	tar_init(&tw, mem_sink, out, mtime);
	while (off + TAR_BLOCK <= in->len) {
		h = (const unsigned char *)in->data + off;
		if (h[0] == '\0') {
			zero++;
			off += TAR_BLOCK;
			continue;
		}
		size = octal(h + 124, 12);
		if (h[156] == 'x') {
			pp = pax_get((const char *)h + TAR_BLOCK, size, "path");
			pl = pax_get((const char *)h + TAR_BLOCK, size,
			    "linkpath");
			off += TAR_BLOCK + (size + 511) / 512 * 512;
			continue;
		}
		name = field(h, 100);
		prefix = field(h + 345, 155);
		link = field(h + 157, 100);
		if (pp != NULL) {
			free(name);
			name = pp;
		} else if (*prefix != '\0') {
			char *full = xasprintf("%s/%s", prefix, name);
			free(name);
			name = full;
		}
		if (pl != NULL) {
			free(link);
			link = pl;
		}
		switch (h[156]) {
		case '5':
			assert_int_equal(tar_add_dir(&tw, name, &err), 0);
			break;
		case '2':
			assert_int_equal(tar_add_symlink(&tw, name, link, &err),
			    0);
			break;
		default:
			assert_int_equal(tar_add_file_mem(&tw, name,
			    h + TAR_BLOCK, size, &err), 0);
		}
		off += TAR_BLOCK + (size + 511) / 512 * 512;
		free(name);
		free(link);
		free(prefix);
		pp = pl = NULL;
	}
	assert_int_equal(zero, 2);
	assert_int_equal(tar_finish(&tw, &err), 0);
	assert_int_equal(tw.offset, out->len);
	buf_free(&err);
}

static void
check_case(const char *c)
{
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	char		 rel[256];
	size_t		 i;

	snprintf(rel, sizeof(rel), "packages/%s/expected.tar", c);
	load(rel, &in);
	rebuild(&in, (int64_t)octal((unsigned char *)in.data + 136, 12), &out);
	assert_int_equal(out.len, in.len);
	for (i = 0; i < in.len; i++)
		if (in.data[i] != out.data[i])
			fail_msg("%s: first difference at byte %zu", c, i);
	buf_free(&in);
	buf_free(&out);
}

static void
test_vectors(void **state)
{
	static const char *const cases[] = {
		"tiny-noarch", "unsigned-noarch", "x86_64-triplet", "symlinks",
		"long-path-split", "long-path-pax", "non-ascii-nfc",
		"empty-file", "explicit-empty-dir", "dir-vs-file-order",
		"many-files", "large-file", "deps-full", "side-effects",
		"epoch-version", "json-escaping", "empty-payload",
		"hardlink-copies", "debug-paths",
	};
	size_t	 i;

	for (i = 0; i < nitems(cases); i++)
		check_case(cases[i]);
}

/* One entry written alone; returns the bytes. */
static void
one(int type, const char *path, const char *target, struct buf *out)
{
	struct tar_writer	 tw;
	struct buf		 err = BUF_INIT;

	tar_init(&tw, mem_sink, out, MTIME_20260506);
	if (type == '5')
		assert_int_equal(tar_add_dir(&tw, path, &err), 0);
	else if (type == '2')
		assert_int_equal(tar_add_symlink(&tw, path, target, &err), 0);
	else
		assert_int_equal(tar_add_file_mem(&tw, path, "x", 1, &err), 0);
	buf_free(&err);
}

static char *
rep(int c, size_t n)
{
	char	*s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_split_boundaries(void **state)
{
	char	*a, *p;
	size_t	 at;

	/* Exactly 100 bytes: no split needed. */
	p = rep('a', 100);
	assert_int_equal(tar_split_ustar(p, &at), 0);
	free(p);
	/* 101 bytes with a '/' at 4: prefix "usr", name 96+... */
	a = rep('b', 97);
	p = xasprintf("usr/%s", a);
	assert_int_equal(strlen(p), 101);
	assert_int_equal(tar_split_ustar(p, &at), 1);
	assert_int_equal(at, 3);
	free(p);
	free(a);
	/* Name part of 101 bytes: cannot split. */
	a = rep('c', 101);
	p = xasprintf("usr/%s", a);
	assert_int_equal(tar_split_ustar(p, &at), 0);
	free(p);
	free(a);
	/* Prefix 155 + '/' + name 100 = 256: the largest split. */
	a = rep('d', 151);
	{
		char *f = rep('f', 100);

		p = xasprintf("usr/%s/%s", a, f);
		free(f);
	}
	free(a);
	assert_int_equal(strlen(p), 256);
	assert_int_equal(tar_split_ustar(p, &at), 1);
	assert_int_equal(at, 155);
	free(p);
	/* A '/' only at index 0 does not split. */
	a = rep('g', 120);
	p = xasprintf("/%s", a);
	assert_int_equal(tar_split_ustar(p, &at), 0);
	free(p);
	free(a);
	/* 156-byte directory: its last '/' is ignored, the other at 155+. */
	a = rep('h', 155);
	p = xasprintf("%s/", a);
	assert_int_equal(tar_split_ustar(p, &at), 0);
	free(p);
	free(a);
	/* Non-ASCII is never split. */
	a = rep('i', 100);
	p = xasprintf("caf\xc3\xa9/%s", a);
	assert_int_equal(tar_split_ustar(p, &at), 0);
	free(p);
	free(a);
}

static void
test_pax_record_length(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*v;
	size_t		 vl;

	tar_pax_record(&b, "path", "a");
	assert_string_equal(b.data, "9 path=a\n");
	/* base 98 -> 100 with digits, then 101 because of the third digit */
	for (vl = 85; vl <= 100; vl++) {
		char want[256], *sp;
		unsigned long len;

		buf_reset(&b);
		v = rep('v', vl);
		tar_pax_record(&b, "linkpath", v);
		len = strtoul(b.data, &sp, 10);
		snprintf(want, sizeof(want), "%lu linkpath=%s\n", len, v);
		assert_string_equal(b.data, want);
		assert_int_equal(len, b.len);
		free(v);
	}
	buf_free(&b);
}

static void
test_header_fields(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*p;

	one('0', "usr/share/x", NULL, &b);
	assert_int_equal(b.len, 1024);
	assert_memory_equal(b.data + 100, "0000777\0" "0000000\0" "0000000\0",
	    24);
	assert_memory_equal(b.data + 124, "00000000001\0", 12);
	assert_memory_equal(b.data + 136, "15176626500\0", 12);
	assert_int_equal(b.data[156], '0');
	assert_memory_equal(b.data + 257, "ustar\0" "00" "root", 12);
	assert_memory_equal(b.data + 329, "0000000\0" "0000000\0", 16);
	assert_int_equal(b.data[155], ' ');
	assert_int_equal(b.data[154], '\0');
	assert_int_equal(b.data[512], 'x');
	buf_reset(&b);

	/* A 100-byte name fills the field with no NUL and no PAX. */
	p = rep('n', 100);
	one('0', p, NULL, &b);
	assert_int_equal(b.len, 1024);
	assert_memory_equal(b.data, p, 100);
	assert_int_equal(b.data[100], '0');
	free(p);
	buf_reset(&b);

	/* Directory 99 + '/' fills the field too. */
	p = xasprintf("%.*s/", 99, "ddddddddddddddddddddddddddddddddddddddddddddddddd"
	    "dddddddddddddddddddddddddddddddddddddddddddddddddd");
	one('5', p, NULL, &b);
	assert_int_equal(b.len, 512);
	assert_memory_equal(b.data, p, 100);
	free(p);
	buf_free(&b);
}

static void
test_non_ascii(void **state)
{
	struct buf	 b = BUF_INIT;

	one('0', "usr/share/n/caf\xc3\xa9.txt", NULL, &b);
	/* PAX header, its data block, the real header, data */
	assert_int_equal(b.len, 4 * 512);
	assert_string_equal(b.data, "usr/share/n/PaxHeaders.0/caf.txt");
	assert_int_equal(b.data[156], 'x');
	assert_memory_equal(b.data + 124, "00000000036\0", 12);
	assert_memory_equal(b.data + 100, "0000000\0", 8);
	assert_memory_equal(b.data + 136, "00000000000\0", 12);
	assert_memory_equal(b.data + 265, "\0\0\0\0", 4);
	assert_memory_equal(b.data + 329, "\0\0\0\0\0\0\0\0", 8);
	assert_string_equal(b.data + 512, "30 path=usr/share/n/caf\xc3\xa9.txt\n");
	assert_string_equal(b.data + 1024, "usr/share/n/caf.txt");
	assert_int_equal(b.data[1024 + 156], '0');
	buf_free(&b);
}

static void
test_symlink_targets(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*t, *p;

	/* 100-byte target fills linkname, no PAX. */
	t = rep('t', 100);
	one('2', "usr/share/l", t, &b);
	assert_int_equal(b.len, 512);
	assert_memory_equal(b.data + 157, t, 100);
	assert_memory_equal(b.data + 124, "00000000000\0", 12);
	free(t);
	buf_reset(&b);

	/* 101-byte target: PAX linkpath, linkname cut to 100. */
	t = rep('u', 101);
	one('2', "usr/share/l", t, &b);
	assert_int_equal(b.len, 3 * 512);
	assert_string_equal(b.data, "usr/share/PaxHeaders.0/l");
	p = xasprintf("115 linkpath=%s\n", t);
	assert_string_equal(b.data + 512, p);
	assert_memory_equal(b.data + 1024 + 157, t, 100);
	free(p);
	free(t);
	buf_reset(&b);

	/* Long splittable path plus long target: both records, no split. */
	t = rep('v', 120);
	p = xasprintf("usr/share/%s/x", t);
	one('2', p, t, &b);
	assert_non_null(strstr(b.data + 512, "linkpath="));
	assert_true(strstr(b.data + 512, "linkpath=") <
	    strstr(b.data + 512, " path="));
	assert_int_equal(b.data[1024 + 345], '\0');
	free(p);
	free(t);
	buf_free(&b);
}

static void
test_trailing_slash_nul(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*a, *p;

	/* '/' at byte 99 of a cut name becomes NUL. */
	a = rep('a', 99);
	p = xasprintf("%s/b%s", a, "\xc3\xa9");
	one('0', p, NULL, &b);
	assert_int_equal(b.data[1024 + 98], 'a');
	assert_int_equal(b.data[1024 + 99], '\0');
	free(p);
	free(a);
	buf_free(&b);
}

static void
test_errors(void **state)
{
	struct tar_writer	 tw;
	struct buf		 out = BUF_INIT, err = BUF_INIT;

	tar_init(&tw, mem_sink, &out, MTIME_20260506);
	assert_int_equal(tar_add_dir(&tw, "usr", &err), -1);
	assert_string_equal(err.data, "tar: directory usr lacks its trailing '/'");
	buf_reset(&err);
	assert_int_equal(tar_begin_file(&tw, "a", 10, &err), 0);
	assert_int_equal(tar_write_data(&tw, "0123456789x", 11, &err), -1);
	assert_int_equal(tar_finish(&tw, &err), -1);
	assert_int_equal(tar_add_symlink(&tw, "b", "c", &err), -1);
	buf_reset(&err);
	tar_init(&tw, mem_sink, &out, -1);
	assert_int_equal(tar_add_dir(&tw, "usr/", &err), -1);
	assert_non_null(strstr(err.data, "mtime"));
	buf_free(&out);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_split_boundaries),
		cmocka_unit_test(test_pax_record_length),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_symlink_targets),
		cmocka_unit_test(test_trailing_slash_nul),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
