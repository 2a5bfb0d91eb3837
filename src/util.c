/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * util.c: memory helpers, byte buffers, small string, file and time
 * helpers.  Used by every process; trusts nothing it is given.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xreallocarray(void *old, size_t nmemb, size_t size)
{
	void	*p;

	if ((p = reallocarray(old, nmemb == 0 ? 1 : nmemb,
	    size == 0 ? 1 : size)) == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *
xmemdup(const void *s, size_t n)
{
	void	*p;

	p = xmalloc(n);
	if (n > 0)
		memcpy(p, s, n);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf	 b = BUF_INIT;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (b.data == NULL)
		return xstrdup("");
	return buf_release(&b);
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t more)
{
	size_t	 need;

	if (more > SIZE_MAX - b->len - 1)
		fatalx("buffer size overflow");
	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	if (b->cap < 64)
		b->cap = 64;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->data = xreallocarray(b->data, 1, b->cap);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_addc(struct buf *b, int c)
{
	char	 ch = (char)c;

	buf_add(b, &ch, 1);
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("vsnprintf failed");
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *
buf_release(struct buf *b)
{
	char	*p;

	if (b->data == NULL)
		buf_grow(b, 0), b->data[0] = '\0';
	p = b->data;
	buf_init(b);
	return p;
}

const char *
buf_str(const struct buf *b)
{
	return b->data == NULL ? "" : b->data;
}

int
verrf(struct buf *err, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	if (err->len > 0)
		buf_addc(err, '\n');
	buf_vaddf(err, fmt, ap);
	return -1;
}

int
errf(struct buf *err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verrf(err, fmt, ap);
	va_end(ap);
	return -1;
}

uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

int
str_has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int
str_has_suffix(const char *s, const char *x)
{
	size_t	 ls = strlen(s), lx = strlen(x);

	return ls >= lx && memcmp(s + ls - lx, x, lx) == 0;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode exactly `n` hex characters (n even) into n/2 bytes. */
int
hex_decode(const char *in, size_t n, uint8_t *out)
{
	size_t	 i;
	int	 hi, lo;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		if ((hi = hex_digit((unsigned char)in[i])) == -1 ||
		    (lo = hex_digit((unsigned char)in[i + 1])) == -1)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
int
utf8_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, len;
	uint32_t		 cp, min;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			len = 2, cp = p[i] & 0x1f, min = 0x80;
		else if ((p[i] & 0xf0) == 0xe0)
			len = 3, cp = p[i] & 0x0f, min = 0x800;
		else if ((p[i] & 0xf8) == 0xf0)
			len = 4, cp = p[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int
read_fd(int fd, size_t max, struct buf *out, struct buf *err)
{
	char	 chunk[65536];
	ssize_t	 n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errf(err, "read: %s", strerror(errno));
		if (n == 0)
			break;
		if (out->len + (size_t)n > max)
			return errf(err, "larger than %zu bytes", max);
		buf_add(out, chunk, (size_t)n);
	}
	if (out->data == NULL)
		buf_add(out, "", 0);
	return 0;
}

int
read_file(const char *path, size_t max, struct buf *out, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errf(err, "%s: %s", path, strerror(errno));
	rc = read_fd(fd, max, out, &e);
	if (rc == -1)
		errf(err, "%s: %s", path, buf_str(&e));
	close(fd);
	buf_free(&e);
	return rc;
}

int
write_full(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
mkdir_p(const char *path, mode_t mode)
{
	char	*p, *s;
	int	 rc = 0;

	p = xstrdup(path);
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (*s == '/' && s[1] == '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int
rm_rf_at(int dfd, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_rf_at(dirfd(d), de->d_name) == -1)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* Remove a file or directory tree without following symlinks. */
int
rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

void
fmt_rfc3339(int64_t t, char out[32])
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int	 d[] = { 31,28,31,30,31,30,31,31,30,31,30,31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Parse an RFC 3339 date-time that ends in 'Z' (the only zone a PSD-009
 * producer may write).  Sets *secs to Unix seconds and *nanos to the
 * fraction (0 when absent).
 */
int
parse_rfc3339_z(const char *s, int64_t *secs, long *nanos, struct buf *err)
{
	int	 y, mo, d, h, mi, se, i;
	long	 frac = 0, scale = 100000000;
	size_t	 n = strlen(s);

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &se))
		return errf(err, "timestamp %s is not an RFC 3339 date-time", s);
	if (s[n - 1] != 'Z')
		return errf(err, "timestamp must end with 'Z' for UTC (got \"%s\")",
		    s);
	i = 19;
	if (s[i] == '.') {
		if ((size_t)++i == n - 1)
			return errf(err, "timestamp %s has an empty fraction", s);
		for (; (size_t)i < n - 1; i++) {
			if (s[i] < '0' || s[i] > '9')
				return errf(err, "timestamp %s is not an RFC 3339 "
				    "date-time", s);
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if ((size_t)i != n - 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
		return errf(err, "timestamp %s is not an RFC 3339 date-time", s);
	*secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	*nanos = frac;
	return 0;
}
