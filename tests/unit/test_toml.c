/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_toml.c: the strict TOML 1.0 parser: values, types, positions,
 * tree shape and order, redefinition rules, limits and the exact
 * "file:line:col: message" of representative errors.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "toml.h"

/* ---- helpers ------------------------------------------------------ */

static struct toml_table *
parse_n(const char *src, size_t len)
{
	struct toml_table	*t;
	struct buf		 err = BUF_INIT;

	t = toml_parse(src, len, "t.toml", &err);
	if (t == NULL)
		print_error("unexpected error: %s\n", buf_str(&err));
	assert_non_null(t);
	assert_int_equal(err.len, 0);
	buf_free(&err);
	return t;
}

static struct toml_table *
parse(const char *src)
{
	return parse_n(src, strlen(src));
}

/* The one error for src; caller frees. */
static char *
fail_n(const char *src, size_t len)
{
	struct toml_table	*t;
	struct buf		 err = BUF_INIT;

	t = toml_parse(src, len, "t.toml", &err);
	if (t != NULL)
		print_error("unexpectedly parsed: %s\n", src);
	assert_null(t);
	assert_non_null(err.data);
	assert_null(strchr(err.data, '\n'));	/* exactly one message */
	return buf_release(&err);
}

#define ERR_N(src, len, msg) do {				\
	char *e_ = fail_n((src), (len));			\
	assert_string_equal(e_, (msg));				\
	free(e_);						\
} while (0)
#define ERR(src, msg)	ERR_N((src), strlen(src), (msg))

/* Look up a dotted path of bare keys ("a.b.c"); fails when absent. */
static const struct toml_value *
get(const struct toml_table *t, const char *path)
{
	const struct toml_kv	*kv = NULL;
	char			*p, *s, *part;

	p = s = xstrdup(path);
	while ((part = strsep(&s, ".")) != NULL) {
		assert_non_null(t);
		kv = toml_get(t, part);
		if (kv == NULL)
			print_error("no key %s in %s\n", part, path);
		assert_non_null(kv);
		t = kv->val.type == TOML_TABLE ? kv->val.u.tab : NULL;
	}
	free(p);
	return &kv->val;
}

static const struct toml_kv *
getkv(const struct toml_table *t, const char *key)
{
	const struct toml_kv	*kv = toml_get(t, key);

	assert_non_null(kv);
	return kv;
}

static void
assert_str(const struct toml_table *t, const char *path, const char *want)
{
	const struct toml_value	*v = get(t, path);

	assert_int_equal(v->type, TOML_STRING);
	assert_int_equal(v->u.str.len, strlen(want));
	assert_string_equal(v->u.str.s, want);
}

static void
assert_int(const struct toml_table *t, const char *path, int64_t want)
{
	const struct toml_value	*v = get(t, path);

	assert_int_equal(v->type, TOML_INTEGER);
	assert_true(v->u.i == want);
}

static void
assert_flt(const struct toml_table *t, const char *path, double want)
{
	const struct toml_value	*v = get(t, path);

	assert_int_equal(v->type, TOML_FLOAT);
	assert_true(v->u.f == want);
	assert_int_equal(!!signbit(v->u.f), !!signbit(want));
}

static void
assert_dt(const struct toml_table *t, const char *path, enum toml_type type,
    const char *text)
{
	const struct toml_value	*v = get(t, path);

	assert_int_equal(v->type, type);
	assert_string_equal(v->u.str.s, text);
	assert_int_equal(v->u.str.len, strlen(text));
}

static void
assert_pos(int line, int col, int wline, int wcol)
{
	assert_int_equal(line, wline);
	assert_int_equal(col, wcol);
}

/* ---- documents, order, lookup ------------------------------------- */

static void
test_empty(void **state)
{
	struct toml_table	*t;

	t = parse("");
	assert_int_equal(t->n, 0);
	toml_free(t);
	t = parse("\n  \t\n# only a comment\r\n\n#\n");
	assert_int_equal(t->n, 0);
	toml_free(t);
	t = parse_n(NULL, 0);
	assert_int_equal(t->n, 0);
	toml_free(t);
	toml_free(NULL);
}

static void
test_order(void **state)
{
	struct toml_table	*t;
	const struct toml_table	*s;

	t = parse("z = 1\na = 2\nm.y = 3\nm.b = 4\n[q]\n[c.d]\n[b]\n");
	assert_int_equal(t->n, 6);
	assert_string_equal(t->kv[0].key, "z");
	assert_string_equal(t->kv[1].key, "a");
	assert_string_equal(t->kv[2].key, "m");
	assert_string_equal(t->kv[3].key, "q");
	assert_string_equal(t->kv[4].key, "c");
	assert_string_equal(t->kv[5].key, "b");
	s = t->kv[2].val.u.tab;
	assert_int_equal(s->n, 2);
	assert_string_equal(s->kv[0].key, "y");
	assert_string_equal(s->kv[1].key, "b");
	toml_free(t);
}

static void
test_get(void **state)
{
	struct toml_table	*t;
	const struct toml_kv	*kv;
	struct buf		 src = BUF_INIT;
	char			 k[32];
	int			 i;

	t = parse("key = 1\nKey = 2\n\"a\\u0000b\" = 3\n\"\" = 4\n");
	assert_int_equal(getkv(t, "key")->val.u.i, 1);
	assert_int_equal(getkv(t, "Key")->val.u.i, 2);	/* exact bytes */
	assert_null(toml_get(t, "KEY"));
	assert_null(toml_get(t, "ke"));
	assert_null(toml_get(t, "a"));		/* "a\0b" is 3 bytes */
	assert_int_equal(getkv(t, "")->val.u.i, 4);
	kv = &t->kv[2];
	assert_int_equal(kv->keylen, 3);
	assert_memory_equal(kv->key, "a\0b", 4);
	assert_null(toml_get(NULL, "key"));
	assert_null(toml_get(t, NULL));
	toml_free(t);

	/* Enough keys for the hash index; every one found, dups caught. */
	for (i = 0; i < 2000; i++)
		buf_addf(&src, "k%d = %d\n", i, i);
	t = parse(src.data);
	assert_int_equal(t->n, 2000);
	for (i = 0; i < 2000; i += 7) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(getkv(t, k)->val.u.i, i);
	}
	assert_null(toml_get(t, "k2000"));
	assert_string_equal(t->kv[1999].key, "k1999");
	toml_free(t);
	buf_adds(&src, "k1234 = 0\n");
	ERR(src.data, "t.toml:2001:1: duplicate key \"k1234\"");
	buf_free(&src);
}

static void
test_type_names(void **state)
{
	assert_string_equal(toml_type_name(TOML_STRING), "string");
	assert_string_equal(toml_type_name(TOML_INTEGER), "integer");
	assert_string_equal(toml_type_name(TOML_FLOAT), "float");
	assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
	assert_string_equal(toml_type_name(TOML_DATETIME), "offset date-time");
	assert_string_equal(toml_type_name(TOML_LOCAL_DATETIME),
	    "local date-time");
	assert_string_equal(toml_type_name(TOML_LOCAL_DATE), "local date");
	assert_string_equal(toml_type_name(TOML_LOCAL_TIME), "local time");
	assert_string_equal(toml_type_name(TOML_ARRAY), "array");
	assert_string_equal(toml_type_name(TOML_TABLE), "table");
	assert_string_equal(toml_type_name((enum toml_type)99), "?");
}

