/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_state.c: the highest index_version this farm has published,
 * kept in state_dir/index-version (one decimal number and a newline,
 * replaced atomically after every publish).  The publisher gets it with
 * its configuration and refuses to publish from a repository below it:
 * a state_dir/repo restored from an old backup would otherwise hand out
 * index versions that clients have already seen with other contents.
 *
 * Trust: privileged parent; the file is its own (root-owned, in
 * state_dir).  A file that does not hold a number is reported and
 * ignored (the check is then off until the next publish).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "parent.h"
#include "pmconfig.h"

#define HWM_FILE	"index-version"
#define HWM_MAX		64		/* bytes */

/* Temporary files of a write the parent did not finish (it was killed):
 * fs_write_file's ".tmp." names at the top of state_dir.  At start-up,
 * before any child exists, nothing else writes there. */
static void
remove_stale_tmp(const char *dir)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".tmp.", 5) == 0 &&
		    de->d_type == DT_REG)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

void
parent_hwm_load(struct parent *p)
{
	struct buf	 b = BUF_INIT, e = BUF_INIT;
	char		*path, *end;
	long long	 v;

	remove_stale_tmp(p->p_cfg->manager.state_dir);
	path = xasprintf("%s/%s", p->p_cfg->manager.state_dir, HWM_FILE);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		goto out;		/* nothing published yet */
	if (read_file(path, HWM_MAX, &b, &e) == -1) {
		log_event(LL_WARN, "cannot read the last index_version",
		    LKV_S("err", buf_str(&e)));
		goto out;
	}
	errno = 0;
	v = strtoll(buf_str(&b), &end, 10);
	if (errno != 0 || end == buf_str(&b) || strcmp(end, "\n") != 0 ||
	    v < 0) {
		log_event(LL_WARN, "cannot read the last index_version",
		    LKV_S("err", "not a number"), LKV_S("file", path));
		goto out;
	}
	p->p_index_hwm = (int64_t)v;
out:
	free(path);
	buf_free(&b);
	buf_free(&e);
}

/* After a publish: remember iv when it is the highest yet. */
void
parent_hwm_note(struct parent *p, int64_t iv)
{
	struct fs_dir	 d;
	struct buf	 err = BUF_INIT;
	char		 s[32];

	if (iv <= p->p_index_hwm)
		return;
	p->p_index_hwm = iv;
	snprintf(s, sizeof(s), "%lld\n", (long long)iv);
	if (fs_dir_open(&d, AT_FDCWD, p->p_cfg->manager.state_dir,
	    p->p_cfg->manager.state_dir, &err) == 0) {
		if (fs_write_file(&d, HWM_FILE, s, strlen(s), NULL, &err) ==
		    0)
			(void)fs_dir_fsync(&d, &err);
		fs_dir_close(&d);
	}
	if (err.len > 0)
		log_event(LL_WARN, "cannot record the last index_version",
		    LKV_I("index_version", iv), LKV_S("err", buf_str(&err)));
	buf_free(&err);
}
