/*
 * test_duration.c: Go duration syntax, every error message, overflow
 * edges and the Go text form.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"

#define S	INT64_C(1000000000)

static void
ok(const char *s, int64_t want)
{
	struct buf	 err = BUF_INIT;
	int64_t		 got = -12345;

	if (duration_parse(s, &got, &err) != 0)
		fail_msg("\"%s\": unexpected error %s", s, buf_str(&err));
	if (got != want)
		fail_msg("\"%s\": got %lld want %lld", s, (long long)got,
		    (long long)want);
	buf_free(&err);
}

static void
bad(const char *s, const char *msg)
{
	struct buf	 err = BUF_INIT;
	int64_t		 got = 7;

	assert_int_equal(duration_parse(s, &got, &err), -1);
	assert_int_equal(got, 7);
	assert_string_equal(buf_str(&err), msg);
	buf_free(&err);
}

static void
test_valid(void **state)
{
	ok("0", 0);
	ok("+0", 0);
	ok("-0", 0);
	ok("0s", 0);
	ok("1h", 3600 * S);
	ok("90m", 5400 * S);
	ok("1h30m", 5400 * S);
	ok("5400s", 5400 * S);
	ok("1m0.5s", 60 * S + S / 2);
	ok("1.5h", 5400 * S);
	ok(".5h", 1800 * S);
	ok("1.h", 3600 * S);
	ok("1ns", 1);
	ok("1us", 1000);
	ok("1\xc2\xb5s", 1000);		/* U+00B5 micro sign */
	ok("1\xce\xbcs", 1000);		/* U+03BC Greek mu */
	ok("3ms", 3000000);
	ok("-1m", -60 * S);
	ok("+5s", 5 * S);
	ok("1h1h", 7200 * S);		/* repeated units add up */
	ok("0.000000001s", 1);
	ok("1.0000000001s", S);		/* below 1ns: dropped */
	ok("1.00000000000000000000000000001s", S);	/* long fraction */
	ok("2562047h47m16.854775807s", INT64_MAX);
	ok("-2562047h47m16.854775808s", INT64_MIN);
	ok("9223372036854775807ns", INT64_MAX);
}

static void
test_errors(void **state)
{
	bad("", "invalid duration \"\": empty");
	bad("-", "invalid duration \"-\": empty");
	bad("60", "invalid duration \"60\": missing unit");
	bad("1..5s", "invalid duration \"1..5s\": missing unit");
	bad("1d", "invalid duration \"1d\": unknown unit \"d\" "
	    "(want ns, us, ms, s, m or h)");
	bad("1H", "invalid duration \"1H\": unknown unit \"H\" "
	    "(want ns, us, ms, s, m or h)");
	bad("1h ", "invalid duration \"1h \": unknown unit \"h \" "
	    "(want ns, us, ms, s, m or h)");
	bad("1e3s", "invalid duration \"1e3s\": unknown unit \"e\" "
	    "(want ns, us, ms, s, m or h)");
	bad("h", "invalid duration \"h\": expected a number followed by a "
	    "unit (ns, us, ms, s, m, h)");
	bad("--1s", "invalid duration \"--1s\": expected a number followed "
	    "by a unit (ns, us, ms, s, m, h)");
	bad(" 1s", "invalid duration \" 1s\": expected a number followed "
	    "by a unit (ns, us, ms, s, m, h)");
	bad(".s", "invalid duration \".s\": expected digits around the '.'");
	bad(".", "invalid duration \".\": expected digits around the '.'");
	bad("2562047h47m16.854775808s",
	    "invalid duration \"2562047h47m16.854775808s\": out of range");
	bad("9223372036854775808ns",
	    "invalid duration \"9223372036854775808ns\": out of range");
	bad("99999999999999999999h",
	    "invalid duration \"99999999999999999999h\": out of range");
	bad("2562048h", "invalid duration \"2562048h\": out of range");
	bad("1.5s\n", "invalid duration \"1.5s\\n\": unknown unit \"s\\n\" "
	    "(want ns, us, ms, s, m or h)");
	bad("\"1s", "invalid duration \"\\\"1s\": expected a number followed "
	    "by a unit (ns, us, ms, s, m, h)");
}

static void
fmt_is(int64_t d, const char *want)
{
	char	 out[DURATION_FMT_MAX];

	duration_format(d, out);
	assert_string_equal(out, want);
	assert_string_equal(duration_str(d), want);
}

static void
test_format(void **state)
{
	fmt_is(0, "0s");
	fmt_is(1, "1ns");
	fmt_is(999, "999ns");
	fmt_is(1000, "1\xc2\xb5s");
	fmt_is(1100, "1.1\xc2\xb5s");
	fmt_is(2200000, "2.2ms");
	fmt_is(999999999, "999.999999ms");
	fmt_is(S, "1s");
	fmt_is(S + S / 2, "1.5s");
	fmt_is(59 * S, "59s");
	fmt_is(60 * S, "1m0s");
	fmt_is(300 * S, "5m0s");
	fmt_is(900 * S, "15m0s");
	fmt_is(3600 * S, "1h0m0s");
	fmt_is(6 * 3600 * S, "6h0m0s");
	fmt_is(24 * 3600 * S, "24h0m0s");
	fmt_is(5400 * S + S / 2, "1h30m0.5s");
	fmt_is(-60 * S, "-1m0s");
	fmt_is(-1, "-1ns");
	fmt_is(INT64_MAX, "2562047h47m16.854775807s");
	fmt_is(INT64_MIN, "-2562047h47m16.854775808s");
}

static void
test_round_trip(void **state)
{
	static const int64_t v[] = {
		1, 999, 1000, 1001, 123456789, S, 61 * S, 3601 * S + 1,
		INT64_MAX, INT64_MIN, -S / 3, 86400 * S * 365
	};
	char	 out[DURATION_FMT_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		duration_format(v[i], out);
		ok(out, v[i]);
	}
}

/* The ring of duration_str() keeps 8 results alive at once. */
static void
test_ring(void **state)
{
	const char	*a = duration_str(60 * S), *b = duration_str(S);

	assert_string_equal(a, "1m0s");
	assert_string_equal(b, "1s");
	assert_ptr_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