/* ---- positions ---------------------------------------------------- */

static void
test_positions(void **state)
{
	struct toml_table	*t;
	const struct toml_kv	*kv;
	const struct toml_value	*v;

	t = parse("# c\n"
	    "name = \"x\"\n"
	    "  \tnum=   42\n"
	    "s = \"\"\"a\nb\nc\"\"\"\n"
	    "after = 1\n"
	    "[tab]\n"
	    "  \"k\xc3\xa9\" = 'v'\n"
	    "arr = [\n  1,\n    2 ]\n");
	kv = getkv(t, "name");
	assert_pos(kv->line, kv->col, 2, 1);
	assert_pos(kv->val.line, kv->val.col, 2, 8);
	kv = getkv(t, "num");
	assert_pos(kv->line, kv->col, 3, 4);	/* tab counts as one byte */
	assert_pos(kv->val.line, kv->val.col, 3, 11);
	kv = getkv(t, "s");
	assert_pos(kv->val.line, kv->val.col, 4, 5);
	kv = getkv(t, "after");			/* lines inside """ counted */
	assert_pos(kv->line, kv->col, 7, 1);
	kv = getkv(t, "tab");
	assert_pos(kv->line, kv->col, 8, 2);
	assert_pos(kv->val.line, kv->val.col, 8, 1);
	assert_pos(kv->val.u.tab->line, kv->val.u.tab->col, 8, 1);
	kv = getkv(kv->val.u.tab, "k\xc3\xa9");
	assert_pos(kv->line, kv->col, 9, 3);
	assert_pos(kv->val.line, kv->val.col, 9, 11);	/* col in bytes */
	v = get(t, "tab.arr");
	assert_pos(v->line, v->col, 10, 7);
	assert_int_equal(v->u.arr.n, 2);
	assert_pos(v->u.arr.v[0].line, v->u.arr.v[0].col, 11, 3);
	assert_pos(v->u.arr.v[1].line, v->u.arr.v[1].col, 12, 5);
	toml_free(t);

	/* CRLF lines, dotted key parts, array-of-tables elements. */
	t = parse("a = 1\r\nb.c = 2\r\n[[p]]\r\n[[p]]\r\nx = 1\r\n");
	kv = getkv(t, "b");
	assert_pos(kv->line, kv->col, 2, 1);
	kv = getkv(kv->val.u.tab, "c");
	assert_pos(kv->line, kv->col, 2, 3);
	assert_pos(kv->val.line, kv->val.col, 2, 7);
	v = get(t, "p");
	assert_pos(v->line, v->col, 3, 1);
	assert_pos(v->u.arr.v[1].line, v->u.arr.v[1].col, 4, 1);
	kv = getkv(v->u.arr.v[1].u.tab, "x");
	assert_pos(kv->line, kv->col, 5, 1);
	toml_free(t);

	/* An implicit table takes the position of its later header. */
	t = parse("[a.b]\n\n[a]\n");
	kv = getkv(t, "a");
	assert_pos(kv->val.line, kv->val.col, 3, 1);
	assert_pos(kv->line, kv->col, 3, 2);
	toml_free(t);
}

/* ---- strings ------------------------------------------------------ */

