/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * json.c: byte-exact JSON writer (canonical and /status pretty modes) and
 * strict helpers over the yajl tree parser.
 *
 * Trust: the writer only sees strings that may come from anywhere (recipe
 * text, upstream tags) and escapes every byte.  The reader parses hostile
 * input (webhook bodies, package members, index and signature files): it
 * bounds size and depth before yajl sees the text, rejects NULs and
 * broken surrogate escapes (yajl would truncate or pass them on as
 * invalid UTF-8), and the lookup helpers check every type.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

static size_t	 utf8_len_at(const unsigned char *, size_t);
static void	 jw_indent(struct jw *, int);
static void	 jw_value_prefix(struct jw *);
static void	 jw_open(struct jw *, char);
static void	 jw_close(struct jw *, char);
static int	 hex4(const char *, size_t, size_t, unsigned *);
static int	 prescan(const char *, size_t, struct buf *);
static int	 type_err(const char *, const char *, const char *,
		    struct buf *);
static yajl_val	 member(yajl_val, const char *, const char *, struct buf *);

/*
 * Length of the valid UTF-8 sequence starting at p (a lead byte >= 0x80),
 * or 0 when the byte does not start one.  Same acceptance as Go's
 * utf8.DecodeRune: no overlongs, no surrogates, nothing above U+10FFFF.
 */
static size_t
utf8_len_at(const unsigned char *p, size_t n)
{
	size_t	 len, k;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

void
json_escape(struct buf *b, const char *s, size_t n, int html)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, start = 0, k;
	const char		*rep;
	char			 u[7];

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		rep = NULL;
		k = 1;
		switch (p[i]) {
		case '"':  rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '<': case '>': case '&':
			if (!html)
				continue;
			break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x80)
				continue;
			if (p[i] >= 0x80) {
				if ((k = utf8_len_at(p + i, n - i)) == 0) {
					rep = "\\ufffd";
					k = 1;
				} else if (k == 3 && p[i] == 0xe2 &&
				    p[i + 1] == 0x80 &&
				    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
					rep = p[i + 2] == 0xa8 ?
					    "\\u2028" : "\\u2029";
				else {
					i += k - 1;
					continue;
				}
			}
			break;
		}
		if (rep == NULL) {
			/* Other control bytes and, in HTML mode, < > &. */
			snprintf(u, sizeof(u), "\\u00%c%c", hex[p[i] >> 4],
			    hex[p[i] & 0xf]);
			rep = u;
		}
		buf_add(b, s + start, i - start);
		buf_adds(b, rep);
		i += k - 1;
		start = i + 1;
	}
	buf_add(b, s + start, n - start);
	buf_addc(b, '"');
}

void
jw_init(struct jw *w, struct buf *out, int flags)
{
	memset(w, 0, sizeof(*w));
	w->jw_out = out;
	w->jw_flags = flags;
}

static void
jw_indent(struct jw *w, int depth)
{
	int	 i;

	buf_addc(w->jw_out, '\n');
	for (i = 0; i < depth; i++)
		buf_add(w->jw_out, "  ", 2);
}

/* Separator and indentation before a value (or a key) at this level. */
static void
jw_value_prefix(struct jw *w)
{
	int	 d = w->jw_depth;

	if (w->jw_done)
		fatalx("jw: second top-level value");
	if (w->jw_after_key) {
		w->jw_after_key = 0;
		return;
	}
	if (d == 0)
		return;
	if (w->jw_type[d - 1] == '{')
		fatalx("jw: object member without a key");
	if (w->jw_count[d - 1]++ > 0)
		buf_addc(w->jw_out, ',');
	if (w->jw_flags & JW_PRETTY)
		jw_indent(w, d);
}

/* Called after a complete value was written. */
#define JW_VALUE_DONE(w) do {				\
	if ((w)->jw_depth == 0)				\
		(w)->jw_done = 1;			\
} while (0)

void
jw_key(struct jw *w, const char *k)
{
	int	 d = w->jw_depth;

	if (d == 0 || w->jw_type[d - 1] != '{' || w->jw_after_key)
		fatalx("jw: key \"%s\" outside an object", k);
	if (w->jw_count[d - 1]++ > 0)
		buf_addc(w->jw_out, ',');
	if (w->jw_flags & JW_PRETTY)
		jw_indent(w, d);
	json_escape(w->jw_out, k, strlen(k), w->jw_flags & JW_HTML);
	if (w->jw_flags & JW_PRETTY)
		buf_add(w->jw_out, ": ", 2);
	else
		buf_addc(w->jw_out, ':');
	w->jw_after_key = 1;
}

static void
jw_open(struct jw *w, char type)
{
	jw_value_prefix(w);
	if (w->jw_depth >= JW_MAX_DEPTH)
		fatalx("jw: nesting deeper than %d", JW_MAX_DEPTH);
	w->jw_type[w->jw_depth] = type;
	w->jw_count[w->jw_depth] = 0;
	w->jw_depth++;
	buf_addc(w->jw_out, type);
}

