/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tagpattern.c: upstream tag patterns (Go RE2 syntax on PCRE2), tag
 * matching and upstream/package version composition.
 *
 * Trust: patterns come from operator files; tags come from upstream
 * repositories and are hostile.  Tags are length-checked, matched
 * under PCRE2 match/depth/heap limits without JIT, and every capture
 * is validated as an upstream version before it is returned.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tagpattern.h"
#include "tdec.h"
#include "version.h"

#define TP_MATCH_LIMIT	100000
#define TP_DEPTH_LIMIT	1000
#define TP_HEAP_KIB	1024
#define TP_NEST_LIMIT	64
#define TP_SHOW_TAG	128	/* bytes of a tag quoted in messages */

enum { G_MAJOR, G_MINOR, G_PATCH, G_PRE, G_NUM };
static const char *const group_names[G_NUM] = {
	"major", "minor", "patch", "prerelease"
};

struct tagpattern {
	char			*src;
	pcre2_code		*re;
	pcre2_match_context	*mctx;
	int			 named;
	uint32_t		 grp[G_NUM];	/* 0 = absent */
};

static int	 is_alnum(int);
static const char *scan_group(const char *, size_t, size_t *);
static int	 scan_repeat(const char *, size_t, size_t *, int *);
static const char *scan_escape(const char *, size_t, size_t, int);
static const char *scan_class(const char *, size_t, size_t *);
static const char *scan_quant(const char *, size_t, size_t *, int *, int *);
static const char *subset_scan(const char *, size_t, size_t *);
static const char **group_name_table(const struct tagpattern *, uint32_t);
static int	 check_major_minor(const int [G_NUM], struct buf *);
static int	 check_groups(struct tagpattern *, struct buf *);
static int	 name_index(const char *);
static void	 quote_tag(struct buf *, const char *, size_t);
static char	*group_text(const char *, const PCRE2_SIZE *, uint32_t);
static char	*compose(const struct tagpattern *, const char *,
		    const PCRE2_SIZE *);

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/*
 * After "(": the group forms RE2 knows are "(", "(?:", "(?P<n>", "(?<n>"
 * and flag groups "(?imsU-imsU)" / "(?flags:".  Returns NULL when
 * supported, else what is not.
 */
static const char *
scan_group(const char *p, size_t n, size_t *i)
{
	size_t	 j = *i + 1, k;

	if (j < n && p[j] == '*')
		return "a backtracking verb \"(*\"";
	if (j >= n || p[j] != '?')
		return NULL;
	j++;
	if (j < n && p[j] == ':')
		return NULL;
	if (j + 1 < n && p[j] == 'P' && p[j + 1] == '<')
		return NULL;
	if (j < n && p[j] == 'P')
		return "a named backreference or recursion \"(?P=\" / \"(?P>\"";
	if (j + 1 < n && p[j] == '<' && (p[j + 1] == '=' || p[j + 1] == '!'))
		return "a lookbehind assertion \"(?<=\" / \"(?<!\"";
	if (j < n && p[j] == '<')
		return NULL;
	if (j < n && (p[j] == '=' || p[j] == '!'))
		return "a lookahead assertion \"(?=\" / \"(?!\"";
	if (j < n && p[j] == '>')
		return "an atomic group \"(?>\"";
	for (k = j; k < n && strchr("imsU-", p[k]) != NULL && p[k] != '\0';
	    k++)
		;
	if (k > j && k < n && (p[k] == ')' || p[k] == ':'))
		return NULL;
	return "this group syntax (only (?:...), (?P<name>...), "
	    "(?<name>...) and the flags i, m, s, U are RE2)";
}

/*
 * At "{": a counted repetition {n}, {n,} or {n,m}?  Sets *ok to 0 when
 * a bound exceeds the RE2 limit.  Advances *i past "}" when it is one.
 */
static int
scan_repeat(const char *p, size_t n, size_t *i, int *ok)
{
	size_t		 j = *i + 1;
	unsigned long	 v;
	int		 digits, part;

	*ok = 1;
	for (part = 0; part < 2; part++) {
		for (v = 0, digits = 0; j < n && p[j] >= '0' && p[j] <= '9';
		    j++, digits++) {
			if (v <= TAGPATTERN_MAX_REPEAT)
				v = v * 10 + (unsigned long)(p[j] - '0');
		}
		if (digits == 0 && part == 0)
			return 0;
		if (v > TAGPATTERN_MAX_REPEAT)
			*ok = 0;
		if (part == 0 && j < n && p[j] == ',') {
			j++;
			continue;
		}
		break;
	}
	if (j >= n || p[j] != '}')
		return 0;
	*i = j + 1;
	return 1;
}

