/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * upload.h: mirror a published repository state to a remote with
 * rclone ([upload] backend = "rclone"), in an order that never lets a
 * remote reader see an index ahead of what it names:
 *
 *   1. packages   every file except the descriptor, the indexes and
 *                 their signatures (packages, sidecars), or only the
 *                 listed paths;
 *   2. keys       keys/ (a descriptor may name a key only once its file
 *                 is there: key files are content-addressed and safe to
 *                 add early);
 *   3. indexes    archive.json, archive.json.sig, active.json,
 *                 active.json.sig, one `rclone copyto` each, in order;
 *   4. descriptor repo.json, repo.json.sig;
 *   5. sync       optional `rclone sync` so deletions converge (it has
 *                 nothing else left to copy by then).
 *
 * rclone runs as a child (fork + execvp, argv only, no shell) with stdin
 * from /dev/null; its stdout and stderr go to a bounded buffer whose
 * tail ends the error message.  Retry and backoff belong to the caller:
 * a failed upload leaves the remote with a prefix of this order, and a
 * rerun converges.
 *
 * Trust: the remote name and extra arguments are operator configuration;
 * rclone's output is untrusted text, only ever quoted in messages.
 */
#ifndef PM_UPLOAD_H
#define PM_UPLOAD_H

#include <stddef.h>

#include "util.h"

#define UPLOAD_OUTPUT_MAX	(16 * 1024)	/* rclone output kept */

enum upload_phase {
	UPLOAD_NONE = 0,
	UPLOAD_PACKAGES = 1,
	UPLOAD_KEYS = 2,
	UPLOAD_INDEXES = 3,
	UPLOAD_DESCRIPTOR = 4,
	UPLOAD_SYNC = 5
};

struct upload_opts {
	const char	*rclone;	/* program; NULL = "rclone" via PATH */
	const char	*local;		/* the published state directory */
	const char	*remote;	/* rclone destination, e.g. "r2:repo" */
	/*
	 * State-relative paths for the packages phase (what the publish
	 * wrote, repo_publish_result.new_paths, accumulated over failed
	 * attempts); NULL = copy everything but the metadata (a listing
	 * of the whole remote, but self-healing).
	 */
	char *const	*paths;
	size_t		 npaths;
	char *const	*extra_args;	/* added to every rclone call */
	size_t		 nextra;
	int		 sync;		/* run the final sync phase */
	int		 timeout;	/* seconds per rclone run; 0 = none */
	const char	*tmpdir;	/* NULL: $TMPDIR, else /tmp */
};

/*
 * Run the phases in order; stop at the first failure.  On failure
 * returns -1 with a message naming the rclone command, its exit status
 * and the tail of its output, and *failed (may be NULL) names the phase.
 */
int	 upload_run(const struct upload_opts *, enum upload_phase *failed,
	    struct buf *err);
const char *upload_phase_name(enum upload_phase);

/*
 * Run one command (argv[0] looked up in PATH) with output captured
 * (kept: the last UPLOAD_OUTPUT_MAX bytes).  Returns the wait status,
 * or -1 when it could not be started.  Exposed for tests.
 */
int	 upload_exec(char *const argv[], int timeout, struct buf *out,
	    struct buf *err);

#endif /* PM_UPLOAD_H */
