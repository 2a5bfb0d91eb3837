/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * buildpath.c: build_run(), the build path shared by `peipkg-build
 * build` and the daemon's worker: validate, run build.sh, sign binaries,
 * partition DESTDIR, write one package per [[package]] (buildpath.h has
 * the exact order).
 *
 * Trust: the parameters are trusted; the script and everything it
 * leaves in DESTDIR are hostile and only reach us through stage.c and
 * elfsign.c, which open by descriptor without following symlinks.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildpath.h"
#include "elfsign.h"
#include "identity.h"
#include "manifest.h"
#include "pack.h"
#include "stage.h"
#include "tar.h"
#include "version.h"

/* One run of build_run(). */
struct bctx {
	const struct build_params	*p;
	const struct recipe		*r;
	char				 ts[32];	/* build.timestamp */
	char				*destdir;
	char				*workdir;
	char				*script;
	int				 rootfd;	/* destdir */
	struct stage			 st;
	struct manifest			*mf;		/* one per package */
	char				**tmp;	/* written, not renamed */
	char				**final;
	size_t				 nrenamed;
};

static const char *const reserved_env[] = {
	"SOURCE_DIR", "DESTDIR", "SOURCE_DATE_EPOCH", "LC_ALL", "TZ", "PATH",
	NULL
};

static void	 prefix_lines(struct buf *, const char *, const char *);
static int	 env_name_ok(const char *, size_t);
static int	 by_env_name(const void *, const void *);
static int	 check_sign_keys(const struct build_params *, struct buf *);
static int	 add_deps(const struct bctx *, const struct recipe_package *,
		    int, struct mf_deps *, struct buf *);
static int	 make_manifest(const struct bctx *, size_t, struct manifest *,
		    struct buf *);
static int	 validate(struct bctx *, struct buf *);
static int	 make_dirs(struct bctx *, struct buf *);
static char	**script_env(const struct bctx *);
static int	 run_plain(const struct bctx *, char **, struct buf *);
static int	 run_sandbox(const struct bctx *, char **, struct buf *);
static int	 run_script(struct bctx *, struct buf *);
static int	 sign_binaries(struct bctx *, struct buf *);
static int	 partition(struct bctx *, struct buf *);
static int	 pack_one(struct bctx *, size_t, struct buf *);
static int	 pack_all(struct bctx *, struct buf *);
static int	 publish(struct bctx *, struct build_result *, struct buf *);
static void	 make_writable(int);
static void	 remove_tree(const char *);
static void	 cleanup(struct bctx *, int);

/* ---- checks shared with the callers ----------------------------------- */

int
build_parse_timestamp(const char *s, int64_t *secs, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	long		 nanos;
	int		 rc = -1;

	if (parse_rfc3339_z(s, secs, &nanos, &e) == -1)
		errf(err, "parse timestamp: %s", buf_str(&e));
	else if (strlen(s) != 20)
		errf(err, "parse timestamp: timestamp \"%s\" has fractional "
		    "seconds; use whole seconds (the consumer cannot verify a "
		    "package whose signature follows a PAX mtime header)", s);
	else if (*secs < 0 || *secs > TAR_MTIME_MAX)
		errf(err, "parse timestamp: timestamp \"%s\" is outside "
		    "1970-01-01T00:00:00Z .. 2242-03-16T12:56:31Z", s);
	else
		rc = 0;
	buf_free(&e);
	return rc;
}

int
build_check_version(const char *v, struct buf *err)
{
	struct pm_version	 pv;
	struct buf		 e = BUF_INIT;

	if (version_parse(v, &pv, &e) == -1) {
		errf(err, "invalid --version: %s (a package version is "
		    "[epoch:]upstream-revision, e.g. \"1.2.3-1\")",
		    buf_str(&e));
		buf_free(&e);
		return -1;
	}
	version_free(&pv);
	return 0;
}

static int
env_name_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

