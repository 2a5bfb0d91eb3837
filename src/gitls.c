/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * gitls.c: list a remote's tags with libgit2 (gitls_list), write them
 * as bounded records in a listing child (gitls_child), read the records
 * back (gitls_reader_*), and check tag names.  Running listings as
 * forked children from an event loop is gitls_runner.c's.
 *
 * Trust: gitls_list() and gitls_child() parse what an upstream server
 * sends (through libgit2) and run only in a sandboxed listing child;
 * the reader runs in the poller and treats the child's bytes as
 * hostile.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "git2compat.h"

#include "gitls.h"

#define TAGS_PREFIX	"refs/tags/"
#define PEELED_SUFFIX	"^{}"
#define CA_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define CHILD_OUT	(16 * 1024)

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
