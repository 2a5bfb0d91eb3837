/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_stage.c: collecting, partitioning and validating a staged DESTDIR
 * (BEHAVIOUR.md §3.6-3.9, §3.12; CONSUMER.md P1, P4, P6).  Real trees in
 * a temporary directory: walk order, explicit directory claims,
 * symlinks, FIFOs and sockets, hostile names, depth and length limits,
 * every orphan / overlap / layout message, payload entry order and
 * ancestors, and files changing between the walk and the read.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
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

#include "stage.h"

/* A test package: name, architecture, patterns (NULL-terminated). */
struct tpkg {
	const char	*name;
	const char	*arch;
	const char	*files[10];
};

static char	 root[256];
static int	 rootfd = -1;

/* ---- helpers -------------------------------------------------------- */

/* Open (creating) the parent directory of `rel`; *last = its last part. */
static int
parent_fd(const char *rel, const char **last)
{
	const char	*c = rel, *slash;
	char		 comp[256];
	int		 dfd, nfd;

	dfd = dup(rootfd);
	assert_true(dfd != -1);
	while ((slash = strchr(c, '/')) != NULL) {
		assert_true(slash - c < (ptrdiff_t)sizeof(comp));
		memcpy(comp, c, (size_t)(slash - c));
		comp[slash - c] = '\0';
		if (mkdirat(dfd, comp, 0755) == -1 && errno != EEXIST)
			fail_msg("mkdir %s: %s", comp, strerror(errno));
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		assert_true(nfd != -1);
		close(dfd);
		dfd = nfd;
		c = slash + 1;
	}
	*last = c;
	return dfd;
}

static void
mkfile(const char *rel, const char *content)
{
	const char	*name;
	int		 dfd, fd;

	dfd = parent_fd(rel, &name);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
	close(dfd);
}

static void
mkdirp(const char *rel)
{
	char	*p;

	p = xasprintf("%s/", rel);
	close(parent_fd(p, (const char **)&rel));
	free(p);
}

static void
mklink(const char *rel, const char *target)
{
	const char	*name;
	int		 dfd;

	dfd = parent_fd(rel, &name);
	assert_int_equal(symlinkat(target, dfd, name), 0);
	close(dfd);
}

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "%s/test_stage.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd != -1);
	return 0;
}

static int
teardown(void **state)
{
	close(rootfd);
	rootfd = -1;
	assert_int_equal(rm_rf(root), 0);
	return 0;
}

/* Build recipe_package structs pointing at the test's strings. */
static struct recipe_package *
pkgs_of(const struct tpkg *t, size_t n)
{
	struct recipe_package	*p;
	size_t			 i, j;

	p = xcalloc(n, sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].name = (char *)t[i].name;
		p[i].architecture = (char *)t[i].arch;
		for (j = 0; t[i].files[j] != NULL; j++)
			;
		p[i].files = (char **)t[i].files;
		p[i].nfiles = j;
	}
	return p;
}

/* "path:type:pkg" per leaf, space-separated, in stage order. */
static char *
leaves_str(const struct stage *st)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	buf_adds(&b, "");
	for (i = 0; i < st->nleaves; i++)
		buf_addf(&b, "%s%s:%c:%d", i ? " " : "", st->leaves[i].path,
		    "fld"[st->leaves[i].type], st->leaves[i].pkg);
	return buf_release(&b);
}

static char *
entries_str(const struct stage *st, int pkg)
{
	struct stage_entry	*e;
	struct buf		 b = BUF_INIT;
	size_t			 i, n;

	stage_entries(st, pkg, &e, &n);
	buf_adds(&b, "");
	for (i = 0; i < n; i++) {
		buf_addf(&b, "%s%s", i ? " " : "", e[i].name);
		if (e[i].type == STAGE_SYMLINK)
			buf_addf(&b, "->%s", e[i].leaf->target);
		if (e[i].type != STAGE_DIR)
			assert_non_null(e[i].leaf);
	}
	stage_entries_free(e, n);
	return buf_release(&b);
}

/* Collect + partition + validate; the concatenated errors, or "". */
static char *
run_all(const struct tpkg *t, size_t n, struct stage *st)
{
	struct recipe_package	*p = pkgs_of(t, n);
	struct buf		 err = BUF_INIT;
	int			 rc;

	stage_init(st);
	rc = stage_collect(rootfd, p, n, st, &err);
	rc |= stage_partition(p, n, st, &err);
	rc |= stage_validate(p, n, st, &err);
	assert_int_equal(rc != 0, err.len > 0);
	free(p);
	buf_adds(&err, "");
	return buf_release(&err);
}

