/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * manifest_relations.c: the relation arrays (dependencies,
 * optional_dependencies, conflicts, provides, replaces, side_effects)
 * of a manifest and of a repository index entry: construction, parsing
 * from yajl trees, the canonical writer, the consumer's rules, deep copy
 * and free.  The consumer validates an index entry's arrays exactly like
 * the manifest's (CONSUMER.md §1.6, §1.9), so both go through here.
 *
 * Trust: parses and checks arrays read out of packages and repository
 * states (hostile); each array's length is capped before it is walked.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "manifest_int.h"
#include "version.h"

/* The members, in on-wire order. */
enum {
	R_DEPS, R_OPTDEPS, R_CONFLICTS, R_PROVIDES, R_REPLACES, R_SIDE,
	R_COUNT
};

static const char *const rel_names[R_COUNT] = {
	"dependencies", "optional_dependencies", "conflicts", "provides",
	"replaces", "side_effects"
};

static struct mf_deps *deps_of(struct mf_relations *, int);
static void	 provide_add(struct mf_relations *, const char *,
		    const char *);
static void	 replace_add(struct mf_relations *, const char *,
		    const char *);
static void	 side_effect_add(struct mf_relations *, const char *);
static void	 dep_slots(void *, char ***);
static void	 provide_slots(void *, char ***);
static void	 replace_slots(void *, char ***);
static void	 label(struct buf *, const char *, const char *);
static int	 parse_side_effects(yajl_val, struct mf_relations *,
		    const char *, struct buf *);
static int	 parse_member(yajl_val, int, int, struct mf_relations *,
		    const char *, struct buf *);
static void	 write_opt(struct jw *, const char *, const char *);
static void	 write_deps(struct jw *, const char *, const struct mf_deps *);
static void	 check_deps(struct buf *, int *, int, const char *,
		    const struct mf_deps *);
static void	 check_provides(struct buf *, int *, int, const char *,
		    const struct mf_relations *);
static void	 check_replaces(struct buf *, int *, int, const char *,
		    const struct mf_relations *);
static void	 check_side_effects(struct buf *, int *, const char *,
		    const struct mf_relations *);
static void	 deps_free(struct mf_deps *);

/* ---- construction ----------------------------------------------------- */

static struct mf_deps *
deps_of(struct mf_relations *r, int which)
{
	if (which == R_DEPS)
		return &r->dependencies;
	if (which == R_OPTDEPS)
		return &r->optional_dependencies;
	return &r->conflicts;
}

void
manifest_dep_add(struct mf_deps *d, const char *name, const char *constraint,
    const char *arch)
{
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n].name = xstrdup(MF_S(name));
	d->v[d->n].constraint = xstrdup(MF_S(constraint));
	d->v[d->n].arch = xstrdup(MF_S(arch));
	d->n++;
}

static void
provide_add(struct mf_relations *r, const char *name, const char *version)
{
	r->provides = xreallocarray(r->provides, r->nprovides + 1,
	    sizeof(*r->provides));
	r->provides[r->nprovides].name = xstrdup(MF_S(name));
	r->provides[r->nprovides].version = xstrdup(MF_S(version));
	r->nprovides++;
}

static void
replace_add(struct mf_relations *r, const char *name, const char *constraint)
{
	r->replaces = xreallocarray(r->replaces, r->nreplaces + 1,
	    sizeof(*r->replaces));
	r->replaces[r->nreplaces].name = xstrdup(MF_S(name));
	r->replaces[r->nreplaces].constraint = xstrdup(MF_S(constraint));
	r->nreplaces++;
}

static void
side_effect_add(struct mf_relations *r, const char *s)
{
	r->side_effects = xreallocarray(r->side_effects,
	    r->nside_effects + 1, sizeof(*r->side_effects));
	r->side_effects[r->nside_effects++] = xstrdup(MF_S(s));
}

void
manifest_provide_add(struct manifest *mf, const char *name,
    const char *version)
{
	provide_add(&mf->rel, name, version);
}

void
manifest_replace_add(struct manifest *mf, const char *name,
    const char *constraint)
{
	replace_add(&mf->rel, name, constraint);
}

