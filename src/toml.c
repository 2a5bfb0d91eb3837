/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml.c: a strict TOML 1.0 parser producing an ordered tree: input
 * checks, errors, keys, the document structure (headers, key/value
 * pairs, arrays, inline tables) and toml_parse().  Strings, numbers and
 * date-times are toml_scalar.c's, the tree itself toml_tree.c's.
 *
 * Trust: parses operator files (config, recipes) that may be wrong in
 * any way.  The input is bounded (TOML_MAX_INPUT), checked for UTF-8 and
 * bare CR before parsing and only read through toml_peek(), so nothing
 * reads past its end.  Nesting (tables, arrays, key parts) is bounded by
 * TOML_MAX_DEPTH, which also bounds every recursion here.  The first
 * error stops the parse and is reported once as "name:line:col: msg".
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_int.h"

struct key {
	struct kpart	 part[TOML_MAX_DEPTH];
	size_t		 n;
};

static int	 skip_comment(struct parser *);
static int	 skip_blank(struct parser *);
static int	 vperr(struct parser *, int, int, const char *, va_list)
		    PM_PRINTF(4, 0);
static int	 check_input(struct parser *);
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
static int	 parse_array(struct parser *, struct toml_value *, int);
static int	 parse_inline(struct parser *, struct toml_value *, int);

/* ---- input -------------------------------------------------------- */

