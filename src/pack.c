/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pack.c: the deterministic packer and the staged-tree payload rule.
 *
 * Trust: the staged tree is written by an untrusted build script, which
 * may still be running (a build process must not be able to swap content
 * between hashing and packing: every file is re-hashed while streamed).
 * Paths are opened one component at a time with O_NOFOLLOW below the
 * root fd; special files are refused on lstat, before any open.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "identity.h"
#include "log.h"
#include "pack.h"
#include "sign.h"
#include "tar.h"
#include "zstream.h"

#define IO_CHUNK	(128 * 1024)
#define MAX_REPORTED	20	/* path errors listed before "and N more" */

struct item {
	const struct pack_entry	*e;
	char			*wire;		/* on-wire name */
	char			*target;	/* symlink target */
	struct mf_file		*file;		/* files.json entry */
};

struct packer {
	struct manifest		*mf;
	int			 rootfd;
	const struct pack_opts	*opts;
	struct item		*items;
	size_t			 nitems;
	struct mf_file		*files;
	size_t			 nfiles;
	int64_t			 mtime;
	struct zout		*z;
	struct sha256_ctx	 tarsha;	/* signed range */
	struct sha256_ctx	 outsha;	/* compressed file */
	char			*io;
};

static int	 cmp_str(const void *, const void *);
static int	 cmp_item(const void *, const void *);
static int	 open_parent(int, const char *, const char **, struct buf *);
static const char *kind_name(mode_t);
static int	 walk(int, struct buf *, int, const struct pack_opts *,
		    struct pack_list *, struct buf *);
static int	 walk_one(int, const char *, struct buf *, int,
		    const struct pack_opts *, struct pack_list *, struct buf *);
static int	 prepare(struct packer *, const struct pack_list *,
		    struct buf *);
static int	 check_dups(struct packer *, struct buf *);
static int	 stat_entry(struct packer *, struct item *, struct buf *);
static int	 open_regular(struct packer *, const char *, uint64_t *,
		    struct buf *);
static int	 check_size(struct packer *, struct item *, uint64_t,
		    struct tar_writer *, struct buf *);
static int	 hash_file(struct packer *, struct item *, struct tar_writer *,
		    struct buf *);
static int	 pass1(struct packer *, struct buf *);
static int	 sink(void *, const void *, size_t, struct buf *);
static void	 out_tap(void *, const void *, size_t);
static int	 stream(struct packer *, struct tar_writer *, struct buf *);
static int	 finish(struct packer *, struct tar_writer *,
		    struct pack_result *, struct buf *);
static void	 packer_free(struct packer *);

void
pack_opts_init(struct pack_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->level = ZOUT_DEFAULT_LEVEL;
	o->workers = 1;
	o->max_entries = PACK_MAX_ENTRIES;
	o->max_bytes = PACK_MAX_BYTES;
}

void
pack_list_add(struct pack_list *l, const char *path, enum pack_type type)
{
	if (l->n == l->cap) {
		l->cap = l->cap < 64 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].path = xstrdup(path);
	l->v[l->n].type = type;
	l->n++;
}

