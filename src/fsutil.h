/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fsutil.h: crash-safe file helpers for the repository publisher: files
 * written under a temporary name, fsynced and renamed into place;
 * directory fsyncs; a hard-link copy of a directory tree; the tree lock;
 * and the PEIPKG_CRASH_AT test hook.
 *
 * Every failing call appends one message naming the operation, the path
 * and strerror(errno) ("fsync /srv/.repo.new.42/index/active.json:
 * Input/output error").  A failed fsync is never retried on the same
 * descriptor: the caller abandons the whole attempt (RELIABILITY.md
 * §1.11).
 *
 * Trust: paths come from the operator or the publisher itself; names
 * found while walking a tree are used only relative to directory
 * descriptors opened with O_NOFOLLOW, so a symlink inside a tree is
 * copied as a symlink and never followed.
 */
#ifndef PM_FSUTIL_H
#define PM_FSUTIL_H

#include <sys/types.h>

#include <stdint.h>

#include "util.h"

#define FS_FILE_MODE	0644
#define FS_DIR_MODE	0755

/*
 * Test hook, compiled in always: when the environment variable
 * PEIPKG_CRASH_AT is "<site>" or "<site>:<n>", the process raises
 * SIGKILL at the first (or n-th) call naming that site.
 */
void	 fs_crash_point(const char *site);

/*
 * A directory handle that remembers its path for messages.  fs_dir_open
 * and fs_dir_mkdir open with O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC.
 */
struct fs_dir {
	int	 fd;
	char	*path;
};

int	 fs_dir_open(struct fs_dir *, int atfd, const char *name,
	    const char *path, struct buf *err);
/* Create (0755 before umask) and open; EEXIST is fine if `may_exist`. */
int	 fs_dir_mkdir(struct fs_dir *, const struct fs_dir *parent,
	    const char *name, int may_exist, struct buf *err);
void	 fs_dir_close(struct fs_dir *);
int	 fs_dir_fsync(const struct fs_dir *, struct buf *err);
/* syncfs(2) on the file system holding the directory. */
int	 fs_dir_syncfs(const struct fs_dir *, struct buf *err);
/*
 * Create every directory of the '/'-separated relative path `rel` under
 * `root` (existing ones are fine) and open the last one into *out.
 * Components must be non-empty and not "." or "..".
 */
int	 fs_mkdirs(const struct fs_dir *root, const char *rel,
	    struct fs_dir *out, struct buf *err);

/*
 * Write `len` bytes to a new temporary name in `dir`, fsync, close and
 * rename to `name` (replacing what was there).  The directory itself is
 * not fsynced.  `site` names crash points "<site>.partial" (half the
 * bytes written), "<site>.written" (before the fsync), "<site>.fsynced"
 * (before the rename) and "<site>.renamed"; NULL for none.
 */
int	 fs_write_file(const struct fs_dir *, const char *name, const void *,
	    size_t, const char *site, struct buf *err);
/*
 * Copy the regular file `src` (a symlink is followed) the same way; its
 * length and SHA-256 are returned when the pointers are non-NULL.  At
 * most `max` bytes are copied (larger: error).
 */
int	 fs_copy_file(const char *src, const struct fs_dir *, const char *name,
	    uint64_t max, const char *site, uint64_t *size, uint8_t sha[32],
	    struct buf *err);

/* Called for every entry of a tree copy; return 1 to leave it out. */
typedef int (*fs_skip_fn)(void *arg, const char *relpath, int is_dir);

/*
 * Copy the tree under `src` into the existing empty directory `dst`:
 * directories are created, regular files hard-linked (copied when the
 * link fails with EXDEV, EMLINK or EPERM), symlinks recreated, other
 * file types left out.  Directories created get their source mode.
 * Every directory created is counted in *ndirs (may be NULL).
 */
int	 fs_link_tree(const struct fs_dir *src, const struct fs_dir *dst,
	    fs_skip_fn, void *arg, size_t *ndirs, struct buf *err);

/* Remove `name` in `dir` recursively (ENOENT is success). */
int	 fs_remove_tree(const struct fs_dir *, const char *name,
	    struct buf *err);

/* 1 when `name` exists in `dir` (lstat), 0 when not, -1 on error. */
int	 fs_exists(const struct fs_dir *, const char *name, struct buf *err);

/*
 * Take an exclusive, non-blocking flock(2) on `name` in `dir` (created
 * 0600 if absent).  Returns the lock descriptor; -1 with a message
 * naming the path when another process holds it.
 */
int	 fs_lock(const struct fs_dir *, const char *name, struct buf *err);

/* A name unique to this process: "<prefix><pid>.<counter>". */
char	*fs_unique_name(const char *prefix);
/*
 * errf(err, "<op> <dir>/<name>: <strerror(errno)>") ("<op> <dir>: ..."
 * when name is NULL) with errno kept; returns -1.
 */
int	 fs_sys_err(struct buf *err, const char *op, const char *dir,
	    const char *name);

/*
 * The atomic switch of a directory tree (fsutil_switch.c; doc/design.md,
 * "The repository switch").  fs_switch_open() resolves `target` (a
 * symlink is followed) to a parent directory and a name S, creates the
 * parent if needed, takes the lock ".S.lock" there and removes the stale
 * trees ".S.new.<pid>" / ".S.old.<pid>" of crashed attempts.
 * fs_switch_begin() creates the new tree ".S.new.<pid>".  The caller
 * fills it, noting each directory that receives a freshly written file
 * (fs_switch_note_dir, path relative to the tree).  fs_switch_commit()
 * fsyncs those directories, syncfs()es the tree, swaps it with S by
 * renameat2(RENAME_EXCHANGE) (or moves it into place with
 * RENAME_NOREPLACE when S did not exist), fsyncs the parent (a failure
 * there swaps back and fails) and removes the previous tree.
 * fs_switch_close() removes an uncommitted new tree and unlocks.
 * Crash points: stale.removed, tree.made, tree.fsynced, swap.done,
 * parent.fsynced, old.renamed, old.removing, switch.done.
 */
struct fs_switch {
	struct fs_dir	 parent;
	char		*base;		/* S's name in parent */
	char		*path;		/* parent/base */
	int		 lockfd;
	int		 exists;	/* S existed when opened */
	char		*tname;		/* the new tree's name in parent */
	struct fs_dir	 tree;
	int		 made;		/* the new tree exists, uncommitted */
	char		**dirs;
	size_t		 ndirs;
	struct buf	*warn;		/* non-fatal notes, may be NULL */
};

int	 fs_switch_open(struct fs_switch *, const char *target,
	    struct buf *warn, struct buf *err);
/* 0 when S is absent or an empty directory, else -1 with a message. */
int	 fs_switch_target_empty(struct fs_switch *, struct buf *err);
int	 fs_switch_begin(struct fs_switch *, struct buf *err);
void	 fs_switch_note_dir(struct fs_switch *, const char *rel);
int	 fs_switch_commit(struct fs_switch *, struct buf *err);
void	 fs_switch_close(struct fs_switch *);

#endif /* PM_FSUTIL_H */
