/*
 * test_repo.c: the repository documents and rules (repo.c), verify
 * (repo_verify.c), the publish/init library API (repo_publish.c), the
 * crash-safe file helpers (fsutil.c) and the rclone runner (upload.c).
 * Facts from BEHAVIOUR.md §4, §9.2, §9.5, CONSUMER.md §1.2-1.7 and the
 * golden vectors in tests/vectors (repos/, negative/).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"
#include "fsutil.h"
#include "repo.h"
#include "sign.h"
#include "upload.h"

#define FPR	"56475aa75463474c0285df5dbf2bcab7" \
		"3da651358839e9b77481b2eab107708c"

static char *
vec(const char *rel)
{
	const char	*top = getenv("top_srcdir");

	return xasprintf("%s/tests/vectors/%s", top != NULL ? top : ".", rel);
}

static void
slurp(const char *path, struct buf *out)
{
	struct buf	 err = BUF_INIT;

	buf_reset(out);
	if (read_file(path, 64 << 20, out, &err) == -1)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

static void
vec_read(const char *rel, struct buf *out)
{
	char	*p = vec(rel);

	slurp(p, out);
	free(p);
}

static char *
tmpdir(void)
{
	const char	*t = getenv("TMPDIR");
	char		*d;

	d = xasprintf("%s/test_repo.XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(d) == NULL)
		fail_msg("mkdtemp");
	return d;
}

static void
sh(const char *fmt, ...)
{
	struct buf	 b = BUF_INIT;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (system(b.data) != 0)
		fail_msg("command failed: %s", b.data);
	buf_free(&b);
}

static void
load_key(const uint8_t seed0, struct pm_key *k)
{
	uint8_t		 seed[32];
	struct buf	 err = BUF_INIT;
	int		 i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(seed0 + i);
	if (key_from_seed(seed, k, &err) == -1)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

/* ---- canonical writers ------------------------------------------------- */

static void
test_writers_init_state(void **state)
{
	struct repo_desc	 d;
	struct buf		 got = BUF_INIT, want = BUF_INIT;

	repo_desc_init(&d, "test-repo", "Test repository", FPR);
	repo_desc_write(&d, &got);
	vec_read("repos/basic/00-init/state/repo.json", &want);
	assert_string_equal(got.data, want.data);
	buf_reset(&got);
	repo_index_write(&got, "test-repo", "archive", 1,
	    "2026-05-01T00:00:00Z", NULL, 0);
	vec_read("repos/basic/00-init/state/index/archive.json", &want);
	assert_string_equal(got.data, want.data);
	repo_desc_free(&d);
	buf_free(&got);
	buf_free(&want);
}

/* Every index of every vector state re-encodes to the same bytes. */
static void
test_index_roundtrip(void **state)
{
	static const char *const docs[] = {
		"index/active.json", "index/archive.json"
	};
	struct repo_index	 ix;
	struct repo_entry	**v;
	struct buf		 raw = BUF_INIT, out = BUF_INIT, e = BUF_INIT;
	char			*cmd, *path, line[4096];
	FILE			*f;
	size_t			 i, k, n = 0;

	path = vec("repos");
	cmd = xasprintf("find '%s' -type d -name 'state*'", path);
	if ((f = popen(cmd, "r")) == NULL)
		fail_msg("popen");
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (k = 0; k < 2; k++) {
			free(path);
			path = xasprintf("%s/%s", line, docs[k]);
			slurp(path, &raw);
			if (repo_index_parse(raw.data, raw.len, docs[k], &ix,
			    &e) == -1)
				fail_msg("%s: %s", path, buf_str(&e));
			v = xcalloc(ix.npkgs + 1, sizeof(*v));
			for (i = 0; i < ix.npkgs; i++)
				v[i] = &ix.pkgs[i];
			buf_reset(&out);
			repo_index_write(&out, ix.repo, ix.kind,
			    ix.index_version, ix.generated_at, v, ix.npkgs);
			assert_string_equal(out.data, raw.data);
			free(v);
			repo_index_free(&ix);
			n++;
		}
	}
	pclose(f);
	assert_true(n >= 38);
	free(cmd);
	free(path);
	buf_free(&raw);
	buf_free(&out);
	buf_free(&e);
}

/* ---- loaders ----------------------------------------------------------- */

static void
test_desc_tolerant_read(void **state)
{
	static const char in[] =
	    "{\n  \"schema_version\": 1, \"extra\": [1, {\"x\": null}],\n"
	    "  \"repo\": {\"name\": \"r\", \"future\": true,\n"
	    "    \"signing\": {\"algorithm\": \"ed25519\", \"hsm\": \"x\",\n"
	    "      \"keys\": [\n"
	    "        {\"fingerprint\": \"" FPR "\", \"url\": \"/keys/b.pub\","
	    " \"status\": \"active\", \"note\": 1},\n"
	    "        {\"fingerprint\": \"0000000000000000000000000000000000000"
	    "000000000000000000000000000\", \"url\": \"/keys/a.pub\","
	    " \"status\": \"transitioning\","
	    " \"valid_until\": \"2027-01-01T00:00:00Z\"}]}},\n"
	    "  \"indexes\": {\"active\": {\"url\": \"/index/active.json\","
	    " \"signature_url\": \"/index/active.json.sig\", \"z\": 0},\n"
	    "    \"archive\": {\"url\": \"/index/archive.json\","
	    " \"signature_url\": \"/index/archive.json.sig\"}}}\n";
	static const char want[] =
	    "{\"schema_version\":1,\"repo\":{\"name\":\"r\",\"description\":"
	    "\"\",\"signing\":{\"algorithm\":\"ed25519\",\"keys\":["
	    "{\"fingerprint\":\"00000000000000000000000000000000000000000000"
	    "00000000000000000000\",\"url\":\"/keys/a.pub\",\"status\":"
	    "\"transitioning\",\"valid_until\":\"2027-01-01T00:00:00Z\"},"
	    "{\"fingerprint\":\"" FPR "\",\"url\":\"/keys/b.pub\",\"status\":"
	    "\"active\"}]}},\"indexes\":{\"active\":{\"url\":"
	    "\"/index/active.json\",\"signature_url\":"
	    "\"/index/active.json.sig\"},\"archive\":{\"url\":"
	    "\"/index/archive.json\",\"signature_url\":"
	    "\"/index/archive.json.sig\"}}}\n";
	struct repo_desc	 d;
	struct buf		 out = BUF_INIT, e = BUF_INIT;

	if (repo_desc_parse(in, sizeof(in) - 1, &d, &e) == -1)
		fail_msg("%s", buf_str(&e));
	assert_int_equal(repo_desc_check(&d, &e), -1);
	assert_non_null(strstr(e.data, "not strictly ascending"));
	buf_reset(&e);
	repo_desc_sort_keys(&d);
	assert_int_equal(repo_desc_check(&d, &e), 0);
	repo_desc_write(&d, &out);
	assert_string_equal(out.data, want);
	repo_desc_free(&d);
	buf_free(&out);
	buf_free(&e);
}