#define CHECK_STR(expr, want) do {				\
	char *s_ = (expr);					\
	assert_string_equal(s_, (want));			\
	free(s_);						\
} while (0)

/* ---- collect -------------------------------------------------------- */

/* Lexical depth-first order: "a" (and all below it) before "a.txt". */
static void
test_walk_order(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "x86_64", { "**", NULL } },
	};
	struct stage	 st;

	mkfile("usr/share/a.txt", "1");
	mkfile("usr/share/a/b", "22");
	mkfile("usr/share/B", "");
	mkfile("usr/share/.hidden", "x");
	CHECK_STR(run_all(t, 1, &st), "");
	CHECK_STR(leaves_str(&st), "usr/share/.hidden:f:0 usr/share/B:f:0 "
	    "usr/share/a/b:f:0 usr/share/a.txt:f:0");
	assert_int_equal(st.leaves[2].size, 2);
	assert_int_equal(st.leaves[3].size, 1);
	assert_int_equal(st.leaves[1].size, 0);
	stage_free(&st);
}

/* Directories are leaves only when a pattern ending in '/' claims them. */
static void
test_explicit_dirs(void **state)
{
	static const struct tpkg t[] = {
		{ "fsbase", "noarch", { "dev/", "tmp//", "var/", NULL } },
		{ "tools", "x86_64", { "usr/bin/*", "var/lib/foo/", NULL } },
	};
	struct stage	 st;

	mkdirp("dev");
	mkdirp("tmp");
	mkdirp("var/lib/foo");
	mkdirp("var/cache");		/* unclaimed and empty: not a leaf */
	mkfile("usr/bin/foo", "#!/bin/sh\n");
	CHECK_STR(run_all(t, 2, &st), "");
	CHECK_STR(leaves_str(&st), "dev:d:0 tmp:d:0 usr/bin/foo:f:1 var:d:0 "
	    "var/lib/foo:d:1");
	CHECK_STR(entries_str(&st, 0), "dev/ tmp/ var/");
	CHECK_STR(entries_str(&st, 1), "usr/ usr/bin/ usr/bin/foo var/ "
	    "var/lib/ var/lib/foo/");
	stage_free(&st);
}

/* A symlink is a leaf (never followed), even one to a directory. */
static void
test_symlinks(void **state)
{
	static const struct tpkg t[] = {
		{ "libfoo", "x86_64", {
		    "usr/lib/x86_64-linux-peios/libfoo.so.1*", NULL } },
		{ "libfoo-dev", "x86_64", {
		    "usr/lib/x86_64-linux-peios/libfoo.so",
		    "usr/share/foo/**", NULL } },
	};
	struct stage	 st;

	mkfile("usr/lib/x86_64-linux-peios/libfoo.so.1.2.3", "ELF");
	mklink("usr/lib/x86_64-linux-peios/libfoo.so.1", "libfoo.so.1.2.3");
	mklink("usr/lib/x86_64-linux-peios/libfoo.so", "libfoo.so.1");
	mklink("usr/share/foo/dirlink", "../../lib");
	mkdirp("usr/share/foo/real");
	mkfile("usr/share/foo/real/x", "x");
	CHECK_STR(run_all(t, 2, &st), "");
	CHECK_STR(leaves_str(&st),
	    "usr/lib/x86_64-linux-peios/libfoo.so:l:1 "
	    "usr/lib/x86_64-linux-peios/libfoo.so.1:l:0 "
	    "usr/lib/x86_64-linux-peios/libfoo.so.1.2.3:f:0 "
	    "usr/share/foo/dirlink:l:1 usr/share/foo/real/x:f:1");
	CHECK_STR(entries_str(&st, 0), "usr/ usr/lib/ "
	    "usr/lib/x86_64-linux-peios/ "
	    "usr/lib/x86_64-linux-peios/libfoo.so.1->libfoo.so.1.2.3 "
	    "usr/lib/x86_64-linux-peios/libfoo.so.1.2.3");
	CHECK_STR(entries_str(&st, 1), "usr/ usr/lib/ "
	    "usr/lib/x86_64-linux-peios/ "
	    "usr/lib/x86_64-linux-peios/libfoo.so->libfoo.so.1 "
	    "usr/share/ usr/share/foo/ usr/share/foo/dirlink->../../lib "
	    "usr/share/foo/real/ usr/share/foo/real/x");
	stage_free(&st);
}

