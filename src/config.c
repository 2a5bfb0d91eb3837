/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * config.c: load and validate the farm configuration (pmconfig.h,
 * peipkg-config.toml(5)); the checks that need the recipe roster too.
 *
 * Every section is decoded strictly (unknown keys at any depth, type
 * errors), then checked in the reference's order; all errors are
 * reported, not just the first.  Relative paths are resolved against
 * the directory of the file.  No file system checks happen here.
 *
 * Trust: an operator file, parsed only by the privileged parent.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "pmconfig.h"
#include "recipe.h"
#include "tdec.h"
#include "toml.h"

#define KiB	INT64_C(1024)
#define MiB	(1024 * KiB)
#define GiB	(1024 * MiB)
#define TiB	(1024 * GiB)
#define SEC	DURATION_S
#define MIN	DURATION_M
#define MAXD	CONFIG_MAX_DURATION

static const char *const reserved_env[] = {
	"SOURCE_DIR", "DESTDIR", "SOURCE_DATE_EPOCH", "LC_ALL", "TZ", "PATH"
};

static struct config *config_new(const char *);
static char	*abs_dir(const char *);
static void	 req_str(struct tdec_tab *, const char *, char **);
static void	 int_field(struct tdec_tab *, const char *, int64_t, int64_t,
		    int *);
static void	 dur_field(struct tdec_tab *, const char *, int64_t,
		    int64_t *);
static void	 decode_manager(struct config *, struct tdec_tab *);
static void	 decode_repo(struct config *, struct tdec_tab *);
static void	 decode_signing(struct config *, struct tdec_tab *);
static void	 decode_upload(struct config *, struct tdec_tab *);
static int	 addr_valid(const char *, struct buf *);
static void	 decode_http(struct config *, struct tdec_tab *);
static void	 decode_poll(struct config *, struct tdec_tab *);
static void	 decode_build(struct config *, struct tdec_tab *);
static int	 env_name_valid(const char *, struct buf *);
static void	 decode_keys(struct config *, struct tdec_tab *);
static void	 check_key_refs(struct config *, struct tdec_tab *,
		    const struct grant *, int);
static void	 decode_grants(struct config *, struct tdec_tab *);
static void	 resolve(const struct config *, char **);
static int	 config_read(const char *, struct buf *, struct buf *);
static void	 decode_root(struct config *, struct tdec *,
		    const struct toml_table *);
static void	 resolve_paths(struct config *);
static int	 has_name(char *const *, size_t, size_t);
static int	 in_list(char *const *, size_t, const char *);
static void	 check_webhooks(const struct config *, const struct roster *,
		    struct tdec *, struct buf *);
static int	 check_signs(const struct config *, struct roster *, size_t);

static struct config *
config_new(const char *path)
{
	struct config	*c = xcalloc(1, sizeof(*c));

	c->path = xstrdup(path);
	c->manager.id = xstrdup("");
	c->manager.recipes_dir = xstrdup("");
	c->manager.state_dir = xstrdup("");
	c->manager.user = xstrdup(PM_DEFAULT_USER);
	c->manager.max_parallel_builds = 1;
	c->repo.name = xstrdup("");
	c->repo.description = xstrdup("");
	c->signing.key_file = xstrdup("");
	c->upload.remote = xstrdup("");
	c->upload.rclone_config = xstrdup("");
	c->upload.retry_initial = 1 * MIN;
	c->upload.retry_max = 60 * MIN;
	c->http.addr = xstrdup("");
	c->http.webhook_secret_file = xstrdup("");
	c->http.gitlab_token_file = xstrdup("");
	c->http.gitea_secret_file = xstrdup("");
	c->http.socket_group = xstrdup("");
	c->http.max_body = 1 * MiB;
	c->http.header_timeout = 10 * SEC;
	c->http.body_idle_timeout = 10 * SEC;
	c->http.body_timeout = 15 * SEC;
	c->http.keepalive_timeout = 15 * SEC;
	c->http.max_connections = 256;
	c->http.max_pending = 64;
	c->poll.connect_timeout = 10 * SEC;
	c->poll.timeout = 120 * SEC;
	c->poll.concurrency = 4;
	c->poll.max_tags = 10000;
	c->build.wall_timeout = 60 * MIN;
	c->build.idle_timeout = 30 * MIN;
	c->build.kill_grace = 10 * SEC;
	c->build.user = xstrdup("peipkg-build");
	c->manager.stop_timeout = 90 * SEC;
	c->build.log_max = 64 * MiB;
	c->build.log_retention = 10;
	c->build.max_processes = 1024;
	c->build.max_open_files = 4096;
	c->build.max_file_size = 4 * GiB;
	c->build.zstd_level = 19;
	return c;
}

