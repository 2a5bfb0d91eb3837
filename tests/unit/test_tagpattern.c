/*
 * test_tagpattern.c: tag_pattern validation (both styles, every error
 * text, the RE2 subset), matching, version composition, min_version and
 * hostile tags.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "tagpattern.h"

static struct tagpattern *
compile_ok(const char *p)
{
	struct buf		 err = BUF_INIT;
	struct tagpattern	*tp;

	if ((tp = tagpattern_compile(p, &err)) == NULL)
		fail_msg("%s: %s", p, buf_str(&err));
	buf_free(&err);
	return tp;
}

static void
compile_bad(const char *p, const char *msg)
{
	struct buf	 err = BUF_INIT;

	assert_null(tagpattern_compile(p, &err));
	assert_string_equal(buf_str(&err), msg);
	buf_free(&err);
}

/* The RE2-subset refusals: "invalid tag_pattern <p>: <what> ... at offset". */
static void
compile_unsupported(const char *p, const char *what)
{
	struct buf	 err = BUF_INIT;

	if (tagpattern_compile(p, &err) != NULL)
		fail_msg("%s: accepted", p);
	if (strstr(buf_str(&err), what) == NULL ||
	    !str_has_prefix(buf_str(&err), "invalid tag_pattern "))
		fail_msg("%s: got \"%s\", want \"%s\"", p, buf_str(&err), what);
	buf_free(&err);
}

/* Evaluate one tag; check result, upstream and version. */
static void
eval_is(struct tagpattern *tp, const char *tag, const char *min, int64_t rev,
    enum tag_result want, const char *up, const char *ver)
{
	struct buf	 err = BUF_INIT;
	struct tag_match m;
	enum tag_result	 r;

	r = tagpattern_eval(tp, tag, strlen(tag), min, rev, &m, &err);
	if (r != want)
		fail_msg("%s on %s: result %d want %d (%s)",
		    tagpattern_source(tp), tag, r, want, buf_str(&err));
	if (up != NULL)
		assert_string_equal(m.upstream, up);
	else
		assert_null(m.upstream);
	if (ver != NULL)
		assert_string_equal(m.version, ver);
	else
		assert_null(m.version);
	if (want != TAG_REFUSED)
		assert_int_equal(err.len, 0);
	tag_match_free(&m);
	buf_free(&err);
}

static void
refused(struct tagpattern *tp, const char *tag, size_t len, const char *msg)
{
	struct buf	 err = BUF_INIT;
	struct tag_match m;

	assert_int_equal(tagpattern_eval(tp, tag, len, NULL, 1, &m, &err),
	    TAG_REFUSED);
	assert_null(m.upstream);
	assert_null(m.version);
	if (!str_has_prefix(buf_str(&err), msg))
		fail_msg("got \"%s\", want prefix \"%s\"", buf_str(&err), msg);
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
}

static void
test_named(void **state)
{
	struct tagpattern	*tp;

	tp = compile_ok("^(?P<major>\\d+)_(?P<minor>\\d+)_(?P<patch>\\d+)$");
	assert_true(tagpattern_named(tp));
	eval_is(tp, "1_31_0", NULL, 1, TAG_MATCH, "1.31.0", "1.31.0-1");
	eval_is(tp, "1_31", NULL, 1, TAG_NOMATCH, NULL, NULL);
	eval_is(tp, "x1_31_0", NULL, 1, TAG_NOMATCH, NULL, NULL);
	tagpattern_free(tp);

	tp = compile_ok("^v(?P<major>\\d+)\\.(?P<minor>\\d+)\\.(?P<patch>\\d+)"
	    "(?:-(?P<prerelease>[a-z]+\\d+))?$");
	eval_is(tp, "v0.20.0-alpha1", NULL, 1, TAG_MATCH, "0.20.0-alpha1",
	    "0.20.0-alpha1-1");
	eval_is(tp, "v0.20.0", NULL, 3, TAG_MATCH, "0.20.0", "0.20.0-3");
	tagpattern_free(tp);

	/* (?<name>) syntax; no patch group at all. */
	tp = compile_ok("^r(?<major>[0-9]+)-(?<minor>[0-9]+)$");
	eval_is(tp, "r2-7", NULL, 1, TAG_MATCH, "2.7", "2.7-1");
	tagpattern_free(tp);
}

