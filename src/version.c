/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * version.c: PSD-009 versions "[epoch:]upstream-revision": parsing,
 * rendering and the consumer client's ordering (CONSUMER.md 1.10).
 *
 * The ordering is the spec's, as the real consumer implements it: once a
 * pre-release tail begins (at '~' or a dev/alpha/a/beta/b/pre/rc token)
 * it runs to the end of the upstream string, a '-' does not end it, and
 * digit runs compare by value with no 64-bit limit.  Epochs and
 * revisions must fit an int64_t.
 *
 * Trust: strings come from upstream tags, recipes and manifests.  All
 * scanning is bounded by the string; comparison allocates nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

#define QUOTE_MAX	320	/* longer values are shown truncated */
#define QUOTE_KEEP	256
#define RANK_OTHER	5	/* alphabetic, not a pre-release keyword */

/* One segment of an upstream string: a maximal digit or letter run. */
struct seg {
	const char	*s;
	size_t		 len;
	int		 numeric;
	int		 rank;		/* letters: 0-4 keyword, 5 other */
	int		 pre;		/* in the pre-release tail */
};

struct seg_iter {
	const char	*p;
	const char	*end;
	int		 tail;		/* pre-release tail has begun */
};

static int	 is_digit(int);
static int	 is_alpha(int);
static int	 is_upstream_char(int);
static void	 quote(struct buf *, const char *, size_t);
static const char *char_repr(char [8], unsigned char);
static const char *num_parse(const char *, size_t, int64_t *);
static int	 upstream_why(const char *, size_t, struct buf *);
static int	 part_fail(struct buf *, const char *, size_t, const char *,
		    const char *, size_t, const char *);
static int	 parse_parts(const char *, size_t, int, struct pm_version *,
		    struct buf *);
static int	 split_revision(const char *, size_t, const char *, int,
		    const char **, int64_t *, struct buf *);
static int	 keyword_rank(const char *, size_t);
static int	 seg_next(struct seg_iter *, struct seg *);
static int	 num_cmp(const struct seg *, const struct seg *);
static int	 seg_cmp(const struct seg *, const struct seg *);
static int	 seg_tail(const struct seg *);
static int	 upstream_cmp(const char *, size_t, const char *, size_t);
static int	 sign(int);

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_upstream_char(int c)
{
	return is_digit(c) || is_alpha(c) || c == '.' || c == '+' ||
	    c == '-' || c == '~';
}

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

/*
 * Append `s` in double quotes, escaped so that the message stays one
 * printable ASCII line; values longer than QUOTE_MAX are cut.
 */
static void
quote(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, shown = n > QUOTE_MAX ? QUOTE_KEEP : n;

	buf_addc(b, '"');
	for (i = 0; i < shown; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_addf(b, "\\%c", p[i]);
		else if (p[i] == '\t')
			buf_adds(b, "\\t");
		else if (p[i] == '\n')
			buf_adds(b, "\\n");
		else if (p[i] == '\r')
			buf_adds(b, "\\r");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			buf_addf(b, "\\x%02x", p[i]);
		else
			buf_addc(b, p[i]);
	}
	buf_addc(b, '"');
	if (shown < n)
		buf_addf(b, "... (%zu bytes)", n);
}

static const char *
char_repr(char out[8], unsigned char c)
{
	if (c == '\'' || c == '\\')
		snprintf(out, 8, "'\\%c'", c);
	else if (c < 0x20 || c >= 0x7f)
		snprintf(out, 8, "'\\x%02x'", c);
	else
		snprintf(out, 8, "'%c'", c);
	return out;
}

/*
 * Epoch or revision digits: non-empty, ASCII decimal, no leading zero,
 * fits int64_t.  Returns NULL, or why the text is refused.
 */
