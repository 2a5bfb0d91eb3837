/*
 * test_recipe.c: recipe decoding and validation (official recipes,
 * the vector recipes, every rule with its exact message), both modes,
 * and the roster of recipes_dir.
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
#include "recipe.h"
#include "tagpattern.h"

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL ? s : ".";
}

static struct recipe *
load(const char *rel, const char *id, enum recipe_mode mode, struct buf *err)
{
	char		*p = xasprintf("%s/%s", srcdir(), rel);
	struct recipe	*r = recipe_load(p, id, mode, err);

	free(p);
	return r;
}

static struct recipe *
parse_ok(const char *text, enum recipe_mode mode)
{
	struct buf	 err = BUF_INIT;
	struct recipe	*r;

	r = recipe_parse(text, strlen(text), "r.toml", "rid", mode, &err);
	if (r == NULL)
		fail_msg("unexpected errors:\n%s", buf_str(&err));
	buf_free(&err);
	return r;
}

/* The recipe fails with exactly these errors (newline-separated). */
static void
parse_bad(const char *text, enum recipe_mode mode, const char *want)
{
	struct buf	 err = BUF_INIT;

	if (recipe_parse(text, strlen(text), "r.toml", "rid", mode, &err) !=
	    NULL)
		fail_msg("accepted: %s", text);
	if (strcmp(buf_str(&err), want) != 0) {
		print_error("got:\n%s\nwant:\n%s\n", buf_str(&err), want);
		fail();
	}
	buf_free(&err);
}

/*
 * The recipe fails; line i of the report starts with want[i] (the
 * rest is the identity checker's own wording) and contains has[i].
 */
static void
parse_bad_lines(const char *text, enum recipe_mode mode,
    const char *const *want, const char *const *has, size_t n)
{
	struct buf	 err = BUF_INIT;
	char		*copy, *line, *save = NULL;
	size_t		 i = 0;

	if (recipe_parse(text, strlen(text), "r.toml", "rid", mode, &err) !=
	    NULL)
		fail_msg("accepted: %s", text);
	copy = xstrdup(buf_str(&err));
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		if (i >= n || !str_has_prefix(line, want[i]) ||
		    strstr(line, has[i]) == NULL) {
			print_error("line %zu: %s\nwant prefix: %s\n"
			    "containing: %s\n", i, line, i < n ? want[i] : "",
			    i < n ? has[i] : "");
			fail();
		}
	}
	assert_int_equal(i, n);
	free(copy);
	buf_free(&err);
}

#define META	"[meta]\nbuild_script = \"build.sh\"\n"
#define PKG	"[[package]]\nname = \"foo\"\narchitecture = \"noarch\"\n" \
		"files = []\n"

static const char *const official[] = {
	"busybox", "figlet", "fsbase", "hello", "kernel", "live-boot",
	"loregd", "peiosutils", "peipkg", "prelude"
};

static void
test_official(void **state)
{
	struct buf	 err = BUF_INIT;
	struct recipe	*r;
	char		*rel;
	size_t		 i;

	for (i = 0; i < sizeof(official) / sizeof(official[0]); i++) {
		rel = xasprintf("tests/data/recipes-examples/%s/peipkg.toml",
		    official[i]);
		r = load(rel, official[i], RECIPE_MANAGER, &err);
		if (r == NULL)
			fail_msg("%s: %s", official[i], buf_str(&err));
		assert_true(r->watched);
		assert_int_equal(r->poll_interval, DURATION_H);
		assert_string_equal(r->build_script, "build.sh");
		assert_string_equal(r->pkgs[0].name, official[i]);
		recipe_free(r);
		r = load(rel, official[i], RECIPE_BUILD, &err);
		assert_non_null(r);
		assert_false(r->watched);
		assert_null(r->tag_pattern);
		recipe_free(r);
		free(rel);
	}
	buf_free(&err);
}

