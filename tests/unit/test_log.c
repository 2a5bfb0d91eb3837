/*
 * test_log.c: logfmt line shape and value escaping.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"

static char *
enc(const char *v)
{
	struct buf	 b = BUF_INIT;

	logfmt_value(&b, v);
	return buf_release(&b);
}

#define ENC_EQ(in, out) do {			\
	char *s_ = enc(in);			\
	assert_string_equal(s_, out);		\
	free(s_);				\
} while (0)

static void
test_bare(void **state)
{
	ENC_EQ("libz", "libz");
	ENC_EQ("1.2.3-1", "1.2.3-1");
	ENC_EQ("a\\b", "a\\b");
	ENC_EQ("caf\xc3\xa9", "caf\xc3\xa9");
	ENC_EQ("https://x/y?z", "https://x/y?z");
}

static void
test_quoted(void **state)
{
	ENC_EQ("", "\"\"");
	ENC_EQ("poll complete", "\"poll complete\"");
	ENC_EQ("a=b", "\"a=b\"");
	ENC_EQ("say \"hi\"", "\"say \\\"hi\\\"\"");
	ENC_EQ("a\nb", "\"a\\nb\"");
	ENC_EQ("a\tb\\", "\"a\\tb\\\\\"");
	ENC_EQ("x\x01", "\"x\\x01\"");
	ENC_EQ("x\x7f", "\"x\\x7f\"");
	ENC_EQ("bad\xff", "\"bad\\xff\"");
	ENC_EQ("nb\xc2\xa0sp", "\"nb\\u00a0sp\"");
	ENC_EQ("ls\xe2\x80\xa8", "\"ls\\u2028\"");
	/* A forged second event cannot appear on its own line. */
	ENC_EQ("x\ntime=1 level=error", "\"x\\ntime=1 level=error\"");
}

static void
test_line(void **state)
{
	struct buf	 b = BUF_INIT;
	struct lkv	 kv[] = {
		LKV_S("recipe", "libz"), LKV_I("tags_seen", 12),
		LKV_I("matches_emitted", 3), LKV_END
	};

	/* 2026-05-07T14:32:11Z */
	logfmt_line(&b, 1778164331, LL_INFO, "poll complete", kv, NULL);
	assert_string_equal(buf_str(&b), "time=2026-05-07T14:32:11Z "
	    "level=info msg=\"poll complete\" recipe=libz tags_seen=12 "
	    "matches_emitted=3");
	buf_reset(&b);
	logfmt_line(&b, 0, LL_ERROR, "build failed", NULL, "http");
	assert_string_equal(buf_str(&b), "time=1970-01-01T00:00:00Z "
	    "level=error msg=\"build failed\" role=http");
	buf_free(&b);
}

static void
test_levels(void **state)
{
	enum log_level	 l;

	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LL_DEBUG);
	assert_int_equal(log_parse_level("warn", &l), 0);
	assert_int_equal(l, LL_WARN);
	assert_int_equal(log_parse_level("error", &l), 0);
	assert_int_equal(l, LL_ERROR);
	assert_int_equal(log_parse_level("WARN", &l), -1);
	assert_int_equal(log_parse_level("verbose", &l), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
