/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml.c: a strict TOML 1.0 parser producing an ordered tree.
 *
 * Trust: parses operator files (config, recipes) that may be wrong in
 * any way.  The input is bounded (TOML_MAX_INPUT), checked for UTF-8 and
 * bare CR before parsing and only read through peek(), so nothing reads
 * past its end.  Nesting (tables, arrays, key parts) is bounded by
 * TOML_MAX_DEPTH, which also bounds every recursion here.  The first
 * error stops the parse and is reported once as "name:line:col: msg".
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* How a table came to exist: the TOML 1.0 redefinition rules need it. */
#define T_EXPLICIT	0x01	/* [header] (or the root) */
#define T_IMPLICIT	0x02	/* super-table created by a header */
#define T_DOTTED	0x04	/* created by a dotted key */
#define T_INLINE	0x08	/* { inline table }: never extended */
#define T_AOT		0x10	/* element of an array of tables */

#define IDX_MIN		8	/* keys before a table gets a hash index */
#define DESC_MAX	40	/* describe() output */
#define TOK_SHOW	40	/* bytes of a bad token quoted in errors */

struct kpart {
	char	*s;
	size_t	 len;
	int	 line;
	int	 col;
};

struct key {
	struct kpart	 part[TOML_MAX_DEPTH];
	size_t		 n;
};

struct parser {
	const char		*b;
	size_t			 len;
	size_t			 pos;
	size_t			 lstart;	/* offset of the current line */
	int			 line;
	int			 failed;
	const char		*name;
	struct buf		*err;
	struct toml_table	*root;
	struct toml_table	*cur;		/* current [section] */
	int			 curdepth;
};

static int	 peek(const struct parser *, size_t);
static int	 colno(const struct parser *);
static int	 eat_nl(struct parser *);
static void	 skip_ws(struct parser *);
static int	 skip_comment(struct parser *);
static int	 skip_blank(struct parser *);
static int	 ctl(int);
static int	 is_bare(int);
static int	 vperr(struct parser *, int, int, const char *, va_list)
		    PM_PRINTF(4, 0);
static int	 perr(struct parser *, int, int, const char *, ...)
		    PM_PRINTF(4, 5);
static int	 herr(struct parser *, const char *, ...) PM_PRINTF(2, 3);
static const char *describe(const struct parser *, char *);
static int	 check_input(struct parser *);
static struct toml_table *table_new(unsigned int, int, int);
static uint64_t	 key_hash(const char *, size_t);
static int	 kv_is(const struct toml_kv *, const char *, size_t);
static void	 idx_put(struct toml_table *, size_t);
static struct toml_kv *table_find(const struct toml_table *, const char *,
		    size_t);
static struct toml_kv *table_add(struct toml_table *, const struct kpart *);
static struct toml_table *add_table(struct toml_table *,
		    const struct kpart *, unsigned int, int, int);
static struct toml_value *arr_push(struct toml_value *);
static void	 value_free(struct toml_value *);
static int	 is_aot(const struct toml_value *);
static const char *what(const struct toml_value *);
static void	 key_free(struct key *);
static int	 literal_ok(const struct kpart *);
static void	 key_text(struct buf *, const struct key *, size_t);
static int	 keyerr(struct parser *, const struct key *, size_t,
		    const char *, const struct toml_value *);
static int	 parse_doc(struct parser *);
static int	 parse_key(struct parser *, struct key *);
static int	 parse_simple_key(struct parser *, struct kpart *);
static int	 parse_header(struct parser *);
static int	 open_section(struct parser *, const struct key *, int, int,
		    int);
static int	 header_err(struct parser *, const struct key *, size_t, int,
		    int, int, const struct toml_value *);
static int	 define_table(struct parser *, const struct key *,
		    struct toml_table *, int, int, int);
static int	 define_aot(struct parser *, const struct key *,
		    struct toml_table *, int, int, int);
static int	 parse_keyval(struct parser *, struct toml_table *, int);
static struct toml_table *dotted_walk(struct parser *, const struct key *,
		    struct toml_table *, int *);
