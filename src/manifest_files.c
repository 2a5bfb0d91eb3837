/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * manifest_files.c: the files manifest (.peipkg/files.json, BEHAVIOUR.md
 * §3.14): the canonical writer and the strict parser (CONSUMER.md §1.8).
 *
 * Trust: parses files.json out of packages (hostile): the number of
 * entries is bounded before yajl builds a tree, paths must ascend
 * strictly and every hash is 64 lowercase hex characters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"

static int	 parse_file_entry(yajl_val, size_t, struct mf_file *,
		    struct buf *);
static size_t	 count_objects(const char *, size_t);
static int	 parse_file_entries(yajl_val, struct mf_file **, size_t *,
		    struct buf *);

void
manifest_files_write(const struct mf_file *f, size_t n, struct buf *out)
{
	struct jw	 w;
	char		 hex[65];
	size_t		 i;

	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version");
	jw_int(&w, 1);
	jw_key(&w, "algorithm");
	jw_str(&w, "sha256");
	jw_key(&w, "entries");
	jw_arr_begin(&w);
	for (i = 0; i < n; i++) {
		hex_encode(f[i].sha256, 32, hex);
		jw_obj_begin(&w);
		jw_key(&w, "path");
		jw_str(&w, MF_S(f[i].path));
		jw_key(&w, "size");
		jw_uint(&w, f[i].size);
		jw_key(&w, "hash");
		jw_str(&w, hex);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
}

static int
parse_file_entry(yajl_val e, size_t i, struct mf_file *f, struct buf *err)
{
	static const char *const names[] = { "path", "size", "hash" };
	yajl_val	 m[3];
	char		 w[64];
	const char	*h;
	size_t		 k;

	snprintf(w, sizeof(w), "entries[%zu]", i);
	if (manifest_json_want(e, MF_T_OBJ, 1, w, err) == -1 ||
	    manifest_json_members(e, names, 3, MF_STRICT, m, w, err) == -1)
		return -1;
	snprintf(w, sizeof(w), "entries[%zu].path", i);
	if (manifest_json_want(m[0], MF_T_STR, 1, w, err) == -1)
		return -1;
	f->path = xstrdup(m[0]->u.string);
	snprintf(w, sizeof(w), "entries[%zu].size", i);
	if (manifest_json_want(m[1], MF_T_INT, 1, w, err) == -1)
		return -1;
	if (m[1]->u.number.i < 0)
		return errf(err, "%s: must not be negative", w);
	f->size = (uint64_t)m[1]->u.number.i;
	snprintf(w, sizeof(w), "entries[%zu].hash", i);
	if (manifest_json_want(m[2], MF_T_STR, 1, w, err) == -1)
		return -1;
	h = m[2]->u.string;
	for (k = 0; h[k] != '\0'; k++)
		if (!((h[k] >= '0' && h[k] <= '9') ||
		    (h[k] >= 'a' && h[k] <= 'f')))
			break;
	if (k != 64 || h[k] != '\0' || hex_decode(h, 64, f->sha256) == -1)
		return errf(err, "%s: not 64 lowercase hex characters", w);
	return 0;
}

/*
 * Objects outside strings, counted before yajl builds a tree, so a
 * 64 MiB files.json cannot make it allocate for millions of entries.
 */
static size_t
count_objects(const char *s, size_t n)
{
	size_t	 i, count = 0;
	int	 instr = 0;

	for (i = 0; i < n; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
		} else if (s[i] == '"')
			instr = 1;
		else if (s[i] == '{')
			count++;
	}
	return count;
}

static int
parse_file_entries(yajl_val arr, struct mf_file **out, size_t *nout,
    struct buf *err)
{
	struct buf	 qa = BUF_INIT, qb = BUF_INIT;
	struct mf_file	*f;
	size_t		 i, n = arr->u.array.len;
	int		 c, rc = 0;

	f = xcalloc(n, sizeof(*f));
	for (i = 0; i < n && rc == 0; i++) {
		if (parse_file_entry(arr->u.array.values[i], i, &f[i],
		    err) == -1)
			rc = -1;
		else if (i > 0 && (c = strcmp(f[i - 1].path, f[i].path)) >= 0) {
			manifest_quote(&qa, f[i - 1].path);
			manifest_quote(&qb, f[i].path);
			rc = errf(err, "entries: %s %s %s (paths must be "
			    "strictly ascending)", buf_str(&qa), c == 0 ?
			    "appears twice, at" : "is not sorted before",
			    buf_str(&qb));
		}
	}
	if (rc == -1)
		manifest_files_free(f, i);
	else {
		*out = f;
		*nout = n;
	}
	buf_free(&qa);
	buf_free(&qb);
	return rc;
}

int
manifest_files_parse(const char *s, size_t n, struct mf_file **out,
    size_t *nout, struct buf *err)
{
	static const char *const names[] = { "schema_version", "algorithm",
	    "entries" };
	struct buf	 e = BUF_INIT;
	yajl_val	 doc = NULL, m[3];
	int		 rc = -1;

	if (manifest_json_space_ok(s, n, err) == -1)
		goto out;
	if (count_objects(s, n) > MF_MAX_FILES + 1) {
		errf(err, "entries: more than %d", MF_MAX_FILES);
		goto out;
	}
	if ((doc = json_parse(s, n, &e)) == NULL) {
		errf(err, "not valid JSON: %s", buf_str(&e));
		goto out;
	}
	if (manifest_json_want(doc, MF_T_OBJ, 1, "files.json", err) == -1 ||
	    manifest_json_members(doc, names, 3, MF_STRICT, m, "files.json",
	    err) == -1 ||
	    manifest_json_want(m[0], MF_T_INT, 1, "schema_version",
	    err) == -1 ||
	    manifest_json_want(m[1], MF_T_STR, 1, "algorithm", err) == -1 ||
	    manifest_json_want(m[2], MF_T_ARR, 1, "entries", err) == -1)
		goto out;
	if (m[0]->u.number.i != 1)
		errf(err, "schema_version: must be 1");
	else if (strcmp(m[1]->u.string, "sha256") != 0)
		errf(err, "algorithm: must be \"sha256\"");
	else if (m[2]->u.array.len > MF_MAX_FILES)
		errf(err, "entries: more than %d", MF_MAX_FILES);
	else
		rc = parse_file_entries(m[2], out, nout, err);
 out:
	yajl_tree_free(doc);
	buf_free(&e);
	return rc;
}

void
manifest_files_free(struct mf_file *f, size_t n)
{
	size_t	 i;

	if (f == NULL)
		return;
	for (i = 0; i < n; i++)
		free(f[i].path);
	free(f);
}