void
manifest_side_effect_add(struct manifest *mf, const char *s)
{
	side_effect_add(&mf->rel, s);
}

void
manifest_relations_copy(struct mf_relations *dst,
    const struct mf_relations *src)
{
	const struct mf_deps	*d[] = { &src->dependencies,
				    &src->optional_dependencies,
				    &src->conflicts };
	size_t			 i;
	int			 k;

	for (k = R_DEPS; k <= R_CONFLICTS; k++)
		for (i = 0; i < d[k]->n; i++)
			manifest_dep_add(deps_of(dst, k), d[k]->v[i].name,
			    d[k]->v[i].constraint, d[k]->v[i].arch);
	for (i = 0; i < src->nprovides; i++)
		provide_add(dst, src->provides[i].name,
		    src->provides[i].version);
	for (i = 0; i < src->nreplaces; i++)
		replace_add(dst, src->replaces[i].name,
		    src->replaces[i].constraint);
	for (i = 0; i < src->nside_effects; i++)
		side_effect_add(dst, src->side_effects[i]);
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
}

void
manifest_relations_free(struct mf_relations *r)
{
	size_t	 i;
	int	 k;

	for (k = R_DEPS; k <= R_CONFLICTS; k++)
		deps_free(deps_of(r, k));
	for (i = 0; i < r->nprovides; i++) {
		free(r->provides[i].name);
		free(r->provides[i].version);
	}
	free(r->provides);
	for (i = 0; i < r->nreplaces; i++) {
		free(r->replaces[i].name);
		free(r->replaces[i].constraint);
	}
	free(r->replaces);
	for (i = 0; i < r->nside_effects; i++)
		free(r->side_effects[i]);
	free(r->side_effects);
	memset(r, 0, sizeof(*r));
}

/* ---- parsing ---------------------------------------------------------- */

/* manifest_json_records() callbacks: one new element of "" strings. */
static void
dep_slots(void *owner, char ***slot)
{
	struct mf_deps	*d = owner;

	manifest_dep_add(d, "", "", "");
	slot[0] = &d->v[d->n - 1].name;
	slot[1] = &d->v[d->n - 1].constraint;
	slot[2] = &d->v[d->n - 1].arch;
}

static void
provide_slots(void *owner, char ***slot)
{
	struct mf_relations	*r = owner;

	provide_add(r, "", "");
	slot[0] = &r->provides[r->nprovides - 1].name;
	slot[1] = &r->provides[r->nprovides - 1].version;
}

static void
replace_slots(void *owner, char ***slot)
{
	struct mf_relations	*r = owner;

	replace_add(r, "", "");
	slot[0] = &r->replaces[r->nreplaces - 1].name;
	slot[1] = &r->replaces[r->nreplaces - 1].constraint;
}

/* "<who>: <list>", or "<list>" alone for a manifest. */
static void
label(struct buf *b, const char *who, const char *list)
{
	buf_reset(b);
	if (who != NULL)
		buf_addf(b, "%s: ", who);
	buf_adds(b, list);
}

static int
parse_side_effects(yajl_val arr, struct mf_relations *r, const char *what,
    struct buf *err)
{
	struct buf	 w = BUF_INIT;
	size_t		 i;
	int		 rc = 0;

	if (arr->u.array.len > MF_MAX_DEPS)
		return errf(err, "%s: more than %d entries", what,
		    MF_MAX_DEPS);
	for (i = 0; rc == 0 && i < arr->u.array.len; i++) {
		buf_reset(&w);
		buf_addf(&w, "%s[%zu]", what, i);
		side_effect_add(r, "");
		rc = manifest_json_str(arr->u.array.values[i], 1,
		    &r->side_effects[i], buf_str(&w), err);
	}
	buf_free(&w);
	return rc;
}