/* Absolute directory of path (not resolving symlinks). */
static char *
abs_dir(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		 cwd[PATH_MAX], *part;
	char		*r;

	if (path[0] == '/')
		return slash == path ? xstrdup("/") :
		    xstrndup(path, (size_t)(slash - path));
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (slash == NULL)
		return xstrdup(cwd);
	part = xstrndup(path, (size_t)(slash - path));
	r = xasprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", part);
	free(part);
	return r;
}

/* ---- field helpers ------------------------------------------------- */

static void
req_str(struct tdec_tab *t, const char *key, char **out)
{
	int	 rc = tdec_str(t, key, out);

	if (rc == TDEC_ABSENT)
		tdec_kerrf(t, key, "required key is missing");
	else if (rc == TDEC_OK && (*out)[0] == '\0')
		tdec_kerrf(t, key, "must not be empty");
}

static void
int_field(struct tdec_tab *t, const char *key, int64_t min, int64_t max,
    int *out)
{
	int64_t	 v;

	if (tdec_int_range(t, key, min, max, &v) == TDEC_OK)
		*out = (int)v;
}

static void
dur_field(struct tdec_tab *t, const char *key, int64_t min, int64_t *out)
{
	tdec_duration_range(t, key, min, MAXD, out);
}

/* ---- sections ------------------------------------------------------ */

/* A system account name: 1-32 of a-z 0-9 _ -, first a letter or '_'. */
static void
user_field(struct tdec_tab *t, const char *key, char **out)
{
	const char	*u;
	size_t		 i;

	if (tdec_str(t, key, out) != TDEC_OK)
		return;
	u = *out;
	for (i = 0; u[i] != '\0'; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || u[i] == '_' ||
		    (i > 0 && ((u[i] >= '0' && u[i] <= '9') || u[i] == '-'))))
			break;
	if (i == 0 || u[i] != '\0' || i > 32)
		tdec_kerrf(t, key, "user name %s: want 1-32 characters from "
		    "a-z 0-9 _ -, starting with a letter or '_'", tdec_q(u));
}

static void
decode_manager(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;

	tdec_table(root, "manager", &t);
	req_str(&t, "id", &c->manager.id);
	req_str(&t, "recipes_dir", &c->manager.recipes_dir);
	req_str(&t, "state_dir", &c->manager.state_dir);
	user_field(&t, "user", &c->manager.user);
	int_field(&t, "max_parallel_builds", 1, 64,
	    &c->manager.max_parallel_builds);
	tdec_duration_range(&t, "stop_timeout", SEC, 6 * 60 * MIN,
	    &c->manager.stop_timeout);
	tdec_close(&t);
}

static void
decode_repo(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;

	tdec_table(root, "repo", &t);
	req_str(&t, "name", &c->repo.name);
	tdec_str(&t, "description", &c->repo.description);
	tdec_close(&t);
}

static void
decode_signing(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;

	tdec_table(root, "signing", &t);
	req_str(&t, "key_file", &c->signing.key_file);
	tdec_close(&t);
}

static void
decode_upload(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;
	char		*b = xstrdup("");
	const char	*r;

	tdec_table(root, "upload", &t);
	if (tdec_str(&t, "backend", &b) == TDEC_OK && b[0] != '\0' &&
	    strcmp(b, "none") != 0) {
		if (strcmp(b, "rclone") == 0)
			c->upload.backend = UPLOAD_RCLONE;
		else
			tdec_kerrf(&t, "backend", "[upload].backend %s not "
			    "recognised (want one of: rclone, none, or empty)",
			    tdec_q(b));
	}
	tdec_str(&t, "remote", &c->upload.remote);
	r = c->upload.remote;
	if (c->upload.backend == UPLOAD_RCLONE && r[0] == '\0')
		tdec_kerrf(&t, "remote", "[upload].remote is required when "
		    "backend is rclone");
	else if (c->upload.backend != UPLOAD_RCLONE && r[0] != '\0' &&
	    (b[0] == '\0' || strcmp(b, "none") == 0))
		tdec_kerrf(&t, "remote", "remote is set but backend is %s: "
		    "nothing would be uploaded (set backend = \"rclone\" or "
		    "remove remote)", tdec_q(b));
	else if (r[0] == '-' || strpbrk(r, "\n\r\t") != NULL)
		tdec_kerrf(&t, "remote", "remote %s must not start with '-' "
		    "or contain control characters", tdec_q(r));
	tdec_str(&t, "rclone_config", &c->upload.rclone_config);
	dur_field(&t, "retry_initial", SEC, &c->upload.retry_initial);
	dur_field(&t, "retry_max", SEC, &c->upload.retry_max);
	if (c->upload.retry_initial > c->upload.retry_max)
		tdec_kerrf(&t, "retry_initial", "%s is longer than retry_max "
		    "%s", duration_str(c->upload.retry_initial),
		    duration_str(c->upload.retry_max));
	free(b);
	tdec_close(&t);
}