static void
test_strings_basic(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v;

	t = parse("a = \"plain\"\n"
	    "b = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
	    "c = \"\\u00e9\\u20AC\\U0001F600\\U0010FFFF\"\n"
	    "d = \"x\\u0000y\"\n"
	    "e = \"\"\n"
	    "f = \"tab\there # not a comment\"\n"
	    "g = \"\xce\xb1\xce\xb2\"\n");
	assert_str(t, "a", "plain");
	assert_str(t, "b", "\b\t\n\f\r\"\\");
	assert_str(t, "c", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\xf4\x8f\xbf\xbf");
	v = get(t, "d");
	assert_int_equal(v->u.str.len, 3);
	assert_memory_equal(v->u.str.s, "x\0y", 4);
	assert_str(t, "e", "");
	assert_str(t, "f", "tab\there # not a comment");
	assert_str(t, "g", "\xce\xb1\xce\xb2");
	toml_free(t);
}

static void
test_strings_literal(void **state)
{
	struct toml_table	*t;

	t = parse("a = 'C:\\Users\\x'\n"
	    "b = '<\\i\\c*\\s*>'\n"
	    "c = 'say \"hi\"'\n"
	    "d = ''\n"
	    "e = '''I [dw]on't need \\d{2} apples'''\n"
	    "f = '''\nfirst newline trimmed\n  kept\n'''\n"
	    "g = ''''quoted''''\n"
	    "h = '''a\\\nb'''\n");
	assert_str(t, "a", "C:\\Users\\x");
	assert_str(t, "b", "<\\i\\c*\\s*>");
	assert_str(t, "c", "say \"hi\"");
	assert_str(t, "d", "");
	assert_str(t, "e", "I [dw]on't need \\d{2} apples");
	assert_str(t, "f", "first newline trimmed\n  kept\n");
	assert_str(t, "g", "'quoted'");
	assert_str(t, "h", "a\\\nb");
	toml_free(t);
}

static void
test_strings_multiline(void **state)
{
	struct toml_table	*t;

	t = parse("a = \"\"\"\nRoses\nViolets\"\"\"\n"
	    "b = \"\"\"The quick \\\n\n\n   brown \\\n  fox.\"\"\"\n"
	    "c = \"\"\"\\\n   x\\\n   \"\"\"\n"
	    "d = \"\"\"ws \\  \t\n  y\"\"\"\n"
	    "e = \"\"\"two \"\" quotes\"\"\"\n"
	    "f = \"\"\"\"x\"\"\"\"\n"
	    "g = \"\"\"x\"\"\"\"\"\n"
	    "h = \"\"\"esc \\\"\"\" \\u00e9\"\"\"\n"
	    "i = \"\"\"\r\ncrlf\r\nkept\"\"\"\n"
	    "j = \"\"\"\"\"\"\n");
	assert_str(t, "a", "Roses\nViolets");
	assert_str(t, "b", "The quick brown fox.");
	assert_str(t, "c", "x");
	assert_str(t, "d", "ws y");
	assert_str(t, "e", "two \"\" quotes");
	assert_str(t, "f", "\"x\"");
	assert_str(t, "g", "x\"\"");
	assert_str(t, "h", "esc \"\"\" \xc3\xa9");
	assert_str(t, "i", "crlf\r\nkept");
	assert_str(t, "j", "");
	toml_free(t);
}

static void
test_string_errors(void **state)
{
	ERR("a = \"abc\n", "t.toml:1:5: unterminated string");
	ERR("a = \"abc", "t.toml:1:5: unterminated string");
	ERR("a = 'abc\n'", "t.toml:1:5: unterminated string");
	ERR("a = \"\"\"abc\n\n", "t.toml:1:5: unterminated multi-line string");
	ERR("a = '''abc''\n", "t.toml:1:5: unterminated multi-line string");
	ERR("a = \"\\x41\"\n", "t.toml:1:6: invalid escape sequence \"\\x\"");
	ERR("a = \"\\e\"\n", "t.toml:1:6: invalid escape sequence \"\\e\"");
	ERR("a = \"x\\ y\"\n", "t.toml:1:7: invalid escape sequence: "
	    "backslash followed by ' '");
	ERR("a = \"\\\n\"\n", "t.toml:1:6: invalid escape sequence: "
	    "backslash followed by newline");
	ERR("a = \"\\uD800\"\n", "t.toml:1:6: invalid escape sequence "
	    "\"\\uD800\": not a Unicode scalar value");
	ERR("a = \"\\uDFFF\"\n", "t.toml:1:6: invalid escape sequence "
	    "\"\\uDFFF\": not a Unicode scalar value");
	ERR("a = \"\\U00110000\"\n", "t.toml:1:6: invalid escape sequence "
	    "\"\\U00110000\": not a Unicode scalar value");
	ERR("a = \"\\u12\"\n", "t.toml:1:6: invalid escape sequence: "
	    "\\u needs 4 hex digits");
	ERR("a = \"\\U0001F60\"\n", "t.toml:1:6: invalid escape sequence: "
	    "\\U needs 8 hex digits");
	ERR("a = \"\\u00g0\"\n", "t.toml:1:6: invalid escape sequence: "
	    "\\u needs 4 hex digits");
	ERR("a = \"x\x01\"\n", "t.toml:1:7: control character 0x01 in string");
	ERR("a = 'x\x7f'\n", "t.toml:1:7: control character 0x7f in string");
	ERR_N("a = \"x\0\"\n", 9, "t.toml:1:7: control character 0x00 in "
	    "string");
	ERR("a = \"\"\"\nx\x1b\"\"\"\n", "t.toml:2:2: control character "
	    "0x1b in string");
	ERR("a = \"\"\"a\\ b\"\"\"\n", "t.toml:1:9: invalid escape sequence: "
	    "backslash followed by ' '");
	ERR("a = \"\"\"x\"\"\"\"\"\"\n", "t.toml:1:14: expected newline "
	    "after value, found '\"'");
	ERR("\"\"\"k\"\"\" = 1\n", "t.toml:1:1: a multi-line string cannot "
	    "be a key");
}

/* ---- numbers, booleans -------------------------------------------- */

static void
test_integers(void **state)
{
	struct toml_table	*t;

	t = parse("a = 42\nb = +99\nc = -17\nd = 0\ne = +0\nf = -0\n"
	    "g = 1_000\nh = 5_349_221\ni = 1_2_3\n"
	    "j = 0xDEADbeef\nk = 0xdead_beef\nl = 0o755\nm = 0o0_7\n"
	    "n = 0b1101_0110\no = 0x0\np = 0x000001\n"
	    "max = 9223372036854775807\nmin = -9223372036854775808\n"
	    "hmax = 0x7fffffffffffffff\n"
	    "bmax = 0b1111111111111111111111111111111"
	    "11111111111111111111111111111111\n");
	assert_int(t, "a", 42);
	assert_int(t, "b", 99);
	assert_int(t, "c", -17);
	assert_int(t, "d", 0);
	assert_int(t, "e", 0);
	assert_int(t, "f", 0);
	assert_int(t, "g", 1000);
	assert_int(t, "h", 5349221);
	assert_int(t, "i", 123);
	assert_int(t, "j", 0xdeadbeef);
	assert_int(t, "k", 0xdeadbeef);
	assert_int(t, "l", 0755);
	assert_int(t, "m", 7);
	assert_int(t, "n", 0xd6);
	assert_int(t, "o", 0);
	assert_int(t, "p", 1);
	assert_int(t, "max", INT64_MAX);
	assert_int(t, "min", INT64_MIN);
	assert_int(t, "hmax", INT64_MAX);
	assert_int(t, "bmax", INT64_MAX);
	toml_free(t);
}

static void
test_integer_errors(void **state)
{
	ERR("a = 012\n", "t.toml:1:5: invalid number \"012\"");
	ERR("a = -01\n", "t.toml:1:5: invalid number \"-01\"");
	ERR("a = 00\n", "t.toml:1:5: invalid number \"00\"");
	ERR("a = 0_1\n", "t.toml:1:5: invalid number \"0_1\"");
	ERR("a = 1__2\n", "t.toml:1:5: invalid number \"1__2\"");
	ERR("a = 12_\n", "t.toml:1:5: invalid number \"12_\"");
	ERR("a = _12\n", "t.toml:1:5: invalid number \"_12\"");
	ERR("a = +0x1\n", "t.toml:1:5: invalid number \"+0x1\": only "
	    "decimal numbers take a sign");
	ERR("a = -0b1\n", "t.toml:1:5: invalid number \"-0b1\": only "
	    "decimal numbers take a sign");
	ERR("a = 0X1f\n", "t.toml:1:5: invalid number \"0X1f\"");
	ERR("a = 0x_1\n", "t.toml:1:5: invalid number \"0x_1\"");
	ERR("a = 0x\n", "t.toml:1:5: invalid number \"0x\"");
	ERR("a = 0b102\n", "t.toml:1:5: invalid number \"0b102\"");
	ERR("a = 0o8\n", "t.toml:1:5: invalid number \"0o8\"");
	ERR("a = 0xg\n", "t.toml:1:5: invalid number \"0xg\"");
	ERR("a = 9223372036854775808\n",
	    "t.toml:1:5: integer out of range \"9223372036854775808\"");
	ERR("a = -9223372036854775809\n",
	    "t.toml:1:5: integer out of range \"-9223372036854775809\"");
	ERR("a = 0x8000000000000000\n",
	    "t.toml:1:5: integer out of range \"0x8000000000000000\"");
	ERR("a = 99999999999999999999999999999999999999999999999\n",
	    "t.toml:1:5: integer out of range "
	    "\"9999999999999999999999999999999999999999...\"");
	ERR("a = 1 2\n", "t.toml:1:7: expected newline after value, "
	    "found '2'");
	ERR("a = +-1\n", "t.toml:1:5: invalid value \"+-1\"");
}

static void
test_floats(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v;

	t = parse("a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\n"
	    "f = -2E-2\ng = 6.626e-34\nh = 224_617.445_991_228\n"
	    "i = 0.0\nj = -0.0\nk = 0e0\nl = 1e1_0\nm = 1e-400\n"
	    "pi = inf\nni = -inf\nqi = +inf\nn1 = nan\nn2 = -nan\n"
	    "n3 = +nan\n");
	assert_flt(t, "a", 1.0);
	assert_flt(t, "b", 3.1415);
	assert_flt(t, "c", -0.01);
	assert_flt(t, "d", 5e22);
	assert_flt(t, "e", 1e6);
	assert_flt(t, "f", -2e-2);
	assert_flt(t, "g", 6.626e-34);
	assert_flt(t, "h", 224617.445991228);
	assert_flt(t, "i", 0.0);
	assert_flt(t, "j", -0.0);
	assert_flt(t, "k", 0.0);
	assert_flt(t, "l", 1e10);
	assert_flt(t, "m", 0.0);	/* underflow to zero is fine */
	assert_flt(t, "pi", INFINITY);
	assert_flt(t, "ni", -INFINITY);
	assert_flt(t, "qi", INFINITY);
	v = get(t, "n1");
	assert_int_equal(v->type, TOML_FLOAT);
	assert_true(isnan(v->u.f));
	assert_true(isnan(get(t, "n2")->u.f));
	assert_true(isnan(get(t, "n3")->u.f));
	toml_free(t);
}

static void
test_float_errors(void **state)
{
	ERR("a = .5\n", "t.toml:1:5: invalid number \".5\"");
	ERR("a = 1.\n", "t.toml:1:5: invalid number \"1.\"");
	ERR("a = 1.e5\n", "t.toml:1:5: invalid number \"1.e5\"");
	ERR("a = 1e\n", "t.toml:1:5: invalid number \"1e\"");
	ERR("a = 1e+\n", "t.toml:1:5: invalid number \"1e+\"");
	ERR("a = 1_.5\n", "t.toml:1:5: invalid number \"1_.5\"");
	ERR("a = 1._5\n", "t.toml:1:5: invalid number \"1._5\"");
	ERR("a = 1e_5\n", "t.toml:1:5: invalid number \"1e_5\"");
	ERR("a = 01.5\n", "t.toml:1:5: invalid number \"01.5\"");
	ERR("a = 1.2.3\n", "t.toml:1:5: invalid number \"1.2.3\"");
	ERR("a = 1e400\n", "t.toml:1:5: float out of range \"1e400\"");
	ERR("a = -1e400\n", "t.toml:1:5: float out of range \"-1e400\"");
	ERR("a = Inf\n", "t.toml:1:5: invalid value \"Inf\"");
	ERR("a = NaN\n", "t.toml:1:5: invalid value \"NaN\"");
	ERR("a = infinity\n", "t.toml:1:5: invalid value \"infinity\"");
	ERR("a = 0x1.5\n", "t.toml:1:5: invalid number \"0x1.5\"");
}

static void
test_bools(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v;

	t = parse("t = true\nf = false\n");
	v = get(t, "t");
	assert_int_equal(v->type, TOML_BOOL);
	assert_int_equal(v->u.b, 1);
	v = get(t, "f");
	assert_int_equal(v->type, TOML_BOOL);
	assert_int_equal(v->u.b, 0);
	toml_free(t);
	ERR("a = True\n", "t.toml:1:5: invalid value \"True\"");
	ERR("a = tru\n", "t.toml:1:5: invalid value \"tru\"");
	ERR("a = truex\n", "t.toml:1:5: invalid value \"truex\"");
	ERR("a = yes\n", "t.toml:1:5: invalid value \"yes\"");
	ERR("a = @\n", "t.toml:1:5: expected a value, found '@'");
	ERR("a =\n", "t.toml:1:4: expected a value, found newline");
	ERR("a = ", "t.toml:1:5: expected a value, found end of input");
}

/* ---- date-times --------------------------------------------------- */

static void
test_datetimes(void **state)
{
	struct toml_table	*t;

	t = parse("o1 = 1979-05-27T07:32:00Z\n"
	    "o2 = 1979-05-27T00:32:00-07:00\n"
	    "o3 = 1979-05-27T00:32:00.999999+05:30\n"
	    "o4 = 1979-05-27 07:32:00z\n"
	    "o5 = 1979-05-27t07:32:00Z\n"
	    "l1 = 1979-05-27T07:32:00\n"
	    "l2 = 1979-05-27 00:32:00.5\n"
	    "d1 = 1979-05-27\n"
	    "d2 = 2000-02-29 # leap\n"
	    "d3 = 2024-02-29\n"
	    "t1 = 07:32:00\n"
	    "t2 = 00:32:00.999999\n"
	    "t3 = 23:59:60\n");
	assert_dt(t, "o1", TOML_DATETIME, "1979-05-27T07:32:00Z");
	assert_dt(t, "o2", TOML_DATETIME, "1979-05-27T00:32:00-07:00");
	assert_dt(t, "o3", TOML_DATETIME, "1979-05-27T00:32:00.999999+05:30");
	assert_dt(t, "o4", TOML_DATETIME, "1979-05-27 07:32:00z");
	assert_dt(t, "o5", TOML_DATETIME, "1979-05-27t07:32:00Z");
	assert_dt(t, "l1", TOML_LOCAL_DATETIME, "1979-05-27T07:32:00");
	assert_dt(t, "l2", TOML_LOCAL_DATETIME, "1979-05-27 00:32:00.5");
	assert_dt(t, "d1", TOML_LOCAL_DATE, "1979-05-27");
	assert_dt(t, "d2", TOML_LOCAL_DATE, "2000-02-29");
	assert_dt(t, "d3", TOML_LOCAL_DATE, "2024-02-29");
	assert_dt(t, "t1", TOML_LOCAL_TIME, "07:32:00");
	assert_dt(t, "t2", TOML_LOCAL_TIME, "00:32:00.999999");
	assert_dt(t, "t3", TOML_LOCAL_TIME, "23:59:60");
	toml_free(t);

	/* A date followed by a space and something other than a time. */
	t = parse("a = [1979-05-27 , 1979-05-27]\n");
	assert_int_equal(get(t, "a")->u.arr.n, 2);
	toml_free(t);
}

static void
test_datetime_errors(void **state)
{
	struct toml_table	*t;

	ERR("a = 2021-13-01\n", "t.toml:1:5: invalid date-time "
	    "\"2021-13-01\": month out of range");
	ERR("a = 2021-00-10\n", "t.toml:1:5: invalid date-time "
	    "\"2021-00-10\": month out of range");
	ERR("a = 2023-02-29\n", "t.toml:1:5: invalid date-time "
	    "\"2023-02-29\": day out of range");
	ERR("a = 1900-02-29\n", "t.toml:1:5: invalid date-time "
	    "\"1900-02-29\": day out of range");
	ERR("a = 2021-04-31\n", "t.toml:1:5: invalid date-time "
	    "\"2021-04-31\": day out of range");
	ERR("a = 2021-01-00\n", "t.toml:1:5: invalid date-time "
	    "\"2021-01-00\": day out of range");
	ERR("a = 2021-01-01T24:00:00\n", "t.toml:1:5: invalid date-time "
	    "\"2021-01-01T24:00:00\": hour out of range");
	ERR("a = 07:60:00\n", "t.toml:1:5: invalid date-time \"07:60:00\": "
	    "minute out of range");
	ERR("a = 07:00:61\n", "t.toml:1:5: invalid date-time \"07:00:61\": "
	    "second out of range");
	ERR("a = 07:32\n", "t.toml:1:5: invalid date-time \"07:32\": "
	    "bad format");
	ERR("a = 7:32:00\n", "t.toml:1:5: invalid date-time \"7:32:00\": "
	    "bad format");
	ERR("a = 1:2\n", "t.toml:1:5: invalid date-time \"1:2\": "
	    "bad format");
	/* Short tokens (found by fuzzing: read past a 1-byte token). */
	ERR_N("a = :", 5, "t.toml:1:5: invalid date-time \":\": bad format");
	ERR_N("a = 1:", 6, "t.toml:1:5: invalid date-time \"1:\": "
	    "bad format");
	ERR_N("a = 1-", 6, "t.toml:1:5: invalid number \"1-\"");
	t = parse_n("a = 0", 5);	/* token ends at the end of input */
	assert_int(t, "a", 0);
	toml_free(t);
	ERR("a = 07:32:00Z\n", "t.toml:1:5: invalid date-time \"07:32:00Z\": "
	    "bad format");
	ERR("a = 07:32:00.\n", "t.toml:1:5: invalid date-time \"07:32:00.\": "
	    "bad format");
	ERR("a = 1979-05-27T07:32:00+0700\n", "t.toml:1:5: invalid date-time "
	    "\"1979-05-27T07:32:00+0700\": bad format");
	ERR("a = 1979-05-27T07:32:00+24:00\n", "t.toml:1:5: invalid date-time "
	    "\"1979-05-27T07:32:00+24:00\": offset out of range");
	ERR("a = 1979-05-27T07:32:00-07:60\n", "t.toml:1:5: invalid date-time "
	    "\"1979-05-27T07:32:00-07:60\": offset out of range");
	ERR("a = 1979-05-27X07:32:00\n", "t.toml:1:5: invalid date-time "
	    "\"1979-05-27X07:32:00\": bad format");
	ERR("a = 1979-05-27T\n", "t.toml:1:5: invalid date-time "
	    "\"1979-05-27T\": bad format");
	ERR("a = 1979-5-27\n", "t.toml:1:5: invalid date-time "
	    "\"1979-5-27\": bad format");
	ERR("a = 1979-05-27 07:32\n", "t.toml:1:5: invalid date-time "
	    "\"1979-05-27 07:32\": bad format");
}

/* ---- arrays ------------------------------------------------------- */

static void
test_arrays(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v, *e;

	t = parse("a = []\n"
	    "b = [ 1, 'two', 3.0, true, 1979-05-27, [4], { x = 5 } ]\n"
	    "c = [\n  1, # one\n  # nothing\n\n  2,\n]\n"
	    "d = [[[]]]\n"
	    "e = [ \"a\" , \"b\" , ]\n");
	v = get(t, "a");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->u.arr.n, 0);
	v = get(t, "b");
	assert_int_equal(v->u.arr.n, 7);
	assert_int_equal(v->u.arr.v[0].type, TOML_INTEGER);
	assert_int_equal(v->u.arr.v[1].type, TOML_STRING);
	assert_string_equal(v->u.arr.v[1].u.str.s, "two");
	assert_int_equal(v->u.arr.v[2].type, TOML_FLOAT);
	assert_int_equal(v->u.arr.v[3].type, TOML_BOOL);
	assert_int_equal(v->u.arr.v[4].type, TOML_LOCAL_DATE);
	e = &v->u.arr.v[5];
	assert_int_equal(e->type, TOML_ARRAY);
	assert_int_equal(e->u.arr.v[0].u.i, 4);
	e = &v->u.arr.v[6];
	assert_int_equal(e->type, TOML_TABLE);
	assert_int_equal(getkv(e->u.tab, "x")->val.u.i, 5);
	v = get(t, "c");
	assert_int_equal(v->u.arr.n, 2);
	assert_int_equal(v->u.arr.v[1].u.i, 2);
	v = get(t, "d");
	assert_int_equal(v->u.arr.n, 1);
	assert_int_equal(v->u.arr.v[0].u.arr.v[0].type, TOML_ARRAY);
	assert_int_equal(v->u.arr.v[0].u.arr.v[0].u.arr.n, 0);
	assert_int_equal(get(t, "e")->u.arr.n, 2);
	toml_free(t);
}

