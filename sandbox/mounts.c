/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * mounts.c: the sandbox's file-system view.
 *
 * Caller side, mounts_plan(): canonicalise SOURCE_DIR, DESTDIR and the
 * working directory, resolve every path to hide (ours and the caller's).
 * Inside, mounts_setup(), in this order:
 *   1. make the whole tree private; mount a staging tmpfs on /tmp and
 *      pivot into it, so the host tree is reachable as /oldroot whatever
 *      paths the build dirs have (the bubblewrap way);
 *   2. a tmpfs /newroot with read-only, nosuid, nodev recursive binds of
 *      the host's /usr, /etc, /opt and the /bin, /sbin, /lib* links;
 *      private /tmp, /var/tmp, /dev/shm; a minimal /dev; a fresh /proc;
 *   3. masks that are ancestors of a build dir (e.g. the state dir that
 *      holds the sources), then the build dirs (SOURCE_DIR and the
 *      directory of build.sh read-only, so that a recipe's patches are
 *      there too; DESTDIR and the working directory writable), then the
 *      other masks:
 *      a directory gets an empty read-only tmpfs, a file a mode-0
 *      read-only file;
 *   4. the new root, the /dev tmpfs and the masks become read-only;
 *      pivot_root into /newroot, detach the old root, chdir to the
 *      working directory.
 * Host /root, /home, /var, /run, /srv, /sys... are simply not there.
 *
 * Trust: the conf is trusted; the host tree may hold secrets, which is
 * why everything is bound read-only and the well-known ones are masked.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"

#define STAGE		"/tmp"		/* host mount point for staging */
#define OLDROOT		"/oldroot"
#define NEWROOT		"/newroot"
#define MASKFILE	"/maskfile"

#define RO_ATTRS	(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | \
			    MOUNT_ATTR_NODEV)
#define RW_ATTRS	(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

struct mctx {
	const struct plan *p;
	unsigned char	 masked[PLAN_MAX_MASKS];
};

static int	 canon_dir(const char *, const char *, char **, struct buf *);
static int	 canon_script(struct plan *, const char *, struct buf *);
static int	 plan_mask(struct plan *, const char *, struct buf *);
static int	 is_under(const char *, const char *);
static int	 newpath(char *, const char *, const char *, struct buf *);
static int	 mnt(const char *, const char *, const char *, unsigned long,
		    const char *, struct buf *);
static int	 mnt_attr(const char *, uint64_t, int, struct buf *);
static int	 bind(const char *, const char *, uint64_t, struct buf *);
static int	 touch(const char *, mode_t, struct buf *);
static int	 stage_enter(struct buf *);
static int	 sys_binds(struct buf *);
static int	 scratch_setup(struct buf *);
static int	 dev_setup(struct buf *);
static int	 proc_setup(struct buf *);
static int	 masks_apply(struct mctx *, int, struct buf *);
static int	 build_binds(const struct plan *, struct buf *);
static int	 finish(struct mctx *, struct buf *);

/* Well-known secrets under the directories we bind.  Absent ones are
 * skipped; /root, /home, /var/lib and /run are listed for the record
 * (they are never bound). */
static const char *const default_masks[] = {
	"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
	"/etc/ssh", "/etc/ssl/private", "/etc/sudoers", "/etc/sudoers.d",
	"/etc/credstore", "/etc/credstore.encrypted",
	"/etc/security/opasswd", "/etc/peipkg", SYSCONFDIR "/peipkg",
	"/root", "/home", "/var/lib", "/run",
	NULL
};

/* Host top-level entries the build sees (the toolchain lives there). */
static const char *const sys_dirs[] = {
	"/usr", "/etc", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
	"/libx32", NULL
};

static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", NULL
};

/* Read-only inside /proc: kernel tunables and the like. */
static const char *const proc_ro[] = {
	"sys", "sysrq-trigger", "irq", "bus", NULL
};

int
mounts_plan(struct plan *p, struct buf *err)
{
	const struct sandbox_conf *c = p->conf;
	size_t	 i;

	if (canon_dir("source_dir", c->source_dir, &p->source, err) == -1 ||
	    canon_dir("destdir", c->destdir, &p->destdir, err) == -1 ||
	    canon_dir("workdir", c->workdir, &p->workdir, err) == -1 ||
	    canon_script(p, c->script, err) == -1)
		return -1;
	for (i = 0; default_masks[i] != NULL; i++)
		if (plan_mask(p, default_masks[i], err) == -1)
			return -1;
	for (i = 0; c->hide != NULL && c->hide[i] != NULL; i++)
		if (plan_mask(p, c->hide[i], err) == -1)
			return -1;
	return 0;
}

