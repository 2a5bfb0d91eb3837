/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * recipe_check.c: the rules a decoded recipe must meet (recipe_int.h):
 * the packer's, in the reference order, and the consumer's manifest
 * rules on each [[package]], then [meta] and [[sign]] paths.
 *
 * Trust: operator files.  Every string that later becomes part of a
 * path, a manifest or a command line is validated here.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "recipe_int.h"
#include "version.h"

typedef int	(*ident_fn)(const char *, struct buf *);

static void	 check_packer(const struct recipe *, struct tdec *,
		    const struct meta_pos *);
static void	 ident_check(struct tdec *, int, int, const char *,
		    const char *, const char *, ident_fn, const char *);
static int	 twice(const void *, size_t, size_t, size_t);
static void	 check_dep(const struct recipe *, struct tdec *,
		    const struct recipe_package *, int, size_t);
static void	 check_provides(struct tdec *, const struct recipe_package *);
static void	 check_replaces(struct tdec *, const struct recipe_package *);
static void	 check_package(const struct recipe *, struct tdec *,
		    const struct recipe_package *);
static int	 rel_path_ok(const char *);
static char	*clean_rel(const char *);
static void	 check_meta(struct recipe *, struct tdec *,
		    const struct meta_pos *);
static void	 check_signs(struct recipe *, struct tdec *);

void
recipe_check(struct recipe *r, struct tdec *d, const struct meta_pos *mp)
{
	size_t	 i;

	check_packer(r, d, mp);
	check_meta(r, d, mp);
	for (i = 0; i < r->npkgs; i++)
		if (r->pkgs[i].name[0] != '\0')
			check_package(r, d, &r->pkgs[i]);
	check_signs(r, d);
}

/* ---- the packer's rules (reference order) -------------------------- */

static void
check_packer(const struct recipe *r, struct tdec *d,
    const struct meta_pos *mp)
{
	const struct recipe_package	*p;
	const struct recipe_dep		*deps;
	char				 key[64];
	size_t				 i, j, k, n, nd;

	if (r->build_script[0] == '\0')
		tdec_report(d, mp->meta[0], mp->meta[1], "meta.build_script",
		    "[meta].build_script is required");
	if (r->npkgs == 0)
		tdec_report(d, 1, 1, "package",
		    "recipe must declare at least one [[package]]");
	for (i = 0; i < r->npkgs; i++) {
		p = &r->pkgs[i];
		if (p->name[0] == '\0') {
			tdec_report(d, p->line, p->col, "package.name",
			    "[[package]] #%zu: name is required", i);
			continue;
		}
		if (p->architecture[0] == '\0')
			tdec_report(d, p->line, p->col,
			    "package.architecture", "[[package]] %s: "
			    "architecture is required", p->name);
		for (j = 0; j < i && strcmp(r->pkgs[j].name, p->name); j++)
			;
		if (j < i)
			tdec_report(d, p->line, p->col, "package.name",
			    "[[package]] %s: duplicate name", p->name);
		for (k = 0; k < DEP_NUM; k++) {
			deps = *recipe_dep_slot(p, (int)k, &nd);
			snprintf(key, sizeof(key), "package.%s.name",
			    recipe_dep_keys[k]);
			for (n = 0; n < nd; n++)
				if (deps[n].name[0] == '\0')
					tdec_report(d, deps[n].line,
					    deps[n].col, key, "[[package]] %s: "
					    "%s[%zu]: name is required",
					    p->name, recipe_dep_keys[k], n);
		}
	}
	for (i = 0; i < r->nsigns; i++) {
		if (r->signs[i].path[0] == '\0')
			tdec_report(d, r->signs[i].line, r->signs[i].col,
			    "sign.path", "[[sign]] #%zu: path is required", i);
		else if (r->signs[i].key[0] == '\0')
			tdec_report(d, r->signs[i].line, r->signs[i].col,
			    "sign.key", "[[sign]] %s: key is required",
			    r->signs[i].path);
	}
}

/* ---- the consumer's manifest rules --------------------------------- */

static void
ident_check(struct tdec *d, int line, int col, const char *key,
    const char *pkg, const char *ctx, ident_fn fn, const char *val)
{
	struct buf	 e = BUF_INIT;

	if (fn(val, &e) == -1)
		tdec_report(d, line, col, key, "[[package]] %s: %s%s", pkg,
		    ctx, buf_str(&e));
	buf_free(&e);
}

/*
 * 1 when the string member at offset `off` of element i of an array of
 * `size`-byte structs equals that of an earlier element.
 */
static int
twice(const void *base, size_t size, size_t off, size_t i)
{
	const char	*b = base, *si;
	size_t		 j;

	si = *(char *const *)(const void *)(b + i * size + off);
	for (j = 0; j < i; j++)
		if (strcmp(*(char *const *)(const void *)(b + j * size + off),
		    si) == 0)
			return 1;
	return 0;
}

