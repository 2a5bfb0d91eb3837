/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml_int.h: the parser state, the lexer helpers and the tree
 * operations shared by toml.c (the document structure), toml_scalar.c
 * (strings, numbers and date-times) and toml_tree.c (tables and values);
 * not for other modules.
 *
 * Trust: as toml.c: the input is hostile and only read through
 * toml_peek(), which never reads past its end.
 */
#ifndef PM_TOML_INT_H
#define PM_TOML_INT_H

#include <stddef.h>

#include "toml.h"
#include "util.h"

#define TOML_DESC_MAX	40	/* toml_describe() output */

/* How a table came to exist: the TOML 1.0 redefinition rules need it. */
#define T_EXPLICIT	0x01	/* [header] (or the root) */
#define T_IMPLICIT	0x02	/* super-table created by a header */
#define T_DOTTED	0x04	/* created by a dotted key */
#define T_INLINE	0x08	/* { inline table }: never extended */
#define T_AOT		0x10	/* element of an array of tables */

/* One part of a (dotted) key, where it was written. */
struct kpart {
	char	*s;
	size_t	 len;
	int	 line;
	int	 col;
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

/* The byte `off` past the cursor, or -1 past the end of the input. */
static inline int
toml_peek(const struct parser *p, size_t off)
{
	if (off >= p->len - p->pos)
		return -1;
	return (unsigned char)p->b[p->pos + off];
}

static inline int
toml_colno(const struct parser *p)
{
	return (int)(p->pos - p->lstart) + 1;
}

/* Consume LF or CRLF; 1 if there was one. */
static inline int
toml_eat_nl(struct parser *p)
{
	if (toml_peek(p, 0) == '\n')
		p->pos++;
	else if (toml_peek(p, 0) == '\r' && toml_peek(p, 1) == '\n')
		p->pos += 2;
	else
		return 0;
	p->line++;
	p->lstart = p->pos;
	return 1;
}

static inline void
toml_skip_ws(struct parser *p)
{
	while (toml_peek(p, 0) == ' ' || toml_peek(p, 0) == '\t')
		p->pos++;
}

/* Control characters are allowed nowhere but tab (and newlines). */
static inline int
toml_ctl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static inline int
toml_is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* toml_tree.c: tables (kv in definition order, hashed when large). */
struct toml_table *toml_table_new(unsigned int flags, int line, int col);
struct toml_kv *toml_table_find(const struct toml_table *, const char *,
	    size_t);
/*
 * Append a key (copied) with an empty value; the kv stays valid until
 * the next append to the same table.
 */
struct toml_kv *toml_table_add(struct toml_table *, const struct kpart *);
/* Append a key whose value is a new table; returns that table. */
struct toml_table *toml_table_add_table(struct toml_table *,
	    const struct kpart *, unsigned int flags, int line, int col);
/* A new zeroed element of array value `a`. */
struct toml_value *toml_array_push(struct toml_value *a);
void	 toml_value_free(struct toml_value *);
int	 toml_value_is_aot(const struct toml_value *);
/* "an inline table", "a static array", ... for messages. */
const char *toml_value_what(const struct toml_value *);

/* toml.c: the first error ends the parse ("name:line:col: msg"). */
int	 toml_perr(struct parser *, int line, int col, const char *, ...)
	    PM_PRINTF(4, 5);
/* An error at the cursor. */
int	 toml_herr(struct parser *, const char *, ...) PM_PRINTF(2, 3);
/* What is at the cursor, for "expected X, found Y" (d: TOML_DESC_MAX). */
const char *toml_describe(const struct parser *, char *d);

/* toml_scalar.c: each consumes the value at the cursor. */
int	 toml_scalar_string(struct parser *, struct toml_value *);
/* A one-line "basic" (q '"') or 'literal' (q '\'') string into out. */
int	 toml_scalar_quoted(struct parser *, struct buf *out, int q);
/* Booleans, numbers and date-times. */
int	 toml_scalar_parse(struct parser *, struct toml_value *);

#endif /* PM_TOML_INT_H */
