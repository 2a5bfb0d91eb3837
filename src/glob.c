/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * glob.c: doublestar `files` patterns (BEHAVIOUR.md 3.7).
 *
 * The reference matches with doublestar v4, a backtracking scanner that
 * expands each brace by re-running itself on the pattern with the brace
 * replaced by one alternative.  That is exponential on hostile patterns,
 * so this file compiles the pattern into a table of tokens indexed by
 * byte offset and runs it as a set of states, one path character at a
 * time: O(len(path) * len(pattern)) work, no recursion on the path, and
 * braces are never expanded.  The scanner's observable rules are kept:
 *
 * - A brace alternative ends by continuing after the closing '}', so
 *   whatever follows an alternative (for "is this ** a whole segment?")
 *   is found by skipping out of the braces.  A '{' right after "**"
 *   makes it a plain star, as in the reference, which looks at the
 *   unexpanded '{'.
 * - Every alternative starts "at the start of a segment" (the reference
 *   restarts its scanner there), so an alternative may begin with a
 *   whole-segment "**" even when a letter precedes the brace.
 * - When the path runs out, what is left of the pattern must be one of
 *   the reference's six empty forms: nothing, "*", "**", or "**" with a
 *   slash before, after or on both sides (or a brace one of whose
 *   alternatives makes it so).  So "x" followed by a slash and "**"
 *   matches the path "x", but "x*" followed by the same does not.
 * - Characters are UTF-8 decoded as Go does (a bad byte is U+FFFD of
 *   width 1); a class may match '/', '?' and '*' never do.
 *
 * Where the reference's answer depends on its search order this file
 * follows every route instead.  Checked against a transliteration of the
 * reference on a million random patterns: without "**" the answers are
 * identical; with it they differ only when the path runs out and the
 * pattern's tail is one of the empty forms above that the reference
 * reaches or misses depending on which earlier star it had forgotten
 * (e.g. "*a**" then "/" against "aa": here a match, there none), or is a
 * brace it had already expanded on a route it abandoned.
 *
 * Trust: patterns come from recipes and are validated before use; paths
 * come from a staged tree written by an untrusted build script.  Work and
 * memory are bounded by the pattern limit in glob.h times the path.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

#define RUNE_ERROR	0xfffd
#define RUNE_MAX	0x10ffff
#define QUOTE_SHOW	256	/* longer patterns are shown truncated */

enum tok_kind {
	T_NONE = 0,	/* not a token start (inside a class, rune, escape) */
	T_LIT,		/* one rune, possibly escaped */
	T_ANY,		/* ? */
	T_CLASS,	/* [...] */
	T_STAR,		/* *, or a ** that is never a whole segment */
	T_DSTAR,	/* ** that is a segment when reached at segment start */
	T_OPEN,		/* { */
	T_ALTEND	/* , or } of a brace: go on after the '}' */
};

enum follow {
	F_OTHER = 0,	/* ** is a star */
	F_SLASH,	/* ** then '/': zero or more directories */
	F_END		/* ** ends the pattern: anything at all */
};

/*
 * One entry per byte offset of the pattern (plus the end).
 *   T_LIT    rune, next
 *   T_ANY    next
 *   T_CLASS  link = first body byte, rune = offset of ']', flag = negated
 *   T_STAR   next
 *   T_DSTAR  next (after both stars), flag = follow, link = after the '/'
 *   T_OPEN   link = its first T_ALTEND
 *   T_ALTEND next = after the brace's '}', link = next ',' or '}' of the
 *            same brace, -1 on the '}'
 */
struct tok {
	uint8_t	 kind;
	uint8_t	 flag;
	int32_t	 rune;
	int	 next;
	int	 link;
};

struct prog {
	const char	*pat;
	int		 len;
	struct tok	*t;
	int8_t		*zmemo;		/* end-of-path acceptance, -1 unknown */
};

/* State bits per pattern offset. */
#define ST_SEG0	0x01	/* standing here, not at a segment start */
#define ST_SEG1	0x02	/* standing here at a segment start */
#define ST_STAR	0x04	/* a star ending here may take one more character */
#define ST_DIRS	0x08	/* inside a whole-segment **, here after a slash */

struct set {
	uint8_t	*bits;
	int	*list;		/* offsets with any bit */
	int	 n;
};

struct sim {
	struct prog	*g;
	struct set	 s[2];
	int		*work;		/* (offset << 4 | bit) to expand */
	int		 nwork;
};

