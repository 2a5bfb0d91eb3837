/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tdec.h: schema decoding over the toml.h tree.
 *
 * A decoder walks one parsed file.  Each table being decoded is opened
 * as a `struct tdec_tab` carrying its dotted key path ("package",
 * "package.dependencies"; array indices are never part of the path).
 * Typed getters fetch a key, check its type and mark it consumed;
 * tdec_close() then reports every key nobody consumed as unknown.
 * Every error is appended to the decoder's error buffer as
 *   file:line:col: key.path: message
 * and decoding continues, so one pass reports all mistakes.
 *
 * Trust: operator files.  Keys and values are printed quoted and
 * escaped, so no byte of the input can forge a line of the report.
 */
#ifndef PM_TDEC_H
#define PM_TDEC_H

#include <stddef.h>
#include <stdint.h>

#include "toml.h"
#include "util.h"

struct tdec {
	const char	*file;		/* name used in messages */
	struct buf	*err;
	int		 nerr;
};

struct tdec_tab {
	struct tdec		*d;
	const struct toml_table	*t;	/* NULL: absent table (getters see nothing) */
	char			*path;	/* "" for the root */
	unsigned char		*used;	/* one flag per key of t */
	char			**known;	/* keys asked for (for hints) */
	size_t			 nknown;
	int			 line;	/* where the table starts (for "missing") */
	int			 col;
};

/* Getter results. */
#define TDEC_ABSENT	0
#define TDEC_OK		1
#define TDEC_ERR	(-1)

void	 tdec_init(struct tdec *, const char *file, struct buf *err);

/* Open a table (t may be NULL) under `path`; line/col locate it. */
void	 tdec_open(struct tdec *, struct tdec_tab *, const struct toml_table *,
	    const char *path, int line, int col);
/* Report unconsumed keys as unknown, then free. */
void	 tdec_close(struct tdec_tab *);
/* Free without reporting (a table owned by another tool). */
void	 tdec_discard(struct tdec_tab *);

/* Raw access: the key/value (marked consumed) or NULL. */
const struct toml_kv *tdec_get(struct tdec_tab *, const char *key);
/* Consume a key without decoding it (NULL when absent). */
const struct toml_kv *tdec_skip(struct tdec_tab *, const char *key);

/*
 * Typed getters: TDEC_OK (value stored), TDEC_ABSENT (out untouched) or
 * TDEC_ERR (type error reported; out untouched).
 * Strings are copied and must not contain NUL bytes.
 */
int	 tdec_str(struct tdec_tab *, const char *, char **);
int	 tdec_int(struct tdec_tab *, const char *, int64_t *);
int	 tdec_bool(struct tdec_tab *, const char *, int *);
int	 tdec_str_array(struct tdec_tab *, const char *, char ***, size_t *);
/* A sub-table ([x] or inline); opened into `sub` (also when absent). */
int	 tdec_table(struct tdec_tab *, const char *, struct tdec_tab *sub);
/* An array of tables ([[x]] or an array of inline tables). */
int	 tdec_table_array(struct tdec_tab *, const char *,
	    const struct toml_value **arr, size_t *n);
/* Open element i of an array got from tdec_table_array(). */
void	 tdec_open_elem(struct tdec_tab *parent, struct tdec_tab *sub,
	    const char *key, const struct toml_value *elem);
/* A duration string (duration.h syntax), in nanoseconds. */
int	 tdec_duration(struct tdec_tab *, const char *, int64_t *);

/*
 * Range-checked forms: a value outside [min, max] is reported (naming
 * the value and the range) and *out is left untouched.
 */
int	 tdec_int_range(struct tdec_tab *, const char *, int64_t min,
	    int64_t max, int64_t *);
int	 tdec_duration_range(struct tdec_tab *, const char *, int64_t min,
	    int64_t max, int64_t *);

/* Position of a key's value when present, else of the table. */
void	 tdec_pos(const struct tdec_tab *, const char *, int *, int *);

/* Report an error at line:col about `key` (NULL: the table itself). */
void	 tdec_errf(struct tdec_tab *, int line, int col, const char *key,
	    const char *, ...) PM_PRINTF(5, 6);
/* Same, positioned at the key (or the table when the key is absent). */
void	 tdec_kerrf(struct tdec_tab *, const char *key, const char *, ...)
	    PM_PRINTF(3, 4);
/* Low level: "file:line:col: path: message" into d->err. */
void	 tdec_report(struct tdec *, int line, int col, const char *path,
	    const char *, ...) PM_PRINTF(5, 6);

/* Append s as a double-quoted, escaped string (Go %q style). */
void	 tdec_quote(struct buf *, const char *s, size_t len);
/* Quoted copy of a NUL-terminated string, in a static ring of buffers. */
const char *tdec_q(const char *);
/* Free a string array from tdec_str_array(). */
void	 tdec_free_strv(char **, size_t);
const char *tdec_type_name(int toml_type);

#endif /* PM_TDEC_H */