static void
test_array_errors(void **state)
{
	ERR("a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in array, "
	    "found '2'");
	ERR("a = [,1]\n", "t.toml:1:6: expected a value, found ','");
	ERR("a = [,]\n", "t.toml:1:6: expected a value, found ','");
	ERR("a = [1,,2]\n", "t.toml:1:8: expected a value, found ','");
	ERR("a = [1,\n2\n", "t.toml:3:1: expected ',' or ']' in array, "
	    "found end of input");
	ERR("a = [\n", "t.toml:2:1: expected a value, found end of input");
	ERR("a = [1] x\n", "t.toml:1:9: expected newline after value, "
	    "found 'x'");
	ERR("a = [ # c\x02\n]\n", "t.toml:1:10: control character 0x02 in "
	    "comment");
}

/* ---- tables and arrays of tables ---------------------------------- */

static void
test_tables(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v;

	t = parse("top = 0\n"
	    "[a]\nx = 1\n"
	    "[ b . \"c d\" .\t'e' ]\ny = 2\n"
	    "[f.g.h]\nz = 3\n"
	    "[f]\nw = 4\n"
	    "[f.g.i]\n"
	    "[true]\n");
	assert_int(t, "top", 0);
	assert_int(t, "a.x", 1);
	v = get(t, "b");
	assert_int_equal(v->type, TOML_TABLE);
	v = &getkv(v->u.tab, "c d")->val;
	assert_int_equal(getkv(getkv(v->u.tab, "e")->val.u.tab, "y")->val.u.i,
	    2);
	assert_int(t, "f.g.h.z", 3);
	assert_int(t, "f.w", 4);
	v = get(t, "f.g.i");
	assert_int_equal(v->type, TOML_TABLE);
	assert_int_equal(v->u.tab->n, 0);
	assert_int_equal(get(t, "true")->type, TOML_TABLE);
	/* Order inside f: g (implicit, first), then w. */
	v = get(t, "f");
	assert_string_equal(v->u.tab->kv[0].key, "g");
	assert_string_equal(v->u.tab->kv[1].key, "w");
	toml_free(t);

	t = parse("[a]\nbetter = 43\n[a.b.c]\nanswer = 42\n");
	assert_int(t, "a.better", 43);
	assert_int(t, "a.b.c.answer", 42);
	toml_free(t);
}

