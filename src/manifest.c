/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * manifest.c: manifest.json: construction, the canonical writer, the
 * strict and lenient parsers and the consumer client's acceptance rules,
 * with the strict JSON member reading that manifest_relations.c (the
 * relation arrays, shared with index entries) and manifest_files.c
 * (files.json) use too.
 *
 * Trust: strict parsing reads documents out of packages built by
 * untrusted build scripts or fetched from elsewhere.  Member names are
 * matched exactly; a member that the consumer's JSON decoder (which
 * folds letter case, including U+017F and U+212A) would take for a known
 * one is refused, so this parser and the consumer can never read two
 * different values out of one document.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "log.h"
#include "manifest_int.h"
#include "version.h"

static void	 write_str(struct jw *, const char *, const char *);
static int	 fold_eq(const char *, const char *);
static void	 sd_slots(void *, char ***);
static int	 parse_build(yajl_val, int, struct mf_build *, struct buf *);
static int	 parse_strings(yajl_val *, int, struct manifest *,
		    struct buf *);
static int	 parse_top(yajl_val, int, struct manifest *, struct buf *);
static int	 b64_len_ok(const char *, size_t *);
static void	 check_sd_overrides(const struct manifest *, struct buf *,
		    int *);
static void	 check_build(const struct mf_build *, int, struct buf *, int *);
static int	 cmp_dep(const void *, const void *);
static int	 cmp_provide(const void *, const void *);
static int	 cmp_replace(const void *, const void *);
static int	 cmp_sdo(const void *, const void *);
static int	 dups(const char *, const void *, size_t, size_t, size_t,
		    struct buf *);

/* ---- construction ----------------------------------------------------- */

void
manifest_init(struct manifest *mf)
{
	memset(mf, 0, sizeof(*mf));
	mf->name = xstrdup("");
	mf->version = xstrdup("");
	mf->architecture = xstrdup("");
	mf->description = xstrdup("");
	mf->license = xstrdup("");
	mf->homepage = xstrdup("");
	mf->build.timestamp = xstrdup("");
	mf->build.farm_id = xstrdup("");
	mf->build.source_ref = xstrdup("");
}

void
manifest_free(struct manifest *mf)
{
	size_t	 i;

	free(mf->name);
	free(mf->version);
	free(mf->architecture);
	free(mf->description);
	free(mf->license);
	free(mf->homepage);
	manifest_relations_free(&mf->rel);
	for (i = 0; i < mf->nsd_overrides; i++) {
		free(mf->sd_overrides[i].path);
		free(mf->sd_overrides[i].sd);
	}
	free(mf->sd_overrides);
	free(mf->build.timestamp);
	free(mf->build.farm_id);
	free(mf->build.source_ref);
	memset(mf, 0, sizeof(*mf));
}

void
manifest_set(char **field, const char *value)
{
	char	*old = *field;

	*field = xstrdup(MF_S(value));
	free(old);
}

void
manifest_sd_override_add(struct manifest *mf, const char *path,
    const char *sd)
{
	mf->sd_overrides = xreallocarray(mf->sd_overrides,
	    mf->nsd_overrides + 1, sizeof(*mf->sd_overrides));
	mf->sd_overrides[mf->nsd_overrides].path = xstrdup(MF_S(path));
	mf->sd_overrides[mf->nsd_overrides].sd = xstrdup(MF_S(sd));
	mf->nsd_overrides++;
}

/* ---- writing ---------------------------------------------------------- */

static void
write_str(struct jw *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_str(w, MF_S(value));
}

