/*
 * test_config.c: the farm configuration: defaults, every key, path
 * resolution, strictness (unknown keys, case, types), the reference's
 * validation rules with exact messages, and the roster checks
 * (webhook secrets, grants for [[sign]]).
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "duration.h"
#include "pmconfig.h"
#include "recipe.h"

#define MINIMAL \
	"[manager]\nid = \"farm-1\"\nrecipes_dir = \"recipes\"\n" \
	"state_dir = \"/var/lib/pm\"\n" \
	"[repo]\nname = \"test-repo\"\n" \
	"[signing]\nkey_file = \"keys/farm.key\"\n" \
	"[poll]\ndefault_interval = \"1h\"\n"

static char	 tmpdir[64];

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char	*cmd = xasprintf("rm -rf '%s'", tmpdir);
	int	 rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Write text to tmpdir/<name>; returns the path (owned). */
static char *
put(const char *name, const char *text)
{
	char	*p = xasprintf("%s/%s", tmpdir, name);
	FILE	*f;

	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	return p;
}

static struct config *
load_ok(const char *text)
{
	struct buf	 err = BUF_INIT;
	struct config	*c;
	char		*p = put("config.toml", text);
	int		 io = -1;

	if ((c = config_load(p, &err, &io)) == NULL)
		fail_msg("unexpected errors:\n%s", buf_str(&err));
	assert_int_equal(io, 0);
	free(p);
	buf_free(&err);
	return c;
}

/* Exactly these errors, with "F" standing for the file name. */
static void
load_bad(const char *text, const char *want)
{
	struct buf	 err = BUF_INIT, exp = BUF_INIT;
	char		*p = put("c.toml", text);
	const char	*w;
	int		 io = -1;

	for (w = want; *w != '\0'; w++) {
		if (*w == 'F' && (w == want || w[-1] == '\n'))
			buf_adds(&exp, p);
		else
			buf_addc(&exp, *w);
	}
	assert_null(config_load(p, &err, &io));
	assert_int_equal(io, 0);
	if (strcmp(buf_str(&err), buf_str(&exp)) != 0) {
		print_error("got:\n%s\nwant:\n%s\n", buf_str(&err),
		    buf_str(&exp));
		fail();
	}
	free(p);
	buf_free(&err);
	buf_free(&exp);
}

static void
test_defaults(void **state)
{
	struct config	*c = load_ok(MINIMAL);
	char		*p;

	assert_string_equal(c->manager.id, "farm-1");
	p = xasprintf("%s/recipes", tmpdir);
	assert_string_equal(c->manager.recipes_dir, p);
	free(p);
	assert_string_equal(c->manager.state_dir, "/var/lib/pm");
	p = xasprintf("%s/keys/farm.key", tmpdir);
	assert_string_equal(c->signing.key_file, p);
	free(p);
	assert_string_equal(c->dir, tmpdir);
	assert_string_equal(c->manager.user, PM_DEFAULT_USER);
	assert_int_equal(c->manager.max_parallel_builds, 1);
	assert_int_equal(c->manager.stop_timeout, INT64_C(90) * 1000000000);
	assert_string_equal(c->build.user, "peipkg-build");
	assert_string_equal(c->repo.name, "test-repo");
	assert_string_equal(c->repo.description, "");
	assert_int_equal(c->upload.backend, UPLOAD_NONE);
	assert_string_equal(c->upload.remote, "");
	assert_int_equal(c->upload.retry_initial, DURATION_M);
	assert_int_equal(c->upload.retry_max, DURATION_H);
	assert_string_equal(c->http.addr, "");
	assert_string_equal(c->http.webhook_secret_file, "");
	assert_int_equal(c->http.max_body, 1024 * 1024);
	assert_int_equal(c->http.header_timeout, 10 * DURATION_S);
	assert_int_equal(c->http.body_idle_timeout, 10 * DURATION_S);
	assert_int_equal(c->http.body_timeout, 15 * DURATION_S);
	assert_int_equal(c->http.keepalive_timeout, 15 * DURATION_S);
	assert_int_equal(c->http.max_connections, 256);
	assert_int_equal(c->http.max_pending, 64);
	assert_int_equal(c->poll.default_interval, DURATION_H);
	assert_int_equal(c->poll.connect_timeout, 10 * DURATION_S);
	assert_int_equal(c->poll.timeout, 120 * DURATION_S);
	assert_int_equal(c->poll.concurrency, 4);
	assert_int_equal(c->poll.max_tags, 10000);
	assert_int_equal(c->build.wall_timeout, 60 * DURATION_M);
	assert_int_equal(c->build.idle_timeout, 30 * DURATION_M);
	assert_int_equal(c->build.kill_grace, 10 * DURATION_S);
	assert_int_equal(c->build.log_max, 64 * 1024 * 1024);
	assert_int_equal(c->build.log_retention, 10);
	assert_int_equal(c->build.max_processes, 1024);
	assert_int_equal(c->build.max_open_files, 4096);
	assert_int_equal(c->build.max_file_size, 4ULL << 30);
	assert_int_equal(c->build.memory_max, 0);
	assert_int_equal(c->build.zstd_level, 19);
	assert_int_equal(c->nkeys, 0);
	assert_int_equal(c->ngrants, 0);
	config_free(c);
}

