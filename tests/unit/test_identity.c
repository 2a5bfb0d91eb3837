/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_identity.c: the consumer's rules for names, architectures,
 * manifest fields and payload paths (CONSUMER.md 1.8, 1.9), with the
 * exact messages for the refusals.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "identity.h"

typedef int (*check_fn)(const char *, struct buf *);

static void
good(check_fn fn, const char *s)
{
	struct buf	 err = BUF_INIT;

	if (fn(s, &err) != 0)
		fail_msg("refused \"%s\": %s", s, buf_str(&err));
	assert_int_equal(err.len, 0);
	buf_free(&err);
}

/* Refused; with `msg` the exact message, else a one-line message. */
static void
bad(check_fn fn, const char *s, const char *msg)
{
	struct buf	 err = BUF_INIT;

	if (fn(s, &err) != -1)
		fail_msg("accepted \"%s\"", s);
	if (msg != NULL)
		assert_string_equal(buf_str(&err), msg);
	assert_true(err.len > 0);
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
}

static void
path_good(const char *s)
{
	struct buf	 err = BUF_INIT;

	if (ident_payload_path(s, strlen(s), &err) != 0)
		fail_msg("refused path: %s", buf_str(&err));
	buf_free(&err);
}

static void
path_bad_n(const char *s, size_t n, const char *msg)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(ident_payload_path(s, n, &err), -1);
	if (msg != NULL)
		assert_string_equal(buf_str(&err), msg);
	assert_true(str_has_prefix(buf_str(&err), "path \""));
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
}

static void
path_bad(const char *s, const char *msg)
{
	path_bad_n(s, strlen(s), msg);
}

