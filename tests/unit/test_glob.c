/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_glob.c: the doublestar `files` matcher.  Every example of
 * BEHAVIOUR.md 3.7; the glob-semantics and libfoo-multi recipe vectors
 * (which package claims each staged path); the official recipes'
 * patterns against plausible paths; classes, braces, escapes, "**" in
 * every position, the reference's corner cases; validation messages;
 * hostile patterns that must finish fast.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "glob.h"

struct mcase {
	const char	*pat;
	const char	*path;
	int		 want;
};

/* A recipe's [[package]] stanzas: name and `files` patterns. */
struct pkg {
	const char	*name;
	const char	*files[8];
};

/* A staged leaf and the package that must claim it. */
struct claim {
	const char	*path;
	const char	*owner;
	int		 dir;	/* an explicit directory claim */
};

/* ---- helpers --------------------------------------------------------- */

static void
run_cases(const struct mcase *c, size_t n)
{
	struct buf	 err = BUF_INIT;
	size_t		 i;
	int		 got, bad = 0;

	for (i = 0; i < n; i++) {
		if (glob_validate(c[i].pat, &err) != 0) {
			print_error("pattern %s refused: %s\n", c[i].pat,
			    buf_str(&err));
			buf_reset(&err);
			bad++;
			continue;
		}
		got = glob_match(c[i].pat, c[i].path);
		if (got != c[i].want) {
			print_error("glob_match(\"%s\", \"%s\") = %d, "
			    "want %d\n", c[i].pat, c[i].path, got, c[i].want);
			bad++;
		}
	}
	buf_free(&err);
	assert_int_equal(bad, 0);
}

#define RUN(tab)	run_cases((tab), nitems(tab))

/*
 * The partition rule of BEHAVIOUR.md 3.6-3.8: for a file or symlink all
 * patterns are used as written; for a directory only patterns ending in
 * '/' claim it, with the trailing slashes removed.  Returns the single
 * matching package, "" for none, "!" for more than one.
 */
static const char *
claimant(const struct pkg *pk, size_t npk, const char *path, int dir)
{
	const char	*who = "";
	char		 pat[256];
	size_t		 i, j, l;

	for (i = 0; i < npk; i++) {
		for (j = 0; pk[i].files[j] != NULL; j++) {
			l = strlen(pk[i].files[j]);
			assert_true(l < sizeof(pat));
			memcpy(pat, pk[i].files[j], l + 1);
			if (dir && (l == 0 || pat[l - 1] != '/'))
				continue;
			while (dir && l > 0 && pat[l - 1] == '/')
				pat[--l] = '\0';
			if (glob_match(pat, path))
				break;
		}
		if (pk[i].files[j] == NULL)
			continue;
		if (*who != '\0')
			return "!";
		who = pk[i].name;
	}
	return who;
}

static void
check_partition(const struct pkg *pk, size_t npk, const struct claim *cl,
    size_t ncl)
{
	struct buf	 err = BUF_INIT;
	const char	*who;
	size_t		 i, j;
	int		 bad = 0;

	for (i = 0; i < npk; i++)
		for (j = 0; pk[i].files[j] != NULL; j++)
			assert_int_equal(glob_validate(pk[i].files[j], &err),
			    0);
	for (i = 0; i < ncl; i++) {
		who = claimant(pk, npk, cl[i].path, cl[i].dir);
		if (strcmp(who, cl[i].owner) != 0) {
			print_error("%s: claimed by \"%s\", want \"%s\"\n",
			    cl[i].path, who, cl[i].owner);
			bad++;
		}
	}
	buf_free(&err);
	assert_int_equal(bad, 0);
}

static void
expect_invalid(const char *pat, const char *msg)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(glob_validate(pat, &err), -1);
	assert_string_equal(buf_str(&err), msg);
	buf_free(&err);
	/* An invalid pattern never matches, not even what it spells. */
	assert_int_equal(glob_match(pat, pat), 0);
	assert_int_equal(glob_match(pat, "a"), 0);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- BEHAVIOUR.md 3.7 ------------------------------------------------ */