static void
test_table_errors(void **state)
{
	ERR("[manager]\nid = 1\n\n[http]\n\n\n[manager]\n",
	    "t.toml:7:1: table [manager] defined twice");
	ERR("[a.b]\n[a]\n[a]\n", "t.toml:3:1: table [a] defined twice");
	ERR("[a]\n[a.b]\n[a.b]\n", "t.toml:3:1: table [a.b] defined twice");
	ERR("[fruit]\napple.color = 1\n[fruit.apple]\n",
	    "t.toml:3:1: table [fruit.apple] already defined by dotted keys");
	ERR("a.b = 1\n[a]\n",
	    "t.toml:2:1: table [a] already defined by dotted keys");
	ERR("a = 1\n[a]\n", "t.toml:2:1: cannot define table [a]: \"a\" is "
	    "an integer");
	ERR("a = 'x'\n[a.b]\n", "t.toml:2:1: cannot define table [a.b]: "
	    "\"a\" is a string");
	ERR("a = [1]\n[a.b]\n", "t.toml:2:1: cannot define table [a.b]: "
	    "\"a\" is a static array");
	ERR("[]\n", "t.toml:1:2: expected a key, found ']'");
	ERR("[a\n", "t.toml:1:3: expected ']' after table name, found "
	    "newline");
	ERR("[a] x\n", "t.toml:1:5: expected newline after table header, "
	    "found 'x'");
	ERR("[ [a] ]\n", "t.toml:1:3: expected a key, found '['");
	ERR("[\"a b\".c]\n[\"a b\".c]\n",
	    "t.toml:2:1: table ['a b'.c] defined twice");
	ERR("['it''s']\n", "t.toml:1:6: expected ']' after table name, "
	    "found '''");
	ERR("[\"it's\"]\n[\"it's\"]\n",
	    "t.toml:2:1: table [\"it's\"] defined twice");
}

