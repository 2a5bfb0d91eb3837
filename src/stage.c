/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * stage.c: collect, partition and validate what build.sh staged in
 * DESTDIR, and list each package's payload (BEHAVIOUR.md §3.6-3.9,
 * §3.12, with the consumer's payload order and path syntax and the
 * newest packer's destination list, CONSUMER.md P1, P4, P6).
 *
 * Trust: the tree is hostile (names with newlines, symlinks anywhere,
 * FIFOs, deep or huge trees, files changing under us).  We walk it by
 * descriptor with O_NOFOLLOW, never resolve a symlink, and bound depth,
 * path length and the number of leaves.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glob.h"
#include "identity.h"
#include "stage.h"

#define STAGE_MAX_DIRENTS	STAGE_MAX_LEAVES

struct walk {
	const struct recipe_package	*pkgs;
	size_t				 npkgs;
	struct stage			*st;
	struct buf			 path;	/* current relative path */
	struct buf			 errs;	/* "  <line>\n" each */
	size_t				 nerr;
	int				 full;	/* leaf limit reached */
};

static void	 werr(struct walk *, const char *, const char *, ...)
		    PM_PRINTF(3, 4);
static int	 by_name(const void *, const void *);
static int	 read_names(int, char ***, size_t *, struct walk *);
static void	 add_leaf(struct walk *, enum stage_type, uint64_t, char *);
static int	 dir_claimed(const struct walk *, const char *);
static void	 visit(struct walk *, int, const char *, size_t);
static void	 walk_dir(struct walk *, int, size_t);
static int	 pkg_matches(const struct recipe_package *,
		    const struct stage_leaf *);
static int	 by_path(const void *, const void *);
static int	 under(const char *, const char *, int);
static int	 under_dest(const char *, int);
static char	*clean_join(const char *, const char *);
static int	 check_layout(const struct recipe_package *,
		    const struct stage_leaf *, struct buf *);
static int	 check_symlink(const struct stage_leaf *, struct buf *);
static void	 check_leaf(const struct recipe_package *,
		    const struct stage_leaf *, struct buf *, size_t *);
static size_t	 count_entries(const struct stage *, int);
static int	 by_entry(const void *, const void *);
static void	 push_entry(struct stage_entry **, size_t *, size_t *, char *,
		    enum stage_type, const struct stage_leaf *);

/* The newest packer's permitted destinations (CONSUMER.md P4). */
static const char *const dests[] = {
	"usr/bin/", "usr/lib/", "usr/share/", "usr/include/",
	"usr/src/debug/", "etc/", "var/", "opt/", "boot/", "system/", NULL
};

/* Empty runtime mount points a package may create. */
static const char *const runtime_roots[] = {
	"dev", "proc", "run", "sys", "tmp", NULL
};

void
stage_init(struct stage *st)
{
	memset(st, 0, sizeof(*st));
}

void
stage_free(struct stage *st)
{
	size_t	 i;

	for (i = 0; i < st->nleaves; i++) {
		free(st->leaves[i].path);
		free(st->leaves[i].target);
	}
	free(st->leaves);
	stage_init(st);
}