static void
test_official_fields(void **state)
{
	struct buf	 err = BUF_INIT;
	struct recipe	*r;

	r = load("tests/data/recipes-examples/busybox/peipkg.toml", "busybox",
	    RECIPE_MANAGER, &err);
	assert_non_null(r);
	assert_string_equal(r->id, "busybox");
	assert_string_equal(r->git, "https://git.busybox.net/busybox");
	assert_true(tagpattern_named(r->tag_pattern));
	assert_string_equal(r->min_version, "1.37.0");
	assert_int_equal(r->peios_revision, 1);
	assert_string_equal(r->license, "GPL-2.0-only");
	assert_string_equal(r->pkgs[0].architecture, "x86_64");
	assert_int_equal(r->pkgs[0].nfiles, 1);
	assert_string_equal(r->pkgs[0].files[0], "usr/bin/**");
	assert_false(recipe_has_webhook(r));
	recipe_free(r);

	r = load("tests/data/recipes-examples/prelude/peipkg.toml", "prelude",
	    RECIPE_MANAGER, &err);
	assert_non_null(r);
	assert_int_equal(r->peios_revision, 4);
	assert_int_equal(r->nsigns, 2);
	assert_string_equal(r->signs[0].path, "boot/initramfs/init");
	assert_string_equal(r->signs[1].path, "usr/bin/seed-sd");
	assert_string_equal(r->signs[1].key, "tcb");
	assert_true(str_has_suffix(r->path, "prelude/peipkg.toml"));
	assert_true(str_has_suffix(r->dir, "recipes-examples/prelude"));
	recipe_free(r);

	r = load("tests/data/recipes-examples/hello/peipkg.toml", "hello",
	    RECIPE_MANAGER, &err);
	assert_non_null(r);
	assert_true(r->submodules);
	assert_string_equal(r->min_version, "2.12");
	recipe_free(r);
	assert_int_equal(err.len, 0);
	buf_free(&err);
}

static void
test_vectors_ok(void **state)
{
	static const char *const ok[] = {
		"envprobe-unsigned", "fsbase-dirs", "glob-semantics",
		"hello-noarch", "libfoo-multi", "err-build-fails", "err-orphan",
		"err-overlap", "err-payload-validation", "err-timestamp-offset",
		"err-fractional-timestamp"
	};
	struct buf	 err = BUF_INIT;
	struct recipe	*r;
	char		*rel;
	size_t		 i;
	int		 mode;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		rel = xasprintf("tests/vectors/recipes/%s/recipe/peipkg.toml",
		    ok[i]);
		for (mode = RECIPE_BUILD; mode <= RECIPE_MANAGER; mode++) {
			r = load(rel, ok[i], (enum recipe_mode)mode, &err);
			if (r == NULL)
				fail_msg("%s: %s", ok[i], buf_str(&err));
			recipe_free(r);
		}
		free(rel);
	}
	r = load("tests/vectors/recipes/libfoo-multi/recipe/peipkg.toml",
	    "libfoo", RECIPE_MANAGER, &err);
	assert_int_equal(r->npkgs, 4);
	assert_int_equal(r->peios_revision, 1);	/* absent: 1 */
	assert_string_equal(r->source, "https://example.org/libfoo.git");
	assert_string_equal(r->pkgs[1].deps[0].name, "libfoo");
	assert_true(r->pkgs[1].deps[0].same_build);
	assert_string_equal(r->pkgs[0].deps[0].constraint, ">= 2.38");
	assert_string_equal(r->pkgs[3].deps[1].arch, "any");
	assert_string_equal(r->pkgs[3].provides[0].version, "1.2.3-1");
	assert_string_equal(r->pkgs[3].replaces[0].constraint, "< 1.0");
	assert_string_equal(r->pkgs[3].conflicts[0].name, "foo-utils");
	assert_true(r->pkgs[2].optdeps[0].same_build);
	assert_string_equal(r->pkgs[2].side_effects[0], "man-db");
	assert_non_null(recipe_package(r, "libfoo-doc"));
	assert_null(recipe_package(r, "libfoo-nope"));
	recipe_free(r);
	buf_free(&err);
}