static void
test_aot(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v, *e;

	t = parse("[[fruits]]\nname = \"apple\"\n"
	    "[fruits.physical]\ncolor = \"red\"\n"
	    "[[fruits.varieties]]\nname = \"red delicious\"\n"
	    "[[fruits.varieties]]\nname = \"granny smith\"\n"
	    "[[fruits]]\nname = \"banana\"\n"
	    "[[fruits.varieties]]\nname = \"plantain\"\n"
	    "[[empty]]\n[[empty]]\n");
	v = get(t, "fruits");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->u.arr.n, 2);
	e = &v->u.arr.v[0];
	assert_int_equal(e->type, TOML_TABLE);
	assert_str(e->u.tab, "name", "apple");
	assert_str(e->u.tab, "physical.color", "red");
	assert_int_equal(get(e->u.tab, "varieties")->u.arr.n, 2);
	assert_str(get(e->u.tab, "varieties")->u.arr.v[1].u.tab, "name",
	    "granny smith");
	e = &v->u.arr.v[1];
	assert_str(e->u.tab, "name", "banana");
	assert_int_equal(get(e->u.tab, "varieties")->u.arr.n, 1);
	v = get(t, "empty");
	assert_int_equal(v->u.arr.n, 2);
	assert_int_equal(v->u.arr.v[0].u.tab->n, 0);
	toml_free(t);

	/* [[a.b]] alone makes a an (implicit) table; [a] may follow. */
	t = parse("[[a.b]]\nx = 1\n[a]\ny = 2\n[[a.b]]\nx = 3\n");
	assert_int_equal(get(t, "a")->type, TOML_TABLE);
	assert_int_equal(get(t, "a.b")->u.arr.n, 2);
	assert_int(t, "a.y", 2);
	toml_free(t);

	/* Many elements (growth by doubling). */
	{
		struct buf	 src = BUF_INIT;
		int		 i;

		for (i = 0; i < 300; i++)
			buf_addf(&src, "[[p]]\nn = %d\n", i);
		t = parse(src.data);
		v = get(t, "p");
		assert_int_equal(v->u.arr.n, 300);
		assert_int(v->u.arr.v[299].u.tab, "n", 299);
		toml_free(t);
		buf_free(&src);
	}
}

static void
test_aot_errors(void **state)
{
	ERR("[a]\n[[a]]\n", "t.toml:2:1: cannot define array of tables "
	    "[[a]]: \"a\" is a table defined by a header");
	ERR("[[a]]\n[a]\n", "t.toml:2:1: cannot define table [a]: \"a\" is "
	    "an array of tables");
	ERR("a = []\n[[a]]\n", "t.toml:2:1: cannot define array of tables "
	    "[[a]]: \"a\" is a static array");
	ERR("a = [{}]\n[[a]]\n", "t.toml:2:1: cannot define array of tables "
	    "[[a]]: \"a\" is a static array");
	ERR("[[albums.songs]]\n[[albums]]\n", "t.toml:2:1: cannot define "
	    "array of tables [[albums]]: \"albums\" is a table");
	ERR("[[a.b]]\n[a]\nb.y = 2\n", "t.toml:3:1: cannot define key "
	    "\"b.y\": \"b\" is an array of tables");
	ERR("[[a]\n", "t.toml:1:4: expected ']]' after table name, found "
	    "']'");
	ERR("[[a]]\nx = 1\nx = 2\n", "t.toml:3:1: duplicate key \"x\"");
	ERR("a = 1\n[[a]]\n", "t.toml:2:1: cannot define array of tables "
	    "[[a]]: \"a\" is an integer");
}

/* ---- inline tables ------------------------------------------------ */

static void
test_inline_tables(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v;

	t = parse("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
	    "empty = {}\n"
	    "dot = { a.b = 1, a.c = 2, \"q k\" = 3 }\n"
	    "nest = { x = { y = { z = [1, { w = 2 }] } } }\n"
	    "ml = { list = [\n 1,\n 2,\n], s = \"\"\"a\nb\"\"\" }\n"
	    "after = 1\n");
	v = get(t, "name");
	assert_int_equal(v->type, TOML_TABLE);
	assert_int_equal(v->u.tab->n, 2);
	assert_string_equal(v->u.tab->kv[0].key, "first");
	assert_str(t, "name.last", "Preston-Werner");
	assert_int_equal(get(t, "empty")->u.tab->n, 0);
	assert_int(t, "dot.a.b", 1);
	assert_int(t, "dot.a.c", 2);
	assert_non_null(toml_get(get(t, "dot")->u.tab, "q k"));
	v = get(t, "nest.x.y.z");
	assert_int_equal(v->u.arr.n, 2);
	assert_int(v->u.arr.v[1].u.tab, "w", 2);
	assert_int_equal(get(t, "ml.list")->u.arr.n, 2);
	assert_str(t, "ml.s", "a\nb");
	assert_int_equal(getkv(t, "after")->line, 10);
	toml_free(t);
}

static void
test_inline_errors(void **state)
{
	ERR("a = {b = 1,}\n", "t.toml:1:11: trailing comma in inline table");
	ERR("a = {\nb = 1}\n", "t.toml:1:6: expected a key, found newline");
	ERR("a = {b = 1\n}\n", "t.toml:1:11: expected ',' or '}' in inline "
	    "table, found newline");
	ERR("a = {b = 1 c = 2}\n", "t.toml:1:12: expected ',' or '}' in "
	    "inline table, found 'c'");
	ERR("a = {b = 1,,c = 2}\n", "t.toml:1:12: expected a key, found ','");
	ERR("a = {b = 1", "t.toml:1:11: expected ',' or '}' in inline table, "
	    "found end of input");
	ERR("a = {b = 1, b = 2}\n", "t.toml:1:13: duplicate key \"b\"");
	ERR("a = {}\n[a]\n", "t.toml:2:1: cannot define table [a]: \"a\" is "
	    "an inline table");
	ERR("a = {}\n[a.b]\n", "t.toml:2:1: cannot define table [a.b]: "
	    "\"a\" is an inline table");
	ERR("a = {b = 1}\na.c = 2\n", "t.toml:2:1: cannot define key \"a.c\": "
	    "\"a\" is an inline table");
	ERR("a = {b = {c = 1}}\na.b.d = 2\n", "t.toml:2:1: cannot define key "
	    "\"a.b.d\": \"a\" is an inline table");
	ERR("a.b = 0\na = {}\n", "t.toml:2:1: duplicate key \"a\"");
	ERR("t = { i = { d = 1 }, i.r = 2 }\n", "t.toml:1:22: cannot define "
	    "key \"i.r\": \"i\" is an inline table");
	ERR("a = {b = 1}\n[[a]]\n", "t.toml:2:1: cannot define array of tables "
	    "[[a]]: \"a\" is an inline table");
	ERR("a = { # c\n}\n", "t.toml:1:7: expected a key, found '#'");
}

/* ---- keys and dotted keys ----------------------------------------- */

