/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tdec.c: schema decoding over the toml.h tree: typed getters that mark
 * keys consumed, unknown-key reporting, every error collected.
 *
 * Trust: operator files (config, recipes).  Every key and value quoted
 * into a message is escaped; this file calls no toml.c function, only
 * reads the tree, so tests of the leaf modules can link it alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duration.h"
#include "tdec.h"

#define TDEC_QRING	8
#define TDEC_HINT_MAX	64	/* longest key considered for a hint */

static size_t	 distance(const char *, size_t, const char *, size_t);
static const char *suggest(const struct tdec_tab *, const char *, size_t);
static int	 is_aot(const struct toml_value *);
static void	 remember(struct tdec_tab *, const char *);
static const struct toml_kv *find(struct tdec_tab *, const char *);
static int	 bare_key(const char *, size_t);
static void	 add_key(struct buf *, const char *, size_t);
static char	*sub_path(const char *, const char *, size_t);
static int	 type_err(struct tdec_tab *, const struct toml_kv *,
		    const char *);
static int	 str_ok(struct tdec_tab *, const char *,
		    const struct toml_value *, int, int);

void
tdec_init(struct tdec *d, const char *file, struct buf *err)
{
	d->file = file;
	d->err = err;
	d->nerr = 0;
}

void
tdec_open(struct tdec *d, struct tdec_tab *tab, const struct toml_table *t,
    const char *path, int line, int col)
{
	tab->d = d;
	tab->t = t;
	tab->path = xstrdup(path);
	tab->used = (t != NULL && t->n > 0) ? xcalloc(t->n, 1) : NULL;
	tab->known = NULL;
	tab->nknown = 0;
	tab->line = line > 0 ? line : 1;
	tab->col = col > 0 ? col : 1;
}

void
tdec_discard(struct tdec_tab *tab)
{
	tdec_free_strv(tab->known, tab->nknown);
	tab->known = NULL;
	tab->nknown = 0;
	free(tab->path);
	free(tab->used);
	tab->path = NULL;
	tab->used = NULL;
	tab->t = NULL;
}

void
tdec_close(struct tdec_tab *tab)
{
	const struct toml_kv	*kv;
	struct buf		 p = BUF_INIT;
	const char		*hint;
	size_t			 i;

	for (i = 0; tab->t != NULL && i < tab->t->n; i++) {
		if (tab->used[i])
			continue;
		kv = &tab->t->kv[i];
		buf_reset(&p);
		if (tab->path[0] != '\0') {
			buf_adds(&p, tab->path);
			buf_addc(&p, '.');
		}
		add_key(&p, kv->key, kv->keylen);
		hint = suggest(tab, kv->key, kv->keylen);
		tdec_report(tab->d, kv->line, kv->col, buf_str(&p),
		    "unknown %s%s%s%s", kv->val.type == TOML_TABLE ? "table" :
		    is_aot(&kv->val) ? "array of tables" : "key",
		    hint != NULL ? " (did you mean \"" : "",
		    hint != NULL ? hint : "", hint != NULL ? "\"?)" : "");
	}
	buf_free(&p);
	tdec_discard(tab);
}

/* Edit distance of two short strings (insert, delete, substitute). */
static size_t
distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t	 row[TDEC_HINT_MAX + 1], i, j, prev, tmp, best;

	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= nb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[nb];
}

/* A known key the unknown one was probably meant to be, or NULL. */
static const char *
suggest(const struct tdec_tab *tab, const char *k, size_t n)
{
	size_t	 i, len, dist;

	if (n > TDEC_HINT_MAX)
		return NULL;
	for (i = 0; i < tab->nknown; i++) {
		len = strlen(tab->known[i]);
		if (len == n && strncasecmp(tab->known[i], k, n) == 0)
			return tab->known[i];
	}
	for (i = 0; i < tab->nknown; i++) {
		len = strlen(tab->known[i]);
		if (len > TDEC_HINT_MAX)
			continue;
		dist = distance(k, n, tab->known[i], len);
		if (dist <= 2 && dist < len / 2 + 1)
			return tab->known[i];
	}
	return NULL;
}

static int
is_aot(const struct toml_value *v)
{
	return v->type == TOML_ARRAY && v->u.arr.n > 0 &&
	    v->u.arr.v[0].type == TOML_TABLE;
}