void
manifest_write(const struct manifest *mf, struct buf *out)
{
	struct jw	 w;
	size_t		 i;

	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version");
	jw_int(&w, 1);
	write_str(&w, "name", mf->name);
	write_str(&w, "version", mf->version);
	write_str(&w, "architecture", mf->architecture);
	write_str(&w, "description", mf->description);
	write_str(&w, "license", mf->license);
	write_str(&w, "homepage", mf->homepage);
	manifest_relations_write(&w, &mf->rel);
	jw_key(&w, "size_installed");
	jw_uint(&w, mf->size_installed);
	jw_key(&w, "sd_overrides");
	jw_arr_begin(&w);
	for (i = 0; i < mf->nsd_overrides; i++) {
		jw_obj_begin(&w);
		write_str(&w, "path", mf->sd_overrides[i].path);
		write_str(&w, "sd", mf->sd_overrides[i].sd);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "build");
	jw_obj_begin(&w);
	write_str(&w, "timestamp", mf->build.timestamp);
	write_str(&w, "farm_id", mf->build.farm_id);
	write_str(&w, "source_ref", mf->build.source_ref);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
}

/* ---- reading JSON members --------------------------------------------- */

/*
 * yajl takes \v and \f for whitespace; Go's decoder (the consumer)
 * rejects them.  Raw, they are never valid anywhere else in JSON.
 */
int
manifest_json_space_ok(const char *s, size_t n, struct buf *err)
{
	const char	*v = memchr(s, '\v', n), *f = memchr(s, '\f', n);

	if (v == NULL && f == NULL)
		return 0;
	if (v == NULL || (f != NULL && f < v))
		v = f;
	return errf(err, "not valid JSON: %s byte at offset %zu",
	    *v == '\v' ? "vertical tab" : "form feed", (size_t)(v - s));
}

/*
 * Would Go's encoding/json match JSON member `key` to field `name`
 * (lowercase ASCII)?  It folds case with Unicode simple folding, under
 * which U+017F (long s) is 's' and U+212A (Kelvin sign) is 'k'.
 */
static int
fold_eq(const char *key, const char *name)
{
	const unsigned char	*k = (const unsigned char *)key;
	int			 c;

	for (; *name != '\0'; name++) {
		if (k[0] == 0xc5 && k[1] == 0xbf)
			c = 's', k += 2;
		else if (k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa)
			c = 'k', k += 3;
		else if (*k >= 'A' && *k <= 'Z')
			c = *k++ - 'A' + 'a';
		else
			c = *k++;
		if (c != *name)
			return 0;
	}
	return *k == '\0';
}

void
manifest_quote(struct buf *b, const char *s)
{
	ident_quote(b, s, strlen(s));
}

int
manifest_json_members(yajl_val obj, const char *const *names, size_t n,
    int mode, yajl_val *out, const char *what, struct buf *err)
{
	struct buf	 q = BUF_INIT;
	const char	*k;
	size_t		 i, j;
	int		 rc = 0;

	for (j = 0; j < n; j++)
		out[j] = NULL;
	for (i = 0; rc == 0 && i < obj->u.object.len; i++) {
		k = obj->u.object.keys[i];
		for (j = 0; j < n && strcmp(k, names[j]) != 0; j++)
			;
		if (j == n)
			for (j = 0; j < n && !fold_eq(k, names[j]); j++)
				;
		if (j == n)
			continue;
		buf_reset(&q);
		manifest_quote(&q, k);
		if (strcmp(k, names[j]) != 0 && mode == MF_STRICT)
			rc = errf(err, "%s: member %s differs from \"%s\" "
			    "only in letter case", what, buf_str(&q), names[j]);
		else if (out[j] != NULL)
			rc = errf(err, "%s: member %s appears more than once",
			    what, buf_str(&q));
		else
			out[j] = obj->u.object.values[i];
	}
	buf_free(&q);
	return rc;
}

int
manifest_json_want(yajl_val v, int type, int required, const char *what,
    struct buf *err)
{
	static const char *const tn[] = { "a string", "an array",
	    "an object", "an integer" };
	int	 ok;

	if (v == NULL || YAJL_IS_NULL(v))
		return required ? errf(err, "%s: missing", what) : 0;
	switch (type) {
	case MF_T_STR:
		ok = YAJL_IS_STRING(v);
		break;
	case MF_T_ARR:
		ok = YAJL_IS_ARRAY(v);
		break;
	case MF_T_OBJ:
		ok = YAJL_IS_OBJECT(v);
		break;
	default:
		ok = YAJL_IS_INTEGER(v);
	}
	if (!ok)
		return errf(err, "%s: must be %s", what, tn[type]);
	return 1;
}

