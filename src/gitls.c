/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * gitls.c: list a remote's tags with libgit2 (gitls_list), write them
 * as bounded records in a listing child (gitls_child), read the records
 * back (gitls_reader_*), run listings as forked children from an event
 * loop with deadlines (gitls_runner, gitls_job), and check tag names.
 *
 * Trust: gitls_list() and gitls_child() parse what an upstream server
 * sends (through libgit2) and run only in a sandboxed listing child;
 * the reader and the runner run in the poller and treat the child's
 * bytes as hostile.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <git2.h>

#include "gitls.h"
#include "log.h"
#include "proc.h"

#define TAGS_PREFIX	"refs/tags/"
#define PEELED_SUFFIX	"^{}"
#define CA_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define CHILD_OUT	(16 * 1024)
#define GITLS_CHILD_FD	3	/* the pipe in a listing child */
#define GITLS_READS	8	/* pipe reads per wake-up */

_Static_assert(GITLS_REC_MAX <= GITLS_READ_BUF / 2, "a record fits the reader");

/* The child's output, flushed when full and after C, E and F. */
struct child_out {
	int		 fd;
	int		 failed;
	size_t		 len;
	uint8_t		 data[CHILD_OUT];
};

/* Tag walk state: the last tag, waiting for a possible peeled entry. */
struct walk {
	gitls_tag_fn		 fn;
	void			*arg;
	size_t			 max_tags;
	struct gitls_stats	*st;
	const char		*pend;		/* name after refs/tags/ */
	size_t			 pend_len;
	const git_oid		*pend_oid;
	char			 cut[GITLS_NAME_MAX + 1];
};

static void	 git_errf(struct buf *, const char *, const char *);
static int	 isalnum_ascii(int);
static int	 tag_char_ok(int);
static int	 walk_emit(struct walk *, struct buf *);
static int	 walk_head(struct walk *, const git_remote_head *,
		    struct buf *);
static void	 out_flush(struct child_out *);
static void	 out_rec(struct child_out *, int, const void *, size_t,
		    const void *, size_t);
static int	 child_connected(void *, struct buf *);
static int	 child_tag(const struct gitls_tag *, void *, struct buf *);
static int	 reader_check(struct gitls_reader *, int, uint32_t,
		    struct buf *);
static void	 reader_take(struct gitls_reader *, int, const uint8_t *,
		    uint32_t, struct gitls_rec *);
static void	 reader_compact(struct gitls_reader *);

int
gitls_init(struct buf *err)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM,
			    GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
			    GIT_CONFIG_LEVEL_PROGRAMDATA };
	static int	 done;
	struct addrinfo	 hints, *res = NULL;
	size_t		 i;

	if (done)
		return 0;
	if (git_libgit2_init() < 0) {
		git_errf(err, "libgit2", "initialisation failed");
		return -1;
	}
	(void)git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	/* No user or system git config: nothing outside the upstream. */
	for (i = 0; i < nitems(levels); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i],
		    "") < 0) {
			git_errf(err, "libgit2", "cannot clear config paths");
			return -1;
		}
	/* Parse the CA store once, before the filter; children inherit it. */
	if (access(CA_FILE, R_OK) == 0)
		(void)git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
		    CA_FILE, NULL);
	/* Load the NSS modules for the hosts lookup (no network traffic). */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", "9418", &hints, &res) == 0)
		freeaddrinfo(res);
	git_error_clear();
	done = 1;
	return 0;
}

/* "<what>: <libgit2 message>", the message bounded. */
static void
git_errf(struct buf *err, const char *what, const char *fallback)
{
	const git_error	*e = git_error_last();
	const char	*m = e != NULL && e->message != NULL ?
			    e->message : fallback;
	size_t		 n = strnlen(m, GITLS_ERR_MAX);

	errf(err, "%s: %.*s", what, (int)n, m);
}

