/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * gitls.h: the tags of a git remote, listed in-process with libgit2
 * (no git processes), and the small framed form in which a listing
 * child hands them to the poller.
 *
 * Listing: git_remote_create_detached + connect (fetch) + git_remote_ls.
 * Only refs/tags/ entries are kept, without the prefix (a tag name may
 * contain '/'); a peeled entry "<tag>^{}" collapses into the tag just
 * before it, whose oid becomes the peeled commit; a stray peeled entry is
 * ignored.  Order is the server's.  At most max_tags tags are reported;
 * the stats say how many there were.
 *
 * Wire (child -> poller, a pipe): records of u8 kind, u32 length (host
 * order), then `length` payload bytes:
 *   'C'  connected: the ref advertisement arrived          (length 0)
 *   'T'  u8 flags (1 = name cut), fixed[20] oid, name      (21 .. 21+NAME_MAX)
 *   'E'  u64 tags seen, u64 tags listed: success, last     (length 16)
 *   'F'  error text: failure, last                         (.. GITLS_ERR_MAX)
 * A valid stream is C T* E, or C? T* F with no T before C.
 *
 * Trust: everything a remote sends is hostile, so listing runs in a
 * forked, sandboxed child that may be compromised; the reader treats the
 * stream as hostile too: fixed buffer, every length and count bounded,
 * record order enforced.  Listing does not judge tag names: the poller
 * matches them and applies gitls_tag_name_check() to those it uses.
 */
#ifndef PM_GITLS_H
#define PM_GITLS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define GITLS_NAME_MAX		4096	/* longer names are cut and flagged */
#define GITLS_TAG_MAX		128	/* bytes of a usable tag name */
#define GITLS_ERR_MAX		1024	/* error text bytes */
#define GITLS_OID_LEN		20
#define GITLS_REC_HDR		5
#define GITLS_REC_MAX		(GITLS_REC_HDR + 1 + GITLS_OID_LEN + \
				    GITLS_NAME_MAX)
#define GITLS_READ_BUF		(16 * 1024)

#define GITLS_F_CUT		0x01

struct gitls_tag {
	const char	*name;		/* NUL-terminated, no refs/tags/ */
	size_t		 len;
	int		 cut;		/* longer than GITLS_NAME_MAX, cut */
	uint8_t		 oid[GITLS_OID_LEN];	/* peeled when advertised */
};

struct gitls_stats {
	uint64_t	 seen;		/* tags advertised */
	uint64_t	 listed;	/* tags reported (<= max_tags) */
};

/* Return 0 to go on, -1 (with err) to abort the listing. */
typedef int	(*gitls_tag_fn)(const struct gitls_tag *, void *arg,
		    struct buf *err);
typedef int	(*gitls_connected_fn)(void *arg, struct buf *err);

/*
 * Initialise libgit2 once per process and warm what a sandboxed process
 * can no longer load lazily (TLS CA store, NSS/DNS modules).  No
 * system, XDG or global git config is read.  Owner validation of local
 * repositories is turned off: libgit2 never runs anything from a
 * repository's config, and file:// upstreams are owned by whoever made
 * them.
 */
int	 gitls_init(struct buf *err);

/*
 * List the tags of `url`.  connected (may be NULL) runs once the ref
 * advertisement arrived, then fn once per tag.  0, or -1 with the
 * libgit2 error (bounded to GITLS_ERR_MAX) naming the URL.
 */
int	 gitls_list(const char *url, size_t max_tags, gitls_connected_fn,
	    gitls_tag_fn fn, void *arg, struct gitls_stats *, struct buf *err);

/*
 * A tag name that may leave the poller (be sent to the parent, cloned,
 * logged as a version's origin): 1..GITLS_TAG_MAX bytes of
 * [A-Za-z0-9._+~@/-], first a letter or digit, and a plain git ref name
 * (no "..", "//" or "/.", no trailing '/' or '.', no component ending in
 * ".lock").  Shell metacharacters, spaces, control bytes and non-ASCII
 * (look-alikes) are refused.  0, or -1 with the reason.
 */