static void
test_fifo_socket(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "x86_64", { "usr/**", NULL } },
	};
	struct sockaddr_un	 sun;
	struct stage		 st;
	char			 p[1024];
	int			 s;

	mkfile("usr/bin/ok", "ok");
	snprintf(p, sizeof(p), "%s/usr/bin/fifo", root);
	assert_int_equal(mkfifo(p, 0644), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(root) + 10 < sizeof(sun.sun_path));
	memcpy(sun.sun_path, root, strlen(root));
	memcpy(sun.sun_path + strlen(root), "/usr/sock", 10);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(s);
	CHECK_STR(run_all(t, 1, &st),
	    "walk staged tree: usr/bin/fifo: unsupported entry type (FIFO); "
	    "only regular files, directories and symlinks can be packaged\n"
	    "walk staged tree: usr/sock: unsupported entry type (socket); "
	    "only regular files, directories and symlinks can be packaged");
	CHECK_STR(leaves_str(&st), "usr/bin/ok:f:0");
	stage_free(&st);
}

/* Modes (setuid, no permissions at all) do not matter to the walk. */
static void
test_modes_irrelevant(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "x86_64", { "usr/bin/*", NULL } },
	};
	struct stage	 st;
	char		 p[1024];

	mkfile("usr/bin/suid", "x");
	mkfile("usr/bin/none", "yy");
	snprintf(p, sizeof(p), "%s/usr/bin/suid", root);
	assert_int_equal(chmod(p, 04755), 0);
	snprintf(p, sizeof(p), "%s/usr/bin/none", root);
	assert_int_equal(chmod(p, 0), 0);
	CHECK_STR(run_all(t, 1, &st), "");
	CHECK_STR(leaves_str(&st), "usr/bin/none:f:0 usr/bin/suid:f:0");
	stage_free(&st);
}

/* Newlines, quotes, backslashes and NFD names are reported, quoted. */
static void
test_hostile_names(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "x86_64", { "usr/share/p/*", NULL } },
	};
	struct stage	 st;

	mkfile("usr/share/p/evil\nstaged paths claimed by no package:", "x");
	mkfile("usr/share/p/back\\slash", "x");
	mkfile("usr/share/p/cafe\xcc\x81", "x");	/* NFD */
	mkfile("usr/share/p/fine", "x");
	mkfile("usr/share/p/...", "x");			/* a legal name */
	mkfile("usr/share/p/..x", "x");
	mkfile("usr/share/q/tab\there", "x");		/* orphan */
	CHECK_STR(run_all(t, 1, &st),
	    "staged paths claimed by no package:\n"
	    "  \"usr/share/q/tab\\there\"\n"
	    "payload validation failed:\n"
	    "  package p: path \"usr/share/p/back\\\\slash\": backslash at "
	    "byte 16\n"
	    "  package p: path \"usr/share/p/cafe\xcc\x81\": not in Unicode "
	    "NFC\n"
	    "  package p: path \"usr/share/p/evil\\nstaged paths claimed by "
	    "no package:\": control character '\\n' at byte 16");
	CHECK_STR(leaves_str(&st), "usr/share/p/...:f:0 usr/share/p/..x:f:0 "
	    "usr/share/p/back\\slash:f:0 usr/share/p/cafe\xcc\x81:f:0 "
	    "usr/share/p/evil\nstaged paths claimed by no package::f:0 "
	    "usr/share/p/fine:f:0 usr/share/q/tab\there:f:-1");
	stage_free(&st);
}

static void
test_depth_limit(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "x86_64", { "usr/share/**", NULL } },
	};
	struct buf	 rel = BUF_INIT, want = BUF_INIT;
	struct stage	 st;
	int		 i;

	buf_adds(&rel, "usr/share");
	for (i = 2; i < STAGE_MAX_DEPTH; i++)
		buf_adds(&rel, "/d");
	buf_adds(&rel, "/f");		/* component 257 */
	mkfile(rel.data, "x");
	rel.len -= 2;
	rel.data[rel.len] = '\0';
	buf_addf(&want, "walk staged tree: %s: nested deeper than %d "
	    "components", rel.data, STAGE_MAX_DEPTH);
	CHECK_STR(run_all(t, 1, &st), want.data);
	assert_int_equal(st.nleaves, 0);
	stage_free(&st);
	buf_free(&rel);
	buf_free(&want);
}