static int
walk_emit(struct walk *w, struct buf *err)
{
	struct gitls_tag	 t;

	if (w->pend == NULL)
		return 0;
	w->st->seen++;
	if (w->st->listed >= w->max_tags) {
		w->pend = NULL;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	t.name = w->pend;
	t.len = w->pend_len;
	if (t.len > GITLS_NAME_MAX) {
		memcpy(w->cut, w->pend, GITLS_NAME_MAX);
		w->cut[GITLS_NAME_MAX] = '\0';
		t.name = w->cut;
		t.len = GITLS_NAME_MAX;
		t.cut = 1;
	}
	memcpy(t.oid, w->pend_oid->id, GITLS_OID_LEN);
	w->pend = NULL;
	w->st->listed++;
	return w->fn(&t, w->arg, err);
}

static int
walk_head(struct walk *w, const git_remote_head *h, struct buf *err)
{
	const char	*name = h->name;
	size_t		 n, sl = strlen(PEELED_SUFFIX);

	if (name == NULL || !str_has_prefix(name, TAGS_PREFIX))
		return 0;
	name += strlen(TAGS_PREFIX);
	n = strlen(name);
	if (n >= sl && strcmp(name + n - sl, PEELED_SUFFIX) == 0) {
		/* The peeled commit of the tag just before, else ignored. */
		if (w->pend != NULL && w->pend_len == n - sl &&
		    memcmp(w->pend, name, n - sl) == 0) {
			w->pend_oid = &h->oid;
			return walk_emit(w, err);
		}
		return 0;
	}
	if (walk_emit(w, err) == -1)
		return -1;
	w->pend = name;
	w->pend_len = n;
	w->pend_oid = &h->oid;
	return 0;
}

int
gitls_list(const char *url, size_t max_tags, gitls_connected_fn cfn,
    gitls_tag_fn fn, void *arg, struct gitls_stats *st, struct buf *err)
{
	git_remote			*remote = NULL;
	git_remote_callbacks		 cb;
	git_proxy_options		 po;
	const git_remote_head		**heads;
	struct walk			*w = NULL;
	struct buf			 what = BUF_INIT;
	size_t				 n, i;
	int				 rc = -1;

	st->seen = st->listed = 0;
	(void)git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	(void)git_proxy_options_init(&po, GIT_PROXY_OPTIONS_VERSION);
	buf_addf(&what, "ls-remote %s", url);
	git_error_clear();
	if (git_remote_create_detached(&remote, url) < 0) {
		git_errf(err, buf_str(&what), "bad remote URL");
		goto out;
	}
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, &po,
	    NULL) < 0) {
		git_errf(err, buf_str(&what), "connection failed");
		goto out;
	}
	if (cfn != NULL && cfn(arg, err) == -1)
		goto out;
	if (git_remote_ls(&heads, &n, remote) < 0) {
		git_errf(err, buf_str(&what), "listing failed");
		goto out;
	}
	w = xcalloc(1, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	w->max_tags = max_tags;
	w->st = st;
	for (i = 0; i < n; i++)
		if (walk_head(w, heads[i], err) == -1)
			goto out;
	if (walk_emit(w, err) == -1)
		goto out;
	rc = 0;
out:
	free(w);
	git_remote_free(remote);
	buf_free(&what);
	return rc;
}