static const char full[] =
    "[manager]\nid = \"peios-build-1\"\nrecipes_dir = \"/etc/pm/recipes\"\n"
    "state_dir = \"state\"\nuser = \"_pm-build\"\nmax_parallel_builds = 3\n"
    "[repo]\nname = \"peios-official\"\ndescription = \"Official\"\n"
    "[signing]\nkey_file = \"/etc/pm/farm.key\"\n"
    "[upload]\nbackend = \"rclone\"\nremote = \"r2:pkgs.example.org\"\n"
    "retry_initial = \"30s\"\nretry_max = \"2h\"\n"
    "[http]\naddr = \"127.0.0.1:8080\"\nwebhook_secret_file = \"gh\"\n"
    "gitlab_token_file = \"gl\"\ngitea_secret_file = \"/gt\"\n"
    "max_body = 26214400\nheader_timeout = \"5s\"\n"
    "body_idle_timeout = \"3s\"\nbody_timeout = \"1m\"\n"
    "keepalive_timeout = \"0.5m\"\nmax_connections = 10\n"
    "max_pending = 5\n"
    "[poll]\ndefault_interval = \"1m\"\nconnect_timeout = \"2s\"\n"
    "timeout = \"1m30s\"\nconcurrency = 64\nmax_tags = 50\n"
    "[build]\nwall_timeout = \"4h\"\nidle_timeout = \"10m\"\n"
    "kill_grace = \"5m\"\nlog_max = 65536\nlog_retention = 0\n"
    "max_processes = 16\nmax_open_files = 64\n"
    "max_file_size = 1048576\nzstd_level = 22\n"
    "memory_max = 16777216\n"
    "[[signing_key]]\nname = \"tcb\"\nprivate = \"tcb.key\"\n"
    "pubkey_env = \"PEIOS_TCB_PUBKEY\"\n"
    "[[signing_key]]\nname = \"other.key-2\"\nprivate = \"/k2\"\n"
    "[[grant]]\nrecipe = \"loregd\"\ninject_pubkey = [\"tcb\"]\n"
    "sign = [\"tcb\", \"other.key-2\"]\n"
    "[[grant]]\nrecipe = \"prelude\"\nsign = [\"tcb\"]\n";