static void
check_dep(const struct recipe *r, struct tdec *d,
    const struct recipe_package *p, int which, size_t i)
{
	const struct recipe_dep	*deps, *x;
	const char		*what = recipe_dep_keys[which];
	char			 key[64], *ctx;
	size_t			 n;

	deps = *recipe_dep_slot(p, which, &n);
	x = &deps[i];
	snprintf(key, sizeof(key), "package.%s.name", what);
	ctx = xasprintf("%s[%zu]: ", what, i);
	ident_check(d, x->line, x->col, key, p->name, ctx, ident_name,
	    x->name);
	free(ctx);
	ctx = xasprintf("%s %s: ", what, x->name);
	snprintf(key, sizeof(key), "package.%s.arch", what);
	if (x->arch[0] != '\0')
		ident_check(d, x->line, x->col, key, p->name, ctx,
		    ident_dep_arch, x->arch);
	snprintf(key, sizeof(key), "package.%s.constraint", what);
	if (x->constraint[0] != '\0')
		ident_check(d, x->line, x->col, key, p->name, ctx,
		    ident_constraint, x->constraint);
	free(ctx);
	snprintf(key, sizeof(key), "package.%s", what);
	if (twice(deps, sizeof(*deps),
	    offsetof(struct recipe_dep, name), i))
		tdec_report(d, x->line, x->col, key, "[[package]] %s: %s "
		    "lists %s twice", p->name, what, tdec_q(x->name));
	if (!x->same_build)
		return;
	snprintf(key, sizeof(key), "package.%s.same_build", what);
	if (which == DEP_CONFLICTS)
		tdec_report(d, x->line, x->col, key, "[[package]] %s: "
		    "conflicts %s: same_build is only valid in dependencies "
		    "and optional_dependencies", p->name, x->name);
	else if (x->constraint[0] != '\0')
		tdec_report(d, x->line, x->col, key, "[[package]] %s: %s %s: "
		    "same_build and constraint cannot both be set "
		    "(same_build means \"= <this build's version>\")",
		    p->name, what, x->name);
	else if (strcmp(x->name, p->name) == 0)
		tdec_report(d, x->line, x->col, key, "[[package]] %s: %s %s: "
		    "same_build must name a sibling [[package]], not the "
		    "package itself", p->name, what, x->name);
	else if (recipe_package(r, x->name) == NULL)
		tdec_report(d, x->line, x->col, key, "[[package]] %s: "
		    "%s.%s.%s: same_build set but no sibling [[package]] "
		    "named %s exists", p->name, p->name, what, x->name,
		    tdec_q(x->name));
}

static void
check_provides(struct tdec *d, const struct recipe_package *p)
{
	const struct recipe_provide	*x;
	char				*ctx;
	size_t				 i;

	for (i = 0; i < p->nprovides; i++) {
		x = &p->provides[i];
		ctx = xasprintf("provides[%zu]: ", i);
		if (x->name[0] == '\0')
			tdec_report(d, x->line, x->col, "package.provides.name",
			    "[[package]] %s: %sname is required", p->name,
			    ctx);
		else
			ident_check(d, x->line, x->col, "package.provides.name",
			    p->name, ctx, ident_name, x->name);
		free(ctx);
		if (x->version[0] != '\0' && !version_valid(x->version))
			tdec_report(d, x->line, x->col,
			    "package.provides.version", "[[package]] %s: "
			    "provides %s: version %s is not a full version "
			    "(upstream-revision, e.g. \"1.0-1\")", p->name,
			    x->name, tdec_q(x->version));
		if (x->name[0] != '\0' && twice(p->provides,
		    sizeof(*x), offsetof(struct recipe_provide, name), i))
			tdec_report(d, x->line, x->col, "package.provides",
			    "[[package]] %s: provides lists %s twice",
			    p->name, tdec_q(x->name));
	}
}

static void
check_replaces(struct tdec *d, const struct recipe_package *p)
{
	const struct recipe_replace	*x;
	char				*ctx;
	size_t				 i;

	if (p->nreplaces > RECIPE_MAX_REPLACES)
		tdec_report(d, p->line, p->col, "package.replaces",
		    "[[package]] %s: more than %d replaces", p->name,
		    RECIPE_MAX_REPLACES);
	for (i = 0; i < p->nreplaces; i++) {
		x = &p->replaces[i];
		ctx = xasprintf("replaces[%zu]: ", i);
		if (x->name[0] == '\0')
			tdec_report(d, x->line, x->col, "package.replaces.name",
			    "[[package]] %s: %sname is required", p->name,
			    ctx);
		else
			ident_check(d, x->line, x->col, "package.replaces.name",
			    p->name, ctx, ident_name, x->name);
		if (x->constraint[0] != '\0')
			ident_check(d, x->line, x->col,
			    "package.replaces.constraint", p->name, ctx,
			    ident_constraint, x->constraint);
		free(ctx);
		if (x->name[0] != '\0' && twice(p->replaces,
		    sizeof(*x), offsetof(struct recipe_replace, name), i))
			tdec_report(d, x->line, x->col, "package.replaces",
			    "[[package]] %s: replaces lists %s twice",
			    p->name, tdec_q(x->name));
	}
}