static int
isalnum_ascii(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
tag_char_ok(int c)
{
	return isalnum_ascii(c) || c == '.' || c == '_' || c == '+' ||
	    c == '~' || c == '@' || c == '/' || c == '-';
}

/* An allow-list, not a deny-list: see gitls.h. */
int
gitls_tag_name_check(const char *s, size_t len, struct buf *err)
{
	size_t	 i, comp = 0;	/* start of the current component */
	int	 c, next;

	if (len == 0 || len > GITLS_TAG_MAX)
		return errf(err, "tag name is %zu bytes long (1 to %d "
		    "allowed)", len, GITLS_TAG_MAX);
	for (i = 0; i < len; i++)
		if (!tag_char_ok((unsigned char)s[i]))
			return errf(err, "tag name has byte 0x%02x at offset "
			    "%zu (allowed: A-Z a-z 0-9 . _ + ~ @ / -)",
			    (unsigned char)s[i], i);
	if (!isalnum_ascii(s[0]))
		return errf(err, "tag name does not start with a letter or "
		    "a digit");
	for (i = 0; i < len; i++) {
		c = s[i];
		next = i + 1 < len ? s[i + 1] : '\0';
		if ((c == '.' && (next == '.' || next == '\0')) ||
		    (c == '/' && (next == '/' || next == '.' || next == '\0')))
			return errf(err, "tag name is not a plain ref name "
			    "(\"..\", \"//\", \"/.\", or a trailing '/' or "
			    "'.')");
		if (next == '/' || next == '\0') {
			if (i + 1 - comp >= 5 &&
			    memcmp(s + i - 4, ".lock", 5) == 0)
				return errf(err, "tag name has a component "
				    "ending in \".lock\"");
			comp = i + 2;
		}
	}
	return 0;
}

/* ---- listing child --------------------------------------------------- */

static void
out_flush(struct child_out *o)
{
	if (!o->failed && o->len > 0 && write_full(o->fd, o->data,
	    o->len) == -1)
		o->failed = 1;
	o->len = 0;
}

static void
out_rec(struct child_out *o, int kind, const void *a, size_t alen,
    const void *b, size_t blen)
{
	uint8_t		 hdr[GITLS_REC_HDR];
	uint32_t	 len = (uint32_t)(alen + blen);

	if (o->len + GITLS_REC_HDR + len > sizeof(o->data))
		out_flush(o);
	hdr[0] = (uint8_t)kind;
	memcpy(hdr + 1, &len, sizeof(len));
	memcpy(o->data + o->len, hdr, sizeof(hdr));
	o->len += sizeof(hdr);
	if (alen > 0)
		memcpy(o->data + o->len, a, alen);
	o->len += alen;
	if (blen > 0)
		memcpy(o->data + o->len, b, blen);
	o->len += blen;
}

static int
child_connected(void *arg, struct buf *err)
{
	struct child_out	*o = arg;

	out_rec(o, GITLS_REC_CONNECTED, NULL, 0, NULL, 0);
	out_flush(o);
	return o->failed ? errf(err, "write: %s", strerror(errno)) : 0;
}

static int
child_tag(const struct gitls_tag *t, void *arg, struct buf *err)
{
	struct child_out	*o = arg;
	uint8_t			 fix[1 + GITLS_OID_LEN];

	fix[0] = t->cut ? GITLS_F_CUT : 0;
	memcpy(fix + 1, t->oid, GITLS_OID_LEN);
	out_rec(o, GITLS_REC_TAG, fix, sizeof(fix), t->name, t->len);
	return o->failed ? errf(err, "write: %s", strerror(errno)) : 0;
}

int
gitls_child(int fd, const char *url, size_t max_tags)
{
	struct child_out	*o = xcalloc(1, sizeof(*o));
	struct gitls_stats	 st;
	struct buf		 err = BUF_INIT;
	uint64_t		 e[2];
	size_t			 n;
	int			 rc;

	o->fd = fd;
	if (gitls_list(url, max_tags, child_connected, child_tag, o, &st,
	    &err) == 0) {
		e[0] = st.seen;
		e[1] = st.listed;
		out_rec(o, GITLS_REC_END, e, sizeof(e), NULL, 0);
	} else {
		n = err.len > GITLS_ERR_MAX ? GITLS_ERR_MAX : err.len;
		out_rec(o, GITLS_REC_FAIL, buf_str(&err), n, NULL, 0);
	}
	out_flush(o);
	rc = o->failed ? 1 : 0;
	free(o);
	buf_free(&err);
	return rc;
}

/* ---- reader (poller side) ----------------------------------------- */

void
gitls_reader_init(struct gitls_reader *r, size_t max_tags)
{
	memset(r, 0, offsetof(struct gitls_reader, data));
	r->max_tags = max_tags;
}

static void
reader_compact(struct gitls_reader *r)
{
	if (r->off == 0)
		return;
	memmove(r->data, r->data + r->off, r->len - r->off);
	r->len -= r->off;
	r->off = 0;
}

int
gitls_reader_read(struct gitls_reader *r, int fd, struct buf *err)
{
	ssize_t	 n;

	reader_compact(r);
	if (r->len == sizeof(r->data))
		return 1;
	n = read(fd, r->data + r->len, sizeof(r->data) - r->len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 2;
		return errf(err, "read from listing child: %s",
		    strerror(errno));
	}
	r->len += (size_t)n;
	return n > 0 ? 1 : 0;
}

size_t
gitls_reader_feed(struct gitls_reader *r, const void *p, size_t n)
{
	reader_compact(r);
	if (n > sizeof(r->data) - r->len)
		n = sizeof(r->data) - r->len;
	memcpy(r->data + r->len, p, n);
	r->len += n;
	return n;
}

/* Kind, length and order of the record at the read position. */
static int
reader_check(struct gitls_reader *r, int kind, uint32_t len,
    struct buf *err)
{
	if (r->done)
		return errf(err, "listing child sent data after its result");
	switch (kind) {
	case GITLS_REC_CONNECTED:
		if (len != 0 || r->connected)
			return errf(err, "listing child sent a bad 'C' record");
		return 0;
	case GITLS_REC_TAG:
		if (len < 1 + GITLS_OID_LEN ||
		    len > 1 + GITLS_OID_LEN + GITLS_NAME_MAX || !r->connected)
			return errf(err, "listing child sent a bad 'T' record "
			    "(length %u)", len);
		if (r->ntags >= r->max_tags)
			return errf(err, "listing child sent more than %zu "
			    "tags", r->max_tags);
		return 0;
	case GITLS_REC_END:
		if (len != 16 || !r->connected)
			return errf(err, "listing child sent a bad 'E' record");
		return 0;
	case GITLS_REC_FAIL:
		if (len > GITLS_ERR_MAX)
			return errf(err, "listing child sent a bad 'F' record "
			    "(length %u)", len);
		return 0;
	}
	return errf(err, "listing child sent an unknown record (kind %d)",
	    kind);
}

/* Copy a checked record out of the buffer into rec. */
static void
reader_take(struct gitls_reader *r, int kind, const uint8_t *p,
    uint32_t len, struct gitls_rec *rec)
{
	uint32_t	 i;

	memset(rec, 0, sizeof(*rec));
	rec->kind = (enum gitls_kind)kind;
	if (kind == GITLS_REC_CONNECTED) {
		r->connected = 1;
	} else if (kind == GITLS_REC_TAG) {
		rec->tag.cut = (p[0] & GITLS_F_CUT) != 0;
		memcpy(rec->tag.oid, p + 1, GITLS_OID_LEN);
		rec->tag.len = len - 1 - GITLS_OID_LEN;
		memcpy(r->text, p + 1 + GITLS_OID_LEN, rec->tag.len);
		r->text[rec->tag.len] = '\0';
		rec->tag.name = r->text;
		r->ntags++;
	} else if (kind == GITLS_REC_END) {
		memcpy(&rec->stats.seen, p, 8);
		memcpy(&rec->stats.listed, p + 8, 8);
		r->done = 1;
	} else {
		/* Printable ASCII only: the text goes to logs and IPC. */
		for (i = 0; i < len; i++)
			r->text[i] = p[i] >= 0x20 && p[i] < 0x7f ?
			    (char)p[i] : '?';
		r->text[len] = '\0';
		rec->error = r->text;
		r->done = 1;
	}
}

int
gitls_reader_next(struct gitls_reader *r, struct gitls_rec *rec,
    struct buf *err)
{
	const uint8_t	*p = r->data + r->off;
	size_t		 avail = r->len - r->off;
	uint32_t	 len;

	if (avail < GITLS_REC_HDR)
		return 0;
	memcpy(&len, p + 1, sizeof(len));
	if (reader_check(r, p[0], len, err) == -1)
		return -1;
	if (avail < GITLS_REC_HDR + (size_t)len)
		return 0;
	reader_take(r, p[0], p + GITLS_REC_HDR, len, rec);
	if (rec->kind == GITLS_REC_TAG && ((p[GITLS_REC_HDR] & ~GITLS_F_CUT)
	    != 0 || (rec->tag.cut && rec->tag.len != GITLS_NAME_MAX)))
		return errf(err, "listing child sent bad tag flags");
	if (rec->kind == GITLS_REC_END && (rec->stats.listed != r->ntags ||
	    rec->stats.seen < rec->stats.listed))
		return errf(err, "listing child reported %llu of %llu tags "
		    "but sent %llu", (unsigned long long)rec->stats.listed,
		    (unsigned long long)rec->stats.seen,
		    (unsigned long long)r->ntags);
	r->off += GITLS_REC_HDR + len;
	return 1;
}

int
gitls_reader_finish(struct gitls_reader *r, struct buf *err)
{
	if (!r->done)
		return errf(err, "listing child ended without a result");
	if (r->off != r->len)
		return errf(err, "listing child sent data after its result");
	return 0;
}

/* ---- asynchronous listings -------------------------------------------- */

struct gitls_job {
	TAILQ_ENTRY(gitls_job)	 g_entry;
	struct gitls_runner	*g_run;
	struct gitls_job_conf	 g_conf;
	char			*g_url;
	pid_t			 g_pid;
	int			 g_fd;		/* pipe, -1 once closed */
	struct event		*g_ev;
	struct event		*g_connect_ev;
	struct event		*g_total_ev;
	struct gitls_reader	*g_rd;
	int			 g_result;	/* 0 pending, 1 ok, -1 failed */
	struct gitls_stats	 g_stats;
	int			 g_reaped;
	int			 g_status;
	long			 g_rss;
	int64_t			 g_start;
	struct buf		 g_err;
};

struct gitls_runner {
	struct event_base	*r_base;
	struct event		*r_sigchld;
	TAILQ_HEAD(, gitls_job)	 r_jobs;
	int			 r_paused;
};

static void	 job_child(const struct gitls_job *, int, pid_t) PM_NORETURN;
static void	 job_watch(struct gitls_job *, int);
static void	 job_read_cb(evutil_socket_t, short, void *);
static int	 job_records(struct gitls_job *);
static void	 job_fail(struct gitls_job *, const char *, ...)
		    PM_PRINTF(2, 3);
static void	 job_close(struct gitls_job *);
static void	 job_connect_cb(evutil_socket_t, short, void *);
static void	 job_total_cb(evutil_socket_t, short, void *);
static void	 job_timeout(struct gitls_job *, int);
static void	 job_maybe_end(struct gitls_job *);
static void	 job_free(struct gitls_job *);
static void	 runner_sigchld(evutil_socket_t, short, void *);
static void	 log_drop(enum log_level, const char *, const struct lkv *);
static int64_t	 mono_ns(void);
static void	 ns_tv(int64_t, struct timeval *);

static int64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
ns_tv(int64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000);
	tv->tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
}

