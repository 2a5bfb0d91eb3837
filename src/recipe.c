/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * recipe.c: decode and validate one peipkg.toml into struct recipe, and
 * list recipes_dir into a roster.
 *
 * Order of the report: decoding errors (types, unknown keys) as the
 * sections are read, then the packer's rules in the reference order
 * (build_script, packages, names, architectures, duplicates, dependency
 * names, [[sign]]), then the consumer's manifest rules, then the
 * manager's sections.
 *
 * Trust: operator files.  Every string that later becomes part of a
 * path, a manifest or a command line is validated here.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "duration.h"
#include "identity.h"
#include "pmconfig.h"
#include "recipe.h"
#include "tagpattern.h"
#include "tdec.h"
#include "toml.h"
#include "version.h"

#define REV_MAX		INT64_C(2147483647)

/* The three dependency-shaped arrays of a [[package]]. */
enum { DEP_DEPS, DEP_OPT, DEP_CONFLICTS, DEP_NUM };
static const char *const dep_keys[DEP_NUM] = {
	"dependencies", "optional_dependencies", "conflicts"
};

static const char *const forge_keys[FORGE_NUM] = {
	"github_webhook", "gitlab_webhook", "gitea_webhook"
};

/* Where [meta] and its keys are, for messages after decoding. */
struct meta_pos {
	int	 meta[2];
	int	 homepage[2];
	int	 build_script[2];
};

typedef int	(*ident_fn)(const char *, struct buf *);

static struct recipe *recipe_new(const char *, const char *);
static struct recipe_dep **dep_slot(const struct recipe_package *, int,
		    size_t *);
static void	 decode_meta(struct recipe *, struct tdec_tab *,
		    struct meta_pos *);
static void	 decode_deps(struct recipe_package *, struct tdec_tab *, int);
static void	 decode_provides(struct recipe_package *, struct tdec_tab *);
static void	 decode_replaces(struct recipe_package *, struct tdec_tab *);
static void	 decode_package(struct recipe *, struct tdec_tab *,
		    const struct toml_value *);
static void	 decode_packages(struct recipe *, struct tdec_tab *);
static void	 decode_signs(struct recipe *, struct tdec_tab *);
static void	 decode_upstream(struct recipe *, struct tdec_tab *);
static void	 decode_watch(struct recipe *, struct tdec_tab *);
static void	 decode_build(struct recipe *, struct tdec_tab *);
static void	 check_case(struct tdec_tab *, enum recipe_mode);
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
static void	 check_meta(struct recipe *, struct tdec *,
		    const struct meta_pos *);
static void	 check_signs(struct recipe *, struct tdec *);
static int	 rel_path_ok(const char *);
static char	*clean_rel(const char *);
static int	 git_url_valid(const char *, struct buf *);
static int	 by_id(const void *, const void *);
static int	 bad_by_id(const void *, const void *);
static void	 free_deps(struct recipe_dep *, size_t);
static void	 free_package(struct recipe_package *);
static void	 add_reject(struct roster *, const char *, const char *,
		    const char *);
static void	 roster_add(struct roster *, int, const char *, const char *,
		    enum recipe_mode);

static struct recipe *
recipe_new(const char *name, const char *id)
{
	struct recipe	*r = xcalloc(1, sizeof(*r));
	const char	*slash = strrchr(name, '/');

	r->id = xstrdup(id != NULL ? id : "");
	r->path = xstrdup(name);
	r->dir = slash != NULL ? xstrndup(name, (size_t)(slash - name)) :
	    xstrdup(".");
	r->license = xstrdup("");
	r->homepage = xstrdup("");
	r->source = xstrdup("");
	r->build_script = xstrdup("");
	r->git = xstrdup("");
	r->min_version = xstrdup("");
	r->peios_revision = 1;
	return r;
}

static struct recipe_dep **
dep_slot(const struct recipe_package *cp, int which, size_t *n)
{
	struct recipe_package	*p = (struct recipe_package *)cp;

	switch (which) {
	case DEP_DEPS:
		*n = p->ndeps;
		return &p->deps;
	case DEP_OPT:
		*n = p->noptdeps;
		return &p->optdeps;
	default:
		*n = p->nconflicts;
		return &p->conflicts;
	}
}

/* ---- decoding ------------------------------------------------------ */