int
manifest_json_str(yajl_val v, int required, char **dst, const char *what,
    struct buf *err)
{
	int	 r;

	if ((r = manifest_json_want(v, MF_T_STR, required, what, err)) == 1)
		manifest_set(dst, v->u.string);
	return r == -1 ? -1 : 0;
}

int
manifest_json_records(yajl_val arr, int mode, const char *what,
    const char *const *keys, size_t nkeys, unsigned int required,
    size_t max, mf_slots_fn add, void *owner, struct buf *err)
{
	struct buf	 w = BUF_INIT;
	yajl_val	 m[MF_RECORD_KEYS], e;
	char		**slot[MF_RECORD_KEYS];
	size_t		 i, k;
	int		 rc = 0;

	if (nkeys > MF_RECORD_KEYS)
		fatalx("manifest_json_records: %zu keys", nkeys);
	if (arr->u.array.len > max)
		return errf(err, "%s: more than %zu entries", what, max);
	for (i = 0; rc == 0 && i < arr->u.array.len; i++) {
		e = arr->u.array.values[i];
		buf_reset(&w);
		buf_addf(&w, "%s[%zu]", what, i);
		if (manifest_json_want(e, MF_T_OBJ, 1, buf_str(&w),
		    err) == -1 || manifest_json_members(e, keys, nkeys, mode,
		    m, buf_str(&w), err) == -1) {
			rc = -1;
			break;
		}
		add(owner, slot);
		for (k = 0; rc == 0 && k < nkeys; k++) {
			buf_reset(&w);
			buf_addf(&w, "%s[%zu].%s", what, i, keys[k]);
			rc = manifest_json_str(m[k], (required >> k) & 1,
			    slot[k], buf_str(&w), err);
		}
	}
	buf_free(&w);
	return rc;
}

/* ---- parsing ---------------------------------------------------------- */

static void
sd_slots(void *owner, char ***slot)
{
	struct manifest	*mf = owner;

	manifest_sd_override_add(mf, "", "");
	slot[0] = &mf->sd_overrides[mf->nsd_overrides - 1].path;
	slot[1] = &mf->sd_overrides[mf->nsd_overrides - 1].sd;
}

static int
parse_build(yajl_val v, int mode, struct mf_build *b, struct buf *err)
{
	static const char *const names[] = { "timestamp", "farm_id",
	    "source_ref" };
	yajl_val	 m[3];
	int		 req = mode == MF_STRICT;

	if (manifest_json_members(v, names, 3, mode, m, "build", err) == -1 ||
	    manifest_json_str(m[0], req, &b->timestamp, "build.timestamp",
	    err) == -1 ||
	    manifest_json_str(m[1], req, &b->farm_id, "build.farm_id",
	    err) == -1 ||
	    manifest_json_str(m[2], req, &b->source_ref, "build.source_ref",
	    err) == -1)
		return -1;
	return 0;
}

enum {
	M_SCHEMA, M_NAME, M_VERSION, M_ARCH, M_DESC, M_LICENSE, M_HOMEPAGE,
	M_SIZE, M_SDO, M_BUILD, M_COUNT
};

/* The relation arrays are manifest_relations_parse()'s. */
static const char *const top_names[M_COUNT] = {
	"schema_version", "name", "version", "architecture", "description",
	"license", "homepage", "size_installed", "sd_overrides", "build"
};

/* name ... homepage, and the schema_version and size_installed rules. */
static int
parse_strings(yajl_val *m, int mode, struct manifest *mf, struct buf *err)
{
	int	 strict = mode == MF_STRICT, i, r;
	char	**strs[] = { NULL, &mf->name, &mf->version, &mf->architecture,
	    &mf->description, &mf->license, &mf->homepage };

	if (strict && ((r = manifest_json_want(m[M_SCHEMA], MF_T_INT, 1,
	    "schema_version", err)) == -1 || m[M_SCHEMA]->u.number.i != 1))
		return r == -1 ? -1 : errf(err, "schema_version: must be 1");
	for (i = M_NAME; i <= M_HOMEPAGE; i++)
		if (manifest_json_str(m[i], strict && i <= M_ARCH, strs[i],
		    top_names[i], err) == -1)
			return -1;
	return 0;
}

