/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_tagledger.c: the published-commits ledger: records survive a
 * reload, a moved tag is reported once per new commit, a line torn by a
 * crash is skipped with its line number and does not swallow the next
 * record.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tagledger.h"

static char	 dir[64];
static char	*path;

static int
setup(void **state)
{
	strcpy(dir, "/tmp/test_tagledger.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path = xasprintf("%s/published-commits", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	free(path);
	return 0;
}

static void
oid(uint8_t o[TAGLEDGER_OID_LEN], int c)
{
	memset(o, c, TAGLEDGER_OID_LEN);
}

static void
put_file(const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_missing_file_is_empty(void **state)
{
	struct buf		 warn = BUF_INIT;
	struct tagledger	*l;
	uint8_t			 a[TAGLEDGER_OID_LEN];
	char			 was[41];

	unlink(path);
	l = tagledger_open(path, &warn);
	assert_int_equal(warn.len, 0);
	oid(a, 0x11);
	assert_int_equal(tagledger_moved(l, "hello", "1-1", a, was), 0);
	tagledger_free(l);
	buf_free(&warn);
}

static void
test_record_reload_moved_once(void **state)
{
	struct buf		 warn = BUF_INIT, err = BUF_INIT, got = BUF_INIT;
	struct tagledger	*l;
	uint8_t			 a[TAGLEDGER_OID_LEN], b[TAGLEDGER_OID_LEN];
	uint8_t			 c[TAGLEDGER_OID_LEN];
	char			 was[41];

	unlink(path);
	oid(a, 0xaa);
	oid(b, 0xbb);
	oid(c, 0xcc);
	l = tagledger_open(path, &warn);
	assert_int_equal(tagledger_add(l, "hello", "1.0-1", "v1.0", a, &err),
	    0);
	assert_int_equal(tagledger_moved(l, "hello", "1.0-1", a, was), 0);
	tagledger_free(l);
	assert_int_equal(read_file(path, 4096, &got, &err), 0);
	assert_string_equal(buf_str(&got), "hello 1.0-1 v1.0 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");

	l = tagledger_open(path, &warn);
	assert_int_equal(warn.len, 0);
	assert_int_equal(tagledger_moved(l, "hello", "1.0-1", a, was), 0);
	assert_int_equal(tagledger_moved(l, "hello", "1.0-1", b, was), 1);
	assert_string_equal(was, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	/* Once per commit: the next poll of the same move is quiet, a
	 * further move is reported again. */
	assert_int_equal(tagledger_moved(l, "hello", "1.0-1", b, was), 0);
	assert_int_equal(tagledger_moved(l, "hello", "1.0-1", c, was), 1);
	/* Other versions and recipes are unknown, hence unchecked. */
	assert_int_equal(tagledger_moved(l, "hello", "1.1-1", b, was), 0);
	assert_int_equal(tagledger_moved(l, "other", "1.0-1", b, was), 0);
	tagledger_free(l);
	buf_free(&warn);
	buf_free(&err);
	buf_free(&got);
}

static void
test_torn_line(void **state)
{
	struct buf		 warn = BUF_INIT, err = BUF_INIT;
	struct tagledger	*l;
	uint8_t			 a[TAGLEDGER_OID_LEN], b[TAGLEDGER_OID_LEN];
	char			 was[41], *want;

	oid(a, 0xaa);
	oid(b, 0xbb);
	put_file("hello 1.0-1 v1.0 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	    "bad line\n"
	    "hello 1.1-1 v1.1 aaaaaaaaaaaaaaaaaaaa");	/* torn */
	l = tagledger_open(path, &warn);
	want = xasprintf("%s:2: not <recipe> <version> <tag> <commit>; line "
	    "skipped\n%s:3: not <recipe> <version> <tag> <commit>; line "
	    "skipped", path, path);
	assert_string_equal(buf_str(&warn), want);
	free(want);
	assert_int_equal(tagledger_moved(l, "hello", "1.0-1", b, was), 1);
	assert_int_equal(tagledger_moved(l, "hello", "1.1-1", b, was), 0);
	/* The next record starts on a line of its own. */
	assert_int_equal(tagledger_add(l, "hello", "1.2-1", "v1.2", a, &err),
	    0);
	tagledger_free(l);
	buf_reset(&warn);
	l = tagledger_open(path, &warn);
	assert_int_equal(tagledger_moved(l, "hello", "1.2-1", b, was), 1);
	tagledger_free(l);
	buf_free(&warn);
	buf_free(&err);
}

/* Enough entries to grow the table several times. */
static void
test_many(void **state)
{
	struct buf		 warn = BUF_INIT, err = BUF_INIT;
	struct tagledger	*l;
	uint8_t			 a[TAGLEDGER_OID_LEN], b[TAGLEDGER_OID_LEN];
	char			 v[32], was[41];
	int			 i;

	unlink(path);
	oid(a, 0x01);
	oid(b, 0x02);
	l = tagledger_open(path, &warn);
	for (i = 0; i < 1000; i++) {
		snprintf(v, sizeof(v), "%d-1", i);
		assert_int_equal(tagledger_add(l, "r", v, "t", a, &err), 0);
	}
	tagledger_free(l);
	l = tagledger_open(path, &warn);
	for (i = 0; i < 1000; i++) {
		snprintf(v, sizeof(v), "%d-1", i);
		assert_int_equal(tagledger_moved(l, "r", v, b, was), 1);
	}
	tagledger_free(l);
	buf_free(&warn);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file_is_empty),
		cmocka_unit_test(test_record_reload_moved_once),
		cmocka_unit_test(test_torn_line),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
