/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * publisher.h: the publisher role (publisher.c) and its upload driver
 * (publisher_upload.c).
 *
 * Processes: the publisher (role user, NO_NEW_PRIVS, no capabilities,
 * seccomp: files, fork, no exec, no sockets but AF_UNIX pairs) forks
 *   - one short-lived child per repository init or publish, which does
 *     the library work (copy and verify the packages, repo_init /
 *     repo_publish with a remote signer on a private socketpair whose
 *     requests the publisher relays to the parent), so the publisher's
 *     event loop keeps answering the parent (heartbeats) however long a
 *     publish takes;
 *   - one uploader, forked before the filter is installed (rclone must
 *     be exec'd), demoted to the same user with a deny-list filter, which
 *     runs the ordered rclone upload (upload.h) of a hard-linked snapshot
 *     of the repository when asked.
 * The messages between them are private (numbers 0x7f00-0x7fff, never
 * sent to the parent).
 *
 * Trust: the parent is trusted; packages in a job's out/ directory were
 * written by a hostile build and are verified before use; rclone's
 * output is untrusted text.
 */
#ifndef PM_PUBLISHER_H
#define PM_PUBLISHER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PUB_MAX_PACKAGE		(UINT64_C(4) << 30)	/* per package */
#define PUB_MAX_FILES		1024	/* packages per publish */
#define PUB_UPLOAD_TIMEOUT_S	3600	/* per rclone run */
#define PUB_UPLOAD_PATHS_MAX	(48 * 1024)	/* bytes of listed paths */

/* Private message types. */
#define PUB_CHILD_RESULT	0x7f01	/* publish child -> publisher */
#define PUB_UPL_RUN		0x7f10	/* publisher -> uploader */
#define PUB_UPL_DONE		0x7f11	/* uploader -> publisher */

struct role;
struct role_opts;
struct event_base;
struct upl;

struct upl_conf {
	const char	*repo;		/* the state directory */
	const char	*parent;	/* its parent directory */
	const char	*base;		/* its name there */
	const char	*remote;
	const char	*rclone_config;	/* "" = inherit RCLONE_CONFIG */
	int64_t		 retry_initial;	/* ns */
	int64_t		 retry_max;
};

/* What a publish child is asked to do. */
struct pub_job {
	int		 init;		/* init the repository, not a job */
	const char	*repo;
	const char	*parent;
	const char	*base;
	const char	*name;		/* repository name and description */
	const char	*description;
	const uint8_t	*pub;		/* 32 bytes: the repository key */
	int64_t		 last_iv;	/* refuse a state rolled back below */
	int		 dirfd;		/* the job's out/ */
	const char	*version;	/* the job's version */
	char *const	*files;		/* expected file names */
	size_t		 nfiles;
};

/* What a publish child reports (PUB_CHILD_RESULT). */
struct pub_result {
	int		 ok;
	char		*err;
	uint64_t	 iv;
	int		 clamped;
	char		*generated_at;	/* init: "" when it existed */
	char		*requested_at;
	char		**names;	/* added (name, version) pairs */
	char		**versions;
	size_t		 nadded;
	int		 all_paths;	/* the paths did not fit: upload all */
	char		**paths;	/* state-relative paths written */
	size_t		 npaths;
};

/* ---- publisher_child.c ------------------------------------------------- */

struct msg;
/* In the forked child: do the job, send the result on sock, _exit. */
void		 pub_child_main(const struct pub_job *, int sock) PM_NORETURN;
int		 pub_result_parse(struct msg *, struct pub_result *);
void		 pub_result_free(struct pub_result *);

/* ---- publisher_upload.c ------------------------------------------------ */

/* Fork the uploader (before the sandbox); it demotes itself to `user`
 * (NULL: keep the ids). */
struct upl	*upl_spawn(struct role *, const char *user, struct buf *err);
/* Upload configuration ([upload], backend rclone); NULL conf = backend
 * none: the uploader is told to exit. */
void		 upl_configure(struct upl *, const struct upl_conf *);
/* A publish switched the repository to `iv`, writing `paths`. */
void		 upl_published(struct upl *, int64_t iv, char *const *paths,
		    size_t npaths);
/* Upload the whole repository (at start). */
void		 upl_full(struct upl *, int64_t iv);
/* Start a wanted upload unless one runs or a publish is in progress. */
void		 upl_kick(struct upl *);
/* In a forked child: close the uploader channel. */
void		 upl_close_in_child(struct upl *);
/* Stop the uploader and its rclone, free everything. */
void		 upl_free(struct upl *);

/* ---- publisher.c ------------------------------------------------------- */

int		 publisher_main(void);
/* With test hooks (tests/publisher-role.c): o->no_filter and
 * o->after_sandbox are used; user and log level come from PM_CONF_ROLE. */
int		 publisher_run(const struct role_opts *);
/* 1 while a publish child runs (no snapshot may be taken then). */
int		 pub_busy(void);

#endif /* PM_PUBLISHER_H */
