/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fsutil.c: crash-safe file helpers for the repository publisher
 * (fsutil.h): crash points, directories, files written under a
 * temporary name, the hard-link tree copy, removal and the tree lock.
 * The atomic tree switch is fsutil_switch.c's.
 *
 * Trust: see fsutil.h; nothing here parses file contents.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "fsutil.h"
#include "log.h"

#define COPY_CHUNK	(128 * 1024)

static char	*join(const char *, const char *);
static void	 crash_sub(const char *, const char *);
static int	 tmp_create(const struct fs_dir *, char **, struct buf *);
static int	 tmp_abort(const struct fs_dir *, int, const char *);
static int	 tmp_commit(const struct fs_dir *, int, const char *,
		    const char *, const char *, struct buf *);
static int	 copy_fd(int, int, const char *, const char *, uint64_t,
		    uint64_t *, uint8_t *, struct buf *);
struct linkwalk;
static int	 entry_kind(int, const struct dirent *, const char *,
		    struct buf *);
static DIR	*open_dirstream(int, const char *, const char *, struct buf *);
static int	 link_dir(struct linkwalk *, const struct fs_dir *, DIR *,
		    const struct fs_dir *);
static int	 link_subdir(struct linkwalk *, const struct fs_dir *,
		    const char *, const struct fs_dir *, struct fs_dir *);
static int	 remove_dir(const struct fs_dir *, DIR *, struct buf *);
static int	 copy_symlink(const struct fs_dir *, const struct fs_dir *,
		    const char *, struct buf *);
static int	 copy_regular(const struct fs_dir *, const struct fs_dir *,
		    const char *, struct buf *);

static unsigned long	 unique_counter;

/* ---- crash points ------------------------------------------------------ */

void
fs_crash_point(const char *site)
{
	static unsigned long	 hits;
	const char		*want, *colon;
	unsigned long		 nth = 1;
	size_t			 len;

	if ((want = getenv("PEIPKG_CRASH_AT")) == NULL || *want == '\0')
		return;
	if ((colon = strchr(want, ':')) != NULL) {
		len = (size_t)(colon - want);
		nth = strtoul(colon + 1, NULL, 10);
	} else
		len = strlen(want);
	if (strlen(site) != len || strncmp(site, want, len) != 0)
		return;
	if (++hits >= nth)
		raise(SIGKILL);
}

static void
crash_sub(const char *site, const char *step)
{
	char	 name[128];

	if (site == NULL)
		return;
	snprintf(name, sizeof(name), "%s.%s", site, step);
	fs_crash_point(name);
}

/* ---- helpers ----------------------------------------------------------- */

static char *
join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

int
fs_sys_err(struct buf *err, const char *op, const char *dir, const char *name)
{
	int	 e = errno;

	if (name != NULL)
		errf(err, "%s %s/%s: %s", op, dir, name, strerror(e));
	else
		errf(err, "%s %s: %s", op, dir, strerror(e));
	errno = e;
	return -1;
}

char *
fs_unique_name(const char *prefix)
{
	return xasprintf("%s%ld.%lu", prefix, (long)getpid(),
	    ++unique_counter);
}

/* ---- directories ------------------------------------------------------- */

int
fs_dir_open(struct fs_dir *d, int atfd, const char *name, const char *path,
    struct buf *err)
{
	d->fd = openat(atfd, name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd == -1) {
		d->path = NULL;
		return fs_sys_err(err, "open directory", path, NULL);
	}
	d->path = xstrdup(path);
	return 0;
}

int
fs_dir_mkdir(struct fs_dir *d, const struct fs_dir *parent, const char *name,
    int may_exist, struct buf *err)
{
	char	*path;
	int	 rc;

	d->fd = -1;
	d->path = NULL;
	if (mkdirat(parent->fd, name, FS_DIR_MODE) == -1 &&
	    (errno != EEXIST || !may_exist))
		return fs_sys_err(err, "mkdir", parent->path, name);
	path = join(parent->path, name);
	rc = fs_dir_open(d, parent->fd, name, path, err);
	free(path);
	return rc;
}

void
fs_dir_close(struct fs_dir *d)
{
	if (d->fd != -1)
		close(d->fd);
	free(d->path);
	d->fd = -1;
	d->path = NULL;
}

int
fs_dir_fsync(const struct fs_dir *d, struct buf *err)
{
	if (fsync(d->fd) == -1)
		return fs_sys_err(err, "fsync", d->path, NULL);
	return 0;
}