static int
parse_top(yajl_val doc, int mode, struct manifest *mf, struct buf *err)
{
	static const char *const sdkeys[] = { "path", "sd" };
	yajl_val	 m[M_COUNT];
	int		 strict = mode == MF_STRICT, r;

	if (manifest_json_want(doc, MF_T_OBJ, 1, "manifest", err) == -1 ||
	    manifest_json_members(doc, top_names, M_COUNT, mode, m,
	    "manifest", err) == -1 || parse_strings(m, mode, mf, err) == -1 ||
	    manifest_relations_parse(doc, mode, 0, &mf->rel, NULL, err) == -1)
		return -1;
	if ((r = manifest_json_want(m[M_SDO], MF_T_ARR, 0, "sd_overrides",
	    err)) == -1 || (r == 1 && manifest_json_records(m[M_SDO], mode,
	    "sd_overrides", sdkeys, 2, strict ? 0x3 : 0, MF_MAX_SD_OVERRIDES,
	    sd_slots, mf, err) == -1))
		return -1;
	if (strict) {
		if (manifest_json_want(m[M_SIZE], MF_T_INT, 1, "size_installed",
		    err) == -1)
			return -1;
		if (m[M_SIZE]->u.number.i < 0)
			return errf(err, "size_installed: must not be "
			    "negative");
		mf->size_installed = (uint64_t)m[M_SIZE]->u.number.i;
	}
	if ((r = manifest_json_want(m[M_BUILD], MF_T_OBJ, strict, "build",
	    err)) == -1 || (r == 1 && parse_build(m[M_BUILD], mode, &mf->build,
	    err) == -1))
		return -1;
	return 0;
}

int
manifest_parse(const char *s, size_t n, int mode, struct manifest *mf,
    struct buf *err)
{
	struct buf	 e = BUF_INIT;
	yajl_val	 doc = NULL;
	int		 rc = -1;

	manifest_init(mf);
	if (manifest_json_space_ok(s, n, err) == -1)
		goto out;
	if ((doc = json_parse(s, n, &e)) == NULL) {
		errf(err, "not valid JSON: %s", buf_str(&e));
		goto out;
	}
	if (parse_top(doc, mode, mf, err) == -1)
		goto out;
	if (mode == MF_STRICT && manifest_validate(mf, 0, err) == -1)
		goto out;
	rc = 0;
 out:
	if (rc == -1) {
		manifest_free(mf);
		manifest_init(mf);
	}
	yajl_tree_free(doc);
	buf_free(&e);
	return rc;
}

/* ---- the consumer's rules --------------------------------------------- */

void
manifest_report(struct buf *err, int *bad, const char *field, struct buf *e)
{
	errf(err, "%s: %s", field, buf_str(e));
	buf_reset(e);
	*bad = 1;
}

void
manifest_reportf(struct buf *err, int *bad, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verrf(err, fmt, ap);
	va_end(ap);
	*bad = 1;
}

void
manifest_order_check(struct buf *err, int *bad, int flags, const char *what,
    const char *a, const char *b, size_t i)
{
	struct buf	 qa = BUF_INIT, qb = BUF_INIT;
	int		 c = strcmp(a, b);

	if (c < 0)
		return;
	manifest_quote(&qa, a);
	manifest_quote(&qb, b);
	if ((flags & MF_INDEX_ENTRY) && c == 0)
		manifest_reportf(err, bad, "%s has a duplicate entry %s", what,
		    buf_str(&qb));
	else if (flags & MF_INDEX_ENTRY)
		manifest_reportf(err, bad, "%s is not sorted (%s before %s)",
		    what, buf_str(&qa), buf_str(&qb));
	else if (c == 0)
		manifest_reportf(err, bad, "%s: duplicate entry %s (index "
		    "%zu)", what, buf_str(&qa), i);
	else
		manifest_reportf(err, bad, "%s: not sorted by name (%s before "
		    "%s at index %zu)", what, buf_str(&qa), buf_str(&qb), i);
	buf_free(&qa);
	buf_free(&qb);
}