static void
decode_meta(struct recipe *r, struct tdec_tab *root, struct meta_pos *mp)
{
	struct tdec_tab	 t;

	tdec_table(root, "meta", &t);
	mp->meta[0] = t.t != NULL ? t.line : 1;
	mp->meta[1] = t.t != NULL ? t.col : 1;
	tdec_str(&t, "license", &r->license);
	tdec_str(&t, "homepage", &r->homepage);
	tdec_str(&t, "source", &r->source);
	tdec_str(&t, "build_script", &r->build_script);
	tdec_pos(&t, "homepage", &mp->homepage[0], &mp->homepage[1]);
	tdec_pos(&t, "build_script", &mp->build_script[0],
	    &mp->build_script[1]);
	tdec_close(&t);
}

static void
decode_deps(struct recipe_package *p, struct tdec_tab *pt, int which)
{
	const struct toml_value	*a;
	struct recipe_dep	**arr, *d;
	struct tdec_tab		 e;
	size_t			 i, n, unused;

	if (tdec_table_array(pt, dep_keys[which], &a, &n) != TDEC_OK)
		return;
	arr = dep_slot(p, which, &unused);
	*arr = xcalloc(n + 1, sizeof(**arr));
	if (which == DEP_DEPS)
		p->ndeps = n;
	else if (which == DEP_OPT)
		p->noptdeps = n;
	else
		p->nconflicts = n;
	for (i = 0; i < n; i++) {
		d = &(*arr)[i];
		d->name = xstrdup("");
		d->constraint = xstrdup("");
		d->arch = xstrdup("");
		tdec_open_elem(pt, &e, dep_keys[which], &a[i]);
		d->line = e.line;
		d->col = e.col;
		tdec_str(&e, "name", &d->name);
		tdec_str(&e, "constraint", &d->constraint);
		tdec_str(&e, "arch", &d->arch);
		tdec_bool(&e, "same_build", &d->same_build);
		tdec_close(&e);
	}
}

static void
decode_provides(struct recipe_package *p, struct tdec_tab *pt)
{
	const struct toml_value	*a;
	struct recipe_provide	*x;
	struct tdec_tab		 e;
	size_t			 i, n;

	if (tdec_table_array(pt, "provides", &a, &n) != TDEC_OK)
		return;
	p->provides = xcalloc(n + 1, sizeof(*p->provides));
	p->nprovides = n;
	for (i = 0; i < n; i++) {
		x = &p->provides[i];
		x->name = xstrdup("");
		x->version = xstrdup("");
		tdec_open_elem(pt, &e, "provides", &a[i]);
		x->line = e.line;
		x->col = e.col;
		tdec_str(&e, "name", &x->name);
		tdec_str(&e, "version", &x->version);
		tdec_close(&e);
	}
}

static void
decode_replaces(struct recipe_package *p, struct tdec_tab *pt)
{
	const struct toml_value	*a;
	struct recipe_replace	*x;
	struct tdec_tab		 e;
	size_t			 i, n;

	if (tdec_table_array(pt, "replaces", &a, &n) != TDEC_OK)
		return;
	p->replaces = xcalloc(n + 1, sizeof(*p->replaces));
	p->nreplaces = n;
	for (i = 0; i < n; i++) {
		x = &p->replaces[i];
		x->name = xstrdup("");
		x->constraint = xstrdup("");
		tdec_open_elem(pt, &e, "replaces", &a[i]);
		x->line = e.line;
		x->col = e.col;
		tdec_str(&e, "name", &x->name);
		tdec_str(&e, "constraint", &x->constraint);
		tdec_close(&e);
	}
}

static void
decode_package(struct recipe *r, struct tdec_tab *root,
    const struct toml_value *v)
{
	struct recipe_package	*p = &r->pkgs[r->npkgs++];
	struct tdec_tab		 t;
	int			 w;

	p->name = xstrdup("");
	p->architecture = xstrdup("");
	p->description = xstrdup("");
	tdec_open_elem(root, &t, "package", v);
	p->line = t.line;
	p->col = t.col;
	tdec_str(&t, "name", &p->name);
	tdec_str(&t, "architecture", &p->architecture);
	tdec_str(&t, "description", &p->description);
	for (w = 0; w < DEP_NUM; w++)
		decode_deps(p, &t, w);
	decode_provides(p, &t);
	decode_replaces(p, &t);
	tdec_str_array(&t, "side_effects", &p->side_effects,
	    &p->nside_effects);
	tdec_pos(&t, "side_effects", &p->se_line, &p->se_col);
	tdec_pos(&t, "files", &p->files_line, &p->files_col);
	if (tdec_str_array(&t, "files", &p->files, &p->nfiles) == TDEC_ABSENT)
		tdec_kerrf(&t, "files", "[[package]] %s: files is required "
		    "(files = [] declares a package without payload)",
		    p->name[0] != '\0' ? p->name : "(unnamed)");
	tdec_close(&t);
}