int
fs_dir_syncfs(const struct fs_dir *d, struct buf *err)
{
	if (syncfs(d->fd) == -1)
		return fs_sys_err(err, "syncfs", d->path, NULL);
	return 0;
}

int
fs_mkdirs(const struct fs_dir *root, const char *rel, struct fs_dir *out,
    struct buf *err)
{
	struct fs_dir	 cur, next;
	char		*copy, *comp, *save = NULL;
	int		 rc = 0;

	cur.fd = -1;
	if (fs_dir_open(&cur, root->fd, ".", root->path, err) == -1)
		return -1;
	copy = xstrdup(rel);
	for (comp = strtok_r(copy, "/", &save); comp != NULL && rc == 0;
	    comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			rc = errf(err, "%s: path component \"%s\" not allowed",
			    rel, comp);
			break;
		}
		if ((rc = fs_dir_mkdir(&next, &cur, comp, 1, err)) == 0) {
			fs_dir_close(&cur);
			cur = next;
		}
	}
	free(copy);
	if (rc == -1)
		fs_dir_close(&cur);
	else
		*out = cur;
	return rc;
}

int
fs_exists(const struct fs_dir *d, const char *name, struct buf *err)
{
	struct stat	 st;

	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return fs_sys_err(err, "stat", d->path, name);
}

/* ---- files ------------------------------------------------------------- */

/* Create a fresh temporary file in `d` (*tmp: its name, to free). */
static int
tmp_create(const struct fs_dir *d, char **tmp, struct buf *err)
{
	int	 fd;

	*tmp = fs_unique_name(".tmp.");
	fd = openat(d->fd, *tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, FS_FILE_MODE);
	if (fd == -1)
		fs_sys_err(err, "create", d->path, *tmp);
	return fd;
}

/* A failed attempt: the temporary file goes (fd -1: already closed). */
static int
tmp_abort(const struct fs_dir *d, int fd, const char *tmp)
{
	if (fd != -1)
		close(fd);
	unlinkat(d->fd, tmp, 0);
	return -1;
}

/*
 * Make the written temporary file durable and rename it to `name`; fd
 * is closed in every case and the temporary removed on failure.
 */
static int
tmp_commit(const struct fs_dir *d, int fd, const char *tmp,
    const char *name, const char *site, struct buf *err)
{
	if (fsync(fd) == -1) {
		fs_sys_err(err, "fsync", d->path, tmp);
		return tmp_abort(d, fd, tmp);
	}
	if (close(fd) == -1) {
		fs_sys_err(err, "close", d->path, tmp);
		return tmp_abort(d, -1, tmp);
	}
	crash_sub(site, "fsynced");
	if (renameat(d->fd, tmp, d->fd, name) == -1) {
		fs_sys_err(err, "rename", d->path, name);
		return tmp_abort(d, -1, tmp);
	}
	crash_sub(site, "renamed");
	return 0;
}

int
fs_write_file(const struct fs_dir *d, const char *name, const void *data,
    size_t len, const char *site, struct buf *err)
{
	char	*tmp;
	size_t	 half = len / 2;
	int	 fd, rc = -1;

	if ((fd = tmp_create(d, &tmp, err)) == -1)
		goto out;
	if (write_full(fd, data, half) == -1) {
		fs_sys_err(err, "write", d->path, tmp);
		tmp_abort(d, fd, tmp);
		goto out;
	}
	crash_sub(site, "partial");
	if (write_full(fd, (const char *)data + half, len - half) == -1) {
		fs_sys_err(err, "write", d->path, tmp);
		tmp_abort(d, fd, tmp);
		goto out;
	}
	crash_sub(site, "written");
	rc = tmp_commit(d, fd, tmp, name, site, err);
 out:
	free(tmp);
	return rc;
}

static int
copy_fd(int in, int out, const char *src, const char *dst, uint64_t max,
    uint64_t *size, uint8_t *sha, struct buf *err)
{
	struct sha256_ctx	 ctx;
	char			*chunk;
	ssize_t			 n;
	uint64_t		 total = 0;
	int			 rc = -1;

	chunk = xmalloc(COPY_CHUNK);
	sha256_init(&ctx);
	for (;;) {
		n = read(in, chunk, COPY_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fs_sys_err(err, "read", src, NULL);
			goto out;
		}
		if (n == 0)
			break;
		if ((total += (uint64_t)n) > max) {
			errf(err, "%s: larger than %llu bytes", src,
			    (unsigned long long)max);
			goto out;
		}
		sha256_update(&ctx, chunk, (size_t)n);
		if (write_full(out, chunk, (size_t)n) == -1) {
			fs_sys_err(err, "write", dst, NULL);
			goto out;
		}
	}
	if (sha != NULL)
		sha256_final(&ctx, sha);
	if (size != NULL)
		*size = total;
	rc = 0;
 out:
	sha256_free(&ctx);
	free(chunk);
	return rc;
}

