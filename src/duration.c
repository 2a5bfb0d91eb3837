/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * duration.c: Go duration syntax, parsed into int64 nanoseconds with
 * overflow checks, and formatted back the way Go prints it.
 *
 * Trust: operator files (config, recipes).  Only the given string is
 * read; values are quoted and escaped in error messages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "tdec.h"

#define BIT63	(UINT64_C(1) << 63)

struct unit {
	const char	*name;
	uint64_t	 ns;
};

static const struct unit units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },		/* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },		/* U+03BC Greek small mu */
	{ "ms", 1000000 },
	{ "s", 1000000000 },
	{ "m", UINT64_C(60000000000) },
	{ "h", UINT64_C(3600000000000) },
};

static int	 isdig(char);
static int	 leading_int(const char **, uint64_t *);
static void	 leading_frac(const char **, uint64_t *, double *);
static int	 bad(struct buf *, const char *, const char *);
static int	 component(const char **, const char *, uint64_t *,
		    struct buf *);
static int	 fmt_frac(char *, int, uint64_t *, int);
static int	 fmt_int(char *, int, uint64_t);

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

static int
bad(struct buf *err, const char *orig, const char *why)
{
	struct buf	 q = BUF_INIT;

	tdec_quote(&q, orig, strlen(orig));
	errf(err, "invalid duration %s: %s", buf_str(&q), why);
	buf_free(&q);
	return -1;
}

/* Digits before the point; -1 on overflow. */
static int
leading_int(const char **sp, uint64_t *x)
{
	const char	*s = *sp;

	*x = 0;
	for (; isdig(*s); s++) {
		if (*x > BIT63 / 10)
			return -1;
		*x = *x * 10 + (uint64_t)(*s - '0');
		if (*x > BIT63)
			return -1;
	}
	*sp = s;
	return 0;
}

/* Digits after the point; digits beyond precision are ignored. */
static void
leading_frac(const char **sp, uint64_t *x, double *scale)
{
	const char	*s = *sp;
	uint64_t	 y;
	int		 overflow = 0;

	*x = 0;
	*scale = 1;
	for (; isdig(*s); s++) {
		if (overflow)
			continue;
		if (*x > (BIT63 - 1) / 10) {
			overflow = 1;
			continue;
		}
		y = *x * 10 + (uint64_t)(*s - '0');
		if (y > BIT63) {
			overflow = 1;
			continue;
		}
		*x = y;
		*scale *= 10;
	}
	*sp = s;
}

/* One <number><unit>; adds its value to *d. */
static int
component(const char **sp, const char *orig, uint64_t *d, struct buf *err)
{
	const char	*s = *sp, *u;
	uint64_t	 v, f = 0, unit = 0;
	double		 scale = 1;
	size_t		 i, ulen;
	int		 pre, post = 0;

	if (!(*s == '.' || isdig(*s)))
		return bad(err, orig, "expected a number followed by a unit "
		    "(ns, us, ms, s, m, h)");
	u = s;
	if (leading_int(&s, &v) == -1)
		return bad(err, orig, "out of range");
	pre = s != u;
	if (*s == '.') {
		u = ++s;
		leading_frac(&s, &f, &scale);
		post = s != u;
	}
	if (!pre && !post)
		return bad(err, orig, "expected digits around the '.'");
	for (u = s; *s != '\0' && *s != '.' && !isdig(*s); s++)
		;
	if ((ulen = (size_t)(s - u)) == 0)
		return bad(err, orig, "missing unit");
	for (i = 0; i < nitems(units); i++)
		if (strlen(units[i].name) == ulen &&
		    memcmp(units[i].name, u, ulen) == 0)
			unit = units[i].ns;
	if (unit == 0) {
		struct buf	 m = BUF_INIT;
		int		 rc;

		buf_adds(&m, "unknown unit ");
		tdec_quote(&m, u, ulen);
		buf_adds(&m, " (want ns, us, ms, s, m or h)");
		rc = bad(err, orig, buf_str(&m));
		buf_free(&m);
		return rc;
	}
	if (v > BIT63 / unit)
		return bad(err, orig, "out of range");
	v *= unit;
	if (f > 0) {
		v += (uint64_t)((double)f * ((double)unit / scale));
		if (v > BIT63)
			return bad(err, orig, "out of range");
	}
	*d += v;
	if (*d > BIT63)
		return bad(err, orig, "out of range");
	*sp = s;
	return 0;
}

int
duration_parse(const char *orig, int64_t *out, struct buf *err)
{
	const char	*s = orig;
	uint64_t	 d = 0;
	int		 neg = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return bad(err, orig, "empty");
	while (*s != '\0')
		if (component(&s, orig, &d, err) == -1)
			return -1;
	if (!neg && d > BIT63 - 1)
		return bad(err, orig, "out of range");
	/* -2^63 is representable; the cast wraps to INT64_MIN. */
	*out = neg ? (int64_t)(~d + 1) : (int64_t)d;
	return 0;
}

/* Fraction digits of v (prec of them, trailing zeros dropped). */
static int
fmt_frac(char *buf, int w, uint64_t *v, int prec)
{
	int	 i, print = 0;
	unsigned digit;

	for (i = 0; i < prec; i++) {
		digit = (unsigned)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static int
fmt_int(char *buf, int w, uint64_t v)
{
	if (v == 0)
		buf[--w] = '0';
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

void
duration_format(int64_t d, char out[DURATION_FMT_MAX])
{
	char		 buf[DURATION_FMT_MAX];
	int		 w = (int)sizeof(buf);
	uint64_t	 u = (uint64_t)d;

	if (d < 0)
		u = ~u + 1;
	buf[--w] = 's';
	if (u < (uint64_t)DURATION_S) {
		int	 prec = 6;

		if (u == 0) {
			memcpy(out, "0s", 3);
			return;
		} else if (u < (uint64_t)DURATION_US) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < (uint64_t)DURATION_MS) {
			prec = 3;
			w -= 2;
			memcpy(buf + w, "\xc2\xb5", 2);
		} else
			buf[--w] = 'm';
		w = fmt_frac(buf, w, &u, prec);
		w = fmt_int(buf, w, u);
	} else {
		w = fmt_frac(buf, w, &u, 9);
		w = fmt_int(buf, w, u % 60);
		if ((u /= 60) > 0) {
			buf[--w] = 'm';
			w = fmt_int(buf, w, u % 60);
			if ((u /= 60) > 0) {
				buf[--w] = 'h';
				w = fmt_int(buf, w, u);
			}
		}
	}
	if (d < 0)
		buf[--w] = '-';
	memcpy(out, buf + w, sizeof(buf) - (size_t)w);
	out[sizeof(buf) - (size_t)w] = '\0';
}

const char *
duration_str(int64_t d)
{
	static __thread char	 ring[8][DURATION_FMT_MAX];
	static __thread int	 next;
	char			*r = ring[next];

	next = (next + 1) % 8;
	duration_format(d, r);
	return r;
}