/* "host:port", ":port", "[v6]:port" (port 0-65535) or "unix:/abs/path". */
static int
addr_valid(const char *a, struct buf *err)
{
	const char	*port, *c;
	char		*end;
	long		 v;

	if (strncmp(a, "unix:", 5) == 0) {
		if (a[5] != '/' || strlen(a + 5) > 107)
			return errf(err, "address %s: a unix socket path must "
			    "be absolute and at most 107 bytes", tdec_q(a));
		return 0;
	}
	if (a[0] == '[') {
		if ((c = strchr(a, ']')) == NULL || c[1] != ':' ||
		    strchr(a, ':') > c)
			goto bad;
		port = c + 2;
	} else {
		if ((c = strrchr(a, ':')) == NULL || memchr(a, ':',
		    (size_t)(c - a)) != NULL)
			goto bad;
		for (port = a; port < c; port++)
			if (!((*port >= 'a' && *port <= 'z') ||
			    (*port >= 'A' && *port <= 'Z') ||
			    (*port >= '0' && *port <= '9') ||
			    *port == '.' || *port == '-'))
				goto bad;
		port = c + 1;
	}
	if (*port < '0' || *port > '9')
		goto bad;
	errno = 0;
	v = strtol(port, &end, 10);
	if (*end != '\0' || errno != 0 || v > 65535)
		goto bad;
	return 0;
bad:
	return errf(err, "address %s: want host:port, :port, [ipv6]:port "
	    "(port 0-65535) or unix:/path", tdec_q(a));
}

static void
decode_http(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;
	struct buf	 e = BUF_INIT;
	int64_t		 v;

	tdec_table(root, "http", &t);
	c->http.line = t.line;
	c->http.col = t.col;
	if (tdec_str(&t, "addr", &c->http.addr) == TDEC_OK &&
	    c->http.addr[0] != '\0' && addr_valid(c->http.addr, &e) == -1)
		tdec_kerrf(&t, "addr", "%s", buf_str(&e));
	tdec_str(&t, "webhook_secret_file", &c->http.webhook_secret_file);
	tdec_str(&t, "gitlab_token_file", &c->http.gitlab_token_file);
	tdec_str(&t, "gitea_secret_file", &c->http.gitea_secret_file);
	user_field(&t, "socket_group", &c->http.socket_group);
	if (tdec_int_range(&t, "max_body", KiB, CONFIG_MAX_BODY_LIMIT,
	    &v) == TDEC_OK)
		c->http.max_body = (uint64_t)v;
	dur_field(&t, "header_timeout", SEC, &c->http.header_timeout);
	dur_field(&t, "body_idle_timeout", SEC, &c->http.body_idle_timeout);
	dur_field(&t, "body_timeout", SEC, &c->http.body_timeout);
	dur_field(&t, "keepalive_timeout", SEC, &c->http.keepalive_timeout);
	if (c->http.body_idle_timeout > c->http.body_timeout)
		tdec_kerrf(&t, "body_idle_timeout", "%s is longer than "
		    "body_timeout %s", duration_str(c->http.body_idle_timeout),
		    duration_str(c->http.body_timeout));
	int_field(&t, "max_connections", 1, 65536, &c->http.max_connections);
	int_field(&t, "max_pending", 1, 65536, &c->http.max_pending);
	tdec_close(&t);
	buf_free(&e);
}