static void
expect_desc_error(const char *in, const char *what)
{
	struct repo_desc	 d;
	struct buf		 e = BUF_INIT;

	assert_int_equal(repo_desc_parse(in, strlen(in), &d, &e), -1);
	if (strstr(buf_str(&e), what) == NULL)
		fail_msg("\"%s\" not in \"%s\"", what, buf_str(&e));
	buf_free(&e);
}

static void
test_desc_strict_errors(void **state)
{
	expect_desc_error("{\"schema_version\":1}",
	    "member \"repo\" is missing");
	expect_desc_error("{\"schema_version\":2,\"repo\":{\"name\":\"r\","
	    "\"signing\":{\"algorithm\":\"ed25519\",\"keys\":[]}},"
	    "\"indexes\":{\"active\":{\"url\":\"a\",\"signature_url\":\"b\"},"
	    "\"archive\":{\"url\":\"a\",\"signature_url\":\"b\"}}}",
	    "schema_version is 2");
	expect_desc_error("{\"schema_version\":1,\"repo\":{\"name\":5}}",
	    "\"name\" must be a string");
	expect_desc_error("{\"schema_version\":1,\"repo\":{\"name\":\"r\","
	    "\"signing\":{\"algorithm\":\"ed25519\",\"keys\":{}}}}",
	    "\"keys\" must be an array");
	expect_desc_error("{\"schema_version\":1,\"repo\":{\"name\":\"r\","
	    "\"signing\":{\"algorithm\":\"ed25519\",\"keys\":[]}},"
	    "\"indexes\":{\"active\":{\"url\":\"a\"}}}", "signature_url");
	expect_desc_error("{\"schema_version\":1", "repo.json:");
}

static void
test_index_strict(void **state)
{
	struct repo_index	 ix;
	struct buf		 e = BUF_INIT, raw = BUF_INIT, out = BUF_INIT;
	struct repo_entry	*p;
	char			*s;

	s = "{\"schema_version\":1,\"repo\":\"r\",\"kind\":\"active\","
	    "\"index_version\":1,\"generated_at\":\"2026-01-01T00:00:00Z\","
	    "\"packages\":null}";
	assert_int_equal(repo_index_parse(s, strlen(s), "ix", &ix, &e), 0);
	assert_int_equal(ix.npkgs, 0);
	repo_index_free(&ix);
	s = "{\"schema_version\":1,\"repo\":\"r\",\"kind\":\"active\","
	    "\"index_version\":1,\"generated_at\":\"x\",\"packages\":[{"
	    "\"name\":\"a\",\"version\":\"1-1\",\"architecture\":\"noarch\","
	    "\"size_compressed\":1,\"size_installed\":2,\"url\":\"/a\"}]}";
	assert_int_equal(repo_index_parse(s, strlen(s), "ix", &ix, &e), -1);
	assert_non_null(strstr(e.data, "ix: packages[0]: member \"hash\" is "
	    "missing"));
	buf_reset(&e);
	s = "{\"schema_version\":1,\"repo\":\"r\",\"kind\":\"active\","
	    "\"index_version\":1,\"generated_at\":\"x\",\"packages\":[{"
	    "\"name\":\"a\",\"version\":\"1-1\",\"architecture\":\"noarch\","
	    "\"size_compressed\":-1,\"size_installed\":2,\"url\":\"/a\"}]}";
	assert_int_equal(repo_index_parse(s, strlen(s), "ix", &ix, &e), -1);
	assert_non_null(strstr(e.data, "size_compressed\" must be a "
	    "non-negative integer"));
	/* Unknown members anywhere are dropped when re-encoded. */
	buf_reset(&e);
	vec_read("repos/basic/01-publish-hello/state/index/active.json", &raw);
	s = xstrdup(raw.data);
	s[strlen(s) - 4] = '\0';	/* cut "}]}\n": the entry stays open */
	buf_reset(&out);
	buf_addf(&out, "%s,\"future\":{\"a\":1}}],\"x\":2}\n", s);
	free(s);
	assert_int_equal(repo_index_parse(out.data, out.len, "ix", &ix, &e),
	    0);
	p = &ix.pkgs[0];
	buf_reset(&out);
	repo_index_write(&out, ix.repo, ix.kind, ix.index_version,
	    ix.generated_at, &p, 1);
	assert_string_equal(out.data, raw.data);
	repo_index_free(&ix);
	buf_free(&e);
	buf_free(&raw);
	buf_free(&out);
}

/* ---- order and selection ----------------------------------------------- */

static struct repo_entry *
mk(const char *name, const char *version, const char *arch)
{
	struct repo_entry	*e = xcalloc(1, sizeof(*e));

	e->name = xstrdup(name);
	e->version = xstrdup(version);
	e->architecture = xstrdup(arch);
	return e;
}

static void
free_entries(struct repo_entry **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		repo_entry_free(v[i]);
		free(v[i]);
	}
}

static void
assert_order(struct repo_entry **v, size_t n, const char *want)
{
	struct buf	 got = BUF_INIT;
	size_t		 i;

	for (i = 0; i < n; i++)
		buf_addf(&got, "%s%s %s %s", i ? ", " : "", v[i]->name,
		    v[i]->version, v[i]->architecture);
	assert_string_equal(buf_str(&got), want);
	buf_free(&got);
}