static int	 parse_value(struct parser *, struct toml_value *, int);
static int	 parse_string(struct parser *, struct toml_value *);
static int	 parse_sl(struct parser *, struct buf *, int);
static int	 parse_ml(struct parser *, struct buf *, int);
static int	 ml_backslash(struct parser *, struct buf *);
static int	 hexval(int);
static int	 parse_escape(struct parser *, struct buf *);
static void	 utf8_put(struct buf *, uint32_t);
static int	 parse_array(struct parser *, struct toml_value *, int);
static int	 parse_inline(struct parser *, struct toml_value *, int);
static int	 parse_scalar(struct parser *, struct toml_value *);
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

/* ---- input -------------------------------------------------------- */

/* The byte `off` past the cursor, or -1 past the end of the input. */
static int
peek(const struct parser *p, size_t off)
{
	if (off >= p->len - p->pos)
		return -1;
	return (unsigned char)p->b[p->pos + off];
}

static int
colno(const struct parser *p)
{
	return (int)(p->pos - p->lstart) + 1;
}

/* Consume LF or CRLF; 1 if there was one. */
static int
eat_nl(struct parser *p)
{
	if (peek(p, 0) == '\n')
		p->pos++;
	else if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
		p->pos += 2;
	else
		return 0;
	p->line++;
	p->lstart = p->pos;
	return 1;
}

static void
skip_ws(struct parser *p)
{
	while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
		p->pos++;
}