/* The escapes RE2 and PCRE2 agree on (outside a class; inside: no bBAzQ). */
#define ESC_ANY		"dDsSwWpPx0aftnr"
#define ESC_OUTSIDE	"bBAzQ"

/* At "\\": NULL when the escape is RE2's too, else what it is. */
static const char *
scan_escape(const char *p, size_t n, size_t i, int in_class)
{
	unsigned char	 e = i + 1 < n ? (unsigned char)p[i + 1] : 0;

	if (e == 0 || (e & 0x80))
		return "this escape";
	if (!is_alnum(e) || strchr(ESC_ANY, e) != NULL ||
	    (!in_class && strchr(ESC_OUTSIDE, e) != NULL))
		return NULL;
	if (e >= '1' && e <= '9')
		return "a backreference";
	return "this escape";
}

/*
 * At "[": check the class and move *i past its "]".  A leading "]" (or
 * "^]") is literal; "[:name:]" is a POSIX class.
 */
static const char *
scan_class(const char *p, size_t n, size_t *i)
{
	const char	*why, *end;
	size_t		 j = *i + 1;

	if (j < n && p[j] == '^')
		j++;
	if (j < n && p[j] == ']')
		j++;
	while (j < n && p[j] != ']') {
		*i = j;
		if (p[j] == '\\') {
			if ((why = scan_escape(p, n, j, 1)) != NULL)
				return why;
			j += 2;
		} else if (p[j] == '[' && j + 1 < n && p[j + 1] == ':' &&
		    (end = strstr(p + j + 2, ":]")) != NULL)
			j = (size_t)(end - p) + 2;
		else
			j++;
	}
	*i = j + 1;
	return NULL;
}

/*
 * A quantifier at p[*i] ("*", "+", "?" or a counted "{n,m}")?  Refuses
 * one directly after another (possessive "a*+", nested "a{2}{3}") but
 * allows one lazy "?".  quant and lazy carry the state between atoms.
 */
static const char *
scan_quant(const char *p, size_t n, size_t *i, int *quant, int *lazy)
{
	int	 ok;

	if (p[*i] == '{') {
		if (!scan_repeat(p, n, i, &ok)) {
			*quant = 0;
			(*i)++;
			return NULL;
		}
		if (!ok)
			return "a repetition count above 1000";
	} else if (*quant && p[*i] == '?' && !*lazy) {
		*lazy = 1;
		(*i)++;
		return NULL;
	} else
		(*i)++;
	if (*quant)
		return "a possessive or nested quantifier";
	*quant = 1;
	*lazy = 0;
	return NULL;
}

/*
 * Refuse what PCRE2 accepts but RE2 does not (or means differently).
 * Runs after a successful pcre2_compile, so the syntax is sane.
 */
static const char *
subset_scan(const char *p, size_t n, size_t *off)
{
	size_t		 i = 0;
	int		 quoted = 0, quant = 0, lazy = 0;
	const char	*why = NULL;

	while (i < n && why == NULL) {
		*off = i;
		if (quoted) {
			if (p[i] == '\\' && i + 1 < n && p[i + 1] == 'E') {
				quoted = 0;
				i++;
			}
			i++;
		} else if (p[i] == '\\') {
			why = scan_escape(p, n, i, 0);
			quoted = i + 1 < n && p[i + 1] == 'Q';
			i += 2;
		} else if (p[i] == '[') {
			if ((why = scan_class(p, n, &i)) != NULL)
				*off = i;
		} else if (p[i] == '(') {
			why = scan_group(p, n, &i);
			i++;
		} else if (strchr("*+?{", p[i]) != NULL) {
			why = scan_quant(p, n, &i, &quant, &lazy);
			continue;
		} else
			i++;
		quant = 0;
	}
	return why;
}

static int
name_index(const char *name)
{
	int	 i;

	for (i = 0; i < G_NUM; i++)
		if (strcmp(name, group_names[i]) == 0)
			return i;
	return -1;
}

