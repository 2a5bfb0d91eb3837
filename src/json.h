/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * json.h: the byte-exact JSON writer and thin, strict helpers over the
 * yajl tree parser.
 *
 * Writer.  Canonical mode (flags 0) is the encoding of every document the
 * packer and the publisher write (BEHAVIOUR.md §2.1): compact, members in
 * the order the caller writes them, Go encoding/json string escaping with
 * HTML escaping off, one "\n" after the top-level value.  JW_PRETTY gives
 * Go's MarshalIndent(v, "", "  ") layout and JW_HTML escapes < > & (both
 * used only for the HTTP /status document).  Misuse of the writer (a
 * value without a key in an object, unbalanced nesting, ...) is a
 * programming error and fatal.
 *
 * Reader.  json_parse() accepts exactly one JSON value (surrounding
 * whitespace allowed), valid UTF-8, no NUL bytes or "\u0000" escapes, at
 * most JSON_MAX_INPUT bytes and JSON_MAX_DEPTH levels of nesting.  The
 * returned tree is freed with yajl_tree_free().
 */
#ifndef PM_JSON_H
#define PM_JSON_H

#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "util.h"

#define JW_PRETTY	0x01	/* MarshalIndent layout, two spaces */
#define JW_HTML		0x02	/* < > & as \u003c \u003e \u0026 */

#define JW_MAX_DEPTH	32

#define JSON_MAX_INPUT	(64 * 1024 * 1024)	/* largest document parsed */
#define JSON_MAX_DEPTH	64			/* deepest nesting parsed */

struct jw {
	struct buf	*jw_out;
	int		 jw_flags;
	int		 jw_depth;
	int		 jw_after_key;	/* a key was written, value due */
	int		 jw_done;	/* the top-level value is complete */
	char		 jw_type[JW_MAX_DEPTH];	/* '{' or '[' */
	unsigned	 jw_count[JW_MAX_DEPTH];	/* items written */
};

void	 jw_init(struct jw *, struct buf *, int);
void	 jw_obj_begin(struct jw *);
void	 jw_obj_end(struct jw *);
void	 jw_arr_begin(struct jw *);
void	 jw_arr_end(struct jw *);
void	 jw_key(struct jw *, const char *);
void	 jw_str(struct jw *, const char *);
void	 jw_strn(struct jw *, const char *, size_t);
void	 jw_int(struct jw *, int64_t);
void	 jw_uint(struct jw *, uint64_t);
void	 jw_bool(struct jw *, int);
void	 jw_null(struct jw *);
void	 jw_end(struct jw *);		/* checks balance, writes "\n" */

/* Append the quoted, escaped string (Go encoding/json rules). */
void	 json_escape(struct buf *, const char *, size_t, int html);

yajl_val json_parse(const char *, size_t, struct buf *);
yajl_val json_get(yajl_val, const char *);
int	 json_only_members(yajl_val, const char *const *, const char *,
	    struct buf *);
int	 json_get_str(yajl_val, const char *, const char *, const char **,
	    struct buf *);
int	 json_get_int64(yajl_val, const char *, const char *, int64_t *,
	    struct buf *);
int	 json_get_uint(yajl_val, const char *, const char *, uint64_t *,
	    struct buf *);
int	 json_get_bool(yajl_val, const char *, const char *, int *,
	    struct buf *);
int	 json_get_array(yajl_val, const char *, const char *, yajl_val *,
	    struct buf *);
int	 json_get_object(yajl_val, const char *, const char *, yajl_val *,
	    struct buf *);

#endif /* PM_JSON_H */