/* BEHAVIOUR.md §9.5 and repos/versions (consumer comparison). */
static void
test_sort_and_active(void **state)
{
	struct repo_entry	*v[14], **act;
	struct buf		 e = BUF_INIT;
	size_t			 nact;

	v[0] = mk("hello", "0.1-1", "noarch");
	v[1] = mk("vtest", "1.0~rc1-foo-1", "noarch");
	v[2] = mk("hello", "0.2~rc1-1", "noarch");
	v[3] = mk("hello", "0.10-1", "noarch");
	v[4] = mk("bigver", "1.9223372036854775807-1", "noarch");
	v[5] = mk("hello", "1:0.0.1-1", "noarch");
	v[6] = mk("archtest", "1.0-1", "noarch");
	v[7] = mk("hello", "0.1-2", "noarch");
	v[8] = mk("rtest", "1.0-rc1-x-1", "noarch");
	v[9] = mk("hello", "0.2-1", "noarch");
	v[10] = mk("bigver", "1.99999999999999999999-1", "noarch");
	v[11] = mk("vtest", "1.0~rc1-1", "noarch");
	v[12] = mk("archtest", "2.0-1", "x86_64");
	v[13] = mk("rtest", "1.0-rc1-1", "noarch");
	assert_int_equal(repo_archive_sort(v, 14, &e), 0);
	assert_order(v, 14, "archtest 2.0-1 x86_64, archtest 1.0-1 noarch, "
	    "bigver 1.99999999999999999999-1 noarch, "
	    "bigver 1.9223372036854775807-1 noarch, "
	    "hello 1:0.0.1-1 noarch, hello 0.10-1 noarch, hello 0.2-1 noarch, "
	    "hello 0.2~rc1-1 noarch, hello 0.1-2 noarch, hello 0.1-1 noarch, "
	    "rtest 1.0-rc1-1 noarch, rtest 1.0-rc1-x-1 noarch, "
	    "vtest 1.0~rc1-1 noarch, vtest 1.0~rc1-foo-1 noarch");
	assert_int_equal(repo_active_select(v, 14, &act, &nact, &e), 0);
	assert_order(act, nact, "archtest 2.0-1 x86_64, "
	    "bigver 1.99999999999999999999-1 noarch, hello 1:0.0.1-1 noarch, "
	    "rtest 1.0-rc1-1 noarch, vtest 1.0~rc1-1 noarch");
	free(act);
	free_entries(v, 14);
	buf_free(&e);
}

static void
test_sort_equal_and_conflict(void **state)
{
	struct repo_entry	*v[3], **act;
	struct buf		 e = BUF_INIT;
	size_t			 nact;

	/* Equal by comparison, same architecture: stable, first kept. */
	v[0] = mk("a", "1.00-1", "noarch");
	v[1] = mk("a", "0.9-1", "noarch");
	v[2] = mk("a", "1.0-1", "noarch");
	assert_int_equal(repo_archive_sort(v, 3, &e), 0);
	assert_order(v, 3, "a 1.00-1 noarch, a 1.0-1 noarch, a 0.9-1 noarch");
	assert_int_equal(repo_active_select(v, 3, &act, &nact, &e), 0);
	assert_order(act, nact, "a 1.00-1 noarch");
	free(act);
	free_entries(v, 3);
	/* The same highest version for two architectures is refused. */
	v[0] = mk("archtest", "3.0-1", "noarch");
	v[1] = mk("archtest", "3.0-1", "x86_64");
	v[2] = mk("archtest", "2.0-1", "x86_64");
	assert_int_equal(repo_archive_sort(v, 3, &e), 0);
	assert_int_equal(repo_active_select(v, 3, &act, &nact, &e), -1);
	assert_non_null(strstr(e.data, "active index conflict: archtest "
	    "exists at version 3.0-1 for both architectures \"noarch\" and "
	    "\"x86_64\""));
	free_entries(v, 3);
	/* Lower versions of two architectures are fine. */
	buf_reset(&e);
	v[0] = mk("b", "1.0-1", "noarch");
	v[1] = mk("b", "1.0-1", "x86_64");
	v[2] = mk("b", "2.0-1", "x86_64");
	assert_int_equal(repo_archive_sort(v, 3, &e), 0);
	assert_int_equal(repo_active_select(v, 3, &act, &nact, &e), 0);
	assert_order(act, nact, "b 2.0-1 x86_64");
	free(act);
	free_entries(v, 3);
	/* Every version must parse. */
	v[0] = mk("badver", "1.0", "noarch");
	assert_int_equal(repo_archive_sort(v, 1, &e), -1);
	assert_non_null(strstr(e.data, "sort archive: package badver: parse "
	    "version \"1.0\""));
	free_entries(v, 1);
	buf_free(&e);
}

/* ---- generated_at, timestamps, URLs ------------------------------------ */

static void
test_generated_at(void **state)
{
	const char	*out;
	struct buf	 e = BUF_INIT;
	int		 cl;

	assert_int_equal(repo_generated_at("2026-07-03T00:00:00Z",
	    "2026-07-02T12:00:00Z", &out, &cl, &e), 0);
	assert_string_equal(out, "2026-07-03T00:00:00Z");
	assert_int_equal(cl, 1);
	assert_int_equal(repo_generated_at("2026-07-03T00:00:00Z",
	    "2026-07-03T00:00:00Z", &out, &cl, &e), 0);
	assert_string_equal(out, "2026-07-03T00:00:00Z");
	assert_int_equal(cl, 0);
	assert_int_equal(repo_generated_at("2026-07-03T00:00:00Z",
	    "2026-07-04T00:00:00Z", &out, &cl, &e), 0);
	assert_string_equal(out, "2026-07-04T00:00:00Z");
	assert_int_equal(cl, 0);
	assert_int_equal(repo_generated_at("2026-07-03T00:00:00.5Z",
	    "2026-07-03T00:00:00Z", &out, &cl, &e), 0);
	assert_string_equal(out, "2026-07-03T00:00:00.5Z");
	assert_int_equal(cl, 1);
	assert_int_equal(repo_generated_at("2026-07-03T00:00:00Z",
	    "2026-07-04T00:00:00+00:00", &out, &cl, &e), -1);
	assert_string_equal(e.data, "Timestamp must end with 'Z' for UTC (got "
	    "\"2026-07-04T00:00:00+00:00\")");
	buf_reset(&e);
	assert_int_equal(repo_timestamp_check("2026-07-04T00:00:00z", &e), -1);
	assert_int_equal(repo_timestamp_check("2026-02-30T00:00:00Z", &e), -1);
	assert_int_equal(repo_timestamp_check("2026-02-03T00:00:00.123Z", &e),
	    0);
	buf_free(&e);
}

