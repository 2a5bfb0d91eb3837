/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * manifest_int.h: what manifest.c shares with manifest_relations.c and
 * manifest_files.c (not for other modules): strict reading of JSON
 * members out of yajl trees and the validators' message helpers.
 *
 * Trust: the JSON read here comes from packages and repository states
 * (hostile); see manifest.c.
 */
#ifndef PM_MANIFEST_INT_H
#define PM_MANIFEST_INT_H

#include "json.h"
#include "manifest.h"
#include "util.h"

#define MF_S(x)	((x) != NULL ? (x) : "")

#define MF_RECORD_KEYS	4	/* members of a manifest_json_records() object */

/* JSON types for manifest_json_want(). */
enum { MF_T_STR, MF_T_ARR, MF_T_OBJ, MF_T_INT };

/*
 * Map the members of `obj` named in `names` into out[] (NULL: absent).
 * Unknown members are ignored; a repeated member is an error, and so is,
 * in MF_STRICT, one whose name differs from a known one only in letter
 * case (MF_LENIENT matches such a name as Go's decoder does).
 */
int	 manifest_json_members(yajl_val obj, const char *const *names,
	    size_t n, int mode, yajl_val *out, const char *what,
	    struct buf *err);
/*
 * 1 when `v` holds a value of `type`; 0 when it is absent or null and
 * not required; -1 (with "<what>: missing" or "must be ...") otherwise.
 */
int	 manifest_json_want(yajl_val v, int type, int required,
	    const char *what, struct buf *err);
/* A string member into *dst (kept when absent); 0 or -1. */
int	 manifest_json_str(yajl_val v, int required, char **dst,
	    const char *what, struct buf *err);
/*
 * Appends one element of "" strings to `owner` and points slot[k] at
 * the member read from keys[k].
 */
typedef void	(*mf_slots_fn)(void *owner, char ***slot);
/*
 * An array of at most `max` objects whose members keys[0..nkeys) are
 * strings ("<what>[i].<key>" in messages; nkeys <= MF_RECORD_KEYS); bit
 * k of `required` makes keys[k] required.  Each element goes to `owner`
 * through `add`.
 */
int	 manifest_json_records(yajl_val arr, int mode, const char *what,
	    const char *const *keys, size_t nkeys, unsigned int required,
	    size_t max, mf_slots_fn add, void *owner, struct buf *err);

/* ident_quote() of a whole C string. */
void	 manifest_quote(struct buf *, const char *);
/* errf(err, "<field>: <e>"), then empty `e` and set *bad. */
void	 manifest_report(struct buf *err, int *bad, const char *field,
	    struct buf *e);
void	 manifest_reportf(struct buf *err, int *bad, const char *, ...)
	    PM_PRINTF(3, 4);
/*
 * Names (or paths) a and b at index i-1 and i of list `what` must
 * ascend strictly; flags MF_INDEX_ENTRY picks the index wording.
 */
void	 manifest_order_check(struct buf *err, int *bad, int flags,
	    const char *what, const char *a, const char *b, size_t i);

#endif /* PM_MANIFEST_INT_H */