static void
test_keys(void **state)
{
	struct toml_table	*t;

	t = parse("bare_key-1 = 1\n1234 = 2\n\"127.0.0.1\" = 3\n"
	    "'quoted \"v\"' = 4\n\"\\u00e9t\\u00e9\" = 5\n"
	    "3.14 = 6\n\"\xca\x8e\" = 7\n");
	assert_int(t, "bare_key-1", 1);
	assert_int(t, "1234", 2);
	assert_int_equal(getkv(t, "127.0.0.1")->val.u.i, 3);
	assert_int_equal(getkv(t, "quoted \"v\"")->val.u.i, 4);
	assert_int_equal(getkv(t, "\xc3\xa9t\xc3\xa9")->val.u.i, 5);
	assert_int(t, "3.14", 6);		/* dotted: 3 -> 14 */
	assert_int_equal(getkv(t, "\xca\x8e")->val.u.i, 7);
	toml_free(t);

	ERR("= 1\n", "t.toml:1:1: expected a key, found '='");
	ERR("a b = 1\n", "t.toml:1:3: expected '=' after key, found 'b'");
	ERR("a. = 1\n", "t.toml:1:4: expected a key, found '='");
	ERR(".a = 1\n", "t.toml:1:1: expected a key, found '.'");
	ERR("a..b = 1\n", "t.toml:1:3: expected a key, found '.'");
	ERR("a\n= 1\n", "t.toml:1:2: expected '=' after key, found newline");
	ERR("\xc3\xbc = 1\n", "t.toml:1:1: expected a key, found U+00FC");
	ERR("a = 1\n\"a\" = 2\n", "t.toml:2:1: duplicate key \"a\"");
	ERR("a = 1\n'a' = 2\n", "t.toml:2:1: duplicate key \"a\"");
	ERR("\"a b\" = 1\n'a b' = 2\n", "t.toml:2:1: duplicate key \"'a b'\"");
	ERR("\"x\\ty\" = 1\n\"x\\ty\" = 2\n",
	    "t.toml:2:1: duplicate key \"\"x\\u0009y\"\"");
	ERR("[manager]\nid = 1\n\nid = 2\n",
	    "t.toml:4:1: duplicate key \"id\"");
}

static void
test_dotted(void **state)
{
	struct toml_table	*t;
	const struct toml_value	*v;

	t = parse("name = \"Orange\"\nphysical.color = \"orange\"\n"
	    "physical.shape = \"round\"\nsite.\"google.com\" = true\n"
	    "a . b\t.\tc = 1\n\"a\".'d' = 2\n");
	assert_str(t, "physical.color", "orange");
	assert_str(t, "physical.shape", "round");
	v = &getkv(get(t, "site")->u.tab, "google.com")->val;
	assert_int_equal(v->type, TOML_BOOL);
	assert_int(t, "a.b.c", 1);
	assert_int(t, "a.d", 2);
	toml_free(t);

	/* Headers may pass through dotted tables and define new ones. */
	t = parse("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
	    "[fruit.apple.texture]\nsmooth = true\n"
	    "[[fruit.apple.seeds]]\nsize = 2\n");
	assert_str(t, "fruit.apple.color", "red");
	assert_int_equal(get(t, "fruit.apple.taste.sweet")->u.b, 1);
	assert_int_equal(get(t, "fruit.apple.texture.smooth")->u.b, 1);
	assert_int_equal(get(t, "fruit.apple.seeds")->u.arr.n, 1);
	toml_free(t);

	/* Dotted keys may extend a table only created by a header. */
	t = parse("[a.b.c]\nz = 9\n[a]\nb.d = 1\n");
	assert_int(t, "a.b.c.z", 9);
	assert_int(t, "a.b.d", 1);
	toml_free(t);

	/* Inside each array-of-tables element. */
	t = parse("[[arr]]\na.b.c = 1\na.b.d = 2\n[[arr]]\na.b.c = 3\n");
	v = get(t, "arr");
	assert_int(v->u.arr.v[0].u.tab, "a.b.d", 2);
	assert_int(v->u.arr.v[1].u.tab, "a.b.c", 3);
	toml_free(t);
}

static void
test_dotted_errors(void **state)
{
	ERR("a.b = 1\na.b.c = 2\n", "t.toml:2:1: cannot define key \"a.b.c\": "
	    "\"a.b\" is an integer");
	ERR("a.b = 1\na.b = 2\n", "t.toml:2:1: duplicate key \"a.b\"");
	ERR("a.b = 1\na = 2\n", "t.toml:2:1: duplicate key \"a\"");
	ERR("[a.b.c]\nz = 9\n[a]\n  b.c.t = 1\n", "t.toml:4:3: cannot define "
	    "key \"b.c.t\": \"b.c\" is a table defined by a header");
	ERR("[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]\n",
	    "t.toml:3:1: table [fruit.apple.taste] already defined by dotted "
	    "keys");
	ERR("a = [1]\na.b = 2\n", "t.toml:2:1: cannot define key \"a.b\": "
	    "\"a\" is a static array");
	ERR("a = 1979-05-27\na.b = 2\n", "t.toml:2:1: cannot define key "
	    "\"a.b\": \"a\" is a local date");
}

/* ---- bytes: UTF-8, control characters, CR ------------------------- */

static void
test_bytes(void **state)
{
	struct toml_table	*t;

	t = parse("# \xe2\x82\xac \xf0\x9f\x98\x80 \ttab\r\n"
	    "a = '\xc3\xa9'\r\n");
	assert_str(t, "a", "\xc3\xa9");
	toml_free(t);
	t = parse("\xef\xbb\xbf" "a = 1\n");	/* byte order mark */
	assert_int(t, "a", 1);
	assert_int_equal(getkv(t, "a")->col, 4);
	toml_free(t);

	ERR("a = \"\xff\"\n", "t.toml:1:6: invalid UTF-8");
	/* Overlong, surrogate, above U+10FFFF, truncated, stray. */
	ERR("a = 1\n# \xc0\xaf\n", "t.toml:2:3: invalid UTF-8");
	ERR("a = '\xed\xa0\x80'\n", "t.toml:1:6: invalid UTF-8");
	ERR("a = '\xf4\x90\x80\x80'\n", "t.toml:1:6: invalid UTF-8");
	ERR("# \xe2\x82", "t.toml:1:3: invalid UTF-8");
	ERR("\xe2\x82\xac\x80 = 1\n", "t.toml:1:4: invalid UTF-8");
	ERR("# a\x01\n", "t.toml:1:4: control character 0x01 in comment");
	ERR("a = 1 # \x7f\n", "t.toml:1:9: control character 0x7f in "
	    "comment");
	ERR("a = 1\x0c\n", "t.toml:1:6: expected newline after value, found "
	    "control character 0x0c");
	ERR_N("a = 1\0\n", 7, "t.toml:1:6: expected newline after value, "
	    "found control character 0x00");
	ERR("a = 1\rb = 2\n", "t.toml:1:6: carriage return not followed by "
	    "newline");
	ERR("a = 1\n# x\r", "t.toml:2:4: carriage return not followed by "
	    "newline");
	ERR("a = \"\"\"x\ry\"\"\"\n", "t.toml:1:9: carriage return not "
	    "followed by newline");
	/* The first bad byte wins over a later syntax error and v.v. */
	ERR("a = \n\xff", "t.toml:2:1: invalid UTF-8");
}