/* Unpadded standard base64; sets the decoded length. */
static int
b64_len_ok(const char *s, size_t *declen)
{
	size_t	 n = strlen(s), i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return 0;
	if (n % 4 == 1)
		return 0;
	*declen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	return 1;
}

static void
check_sd_overrides(const struct manifest *mf, struct buf *err, int *bad)
{
	size_t	 i, dl;

	if (mf->nsd_overrides > MF_MAX_SD_OVERRIDES)
		manifest_reportf(err, bad, "sd_overrides: more than %d entries",
		    MF_MAX_SD_OVERRIDES);
	for (i = 0; i < mf->nsd_overrides; i++) {
		if (*MF_S(mf->sd_overrides[i].path) == '\0')
			manifest_reportf(err, bad, "sd_overrides[%zu]: empty "
			    "path", i);
		if (!b64_len_ok(MF_S(mf->sd_overrides[i].sd), &dl))
			manifest_reportf(err, bad, "sd_overrides[%zu]: sd is "
			    "not unpadded standard base64", i);
		else if (dl > MF_MAX_SD_BYTES)
			manifest_reportf(err, bad, "sd_overrides[%zu]: sd "
			    "decodes to %zu bytes (at most %d)", i, dl,
			    MF_MAX_SD_BYTES);
		if (i > 0)
			manifest_order_check(err, bad, 0, "sd_overrides",
			    MF_S(mf->sd_overrides[i - 1].path),
			    MF_S(mf->sd_overrides[i].path), i);
	}
}

int
manifest_timestamp(const char *s, int64_t *secs, struct buf *err)
{
	struct buf	 q = BUF_INIT, e = BUF_INIT;
	size_t		 n = strlen(s);
	long		 nanos;
	int		 rc = -1;

	manifest_quote(&q, s);
	if (n == 0)
		errf(err, "timestamp is empty");
	else if (s[n - 1] != 'Z')
		errf(err, "timestamp %s must be UTC and end with 'Z'",
		    buf_str(&q));
	else if (parse_rfc3339_z(s, secs, &nanos, &e) == -1)
		errf(err, "timestamp %s is not an RFC 3339 date-time",
		    buf_str(&q));
	else if (n != 20)
		errf(err, "timestamp %s has fractional seconds (whole seconds "
		    "only: the signature must not follow a PAX mtime header)",
		    buf_str(&q));
	else
		rc = 0;
	buf_free(&q);
	buf_free(&e);
	return rc;
}

static void
check_build(const struct mf_build *b, int flags, struct buf *err, int *bad)
{
	struct buf	 e = BUF_INIT, q = BUF_INIT;
	int64_t		 secs;
	long		 nanos;
	const char	*ts = MF_S(b->timestamp);

	if (flags & MF_PRODUCER) {
		if (manifest_timestamp(ts, &secs, &e) == -1)
			manifest_report(err, bad, "build", &e);
	} else if (*ts == '\0' || ts[strlen(ts) - 1] != 'Z') {
		manifest_quote(&q, ts);
		manifest_reportf(err, bad, "build: timestamp %s must be UTC "
		    "and end with 'Z'", buf_str(&q));
	} else if (parse_rfc3339_z(ts, &secs, &nanos, &e) == -1)
		manifest_report(err, bad, "build", &e);
	buf_free(&e);
	buf_free(&q);
}