static void
decode_packages(struct recipe *r, struct tdec_tab *root)
{
	const struct toml_value	*a;
	size_t			 i, n;

	if (tdec_table_array(root, "package", &a, &n) != TDEC_OK)
		return;
	if (n > RECIPE_MAX_PACKAGES) {
		tdec_kerrf(root, "package", "more than %d [[package]] "
		    "stanzas", RECIPE_MAX_PACKAGES);
		return;
	}
	r->pkgs = xcalloc(n + 1, sizeof(*r->pkgs));
	for (i = 0; i < n; i++)
		decode_package(r, root, &a[i]);
}

static void
decode_signs(struct recipe *r, struct tdec_tab *root)
{
	const struct toml_value	*a;
	struct tdec_tab		 t;
	size_t			 i, n;

	if (tdec_table_array(root, "sign", &a, &n) != TDEC_OK)
		return;
	r->signs = xcalloc(n + 1, sizeof(*r->signs));
	r->nsigns = n;
	for (i = 0; i < n; i++) {
		r->signs[i].path = xstrdup("");
		r->signs[i].key = xstrdup("");
		tdec_open_elem(root, &t, "sign", &a[i]);
		r->signs[i].line = t.line;
		r->signs[i].col = t.col;
		tdec_str(&t, "path", &r->signs[i].path);
		tdec_str(&t, "key", &r->signs[i].key);
		tdec_close(&t);
	}
}