static void
test_path_length(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "x86_64", { "usr/share/**", NULL } },
	};
	struct buf	 rel = BUF_INIT;
	struct stage	 st;
	char		 comp[201];
	char		*got;
	int		 i;

	memset(comp, 'a', 200);
	comp[200] = '\0';
	buf_adds(&rel, "usr/share");
	for (i = 0; i < 21; i++)	/* 9 + 21 * 201 = 4230 bytes */
		buf_addf(&rel, "/%s", comp);
	mkfile(rel.data, "x");
	got = run_all(t, 1, &st);
	assert_non_null(strstr(got, "path longer than 4096 bytes"));
	assert_int_equal(strncmp(got, "walk staged tree: usr/share/aaa", 31),
	    0);
	assert_null(strchr(got, '\n'));
	free(got);
	stage_free(&st);
	buf_free(&rel);
}

/* ---- partition ------------------------------------------------------ */

/* The err-orphan and err-overlap vectors, then every overlap at once. */
static void
test_orphans_overlaps(void **state)
{
	static const struct tpkg t[] = {
		{ "foo", "noarch", { "usr/share/foo/**",
		    "usr/share/doc/foo/*", NULL } },
		{ "foo-doc", "noarch", { "usr/share/doc/**", NULL } },
		{ "foo-all", "noarch", { "usr/share/doc/foo/{README,NEWS}",
		    NULL } },
	};
	struct stage	 st;

	mkfile("usr/share/doc/foo/README", "r");
	mkfile("usr/share/doc/foo/NEWS", "n");
	mkfile("usr/share/doc/foo/html/index.html", "h");
	mkfile("usr/share/foo/data", "d");
	mkfile("usr/share/zzz/late.txt", "z");
	mkfile("usr/share/extra/notes.txt", "e");
	CHECK_STR(run_all(t, 3, &st),
	    "path \"usr/share/doc/foo/NEWS\" matches multiple packages "
	    "[foo foo-doc foo-all]; package file globs must be disjoint\n"
	    "path \"usr/share/doc/foo/README\" matches multiple packages "
	    "[foo foo-doc foo-all]; package file globs must be disjoint\n"
	    "staged paths claimed by no package:\n"
	    "  usr/share/extra/notes.txt\n"
	    "  usr/share/zzz/late.txt");
	CHECK_STR(leaves_str(&st), "usr/share/doc/foo/NEWS:f:-1 "
	    "usr/share/doc/foo/README:f:-1 "
	    "usr/share/doc/foo/html/index.html:f:1 "
	    "usr/share/extra/notes.txt:f:-1 usr/share/foo/data:f:0 "
	    "usr/share/zzz/late.txt:f:-1");
	stage_free(&st);
}

/* Directory leaves: '/'-patterns stripped, others as written (§3.7). */
static void
test_dir_claim_overlap(void **state)
{
	static const struct tpkg t[] = {
		{ "a", "noarch", { "var/lib/x/", NULL } },
		{ "b", "noarch", { "var/**", NULL } },
	};
	struct stage	 st;

	mkdirp("var/lib/x");
	CHECK_STR(run_all(t, 2, &st), "path \"var/lib/x\" matches multiple "
	    "packages [a b]; package file globs must be disjoint");
	stage_free(&st);
}

static void
test_invalid_glob(void **state)
{
	static const struct tpkg t[] = {
		{ "good", "noarch", { "usr/share/x/*", NULL } },
		{ "bad", "noarch", { "usr/share/[", "usr/{a,b", NULL } },
	};
	struct recipe_package	*p = pkgs_of(t, 2);
	struct buf		 err = BUF_INIT;
	struct stage		 st;

	stage_init(&st);
	assert_int_equal(stage_check_patterns(p, 2, &err), -1);
	assert_non_null(strstr(err.data, "package bad: invalid glob "
	    "\"usr/share/[\": "));
	assert_non_null(strstr(err.data, "\npackage bad: invalid glob "
	    "\"usr/{a,b\": "));
	buf_reset(&err);
	assert_int_equal(stage_partition(p, 2, &st, &err), -1);
	assert_int_equal(strncmp(err.data, "package bad: invalid glob", 25),
	    0);
	free(p);
	buf_free(&err);
}

