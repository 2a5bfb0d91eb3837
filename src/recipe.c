/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * recipe.c: decode one peipkg.toml into struct recipe (the packer's
 * sections and, for the manager, [upstream], [watch] and [build]), then
 * have recipe_check.c validate it.
 *
 * Order of the report: decoding errors (types, unknown keys) as the
 * sections are read, with the manager's sections' rules; then the
 * packer's rules in the reference order and the consumer's manifest
 * rules (recipe_check.c).
 *
 * Trust: operator files.  Every string that later becomes part of a
 * path, a manifest or a command line is validated here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "duration.h"
#include "identity.h"
#include "pmconfig.h"
#include "recipe_int.h"
#include "tagpattern.h"
#include "tdec.h"
#include "toml.h"
#include "version.h"

#define REV_MAX		INT64_C(2147483647)

const char *const recipe_dep_keys[DEP_NUM] = {
	"dependencies", "optional_dependencies", "conflicts"
};

static const char *const forge_keys[FORGE_NUM] = {
	"github_webhook", "gitlab_webhook", "gitea_webhook"
};

static struct recipe *recipe_new(const char *, const char *);
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
static int	 git_url_valid(const char *, struct buf *);
static void	 free_deps(struct recipe_dep *, size_t);
static void	 free_package(struct recipe_package *);

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

struct recipe_dep **
recipe_dep_slot(const struct recipe_package *cp, int which, size_t *n)
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

	if (tdec_table_array(pt, recipe_dep_keys[which], &a, &n) != TDEC_OK)
		return;
	arr = recipe_dep_slot(p, which, &unused);
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
		tdec_open_elem(pt, &e, recipe_dep_keys[which], &a[i]);
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
		config_memory_field(&t, &r->memory_max);
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
	recipe_check(r, &d, &mp);
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
