/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fsutil_switch.c: the atomic switch of a directory tree (fsutil.h,
 * doc/design.md "The repository switch"): lock, stale-tree cleanup, the
 * new tree, its fsyncs, the renameat2() exchange and the removal of the
 * previous tree.
 *
 * Trust: see fsutil.h; the target path comes from the operator and is
 * resolved once; everything after works relative to the parent's
 * descriptor.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

static void	 switch_warn(struct fs_switch *, const char *,
		    const struct buf *);
static int	 stale_name(const char *, const char *);
static void	 remove_stale(struct fs_switch *);
static int	 split_target(struct fs_switch *, const char *, char **,
		    struct buf *);
static int	 sync_tree(struct fs_switch *, struct buf *);
static void	 drop_old(struct fs_switch *);

static void
switch_warn(struct fs_switch *s, const char *what, const struct buf *e)
{
	if (s->warn != NULL)
		buf_addf(s->warn, "%s: %s\n", what, buf_str(e));
}

/* ".<base>.new.<digits>" and ".<base>.old.<digits>" are ours. */
static int
stale_name(const char *name, const char *base)
{
	size_t	 bl = strlen(base);

	if (name[0] != '.' || strncmp(name + 1, base, bl) != 0)
		return 0;
	name += 1 + bl;
	if (!str_has_prefix(name, ".new.") && !str_has_prefix(name, ".old."))
		return 0;
	name += 5;
	return *name != '\0' && strspn(name, "0123456789") == strlen(name);
}

static void
remove_stale(struct fs_switch *s)
{
	struct buf	 e = BUF_INIT;
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((fd = dup(s->parent.fd)) == -1)
		return;
	if (lseek(fd, 0, SEEK_SET) == -1 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!stale_name(de->d_name, s->base))
			continue;
		if (fs_remove_tree(&s->parent, de->d_name, &e) == -1)
			switch_warn(s, "remove a stale tree", &e);
		buf_reset(&e);
	}
	closedir(d);
	buf_free(&e);
}

/* Split `path` into a parent directory and a final name. */
static int
split_target(struct fs_switch *s, const char *target, char **dir,
    struct buf *err)
{
	struct stat	 sb;
	char		 real[PATH_MAX], *d1, *d2;
	const char	*path = target;

	if (lstat(target, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		if (realpath(target, real) == NULL)
			return fs_sys_err(err, "resolve", target, NULL);
		path = real;
	}
	d1 = xstrdup(path);
	d2 = xstrdup(path);
	*dir = xstrdup(dirname(d1));
	s->base = xstrdup(basename(d2));
	free(d1);
	free(d2);
	if (*path == '\0' || strcmp(s->base, "/") == 0 ||
	    strcmp(s->base, ".") == 0 || strcmp(s->base, "..") == 0)
		return errf(err, "%s: not usable as a state directory path",
		    target);
	return 0;
}

int
fs_switch_open(struct fs_switch *s, const char *target, struct buf *warn,
    struct buf *err)
{
	struct stat	 sb;
	char		*dir = NULL, *lock;
	int		 rc = -1;

	memset(s, 0, sizeof(*s));
	s->parent.fd = s->tree.fd = s->lockfd = -1;
	s->warn = warn;
	if (split_target(s, target, &dir, err) == -1)
		goto out;
	if (mkdir_p(dir, FS_DIR_MODE) == -1) {
		fs_sys_err(err, "mkdir", dir, NULL);
		goto out;
	}
	if (fs_dir_open(&s->parent, AT_FDCWD, dir, dir, err) == -1)
		goto out;
	s->path = xasprintf("%s/%s", dir, s->base);
	lock = xasprintf(".%s.lock", s->base);
	s->lockfd = fs_lock(&s->parent, lock, err);
	free(lock);
	if (s->lockfd == -1)
		goto out;
	remove_stale(s);
	fs_crash_point("stale.removed");
	s->exists = fstatat(s->parent.fd, s->base, &sb,
	    AT_SYMLINK_NOFOLLOW) == 0;
	rc = 0;
 out:
	free(dir);
	return rc;
}

int
fs_switch_target_empty(struct fs_switch *s, struct buf *err)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, empty = 1;

	if (!s->exists)
		return 0;
	fd = openat(s->parent.fd, s->base,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return errf(err, "%s exists and is not a directory", s->path);
	}
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return errf(err, "%s is not empty", s->path);
	return 0;
}

