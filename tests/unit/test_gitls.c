/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_gitls.c: listing the tags of a local bare repository with libgit2
 * (lightweight and annotated tags, '/' in names, peeled collapse, the
 * max_tags cap, errors) and the child-to-poller record stream, including
 * hostile streams (src/gitls.c).  Repositories are made with the git CLI.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "gitls.h"

#define MAXT	64

struct listing {
	int	 ntags;
	char	*name[MAXT];
	int	 cut[MAXT];
	char	 oid[MAXT][41];
	int	 connected;
	int	 abort_at;	/* fail the callback at this tag, 0 = never */
};

static char	 tmpdir[] = "/tmp/test_gitls.XXXXXX";
static char	 url[256];
static char	 c1[41], c2[41], tagobj[41];

static void
sh(const char *fmt, ...)
{
	char	 cmd[4096];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void
sh_out(char *out, size_t len, const char *cmd)
{
	FILE	*f = popen(cmd, "r");

	assert_non_null(f);
	assert_non_null(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(f), 0);
}

static int
on_connected(void *arg, struct buf *err)
{
	struct listing	*l = arg;

	l->connected++;
	return 0;
}

static int
on_tag(const struct gitls_tag *t, void *arg, struct buf *err)
{
	struct listing	*l = arg;

	if (l->ntags + 1 == l->abort_at)
		return errf(err, "stop here");
	assert_true(l->ntags < MAXT);
	assert_int_equal(strlen(t->name), t->len);
	l->name[l->ntags] = xstrdup(t->name);
	l->cut[l->ntags] = t->cut;
	hex_encode(t->oid, GITLS_OID_LEN, l->oid[l->ntags]);
	l->ntags++;
	return 0;
}

static void
listing_free(struct listing *l)
{
	int	 i;

	for (i = 0; i < l->ntags; i++)
		free(l->name[i]);
	memset(l, 0, sizeof(*l));
}

static int
setup_repo(void **state)
{
	char	 cmd[512];

	assert_non_null(mkdtemp(tmpdir));
	sh("cd %s && git init -q -b main work && cd work && "
	    "git -c user.name=t -c user.email=t@e commit -q --allow-empty "
	    "-m one && git tag v1.0.0 && "
	    "git -c user.name=t -c user.email=t@e commit -q --allow-empty "
	    "-m two && git -c user.name=t -c user.email=t@e tag -a -m ann "
	    "v2.0.0 && git tag release/1.2 HEAD~1 && "
	    "git clone -q --bare . ../bare.git", tmpdir);
	snprintf(cmd, sizeof(cmd), "git -C %s/bare.git rev-parse v1.0.0",
	    tmpdir);
	sh_out(c1, sizeof(c1), cmd);
	snprintf(cmd, sizeof(cmd), "git -C %s/bare.git rev-parse "
	    "'v2.0.0^{commit}'", tmpdir);
	sh_out(c2, sizeof(c2), cmd);
	snprintf(cmd, sizeof(cmd), "git -C %s/bare.git rev-parse v2.0.0",
	    tmpdir);
	sh_out(tagobj, sizeof(tagobj), cmd);
	snprintf(url, sizeof(url), "file://%s/bare.git", tmpdir);
	assert_int_equal(gitls_init(NULL), 0);
	return 0;
}

static int
teardown_repo(void **state)
{
	sh("rm -rf %s", tmpdir);
	return 0;
}

static void
test_list_tags(void **state)
{
	struct listing		 l = { 0 };
	struct gitls_stats	 st;
	struct buf		 err = BUF_INIT;

	assert_int_equal(gitls_list(url, 100, on_connected, on_tag, &l, &st,
	    &err), 0);
	assert_int_equal(l.connected, 1);
	assert_int_equal(l.ntags, 3);
	assert_int_equal(st.seen, 3);
	assert_int_equal(st.listed, 3);
	/* Server order (sorted by ref name), '/' kept, prefix removed. */
	assert_string_equal(l.name[0], "release/1.2");
	assert_string_equal(l.name[1], "v1.0.0");
	assert_string_equal(l.name[2], "v2.0.0");
	assert_string_equal(l.oid[0], c1);
	assert_string_equal(l.oid[1], c1);
	/* The annotated tag carries its peeled commit, not the tag object. */
	assert_string_equal(l.oid[2], c2);
	assert_string_not_equal(tagobj, c2);
	assert_int_equal(l.cut[0] + l.cut[1] + l.cut[2], 0);
	assert_int_equal(err.len, 0);
	listing_free(&l);
}

static void
test_plain_path(void **state)
{
	struct listing		 l = { 0 };
	struct gitls_stats	 st;
	char			 path[256];

	snprintf(path, sizeof(path), "%s/bare.git", tmpdir);
	assert_int_equal(gitls_list(path, 100, NULL, on_tag, &l, &st, NULL),
	    0);
	assert_int_equal(l.ntags, 3);
	listing_free(&l);
}

static void
test_cap(void **state)
{
	struct listing		 l = { 0 };
	struct gitls_stats	 st;

	assert_int_equal(gitls_list(url, 2, NULL, on_tag, &l, &st, NULL), 0);
	assert_int_equal(l.ntags, 2);
	assert_int_equal(st.seen, 3);
	assert_int_equal(st.listed, 2);
	assert_string_equal(l.name[1], "v1.0.0");
	listing_free(&l);
}

static void
test_abort(void **state)
{
	struct listing		 l = { 0 };
	struct gitls_stats	 st;
	struct buf		 err = BUF_INIT;

	l.abort_at = 2;
	assert_int_equal(gitls_list(url, 100, NULL, on_tag, &l, &st, &err),
	    -1);
	assert_string_equal(buf_str(&err), "stop here");
	assert_int_equal(l.ntags, 1);
	listing_free(&l);
	buf_free(&err);
}

static void
test_missing(void **state)
{
	struct listing		 l = { 0 };
	struct gitls_stats	 st;
	struct buf		 err = BUF_INIT, want = BUF_INIT;
	char			 u[300];

	snprintf(u, sizeof(u), "file://%s/nope.git", tmpdir);
	buf_addf(&want, "ls-remote %s: ", u);
	assert_int_equal(gitls_list(u, 100, on_connected, on_tag, &l, &st,
	    &err), -1);
	assert_int_equal(l.connected, 0);
	assert_int_equal(l.ntags, 0);
	assert_memory_equal(buf_str(&err), want.data, want.len);
	/* One line: the libgit2 message follows the URL. */
	assert_true(err.len > want.len);
	assert_null(strchr(buf_str(&err), '\n'));
	buf_free(&err);
	buf_free(&want);
}

/* URL parse error on an unsupported scheme. */
static void
test_bad_scheme(void **state)
{
	struct gitls_stats	 st;
	struct buf		 err = BUF_INIT;

	assert_int_equal(gitls_list("bogus://x/y", 100, NULL, on_tag, NULL,
	    &st, &err), -1);
	assert_true(str_has_prefix(buf_str(&err), "ls-remote bogus://x/y: "));
	buf_free(&err);
}

/* A long name, through a child writing the record stream. */
static void
test_child_stream(void **state)
{
	struct gitls_reader	*r;
	struct gitls_rec	 rec;
	char			 longname[5000], path[300];
	FILE			*f;
	int			 p[2], rc, ntags = 0, status, kinds = 0;
	pid_t			 pid;

	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "v9.", 3);
	longname[1000] = '\0';
	for (rc = 100; rc < 1000; rc += 100)
		longname[rc] = '/';
	/* 1000 bytes in ten components, added to packed-refs: libgit2's
	 * local transport refuses names over 1024 bytes or with a component
	 * over 255 (cut names come from network transports, see
	 * tests/integ/poller-role.sh). */
	snprintf(path, sizeof(path), "%s/bare.git/packed-refs", tmpdir);
	assert_non_null(f = fopen(path, "a"));
	fprintf(f, "%s refs/tags/%s\n", c1, longname);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		_exit(gitls_child(p[1], url, 100));
	}
	close(p[1]);
	r = xmalloc(sizeof(*r));
	gitls_reader_init(r, 100);
	while ((rc = gitls_reader_read(r, p[0], NULL)) == 1) {
		while ((rc = gitls_reader_next(r, &rec, NULL)) == 1) {
			kinds = kinds * 10 + (rec.kind == GITLS_REC_TAG ? 2 :
			    rec.kind == GITLS_REC_CONNECTED ? 1 : 3);
			if (rec.kind == GITLS_REC_TAG && ntags++ == 3) {
				assert_int_equal(rec.tag.cut, 0);
				assert_string_equal(rec.tag.name, longname);
			}
			if (rec.kind == GITLS_REC_END) {
				assert_int_equal(rec.stats.seen, 4);
				assert_int_equal(rec.stats.listed, 4);
			}
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(kinds, 122223);	/* C T T T T E */
	assert_int_equal(gitls_reader_finish(r, NULL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	close(p[0]);
	free(r);
}

static void
test_child_fail(void **state)
{
	struct gitls_reader	*r = xmalloc(sizeof(*r));
	struct gitls_rec	 rec;
	int			 p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(gitls_child(p[1], "file:///nonexistent/x.git", 10),
	    0);
	close(p[1]);
	gitls_reader_init(r, 10);
	assert_int_equal(gitls_reader_read(r, p[0], NULL), 1);
	assert_int_equal(gitls_reader_next(r, &rec, NULL), 1);
	assert_int_equal(rec.kind, GITLS_REC_FAIL);
	assert_true(str_has_prefix(rec.error,
	    "ls-remote file:///nonexistent/x.git: "));
	assert_int_equal(gitls_reader_read(r, p[0], NULL), 0);
	assert_int_equal(gitls_reader_finish(r, NULL), 0);
	/* Writing to a closed pipe: exit status 1. */
	close(p[0]);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(gitls_child(p[1], url, 10), 1);
	close(p[1]);
	free(r);
}

/* ---- hostile streams ------------------------------------------------ */

static size_t
rec(uint8_t *out, int kind, uint32_t len, const void *payload, size_t n)
{
	out[0] = (uint8_t)kind;
	memcpy(out + 1, &len, 4);
	if (n > 0)
		memcpy(out + 5, payload, n);
	return 5 + n;
}

static size_t
tagrec(uint8_t *out, uint8_t flags, const char *name)
{
	uint8_t	 p[64];
	size_t	 n = strlen(name);

	p[0] = flags;
	memset(p + 1, 0xab, 20);
	memcpy(p + 21, name, n);
	return rec(out, 'T', (uint32_t)(21 + n), p, 21 + n);
}

/* Feed a stream; returns the first non-1 result of next() and the error. */
static int
run_stream(const uint8_t *s, size_t n, size_t max_tags, struct buf *err,
    int *nrec)
{
	struct gitls_reader	*r = xmalloc(sizeof(*r));
	struct gitls_rec	 x;
	int			 rc;

	gitls_reader_init(r, max_tags);
	assert_int_equal(gitls_reader_feed(r, s, n), n);
	*nrec = 0;
	while ((rc = gitls_reader_next(r, &x, err)) == 1)
		(*nrec)++;
	if (rc == 0)
		rc = gitls_reader_finish(r, err) == 0 ? 0 : -2;
	free(r);
	return rc;
}

static void
test_reader_good(void **state)
{
	uint8_t		 s[512];
	uint64_t	 e[2] = { 5, 2 };
	size_t		 n = 0;
	struct buf	 err = BUF_INIT;
	int		 nrec;

	n += rec(s + n, 'C', 0, NULL, 0);
	n += tagrec(s + n, 0, "v1");
	n += tagrec(s + n, 0, "");
	n += rec(s + n, 'E', 16, e, 16);
	assert_int_equal(run_stream(s, n, 2, &err, &nrec), 0);
	assert_int_equal(nrec, 4);
	/* Failure without connecting; odd bytes in the text are masked. */
	n = rec(s, 'F', 6, "a\nb\xff\x01z", 6);
	assert_int_equal(run_stream(s, n, 2, &err, &nrec), 0);
	assert_int_equal(nrec, 1);
	assert_int_equal(err.len, 0);
}

static void
expect_bad(const uint8_t *s, size_t n, size_t max_tags, const char *why)
{
	struct buf	 err = BUF_INIT;
	int		 nrec;

	assert_int_not_equal(run_stream(s, n, max_tags, &err, &nrec), 0);
	if (strstr(buf_str(&err), why) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", buf_str(&err), why);
	buf_free(&err);
}

static void
test_reader_hostile(void **state)
{
	uint8_t		 s[512];
	uint64_t	 e[2] = { 1, 1 }, lie[2] = { 0, 1 };
	size_t		 n;

	n = tagrec(s, 0, "v1");
	expect_bad(s, n, 10, "bad 'T' record");		/* before C */
	n = rec(s, 'C', 0, NULL, 0);
	n += rec(s + n, 'C', 0, NULL, 0);
	expect_bad(s, n, 10, "bad 'C' record");
	n = rec(s, 'C', 1, "x", 1);
	expect_bad(s, n, 10, "bad 'C' record");
	n = rec(s, 'C', 0, NULL, 0);
	n += tagrec(s + n, 0, "a");
	n += tagrec(s + n, 0, "b");
	expect_bad(s, n, 1, "more than 1 tags");
	n = rec(s, 'C', 0, NULL, 0);
	n += tagrec(s + n, 2, "a");
	expect_bad(s, n, 10, "bad tag flags");
	n = rec(s, 'C', 0, NULL, 0);
	n += tagrec(s + n, GITLS_F_CUT, "short");
	expect_bad(s, n, 10, "bad tag flags");
	/* An absurd length is refused before waiting for its bytes. */
	n = rec(s, 'C', 0, NULL, 0);
	n += rec(s + n, 'T', 0xffffffffu, NULL, 0);
	expect_bad(s, n, 10, "bad 'T' record (length 4294967295)");
	n = rec(s, 'C', 0, NULL, 0);
	n += rec(s + n, 'T', 20, NULL, 0);
	expect_bad(s, n, 10, "bad 'T' record (length 20)");
	n = rec(s, 'F', GITLS_ERR_MAX + 1, NULL, 0);
	expect_bad(s, n, 10, "bad 'F' record");
	n = rec(s, 'Z', 0, NULL, 0);
	expect_bad(s, n, 10, "unknown record (kind 90)");
	n = rec(s, 'C', 0, NULL, 0);
	n += tagrec(s + n, 0, "a");
	n += rec(s + n, 'E', 16, e, 16);
	n += rec(s + n, 'C', 0, NULL, 0);
	expect_bad(s, n, 10, "data after its result");
	n = rec(s, 'C', 0, NULL, 0);
	n += rec(s + n, 'E', 16, lie, 16);
	expect_bad(s, n, 10, "reported 1 of 0 tags but sent 0");
	n = rec(s, 'C', 0, NULL, 0);
	n += rec(s + n, 'E', 8, e, 8);
	expect_bad(s, n, 10, "bad 'E' record");
	/* Truncated streams. */
	n = rec(s, 'C', 0, NULL, 0);
	n += tagrec(s + n, 0, "v1");
	expect_bad(s, n, 10, "ended without a result");
	expect_bad(s, n - 3, 10, "ended without a result");
	n = rec(s, 'C', 0, NULL, 0);
	n += rec(s + n, 'E', 16, e, 4);
	expect_bad(s, n, 10, "ended without a result");
}

/* ---- tag names ------------------------------------------------------ */

static void
name_ok(const char *s)
{
	struct buf	 err = BUF_INIT;

	if (gitls_tag_name_check(s, strlen(s), &err) != 0)
		fail_msg("\"%s\" refused: %s", s, buf_str(&err));
	buf_free(&err);
}

static void
name_bad(const char *s, size_t len, const char *why)
{
	struct buf	 err = BUF_INIT;

	assert_int_equal(gitls_tag_name_check(s, len, &err), -1);
	if (strcmp(buf_str(&err), why) != 0)
		fail_msg("\"%s\": \"%s\", want \"%s\"", s, buf_str(&err), why);
	buf_free(&err);
}

static void
test_tag_names(void **state)
{
	char	 long_name[200];

	name_ok("v1.2.3");
	name_ok("release/1.2");
	name_ok("curl-8_5_0");
	name_ok("pkg@1.2.3+build~rc1");
	name_ok("1");
	memset(long_name, 'a', sizeof(long_name));
	long_name[GITLS_TAG_MAX] = '\0';
	name_ok(long_name);
	long_name[GITLS_TAG_MAX] = 'a';
	name_bad(long_name, GITLS_TAG_MAX + 1,
	    "tag name is 129 bytes long (1 to 128 allowed)");
	name_bad("", 0, "tag name is 0 bytes long (1 to 128 allowed)");
	name_bad("v1.0;id", 7, "tag name has byte 0x3b at offset 4 (allowed: "
	    "A-Z a-z 0-9 . _ + ~ @ / -)");
	name_bad("v1$(id)", 7, "tag name has byte 0x24 at offset 2 (allowed: "
	    "A-Z a-z 0-9 . _ + ~ @ / -)");
	name_bad("v1 x", 4, "tag name has byte 0x20 at offset 2 (allowed: "
	    "A-Z a-z 0-9 . _ + ~ @ / -)");
	name_bad("v1\xe2\x88\x95x", 6, "tag name has byte 0xe2 at offset 2 "
	    "(allowed: A-Z a-z 0-9 . _ + ~ @ / -)");
	name_bad("v1\0x", 4, "tag name has byte 0x00 at offset 2 (allowed: "
	    "A-Z a-z 0-9 . _ + ~ @ / -)");
	name_bad("-v1", 3, "tag name does not start with a letter or a digit");
	name_bad(".v1", 3, "tag name does not start with a letter or a digit");
	name_bad("/v1", 3, "tag name does not start with a letter or a digit");
	name_bad("v1/../../x", 10, "tag name is not a plain ref name (\"..\", "
	    "\"//\", \"/.\", or a trailing '/' or '.')");
	name_bad("v1//x", 5, "tag name is not a plain ref name (\"..\", "
	    "\"//\", \"/.\", or a trailing '/' or '.')");
	name_bad("v1/.x", 5, "tag name is not a plain ref name (\"..\", "
	    "\"//\", \"/.\", or a trailing '/' or '.')");
	name_bad("v1/", 3, "tag name is not a plain ref name (\"..\", "
	    "\"//\", \"/.\", or a trailing '/' or '.')");
	name_bad("v1.", 3, "tag name is not a plain ref name (\"..\", "
	    "\"//\", \"/.\", or a trailing '/' or '.')");
	name_bad("v1.lock", 7, "tag name has a component ending in \".lock\"");
	name_bad("v1.lock/x", 9, "tag name has a component ending in "
	    "\".lock\"");
	name_ok("v1.locked");
}

/* ---- asynchronous listings ------------------------------------------ */

struct run {
	struct event_base	*base;
	struct listing		 l;
	int			 done;
	int			 ok;
	char			 err[512];
	uint64_t		 seen;
	int64_t			 elapsed;
	long			 rss;
};

static void
run_tag(void *arg, const struct gitls_tag *t)
{
	struct run	*r = arg;

	(void)on_tag(t, &r->l, NULL);
}

static void
run_done(void *arg, const struct gitls_result *res)
{
	struct run	*r = arg;

	r->done++;
	r->ok = res->ok;
	snprintf(r->err, sizeof(r->err), "%s", res->error);
	r->seen = res->stats.seen;
	r->elapsed = res->elapsed_ns;
	r->rss = res->max_rss_kib;
	event_base_loopbreak(r->base);
}

static void
stop_cb(evutil_socket_t fd, short ev, void *arg)
{
	event_base_loopbreak(arg);
}

/* Run the loop until a job is done or ms pass. */
static void
run_loop(struct event_base *base, long ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event	*ev = evtimer_new(base, stop_cb, base);

	evtimer_add(ev, &tv);
	event_base_dispatch(base);
	event_free(ev);
}

static struct gitls_job *
run_start(struct gitls_runner *rn, struct run *r, const char *u,
    int64_t ct, int64_t t)
{
	struct gitls_job_conf	 c;

	memset(&c, 0, sizeof(c));
	c.url = u;
	c.max_tags = 100;
	c.connect_timeout = ct;
	c.timeout = t;
	c.tag = run_tag;
	c.done = run_done;
	c.arg = r;
	return gitls_job_start(rn, &c, NULL);
}

/* A TCP listener that never accepts: connections hang in its backlog. */
static int
tarpit(char *u, size_t len)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	snprintf(u, len, "git://127.0.0.1:%d/x.git", ntohs(sin.sin_port));
	return s;
}

static void
test_runner_list(void **state)
{
	struct run		 r;
	struct gitls_runner	*rn;

	memset(&r, 0, sizeof(r));
	assert_non_null(r.base = event_base_new());
	assert_non_null(rn = gitls_runner_new(r.base, NULL));
	assert_non_null(run_start(rn, &r, url, 5000000000LL,
	    10000000000LL));
	run_loop(r.base, 10000);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.ok, 1);
	assert_string_equal(r.err, "");
	assert_int_equal(r.seen, 3);
	assert_int_equal(r.l.ntags, 3);
	assert_string_equal(r.l.name[2], "v2.0.0");
	assert_string_equal(r.l.oid[2], c2);
	assert_true(r.rss > 0);
	listing_free(&r.l);
	/* A missing repository: the child's libgit2 error. */
	memset(&r.l, 0, sizeof(r.l));
	r.done = 0;
	assert_non_null(run_start(rn, &r, "file:///nonexistent/y.git",
	    5000000000LL, 10000000000LL));
	run_loop(r.base, 10000);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.ok, 0);
	assert_true(str_has_prefix(r.err,
	    "ls-remote file:///nonexistent/y.git: "));
	gitls_runner_free(rn);
	event_base_free(r.base);
}

static void
test_runner_timeouts(void **state)
{
	struct run		 r;
	struct gitls_runner	*rn;
	char			 u[64], want[128];
	int			 s = tarpit(u, sizeof(u));

	memset(&r, 0, sizeof(r));
	assert_non_null(r.base = event_base_new());
	assert_non_null(rn = gitls_runner_new(r.base, NULL));
	assert_non_null(run_start(rn, &r, u, 300000000LL, 10000000000LL));
	run_loop(r.base, 5000);
	snprintf(want, sizeof(want), "ls-remote %s: connect timeout after "
	    "0.3s", u);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.ok, 0);
	assert_string_equal(r.err, want);
	assert_true(r.elapsed >= 300000000LL && r.elapsed < 2000000000LL);
	/* The whole-listing deadline, shorter than the connect one. */
	r.done = 0;
	assert_non_null(run_start(rn, &r, u, 5000000000LL, 250000000LL));
	run_loop(r.base, 5000);
	snprintf(want, sizeof(want), "ls-remote %s: timeout after 0.25s", u);
	assert_int_equal(r.done, 1);
	assert_string_equal(r.err, want);
	/* Freeing the runner kills and reaps a running child, silently. */
	r.done = 0;
	assert_non_null(run_start(rn, &r, u, 5000000000LL, 5000000000LL));
	run_loop(r.base, 100);
	gitls_runner_free(rn);
	assert_int_equal(r.done, 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	event_base_free(r.base);
	close(s);
}

/* While paused, no record is handled and the job cannot end. */
static void
test_runner_pause(void **state)
{
	struct run		 r;
	struct gitls_runner	*rn;

	memset(&r, 0, sizeof(r));
	assert_non_null(r.base = event_base_new());
	assert_non_null(rn = gitls_runner_new(r.base, NULL));
	gitls_runner_pause(rn, 1);
	assert_non_null(run_start(rn, &r, url, 5000000000LL,
	    10000000000LL));
	run_loop(r.base, 500);
	assert_int_equal(r.done, 0);
	assert_int_equal(r.l.ntags, 0);
	gitls_runner_pause(rn, 0);
	run_loop(r.base, 10000);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.l.ntags, 3);
	listing_free(&r.l);
	gitls_runner_free(rn);
	event_base_free(r.base);
}

static void
test_fmt_duration(void **state)
{
	char	 b[32];

	gitls_fmt_duration(b, sizeof(b), 10000000000LL);
	assert_string_equal(b, "10s");
	gitls_fmt_duration(b, sizeof(b), 120000000000LL);
	assert_string_equal(b, "120s");
	gitls_fmt_duration(b, sizeof(b), 1500000000LL);
	assert_string_equal(b, "1.5s");
	gitls_fmt_duration(b, sizeof(b), 250000000LL);
	assert_string_equal(b, "0.25s");
	gitls_fmt_duration(b, sizeof(b), 1001999999LL);
	assert_string_equal(b, "1.001s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_tags),
		cmocka_unit_test(test_plain_path),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_bad_scheme),
		cmocka_unit_test(test_runner_list),
		cmocka_unit_test(test_runner_timeouts),
		cmocka_unit_test(test_runner_pause),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_tag_names),
		cmocka_unit_test(test_child_stream),
		cmocka_unit_test(test_child_fail),
		cmocka_unit_test(test_reader_good),
		cmocka_unit_test(test_reader_hostile),
	};

	return cmocka_run_group_tests(tests, setup_repo, teardown_repo);
}
