/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml.h: a strict TOML 1.0 parser producing an ordered tree.
 *
 * Trust: parses operator files (config, recipes) which may be wrong in
 * any way; every error is reported as "file:line:col: message" and the
 * parser never reads past the input or recurses without bound.
 */
#ifndef PM_TOML_H
#define PM_TOML_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define TOML_MAX_INPUT	(4 * 1024 * 1024)	/* bytes */
#define TOML_MAX_DEPTH	64			/* nested arrays/tables */

enum toml_type {
	TOML_STRING = 1,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,		/* offset date-time */
	TOML_LOCAL_DATETIME,
	TOML_LOCAL_DATE,
	TOML_LOCAL_TIME,
	TOML_ARRAY,
	TOML_TABLE
};

/*
 * Tree shape.  The root is a table.  [a.b] and dotted keys (a.b = 1)
 * both give nested TOML_TABLE values (a -> b); inline tables are plain
 * TOML_TABLE values too.  [[p]] gives a TOML_ARRAY of TOML_TABLE values,
 * one per header, in order.  Datetimes keep their source text in u.str.
 * A table's kv[] is in definition order (a super-table appears where it
 * was first named).  Positions: kv line/col is the key (the header's key
 * part for tables), val line/col the value (the '[' of a header).
 */
struct toml_table;

struct toml_value {
	enum toml_type	 type;
	int		 line;		/* 1-based position of the value */
	int		 col;		/* 1-based, in bytes */
	union {
		struct {
			char	*s;	/* NUL-terminated; may hold NULs */
			size_t	 len;
		} str;			/* TOML_STRING; also the datetime text */
		int64_t	 i;		/* TOML_INTEGER */
		double	 f;		/* TOML_FLOAT */
		int	 b;		/* TOML_BOOL */
		struct {
			struct toml_value *v;
			size_t		   n;
		} arr;			/* TOML_ARRAY */
		struct toml_table *tab;	/* TOML_TABLE */
	} u;
};

struct toml_kv {
	char			*key;	/* NUL-terminated, may hold NULs */
	size_t			 keylen;
	int			 line;	/* position of the key */
	int			 col;
	struct toml_value	 val;
};

struct toml_table {
	struct toml_kv	*kv;		/* in definition order */
	size_t		 n;
	size_t		 cap;
	int		 line;		/* header / opening position */
	int		 col;
	unsigned int	 flags;		/* parser-internal */
	size_t		*idx;		/* parser-internal hash index of kv */
	size_t		 idxcap;
};

/*
 * Parse `len` bytes.  `name` is used in error messages.  On error NULL is
 * returned and exactly one "name:line:col: message" is appended to err.
 */
struct toml_table *toml_parse(const char *buf, size_t len, const char *name,
	    struct buf *err);
/* Read the file (at most TOML_MAX_INPUT bytes) and parse it. */
struct toml_table *toml_parse_file(const char *path, struct buf *err);
void	 toml_free(struct toml_table *);

/* Lookup by key (NULL when absent). */
const struct toml_kv *toml_get(const struct toml_table *, const char *key);

const char *toml_type_name(enum toml_type);

#endif /* PM_TOML_H */