/* Every must_name string of a vector appears in the report. */
static void
vector_err(const char *name, const char *const *must, size_t n)
{
	struct buf	 err = BUF_INIT;
	char		*rel;
	size_t		 i;
	int		 mode;

	rel = xasprintf("tests/vectors/recipes/%s/recipe/peipkg.toml", name);
	for (mode = RECIPE_BUILD; mode <= RECIPE_MANAGER; mode++) {
		buf_reset(&err);
		assert_null(load(rel, name, (enum recipe_mode)mode, &err));
		for (i = 0; i < n; i++)
			if (strstr(buf_str(&err), must[i]) == NULL)
				fail_msg("%s: \"%s\" not in:\n%s", name, must[i],
				    buf_str(&err));
	}
	free(rel);
	buf_free(&err);
}

static void
test_vectors_err(void **state)
{
	static const char *const unknown[] = {
		"peipkg.toml:3:1: meta.homepag: unknown key",
		"peipkg.toml:13:34: package.dependencies.constrait: unknown key",
	};
	static const char *const same[] = {
		"lonely", "lonely-data", "same_build", "peipkg.toml:9:17: ",
		"same_build set but no sibling [[package]] named \"lonely-data\""
	};
	static const char *const consumer[] = {
		"libc", "\"x86_64\"", "\"systemd-reload\"",
		"peipkg.toml:9:17: package.dependencies.arch: ",
		"peipkg.toml:10:16: package.side_effects: "
	};

	vector_err("err-unknown-meta-key", unknown, 2);
	vector_err("err-same-build-no-sibling", same, 5);
	vector_err("err-consumer-manifest-rules", consumer, 5);
}

static void
test_packer_rules(void **state)
{
	parse_bad("", RECIPE_BUILD,
	    "r.toml:1:1: meta.build_script: [meta].build_script is required\n"
	    "r.toml:1:1: package: recipe must declare at least one "
	    "[[package]]");
	parse_bad(META "[[package]]\nfiles = []\n"
	    "[[package]]\nname = \"foo\"\nfiles = []\n"
	    "dependencies = [{ constraint = \">= 1\" }]\n"
	    "[[package]]\nname = \"foo\"\narchitecture = \"noarch\"\n"
	    "files = []\n"
	    "[[sign]]\nkey = \"k\"\n[[sign]]\npath = \"usr/bin/x\"\n",
	    RECIPE_BUILD,
	    "r.toml:3:1: package.name: [[package]] #0: name is required\n"
	    "r.toml:5:1: package.architecture: [[package]] foo: architecture "
	    "is required\n"
	    "r.toml:8:17: package.dependencies.name: [[package]] foo: "
	    "dependencies[0]: name is required\n"
	    "r.toml:9:1: package.name: [[package]] foo: duplicate name\n"
	    "r.toml:13:1: sign.path: [[sign]] #0: path is required\n"
	    "r.toml:15:1: sign.key: [[sign]] usr/bin/x: key is required");
}

static void
test_consumer_rules(void **state)
{
	static const char *const want[] = {
		"r.toml:8:7: meta.x: unknown table",
		"r.toml:1:1: meta.build_script: [meta].build_script is "
		    "required",
		"r.toml:2:12: meta.homepage: ",
		"r.toml:3:1: package.name: [[package]] Foo: ",
		"r.toml:3:1: package.architecture: [[package]] Foo: ",
		"r.toml:3:1: package.description: [[package]] Foo: ",
	};
	static const char *const has[] = {
		"", "", "\"ftp://x.org\"", "\"Foo\"", "\"x86-64\"", "U+0009",
	};

	parse_bad_lines("[meta]\nhomepage = \"ftp://x.org\"\n"
	    "[[package]]\nname = \"Foo\"\narchitecture = "
	    "\"x86-64\"\ndescription = \"tab\\there\"\nfiles = []\n"
	    "[meta.x]\n", RECIPE_BUILD, want, has,
	    sizeof(want) / sizeof(want[0]));
}

