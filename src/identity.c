/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * identity.c: what the real consumer client accepts as package names,
 * architectures, manifest fields and payload paths (CONSUMER.md 1.8 and
 * 1.9).  Where the spec is stricter or looser, the consumer wins: names
 * may contain and end with '+', descriptions are any printable UTF-8.
 *
 * Trust: values come from recipes (operator-written), from upstream
 * (versions) and from build output (paths: hostile).  Every check is a
 * bounded scan of the value; only the NFC check allocates.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "identity.h"
#include "log.h"
#include "version.h"

#define NAME_MIN	2
#define NAME_MAX_LEN	64
#define ARCH_MAX_LEN	16
#define URL_MAX_LEN	4096
#define CONSTRAINT_MAX	4096
#define QUOTE_MAX	320
#define QUOTE_KEEP	256

static int	 fail(struct buf *, const char *, const char *, size_t,
		    const char *, ...) PM_PRINTF(5, 6);
static const char *char_repr(char [8], unsigned char);
static int	 is_lower(int);
static int	 is_digit(int);
static int	 is_name_sep(int);
static size_t	 quote_cut(const char *, size_t);
static int	 url_scheme(const char *, size_t *);
static int	 url_escapes(const char *, size_t *);
static int	 url_authority(const char *, const char *, size_t,
		    struct buf *);
static int	 url_host(const char *, size_t, const char **);
static int	 constraint_expr(const char *, const char *, size_t, int,
		    struct buf *);
static int	 path_bytes(const char *, size_t, struct buf *);
static int	 path_components(const char *, size_t, struct buf *);

static int
is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_name_sep(int c)
{
	return c == '-' || c == '.';
}

/* Append `<what> "<value>": <reason>` and return -1. */
static int
fail(struct buf *err, const char *what, const char *s, size_t n,
    const char *fmt, ...)
{
	struct buf	 q = BUF_INIT, why = BUF_INIT;
	va_list		 ap;

	ident_quote(&q, s, n);
	va_start(ap, fmt);
	buf_vaddf(&why, fmt, ap);
	va_end(ap);
	errf(err, "%s %s: %s", what, buf_str(&q), buf_str(&why));
	buf_free(&q);
	buf_free(&why);
	return -1;
}

static const char *
char_repr(char out[8], unsigned char c)
{
	if (c == '\t')
		snprintf(out, 8, "'\\t'");
	else if (c == '\n')
		snprintf(out, 8, "'\\n'");
	else if (c == '\r')
		snprintf(out, 8, "'\\r'");
	else if (c == '\'' || c == '\\')
		snprintf(out, 8, "'\\%c'", c);
	else if (c < 0x20 || c >= 0x7f)
		snprintf(out, 8, "'\\x%02x'", c);
	else
		snprintf(out, 8, "'%c'", c);
	return out;
}

int
ident_is_print(uint32_t uc)
{
	return uc == ' ' || uc_is_general_category_withtable(uc,
	    UC_CATEGORY_MASK_L | UC_CATEGORY_MASK_M | UC_CATEGORY_MASK_N |
	    UC_CATEGORY_MASK_P | UC_CATEGORY_MASK_S);
}

/* How many bytes of a long value to show: QUOTE_KEEP, on a UTF-8 boundary. */
static size_t
quote_cut(const char *s, size_t n)
{
	size_t	 k = QUOTE_KEEP;

	if (n <= QUOTE_MAX)
		return n;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

void
ident_quote(struct buf *b, const char *s, size_t n)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 i, shown = quote_cut(s, n);
	ucs4_t		 uc;
	int		 k;

	buf_addc(b, '"');
	for (i = 0; i < shown; i += (size_t)k) {
		k = u8_mbtoucr(&uc, p + i, shown - i);
		if (k < 0) {
			buf_addf(b, "\\x%02x", p[i]);
			k = 1;
		} else if (uc == '"' || uc == '\\')
			buf_addf(b, "\\%c", (int)uc);
		else if (uc == '\t' || uc == '\n' || uc == '\r')
			buf_addf(b, "\\%c", uc == '\t' ? 't' :
			    uc == '\n' ? 'n' : 'r');
		else if (ident_is_print(uc))
			buf_add(b, p + i, (size_t)k);
		else if (uc < 0x80)
			buf_addf(b, "\\x%02x", (unsigned)uc);
		else if (uc <= 0xffff)
			buf_addf(b, "\\u%04x", (unsigned)uc);
		else
			buf_addf(b, "\\U%08x", (unsigned)uc);
	}
	buf_addc(b, '"');
	if (shown < n)
		buf_addf(b, "... (%zu bytes)", n);
}