int	 gitls_tag_name_check(const char *, size_t len, struct buf *err);

/*
 * Child side: list `url` and write the records to fd (blocking).
 * Returns the exit status for the child: 0 when an 'E' or 'F' record was
 * written, 1 when fd failed.
 */
int	 gitls_child(int fd, const char *url, size_t max_tags);

/* Poller side: an incremental, bounded reader of one child's stream. */
enum gitls_kind {
	GITLS_REC_CONNECTED = 'C',
	GITLS_REC_TAG = 'T',
	GITLS_REC_END = 'E',
	GITLS_REC_FAIL = 'F'
};

struct gitls_rec {
	enum gitls_kind	 kind;
	struct gitls_tag tag;		/* 'T': name points into the reader */
	struct gitls_stats stats;	/* 'E' */
	const char	*error;		/* 'F': printable ASCII, in reader */
};

struct gitls_reader {
	size_t		 max_tags;
	uint64_t	 ntags;
	int		 connected;
	int		 done;		/* 'E' or 'F' seen */
	size_t		 off;		/* parse position in data */
	size_t		 len;		/* bytes in data */
	uint8_t		 data[GITLS_READ_BUF];
	char		 text[GITLS_NAME_MAX + 1];	/* name or error */
};

void	 gitls_reader_init(struct gitls_reader *, size_t max_tags);
/* One read(2) from fd: 1 bytes read, 0 end of file, 2 EAGAIN, -1 error. */
int	 gitls_reader_read(struct gitls_reader *, int fd, struct buf *err);
/* Next record: 1 one in *rec, 0 need more bytes, -1 stream violation. */
int	 gitls_reader_next(struct gitls_reader *, struct gitls_rec *,
	    struct buf *err);
/* At end of file: -1 (with why) unless the stream ended with 'E' or 'F'
 * and no byte is left. */
int	 gitls_reader_finish(struct gitls_reader *, struct buf *err);
/* Feed bytes directly (tests, fuzzing): returns bytes taken. */
size_t	 gitls_reader_feed(struct gitls_reader *, const void *, size_t);

/*
 * Asynchronous listings, for an event loop: each runs gitls_child() in a
 * forked child (fd 3 = the pipe, every other fd above 2 closed, default
 * signals, SIGKILL when the caller dies) and is read without blocking.
 * The connect deadline ends when the child reports 'C'; on either
 * deadline the child is SIGKILLed and the listing fails with "connect
 * timeout after 10s" or "timeout after 120s".  done runs once
 * per started job, after the child was reaped and its pipe closed; the
 * job is freed when it returns.  The runner owns SIGCHLD.
 */
struct event_base;
struct gitls_runner;
struct gitls_job;

struct gitls_result {
	int			 ok;
	const char		*error;		/* "ls-remote <url>: ..." */
	struct gitls_stats	 stats;		/* seen: as the child said */
	long			 max_rss_kib;	/* of the child */
	int64_t			 elapsed_ns;
};

struct gitls_job_conf {
	const char	*url;
	size_t		 max_tags;
	int64_t		 connect_timeout;	/* ns */
	int64_t		 timeout;		/* ns */
	void		(*tag)(void *arg, const struct gitls_tag *);
	void		(*done)(void *arg, const struct gitls_result *);
	void		*arg;
};

struct gitls_runner *gitls_runner_new(struct event_base *, struct buf *err);
/* SIGKILL and reap every child; no done callbacks. */
void	 gitls_runner_free(struct gitls_runner *);
/* NULL with err when no pipe or process could be made. */
struct gitls_job *gitls_job_start(struct gitls_runner *,
	    const struct gitls_job_conf *, struct buf *err);
/* Stop (1) or resume (0) handling records of every listing. */
void	 gitls_runner_pause(struct gitls_runner *, int);
/* "10s", "1.5s": a duration in whole milliseconds. */
void	 gitls_fmt_duration(char *, size_t, int64_t ns);

#endif /* PM_GITLS_H */