static const char *
num_parse(const char *s, size_t n, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 i;

	if (n == 0)
		return "is empty";
	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return "is not a decimal number";
	if (n > 1 && s[0] == '0')
		return "has a leading zero";
	for (i = 0; i < n; i++) {
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return "is out of range (at most 9223372036854775807)";
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return NULL;
}

/* Why `s` is not an upstream version (appended to why), or 0 if it is. */
static int
upstream_why(const char *s, size_t n, struct buf *why)
{
	char	 c[8];
	size_t	 i;

	if (n == 0)
		return errf(why, "is empty");
	if (n > VERSION_MAX_LEN)
		return errf(why, "is longer than %d bytes (%zu)",
		    VERSION_MAX_LEN, n);
	if (!is_digit((unsigned char)s[0]) && !is_alpha((unsigned char)s[0]))
		return errf(why, "must start with an ASCII letter or digit, "
		    "not %s", char_repr(c, (unsigned char)s[0]));
	for (i = 1; i < n; i++) {
		if (is_upstream_char((unsigned char)s[i]))
			continue;
		return errf(why, "contains invalid character %s at byte %zu "
		    "(allowed: letters, digits, . + - ~)",
		    char_repr(c, (unsigned char)s[i]), i);
	}
	return 0;
}

int
version_upstream_valid_len(const char *s, size_t n, struct buf *err)
{
	struct buf	 q = BUF_INIT, why = BUF_INIT;
	int		 rc = 0;

	if (upstream_why(s, n, &why) == -1) {
		quote(&q, s, n);
		rc = errf(err, "upstream version %s %s", buf_str(&q),
		    buf_str(&why));
	}
	buf_free(&q);
	buf_free(&why);
	return rc;
}

int
version_upstream_valid(const char *s, struct buf *err)
{
	return version_upstream_valid_len(s, strlen(s), err);
}

/* Append `version "<s>": <what> "<part>" <why>` and return -1. */
static int
part_fail(struct buf *err, const char *s, size_t n, const char *what,
    const char *part, size_t plen, const char *why)
{
	struct buf	 qs = BUF_INIT, qp = BUF_INIT;

	quote(&qs, s, n);
	quote(&qp, part, plen);
	errf(err, "version %s: %s %s %s", buf_str(&qs), what, buf_str(&qp),
	    why);
	buf_free(&qs);
	buf_free(&qp);
	return -1;
}

/*
 * Find the revision after the last '-' following `rest` (which runs to
 * s + n) and set *up_end to the end of the upstream part.  With `need`
 * set a revision is required.  Otherwise (a constraint operand) a suffix
 * that is not a valid revision, or that leaves no valid upstream before
 * it, belongs to the upstream and the revision is 0.
 */
static int
split_revision(const char *s, size_t n, const char *rest, int need,
    const char **up_end, int64_t *rev, struct buf *err)
{
	const char	*dash, *why;
	size_t		 restlen = n - (size_t)(rest - s), rlen;
	struct buf	 scratch = BUF_INIT;
	int		 ok;

	*up_end = s + n;
	*rev = 0;
	if ((dash = memrchr(rest, '-', restlen)) == NULL) {
		if (!need)
			return 0;
		quote(&scratch, s, n);
		errf(err, "version %s: no -revision", buf_str(&scratch));
		buf_free(&scratch);
		return -1;
	}
	rlen = n - (size_t)(dash + 1 - s);
	if ((why = num_parse(dash + 1, rlen, rev)) == NULL && *rev == 0)
		why = "must be at least 1";
	if (!need) {
		ok = why == NULL &&
		    upstream_why(rest, (size_t)(dash - rest), &scratch) == 0;
		buf_free(&scratch);
		if (ok)
			*up_end = dash;
		else
			*rev = 0;
		return 0;
	}
	if (why != NULL)
		return part_fail(err, s, n, "revision", dash + 1, rlen, why);
	*up_end = dash;
	return 0;
}

/* "[epoch:]upstream[-revision]"; the revision is optional unless `need`. */
static int
parse_parts(const char *s, size_t n, int need, struct pm_version *v,
    struct buf *err)
{
	struct buf	 why = BUF_INIT;
	const char	*colon, *rest = s, *up_end, *ewhy;
	int64_t		 epoch = 0, rev;
	size_t		 uplen;
	int		 rc = -1;

	memset(v, 0, sizeof(*v));
	if ((colon = memchr(s, ':', n)) != NULL) {
		ewhy = num_parse(s, (size_t)(colon - s), &epoch);
		if (ewhy != NULL) {
			part_fail(err, s, n, "epoch", s, (size_t)(colon - s),
			    ewhy);
			goto out;
		}
		rest = colon + 1;
	}
	if (split_revision(s, n, rest, need, &up_end, &rev, err) == -1)
		goto out;
	uplen = (size_t)(up_end - rest);
	if (upstream_why(rest, uplen, &why) == -1) {
		part_fail(err, s, n, "upstream", rest, uplen, buf_str(&why));
		goto out;
	}
	v->epoch = epoch;
	v->upstream = xstrndup(rest, uplen);
	v->revision = rev;
	rc = 0;
out:
	buf_free(&why);
	return rc;
}

int
version_parse(const char *s, struct pm_version *v, struct buf *err)
{
	return parse_parts(s, strlen(s), 1, v, err);
}

int
version_parse_operand(const char *s, size_t n, struct pm_version *v,
    int *has_revision, struct buf *err)
{
	if (parse_parts(s, n, 0, v, err) == -1)
		return -1;
	*has_revision = v->revision != 0;
	return 0;
}

void
version_free(struct pm_version *v)
{
	free(v->upstream);
	v->upstream = NULL;
}

int
version_valid(const char *s)
{
	struct pm_version	 v;
	int			 ok;

	ok = parse_parts(s, strlen(s), 1, &v, NULL) == 0;
	version_free(&v);
	return ok;
}

void
version_format(struct buf *b, const struct pm_version *v)
{
	if (v->epoch != 0)
		buf_addf(b, "%lld:", (long long)v->epoch);
	buf_adds(b, v->upstream);
	if (v->revision != 0)	/* 0: an operand written without one */
		buf_addf(b, "-%lld", (long long)v->revision);
}

/* Pre-release keywords, matched case-insensitively: rank 0-4. */
static int
keyword_rank(const char *s, size_t n)
{
	static const struct {
		const char	*word;
		int		 rank;
	} kw[] = {
		{ "dev", 0 }, { "alpha", 1 }, { "a", 1 }, { "beta", 2 },
		{ "b", 2 }, { "pre", 3 }, { "rc", 4 }
	};
	size_t	 i;

	for (i = 0; i < nitems(kw); i++)
		if (strlen(kw[i].word) == n &&
		    strncasecmp(kw[i].word, s, n) == 0)
			return kw[i].rank;
	return RANK_OTHER;
}

/*
 * Next segment, or 0 at the end.  Anything but an ASCII letter or digit
 * separates (only . + - ~ occur in a valid upstream); '~' and keywords
 * start the pre-release tail, which nothing ends.
 */
static int
seg_next(struct seg_iter *it, struct seg *sg)
{
	int	 digit;

	while (it->p < it->end && !is_digit((unsigned char)*it->p) &&
	    !is_alpha((unsigned char)*it->p)) {
		if (*it->p == '~')
			it->tail = 1;
		it->p++;
	}
	if (it->p == it->end)
		return 0;
	sg->s = it->p;
	digit = is_digit((unsigned char)*it->p);
	while (it->p < it->end && (digit ? is_digit((unsigned char)*it->p) :
	    is_alpha((unsigned char)*it->p)))
		it->p++;
	sg->len = (size_t)(it->p - sg->s);
	sg->numeric = digit;
	sg->rank = digit ? RANK_OTHER : keyword_rank(sg->s, sg->len);
	if (sg->rank < RANK_OTHER)
		it->tail = 1;
	sg->pre = it->tail;
	return 1;
}

/* Digit runs by value, any length: drop leading zeros, then length, bytes. */
static int
num_cmp(const struct seg *a, const struct seg *b)
{
	const char	*pa = a->s, *pb = b->s;
	size_t		 la = a->len, lb = b->len;

	while (la > 0 && *pa == '0')
		pa++, la--;
	while (lb > 0 && *pb == '0')
		pb++, lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	return sign(memcmp(pa, pb, la));
}

static int
seg_cmp(const struct seg *a, const struct seg *b)
{
	size_t	 n;
	int	 c;

	if (a->numeric && b->numeric)
		return num_cmp(a, b);
	if (a->numeric)
		return b->pre ? 1 : -1;
	if (b->numeric)
		return a->pre ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->rank < RANK_OTHER)
		return 0;	/* aliases: a == alpha, b == beta */
	n = a->len < b->len ? a->len : b->len;
	if ((c = memcmp(a->s, b->s, n)) != 0)
		return sign(c);
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

/* The sequence that goes on with `next` compared with one that ended. */
static int
seg_tail(const struct seg *next)
{
	return !next->numeric && next->pre ? -1 : 1;
}

static int
upstream_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	struct seg_iter	 ia = { a, a + na, 0 }, ib = { b, b + nb, 0 };
	struct seg	 sa, sb;
	int		 ha, hb, c;

	for (;;) {
		ha = seg_next(&ia, &sa);
		hb = seg_next(&ib, &sb);
		if (!ha && !hb)
			return 0;
		if (!hb)
			return seg_tail(&sa);
		if (!ha)
			return -seg_tail(&sb);
		if ((c = seg_cmp(&sa, &sb)) != 0)
			return c;
	}
}