static void
remember(struct tdec_tab *tab, const char *key)
{
	size_t	 i;

	for (i = 0; i < tab->nknown; i++)
		if (strcmp(tab->known[i], key) == 0)
			return;
	tab->known = xreallocarray(tab->known, tab->nknown + 1,
	    sizeof(*tab->known));
	tab->known[tab->nknown++] = xstrdup(key);
}

static const struct toml_kv *
find(struct tdec_tab *tab, const char *key)
{
	size_t	 i, len = strlen(key);

	remember(tab, key);
	if (tab->t == NULL)
		return NULL;
	for (i = 0; i < tab->t->n; i++) {
		if (tab->t->kv[i].keylen == len &&
		    memcmp(tab->t->kv[i].key, key, len) == 0) {
			tab->used[i] = 1;
			return &tab->t->kv[i];
		}
	}
	return NULL;
}

const struct toml_kv *
tdec_get(struct tdec_tab *tab, const char *key)
{
	return find(tab, key);
}

const struct toml_kv *
tdec_skip(struct tdec_tab *tab, const char *key)
{
	return find(tab, key);
}

void
tdec_pos(const struct tdec_tab *tab, const char *key, int *line, int *col)
{
	size_t	 i, len;

	*line = tab->line;
	*col = tab->col;
	if (key == NULL || tab->t == NULL)
		return;
	len = strlen(key);
	for (i = 0; i < tab->t->n; i++) {
		if (tab->t->kv[i].keylen == len &&
		    memcmp(tab->t->kv[i].key, key, len) == 0) {
			*line = tab->t->kv[i].val.line > 0 ?
			    tab->t->kv[i].val.line : tab->t->kv[i].line;
			*col = tab->t->kv[i].val.line > 0 ?
			    tab->t->kv[i].val.col : tab->t->kv[i].col;
			return;
		}
	}
}

/* ---- messages ------------------------------------------------------ */

static int
bare_key(const char *k, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-'))
			return 0;
	}
	return 1;
}

static void
add_key(struct buf *b, const char *k, size_t n)
{
	if (bare_key(k, n))
		buf_add(b, k, n);
	else
		tdec_quote(b, k, n);
}

static char *
sub_path(const char *path, const char *key, size_t keylen)
{
	struct buf	 b = BUF_INIT;

	if (path[0] != '\0') {
		buf_adds(&b, path);
		buf_addc(&b, '.');
	}
	add_key(&b, key, keylen);
	return buf_release(&b);
}

void
tdec_report(struct tdec *d, int line, int col, const char *path,
    const char *fmt, ...)
{
	struct buf	 m = BUF_INIT;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vaddf(&m, fmt, ap);
	va_end(ap);
	if (path != NULL && path[0] != '\0')
		errf(d->err, "%s:%d:%d: %s: %s", d->file, line > 0 ? line : 1,
		    col > 0 ? col : 1, path, buf_str(&m));
	else
		errf(d->err, "%s:%d:%d: %s", d->file, line > 0 ? line : 1,
		    col > 0 ? col : 1, buf_str(&m));
	d->nerr++;
	buf_free(&m);
}

static void
vreport_at(struct tdec_tab *tab, int line, int col, const char *key,
    const char *fmt, va_list ap)
{
	struct buf	 m = BUF_INIT;
	char		*p;

	buf_vaddf(&m, fmt, ap);
	p = key != NULL ? sub_path(tab->path, key, strlen(key)) :
	    xstrdup(tab->path);
	tdec_report(tab->d, line, col, p, "%s", buf_str(&m));
	free(p);
	buf_free(&m);
}

void
tdec_errf(struct tdec_tab *tab, int line, int col, const char *key,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vreport_at(tab, line, col, key, fmt, ap);
	va_end(ap);
}

void
tdec_kerrf(struct tdec_tab *tab, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	int	 line, col;

	tdec_pos(tab, key, &line, &col);
	va_start(ap, fmt);
	vreport_at(tab, line, col, key, fmt, ap);
	va_end(ap);
}

/* Length of a valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t	 len, i;
	unsigned	 c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return len;
}

void
tdec_quote(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, l;

	buf_addc(b, '"');
	while (i < n) {
		l = utf8_len(p + i, n - i);
		if (p[i] == '"' || p[i] == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, p[i]);
		} else if (p[i] == '\n')
			buf_adds(b, "\\n");
		else if (p[i] == '\t')
			buf_adds(b, "\\t");
		else if (p[i] == '\r')
			buf_adds(b, "\\r");
		else if (l == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			buf_addf(b, "\\x%02x", p[i]);
			l = 1;
		} else if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			buf_addf(b, "\\u%04x", p[i + 1]);	/* C1 controls */
		} else if (l == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			buf_addf(b, "\\u%04x", 0x2000 + (p[i + 2] & 0x3f));
		} else
			buf_add(b, p + i, l);
		i += l == 0 ? 1 : l;
		continue;
	}
	buf_addc(b, '"');
}