int
fs_copy_file(const char *src, const struct fs_dir *d, const char *name,
    uint64_t max, const char *site, uint64_t *size, uint8_t sha[32],
    struct buf *err)
{
	struct stat	 st;
	char		*tmp = NULL, *dst = NULL;
	int		 in, out, rc = -1;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1) {
		fs_sys_err(err, "open", src, NULL);
		goto out;
	}
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		errf(err, "%s: not a regular file", src);
		goto out;
	}
	if ((out = tmp_create(d, &tmp, err)) == -1)
		goto out;
	dst = join(d->path, tmp);
	if (copy_fd(in, out, src, dst, max, size, sha, err) == -1) {
		tmp_abort(d, out, tmp);
		goto out;
	}
	crash_sub(site, "written");
	rc = tmp_commit(d, out, tmp, name, site, err);
 out:
	if (in != -1)
		close(in);
	free(tmp);
	free(dst);
	return rc;
}

/* ---- hard-link tree copy ----------------------------------------------- */

static int
copy_symlink(const struct fs_dir *src, const struct fs_dir *dst,
    const char *name, struct buf *err)
{
	char	 target[4097];
	ssize_t	 n;

	if ((n = readlinkat(src->fd, name, target, sizeof(target) - 1)) == -1)
		return fs_sys_err(err, "readlink", src->path, name);
	target[n] = '\0';
	if (symlinkat(target, dst->fd, name) == -1)
		return fs_sys_err(err, "symlink", dst->path, name);
	return 0;
}

/* A plain copy where a hard link is impossible (other file system). */
static int
copy_regular(const struct fs_dir *src, const struct fs_dir *dst,
    const char *name, struct buf *err)
{
	char	*path;
	int	 rc;

	path = join(src->path, name);
	rc = fs_copy_file(path, dst, name, UINT64_MAX, NULL, NULL, NULL, err);
	free(path);
	return rc;
}

/* The kind of a directory entry, from d_type when the file system has it. */
static int
entry_kind(int dfd, const struct dirent *de, const char *dpath,
    struct buf *err)
{
	struct stat	 st;

	switch (de->d_type) {
	case DT_REG:
		return S_IFREG;
	case DT_DIR:
		return S_IFDIR;
	case DT_LNK:
		return S_IFLNK;
	case DT_UNKNOWN:
		break;
	default:
		return 0;
	}
	if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return fs_sys_err(err, "stat", dpath, de->d_name);
	return (int)(st.st_mode & S_IFMT);
}

/* Open `name` in `dfd` as a directory stream (the DIR owns the fd). */
static DIR *
open_dirstream(int dfd, const char *name, const char *path, struct buf *err)
{
	DIR	*d;
	int	 fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		fs_sys_err(err, "open directory", path, NULL);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return d;
}

struct linkwalk {
	fs_skip_fn	 skip;
	void		*arg;
	size_t		*ndirs;
	struct buf	 rel;		/* relative path of the current entry */
	struct buf	*err;
};