static void
test_full(void **state)
{
	struct config		*c = load_ok(full);
	const struct grant	*g;
	char			*p;

	assert_string_equal(c->manager.recipes_dir, "/etc/pm/recipes");
	p = xasprintf("%s/state", tmpdir);
	assert_string_equal(c->manager.state_dir, p);
	free(p);
	assert_string_equal(c->manager.user, "_pm-build");
	assert_int_equal(c->manager.max_parallel_builds, 3);
	assert_string_equal(c->repo.description, "Official");
	assert_int_equal(c->upload.backend, UPLOAD_RCLONE);
	assert_string_equal(c->upload.remote, "r2:pkgs.example.org");
	assert_int_equal(c->upload.retry_initial, 30 * DURATION_S);
	assert_int_equal(c->upload.retry_max, 2 * DURATION_H);
	assert_string_equal(c->http.addr, "127.0.0.1:8080");
	p = xasprintf("%s/gh", tmpdir);
	assert_string_equal(c->http.webhook_secret_file, p);
	assert_string_equal(config_webhook_secret(c, FORGE_GITHUB), p);
	free(p);
	p = xasprintf("%s/gl", tmpdir);
	assert_string_equal(config_webhook_secret(c, FORGE_GITLAB), p);
	free(p);
	assert_string_equal(config_webhook_secret(c, FORGE_GITEA), "/gt");
	assert_int_equal(c->http.max_body, 25 * 1024 * 1024);
	assert_int_equal(c->http.header_timeout, 5 * DURATION_S);
	assert_int_equal(c->http.body_idle_timeout, 3 * DURATION_S);
	assert_int_equal(c->http.body_timeout, DURATION_M);
	assert_int_equal(c->http.keepalive_timeout, 30 * DURATION_S);
	assert_int_equal(c->http.max_connections, 10);
	assert_int_equal(c->http.max_pending, 5);
	assert_int_equal(c->poll.default_interval, DURATION_M);
	assert_int_equal(c->poll.connect_timeout, 2 * DURATION_S);
	assert_int_equal(c->poll.timeout, 90 * DURATION_S);
	assert_int_equal(c->poll.concurrency, 64);
	assert_int_equal(c->poll.max_tags, 50);
	assert_int_equal(c->build.wall_timeout, 4 * DURATION_H);
	assert_int_equal(c->build.idle_timeout, 10 * DURATION_M);
	assert_int_equal(c->build.kill_grace, 5 * DURATION_M);
	assert_int_equal(c->build.log_max, 65536);
	assert_int_equal(c->build.log_retention, 0);
	assert_int_equal(c->build.max_processes, 16);
	assert_int_equal(c->build.max_open_files, 64);
	assert_int_equal(c->build.max_file_size, 1048576);
	assert_int_equal(c->build.memory_max, 16777216);
	assert_int_equal(c->build.zstd_level, 22);
	assert_int_equal(c->nkeys, 2);
	p = xasprintf("%s/tcb.key", tmpdir);
	assert_string_equal(config_signing_key(c, "tcb")->private_path, p);
	free(p);
	assert_string_equal(config_signing_key(c, "tcb")->pubkey_env,
	    "PEIOS_TCB_PUBKEY");
	assert_string_equal(config_signing_key(c, "other.key-2")->pubkey_env,
	    "");
	assert_null(config_signing_key(c, "nope"));
	assert_non_null(g = config_grant(c, "loregd"));
	assert_int_equal(g->ninject_pubkey, 1);
	assert_int_equal(g->nsign, 2);
	assert_string_equal(g->sign[1], "other.key-2");
	assert_non_null(config_grant(c, "prelude"));
	assert_null(config_grant(c, "busybox"));
	assert_string_equal(config_forge_key(FORGE_GITEA), "gitea_webhook");
	config_free(c);
}

static void
test_io_error(void **state)
{
	struct buf	 err = BUF_INIT;
	char		*p = xasprintf("%s/missing.toml", tmpdir);
	int		 io = 0;

	assert_null(config_load(p, &err, &io));
	assert_int_equal(io, 1);
	assert_true(str_has_suffix(buf_str(&err), "missing.toml: cannot "
	    "open: No such file or directory"));
	free(p);
	buf_reset(&err);
	p = put("syntax.toml", "[manager\n");
	assert_null(config_load(p, &err, &io));
	assert_int_equal(io, 0);
	assert_true(str_has_prefix(buf_str(&err), p));
	assert_true(str_has_prefix(buf_str(&err) + strlen(p), ":1:"));
	free(p);
	buf_free(&err);
}

static void
test_empty(void **state)
{
	load_bad("",
	    "F:1:1: manager.id: required key is missing\n"
	    "F:1:1: manager.recipes_dir: required key is missing\n"
	    "F:1:1: manager.state_dir: required key is missing\n"
	    "F:1:1: repo.name: required key is missing\n"
	    "F:1:1: signing.key_file: required key is missing\n"
	    "F:1:1: poll.default_interval: required key is missing (a "
	    "duration of at least 1m, e.g. \"1h\")");
}

