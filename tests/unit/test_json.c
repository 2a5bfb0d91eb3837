/*
 * test_json.c: canonical and pretty JSON writing, escaping rules, and the
 * strict parse/lookup helpers.
 */
#include "config.h"

#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"

#define FPR	"56475aa75463474c0285df5dbf2bcab7" \
		"3da651358839e9b77481b2eab107708c"

static char *
esc(const char *s, size_t n, int html)
{
	struct buf	 b = BUF_INIT;

	json_escape(&b, s, n, html);
	return buf_release(&b);
}

#define ESC_EQ(in, out) do {					\
	char *s_ = esc((in), sizeof(in) - 1, 0);		\
	assert_string_equal(s_, (out));				\
	free(s_);						\
} while (0)
#define ESC_HTML_EQ(in, out) do {				\
	char *s_ = esc((in), sizeof(in) - 1, 1);		\
	assert_string_equal(s_, (out));				\
	free(s_);						\
} while (0)

static void
test_escape_ascii(void **state)
{
	ESC_EQ("", "\"\"");
	ESC_EQ("plain /path/ text", "\"plain /path/ text\"");
	ESC_EQ("\"", "\"\\\"\"");
	ESC_EQ("\\", "\"\\\\\"");
	ESC_EQ("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	ESC_EQ("\x01\x1b\x1f\x0b", "\"\\u0001\\u001b\\u001f\\u000b\"");
	ESC_EQ("a\0b", "\"a\\u0000b\"");
	ESC_EQ("<>&", "\"<>&\"");
	ESC_EQ("\x7f", "\"\x7f\"");
	ESC_HTML_EQ("<a href=\"x\">&amp;</a>",
	    "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e\"");
	ESC_HTML_EQ("\x7f\t", "\"\x7f\\t\"");
}

