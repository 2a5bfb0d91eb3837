/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pb_build.c: `peipkg-build build` (BEHAVIOUR.md §3.1, §3.3): parse and
 * check the flags, load the recipe and the keys, make a private staging
 * directory <TMPDIR or /tmp>/peipkg-build-XXXXXX, call build_run() and
 * print the output paths, one per line, in [[package]] order.
 *
 * Our additions: the version must be a full consumer version and the
 * timestamp whole seconds (CONSUMER.md P2, P7); build.sh runs in the
 * build sandbox (sandbox.h) unless --no-sandbox is given (as root it
 * runs as --build-user, default "nobody", which must be able to read
 * SOURCE_DIR); the key files are hidden from it; --zstd-level N.
 *
 * Trust: operator command line and files; build output is handled by
 * buildpath.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildpath.h"
#include "crypto.h"
#include "peipkg-build.h"
#include "recipe.h"
#include "sign.h"
#include "zstream.h"

#define DEFAULT_BUILD_USER	"nobody"

struct bkey {
	char		*name;
	char		*path;
	struct pm_key	 key;
};

struct build_args {
	char		*recipe, *source, *version, *source_ref;
	char		*farm_id, *timestamp, *out, *sign_key;
	char		*build_user;
	struct cf_multi	 env, bkeys;
	int		 no_sandbox;
	long long	 level, workers;
	/* derived */
	struct bkey	*keys;
	size_t		 nkeys;
	char		**names;	/* key names, NULL-terminated */
	char		**hide;		/* key files, NULL-terminated */
	struct pm_key	 pkgkey;
	int		 have_pkgkey;
	struct recipe	*r;
	int64_t		 ts;
	char		*src_abs, *out_abs, *stage;
};

static char	*abs_clean(const char *);
static int	 parse_env(struct build_args *, struct buf *);
static int	 parse_bkeys(struct build_args *, struct buf *);
static int	 required(struct cf_set *, struct build_args *);
static int	 check_args(struct cf_set *, struct build_args *,
		    struct buf *);
static int	 load_inputs(struct build_args *, struct buf *);
static int	 sandbox_ids(struct build_args *, struct sandbox_conf *,
		    struct buf *);
static int	 make_stage(struct build_args *, struct buf *);
static void	 fill_params(struct build_args *, struct build_params *,
		    char **, struct signer *);
static int	 run(struct build_args *, struct buf *);
static void	 args_free(struct build_args *);