static void
test_dependency_rules(void **state)
{
	static const char *const want[] = {
		"r.toml:6:17: package.dependencies.constraint: [[package]] foo: "
		    "dependencies libc: ",
		"r.toml:7:2: package.dependencies: [[package]] foo: "
		    "dependencies lists \"libc\" twice",
		"r.toml:7:21: package.dependencies.same_build: [[package]] "
		    "foo: dependencies foo: same_build must name a sibling "
		    "[[package]], not the package itself",
		"r.toml:8:2: package.dependencies.same_build: [[package]] foo: "
		    "dependencies bar: same_build and constraint cannot both be "
		    "set (same_build means \"= <this build's version>\")",
		"r.toml:9:2: package.dependencies.same_build: [[package]] foo: "
		    "foo.dependencies.nosuch: same_build set but no sibling "
		    "[[package]] named \"nosuch\" exists",
		"r.toml:10:26: package.optional_dependencies.arch: "
		    "[[package]] foo: optional_dependencies xx: ",
		"r.toml:11:14: package.conflicts.same_build: [[package]] foo: "
		    "conflicts baz: same_build is only valid in dependencies and "
		    "optional_dependencies",
		"r.toml:12:13: package.provides.version: [[package]] foo: "
		    "provides cap: version \"1.0\" is not a full version "
		    "(upstream-revision, e.g. \"1.0-1\")",
		"r.toml:12:48: package.provides: [[package]] foo: provides lists "
		    "\"cap\" twice",
		"r.toml:12:66: package.provides.name: [[package]] foo: "
		    "provides[2]: name is required",
		"r.toml:13:13: package.replaces.constraint: [[package]] foo: "
		    "replaces[0]: ",
		"r.toml:13:50: package.replaces.name: [[package]] foo: "
		    "replaces[1]: ",
		"r.toml:14:16: package.side_effects: [[package]] foo: ",
		"r.toml:14:16: package.side_effects: [[package]] foo: "
		    "side_effects lists \"ldconfig\" twice",
		"r.toml:15:9: package.files: [[package]] foo: files pattern "
		    "\"/abs\" must be a non-empty path relative to $DESTDIR",
		"r.toml:15:9: package.files: [[package]] foo: files pattern "
		    "\"\" must be a non-empty path relative to $DESTDIR",
	};
	static const char *const has[] = {
		"\"~> 1.2\"", "", "", "", "", "\"x86_64\"", "", "", "", "",
		"\">=\"", "\"Old\"", "\"systemd-reload\"", "", "", "",
	};

	parse_bad_lines(META "[[package]]\nname = \"foo\"\n"
	    "architecture = \"noarch\"\n"
	    "dependencies = [{ name = \"libc\", constraint = \"~> 1.2\" },\n"
	    " { name = \"libc\" }, { name = \"foo\", same_build = true },\n"
	    " { name = \"bar\", same_build = true, constraint = \"= 1-1\" },\n"
	    " { name = \"nosuch\", same_build = true }]\n"
	    "optional_dependencies = [{ name = \"xx\", arch = \"x86_64\" }]\n"
	    "conflicts = [{ name = \"baz\", same_build = true }]\n"
	    "provides = [{ name = \"cap\", version = \"1.0\" }, "
	    "{ name = \"cap\" }, {}]\n"
	    "replaces = [{ name = \"old\", constraint = \">=\" }, "
	    "{ name = \"Old\" }]\n"
	    "side_effects = [\"ldconfig\", \"systemd-reload\", "
	    "\"ldconfig\"]\n"
	    "files = [\"/abs\", \"\"]\n",
	    RECIPE_BUILD, want, has, sizeof(want) / sizeof(want[0]));
}

static const char manager_bad[] =
    "[meta]\n"
    "build_script = \"./scripts//build.sh\"\n"
    "[[package]]\n"
    "name = \"foo\"\n"
    "architecture = \"noarch\"\n"
    "files = []\n"
    "[[sign]]\n"
    "path = \"../x\"\n"
    "key = \"t c b\"\n"
    "[[sign]]\n"
    "path = \"./usr//bin/x\"\n"
    "key = \"tcb\"\n"
    "[[sign]]\n"
    "path = \"usr/bin/x\"\n"
    "key = \"tcb\"\n"
    "[UPSTREAM]\n"
    "[upstream]\n"
    "git = \"ext::sh -c touch% /tmp/pwned\"\n"
    "tag_pattern = \"^v(\\\\d+\"\n"
    "peios_revision = 0\n"
    "submodules = \"yes\"\n"
    "min_version = \"1/2\"\n"
    "tag_patern = \"x\"\n"
    "[watch]\n"
    "poll_interval = \"30s\"\n"
    "github_webhook = \"true\"\n"
    "gitlab_webhook = true\n"
    "gitea_webhok = true\n"
    "[build]\n"
    "wall_timeout = \"0s\"\n"
    "idle_timeout = 60\n"
    "allow_ptrace = 1\n"
    "memory = 5\n";