/* Capture group number -> its name (NULL: unnamed), for 1 .. ncap. */
static const char **
group_name_table(const struct tagpattern *tp, uint32_t ncap)
{
	const char	**names = xcalloc(ncap + 1, sizeof(*names));
	uint32_t	 nname = 0, esize = 0, i, g;
	PCRE2_SPTR	 table = NULL;

	pcre2_pattern_info(tp->re, PCRE2_INFO_NAMECOUNT, &nname);
	pcre2_pattern_info(tp->re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
	pcre2_pattern_info(tp->re, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < nname; i++) {
		g = ((uint32_t)table[i * esize] << 8) | table[i * esize + 1];
		if (g >= 1 && g <= ncap)
			names[g] = (const char *)table + i * esize + 2;
	}
	return names;
}

/* Named groups must include both major and minor. */
static int
check_major_minor(const int seen[G_NUM], struct buf *err)
{
	struct buf	 got = BUF_INIT;
	int		 k;

	if (seen[G_MAJOR] && seen[G_MINOR])
		return 0;
	/* group_names sorted: major minor patch prerelease */
	for (k = 0; k < G_NUM; k++)
		if (seen[k])
			buf_addf(&got, "%s%s", got.len ? " " : "",
			    group_names[k]);
	errf(err, "tag_pattern with named groups requires both "
	    "'major' and 'minor' (got [%s])", buf_str(&got));
	buf_free(&got);
	return -1;
}

/* The capture-group rules, in the reference's order. */
static int
check_groups(struct tagpattern *tp, struct buf *err)
{
	uint32_t	 ncap = 0, g;
	const char	**names;
	int		 unnamed = 0, seen[G_NUM] = { 0 }, nseen = 0, k, rc = -1;

	pcre2_pattern_info(tp->re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (ncap == 0)
		return errf(err, "tag_pattern %s must have at least one "
		    "capture group (the version string)", tdec_q(tp->src));
	names = group_name_table(tp, ncap);
	for (g = 1; g <= ncap; g++) {
		if (names[g] == NULL) {
			unnamed++;
			continue;
		}
		if ((k = name_index(names[g])) == -1) {
			errf(err, "tag_pattern uses unknown named group %s "
			    "(allowed: major, minor, patch, prerelease)",
			    tdec_q(names[g]));
			goto out;
		}
		if (seen[k]) {
			errf(err, "tag_pattern repeats named group %s",
			    tdec_q(names[g]));
			goto out;
		}
		seen[k] = 1;
		tp->grp[k] = g;
		nseen++;
	}
	if (nseen > 0 && unnamed > 0) {
		errf(err, "tag_pattern mixes named and unnamed capture "
		    "groups \xe2\x80\x94 use one style");
		goto out;
	}
	if (nseen > 0 && check_major_minor(seen, err) == -1)
		goto out;
	tp->named = nseen > 0;
	rc = 0;
out:
	free(names);
	return rc;
}

struct tagpattern *
tagpattern_compile(const char *src, struct buf *err)
{
	struct tagpattern	*tp;
	pcre2_compile_context	*cctx;
	PCRE2_UCHAR		 msg[256];
	PCRE2_SIZE		 eoff;
	size_t			 len = strlen(src), off = 0;
	const char		*why;
	int			 ecode;

	if (len > TAGPATTERN_MAX_PATTERN) {
		errf(err, "invalid tag_pattern %s: longer than %d bytes",
		    tdec_q(src), TAGPATTERN_MAX_PATTERN);
		return NULL;
	}
	tp = xcalloc(1, sizeof(*tp));
	tp->src = xstrdup(src);
	if ((cctx = pcre2_compile_context_create(NULL)) == NULL)
		fatalx("pcre2_compile_context_create: out of memory");
	pcre2_set_parens_nest_limit(cctx, TP_NEST_LIMIT);
	tp->re = pcre2_compile((PCRE2_SPTR)src, len, PCRE2_UTF |
	    PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C |
	    PCRE2_NEVER_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_DUPNAMES, &ecode,
	    &eoff, cctx);
	pcre2_compile_context_free(cctx);
	if (tp->re == NULL) {
		if (pcre2_get_error_message(ecode, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "syntax error");
		errf(err, "invalid tag_pattern %s: %s at offset %zu",
		    tdec_q(src), (char *)msg, (size_t)eoff);
		goto fail;
	}
	if ((why = subset_scan(src, len, &off)) != NULL) {
		errf(err, "invalid tag_pattern %s: %s is not supported "
		    "(RE2 syntax) at offset %zu", tdec_q(src), why, off);
		goto fail;
	}
	if (check_groups(tp, err) == -1)
		goto fail;
	if ((tp->mctx = pcre2_match_context_create(NULL)) == NULL)
		fatalx("pcre2_match_context_create: out of memory");
	pcre2_set_match_limit(tp->mctx, TP_MATCH_LIMIT);
	pcre2_set_depth_limit(tp->mctx, TP_DEPTH_LIMIT);
	pcre2_set_heap_limit(tp->mctx, TP_HEAP_KIB);
	return tp;
fail:
	tagpattern_free(tp);
	return NULL;
}

void
tagpattern_free(struct tagpattern *tp)
{
	if (tp == NULL)
		return;
	pcre2_code_free(tp->re);
	pcre2_match_context_free(tp->mctx);
	free(tp->src);
	free(tp);
}

const char *
tagpattern_source(const struct tagpattern *tp)
{
	return tp->src;
}

int
tagpattern_named(const struct tagpattern *tp)
{
	return tp->named;
}

/* Quote a hostile tag for a message, shortened to TP_SHOW_TAG bytes. */
static void
quote_tag(struct buf *b, const char *tag, size_t len)
{
	tdec_quote(b, tag, len > TP_SHOW_TAG ? TP_SHOW_TAG : len);
	if (len > TP_SHOW_TAG)
		buf_addf(b, "... (%zu bytes)", len);
}

static char *
group_text(const char *tag, const PCRE2_SIZE *ov, uint32_t g)
{
	if (g == 0 || ov[2 * g] == PCRE2_UNSET)
		return xstrdup("");
	return xstrndup(tag + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

static char *
compose(const struct tagpattern *tp, const char *tag, const PCRE2_SIZE *ov)
{
	struct buf	 b = BUF_INIT;
	char		*s;

	if (!tp->named)
		return group_text(tag, ov, 1);
	s = group_text(tag, ov, tp->grp[G_MAJOR]);
	buf_adds(&b, s);
	free(s);
	s = group_text(tag, ov, tp->grp[G_MINOR]);
	buf_addf(&b, ".%s", s);
	free(s);
	s = group_text(tag, ov, tp->grp[G_PATCH]);
	if (s[0] != '\0')
		buf_addf(&b, ".%s", s);
	free(s);
	s = group_text(tag, ov, tp->grp[G_PRE]);
	if (s[0] != '\0')
		buf_addf(&b, "-%s", s);
	free(s);
	return buf_release(&b);
}

int
tagpattern_capture(const struct tagpattern *tp, const char *tag, size_t len,
    char **captured, struct buf *err)
{
	pcre2_match_data	*md;
	struct buf		 q = BUF_INIT;
	int			 rc;

	*captured = NULL;
	if (len > TAGPATTERN_MAX_TAG) {
		quote_tag(&q, tag, len);
		errf(err, "tag %s: longer than %d bytes", buf_str(&q),
		    TAGPATTERN_MAX_TAG);
		buf_free(&q);
		return -1;
	}
	if (memchr(tag, '\0', len) != NULL) {
		quote_tag(&q, tag, len);
		errf(err, "tag %s: contains a NUL byte", buf_str(&q));
		buf_free(&q);
		return -1;
	}
	if ((md = pcre2_match_data_create_from_pattern(tp->re, NULL)) == NULL)
		fatalx("pcre2_match_data_create: out of memory");
	rc = pcre2_match(tp->re, (PCRE2_SPTR)tag, len, 0, 0, md, tp->mctx);
	if (rc > 0) {
		*captured = compose(tp, tag, pcre2_get_ovector_pointer(md));
		rc = 1;
	} else if (rc == PCRE2_ERROR_NOMATCH)
		rc = 0;
	else {
		PCRE2_UCHAR	 msg[256];

		if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "match error");
		quote_tag(&q, tag, len);
		errf(err, "tag %s: matching tag_pattern %s failed: %s",
		    buf_str(&q), tdec_q(tp->src), (char *)msg);
		rc = -1;
	}
	pcre2_match_data_free(md);
	buf_free(&q);
	return rc;
}

enum tag_result
tagpattern_eval(const struct tagpattern *tp, const char *tag, size_t len,
    const char *min_version, int64_t revision, struct tag_match *m,
    struct buf *err)
{
	struct buf	 e = BUF_INIT, q = BUF_INIT;
	char		*cap = NULL;
	enum tag_result	 res = TAG_REFUSED;
	int		 rc;

	m->upstream = m->version = NULL;
	if ((rc = tagpattern_capture(tp, tag, len, &cap, err)) <= 0)
		return rc == 0 ? TAG_NOMATCH : TAG_REFUSED;
	quote_tag(&q, tag, len);
	if (version_upstream_valid(cap, &e) == -1) {
		errf(err, "tag %s: captured version %s is not a valid "
		    "upstream version: %s", buf_str(&q), tdec_q(cap),
		    buf_str(&e));
		goto out;
	}
	if (revision < 1) {
		errf(err, "tag %s: peios_revision %lld is not >= 1",
		    buf_str(&q), (long long)revision);
		goto out;
	}
	m->version = xasprintf("%s-%lld", cap, (long long)revision);
	if (!version_valid(m->version)) {
		errf(err, "tag %s: package version %s is not valid",
		    buf_str(&q), tdec_q(m->version));
		free(m->version);
		m->version = NULL;
		goto out;
	}
	m->upstream = cap;
	cap = NULL;
	res = TAG_MATCH;
	if (min_version != NULL && min_version[0] != '\0' &&
	    version_cmp_upstream(m->upstream, min_version) < 0) {
		free(m->version);
		m->version = NULL;
		res = TAG_BELOW_MIN;
	}
out:
	free(cap);
	buf_free(&e);
	buf_free(&q);
	return res;
}

void
tag_match_free(struct tag_match *m)
{
	free(m->upstream);
	free(m->version);
	m->upstream = m->version = NULL;
}