int
build_check_env(const char *const *env, struct buf *err)
{
	struct buf	 q = BUF_INIT;
	const char	*eq;
	size_t		 i, j, n;
	int		 rc = 0;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		buf_reset(&q);
		if ((eq = strchr(env[i], '=')) == NULL || eq == env[i]) {
			ident_quote(&q, env[i], strlen(env[i]));
			rc = errf(err, "build-env %s: expected NAME=VALUE",
			    q.data);
			continue;
		}
		n = (size_t)(eq - env[i]);
		ident_quote(&q, env[i], n);
		for (j = 0; reserved_env[j] != NULL; j++)
			if (strlen(reserved_env[j]) == n &&
			    strncmp(reserved_env[j], env[i], n) == 0)
				break;
		if (!env_name_ok(env[i], n))
			rc = errf(err, "build-env: invalid variable name %s",
			    q.data);
		else if (reserved_env[j] != NULL)
			rc = errf(err, "build-env: %s is reserved and cannot "
			    "be overridden", q.data);
		for (j = 0; j < i; j++)
			if (strncmp(env[j], env[i], n + 1) == 0) {
				rc = errf(err, "build-env: %s given twice",
				    q.data);
				break;
			}
	}
	buf_free(&q);
	return rc;
}

/* ---- validation before anything runs ------------------------------------- */

/* Append each line of `text` to err as "<prefix><line>". */
static void
prefix_lines(struct buf *err, const char *prefix, const char *text)
{
	const char	*c = text;
	size_t		 n;

	while (*c != '\0') {
		n = strcspn(c, "\n");
		errf(err, "%s%.*s", prefix, (int)n, c);
		c += n + (c[n] == '\n');
	}
}

/* Every [[sign]] key must be one the signer holds: fail closed. */
static int
check_sign_keys(const struct build_params *p, struct buf *err)
{
	const struct recipe_sign	*s;
	size_t				 i, j;
	int				 rc = 0;

	for (i = 0; i < p->recipe->nsigns; i++) {
		s = &p->recipe->signs[i];
		for (j = 0; p->signer != NULL && p->sign_keys != NULL &&
		    p->sign_keys[j] != NULL; j++)
			if (strcmp(p->sign_keys[j], s->key) == 0)
				break;
		if (p->signer == NULL || p->sign_keys == NULL ||
		    p->sign_keys[j] == NULL)
			rc = errf(err, "sign[%zu] %s: no signing key named "
			    "\"%s\" supplied (need --binary-sign-key %s=PATH)",
			    i, s->path, s->key, s->key);
	}
	return rc;
}

/* dependencies (0), optional_dependencies (1), conflicts (2) */
static int
add_deps(const struct bctx *c, const struct recipe_package *pk, int which,
    struct mf_deps *out, struct buf *err)
{
	static const char *const what[] = {
		"dependencies", "optional_dependencies", "conflicts"
	};
	const struct recipe_dep	*d;
	char			*con;
	size_t			 i, n;
	int			 rc = 0;

	d = which == 0 ? pk->deps : which == 1 ? pk->optdeps : pk->conflicts;
	n = which == 0 ? pk->ndeps : which == 1 ? pk->noptdeps :
	    pk->nconflicts;
	for (i = 0; i < n; i++) {
		if (!d[i].same_build) {
			manifest_dep_add(out, d[i].name, d[i].constraint,
			    d[i].arch);
			continue;
		}
		if (d[i].constraint[0] != '\0')
			rc = errf(err, "package %s: %s.%s.%s: same_build "
			    "conflicts with explicit constraint \"%s\"",
			    pk->name, pk->name, what[which], d[i].name,
			    d[i].constraint);
		else if (recipe_package(c->r, d[i].name) == NULL ||
		    strcmp(d[i].name, pk->name) == 0)
			rc = errf(err, "package %s: %s.%s.%s: same_build set "
			    "but no sibling [[package]] named \"%s\" exists",
			    pk->name, pk->name, what[which], d[i].name,
			    d[i].name);
		con = xasprintf("= %s", c->p->version);
		manifest_dep_add(out, d[i].name, con, d[i].arch);
		free(con);
	}
	return rc;
}

/* The manifest of package i (size_installed still 0), sorted, checked. */
static int
make_manifest(const struct bctx *c, size_t i, struct manifest *mf,
    struct buf *err)
{
	const struct recipe_package	*pk = &c->r->pkgs[i];
	struct buf			 e = BUF_INIT;
	char				*pfx;
	size_t				 j;
	int				 rc = 0;