void
pack_list_free(struct pack_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
pack_list_add_ancestors(struct pack_list *l)
{
	char		**have, **cand = NULL, *p;
	size_t		 i, n = l->n, nc = 0, cap = 0;

	have = xcalloc(n, sizeof(*have));
	for (i = 0; i < n; i++) {
		have[i] = l->v[i].path;
		for (p = strchr(have[i], '/'); p != NULL;
		    p = strchr(p + 1, '/')) {
			if (nc == cap) {
				cap = cap < 64 ? 64 : cap * 2;
				cand = xreallocarray(cand, cap, sizeof(*cand));
			}
			cand[nc++] = xstrndup(have[i], (size_t)(p - have[i]));
		}
	}
	qsort(have, n, sizeof(*have), cmp_str);
	if (nc > 0)
		qsort(cand, nc, sizeof(*cand), cmp_str);
	for (i = 0; i < nc; i++) {
		if ((i == 0 || strcmp(cand[i - 1], cand[i]) != 0) &&
		    (n == 0 || bsearch(&cand[i], have, n, sizeof(*have),
		    cmp_str) == NULL))
			pack_list_add(l, cand[i], PACK_DIR);
	}
	for (i = 0; i < nc; i++)
		free(cand[i]);
	free(cand);
	free(have);
}

/*
 * Open the directory holding `path` below rootfd, one component at a
 * time without following symlinks; *base points at the last component.
 */
static int
open_parent(int rootfd, const char *path, const char **base, struct buf *err)
{
	const char	*p = path, *slash;
	struct stat	 st;
	char		*comp;
	int		 fd, nfd, e;

	if ((fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return errf(err, "dup: %s", strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		comp = xstrndup(p, (size_t)(slash - p));
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		e = errno;
		if (nfd == -1 && fstatat(fd, comp, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			e = ELOOP;
		free(comp);
		close(fd);
		if (nfd == -1)
			return errf(err, "%s: cannot open directory %.*s: %s",
			    path, (int)(slash - path), path, e == ELOOP ?
			    "it is a symlink" : strerror(e));
		fd = nfd;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

static const char *
kind_name(mode_t m)
{
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	if (S_ISFIFO(m))
		return "FIFO";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISDIR(m))
		return "directory";
	if (S_ISLNK(m))
		return "symlink";
	if (S_ISREG(m))
		return "regular file";
	return "special file";
}

/* ---- the payload rule ------------------------------------------------- */

/* One directory entry of the walk; path holds its relative path. */
static int
walk_one(int dfd, const char *name, struct buf *path, int depth,
    const struct pack_opts *o, struct pack_list *l, struct buf *err)
{
	struct stat	 st;
	int		 fd, rc;

	if (path->len > PATH_MAX_BYTES)
		return errf(err, "%.64s...: path longer than %d bytes",
		    path->data, PATH_MAX_BYTES);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errf(err, "%s: %s", path->data, strerror(errno));
	if (S_ISREG(st.st_mode))
		pack_list_add(l, path->data, PACK_FILE);
	else if (S_ISLNK(st.st_mode))
		pack_list_add(l, path->data, PACK_SYMLINK);
	else if (!S_ISDIR(st.st_mode))
		return errf(err, "%s: a %s cannot be packaged", path->data,
		    kind_name(st.st_mode));
	else if (depth >= PACK_MAX_DEPTH)
		return errf(err, "%s: directories nested deeper than %d",
		    path->data, PACK_MAX_DEPTH);
	else {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1)
			return errf(err, "%s: %s", path->data, strerror(errno));
		rc = walk(fd, path, depth + 1, o, l, err);
		close(fd);
		if (rc == -1)
			return -1;
	}
	if (l->n > o->max_entries)
		return errf(err, "staged tree has more than %llu payload "
		    "entries", (unsigned long long)o->max_entries);
	return 0;
}

static int
walk(int dfd, struct buf *path, int depth, const struct pack_opts *o,
    struct pack_list *l, struct buf *err)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 len = path->len;
	int		 fd, rc = 0;

	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return errf(err, "dup: %s", strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return errf(err, "%s: %s", path->len ? path->data : ".",
		    strerror(errno));
	}
	rewinddir(d);	/* a dup shares the position with dfd */
	while (rc == 0) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				rc = errf(err, "%s: readdir: %s", path->len ?
				    path->data : ".", strerror(errno));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (len > 0)
			buf_addc(path, '/');
		buf_adds(path, de->d_name);
		rc = walk_one(dirfd(d), de->d_name, path, depth, o, l, err);
		path->len = len;
		path->data[len] = '\0';
	}
	closedir(d);
	return rc;
}

int
pack_collect(int rootfd, const char *const *dirs, size_t ndirs,
    const struct pack_opts *o, struct pack_list *l, struct buf *err)
{
	struct buf	 path = BUF_INIT, e = BUF_INIT;
	char		*d;
	size_t		 i, j, n, first;
	int		 rc = -1;

	buf_adds(&path, "");
	if (walk(rootfd, &path, 0, o, l, err) == -1)
		goto out;
	first = l->n;
	for (i = 0; i < ndirs; i++) {
		n = strlen(dirs[i]);
		if (n > 1 && dirs[i][n - 1] == '/')
			n--;
		d = xstrndup(dirs[i], n);
		if (ident_payload_path(d, n, &e) == -1) {
			errf(err, "directory claim: %s", buf_str(&e));
			free(d);
			goto out;
		}
		for (j = first; j < l->n && strcmp(l->v[j].path, d) != 0; j++)
			;
		if (j == l->n)
			pack_list_add(l, d, PACK_DIR);
		free(d);
	}
	pack_list_add_ancestors(l);
	rc = 0;
 out:
	buf_free(&path);
	buf_free(&e);
	return rc;
}

/* ---- preparing -------------------------------------------------------- */

static int
cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->wire,
	    ((const struct item *)b)->wire);
}

static int
prepare(struct packer *p, const struct pack_list *l, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	size_t		 i, len, bad = 0;
	const char	*path;

	if (l->n > p->opts->max_entries)
		return errf(err, "%zu payload entries (at most %llu)", l->n,
		    (unsigned long long)p->opts->max_entries);
	p->items = xcalloc(l->n, sizeof(*p->items));
	p->nitems = l->n;
	for (i = 0; i < l->n; i++) {
		path = l->v[i].path;
		len = strlen(path);
		p->items[i].e = &l->v[i];
		if (l->v[i].type == PACK_DIR)
			p->items[i].wire = xasprintf("%s/", path);
		else
			p->items[i].wire = xstrdup(path);
		if (l->v[i].type < PACK_FILE || l->v[i].type > PACK_SYMLINK) {
			bad++;
			errf(err, "payload entry %s: unknown type", path);
		} else if (ident_payload_path(path, len, &e) == -1) {
			if (bad++ < MAX_REPORTED)
				errf(err, "payload %s", buf_str(&e));
			buf_reset(&e);
		}
	}
	buf_free(&e);
	if (bad > MAX_REPORTED)
		errf(err, "... and %zu more invalid payload paths",
		    bad - MAX_REPORTED);
	if (bad > 0)
		return -1;
	qsort(p->items, p->nitems, sizeof(*p->items), cmp_item);
	return check_dups(p, err);
}

/* One name per path: no repeated entry, no path both a dir and not. */
static int
check_dups(struct packer *p, struct buf *err)
{
	char	**paths;
	size_t	 i;
	int	 rc = 0;

	for (i = 1; i < p->nitems; i++)
		if (strcmp(p->items[i - 1].wire, p->items[i].wire) == 0)
			return errf(err, "payload entry %s is listed twice",
			    p->items[i].wire);
	paths = xcalloc(p->nitems, sizeof(*paths));
	for (i = 0; i < p->nitems; i++)
		paths[i] = p->items[i].e->path;
	qsort(paths, p->nitems, sizeof(*paths), cmp_str);
	for (i = 1; i < p->nitems && rc == 0; i++)
		if (strcmp(paths[i - 1], paths[i]) == 0)
			rc = errf(err, "payload path %s is listed both as a "
			    "directory and as a file or symlink", paths[i]);
	free(paths);
	return rc;
}

/* Directories and symlinks: check the type; read a symlink's target. */
static int
stat_entry(struct packer *p, struct item *it, struct buf *err)
{
	const char	*path = it->e->path, *base;
	struct stat	 st;
	char		 t[PATH_MAX_BYTES + 1];
	ssize_t		 n;
	int		 dfd, rc = -1;

	if ((dfd = open_parent(p->rootfd, path, &base, err)) == -1)
		return -1;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		errf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (it->e->type == PACK_DIR && !S_ISDIR(st.st_mode)) {
		errf(err, "%s: claimed as a directory but is a %s", path,
		    kind_name(st.st_mode));
		goto out;
	}
	if (it->e->type == PACK_SYMLINK) {
		if (!S_ISLNK(st.st_mode)) {
			errf(err, "%s: expected a symlink, found a %s", path,
			    kind_name(st.st_mode));
			goto out;
		}
		if ((n = readlinkat(dfd, base, t, sizeof(t))) == -1) {
			errf(err, "%s: readlink: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || (size_t)n > PATH_MAX_BYTES) {
			errf(err, "%s: symlink target is %s", path, n == 0 ?
			    "empty" : "longer than 4096 bytes");
			goto out;
		}
		it->target = xstrndup(t, (size_t)n);
	}
	rc = 0;
 out:
	close(dfd);
	return rc;
}

/*
 * Open regular file `path` below the root without following symlinks;
 * it must still be the file lstat saw.  Sets *size.
 */
static int
open_regular(struct packer *p, const char *path, uint64_t *size,
    struct buf *err)
{
	const char	*base;
	struct stat	 st, st2;
	int		 dfd, fd = -1;

	if ((dfd = open_parent(p->rootfd, path, &base, err)) == -1)
		return -1;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		errf(err, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		errf(err, "%s: expected a regular file, found a %s", path,
		    kind_name(st.st_mode));
	else if ((fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1 || fstat(fd, &st2) == -1)
		errf(err, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st2.st_mode) || st2.st_ino != st.st_ino ||
	    st2.st_dev != st.st_dev)
		errf(err, "%s: replaced while being packed", path);
	else {
		*size = (uint64_t)st2.st_size;
		close(dfd);
		return fd;
	}
	if (fd != -1)
		close(fd);
	close(dfd);
	return -1;
}

/* Pass 1: the size fits the caps.  Pass 2: the size did not change. */
static int
check_size(struct packer *p, struct item *it, uint64_t size,
    struct tar_writer *tw, struct buf *err)
{
	const char	*path = it->e->path;

	if (tw == NULL) {
		it->file->size = size;
		if (size > p->opts->max_bytes ||
		    p->mf->size_installed > p->opts->max_bytes - size)
			return errf(err, "%s: payload files total more than "
			    "%llu bytes", path,
			    (unsigned long long)p->opts->max_bytes);
		return 0;
	}
	if (size != it->file->size)
		return errf(err, "%s: size changed while being packed (%llu, "
		    "then %llu bytes)", path,
		    (unsigned long long)it->file->size,
		    (unsigned long long)size);
	return tar_begin_file(tw, it->wire, size, err);
}

/*
 * Hash a regular file (pass 1) or stream it into the tar while hashing
 * again (tw != NULL): size and digest must match pass 1.
 */
static int
hash_file(struct packer *p, struct item *it, struct tar_writer *tw,
    struct buf *err)
{
	const char		*path = it->e->path;
	struct sha256_ctx	 sha;
	uint64_t		 size, got = 0;
	uint8_t			 digest[32];
	ssize_t			 n;
	int			 fd, rc = -1;

	sha.md = NULL;
	if ((fd = open_regular(p, path, &size, err)) == -1)
		return -1;
	if (check_size(p, it, size, tw, err) == -1)
		goto out;
	sha256_init(&sha);
	while ((n = read(fd, p->io, IO_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errf(err, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if ((got += (uint64_t)n) > size) {
			errf(err, "%s: grew while being packed", path);
			goto out;
		}
		sha256_update(&sha, p->io, (size_t)n);
		if (tw != NULL && tar_write_data(tw, p->io, (size_t)n,
		    err) == -1)
			goto out;
	}
	sha256_final(&sha, digest);
	if (got != size)
		errf(err, "%s: shrank while being packed (%llu of %llu bytes)",
		    path, (unsigned long long)got, (unsigned long long)size);
	else if (tw != NULL && memcmp(digest, it->file->sha256, 32) != 0)
		errf(err, "%s: content changed while being packed", path);
	else {
		if (tw == NULL) {
			memcpy(it->file->sha256, digest, 32);
			p->mf->size_installed += got;
		}
		rc = 0;
	}
 out:
	sha256_free(&sha);
	close(fd);
	return rc;
}

/* Hash every file (files.json), read targets, check types. */
static int
pass1(struct packer *p, struct buf *err)
{
	struct item	*it;
	size_t		 i;

	p->files = xcalloc(p->nitems, sizeof(*p->files));
	p->mf->size_installed = 0;
	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		if (it->e->type != PACK_FILE) {
			if (stat_entry(p, it, err) == -1)
				return -1;
			continue;
		}
		it->file = &p->files[p->nfiles++];
		it->file->path = xstrdup(it->e->path);
		if (hash_file(p, it, NULL, err) == -1)
			return -1;
	}
	return 0;
}

/* ---- streaming -------------------------------------------------------- */

static int
sink(void *arg, const void *buf, size_t n, struct buf *err)
{
	struct packer	*p = arg;

	if (p->tarsha.md != NULL)
		sha256_update(&p->tarsha, buf, n);
	return zout_write(p->z, buf, n, err);
}

static int
count_sink(void *arg, const void *buf, size_t n, struct buf *err)
{
	*(uint64_t *)arg += n;
	return 0;
}

/*
 * The exact size of the tar stream(): the same entries through a
 * counting sink, file contents skipped.  zstd is told it in advance.
 */
static int
tar_size(struct packer *p, uint64_t *size, struct buf *err)
{
	struct tar_writer	 tw;
	struct buf		 mj = BUF_INIT, fj = BUF_INIT;
	struct item		*it;
	size_t			 i;
	int			 rc = -1;

	*size = 0;
	tar_init(&tw, count_sink, size, p->mtime);
	manifest_write(p->mf, &mj);
	manifest_files_write(p->files, p->nfiles, &fj);
	if (tar_add_file_mem(&tw, ".peipkg/manifest.json", mj.data, mj.len,
	    err) == -1 || tar_add_file_mem(&tw, ".peipkg/files.json", fj.data,
	    fj.len, err) == -1)
		goto out;
	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		if ((it->e->type == PACK_DIR && tar_add_dir(&tw, it->wire,
		    err) == -1) || (it->e->type == PACK_SYMLINK &&
		    tar_add_symlink(&tw, it->wire, it->target, err) == -1) ||
		    (it->e->type == PACK_FILE && (tar_begin_file(&tw, it->wire,
		    it->file->size, err) == -1 || tar_skip_data(&tw,
		    it->file->size, err) == -1)))
			goto out;
	}
	if (p->opts->signer != NULL && (tar_begin_file(&tw,
	    ".peipkg/signature", SIGENV_LEN, err) == -1 ||
	    tar_skip_data(&tw, SIGENV_LEN, err) == -1))
		goto out;
	rc = tar_finish(&tw, err);
 out:
	buf_free(&mj);
	buf_free(&fj);
	return rc;
}

static void
out_tap(void *arg, const void *buf, size_t n)
{
	sha256_update(arg, buf, n);
}

static int
stream(struct packer *p, struct tar_writer *tw, struct buf *err)
{
	struct buf	 mj = BUF_INIT, fj = BUF_INIT;
	struct item	*it;
	size_t		 i;
	int		 rc = -1;

	manifest_write(p->mf, &mj);
	manifest_files_write(p->files, p->nfiles, &fj);
	if (tar_add_file_mem(tw, ".peipkg/manifest.json", mj.data, mj.len,
	    err) == -1 || tar_add_file_mem(tw, ".peipkg/files.json", fj.data,
	    fj.len, err) == -1)
		goto out;
	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		if (it->e->type == PACK_DIR) {
			if (tar_add_dir(tw, it->wire, err) == -1)
				goto out;
		} else if (it->e->type == PACK_SYMLINK) {
			if (tar_add_symlink(tw, it->wire, it->target,
			    err) == -1)
				goto out;
		} else if (hash_file(p, it, tw, err) == -1)
			goto out;
	}
	rc = 0;
 out:
	buf_free(&mj);
	buf_free(&fj);
	return rc;
}

/* The signature entry (if signing), the trailer, the zstd frame end. */
static int
finish(struct packer *p, struct tar_writer *tw, struct pack_result *res,
    struct buf *err)
{
	struct buf	 env = BUF_INIT;
	uint8_t		 digest[32];
	uint64_t	 written;
	int		 rc = -1;

	res->signed_bytes = 0;
	if (p->opts->signer != NULL) {
		res->signed_bytes = tw->offset;
		sha256_final(&p->tarsha, digest);
		if (sign_envelope(p->opts->signer, SIGN_PACKAGE, p->mf->name,
		    digest, &env, err) == -1 ||
		    tar_add_file_mem(tw, ".peipkg/signature", env.data,
		    env.len, err) == -1)
			goto out;
	}
	if (tar_finish(tw, err) == -1 || zout_finish(p->z, &written,
	    err) == -1)
		goto out;
	res->tar_size = tw->offset;	/* zstd checked it against the pledge */
	res->size_compressed = written;
	sha256_final(&p->outsha, res->sha256);
	res->size_installed = p->mf->size_installed;
	res->nentries = p->nitems;
	rc = 0;
 out:
	buf_free(&env);
	return rc;
}

static void
packer_free(struct packer *p)
{
	size_t	 i;

	for (i = 0; i < p->nitems; i++) {
		free(p->items[i].wire);
		free(p->items[i].target);
	}
	free(p->items);
	manifest_files_free(p->files, p->nfiles);
	zout_free(p->z);
	sha256_free(&p->tarsha);
	sha256_free(&p->outsha);
	free(p->io);
}

int
pack_write_fd(struct manifest *mf, int rootfd, const struct pack_list *l,
    const struct pack_opts *o, int outfd, struct pack_result *resp,
    struct buf *err)
{
	struct packer		 p;
	struct pack_result	 res;
	struct tar_writer	 tw;
	struct buf		 e = BUF_INIT;
	uint64_t		 tarsize;
	int			 rc = -1;

	memset(&p, 0, sizeof(p));
	p.mf = mf;
	p.rootfd = rootfd;
	p.opts = o;
	p.io = xmalloc(IO_CHUNK);
	if (manifest_timestamp(mf->build.timestamp, &p.mtime, &e) == -1) {
		errf(err, "manifest build: %s", buf_str(&e));
		goto out;
	}
	if (p.mtime < 0 || p.mtime > TAR_MTIME_MAX) {
		errf(err, "manifest build: timestamp \"%s\" is outside the "
		    "range a tar header can hold (1970 to 2242)",
		    mf->build.timestamp);
		goto out;
	}
	if (prepare(&p, l, err) == -1 || pass1(&p, err) == -1)
		goto out;
	if (manifest_validate(mf, MF_PRODUCER, &e) == -1) {
		errf(err, "manifest is not acceptable to the consumer:\n%s",
		    buf_str(&e));
		goto out;
	}
	if (o->progress != NULL)
		o->progress(o->progress_arg, "hashed");
	if (tar_size(&p, &tarsize, err) == -1 ||
	    (p.z = zout_new(outfd, o->level, o->workers, err)) == NULL ||
	    zout_pledge(p.z, tarsize, err) == -1)
		goto out;
	sha256_init(&p.outsha);
	zout_set_tap(p.z, out_tap, &p.outsha);
	if (o->signer != NULL)
		sha256_init(&p.tarsha);
	tar_init(&tw, sink, &p, p.mtime);
	if (stream(&p, &tw, err) == -1 || finish(&p, &tw, &res, err) == -1)
		goto out;
	if (o->progress != NULL)
		o->progress(o->progress_arg, "written");
	if (resp != NULL)
		*resp = res;
	rc = 0;
 out:
	packer_free(&p);
	buf_free(&e);
	return rc;
}

int
pack_write_file(struct manifest *mf, int rootfd, const struct pack_list *l,
    const struct pack_opts *o, const char *path, struct pack_result *res,
    struct buf *err)
{
	const char	*slash = strrchr(path, '/');
	char		*dir, *tmp;
	int		 fd, dfd = -1, rc = -1;

	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xstrndup(path, (size_t)(slash - path));
	tmp = xasprintf("%s/.%s.tmp.XXXXXX", dir, slash ? slash + 1 : path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		errf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) == -1)
		errf(err, "%s: chmod: %s", tmp, strerror(errno));
	else if (pack_write_fd(mf, rootfd, l, o, fd, res, err) == -1)
		;
	else if (fsync(fd) == -1)
		errf(err, "%s: fsync: %s", tmp, strerror(errno));
	else
		rc = 0;
	if (close(fd) == -1 && rc == 0)
		rc = errf(err, "%s: close: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) == -1)
		rc = errf(err, "%s: rename: %s", path, strerror(errno));
	if (rc == -1) {
		unlink(tmp);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		rc = errf(err, "%s: fsync: %s", dir, strerror(errno));
		unlink(path);
	}
 out:
	if (dfd != -1)
		close(dfd);
	free(dir);
	free(tmp);
	return rc;
}