/* Member `which` (an array) into `r`. */
static int
parse_member(yajl_val arr, int mode, int which, struct mf_relations *r,
    const char *what, struct buf *err)
{
	static const char *const dkeys[] = { "name", "constraint", "arch" };
	static const char *const pkeys[] = { "name", "version" };
	static const char *const rkeys[] = { "name", "constraint" };
	unsigned int		 req = mode == MF_STRICT ? 0x1 : 0;

	switch (which) {
	case R_PROVIDES:
		return manifest_json_records(arr, mode, what, pkeys, 2, req,
		    MF_MAX_DEPS, provide_slots, r, err);
	case R_REPLACES:
		return manifest_json_records(arr, mode, what, rkeys, 2, req,
		    MF_MAX_REPLACES, replace_slots, r, err);
	case R_SIDE:
		return parse_side_effects(arr, r, what, err);
	default:
		return manifest_json_records(arr, mode, what, dkeys, 3, req,
		    MF_MAX_DEPS, dep_slots, deps_of(r, which), err);
	}
}

int
manifest_relations_parse(yajl_val obj, int mode, int flags,
    struct mf_relations *r, const char *who, struct buf *err)
{
	struct buf	 w = BUF_INIT;
	yajl_val	 m[R_COUNT];
	int		 req, i, k, rc = -1;