static void
test_urls(void **state)
{
	struct buf	 e = BUF_INIT;
	char		*u, *rel;

	assert_int_equal(repo_url_render(REPO_URL_TEMPLATE, "hello",
	    "1:0.0.1-1", "noarch", "hello_1:0.0.1-1_noarch.peipkg", &u, &e),
	    0);
	assert_string_equal(u,
	    "/p/hello/1:0.0.1-1/hello_1:0.0.1-1_noarch.peipkg");
	assert_int_equal(repo_url_path(u, &rel, &e), 0);
	assert_string_equal(rel,
	    "p/hello/1:0.0.1-1/hello_1:0.0.1-1_noarch.peipkg");
	free(u);
	free(rel);
	assert_int_equal(repo_url_render("https://x/{arch}/{name}{}{version}",
	    "a", "1-1", "x86_64", "f", &u, &e), 0);
	assert_string_equal(u, "https://x/x86_64/a{}1-1");
	assert_int_equal(repo_url_path(u, &rel, &e), 0);
	assert_null(rel);
	free(u);
	assert_int_equal(repo_url_render("p/{filename}", "a", "1-1", "noarch",
	    "f", &u, &e), -1);
	assert_non_null(strstr(e.data, "neither '/'-rooted nor"));
	assert_int_equal(repo_url_path("/index/active.json", &rel, &e), -1);
	assert_int_equal(repo_url_path("/keys/x.pub", &rel, &e), -1);
	assert_int_equal(repo_url_path("/repo.json", &rel, &e), -1);
	assert_int_equal(repo_url_path("/p/../x", &rel, &e), -1);
	assert_int_equal(repo_url_path("/p//x", &rel, &e), -1);
	assert_int_equal(repo_url_path("/p/.hidden", &rel, &e), -1);
	assert_int_equal(repo_url_path("/p/a?b", &rel, &e), -1);
	assert_int_equal(repo_url_path("/p/a%20b", &rel, &e), -1);
	assert_int_equal(repo_url_path("/p/x/", &rel, &e), -1);
	buf_free(&e);
}

/* ---- consumer rules ---------------------------------------------------- */

static void
load_entry(struct repo_index *ix)
{
	struct buf	 raw = BUF_INIT, e = BUF_INIT;

	vec_read("repos/multi-package/01-publish-libfoo-set/state/index/"
	    "archive.json", &raw);
	if (repo_index_parse(raw.data, raw.len, "archive", ix, &e) == -1)
		fail_msg("%s", buf_str(&e));
	buf_free(&raw);
	buf_free(&e);
}

static void
expect_entry_issue(struct repo_entry *x, const char *what)
{
	struct buf	 e = BUF_INIT;

	assert_int_equal(repo_entry_check(x, &e), -1);
	if (strstr(buf_str(&e), what) == NULL)
		fail_msg("\"%s\" not in \"%s\"", what, buf_str(&e));
	buf_free(&e);
}

static void
test_entry_check(void **state)
{
	struct repo_index	 ix;
	struct repo_entry	*x;
	struct buf		 e = BUF_INIT;
	size_t			 i;
	char			*save;

	load_entry(&ix);
	for (i = 0; i < ix.npkgs; i++)
		assert_int_equal(repo_entry_check(&ix.pkgs[i], &e), 0);
	for (x = NULL, i = 0; i < ix.npkgs; i++)
		if (strcmp(ix.pkgs[i].name, "libfoo-dev") == 0)
			x = &ix.pkgs[i];
	assert_non_null(x);	/* libfoo-dev: two dependencies */
	assert_true(x->rel.dependencies.n >= 2);
	save = x->rel.dependencies.v[0].arch;
	x->rel.dependencies.v[0].arch = "x86_64";
	expect_entry_issue(x, "dependencies[0]");
	x->rel.dependencies.v[0].arch = save;
	save = x->rel.dependencies.v[0].name;
	x->rel.dependencies.v[0].name = "zzz";
	expect_entry_issue(x, "dependencies is not sorted");
	x->rel.dependencies.v[0].name = x->rel.dependencies.v[1].name;
	expect_entry_issue(x, "dependencies has a duplicate entry");
	x->rel.dependencies.v[0].name = save;
	save = x->rel.dependencies.v[1].constraint;
	x->rel.dependencies.v[1].constraint = "~> 1.2";
	expect_entry_issue(x, "dependencies[1]");
	x->rel.dependencies.v[1].constraint = save;
	save = x->hash;
	x->hash = "D0D358B3524883E184E7B67CAC3B1B107ECB1D83E2A415AB5A40F34375F3"
	    "AC40";
	expect_entry_issue(x, "is not 64 lowercase hex");
	x->hash = save;
	save = x->version;
	x->version = "1.0";
	expect_entry_issue(x, "version");
	x->version = save;
	save = x->build_timestamp;
	x->build_timestamp = "2026-05-06T14:00:00+02:00";
	expect_entry_issue(x, "build.timestamp");
	x->build_timestamp = save;
	save = x->url;
	x->url = "";
	expect_entry_issue(x, "url is empty");
	x->url = save;
	assert_int_equal(repo_entry_check(x, &e), 0);
	repo_index_free(&ix);
	buf_free(&e);
}

static void
test_desc_check_and_keys(void **state)
{
	struct repo_desc	 d;
	struct repo_key		 k;
	struct buf		 e = BUF_INIT;

	repo_desc_init(&d, "r", NULL, FPR);
	assert_int_equal(repo_desc_check(&d, &e), 0);
	free(d.keys[0].status);
	d.keys[0].status = xstrdup("transitioning");
	assert_int_equal(repo_desc_check(&d, &e), -1);
	assert_non_null(strstr(e.data, "needs valid_until"));
	assert_non_null(strstr(e.data, "no key has status \"active\""));
	buf_reset(&e);
	free(d.keys[0].status);
	d.keys[0].status = xstrdup("retired");
	free(d.active_url);
	d.active_url = xstrdup("/idx/active.json");
	assert_int_equal(repo_desc_check(&d, &e), -1);
	assert_non_null(strstr(e.data, "status \"retired\""));
	assert_non_null(strstr(e.data, "conventional"));
	repo_desc_free(&d);
	memset(&k, 0, sizeof(k));
	k.fingerprint = FPR;
	k.url = "/keys/" FPR ".pub";
	k.status = "transitioning";
	k.valid_until = "2026-06-01T00:00:00Z";
	assert_int_equal(repo_key_usable(&k, 1780271999, 999999999), 1);
	assert_int_equal(repo_key_usable(&k, 1780272000, 0), 1);
	assert_int_equal(repo_key_usable(&k, 1780272000, 1), 0);
	k.status = "revoked";
	assert_int_equal(repo_key_usable(&k, 0, 0), 0);
	k.status = "active";
	assert_int_equal(repo_key_usable(&k, 1 << 30, 0), 1);
	buf_free(&e);
}