/* ---- validate ------------------------------------------------------- */

/* The err-payload-validation vector, message for message. */
static void
test_layout_vector(void **state)
{
	static const struct tpkg t[] = {
		{ "badlayout", "x86_64", { "usr/local/**", "usr/lib/libbad.so",
		    "var/**", "usr/bin/*", "usr/lib/aarch64-linux-peios/**",
		    NULL } },
		{ "badlayout-data", "noarch", {
		    "usr/lib/x86_64-linux-peios/**", NULL } },
	};
	struct stage	 st;

	mkfile("usr/lib/aarch64-linux-peios/libarm.so", "a");
	mkfile("usr/lib/libbad.so", "b");
	mkfile("usr/lib/x86_64-linux-peios/libdata.so", "d");
	mkfile("usr/local/bin/tool", "t");
	mkfile("var/lib/badlayout/state", "s");
	mklink("usr/bin/abs-link", "/etc/passwd");
	CHECK_STR(run_all(t, 2, &st), "payload validation failed:\n"
	    "  package badlayout: symlink usr/bin/abs-link -> /etc/passwd: "
	    "absolute targets forbidden (§3.4 requires relative)\n"
	    "  package badlayout (architecture=\"x86_64\"): "
	    "usr/lib/aarch64-linux-peios/libarm.so uses triplet "
	    "\"aarch64-linux-peios\", expected \"x86_64-linux-peios\" "
	    "(§3.4.2)\n"
	    "  package badlayout: usr/lib/libbad.so sits directly under "
	    "/usr/lib/ (§3.4.2 requires /usr/lib/<triplet>/<...>)\n"
	    "  package badlayout: usr/local/bin/tool is not under any §3.4.1 "
	    "permitted top-level destination\n"
	    "  package badlayout: var/lib/badlayout/state installs populated "
	    "content under /var/ (§3.4.4 forbids this; only empty "
	    "directories are permitted under /var/)\n"
	    "  package badlayout-data: noarch package contains arch-specific "
	    "path usr/lib/x86_64-linux-peios/libdata.so (§3.4.2 forbids "
	    "/usr/lib/<triplet>/ entries in noarch packages)");
	stage_free(&st);
}

/* The newest packer's list: debug paths, system/, boot/, opt/. */
static void
test_debug_paths(void **state)
{
	static const struct tpkg ok[] = {
		{ "dbg", "x86_64", { "usr/lib/debug/**", "usr/src/debug/**",
		    "usr/bin/*", "system/**", "boot/*", "opt/**", NULL } },
	};
	static const struct tpkg bad[] = {
		{ "dbg", "noarch", { "usr/lib/debug/**", "usr/src/**",
		    NULL } },
	};
	struct stage	 st;

	mkfile("usr/lib/debug/.build-id/ab/cdef0123.debug", "d");
	mkfile("usr/src/debug/dbgdemo/main.c", "int main;");
	mkfile("usr/bin/dbgdemo", "x");
	mkfile("system/units/a.service", "x");
	mkfile("boot/vmlinuz", "x");
	mkfile("opt/vendor/bin/tool", "x");
	CHECK_STR(run_all(ok, 1, &st), "");
	stage_free(&st);
	assert_int_equal(rm_rf(root), 0);
	assert_int_equal(mkdir(root, 0700), 0);
	close(rootfd);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkfile("usr/lib/debug/.build-id/ab/cdef0123.debug", "d");
	mkfile("usr/src/debug/dbgdemo/main.c", "x");
	mkfile("usr/src/linux/Makefile", "x");
	CHECK_STR(run_all(bad, 1, &st), "payload validation failed:\n"
	    "  package dbg: noarch package contains arch-specific path "
	    "usr/lib/debug/.build-id/ab/cdef0123.debug (§3.4.2 forbids "
	    "/usr/lib/<triplet>/ entries in noarch packages)\n"
	    "  package dbg: usr/src/linux/Makefile is not under any §3.4.1 "
	    "permitted top-level destination");
	stage_free(&st);
}