static void
test_behaviour_examples(void **state)
{
	static const struct mcase c[] = {
		/* '*': a run of non-'/' characters; dots not special. */
		{ "usr/bin/*", "usr/bin/ls", 1 },
		{ "usr/bin/*", "usr/bin/.hidden", 1 },
		{ "usr/bin/*", "usr/bin/a/b", 0 },
		{ "*", ".hidden", 1 },
		{ "**", ".hidden", 1 },
		{ "usr/*", "usr/", 1 },
		/* '?': exactly one non-'/' character. */
		{ "a?c", "abc", 1 },
		{ "a?c", "ac", 0 },
		{ "a?c", "abbc", 0 },
		{ "a?c", "a/c", 0 },
		/* Classes. */
		{ "[abc]", "b", 1 },
		{ "[a-z]", "q", 1 },
		{ "[a-z]", "Q", 0 },
		{ "[!a]", "a", 0 },
		{ "[!a]", "b", 1 },
		{ "[^a]", "a", 0 },
		{ "[^a]", "b", 1 },
		{ "[\\]]", "]", 1 },
		/* Alternation, nested. */
		{ "{a,b,c}", "b", 1 },
		{ "{a,b,c}", "d", 0 },
		{ "x{a,{b,c}d}", "xcd", 1 },
		{ "x{a,{b,c}d}", "xc", 0 },
		/* "\c" is a literal c. */
		{ "\\*", "*", 1 },
		{ "\\*", "a", 0 },
		/* "**" as a whole segment. */
		{ "a/**/b", "a/b", 1 },
		{ "a/**/b", "a/x/b", 1 },
		{ "a/**/b", "a/x/y/b", 1 },
		{ "a/**/b", "a/xb", 0 },
		{ "usr/include/**", "usr/include", 1 },
		{ "usr/include/**", "usr/include/a/b.h", 1 },
		{ "usr/include/**", "usr/includes/x", 0 },
		{ "usr/include/**", "usr/includes", 0 },
		{ "**/b", "b", 1 },
		{ "**/b", "a/b", 1 },
		{ "**/b", "a/c/d/b", 1 },
		{ "**/b", "ab", 0 },
		{ "**", "a", 1 },
		{ "**", "a/b/c", 1 },
		{ "usr/**.txt", "usr/b.txt", 1 },
		{ "usr/**.txt", "usr/a/b.txt", 0 },
		/* Case-sensitive, no normalisation. */
		{ "usr/bin/a", "usr/bin/a", 1 },
		{ "usr/bin/a", "usr/bin/A", 0 },
		{ "USR/bin/a", "usr/bin/a", 0 },
		{ "/usr/bin/a", "usr/bin/a", 0 },
		{ "./usr/bin/a", "usr/bin/a", 0 },
		{ "usr//bin/a", "usr/bin/a", 0 },
		{ "usr/bin/a/", "usr/bin/a", 0 },
		{ "usr/bin/a", "/usr/bin/a", 0 },
		{ "usr/bin/a", "usr/bin/a/", 0 },
		{ "usr/./bin/a", "usr/bin/a", 0 },
		/* The literal '.' after "so" is required. */
		{ "usr/lib/x86_64-linux-peios/libfoo.so.*",
		    "usr/lib/x86_64-linux-peios/libfoo.so", 0 },
		{ "usr/lib/x86_64-linux-peios/libfoo.so.*",
		    "usr/lib/x86_64-linux-peios/libfoo.so.1", 1 },
		{ "usr/lib/x86_64-linux-peios/libfoo.so.*",
		    "usr/lib/x86_64-linux-peios/libfoo.so.1.2.3", 1 },
	};

	RUN(c);
}

static void
test_star_and_question(void **state)
{
	static const struct mcase c[] = {
		{ "*", "a", 1 },
		{ "*", "a/b", 0 },
		{ "*", "", 1 },
		{ "", "", 1 },
		{ "", "a", 0 },
		{ "a*", "a", 1 },
		{ "*a", "bba", 1 },
		{ "*a", "bab", 0 },
		{ "a*b*c", "abc", 1 },
		{ "a*b*c", "axxbyyc", 1 },
		{ "a*b*c", "axxbyy", 0 },
		{ "a*b*c", "ab/c", 0 },
		{ "*/*", "a/b", 1 },
		{ "*/*", "a/b/c", 0 },
		{ "*/*/*", "a/b/c", 1 },
		{ "*.h", "foo.h", 1 },
		{ "*.h", ".h", 1 },
		{ "*.h", "foo.hh", 0 },
		{ "a*", "a/", 0 },
		{ "a*/", "ab/", 1 },
		{ "???", "abc", 1 },
		{ "???", "ab", 0 },
		{ "???", "abcd", 0 },
		/* '?' takes one whole UTF-8 character, not one byte. */
		{ "?", "\xc3\xa9", 1 },
		{ "??", "\xc3\xa9", 0 },
		{ "?", "\xe2\x82\xac", 1 },
		{ "?", "\xf0\x9f\x98\x80", 1 },
		{ "x?y", "x\xf0\x9f\x98\x80y", 1 },
		{ "caf?", "caf\xc3\xa9", 1 },
		{ "caf\xc3\xa9", "caf\xc3\xa9", 1 },
		{ "caf\xc3\xa9", "cafe", 0 },
		/* A stray byte is one (replacement) character of width 1. */
		{ "?", "\xff", 1 },
		{ "??", "\xc3", 0 },
		{ "?", "\xc3(", 0 },
		{ "??", "\xc3(", 1 },
		/* Stars never cross '/' but match across UTF-8. */
		{ "*", "\xc3\xa9t\xc3\xa9", 1 },
		{ "*\xc3\xa9", "\xc3\xa9t\xc3\xa9", 1 },
	};

	RUN(c);
}