const char *
tdec_q(const char *s)
{
	static __thread char	*ring[TDEC_QRING];
	static __thread int	 next;
	struct buf		 b = BUF_INIT;
	char			*r;

	tdec_quote(&b, s, strlen(s));
	r = buf_release(&b);
	free(ring[next]);
	ring[next] = r;
	next = (next + 1) % TDEC_QRING;
	return r;
}

const char *
tdec_type_name(int type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_DATETIME:
		return "offset date-time";
	case TOML_LOCAL_DATETIME:
		return "local date-time";
	case TOML_LOCAL_DATE:
		return "local date";
	case TOML_LOCAL_TIME:
		return "local time";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "unknown type";
}

/* ---- getters ------------------------------------------------------- */

static int
type_err(struct tdec_tab *tab, const struct toml_kv *kv, const char *want)
{
	tdec_errf(tab, kv->val.line, kv->val.col, kv->key,
	    "expected %s, got %s", want, tdec_type_name(kv->val.type));
	return TDEC_ERR;
}

/* A string value must not carry NUL bytes (C strings end there). */
static int
str_ok(struct tdec_tab *tab, const char *key, const struct toml_value *v,
    int line, int col)
{
	if (memchr(v->u.str.s, '\0', v->u.str.len) != NULL) {
		tdec_errf(tab, line, col, key,
		    "string contains a NUL character");
		return 0;
	}
	return 1;
}

int
tdec_str(struct tdec_tab *tab, const char *key, char **out)
{
	const struct toml_kv	*kv;

	if ((kv = find(tab, key)) == NULL)
		return TDEC_ABSENT;
	if (kv->val.type != TOML_STRING)
		return type_err(tab, kv, "string");
	if (!str_ok(tab, key, &kv->val, kv->val.line, kv->val.col))
		return TDEC_ERR;
	free(*out);
	*out = xstrdup(kv->val.u.str.s);
	return TDEC_OK;
}

int
tdec_int(struct tdec_tab *tab, const char *key, int64_t *out)
{
	const struct toml_kv	*kv;

	if ((kv = find(tab, key)) == NULL)
		return TDEC_ABSENT;
	if (kv->val.type != TOML_INTEGER)
		return type_err(tab, kv, "integer");
	*out = kv->val.u.i;
	return TDEC_OK;
}

int
tdec_bool(struct tdec_tab *tab, const char *key, int *out)
{
	const struct toml_kv	*kv;

	if ((kv = find(tab, key)) == NULL)
		return TDEC_ABSENT;
	if (kv->val.type != TOML_BOOL)
		return type_err(tab, kv, "boolean");
	*out = kv->val.u.b != 0;
	return TDEC_OK;
}

int
tdec_str_array(struct tdec_tab *tab, const char *key, char ***out,
    size_t *n)
{
	const struct toml_kv	*kv;
	const struct toml_value	*e;
	char			**v;
	size_t			 i;
	int			 bad = 0;

	if ((kv = find(tab, key)) == NULL)
		return TDEC_ABSENT;
	if (kv->val.type != TOML_ARRAY)
		return type_err(tab, kv, "array of strings");
	for (i = 0; i < kv->val.u.arr.n; i++) {
		e = &kv->val.u.arr.v[i];
		if (e->type != TOML_STRING) {
			tdec_errf(tab, e->line, e->col, key,
			    "element %zu: expected string, got %s", i,
			    tdec_type_name(e->type));
			bad = 1;
		} else if (!str_ok(tab, key, e, e->line, e->col))
			bad = 1;
	}
	if (bad)
		return TDEC_ERR;
	v = xcalloc(kv->val.u.arr.n + 1, sizeof(*v));
	for (i = 0; i < kv->val.u.arr.n; i++)
		v[i] = xstrdup(kv->val.u.arr.v[i].u.str.s);
	tdec_free_strv(*out, *n);
	*out = v;
	*n = kv->val.u.arr.n;
	return TDEC_OK;
}