/* ---- verify ------------------------------------------------------------ */

static int
verify_dir(const char *dir, int mode, struct buf *issues)
{
	struct repo_verify_opts	 o;
	struct buf		 w = BUF_INIT, e = BUF_INIT;
	int			 n;

	memset(&o, 0, sizeof(o));
	o.state = dir;
	o.mode = mode;
	n = repo_verify(&o, issues, &w, &e);
	if (n == -1)
		fail_msg("%s: %s", dir, buf_str(&e));
	buf_free(&w);
	buf_free(&e);
	return n;
}

static void
test_verify_vectors(void **state)
{
	struct buf	 issues = BUF_INIT;
	char		*root, *cmd, line[4096];
	FILE		*f;
	int		 n = 0;

	root = vec("repos");
	cmd = xasprintf("find '%s' -type d -name 'state*'", root);
	if ((f = popen(cmd, "r")) == NULL)
		fail_msg("popen");
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (verify_dir(line, REPO_VERIFY_BOTH, &issues) != 0)
			fail_msg("%s: %s", line, buf_str(&issues));
		n++;
	}
	pclose(f);
	assert_true(n >= 19);
	free(root);
	free(cmd);
	buf_free(&issues);
}

static void
expect_verify(const char *rel, int mode, const char *what)
{
	struct buf	 issues = BUF_INIT;
	char		*dir = vec(rel);

	assert_true(verify_dir(dir, mode, &issues) > 0);
	if (strstr(buf_str(&issues), what) == NULL)
		fail_msg("%s: \"%s\" not in \"%s\"", rel, what,
		    buf_str(&issues));
	free(dir);
	buf_free(&issues);
}

static void
test_verify_negative(void **state)
{
	expect_verify("negative/repo-tampered-index/state",
	    REPO_VERIFY_METADATA, "index/active.json.sig: signature does not "
	    "verify");
	expect_verify("negative/repo-sig-padded-base64/state",
	    REPO_VERIFY_METADATA, "repo.json.sig: signature envelope: "
	    "signature is not 64 bytes of unpadded standard base64");
	expect_verify("negative/repo-index-name-mismatch/state",
	    REPO_VERIFY_METADATA, "index/active.json: names repository "
	    "\"other-repo\" but the descriptor names \"test-repo\"");
	expect_verify("negative/repo-active-duplicate-name/state",
	    REPO_VERIFY_METADATA, "index/active.json: duplicate package "
	    "\"hello\"");
	expect_verify("negative/repo-invalid-entry-from-reference/state",
	    REPO_VERIFY_METADATA, "package poison 0.1-1 noarch: "
	    "dependencies[0]: dependency arch \"x86_64\"");
	expect_verify("negative/repo-package-hash-mismatch/state",
	    REPO_VERIFY_BOTH, "hash mismatch: "
	    "p/hello/0.1-1/hello_0.1-1_noarch.peipkg computed "
	    "f6b1170f3b333cb3ebf2c06198fff14878d282b7a2e257093f0f85dc1e638a17"
	    ", index claimed "
	    "d0d358b3524883e184e7b67cac3b1b107ecb1d83e2a415ab5a40f34375f3ac40");
	expect_verify("negative/repo-key-switch-in-one-step/new",
	    REPO_VERIFY_HASHES, "package check: "
	    "p/hello/0.1-1/hello_0.1-1_noarch.peipkg: signing key " FPR
	    " is not in the trust set");
}

/* ---- publish and init through the library ------------------------------ */

static int
trees_equal(const char *a, const char *b)
{
	char	*cmd = xasprintf("diff -r '%s' '%s' >/dev/null", a, b);
	int	 rc = system(cmd);

	free(cmd);
	return rc == 0;
}

