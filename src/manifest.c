/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * manifest.c: manifest.json and files.json: canonical writers, strict
 * and lenient parsers, and the consumer client's acceptance rules.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "version.h"

#define S(x)	((x) != NULL ? (x) : "")

enum { T_STR, T_ARR, T_OBJ, T_INT };

static void	 write_deps(struct jw *, const char *, const struct mf_deps *);
static void	 write_opt(struct jw *, const char *, const char *);
static int	 fold_eq(const char *, const char *);
static int	 members(yajl_val, const char *const *, size_t, int,
		    yajl_val *, const char *, struct buf *);
static int	 want(yajl_val, int, int, const char *, struct buf *);
static int	 get_str(yajl_val, int, char **, const char *, struct buf *);
static int	 parse_deps(yajl_val, int, struct mf_deps *, const char *,
		    struct buf *);
static int	 parse_pairs(yajl_val, int, const char *, const char *,
		    const char *, struct manifest *, struct buf *);
static int	 parse_side_effects(yajl_val, int, struct manifest *,
		    struct buf *);
static int	 parse_build(yajl_val, int, struct mf_build *, struct buf *);
static int	 parse_top(yajl_val, int, struct manifest *, struct buf *);
static void	 report(struct buf *, int *, const char *, struct buf *);
static void	 reportf(struct buf *, int *, const char *, ...)
		    PM_PRINTF(3, 4);
static void	 quote(struct buf *, const char *);
static void	 check_order(struct buf *, int *, const char *, const char *,
		    const char *, size_t);
static void	 check_deps(struct buf *, int *, const char *,
		    const struct mf_deps *);
static void	 check_pairs(const struct manifest *, struct buf *, int *);
static void	 check_side_effects(const struct manifest *, struct buf *,
		    int *);
static int	 b64_len_ok(const char *, size_t *);
static void	 check_build(const struct mf_build *, int, struct buf *, int *);
static int	 cmp_dep(const void *, const void *);
static int	 cmp_provide(const void *, const void *);
static int	 cmp_replace(const void *, const void *);
static int	 cmp_sdo(const void *, const void *);
static int	 dups(const char *, const void *, size_t, size_t, size_t,
		    struct buf *);
static int	 parse_file_entry(yajl_val, size_t, struct mf_file *,
		    struct buf *);
static void	 write_str(struct jw *, const char *, const char *);
static size_t	 count_objects(const char *, size_t);
static int	 parse_file_entries(yajl_val, struct mf_file **, size_t *,
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

static void
deps_free(struct mf_deps *d)
{
	size_t	 i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].constraint);
		free(d->v[i].arch);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
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
	deps_free(&mf->dependencies);
	deps_free(&mf->optional_dependencies);
	deps_free(&mf->conflicts);
	for (i = 0; i < mf->nprovides; i++) {
		free(mf->provides[i].name);
		free(mf->provides[i].version);
	}
	free(mf->provides);
	for (i = 0; i < mf->nreplaces; i++) {
		free(mf->replaces[i].name);
		free(mf->replaces[i].constraint);
	}
	free(mf->replaces);
	for (i = 0; i < mf->nside_effects; i++)
		free(mf->side_effects[i]);
	free(mf->side_effects);
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

	*field = xstrdup(S(value));
	free(old);
}

void
manifest_dep_add(struct mf_deps *d, const char *name, const char *constraint,
    const char *arch)
{
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n].name = xstrdup(S(name));
	d->v[d->n].constraint = xstrdup(S(constraint));
	d->v[d->n].arch = xstrdup(S(arch));
	d->n++;
}

void
manifest_provide_add(struct manifest *mf, const char *name,
    const char *version)
{
	mf->provides = xreallocarray(mf->provides, mf->nprovides + 1,
	    sizeof(*mf->provides));
	mf->provides[mf->nprovides].name = xstrdup(S(name));
	mf->provides[mf->nprovides].version = xstrdup(S(version));
	mf->nprovides++;
}