int
manifest_validate(const struct manifest *mf, int flags, struct buf *err)
{
	struct buf		 e = BUF_INIT;
	struct pm_version	 v;
	int			 bad = 0;

	if (ident_name(MF_S(mf->name), &e) == -1)
		manifest_report(err, &bad, "name", &e);
	if (version_parse(MF_S(mf->version), &v, &e) == -1)
		manifest_report(err, &bad, "version", &e);
	else
		version_free(&v);
	if (ident_arch(MF_S(mf->architecture), &e) == -1)
		manifest_report(err, &bad, "architecture", &e);
	if (ident_description(MF_S(mf->description), &e) == -1)
		manifest_report(err, &bad, "description", &e);
	if (ident_homepage(MF_S(mf->homepage), &e) == -1)
		manifest_report(err, &bad, "homepage", &e);
	if (manifest_relations_check(&mf->rel, 0, NULL, err) == -1)
		bad = 1;
	check_sd_overrides(mf, err, &bad);
	check_build(&mf->build, flags, err, &bad);
	buf_free(&e);
	return bad ? -1 : 0;
}

/* ---- sorting ---------------------------------------------------------- */

static int
cmp_dep(const void *a, const void *b)
{
	return strcmp(MF_S(((const struct mf_dep *)a)->name),
	    MF_S(((const struct mf_dep *)b)->name));
}

static int
cmp_provide(const void *a, const void *b)
{
	return strcmp(MF_S(((const struct mf_provide *)a)->name),
	    MF_S(((const struct mf_provide *)b)->name));
}

static int
cmp_replace(const void *a, const void *b)
{
	return strcmp(MF_S(((const struct mf_replace *)a)->name),
	    MF_S(((const struct mf_replace *)b)->name));
}

static int
cmp_sdo(const void *a, const void *b)
{
	return strcmp(MF_S(((const struct mf_sd_override *)a)->path),
	    MF_S(((const struct mf_sd_override *)b)->path));
}

/* After sorting: report each repeated key (the first member of a struct). */
static int
dups(const char *what, const void *base, size_t n, size_t size, size_t off,
    struct buf *err)
{
	const char	*p = base, *a, *b;
	struct buf	 q = BUF_INIT;
	size_t		 i;
	int		 rc = 0;

	for (i = 1; i < n; i++) {
		a = MF_S(*(char *const *)(p + (i - 1) * size + off));
		b = MF_S(*(char *const *)(p + i * size + off));
		if (strcmp(a, b) != 0 || (i > 1 && strcmp(a,
		    MF_S(*(char *const *)(p + (i - 2) * size + off))) == 0))
			continue;
		buf_reset(&q);
		manifest_quote(&q, b);
		rc = errf(err, "%s: duplicate %s %s", what,
		    strcmp(what, "sd_overrides") == 0 ? "path" : "name",
		    buf_str(&q));
	}
	buf_free(&q);
	return rc;
}

int
manifest_sort(struct manifest *mf, struct buf *err)
{
	static const char *const ln[3] = { "dependencies",
	    "optional_dependencies", "conflicts" };
	struct mf_relations	*r = &mf->rel;
	struct mf_deps		*lists[3] = { &r->dependencies,
	    &r->optional_dependencies, &r->conflicts };
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < 3; i++) {
		if (lists[i]->n > 1)
			qsort(lists[i]->v, lists[i]->n, sizeof(struct mf_dep),
			    cmp_dep);
		if (dups(ln[i], lists[i]->v, lists[i]->n,
		    sizeof(struct mf_dep), 0, err) == -1)
			rc = -1;
	}
	if (r->nprovides > 1)
		qsort(r->provides, r->nprovides, sizeof(*r->provides),
		    cmp_provide);
	if (r->nreplaces > 1)
		qsort(r->replaces, r->nreplaces, sizeof(*r->replaces),
		    cmp_replace);
	if (mf->nsd_overrides > 1)
		qsort(mf->sd_overrides, mf->nsd_overrides,
		    sizeof(*mf->sd_overrides), cmp_sdo);
	if (dups("provides", r->provides, r->nprovides,
	    sizeof(*r->provides), 0, err) == -1 ||
	    dups("replaces", r->replaces, r->nreplaces,
	    sizeof(*r->replaces), 0, err) == -1 ||
	    dups("sd_overrides", mf->sd_overrides, mf->nsd_overrides,
	    sizeof(*mf->sd_overrides), 0, err) == -1)
		rc = -1;
	return rc;
}