static int
skip_comment(struct parser *p)
{
	int	 c;

	if (peek(p, 0) != '#')
		return 0;
	/* check_input() guarantees every CR starts a CRLF. */
	while ((c = peek(p, 0)) != -1 && c != '\n' && c != '\r') {
		if (ctl(c))
			return herr(p, "control character 0x%02x in comment",
			    c);
		p->pos++;
	}
	return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int
skip_blank(struct parser *p)
{
	do {
		skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
	} while (eat_nl(p));
	return 0;
}

/* Control characters are allowed nowhere but tab (and newlines). */
static int
ctl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int
is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* ---- errors ------------------------------------------------------- */

static int
vperr(struct parser *p, int line, int col, const char *fmt, va_list ap)
{
	struct buf	 m = BUF_INIT;

	if (p->failed)
		return -1;
	p->failed = 1;
	buf_vaddf(&m, fmt, ap);
	errf(p->err, "%s:%d:%d: %s", p->name, line, col, buf_str(&m));
	buf_free(&m);
	return -1;
}

static int
perr(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vperr(p, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at the cursor. */
static int
herr(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vperr(p, p->line, colno(p), fmt, ap);
	va_end(ap);
	return -1;
}

/* What is at the cursor, for "expected X, found Y". */
static const char *
describe(const struct parser *p, char *d)
{
	uint32_t	 cp;
	int		 c = peek(p, 0), n, i;

	if (c == -1)
		return "end of input";
	if (c == '\n' || c == '\r')
		return "newline";
	if (ctl(c))
		snprintf(d, DESC_MAX, "control character 0x%02x", c);
	else if (c < 0x80)
		snprintf(d, DESC_MAX, "'%c'", c);
	else {
		/* check_input() validated the UTF-8 sequence. */
		n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		cp = (uint32_t)c & (0x3fu >> (n - 1));
		for (i = 1; i < n; i++)
			cp = cp << 6 | ((uint32_t)peek(p, i) & 0x3f);
		snprintf(d, DESC_MAX, "U+%04X", (unsigned int)cp);
	}
	return d;
}

/* Whole-input checks: strict UTF-8 and no CR outside CRLF. */
static int
check_input(struct parser *p)
{
	const unsigned char	*s = (const unsigned char *)p->b;
	size_t			 n;

	for (p->pos = 0; p->pos < p->len; p->pos += n) {
		n = 1;
		if (s[p->pos] == '\n') {
			p->line++;
			p->lstart = p->pos + 1;
		} else if (s[p->pos] == '\r' && peek(p, 1) != '\n')
			return herr(p, "carriage return not followed by "
			    "newline");
		else if (s[p->pos] >= 0x80) {
			if ((s[p->pos] & 0xe0) == 0xc0)
				n = 2;
			else if ((s[p->pos] & 0xf0) == 0xe0)
				n = 3;
			else if ((s[p->pos] & 0xf8) == 0xf0)
				n = 4;
			else
				n = 0;
			if (n == 0 || n > p->len - p->pos ||
			    !utf8_valid(p->b + p->pos, n))
				return herr(p, "invalid UTF-8");
		}
	}
	p->pos = p->lstart = 0;
	p->line = 1;
	return 0;
}

/* ---- tree --------------------------------------------------------- */

static struct toml_table *
table_new(unsigned int flags, int line, int col)
{
	struct toml_table	*t;

	t = xcalloc(1, sizeof(*t));
	t->flags = flags;
	t->line = line;
	t->col = col;
	return t;
}

static uint64_t
key_hash(const char *s, size_t n)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static int
kv_is(const struct toml_kv *kv, const char *s, size_t len)
{
	return kv->keylen == len && memcmp(kv->key, s, len) == 0;
}

static struct toml_kv *
table_find(const struct toml_table *t, const char *s, size_t len)
{
	size_t	 i, h, mask;

	if (t->idx == NULL) {
		for (i = 0; i < t->n; i++)
			if (kv_is(&t->kv[i], s, len))
				return &t->kv[i];
		return NULL;
	}
	mask = t->idxcap - 1;
	for (h = key_hash(s, len) & mask; t->idx[h] != 0; h = (h + 1) & mask)
		if (kv_is(&t->kv[t->idx[h] - 1], s, len))
			return &t->kv[t->idx[h] - 1];
	return NULL;
}

static void
idx_put(struct toml_table *t, size_t i)
{
	size_t	 mask = t->idxcap - 1, h;

	h = key_hash(t->kv[i].key, t->kv[i].keylen) & mask;
	while (t->idx[h] != 0)
		h = (h + 1) & mask;
	t->idx[h] = i + 1;
}

/* Append a key (copied) with an empty value; the kv stays valid until
 * the next append to the same table. */
static struct toml_kv *
table_add(struct toml_table *t, const struct kpart *kp)
{
	struct toml_kv	*kv;
	size_t		 i;

	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 8 : t->cap * 2;
		t->kv = xreallocarray(t->kv, t->cap, sizeof(*t->kv));
	}
	kv = &t->kv[t->n++];
	memset(kv, 0, sizeof(*kv));
	kv->key = xstrndup(kp->s, kp->len);
	kv->keylen = kp->len;
	kv->line = kp->line;
	kv->col = kp->col;
	if (t->n < IDX_MIN)
		return kv;
	if (t->idx == NULL || t->n * 2 > t->idxcap) {
		free(t->idx);
		t->idxcap = t->idxcap == 0 ? 32 : t->idxcap * 2;
		t->idx = xcalloc(t->idxcap, sizeof(*t->idx));
		for (i = 0; i < t->n; i++)
			idx_put(t, i);
	} else
		idx_put(t, t->n - 1);
	return kv;
}

static struct toml_table *
add_table(struct toml_table *t, const struct kpart *kp, unsigned int flags,
    int line, int col)
{
	struct toml_kv	*kv;

	kv = table_add(t, kp);
	kv->val.type = TOML_TABLE;
	kv->val.line = line;
	kv->val.col = col;
	kv->val.u.tab = table_new(flags, line, col);
	return kv->val.u.tab;
}

/* A new zeroed element; capacity is the next power of two of n. */
static struct toml_value *
arr_push(struct toml_value *a)
{
	size_t	 n = a->u.arr.n;

	if ((n & (n - 1)) == 0)
		a->u.arr.v = xreallocarray(a->u.arr.v, n == 0 ? 1 : n * 2,
		    sizeof(*a->u.arr.v));
	memset(&a->u.arr.v[n], 0, sizeof(a->u.arr.v[n]));
	a->u.arr.n++;
	return &a->u.arr.v[n];
}

static void
value_free(struct toml_value *v)
{
	size_t	 i;

	switch ((int)v->type) {
	case 0:
	case TOML_INTEGER:
	case TOML_FLOAT:
	case TOML_BOOL:
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			value_free(&v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case TOML_TABLE:
		toml_free(v->u.tab);
		break;
	default:	/* strings and date-times */
		free(v->u.str.s);
		break;
	}
	memset(v, 0, sizeof(*v));
}

static int
is_aot(const struct toml_value *v)
{
	return v->type == TOML_ARRAY && v->u.arr.n > 0 &&
	    v->u.arr.v[0].type == TOML_TABLE &&
	    (v->u.arr.v[0].u.tab->flags & T_AOT) != 0;
}

static const char *
what(const struct toml_value *v)
{
	if (v->type == TOML_TABLE && (v->u.tab->flags & T_INLINE))
		return "an inline table";
	if (v->type == TOML_TABLE && (v->u.tab->flags & T_EXPLICIT))
		return "a table defined by a header";
	if (v->type == TOML_TABLE)
		return "a table";
	if (v->type == TOML_ARRAY)
		return is_aot(v) ? "an array of tables" : "a static array";
	if (v->type == TOML_INTEGER)
		return "an integer";
	if (v->type == TOML_DATETIME)
		return "an offset date-time";
	return v->type == TOML_STRING ? "a string" :
	    v->type == TOML_FLOAT ? "a float" :
	    v->type == TOML_BOOL ? "a boolean" :
	    v->type == TOML_LOCAL_DATETIME ? "a local date-time" :
	    v->type == TOML_LOCAL_DATE ? "a local date" : "a local time";
}

/* ---- keys --------------------------------------------------------- */

static void
key_free(struct key *k)
{
	size_t	 i;

	for (i = 0; i < k->n; i++)
		free(k->part[i].s);
	k->n = 0;
}

static int
literal_ok(const struct kpart *kp)
{
	size_t	 j;

	for (j = 0; j < kp->len; j++)
		if (kp->s[j] == '\'' || ctl((unsigned char)kp->s[j]) ||
		    kp->s[j] == '\t')
			return 0;
	return 1;
}

/* The first n parts as written in TOML: bare when possible, else quoted. */
static void
key_text(struct buf *b, const struct key *k, size_t n)
{
	const struct kpart	*kp;
	size_t			 i, j;
	int			 bare, c;

	for (i = 0; i < n; i++) {
		kp = &k->part[i];
		if (i > 0)
			buf_addc(b, '.');
		bare = kp->len > 0;
		for (j = 0; j < kp->len && bare; j++)
			bare = is_bare((unsigned char)kp->s[j]);
		if (bare) {
			buf_add(b, kp->s, kp->len);
			continue;
		}
		/* 'literal' reads best inside the "..." of a message. */
		if (literal_ok(kp)) {
			buf_addc(b, '\'');
			buf_add(b, kp->s, kp->len);
			buf_addc(b, '\'');
			continue;
		}
		buf_addc(b, '"');
		for (j = 0; j < kp->len; j++) {
			c = (unsigned char)kp->s[j];
			if (c == '"' || c == '\\')
				buf_addf(b, "\\%c", c);
			else if (ctl(c) || c == '\t')
				buf_addf(b, "\\u%04X", (unsigned int)c);
			else
				buf_addc(b, c);
		}
		buf_addc(b, '"');
	}
}

/* <pre>"<key>" at the key, then what its first n parts already are. */
static int
keyerr(struct parser *p, const struct key *k, size_t n, const char *pre,
    const struct toml_value *v)
{
	struct buf	 a = BUF_INIT, b = BUF_INIT;

	key_text(&a, k, k->n);
	key_text(&b, k, n);
	if (v == NULL)
		perr(p, k->part[0].line, k->part[0].col, "%s\"%s\"", pre,
		    buf_str(&a));
	else
		perr(p, k->part[0].line, k->part[0].col,
		    "%s\"%s\": \"%s\" is %s", pre, buf_str(&a), buf_str(&b),
		    what(v));
	buf_free(&a);
	buf_free(&b);
	return -1;
}

static int
parse_key(struct parser *p, struct key *k)
{
	for (;;) {
		if (k->n == TOML_MAX_DEPTH)
			return herr(p, "key nested deeper than %d levels",
			    TOML_MAX_DEPTH);
		if (parse_simple_key(p, &k->part[k->n]) == -1)
			return -1;
		k->n++;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return 0;
		p->pos++;
		skip_ws(p);
	}
}

static int
parse_simple_key(struct parser *p, struct kpart *kp)
{
	struct buf	 b = BUF_INIT;
	char		 d[DESC_MAX];
	size_t		 start = p->pos;
	int		 c = peek(p, 0);

	kp->line = p->line;
	kp->col = colno(p);
	if (c == '"' || c == '\'') {
		if (peek(p, 1) == c && peek(p, 2) == c)
			return herr(p, "a multi-line string cannot be a key");
		if (parse_sl(p, &b, c) == -1) {
			buf_free(&b);
			return -1;
		}
	} else if (is_bare(c)) {
		while (is_bare(peek(p, 0)))
			p->pos++;
		buf_add(&b, p->b + start, p->pos - start);
	} else if (c == '\n' || c == '\r')
		return herr(p, "expected a key, found newline");
	else
		return herr(p, "expected a key, found %s", describe(p, d));
	kp->len = b.len;
	kp->s = buf_release(&b);
	return 0;
}

/* ---- document structure ------------------------------------------- */

static int
parse_doc(struct parser *p)
{
	char		 d[DESC_MAX];
	const char	*after;
	int		 rc;

	if (p->len >= 3 && memcmp(p->b, "\xef\xbb\xbf", 3) == 0)
		p->pos = 3;	/* tolerate a UTF-8 byte order mark */
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
		if (peek(p, 0) == -1)
			return 0;
		if (eat_nl(p))
			continue;
		if (peek(p, 0) == '[') {
			after = "table header";
			rc = parse_header(p);
		} else {
			after = "value";
			rc = parse_keyval(p, p->cur, p->curdepth);
		}
		if (rc == -1)
			return -1;
		skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
		if (peek(p, 0) != -1 && !eat_nl(p))
			return herr(p, "expected newline after %s, found %s",
			    after, describe(p, d));
	}
}

static int
parse_header(struct parser *p)
{
	struct key	 k;
	char		 d[DESC_MAX];
	int		 line = p->line, col = colno(p), aot = 0, rc = -1;

	k.n = 0;
	p->pos++;
	if (peek(p, 0) == '[') {
		aot = 1;
		p->pos++;
	}
	skip_ws(p);
	if (parse_key(p, &k) == -1)
		goto out;
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
		herr(p, "expected '%s' after table name, found %s",
		    aot ? "]]" : "]", describe(p, d));
		goto out;
	}
	p->pos += aot ? 2 : 1;
	rc = open_section(p, &k, aot, line, col);
out:
	key_free(&k);
	return rc;
}

/* Walk [a.b.c] from the root to the parent of c, then define c. */
static int
open_section(struct parser *p, const struct key *k, int aot, int line,
    int col)
{
	const struct kpart	*kp;
	struct toml_table	*t = p->root;
	struct toml_kv		*kv;
	struct toml_value	*v;
	size_t			 i;
	int			 depth = 0;

	for (i = 0; i + 1 < k->n; i++) {
		kp = &k->part[i];
		if ((kv = table_find(t, kp->s, kp->len)) == NULL) {
			t = add_table(t, kp, T_IMPLICIT, kp->line, kp->col);
			depth++;
			continue;
		}
		v = &kv->val;
		if (is_aot(v)) {
			t = v->u.arr.v[v->u.arr.n - 1].u.tab;
			depth += 2;
		} else if (v->type == TOML_TABLE &&
		    !(v->u.tab->flags & T_INLINE)) {
			t = v->u.tab;
			depth++;
		} else
			return header_err(p, k, i + 1, aot, line, col, v);
	}
	if (depth + (aot ? 2 : 1) > TOML_MAX_DEPTH)
		return perr(p, line, col, "tables nested deeper than %d levels",
		    TOML_MAX_DEPTH);
	return aot ? define_aot(p, k, t, depth, line, col) :
	    define_table(p, k, t, depth, line, col);
}

static int
header_err(struct parser *p, const struct key *k, size_t n, int aot,
    int line, int col, const struct toml_value *v)
{
	struct buf	 a = BUF_INIT, b = BUF_INIT;

	key_text(&a, k, k->n);
	key_text(&b, k, n);
	perr(p, line, col, "cannot define %s %s%s%s: \"%s\" is %s",
	    aot ? "array of tables" : "table", aot ? "[[" : "[", buf_str(&a),
	    aot ? "]]" : "]", buf_str(&b), what(v));
	buf_free(&a);
	buf_free(&b);
	return -1;
}

static int
define_table(struct parser *p, const struct key *k, struct toml_table *t,
    int depth, int line, int col)
{
	const struct kpart	*kp = &k->part[k->n - 1];
	struct toml_kv		*kv;
	struct buf		 a = BUF_INIT;

	if ((kv = table_find(t, kp->s, kp->len)) == NULL) {
		p->cur = add_table(t, kp, T_EXPLICIT, line, col);
	} else if (kv->val.type == TOML_TABLE &&
	    (kv->val.u.tab->flags & T_IMPLICIT)) {
		p->cur = kv->val.u.tab;
		p->cur->flags = T_EXPLICIT;
		p->cur->line = kv->val.line = line;
		p->cur->col = kv->val.col = col;
		kv->line = kp->line;
		kv->col = kp->col;
	} else if (kv->val.type == TOML_TABLE &&
	    (kv->val.u.tab->flags & (T_EXPLICIT | T_DOTTED))) {
		key_text(&a, k, k->n);
		perr(p, line, col, "table [%s] %s", buf_str(&a),
		    kv->val.u.tab->flags & T_EXPLICIT ? "defined twice" :
		    "already defined by dotted keys");
		buf_free(&a);
		return -1;
	} else
		return header_err(p, k, k->n, 0, line, col, &kv->val);
	p->curdepth = depth + 1;
	return 0;
}

static int
define_aot(struct parser *p, const struct key *k, struct toml_table *t,
    int depth, int line, int col)
{
	const struct kpart	*kp = &k->part[k->n - 1];
	struct toml_kv		*kv;
	struct toml_value	*e;

	if ((kv = table_find(t, kp->s, kp->len)) == NULL) {
		kv = table_add(t, kp);
		kv->val.type = TOML_ARRAY;
		kv->val.line = line;
		kv->val.col = col;
	} else if (!is_aot(&kv->val))
		return header_err(p, k, k->n, 1, line, col, &kv->val);
	e = arr_push(&kv->val);
	e->type = TOML_TABLE;
	e->line = line;
	e->col = col;
	e->u.tab = table_new(T_EXPLICIT | T_AOT, line, col);
	p->cur = e->u.tab;
	p->curdepth = depth + 2;
	return 0;
}

/* key = value, into table t at nesting depth `depth`. */
static int
parse_keyval(struct parser *p, struct toml_table *t, int depth)
{
	struct key		 k;
	struct toml_value	 v;
	struct toml_kv		*kv;
	const struct kpart	*kp;
	char			 d[DESC_MAX];
	int			 rc = -1;

	k.n = 0;
	if (parse_key(p, &k) == -1)
		goto out;
	if (peek(p, 0) != '=') {
		herr(p, "expected '=' after key, found %s", describe(p, d));
		goto out;
	}
	p->pos++;
	skip_ws(p);
	if ((t = dotted_walk(p, &k, t, &depth)) == NULL)
		goto out;
	kp = &k.part[k.n - 1];
	if (table_find(t, kp->s, kp->len) != NULL) {
		keyerr(p, &k, k.n, "duplicate key ", NULL);
		goto out;
	}
	if (parse_value(p, &v, depth + 1) == -1)
		goto out;
	kv = table_add(t, kp);
	kv->val = v;
	rc = 0;
out:
	key_free(&k);
	return rc;
}

/* Create or enter the tables named by all but the last part of k. */
static struct toml_table *
dotted_walk(struct parser *p, const struct key *k, struct toml_table *t,
    int *depth)
{
	const struct kpart	*kp;
	struct toml_kv		*kv;
	size_t			 i;

	for (i = 0; i + 1 < k->n; i++) {
		kp = &k->part[i];
		if (++*depth > TOML_MAX_DEPTH) {
			perr(p, kp->line, kp->col, "tables nested deeper "
			    "than %d levels", TOML_MAX_DEPTH);
			return NULL;
		}
		kv = table_find(t, kp->s, kp->len);
		if (kv == NULL)
			t = add_table(t, kp, T_DOTTED, kp->line, kp->col);
		else if (kv->val.type == TOML_TABLE &&
		    (kv->val.u.tab->flags & (T_DOTTED | T_IMPLICIT)))
			t = kv->val.u.tab;
		else {
			keyerr(p, k, i + 1, "cannot define key ", &kv->val);
			return NULL;
		}
	}
	return t;
}

/* ---- values ------------------------------------------------------- */

/* Parse one value at the cursor; v is zeroed on failure. */
static int
parse_value(struct parser *p, struct toml_value *v, int depth)
{
	char	 d[DESC_MAX];
	int	 c = peek(p, 0);

	memset(v, 0, sizeof(*v));
	v->line = p->line;
	v->col = colno(p);
	if (c == '"' || c == '\'')
		return parse_string(p, v);
	if (c == '[')
		return parse_array(p, v, depth);
	if (c == '{')
		return parse_inline(p, v, depth);
	if (c == '+' || c == '.' || c == ':' || is_bare(c))
		return parse_scalar(p, v);
	return herr(p, "expected a value, found %s", describe(p, d));
}

static int
parse_string(struct parser *p, struct toml_value *v)
{
	struct buf	 b = BUF_INIT;
	int		 q = peek(p, 0), rc;

	if (peek(p, 1) == q && peek(p, 2) == q)
		rc = parse_ml(p, &b, q);
	else
		rc = parse_sl(p, &b, q);
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
static int
parse_sl(struct parser *p, struct buf *out, int q)
{
	int	 line = p->line, col = colno(p), c;

	p->pos++;
	for (;;) {
		c = peek(p, 0);
		if (c == -1 || c == '\n' || c == '\r')
			return perr(p, line, col, "unterminated string");
		if (c == q) {
			p->pos++;
			return 0;
		}
		if (c == '\\' && q == '"') {
			if (parse_escape(p, out) == -1)
				return -1;
			continue;
		}
		if (ctl(c))
			return herr(p, "control character 0x%02x in string", c);
		buf_addc(out, c);
		p->pos++;
	}
}

/* """multi-line basic""" or '''multi-line literal''' string. */
static int
parse_ml(struct parser *p, struct buf *out, int q)
{
	size_t	 n, start;
	int	 line = p->line, col = colno(p), c;

	p->pos += 3;
	eat_nl(p);		/* a newline right after the opening: trimmed */
	for (;;) {
		c = peek(p, 0);
		start = p->pos;
		if (c == -1)
			return perr(p, line, col, "unterminated multi-line "
			    "string");
		if (c == q) {
			/* Up to two quotes may precede the closing three. */
			for (n = 0; n < 6 && peek(p, n) == q; n++)
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
		} else if (eat_nl(p))
			buf_add(out, p->b + start, p->pos - start);
		else if (ctl(c))
			return herr(p, "control character 0x%02x in string", c);
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

	while ((c = peek(p, i)) == ' ' || c == '\t')
		i++;
	if (c != '\n' && c != '\r')
		return parse_escape(p, out);
	p->pos += i;
	do
		skip_ws(p);
	while (eat_nl(p));
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_escape(struct parser *p, struct buf *out)
{
	static const char	 from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char		*e;
	char			 d[DESC_MAX];
	uint32_t		 cp = 0;
	int			 c = peek(p, 1), line = p->line, col = colno(p);
	int			 i, n, h;

	if (c > 0 && (e = strchr(from, c)) != NULL) {
		buf_addc(out, to[e - from]);
		p->pos += 2;
		return 0;
	}
	if (c != 'u' && c != 'U') {
		if (c > 0x20 && c < 0x7f)
			return herr(p, "invalid escape sequence \"\\%c\"", c);
		p->pos++;
		return perr(p, line, col, "invalid escape sequence: "
		    "backslash followed by %s", describe(p, d));
	}
	n = c == 'u' ? 4 : 8;
	for (i = 0; i < n; i++) {
		if ((h = hexval(peek(p, 2 + (size_t)i))) == -1)
			return herr(p, "invalid escape sequence: \\%c needs "
			    "%d hex digits", c, n);
		cp = cp << 4 | (uint32_t)h;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return herr(p, "invalid escape sequence \"\\%c%.*s\": not a "
		    "Unicode scalar value", c, n, p->b + p->pos + 2);
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

static int
parse_array(struct parser *p, struct toml_value *v, int depth)
{
	char	 d[DESC_MAX];

	if (depth > TOML_MAX_DEPTH)
		return herr(p, "values nested deeper than %d levels",
		    TOML_MAX_DEPTH);
	v->type = TOML_ARRAY;
	p->pos++;
	for (;;) {
		if (skip_blank(p) == -1)
			goto fail;
		if (peek(p, 0) == ']')
			break;
		if (parse_value(p, arr_push(v), depth + 1) == -1 ||
		    skip_blank(p) == -1)
			goto fail;
		if (peek(p, 0) == ']')
			break;
		if (peek(p, 0) != ',') {
			herr(p, "expected ',' or ']' in array, found %s",
			    describe(p, d));
			goto fail;
		}
		p->pos++;
	}
	p->pos++;
	return 0;
fail:
	value_free(v);
	return -1;
}

static int
parse_inline(struct parser *p, struct toml_value *v, int depth)
{
	char	 d[DESC_MAX];
	int	 line, col;

	if (depth > TOML_MAX_DEPTH)
		return herr(p, "values nested deeper than %d levels",
		    TOML_MAX_DEPTH);
	v->type = TOML_TABLE;
	v->u.tab = table_new(T_INLINE, v->line, v->col);
	p->pos++;
	skip_ws(p);
	while (peek(p, 0) != '}') {
		if (parse_keyval(p, v->u.tab, depth) == -1)
			goto fail;
		skip_ws(p);
		if (peek(p, 0) == '}')
			break;
		if (peek(p, 0) != ',') {
			herr(p, "expected ',' or '}' in inline table, found %s",
			    describe(p, d));
			goto fail;
		}
		line = p->line;
		col = colno(p);
		p->pos++;
		skip_ws(p);
		if (peek(p, 0) == '}') {
			perr(p, line, col, "trailing comma in inline table");
			goto fail;
		}
	}
	p->pos++;
	return 0;
fail:
	value_free(v);
	return -1;
}

/* Booleans, numbers and date-times: one run of token characters. */
static int
parse_scalar(struct parser *p, struct toml_value *v)
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

	while ((c = peek(p, n)) == '+' || c == '.' || c == ':' || is_bare(c))
		n++;
	/* "1979-05-27 07:32:00": a date, one space, then a time. */
	if (n == 10 && peek(p, 4) == '-' && peek(p, 7) == '-' &&
	    peek(p, 10) == ' ' && is_digit(peek(p, 11)) &&
	    is_digit(peek(p, 12)) && peek(p, 13) == ':') {
		n = 11;
		while ((c = peek(p, n)) == '+' || c == '.' || c == ':' ||
		    is_bare(c))
			n++;
	}
	return n;
}

/* <pre> "<token>"<post>, the token cut at TOK_SHOW bytes. */
static int
bad_token(struct parser *p, const char *pre, const char *t, size_t n,
    const char *post)
{
	return herr(p, "%s \"%.*s%s\"%s", pre,
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
	int	 d = hexval(c);

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

/* ---- API ---------------------------------------------------------- */

struct toml_table *
toml_parse(const char *buf, size_t len, const char *name, struct buf *err)
{
	struct parser	 p;

	memset(&p, 0, sizeof(p));
	p.b = buf;
	p.len = len;
	p.line = 1;
	p.name = name != NULL ? name : "<input>";
	p.err = err;
	p.root = p.cur = table_new(T_EXPLICIT, 1, 1);
	if (len > TOML_MAX_INPUT) {
		perr(&p, 1, 1, "input larger than %d bytes", TOML_MAX_INPUT);
		goto fail;
	}
	if (check_input(&p) == -1 || parse_doc(&p) == -1)
		goto fail;
	return p.root;
fail:
	toml_free(p.root);
	return NULL;
}

struct toml_table *
toml_parse_file(const char *path, struct buf *err)
{
	struct toml_table	*t = NULL;
	struct buf		 b = BUF_INIT;

	if (read_file(path, TOML_MAX_INPUT, &b, err) == 0)
		t = toml_parse(b.data, b.len, path, err);
	buf_free(&b);
	return t;
}

void
toml_free(struct toml_table *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->kv[i].key);
		value_free(&t->kv[i].val);
	}
	free(t->kv);
	free(t->idx);
	free(t);
}

const struct toml_kv *
toml_get(const struct toml_table *t, const char *key)
{
	if (t == NULL || key == NULL)
		return NULL;
	return table_find(t, key, strlen(key));
}

const char *
toml_type_name(enum toml_type type)
{
	static const char *const names[] = { "?", "string", "integer",
	    "float", "boolean", "offset date-time", "local date-time",
	    "local date", "local time", "array", "table" };

	if ((int)type < 0 || (size_t)type >= nitems(names))
		return "?";
	return names[type];
}