static void
decode_poll(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;
	int64_t		 v;

	tdec_table(root, "poll", &t);
	v = 0;
	switch (tdec_duration(&t, "default_interval", &v)) {
	case TDEC_ABSENT:
		tdec_kerrf(&t, "default_interval", "required key is missing "
		    "(a duration of at least 1m, e.g. \"1h\")");
		break;
	case TDEC_OK:
		if (v < CONFIG_MIN_POLL)
			tdec_kerrf(&t, "default_interval", "[poll]."
			    "default_interval %s is less than the 1-minute "
			    "minimum (use 1m or greater)", duration_str(v));
		else if (v > MAXD)
			tdec_kerrf(&t, "default_interval", "%s is longer than "
			    "%s", duration_str(v), duration_str(MAXD));
		else
			c->poll.default_interval = v;
		break;
	}
	dur_field(&t, "connect_timeout", SEC, &c->poll.connect_timeout);
	dur_field(&t, "timeout", SEC, &c->poll.timeout);
	if (c->poll.connect_timeout > c->poll.timeout)
		tdec_kerrf(&t, "connect_timeout", "%s is longer than timeout "
		    "%s", duration_str(c->poll.connect_timeout),
		    duration_str(c->poll.timeout));
	int_field(&t, "concurrency", 1, 64, &c->poll.concurrency);
	tdec_int_range(&t, "max_tags", 1, 10000000, &c->poll.max_tags);
	tdec_close(&t);
}

/* [build] memory_max: 0 (no limit) or at least MEMORY_MAX_MIN bytes. */
void
config_memory_field(struct tdec_tab *t, uint64_t *out)
{
	int64_t	 v;

	if (tdec_int_range(t, "memory_max", 0, TiB, &v) != TDEC_OK)
		return;
	if (v > 0 && v < MEMORY_MAX_MIN)
		tdec_kerrf(t, "memory_max", "%lld bytes is too little for a "
		    "build: 0 (no limit) or at least %lld", (long long)v,
		    (long long)MEMORY_MAX_MIN);
	else
		*out = (uint64_t)v;
}

static void
decode_build(struct config *c, struct tdec_tab *root)
{
	struct tdec_tab	 t;
	int64_t		 v;

	tdec_table(root, "build", &t);
	user_field(&t, "user", &c->build.user);
	dur_field(&t, "wall_timeout", SEC, &c->build.wall_timeout);
	dur_field(&t, "idle_timeout", SEC, &c->build.idle_timeout);
	tdec_duration_range(&t, "kill_grace", SEC, 5 * MIN,
	    &c->build.kill_grace);
	if (tdec_int_range(&t, "log_max", 64 * KiB, 16 * GiB, &v) == TDEC_OK)
		c->build.log_max = (uint64_t)v;
	int_field(&t, "log_retention", 0, 10000, &c->build.log_retention);
	tdec_int_range(&t, "max_processes", 16, 4194304,
	    &c->build.max_processes);
	tdec_int_range(&t, "max_open_files", 64, 1048576,
	    &c->build.max_open_files);
	if (tdec_int_range(&t, "max_file_size", MiB, TiB, &v) == TDEC_OK)
		c->build.max_file_size = (uint64_t)v;
	config_memory_field(&t, &c->build.memory_max);
	int_field(&t, "zstd_level", 1, 22, &c->build.zstd_level);
	tdec_close(&t);
}

/* ---- [[signing_key]] and [[grant]] --------------------------------- */

static int
env_name_valid(const char *s, struct buf *err)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return errf(err, "pubkey_env %s is not a valid "
			    "environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
			    tdec_q(s));
	for (i = 0; i < nitems(reserved_env); i++)
		if (strcmp(s, reserved_env[i]) == 0)
			return errf(err, "pubkey_env %s is reserved for the "
			    "build environment", tdec_q(s));
	return 0;
}

/* 1 when v[i] equals an earlier element. */
static int
has_name(char *const *v, size_t n, size_t i)
{
	size_t	 j;

	for (j = 0; j < i && j < n; j++)
		if (strcmp(v[j], v[i]) == 0)
			return 1;
	return 0;
}