static void
jw_close(struct jw *w, char type)
{
	int	 d = w->jw_depth;

	if (d == 0 || w->jw_type[d - 1] != type || w->jw_after_key)
		fatalx("jw: unbalanced '%c'", type == '{' ? '}' : ']');
	w->jw_depth--;
	if ((w->jw_flags & JW_PRETTY) && w->jw_count[d - 1] > 0)
		jw_indent(w, d - 1);
	buf_addc(w->jw_out, type == '{' ? '}' : ']');
	JW_VALUE_DONE(w);
}

void
jw_obj_begin(struct jw *w)
{
	jw_open(w, '{');
}

void
jw_obj_end(struct jw *w)
{
	jw_close(w, '{');
}

void
jw_arr_begin(struct jw *w)
{
	jw_open(w, '[');
}

void
jw_arr_end(struct jw *w)
{
	jw_close(w, '[');
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	if (s == NULL)
		fatalx("jw: NULL string");
	jw_value_prefix(w);
	json_escape(w->jw_out, s, n, w->jw_flags & JW_HTML);
	JW_VALUE_DONE(w);
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL)
		fatalx("jw: NULL string");
	jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, int64_t v)
{
	jw_value_prefix(w);
	buf_addf(w->jw_out, "%" PRId64, v);
	JW_VALUE_DONE(w);
}

void
jw_uint(struct jw *w, uint64_t v)
{
	jw_value_prefix(w);
	buf_addf(w->jw_out, "%" PRIu64, v);
	JW_VALUE_DONE(w);
}

void
jw_bool(struct jw *w, int v)
{
	jw_value_prefix(w);
	buf_adds(w->jw_out, v ? "true" : "false");
	JW_VALUE_DONE(w);
}

void
jw_null(struct jw *w)
{
	jw_value_prefix(w);
	buf_adds(w->jw_out, "null");
	JW_VALUE_DONE(w);
}

void
jw_end(struct jw *w)
{
	if (!w->jw_done || w->jw_depth != 0 || w->jw_after_key)
		fatalx("jw: document incomplete at end");
	buf_addc(w->jw_out, '\n');
}

/* ---- reading ---------------------------------------------------------- */

/* The four hex digits after "\u" at s[i]; -1 if absent or not hex. */
static int
hex4(const char *s, size_t n, size_t i, unsigned *v)
{
	uint8_t	 b[2];

	if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' ||
	    hex_decode(s + i + 2, 4, b) == -1)
		return -1;
	*v = (unsigned)b[0] << 8 | b[1];
	return 0;
}

/*
 * Checks yajl does not make: NUL bytes, "\u0000" (yajl's C strings would
 * silently truncate), unpaired surrogate escapes (yajl would emit invalid
 * UTF-8 or '?'), and nesting depth (yajl_tree_free recurses).  Lexical
 * validity is left to yajl.
 */
static int
prescan(const char *s, size_t n, struct buf *err)
{
	size_t	 i;
	int	 depth = 0, instr = 0;
	unsigned v, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			return errf(err, "NUL byte at offset %zu", i);
		/* JSON whitespace is space, tab, LF, CR only (yajl also
		 * skips VT and FF, which the consumer's decoder refuses). */
		if (s[i] == '\v' || s[i] == '\f')
			return errf(err, "invalid character 0x%02x at offset %zu",
			    (unsigned char)s[i], i);
		if (!instr) {
			if (s[i] == '"')
				instr = 1;
			else if ((s[i] == '[' || s[i] == '{') &&
			    ++depth > JSON_MAX_DEPTH)
				return errf(err, "nesting deeper than %d "
				    "levels at offset %zu", JSON_MAX_DEPTH, i);
			else if (s[i] == ']' || s[i] == '}')
				depth--;
			continue;
		}
		if (s[i] == '"') {
			instr = 0;
			continue;
		}
		if (s[i] != '\\' || i + 1 >= n)
			continue;
		if (hex4(s, n, i, &v) == -1) {
			i++;	/* a simple escape; yajl checks it */
			continue;
		}
		if (v == 0)
			return errf(err, "\\u0000 escape at offset %zu", i);
		if (v >= 0xdc00 && v <= 0xdfff)
			return errf(err, "unpaired surrogate escape at "
			    "offset %zu", i);
		if (v >= 0xd800 && v <= 0xdbff) {
			if (hex4(s, n, i + 6, &lo) == -1 || lo < 0xdc00 ||
			    lo > 0xdfff)
				return errf(err, "unpaired surrogate escape "
				    "at offset %zu", i);
			i += 6;
		}
		i += 5;
	}
	return 0;
}