static int32_t	 dec(const char *, size_t, int *);
static int	 ref_valid(const char *, size_t);
static int	 class_resumable(const char *, size_t, size_t, size_t);
static const char *check_class(const char *, size_t, size_t *, int);
static const char *check(const char *, size_t);
static void	 quote(struct buf *, const char *, size_t);
static void	 prog_init(struct prog *, const char *, int);
static void	 prog_free(struct prog *);
static int	 tok_class(const char *, int, struct tok *);
static void	 tok_brace(struct prog *, int, int *, int *, int *);
static void	 tok_stars(struct prog *);
static int	 norm(const struct prog *, int);
static int	 class_has(const struct prog *, const struct tok *, int32_t);
static int	 zero_ok(struct prog *, int);
static int	 put(struct sim *, struct set *, int, uint8_t, int);
static int	 expand(struct sim *, int, int);
static int	 closure(struct sim *);
static void	 step(struct sim *, int32_t);
static int	 simulate(struct prog *, const char *);

/*
 * Decode one rune as Go's utf8.DecodeRuneInString: an invalid or short
 * sequence is U+FFFD of width 1, an empty input U+FFFD of width 0.
 */
static int32_t
dec(const char *s, size_t n, int *w)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		 lo = 0x80, hi = 0xbf;
	int			 len, i;
	int32_t			 r;

	*w = n == 0 ? 0 : 1;
	if (n == 0)
		return RUNE_ERROR;
	if (p[0] < 0x80)
		return p[0];
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, r = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, r = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, r = p[0] & 0x07;
	else
		return RUNE_ERROR;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < (size_t)len)
		return RUNE_ERROR;
	for (i = 1; i < len; i++) {
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			return RUNE_ERROR;
		r = r << 6 | (p[i] & 0x3f);
	}
	*w = len;
	return r;
}

/*
 * The reference's own validator on a piece of a pattern (classes
 * skipped with their escapes, braces counted).
 */
static int
ref_valid(const char *p, size_t len)
{
	size_t	 i;
	int	 depth = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\\') {
			if (++i >= len)
				return 0;
		} else if (p[i] == '[') {
			if (++i < len && (p[i] == '!' || p[i] == '^'))
				i++;
			if (i >= len || p[i] == ']')
				return 0;
			while (i < len && p[i] != ']')
				i += p[i] == '\\' ? 2 : 1;
			if (i >= len)
				return 0;
		} else if (p[i] == '{')
			depth++;
		else if (p[i] == '}' && depth-- == 0)
			return 0;
	}
	return depth == 0;
}

/*
 * A negated class that meets a matching item fails right there, and if
 * nothing is left to backtrack to the reference validates the rest of
 * the pattern from that point: the class's tail read as pattern text.
 * Refuse a negated class with a tail that would fail (an unescaped '{'
 * or '}', or a '[' just before the ']') after any of its items.
 */
static int
class_resumable(const char *p, size_t len, size_t i, size_t end)
{
	int32_t	 c;
	int	 w, last = 0;

	while (i < end) {
		c = dec(p + i, len - i, &w);
		i += w;
		if (last && c == '-' && i < end) {
			if (p[i] == '\\')
				i++;
			dec(p + i, len - i, &w);
			i += w;
			last = 0;
		} else {
			if (c == '\\') {
				c = dec(p + i, len - i, &w);
				i += w;
			}
			last = c < RUNE_MAX;
		}
		if (i < end && !ref_valid(p + i, end + 1 - i))
			return 0;
	}
	return 1;
}

/*
 * A class at p[*at] == '['; on success *at is its ']'.  Inside braces a
 * class may not hold ',', '{' or '}': the reference finds alternatives
 * without looking at classes and would cut such a class in two.
 */
static const char *
check_class(const char *p, size_t len, size_t *at, int depth)
{
	size_t	 i = *at + 1, body;
	int	 neg = 0;

	if (i < len && (p[i] == '!' || p[i] == '^')) {
		neg = 1;
		i++;
	}
	if (i >= len)
		return "unterminated character class";
	if (p[i] == ']')
		return "empty character class";
	for (body = i; i < len && p[i] != ']'; i++) {
		if (p[i] == '\\')
			i++;
		else if (depth > 0 && (p[i] == ',' || p[i] == '{' ||
		    p[i] == '}'))
			return "',', '{' or '}' in a character class inside "
			    "braces";
	}
	if (i >= len)
		return "unterminated character class";
	if (neg && !class_resumable(p, len, body, i))
		return "unescaped '{', '}' or '[' in a negated character "
		    "class";
	*at = i;
	return NULL;
}