void
mounts_plan_free(struct plan *p)
{
	size_t	 i;

	free(p->source);
	free(p->destdir);
	free(p->workdir);
	free(p->scriptdir);
	for (i = 0; i < p->nmasks; i++)
		free(p->masks[i].path);
	p->source = p->destdir = p->workdir = p->scriptdir = NULL;
	p->nmasks = 0;
}

/* The build dirs must be canonical: they appear inside at that path. */
static int
canon_dir(const char *what, const char *path, char **out, struct buf *err)
{
	struct stat	 st;
	char		*rp;

	if (path == NULL || path[0] != '/')
		return errf(err, "sandbox: %s must be an absolute path", what);
	if ((rp = realpath(path, NULL)) == NULL)
		return errf(err, "sandbox: %s %s: %s", what, path,
		    strerror(errno));
	if (strcmp(rp, path) != 0) {
		errf(err, "sandbox: %s %s is not canonical (it resolves "
		    "to %s)", what, path, rp);
		free(rp);
		return -1;
	}
	if (stat(rp, &st) == -1 || !S_ISDIR(st.st_mode)) {
		free(rp);
		return errf(err, "sandbox: %s %s is not a directory", what,
		    path);
	}
	*out = rp;
	return 0;
}

/* build.sh must be canonical too; its directory is bound read-only. */
static int
canon_script(struct plan *p, const char *script, struct buf *err)
{
	char	*rp, *slash;

	if ((rp = realpath(script, NULL)) == NULL)
		return errf(err, "sandbox: script %s: %s", script,
		    strerror(errno));
	if (strcmp(rp, script) != 0) {
		errf(err, "sandbox: script %s is not canonical (it resolves "
		    "to %s)", script, rp);
		free(rp);
		return -1;
	}
	slash = strrchr(rp, '/');
	if (slash == rp) {
		free(rp);
		return errf(err, "sandbox: script %s is in /", script);
	}
	*slash = '\0';
	p->scriptdir = rp;
	return 0;
}

static int
plan_mask(struct plan *p, const char *path, struct buf *err)
{
	struct plan_mask *m;
	struct stat	 st;
	char		*rp;
	const char	*binds[4] = { p->source, p->scriptdir, p->destdir,
			    p->workdir };
	size_t		 i;

	if (path[0] != '/')
		return errf(err, "sandbox: hide path %s is not absolute", path);
	if ((rp = realpath(path, NULL)) == NULL || lstat(rp, &st) == -1) {
		/* Nothing there: nothing to hide. */
		free(rp);
		return 0;
	}
	for (i = 0; i < nitems(binds); i++) {
		if (strcmp(rp, "/") == 0 || strcmp(rp, binds[i]) == 0) {
			errf(err, "sandbox: hide path %s (%s) would hide the "
			    "root or a build directory", path, rp);
			free(rp);
			return -1;
		}
	}
	if (p->nmasks == PLAN_MAX_MASKS) {
		free(rp);
		return errf(err, "sandbox: more than %d paths to hide",
		    PLAN_MAX_MASKS);
	}
	m = &p->masks[p->nmasks++];
	m->path = rp;
	m->is_dir = S_ISDIR(st.st_mode);
	m->early = 0;
	for (i = 0; i < nitems(binds); i++)
		if (is_under(binds[i], rp))
			m->early = 1;
	return 0;
}

/* Is `path` strictly below directory `dir`? */
static int
is_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

int
mounts_setup(const struct plan *p, struct buf *err)
{
	struct mctx	 m;

	memset(&m, 0, sizeof(m));
	m.p = p;
	if (stage_enter(err) == -1 || sys_binds(err) == -1 ||
	    scratch_setup(err) == -1 || dev_setup(err) == -1 ||
	    proc_setup(err) == -1 || masks_apply(&m, 1, err) == -1 ||
	    build_binds(p, err) == -1 || masks_apply(&m, 0, err) == -1 ||
	    finish(&m, err) == -1)
		return -1;
	return 0;
}

/* out = prefix + path, checked for length. */
static int
newpath(char *out, const char *prefix, const char *path, struct buf *err)
{
	int	 n;

	n = snprintf(out, PATH_MAX, "%s%s", prefix, path);
	if (n < 0 || n >= PATH_MAX)
		return errf(err, "sandbox: path too long: %s%s", prefix, path);
	return 0;
}

static int
mnt(const char *src, const char *dst, const char *type, unsigned long flags,
    const char *data, struct buf *err)
{
	if (mount(src, dst, type, flags, data) == -1)
		return errf(err, "sandbox: mount %s on %s: %s",
		    src != NULL ? src : "(none)", dst, strerror(errno));
	return 0;
}