void
manifest_replace_add(struct manifest *mf, const char *name,
    const char *constraint)
{
	mf->replaces = xreallocarray(mf->replaces, mf->nreplaces + 1,
	    sizeof(*mf->replaces));
	mf->replaces[mf->nreplaces].name = xstrdup(S(name));
	mf->replaces[mf->nreplaces].constraint = xstrdup(S(constraint));
	mf->nreplaces++;
}

void
manifest_side_effect_add(struct manifest *mf, const char *s)
{
	mf->side_effects = xreallocarray(mf->side_effects,
	    mf->nside_effects + 1, sizeof(*mf->side_effects));
	mf->side_effects[mf->nside_effects++] = xstrdup(S(s));
}

void
manifest_sd_override_add(struct manifest *mf, const char *path,
    const char *sd)
{
	mf->sd_overrides = xreallocarray(mf->sd_overrides,
	    mf->nsd_overrides + 1, sizeof(*mf->sd_overrides));
	mf->sd_overrides[mf->nsd_overrides].path = xstrdup(S(path));
	mf->sd_overrides[mf->nsd_overrides].sd = xstrdup(S(sd));
	mf->nsd_overrides++;
}

/* ---- writing ---------------------------------------------------------- */

static void
write_opt(struct jw *w, const char *key, const char *value)
{
	if (value != NULL && *value != '\0') {
		jw_key(w, key);
		jw_str(w, value);
	}
}