static int
link_dir(struct linkwalk *w, const struct fs_dir *src, DIR *sdir,
    const struct fs_dir *dst)
{
	struct fs_dir	 s, d;
	struct dirent	*de;
	size_t		 mark = w->rel.len;
	int		 kind, rc = 0;

	errno = 0;
	while (rc == 0 && (de = readdir(sdir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		w->rel.len = mark;
		buf_addf(&w->rel, "%s%s", mark ? "/" : "", de->d_name);
		if ((kind = entry_kind(src->fd, de, src->path, w->err)) == -1)
			return -1;
		if (kind == 0 || (w->skip != NULL && w->skip(w->arg,
		    w->rel.data, kind == S_IFDIR)))
			continue;
		if (kind == S_IFLNK)
			rc = copy_symlink(src, dst, de->d_name, w->err);
		else if (kind == S_IFREG) {
			if (linkat(src->fd, de->d_name, dst->fd, de->d_name,
			    0) == 0)
				continue;
			if (errno != EXDEV && errno != EMLINK && errno != EPERM)
				rc = fs_sys_err(w->err, "link", dst->path,
				    de->d_name);
			else
				rc = copy_regular(src, dst, de->d_name,
				    w->err);
		} else if ((rc = fs_dir_mkdir(&d, dst, de->d_name, 0,
		    w->err)) == 0) {
			if (w->ndirs != NULL)
				(*w->ndirs)++;
			rc = link_subdir(w, src, de->d_name, &d, &s);
			fs_dir_close(&d);
		}
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = fs_sys_err(w->err, "read directory", src->path, NULL);
	w->rel.len = mark;
	return rc;
}

static int
link_subdir(struct linkwalk *w, const struct fs_dir *src, const char *name,
    const struct fs_dir *dst, struct fs_dir *s)
{
	DIR	*sd;
	size_t	 mark = w->rel.len;
	int	 rc;

	s->path = join(src->path, name);
	if ((sd = open_dirstream(src->fd, name, s->path, w->err)) == NULL) {
		free(s->path);
		return -1;
	}
	s->fd = dirfd(sd);
	rc = link_dir(w, s, sd, dst);
	w->rel.len = mark;
	closedir(sd);
	free(s->path);
	s->path = NULL;
	return rc;
}

int
fs_link_tree(const struct fs_dir *src, const struct fs_dir *dst,
    fs_skip_fn skip, void *arg, size_t *ndirs, struct buf *err)
{
	struct linkwalk	 w = { skip, arg, ndirs, BUF_INIT, err };
	struct fs_dir	 s;
	DIR		*sd;
	int		 rc;

	if ((sd = open_dirstream(src->fd, ".", src->path, err)) == NULL)
		return -1;
	s.fd = dirfd(sd);
	s.path = src->path;
	buf_add(&w.rel, "", 0);
	rc = link_dir(&w, &s, sd, dst);
	closedir(sd);
	buf_free(&w.rel);
	return rc;
}

/* ---- removal and locking ----------------------------------------------- */

static int
remove_dir(const struct fs_dir *d, DIR *dir, struct buf *err)
{
	struct fs_dir	 sub;
	struct dirent	*de;
	DIR		*sd;
	int		 kind, rc = 0;

	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((kind = entry_kind(d->fd, de, d->path, err)) == -1) {
			rc = -1;
			continue;
		}
		if (kind != S_IFDIR) {
			if (unlinkat(d->fd, de->d_name, 0) == -1 &&
			    errno != ENOENT)
				rc = fs_sys_err(err, "unlink", d->path,
				    de->d_name);
			continue;
		}
		sub.path = join(d->path, de->d_name);
		if ((sd = open_dirstream(d->fd, de->d_name, sub.path,
		    err)) == NULL)
			rc = -1;
		else {
			sub.fd = dirfd(sd);
			if (remove_dir(&sub, sd, err) == -1)
				rc = -1;
			closedir(sd);
			if (rc == 0 && unlinkat(d->fd, de->d_name,
			    AT_REMOVEDIR) == -1 && errno != ENOENT)
				rc = fs_sys_err(err, "rmdir", d->path,
				    de->d_name);
		}
		free(sub.path);
	}
	return rc;
}

int
fs_remove_tree(const struct fs_dir *d, const char *name, struct buf *err)
{
	struct fs_dir	 sub;
	DIR		*sd;
	int		 rc;

	if (unlinkat(d->fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return fs_sys_err(err, "unlink", d->path, name);
	sub.path = join(d->path, name);
	if ((sd = open_dirstream(d->fd, name, sub.path, err)) == NULL) {
		free(sub.path);
		return -1;
	}
	sub.fd = dirfd(sd);
	rc = remove_dir(&sub, sd, err);
	closedir(sd);
	if (rc == 0 && unlinkat(d->fd, name, AT_REMOVEDIR) == -1 &&
	    errno != ENOENT)
		rc = fs_sys_err(err, "rmdir", d->path, name);
	free(sub.path);
	return rc;
}

int
fs_lock(const struct fs_dir *d, const char *name, struct buf *err)
{
	int	 fd;

	fd = openat(d->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return fs_sys_err(err, "open lock file", d->path, name);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			errf(err, "%s/%s: locked by another publish in "
			    "progress", d->path, name);
		else
			fs_sys_err(err, "lock", d->path, name);
		close(fd);
		return -1;
	}
	return fd;
}