/* Add attributes (never clear any) to the mount at path, or its tree. */
static int
mnt_attr(const char *path, uint64_t set, int recursive, struct buf *err)
{
	struct mount_attr a;

	memset(&a, 0, sizeof(a));
	a.attr_set = set;
	if (mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a,
	    sizeof(a)) == -1)
		return errf(err, "sandbox: mount_setattr %s: %s", path,
		    strerror(errno));
	return 0;
}

/* Recursive bind of host path src (under /oldroot) to dst, then attrs. */
static int
bind(const char *src, const char *dst, uint64_t attrs, struct buf *err)
{
	if (mnt(src, dst, NULL, MS_BIND | MS_REC, NULL, err) == -1 ||
	    mnt_attr(dst, attrs, 1, err) == -1)
		return -1;
	return 0;
}

static int
touch(const char *path, mode_t mode, struct buf *err)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1)
		return errf(err, "sandbox: create %s: %s", path,
		    strerror(errno));
	close(fd);
	return 0;
}

static int
stage_enter(struct buf *err)
{
	if (mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err) == -1 ||
	    mnt("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755,size=64k,nr_inodes=64", err) == -1)
		return -1;
	if (mkdir(STAGE OLDROOT, 0755) == -1 ||
	    mkdir(STAGE NEWROOT, 0755) == -1)
		return errf(err, "sandbox: mkdir in staging: %s",
		    strerror(errno));
	if (touch(STAGE MASKFILE, 0, err) == -1)
		return -1;
	if (syscall(SYS_pivot_root, STAGE, STAGE OLDROOT) == -1)
		return errf(err, "sandbox: pivot_root to staging: %s",
		    strerror(errno));
	if (chdir("/") == -1)
		return errf(err, "sandbox: chdir /: %s", strerror(errno));
	return mnt("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755,size=1m,nr_inodes=4096", err);
}

static int
sys_binds(struct buf *err)
{
	char		 src[PATH_MAX], dst[PATH_MAX], lnk[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;
	size_t		 i;

	for (i = 0; sys_dirs[i] != NULL; i++) {
		if (newpath(src, OLDROOT, sys_dirs[i], err) == -1 ||
		    newpath(dst, NEWROOT, sys_dirs[i], err) == -1)
			return -1;
		if (lstat(src, &st) == -1)
			continue;
		if (S_ISLNK(st.st_mode)) {
			if ((n = readlink(src, lnk, sizeof(lnk) - 1)) == -1)
				return errf(err, "sandbox: readlink %s: %s",
				    src, strerror(errno));
			lnk[n] = '\0';
			if (symlink(lnk, dst) == -1)
				return errf(err, "sandbox: symlink %s: %s",
				    dst, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, 0755) == -1)
				return errf(err, "sandbox: mkdir %s: %s", dst,
				    strerror(errno));
			if (bind(src, dst, RO_ATTRS, err) == -1)
				return -1;
		}
	}
	return 0;
}

/* Private writable scratch: nothing persists between builds. */
static int
scratch_setup(struct buf *err)
{
	const char *const dirs[] = { NEWROOT "/tmp", NEWROOT "/var/tmp" };
	size_t	 i;

	for (i = 0; i < nitems(dirs); i++) {
		if (mkdir_p(dirs[i], 0755) == -1)
			return errf(err, "sandbox: mkdir %s: %s", dirs[i],
			    strerror(errno));
		if (mnt("tmpfs", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV,
		    "mode=1777", err) == -1)
			return -1;
	}
	return 0;
}