static char *
repeat(int c, size_t n)
{
	char	*s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_name(void **state)
{
	char	*s;

	good(ident_name, "libstdc++");
	good(ident_name, "g++");
	good(ident_name, "ab");
	good(ident_name, "python3.example");
	good(ident_name, "lib32-foo");
	good(ident_name, "peios-docs");
	good(ident_name, "a+-b");
	good(ident_name, "0ad");
	s = repeat('a', 64);
	good(ident_name, s);
	free(s);
	bad(ident_name, "a--b", "package name \"a--b\": has adjacent "
	    "separators \"--\" at byte 1");
	bad(ident_name, "a.-b", "package name \"a.-b\": has adjacent "
	    "separators \".-\" at byte 1");
	bad(ident_name, "a..b", NULL);
	bad(ident_name, "foo.", "package name \"foo.\": must end with a "
	    "lowercase letter, digit or '+'");
	bad(ident_name, "foo-", NULL);
	bad(ident_name, "Hello", "package name \"Hello\": must be lowercase "
	    "('H' at byte 0)");
	bad(ident_name, "foo_bar", "package name \"foo_bar\": contains "
	    "invalid character '_' at byte 3 (allowed: a-z 0-9 . + -)");
	bad(ident_name, "a", "package name \"a\": must be 2-64 bytes long, "
	    "not 1");
	bad(ident_name, "", "package name \"\": must be 2-64 bytes long, "
	    "not 0");
	s = repeat('a', 65);
	bad(ident_name, s, NULL);
	free(s);
	bad(ident_name, "+foo", "package name \"+foo\": must start with a "
	    "lowercase letter or digit");
	bad(ident_name, ".foo", NULL);
	bad(ident_name, "-foo", NULL);
	bad(ident_name, "foo bar", NULL);
	bad(ident_name, "foo/bar", NULL);
	bad(ident_name, "caf\xc3\xa9", "package name \"caf\xc3\xa9\": "
	    "contains invalid character '\\xc3' at byte 3 (allowed: a-z 0-9 "
	    ". + -)");
	bad(ident_name, "a\nb", "package name \"a\\nb\": contains invalid "
	    "character '\\n' at byte 1 (allowed: a-z 0-9 . + -)");
}

static void
test_arch(void **state)
{
	good(ident_arch, "x86_64");
	good(ident_arch, "aarch64");
	good(ident_arch, "noarch");
	good(ident_arch, "a");
	good(ident_arch, "abcdefghijklmnop");
	bad(ident_arch, "x86-64", "architecture \"x86-64\": contains invalid "
	    "character '-' at byte 3 (allowed: a-z 0-9 _)");
	bad(ident_arch, "X86_64", "architecture \"X86_64\": must start with "
	    "a lowercase letter");
	bad(ident_arch, "x86_64X", NULL);
	bad(ident_arch, "3dnow", "architecture \"3dnow\": must start with a "
	    "lowercase letter");
	bad(ident_arch, "abcdefghijklmnopq", "architecture "
	    "\"abcdefghijklmnopq\": must be 1-16 bytes long, not 17");
	bad(ident_arch, "", NULL);
	bad(ident_arch, "_x", NULL);
	bad(ident_arch, "x 86", NULL);
}

static void
test_description(void **state)
{
	char	*s;

	good(ident_description, "");
	good(ident_description, "A small C library for compression.");
	good(ident_description,
	    "Caf\xc3\xa9 \xe2\x80\x94 r\xc3\xa9sum\xc3\xa9");
	good(ident_description, "\xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80");
	good(ident_description, "e\xcc\x81");	/* combining mark: M */
	good(ident_description, "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./");
	s = repeat('x', 200);
	good(ident_description, s);
	free(s);
	bad(ident_description, "a\tb", "description \"a\\tb\": character "
	    "U+0009 at byte 1 is not printable");
	bad(ident_description, "a\nb", NULL);
	bad(ident_description, "del\x7f", "description \"del\\x7f\": "
	    "character U+007F at byte 3 is not printable");
	bad(ident_description, "no\xc2\xa0" "break", "description "
	    "\"no\\u00a0break\": character U+00A0 at byte 2 is not printable");
	bad(ident_description, "line\xe2\x80\xa8sep", "description "
	    "\"line\\u2028sep\": character U+2028 at byte 4 is not printable");
	bad(ident_description, "repl\xef\xbf\xbd", "description "
	    "\"repl\xef\xbf\xbd\": character U+FFFD at byte 4 is not "
	    "printable");
	bad(ident_description, "bad\xff", "description \"bad\\xff\": is not "
	    "valid UTF-8 (byte 3)");
	bad(ident_description, "over\xc0\xaflong", NULL);
	bad(ident_description, "sur\xed\xa0\x80", NULL);
	bad(ident_description, "zw\xe2\x80\x8bsp", NULL);	/* U+200B: Cf */
	bad(ident_description, "bom\xef\xbb\xbf", NULL);	/* U+FEFF: Cf */
}

static void
test_homepage(void **state)
{
	good(ident_homepage, "");
	good(ident_homepage, "https://peios.org");
	good(ident_homepage, "http://peios.org/");
	good(ident_homepage, "https://github.com/madler/zlib?tab=readme#top");
	good(ident_homepage, "HTTPS://example.com:8443/a%20b");
	good(ident_homepage, "https://user@example.com/");
	good(ident_homepage, "http://[::1]:8080/");
	good(ident_homepage, "https://de.wikipedia.org/wiki/\xc3\x84");
	bad(ident_homepage, "ftp://peios.org/",
	    "homepage \"ftp://peios.org/\": scheme must be http or https, "
	    "not \"ftp\"");
	bad(ident_homepage, "peios.org", "homepage \"peios.org\": must be an "
	    "http:// or https:// URL (no scheme)");
	bad(ident_homepage, "https:peios.org", "homepage \"https:peios.org\": "
	    "has no host (\"//\" must follow the scheme)");
	bad(ident_homepage, "https://", "homepage \"https://\": has no host");
	bad(ident_homepage, "https:///path", NULL);
	bad(ident_homepage, "http://:80/", NULL);
	bad(ident_homepage, "http://x:8a/", "homepage \"http://x:8a/\": has a "
	    "port that is not a number");
	bad(ident_homepage, "http://a b/", "homepage \"http://a b/\": contains "
	    "' ' at byte 8 (no blanks or control characters in a URL)");
	bad(ident_homepage, "http://x/\t", NULL);
	bad(ident_homepage, "http://x/%zz", "homepage \"http://x/%zz\": has an "
	    "invalid %-escape at byte 9");
	bad(ident_homepage, "http://x/%2", NULL);
	bad(ident_homepage, "http://[::1/", NULL);
	bad(ident_homepage, "http://ex<ample.com/", NULL);
	bad(ident_homepage, "javascript:alert(1)", NULL);
	bad(ident_homepage, "//peios.org", NULL);
	bad(ident_homepage, "http://x/\xff", NULL);
}

static void
test_constraint(void **state)
{
	good(ident_constraint, "");
	good(ident_constraint, "= 1.2.3-4");
	good(ident_constraint, ">= 1.2, < 2.0");
	good(ident_constraint, ">=1.2,<2.0");
	good(ident_constraint, "  >=  3.0 ,\t< 4.0  ");
	good(ident_constraint, "1.26.2-3");
	good(ident_constraint, "!= 2:1.0~rc1");
	good(ident_constraint, "> 1.0-rc.1");
	good(ident_constraint, "<= 1.0, != 0.9-2, > 0.1");
	bad(ident_constraint, "~> 1.2", "constraint \"~> 1.2\": expression 1 "
	    "\"~> 1.2\" is not [= != < <= > >=] version: version \"~> 1.2\": "
	    "upstream \"~> 1.2\" must start with an ASCII letter or digit, "
	    "not '~'");
	bad(ident_constraint, ">= 1.2,", "constraint \">= 1.2,\": expression "
	    "2 is empty");
	bad(ident_constraint, ">= 1.2,,< 2", "constraint \">= 1.2,,< 2\": "
	    "expression 2 is empty");
	bad(ident_constraint, ", >= 1", NULL);
	bad(ident_constraint, " ", NULL);
	bad(ident_constraint, ">=", "constraint \">=\": expression 1 \">=\" "
	    "has no version");
	bad(ident_constraint, "== 1.0", NULL);
	bad(ident_constraint, "=> 1.0", NULL);
	bad(ident_constraint, "> = 1.0", NULL);
	bad(ident_constraint, ">= 1.0 beta", NULL);
	bad(ident_constraint, ">= 1.0_1", NULL);
	bad(ident_constraint, ">= 1.0; < 2", NULL);
	bad(ident_constraint, ">= 01:1.0", NULL);
	bad(ident_constraint, ">= 1.0\n", NULL);
}

static void
test_side_effect_dep_arch(void **state)
{
	good(ident_side_effect, "ldconfig");
	good(ident_side_effect, "depmod");
	good(ident_side_effect, "man-db");
	bad(ident_side_effect, "mandb", "side effect \"mandb\": must be one "
	    "of ldconfig, depmod, man-db");
	bad(ident_side_effect, "", NULL);
	bad(ident_side_effect, "LDCONFIG", NULL);
	bad(ident_side_effect, "ldconfig ", NULL);
	good(ident_dep_arch, "");
	good(ident_dep_arch, "any");
	bad(ident_dep_arch, "x86_64", "dependency arch \"x86_64\": must be "
	    "empty or \"any\"");
	bad(ident_dep_arch, "noarch", NULL);
	bad(ident_dep_arch, "Any", NULL);
}

static void
test_path_good(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*comp;
	int		 i;

	path_good("usr/bin/hello");
	path_good("usr/share/doc/caf\xc3\xa9");		/* NFC */
	path_good("usr/include/foo bar.h");
	path_good("etc/.peipkg");
	path_good("usr/.peipkgx/a");
	path_good(".peipkgx");
	path_good("...");
	path_good("usr/lib/.hidden");
	path_good("a");
	comp = repeat('c', 255);
	buf_adds(&b, comp);
	path_good(buf_str(&b));
	for (i = 1; i < 16; i++)
		buf_addf(&b, "/%s", comp);
	assert_int_equal(b.len, 4095);
	path_good(buf_str(&b));
	buf_reset(&b);
	for (i = 0; i < 256; i++)
		buf_adds(&b, i == 0 ? "d" : "/d");
	path_good(buf_str(&b));
	free(comp);
	buf_free(&b);
	/* A directory: the caller strips its one trailing '/'. */
	assert_int_equal(ident_payload_path("usr/share/", 9, NULL), 0);
}

static void
test_path_bad(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*comp, *want;
	int		 i;

	path_bad("", "path \"\": empty");
	path_bad("/usr/bin/x", "path \"/usr/bin/x\": absolute (leading '/')");
	path_bad(".peipkg", "path \".peipkg\": reserved for package metadata "
	    "(.peipkg)");
	path_bad(".peipkg/signature", NULL);
	path_bad("usr/share/a\tb", "path \"usr/share/a\\tb\": control "
	    "character '\\t' at byte 11");
	path_bad("a\x7f", "path \"a\\x7f\": control character '\\x7f' at "
	    "byte 1");
	path_bad("a\x01", NULL);
	path_bad_n("a\0b", 3, "path \"a\\x00b\": control character '\\x00' "
	    "at byte 1");
	path_bad("a\\b", "path \"a\\\\b\": backslash at byte 1");
	path_bad("usr/share/e\xcc\x81", "path \"usr/share/e\xcc\x81\": not in "
	    "Unicode NFC");
	path_bad("bad\xff", "path \"bad\\xff\": not valid UTF-8");
	path_bad("a\xc0\xaf", NULL);		/* overlong '/' */
	path_bad("a//b", "path \"a//b\": empty component at byte 2 (\"//\" or "
	    "a trailing '/')");
	path_bad("a/", NULL);
	path_bad("usr/./bin", "path \"usr/./bin\": \".\" component");
	path_bad("usr/../etc", "path \"usr/../etc\": \"..\" component");
	path_bad("..", NULL);
	path_bad(".", NULL);
	path_bad("a/..", NULL);
	comp = repeat('c', 256);
	path_bad(comp, NULL);
	buf_addf(&b, "a/%s", comp);
	want = xasprintf("path \"a/%s\": component 2 is 256 bytes (at most "
	    "255)", comp);
	path_bad(buf_str(&b), want);
	free(want);
	buf_reset(&b);
	for (i = 0; i < 257; i++)
		buf_adds(&b, i == 0 ? "d" : "/d");
	path_bad(buf_str(&b), NULL);
	assert_non_null(strstr(buf_str(&b), "d/d"));
	buf_reset(&b);
	for (i = 0; i < 18; i++)
		buf_addf(&b, "%s%.*s", i == 0 ? "" : "/", 240, comp);
	path_bad(buf_str(&b), NULL);
	free(comp);
	buf_free(&b);
}

static void
test_path_long_messages(void **state)
{
	struct buf	 err = BUF_INIT;
	char		*s = repeat('x', 5000);

	assert_int_equal(ident_payload_path(s, 5000, &err), -1);
	assert_true(err.len < 400);
	assert_non_null(strstr(buf_str(&err), "\"... (5000 bytes): longer "
	    "than 4096 bytes (5000)"));
	free(s);
	buf_free(&err);
}

static void
test_nfc(void **state)
{
	assert_int_equal(ident_is_nfc("", 0), 1);
	assert_int_equal(ident_is_nfc("abc", 3), 1);
	assert_int_equal(ident_is_nfc("\xc3\xa9", 2), 1);
	assert_int_equal(ident_is_nfc("e\xcc\x81", 3), 0);
	/* U+212B ANGSTROM SIGN normalises to U+00C5. */
	assert_int_equal(ident_is_nfc("\xe2\x84\xab", 3), 0);
	assert_int_equal(ident_is_nfc("\xc3\x85", 2), 1);
	/* Hangul syllable vs conjoining jamo. */
	assert_int_equal(ident_is_nfc("\xea\xb0\x80", 3), 1);
	assert_int_equal(ident_is_nfc("\xe1\x84\x80\xe1\x85\xa1", 6), 0);
	assert_int_equal(ident_is_nfc("\xff", 1), 0);
}

static void
test_quote(void **state)
{
	static const char in[] = "a\"b\\c\t\r\n\x01\x7f\xff\xc2\xa0"
	    "\xe2\x80\xa8\xc3\xa9\xf0\x9f\x98\x80\xf3\xa0\x80\x81";
	struct buf		 b = BUF_INIT;
	char			*s;

	ident_quote(&b, in, sizeof(in) - 1);
	assert_string_equal(buf_str(&b), "\"a\\\"b\\\\c\\t\\r\\n\\x01\\x7f"
	    "\\xff\\u00a0\\u2028\xc3\xa9\xf0\x9f\x98\x80\\U000e0001\"");
	buf_reset(&b);
	/* Cut at 256 bytes without splitting a character. */
	s = repeat('x', 400);
	memcpy(s + 255, "\xc3\xa9", 2);
	ident_quote(&b, s, 400);
	assert_int_equal(b.len, 1 + 255 + 1 + strlen("... (400 bytes)"));
	assert_true(str_has_suffix(buf_str(&b), "x\"... (400 bytes)"));
	free(s);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_arch),
		cmocka_unit_test(test_description),
		cmocka_unit_test(test_homepage),
		cmocka_unit_test(test_constraint),
		cmocka_unit_test(test_side_effect_dep_arch),
		cmocka_unit_test(test_path_good),
		cmocka_unit_test(test_path_bad),
		cmocka_unit_test(test_path_long_messages),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
