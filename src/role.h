/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * role.h: the runtime shared by the unprivileged role processes (http,
 * poller, signer, publisher), each started as `peipkg-manager -P <role>`
 * with its parent channel on fd 3 (PM_CHAN_FD).
 *
 * role_run() does, in order:
 *	1. logging as the role; SIGPIPE, SIGINT and SIGHUP ignored (the
 *	   parent owns signals and tells children what to do);
 *	2. an event_base and the parent peer on fd 3, whose dispatch table
 *	   is the role's table plus PM_PING (answered with PM_PONG) and
 *	   PM_SHUTDOWN; a log forwarder that turns every log event into a
 *	   PM_LOG message (sandboxed children cannot reach the journal);
 *	3. def->init(): whatever needs privileges or files (load OpenSSL
 *	   providers, open keys);
 *	4. the sandbox: proc_drop_privileges() to opts->user, chroot to an
 *	   empty root-owned directory when def->chroot_empty, then the
 *	   seccomp filter rolefilter_deny + rolefilter_base + def->filter;
 *	5. def->start(), then the event loop until role_exit(), PM_SHUTDOWN
 *	   (without def->shutdown) or the end of the parent channel;
 *	6. queued messages (log lines) are flushed for up to a second.
 * Not running as root (tests, development), step 4 keeps the ids and
 * skips the chroot; no_new_privs and the filter still apply.
 *
 * Handlers in def->table receive the parent peer; p->p_arg is the
 * struct role.  A protocol error from the parent (trusted) ends the
 * role with status 1.  The role sends PM_READY itself with role_ready()
 * once its configuration has arrived.
 *
 * Trust: the parent is trusted; the role's own inputs are not, which is
 * why it runs demoted and filtered before the loop starts.
 */
#ifndef PM_ROLE_H
#define PM_ROLE_H

#include <stdint.h>

#include "log.h"
#include "msg.h"
#include "rolefilter.h"
#include "util.h"

#define ROLE_EMPTY_DIR		"/run/peipkg-manager/empty"
#define ROLE_FLUSH_TIMEOUT_MS	1000

struct role;

struct role_opts {
	const char	*user;		/* demote to this user (when root) */
	const char	*empty_dir;	/* NULL: ROLE_EMPTY_DIR */
	enum log_level	 level;
	enum log_target	 target;
	/* Tests only (tests/http-role.c), never set by peipkg-manager: */
	int		 no_filter;	/* skip seccomp (debugging) */
	void		(*after_sandbox)(void);
};

struct role_def {
	const char			*name;
	const struct msg_handler	*table;	/* ends with fn == NULL */
	const struct msg_typename	*names;	/* for logs, may be NULL */
	size_t				 nnames;
	const struct rf_list		*filter;	/* beyond the base */
	int				 chroot_empty;
	int	(*init)(struct role *, struct buf *err);
	int	(*start)(struct role *, struct buf *err);
	void	(*shutdown)(struct role *);	/* NULL: exit at once */
};

struct role {
	const struct role_def	*r_def;
	const struct role_opts	*r_opts;
	struct event_base	*r_base;
	struct peer		 r_parent;
	struct msg_handler	*r_table;	/* common + role entries */
	int			 r_ready;	/* PM_READY sent */
	int			 r_status;	/* exit status */
};

/*
 * Read PM_CONF_ROLE, the parent's first message to every role, from fd 3
 * (blocking, before role_run): str user ("" = keep the ids), str
 * empty_dir, u8 log level.  Fills o->user, o->empty_dir (NULL when "")
 * and o->level; the strings are returned in *user and *dir for the
 * caller to free after role_run().  -1 with the reason in err.
 */
int	 role_conf_recv(struct role_opts *o, char **user, char **dir,
	    struct buf *err);
/* Run the role; returns the process exit status. */
int	 role_run(const struct role_def *, const struct role_opts *);
/* Queue a message to the parent; -1 when the channel is gone or full. */
int	 role_send(struct role *, struct msgbuf *, int fd);
/* Send PM_READY (once; later calls do nothing). */
void	 role_ready(struct role *);
/* Leave the event loop; role_run() then returns status. */
void	 role_exit(struct role *, int status);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t	 role_now(void);

/*
 * Step 4 on its own: demote to user (when root), chroot to chroot_dir
 * (when not NULL and root), then install the filter unless no_filter.
 */
int	 role_sandbox(const char *user, const char *chroot_dir,
	    const struct rf_list *filter, int no_filter, struct buf *err);
/* Create (when missing) and check an empty directory owned by root and
 * writable only by it, for chroot. */
int	 role_empty_dir(const char *path, struct buf *err);

/* Role entry points for `peipkg-manager -P <name>`. */
int	 http_main(struct role_opts *);	/* http.c; receives its conf */
/* The other roles read PM_CONF_ROLE themselves. */
int	 poller_main(void);			/* poller.c */
int	 signer_main(void);			/* signer.c */
int	 publisher_main(void);			/* publisher.c */

#endif /* PM_ROLE_H */