yajl_val
json_parse(const char *s, size_t n, struct buf *err)
{
	char		 ebuf[256], *copy, *nl;
	yajl_val	 v;

	if (n > JSON_MAX_INPUT) {
		errf(err, "JSON document larger than %d bytes", JSON_MAX_INPUT);
		return NULL;
	}
	if (prescan(s, n, err) == -1)
		return NULL;
	copy = xstrndup(s, n);
	ebuf[0] = '\0';
	v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	free(copy);
	if (v == NULL) {
		/* yajl appends the offending input on further lines. */
		if ((nl = strchr(ebuf, '\n')) != NULL)
			*nl = '\0';
		errf(err, "%s", ebuf[0] != '\0' ? ebuf : "parse error");
	}
	return v;
}

yajl_val
json_get(yajl_val obj, const char *key)
{
	size_t	 i;

	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

/*
 * Reject members not listed in `allowed` (NULL-terminated) and duplicate
 * members (a parser that keeps the last one would read another value).
 */
int
json_only_members(yajl_val obj, const char *const *allowed,
    const char *what, struct buf *err)
{
	struct buf	 bad = BUF_INIT;
	size_t		 i, j, nbad = 0;
	const char	*k, *const *a;
	int		 rc = 0;

	if (!YAJL_IS_OBJECT(obj))
		return errf(err, "%s: not a JSON object", what);
	for (i = 0; i < obj->u.object.len; i++) {
		k = obj->u.object.keys[i];
		for (j = 0; j < i; j++) {
			if (strcmp(obj->u.object.keys[j], k) == 0) {
				rc = errf(err, "%s: duplicate member \"%s\"",
				    what, k);
				goto out;
			}
		}
		for (a = allowed; *a != NULL && strcmp(*a, k) != 0; a++)
			;
		if (*a != NULL)
			continue;
		buf_adds(&bad, nbad++ > 0 ? ", " : "");
		json_escape(&bad, k, strlen(k), 0);
	}
	if (nbad > 0)
		rc = errf(err, "%s: unknown member%s %s", what,
		    nbad > 1 ? "s" : "", buf_str(&bad));
 out:
	buf_free(&bad);
	return rc;
}

static int
type_err(const char *what, const char *key, const char *type,
    struct buf *err)
{
	return errf(err, "%s: member \"%s\" must be %s", what, key, type);
}

static yajl_val
member(yajl_val obj, const char *key, const char *what, struct buf *err)
{
	yajl_val	 v;

	if (!YAJL_IS_OBJECT(obj)) {
		errf(err, "%s: not a JSON object", what);
		return NULL;
	}
	if ((v = json_get(obj, key)) == NULL)
		errf(err, "%s: member \"%s\" is missing", what, key);
	return v;
}

int
json_get_str(yajl_val obj, const char *key, const char *what,
    const char **out, struct buf *err)
{
	yajl_val	 v;

	if ((v = member(obj, key, what, err)) == NULL)
		return -1;
	if (!YAJL_IS_STRING(v))
		return type_err(what, key, "a string", err);
	*out = v->u.string;
	return 0;
}

int
json_get_int64(yajl_val obj, const char *key, const char *what,
    int64_t *out, struct buf *err)
{
	yajl_val	 v;

	if ((v = member(obj, key, what, err)) == NULL)
		return -1;
	if (!YAJL_IS_INTEGER(v))
		return type_err(what, key, "an integer", err);
	*out = v->u.number.i;
	return 0;
}

/* Non-negative JSON integer; yajl limits integers to int64 anyway. */
int
json_get_uint(yajl_val obj, const char *key, const char *what,
    uint64_t *out, struct buf *err)
{
	yajl_val	 v;

	if ((v = member(obj, key, what, err)) == NULL)
		return -1;
	if (!YAJL_IS_INTEGER(v) || v->u.number.i < 0)
		return type_err(what, key, "a non-negative integer", err);
	*out = (uint64_t)v->u.number.i;
	return 0;
}

int
json_get_bool(yajl_val obj, const char *key, const char *what, int *out,
    struct buf *err)
{
	yajl_val	 v;

	if ((v = member(obj, key, what, err)) == NULL)
		return -1;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return type_err(what, key, "a boolean", err);
	*out = YAJL_IS_TRUE(v);
	return 0;
}

int
json_get_array(yajl_val obj, const char *key, const char *what,
    yajl_val *out, struct buf *err)
{
	yajl_val	 v;

	if ((v = member(obj, key, what, err)) == NULL)
		return -1;
	if (!YAJL_IS_ARRAY(v))
		return type_err(what, key, "an array", err);
	*out = v;
	return 0;
}

int
json_get_object(yajl_val obj, const char *key, const char *what,
    yajl_val *out, struct buf *err)
{
	yajl_val	 v;

	if ((v = member(obj, key, what, err)) == NULL)
		return -1;
	if (!YAJL_IS_OBJECT(v))
		return type_err(what, key, "an object", err);
	*out = v;
	return 0;
}