	if (manifest_json_members(obj, rel_names, R_COUNT, mode, m,
	    who != NULL ? who : "manifest", err) == -1)
		return -1;
	for (i = 0; i < R_COUNT; i++) {
		label(&w, who, rel_names[i]);
		req = mode == MF_STRICT && !(flags & MF_INDEX_ENTRY) &&
		    (i == R_DEPS || i == R_CONFLICTS);
		if ((k = manifest_json_want(m[i], MF_T_ARR, req, buf_str(&w),
		    err)) == -1 || (k == 1 && parse_member(m[i], mode, i, r,
		    buf_str(&w), err) == -1))
			goto out;
	}
	rc = 0;
 out:
	buf_free(&w);
	return rc;
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
		jw_str(w, MF_S(d->v[i].name));
		write_opt(w, "constraint", d->v[i].constraint);
		write_opt(w, "arch", d->v[i].arch);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* Every array is written, [] when empty; optional members when set. */
void
manifest_relations_write(struct jw *w, const struct mf_relations *r)
{
	size_t	 i;

	write_deps(w, "dependencies", &r->dependencies);
	write_deps(w, "optional_dependencies", &r->optional_dependencies);
	write_deps(w, "conflicts", &r->conflicts);
	jw_key(w, "provides");
	jw_arr_begin(w);
	for (i = 0; i < r->nprovides; i++) {
		jw_obj_begin(w);
		jw_key(w, "name");
		jw_str(w, MF_S(r->provides[i].name));
		write_opt(w, "version", r->provides[i].version);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "replaces");
	jw_arr_begin(w);
	for (i = 0; i < r->nreplaces; i++) {
		jw_obj_begin(w);
		jw_key(w, "name");
		jw_str(w, MF_S(r->replaces[i].name));
		write_opt(w, "constraint", r->replaces[i].constraint);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "side_effects");
	jw_arr_begin(w);
	for (i = 0; i < r->nside_effects; i++)
		jw_str(w, MF_S(r->side_effects[i]));
	jw_arr_end(w);
}

/* ---- the consumer's rules --------------------------------------------- */

static void
check_deps(struct buf *err, int *bad, int flags, const char *what,
    const struct mf_deps *d)
{
	struct buf	 e = BUF_INIT, w = BUF_INIT;
	size_t		 i;

	if (d->n > MF_MAX_DEPS)
		manifest_reportf(err, bad, "%s: more than %d entries", what,
		    MF_MAX_DEPS);
	for (i = 0; i < d->n; i++) {
		buf_reset(&w);
		buf_addf(&w, "%s[%zu]", what, i);
		if (ident_name(MF_S(d->v[i].name), &e) == -1)
			manifest_report(err, bad, buf_str(&w), &e);
		if (ident_constraint(MF_S(d->v[i].constraint), &e) == -1)
			manifest_report(err, bad, buf_str(&w), &e);
		if (ident_dep_arch(MF_S(d->v[i].arch), &e) == -1)
			manifest_report(err, bad, buf_str(&w), &e);
		if (i > 0)
			manifest_order_check(err, bad, flags, what,
			    MF_S(d->v[i - 1].name), MF_S(d->v[i].name), i);
	}
	buf_free(&e);
	buf_free(&w);
}

static void
check_provides(struct buf *err, int *bad, int flags, const char *what,
    const struct mf_relations *r)
{
	struct buf		 e = BUF_INIT, w = BUF_INIT;
	struct pm_version	 v;
	size_t			 i;

	if (r->nprovides > MF_MAX_DEPS)
		manifest_reportf(err, bad, "%s: more than %d entries", what,
		    MF_MAX_DEPS);
	for (i = 0; i < r->nprovides; i++) {
		buf_reset(&w);
		buf_addf(&w, "%s[%zu]", what, i);
		if (ident_name(MF_S(r->provides[i].name), &e) == -1)
			manifest_report(err, bad, buf_str(&w), &e);
		if (*MF_S(r->provides[i].version) != '\0') {
			if (version_parse(r->provides[i].version, &v,
			    &e) == -1)
				manifest_report(err, bad, buf_str(&w), &e);
			else
				version_free(&v);
		}
		if (i > 0)
			manifest_order_check(err, bad, flags, what,
			    MF_S(r->provides[i - 1].name),
			    MF_S(r->provides[i].name), i);
	}
	buf_free(&e);
	buf_free(&w);
}

static void
check_replaces(struct buf *err, int *bad, int flags, const char *what,
    const struct mf_relations *r)
{
	struct buf	 e = BUF_INIT, w = BUF_INIT;
	size_t		 i;

	if (r->nreplaces > MF_MAX_REPLACES)
		manifest_reportf(err, bad, "%s: more than %d entries", what,
		    MF_MAX_REPLACES);
	for (i = 0; i < r->nreplaces; i++) {
		buf_reset(&w);
		buf_addf(&w, "%s[%zu]", what, i);
		if (ident_name(MF_S(r->replaces[i].name), &e) == -1)
			manifest_report(err, bad, buf_str(&w), &e);
		if (ident_constraint(MF_S(r->replaces[i].constraint),
		    &e) == -1)
			manifest_report(err, bad, buf_str(&w), &e);
		if (i > 0)
			manifest_order_check(err, bad, flags, what,
			    MF_S(r->replaces[i - 1].name),
			    MF_S(r->replaces[i].name), i);
	}
	buf_free(&e);
	buf_free(&w);
}

/* Each one known, none twice; their order is free. */
static void
check_side_effects(struct buf *err, int *bad, const char *what,
    const struct mf_relations *r)
{
	struct buf	 e = BUF_INIT;
	size_t		 i, j;

	for (i = 0; i < r->nside_effects; i++) {
		if (ident_side_effect(MF_S(r->side_effects[i]), &e) == -1) {
			manifest_report(err, bad, what, &e);
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(r->side_effects[i],
			    MF_S(r->side_effects[j])) == 0)
				break;
		if (j < i)
			manifest_reportf(err, bad, "%s: \"%s\" appears more "
			    "than once", what, r->side_effects[i]);
	}
	buf_free(&e);
}

int
manifest_relations_check(const struct mf_relations *r, int flags,
    const char *who, struct buf *err)
{
	const struct mf_deps	*d[] = { &r->dependencies,
				    &r->optional_dependencies, &r->conflicts };
	struct buf		 w = BUF_INIT;
	int			 k, bad = 0;

	for (k = R_DEPS; k <= R_CONFLICTS; k++) {
		label(&w, who, rel_names[k]);
		check_deps(err, &bad, flags, buf_str(&w), d[k]);
	}
	label(&w, who, rel_names[R_PROVIDES]);
	check_provides(err, &bad, flags, buf_str(&w), r);
	label(&w, who, rel_names[R_REPLACES]);
	check_replaces(err, &bad, flags, buf_str(&w), r);
	label(&w, who, rel_names[R_SIDE]);
	check_side_effects(err, &bad, buf_str(&w), r);
	buf_free(&w);
	return bad ? -1 : 0;
}