static void
test_classes(void **state)
{
	static const struct mcase c[] = {
		{ "[a-c]?.txt", "a1.txt", 1 },
		{ "[a-c]?.txt", "c3.txt", 1 },
		{ "[a-c]?.txt", "d4.txt", 0 },
		{ "[a-cx-z]", "y", 1 },
		{ "[a-cx-z]", "m", 0 },
		{ "[0-9][0-9]", "42", 1 },
		{ "[0-9][0-9]", "4a", 0 },
		{ "[!0-9]", "a", 1 },
		{ "[!0-9]", "5", 0 },
		{ "[^a-c]", "d", 1 },
		{ "[^a-c]", "b", 0 },
		{ "[!!]", "!", 0 },
		{ "[!!]", "a", 1 },
		{ "[a!]", "!", 1 },
		{ "[a^]", "^", 1 },
		/* '-' first or last is literal. */
		{ "[-a]", "-", 1 },
		{ "[a-]", "-", 1 },
		{ "[a-]", "b", 0 },
		/* Escapes inside a class. */
		{ "[\\]]", "]", 1 },
		{ "[\\]a]", "a", 1 },
		{ "[a\\-z]", "-", 1 },
		{ "[a\\-z]", "b", 0 },
		{ "[a\\-z]", "z", 1 },
		{ "[\\\\]", "\\", 1 },
		{ "[\\!a]", "!", 1 },
		{ "[!\\]]", "]", 0 },
		{ "[!\\]]", "x", 1 },
		{ "[a-\\]]", "]", 0 },
		{ "[\\a-c]", "b", 1 },
		/* Brackets and braces are ordinary inside a class. */
		{ "[[]", "[", 1 },
		{ "[{]", "{", 1 },
		{ "[}]", "}", 1 },
		{ "[,]", ",", 1 },
		{ "[*?]", "*", 1 },
		{ "[*?]", "a", 0 },
		{ "[!{]", "{", 0 },
		{ "[!{]", "a", 1 },
		{ "[!a\\}]", "}", 0 },
		{ "[!a\\}]", "b", 1 },
		{ "[![x]", "[", 0 },
		{ "[![x]", "y", 1 },
		/* Ranges of UTF-8 characters compare code points. */
		{ "[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", 1 },
		{ "[\xc3\xa0-\xc3\xbf]", "e", 0 },
		{ "[!\xc3\xa9]", "\xc3\xa9", 0 },
		{ "[!\xc3\xa9]", "\xc3\xa8", 1 },
		{ "[a-\xe2\x82\xac]", "\xc3\xa9", 1 },
		/* Reversed ranges match nothing. */
		{ "[z-a]", "m", 0 },
		/* A class is one character: not zero, not two. */
		{ "x[ab]y", "xy", 0 },
		{ "x[ab]y", "xaby", 0 },
		/* As in the reference, only '*' and '?' refuse '/'. */
		{ "a[!x]b", "a/b", 1 },
		{ "a[/]b", "a/b", 1 },
		/* Case-sensitive. */
		{ "[a-z]", "A", 0 },
	};

	RUN(c);
}

static void
test_braces(void **state)
{
	static const struct mcase c[] = {
		{ "*.{conf,ini}", "x.conf", 1 },
		{ "*.{conf,ini}", "y.ini", 1 },
		{ "*.{conf,ini}", "z.cfg", 0 },
		{ "*.{conf,ini}", "x.conf.bak", 0 },
		{ "libfoo.{a,so}", "libfoo.a", 1 },
		{ "libfoo.{a,so}", "libfoo.so", 1 },
		{ "libfoo.{a,so}", "libfoo.so.1", 0 },
		{ "{a,b}{c,d}", "bd", 1 },
		{ "{a,b}{c,d}", "ab", 0 },
		/* Empty alternatives. */
		{ "a{,b}", "a", 1 },
		{ "a{,b}", "ab", 1 },
		{ "a{b,}", "a", 1 },
		{ "a{}b", "ab", 1 },
		{ "{}", "", 1 },
		{ "{,}", "x", 0 },
		/* Nesting. */
		{ "{a,{b,{c,d}}}x", "dx", 1 },
		{ "{a,{b,{c,d}}}x", "ex", 0 },
		{ "x{a{1,2},b{3,4}}", "xa2", 1 },
		{ "x{a{1,2},b{3,4}}", "xb3", 1 },
		{ "x{a{1,2},b{3,4}}", "xa3", 0 },
		{ "{{{{a}}}}", "a", 1 },
		/* Alternatives may hold '/' and any other syntax. */
		{ "usr/{bin,lib/x}/*", "usr/lib/x/y", 1 },
		{ "usr/{bin,lib/x}/*", "usr/lib/y", 0 },
		{ "{a/*,b}/c", "a/z/c", 1 },
		{ "{[ab],c}d", "bd", 1 },
		{ "{?x,y}", "ax", 1 },
		{ "{\\,,x}", ",", 1 },
		{ "{a\\}b,c}", "a}b", 1 },
		/* Outside braces ',' is literal. */
		{ "a,b", "a,b", 1 },
		{ "a,b", "a", 0 },
		/* "**" inside an alternative, then after the brace. */
		{ "{usr/share/**,etc}/x", "usr/share/a/b/x", 1 },
		{ "{usr/share/**,etc}/x", "usr/share/x", 1 },
		{ "{usr/share/**,etc}/x", "etc/x", 1 },
		{ "{usr/share/**,etc}/x", "etc/y/x", 0 },
		{ "{a/**,b}", "a/x/y", 1 },
		{ "{a/**,b}", "a", 1 },
		{ "{**/x,y}", "p/q/x", 1 },
		{ "a/{**/,}b", "a/p/q/b", 1 },
	};

	RUN(c);
}

static void
test_escapes(void **state)
{
	static const struct mcase c[] = {
		{ "\\*", "*", 1 },
		{ "\\?", "?", 1 },
		{ "\\?", "a", 0 },
		{ "\\[a]", "[a]", 1 },
		{ "\\[a]", "a", 0 },
		{ "\\{a,b\\}", "{a,b}", 1 },
		{ "\\\\", "\\", 1 },
		{ "\\a\\b", "ab", 1 },
		{ "a\\/b", "a/b", 1 },
		{ "\\*\\*", "**", 1 },
		{ "\\*\\*", "ab", 0 },
		{ "a/\\**", "a/*x", 1 },
		{ "a/\\**", "a/x", 0 },
		{ "\\\xc3\xa9", "\xc3\xa9", 1 },
	};

	RUN(c);
}

