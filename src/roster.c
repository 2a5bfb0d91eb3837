/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * roster.c: the roster of recipes in recipes_dir (recipe.h): every
 * subdirectory holding a peipkg.toml is loaded with recipe_load(), the
 * ones that fail are kept as rejects with their messages, both lists
 * sorted by recipe ID.
 *
 * Trust: recipes_dir is operator-controlled; entries are looked at with
 * fstatat(AT_SYMLINK_NOFOLLOW) (files and symlinks are not recipes),
 * their number is capped and each recipe is parsed with recipe.c's
 * limits.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recipe.h"

static int	 by_id(const void *, const void *);
static int	 bad_by_id(const void *, const void *);
static void	 add_reject(struct roster *, const char *, const char *,
		    const char *);
static void	 roster_add(struct roster *, int, const char *, const char *,
		    enum recipe_mode);

static int
by_id(const void *a, const void *b)
{
	const struct recipe *const	*x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int
bad_by_id(const void *a, const void *b)
{
	const struct roster_reject	*x = a, *y = b;

	return strcmp(x->id, y->id);
}

static void
add_reject(struct roster *ros, const char *id, const char *path,
    const char *errors)
{
	struct roster_reject	*b;

	ros->bad = xreallocarray(ros->bad, ros->nbad + 1, sizeof(*ros->bad));
	b = &ros->bad[ros->nbad++];
	b->id = xstrdup(id);
	b->path = xstrdup(path);
	b->errors = xstrdup(errors);
}

/* One directory entry of recipes_dir (dfd) named `id`. */
static void
roster_add(struct roster *ros, int dfd, const char *dir, const char *id,
    enum recipe_mode mode)
{
	struct stat	 st;
	struct buf	 e = BUF_INIT;
	struct recipe	*r;
	char		*path;

	if (fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))
		return;		/* files and symlinks are not recipes */
	path = xasprintf("%s/%s/%s", dir, id, RECIPE_FILE);
	if (stat(path, &st) == -1) {
		if (errno != ENOENT)
			errf(&e, "%s:1:1: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode))
		errf(&e, "%s:1:1: not a regular file", path);
	else if (recipe_id_valid(id, &e) == 0) {
		if ((r = recipe_load(path, id, mode, &e)) != NULL) {
			ros->r = xreallocarray(ros->r, ros->n + 1,
			    sizeof(*ros->r));
			ros->r[ros->n++] = r;
		}
	} else {
		struct buf	 m = BUF_INIT;

		errf(&m, "%s:1:1: %s", path, buf_str(&e));
		buf_reset(&e);
		buf_adds(&e, buf_str(&m));
		buf_free(&m);
	}
	if (e.len > 0)
		add_reject(ros, id, path, buf_str(&e));
	free(path);
	buf_free(&e);
}

int
roster_load(const char *dir, enum recipe_mode mode, struct roster **out,
    struct buf *err)
{
	struct roster	*ros;
	struct dirent	*de;
	DIR		*dp;
	int		 dfd;

	*out = NULL;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errf(err, "recipes_dir %s: %s", dir, strerror(errno));
	if ((dp = fdopendir(dfd)) == NULL) {
		close(dfd);
		return errf(err, "recipes_dir %s: %s", dir, strerror(errno));
	}
	ros = xcalloc(1, sizeof(*ros));
	ros->dir = xstrdup(dir);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (ros->n + ros->nbad >= ROSTER_MAX_RECIPES) {
			errf(err, "recipes_dir %s: more than %d recipes", dir,
			    ROSTER_MAX_RECIPES);
			closedir(dp);
			roster_free(ros);
			return -1;
		}
		roster_add(ros, dirfd(dp), dir, de->d_name, mode);
	}
	closedir(dp);
	if (ros->n > 0)
		qsort(ros->r, ros->n, sizeof(*ros->r), by_id);
	if (ros->nbad > 0)
		qsort(ros->bad, ros->nbad, sizeof(*ros->bad), bad_by_id);
	*out = ros;
	return 0;
}

void
roster_free(struct roster *ros)
{
	size_t	 i;

	if (ros == NULL)
		return;
	for (i = 0; i < ros->n; i++)
		recipe_free(ros->r[i]);
	for (i = 0; i < ros->nbad; i++) {
		free(ros->bad[i].id);
		free(ros->bad[i].path);
		free(ros->bad[i].errors);
	}
	free(ros->r);
	free(ros->bad);
	free(ros->dir);
	free(ros);
}

const struct recipe *
roster_find(const struct roster *ros, const char *id)
{
	size_t	 lo = 0, hi = ros->n, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, ros->r[mid]->id)) == 0)
			return ros->r[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
roster_watched(const struct roster *ros)
{
	size_t	 i, n = 0;

	for (i = 0; i < ros->n; i++)
		n += ros->r[i]->watched != 0;
	return n;
}

void
roster_reject(struct roster *ros, size_t i, const char *errors)
{
	struct recipe	*r = ros->r[i];

	add_reject(ros, r->id, r->path, errors);
	qsort(ros->bad, ros->nbad, sizeof(*ros->bad), bad_by_id);
	memmove(&ros->r[i], &ros->r[i + 1], (ros->n - i - 1) *
	    sizeof(*ros->r));
	ros->n--;
	recipe_free(r);
}