static void
test_strict(void **state)
{
	load_bad("[MANAGER]\nID = \"x\"\n"
	    "[manager]\nid = \"f\"\nrecipes_dir = \"r\"\nstate_dir = \"s\"\n"
	    "Id = 1\nrecipes = \"r\"\n"
	    "[repo]\nname = 2024-01-01T00:00:00Z\n"
	    "[signing]\nkey_file = \"k\"\n[signing.extra]\nx = 1\n"
	    "[poll]\ndefault_interval = 3600\n"
	    "[bogus]\nfield = 1\n[[grant]]\nrecipe = \"a1\"\nsighn = [\"x\"]\n"
	    "top = 1\n",
	    "F:7:1: manager.Id: unknown key (did you mean \"id\"?)\n"
	    "F:8:1: manager.recipes: unknown key\n"
	    "F:10:8: repo.name: expected string, got offset date-time\n"
	    "F:13:10: signing.extra: unknown table\n"
	    "F:16:20: poll.default_interval: expected a duration string such "
	    "as \"1h30m\", got integer\n"
	    "F:21:1: grant.sighn: unknown key (did you mean \"sign\"?)\n"
	    "F:22:1: grant.top: unknown key\n"
	    "F:1:2: MANAGER: unknown table (did you mean \"manager\"?)\n"
	    "F:17:2: bogus: unknown table");
}

static void
test_rules(void **state)
{
	load_bad("[manager]\nid = \"\"\nrecipes_dir = \"\"\nstate_dir = \"s\"\n"
	    "user = \"Root\"\nmax_parallel_builds = 0\n"
	    "[repo]\nname = \"r\"\n[signing]\nkey_file = \"k\"\n"
	    "[upload]\nbackend = \"ftp\"\n"
	    "[http]\naddr = \"localhost\"\nmax_body = 1023\n"
	    "body_idle_timeout = \"1m\"\nbody_timeout = \"30s\"\n"
	    "header_timeout = \"1d\"\n"
	    "[poll]\ndefault_interval = \"59s\"\nconnect_timeout = \"5m\"\n"
	    "concurrency = 65\nmax_tags = 0\n"
	    "[build]\nkill_grace = \"6m\"\nzstd_level = 0\nlog_max = 1\n"
	    "wall_timeout = \"-1h\"\nmemory_max = 16777215\n",
	    "F:2:6: manager.id: must not be empty\n"
	    "F:3:15: manager.recipes_dir: must not be empty\n"
	    "F:5:8: manager.user: user name \"Root\": want 1-32 characters "
	    "from a-z 0-9 _ -, starting with a letter or '_'\n"
	    "F:6:23: manager.max_parallel_builds: 0 is out of range (want 1 "
	    "to 64)\n"
	    "F:12:11: upload.backend: [upload].backend \"ftp\" not recognised "
	    "(want one of: rclone, none, or empty)\n"
	    "F:14:8: http.addr: address \"localhost\": want host:port, :port, "
	    "[ipv6]:port (port 0-65535) or unix:/path\n"
	    "F:15:12: http.max_body: 1023 is out of range (want 1024 to "
	    "26214400)\n"
	    "F:18:18: http.header_timeout: invalid duration \"1d\": unknown "
	    "unit \"d\" (want ns, us, ms, s, m or h)\n"
	    "F:16:21: http.body_idle_timeout: 1m0s is longer than "
	    "body_timeout 30s\n"
	    "F:20:20: poll.default_interval: [poll].default_interval 59s is "
	    "less than the 1-minute minimum (use 1m or greater)\n"
	    "F:21:19: poll.connect_timeout: 5m0s is longer than timeout "
	    "2m0s\n"
	    "F:22:15: poll.concurrency: 65 is out of range (want 1 to 64)\n"
	    "F:23:12: poll.max_tags: 0 is out of range (want 1 to 10000000)\n"
	    "F:28:16: build.wall_timeout: -1h0m0s is out of range (want 1s "
	    "to 8760h0m0s)\n"
	    "F:25:14: build.kill_grace: 6m0s is out of range (want 1s to "
	    "5m0s)\n"
	    "F:27:11: build.log_max: 1 is out of range (want 65536 to "
	    "17179869184)\n"
	    "F:29:14: build.memory_max: 16777215 bytes is too little for a "
	    "build: 0 (no limit) or at least 16777216\n"
	    "F:26:14: build.zstd_level: 0 is out of range (want 1 to 22)");
}