static void
test_manager_sections_bad(void **state)
{
	static const char *const want[] = {
		"r.toml:18:7: upstream.git: git URL \"ext::sh -c touch% "
		    "/tmp/pwned\" contains a space or a control character",
		"r.toml:19:15: upstream.tag_pattern: invalid tag_pattern "
		    "\"^v(\\\\d+\": missing closing parenthesis at offset 6",
		"r.toml:20:18: upstream.peios_revision: must be between 1 and "
		    "2147483647 (got 0)",
		"r.toml:21:14: upstream.submodules: expected boolean, got "
		    "string",
		"r.toml:22:15: upstream.min_version: ",
		"r.toml:23:1: upstream.tag_patern: unknown key (did you mean "
		    "\"tag_pattern\"?)",
		"r.toml:26:18: watch.github_webhook: expected boolean, got "
		    "string",
		"r.toml:25:17: watch.poll_interval: 30s is out of range (want "
		    "1m0s to 8760h0m0s)",
		"r.toml:28:1: watch.gitea_webhok: unknown key (did you mean "
		    "\"gitea_webhook\"?)",
		"r.toml:30:16: build.wall_timeout: 0s is out of range (want 1s "
		    "to 8760h0m0s)",
		"r.toml:31:16: build.idle_timeout: expected a duration string "
		    "such as \"1h30m\", got integer",
		"r.toml:32:16: build.allow_ptrace: expected boolean, got "
		    "integer",
		"r.toml:33:1: build.memory: unknown key",
		"r.toml:16:2: UPSTREAM: unknown section; names are "
		    "case-sensitive (did you mean \"upstream\"?)",
		"r.toml:7:1: sign.path: sign[0]: path \"../x\" escapes $DESTDIR",
		"r.toml:7:1: sign.key: [[sign]] ../x: signing key name "
		    "\"t c b\": want 1-64 characters from A-Z a-z 0-9 . _ -, "
		    "starting with a letter or digit",
		"r.toml:13:1: sign.path: [[sign]] usr/bin/x: path listed twice",
	};
	static const char *const has[] = {
		"", "", "", "", "\"1/2\"", "", "", "", "", "", "", "", "", "", "",
		"", "",
	};

	parse_bad_lines(manager_bad, RECIPE_MANAGER, want, has,
	    sizeof(want) / sizeof(want[0]));
	/* The packer ignores the manager's sections entirely. */
	parse_bad_lines(manager_bad, RECIPE_BUILD, want + 14, has + 14, 3);
}

static void
test_manager_sections_ok(void **state)
{
	struct recipe	*r;

	r = parse_ok(META PKG
	    "[upstream]\ngit = \"git@github.com:peios/x.git\"\n"
	    "tag_pattern = \"^v(\\\\d+\\\\.\\\\d+)$\"\nsubmodules = true\n"
	    "min_version = \"1.2\"\npeios_revision = 7\n"
	    "[watch]\ngithub_webhook = true\ngitea_webhook = false\n"
	    "poll_interval = \"1h30m\"\n"
	    "[build]\nwall_timeout = \"2h\"\nidle_timeout = \"90s\"\n"
	    "allow_ptrace = true\n"
	    "[whatever]\nanything = 1\n[[also]]\nx = 2\n", RECIPE_MANAGER);
	assert_true(r->watched);
	assert_true(r->has_upstream);
	assert_string_equal(r->git, "git@github.com:peios/x.git");
	assert_true(r->submodules);
	assert_string_equal(r->min_version, "1.2");
	assert_int_equal(r->peios_revision, 7);
	assert_true(r->webhook[FORGE_GITHUB]);
	assert_false(r->webhook[FORGE_GITLAB]);
	assert_false(r->webhook[FORGE_GITEA]);
	assert_true(recipe_has_webhook(r));
	assert_int_equal(r->poll_interval, 90 * DURATION_M);
	assert_int_equal(r->wall_timeout, 2 * DURATION_H);
	assert_int_equal(r->idle_timeout, 90 * DURATION_S);
	assert_true(r->allow_ptrace);
	assert_string_equal(r->id, "rid");
	assert_string_equal(r->build_script, "build.sh");
	recipe_free(r);

	/* No [upstream]: loads, not watched, defaults. */
	r = parse_ok("[meta]\nbuild_script = \"./s//b.sh\"\n" PKG
	    "[[sign]]\npath = \"./usr//bin/x\"\nkey = \"tcb\"\n",
	    RECIPE_MANAGER);
	assert_false(r->watched);
	assert_false(r->has_upstream);
	assert_int_equal(r->peios_revision, 1);
	assert_int_equal(r->poll_interval, 0);
	assert_string_equal(r->build_script, "s/b.sh");
	assert_string_equal(r->signs[0].path, "usr/bin/x");
	recipe_free(r);

	/* The packer tolerates anything under [upstream]. */
	r = parse_ok(META PKG "[upstream]\nbogus = 1\n[watch]\nx = 2\n",
	    RECIPE_BUILD);
	recipe_free(r);
}