/* null zero full random urandom, the usual links, a tmpfs /dev/shm. */
static int
dev_setup(struct buf *err)
{
	char	 src[PATH_MAX], dst[PATH_MAX];
	size_t	 i;

	if (mkdir(NEWROOT "/dev", 0755) == -1)
		return errf(err, "sandbox: mkdir /dev: %s", strerror(errno));
	if (mnt("tmpfs", NEWROOT "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "mode=0755,size=64k,nr_inodes=64", err) == -1)
		return -1;
	for (i = 0; dev_nodes[i] != NULL; i++) {
		snprintf(src, sizeof(src), OLDROOT "/dev/%s", dev_nodes[i]);
		snprintf(dst, sizeof(dst), NEWROOT "/dev/%s", dev_nodes[i]);
		if (touch(dst, 0666, err) == -1 ||
		    mnt(src, dst, NULL, MS_BIND, NULL, err) == -1 ||
		    mnt_attr(dst, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0,
		    err) == -1)
			return -1;
	}
	if (symlink("/proc/self/fd", NEWROOT "/dev/fd") == -1 ||
	    symlink("/proc/self/fd/0", NEWROOT "/dev/stdin") == -1 ||
	    symlink("/proc/self/fd/1", NEWROOT "/dev/stdout") == -1 ||
	    symlink("/proc/self/fd/2", NEWROOT "/dev/stderr") == -1 ||
	    mkdir(NEWROOT "/dev/shm", 0755) == -1)
		return errf(err, "sandbox: populate /dev: %s", strerror(errno));
	return mnt("tmpfs", NEWROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=1777", err);
}

/* A /proc of our own pid namespace, with the tunables read-only. */
static int
proc_setup(struct buf *err)
{
	char	 dst[PATH_MAX];
	size_t	 i;

	if (mkdir(NEWROOT "/proc", 0755) == -1)
		return errf(err, "sandbox: mkdir /proc: %s", strerror(errno));
	if (mnt("proc", NEWROOT "/proc", "proc",
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) == -1)
		return -1;
	for (i = 0; proc_ro[i] != NULL; i++) {
		snprintf(dst, sizeof(dst), NEWROOT "/proc/%s", proc_ro[i]);
		if (access(dst, F_OK) == -1)
			continue;
		if (mnt(dst, dst, NULL, MS_BIND | MS_REC, NULL, err) == -1 ||
		    mnt_attr(dst, RO_ATTRS, 1, err) == -1)
			return -1;
	}
	return 0;
}

/* Mask the paths that exist in the new root; early ones first. */
static int
masks_apply(struct mctx *m, int early, struct buf *err)
{
	const struct plan_mask *pm;
	char		 dst[PATH_MAX];
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < m->p->nmasks; i++) {
		pm = &m->p->masks[i];
		if (pm->early != early)
			continue;
		if (newpath(dst, NEWROOT, pm->path, err) == -1)
			return -1;
		/* Unreachable for us means unreachable for the build too. */
		if (lstat(dst, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mnt("tmpfs", dst, "tmpfs",
			    MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "mode=0755,size=16k,nr_inodes=64", err) == -1)
				return -1;
		} else if (mnt(MASKFILE, dst, NULL, MS_BIND, NULL, err) == -1 ||
		    mnt_attr(dst, RO_ATTRS | MOUNT_ATTR_NOEXEC, 0, err) == -1)
			return -1;
		m->masked[i] = 1;
	}
	return 0;
}

/* Read-only ones first, so that they cannot cover a writable one. */
static int
build_binds(const struct plan *p, struct buf *err)
{
	const char *const dirs[4] = { p->source, p->scriptdir, p->destdir,
	    p->workdir };
	char	 src[PATH_MAX], dst[PATH_MAX];
	size_t	 i;

	for (i = 0; i < nitems(dirs); i++) {
		if (newpath(src, OLDROOT, dirs[i], err) == -1 ||
		    newpath(dst, NEWROOT, dirs[i], err) == -1)
			return -1;
		if (mkdir_p(dst, 0755) == -1)
			return errf(err, "sandbox: mount point %s: %s", dirs[i],
			    strerror(errno));
		if (bind(src, dst, i < 2 ? RO_ATTRS : RW_ATTRS, err) == -1)
			return -1;
	}
	return 0;
}

/* Seal the new root, enter it, drop the host tree. */
static int
finish(struct mctx *m, struct buf *err)
{
	const struct plan_mask *pm;
	char		 dst[PATH_MAX];
	size_t		 i;

	for (i = 0; i < m->p->nmasks; i++) {
		pm = &m->p->masks[i];
		if (!m->masked[i] || !pm->is_dir)
			continue;
		if (newpath(dst, NEWROOT, pm->path, err) == -1 ||
		    mnt_attr(dst, MOUNT_ATTR_RDONLY, 0, err) == -1)
			return -1;
	}
	if (mnt_attr(NEWROOT "/dev", MOUNT_ATTR_RDONLY, 0, err) == -1 ||
	    mnt_attr(NEWROOT, MOUNT_ATTR_RDONLY, 0, err) == -1)
		return -1;
	if (chdir(NEWROOT) == -1 || syscall(SYS_pivot_root, ".", ".") == -1)
		return errf(err, "sandbox: pivot_root to the new root: %s",
		    strerror(errno));
	if (umount2(".", MNT_DETACH) == -1)
		return errf(err, "sandbox: detach the old root: %s",
		    strerror(errno));
	if (chdir(m->p->workdir) == -1)
		return errf(err, "sandbox: chdir %s: %s", m->p->workdir,
		    strerror(errno));
	return 0;
}