static int
in_list(char *const *v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
decode_keys(struct config *c, struct tdec_tab *root)
{
	const struct toml_value	*a;
	struct signing_key	*k;
	struct tdec_tab		 t;
	struct buf		 e = BUF_INIT;
	size_t			 i, j, n;

	if (tdec_table_array(root, "signing_key", &a, &n) != TDEC_OK)
		return;
	c->keys = xcalloc(n + 1, sizeof(*c->keys));
	for (i = 0; i < n; i++) {
		k = &c->keys[c->nkeys++];
		k->name = xstrdup("");
		k->private_path = xstrdup("");
		k->pubkey_env = xstrdup("");
		tdec_open_elem(root, &t, "signing_key", &a[i]);
		k->line = t.line;
		k->col = t.col;
		tdec_str(&t, "name", &k->name);
		tdec_str(&t, "private", &k->private_path);
		tdec_str(&t, "pubkey_env", &k->pubkey_env);
		buf_reset(&e);
		if (k->name[0] == '\0')
			tdec_kerrf(&t, "name", "[[signing_key]] #%zu: name is "
			    "required", i);
		else if (recipe_key_name_valid(k->name, &e) == -1)
			tdec_kerrf(&t, "name", "%s", buf_str(&e));
		for (j = 0; j < i; j++)
			if (k->name[0] != '\0' &&
			    strcmp(c->keys[j].name, k->name) == 0)
				tdec_kerrf(&t, "name", "[[signing_key]] %s: "
				    "duplicate name", k->name);
		if (k->private_path[0] == '\0')
			tdec_kerrf(&t, "private", "[[signing_key]] %s: private "
			    "is required", k->name);
		buf_reset(&e);
		if (k->pubkey_env[0] != '\0' &&
		    env_name_valid(k->pubkey_env, &e) == -1)
			tdec_kerrf(&t, "pubkey_env", "[[signing_key]] %s: %s",
			    k->name, buf_str(&e));
		for (j = 0; j < i && k->pubkey_env[0] != '\0'; j++)
			if (strcmp(c->keys[j].pubkey_env, k->pubkey_env) == 0)
				tdec_kerrf(&t, "pubkey_env", "[[signing_key]] "
				    "%s: pubkey_env %s is also used by %s",
				    k->name, tdec_q(k->pubkey_env),
				    c->keys[j].name);
		tdec_close(&t);
	}
	buf_free(&e);
}

/* inject_pubkey (inject = 1) or sign names of one grant. */
static void
check_key_refs(struct config *c, struct tdec_tab *t, const struct grant *g,
    int inject)
{
	const struct signing_key	*k;
	const char			*key = inject ? "inject_pubkey" : "sign";
	char *const			*v = inject ? g->inject_pubkey : g->sign;
	size_t				 i, n = inject ? g->ninject_pubkey :
					    g->nsign;

	for (i = 0; i < n; i++) {
		if ((k = config_signing_key(c, v[i])) == NULL)
			tdec_kerrf(t, key, "[[grant]] %s: %s references "
			    "unknown signing key %s", g->recipe, key,
			    tdec_q(v[i]));
		else if (inject && k->pubkey_env[0] == '\0')
			tdec_kerrf(t, key, "[[grant]] %s: inject_pubkey key %s "
			    "has no pubkey_env", g->recipe, tdec_q(v[i]));
		if (has_name(v, n, i))
			tdec_kerrf(t, key, "[[grant]] %s: %s lists %s twice",
			    g->recipe, key, tdec_q(v[i]));
	}
}

static void
decode_grants(struct config *c, struct tdec_tab *root)
{
	const struct toml_value	*a;
	struct grant		*g;
	struct tdec_tab		 t;
	struct buf		 e = BUF_INIT;
	size_t			 i, j, n;

	if (tdec_table_array(root, "grant", &a, &n) != TDEC_OK)
		return;
	c->grants = xcalloc(n + 1, sizeof(*c->grants));
	for (i = 0; i < n; i++) {
		g = &c->grants[c->ngrants++];
		g->recipe = xstrdup("");
		tdec_open_elem(root, &t, "grant", &a[i]);
		g->line = t.line;
		g->col = t.col;
		tdec_str(&t, "recipe", &g->recipe);
		tdec_str_array(&t, "inject_pubkey", &g->inject_pubkey,
		    &g->ninject_pubkey);
		tdec_str_array(&t, "sign", &g->sign, &g->nsign);
		buf_reset(&e);
		if (g->recipe[0] == '\0')
			tdec_kerrf(&t, "recipe", "[[grant]] #%zu: recipe is "
			    "required", i);
		else if (recipe_id_valid(g->recipe, &e) == -1)
			tdec_kerrf(&t, "recipe", "[[grant]]: %s", buf_str(&e));
		for (j = 0; j < i && g->recipe[0] != '\0'; j++)
			if (strcmp(c->grants[j].recipe, g->recipe) == 0)
				tdec_kerrf(&t, "recipe", "[[grant]] %s: "
				    "duplicate recipe", g->recipe);
		check_key_refs(c, &t, g, 1);
		check_key_refs(c, &t, g, 0);
		tdec_close(&t);
	}
	buf_free(&e);
}

/* ---- loading ------------------------------------------------------- */

static void
resolve(const struct config *c, char **p)
{
	char	*r;

	if ((*p)[0] == '\0' || (*p)[0] == '/')
		return;
	r = xasprintf("%s/%s", c->dir, *p);
	free(*p);
	*p = r;
}

/* The file's bytes; -1 (an I/O error) with the message in err. */
static int
config_read(const char *path, struct buf *data, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errf(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (read_fd(fd, TOML_MAX_INPUT, data, &e) == -1)
		errf(err, "%s: %s", path, buf_str(&e));
	else
		rc = 0;
	close(fd);
	buf_free(&e);
	return rc;
}

/* Every table of the document into c; errors are counted in d. */
static void
decode_root(struct config *c, struct tdec *d, const struct toml_table *doc)
{
	struct tdec_tab	 root;

	tdec_open(d, &root, doc, "", 1, 1);
	decode_manager(c, &root);
	decode_repo(c, &root);
	decode_signing(c, &root);
	decode_upload(c, &root);
	decode_http(c, &root);
	decode_poll(c, &root);
	decode_build(c, &root);
	decode_keys(c, &root);
	decode_grants(c, &root);
	tdec_close(&root);
}

/* Relative paths name files beside the config file. */
static void
resolve_paths(struct config *c)
{
	size_t	 i;

	resolve(c, &c->manager.recipes_dir);
	resolve(c, &c->manager.state_dir);
	resolve(c, &c->signing.key_file);
	resolve(c, &c->upload.rclone_config);
	resolve(c, &c->http.webhook_secret_file);
	resolve(c, &c->http.gitlab_token_file);
	resolve(c, &c->http.gitea_secret_file);
	for (i = 0; i < c->nkeys; i++)
		resolve(c, &c->keys[i].private_path);
}

struct config *
config_load(const char *path, struct buf *err, int *io_error)
{
	struct buf		 data = BUF_INIT;
	struct toml_table	*doc = NULL;
	struct config		*c = NULL;
	struct tdec		 d;

	*io_error = 1;
	if (config_read(path, &data, err) == -1)
		goto out;
	*io_error = 0;
	if ((doc = toml_parse(data.data, data.len, path, err)) == NULL)
		goto out;
	c = config_new(path);
	if ((c->dir = abs_dir(path)) == NULL) {
		*io_error = 1;
		errf(err, "%s: getcwd: %s", path, strerror(errno));
		goto fail;
	}
	tdec_init(&d, path, err);
	decode_root(c, &d, doc);
	if (d.nerr > 0)
		goto fail;
	resolve_paths(c);
	goto out;
fail:
	config_free(c);
	c = NULL;
out:
	toml_free(doc);
	buf_free(&data);
	return c;
}

void
config_free(struct config *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nkeys; i++) {
		free(c->keys[i].name);
		free(c->keys[i].private_path);
		free(c->keys[i].pubkey_env);
	}
	free(c->keys);
	for (i = 0; i < c->ngrants; i++) {
		free(c->grants[i].recipe);
		tdec_free_strv(c->grants[i].inject_pubkey,
		    c->grants[i].ninject_pubkey);
		tdec_free_strv(c->grants[i].sign, c->grants[i].nsign);
	}
	free(c->grants);
	free(c->path);
	free(c->dir);
	free(c->manager.id);
	free(c->manager.recipes_dir);
	free(c->manager.state_dir);
	free(c->manager.user);
	free(c->build.user);
	free(c->repo.name);
	free(c->repo.description);
	free(c->signing.key_file);
	free(c->upload.remote);
	free(c->upload.rclone_config);
	free(c->http.addr);
	free(c->http.webhook_secret_file);
	free(c->http.gitlab_token_file);
	free(c->http.gitea_secret_file);
	free(c->http.socket_group);
	free(c);
}

const struct signing_key *
config_signing_key(const struct config *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nkeys; i++)
		if (strcmp(c->keys[i].name, name) == 0)
			return &c->keys[i];
	return NULL;
}

