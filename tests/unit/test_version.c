/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_version.c: version parsing and the consumer's ordering.  Every
 * row of tests/vectors/versions.tsv (both directions) and
 * versions-invalid.tsv, the BEHAVIOUR.md 6.1 examples and 6.3 table,
 * integer bounds, long digit runs and upstream (tag capture) checks.
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

#include "version.h"

#define MAX_FIELDS	8

/* ---- helpers --------------------------------------------------------- */

static char *
vector_path(const char *name)
{
	const char	*top = getenv("top_srcdir");
	const char	*file = __FILE__, *slash;

	if (top != NULL && *top != '\0')
		return xasprintf("%s/tests/vectors/%s", top, name);
	/* Fall back to the source file's own directory: tests/unit/. */
	if ((slash = strrchr(file, '/')) == NULL)
		return xasprintf("../vectors/%s", name);
	return xasprintf("%.*s/../vectors/%s", (int)(slash - file), file,
	    name);
}

static char *
load_vector(const char *name)
{
	struct buf	 data = BUF_INIT, err = BUF_INIT;
	char		*path = vector_path(name);

	if (read_file(path, 1 << 20, &data, &err) == -1)
		fail_msg("%s", buf_str(&err));
	free(path);
	buf_free(&err);
	return buf_release(&data);
}

/* Split `line` in place at TABs; returns the number of fields. */
static int
split_tabs(char *line, char **f, int max)
{
	int	 n = 0;

	f[n++] = line;
	while (n < max && (line = strchr(line, '\t')) != NULL) {
		*line++ = '\0';
		f[n++] = line;
	}
	return n;
}

static void
utf8_put(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_addc(b, (int)cp);
	} else if (cp < 0x800) {
		buf_addc(b, 0xc0 | (int)(cp >> 6));
		buf_addc(b, 0x80 | (int)(cp & 0x3f));
	} else if (cp < 0x10000) {
		buf_addc(b, 0xe0 | (int)(cp >> 12));
		buf_addc(b, 0x80 | (int)((cp >> 6) & 0x3f));
		buf_addc(b, 0x80 | (int)(cp & 0x3f));
	} else {
		buf_addc(b, 0xf0 | (int)(cp >> 18));
		buf_addc(b, 0x80 | (int)((cp >> 12) & 0x3f));
		buf_addc(b, 0x80 | (int)((cp >> 6) & 0x3f));
		buf_addc(b, 0x80 | (int)(cp & 0x3f));
	}
}

static int
hex4(const char *s, uint32_t *out)
{
	uint8_t	 b[2];

	if (strlen(s) < 4 || hex_decode(s, 4, b) == -1)
		return -1;
	*out = (uint32_t)b[0] << 8 | b[1];
	return 0;
}

/*
 * Decode a JSON string literal (the whole of `s`): escapes \" \\ \/ \b
 * \f \n \r \t \uXXXX (with surrogate pairs).  Returns -1 if malformed.
 */