	manifest_set(&mf->name, pk->name);
	manifest_set(&mf->version, c->p->version);
	manifest_set(&mf->architecture, pk->architecture);
	manifest_set(&mf->description, pk->description);
	manifest_set(&mf->license, c->r->license);
	manifest_set(&mf->homepage, c->r->homepage);
	if (add_deps(c, pk, 0, &mf->rel.dependencies, err) == -1 ||
	    add_deps(c, pk, 1, &mf->rel.optional_dependencies, err) == -1 ||
	    add_deps(c, pk, 2, &mf->rel.conflicts, err) == -1)
		rc = -1;
	for (j = 0; j < pk->nprovides; j++)
		manifest_provide_add(mf, pk->provides[j].name,
		    pk->provides[j].version);
	for (j = 0; j < pk->nreplaces; j++)
		manifest_replace_add(mf, pk->replaces[j].name,
		    pk->replaces[j].constraint);
	for (j = 0; j < pk->nside_effects; j++)
		manifest_side_effect_add(mf, pk->side_effects[j]);
	manifest_set(&mf->build.timestamp, c->ts);
	manifest_set(&mf->build.farm_id, c->p->farm_id);
	manifest_set(&mf->build.source_ref, c->p->source_ref);
	if (manifest_sort(mf, &e) == -1 ||
	    manifest_validate(mf, MF_PRODUCER, &e) == -1) {
		pfx = xasprintf("package %s: ", pk->name);
		prefix_lines(err, pfx, e.data);
		free(pfx);
		rc = -1;
	}
	buf_free(&e);
	return rc;
}

static int
validate(struct bctx *c, struct buf *err)
{
	const struct build_params	*p = c->p;
	size_t				 i;
	int				 rc = 0, vok;

	if (p->recipe->npkgs == 0)
		return errf(err, "recipe %s declares no [[package]]",
		    p->recipe->path);
	if (p->sign_packages && p->signer == NULL)
		rc = errf(err, "packages are to be signed but no signer was "
		    "given");
	if (p->timestamp < 0 || p->timestamp > TAR_MTIME_MAX)
		rc = errf(err, "build timestamp %jd is outside the tar range",
		    (intmax_t)p->timestamp);
	fmt_rfc3339(p->timestamp, c->ts);
	vok = build_check_version(p->version, err) == 0;
	if (!vok)
		rc = -1;
	if (build_check_env(p->build_env, err) == -1)
		rc = -1;
	if (stage_check_patterns(p->recipe->pkgs, p->recipe->npkgs, err) == -1)
		rc = -1;
	if (check_sign_keys(p, err) == -1)
		rc = -1;
	c->mf = xcalloc(p->recipe->npkgs, sizeof(*c->mf));
	for (i = 0; i < p->recipe->npkgs; i++) {
		manifest_init(&c->mf[i]);
		/* a bad version would be reported once per package */
		if (vok && make_manifest(c, i, &c->mf[i], err) == -1)
			rc = -1;
	}
	return rc;
}

/* ---- staging and the build script ------------------------------------- */