/* Absolute and lexically clean (Go filepath.Abs); no symlinks resolved. */
static char *
abs_clean(const char *p)
{
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	char		 cwd[PATH_MAX], *slash;
	const char	*c;
	size_t		 n;

	if (p[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		buf_addf(&in, "%s/", cwd);
	buf_adds(&in, p);
	buf_adds(&out, "");
	for (c = in.data; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			slash = strrchr(out.data, '/');
			out.len = slash == NULL ? 0 :
			    (size_t)(slash - out.data);
			out.data[out.len] = '\0';
			continue;
		}
		buf_addc(&out, '/');
		buf_add(&out, c, n);
	}
	if (out.len == 0)
		buf_adds(&out, "/");
	buf_free(&in);
	return buf_release(&out);
}

/* --build-env NAME=VALUE (§3.1): split at the first '=', names unique. */
static int
parse_env(struct build_args *a, struct buf *err)
{
	const char	*eq;
	size_t		 i, j;

	for (i = 0; i < a->env.n; i++) {
		eq = strchr(a->env.v[i], '=');
		if (eq == NULL || eq == a->env.v[i])
			return errf(err, "--build-env \"%s\": expected "
			    "NAME=VALUE", a->env.v[i]);
		for (j = 0; j < i; j++)
			if (strncmp(a->env.v[j], a->env.v[i],
			    (size_t)(eq - a->env.v[i]) + 1) == 0)
				return errf(err, "--build-env \"%.*s\": "
				    "duplicate name", (int)(eq - a->env.v[i]),
				    a->env.v[i]);
	}
	return 0;
}

/* --binary-sign-key NAME=PATH: each key file is loaded now. */
static int
parse_bkeys(struct build_args *a, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	struct bkey	*k;
	const char	*arg, *eq;
	size_t		 i, j;
	int		 rc = 0;

	a->keys = xcalloc(a->bkeys.n + 1, sizeof(*a->keys));
	a->names = xcalloc(a->bkeys.n + 2, sizeof(*a->names));
	a->hide = xcalloc(a->bkeys.n + 2, sizeof(*a->hide));
	for (i = 0; i < a->bkeys.n && rc == 0; i++) {
		arg = a->bkeys.v[i];
		if ((eq = strchr(arg, '=')) == NULL || eq == arg ||
		    eq[1] == '\0')
			return errf(err, "--binary-sign-key \"%s\": expected "
			    "NAME=PATH", arg);
		for (j = 0; j < a->nkeys; j++)
			if (strlen(a->keys[j].name) == (size_t)(eq - arg) &&
			    strncmp(a->keys[j].name, arg, (size_t)(eq - arg)) ==
			    0)
				return errf(err, "--binary-sign-key \"%s\": "
				    "duplicate name", a->keys[j].name);
		k = &a->keys[a->nkeys];
		buf_reset(&e);
		if (key_load_file(eq + 1, &k->key, &e) == -1) {
			rc = errf(err, "--binary-sign-key %.*s: %s",
			    (int)(eq - arg), arg, buf_str(&e));
			break;
		}
		k->name = xstrndup(arg, (size_t)(eq - arg));
		k->path = xstrdup(eq + 1);
		a->names[a->nkeys] = k->name;
		a->hide[a->nkeys] = abs_clean(k->path);
		a->nkeys++;
	}
	buf_free(&e);
	return rc;
}

static int
required(struct cf_set *set, struct build_args *a)
{
	static const char *const names[] = {
		"recipe", "source", "version", "source-ref", "farm-id",
		"timestamp", "out"
	};
	char *const	 vals[] = {
		a->recipe, a->source, a->version, a->source_ref, a->farm_id,
		a->timestamp, a->out
	};
	size_t		 i;

	for (i = 0; i < nitems(names); i++)
		if (vals[i] == NULL || vals[i][0] == '\0')
			return pb_required(set, names[i]);
	return 0;
}

/* Everything the flags alone decide: 0, or the exit status once told. */
static int
check_args(struct cf_set *set, struct build_args *a, struct buf *err)
{
	int	 rc;

	if (set->nargs > 0) {
		cf_usage(set, stderr);
		return pb_failf("build: unexpected argument \"%s\"",
		    set->args[0]);
	}
	if (parse_env(a, err) == -1 || parse_bkeys(a, err) == -1)
		return pb_fail(err);
	if ((rc = required(set, a)) != 0)
		return rc;
	if (a->level < 1 || a->level > 22)
		return pb_failf("--zstd-level %lld: must be 1-22", a->level);
	if (a->workers < 1 || a->workers > ZOUT_MAX_WORKERS)
		return pb_failf("--zstd-workers %lld: must be 1-%d",
		    a->workers, ZOUT_MAX_WORKERS);
	return 0;
}

/*
 * The recipe (and the version with it, so every manifest problem is
 * reported at once), the package key, the timestamp.
 */
static int
load_inputs(struct build_args *a, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	char		*path, *dir, *id;
	int		 rc = 0;

	path = abs_clean(a->recipe);
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	id = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;
	if ((a->r = recipe_load(path, id, RECIPE_BUILD, &e)) == NULL)
		rc = errf(err, "invalid recipe:\n%s", buf_str(&e));
	if (build_check_version(a->version, err) == -1)
		rc = -1;
	buf_reset(&e);
	if (a->sign_key != NULL && a->sign_key[0] != '\0') {
		if (key_load_file(a->sign_key, &a->pkgkey, &e) == -1)
			rc = errf(err, "--sign-key: %s", buf_str(&e));
		else {
			a->have_pkgkey = 1;
			a->hide[a->nkeys] = abs_clean(a->sign_key);
		}
	}
	if (build_parse_timestamp(a->timestamp, &a->ts, err) == -1)
		rc = -1;
	free(path);
	free(dir);
	buf_free(&e);
	return rc;
}

/* As root the script runs as --build-user; otherwise as ourselves. */
static int
sandbox_ids(struct build_args *a, struct sandbox_conf *sc, struct buf *err)
{
	struct passwd	*pw;

	if (geteuid() != 0) {
		sc->uid = geteuid();
		sc->gid = getegid();
		return 0;
	}
	if ((pw = getpwnam(a->build_user)) == NULL)
		return errf(err, "--build-user \"%s\": no such user (build.sh "
		    "never runs as root; use --no-sandbox to run it without "
		    "the sandbox)", a->build_user);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return errf(err, "--build-user \"%s\": refusing uid/gid 0",
		    a->build_user);
	sc->uid = pw->pw_uid;
	sc->gid = pw->pw_gid;
	return 0;
}

/*
 * <TMPDIR or /tmp>/peipkg-build-XXXXXX, canonical (the sandbox binds
 * it at the same path) and traversable by the build user.
 */
static int
make_stage(struct build_args *a, struct buf *err)
{
	const char	*tmp = getenv("TMPDIR");
	char		*t;

	t = xasprintf("%s/peipkg-build-XXXXXX", tmp != NULL && *tmp != '\0' ?
	    tmp : "/tmp");
	if (mkdtemp(t) == NULL) {
		errf(err, "create staging directory %s: %s", t,
		    strerror(errno));
		free(t);
		return -1;
	}
	if ((a->stage = realpath(t, NULL)) == NULL || chmod(t, 0711) == -1) {
		errf(err, "staging directory %s: %s", t, strerror(errno));
		(void)rmdir(t);
		free(t);
		return -1;
	}
	free(t);
	return 0;
}

/* Everything build_run() needs from the flags. */
static void
fill_params(struct build_args *a, struct build_params *p, char **envv,
    struct signer *s)
{
	memset(p, 0, sizeof(*p));
	p->recipe = a->r;
	p->source_dir = a->src_abs;
	p->version = a->version;
	p->source_ref = a->source_ref;
	p->farm_id = a->farm_id;
	p->timestamp = a->ts;
	p->out_dir = a->out_abs;
	p->work_root = a->stage;
	p->signer = s;
	p->sign_packages = a->have_pkgkey;
	p->sign_keys = (const char *const *)a->names;
	p->build_env = (const char *const *)envv;
	p->path_env = getenv("PATH");
	p->use_sandbox = !a->no_sandbox;
	p->sandbox.hide = (const char *const *)a->hide;
	p->sandbox.log_fd = STDOUT_FILENO;
	p->sandbox.err_fd = STDERR_FILENO;
	p->out_fd = p->err_fd = -1;
	p->zstd_level = (int)a->level;
	p->zstd_workers = (int)a->workers;
}

static int
run(struct build_args *a, struct buf *err)
{
	struct build_params	 p;
	struct build_result	 res = { NULL, 0 };
	struct signer		*s = NULL;
	char			**envv;
	size_t			 i;
	int			 rc = -1;

	envv = xcalloc(a->env.n + 1, sizeof(*envv));
	for (i = 0; i < a->env.n; i++)
		envv[i] = a->env.v[i];
	if (a->have_pkgkey || a->nkeys > 0) {
		s = signer_local_new(a->have_pkgkey ? &a->pkgkey : NULL);
		for (i = 0; i < a->nkeys; i++)
			if (signer_local_add_key(s, a->keys[i].name,
			    &a->keys[i].key, err) == -1)
				goto out;
	}
	a->out_abs = abs_clean(a->out);
	if (a->no_sandbox)
		a->src_abs = abs_clean(a->source);
	else if ((a->src_abs = realpath(a->source, NULL)) == NULL) {
		errf(err, "--source %s: %s", a->source, strerror(errno));
		goto out;
	}
	fill_params(a, &p, envv, s);
	if ((p.use_sandbox && sandbox_ids(a, &p.sandbox, err) == -1) ||
	    make_stage(a, err) == -1)
		goto out;
	p.work_root = a->stage;
	if (build_run(&p, &res, err) == -1)
		goto out;
	for (i = 0; i < res.noutputs; i++)
		printf("%s\n", res.outputs[i]);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		errf(err, "write output paths: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (a->stage != NULL && rmdir(a->stage) == -1 && errno != ENOENT)
		(void)rm_rf(a->stage);
	build_result_free(&res);
	signer_local_free(s);
	free(envv);
	return rc;
}

static void
args_free(struct build_args *a)
{
	size_t	 i;

	for (i = 0; i < a->nkeys; i++) {
		key_free(&a->keys[i].key);
		free(a->keys[i].name);
		free(a->keys[i].path);
	}
	for (i = 0; a->hide != NULL && a->hide[i] != NULL; i++)
		free(a->hide[i]);
	if (a->have_pkgkey)
		key_free(&a->pkgkey);
	free(a->keys);
	free(a->names);
	free(a->hide);
	recipe_free(a->r);
	free(a->src_abs);
	free(a->out_abs);
	free(a->stage);
	cf_multi_free(&a->env);
	cf_multi_free(&a->bkeys);
}

static long long
default_workers(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : n;
}

int
cmd_build(int argc, char **argv)
{
	struct build_args	 a;
	struct buf		 err = BUF_INIT;
	struct cf_flag		 flags[] = {
		{ "recipe", CF_STR, &a.recipe, "recipe `path` (peipkg.toml)",
		    0, 0 },
		{ "source", CF_STR, &a.source, "source tree `directory` "
		    "(SOURCE_DIR)", 0, 0 },
		{ "version", CF_STR, &a.version, "package `version` "
		    "([epoch:]upstream-revision)", 0, 0 },
		{ "source-ref", CF_STR, &a.source_ref, "`ref` recorded in "
		    "build.source_ref", 0, 0 },
		{ "farm-id", CF_STR, &a.farm_id, "`id` recorded in "
		    "build.farm_id", 0, 0 },
		{ "timestamp", CF_STR, &a.timestamp, "build `time`, "
		    "RFC 3339 UTC in whole seconds ending in Z", 0, 0 },
		{ "out", CF_STR, &a.out, "output `directory` (created)", 0,
		    0 },
		{ "sign-key", CF_STR, &a.sign_key, "Ed25519 private key "
		    "`path` (raw 32-byte seed or PKCS#8 PEM); omit for "
		    "unsigned packages", 0, 0 },
		{ "build-env", CF_MULTI, &a.env, "extra `NAME=VALUE` for "
		    "build.sh (repeatable)", 0, 0 },
		{ "binary-sign-key", CF_MULTI, &a.bkeys, "`NAME=PATH` of a "
		    "key for [[sign]] stanzas naming NAME (repeatable)", 0, 0 },
		{ "no-sandbox", CF_BOOL, &a.no_sandbox, "run build.sh as a "
		    "plain child process, without the build sandbox", 0, 0 },
		{ "build-user", CF_STR, &a.build_user, "`user` build.sh runs "
		    "as in the sandbox when peipkg-build runs as root "
		    "(default \"" DEFAULT_BUILD_USER "\")", 0, 0 },
		{ "zstd-level", CF_INT, &a.level, "zstd compression level",
		    0, 0 },
		{ "zstd-workers", CF_INT, &a.workers, "zstd worker threads",
		    1, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "build", flags, NULL, 0 };
	int			 rc = 1;

	memset(&a, 0, sizeof(a));
	a.level = ZOUT_DEFAULT_LEVEL;
	a.workers = default_workers();
	a.build_user = DEFAULT_BUILD_USER;
	if (pb_flags(&set, argc - 1, argv + 1) == -1)
		goto out;
	if ((rc = check_args(&set, &a, &err)) == 0 &&
	    (load_inputs(&a, &err) == -1 || run(&a, &err) == -1))
		rc = pb_fail(&err);
out:
	args_free(&a);
	buf_free(&err);
	return rc;
}