static void
test_publish_api(void **state)
{
	struct repo_publish_opts	 o;
	struct repo_publish_result	 r;
	struct pm_key			 good, other;
	struct signer			*sg, *so;
	struct buf			 e = BUF_INIT;
	char				*t, *s, *prev, *nd;

	load_key(0, &good);
	load_key(0x20, &other);
	sg = signer_local_new(&good);
	so = signer_local_new(&other);
	t = tmpdir();
	s = xasprintf("%s/S", t);
	nd = xasprintf("%s/new", t);
	prev = vec("repos/monotonic/02-publish-empty/state");
	sh("cp -a '%s' '%s' && chmod -R u+w '%s' && mkdir '%s'", prev, s, s,
	    nd);
	memset(&o, 0, sizeof(o));
	o.state = s;
	o.new_dir = nd;
	o.timestamp = "2026-07-04T00:00:00Z";
	/* A signer whose key repo.json does not list: refused, no change. */
	o.signer = so;
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_non_null(strstr(e.data, "the signing key 24f6ed6acbfe1009c030d7"
	    "ca567c33ca4830911498236b5561a6c82abec5de28 is not an active key "
	    "of repository \"mono-repo\""));
	assert_true(trees_equal(s, prev));
	repo_publish_result_free(&r);
	/* An earlier timestamp is clamped and reported. */
	buf_reset(&e);
	o.signer = sg;
	o.timestamp = "2026-07-02T12:00:00Z";
	free(prev);
	prev = vec("repos/monotonic/03-earlier-timestamp/new");
	sh("cp '%s/hello_0.2-1_noarch.peipkg' '%s'", prev, nd);
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	assert_int_equal(r.clamped, 1);
	assert_string_equal(r.generated_at, "2026-07-03T00:00:00Z");
	assert_string_equal(r.requested_at, "2026-07-02T12:00:00Z");
	assert_int_equal(r.index_version, 4);
	assert_int_equal(r.nadded, 1);
	assert_string_equal(r.added[0], "hello_0.2-1_noarch.peipkg");
	assert_int_equal(r.nnew_paths, 3);
	assert_string_equal(r.new_paths[0],
	    "p/hello/0.2-1/hello_0.2-1_noarch.peipkg");
	assert_string_equal(r.new_paths[1], "p/hello/0.2-1/manifest.json");
	free(prev);
	prev = vec("repos/monotonic/03-earlier-timestamp/state-if-clamped");
	assert_true(trees_equal(s, prev));
	repo_publish_result_free(&r);
	/* The same bytes again: skipped, not an error (a staging retry). */
	o.timestamp = "2026-07-05T00:00:00Z";
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	assert_int_equal(r.nadded, 0);
	assert_int_equal(r.nskipped, 1);
	assert_int_equal(r.index_version, 5);
	assert_non_null(strstr(r.warnings.data, "already published with the "
	    "same bytes"));
	repo_publish_result_free(&r);
	/* A package the consumer rejects is named in `rejected`. */
	free(prev);
	prev = vec("repos/rejections/05-consumer-invalid-package/new");
	sh("rm '%s'/* && cp '%s/poison_0.1-1_noarch.peipkg' '%s'", nd, prev,
	    nd);
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_int_equal(r.nrejected, 1);
	assert_string_equal(r.rejected[0], "poison_0.1-1_noarch.peipkg");
	repo_publish_result_free(&r);
	/* Both sides of an architecture tie are named in `rejected`. */
	free(prev);
	prev = vec("repos/rejections/03-arch-conflict/new");
	sh("rm '%s'/* && cp '%s'/*.peipkg '%s'", nd, prev, nd);
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_int_equal(r.nrejected, 2);
	assert_string_equal(r.rejected[0], "archtest_3.0-1_noarch.peipkg");
	assert_string_equal(r.rejected[1], "archtest_3.0-1_x86_64.peipkg");
	repo_publish_result_free(&r);
	/* A state rolled back on disk is refused with a floor. */
	buf_reset(&e);
	sh("rm '%s'/*", nd);
	o.min_index_version = 9;
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_non_null(strstr(e.data, "rolled back"));
	repo_publish_result_free(&r);
	sh("rm -rf '%s'", t);
	signer_local_free(sg);
	signer_local_free(so);
	key_free(&good);
	key_free(&other);
	free(prev);
	free(s);
	free(nd);
	free(t);
	buf_free(&e);
}

/* Rebuild, a custom URL template, --in/--out, verify by a flat dir. */
static void
test_publish_modes(void **state)
{
	struct repo_publish_opts	 o;
	struct repo_publish_result	 r;
	struct repo_state		 st;
	struct repo_verify_opts		 vo;
	struct pm_key			 key;
	struct signer			*sg;
	struct buf			 e = BUF_INIT, iss = BUF_INIT;
	struct buf			 w = BUF_INIT;
	char				*t, *s, *all, *v02, *v01, *out;
	size_t				 i;

	load_key(0, &key);
	sg = signer_local_new(&key);
	t = tmpdir();
	s = xasprintf("%s/S", t);
	all = xasprintf("%s/all", t);
	out = xasprintf("%s/out/S2", t);
	v02 = vec("repos/multi-package/02-publish-globs-and-hello/state");
	v01 = vec("repos/multi-package");
	sh("cp -a '%s' '%s' && chmod -R u+w '%s' && mkdir '%s' && "
	    "cp '%s'/0[12]-*/new/*.peipkg '%s'", v02, s, s, all, v01, all);
	/* A tampered archive stops an incremental publish ... */
	sh("echo >>'%s/index/archive.json'", s);
	memset(&o, 0, sizeof(o));
	o.state = s;
	o.new_dir = all;
	o.timestamp = "2026-06-04T00:00:00Z";
	o.signer = sg;
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_non_null(strstr(e.data, "index/archive.json.sig: signature does "
	    "not verify"));
	repo_publish_result_free(&r);
	/* ... while a rebuild recovers, with the same entries as before. */
	o.rebuild = 1;
	o.all_packages_dir = all;
	o.new_dir = NULL;
	buf_reset(&e);
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	assert_int_equal(r.nadded, 10);
	assert_int_equal(r.index_version, 4);
	assert_non_null(strstr(r.warnings.data, "ignored by the rebuild"));
	repo_publish_result_free(&r);
	sh("for f in active.json archive.json; do sed 's/\"index_version\":4,"
	    "\"generated_at\":\"2026-06-04T00:00:00Z\"/\"index_version\":3,"
	    "\"generated_at\":\"2026-06-03T00:00:00Z\"/' '%s/index/'$f | "
	    "cmp - '%s/index/'$f; done", s, v02);
	assert_int_equal(verify_dir(s, REPO_VERIFY_BOTH, &iss), 0);
	/* --in A --out B: B is a new state, A stays as it was. */
	o.rebuild = 0;
	o.in = s;
	o.state = out;
	o.new_dir = t;		/* no .peipkg directly in it */
	o.timestamp = "2026-06-05T00:00:00Z";
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	assert_int_equal(r.index_version, 5);
	repo_publish_result_free(&r);
	assert_int_equal(verify_dir(out, REPO_VERIFY_BOTH, &iss), 0);
	assert_int_equal(repo_state_load(s, &st, &e), 0);
	assert_int_equal(st.archive.index_version, 4);
	repo_state_free(&st);
	/* A second publish into the now non-empty B from A is refused. */
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_non_null(strstr(e.data, "--out must be --in, a new path or an "
	    "empty directory"));
	repo_publish_result_free(&r);
	/* A custom template decides where the package is stored. */
	o.in = NULL;
	o.state = s;
	o.url_template = "/pool/{arch}/{name}-{version}.peipkg";
	o.new_dir = all;
	sh("rm '%s'/* && cp '%s/../versions/02-publish-hello-versions/new/"
	    "hello_0.1-2_noarch.peipkg' '%s'", all, v01, all);
	o.timestamp = "2026-06-06T00:00:00Z";
	buf_reset(&e);
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	assert_string_equal(r.new_paths[0], "pool/noarch/hello-0.1-2.peipkg");
	assert_string_equal(r.new_paths[1], "pool/noarch/manifest.json");
	repo_publish_result_free(&r);
	sh("grep -q '\"url\":\"/pool/noarch/hello-0.1-2.peipkg\"' "
	    "'%s/index/archive.json'", s);
	assert_int_equal(verify_dir(s, REPO_VERIFY_BOTH, &iss), 0);
	/* hashes mode over a flat directory (the reference's layout). */
	memset(&vo, 0, sizeof(vo));
	vo.state = s;
	vo.mode = REPO_VERIFY_HASHES;
	vo.all_packages_dir = all;
	assert_int_equal(repo_verify(&vo, &iss, &w, &e), 10);
	assert_non_null(strstr(iss.data, "hash check: read "
	    "globs-conf_0.9-3_noarch.peipkg: No such file or directory"));
	sh("cp '%s'/0[12]-*/new/*.peipkg '%s'", v01, all);
	buf_reset(&iss);
	assert_int_equal(repo_verify(&vo, &iss, &w, &e), 0);
	for (i = 0; i < 1; i++)
		sh("rm -rf '%s'", t);
	signer_local_free(sg);
	key_free(&key);
	free(t);
	free(s);
	free(all);
	free(out);
	free(v01);
	free(v02);
	buf_free(&e);
	buf_free(&iss);
	buf_free(&w);
}