static void
test_doublestar_positions(void **state)
{
	static const struct mcase c[] = {
		/* Leading. */
		{ "**/*.mo", "x.mo", 1 },
		{ "**/*.mo", "a/b/x.mo", 1 },
		{ "**/*.mo", "a/b/x.po", 0 },
		{ "**/.hidden", "a/.hidden", 1 },
		{ "**/**/b", "b", 1 },
		{ "**/**/b", "x/y/b", 1 },
		/* Middle. */
		{ "usr/share/locale/**/globs.mo", "usr/share/locale/globs.mo",
		    1 },
		{ "usr/share/locale/**/globs.mo",
		    "usr/share/locale/de/LC_MESSAGES/globs.mo", 1 },
		{ "usr/share/locale/**/globs.mo",
		    "usr/share/locale/de/LC_MESSAGES/globs.po", 0 },
		{ "usr/share/locale/**/globs.mo", "usr/share/localeglobs.mo",
		    0 },
		{ "a/**/b/**/c", "a/b/c", 1 },
		{ "a/**/b/**/c", "a/x/b/y/z/c", 1 },
		{ "a/**/b/**/c", "a/x/c", 0 },
		{ "a/**/*/c", "a/x/c", 1 },
		{ "a/**/*/c", "a/c", 0 },
		{ "a/**/b", "a/.x/b", 1 },
		{ "a/**/b", "a/bb", 0 },
		{ "a/**/b", "a/x/bb", 0 },
		{ "a/**/b", "a/b/x", 0 },
		{ "a/**/b", "a//b", 1 },
		/* Trailing: everything below and the directory itself. */
		{ "usr/share/man/**", "usr/share/man", 1 },
		{ "usr/share/man/**", "usr/share/man/man3/foo.3", 1 },
		{ "usr/share/man/**", "usr/share/manx", 0 },
		{ "usr/share/man/**", "usr/share", 0 },
		{ "var/**", "var", 1 },
		{ "a/**/**", "a/b", 1 },
		/* Alone. */
		{ "**", "x", 1 },
		{ "**", "x/y/z", 1 },
		{ "**", "/x", 1 },
		/* Not a whole segment: behaves like '*'. */
		{ "usr/**.txt", "usr/.txt", 1 },
		{ "a**/b", "ax/b", 1 },
		{ "a**/b", "ax/y/b", 0 },
		{ "a/**b", "a/xb", 1 },
		{ "a/**b", "a/x/b", 0 },
		{ "a/x**", "a/xyz", 1 },
		{ "a/x**", "a/x/y", 0 },
		{ "***", "abc", 1 },
		{ "***", "a/b", 0 },
		{ "a/***/b", "a/x/b", 1 },
		{ "a/***/b", "a/x/y/b", 0 },
		{ "a/\\**/b", "a/*/b", 1 },
		/* "**" followed by an escaped '/' is a star. */
		{ "a/**\\/b", "a/x/b", 1 },
		{ "a/**\\/b", "a/x/y/b", 0 },
	};

	RUN(c);
}

/*
 * Corners where the reference's scanner, not the summary, decides; kept
 * so a change to them is deliberate.
 */
static void
test_reference_corners(void **state)
{
	static const struct mcase c[] = {
		/* When the path runs out only "", "*", "**" and "**" with
		 * a slash before, after or both may be left over. */
		{ "a/**/", "a", 1 },
		{ "a/**/", "a/b", 0 },
		{ "x*/**", "x", 0 },
		{ "x*/**", "xy", 1 },
		{ "x*/**", "xy/z", 1 },
		{ "a**/", "a", 1 },
		{ "a/**/*", "a", 0 },
		{ "a/**/**", "a", 0 },
		{ "a{,/**}", "a", 1 },
		{ "a{b,/**}", "a", 1 },
		{ "a*{,}", "a", 0 },
		{ "a{,}{,}/**", "a", 1 },
		{ "a{,}{,}/*", "a", 0 },
		/* "**" right before a brace is a star: the reference looks at
		 * the '{' before expanding it. */
		{ "usr/**{/b,}", "usr/a/b", 1 },
		{ "usr/**{/b,}", "usr/a/c/b", 0 },
		{ "usr/**{/b,}", "usr/a", 1 },
		{ "usr/**{/b,}", "usr/a/c", 0 },
		/* Each alternative starts a segment, so a leading "**" in it
		 * is a whole segment even after a non-'/'. */
		{ "a{**/,}b", "ax/y/b", 1 },
		{ "a{**/,x}b", "ab", 1 },
		{ "a{**/,x}b", "axb", 1 },
		{ "a{**,x}", "ay/z", 1 },
		/* ...and a star ending an alternative pairs with one after
		 * the brace. */
		{ "{*,b}*/x", "p/q/x", 1 },
		{ "{b,c*}*/x", "cp/q/x", 0 },
	};

	RUN(c);
}

/* ---- recipe vectors --------------------------------------------------- */

/*
 * tests/vectors/recipes/glob-semantics: recipe/peipkg.toml gives the
 * patterns; the claims were taken from source.tar (tree/ = staged tree,
 * extracted with python3 tarfile) and the payload of each
 * expected/<package>_0.9-3_<arch>.tar.  No pattern ends in '/', so no
 * directory is a leaf.
 */