int
version_cmp(const struct pm_version *a, const struct pm_version *b)
{
	int	 c;

	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	c = upstream_cmp(a->upstream, strlen(a->upstream), b->upstream,
	    strlen(b->upstream));
	if (c != 0)
		return c;
	if (a->revision != b->revision)
		return a->revision < b->revision ? -1 : 1;
	return 0;
}

int
version_cmp_str(const char *a, const char *b, struct buf *err)
{
	struct pm_version	 va, vb;
	int			 rc = -2;

	if (version_parse(a, &va, err) == 0) {
		if (version_parse(b, &vb, err) == 0) {
			rc = version_cmp(&va, &vb);
			version_free(&vb);
		}
		version_free(&va);
	}
	return rc;
}

int
version_cmp_upstream(const char *a, const char *b)
{
	struct pm_version	 va, vb;
	char			*fa, *fb;
	int			 rc;

	fa = xasprintf("%s-1", a);
	fb = xasprintf("%s-1", b);
	if (version_parse(fa, &va, NULL) == 0 &&
	    version_parse(fb, &vb, NULL) == 0) {
		rc = version_cmp(&va, &vb);
		version_free(&vb);
	} else
		rc = upstream_cmp(a, strlen(a), b, strlen(b));
	version_free(&va);
	free(fa);
	free(fb);
	return rc;
}