static void
test_unnamed(void **state)
{
	struct tagpattern	*tp;

	tp = compile_ok("^v([0-9]+\\.[0-9]+\\.[0-9]+(?:-[a-z]+[0-9]+)?)$");
	assert_false(tagpattern_named(tp));
	assert_string_equal(tagpattern_source(tp),
	    "^v([0-9]+\\.[0-9]+\\.[0-9]+(?:-[a-z]+[0-9]+)?)$");
	eval_is(tp, "v0.21.0-rc1", NULL, 4, TAG_MATCH, "0.21.0-rc1",
	    "0.21.0-rc1-4");
	eval_is(tp, "v0.21.0", NULL, 1, TAG_MATCH, "0.21.0", "0.21.0-1");
	eval_is(tp, "v0.21.0-rc1^{}", NULL, 1, TAG_NOMATCH, NULL, NULL);
	eval_is(tp, "0.21.0", NULL, 1, TAG_NOMATCH, NULL, NULL);
	tagpattern_free(tp);

	/* More groups: group 1 is the version. */
	tp = compile_ok("^release-(\\d+\\.\\d+)-(\\w+)$");
	eval_is(tp, "release-1.2-final", NULL, 1, TAG_MATCH, "1.2", "1.2-1");
	tagpattern_free(tp);

	/* Unanchored: found anywhere, leftmost-first. */
	tp = compile_ok("(\\d+|\\d+\\.\\d+)");
	eval_is(tp, "ver-1.5", NULL, 1, TAG_MATCH, "1", "1-1");
	tagpattern_free(tp);
	tp = compile_ok("v(\\d+\\.\\d+)");
	eval_is(tp, "xv1.22y", NULL, 1, TAG_MATCH, "1.22", "1.22-1");
	tagpattern_free(tp);

	/* Lazy quantifier. */
	tp = compile_ok("^v(.+?)(?:-final)?$");
	eval_is(tp, "v1.0-final", NULL, 1, TAG_MATCH, "1.0", "1.0-1");
	tagpattern_free(tp);

	/* Captures with '-' and '.' compose as upstream-revision. */
	tp = compile_ok("^(\\d.*)$");
	eval_is(tp, "1.0.0-rc.1", NULL, 2, TAG_MATCH, "1.0.0-rc.1",
	    "1.0.0-rc.1-2");
	tagpattern_free(tp);
}

static void
test_errors(void **state)
{
	compile_bad("^v1$", "tag_pattern \"^v1$\" must have at least one "
	    "capture group (the version string)");
	compile_bad("^v(?:\\d+)$", "tag_pattern \"^v(?:\\\\d+)$\" must have at "
	    "least one capture group (the version string)");
	compile_bad("(?P<major>\\d+)\\.(?P<bogus>\\d+)", "tag_pattern uses "
	    "unknown named group \"bogus\" (allowed: major, minor, patch, "
	    "prerelease)");
	compile_bad("(?P<major>\\d+)\\.(?P<minor>\\d+)\\.(?P<major>\\d+)",
	    "tag_pattern repeats named group \"major\"");
	compile_bad("(?P<major>\\d+)\\.(\\d+)", "tag_pattern mixes named and "
	    "unnamed capture groups \xe2\x80\x94 use one style");
	compile_bad("(?P<major>\\d+)\\.(?P<patch>\\d+)", "tag_pattern with "
	    "named groups requires both 'major' and 'minor' (got [major "
	    "patch])");
	compile_bad("(?P<prerelease>x)(?P<minor>\\d+)", "tag_pattern with "
	    "named groups requires both 'major' and 'minor' (got [minor "
	    "prerelease])");
	compile_bad("(", "invalid tag_pattern \"(\": missing closing "
	    "parenthesis at offset 1");
	compile_bad("v(\\d+", "invalid tag_pattern \"v(\\\\d+\": missing "
	    "closing parenthesis at offset 5");
	compile_bad("[z-a](x)", "invalid tag_pattern \"[z-a](x)\": range out "
	    "of order in character class at offset 3");
}

static void
test_long_pattern(void **state)
{
	char		 p[TAGPATTERN_MAX_PATTERN + 2];
	struct buf	 err = BUF_INIT;

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '(';
	p[sizeof(p) - 2] = ')';
	p[sizeof(p) - 1] = '\0';
	assert_null(tagpattern_compile(p, &err));
	assert_non_null(strstr(buf_str(&err), ": longer than 1024 bytes"));
	buf_free(&err);
}