int
fs_switch_begin(struct fs_switch *s, struct buf *err)
{
	char	*path;
	int	 rc;

	s->tname = xasprintf(".%s.new.%ld", s->base, (long)getpid());
	if (mkdirat(s->parent.fd, s->tname, FS_DIR_MODE) == -1)
		return fs_sys_err(err, "mkdir", s->parent.path, s->tname);
	s->made = 1;
	path = xasprintf("%s/%s", s->parent.path, s->tname);
	rc = fs_dir_open(&s->tree, s->parent.fd, s->tname, path, err);
	free(path);
	if (rc == 0) {
		fs_switch_note_dir(s, "");
		fs_crash_point("tree.made");
	}
	return rc;
}

void
fs_switch_note_dir(struct fs_switch *s, const char *rel)
{
	size_t	 i;

	for (i = 0; i < s->ndirs; i++)
		if (strcmp(s->dirs[i], rel) == 0)
			return;
	s->dirs = xreallocarray(s->dirs, s->ndirs + 1, sizeof(*s->dirs));
	s->dirs[s->ndirs++] = xstrdup(rel);
}

/*
 * Every file written was fsynced when written; now each directory that
 * received one (deepest noted last, synced first), then syncfs() for the
 * hard links and directories carried over: one call instead of one fsync
 * per directory of a large tree.
 */
static int
sync_tree(struct fs_switch *s, struct buf *err)
{
	struct fs_dir	 d;
	char		*path;
	size_t		 i;
	int		 rc;

	for (i = s->ndirs; i-- > 0;) {
		path = *s->dirs[i] ? xasprintf("%s/%s", s->tree.path,
		    s->dirs[i]) : xstrdup(s->tree.path);
		rc = fs_dir_open(&d, s->tree.fd, *s->dirs[i] ? s->dirs[i] : ".",
		    path, err);
		free(path);
		if (rc == -1)
			return -1;
		rc = fs_dir_fsync(&d, err);
		fs_dir_close(&d);
		if (rc == -1)
			return -1;
	}
	if (fs_dir_syncfs(&s->tree, err) == -1)
		return -1;
	fs_crash_point("tree.fsynced");
	return 0;
}

/* After a switch: the previous tree goes; failures are only warnings. */
static void
drop_old(struct fs_switch *s)
{
	struct fs_dir	 old;
	struct buf	 e = BUF_INIT;
	char		*name, *path;

	name = xasprintf(".%s.old.%ld", s->base, (long)getpid());
	if (renameat(s->parent.fd, s->tname, s->parent.fd, name) == -1) {
		free(name);
		name = xstrdup(s->tname);
	}
	fs_crash_point("old.renamed");
	/* Part of it first, so a crash test can stop half-way. */
	path = xasprintf("%s/%s", s->parent.path, name);
	if (fs_dir_open(&old, s->parent.fd, name, path, &e) == 0) {
		fs_remove_tree(&old, "index", &e);
		fs_dir_close(&old);
	}
	free(path);
	fs_crash_point("old.removing");
	buf_reset(&e);
	if (fs_remove_tree(&s->parent, name, &e) == -1)
		switch_warn(s, "remove the previous tree", &e);
	free(name);
	buf_free(&e);
}

int
fs_switch_commit(struct fs_switch *s, struct buf *err)
{
	unsigned	 how = s->exists ? RENAME_EXCHANGE : RENAME_NOREPLACE;

	if (sync_tree(s, err) == -1)
		return -1;
	if (renameat2(s->parent.fd, s->tname, s->parent.fd, s->base,
	    how) == -1)
		return errf(err, "renameat2 %s/%s -> %s (%s): %s",
		    s->parent.path, s->tname, s->base, s->exists ?
		    "RENAME_EXCHANGE" : "RENAME_NOREPLACE", strerror(errno));
	fs_crash_point("swap.done");
	if (fs_dir_fsync(&s->parent, err) == -1) {
		/* Not durable: put the previous state back and fail. */
		if (renameat2(s->parent.fd, s->base, s->parent.fd, s->tname,
		    how) == -1) {
			errf(err, "the new state stays in place: renameat2 "
			    "back: %s", strerror(errno));
			s->made = 0;
		}
		return -1;
	}
	fs_crash_point("parent.fsynced");
	s->made = 0;
	if (s->exists)
		drop_old(s);
	fs_crash_point("switch.done");
	return 0;
}

void
fs_switch_close(struct fs_switch *s)
{
	struct buf	 e = BUF_INIT;
	size_t		 i;

	fs_dir_close(&s->tree);
	if (s->made && fs_remove_tree(&s->parent, s->tname, &e) == -1)
		switch_warn(s, "remove the new tree", &e);
	if (s->lockfd != -1)
		close(s->lockfd);
	fs_dir_close(&s->parent);
	for (i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	free(s->dirs);
	free(s->base);
	free(s->path);
	free(s->tname);
	memset(s, 0, sizeof(*s));
	s->parent.fd = s->tree.fd = s->lockfd = -1;
	buf_free(&e);
}
