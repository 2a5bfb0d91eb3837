/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_fetch.c: fetching a tag's tree with libgit2 from local bare
 * repositories made with the git CLI (src/fetch.c): lightweight and
 * annotated tags, the committer time (not the tag's date), only the
 * tagged commit's tree, submodules over file://, every .git removed,
 * the size caps, the deadline (a listener that never answers), a
 * superproject served by git daemon whose file:// submodule is refused,
 * and the error texts for a missing tag, an unreachable URL and bad
 * options.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fetch.h"

#define T_COMMIT1	981173106	/* 2001-02-03T04:05:06Z */
#define T_COMMIT2	1015218367	/* 2002-03-04T05:06:07Z */

static char	 tmpdir[] = "/tmp/test_fetch.XXXXXX";
static char	 url[512], suburl[512];
static char	 c1[41], c2[41];
static int	 ndest;
static int	 ngit;

static void
sh(const char *fmt, ...)
{
	char	 cmd[8192];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void
capture(char *out, size_t len, const char *cmd)
{
	FILE	*f = popen(cmd, "r");

	assert_non_null(f);
	assert_non_null(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/*
 * up.git: commit 1 (2001) tagged "light" (lightweight); commit 2 (2002)
 * tagged "ann" (annotated, tagger date 2030) with a submodule "sub"
 * from sub.git; commit 3 (newer, on the branch) must never be fetched.
 */
static int
setup(void **state)
{
	char	 cmd[1024];

	assert_non_null(mkdtemp(tmpdir));
	setenv("HOME", tmpdir, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@example.org", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@example.org", 1);
	snprintf(url, sizeof(url), "file://%s/up.git", tmpdir);
	snprintf(suburl, sizeof(suburl), "file://%s/sub.git", tmpdir);
	sh("cd %s && git init -q -b main s && cd s && echo inner > s.txt && "
	    "git add . && git commit -qm s && cd .. && "
	    "git clone -q --bare s sub.git", tmpdir);
	sh("cd %s && git init -q -b main w && cd w && echo v1 > a.txt && "
	    "mkdir -p d/e && echo deep > d/e/f && chmod 755 d/e/f && "
	    "ln -s a.txt link && git add . && "
	    "GIT_COMMITTER_DATE=2001-02-03T04:05:06Z git commit -qm one && "
	    "git tag light", tmpdir);
	sh("cd %s/w && echo v2 > a.txt && git -c protocol.file.allow=always "
	    "submodule -q add %s sub && git add . && "
	    "GIT_COMMITTER_DATE=2002-03-04T05:06:07Z git commit -qm two && "
	    "GIT_COMMITTER_DATE=2030-01-01T00:00:00Z git tag -a ann -m rel && "
	    "echo v3 > a.txt && echo later > later.txt && git add . && "
	    "git commit -qm three && cd .. && git clone -q --bare w up.git",
	    tmpdir, suburl);
	sh("cd %s && git init -q -b main b && cd b && "
	    "head -c 1048576 /dev/zero > zero && git add . && "
	    "git commit -qm big && git tag big && cd .. && "
	    "git clone -q --bare b big.git", tmpdir);
	snprintf(cmd, sizeof(cmd), "git -C %s/w rev-parse light^{commit}",
	    tmpdir);
	capture(c1, sizeof(c1), cmd);
	snprintf(cmd, sizeof(cmd), "git -C %s/w rev-parse ann^{commit}",
	    tmpdir);
	capture(c2, sizeof(c2), cmd);
	return 0;
}

static int
teardown(void **state)
{
	sh("if [ -f %s/daemon.pid ]; then kill $(cat %s/daemon.pid); fi; "
	    "rm -rf %s", tmpdir, tmpdir, tmpdir);
	return 0;
}

static char *
newdest(void)
{
	return xasprintf("%s/dest%d", tmpdir, ++ndest);
}

static void
opts(struct fetch_opts *o, const char *u, const char *tag, char *dest)
{
	memset(o, 0, sizeof(*o));
	o->url = u;
	o->tag = tag;
	o->dest = dest;
	o->timeout_ms = 60000;
}

static char *
slurp(const char *dir, const char *name)
{
	struct buf	 b = BUF_INIT, e = BUF_INIT;
	char		*p = xasprintf("%s/%s", dir, name);

	if (read_file(p, 4096, &b, &e) == -1)
		fail_msg("%s: %s", p, buf_str(&e));
	free(p);
	buf_free(&e);
	return buf_release(&b);
}

static int
count_git(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	if (strcmp(path + f->base, ".git") == 0)
		ngit++;
	return 0;
}

static int
git_entries(const char *dir)
{
	ngit = 0;
	assert_int_equal(nftw(dir, count_git, 16, FTW_PHYS), 0);
	return ngit;
}

static void
t_lightweight(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	struct stat		 sb;
	char			*d = newdest(), *s, *p;

	opts(&o, url, "light", d);
	assert_int_equal(fetch_source(&o, &r, &err), 0);
	assert_int_equal(r.commit_time, T_COMMIT1);
	assert_string_equal(r.commit, c1);
	assert_string_equal(s = slurp(d, "a.txt"), "v1\n");
	free(s);
	assert_string_equal(s = slurp(d, "d/e/f"), "deep\n");
	free(s);
	p = xasprintf("%s/d/e/f", d);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	free(p);
	p = xasprintf("%s/link", d);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	free(p);
	p = xasprintf("%s/later.txt", d);
	assert_int_equal(lstat(p, &sb), -1);
	free(p);
	/* a.txt, d, d/e, d/e/f, link */
	assert_int_equal(r.files, 5);
	assert_int_equal(r.bytes, 3 + 5 + 5);
	assert_int_equal(git_entries(d), 0);
	buf_free(&err);
	free(d);
}

static void
t_annotated(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	struct stat		 sb;
	char			*d = newdest(), *s, *p;

	opts(&o, url, "ann", d);
	assert_int_equal(fetch_source(&o, &r, &err), 0);
	/* the commit's committer date, not the tagger's 2030 */
	assert_int_equal(r.commit_time, T_COMMIT2);
	assert_string_equal(r.commit, c2);
	assert_string_equal(s = slurp(d, "a.txt"), "v2\n");
	free(s);
	assert_int_equal(r.nsubmodules, 0);
	/* without submodules: the gitlink is an empty directory */
	p = xasprintf("%s/sub/s.txt", d);
	assert_int_equal(lstat(p, &sb), -1);
	free(p);
	assert_int_equal(git_entries(d), 0);
	buf_free(&err);
	free(d);
}

static void
t_submodule(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	char			*d = newdest(), *s;

	opts(&o, url, "ann", d);
	o.submodules = 1;
	if (fetch_source(&o, &r, &err) != 0)
		fail_msg("%s", buf_str(&err));
	assert_int_equal(r.nsubmodules, 1);
	assert_int_equal(r.commit_time, T_COMMIT2);
	assert_string_equal(s = slurp(d, "sub/s.txt"), "inner\n");
	free(s);
	/* top-level .git and the submodule's gitlink file both gone */
	assert_int_equal(git_entries(d), 0);
	buf_free(&err);
	free(d);
}

static void
t_missing_tag(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	char			*d = newdest(), *want;

	opts(&o, url, "v9.9", d);
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s tag v9.9: the upstream has no "
	    "tag \"v9.9\"", url);
	assert_string_equal(buf_str(&err), want);
	free(want);
	buf_free(&err);
	free(d);
}

static void
t_unreachable(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	char			*d = newdest();
	const char		*u = "file:///nonexistent/peipkg/none.git";
	const char		*pfx = "fetch source: file:///nonexistent/"
				    "peipkg/none.git tag light: ";

	opts(&o, u, "light", d);
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	assert_true(strncmp(buf_str(&err), pfx, strlen(pfx)) == 0);
	/* libgit2's own message follows */
	assert_non_null(strstr(buf_str(&err), "nonexistent"));
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
	free(d);
}

static void
t_caps(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	char			*d = newdest(), *want, *u;

	opts(&o, url, "light", d);
	o.max_files = 4;
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s tag light: source too large: "
	    "more than 4 files and directories", url);
	assert_string_equal(buf_str(&err), want);
	free(want);
	free(d);
	buf_reset(&err);
	/* 1 MiB of zeros: a small download, a large checkout */
	d = newdest();
	u = xasprintf("file://%s/big.git", tmpdir);
	opts(&o, u, "big", d);
	o.max_bytes = 100000;
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s tag big: source too large: more "
	    "than 100000 bytes", u);
	assert_string_equal(buf_str(&err), want);
	free(want);
	free(d);
	/* the download itself over the cap */
	buf_reset(&err);
	d = newdest();
	opts(&o, url, "light", d);
	o.max_bytes = 12;
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s tag light: source too large: ",
	    url);
	if (strncmp(buf_str(&err), want, strlen(want)) != 0)
		fail_msg("%s", buf_str(&err));
	free(want);
	free(d);
	d = newdest();
	opts(&o, u, "big", d);
	if (fetch_source(&o, &r, &err) != 0)
		fail_msg("%s", buf_str(&err));
	assert_int_equal(r.bytes, 1048576);
	free(u);
	buf_free(&err);
	free(d);
}