static void
test_git_urls(void **state)
{
	static const char *const good[] = {
		"https://github.com/a/b", "http://x/y.git", "ssh://git@h/p",
		"git://h/p", "file:///srv/git/p.git", "git@github.com:a/b.git",
		"host:path", "/srv/git/p.git",
	};
	static const char *const bad[] = {
		"ext::sh", "-uploadpack=x", "fd::3", "relative/path", "https://",
		"a/b:c", "https://h/p\\u0001", "https://h/p q", "ftp://h/p",
		":path", "git@h:",
	};
	struct buf	 err = BUF_INIT;
	struct recipe	*r;
	char		*text;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		text = xasprintf(META PKG "[upstream]\ngit = \"%s\"\n"
		    "tag_pattern = \"(.*)\"\n", good[i]);
		r = parse_ok(text, RECIPE_MANAGER);
		assert_string_equal(r->git, good[i]);
		recipe_free(r);
		free(text);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		text = xasprintf(META PKG "[upstream]\ngit = \"%s\"\n"
		    "tag_pattern = \"(.*)\"\n", bad[i]);
		assert_null(recipe_parse(text, strlen(text), "r.toml", "rid",
		    RECIPE_MANAGER, &err));
		if (!str_has_prefix(buf_str(&err), "r.toml:8:7: upstream.git: "
		    "git URL "))
			fail_msg("%s: %s", bad[i], buf_str(&err));
		free(text);
	}
	buf_free(&err);
}

static void
test_required_upstream(void **state)
{
	parse_bad(META PKG "[upstream]\n", RECIPE_MANAGER,
	    "r.toml:7:1: upstream.git: required when [upstream] is present "
	    "(leave out [upstream] for a recipe built by hand)\n"
	    "r.toml:7:1: upstream.tag_pattern: required when [upstream] is "
	    "present");
	parse_bad(META PKG "[watch]\ngithub_webhook = true\n", RECIPE_MANAGER,
	    "r.toml:7:1: watch: [watch] has no effect without [upstream] "
	    "(git, tag_pattern)");
	parse_bad(META PKG "[upstream]\ngit = \"/g\"\ntag_pattern = \"(x)\"\n"
	    "peios_revision = 2147483648\n", RECIPE_MANAGER,
	    "r.toml:10:18: upstream.peios_revision: must be between 1 and "
	    "2147483647 (got 2147483648)");
	parse_bad(META PKG "[upstream]\ngit = \"/g\"\ntag_pattern = \"x\"\n"
	    "[watch]\npoll_interval = \"-1h\"\n", RECIPE_MANAGER,
	    "r.toml:9:15: upstream.tag_pattern: tag_pattern \"x\" must have "
	    "at least one capture group (the version string)\n"
	    "r.toml:11:17: watch.poll_interval: -1h0m0s is out of range "
	    "(want 1m0s to 8760h0m0s)");
}