/* The syntax check: NULL, or why the pattern is refused. */
static const char *
check(const char *p, size_t len)
{
	const char	*why;
	size_t		 i;
	int		 depth = 0, alts = 0;

	if (len > GLOB_MAX_LEN)
		return "pattern longer than 4096 bytes";
	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '\\':
			if (++i >= len)
				return "trailing backslash";
			break;
		case '[':
			if ((why = check_class(p, len, &i, depth)) != NULL)
				return why;
			break;
		case '{':
			if (++depth > GLOB_MAX_DEPTH)
				return "braces nested more than 32 deep";
			alts++;
			break;
		case ',':
			alts += depth > 0;
			break;
		case '}':
			if (depth-- == 0)
				return "unbalanced braces: '}' without '{'";
			break;
		}
		if (alts > GLOB_MAX_ALTS)
			return "more than 1024 brace alternatives";
	}
	return depth > 0 ? "unbalanced braces: '{' without '}'" : NULL;
}

/* The pattern as a double-quoted string, escaped for a log line. */
static void
quote(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, shown = n > QUOTE_SHOW ? QUOTE_SHOW : n;
	int			 raw8 = utf8_valid(s, n);

	buf_addc(b, '"');
	for (i = 0; i < shown; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_addf(b, "\\%c", p[i]);
		else if (p[i] == '\n')
			buf_adds(b, "\\n");
		else if (p[i] == '\t')
			buf_adds(b, "\\t");
		else if (p[i] == '\r')
			buf_adds(b, "\\r");
		else if (p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 && !raw8))
			buf_addf(b, "\\x%02x", p[i]);
		else
			buf_addc(b, p[i]);
	}
	buf_addc(b, '"');
	if (shown < n)
		buf_addf(b, "... (%zu bytes)", n);
}

int
glob_validate(const char *pattern, struct buf *err)
{
	struct buf	 q = BUF_INIT;
	const char	*why;
	size_t		 len = strlen(pattern);

	if ((why = check(pattern, len)) == NULL)
		return 0;
	if (err == NULL)
		return -1;
	quote(&q, pattern, len);
	errf(err, "invalid glob %s: %s", buf_str(&q), why);
	buf_free(&q);
	return -1;
}

/* Tokenise a class at offset i; returns the offset after its ']'. */
static int
tok_class(const char *p, int i, struct tok *t)
{
	int	 j = i + 1;

	t->kind = T_CLASS;
	if (p[j] == '!' || p[j] == '^') {
		t->flag = 1;
		j++;
	}
	t->link = j;
	while (p[j] != ']')
		j += p[j] == '\\' ? 2 : 1;
	t->rune = j;
	t->next = j + 1;
	return t->next;
}

/*
 * A brace character at offset i.  open[] holds the '{' offsets of the
 * open braces, last[] the offset of each one's latest '{' or ','.
 */
static void
tok_brace(struct prog *g, int i, int *open, int *last, int *depth)
{
	struct tok	*t = g->t;
	int		 e;

	if (g->pat[i] == '{') {
		t[i].kind = T_OPEN;
		open[*depth] = last[*depth] = i;
		(*depth)++;
		return;
	}
	t[i].kind = T_ALTEND;
	t[i].link = -1;
	t[last[*depth - 1]].link = i;
	last[*depth - 1] = i;
	if (g->pat[i] == ',')
		return;
	(*depth)--;
	for (e = t[open[*depth]].link; ; e = t[e].link) {
		t[e].next = i + 1;
		if (e == i)
			break;
	}
}

/*
 * Pair stars as the reference does: it looks at the next character of
 * the pattern with the braces it is inside already expanded, so a star
 * ending an alternative pairs with a star after the brace.
 */
static void
tok_stars(struct prog *g)
{
	struct tok	*t = g->t;
	int		 i, q, f;

	for (i = 0; i < g->len; i++) {
		if (t[i].kind != T_STAR)
			continue;
		q = norm(g, i + 1);
		if (q >= g->len || t[q].kind != T_STAR)
			continue;
		t[i].kind = T_DSTAR;
		t[i].next = q + 1;
		f = norm(g, q + 1);
		if (f >= g->len)
			t[i].flag = F_END;
		else if (g->pat[f] == '/' && t[f].kind == T_LIT) {
			t[i].flag = F_SLASH;
			t[i].link = f + 1;
		}
	}
}