/* A listener that accepts (backlog) but never answers. */
static void
t_timeout(void **state)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	struct timespec		 t0, t1;
	char			*d = newdest(), *u, *want;
	int			 s;
	long			 ms;

	assert_int_not_equal(s = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	u = xasprintf("git://127.0.0.1:%d/x.git", ntohs(sa.sin_port));
	opts(&o, u, "v1", d);
	o.timeout_ms = 1500;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 1400 && ms < 5000);
	want = xasprintf("fetch source: %s tag v1: timed out after 1s", u);
	assert_string_equal(buf_str(&err), want);
	close(s);
	free(want);
	free(u);
	buf_free(&err);
	free(d);
}

static int
free_port(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	int			 s, port;

	assert_int_not_equal(s = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(s);
	return port;
}

static void
wait_port(int port)
{
	struct sockaddr_in	 sa;
	int			 s, i, rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	for (i = 0; i < 100 && rc == -1; i++) {
		assert_int_not_equal(s = socket(AF_INET, SOCK_STREAM, 0), -1);
		if ((rc = connect(s, (struct sockaddr *)&sa, sizeof(sa))) == -1)
			usleep(50000);
		close(s);
	}
	assert_int_equal(rc, 0);
}

/*
 * The superproject over git:// (git daemon on 127.0.0.1): its file://
 * submodule is refused; without submodules the fetch works.
 */
static void
t_remote_superproject(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	char			*d = newdest(), *u, *want;
	int			 port = free_port();

	sh("git daemon --reuseaddr --export-all --base-path=%s "
	    "--listen=127.0.0.1 --port=%d --pid-file=%s/daemon.pid --detach "
	    "%s", tmpdir, port, tmpdir, tmpdir);
	wait_port(port);
	u = xasprintf("git://127.0.0.1:%d/up.git", port);
	opts(&o, u, "ann", d);
	if (fetch_source(&o, &r, &err) != 0)
		fail_msg("%s", buf_str(&err));
	assert_int_equal(r.commit_time, T_COMMIT2);
	assert_string_equal(r.commit, c2);
	free(d);
	d = newdest();
	opts(&o, u, "ann", d);
	o.submodules = 1;
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s tag ann: submodule sub: local URL "
	    "\"%s\" refused for a remote superproject", u, suburl);
	sh("kill $(cat %s/daemon.pid) && rm %s/daemon.pid", tmpdir, tmpdir);
	assert_string_equal(buf_str(&err), want);
	free(want);
	free(u);
	buf_free(&err);
	free(d);
}