static void
test_escape_utf8(void **state)
{
	/* Valid UTF-8 raw, 2-, 3- and 4-byte, and a real U+FFFD. */
	ESC_EQ("\xc3\xa9\xe2\x80\x94\xf0\x9f\x98\x80\xef\xbf\xbd",
	    "\"\xc3\xa9\xe2\x80\x94\xf0\x9f\x98\x80\xef\xbf\xbd\"");
	ESC_EQ("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF */
	/* U+2028 and U+2029 escaped in both modes. */
	ESC_EQ("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
	ESC_HTML_EQ("\xe2\x80\xa8", "\"\\u2028\"");
	ESC_EQ("\xe2\x80\xa7", "\"\xe2\x80\xa7\"");	/* U+2027: raw */
	/* Every byte of invalid UTF-8 becomes \ufffd. */
	ESC_EQ("\xff", "\"\\ufffd\"");
	ESC_EQ("a\xc3", "\"a\\ufffd\"");
	ESC_EQ("\xe2\x80" "a", "\"\\ufffd\\ufffda\"");
	ESC_EQ("\xc0\x80", "\"\\ufffd\\ufffd\"");		/* overlong */
	ESC_EQ("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");	/* overlong */
	ESC_EQ("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	ESC_EQ("\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");		/* > U+10FFFF */
	ESC_EQ("\xf8\x88\x80\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	ESC_EQ("\x80\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
}

static void
test_escape_observed(void **state)
{
	/* BEHAVIOUR.md §2.1, the description observed from the reference. */
	ESC_EQ("tab\there \"q\" back\\slash <>& \xc3\xa9 \xe2\x80\x94 "
	    "\xe2\x80\xa8 \x7f \x01",
	    "\"tab\\there \\\"q\\\" back\\\\slash <>& \xc3\xa9 \xe2\x80\x94 "
	    "\\u2028 \x7f \\u0001\"");
}

static char *
vec(const char *rel)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;
	const char	*top = getenv("top_srcdir");
	char		*p;

	p = xasprintf("%s/tests/vectors/%s", top != NULL ? top : ".", rel);
	if (read_file(p, 1 << 20, &b, &err) == -1)
		fail_msg("%s", buf_str(&err));
	free(p);
	buf_free(&err);
	return buf_release(&b);
}

/* repo.json of BEHAVIOUR.md §9.2, written member by member. */
static void
test_canonical_repo_json(void **state)
{
	struct buf	 b = BUF_INIT;
	struct jw	 w;
	char		*want = vec("repos/basic/00-init/state/repo.json");

	jw_init(&w, &b, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version"); jw_int(&w, 1);
	jw_key(&w, "repo"); jw_obj_begin(&w);
	jw_key(&w, "name"); jw_str(&w, "test-repo");
	jw_key(&w, "description"); jw_str(&w, "Test repository");
	jw_key(&w, "signing"); jw_obj_begin(&w);
	jw_key(&w, "algorithm"); jw_str(&w, "ed25519");
	jw_key(&w, "keys"); jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_key(&w, "fingerprint"); jw_str(&w, FPR);
	jw_key(&w, "url"); jw_str(&w, "/keys/" FPR ".pub");
	jw_key(&w, "status"); jw_str(&w, "active");
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_key(&w, "indexes"); jw_obj_begin(&w);
	jw_key(&w, "active"); jw_obj_begin(&w);
	jw_key(&w, "url"); jw_str(&w, "/index/active.json");
	jw_key(&w, "signature_url"); jw_str(&w, "/index/active.json.sig");
	jw_obj_end(&w);
	jw_key(&w, "archive"); jw_obj_begin(&w);
	jw_key(&w, "url"); jw_str(&w, "/index/archive.json");
	jw_key(&w, "signature_url"); jw_str(&w, "/index/archive.json.sig");
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
	assert_string_equal(buf_str(&b), want);
	free(want);

	/* index/active.json: an empty list is "[]". */
	want = vec("repos/basic/00-init/state/index/active.json");
	buf_reset(&b);
	jw_init(&w, &b, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version"); jw_int(&w, 1);
	jw_key(&w, "repo"); jw_str(&w, "test-repo");
	jw_key(&w, "kind"); jw_str(&w, "active");
	jw_key(&w, "index_version"); jw_uint(&w, 1);
	jw_key(&w, "generated_at"); jw_str(&w, "2026-05-01T00:00:00Z");
	jw_key(&w, "packages"); jw_arr_begin(&w); jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
	assert_string_equal(buf_str(&b), want);
	free(want);
	buf_free(&b);
}

static void
test_canonical_scalars(void **state)
{
	struct buf	 b = BUF_INIT;
	struct jw	 w;

	jw_init(&w, &b, 0);
	jw_arr_begin(&w);
	jw_int(&w, 0);
	jw_int(&w, -1);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_uint(&w, UINT64_MAX);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_null(&w);
	jw_strn(&w, "ab\0c", 4);
	jw_obj_begin(&w); jw_obj_end(&w);
	jw_arr_begin(&w); jw_arr_begin(&w); jw_arr_end(&w); jw_arr_end(&w);
	jw_obj_begin(&w);
	jw_key(&w, "k\"<"); jw_str(&w, "<&>");
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_end(&w);
	assert_string_equal(buf_str(&b), "[0,-1,-9223372036854775808,"
	    "9223372036854775807,18446744073709551615,true,false,null,"
	    "\"ab\\u0000c\",{},[[]],{\"k\\\"<\":\"<&>\"}]\n");

	/* A scalar top-level value. */
	buf_reset(&b);
	jw_init(&w, &b, 0);
	jw_str(&w, "x");
	jw_end(&w);
	assert_string_equal(buf_str(&b), "\"x\"\n");
	buf_free(&b);
}

/* The /status example of BEHAVIOUR.md §5.16, byte for byte. */
static void
test_pretty_status(void **state)
{
	struct buf	 b = BUF_INIT;
	struct jw	 w;

	jw_init(&w, &b, JW_PRETTY | JW_HTML);
	jw_obj_begin(&w);
	jw_key(&w, "farm_id"); jw_str(&w, "peios-build-1");
	jw_key(&w, "recipes"); jw_arr_begin(&w);
	jw_str(&w, "figlet");
	jw_str(&w, "hello");
	jw_arr_end(&w);
	jw_key(&w, "builds_attempted"); jw_int(&w, 3);
	jw_key(&w, "builds_succeeded"); jw_int(&w, 2);
	jw_key(&w, "failures"); jw_obj_begin(&w);
	jw_key(&w, "figlet@2.2.5-1"); jw_obj_begin(&w);
	jw_key(&w, "failures"); jw_int(&w, 1);
	jw_key(&w, "next_retry"); jw_str(&w, "2026-05-07T14:33:11.513829113Z");
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
	assert_string_equal(buf_str(&b),
	    "{\n"
	    "  \"farm_id\": \"peios-build-1\",\n"
	    "  \"recipes\": [\n"
	    "    \"figlet\",\n"
	    "    \"hello\"\n"
	    "  ],\n"
	    "  \"builds_attempted\": 3,\n"
	    "  \"builds_succeeded\": 2,\n"
	    "  \"failures\": {\n"
	    "    \"figlet@2.2.5-1\": {\n"
	    "      \"failures\": 1,\n"
	    "      \"next_retry\": \"2026-05-07T14:33:11.513829113Z\"\n"
	    "    }\n"
	    "  }\n"
	    "}\n");
	buf_free(&b);
}

static void
test_pretty_empty_and_html(void **state)
{
	struct buf	 b = BUF_INIT;
	struct jw	 w;

	jw_init(&w, &b, JW_PRETTY | JW_HTML);
	jw_obj_begin(&w);
	jw_key(&w, "farm_id"); jw_str(&w, "a<b>&c");
	jw_key(&w, "recipes"); jw_arr_begin(&w); jw_arr_end(&w);
	jw_key(&w, "o"); jw_obj_begin(&w); jw_obj_end(&w);
	jw_key(&w, "n"); jw_arr_begin(&w);
	jw_arr_begin(&w); jw_arr_end(&w);
	jw_obj_begin(&w); jw_key(&w, "x"); jw_null(&w); jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
	assert_string_equal(buf_str(&b),
	    "{\n"
	    "  \"farm_id\": \"a\\u003cb\\u003e\\u0026c\",\n"
	    "  \"recipes\": [],\n"
	    "  \"o\": {},\n"
	    "  \"n\": [\n"
	    "    [],\n"
	    "    {\n"
	    "      \"x\": null\n"
	    "    }\n"
	    "  ]\n"
	    "}\n");
	buf_reset(&b);
	jw_init(&w, &b, JW_PRETTY);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_end(&w);
	assert_string_equal(buf_str(&b), "{}\n");
	buf_free(&b);
}

/* Writer misuse is a programming error: the process exits with 1. */
static void
expect_fatal(int which)
{
	struct buf	 b = BUF_INIT;
	struct jw	 w;
	pid_t		 pid;
	int		 st, i;

	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		close(STDERR_FILENO);
		jw_init(&w, &b, 0);
		switch (which) {
		case 0:		/* value without a key in an object */
			jw_obj_begin(&w);
			jw_int(&w, 1);
			break;
		case 1:		/* key in an array */
			jw_arr_begin(&w);
			jw_key(&w, "k");
			break;
		case 2:		/* unbalanced */
			jw_arr_begin(&w);
			jw_obj_end(&w);
			break;
		case 3:		/* incomplete document */
			jw_obj_begin(&w);
			jw_end(&w);
			break;
		case 4:		/* second top-level value */
			jw_int(&w, 1);
			jw_int(&w, 2);
			break;
		case 5:		/* too deep */
			for (i = 0; i <= JW_MAX_DEPTH; i++)
				jw_arr_begin(&w);
			break;
		case 6:		/* key without a value */
			jw_obj_begin(&w);
			jw_key(&w, "k");
			jw_obj_end(&w);
			break;
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
}

static void
test_writer_misuse(void **state)
{
	int	 i;

	for (i = 0; i <= 6; i++)
		expect_fatal(i);
}

/* Parse must fail and the message must contain `msg`. */
static void
parse_fails(const char *s, size_t n, const char *msg)
{
	struct buf	 err = BUF_INIT;
	yajl_val	 v;

	v = json_parse(s, n, &err);
	if (v != NULL)
		fail_msg("parsed: %.*s", (int)n, s);
	if (strstr(buf_str(&err), msg) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", buf_str(&err), msg);
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
}

#define PARSE_FAILS(lit, msg)	parse_fails((lit), sizeof(lit) - 1, (msg))

static void
test_parse_rejects(void **state)
{
	struct buf	 deep = BUF_INIT;
	char		*big;
	int		 i;

	PARSE_FAILS("{\"a\":1} x", "trailing garbage");
	PARSE_FAILS("{\"a\":1} {}", "trailing garbage");
	PARSE_FAILS("", "premature EOF");
	PARSE_FAILS("{\"a\":1", "premature EOF");
	PARSE_FAILS("{\"a\":1}\0", "NUL byte at offset 7");
	PARSE_FAILS("{\"a\":1}\v", "invalid character 0x0b at offset 7");
	PARSE_FAILS("\f{\"a\":1}", "invalid character 0x0c at offset 0");
	PARSE_FAILS("{\"a\":\"x\\u0000y\"}", "\\u0000 escape at offset 7");
	PARSE_FAILS("{\"a\":\"\\ud800\"}", "unpaired surrogate escape");
	PARSE_FAILS("{\"a\":\"\\udc00\"}", "unpaired surrogate escape");
	PARSE_FAILS("{\"a\":\"\\ud800\\u0041\"}", "unpaired surrogate escape");
	PARSE_FAILS("{\"a\":\"\xff\"}", "invalid bytes in UTF8 string");
	PARSE_FAILS("{\"a\":\"x\ty\"}", "invalid char");
	PARSE_FAILS("{'a':1}", "invalid char");
	for (i = 0; i < JSON_MAX_DEPTH + 1; i++)
		buf_addc(&deep, '[');
	parse_fails(deep.data, deep.len, "nesting deeper than 64 levels");
	big = xcalloc(1, (size_t)JSON_MAX_INPUT + 1);
	parse_fails(big, (size_t)JSON_MAX_INPUT + 1,
	    "JSON document larger than 67108864 bytes");
	free(big);
	buf_free(&deep);
}

static void
test_parse_accepts(void **state)
{
	struct buf	 deep = BUF_INIT, err = BUF_INIT;
	yajl_val	 v, a;
	const char	*s;
	int		 i;

	/* 64 levels is the limit; escaped quotes and brackets in strings. */
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		buf_addc(&deep, '[');
	buf_adds(&deep, "\"[\\\"{\\\\\"");
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		buf_addc(&deep, ']');
	v = json_parse(deep.data, deep.len, &err);
	assert_non_null(v);
	yajl_tree_free(v);

	s = " {\"s\":\"\\ud83d\\ude00\\u00e9\\\\u0000\",\"A\":[1,2]}\n\t ";
	v = json_parse(s, strlen(s), &err);
	assert_non_null(v);
	assert_string_equal(buf_str(&err), "");
	assert_string_equal(json_get(v, "s")->u.string,
	    "\xf0\x9f\x98\x80\xc3\xa9\\u0000");
	assert_null(json_get(v, "a"));	/* exact case */
	assert_int_equal(json_get_array(v, "A", "doc", &a, &err), 0);
	assert_int_equal(a->u.array.len, 2);
	assert_null(json_get(a, "A"));	/* not an object */
	yajl_tree_free(v);
	buf_free(&deep);
	buf_free(&err);
}

static void
test_only_members(void **state)
{
	static const char *const allowed[] = { "a", "b", NULL };
	struct buf	 err = BUF_INIT;
	yajl_val	 v;
	const char	*s;

	s = "{\"b\":1,\"a\":2}";
	v = json_parse(s, strlen(s), &err);
	assert_int_equal(json_only_members(v, allowed, "doc", &err), 0);
	yajl_tree_free(v);

	s = "{\"a\":1,\"x\":2,\"b\":3,\"y\\n\":4}";
	v = json_parse(s, strlen(s), &err);
	assert_int_equal(json_only_members(v, allowed, "doc", &err), -1);
	assert_string_equal(buf_str(&err),
	    "doc: unknown members \"x\", \"y\\n\"");
	yajl_tree_free(v);
	buf_reset(&err);

	s = "{\"a\":1,\"c\":2}";
	v = json_parse(s, strlen(s), &err);
	assert_int_equal(json_only_members(v, allowed, "doc", &err), -1);
	assert_string_equal(buf_str(&err), "doc: unknown member \"c\"");
	yajl_tree_free(v);
	buf_reset(&err);

	s = "{\"a\":1,\"b\":2,\"a\":3}";
	v = json_parse(s, strlen(s), &err);
	assert_int_equal(json_only_members(v, allowed, "doc", &err), -1);
	assert_string_equal(buf_str(&err), "doc: duplicate member \"a\"");
	yajl_tree_free(v);
	buf_reset(&err);

	s = "[1]";
	v = json_parse(s, strlen(s), &err);
	assert_int_equal(json_only_members(v, allowed, "doc", &err), -1);
	assert_string_equal(buf_str(&err), "doc: not a JSON object");
	yajl_tree_free(v);
	buf_free(&err);
}

static void
test_getters(void **state)
{
	struct buf	 err = BUF_INIT;
	yajl_val	 v, o;
	const char	*s, *str;
	int64_t		 i;
	uint64_t	 u;
	int		 b;

	s = "{\"i\":-7,\"u\":9223372036854775807,\"f\":1.0,\"e\":1e2,"
	    "\"q\":\"1\",\"big\":9223372036854775808,\"t\":true,"
	    "\"fa\":false,\"n\":null,\"s\":\"str\",\"o\":{}}";
	v = json_parse(s, strlen(s), &err);
	assert_non_null(v);
	assert_int_equal(json_get_int64(v, "i", "d", &i, &err), 0);
	assert_int_equal(i, -7);
	assert_int_equal(json_get_uint(v, "u", "d", &u, &err), 0);
	assert_true(u == INT64_MAX);
	assert_int_equal(json_get_bool(v, "t", "d", &b, &err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_get_bool(v, "fa", "d", &b, &err), 0);
	assert_int_equal(b, 0);
	assert_int_equal(json_get_str(v, "s", "d", &str, &err), 0);
	assert_string_equal(str, "str");
	assert_int_equal(json_get_object(v, "o", "d", &o, &err), 0);
	assert_string_equal(buf_str(&err), "");

	assert_int_equal(json_get_int64(v, "f", "d", &i, &err), -1);
	assert_int_equal(json_get_int64(v, "e", "d", &i, &err), -1);
	assert_int_equal(json_get_int64(v, "q", "d", &i, &err), -1);
	assert_int_equal(json_get_int64(v, "big", "d", &i, &err), -1);
	assert_int_equal(json_get_uint(v, "i", "d", &u, &err), -1);
	assert_int_equal(json_get_bool(v, "n", "d", &b, &err), -1);
	assert_int_equal(json_get_str(v, "i", "d", &str, &err), -1);
	assert_int_equal(json_get_array(v, "o", "d", &o, &err), -1);
	assert_int_equal(json_get_object(v, "missing", "d", &o, &err), -1);
	assert_string_equal(buf_str(&err),
	    "d: member \"f\" must be an integer\n"
	    "d: member \"e\" must be an integer\n"
	    "d: member \"q\" must be an integer\n"
	    "d: member \"big\" must be an integer\n"
	    "d: member \"i\" must be a non-negative integer\n"
	    "d: member \"n\" must be a boolean\n"
	    "d: member \"i\" must be a string\n"
	    "d: member \"o\" must be an array\n"
	    "d: member \"missing\" is missing");
	buf_reset(&err);
	assert_int_equal(json_get_str(json_get(v, "i"), "x", "d", &str, &err),
	    -1);
	assert_string_equal(buf_str(&err), "d: not a JSON object");
	yajl_tree_free(v);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_ascii),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_observed),
		cmocka_unit_test(test_canonical_repo_json),
		cmocka_unit_test(test_canonical_scalars),
		cmocka_unit_test(test_pretty_status),
		cmocka_unit_test(test_pretty_empty_and_html),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_only_members),
		cmocka_unit_test(test_getters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