static void
test_types(void **state)
{
	parse_bad("meta = 1\npackage = \"x\"\nsign = [1, {}]\n", RECIPE_BUILD,
	    "r.toml:1:8: meta: expected table, got integer\n"
	    "r.toml:2:11: package: expected array of tables, got string\n"
	    "r.toml:3:9: sign: element 0: expected table, got integer\n"
	    "r.toml:1:1: meta.build_script: [meta].build_script is required\n"
	    "r.toml:1:1: package: recipe must declare at least one "
	    "[[package]]");
	parse_bad(META "[package]\nname = \"x\"\n", RECIPE_BUILD,
	    "r.toml:3:1: package: expected array of tables, got table\n"
	    "r.toml:1:1: package: recipe must declare at least one "
	    "[[package]]");
	parse_bad(META "[[package]]\nname = 1979-05-27T07:32:00Z\n"
	    "architecture = \"a\\u0000b\"\nfiles = \"usr/**\"\n"
	    "dependencies = [\"libc\"]\nside_effects = [\"ldconfig\", 3]\n",
	    RECIPE_BUILD,
	    "r.toml:4:8: package.name: expected string, got offset date-time\n"
	    "r.toml:5:16: package.architecture: string contains a NUL "
	    "character\n"
	    "r.toml:7:17: package.dependencies: element 0: expected table, "
	    "got string\n"
	    "r.toml:8:29: package.side_effects: element 1: expected string, "
	    "got integer\n"
	    "r.toml:6:9: package.files: expected array of strings, got string\n"
	    "r.toml:3:1: package.name: [[package]] #0: name is required");
	parse_bad(META "[[package]]\nname = \"foo\"\narchitecture = \"noarch\"\n",
	    RECIPE_BUILD,
	    "r.toml:3:1: package.files: [[package]] foo: files is required "
	    "(files = [] declares a package without payload)");
	parse_bad("[Meta]\nbuild_script = \"b\"\n" PKG, RECIPE_BUILD,
	    "r.toml:1:2: Meta: unknown section; names are case-sensitive "
	    "(did you mean \"meta\"?)\n"
	    "r.toml:1:1: meta.build_script: [meta].build_script is required");
	parse_bad("[meta]\nbuild_script = \"../b\"\n" PKG, RECIPE_BUILD,
	    "r.toml:2:16: meta.build_script: build_script \"../b\" must be a "
	    "relative path inside the recipe directory");
	parse_bad("[meta]\nbuild_script = \"/b\"\n" PKG, RECIPE_BUILD,
	    "r.toml:2:16: meta.build_script: build_script \"/b\" must be a "
	    "relative path inside the recipe directory");
}

static void
test_syntax_error(void **state)
{
	struct buf	 err = BUF_INIT;
	const char	*t = "[meta]\nbuild_script = \n";

	assert_null(recipe_parse(t, strlen(t), "r.toml", "rid", RECIPE_BUILD,
	    &err));
	assert_true(str_has_prefix(buf_str(&err), "r.toml:2:"));
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
}

static void
put(const char *dir, const char *rel, const char *text)
{
	char	*p = xasprintf("%s/%s", dir, rel);
	FILE	*f;

	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	free(p);
}