static void
test_re2_subset(void **state)
{
	struct tagpattern	*tp;
	static const char *const good[] = {
		"(?i)^v(\\d+)$", "(?i:V)(\\d+)", "(?-i:v)(\\d+)",
		"^([[:digit:]]+)$", "(\\pN+)", "(\\p{Greek}+)", "\\Qa.b\\E(\\d)",
		"(\\d{1,3})", "(a{2,})", "\\x41(\\d)", "\\x{41}(\\d)",
		"([\\d.]+)", "(?U)(\\d+)", "(\\d+)\\z", "\\A(\\d)",
		"\\b(\\d)\\b", "(\\d)*?", "a{,5}(\\d)", "(a+)+", "([^]x])",
		"(\\.\\-\\+)", "(\\t\\n\\r\\f\\a)", "([\\w\\s\\S\\W\\D])",
		"(?s:(.))", "(?m)^(\\d)$", "(a{1000})",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tp = compile_ok(good[i]);
		tagpattern_free(tp);
	}
	compile_unsupported("(a)\\1", "a backreference is not supported "
	    "(RE2 syntax) at offset 3");
	compile_unsupported("(?P<major>a)(?P<minor>b)(?P=major)",
	    "a named backreference or recursion");
	compile_unsupported("(?P<major>a)(?P<minor>b)\\k<major>",
	    "this escape is not supported");
	compile_unsupported("(a)\\g1", "this escape is not supported");
	compile_unsupported("(?=v)(\\d)", "a lookahead assertion");
	compile_unsupported("(?!v)(\\d)", "a lookahead assertion");
	compile_unsupported("(?<=v)(\\d)", "a lookbehind assertion");
	compile_unsupported("(?<!v)(\\d)", "a lookbehind assertion");
	compile_unsupported("(?>a)(b)", "an atomic group");
	compile_unsupported("(\\d++)", "a possessive or nested quantifier");
	compile_unsupported("(a*+)", "a possessive or nested quantifier");
	compile_unsupported("(a?+)", "a possessive or nested quantifier");
	compile_unsupported("(a{2}+)", "a possessive or nested quantifier");
	compile_unsupported("(a(?R)?)", "this group syntax");
	compile_unsupported("(a)(?1)", "this group syntax");
	compile_unsupported("(?|(a)|(b))", "this group syntax");
	compile_unsupported("(?#c)(a)", "this group syntax");
	compile_unsupported("(?x)(a)", "this group syntax");
	compile_unsupported("(?(1)a|b)(c)", "this group syntax");
	compile_unsupported("(*ACCEPT)(a)", "a backtracking verb");
	compile_unsupported("(a)\\K", "this escape");
	compile_unsupported("(a)\\G", "this escape");
	compile_unsupported("(a)\\Z", "this escape");
	compile_unsupported("(a)\\R", "this escape");
	compile_unsupported("(a)\\X", "this escape");
	compile_unsupported("(a)\\v", "this escape");
	compile_unsupported("(a)\\h", "this escape");
	compile_unsupported("(a)\\N", "this escape");
	compile_unsupported("(a)\\e", "this escape");
	compile_unsupported("(a)\\cA", "this escape");
	compile_unsupported("([\\b])", "this escape");
	compile_unsupported("(a{1001})", "a repetition count above 1000");
	compile_unsupported("(a{1,1001})", "a repetition count above 1000");
	/* \C is refused by PCRE2 itself (PCRE2_NEVER_BACKSLASH_C). */
	compile_unsupported("(a\\C)", "invalid tag_pattern \"(a\\\\C)\": ");
}

static void
test_ascii_classes(void **state)
{
	struct tagpattern	*tp;
	struct buf		 err = BUF_INIT;
	char			*cap = NULL;

	tp = compile_ok("^v(\\d+)$");
	/* U+0661 U+0662: Arabic-Indic digits are not \d. */
	eval_is(tp, "v\xd9\xa1\xd9\xa2", NULL, 1, TAG_NOMATCH, NULL, NULL);
	/* $ matches only at the very end, not before a final newline. */
	eval_is(tp, "v1\n", NULL, 1, TAG_NOMATCH, NULL, NULL);
	tagpattern_free(tp);

	/* "." is one code point. */
	tp = compile_ok("^v(.)$");
	assert_int_equal(tagpattern_capture(tp, "v\xc3\xa9", 3, &cap, &err), 1);
	assert_string_equal(cap, "\xc3\xa9");
	free(cap);
	/* Invalid UTF-8 is matched safely (never by "."). */
	assert_int_equal(tagpattern_capture(tp, "v\xff", 2, &cap, &err), 0);
	assert_null(cap);
	assert_int_equal(err.len, 0);
	tagpattern_free(tp);
	buf_free(&err);
}