static void
test_vector_glob_semantics(void **state)
{
	static const struct pkg pk[] = {
		{ "globs", { "usr/bin/gtool", "usr/bin/.hidden-tool",
		    "usr/share/globs/[a-c]?.txt",
		    "usr/share/globs/*.{conf,ini}", NULL } },
		{ "globs-extra", { "usr/bin/gtool-*",
		    "usr/share/globs/d?.txt", "usr/share/globs/sub/**",
		    NULL } },
		{ "globs-l10n", { "usr/share/locale/**/globs.mo",
		    "usr/share/info/globs.info*", NULL } },
		{ "globs-conf", { "etc/globs/*", NULL } },
	};
	static const struct claim cl[] = {
		{ "etc/globs/.env", "globs-conf", 0 },
		{ "etc/globs/globs.conf", "globs-conf", 0 },
		{ "usr/bin/.hidden-tool", "globs", 0 },
		{ "usr/bin/gtool", "globs", 0 },
		{ "usr/bin/gtool-helper", "globs-extra", 0 },
		{ "usr/share/globs/a1.txt", "globs", 0 },
		{ "usr/share/globs/b2.txt", "globs", 0 },
		{ "usr/share/globs/c3.txt", "globs", 0 },
		{ "usr/share/globs/d4.txt", "globs-extra", 0 },
		{ "usr/share/globs/sub/deep/z.dat", "globs-extra", 0 },
		{ "usr/share/globs/sub/q.md", "globs-extra", 0 },
		{ "usr/share/globs/x.conf", "globs", 0 },
		{ "usr/share/globs/y.ini", "globs", 0 },
		{ "usr/share/info/globs.info", "globs-l10n", 0 },
		{ "usr/share/info/globs.info-1", "globs-l10n", 0 },
		{ "usr/share/locale/de/LC_MESSAGES/globs.mo", "globs-l10n", 0 },
		{ "usr/share/locale/fr_FR/LC_MESSAGES/globs.mo", "globs-l10n",
		    0 },
		{ "usr/share/locale/globs.mo", "globs-l10n", 0 },
		/* Staged directories: none is claimed. */
		{ "etc", "", 1 },
		{ "etc/globs", "", 1 },
		{ "usr/share/globs/sub", "", 1 },
		{ "usr/share/locale/de/LC_MESSAGES", "", 1 },
		/* Near misses that would be orphans. */
		{ "usr/share/globs/e5.txt", "", 0 },
		{ "usr/share/globs/a10.txt", "", 0 },
		{ "usr/share/globs/x.cfg", "", 0 },
		{ "usr/bin/gtool2", "", 0 },
		{ "usr/share/info/globs.inf", "", 0 },
		{ "etc/globs/sub/x", "", 0 },
	};

	check_partition(pk, nitems(pk), cl, nitems(cl));
}

/*
 * tests/vectors/recipes/libfoo-multi: patterns from recipe/peipkg.toml;
 * leaves from source.tar plus what build.sh adds (the symlinks
 * libfoo.so.1 and libfoo.so, the directory var/lib/foo); owners from the
 * payload of each expected/<package>_1.2.3-1_<arch>.tar (var/lib/foo/ is
 * in libfoo-tools).
 */
static void
test_vector_libfoo_multi(void **state)
{
	static const struct pkg pk[] = {
		{ "libfoo", { "usr/lib/x86_64-linux-peios/libfoo.so.1",
		    "usr/lib/x86_64-linux-peios/libfoo.so.1.*", NULL } },
		{ "libfoo-dev", { "usr/include/**",
		    "usr/lib/x86_64-linux-peios/libfoo.{a,so}",
		    "usr/lib/x86_64-linux-peios/pkgconfig/**", NULL } },
		{ "libfoo-doc", { "usr/share/man/**", "usr/share/doc/**",
		    NULL } },
		{ "libfoo-tools", { "usr/bin/*", "etc/foo/**", "var/lib/foo/",
		    NULL } },
	};
	static const struct claim cl[] = {
		{ "etc/foo/foo.conf", "libfoo-tools", 0 },
		{ "usr/bin/foo", "libfoo-tools", 0 },
		{ "usr/bin/foo-config", "libfoo-tools", 0 },
		{ "usr/include/foo-config.h", "libfoo-dev", 0 },
		{ "usr/include/foo.h", "libfoo-dev", 0 },
		{ "usr/include/foo/bar.h", "libfoo-dev", 0 },
		{ "usr/lib/x86_64-linux-peios/libfoo.a", "libfoo-dev", 0 },
		{ "usr/lib/x86_64-linux-peios/libfoo.so", "libfoo-dev", 0 },
		{ "usr/lib/x86_64-linux-peios/libfoo.so.1", "libfoo", 0 },
		{ "usr/lib/x86_64-linux-peios/libfoo.so.1.2.3", "libfoo", 0 },
		{ "usr/lib/x86_64-linux-peios/pkgconfig/foo.pc", "libfoo-dev",
		    0 },
		{ "usr/share/doc/libfoo/README", "libfoo-doc", 0 },
		{ "usr/share/man/man3/foo.3", "libfoo-doc", 0 },
		/* The explicit directory claim, and no other directory. */
		{ "var/lib/foo", "libfoo-tools", 1 },
		{ "var/lib", "", 1 },
		{ "var", "", 1 },
		{ "etc/foo", "", 1 },
		{ "usr/include/foo", "", 1 },
		{ "usr/lib/x86_64-linux-peios", "", 1 },
		/* "var/lib/foo/" as written never matches a file. */
		{ "var/lib/foo", "", 0 },
		{ "var/lib/foo/x", "", 0 },
		/* Near misses. */
		{ "usr/lib/x86_64-linux-peios/libfoo.so.2", "", 0 },
		{ "usr/lib/x86_64-linux-peios/libfoo.la", "", 0 },
		{ "usr/bin/sub/foo", "", 0 },
	};

	check_partition(pk, nitems(pk), cl, nitems(cl));
}

