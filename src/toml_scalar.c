/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml_scalar.c: the TOML 1.0 values that are one token: strings (basic,
 * literal, multi-line, escapes), booleans, integers (decimal, hex, octal,
 * binary), floats and the four date-time kinds.  The document structure
 * is toml.c's.
 *
 * Trust: the input is hostile (operator files); it is read only through
 * toml_peek() or within the bounds of the scanned token, and every
 * number is range-checked before it is converted.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "toml_int.h"

#define TOK_SHOW	40	/* bytes of a bad token quoted in errors */

static int	 parse_ml(struct parser *, struct buf *, int);
static int	 ml_backslash(struct parser *, struct buf *);
static int	 parse_escape(struct parser *, struct buf *);
static void	 utf8_put(struct buf *, uint32_t);
static int	 is_digit(int);
static size_t	 scan_token(const struct parser *);
static int	 bad_token(struct parser *, const char *, const char *, size_t,
		    const char *);
static int	 parse_number(struct parser *, struct toml_value *,
		    const char *, size_t);
static int	 parse_decimal(struct parser *, struct toml_value *,
		    const char *, size_t, size_t);
static int	 parse_radix(struct parser *, struct toml_value *,
		    const char *, size_t);
static int	 digval(int, int);
static long	 scan_digits(const char *, size_t, size_t *, int);
static int	 accumulate(const char *, size_t, size_t, int, uint64_t,
		    uint64_t *);
static int	 dt_num(const char *, size_t, size_t *, size_t, int *);
static int	 dt_sep(const char *, size_t, size_t *, char);
static const char *dt_date(const char *, size_t, size_t *);
static const char *dt_time(const char *, size_t, size_t *);
static const char *dt_offset(const char *, size_t, size_t *);
static int	 parse_datetime(struct parser *, struct toml_value *,
		    const char *, size_t);

/* ---- strings ------------------------------------------------------ */

int
toml_scalar_string(struct parser *p, struct toml_value *v)
{
	struct buf	 b = BUF_INIT;
	int		 q = toml_peek(p, 0), rc;

	if (toml_peek(p, 1) == q && toml_peek(p, 2) == q)
		rc = parse_ml(p, &b, q);
	else
		rc = toml_scalar_quoted(p, &b, q);
	if (rc == -1) {
		buf_free(&b);
		return -1;
	}
	v->type = TOML_STRING;
	v->u.str.len = b.len;
	v->u.str.s = buf_release(&b);
	return 0;
}

/* "basic" (q is '"') or 'literal' string on one line. */
int
toml_scalar_quoted(struct parser *p, struct buf *out, int q)
{
	int	 line = p->line, col = toml_colno(p), c;

	p->pos++;
	for (;;) {
		c = toml_peek(p, 0);
		if (c == -1 || c == '\n' || c == '\r')
			return toml_perr(p, line, col, "unterminated string");
		if (c == q) {
			p->pos++;
			return 0;
		}
		if (c == '\\' && q == '"') {
			if (parse_escape(p, out) == -1)
				return -1;
			continue;
		}
		if (toml_ctl(c))
			return toml_herr(p, "control character 0x%02x in "
			    "string", c);
		buf_addc(out, c);
		p->pos++;
	}
}

/* """multi-line basic""" or '''multi-line literal''' string. */
static int
parse_ml(struct parser *p, struct buf *out, int q)
{
	size_t	 n, start;
	int	 line = p->line, col = toml_colno(p), c;

	p->pos += 3;
	toml_eat_nl(p);		/* a newline right after the opening: trimmed */
	for (;;) {
		c = toml_peek(p, 0);
		start = p->pos;
		if (c == -1)
			return toml_perr(p, line, col, "unterminated "
			    "multi-line string");
		if (c == q) {
			/* Up to two quotes may precede the closing three. */
			for (n = 0; n < 6 && toml_peek(p, n) == q; n++)
				;
			if (n > 5)
				n = 5;
			buf_add(out, p->b + p->pos, n < 3 ? n : n - 3);
			p->pos += n;
			if (n >= 3)
				return 0;
		} else if (c == '\\' && q == '"') {
			if (ml_backslash(p, out) == -1)
				return -1;
		} else if (toml_eat_nl(p))
			buf_add(out, p->b + start, p->pos - start);
		else if (toml_ctl(c))
			return toml_herr(p, "control character 0x%02x in "
			    "string", c);
		else {
			buf_addc(out, c);
			p->pos++;
		}
	}
}