static void
test_min_version(void **state)
{
	struct tagpattern	*tp;

	tp = compile_ok("^(?P<major>[0-9]+)_(?P<minor>[0-9]+)_"
	    "(?P<patch>[0-9]+)$");
	eval_is(tp, "1_36_1", "1.37.0", 1, TAG_BELOW_MIN, "1.36.1", NULL);
	eval_is(tp, "1_37_0", "1.37.0", 1, TAG_MATCH, "1.37.0", "1.37.0-1");
	eval_is(tp, "1_40_0", "1.37.0", 1, TAG_MATCH, "1.40.0", "1.40.0-1");
	eval_is(tp, "0_99_99", "", 1, TAG_MATCH, "0.99.99", "0.99.99-1");
	tagpattern_free(tp);

	tp = compile_ok("^v([0-9]+\\.[0-9]+(?:\\.[0-9]+)*)$");
	eval_is(tp, "v2.11", "2.12", 1, TAG_BELOW_MIN, "2.11", NULL);
	eval_is(tp, "v2.9", "2.12", 1, TAG_BELOW_MIN, "2.9", NULL);
	eval_is(tp, "v2.12", "2.12", 1, TAG_MATCH, "2.12", "2.12-1");
	eval_is(tp, "v2.12.1", "2.12", 1, TAG_MATCH, "2.12.1", "2.12.1-1");
	eval_is(tp, "v10.0", "2.12", 1, TAG_MATCH, "10.0", "10.0-1");
	tagpattern_free(tp);
}

static void
test_hostile(void **state)
{
	struct tagpattern	*tp;
	char			 big[2001];
	struct buf		 err = BUF_INIT;
	struct tag_match	 m;
	enum tag_result		 r;
	time_t			 t0;

	tp = compile_ok("^v(.*)$");
	refused(tp, "v1/../../x", 10, "tag \"v1/../../x\": captured version "
	    "\"1/../../x\" is not a valid upstream version: ");
	refused(tp, "v1.0\x01", 5, "tag \"v1.0\\x01\": captured version "
	    "\"1.0\\x01\" is not a valid upstream version: ");
	refused(tp, "v..", 3, "tag \"v..\": captured version \"..\" is not "
	    "a valid upstream version: ");
	refused(tp, "v1 2", 4, "tag \"v1 2\": captured version \"1 2\"");
	refused(tp, "v1\0x", 4, "tag \"v1\\x00x\": contains a NUL byte");
	memset(big, '1', sizeof(big) - 1);
	big[0] = 'v';
	big[sizeof(big) - 1] = '\0';
	refused(tp, big, 2000, "tag \"v111");
	assert_int_equal(tagpattern_eval(tp, big, 2000, NULL, 1, &m, &err),
	    TAG_REFUSED);
	assert_non_null(strstr(buf_str(&err), "\"... (2000 bytes): longer "
	    "than 1024 bytes"));
	assert_true(strlen(buf_str(&err)) < 200);
	buf_reset(&err);
	/* A revision below 1 never composes a version. */
	assert_int_equal(tagpattern_eval(tp, "v1.0", 4, NULL, 0, &m, &err),
	    TAG_REFUSED);
	assert_string_equal(buf_str(&err), "tag \"v1.0\": peios_revision 0 "
	    "is not >= 1");
	buf_reset(&err);
	tagpattern_free(tp);

	/* Group 1 did not take part: the capture is "" and refused. */
	tp = compile_ok("^(?:v(\\d+)|r(\\d+))$");
	refused(tp, "r5", 2, "tag \"r5\": captured version \"\" is not a "
	    "valid upstream version: ");
	eval_is(tp, "v5", NULL, 1, TAG_MATCH, "5", "5-1");
	tagpattern_free(tp);

	tp = compile_ok("^(?P<major>\\d*)\\.(?P<minor>\\d+)$");
	refused(tp, ".5", 2, "tag \".5\": captured version \".5\" is not a "
	    "valid upstream version: ");
	tagpattern_free(tp);

	/* Catastrophic backtracking is bounded by the match limits. */
	tp = compile_ok("^(a|aa)+$");
	memset(big, 'a', 60);
	big[60] = '!';
	t0 = time(NULL);
	r = tagpattern_eval(tp, big, 61, NULL, 1, &m, &err);
	assert_int_equal(r, TAG_REFUSED);
	assert_true(time(NULL) - t0 < 5);
	assert_non_null(strstr(buf_str(&err), "matching tag_pattern "
	    "\"^(a|aa)+$\" failed: match limit exceeded"));
	tagpattern_free(tp);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_unnamed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_pattern),
		cmocka_unit_test(test_re2_subset),
		cmocka_unit_test(test_ascii_classes),
		cmocka_unit_test(test_min_version),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