void
gitls_fmt_duration(char *out, size_t len, int64_t ns)
{
	long long	 ms = (long long)(ns / 1000000);
	char		 frac[8];
	int		 n;

	if (ms % 1000 == 0) {
		snprintf(out, len, "%llds", ms / 1000);
		return;
	}
	n = snprintf(frac, sizeof(frac), "%03lld", ms % 1000);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(out, len, "%lld.%ss", ms / 1000, frac);
}

struct gitls_runner *
gitls_runner_new(struct event_base *base, struct buf *err)
{
	struct gitls_runner	*r = xcalloc(1, sizeof(*r));

	r->r_base = base;
	TAILQ_INIT(&r->r_jobs);
	r->r_sigchld = evsignal_new(base, SIGCHLD, runner_sigchld, r);
	if (r->r_sigchld == NULL || evsignal_add(r->r_sigchld, NULL) == -1) {
		errf(err, "cannot watch SIGCHLD");
		if (r->r_sigchld != NULL)
			event_free(r->r_sigchld);
		free(r);
		return NULL;
	}
	return r;
}

void
gitls_runner_free(struct gitls_runner *r)
{
	struct gitls_job	*j;

	if (r == NULL)
		return;
	while ((j = TAILQ_FIRST(&r->r_jobs)) != NULL) {
		if (!j->g_reaped) {
			(void)kill(j->g_pid, SIGKILL);
			while (waitpid(j->g_pid, NULL, 0) == -1 &&
			    errno == EINTR)
				;
		}
		TAILQ_REMOVE(&r->r_jobs, j, g_entry);
		job_free(j);
	}
	event_free(r->r_sigchld);
	free(r);
}