int
ident_name(const char *s, struct buf *err)
{
	static const char	 what[] = "package name";
	size_t			 n = strlen(s), i;
	char			 c[8];

	if (n < NAME_MIN || n > NAME_MAX_LEN)
		return fail(err, what, s, n, "must be %d-%d bytes long, "
		    "not %zu", NAME_MIN, NAME_MAX_LEN, n);
	for (i = 0; i < n; i++) {
		if (is_lower(s[i]) || is_digit(s[i]) || s[i] == '+' ||
		    is_name_sep(s[i]))
			continue;
		if (s[i] >= 'A' && s[i] <= 'Z')
			return fail(err, what, s, n, "must be lowercase "
			    "(%s at byte %zu)", char_repr(c, s[i]), i);
		return fail(err, what, s, n, "contains invalid character %s "
		    "at byte %zu (allowed: a-z 0-9 . + -)",
		    char_repr(c, (unsigned char)s[i]), i);
	}
	if (!is_lower(s[0]) && !is_digit(s[0]))
		return fail(err, what, s, n,
		    "must start with a lowercase letter or digit");
	if (!is_lower(s[n - 1]) && !is_digit(s[n - 1]) && s[n - 1] != '+')
		return fail(err, what, s, n,
		    "must end with a lowercase letter, digit or '+'");
	for (i = 0; i + 1 < n; i++)
		if (is_name_sep(s[i]) && is_name_sep(s[i + 1]))
			return fail(err, what, s, n, "has adjacent separators "
			    "\"%c%c\" at byte %zu", s[i], s[i + 1], i);
	return 0;
}

int
ident_arch(const char *s, struct buf *err)
{
	static const char	 what[] = "architecture";
	size_t			 n = strlen(s), i;
	char			 c[8];

	if (n < 1 || n > ARCH_MAX_LEN)
		return fail(err, what, s, n, "must be 1-%d bytes long, not %zu",
		    ARCH_MAX_LEN, n);
	if (!is_lower(s[0]))
		return fail(err, what, s, n,
		    "must start with a lowercase letter");
	for (i = 1; i < n; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '_')
			return fail(err, what, s, n, "contains invalid "
			    "character %s at byte %zu (allowed: a-z 0-9 _)",
			    char_repr(c, (unsigned char)s[i]), i);
	return 0;
}

int
ident_description(const char *s, struct buf *err)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 n = strlen(s), i;
	ucs4_t		 uc;
	int		 k;

	for (i = 0; i < n; i += (size_t)k) {
		if ((k = u8_mbtoucr(&uc, p + i, n - i)) < 0)
			return fail(err, "description", s, n,
			    "is not valid UTF-8 (byte %zu)", i);
		/* Go decodes bad UTF-8 as U+FFFD: the consumer refuses both. */
		if (!ident_is_print(uc) || uc == 0xfffd)
			return fail(err, "description", s, n, "character "
			    "U+%04X at byte %zu is not printable",
			    (unsigned)uc, i);
	}
	return 0;
}

int
ident_side_effect(const char *s, struct buf *err)
{
	if (strcmp(s, "ldconfig") == 0 || strcmp(s, "depmod") == 0 ||
	    strcmp(s, "man-db") == 0)
		return 0;
	return fail(err, "side effect", s, strlen(s),
	    "must be one of ldconfig, depmod, man-db");
}

int
ident_dep_arch(const char *s, struct buf *err)
{
	if (*s == '\0' || strcmp(s, "any") == 0)
		return 0;
	return fail(err, "dependency arch", s, strlen(s),
	    "must be empty or \"any\"");
}

/* Length of a URL scheme ending in ':' (RFC 3986), or -1 if none. */
static int
url_scheme(const char *s, size_t *len)
{
	size_t	 i;

	if (!is_lower(s[0] | 0x20))
		return -1;
	for (i = 1; s[i] != '\0' && s[i] != ':'; i++)
		if (!is_lower(s[i] | 0x20) && !is_digit(s[i]) &&
		    s[i] != '+' && s[i] != '-' && s[i] != '.')
			return -1;
	if (s[i] != ':')
		return -1;
	*len = i;
	return 0;
}