static int
make_dirs(struct bctx *c, struct buf *err)
{
	const struct build_params	*p = c->p;
	const struct sandbox_conf	*sc = &p->sandbox;
	struct stat			 sb;
	char				*path;

	if (mkdir_p(p->out_dir, 0755) == -1)
		return errf(err, "create output directory %s: %s", p->out_dir,
		    strerror(errno));
	c->destdir = xasprintf("%s/destdir", p->work_root);
	c->workdir = xasprintf("%s/work", p->work_root);
	path = xasprintf("%s/%s", c->r->dir, c->r->build_script);
	/* Canonical: the sandbox shows its directory at the same path. */
	if ((c->script = realpath(path, NULL)) == NULL ||
	    stat(c->script, &sb) == -1)
		errf(err, "run build script: locate build script: %s: %s",
		    path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		errf(err, "run build script: locate build script: %s: not a "
		    "regular file", path);
	free(path);
	if (c->script == NULL || !S_ISREG(sb.st_mode))
		return -1;
	if (mkdir(c->destdir, 0755) == -1 || mkdir(c->workdir, 0755) == -1)
		return errf(err, "create staging directories in %s: %s",
		    p->work_root, strerror(errno));
	/* A root caller runs the sandboxed script as an unprivileged id. */
	if (p->use_sandbox && geteuid() == 0 &&
	    (chown(c->destdir, sc->uid, sc->gid) == -1 ||
	    chown(c->workdir, sc->uid, sc->gid) == -1))
		return errf(err, "chown staging directories to %u:%u: %s",
		    (unsigned)sc->uid, (unsigned)sc->gid, strerror(errno));
	return 0;
}

static int
by_env_name(const void *a, const void *b)
{
	const char	*x = *(char *const *)a, *y = *(char *const *)b;
	size_t		 nx = strcspn(x, "="), ny = strcspn(y, "=");
	int		 r;

	r = memcmp(x, y, nx < ny ? nx : ny);
	return r != 0 ? r : (nx > ny) - (nx < ny);
}

/* Exactly the documented environment (§3.4), NULL-terminated. */
static char **
script_env(const struct bctx *c)
{
	const struct build_params	*p = c->p;
	char				**env;
	size_t				 n = 0, k = 0, i;

	while (p->build_env != NULL && p->build_env[n] != NULL)
		n++;
	env = xcalloc(n + 7, sizeof(*env));
	env[k++] = xasprintf("SOURCE_DIR=%s", p->source_dir);
	env[k++] = xasprintf("DESTDIR=%s", c->destdir);
	env[k++] = xasprintf("SOURCE_DATE_EPOCH=%jd", (intmax_t)p->timestamp);
	env[k++] = xstrdup("LC_ALL=C");
	env[k++] = xstrdup("TZ=UTC");
	env[k++] = xasprintf("PATH=%s", p->path_env ? p->path_env : "");
	for (i = 0; i < n; i++)
		env[k + i] = xstrdup(p->build_env[i]);
	qsort(env + k, n, sizeof(*env), by_env_name);
	return env;
}

static int
run_plain(const struct bctx *c, char **env, struct buf *err)
{
	char *const	 argv[] = { "sh", c->script, NULL };
	pid_t		 pid;
	int		 st, nul;

	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return errf(err, "run build script: /dev/null: %s",
		    strerror(errno));
	if ((pid = fork()) == -1) {
		close(nul);
		return errf(err, "run build script: fork: %s",
		    strerror(errno));
	}
	if (pid == 0) {
		if (chdir(c->workdir) == -1 || dup2(nul, 0) == -1 ||
		    (c->p->out_fd != -1 && dup2(c->p->out_fd, 1) == -1) ||
		    (c->p->err_fd != -1 && dup2(c->p->err_fd, 2) == -1))
			_exit(126);
		closefrom(3);
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	close(nul);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return errf(err, "run build script: wait: %s",
			    strerror(errno));
	if (WIFSIGNALED(st))
		return errf(err, "run build script: killed by signal %d (%s)",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	if (WEXITSTATUS(st) != 0)
		return errf(err, "run build script: exit status %d",
		    WEXITSTATUS(st));
	return 0;
}

static int
run_sandbox(const struct bctx *c, char **env, struct buf *err)
{
	struct sandbox_conf	 sc = c->p->sandbox;
	struct sandbox_result	 res;
	struct buf		 e = BUF_INIT;
	int			 rc = -1;

	sc.script = c->script;
	sc.source_dir = c->p->source_dir;
	sc.destdir = c->destdir;
	sc.workdir = c->workdir;
	sc.env = (const char *const *)env;
	if (sandbox_run(&sc, &res, &e) == -1)
		errf(err, "run build script: %s", buf_str(&e));
	else if (res.end == SBX_EXITED && res.status != 0)
		errf(err, "run build script: exit status %d", res.status);
	else if (res.end != SBX_EXITED)
		errf(err, "run build script: %s", res.reason);
	else
		rc = 0;
	buf_free(&e);
	return rc;
}

static int
run_script(struct bctx *c, struct buf *err)
{
	char	**env;
	size_t	  i;
	int	  rc;

	env = script_env(c);
	rc = c->p->use_sandbox ? run_sandbox(c, env, err) :
	    run_plain(c, env, err);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
	return rc;
}

/* ---- after the script ------------------------------------------------- */

static int
sign_binaries(struct bctx *c, struct buf *err)
{
	const struct recipe_sign	*s;
	struct buf			 e = BUF_INIT;
	char				*dir, *slash;
	size_t				 i;
	int				 dfd, rc = 0;

	for (i = 0; i < c->r->nsigns && rc == 0; i++) {
		s = &c->r->signs[i];
		buf_reset(&e);
		dir = xstrdup(s->path);
		if ((slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			dfd = stage_openat(c->rootfd, dir,
			    O_RDONLY | O_DIRECTORY, 0);
		} else
			dfd = fcntl(c->rootfd, F_DUPFD_CLOEXEC, 0);
		if (dfd == -1)
			rc = errf(err, "sign[%zu] %s: %s", i, s->path,
			    errno == ENOTDIR || errno == ELOOP ? "a directory "
			    "on its path is a symlink or not a directory" :
			    strerror(errno));
		else if (elfsign_file(dfd, slash ? slash + 1 : dir,
		    c->p->signer, s->key, s->path, &e) == -1)
			rc = errf(err, "sign[%zu] %s: %s", i, s->path,
			    buf_str(&e));
		if (dfd != -1)
			close(dfd);
		free(dir);
	}
	buf_free(&e);
	return rc;
}

static int
partition(struct bctx *c, struct buf *err)
{
	const struct recipe_package	*pk = c->r->pkgs;
	size_t				 n = c->r->npkgs, i, j;
	int				 rc = 0;

	if (stage_collect(c->rootfd, pk, n, &c->st, err) == -1)
		rc = -1;
	if (stage_partition(pk, n, &c->st, err) == -1)
		rc = -1;
	if (stage_validate(pk, n, &c->st, err) == -1)
		rc = -1;
	for (i = 0; i < c->st.nleaves; i++) {
		j = (size_t)c->st.leaves[i].pkg;
		if (c->st.leaves[i].pkg >= 0 &&
		    c->st.leaves[i].type == STAGE_FILE)
			c->mf[j].size_installed += c->st.leaves[i].size;
	}
	return rc;
}

/* ---- packing ---------------------------------------------------------- */

static int
pack_one(struct bctx *c, size_t i, struct buf *err)
{
	const struct recipe_package	*pk = &c->r->pkgs[i];
	struct stage_entry		*e;
	struct pack_list		 l = { NULL, 0, 0 };
	struct pack_opts		 o;
	struct buf			 pe = BUF_INIT;
	size_t				 j, n;
	int				 fd, rc = -1;

	c->final[i] = xasprintf("%s/%s_%s_%s.peipkg", c->p->out_dir, pk->name,
	    c->p->version, pk->architecture);
	c->tmp[i] = xasprintf("%s/.%s_%s_%s.peipkg.tmp%ld", c->p->out_dir,
	    pk->name, c->p->version, pk->architecture, (long)getpid());
	stage_entries(&c->st, (int)i, &e, &n);
	for (j = 0; j < n; j++) {
		if (e[j].type == STAGE_DIR)
			e[j].name[strlen(e[j].name) - 1] = '\0';
		pack_list_add(&l, e[j].name, e[j].type == STAGE_FILE ?
		    PACK_FILE : e[j].type == STAGE_DIR ? PACK_DIR :
		    PACK_SYMLINK);
	}
	stage_entries_free(e, n);
	pack_opts_init(&o);
	if (c->p->zstd_level > 0)
		o.level = c->p->zstd_level;
	o.workers = c->p->zstd_workers > 0 ? c->p->zstd_workers : 1;
	o.signer = c->p->sign_packages ? c->p->signer : NULL;
	(void)unlink(c->tmp[i]);
	if ((fd = open(c->tmp[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0666)) == -1) {
		errf(err, "package %s: create %s: %s", pk->name, c->tmp[i],
		    strerror(errno));
		free(c->tmp[i]);
		c->tmp[i] = NULL;
	} else if (pack_write_fd(&c->mf[i], c->rootfd, &l, &o, fd, NULL,
	    &pe) == -1)
		errf(err, "package %s: %s", pk->name, buf_str(&pe));
	else if (fsync(fd) == -1)
		errf(err, "package %s: fsync %s: %s", pk->name, c->tmp[i],
		    strerror(errno));
	else
		rc = 0;
	if (fd != -1 && close(fd) == -1 && rc == 0)
		rc = errf(err, "package %s: close %s: %s", pk->name,
		    c->tmp[i], strerror(errno));
	pack_list_free(&l);
	buf_free(&pe);
	return rc;
}

static int
pack_all(struct bctx *c, struct buf *err)
{
	size_t	 i;

	c->tmp = xcalloc(c->r->npkgs, sizeof(*c->tmp));
	c->final = xcalloc(c->r->npkgs, sizeof(*c->final));
	for (i = 0; i < c->r->npkgs; i++)
		if (pack_one(c, i, err) == -1)
			return -1;
	return 0;
}

/* Every package under its final name, or none of them. */
static int
publish(struct bctx *c, struct build_result *res, struct buf *err)
{
	size_t	 i;
	int	 dfd;

	for (i = 0; i < c->r->npkgs; i++) {
		if (rename(c->tmp[i], c->final[i]) == -1)
			return errf(err, "package %s: rename to %s: %s",
			    c->r->pkgs[i].name, c->final[i], strerror(errno));
		free(c->tmp[i]);
		c->tmp[i] = NULL;
		c->nrenamed = i + 1;
	}
	if ((dfd = open(c->p->out_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || fsync(dfd) == -1) {
		errf(err, "fsync %s: %s", c->p->out_dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	close(dfd);
	res->outputs = c->final;
	res->noutputs = c->r->npkgs;
	c->final = NULL;
	return 0;
}

/* Make every directory below dfd (taken) writable, so it can go. */
static void
make_writable(int dfd)
{
	struct dirent	*de;
	DIR		*d;
	int		 cfd;

	(void)fchmod(dfd, 0700);
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		cfd = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd != -1)
			make_writable(cfd);
	}
	closedir(d);
}

/* Build output may hold read-only directories; remove it anyway. */
static void
remove_tree(const char *path)
{
	int	 fd;

	if (path == NULL || rm_rf(path) == 0)
		return;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1)
		make_writable(fd);
	(void)rm_rf(path);
}

static void
cleanup(struct bctx *c, int failed)
{
	size_t	 i, n = c->p->recipe->npkgs;

	if (c->rootfd != -1)
		close(c->rootfd);
	remove_tree(c->destdir);
	remove_tree(c->workdir);
	for (i = 0; c->tmp != NULL && i < n; i++)
		if (c->tmp[i] != NULL) {
			(void)unlink(c->tmp[i]);
			free(c->tmp[i]);
		}
	for (i = 0; c->final != NULL && i < n; i++) {
		if (failed && i < c->nrenamed)
			(void)unlink(c->final[i]);
		free(c->final[i]);
	}
	for (i = 0; c->mf != NULL && i < n; i++)
		manifest_free(&c->mf[i]);
	free(c->mf);
	free(c->tmp);
	free(c->final);
	free(c->destdir);
	free(c->workdir);
	free(c->script);
	stage_free(&c->st);
}

int
build_run(const struct build_params *p, struct build_result *res,
    struct buf *err)
{
	struct bctx	 c;
	int		 rc = -1;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.r = p->recipe;
	c.rootfd = -1;
	stage_init(&c.st);
	res->outputs = NULL;
	res->noutputs = 0;
	if (validate(&c, err) == -1 || make_dirs(&c, err) == -1 ||
	    run_script(&c, err) == -1)
		goto out;
	if ((c.rootfd = open(c.destdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		errf(err, "walk staged tree: %s: %s", c.destdir,
		    strerror(errno));
		goto out;
	}
	if (sign_binaries(&c, err) == -1 || partition(&c, err) == -1 ||
	    pack_all(&c, err) == -1 || publish(&c, res, err) == -1)
		goto out;
	rc = 0;
out:
	cleanup(&c, rc == -1);
	return rc;
}

void
build_result_free(struct build_result *res)
{
	size_t	 i;

	for (i = 0; i < res->noutputs; i++)
		free(res->outputs[i]);
	free(res->outputs);
	res->outputs = NULL;
	res->noutputs = 0;
}