/* The child never logs: nothing may reach the parent's channel. */
static void
log_drop(enum log_level lvl, const char *msg, const struct lkv *kv)
{
}

/* In the child: fd 3 = the pipe, nothing else above 2; never returns. */
static void
job_child(const struct gitls_job *j, int wfd, pid_t ppid)
{
	static const int	 sigs[] = { SIGCHLD, SIGPIPE, SIGTERM, SIGINT,
				    SIGHUP };
	sigset_t		 set;
	size_t			 i;
	long			 fd;

	log_set_forward(log_drop);
	for (i = 0; i < nitems(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != ppid)
		_exit(1);
	if (wfd != GITLS_CHILD_FD && dup2(wfd, GITLS_CHILD_FD) == -1)
		_exit(1);
	if (syscall(SYS_close_range, GITLS_CHILD_FD + 1, ~0U, 0) == -1) {
		if (errno != ENOSYS)
			_exit(1);
		for (fd = GITLS_CHILD_FD + 1; fd < sysconf(_SC_OPEN_MAX); fd++)
			(void)close((int)fd);
	}
	_exit(gitls_child(GITLS_CHILD_FD, j->g_url, j->g_conf.max_tags));
}

struct gitls_job *
gitls_job_start(struct gitls_runner *r, const struct gitls_job_conf *c,
    struct buf *err)
{
	struct gitls_job	*j = xcalloc(1, sizeof(*j));
	int			 fds[2];
	pid_t			 ppid = getpid();

	j->g_run = r;
	j->g_conf = *c;
	j->g_url = xstrdup(c->url);
	j->g_conf.url = j->g_url;
	j->g_fd = -1;
	j->g_start = mono_ns();
	if (pipe2(fds, O_CLOEXEC) == -1) {
		errf(err, "ls-remote %s: pipe: %s", c->url, strerror(errno));
		goto fail;
	}
	if ((j->g_pid = fork()) == -1) {
		errf(err, "ls-remote %s: fork: %s", c->url, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (j->g_pid == 0)
		job_child(j, fds[1], ppid);
	close(fds[1]);
	j->g_rd = xmalloc(sizeof(*j->g_rd));
	gitls_reader_init(j->g_rd, c->max_tags);
	TAILQ_INSERT_TAIL(&r->r_jobs, j, g_entry);
	job_watch(j, fds[0]);
	return j;
fail:
	job_free(j);
	return NULL;
}

static void
job_watch(struct gitls_job *j, int fd)
{
	struct event_base	*base = j->g_run->r_base;
	struct timeval		 tv;

	j->g_fd = fd;
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	j->g_ev = event_new(base, fd, EV_READ | EV_PERSIST, job_read_cb, j);
	j->g_connect_ev = evtimer_new(base, job_connect_cb, j);
	j->g_total_ev = evtimer_new(base, job_total_cb, j);
	if (j->g_ev == NULL || j->g_connect_ev == NULL ||
	    j->g_total_ev == NULL)
		fatalx("gitls: event_new failed");
	ns_tv(j->g_conf.connect_timeout, &tv);
	evtimer_add(j->g_connect_ev, &tv);
	ns_tv(j->g_conf.timeout, &tv);
	evtimer_add(j->g_total_ev, &tv);
	if (!j->g_run->r_paused)
		event_add(j->g_ev, NULL);
}

void
gitls_runner_pause(struct gitls_runner *r, int pause)
{
	struct gitls_job	*j;

	if (r->r_paused == pause)
		return;
	r->r_paused = pause;
	TAILQ_FOREACH(j, &r->r_jobs, g_entry) {
		if (j->g_ev == NULL)
			continue;
		if (pause)
			event_del(j->g_ev);
		else {
			event_add(j->g_ev, NULL);
			/* Records may be waiting in the reader already. */
			event_active(j->g_ev, EV_READ, 0);
		}
	}
}

static void
job_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct gitls_job	*j = arg;
	struct buf		 err = BUF_INIT;
	int			 i, rc;

	for (i = 0; i < GITLS_READS; i++) {
		if (job_records(j) == -1 || j->g_fd == -1 ||
		    j->g_run->r_paused)
			break;
		if ((rc = gitls_reader_read(j->g_rd, j->g_fd, &err)) == 2)
			break;
		if (rc == -1) {
			job_fail(j, "%s", buf_str(&err));
			break;
		}
		if (rc == 0) {
			/* End of file: finish once every record is handled. */
			if (job_records(j) == -1 || j->g_run->r_paused)
				break;
			if (gitls_reader_finish(j->g_rd, &err) == -1 &&
			    j->g_result == 1)
				job_fail(j, "%s", buf_str(&err));
			job_close(j);
			break;
		}
	}
	buf_free(&err);
	job_maybe_end(j);
}

/* Handle the complete records in the reader; -1 after a violation. */
static int
job_records(struct gitls_job *j)
{
	struct gitls_rec	 rec;
	struct buf		 err = BUF_INIT;
	int			 rc = 0;

	while (!j->g_run->r_paused && j->g_fd != -1 &&
	    (rc = gitls_reader_next(j->g_rd, &rec, &err)) == 1) {
		switch (rec.kind) {
		case GITLS_REC_CONNECTED:
			evtimer_del(j->g_connect_ev);
			break;
		case GITLS_REC_TAG:
			j->g_stats.listed++;
			j->g_conf.tag(j->g_conf.arg, &rec.tag);
			break;
		case GITLS_REC_END:
			j->g_stats.seen = rec.stats.seen;
			j->g_result = 1;
			break;
		case GITLS_REC_FAIL:
			j->g_result = -1;
			buf_adds(&j->g_err, rec.error);
			break;
		}
	}
	if (rc == -1)
		job_fail(j, "%s", buf_str(&err));
	buf_free(&err);
	return rc == -1 ? -1 : 0;
}

/* The listing failed: keep the first reason, kill the child, close. */
static void
job_fail(struct gitls_job *j, const char *fmt, ...)
{
	va_list	 ap;

	if (j->g_result != -1) {
		j->g_result = -1;
		buf_reset(&j->g_err);
		buf_addf(&j->g_err, "ls-remote %s: ", j->g_url);
		va_start(ap, fmt);
		buf_vaddf(&j->g_err, fmt, ap);
		va_end(ap);
	}
	if (!j->g_reaped)
		(void)kill(j->g_pid, SIGKILL);
	job_close(j);
}

static void
job_close(struct gitls_job *j)
{
	if (j->g_fd == -1)
		return;
	event_free(j->g_ev);
	j->g_ev = NULL;
	close(j->g_fd);
	j->g_fd = -1;
}

static void
job_connect_cb(evutil_socket_t fd, short ev, void *arg)
{
	job_timeout(arg, 1);
}

static void
job_total_cb(evutil_socket_t fd, short ev, void *arg)
{
	job_timeout(arg, 0);
}

/* A deadline passed: SIGKILL the child (a complete result stands). */
static void
job_timeout(struct gitls_job *j, int connect)
{
	char	 d[32];

	if (j->g_result == 1) {
		if (!j->g_reaped)
			(void)kill(j->g_pid, SIGKILL);
		job_close(j);
	} else {
		gitls_fmt_duration(d, sizeof(d), connect ?
		    j->g_conf.connect_timeout : j->g_conf.timeout);
		job_fail(j, "%stimeout after %s", connect ? "connect " : "",
		    d);
	}
	job_maybe_end(j);
}

/* Child reaped and pipe closed: report once, then free. */
static void
job_maybe_end(struct gitls_job *j)
{
	struct gitls_result	 res;
	char			 st[64];

	if (!j->g_reaped || j->g_fd != -1)
		return;
	if (j->g_result == 0)
		job_fail(j, "listing process %s without a result",
		    proc_describe_status(j->g_status, st, sizeof(st)));
	memset(&res, 0, sizeof(res));
	res.ok = j->g_result == 1;
	res.error = res.ok ? "" : buf_str(&j->g_err);
	res.stats = j->g_stats;
	res.max_rss_kib = j->g_rss;
	res.elapsed_ns = mono_ns() - j->g_start;
	TAILQ_REMOVE(&j->g_run->r_jobs, j, g_entry);
	j->g_conf.done(j->g_conf.arg, &res);
	job_free(j);
}

static void
job_free(struct gitls_job *j)
{
	job_close(j);
	if (j->g_connect_ev != NULL)
		event_free(j->g_connect_ev);
	if (j->g_total_ev != NULL)
		event_free(j->g_total_ev);
	free(j->g_url);
	free(j->g_rd);
	buf_free(&j->g_err);
	free(j);
}

static void
runner_sigchld(evutil_socket_t fd, short ev, void *arg)
{
	struct gitls_runner	*r = arg;
	struct gitls_job	*j;
	struct rusage		 ru;
	pid_t			 pid;
	int			 status;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		TAILQ_FOREACH(j, &r->r_jobs, g_entry)
			if (j->g_pid == pid && !j->g_reaped)
				break;
		if (j == NULL)
			continue;
		j->g_reaped = 1;
		j->g_status = status;
		j->g_rss = ru.ru_maxrss;
		job_maybe_end(j);
	}
}