/* A top-level [META] is not [meta]: say so instead of ignoring it. */
static void
check_case(struct tdec_tab *root, enum recipe_mode mode)
{
	static const char *const owned[] = {
		"meta", "package", "sign", "upstream", "watch", "build"
	};
	const struct toml_kv	*kv;
	size_t			 i, j, n = mode == RECIPE_MANAGER ? 6 : 3;

	for (i = 0; root->t != NULL && i < root->t->n; i++) {
		kv = &root->t->kv[i];
		for (j = 0; j < n; j++) {
			if (kv->keylen != strlen(owned[j]) ||
			    strncasecmp(kv->key, owned[j], kv->keylen) != 0 ||
			    memcmp(kv->key, owned[j], kv->keylen) == 0)
				continue;
			tdec_errf(root, kv->line, kv->col, kv->key,
			    "unknown section; names are case-sensitive "
			    "(did you mean \"%s\"?)", owned[j]);
		}
	}
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
			deps = *dep_slot(p, (int)k, &nd);
			snprintf(key, sizeof(key), "package.%s.name",
			    dep_keys[k]);
			for (n = 0; n < nd; n++)
				if (deps[n].name[0] == '\0')
					tdec_report(d, deps[n].line,
					    deps[n].col, key, "[[package]] %s: "
					    "%s[%zu]: name is required",
					    p->name, dep_keys[k], n);
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
	const char		*what = dep_keys[which];
	char			 key[64], *ctx;
	size_t			 n;

	deps = *dep_slot(p, which, &n);
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
		dep_slot(p, w, &n);
		if (n > RECIPE_MAX_DEPS)
			tdec_report(d, p->line, p->col, "package", "[[package]] "
			    "%s: more than %d %s", p->name, RECIPE_MAX_DEPS,
			    dep_keys[w]);
		for (i = 0; i < n; i++)
			if ((*dep_slot(p, w, &n))[i].name[0] != '\0')
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

/* ---- manager sections ---------------------------------------------- */

/*
 * Only URL forms git fetches without running anything: https, http,
 * ssh, git and file URLs, scp-style [user@]host:path and absolute paths.
 * Remote helpers ("ext::sh -c ...") and option-like strings are refused.
 */
static int
git_url_valid(const char *u, struct buf *err)
{
	static const char *const schemes[] = {
		"https://", "http://", "ssh://", "git://", "file://"
	};
	const char	*c, *colon;
	size_t		 i;

	for (c = u; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return errf(err, "git URL %s contains a space or a "
			    "control character", tdec_q(u));
	if (strlen(u) > 4096)
		return errf(err, "git URL is longer than 4096 bytes");
	if (u[0] == '-')
		return errf(err, "git URL %s must not start with '-'",
		    tdec_q(u));
	for (i = 0; i < nitems(schemes); i++)
		if (str_has_prefix(u, schemes[i]) &&
		    u[strlen(schemes[i])] != '\0')
			return 0;
	if (u[0] == '/')
		return 0;
	colon = strchr(u, ':');
	if (colon != NULL && colon > u && colon[1] != ':' &&
	    colon[1] != '\0' && strstr(u, "://") == NULL &&
	    memchr(u, '/', (size_t)(colon - u)) == NULL)
		return 0;
	return errf(err, "git URL %s: want an https://, http://, ssh://, "
	    "git:// or file:// URL, [user@]host:path or an absolute path",
	    tdec_q(u));
}

static void
decode_upstream(struct recipe *r, struct tdec_tab *root)
{
	struct tdec_tab	 t;
	struct buf	 e = BUF_INIT;
	char		*pat = xstrdup("");
	int64_t		 rev = 1;

	if (tdec_table(root, "upstream", &t) != TDEC_OK)
		goto out;
	r->has_upstream = 1;
	if (tdec_str(&t, "git", &r->git) == TDEC_ABSENT || r->git[0] == '\0')
		tdec_kerrf(&t, "git", "required when [upstream] is present "
		    "(leave out [upstream] for a recipe built by hand)");
	else if (git_url_valid(r->git, &e) == -1)
		tdec_kerrf(&t, "git", "%s", buf_str(&e));
	buf_reset(&e);
	if (tdec_str(&t, "tag_pattern", &pat) == TDEC_ABSENT || pat[0] == '\0')
		tdec_kerrf(&t, "tag_pattern", "required when [upstream] is "
		    "present");
	else if ((r->tag_pattern = tagpattern_compile(pat, &e)) == NULL)
		tdec_kerrf(&t, "tag_pattern", "%s", buf_str(&e));
	if (tdec_int(&t, "peios_revision", &rev) == TDEC_OK &&
	    (rev < 1 || rev > REV_MAX))
		tdec_kerrf(&t, "peios_revision", "must be between 1 and %lld "
		    "(got %lld)", (long long)REV_MAX, (long long)rev);
	else
		r->peios_revision = rev;
	tdec_bool(&t, "submodules", &r->submodules);
	buf_reset(&e);
	if (tdec_str(&t, "min_version", &r->min_version) == TDEC_OK &&
	    version_upstream_valid(r->min_version, &e) == -1)
		tdec_kerrf(&t, "min_version", "%s", buf_str(&e));
	r->watched = r->git[0] != '\0' && r->tag_pattern != NULL;
out:
	tdec_close(&t);
	free(pat);
	buf_free(&e);
}

static void
decode_watch(struct recipe *r, struct tdec_tab *root)
{
	struct tdec_tab	 t;
	int		 f;

	if (tdec_table(root, "watch", &t) == TDEC_OK) {
		r->watch_line = t.line;
		r->watch_col = t.col;
		if (!r->has_upstream)
			tdec_errf(&t, t.line, t.col, NULL, "[watch] has no "
			    "effect without [upstream] (git, tag_pattern)");
		for (f = 0; f < FORGE_NUM; f++)
			tdec_bool(&t, forge_keys[f], &r->webhook[f]);
		tdec_duration_range(&t, "poll_interval", CONFIG_MIN_POLL,
		    CONFIG_MAX_DURATION, &r->poll_interval);
	}
	tdec_close(&t);
}

static void
decode_build(struct recipe *r, struct tdec_tab *root)
{
	struct tdec_tab	 t;

	if (tdec_table(root, "build", &t) == TDEC_OK) {
		tdec_duration_range(&t, "wall_timeout", DURATION_S,
		    CONFIG_MAX_DURATION, &r->wall_timeout);
		tdec_duration_range(&t, "idle_timeout", DURATION_S,
		    CONFIG_MAX_DURATION, &r->idle_timeout);
		tdec_bool(&t, "allow_ptrace", &r->allow_ptrace);
	}
	tdec_close(&t);
}

/* ---- entry points -------------------------------------------------- */

struct recipe *
recipe_parse(const char *data, size_t len, const char *name, const char *id,
    enum recipe_mode mode, struct buf *err)
{
	struct toml_table	*doc;
	struct recipe		*r;
	struct meta_pos		 mp;
	struct tdec		 d;
	struct tdec_tab		 root;
	size_t			 i;

	if ((doc = toml_parse(data, len, name, err)) == NULL)
		return NULL;
	r = recipe_new(name, id);
	tdec_init(&d, name, err);
	tdec_open(&d, &root, doc, "", 1, 1);
	decode_meta(r, &root, &mp);
	decode_packages(r, &root);
	decode_signs(r, &root);
	if (mode == RECIPE_MANAGER) {
		decode_upstream(r, &root);
		decode_watch(r, &root);
		decode_build(r, &root);
	}
	check_case(&root, mode);
	tdec_discard(&root);	/* other top-level sections are tolerated */
	check_packer(r, &d, &mp);
	check_meta(r, &d, &mp);
	for (i = 0; i < r->npkgs; i++)
		if (r->pkgs[i].name[0] != '\0')
			check_package(r, &d, &r->pkgs[i]);
	check_signs(r, &d);
	toml_free(doc);
	if (d.nerr > 0) {
		recipe_free(r);
		return NULL;
	}
	return r;
}

struct recipe *
recipe_load(const char *path, const char *id, enum recipe_mode mode,
    struct buf *err)
{
	struct buf	 data = BUF_INIT, e = BUF_INIT;
	struct recipe	*r = NULL;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		errf(err, "%s:1:1: cannot open: %s", path, strerror(errno));
	else if (read_fd(fd, TOML_MAX_INPUT, &data, &e) == -1)
		errf(err, "%s:1:1: %s", path, buf_str(&e));
	else
		r = recipe_parse(data.data, data.len, path, id, mode, err);
	if (fd != -1)
		close(fd);
	buf_free(&data);
	buf_free(&e);
	return r;
}

static void
free_deps(struct recipe_dep *d, size_t n)
{
	size_t	 i;

	for (i = 0; d != NULL && i < n; i++) {
		free(d[i].name);
		free(d[i].constraint);
		free(d[i].arch);
	}
	free(d);
}

static void
free_package(struct recipe_package *p)
{
	size_t	 i;

	free(p->name);
	free(p->architecture);
	free(p->description);
	free_deps(p->deps, p->ndeps);
	free_deps(p->optdeps, p->noptdeps);
	free_deps(p->conflicts, p->nconflicts);
	for (i = 0; i < p->nprovides; i++) {
		free(p->provides[i].name);
		free(p->provides[i].version);
	}
	free(p->provides);
	for (i = 0; i < p->nreplaces; i++) {
		free(p->replaces[i].name);
		free(p->replaces[i].constraint);
	}
	free(p->replaces);
	tdec_free_strv(p->side_effects, p->nside_effects);
	tdec_free_strv(p->files, p->nfiles);
}

void
recipe_free(struct recipe *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->npkgs; i++)
		free_package(&r->pkgs[i]);
	free(r->pkgs);
	for (i = 0; i < r->nsigns; i++) {
		free(r->signs[i].path);
		free(r->signs[i].key);
	}
	free(r->signs);
	tagpattern_free(r->tag_pattern);
	free(r->id);
	free(r->dir);
	free(r->path);
	free(r->license);
	free(r->homepage);
	free(r->source);
	free(r->build_script);
	free(r->git);
	free(r->min_version);
	free(r);
}

const struct recipe_package *
recipe_package(const struct recipe *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->npkgs; i++)
		if (strcmp(r->pkgs[i].name, name) == 0)
			return &r->pkgs[i];
	return NULL;
}