/* Compile a pattern that passed check(). */
static void
prog_init(struct prog *g, const char *p, int len)
{
	int	 open[GLOB_MAX_DEPTH + 1], last[GLOB_MAX_DEPTH + 1];
	int	 i = 0, depth = 0, w;

	g->pat = p;
	g->len = len;
	g->t = xcalloc(len + 1, sizeof(*g->t));
	g->zmemo = xmalloc(len + 1);
	memset(g->zmemo, -1, len + 1);
	while (i < len) {
		struct tok *t = &g->t[i];

		if (p[i] == '[') {
			i = tok_class(p, i, t);
			continue;
		}
		if (p[i] == '{' || (depth > 0 && (p[i] == ',' ||
		    p[i] == '}'))) {
			tok_brace(g, i, open, last, &depth);
			i++;
			continue;
		}
		t->kind = p[i] == '?' ? T_ANY : p[i] == '*' ? T_STAR : T_LIT;
		w = 1;
		if (t->kind == T_LIT) {
			if (p[i] == '\\')
				i++;
			t->rune = dec(p + i, len - i, &w);
		}
		i += w;
		t->next = i;
	}
	tok_stars(g);
}

static void
prog_free(struct prog *g)
{
	free(g->t);
	free(g->zmemo);
}

/* Skip alternative ends: where the scanner really goes on. */
static int
norm(const struct prog *g, int p)
{
	while (p < g->len && g->t[p].kind == T_ALTEND)
		p = g->t[p].next;
	return p;
}

/* Does rune r belong to the class?  The reference's item rules. */
static int
class_has(const struct prog *g, const struct tok *t, int32_t r)
{
	const char	*p = g->pat;
	int		 i = t->link, end = t->rune, w, in = 0;
	int32_t		 c, hi, last = RUNE_MAX;

	while (i < end && !in) {
		c = dec(p + i, g->len - i, &w);
		i += w;
		if (last < RUNE_MAX && c == '-' && i < end) {
			if (p[i] == '\\')
				i++;
			hi = dec(p + i, g->len - i, &w);
			i += w;
			in = last <= r && r <= hi;
			last = RUNE_MAX;
			continue;
		}
		if (c == '\\') {
			c = dec(p + i, g->len - i, &w);
			i += w;
		}
		in = c == r;
		last = c;
	}
	return in != t->flag;
}

/*
 * The path is used up with the scanner at offset p: does the rest of
 * the pattern count as empty?  Exactly the reference's short list, with
 * a leading brace tried alternative by alternative (memoised).
 */
static int
zero_ok(struct prog *g, int p)
{
	static const char *const ok[] = {
		"", "*", "**", "/**", "**/", "/**/"
	};
	char	 rest[5];
	int	 n = 0, q, e, a;
	size_t	 k;

	p = norm(g, p);
	if (g->zmemo[p] >= 0)
		return g->zmemo[p];
	g->zmemo[p] = 0;
	if (p < g->len && g->t[p].kind == T_OPEN) {
		for (a = p + 1, e = g->t[p].link; ; a = e + 1, e = g->t[e].link)
			if (zero_ok(g, a) || g->t[e].link < 0)
				break;
		g->zmemo[p] = zero_ok(g, a);
		return g->zmemo[p];
	}
	for (q = p; (q = norm(g, q)) < g->len && n < 5; q++)
		rest[n++] = g->pat[q];
	if (q < g->len)
		return 0;
	for (k = 0; k < nitems(ok); k++)
		if (strlen(ok[k]) == (size_t)n && memcmp(ok[k], rest, n) == 0)
			g->zmemo[p] = 1;
	return g->zmemo[p];
}

/*
 * Add state `bit` at offset p to set s; `work` queues it for expansion.
 * Returns 1 if it was new.
 */
static int
put(struct sim *m, struct set *s, int p, uint8_t bit, int work)
{
	p = norm(m->g, p);
	if (s->bits[p] & bit)
		return 0;
	if (s->bits[p] == 0)
		s->list[s->n++] = p;
	s->bits[p] |= bit;
	if (work)
		m->work[m->nwork++] = p << 4 | bit;
	return 1;
}

/*
 * Expand a standing state through the tokens that take no character:
 * stars, "**" segments and braces.  Returns 1 when a final whole-segment
 * "**" is reached, which matches whatever is left of the path.
 */