void
tdec_free_strv(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
tdec_table(struct tdec_tab *tab, const char *key, struct tdec_tab *sub)
{
	const struct toml_kv	*kv;
	char			*p;

	kv = find(tab, key);
	p = sub_path(tab->path, key, strlen(key));
	if (kv == NULL || kv->val.type != TOML_TABLE) {
		tdec_open(tab->d, sub, NULL, p, tab->line, tab->col);
		free(p);
		if (kv == NULL)
			return TDEC_ABSENT;
		return type_err(tab, kv, "table");
	}
	tdec_open(tab->d, sub, kv->val.u.tab, p, kv->val.u.tab->line,
	    kv->val.u.tab->col);
	free(p);
	return TDEC_OK;
}

int
tdec_table_array(struct tdec_tab *tab, const char *key,
    const struct toml_value **arr, size_t *n)
{
	const struct toml_kv	*kv;
	size_t			 i;
	int			 bad = 0;

	*arr = NULL;
	*n = 0;
	if ((kv = find(tab, key)) == NULL)
		return TDEC_ABSENT;
	if (kv->val.type != TOML_ARRAY)
		return type_err(tab, kv, "array of tables");
	for (i = 0; i < kv->val.u.arr.n; i++) {
		if (kv->val.u.arr.v[i].type == TOML_TABLE)
			continue;
		tdec_errf(tab, kv->val.u.arr.v[i].line,
		    kv->val.u.arr.v[i].col, key,
		    "element %zu: expected table, got %s", i,
		    tdec_type_name(kv->val.u.arr.v[i].type));
		bad = 1;
	}
	if (bad)
		return TDEC_ERR;
	*arr = kv->val.u.arr.v;
	*n = kv->val.u.arr.n;
	return TDEC_OK;
}

void
tdec_open_elem(struct tdec_tab *parent, struct tdec_tab *sub,
    const char *key, const struct toml_value *elem)
{
	char	*p;
	int	 line = elem->line, col = elem->col;

	p = sub_path(parent->path, key, strlen(key));
	if (elem->u.tab->line > 0) {
		line = elem->u.tab->line;
		col = elem->u.tab->col;
	}
	tdec_open(parent->d, sub, elem->u.tab, p, line, col);
	free(p);
}

int
tdec_duration(struct tdec_tab *tab, const char *key, int64_t *out)
{
	const struct toml_kv	*kv;
	struct buf		 e = BUF_INIT;
	int64_t			 ns;
	int			 rc = TDEC_OK;

	if ((kv = find(tab, key)) == NULL)
		return TDEC_ABSENT;
	if (kv->val.type != TOML_STRING) {
		tdec_errf(tab, kv->val.line, kv->val.col, key,
		    "expected a duration string such as \"1h30m\", got %s",
		    tdec_type_name(kv->val.type));
		return TDEC_ERR;
	}
	if (!str_ok(tab, key, &kv->val, kv->val.line, kv->val.col))
		return TDEC_ERR;
	if (duration_parse(kv->val.u.str.s, &ns, &e) == -1) {
		tdec_errf(tab, kv->val.line, kv->val.col, key, "%s",
		    buf_str(&e));
		rc = TDEC_ERR;
	} else
		*out = ns;
	buf_free(&e);
	return rc;
}

int
tdec_int_range(struct tdec_tab *tab, const char *key, int64_t min,
    int64_t max, int64_t *out)
{
	int64_t	 v;
	int	 rc;

	if ((rc = tdec_int(tab, key, &v)) != TDEC_OK)
		return rc;
	if (v < min || v > max) {
		tdec_kerrf(tab, key, "%lld is out of range (want %lld to %lld)",
		    (long long)v, (long long)min, (long long)max);
		return TDEC_ERR;
	}
	*out = v;
	return TDEC_OK;
}

int
tdec_duration_range(struct tdec_tab *tab, const char *key, int64_t min,
    int64_t max, int64_t *out)
{
	char	 a[DURATION_FMT_MAX], b[DURATION_FMT_MAX], c[DURATION_FMT_MAX];
	int64_t	 v;
	int	 rc;

	if ((rc = tdec_duration(tab, key, &v)) != TDEC_OK)
		return rc;
	if (v < min || v > max) {
		duration_format(v, a);
		duration_format(min, b);
		duration_format(max, c);
		tdec_kerrf(tab, key, "%s is out of range (want %s to %s)", a,
		    b, c);
		return TDEC_ERR;
	}
	*out = v;
	return TDEC_OK;
}