/* Every '%' must start a %XX escape; *at is the offending byte. */
static int
url_escapes(const char *s, size_t *at)
{
	static const char	 hex[] = "0123456789abcdefABCDEF";
	size_t			 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '\0' || strchr(hex, s[i + 1]) == NULL ||
		    s[i + 2] == '\0' || strchr(hex, s[i + 2]) == NULL) {
			*at = i;
			return -1;
		}
	}
	return 0;
}

/*
 * host[:port] or [v6]:port as Go's URL parser takes it: sub-delims,
 * unreserved, escapes and non-ASCII in a name; digits in a port.
 */
static int
url_host(const char *h, size_t n, const char **why)
{
	const char	*port = NULL, *end = h + n, *p;

	if (n > 0 && h[0] == '[') {
		if ((p = memchr(h, ']', n)) == NULL) {
			*why = "has an unterminated IPv6 literal";
			return -1;
		}
		if (p + 1 < end && p[1] != ':') {
			*why = "has text after an IPv6 literal";
			return -1;
		}
		port = p + 1 < end ? p + 1 : NULL;
		for (p = h + 1; *p != ']'; p++)
			if (!is_digit(*p) && !is_lower(*p | 0x20) &&
			    *p != ':' && *p != '.' && *p != '%')
				break;
		if (*p != ']' || p == h + 1) {
			*why = "has an invalid IPv6 literal";
			return -1;
		}
	} else {
		port = memrchr(h, ':', n);
		for (p = h; p < (port != NULL ? port : end); p++)
			if (!is_lower(*p | 0x20) && !is_digit(*p) &&
			    (unsigned char)*p < 0x80 &&
			    strchr("-._~!$&'()*+,;=%", *p) == NULL) {
				*why = "has an invalid character in its host";
				return -1;
			}
		if (p == h) {
			*why = "has no host";
			return -1;
		}
	}
	for (p = port != NULL ? port + 1 : end; p < end; p++)
		if (!is_digit(*p)) {
			*why = "has a port that is not a number";
			return -1;
		}
	return 0;
}

static int
url_authority(const char *s, const char *auth, size_t n, struct buf *err)
{
	const char	*host = auth, *why = NULL;
	size_t		 alen = strcspn(auth, "/?#"), i;

	for (i = 0; i < alen; i++)
		if (auth[i] == '@')
			host = auth + i + 1;
	if (url_host(host, alen - (size_t)(host - auth), &why) == -1)
		return fail(err, "homepage", s, n, "%s", why);
	return 0;
}

int
ident_homepage(const char *s, struct buf *err)
{
	static const char	 what[] = "homepage";
	size_t			 n = strlen(s), i, slen;
	char			 c[8];

	if (n == 0)
		return 0;
	if (n > URL_MAX_LEN)
		return fail(err, what, s, n, "is longer than %d bytes",
		    URL_MAX_LEN);
	if (!utf8_valid(s, n))
		return fail(err, what, s, n, "is not valid UTF-8");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return fail(err, what, s, n, "contains %s at byte %zu "
			    "(no blanks or control characters in a URL)",
			    char_repr(c, (unsigned char)s[i]), i);
	if (url_escapes(s, &i) == -1)
		return fail(err, what, s, n,
		    "has an invalid %%-escape at byte %zu", i);
	if (url_scheme(s, &slen) == -1)
		return fail(err, what, s, n, "must be an http:// or https:// "
		    "URL (no scheme)");
	if (!(slen == 4 && strncasecmp(s, "http", 4) == 0) &&
	    !(slen == 5 && strncasecmp(s, "https", 5) == 0))
		return fail(err, what, s, n, "scheme must be http or https, "
		    "not \"%.*s\"", (int)slen, s);
	if (strncmp(s + slen + 1, "//", 2) != 0)
		return fail(err, what, s, n, "has no host (\"//\" must follow "
		    "the scheme)");
	return url_authority(s, s + slen + 3, n, err);
}

/* One "[op] version" expression (blanks already trimmed), number `k`. */
static int
constraint_expr(const char *s, const char *e, size_t n, int k,
    struct buf *err)
{
	static const char *const ops[] = { ">=", "<=", "!=", ">", "<", "=" };
	struct buf		 why = BUF_INIT, q = BUF_INIT;
	struct pm_version	 v;
	size_t			 i, off = 0;
	int			 has_rev, rc = 0;