static int
skip_comment(struct parser *p)
{
	int	 c;

	if (toml_peek(p, 0) != '#')
		return 0;
	/* check_input() guarantees every CR starts a CRLF. */
	while ((c = toml_peek(p, 0)) != -1 && c != '\n' && c != '\r') {
		if (toml_ctl(c))
			return toml_herr(p, "control character 0x%02x in "
			    "comment", c);
		p->pos++;
	}
	return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int
skip_blank(struct parser *p)
{
	do {
		toml_skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
	} while (toml_eat_nl(p));
	return 0;
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

int
toml_perr(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vperr(p, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at the cursor. */
int
toml_herr(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vperr(p, p->line, toml_colno(p), fmt, ap);
	va_end(ap);
	return -1;
}

/* What is at the cursor, for "expected X, found Y". */
const char *
toml_describe(const struct parser *p, char *d)
{
	uint32_t	 cp;
	int		 c = toml_peek(p, 0), n, i;

	if (c == -1)
		return "end of input";
	if (c == '\n' || c == '\r')
		return "newline";
	if (toml_ctl(c))
		snprintf(d, TOML_DESC_MAX, "control character 0x%02x", c);
	else if (c < 0x80)
		snprintf(d, TOML_DESC_MAX, "'%c'", c);
	else {
		/* check_input() validated the UTF-8 sequence. */
		n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		cp = (uint32_t)c & (0x3fu >> (n - 1));
		for (i = 1; i < n; i++)
			cp = cp << 6 | ((uint32_t)toml_peek(p, i) & 0x3f);
		snprintf(d, TOML_DESC_MAX, "U+%04X", (unsigned int)cp);
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
		} else if (s[p->pos] == '\r' && toml_peek(p, 1) != '\n')
			return toml_herr(p, "carriage return not followed by "
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
				return toml_herr(p, "invalid UTF-8");
		}
	}
	p->pos = p->lstart = 0;
	p->line = 1;
	return 0;
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
		if (kp->s[j] == '\'' || toml_ctl((unsigned char)kp->s[j]) ||
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
			bare = toml_is_bare((unsigned char)kp->s[j]);
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
			else if (toml_ctl(c) || c == '\t')
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
		toml_perr(p, k->part[0].line, k->part[0].col, "%s\"%s\"", pre,
		    buf_str(&a));
	else
		toml_perr(p, k->part[0].line, k->part[0].col,
		    "%s\"%s\": \"%s\" is %s", pre, buf_str(&a), buf_str(&b),
		    toml_value_what(v));
	buf_free(&a);
	buf_free(&b);
	return -1;
}

static int
parse_key(struct parser *p, struct key *k)
{
	for (;;) {
		if (k->n == TOML_MAX_DEPTH)
			return toml_herr(p, "key nested deeper than %d levels",
			    TOML_MAX_DEPTH);
		if (parse_simple_key(p, &k->part[k->n]) == -1)
			return -1;
		k->n++;
		toml_skip_ws(p);
		if (toml_peek(p, 0) != '.')
			return 0;
		p->pos++;
		toml_skip_ws(p);
	}
}

static int
parse_simple_key(struct parser *p, struct kpart *kp)
{
	struct buf	 b = BUF_INIT;
	char		 d[TOML_DESC_MAX];
	size_t		 start = p->pos;
	int		 c = toml_peek(p, 0);

	kp->line = p->line;
	kp->col = toml_colno(p);
	if (c == '"' || c == '\'') {
		if (toml_peek(p, 1) == c && toml_peek(p, 2) == c)
			return toml_herr(p, "a multi-line string cannot be a "
			    "key");
		if (toml_scalar_quoted(p, &b, c) == -1) {
			buf_free(&b);
			return -1;
		}
	} else if (toml_is_bare(c)) {
		while (toml_is_bare(toml_peek(p, 0)))
			p->pos++;
		buf_add(&b, p->b + start, p->pos - start);
	} else if (c == '\n' || c == '\r')
		return toml_herr(p, "expected a key, found newline");
	else
		return toml_herr(p, "expected a key, found %s",
		    toml_describe(p, d));
	kp->len = b.len;
	kp->s = buf_release(&b);
	return 0;
}

/* ---- document structure ------------------------------------------- */

static int
parse_doc(struct parser *p)
{
	char		 d[TOML_DESC_MAX];
	const char	*after;
	int		 rc;

	if (p->len >= 3 && memcmp(p->b, "\xef\xbb\xbf", 3) == 0)
		p->pos = 3;	/* tolerate a UTF-8 byte order mark */
	for (;;) {
		toml_skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
		if (toml_peek(p, 0) == -1)
			return 0;
		if (toml_eat_nl(p))
			continue;
		if (toml_peek(p, 0) == '[') {
			after = "table header";
			rc = parse_header(p);
		} else {
			after = "value";
			rc = parse_keyval(p, p->cur, p->curdepth);
		}
		if (rc == -1)
			return -1;
		toml_skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
		if (toml_peek(p, 0) != -1 && !toml_eat_nl(p))
			return toml_herr(p, "expected newline after %s, "
			    "found %s", after, toml_describe(p, d));
	}
}

static int
parse_header(struct parser *p)
{
	struct key	 k;
	char		 d[TOML_DESC_MAX];
	int		 line = p->line, col = toml_colno(p), aot = 0, rc = -1;

	k.n = 0;
	p->pos++;
	if (toml_peek(p, 0) == '[') {
		aot = 1;
		p->pos++;
	}
	toml_skip_ws(p);
	if (parse_key(p, &k) == -1)
		goto out;
	if (toml_peek(p, 0) != ']' || (aot && toml_peek(p, 1) != ']')) {
		toml_herr(p, "expected '%s' after table name, found %s",
		    aot ? "]]" : "]", toml_describe(p, d));
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
		if ((kv = toml_table_find(t, kp->s, kp->len)) == NULL) {
			t = toml_table_add_table(t, kp, T_IMPLICIT, kp->line,
			    kp->col);
			depth++;
			continue;
		}
		v = &kv->val;
		if (toml_value_is_aot(v)) {
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
		return toml_perr(p, line, col, "tables nested deeper than %d "
		    "levels", TOML_MAX_DEPTH);
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
	toml_perr(p, line, col, "cannot define %s %s%s%s: \"%s\" is %s",
	    aot ? "array of tables" : "table", aot ? "[[" : "[", buf_str(&a),
	    aot ? "]]" : "]", buf_str(&b), toml_value_what(v));
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

	if ((kv = toml_table_find(t, kp->s, kp->len)) == NULL) {
		p->cur = toml_table_add_table(t, kp, T_EXPLICIT, line, col);
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
		toml_perr(p, line, col, "table [%s] %s", buf_str(&a),
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

	if ((kv = toml_table_find(t, kp->s, kp->len)) == NULL) {
		kv = toml_table_add(t, kp);
		kv->val.type = TOML_ARRAY;
		kv->val.line = line;
		kv->val.col = col;
	} else if (!toml_value_is_aot(&kv->val))
		return header_err(p, k, k->n, 1, line, col, &kv->val);
	e = toml_array_push(&kv->val);
	e->type = TOML_TABLE;
	e->line = line;
	e->col = col;
	e->u.tab = toml_table_new(T_EXPLICIT | T_AOT, line, col);
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
	char			 d[TOML_DESC_MAX];
	int			 rc = -1;

	k.n = 0;
	if (parse_key(p, &k) == -1)
		goto out;
	if (toml_peek(p, 0) != '=') {
		toml_herr(p, "expected '=' after key, found %s",
		    toml_describe(p, d));
		goto out;
	}
	p->pos++;
	toml_skip_ws(p);
	if ((t = dotted_walk(p, &k, t, &depth)) == NULL)
		goto out;
	kp = &k.part[k.n - 1];
	if (toml_table_find(t, kp->s, kp->len) != NULL) {
		keyerr(p, &k, k.n, "duplicate key ", NULL);
		goto out;
	}
	if (parse_value(p, &v, depth + 1) == -1)
		goto out;
	kv = toml_table_add(t, kp);
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
			toml_perr(p, kp->line, kp->col, "tables nested deeper "
			    "than %d levels", TOML_MAX_DEPTH);
			return NULL;
		}
		kv = toml_table_find(t, kp->s, kp->len);
		if (kv == NULL)
			t = toml_table_add_table(t, kp, T_DOTTED, kp->line,
			    kp->col);
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
	char	 d[TOML_DESC_MAX];
	int	 c = toml_peek(p, 0);

	memset(v, 0, sizeof(*v));
	v->line = p->line;
	v->col = toml_colno(p);
	if (c == '"' || c == '\'')
		return toml_scalar_string(p, v);
	if (c == '[')
		return parse_array(p, v, depth);
	if (c == '{')
		return parse_inline(p, v, depth);
	if (c == '+' || c == '.' || c == ':' || toml_is_bare(c))
		return toml_scalar_parse(p, v);
	return toml_herr(p, "expected a value, found %s", toml_describe(p, d));
}

static int
parse_array(struct parser *p, struct toml_value *v, int depth)
{
	char	 d[TOML_DESC_MAX];

	if (depth > TOML_MAX_DEPTH)
		return toml_herr(p, "values nested deeper than %d levels",
		    TOML_MAX_DEPTH);
	v->type = TOML_ARRAY;
	p->pos++;
	for (;;) {
		if (skip_blank(p) == -1)
			goto fail;
		if (toml_peek(p, 0) == ']')
			break;
		if (parse_value(p, toml_array_push(v), depth + 1) == -1 ||
		    skip_blank(p) == -1)
			goto fail;
		if (toml_peek(p, 0) == ']')
			break;
		if (toml_peek(p, 0) != ',') {
			toml_herr(p, "expected ',' or ']' in array, found %s",
			    toml_describe(p, d));
			goto fail;
		}
		p->pos++;
	}
	p->pos++;
	return 0;
fail:
	toml_value_free(v);
	return -1;
}

static int
parse_inline(struct parser *p, struct toml_value *v, int depth)
{
	char	 d[TOML_DESC_MAX];
	int	 line, col;

	if (depth > TOML_MAX_DEPTH)
		return toml_herr(p, "values nested deeper than %d levels",
		    TOML_MAX_DEPTH);
	v->type = TOML_TABLE;
	v->u.tab = toml_table_new(T_INLINE, v->line, v->col);
	p->pos++;
	toml_skip_ws(p);
	while (toml_peek(p, 0) != '}') {
		if (parse_keyval(p, v->u.tab, depth) == -1)
			goto fail;
		toml_skip_ws(p);
		if (toml_peek(p, 0) == '}')
			break;
		if (toml_peek(p, 0) != ',') {
			toml_herr(p, "expected ',' or '}' in inline table, "
			    "found %s", toml_describe(p, d));
			goto fail;
		}
		line = p->line;
		col = toml_colno(p);
		p->pos++;
		toml_skip_ws(p);
		if (toml_peek(p, 0) == '}') {
			toml_perr(p, line, col, "trailing comma in inline "
			    "table");
			goto fail;
		}
	}
	p->pos++;
	return 0;
fail:
	toml_value_free(v);
	return -1;
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
	p.root = p.cur = toml_table_new(T_EXPLICIT, 1, 1);
	if (len > TOML_MAX_INPUT) {
		toml_perr(&p, 1, 1, "input larger than %d bytes",
		    TOML_MAX_INPUT);
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