static void
test_dir_rules(void **state)
{
	static const struct tpkg t[] = {
		{ "d", "noarch", { "dev/", "run/", "var/", "var/log/x/",
		    "home/", "usr/local/", "mnt/x/", "etc/", NULL } },
	};
	struct stage	 st;

	mkdirp("dev");
	mkdirp("run");
	mkdirp("var/log/x");
	mkdirp("home");
	mkdirp("usr/local");
	mkdirp("mnt/x");
	mkdirp("etc");
	CHECK_STR(run_all(t, 1, &st), "payload validation failed:\n"
	    "  package d: directory home is not under any §3.4.1 permitted "
	    "top-level destination or permitted runtime mountpoint root\n"
	    "  package d: directory mnt/x is not under any §3.4.1 permitted "
	    "top-level destination or permitted runtime mountpoint root\n"
	    "  package d: directory usr/local is not under any §3.4.1 "
	    "permitted top-level destination or permitted runtime "
	    "mountpoint root");
	stage_free(&st);
}

static void
test_symlink_rules(void **state)
{
	static const struct tpkg t[] = {
		{ "s", "noarch", { "usr/share/s/*", "etc/s/*", NULL } },
	};
	struct stage	 st;

	mklink("usr/share/s/ok-sibling", "other");
	mklink("usr/share/s/ok-up", "../../bin/tool");
	mklink("usr/share/s/ok-self", ".");
	mklink("usr/share/s/ok-dest", "../..//./share");
	mklink("usr/share/s/escape", "../../../../x");
	mklink("usr/share/s/to-root", "../../..");
	mklink("usr/share/s/to-local", "../../local/bin/x");
	mklink("usr/share/s/back", "a\\b");
	mklink("etc/s/to-run", "../../run/x");
	mklink("etc/s/newline", "/x\ny");
	CHECK_STR(run_all(t, 1, &st), "payload validation failed:\n"
	    "  package s: symlink etc/s/newline -> \"/x\\ny\": absolute "
	    "targets forbidden (§3.4 requires relative)\n"
	    "  package s: symlink etc/s/to-run -> ../../run/x resolves to "
	    "\"run/x\", which is not under a §3.4.1 permitted destination\n"
	    "  package s: symlink usr/share/s/back -> \"a\\\\b\": target "
	    "contains a backslash\n"
	    "  package s: symlink usr/share/s/escape -> ../../../../x: target "
	    "escapes the peipkg-managed tree\n"
	    "  package s: symlink usr/share/s/to-local -> ../../local/bin/x "
	    "resolves to \"usr/local/bin/x\", which is not under a §3.4.1 "
	    "permitted destination\n"
	    "  package s: symlink usr/share/s/to-root -> ../../.. resolves "
	    "to \".\", which is not under a §3.4.1 permitted destination");
	stage_free(&st);
}

/* An empty package is fine; a file directly at a destination is not. */
static void
test_empty_and_exact(void **state)
{
	static const struct tpkg t[] = {
		{ "empty", "noarch", { "usr/share/nothing/**", NULL } },
		{ "e", "noarch", { "etc", NULL } },
	};
	struct stage	 st;

	mkfile("etc", "not a directory");
	CHECK_STR(run_all(t, 2, &st), "payload validation failed:\n"
	    "  package e: etc is not under any §3.4.1 permitted top-level "
	    "destination");
	CHECK_STR(entries_str(&st, 0), "");
	stage_free(&st);
}

/* ---- entries -------------------------------------------------------- */

/* On-wire order: "foo/" sorts after "foo-config.h" and "foo.h" (P1). */
static void
test_entry_order(void **state)
{
	static const struct tpkg t[] = {
		{ "dev", "x86_64", { "usr/include/**", NULL } },
	};
	struct stage	 st;

	mkfile("usr/include/foo/bar.h", "b");
	mkfile("usr/include/foo-config.h", "c");
	mkfile("usr/include/foo.h", "f");
	mkfile("usr/include/foo bar.h", "s");
	CHECK_STR(run_all(t, 1, &st), "");
	CHECK_STR(entries_str(&st, 0), "usr/ usr/include/ "
	    "usr/include/foo bar.h usr/include/foo-config.h "
	    "usr/include/foo.h usr/include/foo/ usr/include/foo/bar.h");
	stage_free(&st);
}