int
recipe_id_valid(const char *id, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 rc = 0;

	if (ident_name(id, &e) == -1)
		rc = errf(err, "recipe ID (directory name) %s is not usable: "
		    "it must be a valid package name (%s)", tdec_q(id),
		    buf_str(&e));
	buf_free(&e);
	return rc;
}

int
recipe_key_name_valid(const char *s, struct buf *err)
{
	size_t	 i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (i > 0 && (s[i] == '.' || s[i] == '_' || s[i] == '-'))))
			break;
	if (n == 0 || n > 64 || i < n)
		return errf(err, "signing key name %s: want 1-64 characters "
		    "from A-Z a-z 0-9 . _ -, starting with a letter or digit",
		    tdec_q(s));
	return 0;
}

int
recipe_has_webhook(const struct recipe *r)
{
	int	 f;

	for (f = 0; f < FORGE_NUM; f++)
		if (r->webhook[f])
			return 1;
	return 0;
}

/* ---- the roster ---------------------------------------------------- */

static int
by_id(const void *a, const void *b)
{
	const struct recipe *const	*x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int
bad_by_id(const void *a, const void *b)
{
	const struct roster_reject	*x = a, *y = b;

	return strcmp(x->id, y->id);
}

static void
add_reject(struct roster *ros, const char *id, const char *path,
    const char *errors)
{
	struct roster_reject	*b;

	ros->bad = xreallocarray(ros->bad, ros->nbad + 1, sizeof(*ros->bad));
	b = &ros->bad[ros->nbad++];
	b->id = xstrdup(id);
	b->path = xstrdup(path);
	b->errors = xstrdup(errors);
}

/* One directory entry of recipes_dir (dfd) named `id`. */
static void
roster_add(struct roster *ros, int dfd, const char *dir, const char *id,
    enum recipe_mode mode)
{
	struct stat	 st;
	struct buf	 e = BUF_INIT;
	struct recipe	*r;
	char		*path;

	if (fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))
		return;		/* files and symlinks are not recipes */
	path = xasprintf("%s/%s/%s", dir, id, RECIPE_FILE);
	if (stat(path, &st) == -1) {
		if (errno != ENOENT)
			errf(&e, "%s:1:1: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode))
		errf(&e, "%s:1:1: not a regular file", path);
	else if (recipe_id_valid(id, &e) == 0) {
		if ((r = recipe_load(path, id, mode, &e)) != NULL) {
			ros->r = xreallocarray(ros->r, ros->n + 1,
			    sizeof(*ros->r));
			ros->r[ros->n++] = r;
		}
	} else {
		struct buf	 m = BUF_INIT;

		errf(&m, "%s:1:1: %s", path, buf_str(&e));
		buf_reset(&e);
		buf_adds(&e, buf_str(&m));
		buf_free(&m);
	}
	if (e.len > 0)
		add_reject(ros, id, path, buf_str(&e));
	free(path);
	buf_free(&e);
}

int
roster_load(const char *dir, enum recipe_mode mode, struct roster **out,
    struct buf *err)
{
	struct roster	*ros;
	struct dirent	*de;
	DIR		*dp;
	int		 dfd;

	*out = NULL;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errf(err, "recipes_dir %s: %s", dir, strerror(errno));
	if ((dp = fdopendir(dfd)) == NULL) {
		close(dfd);
		return errf(err, "recipes_dir %s: %s", dir, strerror(errno));
	}
	ros = xcalloc(1, sizeof(*ros));
	ros->dir = xstrdup(dir);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (ros->n + ros->nbad >= ROSTER_MAX_RECIPES) {
			errf(err, "recipes_dir %s: more than %d recipes", dir,
			    ROSTER_MAX_RECIPES);
			closedir(dp);
			roster_free(ros);
			return -1;
		}
		roster_add(ros, dirfd(dp), dir, de->d_name, mode);
	}
	closedir(dp);
	if (ros->n > 0)
		qsort(ros->r, ros->n, sizeof(*ros->r), by_id);
	if (ros->nbad > 0)
		qsort(ros->bad, ros->nbad, sizeof(*ros->bad), bad_by_id);
	*out = ros;
	return 0;
}

void
roster_free(struct roster *ros)
{
	size_t	 i;

	if (ros == NULL)
		return;
	for (i = 0; i < ros->n; i++)
		recipe_free(ros->r[i]);
	for (i = 0; i < ros->nbad; i++) {
		free(ros->bad[i].id);
		free(ros->bad[i].path);
		free(ros->bad[i].errors);
	}
	free(ros->r);
	free(ros->bad);
	free(ros->dir);
	free(ros);
}

const struct recipe *
roster_find(const struct roster *ros, const char *id)
{
	size_t	 lo = 0, hi = ros->n, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, ros->r[mid]->id)) == 0)
			return ros->r[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
roster_watched(const struct roster *ros)
{
	size_t	 i, n = 0;

	for (i = 0; i < ros->n; i++)
		n += ros->r[i]->watched != 0;
	return n;
}

void
roster_reject(struct roster *ros, size_t i, const char *errors)
{
	struct recipe	*r = ros->r[i];

	add_reject(ros, r->id, r->path, errors);
	qsort(ros->bad, ros->nbad, sizeof(*ros->bad), bad_by_id);
	memmove(&ros->r[i], &ros->r[i + 1], (ros->n - i - 1) *
	    sizeof(*ros->r));
	ros->n--;
	recipe_free(r);
}