	for (i = 0; i < nitems(ops); i++)
		if (strncmp(e, ops[i], strlen(ops[i])) == 0 &&
		    strlen(ops[i]) <= n) {
			off = strlen(ops[i]);
			break;
		}
	while (off < n && (e[off] == ' ' || e[off] == '\t'))
		off++;
	ident_quote(&q, e, n);
	if (off == n)
		rc = fail(err, "constraint", s, strlen(s),
		    "expression %d %s has no version", k, buf_str(&q));
	else if (version_parse_operand(e + off, n - off, &v, &has_rev,
	    &why) == -1)
		rc = fail(err, "constraint", s, strlen(s), "expression %d %s "
		    "is not [= != < <= > >=] version: %s", k, buf_str(&q),
		    buf_str(&why));
	else
		version_free(&v);
	buf_free(&why);
	buf_free(&q);
	return rc;
}

int
ident_constraint(const char *s, struct buf *err)
{
	size_t	 n = strlen(s), b, e, next;
	int	 k;

	if (n > CONSTRAINT_MAX)
		return fail(err, "constraint", s, n, "is longer than %d bytes",
		    CONSTRAINT_MAX);
	if (n == 0)
		return 0;
	for (b = 0, k = 1; b <= n; b = next + 1, k++) {
		next = b + strcspn(s + b, ",");
		for (e = next; e > b && (s[e - 1] == ' ' || s[e - 1] == '\t');)
			e--;
		while (b < e && (s[b] == ' ' || s[b] == '\t'))
			b++;
		if (b == e)
			return fail(err, "constraint", s, n,
			    "expression %d is empty", k);
		if (constraint_expr(s, s + b, e - b, k, err) == -1)
			return -1;
	}
	return 0;
}

int
ident_is_nfc(const char *s, size_t n)
{
	uint8_t	*out;
	size_t	 i, outlen;
	int	 ok;

	for (i = 0; i < n && (unsigned char)s[i] < 0x80; i++)
		continue;
	if (i == n)
		return 1;
	if (!utf8_valid(s, n))
		return 0;
	out = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, NULL, &outlen);
	if (out == NULL) {
		if (errno == ENOMEM)
			fatalx("u8_normalize: out of memory");
		return 0;
	}
	ok = outlen == n && memcmp(out, s, n) == 0;
	free(out);
	return ok;
}

/* Byte-level rules: controls, DEL, backslash, UTF-8, NFC. */
static int
path_bytes(const char *s, size_t n, struct buf *err)
{
	size_t	 i;
	char	 c[8];

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(err, "path", s, n, "control character %s "
			    "at byte %zu", char_repr(c, (unsigned char)s[i]),
			    i);
		if (s[i] == '\\')
			return fail(err, "path", s, n,
			    "backslash at byte %zu", i);
	}
	if (!utf8_valid(s, n))
		return fail(err, "path", s, n, "not valid UTF-8");
	if (!ident_is_nfc(s, n))
		return fail(err, "path", s, n, "not in Unicode NFC");
	return 0;
}

static int
path_components(const char *s, size_t n, struct buf *err)
{
	const char	*p, *slash;
	size_t		 at, len, count = 0;

	for (at = 0; at <= n; at += len + 1) {
		p = s + at;
		slash = memchr(p, '/', n - at);
		len = slash != NULL ? (size_t)(slash - p) : n - at;
		if (++count > PATH_MAX_COMPONENTS)
			return fail(err, "path", s, n, "more than %d "
			    "components", PATH_MAX_COMPONENTS);
		if (len == 0)
			return fail(err, "path", s, n, "empty component at "
			    "byte %zu (\"//\" or a trailing '/')", at);
		if (len > PATH_MAX_COMPONENT)
			return fail(err, "path", s, n, "component %zu is %zu "
			    "bytes (at most %d)", count, len,
			    PATH_MAX_COMPONENT);
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return fail(err, "path", s, n, "\"%.*s\" component",
			    (int)len, p);
	}
	return 0;
}

int
ident_payload_path(const char *s, size_t n, struct buf *err)
{
	if (n == 0)
		return fail(err, "path", s, n, "empty");
	if (n > PATH_MAX_BYTES)
		return fail(err, "path", s, n, "longer than %d bytes (%zu)",
		    PATH_MAX_BYTES, n);
	if (s[0] == '/')
		return fail(err, "path", s, n, "absolute (leading '/')");
	if ((n == 7 && memcmp(s, ".peipkg", 7) == 0) ||
	    (n > 7 && memcmp(s, ".peipkg/", 8) == 0))
		return fail(err, "path", s, n,
		    "reserved for package metadata (.peipkg)");
	if (path_bytes(s, n, err) == -1 || path_components(s, n, err) == -1)
		return -1;
	return 0;
}