/* Ancestors are per package, each once, whatever the leaf order. */
static void
test_entries_unordered(void **state)
{
	static const char *const paths[] = {
		"usr/share/b/x", "usr/share/a/y", "usr/share/b/z", "etc/q",
		"usr/share/a"
	};
	struct stage_leaf	 l[5];
	struct stage		 st;
	size_t			 i;

	memset(l, 0, sizeof(l));
	for (i = 0; i < 5; i++) {
		l[i].path = (char *)paths[i];
		l[i].pkg = i == 3 ? 1 : 0;
	}
	l[4].type = STAGE_DIR;
	st.leaves = l;
	st.nleaves = 5;
	CHECK_STR(entries_str(&st, 0), "usr/ usr/share/ usr/share/a/ "
	    "usr/share/a/y usr/share/b/ usr/share/b/x usr/share/b/z");
	CHECK_STR(entries_str(&st, 1), "etc/ etc/q");
	CHECK_STR(entries_str(&st, 2), "");
	{
		struct stage_entry	*e;
		size_t			 n;

		stage_entries(&st, 0, &e, &n);
		assert_int_equal(n, 7);
		assert_string_equal(e[2].name, "usr/share/a/");
		assert_ptr_equal(e[2].leaf, &l[4]);
		assert_null(e[0].leaf);
		stage_entries_free(e, n);
	}
}

/* ---- reading leaves back -------------------------------------------- */

static void
test_open_leaf(void **state)
{
	static const struct tpkg t[] = {
		{ "p", "noarch", { "usr/share/p/*", NULL } },
	};
	struct stage	 st;
	struct buf	 err = BUF_INIT;
	char		 p[1024], q[1024], c[8];
	int		 fd;

	mkfile("usr/share/p/a", "abc");
	mkfile("usr/share/p/b", "abc");
	mkfile("usr/share/p/c", "abc");
	CHECK_STR(run_all(t, 1, &st), "");
	fd = stage_open_leaf(rootfd, &st.leaves[0], &err);
	assert_true(fd != -1);
	assert_int_equal(read(fd, c, sizeof(c)), 3);
	close(fd);
	/* b grows, c becomes a symlink, the directory becomes a symlink */
	mkfile("usr/share/p/b", "abcd");
	snprintf(p, sizeof(p), "%s/usr/share/p/c", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(stage_open_leaf(rootfd, &st.leaves[1], &err), -1);
	assert_string_equal(err.data, "usr/share/p/b: changed while it was "
	    "being packaged (was a 3-byte regular file)");
	buf_reset(&err);
	assert_int_equal(stage_open_leaf(rootfd, &st.leaves[2], &err), -1);
	assert_string_equal(err.data, "usr/share/p/c: cannot open: it was "
	    "replaced by a symlink");
	snprintf(p, sizeof(p), "%s/usr/share", root);
	snprintf(q, sizeof(q), "%s/usr/share2", root);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink("share2", p), 0);
	buf_reset(&err);
	assert_int_equal(stage_open_leaf(rootfd, &st.leaves[0], &err), -1);
	assert_string_equal(err.data, "usr/share/p/a: cannot open: a "
	    "directory on its path was replaced by a symlink or a file");
	assert_int_equal(stage_openat(rootfd, "usr/../etc", O_RDONLY, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(stage_openat(rootfd, "/etc/passwd", O_RDONLY, 0), -1);
	assert_int_equal(errno, EINVAL);
	buf_free(&err);
	stage_free(&st);
}

static void
test_show(void **state)
{
	struct buf	 b = BUF_INIT;

	stage_show(&b, "usr/bin/a b");
	buf_adds(&b, "|");
	stage_show(&b, "a\"b");
	buf_adds(&b, "|");
	stage_show(&b, "");
	buf_adds(&b, "|");
	stage_show(&b, "caf\xc3\xa9");
	assert_string_equal(b.data,
	    "usr/bin/a b|\"a\\\"b\"|\"\"|\"caf\xc3\xa9\"");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explicit_dirs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_modes_irrelevant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_depth_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_path_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_orphans_overlaps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dir_claim_overlap, setup,
		    teardown),
		cmocka_unit_test(test_invalid_glob),
		cmocka_unit_test_setup_teardown(test_layout_vector, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_debug_paths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dir_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_entry_order, setup,
		    teardown),
		cmocka_unit_test(test_entries_unordered),
		cmocka_unit_test_setup_teardown(test_open_leaf, setup,
		    teardown),
		cmocka_unit_test(test_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