const struct grant *
config_grant(const struct config *c, const char *recipe)
{
	size_t	 i;

	for (i = 0; i < c->ngrants; i++)
		if (strcmp(c->grants[i].recipe, recipe) == 0)
			return &c->grants[i];
	return NULL;
}

const char *
config_webhook_secret(const struct config *c, enum forge f)
{
	if (f == FORGE_GITLAB && c->http.gitlab_token_file[0] != '\0')
		return c->http.gitlab_token_file;
	if (f == FORGE_GITEA && c->http.gitea_secret_file[0] != '\0')
		return c->http.gitea_secret_file;
	return c->http.webhook_secret_file;
}

const char *
config_forge_key(enum forge f)
{
	static const char *const keys[FORGE_NUM] = {
		"github_webhook", "gitlab_webhook", "gitea_webhook"
	};

	return f < FORGE_NUM ? keys[f] : "";
}

/* ---- checks against the roster ------------------------------------- */

static void
check_webhooks(const struct config *c, const struct roster *ros,
    struct tdec *d, struct buf *warn)
{
	static const char *const alt[FORGE_NUM] = {
		"", " (or http.gitlab_token_file)", " (or http.gitea_secret_file)"
	};
	const struct recipe	*r;
	struct tdec		 w;
	size_t			 i;
	int			 f;