static int
json_unquote(const char *s, struct buf *out)
{
	size_t		 n = strlen(s), i;
	uint32_t	 cp, lo;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return -1;
	for (i = 1; i < n - 1; i++) {
		if (s[i] != '\\') {
			buf_addc(out, (unsigned char)s[i]);
			continue;
		}
		switch (s[++i]) {
		case '"': case '\\': case '/':
			buf_addc(out, s[i]);
			break;
		case 'b': buf_addc(out, '\b'); break;
		case 'f': buf_addc(out, '\f'); break;
		case 'n': buf_addc(out, '\n'); break;
		case 'r': buf_addc(out, '\r'); break;
		case 't': buf_addc(out, '\t'); break;
		case 'u':
			if (hex4(s + i + 1, &cp) == -1)
				return -1;
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && s[i + 1] == '\\' &&
			    s[i + 2] == 'u' && hex4(s + i + 3, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			utf8_put(out, cp);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* The message form of a version string: printable ASCII, else \xNN. */
static char *
expect_quoted(const char *s)
{
	struct buf	 b = BUF_INIT;
	const unsigned char *p;

	buf_addc(&b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addf(&b, "\\%c", *p);
		else if (*p == '\t')
			buf_adds(&b, "\\t");
		else if (*p < 0x20 || *p >= 0x7f)
			buf_addf(&b, "\\x%02x", *p);
		else
			buf_addc(&b, *p);
	}
	buf_addc(&b, '"');
	return buf_release(&b);
}

static int
op_value(const char *op)
{
	if (strcmp(op, "<") == 0)
		return -1;
	if (strcmp(op, "=") == 0)
		return 0;
	if (strcmp(op, ">") == 0)
		return 1;
	fail_msg("bad operator \"%s\" in vector", op);
	return 99;
}

static const char *
op_name(int v)
{
	if (v == -2)
		return "error";
	return v < 0 ? "<" : v == 0 ? "=" : ">";
}

static int
cmp(const char *a, const char *b)
{
	struct buf	 err = BUF_INIT;
	int		 c;

	c = version_cmp_str(a, b, &err);
	if (c == -2)
		print_error("# %s\n", buf_str(&err));
	buf_free(&err);
	return c;
}

#define CMP(a, op, b) do {						\
	assert_int_equal(cmp((a), (b)), op_value(op));			\
	assert_int_equal(cmp((b), (a)), -op_value(op));			\
} while (0)

/* version_parse must fail with exactly `msg`. */
static void
parse_fails(const char *s, const char *msg)
{
	struct pm_version	 v;
	struct buf		 err = BUF_INIT;

	assert_int_equal(version_parse(s, &v, &err), -1);
	assert_null(v.upstream);
	assert_string_equal(buf_str(&err), msg);
	assert_int_equal(version_valid(s), 0);
	buf_free(&err);
}

static void
parse_ok(const char *s, int64_t epoch, const char *up, int64_t rev)
{
	struct pm_version	 v;
	struct buf		 err = BUF_INIT;

	assert_int_equal(version_parse(s, &v, &err), 0);
	assert_string_equal(buf_str(&err), "");
	assert_true(v.epoch == epoch);
	assert_string_equal(v.upstream, up);
	assert_true(v.revision == rev);
	assert_int_equal(version_valid(s), 1);
	version_free(&v);
	buf_free(&err);
}

static void
upstream_fails(const char *s, size_t n, const char *msg)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(version_upstream_valid_len(s, n, &err), -1);
	if (msg != NULL)
		assert_string_equal(buf_str(&err), msg);
	assert_non_null(strstr(buf_str(&err), "upstream version \""));
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
}

static void
upstream_ok(const char *s)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(version_upstream_valid(s, &err), 0);
	assert_string_equal(buf_str(&err), "");
	buf_free(&err);
}

/* ---- golden vectors -------------------------------------------------- */

static int
check_pair(char **f, int lineno)
{
	int	 want = op_value(f[1]), ab, ba;

	ab = cmp(f[0], f[2]);
	ba = cmp(f[2], f[0]);
	if (ab == want && ba == -want)
		return 0;
	print_error("# versions.tsv:%d: %s %s %s: got %s / reverse %s (%s)\n",
	    lineno, f[0], f[1], f[2], op_name(ab), op_name(ba), f[4]);
	return 1;
}

static void
test_vectors_pairs(void **state)
{
	char	*data = load_vector("versions.tsv"), *line, *next;
	char	*f[MAX_FIELDS];
	int	 lineno = 0, rows = 0, bad = 0, disagree = 0;

	for (line = data; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		assert_int_equal(split_tabs(line, f, MAX_FIELDS), 5);
		rows++;
		bad += check_pair(f, lineno);
		disagree += strchr(f[3], '!') != NULL;
	}
	free(data);
	assert_int_equal(bad, 0);
	assert_int_equal(rows, 92);
	/* The rows where we follow the consumer, not the old tool. */
	assert_int_equal(disagree, 6);
}

static int
check_invalid_row(const char *s, const char *result, int lineno)
{
	struct pm_version	 v;
	struct buf		 err = BUF_INIT;
	char			*q = expect_quoted(s), *want;
	int			 rc, bad = 0;

	want = xasprintf("version %s: ", q);
	rc = version_parse(s, &v, &err);
	if (strcmp(result, "invalid") == 0) {
		bad = rc != -1 || v.upstream != NULL ||
		    !str_has_prefix(buf_str(&err), want) ||
		    strchr(buf_str(&err), '\n') != NULL || version_valid(s);
	} else if (strcmp(result, "valid") == 0) {
		bad = rc != 0 || err.len != 0 || !version_valid(s);
	} else
		bad = 1;
	if (bad)
		print_error("# versions-invalid.tsv:%d: %s expected %s, "
		    "rc %d: %s\n", lineno, q, result, rc, buf_str(&err));
	version_free(&v);
	buf_free(&err);
	free(want);
	free(q);
	return bad;
}

static void
test_vectors_invalid(void **state)
{
	char		*data, *line, *next, *f[MAX_FIELDS];
	struct buf	 s = BUF_INIT;
	int		 lineno = 0, bad = 0, invalid = 0, valid = 0;

	data = load_vector("versions-invalid.tsv");
	for (line = data; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		assert_true(split_tabs(line, f, MAX_FIELDS) >= 3);
		buf_reset(&s);
		assert_int_equal(json_unquote(f[0], &s), 0);
		/* A NUL inside the literal would hide part of the string. */
		assert_int_equal(strlen(buf_str(&s)), s.len);
		bad += check_invalid_row(buf_str(&s), f[1], lineno);
		invalid += strcmp(f[1], "invalid") == 0;
		valid += strcmp(f[1], "valid") == 0;
	}
	free(data);
	buf_free(&s);
	assert_int_equal(bad, 0);
	assert_int_equal(invalid, 32);
	assert_int_equal(valid, 12);
}

static void
test_json_unquote(void **state)
{
	struct buf	 b = BUF_INIT;

	assert_int_equal(json_unquote("\"a\\\"b\\\\c\\u00a0\\u2028\"", &b), 0);
	assert_string_equal(buf_str(&b), "a\"b\\c\xc2\xa0\xe2\x80\xa8");
	buf_reset(&b);
	assert_int_equal(json_unquote("\"\\ud83d\\ude00\"", &b), 0);
	assert_string_equal(buf_str(&b), "\xf0\x9f\x98\x80");
	buf_reset(&b);
	assert_int_equal(json_unquote("\"\"", &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(json_unquote("\"\\x\"", &b), -1);
	assert_int_equal(json_unquote("abc", &b), -1);
	buf_free(&b);
}

/* ---- BEHAVIOUR.md 6.3 and 6.1 ---------------------------------------- */

static void
test_behaviour_table(void **state)
{
	/* Every row the consumer agrees with (all but 26-28 and 41). */
	static const char *const rows[][3] = {
		{ "1.0-1", "=", "1.0-1" },		/* 1 */
		{ "1.0-1", "<", "2.0-1" },
		{ "1.10-1", ">", "1.9-1" },
		{ "1.0-1", "<", "1.0.1-1" },
		{ "1.0-1", ">", "1.0-rc.1-1" },		/* 5 */
		{ "1.0-rc.1-1", "<", "1.0-rc.2-1" },
		{ "1.0-alpha-1", "<", "1.0-beta-1" },
		{ "1.0-rc-1", ">", "1.0-pre-1" },
		{ "1.0a1-1", "<", "1.0a2-1" },
		{ "1.0a1-1", "<", "1.0b1-1" },		/* 10 */
		{ "1.0~rc1-1", "<", "1.0-1" },
		{ "0:1.0-1", "<", "1:0.5-1" },
		{ "1.0-1", "<", "1.0-2" },
		{ "1.0-foo-1", ">", "1.0-1" },
		{ "1.0~a-1", "=", "1.0~alpha-1" },	/* 15 */
		{ "1.0~Alpha-1", "=", "1.0~ALPHA-1" },
		{ "1.0-foo-1", "<", "1.0-zzz-1" },
		{ "1.01-1", "=", "1.1-1" },
		{ "16beta1-1", "<", "16-1" },
		{ "1.0~dev1-1", "<", "1.0~alpha1-1" },	/* 20 */
		{ "1.0-10", ">", "1.0-9" },
		{ "1.0+build.42-1", ">", "1.0-1" },
		{ "1.0-1", ">", "1.0.alpha-1" },
		{ "1.0~rc.1-1", "=", "1.0-rc.1-1" },
		{ "2:0.5.0-1", ">", "1:99.99-1" },	/* 25 */
		{ "1.0a-1", "<", "1.0-1" },		/* 29 */
		{ "1.0.0-1", ">", "1.0-1" },		/* 30 */
		{ "1.0-dev-1", "<", "1.0~alpha-1" },
		{ "1.0beta-1", "=", "1.0b-1" },
		{ "1.0xyz-1", ">", "1.0-1" },
		{ "1.0xyz-1", ">", "1.0.1-1" },
		{ "1.0rc-1", "<", "1.0.1-1" },		/* 35 */
		{ "1.0~1-1", ">", "1.0-1" },
		{ "1.0.0~rc1-1", "<", "1.0.0-1" },
		{ "20240101-1", ">", "1.0-1" },
		{ "1.0-A-1", "=", "1.0-a-1" },
		{ "1.0-Foo-1", "<", "1.0-foo-1" },	/* 40 */
		{ "0:1.0-1", "=", "1.0-1" },		/* 42 */
		{ "1.0~rc1-1", "<", "1.0~rc1.1-1" },
		{ "1.0~rc1-1", ">", "1.0~rc1a-1" },
		{ "1.0.rc1-1", "=", "1.0rc1-1" },	/* 45 */
		{ "1.0-1", "=", "1.0~-1" },
		{ "1.0-rc-1", "=", "1.0-RC-1" },
		{ "1.2.3-alpha1-1", "<", "1.2.3-1" },
		{ "0.20.0-alpha1-1", "<", "0.20.0-rc1-1" },
		{ "0.20.0-rc1-1", "<", "0.20.0-1" },	/* 50 */
		{ "2.12-1", "<", "2.12.5-1" },
		{ "1.0.1-1", ">", "1.0a-1" },
		{ "1.0-post1-1", ">", "1.0-1" },	/* 53 */
	};
	size_t	 i;

	for (i = 0; i < nitems(rows); i++)
		CMP(rows[i][0], rows[i][1], rows[i][2]);
	assert_int_equal(nitems(rows), 49);
}

static void
test_consumer_rows(void **state)
{
	/* CONSUMER.md 1.10: the consumer, not the old code, decides. */
	CMP("1.0~rc1-foo-1", "<", "1.0~rc1-1");			/* 26 */
	CMP("1.0-rc1-foo-1", "<", "1.0-rc1-2-1");		/* 27 */
	CMP("1.0-rc1-1", ">", "1.0-rc1-x-1");			/* 28 */
	CMP("1.99999999999999999999-1", ">", "1.9223372036854775807-1");
	/* A rank-5 word before any keyword is still not pre-release. */
	CMP("1.0-foo-bar-1", ">", "1.0-foo-1");
	CMP("1.0-rc1-foo-bar-1", "<", "1.0-rc1-foo-1");
}

static void
test_parse_examples(void **state)
{
	parse_ok("0:1.0-1", 0, "1.0", 1);
	parse_ok("A1.0-1", 0, "A1.0", 1);
	parse_ok("1.0--1", 0, "1.0-", 1);
	parse_ok("1.0-rc.1-1", 0, "1.0-rc.1", 1);
	parse_ok("1.26.2-3", 0, "1.26.2", 3);
	parse_ok("2:0.5.0-1", 2, "0.5.0", 1);
	parse_ok("2:1.0~rc1-3", 2, "1.0~rc1", 3);
	parse_ok("1.0~-1", 0, "1.0~", 1);
	parse_fails("1.0", "version \"1.0\": no -revision");
	parse_fails("1.0-0", "version \"1.0-0\": revision \"0\" must be at "
	    "least 1");
	parse_fails("1.0-01", "version \"1.0-01\": revision \"01\" has a "
	    "leading zero");
	parse_fails("01:1.0-1", "version \"01:1.0-1\": epoch \"01\" has a "
	    "leading zero");
	parse_fails(":1.0-1", "version \":1.0-1\": epoch \"\" is empty");
	parse_fails("1.0_1-1", "version \"1.0_1-1\": upstream \"1.0_1\" "
	    "contains invalid character '_' at byte 3 (allowed: letters, "
	    "digits, . + - ~)");
	parse_fails("~1.0-1", "version \"~1.0-1\": upstream \"~1.0\" must "
	    "start with an ASCII letter or digit, not '~'");
	parse_fails("-1.0-1", "version \"-1.0-1\": upstream \"-1.0\" must "
	    "start with an ASCII letter or digit, not '-'");
	parse_fails("1:2:3-1", "version \"1:2:3-1\": upstream \"2:3\" "
	    "contains invalid character ':' at byte 1 (allowed: letters, "
	    "digits, . + - ~)");
	parse_fails("1.0-+1", "version \"1.0-+1\": revision \"+1\" is not a "
	    "decimal number");
	parse_fails("1.0-1 ", "version \"1.0-1 \": revision \"1 \" is not a "
	    "decimal number");
	parse_fails("1.0-99999999999999999999", "version "
	    "\"1.0-99999999999999999999\": revision \"99999999999999999999\" "
	    "is out of range (at most 9223372036854775807)");
	parse_fails("-1", "version \"-1\": upstream \"\" is empty");
	parse_fails("\xc3\xa9-1", "version \"\\xc3\\xa9-1\": upstream "
	    "\"\\xc3\\xa9\" must start with an ASCII letter or digit, not "
	    "'\\xc3'");
	parse_fails("1.0\t-1", "version \"1.0\\t-1\": upstream \"1.0\\t\" "
	    "contains invalid character '\\x09' at byte 3 (allowed: letters, "
	    "digits, . + - ~)");
}

/* ---- bounds and long digit runs -------------------------------------- */

static void
test_int64_bounds(void **state)
{
	parse_ok("9223372036854775807:1.0-9223372036854775807", INT64_MAX,
	    "1.0", INT64_MAX);
	parse_fails("9223372036854775808:1.0-1", "version "
	    "\"9223372036854775808:1.0-1\": epoch \"9223372036854775808\" is "
	    "out of range (at most 9223372036854775807)");
	parse_fails("1.0-9223372036854775808", "version "
	    "\"1.0-9223372036854775808\": revision \"9223372036854775808\" is "
	    "out of range (at most 9223372036854775807)");
	parse_fails("-1:1.0-1", "version \"-1:1.0-1\": epoch \"-1\" is not a "
	    "decimal number");
	CMP("1.0-9223372036854775807", ">", "1.0-9223372036854775806");
	CMP("9223372036854775807:0-1", ">", "9223372036854775806:9-1");
	CMP("0:1.0-1", "<", "1:1.0-1");
}

static void
test_long_digit_runs(void **state)
{
	char	 a[VERSION_MAX_LEN + 8], b[VERSION_MAX_LEN + 8];
	char	*longer;

	/* 250 nines vs 249 nines: by value, not clamped. */
	memset(a, '9', 250);
	memcpy(a + 250, "-1", 3);
	memset(b, '9', 249);
	memcpy(b + 249, "-1", 3);
	CMP(a, ">", b);
	/* Leading zeros do not count, however many. */
	memset(a, '0', 200);
	memcpy(a + 200, "99999999999999999999-1", 23);
	CMP(a, "=", "99999999999999999999-1");
	CMP(a, ">", "99999999999999999998-1");
	CMP("9223372036854775808-1", ">", "9223372036854775807-1");
	CMP("18446744073709551616-1", ">", "18446744073709551615-1");
	CMP("1.18446744073709551617-1", "<", "1.18446744073709551618-1");
	/* Upstream length limit: 256 accepted, 257 refused. */
	memset(a, '1', VERSION_MAX_LEN);
	memcpy(a + VERSION_MAX_LEN, "-1", 3);
	assert_int_equal(version_valid(a), 1);
	memset(b, '1', VERSION_MAX_LEN + 1);
	memcpy(b + VERSION_MAX_LEN + 1, "-1", 3);
	assert_int_equal(version_valid(b), 0);
	/* Past the limit the upstream comparison still works (total). */
	longer = xasprintf("1.%0400d", 7);
	assert_int_equal(version_cmp_upstream(longer, "1.6"), 1);
	assert_int_equal(version_cmp_upstream("1.8", longer), 1);
	free(longer);
}

static void
test_long_message_cut(void **state)
{
	struct pm_version	 v;
	struct buf		 err = BUF_INIT;
	char			*s = xmalloc(5001);

	memset(s, 'a', 5000);
	s[5000] = '\0';
	assert_int_equal(version_parse(s, &v, &err), -1);
	assert_true(err.len < 700);
	assert_non_null(strstr(buf_str(&err), "\"... (5000 bytes): no "
	    "-revision"));
	free(s);
	buf_free(&err);
}

/* ---- upstream (tag capture) ------------------------------------------ */

static void
test_upstream_valid(void **state)
{
	char	 big[VERSION_MAX_LEN + 2];

	upstream_ok("1.2.3");
	upstream_ok("1.0.0-rc.1");
	upstream_ok("16beta1");
	upstream_ok("1.0+build.42");
	upstream_ok("1.0~rc.1");
	upstream_ok("A");
	upstream_ok("0.20.0-alpha1");
	upstream_ok("1.0-");
	upstream_fails("1/../../x", 9, "upstream version \"1/../../x\" "
	    "contains invalid character '/' at byte 1 (allowed: letters, "
	    "digits, . + - ~)");
	upstream_fails("..", 2, "upstream version \"..\" must start with an "
	    "ASCII letter or digit, not '.'");
	upstream_fails("", 0, "upstream version \"\" is empty");
	upstream_fails("1.0 beta", 8, "upstream version \"1.0 beta\" contains "
	    "invalid character ' ' at byte 3 (allowed: letters, digits, "
	    ". + - ~)");
	upstream_fails("1.0\0/x", 6, "upstream version \"1.0\\x00/x\" "
	    "contains invalid character '\\x00' at byte 3 (allowed: letters, "
	    "digits, . + - ~)");
	upstream_fails("1.0\n", 4, "upstream version \"1.0\\n\" contains "
	    "invalid character '\\x0a' at byte 3 (allowed: letters, digits, "
	    ". + - ~)");
	upstream_fails("1.0\xc3\xa9", 5, NULL);
	upstream_fails("\xc3\xa9", 2, NULL);
	upstream_fails("/etc/passwd", 11, NULL);
	upstream_fails("1\\2", 3, NULL);
	upstream_fails("1:2", 3, NULL);
	upstream_fails("1_2", 3, NULL);
	upstream_fails("~1", 2, NULL);
	upstream_fails("-1", 2, NULL);
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	upstream_fails(big, strlen(big), NULL);
	big[VERSION_MAX_LEN] = '\0';
	upstream_ok(big);
}

static void
test_cmp_upstream(void **state)
{
	assert_int_equal(version_cmp_upstream("2.12", "2.12.5"), -1);
	assert_int_equal(version_cmp_upstream("2.12.5", "2.12"), 1);
	assert_int_equal(version_cmp_upstream("1.01", "1.1"), 0);
	assert_int_equal(version_cmp_upstream("1.0~rc1", "1.0"), -1);
	assert_int_equal(version_cmp_upstream("0.20.0-alpha1", "0.20.0"), -1);
	assert_int_equal(version_cmp_upstream("1.0-rc1-foo", "1.0-rc1"), -1);
	assert_int_equal(version_cmp_upstream("1:0.1", "9.9"), 1);
	assert_int_equal(version_cmp_upstream("1.0-5", "1.0-4"), 1);
	/* Not a valid upstream: still a total order on the segments. */
	assert_int_equal(version_cmp_upstream("1.0_2", "1.0.1"), 1);
	assert_int_equal(version_cmp_upstream("", "1"), -1);
}

static void
test_cmp_str_error(void **state)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(version_cmp_str("1.0-1", "1.0", &err), -2);
	assert_string_equal(buf_str(&err), "version \"1.0\": no -revision");
	buf_reset(&err);
	assert_int_equal(version_cmp_str("x_y-1", "1.0-1", &err), -2);
	assert_non_null(strstr(buf_str(&err), "version \"x_y-1\": upstream"));
	buf_free(&err);
}

static void
test_operand(void **state)
{
	struct pm_version	 v;
	struct buf		 err = BUF_INIT;
	int			 has;
	size_t			 i;
	static const struct {
		const char	*s;
		int64_t		 epoch;
		const char	*up;
		int64_t		 rev;
	} ok[] = {
		{ "1.2", 0, "1.2", 0 }, { "1.2.3-4", 0, "1.2.3", 4 },
		{ "2:1.0", 2, "1.0", 0 }, { "2:1.0-3", 2, "1.0", 3 },
		{ "1.0-rc1", 0, "1.0-rc1", 0 }, { "1.0-0", 0, "1.0-0", 0 },
		{ "1.0-rc.1-2", 0, "1.0-rc.1", 2 }, { "1.0-", 0, "1.0-", 0 },
	};
	static const char *const bad[] = { "", "~1", ":1.0", "1.0_1",
	    "a:1", "1.0 -1", "-1" };

	for (i = 0; i < nitems(ok); i++) {
		assert_int_equal(version_parse_operand(ok[i].s, strlen(ok[i].s),
		    &v, &has, &err), 0);
		assert_true(v.epoch == ok[i].epoch);
		assert_string_equal(v.upstream, ok[i].up);
		assert_true(v.revision == ok[i].rev);
		assert_int_equal(has, ok[i].rev != 0);
		version_free(&v);
	}
	assert_string_equal(buf_str(&err), "");
	for (i = 0; i < nitems(bad); i++) {
		buf_reset(&err);
		assert_int_equal(version_parse_operand(bad[i], strlen(bad[i]),
		    &v, &has, &err), -1);
		assert_true(str_has_prefix(buf_str(&err), "version \""));
	}
	/* Only `len` bytes are read. */
	assert_int_equal(version_parse_operand("1.5, < 2", 3, &v, &has, &err),
	    0);
	assert_string_equal(v.upstream, "1.5");
	version_free(&v);
	buf_free(&err);
}

static void
test_format(void **state)
{
	static const char *const in[][2] = {
		{ "0:1.0-1", "1.0-1" }, { "2:1.0~rc1-3", "2:1.0~rc1-3" },
		{ "1.0--1", "1.0--1" }, { "1.01-10", "1.01-10" },
	};
	struct pm_version	 v;
	struct buf		 b = BUF_INIT;
	size_t			 i;
	int			 i2;

	for (i = 0; i < nitems(in); i++) {
		assert_int_equal(version_parse(in[i][0], &v, NULL), 0);
		buf_reset(&b);
		version_format(&b, &v);
		assert_string_equal(buf_str(&b), in[i][1]);
		version_free(&v);
	}
	buf_reset(&b);
	assert_int_equal(version_parse_operand("2:1.0", 5, &v, &i2, NULL), 0);
	version_format(&b, &v);
	assert_string_equal(buf_str(&b), "2:1.0");
	version_free(&v);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_unquote),
		cmocka_unit_test(test_vectors_pairs),
		cmocka_unit_test(test_vectors_invalid),
		cmocka_unit_test(test_behaviour_table),
		cmocka_unit_test(test_consumer_rows),
		cmocka_unit_test(test_parse_examples),
		cmocka_unit_test(test_int64_bounds),
		cmocka_unit_test(test_long_digit_runs),
		cmocka_unit_test(test_long_message_cut),
		cmocka_unit_test(test_upstream_valid),
		cmocka_unit_test(test_cmp_upstream),
		cmocka_unit_test(test_cmp_str_error),
		cmocka_unit_test(test_operand),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