static void
check_package(const struct recipe *r, struct tdec *d,
    const struct recipe_package *p)
{
	size_t	 i, n;
	int	 w;

	ident_check(d, p->line, p->col, "package.name", p->name, "",
	    ident_name, p->name);
	if (p->architecture[0] != '\0')
		ident_check(d, p->line, p->col, "package.architecture",
		    p->name, "", ident_arch, p->architecture);
	ident_check(d, p->line, p->col, "package.description", p->name, "",
	    ident_description, p->description);
	for (w = 0; w < DEP_NUM; w++) {
		recipe_dep_slot(p, w, &n);
		if (n > RECIPE_MAX_DEPS)
			tdec_report(d, p->line, p->col, "package",
			    "[[package]] %s: more than %d %s", p->name,
			    RECIPE_MAX_DEPS, recipe_dep_keys[w]);
		for (i = 0; i < n; i++)
			if ((*recipe_dep_slot(p, w, &n))[i].name[0] != '\0')
				check_dep(r, d, p, w, i);
	}
	check_provides(d, p);
	check_replaces(d, p);
	for (i = 0; i < p->nside_effects; i++) {
		ident_check(d, p->se_line, p->se_col, "package.side_effects",
		    p->name, "", ident_side_effect, p->side_effects[i]);
		if (twice(p->side_effects, sizeof(char *), 0, i))
			tdec_report(d, p->se_line, p->se_col,
			    "package.side_effects", "[[package]] %s: "
			    "side_effects lists %s twice", p->name,
			    tdec_q(p->side_effects[i]));
	}
	if (p->nfiles > RECIPE_MAX_FILES)
		tdec_report(d, p->files_line, p->files_col, "package.files",
		    "[[package]] %s: more than %d files patterns", p->name,
		    RECIPE_MAX_FILES);
	for (i = 0; i < p->nfiles; i++)
		if (p->files[i][0] == '\0' || p->files[i][0] == '/')
			tdec_report(d, p->files_line, p->files_col,
			    "package.files", "[[package]] %s: files pattern "
			    "%s must be a non-empty path relative to "
			    "$DESTDIR", p->name, tdec_q(p->files[i]));
}

/* Relative and without ".." components. */
static int
rel_path_ok(const char *s)
{
	const char	*c = s;
	size_t		 n;

	if (s[0] == '\0' || s[0] == '/')
		return 0;
	while (*c != '\0') {
		n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return 0;
		c += n;
		c += *c == '/';
	}
	return 1;
}

/* Drop "." and empty components: "./usr//bin/x" -> "usr/bin/x". */
static char *
clean_rel(const char *s)
{
	struct buf	 b = BUF_INIT;
	const char	*c = s;
	size_t		 n;

	buf_adds(&b, "");
	while (*c != '\0') {
		n = strcspn(c, "/");
		if (n > 0 && !(n == 1 && c[0] == '.')) {
			if (b.len > 0)
				buf_addc(&b, '/');
			buf_add(&b, c, n);
		}
		c += n;
		c += *c == '/';
	}
	return buf_release(&b);
}

static void
check_meta(struct recipe *r, struct tdec *d, const struct meta_pos *mp)
{
	struct buf	 e = BUF_INIT;
	char		*c;

	if (r->homepage[0] != '\0' && ident_homepage(r->homepage, &e) == -1)
		tdec_report(d, mp->homepage[0], mp->homepage[1],
		    "meta.homepage", "%s", buf_str(&e));
	if (r->build_script[0] != '\0') {
		c = clean_rel(r->build_script);
		if (!rel_path_ok(r->build_script) || c[0] == '\0')
			tdec_report(d, mp->build_script[0],
			    mp->build_script[1], "meta.build_script",
			    "build_script %s must be a relative path inside "
			    "the recipe directory", tdec_q(r->build_script));
		free(r->build_script);
		r->build_script = c;
	}
	buf_free(&e);
}

static void
check_signs(struct recipe *r, struct tdec *d)
{
	struct recipe_sign	*s;
	struct buf		 e = BUF_INIT;
	size_t			 i;
	char			*c;

	for (i = 0; i < r->nsigns; i++) {
		s = &r->signs[i];
		if (s->path[0] == '\0')
			continue;
		c = clean_rel(s->path);
		if (!rel_path_ok(s->path) || c[0] == '\0')
			tdec_report(d, s->line, s->col, "sign.path",
			    "sign[%zu]: path %s escapes $DESTDIR", i,
			    tdec_q(s->path));
		free(s->path);
		s->path = c;
		buf_reset(&e);
		if (s->key[0] != '\0' &&
		    recipe_key_name_valid(s->key, &e) == -1)
			tdec_report(d, s->line, s->col, "sign.key",
			    "[[sign]] %s: %s", s->path, buf_str(&e));
		if (twice(r->signs, sizeof(*s),
		    offsetof(struct recipe_sign, path), i))
			tdec_report(d, s->line, s->col, "sign.path",
			    "[[sign]] %s: path listed twice", s->path);
	}
	buf_free(&e);
}