static int
expand(struct sim *m, int p, int seg)
{
	const struct tok	*t = &m->g->t[p];
	struct set		*s = &m->s[0];
	int			 a, e;

	if (p >= m->g->len)
		return 0;
	switch (t->kind) {
	case T_DSTAR:
		if (seg && t->flag == F_END)
			return 1;
		if (seg && t->flag == F_SLASH) {
			put(m, s, t->link, ST_DIRS, 0);
			put(m, s, t->link, ST_SEG1, 1);
			break;
		}
		/* FALLTHROUGH */
	case T_STAR:
		put(m, s, t->next, ST_STAR, 0);
		put(m, s, t->next, ST_SEG0, 1);
		break;
	case T_OPEN:
		for (a = p + 1, e = t->link; ; a = e + 1, e = m->g->t[e].link) {
			put(m, s, a, ST_SEG1, 1);
			if (m->g->t[e].link < 0)
				break;
		}
		break;
	}
	return 0;
}

/* Expand every standing state of the current set. */
static int
closure(struct sim *m)
{
	struct set	*s = &m->s[0];
	int		 i, w;

	m->nwork = 0;
	for (i = 0; i < s->n; i++) {
		if (s->bits[s->list[i]] & ST_SEG0)
			m->work[m->nwork++] = s->list[i] << 4 | ST_SEG0;
		if (s->bits[s->list[i]] & ST_SEG1)
			m->work[m->nwork++] = s->list[i] << 4 | ST_SEG1;
	}
	while (m->nwork > 0) {
		w = m->work[--m->nwork];
		if (expand(m, w >> 4, (w & ST_SEG1) != 0))
			return 1;
	}
	return 0;
}

/* Take one path character r: current set -> next set, then swap. */
static void
step(struct sim *m, int32_t r)
{
	struct set		*cur = &m->s[0], *nx = &m->s[1], tmp;
	const struct tok	*t;
	int			 i, p, ok;
	uint8_t			 b;

	for (i = 0; i < cur->n; i++) {
		p = cur->list[i];
		b = cur->bits[p];
		cur->bits[p] = 0;
		if (b & ST_STAR && r != '/') {
			put(m, nx, p, ST_STAR, 0);
			put(m, nx, p, ST_SEG0, 0);
		}
		if (b & ST_DIRS) {
			put(m, nx, p, ST_DIRS, 0);
			if (r == '/')
				put(m, nx, p, ST_SEG1, 0);
		}
		if (!(b & (ST_SEG0 | ST_SEG1)) || p >= m->g->len)
			continue;
		t = &m->g->t[p];
		ok = (t->kind == T_LIT && t->rune == r) ||
		    (t->kind == T_ANY && r != '/') ||
		    (t->kind == T_CLASS && class_has(m->g, t, r));
		if (ok && t->kind == T_LIT && r == '/')
			put(m, nx, t->next, ST_SEG1, 0);
		else if (ok)
			put(m, nx, t->next, ST_SEG0, 0);
	}
	cur->n = 0;
	tmp = *cur;
	*cur = *nx;
	*nx = tmp;
}

static int
simulate(struct prog *g, const char *path)
{
	struct sim	 m;
	size_t		 n = strlen(path), at = 0;
	int		 i, w, res = 0, slots = g->len + 1;
	int32_t		 r;

	memset(&m, 0, sizeof(m));
	m.g = g;
	for (i = 0; i < 2; i++) {
		m.s[i].bits = xcalloc(slots, 1);
		m.s[i].list = xcalloc(slots, sizeof(int));
	}
	m.work = xcalloc(slots * 4, sizeof(int));
	put(&m, &m.s[0], 0, ST_SEG1, 0);
	while (at < n && m.s[0].n > 0 && res == 0) {
		if ((res = closure(&m)) != 0)
			break;
		r = dec(path + at, n - at, &w);
		at += w;
		step(&m, r);
	}
	for (i = 0; res == 0 && at >= n && i < m.s[0].n; i++)
		if (m.s[0].bits[m.s[0].list[i]] & (ST_SEG0 | ST_SEG1))
			res = zero_ok(g, m.s[0].list[i]);
	for (i = 0; i < 2; i++) {
		free(m.s[i].bits);
		free(m.s[i].list);
	}
	free(m.work);
	return res;
}

int
glob_match(const char *pattern, const char *path)
{
	struct prog	 g;
	size_t		 len = strlen(pattern);
	int		 res;

	if (check(pattern, len) != NULL)
		return 0;
	prog_init(&g, pattern, (int)len);
	res = simulate(&g, path);
	prog_free(&g);
	return res;
}