/* Write `d` as the state's repo.json and sign it with `s` (an operator's
 * manual rotation step). */
static void
put_desc(const char *state, const struct repo_desc *d, struct signer *s)
{
	struct buf	 doc = BUF_INIT, sig = BUF_INIT, e = BUF_INIT;
	uint8_t		 dg[32];
	char		*p;
	FILE		*f;

	repo_desc_write(d, &doc);
	sha256(doc.data, doc.len, dg);
	if (sign_envelope(s, SIGN_INDEX, "repo.json", dg, &sig, &e) == -1)
		fail_msg("%s", buf_str(&e));
	p = xasprintf("%s/repo.json", state);
	assert_non_null(f = fopen(p, "w"));
	fwrite(doc.data, 1, doc.len, f);
	fclose(f);
	free(p);
	p = xasprintf("%s/repo.json.sig", state);
	assert_non_null(f = fopen(p, "w"));
	fwrite(sig.data, 1, sig.len, f);
	fclose(f);
	free(p);
	buf_free(&doc);
	buf_free(&sig);
	buf_free(&e);
}

/* Two-step key rotation (CONSUMER.md §1.5). */
static void
test_rotation(void **state)
{
	struct repo_publish_opts	 o;
	struct repo_publish_result	 r;
	struct repo_state		 st;
	struct pm_key			 k1, k2;
	struct signer			*s1, *s2;
	struct buf			 e = BUF_INIT, pem = BUF_INIT;
	struct buf			 iss = BUF_INIT;
	char				*t, *s, *nd, *src, *p;
	FILE				*f;

	load_key(0, &k1);
	load_key(0x20, &k2);
	s1 = signer_local_new(&k1);
	s2 = signer_local_new(&k2);
	t = tmpdir();
	s = xasprintf("%s/S", t);
	nd = xasprintf("%s/new", t);
	src = vec("repos/basic/01-publish-hello/state");
	sh("cp -a '%s' '%s' && chmod -R u+w '%s' && mkdir '%s'", src, s, s,
	    nd);
	assert_int_equal(repo_state_load(s, &st, &e), 0);
	/* Step 1: list the new key (active), the old one transitioning. */
	st.desc.keys = xreallocarray(st.desc.keys, 2, sizeof(*st.desc.keys));
	st.desc.nkeys = 2;
	st.desc.keys[1].fingerprint = xstrdup(k2.fpr);
	st.desc.keys[1].url = xasprintf("/keys/%s.pub", k2.fpr);
	st.desc.keys[1].status = xstrdup("active");
	st.desc.keys[1].valid_until = xstrdup("");
	free(st.desc.keys[0].status);
	st.desc.keys[0].status = xstrdup("transitioning");
	free(st.desc.keys[0].valid_until);
	st.desc.keys[0].valid_until = xstrdup("2099-01-01T00:00:00Z");
	put_desc(s, &st.desc, s1);	/* unsorted on purpose */
	pubkey_pem(k2.pub, &pem);
	p = xasprintf("%s/keys/%s.pub", s, k2.fpr);
	assert_non_null(f = fopen(p, "w"));
	fwrite(pem.data, 1, pem.len, f);
	fclose(f);
	free(p);
	memset(&o, 0, sizeof(o));
	o.state = s;
	o.new_dir = nd;
	o.timestamp = "2026-05-03T00:00:00Z";
	o.signer = s1;
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	repo_publish_result_free(&r);
	assert_int_equal(verify_dir(s, REPO_VERIFY_BOTH, &iss), 0);
	/* The keys were sorted by fingerprint when re-encoded. */
	sh("grep -q '\"keys\":\\[{\"fingerprint\":\"%s' '%s/repo.json'",
	    k2.fpr, s);
	/* Step 2: sign with the new key; the old package still verifies. */
	o.signer = s2;
	o.timestamp = "2026-05-04T00:00:00Z";
	if (repo_publish(&o, &r, &e) == -1)
		fail_msg("%s", buf_str(&e));
	repo_publish_result_free(&r);
	assert_int_equal(verify_dir(s, REPO_VERIFY_BOTH, &iss), 0);
	/* Revoked: the old key may no longer sign. */
	free(st.desc.keys[0].status);
	st.desc.keys[0].status = xstrdup("revoked");
	repo_desc_sort_keys(&st.desc);
	put_desc(s, &st.desc, s2);
	o.signer = s1;
	o.timestamp = "2026-05-05T00:00:00Z";
	assert_int_equal(repo_publish(&o, &r, &e), -1);
	assert_non_null(strstr(e.data, "is not an active key"));
	repo_publish_result_free(&r);
	repo_state_free(&st);
	sh("rm -rf '%s'", t);
	signer_local_free(s1);
	signer_local_free(s2);
	key_free(&k1);
	key_free(&k2);
	free(t);
	free(s);
	free(nd);
	free(src);
	buf_free(&e);
	buf_free(&pem);
	buf_free(&iss);
}