static void
test_upload(void **state)
{
	load_bad(MINIMAL "[upload]\nbackend = \"rclone\"\n",
	    "F:11:1: upload.remote: [upload].remote is required when backend "
	    "is rclone");
	load_bad(MINIMAL "[upload]\nremote = \"r2:x\"\n",
	    "F:12:10: upload.remote: remote is set but backend is \"\": "
	    "nothing would be uploaded (set backend = \"rclone\" or remove "
	    "remote)");
	load_bad(MINIMAL "[upload]\nbackend = \"rclone\"\nremote = \"-x\"\n"
	    "retry_initial = \"2h\"\n",
	    "F:13:10: upload.remote: remote \"-x\" must not start with '-' or "
	    "contain control characters\n"
	    "F:14:17: upload.retry_initial: 2h0m0s is longer than retry_max "
	    "1h0m0s");
	load_bad(MINIMAL "[upload]\nbackend = \"Rclone\"\n",
	    "F:12:11: upload.backend: [upload].backend \"Rclone\" not "
	    "recognised (want one of: rclone, none, or empty)");
}

static void
test_addrs(void **state)
{
	static const char *const good[] = {
		":8080", "127.0.0.1:80", "[::1]:8080", "[::]:0", "host-a.b:65535",
		"unix:/run/peipkg-manager/http.sock",
	};
	static const char *const bad[] = {
		"8080", "::1:80", "[::1]8080", "h:65536", "h:", "h:+1",
		"h:80x", "[::1", "h o:80", "h:-1",
	};
	struct config	*c;
	char		*t;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = xasprintf(MINIMAL "[http]\naddr = \"%s\"\n", good[i]);
		c = load_ok(t);
		assert_string_equal(c->http.addr, good[i]);
		config_free(c);
		free(t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char	*w;

		t = xasprintf(MINIMAL "[http]\naddr = \"%s\"\n", bad[i]);
		w = xasprintf("F:12:8: http.addr: address \"%s\": want "
		    "host:port, :port, [ipv6]:port (port 0-65535) or "
		    "unix:/path", bad[i]);
		load_bad(t, w);
		free(w);
		free(t);
	}
}

static void
test_keys_grants(void **state)
{
	struct buf	 err = BUF_INIT;
	char		*p;
	int		 io;

	load_bad(MINIMAL
	    "[[signing_key]]\nprivate = \"a\"\n"
	    "[[signing_key]]\nname = \"tcb\"\nprivate = \"a\"\n"
	    "pubkey_env = \"TCB\"\n"
	    "[[signing_key]]\nname = \"tcb\"\npubkey_env = \"TCB\"\n"
	    "[[signing_key]]\nname = \"bad name\"\nprivate = \"p\"\n"
	    "pubkey_env = \"1X\"\n"
	    "[[signing_key]]\nname = \"k2\"\nprivate = \"p\"\n"
	    "pubkey_env = \"SOURCE_DATE_EPOCH\"\n"
	    "[[signing_key]]\nname = \"k3\"\nprivate = \"p\"\n"
	    "[[grant]]\nsign = []\n"
	    "[[grant]]\nrecipe = \"loregd\"\ninject_pubkey = [\"k3\", \"zz\"]\n"
	    "sign = [\"nope\", \"tcb\", \"tcb\"]\n"
	    "[[grant]]\nrecipe = \"loregd\"\n"
	    "[[grant]]\nrecipe = \"prelude\"\ninject_pubkey = [\"tcb\", 3]\n",
	    "F:11:1: signing_key.name: [[signing_key]] #0: name is required\n"
	    "F:18:8: signing_key.name: [[signing_key]] tcb: duplicate name\n"
	    "F:17:1: signing_key.private: [[signing_key]] tcb: private is "
	    "required\n"
	    "F:19:14: signing_key.pubkey_env: [[signing_key]] tcb: pubkey_env "
	    "\"TCB\" is also used by tcb\n"
	    "F:21:8: signing_key.name: signing key name \"bad name\": want "
	    "1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter "
	    "or digit\n"
	    "F:23:14: signing_key.pubkey_env: [[signing_key]] bad name: "
	    "pubkey_env \"1X\" is not a valid environment variable name "
	    "([A-Za-z_][A-Za-z0-9_]*)\n"
	    "F:27:14: signing_key.pubkey_env: [[signing_key]] k2: pubkey_env "
	    "\"SOURCE_DATE_EPOCH\" is reserved for the build environment\n"
	    "F:31:1: grant.recipe: [[grant]] #0: recipe is required\n"
	    "F:35:17: grant.inject_pubkey: [[grant]] loregd: inject_pubkey key "
	    "\"k3\" has no pubkey_env\n"
	    "F:35:17: grant.inject_pubkey: [[grant]] loregd: inject_pubkey "
	    "references unknown signing key \"zz\"\n"
	    "F:36:8: grant.sign: [[grant]] loregd: sign references unknown "
	    "signing key \"nope\"\n"
	    "F:36:8: grant.sign: [[grant]] loregd: sign lists \"tcb\" twice\n"
	    "F:38:10: grant.recipe: [[grant]] loregd: duplicate recipe\n"
	    "F:41:25: grant.inject_pubkey: element 1: expected string, got "
	    "integer");

	/* A grant's recipe must be usable as a recipe directory name. */
	p = put("g.toml", MINIMAL "[[grant]]\nrecipe = \"../etc\"\n");
	assert_null(config_load(p, &err, &io));
	assert_true(str_has_prefix(buf_str(&err), p));
	assert_true(str_has_prefix(buf_str(&err) + strlen(p), ":12:10: "
	    "grant.recipe: [[grant]]: recipe ID (directory name) \"../etc\" "
	    "is not usable: it must be a valid package name ("));
	free(p);
	buf_free(&err);
}