/*
 * tests/data/recipes-examples/<name>/peipkg.toml (one package each)
 * against the paths their build.sh scripts stage.
 */
static void
test_recipe_examples(void **state)
{
	static const struct pkg pk[] = {
		{ "busybox", { "usr/bin/**", NULL } },
		{ "figlet", { "usr/bin/figlet", "usr/bin/chkfont",
		    "usr/bin/figlist", "usr/bin/showfigfonts",
		    "usr/share/figlet/**", "usr/share/man/man6/**", NULL } },
		{ "fsbase", { "dev/", "proc/", "run/", "sys/", "tmp/", "var/",
		    NULL } },
		{ "hello", { "usr/bin/hello", "usr/share/info/hello.info*",
		    "usr/share/locale/**/hello.mo",
		    "usr/share/man/man1/hello.1*", NULL } },
		{ "kernel", { "usr/lib/x86_64-linux-peios/kernel/vmlinuz",
		    "boot/vmlinuz", "usr/share/regman/*.regman", NULL } },
		{ "live-boot", { "boot/cmdline",
		    "boot/initramfs/hooks/mount-root.sh", NULL } },
		{ "prelude", { "boot/initramfs/init", "usr/bin/seed-sd",
		    NULL } },
	};
	static const struct {
		const char	*pkg;
		const char	*path;
		int		 dir;
		int		 want;
	} c[] = {
		{ "busybox", "usr/bin/busybox", 0, 1 },
		{ "busybox", "usr/bin/ls", 0, 1 },
		{ "busybox", "usr/bin/[", 0, 1 },
		{ "busybox", "usr/bin/[[", 0, 1 },
		{ "busybox", "usr/sbin/init", 0, 0 },
		{ "busybox", "usr/binx", 0, 0 },
		{ "figlet", "usr/bin/figlet", 0, 1 },
		{ "figlet", "usr/bin/figlist", 0, 1 },
		{ "figlet", "usr/share/figlet/standard.flf", 0, 1 },
		{ "figlet", "usr/share/figlet/fonts/x.tlf", 0, 1 },
		{ "figlet", "usr/share/man/man6/figlet.6", 0, 1 },
		{ "figlet", "usr/share/man/man1/figlet.1", 0, 0 },
		{ "figlet", "usr/bin/figlet2", 0, 0 },
		{ "fsbase", "dev", 1, 1 },
		{ "fsbase", "tmp", 1, 1 },
		{ "fsbase", "var", 1, 1 },
		{ "fsbase", "dev", 0, 0 },
		{ "fsbase", "dev/null", 0, 0 },
		{ "fsbase", "var/lib", 1, 0 },
		{ "fsbase", "usr", 1, 0 },
		{ "hello", "usr/bin/hello", 0, 1 },
		{ "hello", "usr/share/info/hello.info", 0, 1 },
		{ "hello", "usr/share/info/hello.info-1", 0, 1 },
		{ "hello", "usr/share/info/dir", 0, 0 },
		{ "hello", "usr/share/locale/de/LC_MESSAGES/hello.mo", 0, 1 },
		{ "hello", "usr/share/locale/pt_BR/LC_MESSAGES/hello.mo", 0,
		    1 },
		{ "hello", "usr/share/man/man1/hello.1", 0, 1 },
		{ "hello", "usr/share/man/man1/hello.1.gz", 0, 1 },
		{ "hello", "usr/share/man/man1/hello.2", 0, 0 },
		{ "kernel", "usr/lib/x86_64-linux-peios/kernel/vmlinuz", 0, 1 },
		{ "kernel", "boot/vmlinuz", 0, 1 },
		{ "kernel", "usr/share/regman/net.regman", 0, 1 },
		{ "kernel", "usr/share/regman/sub/net.regman", 0, 0 },
		{ "kernel", "usr/share/regman/net.regman.bak", 0, 0 },
		{ "live-boot", "boot/cmdline", 0, 1 },
		{ "live-boot", "boot/initramfs/hooks/mount-root.sh", 0, 1 },
		{ "live-boot", "boot/initramfs/hooks", 1, 0 },
		{ "prelude", "boot/initramfs/init", 0, 1 },
		{ "prelude", "usr/bin/seed-sd", 0, 1 },
		{ "prelude", "usr/bin/seed", 0, 0 },
	};
	size_t		 i, j;
	const char	*who;
	int		 bad = 0;

	for (i = 0; i < nitems(pk); i++)
		for (j = 0; pk[i].files[j] != NULL; j++)
			assert_int_equal(glob_validate(pk[i].files[j], NULL),
			    0);
	for (i = 0; i < nitems(c); i++) {
		for (j = 0; strcmp(pk[j].name, c[i].pkg) != 0; j++)
			;
		who = claimant(&pk[j], 1, c[i].path, c[i].dir);
		if ((*who != '\0') != c[i].want) {
			print_error("%s: %s %s want %d\n", c[i].pkg, c[i].path,
			    c[i].dir ? "(dir)" : "", c[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- validation -------------------------------------------------------- */

static void
test_validate_ok(void **state)
{
	static const char *const ok[] = {
		"", "a", "*", "**", "a/**/b", "[a]", "[!a]", "[^a]", "[-]",
		"[a-]", "[\\]]", "[[]", "[{]", "[}]", "[,]",
		"{}", "{,}", "{a,{b,{c}}}", "\\{", "\\}", "\\[", "\\\\",
		"{a\\,b,c}", "{a\\}b}", "{[ab],c}", "{[\\,],c}", "a,b",
		"caf\xc3\xa9/*", "\xff", "[{}]", "[!{]", "[!}]x", "[![]",
		"[![x]", "[!a\\}]", "[!a\\{\\[]", "[^a-c[x]",
	};
	size_t		 i;

	for (i = 0; i < nitems(ok); i++) {
		if (glob_validate(ok[i], NULL) != 0)
			print_error("refused: %s\n", ok[i]);
		assert_int_equal(glob_validate(ok[i], NULL), 0);
	}
}

static void
test_validate_messages(void **state)
{
	expect_invalid("a\\", "invalid glob \"a\\\\\": trailing backslash");
	expect_invalid("[", "invalid glob \"[\": unterminated character class");
	expect_invalid("a[", "invalid glob \"a[\": unterminated character "
	    "class");
	expect_invalid("a[!", "invalid glob \"a[!\": unterminated character "
	    "class");
	expect_invalid("[ab", "invalid glob \"[ab\": unterminated character "
	    "class");
	expect_invalid("[a\\]", "invalid glob \"[a\\\\]\": unterminated "
	    "character class");
	expect_invalid("[a\\", "invalid glob \"[a\\\\\": unterminated "
	    "character class");
	expect_invalid("[]", "invalid glob \"[]\": empty character class");
	expect_invalid("[]a]", "invalid glob \"[]a]\": empty character class");
	expect_invalid("[!]", "invalid glob \"[!]\": empty character class");
	expect_invalid("x/[^]y", "invalid glob \"x/[^]y\": empty character "
	    "class");
	expect_invalid("{a,b", "invalid glob \"{a,b\": unbalanced braces: "
	    "'{' without '}'");
	expect_invalid("{a,{b}", "invalid glob \"{a,{b}\": unbalanced "
	    "braces: '{' without '}'");
	expect_invalid("a}", "invalid glob \"a}\": unbalanced braces: '}' "
	    "without '{'");
	expect_invalid("{a}}", "invalid glob \"{a}}\": unbalanced braces: "
	    "'}' without '{'");
	expect_invalid("[{]}", "invalid glob \"[{]}\": unbalanced braces: "
	    "'}' without '{'");
	expect_invalid("{[,]}", "invalid glob \"{[,]}\": ',', '{' or '}' in "
	    "a character class inside braces");
	expect_invalid("{[a,b]x.md,y}", "invalid glob \"{[a,b]x.md,y}\": "
	    "',', '{' or '}' in a character class inside braces");
	expect_invalid("{[}]}", "invalid glob \"{[}]}\": ',', '{' or '}' in "
	    "a character class inside braces");
	expect_invalid("{x,{[{]}}", "invalid glob \"{x,{[{]}}\": ',', '{' or "
	    "'}' in a character class inside braces");
	/* The reference would resume inside these classes and fail. */
	expect_invalid("[!a}]", "invalid glob \"[!a}]\": unescaped '{', '}' "
	    "or '[' in a negated character class");
	expect_invalid("x[^ab{c]", "invalid glob \"x[^ab{c]\": unescaped "
	    "'{', '}' or '[' in a negated character class");
	expect_invalid("[!a[]", "invalid glob \"[!a[]\": unescaped '{', '}' "
	    "or '[' in a negated character class");
	expect_invalid("[!a[!]", "invalid glob \"[!a[!]\": unescaped '{', "
	    "'}' or '[' in a negated character class");
	/* The pattern is quoted with escapes. */
	expect_invalid("a\"b\n\xff[", "invalid glob \"a\\\"b\\n\\xff[\": "
	    "unterminated character class");
	expect_invalid("caf\xc3\xa9\t{", "invalid glob \"caf\xc3\xa9\\t{\": "
	    "unbalanced braces: '{' without '}'");
}

static void
test_validate_limits(void **state)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;
	char		*s;
	int		 i;

	/* 32 nested levels are fine, 33 are not. */
	for (i = 0; i < 32; i++)
		buf_addc(&b, '{');
	buf_addc(&b, 'a');
	for (i = 0; i < 32; i++)
		buf_addc(&b, '}');
	assert_int_equal(glob_validate(buf_str(&b), NULL), 0);
	assert_int_equal(glob_match(buf_str(&b), "a"), 1);
	buf_reset(&b);
	for (i = 0; i < 33; i++)
		buf_addc(&b, '{');
	for (i = 0; i < 33; i++)
		buf_addc(&b, '}');
	assert_int_equal(glob_validate(buf_str(&b), &err), -1);
	assert_non_null(strstr(buf_str(&err), "\": braces nested more than "
	    "32 deep"));
	buf_reset(&err);
	/* 1024 alternatives are fine, 1025 are not. */
	buf_reset(&b);
	buf_addc(&b, '{');
	for (i = 0; i < 1023; i++)
		buf_adds(&b, "a,");
	buf_adds(&b, "b}");
	assert_int_equal(glob_validate(buf_str(&b), NULL), 0);
	assert_int_equal(glob_match(buf_str(&b), "b"), 1);
	assert_int_equal(glob_match(buf_str(&b), "c"), 0);
	buf_reset(&b);
	for (i = 0; i < 512; i++)
		buf_adds(&b, "{a,b}");
	assert_int_equal(glob_validate(buf_str(&b), NULL), 0);
	buf_adds(&b, "{c}");
	assert_int_equal(glob_validate(buf_str(&b), &err), -1);
	assert_true(str_has_suffix(buf_str(&err), "\"... (2563 bytes): more "
	    "than 1024 brace alternatives"));
	buf_reset(&err);
	/* 4096 bytes are fine, 4097 are not, and the quote is cut. */
	s = xmalloc(4098);
	memset(s, 'a', 4097);
	s[4097] = '\0';
	assert_int_equal(glob_validate(s + 1, NULL), 0);
	assert_int_equal(glob_match(s + 1, s + 1), 1);
	assert_int_equal(glob_validate(s, &err), -1);
	buf_reset(&b);
	buf_adds(&b, "invalid glob \"");
	for (i = 0; i < 256; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\"... (4097 bytes): pattern longer than 4096 bytes");
	assert_string_equal(buf_str(&err), buf_str(&b));
	assert_int_equal(glob_match(s, s), 0);
	free(s);
	buf_free(&b);
	buf_free(&err);
}

static void
test_validate_appends(void **state)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(glob_validate("a[", &err), -1);
	assert_int_equal(glob_validate("ok/*", &err), 0);
	assert_int_equal(glob_validate("b}", &err), -1);
	assert_string_equal(buf_str(&err),
	    "invalid glob \"a[\": unterminated character class\n"
	    "invalid glob \"b}\": unbalanced braces: '}' without '{'");
	buf_free(&err);
}

/* ---- hostile input ----------------------------------------------------- */

static char *
repeat(const char *unit, size_t n, const char *tail)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	for (i = 0; i < n; i++)
		buf_adds(&b, unit);
	buf_adds(&b, tail);
	return buf_release(&b);
}

static void
test_pathological(void **state)
{
	char	*path, *dirs, *p;
	double	 t0 = now();

	path = repeat("a", 4000, "");
	dirs = repeat("a/", 2000, "c");
	assert_int_equal(glob_match("*a*a*a*a*a*a*a*a*a*a*b", path), 0);
	assert_int_equal(glob_match("*a*a*a*a*a*a*a*a*a*a*", path), 1);
	assert_int_equal(glob_match("**/**/**/**/**/**/**/**/b", dirs), 0);
	assert_int_equal(glob_match("**/**/**/**/**/**/**/**/c", dirs), 1);
	assert_int_equal(glob_match("**/a/**/a/**/a/**/a/**/a/**/b", dirs), 0);
	p = repeat("*a", 2048, "b");		/* 4097 bytes: refused */
	assert_int_equal(glob_validate(p, NULL), -1);
	free(p);
	p = repeat("*a", 2047, "b");		/* 4095 bytes */
	assert_int_equal(glob_validate(p, NULL), 0);
	assert_int_equal(glob_match(p, path), 0);
	free(p);
	p = repeat("{,a}", 1000, "b");		/* 1000 optional a's */
	assert_int_equal(glob_validate(p, NULL), -1);	/* 2000 alts */
	free(p);
	p = repeat("{,a}", 512, "b");
	assert_int_equal(glob_validate(p, NULL), 0);
	assert_int_equal(glob_match(p, path), 0);
	path[511] = 'b';
	path[512] = '\0';
	assert_int_equal(glob_match(p, path), 1);
	free(p);
	p = repeat("{,}", 340, "");		/* end-of-path checks */
	assert_int_equal(glob_match(p, "x"), 0);
	assert_int_equal(glob_match(p, ""), 1);
	free(p);
	p = repeat("{,}", 340, "x");
	assert_int_equal(glob_match(p, ""), 0);
	assert_int_equal(glob_match(p, "x"), 1);
	free(p);
	free(path);
	free(dirs);
	/* Generous: the above is milliseconds of work, even under valgrind. */
	assert_true(now() - t0 < 20.0);
}

static void
test_nested_hostile(void **state)
{
	struct buf	 b = BUF_INIT;
	char		*path;
	int		 i;

	/* {a*,{a*,{a*,...}}}b, 32 deep, against 4000 a's. */
	for (i = 0; i < 31; i++)
		buf_adds(&b, "{*a*,");
	buf_adds(&b, "*a");
	for (i = 0; i < 31; i++)
		buf_addc(&b, '}');
	buf_addc(&b, 'b');
	assert_int_equal(glob_validate(buf_str(&b), NULL), 0);
	path = repeat("a", 4000, "");
	assert_int_equal(glob_match(buf_str(&b), path), 0);
	path[3999] = 'b';
	assert_int_equal(glob_match(buf_str(&b), path), 1);
	free(path);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_behaviour_examples),
		cmocka_unit_test(test_star_and_question),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_braces),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_doublestar_positions),
		cmocka_unit_test(test_reference_corners),
		cmocka_unit_test(test_vector_glob_semantics),
		cmocka_unit_test(test_vector_libfoo_multi),
		cmocka_unit_test(test_recipe_examples),
		cmocka_unit_test(test_validate_ok),
		cmocka_unit_test(test_validate_messages),
		cmocka_unit_test(test_validate_limits),
		cmocka_unit_test(test_validate_appends),
		cmocka_unit_test(test_pathological),
		cmocka_unit_test(test_nested_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