static void
write_deps(struct jw *w, const char *key, const struct mf_deps *d)
{
	size_t	 i;

	jw_key(w, key);
	jw_arr_begin(w);
	for (i = 0; i < d->n; i++) {
		jw_obj_begin(w);
		jw_key(w, "name");
		jw_str(w, S(d->v[i].name));
		write_opt(w, "constraint", d->v[i].constraint);
		write_opt(w, "arch", d->v[i].arch);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
write_str(struct jw *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_str(w, S(value));
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
	write_deps(&w, "dependencies", &mf->dependencies);
	write_deps(&w, "optional_dependencies", &mf->optional_dependencies);
	write_deps(&w, "conflicts", &mf->conflicts);
	jw_key(&w, "provides");
	jw_arr_begin(&w);
	for (i = 0; i < mf->nprovides; i++) {
		jw_obj_begin(&w);
		write_str(&w, "name", mf->provides[i].name);
		write_opt(&w, "version", mf->provides[i].version);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "replaces");
	jw_arr_begin(&w);
	for (i = 0; i < mf->nreplaces; i++) {
		jw_obj_begin(&w);
		write_str(&w, "name", mf->replaces[i].name);
		write_opt(&w, "constraint", mf->replaces[i].constraint);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "side_effects");
	jw_arr_begin(&w);
	for (i = 0; i < mf->nside_effects; i++)
		jw_str(&w, S(mf->side_effects[i]));
	jw_arr_end(&w);
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

/* ---- parsing helpers -------------------------------------------------- */

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

static void
quote(struct buf *b, const char *s)
{
	ident_quote(b, s, strlen(s));
}

/*
 * Map the members of `obj` named in `names` into out[].  Unknown members
 * are ignored.  A repeated member is an error; so is, in strict mode, a
 * member that differs from a known name only by case folding.  Lenient
 * mode matches folded names as Go does.
 */
static int
members(yajl_val obj, const char *const *names, size_t n, int mode,
    yajl_val *out, const char *what, struct buf *err)
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
		quote(&q, k);
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

/*
 * Type check.  Absent or null: 0 (absent) unless required.  Returns 1
 * when a value of the wanted type is present.
 */
static int
want(yajl_val v, int type, int required, const char *what, struct buf *err)
{
	static const char *const tn[] = { "a string", "an array",
	    "an object", "an integer" };
	int	 ok;

	if (v == NULL || YAJL_IS_NULL(v))
		return required ? errf(err, "%s: missing", what) : 0;
	switch (type) {
	case T_STR:
		ok = YAJL_IS_STRING(v);
		break;
	case T_ARR:
		ok = YAJL_IS_ARRAY(v);
		break;
	case T_OBJ:
		ok = YAJL_IS_OBJECT(v);
		break;
	default:
		ok = YAJL_IS_INTEGER(v);
	}
	if (!ok)
		return errf(err, "%s: must be %s", what, tn[type]);
	return 1;
}

static int
get_str(yajl_val v, int required, char **dst, const char *what,
    struct buf *err)
{
	int	 r;

	if ((r = want(v, T_STR, required, what, err)) == 1)
		manifest_set(dst, v->u.string);
	return r == -1 ? -1 : 0;
}

static int
parse_deps(yajl_val arr, int mode, struct mf_deps *d, const char *what,
    struct buf *err)
{
	static const char *const names[] = { "name", "constraint", "arch" };
	yajl_val	 m[3], e;
	char		 w[96];
	size_t		 i;

	if (arr->u.array.len > MF_MAX_DEPS)
		return errf(err, "%s: more than %d entries", what,
		    MF_MAX_DEPS);
	for (i = 0; i < arr->u.array.len; i++) {
		e = arr->u.array.values[i];
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		if (want(e, T_OBJ, 1, w, err) == -1 ||
		    members(e, names, 3, mode, m, w, err) == -1)
			return -1;
		manifest_dep_add(d, "", "", "");
		snprintf(w, sizeof(w), "%s[%zu].name", what, i);
		if (get_str(m[0], mode == MF_STRICT, &d->v[i].name, w,
		    err) == -1)
			return -1;
		snprintf(w, sizeof(w), "%s[%zu].constraint", what, i);
		if (get_str(m[1], 0, &d->v[i].constraint, w, err) == -1)
			return -1;
		snprintf(w, sizeof(w), "%s[%zu].arch", what, i);
		if (get_str(m[2], 0, &d->v[i].arch, w, err) == -1)
			return -1;
	}
	return 0;
}

/* provides {name, version}, replaces {name, constraint}, sd {path, sd}. */
static int
parse_pairs(yajl_val arr, int mode, const char *what, const char *k1,
    const char *k2, struct manifest *mf, struct buf *err)
{
	const char	*names[2] = { k1, k2 };
	yajl_val	 m[2], e;
	char		 w[96], **a, **b;
	size_t		 i, max;

	max = *what == 'p' ? MF_MAX_DEPS : *what == 'r' ? MF_MAX_REPLACES :
	    MF_MAX_SD_OVERRIDES;
	if (arr->u.array.len > max)
		return errf(err, "%s: more than %zu entries", what, max);
	for (i = 0; i < arr->u.array.len; i++) {
		e = arr->u.array.values[i];
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		if (want(e, T_OBJ, 1, w, err) == -1 ||
		    members(e, names, 2, mode, m, w, err) == -1)
			return -1;
		if (*what == 'p') {
			manifest_provide_add(mf, "", "");
			a = &mf->provides[i].name, b = &mf->provides[i].version;
		} else if (*what == 'r') {
			manifest_replace_add(mf, "", "");
			a = &mf->replaces[i].name;
			b = &mf->replaces[i].constraint;
		} else {
			manifest_sd_override_add(mf, "", "");
			a = &mf->sd_overrides[i].path;
			b = &mf->sd_overrides[i].sd;
		}
		snprintf(w, sizeof(w), "%s[%zu].%s", what, i, k1);
		if (get_str(m[0], mode == MF_STRICT, a, w, err) == -1)
			return -1;
		snprintf(w, sizeof(w), "%s[%zu].%s", what, i, k2);
		if (get_str(m[1], mode == MF_STRICT && *what == 's', b, w,
		    err) == -1)
			return -1;
	}
	return 0;
}

static int
parse_side_effects(yajl_val arr, int mode, struct manifest *mf,
    struct buf *err)
{
	char	 w[64];
	size_t	 i;

	if (arr->u.array.len > MF_MAX_DEPS)
		return errf(err, "side_effects: more than %d entries",
		    MF_MAX_DEPS);
	for (i = 0; i < arr->u.array.len; i++) {
		snprintf(w, sizeof(w), "side_effects[%zu]", i);
		manifest_side_effect_add(mf, "");
		if (get_str(arr->u.array.values[i], 1, &mf->side_effects[i],
		    w, err) == -1)
			return -1;
	}
	return 0;
}

static int
parse_build(yajl_val v, int mode, struct mf_build *b, struct buf *err)
{
	static const char *const names[] = { "timestamp", "farm_id",
	    "source_ref" };
	yajl_val	 m[3];
	int		 req = mode == MF_STRICT;

	if (members(v, names, 3, mode, m, "build", err) == -1 ||
	    get_str(m[0], req, &b->timestamp, "build.timestamp", err) == -1 ||
	    get_str(m[1], req, &b->farm_id, "build.farm_id", err) == -1 ||
	    get_str(m[2], req, &b->source_ref, "build.source_ref", err) == -1)
		return -1;
	return 0;
}

enum {
	M_SCHEMA, M_NAME, M_VERSION, M_ARCH, M_DESC, M_LICENSE, M_HOMEPAGE,
	M_DEPS, M_OPTDEPS, M_CONFLICTS, M_PROVIDES, M_REPLACES, M_SIDE,
	M_SIZE, M_SDO, M_BUILD, M_COUNT
};

static const char *const top_names[M_COUNT] = {
	"schema_version", "name", "version", "architecture", "description",
	"license", "homepage", "dependencies", "optional_dependencies",
	"conflicts", "provides", "replaces", "side_effects", "size_installed",
	"sd_overrides", "build"
};

static int
parse_top(yajl_val doc, int mode, struct manifest *mf, struct buf *err)
{
	yajl_val	 m[M_COUNT];
	int		 strict = mode == MF_STRICT, i, r;
	char		**strs[] = { NULL, &mf->name, &mf->version,
	    &mf->architecture, &mf->description, &mf->license, &mf->homepage };

	if (want(doc, T_OBJ, 1, "manifest", err) == -1 ||
	    members(doc, top_names, M_COUNT, mode, m, "manifest", err) == -1)
		return -1;
	if (strict && ((r = want(m[M_SCHEMA], T_INT, 1, "schema_version",
	    err)) == -1 || m[M_SCHEMA]->u.number.i != 1))
		return r == -1 ? -1 : errf(err, "schema_version: must be 1");
	for (i = M_NAME; i <= M_HOMEPAGE; i++)
		if (get_str(m[i], strict && i <= M_ARCH, strs[i], top_names[i],
		    err) == -1)
			return -1;
	if ((r = want(m[M_DEPS], T_ARR, strict, "dependencies", err)) == -1 ||
	    (r == 1 && parse_deps(m[M_DEPS], mode, &mf->dependencies,
	    "dependencies", err) == -1) ||
	    (r = want(m[M_OPTDEPS], T_ARR, 0, "optional_dependencies",
	    err)) == -1 || (r == 1 && parse_deps(m[M_OPTDEPS], mode,
	    &mf->optional_dependencies, "optional_dependencies", err) == -1) ||
	    (r = want(m[M_CONFLICTS], T_ARR, strict, "conflicts", err)) == -1 ||
	    (r == 1 && parse_deps(m[M_CONFLICTS], mode, &mf->conflicts,
	    "conflicts", err) == -1))
		return -1;
	if ((r = want(m[M_PROVIDES], T_ARR, 0, "provides", err)) == -1 ||
	    (r == 1 && parse_pairs(m[M_PROVIDES], mode, "provides", "name",
	    "version", mf, err) == -1) ||
	    (r = want(m[M_REPLACES], T_ARR, 0, "replaces", err)) == -1 ||
	    (r == 1 && parse_pairs(m[M_REPLACES], mode, "replaces", "name",
	    "constraint", mf, err) == -1) ||
	    (r = want(m[M_SDO], T_ARR, 0, "sd_overrides", err)) == -1 ||
	    (r == 1 && parse_pairs(m[M_SDO], mode, "sd_overrides", "path",
	    "sd", mf, err) == -1) ||
	    (r = want(m[M_SIDE], T_ARR, 0, "side_effects", err)) == -1 ||
	    (r == 1 && parse_side_effects(m[M_SIDE], mode, mf, err) == -1))
		return -1;
	if (strict) {
		if (want(m[M_SIZE], T_INT, 1, "size_installed", err) == -1)
			return -1;
		if (m[M_SIZE]->u.number.i < 0)
			return errf(err, "size_installed: must not be "
			    "negative");
		mf->size_installed = (uint64_t)m[M_SIZE]->u.number.i;
	}
	if ((r = want(m[M_BUILD], T_OBJ, strict, "build", err)) == -1 ||
	    (r == 1 && parse_build(m[M_BUILD], mode, &mf->build, err) == -1))
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

static void
report(struct buf *err, int *bad, const char *field, struct buf *e)
{
	errf(err, "%s: %s", field, buf_str(e));
	buf_reset(e);
	*bad = 1;
}

static void
reportf(struct buf *err, int *bad, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verrf(err, fmt, ap);
	va_end(ap);
	*bad = 1;
}

/* Names (or paths) a and b at index i-1 and i must ascend strictly. */
static void
check_order(struct buf *err, int *bad, const char *what, const char *a,
    const char *b, size_t i)
{
	struct buf	 qa = BUF_INIT, qb = BUF_INIT;
	int		 c = strcmp(a, b);

	if (c < 0)
		return;
	quote(&qa, a);
	quote(&qb, b);
	if (c == 0)
		reportf(err, bad, "%s: duplicate entry %s (index %zu)", what,
		    buf_str(&qa), i);
	else
		reportf(err, bad, "%s: not sorted by name (%s before %s at "
		    "index %zu)", what, buf_str(&qa), buf_str(&qb), i);
	buf_free(&qa);
	buf_free(&qb);
}

static void
check_deps(struct buf *err, int *bad, const char *what,
    const struct mf_deps *d)
{
	struct buf	 e = BUF_INIT;
	char		 w[96];
	size_t		 i;

	if (d->n > MF_MAX_DEPS)
		reportf(err, bad, "%s: more than %d entries", what,
		    MF_MAX_DEPS);
	for (i = 0; i < d->n; i++) {
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		if (ident_name(S(d->v[i].name), &e) == -1)
			report(err, bad, w, &e);
		if (ident_constraint(S(d->v[i].constraint), &e) == -1)
			report(err, bad, w, &e);
		if (ident_dep_arch(S(d->v[i].arch), &e) == -1)
			report(err, bad, w, &e);
		if (i > 0)
			check_order(err, bad, what, S(d->v[i - 1].name),
			    S(d->v[i].name), i);
	}
	buf_free(&e);
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
check_pairs(const struct manifest *mf, struct buf *err, int *bad)
{
	struct buf	 e = BUF_INIT;
	struct pm_version v;
	char		 w[96];
	size_t		 i, dl;

	if (mf->nprovides > MF_MAX_DEPS)
		reportf(err, bad, "provides: more than %d entries",
		    MF_MAX_DEPS);
	for (i = 0; i < mf->nprovides; i++) {
		snprintf(w, sizeof(w), "provides[%zu]", i);
		if (ident_name(S(mf->provides[i].name), &e) == -1)
			report(err, bad, w, &e);
		if (*S(mf->provides[i].version) != '\0') {
			if (version_parse(mf->provides[i].version, &v,
			    &e) == -1)
				report(err, bad, w, &e);
			else
				version_free(&v);
		}
		if (i > 0)
			check_order(err, bad, "provides",
			    S(mf->provides[i - 1].name),
			    S(mf->provides[i].name), i);
	}
	if (mf->nreplaces > MF_MAX_REPLACES)
		reportf(err, bad, "replaces: more than %d entries",
		    MF_MAX_REPLACES);
	for (i = 0; i < mf->nreplaces; i++) {
		snprintf(w, sizeof(w), "replaces[%zu]", i);
		if (ident_name(S(mf->replaces[i].name), &e) == -1)
			report(err, bad, w, &e);
		if (ident_constraint(S(mf->replaces[i].constraint), &e) == -1)
			report(err, bad, w, &e);
		if (i > 0)
			check_order(err, bad, "replaces",
			    S(mf->replaces[i - 1].name),
			    S(mf->replaces[i].name), i);
	}
	if (mf->nsd_overrides > MF_MAX_SD_OVERRIDES)
		reportf(err, bad, "sd_overrides: more than %d entries",
		    MF_MAX_SD_OVERRIDES);
	for (i = 0; i < mf->nsd_overrides; i++) {
		if (*S(mf->sd_overrides[i].path) == '\0')
			reportf(err, bad, "sd_overrides[%zu]: empty path", i);
		if (!b64_len_ok(S(mf->sd_overrides[i].sd), &dl))
			reportf(err, bad, "sd_overrides[%zu]: sd is not "
			    "unpadded standard base64", i);
		else if (dl > MF_MAX_SD_BYTES)
			reportf(err, bad, "sd_overrides[%zu]: sd decodes to "
			    "%zu bytes (at most %d)", i, dl, MF_MAX_SD_BYTES);
		if (i > 0)
			check_order(err, bad, "sd_overrides",
			    S(mf->sd_overrides[i - 1].path),
			    S(mf->sd_overrides[i].path), i);
	}
	buf_free(&e);
}

static void
check_side_effects(const struct manifest *mf, struct buf *err, int *bad)
{
	struct buf	 e = BUF_INIT;
	size_t		 i, j;

	for (i = 0; i < mf->nside_effects; i++) {
		if (ident_side_effect(S(mf->side_effects[i]), &e) == -1) {
			report(err, bad, "side_effects", &e);
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(mf->side_effects[i],
			    S(mf->side_effects[j])) == 0)
				break;
		if (j < i)
			reportf(err, bad, "side_effects: \"%s\" appears more "
			    "than once", mf->side_effects[i]);
	}
	buf_free(&e);
}

int
manifest_timestamp(const char *s, int64_t *secs, struct buf *err)
{
	struct buf	 q = BUF_INIT, e = BUF_INIT;
	size_t		 n = strlen(s);
	long		 nanos;
	int		 rc = -1;

	quote(&q, s);
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
	const char	*ts = S(b->timestamp);

	if (flags & MF_PRODUCER) {
		if (manifest_timestamp(ts, &secs, &e) == -1)
			report(err, bad, "build", &e);
	} else if (*ts == '\0' || ts[strlen(ts) - 1] != 'Z') {
		quote(&q, ts);
		reportf(err, bad, "build: timestamp %s must be UTC and end "
		    "with 'Z'", buf_str(&q));
	} else if (parse_rfc3339_z(ts, &secs, &nanos, &e) == -1)
		report(err, bad, "build", &e);
	buf_free(&e);
	buf_free(&q);
}

int
manifest_validate(const struct manifest *mf, int flags, struct buf *err)
{
	struct buf		 e = BUF_INIT;
	struct pm_version	 v;
	int			 bad = 0;

	if (ident_name(S(mf->name), &e) == -1)
		report(err, &bad, "name", &e);
	if (version_parse(S(mf->version), &v, &e) == -1)
		report(err, &bad, "version", &e);
	else
		version_free(&v);
	if (ident_arch(S(mf->architecture), &e) == -1)
		report(err, &bad, "architecture", &e);
	if (ident_description(S(mf->description), &e) == -1)
		report(err, &bad, "description", &e);
	if (ident_homepage(S(mf->homepage), &e) == -1)
		report(err, &bad, "homepage", &e);
	check_deps(err, &bad, "dependencies", &mf->dependencies);
	check_deps(err, &bad, "optional_dependencies",
	    &mf->optional_dependencies);
	check_deps(err, &bad, "conflicts", &mf->conflicts);
	check_pairs(mf, err, &bad);
	check_side_effects(mf, err, &bad);
	check_build(&mf->build, flags, err, &bad);
	buf_free(&e);
	return bad ? -1 : 0;
}

/* ---- sorting ---------------------------------------------------------- */

static int
cmp_dep(const void *a, const void *b)
{
	return strcmp(S(((const struct mf_dep *)a)->name),
	    S(((const struct mf_dep *)b)->name));
}

static int
cmp_provide(const void *a, const void *b)
{
	return strcmp(S(((const struct mf_provide *)a)->name),
	    S(((const struct mf_provide *)b)->name));
}

static int
cmp_replace(const void *a, const void *b)
{
	return strcmp(S(((const struct mf_replace *)a)->name),
	    S(((const struct mf_replace *)b)->name));
}

static int
cmp_sdo(const void *a, const void *b)
{
	return strcmp(S(((const struct mf_sd_override *)a)->path),
	    S(((const struct mf_sd_override *)b)->path));
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
		a = S(*(char *const *)(p + (i - 1) * size + off));
		b = S(*(char *const *)(p + i * size + off));
		if (strcmp(a, b) != 0 || (i > 1 && strcmp(a,
		    S(*(char *const *)(p + (i - 2) * size + off))) == 0))
			continue;
		buf_reset(&q);
		quote(&q, b);
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
	struct mf_deps	*lists[3] = { &mf->dependencies,
	    &mf->optional_dependencies, &mf->conflicts };
	static const char *const ln[3] = { "dependencies",
	    "optional_dependencies", "conflicts" };
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < 3; i++) {
		if (lists[i]->n > 1)
			qsort(lists[i]->v, lists[i]->n, sizeof(struct mf_dep),
			    cmp_dep);
		if (dups(ln[i], lists[i]->v, lists[i]->n,
		    sizeof(struct mf_dep), 0, err) == -1)
			rc = -1;
	}
	if (mf->nprovides > 1)
		qsort(mf->provides, mf->nprovides, sizeof(*mf->provides),
		    cmp_provide);
	if (mf->nreplaces > 1)
		qsort(mf->replaces, mf->nreplaces, sizeof(*mf->replaces),
		    cmp_replace);
	if (mf->nsd_overrides > 1)
		qsort(mf->sd_overrides, mf->nsd_overrides,
		    sizeof(*mf->sd_overrides), cmp_sdo);
	if (dups("provides", mf->provides, mf->nprovides,
	    sizeof(*mf->provides), 0, err) == -1 ||
	    dups("replaces", mf->replaces, mf->nreplaces,
	    sizeof(*mf->replaces), 0, err) == -1 ||
	    dups("sd_overrides", mf->sd_overrides, mf->nsd_overrides,
	    sizeof(*mf->sd_overrides), 0, err) == -1)
		rc = -1;
	return rc;
}

/* ---- files.json ------------------------------------------------------- */

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
		write_str(&w, "path", f[i].path);
		jw_key(&w, "size");
		jw_uint(&w, f[i].size);
		write_str(&w, "hash", hex);
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
	if (want(e, T_OBJ, 1, w, err) == -1 ||
	    members(e, names, 3, MF_STRICT, m, w, err) == -1)
		return -1;
	snprintf(w, sizeof(w), "entries[%zu].path", i);
	if (want(m[0], T_STR, 1, w, err) == -1)
		return -1;
	f->path = xstrdup(m[0]->u.string);
	snprintf(w, sizeof(w), "entries[%zu].size", i);
	if (want(m[1], T_INT, 1, w, err) == -1)
		return -1;
	if (m[1]->u.number.i < 0)
		return errf(err, "%s: must not be negative", w);
	f->size = (uint64_t)m[1]->u.number.i;
	snprintf(w, sizeof(w), "entries[%zu].hash", i);
	if (want(m[2], T_STR, 1, w, err) == -1)
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
			quote(&qa, f[i - 1].path);
			quote(&qb, f[i].path);
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
	if (want(doc, T_OBJ, 1, "files.json", err) == -1 ||
	    members(doc, names, 3, MF_STRICT, m, "files.json", err) == -1 ||
	    want(m[0], T_INT, 1, "schema_version", err) == -1 ||
	    want(m[1], T_STR, 1, "algorithm", err) == -1 ||
	    want(m[2], T_ARR, 1, "entries", err) == -1)
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