#define RMETA	"[meta]\nbuild_script = \"b.sh\"\n[[package]]\nname = \"%s\"\n" \
		"architecture = \"noarch\"\nfiles = []\n" \
		"[upstream]\ngit = \"/g\"\ntag_pattern = \"(.*)\"\n"

static void
recipe_dir(const char *id, const char *extra)
{
	char	*d = xasprintf("%s/recipes/%s", tmpdir, id), *f, *t;
	FILE	*fp;

	assert_int_equal(mkdir(d, 0755), 0);
	f = xasprintf("%s/peipkg.toml", d);
	t = xasprintf(RMETA "%s", id, extra);
	assert_non_null(fp = fopen(f, "w"));
	fputs(t, fp);
	fclose(fp);
	free(t);
	free(f);
	free(d);
}

static void
check(const char *cfgtext, struct roster **ros, struct buf *err,
    struct buf *warn, int want)
{
	struct config	*c = load_ok(cfgtext);
	struct buf	 e = BUF_INIT;

	assert_int_equal(roster_load(c->manager.recipes_dir, RECIPE_MANAGER,
	    ros, &e), 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(config_check_roster(c, *ros, err, warn), want);
	config_free(c);
	buf_free(&e);
}

/* s with the temporary directory written as "T". */
static char *
untmp(const char *s)
{
	struct buf	 b = BUF_INIT;

	for (; *s != '\0'; s++)
		if (*s == 'T' && s[1] == '/')
			buf_adds(&b, tmpdir);
		else
			buf_addc(&b, *s);
	return buf_release(&b);
}

static void
expect(const char *got, const char *want)
{
	char	*w = untmp(want);

	if (strcmp(got, w) != 0) {
		print_error("got:\n%s\nwant:\n%s\n", got, w);
		fail();
	}
	free(w);
}

static void
test_roster_checks(void **state)
{
	struct buf	 err = BUF_INIT, warn = BUF_INIT;
	struct roster	*ros;
	char		*p;

	p = xasprintf("%s/recipes", tmpdir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	recipe_dir("signer", "[[sign]]\npath = \"usr/bin/x\"\nkey = \"tcb\"\n"
	    "[[sign]]\npath = \"usr/bin/y\"\nkey = \"other\"\n");
	recipe_dir("hook", "[watch]\ngithub_webhook = true\n");
	recipe_dir("lab", "[watch]\ngitlab_webhook = true\n");
	recipe_dir("plain", "");
	recipe_dir("broken", "[watch]\nbogus = 1\n");

	/* HTTP on, no secrets, no grants: everything fails closed. */
	check(MINIMAL "[http]\naddr = \":8080\"\n", &ros, &err, &warn, 2);
	expect(buf_str(&err),
	    "T/config.toml:11:1: http.webhook_secret_file: required: "
	    "http.addr is set and recipe \"hook\" enables github_webhook (fail "
	    "closed: webhooks are never accepted unsigned)\n"
	    "T/config.toml:11:1: http.webhook_secret_file: required (or "
	    "http.gitlab_token_file): http.addr is set and recipe \"lab\" "
	    "enables gitlab_webhook (fail closed: webhooks are never "
	    "accepted unsigned)");
	assert_int_equal(warn.len, 0);
	assert_int_equal(ros->n, 3);
	assert_int_equal(ros->nbad, 2);
	assert_string_equal(ros->bad[0].id, "broken");
	assert_string_equal(ros->bad[1].id, "signer");
	expect(ros->bad[1].errors,
	    "T/recipes/signer/peipkg.toml:10:1: sign.key: [[sign]] usr/bin/x "
	    "uses key \"tcb\" but T/config.toml has no [[grant]] for recipe "
	    "\"signer\" with sign = [\"tcb\"] (fail closed: no grant, no "
	    "signature)\n"
	    "T/recipes/signer/peipkg.toml:13:1: sign.key: [[sign]] usr/bin/y "
	    "uses key \"other\" but T/config.toml has no [[grant]] for recipe "
	    "\"signer\" with sign = [\"other\"] (fail closed: no grant, no "
	    "signature)");
	roster_free(ros);
	buf_reset(&err);

	/* One secret covers every forge; a partial grant still rejects. */
	check(MINIMAL "[http]\naddr = \":8080\"\nwebhook_secret_file = \"s\"\n"
	    "[[signing_key]]\nname = \"tcb\"\nprivate = \"k\"\n"
	    "[[signing_key]]\nname = \"other\"\nprivate = \"k\"\n"
	    "[[grant]]\nrecipe = \"signer\"\nsign = [\"tcb\"]\n"
	    "[[grant]]\nrecipe = \"broken\"\n"
	    "[[grant]]\nrecipe = \"gone\"\n", &ros, &err, &warn, 0);
	assert_int_equal(err.len, 0);
	expect(buf_str(&warn), "T/config.toml:25:1: grant.recipe: warning: "
	    "[[grant]] gone: no recipe \"gone\" in T/recipes");
	assert_int_equal(ros->nbad, 2);
	expect(ros->bad[1].errors,
	    "T/recipes/signer/peipkg.toml:13:1: sign.key: [[sign]] usr/bin/y "
	    "uses key \"other\" but T/config.toml has no [[grant]] for recipe "
	    "\"signer\" with sign = [\"other\"] (fail closed: no grant, no "
	    "signature)");
	roster_free(ros);
	buf_reset(&warn);

	/* Granted in full; webhooks without HTTP are warnings. */
	check(MINIMAL
	    "[[signing_key]]\nname = \"tcb\"\nprivate = \"k\"\n"
	    "[[signing_key]]\nname = \"other\"\nprivate = \"k\"\n"
	    "[[grant]]\nrecipe = \"signer\"\nsign = [\"other\", \"tcb\"]\n",
	    &ros, &err, &warn, 0);
	assert_int_equal(err.len, 0);
	expect(buf_str(&warn),
	    "T/recipes/hook/peipkg.toml:10:1: watch: warning: github_webhook "
	    "is enabled but http.addr is empty in T/config.toml: no webhook "
	    "server runs; the recipe is only polled\n"
	    "T/recipes/lab/peipkg.toml:10:1: watch: warning: gitlab_webhook "
	    "is enabled but http.addr is empty in T/config.toml: no webhook "
	    "server runs; the recipe is only polled");
	assert_int_equal(ros->n, 4);
	assert_int_equal(ros->nbad, 1);
	assert_non_null(roster_find(ros, "signer"));
	roster_free(ros);
	buf_free(&err);
	buf_free(&warn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_io_error),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_keys_grants),
		cmocka_unit_test(test_roster_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