/* A line-ending backslash eats all whitespace and newlines after it. */
static int
ml_backslash(struct parser *p, struct buf *out)
{
	size_t	 i = 1;
	int	 c;

	while ((c = toml_peek(p, i)) == ' ' || c == '\t')
		i++;
	if (c != '\n' && c != '\r')
		return parse_escape(p, out);
	p->pos += i;
	do
		toml_skip_ws(p);
	while (toml_eat_nl(p));
	return 0;
}

static int
parse_escape(struct parser *p, struct buf *out)
{
	static const char	 from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char		*e;
	char			 d[TOML_DESC_MAX];
	uint32_t		 cp = 0;
	int			 c = toml_peek(p, 1), line = p->line;
	int			 col = toml_colno(p), i, n, h;

	if (c > 0 && (e = strchr(from, c)) != NULL) {
		buf_addc(out, to[e - from]);
		p->pos += 2;
		return 0;
	}
	if (c != 'u' && c != 'U') {
		if (c > 0x20 && c < 0x7f)
			return toml_herr(p, "invalid escape sequence "
			    "\"\\%c\"", c);
		p->pos++;
		return toml_perr(p, line, col, "invalid escape sequence: "
		    "backslash followed by %s", toml_describe(p, d));
	}
	n = c == 'u' ? 4 : 8;
	for (i = 0; i < n; i++) {
		if ((h = hex_digit(toml_peek(p, 2 + (size_t)i))) == -1)
			return toml_herr(p, "invalid escape sequence: "
			    "\\%c needs %d hex digits", c, n);
		cp = cp << 4 | (uint32_t)h;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return toml_herr(p, "invalid escape sequence \"\\%c%.*s\": "
		    "not a Unicode scalar value", c, n, p->b + p->pos + 2);
	utf8_put(out, cp);
	p->pos += 2 + (size_t)n;
	return 0;
}

static void
utf8_put(struct buf *out, uint32_t cp)
{
	if (cp < 0x80)
		buf_addc(out, (int)cp);
	else if (cp < 0x800) {
		buf_addc(out, (int)(0xc0 | cp >> 6));
		buf_addc(out, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(out, (int)(0xe0 | cp >> 12));
		buf_addc(out, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addc(out, (int)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(out, (int)(0xf0 | cp >> 18));
		buf_addc(out, (int)(0x80 | (cp >> 12 & 0x3f)));
		buf_addc(out, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addc(out, (int)(0x80 | (cp & 0x3f)));
	}
}

/* ---- booleans and numbers --------------------------------------- */

/* Booleans, numbers and date-times: one run of token characters. */
int
toml_scalar_parse(struct parser *p, struct toml_value *v)
{
	const char	*t = p->b + p->pos;
	size_t		 n = scan_token(p);
	int		 rc;

	if (n == 4 && memcmp(t, "true", 4) == 0) {
		v->type = TOML_BOOL;
		v->u.b = 1;
		rc = 0;
	} else if (n == 5 && memcmp(t, "false", 5) == 0) {
		v->type = TOML_BOOL;
		v->u.b = 0;
		rc = 0;
	} else if (memchr(t, ':', n) != NULL || (n >= 5 && t[4] == '-' &&
	    is_digit((unsigned char)t[0])))
		rc = parse_datetime(p, v, t, n);
	else
		rc = parse_number(p, v, t, n);
	if (rc == 0)
		p->pos += n;
	return rc;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static size_t
scan_token(const struct parser *p)
{
	size_t	 n = 0;
	int	 c;

	while ((c = toml_peek(p, n)) == '+' || c == '.' || c == ':' ||
	    toml_is_bare(c))
		n++;
	/* "1979-05-27 07:32:00": a date, one space, then a time. */
	if (n == 10 && toml_peek(p, 4) == '-' && toml_peek(p, 7) == '-' &&
	    toml_peek(p, 10) == ' ' && is_digit(toml_peek(p, 11)) &&
	    is_digit(toml_peek(p, 12)) && toml_peek(p, 13) == ':') {
		n = 11;
		while ((c = toml_peek(p, n)) == '+' || c == '.' || c == ':' ||
		    toml_is_bare(c))
			n++;
	}
	return n;
}

/* <pre> "<token>"<post>, the token cut at TOK_SHOW bytes. */
static int
bad_token(struct parser *p, const char *pre, const char *t, size_t n,
    const char *post)
{
	return toml_herr(p, "%s \"%.*s%s\"%s", pre,
	    (int)(n > TOK_SHOW ? TOK_SHOW : n), t, n > TOK_SHOW ? "..." : "",
	    post);
}

static int
parse_number(struct parser *p, struct toml_value *v, const char *t,
    size_t n)
{
	size_t	 i = 0;

	if (t[0] == '+' || t[0] == '-')
		i = 1;
	if (n - i == 3 && (memcmp(t + i, "inf", 3) == 0 ||
	    memcmp(t + i, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->u.f = t[i] == 'i' ? INFINITY : NAN;
		if (t[0] == '-')
			v->u.f = -v->u.f;
		return 0;
	}
	if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' ||
	    t[i + 1] == 'o' || t[i + 1] == 'b')) {
		if (i == 1)
			return bad_token(p, "invalid number", t, n,
			    ": only decimal numbers take a sign");
		return parse_radix(p, v, t, n);
	}
	return parse_decimal(p, v, t, n, i);
}

static int
digval(int c, int base)
{
	int	 d = hex_digit(c);

	return d < base ? d : -1;
}

/*
 * Digits of `base` from *i, with single underscores only between digits.
 * Returns the number of digits (0 if none), or -1 for a bad underscore.
 */
static long
scan_digits(const char *t, size_t n, size_t *i, int base)
{
	long	 nd = 0;

	for (; *i < n; (*i)++) {
		if (t[*i] == '_') {
			if (nd == 0 || *i + 1 >= n ||
			    digval((unsigned char)t[*i + 1], base) == -1)
				return -1;
			continue;
		}
		if (digval((unsigned char)t[*i], base) == -1)
			break;
		nd++;
	}
	return nd;
}

/* Integer magnitude of the digits in t (skipping sign, _ and prefix). */
static int
accumulate(const char *t, size_t n, size_t i, int base, uint64_t lim,
    uint64_t *out)
{
	uint64_t	 m = 0;
	int		 d;

	for (; i < n; i++) {
		if ((d = digval((unsigned char)t[i], base)) == -1)
			continue;
		if (m > (lim - (uint64_t)d) / (uint64_t)base)
			return -1;
		m = m * (uint64_t)base + (uint64_t)d;
	}
	*out = m;
	return 0;
}

static int
parse_decimal(struct parser *p, struct toml_value *v, const char *t,
    size_t n, size_t i)
{
	uint64_t	 m, lim = (uint64_t)INT64_MAX + (t[0] == '-');
	size_t		 start = i;
	char		*s, *end;
	long		 nd;
	int		 isfloat = 0, rc = 0;

	if (i == n || (!is_digit((unsigned char)t[i]) && t[i] != '.' &&
	    t[i] != '_'))
		return bad_token(p, "invalid value", t, n, "");
	nd = scan_digits(t, n, &i, 10);
	if (nd <= 0 || (t[start] == '0' && nd > 1))
		return bad_token(p, "invalid number", t, n, "");
	if (i < n && t[i] == '.') {
		i++;
		isfloat = 1;
		if (scan_digits(t, n, &i, 10) <= 0)
			return bad_token(p, "invalid number", t, n, "");
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		isfloat = 1;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (scan_digits(t, n, &i, 10) <= 0)
			return bad_token(p, "invalid number", t, n, "");
	}
	if (i != n)
		return bad_token(p, "invalid number", t, n, "");
	if (!isfloat) {
		if (accumulate(t, n, start, 10, lim, &m) == -1)
			return bad_token(p, "integer out of range", t, n, "");
		v->type = TOML_INTEGER;
		v->u.i = t[0] != '-' ? (int64_t)m : m == lim ? INT64_MIN :
		    -(int64_t)m;
		return 0;
	}
	/* The grammar is checked; strtod only converts (C locale). */
	s = xmalloc(n + 1);
	for (i = nd = 0; i < n; i++)
		if (t[i] != '_')
			s[nd++] = t[i];
	s[nd] = '\0';
	errno = 0;
	v->u.f = strtod(s, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(v->u.f)))
		rc = bad_token(p, "float out of range", t, n, "");
	else
		v->type = TOML_FLOAT;
	free(s);
	return rc;
}

static int
parse_radix(struct parser *p, struct toml_value *v, const char *t,
    size_t n)
{
	uint64_t	 m;
	size_t		 i = 2;
	int		 base;

	base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
	if (scan_digits(t, n, &i, base) <= 0 || i != n)
		return bad_token(p, "invalid number", t, n, "");
	if (accumulate(t, n, 2, base, INT64_MAX, &m) == -1)
		return bad_token(p, "integer out of range", t, n, "");
	v->type = TOML_INTEGER;
	v->u.i = (int64_t)m;
	return 0;
}

/* ---- date-times --------------------------------------------------- */

/* Exactly w digits at *i. */
static int
dt_num(const char *t, size_t n, size_t *i, size_t w, int *out)
{
	size_t	 k;

	if (n - *i < w)
		return -1;
	for (*out = 0, k = 0; k < w; k++) {
		if (!is_digit((unsigned char)t[*i + k]))
			return -1;
		*out = *out * 10 + t[*i + k] - '0';
	}
	*i += w;
	return 0;
}

static int
dt_sep(const char *t, size_t n, size_t *i, char c)
{
	if (*i >= n || t[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

static const char *
dt_date(const char *t, size_t n, size_t *i)
{
	static const int	 mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	int			 y, m, d, leap;

	if (dt_num(t, n, i, 4, &y) == -1 || dt_sep(t, n, i, '-') == -1 ||
	    dt_num(t, n, i, 2, &m) == -1 || dt_sep(t, n, i, '-') == -1 ||
	    dt_num(t, n, i, 2, &d) == -1)
		return ": bad format";
	if (m < 1 || m > 12)
		return ": month out of range";
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d < 1 || d > mdays[m - 1] + (m == 2 && leap))
		return ": day out of range";
	return NULL;
}

static const char *
dt_time(const char *t, size_t n, size_t *i)
{
	size_t	 k;
	int	 h, m, s;

	if (dt_num(t, n, i, 2, &h) == -1 || dt_sep(t, n, i, ':') == -1 ||
	    dt_num(t, n, i, 2, &m) == -1 || dt_sep(t, n, i, ':') == -1 ||
	    dt_num(t, n, i, 2, &s) == -1)
		return ": bad format";
	if (h > 23)
		return ": hour out of range";
	if (m > 59)
		return ": minute out of range";
	if (s > 60)		/* 60: leap second, as in RFC 3339 */
		return ": second out of range";
	if (*i < n && t[*i] == '.') {
		for (k = ++*i; *i < n && is_digit((unsigned char)t[*i]); (*i)++)
			;
		if (*i == k)
			return ": bad format";
	}
	return NULL;
}

static const char *
dt_offset(const char *t, size_t n, size_t *i)
{
	int	 h, m;

	if (t[*i] == 'Z' || t[*i] == 'z') {
		(*i)++;
		return NULL;
	}
	if ((t[*i] != '+' && t[*i] != '-') || (++*i, 0) ||
	    dt_num(t, n, i, 2, &h) == -1 || dt_sep(t, n, i, ':') == -1 ||
	    dt_num(t, n, i, 2, &m) == -1)
		return ": bad format";
	if (h > 23 || m > 59)
		return ": offset out of range";
	return NULL;
}

/* Validate; keep the source text as the value. */
static int
parse_datetime(struct parser *p, struct toml_value *v, const char *t,
    size_t n)
{
	enum toml_type	 type = TOML_LOCAL_TIME;
	const char	*why;
	size_t		 i = 0;

	if (n >= 3 && t[2] == ':')
		why = dt_time(t, n, &i);
	else {
		type = TOML_LOCAL_DATE;
		why = dt_date(t, n, &i);
		if (why == NULL && i < n) {
			type = TOML_LOCAL_DATETIME;
			if (t[i] != 'T' && t[i] != 't' && t[i] != ' ')
				why = ": bad format";
			else if (i++, (why = dt_time(t, n, &i)) == NULL &&
			    i < n) {
				type = TOML_DATETIME;
				why = dt_offset(t, n, &i);
			}
		}
	}
	if (why == NULL && i != n)
		why = ": bad format";
	if (why != NULL)
		return bad_token(p, "invalid date-time", t, n, why);
	v->type = type;
	v->u.str.s = xstrndup(t, n);
	v->u.str.len = n;
	return 0;
}