	for (f = 0; f < FORGE_NUM; f++) {
		for (i = 0, r = NULL; i < ros->n && r == NULL; i++)
			if (ros->r[i]->webhook[f])
				r = ros->r[i];
		if (r == NULL)
			continue;
		if (c->http.addr[0] == '\0') {
			tdec_init(&w, r->path, warn);
			tdec_report(&w, r->watch_line, r->watch_col,
			    "watch", "warning: %s is enabled but http.addr "
			    "is empty in %s: no webhook server runs; the "
			    "recipe is only polled", config_forge_key(f),
			    c->path);
		} else if (config_webhook_secret(c, (enum forge)f)[0] == '\0')
			tdec_report(d, c->http.line, c->http.col,
			    "http.webhook_secret_file", "required%s: "
			    "http.addr is set and recipe %s enables %s (fail "
			    "closed: webhooks are never accepted unsigned)",
			    alt[f], tdec_q(r->id), config_forge_key(f));
	}
}

/* [[sign]] keys of recipe i must be granted; else it is rejected. */
static int
check_signs(const struct config *c, struct roster *ros, size_t i)
{
	const struct recipe	*r = ros->r[i];
	const struct grant	*g = config_grant(c, r->id);
	struct buf		 e = BUF_INIT;
	struct tdec		 d;
	size_t			 s;

	tdec_init(&d, r->path, &e);
	for (s = 0; s < r->nsigns; s++) {
		if (g != NULL && in_list(g->sign, g->nsign, r->signs[s].key))
			continue;
		tdec_report(&d, r->signs[s].line, r->signs[s].col, "sign.key",
		    "[[sign]] %s uses key %s but %s has no [[grant]] for "
		    "recipe %s with sign = [%s] (fail closed: no grant, no "
		    "signature)", r->signs[s].path, tdec_q(r->signs[s].key),
		    c->path, tdec_q(r->id), tdec_q(r->signs[s].key));
	}
	if (d.nerr > 0)
		roster_reject(ros, i, buf_str(&e));
	buf_free(&e);
	return d.nerr;
}

int
config_check_roster(const struct config *c, struct roster *ros,
    struct buf *err, struct buf *warn)
{
	struct tdec	 d, w;
	size_t		 i, b;

	tdec_init(&d, c->path, err);
	tdec_init(&w, c->path, warn);
	check_webhooks(c, ros, &d, warn);
	for (i = 0; i < c->ngrants; i++) {
		if (roster_find(ros, c->grants[i].recipe) != NULL)
			continue;
		for (b = 0; b < ros->nbad; b++)
			if (strcmp(ros->bad[b].id, c->grants[i].recipe) == 0)
				break;
		if (b == ros->nbad)
			tdec_report(&w, c->grants[i].line, c->grants[i].col,
			    "grant.recipe", "warning: [[grant]] %s: no recipe "
			    "%s in %s", c->grants[i].recipe,
			    tdec_q(c->grants[i].recipe), ros->dir);
	}
	for (i = 0; i < ros->n; )
		if (check_signs(c, ros, i) == 0)
			i++;	/* else recipe i left the roster */
	return d.nerr;
}
