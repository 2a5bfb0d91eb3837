/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sandbox.h: run one recipe's build.sh in a throw-away container.
 *
 * Trust: the caller (the per-build worker) is trusted and so is `conf`;
 * build.sh and everything it starts are hostile.  Inside, the script sees
 * the host's /usr, /etc (secrets masked), /opt and the /bin, /lib links
 * read-only; SOURCE_DIR and the directory holding build.sh read-only;
 * DESTDIR and the working directory writable; private /tmp, /var/tmp and
 * /dev/shm; a fresh /proc and a minimal /dev; no network but `lo`; no
 * capabilities; no_new_privs; the build seccomp filter (RELIABILITY.md
 * §3).  Every path is at its host path.  Nothing else of the host is
 * there (no /home, /root, /run, /var/lib, /srv, /sys).  Its pid 1 is our
 * own tiny init: when build.sh ends, everything it left behind is killed.
 *
 * The caller may be root (the script then runs as conf->uid/gid, which
 * must not be 0) or an unprivileged user with user namespaces (conf->uid
 * and gid must then be the caller's own).  Inside, the ids are
 * SANDBOX_UID/SANDBOX_GID.  Call sandbox_run() from a single-threaded
 * process (the namespace child is made with a raw clone(2)) that does not
 * ignore SIGCHLD; log_fd should be a regular file (a blocked write stalls
 * the timers, and a closed pipe raises SIGPIPE in the caller).
 */
#ifndef PM_SANDBOX_H
#define PM_SANDBOX_H

#include <sys/resource.h>
#include <sys/types.h>

#include <stdint.h>

#include "util.h"

#define SANDBOX_UID	1000	/* uid and gid build.sh has inside */
#define SANDBOX_GID	1000

struct sandbox_conf {
	const char	*script;	/* canonical path of build.sh, run as
					   /bin/sh <script>; its directory is
					   visible, read-only */
	const char	*source_dir;	/* canonical; read-only inside */
	const char	*destdir;	/* canonical; writable */
	const char	*workdir;	/* canonical; writable; the cwd */
	const char *const *hide;	/* NULL-terminated (or NULL): host paths
					   made inaccessible (state_dir, config
					   dir, key files...); absent ones are
					   skipped; may contain the build dirs,
					   not equal them */
	const char *const *env;		/* the complete environment, NAME=VALUE,
					   NULL-terminated */
	uid_t		 uid;		/* host ids build.sh runs as */
	gid_t		 gid;
	int64_t		 wall_timeout_ms;	/* 0: none */
	int64_t		 idle_timeout_ms;	/* no output for this long; 0: none */
	int64_t		 kill_grace_ms;		/* SIGTERM .. SIGKILL; 0: KILL */
	uint64_t	 log_max;	/* bytes copied to log_fd, then a marker;
					   0: 64 MiB */
	rlim_t		 max_processes;	/* RLIMIT_NPROC inside; 0: 1024 */
	rlim_t		 max_open_files;	/* RLIMIT_NOFILE; 0: 4096 */
	rlim_t		 max_file_size;	/* RLIMIT_FSIZE; 0: 4 GiB */
	int		 allow_ptrace;	/* recipe opt-in: do not filter ptrace */
	int		 log_fd;	/* build.sh stdout+stderr go here */
	int		 err_fd;	/* > 0: build.sh stderr goes here instead,
					   through its own pipe (log_max counts
					   both; the marker goes to log_fd);
					   0: stderr joins stdout */
};

enum sandbox_end {
	SBX_EXITED = 0,		/* status = exit code of build.sh */
	SBX_SIGNALED = 1,	/* status = signal that killed build.sh */
	SBX_WALL_TIMEOUT = 2,	/* status = build.sh's exit code or signal */
	SBX_IDLE_TIMEOUT = 3,	/* likewise */
	SBX_SETUP_FAILED = 4	/* sandbox_run() returned -1 */
};

struct sandbox_result {
	enum sandbox_end end;
	int		 status;	/* exit code or signal number */
	uint64_t	 log_bytes;	/* output bytes build.sh produced, copied
					   or discarded */
	int		 truncated;	/* log_max reached, marker written */
	char		 reason[256];	/* one human-readable line */
};

/*
 * Run conf->script to completion.  Returns 0 when the script ran, whatever
 * its result (see res->end), and -1 with a message in err (and res->end =
 * SBX_SETUP_FAILED) when the sandbox could not be set up.  Past log_max,
 * one line "[peipkg: build log truncated at N bytes]" is written and the
 * rest of the output is read and discarded.
 */
int	 sandbox_run(const struct sandbox_conf *, struct sandbox_result *,
	    struct buf *);

/* "exited", "signaled", "wall-timeout", "idle-timeout", "setup-failed" */
const char *sandbox_end_name(enum sandbox_end);

#endif /* PM_SANDBOX_H */