/* ---- limits ------------------------------------------------------- */

static char *
repeat(const char *pre, const char *s, int n, const char *post)
{
	struct buf	 b = BUF_INIT;
	int		 i;

	buf_adds(&b, pre);
	for (i = 0; i < n; i++)
		buf_adds(&b, s);
	buf_adds(&b, post);
	return buf_release(&b);
}

static void
test_depth(void **state)
{
	struct toml_table	*t;
	char			*s, *a, *b;

	/* 64 nested arrays are fine, 65 are not. */
	a = repeat("a = ", "[", 64, "");
	b = repeat(a, "]", 64, "\n");
	t = parse(b);
	toml_free(t);
	free(a);
	free(b);
	a = repeat("a = ", "[", 65, "");
	b = repeat(a, "]", 65, "\n");
	ERR(b, "t.toml:1:69: values nested deeper than 64 levels");
	free(a);
	free(b);

	/* Inline tables: a = {b={b=...}}: 64 tables deep, then 65. */
	a = repeat("a = ", "{b=", 63, "{}");
	b = repeat(a, "}", 63, "\n");
	t = parse(b);
	toml_free(t);
	free(a);
	free(b);
	a = repeat("a = ", "{b=", 64, "{}");
	b = repeat(a, "}", 64, "\n");
	ERR(b, "t.toml:1:197: values nested deeper than 64 levels");
	free(a);
	free(b);

	/* Keys: 64 parts is the limit, for headers and dotted keys. */
	s = repeat("[t", ".t", 63, "]\n");
	t = parse(s);
	toml_free(t);
	free(s);
	s = repeat("k", ".k", 64, " = 1\n");
	ERR(s, "t.toml:1:129: key nested deeper than 64 levels");
	free(s);
	s = repeat("[t", ".t", 63, "]\nx.y = 1\n");
	ERR(s, "t.toml:2:1: tables nested deeper than 64 levels");
	free(s);
	s = repeat("[t", ".t", 62, "]\nx = []\n");	/* 63 + 1 */
	t = parse(s);
	toml_free(t);
	free(s);
	s = repeat("[t", ".t", 62, "]\nx = [[]]\n");	/* 63 + 2 */
	ERR(s, "t.toml:2:6: values nested deeper than 64 levels");
	free(s);
	s = repeat("[[t", ".t", 62, "]]\n");	/* 62 + array + element */
	t = parse(s);
	toml_free(t);
	free(s);
	s = repeat("[[t", ".t", 63, "]]\n");
	ERR(s, "t.toml:1:1: tables nested deeper than 64 levels");
	free(s);
}

static void
test_size_limit(void **state)
{
	struct toml_table	*t;
	char			*s;

	s = xmalloc(TOML_MAX_INPUT + 1);
	memset(s, '\n', TOML_MAX_INPUT + 1);
	memcpy(s, "a = 1", 5);
	t = parse_n(s, TOML_MAX_INPUT);
	assert_int(t, "a", 1);
	toml_free(t);
	ERR_N(s, TOML_MAX_INPUT + 1, "t.toml:1:1: input larger than "
	    "4194304 bytes");
	free(s);
}

/* ---- files, error buffer ------------------------------------------ */

static void
write_file(const char *path, const char *data, size_t len)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, data, len), 0);
	close(fd);
}

static void
test_parse_file(void **state)
{
	struct toml_table	*t;
	struct buf		 err = BUF_INIT;
	char			 dir[] = "/tmp/test_toml.XXXXXX", path[64];
	char			 want[128];
	int			 fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ok.toml", dir);
	write_file(path, "[m]\nid = \"x\"\n", 13);
	t = toml_parse_file(path, &err);
	assert_non_null(t);
	assert_str(t, "m.id", "x");
	toml_free(t);

	snprintf(path, sizeof(path), "%s/bad.toml", dir);
	write_file(path, "[m]\nid = 1\nid = 2\n", 18);
	assert_null(toml_parse_file(path, &err));
	snprintf(want, sizeof(want), "%s:3:1: duplicate key \"id\"", path);
	assert_string_equal(buf_str(&err), want);
	unlink(path);
	buf_reset(&err);

	snprintf(path, sizeof(path), "%s/missing.toml", dir);
	assert_null(toml_parse_file(path, &err));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(buf_str(&err), want);
	buf_reset(&err);

	/* One byte too many: refused, naming the file. */
	snprintf(path, sizeof(path), "%s/big.toml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, TOML_MAX_INPUT + 1), 0);
	close(fd);
	assert_null(toml_parse_file(path, &err));
	snprintf(want, sizeof(want), "%s: larger than 4194304 bytes", path);
	assert_string_equal(buf_str(&err), want);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ok.toml", dir);
	unlink(path);
	rmdir(dir);
	buf_free(&err);
}

static void
test_error_buffer(void **state)
{
	struct buf	 err = BUF_INIT;

	/* Appended after earlier errors, newline-separated. */
	buf_adds(&err, "earlier");
	assert_null(toml_parse("a = \n", 5, "c.toml", &err));
	assert_string_equal(buf_str(&err), "earlier\n"
	    "c.toml:1:5: expected a value, found newline");
	buf_free(&err);
	/* No name: "<input>"; no error buffer: still NULL, no crash. */
	assert_null(toml_parse("[a]\n[a]\n", 8, NULL, &err));
	assert_string_equal(buf_str(&err), "<input>:2:1: table [a] defined "
	    "twice");
	buf_free(&err);
	assert_null(toml_parse("[a]\n[a]\n", 8, "x", NULL));
}

static void
test_recipe(void **state)
{
	struct toml_table	*t;
	struct buf		 err = BUF_INIT;
	const struct toml_value	*v;
	const char		*top = getenv("top_srcdir");
	char			*path;

	path = xasprintf("%s/tests/data/recipes-examples/busybox/peipkg.toml",
	    top != NULL ? top : ".");
	t = toml_parse_file(path, &err);
	if (t == NULL)
		print_error("%s\n", buf_str(&err));
	assert_non_null(t);
	assert_str(t, "meta.license", "GPL-2.0-only");
	v = get(t, "package");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->u.arr.n, 1);
	assert_str(v->u.arr.v[0].u.tab, "name", "busybox");
	assert_int_equal(get(v->u.arr.v[0].u.tab, "files")->u.arr.n, 1);
	assert_int(t, "upstream.peios_revision", 1);
	assert_str(t, "upstream.tag_pattern",
	    "^(?P<major>[0-9]+)_(?P<minor>[0-9]+)_(?P<patch>[0-9]+)$");
	assert_int_equal(getkv(get(t, "upstream")->u.tab, "git")->line, 16);
	toml_free(t);
	free(path);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_strings_basic),
		cmocka_unit_test(test_strings_literal),
		cmocka_unit_test(test_strings_multiline),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_errors),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_float_errors),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_datetimes),
		cmocka_unit_test(test_datetime_errors),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_array_errors),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_table_errors),
		cmocka_unit_test(test_aot),
		cmocka_unit_test(test_aot_errors),
		cmocka_unit_test(test_inline_tables),
		cmocka_unit_test(test_inline_errors),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_dotted),
		cmocka_unit_test(test_dotted_errors),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_recipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