static void
sub(const char *dir, const char *rel)
{
	char	*p = xasprintf("%s/%s", dir, rel);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

#define GOOD	META PKG "[upstream]\ngit = \"/g\"\ntag_pattern = \"(.*)\"\n"

static void
test_roster(void **state)
{
	char		 tmpl[] = "/tmp/test_recipe.XXXXXX", *dir, *p;
	struct roster	*ros;
	struct buf	 err = BUF_INIT;

	assert_non_null(dir = mkdtemp(tmpl));
	sub(dir, "zzz");
	put(dir, "zzz/peipkg.toml", GOOD);
	sub(dir, "aaa");
	put(dir, "aaa/peipkg.toml", META PKG);
	sub(dir, "mmm");
	put(dir, "mmm/peipkg.toml", META PKG "[upstream]\nbogus = 1\n");
	sub(dir, "notes");
	put(dir, "notes/README", "not a recipe\n");
	put(dir, "file.txt", GOOD);
	sub(dir, "Bad_Name");
	put(dir, "Bad_Name/peipkg.toml", GOOD);
	sub(dir, ".hidden");
	put(dir, ".hidden/peipkg.toml", GOOD);
	sub(dir, "sym-toml");
	p = xasprintf("%s/sym-toml/peipkg.toml", dir);
	assert_int_equal(symlink("../zzz/peipkg.toml", p), 0);
	free(p);
	p = xasprintf("%s/link", dir);
	assert_int_equal(symlink("zzz", p), 0);
	free(p);
	sub(dir, "dirtoml");
	sub(dir, "dirtoml/peipkg.toml");

	assert_int_equal(roster_load(dir, RECIPE_MANAGER, &ros, &err), 0);
	assert_int_equal(err.len, 0);
	assert_string_equal(ros->dir, dir);
	assert_int_equal(ros->n, 3);
	assert_string_equal(ros->r[0]->id, "aaa");
	assert_string_equal(ros->r[1]->id, "sym-toml");
	assert_string_equal(ros->r[2]->id, "zzz");
	assert_false(ros->r[0]->watched);
	assert_int_equal(roster_watched(ros), 2);
	p = xasprintf("%s/aaa/peipkg.toml", dir);
	assert_string_equal(ros->r[0]->path, p);
	free(p);
	assert_int_equal(ros->nbad, 4);
	assert_string_equal(ros->bad[0].id, ".hidden");
	assert_string_equal(ros->bad[1].id, "Bad_Name");
	assert_string_equal(ros->bad[2].id, "dirtoml");
	assert_string_equal(ros->bad[3].id, "mmm");
	p = xasprintf("%s/Bad_Name/peipkg.toml:1:1: recipe ID (directory "
	    "name) \"Bad_Name\" is not usable: it must be a valid package "
	    "name (", dir);
	assert_true(str_has_prefix(ros->bad[1].errors, p));
	free(p);
	p = xasprintf("%s/dirtoml/peipkg.toml:1:1: not a regular file", dir);
	assert_string_equal(ros->bad[2].errors, p);
	free(p);
	p = xasprintf("%s/mmm/peipkg.toml:7:1: upstream.git: required when "
	    "[upstream] is present (leave out [upstream] for a recipe built "
	    "by hand)\n"
	    "%s/mmm/peipkg.toml:7:1: upstream.tag_pattern: required when "
	    "[upstream] is present\n"
	    "%s/mmm/peipkg.toml:8:1: upstream.bogus: unknown key", dir, dir,
	    dir);
	assert_string_equal(ros->bad[3].errors, p);
	free(p);
	assert_non_null(roster_find(ros, "zzz"));
	assert_non_null(roster_find(ros, "aaa"));
	assert_null(roster_find(ros, "mmm"));
	assert_null(roster_find(ros, "link"));

	roster_reject(ros, 1, "why");
	assert_int_equal(ros->n, 2);
	assert_string_equal(ros->r[1]->id, "zzz");
	assert_int_equal(ros->nbad, 5);
	assert_string_equal(ros->bad[4].id, "sym-toml");
	assert_string_equal(ros->bad[4].errors, "why");
	roster_free(ros);

	/* The packer's mode accepts mmm. */
	assert_int_equal(roster_load(dir, RECIPE_BUILD, &ros, &err), 0);
	assert_int_equal(ros->n, 4);
	roster_free(ros);

	p = xasprintf("%s/nonexistent", dir);
	assert_int_equal(roster_load(p, RECIPE_MANAGER, &ros, &err), -1);
	assert_null(ros);
	assert_true(str_has_suffix(buf_str(&err), "/nonexistent: No such "
	    "file or directory"));
	free(p);
	buf_free(&err);
	p = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official),
		cmocka_unit_test(test_official_fields),
		cmocka_unit_test(test_vectors_ok),
		cmocka_unit_test(test_vectors_err),
		cmocka_unit_test(test_packer_rules),
		cmocka_unit_test(test_consumer_rules),
		cmocka_unit_test(test_dependency_rules),
		cmocka_unit_test(test_manager_sections_bad),
		cmocka_unit_test(test_manager_sections_ok),
		cmocka_unit_test(test_git_urls),
		cmocka_unit_test(test_required_upstream),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_roster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