void
stage_show(struct buf *b, const char *s)
{
	const char	*c;

	for (c = s; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\')
			break;
	if (*c == '\0' && c != s)
		buf_adds(b, s);
	else
		ident_quote(b, s, strlen(s));
}

/* ---- opening below DESTDIR ------------------------------------------- */

int
stage_openat(int rootfd, const char *path, int flags, mode_t mode)
{
	const char	*c = path;
	char		 comp[PATH_MAX_COMPONENT + 1];
	size_t		 n;
	int		 dfd = rootfd, fd, save;

	for (;;) {
		n = strcspn(c, "/");
		if (n == 0 || n > PATH_MAX_COMPONENT ||
		    (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.')) {
			fd = -1;
			errno = EINVAL;
			break;
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		if (c[n] == '\0') {
			fd = openat(dfd, comp, flags | O_NOFOLLOW | O_CLOEXEC,
			    mode);
			break;
		}
		fd = openat(dfd, comp,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			break;
		if (dfd != rootfd)
			close(dfd);
		dfd = fd;
		c += n + 1;
	}
	save = errno;
	if (dfd != rootfd)
		close(dfd);
	errno = save;
	return fd;
}

int
stage_open_leaf(int rootfd, const struct stage_leaf *l, struct buf *err)
{
	struct buf	 p = BUF_INIT;
	struct stat	 sb;
	int		 fd;

	stage_show(&p, l->path);
	if ((fd = stage_openat(rootfd, l->path, O_RDONLY, 0)) == -1)
		errf(err, "%s: cannot open: %s", buf_str(&p),
		    errno == ELOOP ? "it was replaced by a symlink" :
		    errno == ENOTDIR ? "a directory on its path was replaced "
		    "by a symlink or a file" : strerror(errno));
	else if (fstat(fd, &sb) == -1) {
		errf(err, "%s: fstat: %s", buf_str(&p), strerror(errno));
		close(fd);
		fd = -1;
	} else if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != l->size) {
		errf(err, "%s: changed while it was being packaged "
		    "(was a %ju-byte regular file)", buf_str(&p),
		    (uintmax_t)l->size);
		close(fd);
		fd = -1;
	}
	buf_free(&p);
	return fd;
}

/* ---- collect ----------------------------------------------------------- */

static void
werr(struct walk *w, const char *path, const char *fmt, ...)
{
	struct buf	 line = BUF_INIT;
	va_list		 ap;

	buf_adds(&line, "walk staged tree: ");
	stage_show(&line, path);
	buf_adds(&line, ": ");
	va_start(ap, fmt);
	buf_vaddf(&line, fmt, ap);
	va_end(ap);
	errf(&w->errs, "%s", line.data);
	buf_free(&line);
	w->nerr++;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in the directory (takes dfd), sorted. */
static int
read_names(int dfd, char ***out, size_t *nout, struct walk *w)
{
	struct dirent	*de;
	DIR		*d;
	char		**v = NULL;
	size_t		 n = 0;
	int		 rc = 0;

	if ((d = fdopendir(dfd)) == NULL) {
		werr(w, w->path.len ? w->path.data : ".", "%s",
		    strerror(errno));
		close(dfd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == STAGE_MAX_DIRENTS) {
			werr(w, w->path.len ? w->path.data : ".",
			    "more than %d entries", STAGE_MAX_DIRENTS);
			rc = -1;
			break;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(de->d_name);
	}
	if (rc == 0 && errno != 0) {
		werr(w, w->path.len ? w->path.data : ".", "readdir: %s",
		    strerror(errno));
		rc = -1;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_name);
	*out = v;
	*nout = n;
	return rc;
}

static void
add_leaf(struct walk *w, enum stage_type type, uint64_t size, char *target)
{
	struct stage		*st = w->st;
	struct stage_leaf	*l;

	if (st->nleaves == STAGE_MAX_LEAVES) {
		if (!w->full)
			werr(w, w->path.data, "more than %d staged entries",
			    STAGE_MAX_LEAVES);
		w->full = 1;
		free(target);
		return;
	}
	if (st->nleaves == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 64;
		st->leaves = xreallocarray(st->leaves, st->cap,
		    sizeof(*st->leaves));
	}
	l = &st->leaves[st->nleaves++];
	l->path = xstrdup(w->path.data);
	l->type = type;
	l->target = target;
	l->size = size;
	l->pkg = -1;
}

/* A pattern ending in '/' (without its slashes) matches the directory. */
static int
dir_claimed(const struct walk *w, const char *path)
{
	const struct recipe_package	*p;
	char				*pat;
	size_t				 i, j, n;
	int				 hit = 0;

	for (i = 0; i < w->npkgs && !hit; i++) {
		p = &w->pkgs[i];
		for (j = 0; j < p->nfiles && !hit; j++) {
			n = strlen(p->files[j]);
			if (n == 0 || p->files[j][n - 1] != '/')
				continue;
			while (n > 0 && p->files[j][n - 1] == '/')
				n--;
			pat = xstrndup(p->files[j], n);
			hit = glob_match(pat, path);
			free(pat);
		}
	}
	return hit;
}

static void
visit(struct walk *w, int dfd, const char *name, size_t depth)
{
	struct stat	 sb;
	char		*t;
	ssize_t		 r;
	int		 cfd;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		werr(w, w->path.data, "%s", strerror(errno));
		return;
	}
	if (S_ISREG(sb.st_mode))
		add_leaf(w, STAGE_FILE, (uint64_t)sb.st_size, NULL);
	else if (S_ISLNK(sb.st_mode)) {
		t = xmalloc(STAGE_MAX_PATH + 1);
		r = readlinkat(dfd, name, t, STAGE_MAX_PATH + 1);
		if (r == -1 || r > STAGE_MAX_PATH) {
			werr(w, w->path.data, "readlink: %s", r == -1 ?
			    strerror(errno) : "target longer than 4096 bytes");
			free(t);
			return;
		}
		t[r] = '\0';
		add_leaf(w, STAGE_SYMLINK, 0, t);
	} else if (S_ISDIR(sb.st_mode)) {
		if (dir_claimed(w, w->path.data))
			add_leaf(w, STAGE_DIR, 0, NULL);
		if (depth + 1 >= STAGE_MAX_DEPTH) {
			werr(w, w->path.data, "nested deeper than %d "
			    "components", STAGE_MAX_DEPTH);
			return;
		}
		cfd = openat(dfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd == -1)
			werr(w, w->path.data, "%s", strerror(errno));
		else
			walk_dir(w, cfd, depth + 1);
	} else
		werr(w, w->path.data, "unsupported entry type (%s); only "
		    "regular files, directories and symlinks can be packaged",
		    S_ISFIFO(sb.st_mode) ? "FIFO" : S_ISSOCK(sb.st_mode) ?
		    "socket" : S_ISCHR(sb.st_mode) ? "character device" :
		    S_ISBLK(sb.st_mode) ? "block device" : "unknown");
}

/* Walk one directory; takes dfd.  w->path is its path ("" at the top). */
static void
walk_dir(struct walk *w, int dfd, size_t depth)
{
	char	**names = NULL;
	size_t	  n = 0, i, base = w->path.len;
	int	  rfd;

	if ((rfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1)
		werr(w, base ? w->path.data : ".", "dup: %s", strerror(errno));
	else
		(void)read_names(rfd, &names, &n, w);
	for (i = 0; i < n; i++) {
		if (!w->full) {
			w->path.len = base;
			if (base > 0)
				buf_addc(&w->path, '/');
			buf_adds(&w->path, names[i]);
			if (w->path.len > STAGE_MAX_PATH)
				werr(w, w->path.data, "path longer than %d "
				    "bytes", STAGE_MAX_PATH);
			else
				visit(w, dfd, names[i], depth);
		}
		free(names[i]);
	}
	free(names);
	close(dfd);
	w->path.len = base;
	buf_adds(&w->path, "");
}

int
stage_collect(int rootfd, const struct recipe_package *pkgs, size_t npkgs,
    struct stage *st, struct buf *err)
{
	struct walk	 w;
	int		 dfd;

	memset(&w, 0, sizeof(w));
	w.pkgs = pkgs;
	w.npkgs = npkgs;
	w.st = st;
	buf_adds(&w.path, "");
	if ((dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0)) == -1)
		werr(&w, ".", "dup: %s", strerror(errno));
	else
		walk_dir(&w, dfd, 0);
	if (w.nerr > 0)
		errf(err, "%s", w.errs.data);
	buf_free(&w.path);
	buf_free(&w.errs);
	return w.nerr > 0 ? -1 : 0;
}

/* ---- partition --------------------------------------------------------- */

int
stage_check_patterns(const struct recipe_package *pkgs, size_t npkgs,
    struct buf *err)
{
	struct buf	 e = BUF_INIT;
	size_t		 i, j;
	int		 rc = 0;

	for (i = 0; i < npkgs; i++)
		for (j = 0; j < pkgs[i].nfiles; j++) {
			buf_reset(&e);
			if (glob_validate(pkgs[i].files[j], &e) == -1)
				rc = errf(err, "package %s: %s", pkgs[i].name,
				    buf_str(&e));
		}
	buf_free(&e);
	return rc;
}

/* 1 when one of the package's patterns matches the leaf (§3.7). */
static int
pkg_matches(const struct recipe_package *p, const struct stage_leaf *l)
{
	char	*pat;
	size_t	 j, n;
	int	 hit = 0;

	for (j = 0; j < p->nfiles && !hit; j++) {
		n = strlen(p->files[j]);
		if (l->type != STAGE_DIR || n == 0 ||
		    p->files[j][n - 1] != '/') {
			hit = glob_match(p->files[j], l->path);
			continue;
		}
		while (n > 0 && p->files[j][n - 1] == '/')
			n--;
		pat = xstrndup(p->files[j], n);
		hit = glob_match(pat, l->path);
		free(pat);
	}
	return hit;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp((*(const struct stage_leaf *const *)a)->path,
	    (*(const struct stage_leaf *const *)b)->path);
}

int
stage_partition(const struct recipe_package *pkgs, size_t npkgs,
    struct stage *st, struct buf *err)
{
	struct stage_leaf	**orph;
	struct buf		 names = BUF_INIT, msg = BUF_INIT;
	size_t			 i, j, norph = 0;
	int			 n, rc = 0;

	if (stage_check_patterns(pkgs, npkgs, err) == -1)
		return -1;
	orph = xcalloc(st->nleaves, sizeof(*orph));
	for (i = 0; i < st->nleaves; i++) {
		buf_reset(&names);
		st->leaves[i].pkg = -1;
		for (j = 0, n = 0; j < npkgs; j++) {
			if (!pkg_matches(&pkgs[j], &st->leaves[i]))
				continue;
			buf_adds(&names, n++ ? " " : "");
			buf_adds(&names, pkgs[j].name);
			if (n == 1)
				st->leaves[i].pkg = (int)j;
		}
		if (n == 0)
			orph[norph++] = &st->leaves[i];
		else if (n > 1) {
			buf_reset(&msg);
			ident_quote(&msg, st->leaves[i].path,
			    strlen(st->leaves[i].path));
			rc = errf(err, "path %s matches multiple packages "
			    "[%s]; package file globs must be disjoint",
			    msg.data, names.data);
			st->leaves[i].pkg = -1;
		}
	}
	if (norph > 0) {
		qsort(orph, norph, sizeof(*orph), by_path);
		buf_reset(&msg);
		buf_adds(&msg, "staged paths claimed by no package:");
		for (i = 0; i < norph; i++) {
			buf_adds(&msg, "\n  ");
			stage_show(&msg, orph[i]->path);
		}
		rc = errf(err, "%s", msg.data);
	}
	free(orph);
	buf_free(&names);
	buf_free(&msg);
	return rc;
}

/* ---- validate ---------------------------------------------------------- */

/* `path` is below `prefix` (which ends in '/'), or equal to it if eq. */
static int
under(const char *path, const char *prefix, int eq)
{
	size_t	 n = strlen(prefix);

	if (strncmp(path, prefix, n) == 0)
		return 1;
	return eq && strncmp(path, prefix, n - 1) == 0 && path[n - 1] == '\0';
}

static int
under_dest(const char *path, int eq)
{
	size_t	 i;

	for (i = 0; dests[i] != NULL; i++)
		if (under(path, dests[i], eq))
			return 1;
	return 0;
}

/* Lexically clean dir + "/" + rel (path.Clean): ".", "..", "//" folded. */
static char *
clean_join(const char *dir, const char *rel)
{
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	const char	*c;
	char		*slash;
	size_t		 n;

	buf_adds(&in, dir);
	buf_addc(&in, '/');
	buf_adds(&in, rel);
	buf_adds(&out, "");
	for (c = in.data; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.' && out.len > 0 &&
		    strcmp(out.data, "..") != 0 &&
		    !str_has_suffix(out.data, "/..")) {
			slash = strrchr(out.data, '/');
			out.len = slash == NULL ? 0 :
			    (size_t)(slash - out.data);
			out.data[out.len] = '\0';
			continue;
		}
		if (out.len > 0)
			buf_addc(&out, '/');
		buf_add(&out, c, n);
	}
	buf_free(&in);
	if (out.len == 0)
		buf_adds(&out, ".");
	return buf_release(&out);
}

/* Destination, /var and /usr/lib rules for a file or symlink. */
static int
check_layout(const struct recipe_package *p, const struct stage_leaf *l,
    struct buf *line)
{
	const char	*rest, *slash;
	char		*want;
	int		 rc = 0;

	if (!under_dest(l->path, 0)) {
		buf_addf(line, "package %s: %s is not under any §3.4.1 "
		    "permitted top-level destination", p->name, l->path);
		return -1;
	}
	if (under(l->path, "var/", 0)) {
		buf_addf(line, "package %s: %s installs populated content "
		    "under /var/ (§3.4.4 forbids this; only empty directories "
		    "are permitted under /var/)", p->name, l->path);
		return -1;
	}
	if (!under(l->path, "usr/lib/", 0))
		return 0;
	rest = l->path + strlen("usr/lib/");
	want = xasprintf("%s-linux-peios", p->architecture);
	if ((slash = strchr(rest, '/')) == NULL)
		buf_addf(line, "package %s: %s sits directly under /usr/lib/ "
		    "(§3.4.2 requires /usr/lib/<triplet>/<...>)", p->name,
		    l->path);
	else if (strcmp(p->architecture, "noarch") == 0)
		buf_addf(line, "package %s: noarch package contains "
		    "arch-specific path %s (§3.4.2 forbids "
		    "/usr/lib/<triplet>/ entries in noarch packages)", p->name,
		    l->path);
	else if (strncmp(rest, "debug/", 6) == 0 ||
	    ((size_t)(slash - rest) == strlen(want) &&
	    strncmp(rest, want, strlen(want)) == 0))
		rc = 1;
	else
		buf_addf(line, "package %s (architecture=\"%s\"): %s uses "
		    "triplet \"%.*s\", expected \"%s\" (§3.4.2)", p->name,
		    p->architecture, l->path, (int)(slash - rest), rest, want);
	free(want);
	return rc == 1 ? 0 : -1;
}

static int
check_symlink(const struct stage_leaf *l, struct buf *line)
{
	struct buf	 t = BUF_INIT;
	char		*dir, *r;
	int		 rc = -1;

	stage_show(&t, l->target);
	dir = xstrdup(l->path);
	*(strrchr(dir, '/') != NULL ? strrchr(dir, '/') : dir) = '\0';
	r = clean_join(dir, l->target);
	if (l->target[0] == '\0')
		buf_addf(line, "symlink %s has an empty target", l->path);
	else if (l->target[0] == '/')
		buf_addf(line, "symlink %s -> %s: absolute targets forbidden "
		    "(§3.4 requires relative)", l->path, t.data);
	else if (strchr(l->target, '\\') != NULL)
		buf_addf(line, "symlink %s -> %s: target contains a "
		    "backslash", l->path, t.data);
	else if (strcmp(r, "..") == 0 || str_has_prefix(r, "../"))
		buf_addf(line, "symlink %s -> %s: target escapes the "
		    "peipkg-managed tree", l->path, t.data);
	else if (!under_dest(r, 1)) {
		buf_addf(line, "symlink %s -> %s resolves to ", l->path,
		    t.data);
		ident_quote(line, r, strlen(r));
		buf_adds(line, ", which is not under a §3.4.1 permitted "
		    "destination");
	} else
		rc = 0;
	free(r);
	free(dir);
	buf_free(&t);
	return rc;
}

static void
check_leaf(const struct recipe_package *p, const struct stage_leaf *l,
    struct buf *out, size_t *nbad)
{
	struct buf	 line = BUF_INIT, e = BUF_INIT;
	size_t		 i;
	int		 bad = 0;

	if (ident_payload_path(l->path, strlen(l->path), &e) == -1) {
		buf_addf(&line, "package %s: %s", p->name, e.data);
		bad = 1;
	} else if (l->type == STAGE_DIR) {
		for (i = 0; runtime_roots[i] != NULL; i++)
			if (strcmp(l->path, runtime_roots[i]) == 0)
				break;
		if (runtime_roots[i] == NULL && !under_dest(l->path, 1)) {
			buf_addf(&line, "package %s: directory %s is not under "
			    "any §3.4.1 permitted top-level destination or "
			    "permitted runtime mountpoint root", p->name,
			    l->path);
			bad = 1;
		}
	} else if (check_layout(p, l, &line) == -1)
		bad = 1;
	else if (l->type == STAGE_SYMLINK) {
		buf_addf(&line, "package %s: ", p->name);
		if (check_symlink(l, &line) == -1)
			bad = 1;
	}
	if (bad) {
		buf_adds(out, "\n  ");
		buf_adds(out, line.data);
		(*nbad)++;
	}
	buf_free(&line);
	buf_free(&e);
}

int
stage_validate(const struct recipe_package *pkgs, size_t npkgs,
    const struct stage *st, struct buf *err)
{
	const struct stage_leaf	**v;
	struct buf		 out = BUF_INIT;
	size_t			 i, j, n, nbad = 0;

	buf_adds(&out, "payload validation failed:");
	v = xcalloc(st->nleaves, sizeof(*v));
	for (i = 0; i < npkgs; i++) {
		for (j = 0, n = 0; j < st->nleaves; j++)
			if (st->leaves[j].pkg == (int)i)
				v[n++] = &st->leaves[j];
		qsort(v, n, sizeof(*v), by_path);
		for (j = 0; j < n; j++)
			check_leaf(&pkgs[i], v[j], &out, &nbad);
		if ((n = count_entries(st, (int)i)) > STAGE_MAX_ENTRIES) {
			buf_addf(&out, "\n  package %s: %zu payload entries "
			    "(the consumer accepts at most %d)", pkgs[i].name,
			    n, STAGE_MAX_ENTRIES);
			nbad++;
		}
	}
	free(v);
	if (nbad > 0)
		errf(err, "%s", out.data);
	buf_free(&out);
	return nbad > 0 ? -1 : 0;
}

/* ---- entries ------------------------------------------------------------ */

static size_t
count_entries(const struct stage *st, int pkg)
{
	struct stage_entry	*e;
	size_t			 n;

	stage_entries(st, pkg, &e, &n);
	stage_entries_free(e, n);
	return n;
}

static int
by_entry(const void *a, const void *b)
{
	return strcmp(((const struct stage_entry *)a)->name,
	    ((const struct stage_entry *)b)->name);
}

static void
push_entry(struct stage_entry **v, size_t *n, size_t *cap, char *name,
    enum stage_type type, const struct stage_leaf *leaf)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[*n].name = name;
	(*v)[*n].type = type;
	(*v)[*n].leaf = leaf;
	(*n)++;
}

/*
 * Leaves come in walk (depth-first) order, so an ancestor shared with the
 * previous leaf of the package was added then; the others are new.  The
 * final sort + unique pass keeps this correct for any order.
 */
void
stage_entries(const struct stage *st, int pkg, struct stage_entry **out,
    size_t *nout)
{
	const struct stage_leaf	*l;
	struct stage_entry	*v = NULL;
	const char		*prev = "";
	size_t			 i, k, n = 0, cap = 0, w;

	for (i = 0; i < st->nleaves; i++) {
		if ((l = &st->leaves[i])->pkg != pkg)
			continue;
		for (k = 0; l->path[k] != '\0'; k++)
			if (l->path[k] == '/' && !(strncmp(prev, l->path,
			    k) == 0 && (prev[k] == '\0' || prev[k] == '/')))
				push_entry(&v, &n, &cap, xasprintf("%.*s/",
				    (int)k, l->path), STAGE_DIR, NULL);
		push_entry(&v, &n, &cap, l->type == STAGE_DIR ?
		    xasprintf("%s/", l->path) : xstrdup(l->path), l->type, l);
		prev = l->path;
	}
	qsort(v, n, sizeof(*v), by_entry);
	for (i = 0, w = 0; i < n; i++) {
		if (w > 0 && strcmp(v[w - 1].name, v[i].name) == 0) {
			if (v[w - 1].leaf == NULL)
				v[w - 1].leaf = v[i].leaf;
			free(v[i].name);
			continue;
		}
		v[w++] = v[i];
	}
	*out = v;
	*nout = w;
}

void
stage_entries_free(struct stage_entry *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