/*
 * Shallow: a 1 MiB incompressible blob lives only in the commit before
 * the tag.  Over smart HTTP (tests/git-http.py) with a 512 KiB download
 * cap, the depth-1 fetch of libgit2 >= 1.7 succeeds, where a
 * whole-history fetch (libgit2 1.5; git:// always) goes over the cap.
 */
static void
t_shallow(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	const char		*src = getenv("top_srcdir");
	char			*d = newdest(), *u;
	int			 port = free_port(), rc;

	sh("cd %s && git init -q -b main h && cd h && "
	    "head -c 1048576 /dev/urandom > noise && echo a > a.txt && "
	    "git add . && git commit -qm noise && git rm -q noise && "
	    "git commit -qm clean && git tag -a v1 -m v1 && cd .. && "
	    "git clone -q --bare h h.git", tmpdir);
	sh("python3 %s/tests/git-http.py %s %d & echo $! > %s/http.pid",
	    src != NULL ? src : ".", tmpdir, port, tmpdir);
	wait_port(port);
	u = xasprintf("http://127.0.0.1:%d/h.git", port);
	opts(&o, u, "v1", d);
	o.max_bytes = 512 * 1024;
	rc = fetch_source(&o, &r, &err);
	sh("kill $(cat %s/http.pid) && rm %s/http.pid", tmpdir, tmpdir);
	if (FETCH_HAVE_DEPTH) {
		if (rc != 0)
			fail_msg("shallow fetch: %s", buf_str(&err));
		assert_int_equal(r.files, 1);
	} else
		assert_int_equal(rc, -1);
	free(u);
	free(d);
	buf_free(&err);
}

static void
t_bad_options(void **state)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	struct buf		 err = BUF_INIT;
	char			*d = newdest(), *want;

	opts(&o, url, "light", tmpdir);
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s already exists", tmpdir);
	assert_string_equal(buf_str(&err), want);
	free(want);
	buf_reset(&err);
	opts(&o, url, "a..b", d);
	assert_int_equal(fetch_source(&o, &r, &err), -1);
	want = xasprintf("fetch source: %s tag a..b: \"a..b\" is not a "
	    "valid tag name", url);
	assert_string_equal(buf_str(&err), want);
	free(want);
	buf_reset(&err);
	assert_int_equal(fetch_tag_valid("v1.2/x-3", &err), 0);
	assert_int_equal(fetch_tag_valid("x:y", &err), -1);
	assert_int_equal(fetch_tag_valid("*", &err), -1);
	assert_int_equal(fetch_tag_valid("", &err), -1);
	buf_free(&err);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_lightweight),
		cmocka_unit_test(t_annotated),
		cmocka_unit_test(t_submodule),
		cmocka_unit_test(t_missing_tag),
		cmocka_unit_test(t_unreachable),
		cmocka_unit_test(t_caps),
		cmocka_unit_test(t_timeout),
		cmocka_unit_test(t_remote_superproject),
		cmocka_unit_test(t_shallow),
		cmocka_unit_test(t_bad_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