static void
test_init_api(void **state)
{
	struct repo_init_opts	 o;
	struct pm_key		 good, other;
	struct signer		*sg, *so;
	struct buf		 e = BUF_INIT;
	char			*t, *s, *want;

	load_key(0, &good);
	load_key(0x20, &other);
	sg = signer_local_new(&good);
	so = signer_local_new(&other);
	t = tmpdir();
	s = xasprintf("%s/deep/S", t);
	memset(&o, 0, sizeof(o));
	o.state = s;
	o.name = "test-repo";
	o.description = "Test repository";
	o.timestamp = "2026-05-01T00:00:00Z";
	o.pub = good.pub;
	o.signer = so;		/* signs with a key other than `pub` */
	assert_int_equal(repo_init(&o, &e), -1);
	assert_non_null(strstr(e.data, "is not an active key"));
	assert_int_equal(access(s, F_OK), -1);
	buf_reset(&e);
	o.signer = sg;
	if (repo_init(&o, &e) == -1)
		fail_msg("%s", buf_str(&e));
	want = vec("repos/basic/00-init/state");
	assert_true(trees_equal(s, want));
	assert_int_equal(repo_init(&o, &e), -1);
	assert_non_null(strstr(e.data, "is not empty (init refuses"));
	sh("rm -rf '%s'", t);
	signer_local_free(sg);
	signer_local_free(so);
	key_free(&good);
	key_free(&other);
	free(want);
	free(s);
	free(t);
	buf_free(&e);
}

/* ---- fsutil ------------------------------------------------------------ */

static int
skip_b(void *arg, const char *rel, int is_dir)
{
	(*(int *)arg)++;
	return strcmp(rel, "d/b") == 0;
}

static void
test_fsutil(void **state)
{
	struct fs_dir		 d, src, dst;
	struct fs_switch	 sw;
	struct stat		 a, b;
	struct buf		 e = BUF_INIT, got = BUF_INIT;
	char			*t, *p, *q;
	size_t			 ndirs = 0;
	int			 seen = 0;

	t = tmpdir();
	assert_int_equal(fs_dir_open(&d, AT_FDCWD, t, t, &e), 0);
	assert_int_equal(fs_write_file(&d, "f", "hello", 5, NULL, &e), 0);
	p = xasprintf("%s/f", t);
	slurp(p, &got);
	assert_string_equal(got.data, "hello");
	sh("test $(ls -A '%s' | wc -l) -eq 1", t);	/* no temp left */
	sh("mkdir -p '%s/src/d' && echo a >'%s/src/d/a' && echo b "
	    ">'%s/src/d/b' && ln -s a '%s/src/d/l' && mkdir '%s/dst'", t, t,
	    t, t, t);
	q = xasprintf("%s/src", t);
	assert_int_equal(fs_dir_open(&src, AT_FDCWD, q, q, &e), 0);
	free(q);
	q = xasprintf("%s/dst", t);
	assert_int_equal(fs_dir_open(&dst, AT_FDCWD, q, q, &e), 0);
	assert_int_equal(fs_link_tree(&src, &dst, skip_b, &seen, &ndirs, &e),
	    0);
	assert_int_equal(ndirs, 1);
	assert_int_equal(seen, 4);
	free(p);
	p = xasprintf("%s/src/d/a", t);
	free(q);
	q = xasprintf("%s/dst/d/a", t);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(stat(q, &b), 0);
	assert_true(a.st_ino == b.st_ino);	/* a hard link */
	free(q);
	q = xasprintf("%s/dst/d/b", t);
	assert_int_equal(access(q, F_OK), -1);
	free(q);
	q = xasprintf("%s/dst/d/l", t);
	assert_int_equal(lstat(q, &b), 0);
	assert_true(S_ISLNK(b.st_mode));
	/* A switch: new tree swapped in, nothing left next to it. */
	free(q);
	q = xasprintf("%s/dst", t);
	assert_int_equal(fs_switch_open(&sw, q, NULL, &e), 0);
	assert_int_equal(sw.exists, 1);
	assert_int_equal(fs_switch_begin(&sw, &e), 0);
	assert_int_equal(fs_write_file(&sw.tree, "new", "x", 1, NULL, &e), 0);
	assert_int_equal(fs_switch_commit(&sw, &e), 0);
	fs_switch_close(&sw);
	sh("test -f '%s/dst/new' && ! test -e '%s/dst/d'", t, t);
	sh("test \"$(ls -A '%s' | tr '\\n' ' ')\" = '.dst.lock dst f src '", t);
	/* An abandoned switch leaves the target alone and no tree behind. */
	assert_int_equal(fs_switch_open(&sw, q, NULL, &e), 0);
	assert_int_equal(fs_switch_begin(&sw, &e), 0);
	fs_switch_close(&sw);
	sh("test \"$(ls -A '%s' | tr '\\n' ' ')\" = '.dst.lock dst f src '", t);
	sh("test -f '%s/dst/new'", t);
	fs_dir_close(&d);
	fs_dir_close(&src);
	fs_dir_close(&dst);
	sh("rm -rf '%s'", t);
	free(p);
	free(q);
	free(t);
	buf_free(&e);
	buf_free(&got);
}

/* ---- upload ------------------------------------------------------------ */

static void
test_upload_exec(void **state)
{
	char *const	 ok[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
			    NULL };
	char *const	 hang[] = { "sleep", "30", NULL };
	char *const	 missing[] = { "/nonexistent/rclone", NULL };
	struct buf	 out = BUF_INIT, e = BUF_INIT;
	int		 st;

	st = upload_exec(ok, 0, &out, &e);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	assert_string_equal(out.data, "out\nerr\n");
	buf_reset(&out);
	st = upload_exec(hang, 1, &out, &e);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	buf_reset(&out);
	st = upload_exec(missing, 0, &out, &e);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	assert_string_equal(upload_phase_name(UPLOAD_INDEXES), "indexes");
	buf_free(&out);
	buf_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writers_init_state),
		cmocka_unit_test(test_index_roundtrip),
		cmocka_unit_test(test_desc_tolerant_read),
		cmocka_unit_test(test_desc_strict_errors),
		cmocka_unit_test(test_index_strict),
		cmocka_unit_test(test_sort_and_active),
		cmocka_unit_test(test_sort_equal_and_conflict),
		cmocka_unit_test(test_generated_at),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_entry_check),
		cmocka_unit_test(test_desc_check_and_keys),
		cmocka_unit_test(test_verify_vectors),
		cmocka_unit_test(test_verify_negative),
		cmocka_unit_test(test_publish_api),
		cmocka_unit_test(test_publish_modes),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_init_api),
		cmocka_unit_test(test_fsutil),
		cmocka_unit_test(test_upload_exec),
	};

	crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
