/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * cgroup.c: per-build control groups (cgroup.h).  Layout, v2:
 *
 *	<own>/supervisor/		the manager and its roles (below the
 *					root only: inner nodes hold no tasks)
 *	<own>/peipkg-manager.<pid>/build-<id>/
 *
 * and on v1 the same peipkg-manager.<pid>/build-<id> under our own
 * group of the memory and of the pids hierarchy.  A directory of a
 * manager that is no longer running is emptied and removed at start.
 *
 * Trust: privileged parent; reads /proc/self/cgroup and the kernel's
 * cgroup files only.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC	0x27e0eb
#endif

#define CG_MEM		0	/* base[] slots on v1; v2 uses slot 0 */
#define CG_PIDS		1
#define CG_FILE_MAX	(64 * 1024)

struct cgroups {
	int		 v2;
	int		 nbase;
	char		*base[2];	/* .../peipkg-manager.<pid> */
	uint32_t	*pending;	/* builds whose removal failed */
	size_t		 npending;
	char		*desc;
};

/* ---- files ---------------------------------------------------------------- */

static int
cg_write(const char *dir, const char *file, const char *val, int optional,
    struct buf *err)
{
	char	*path = xasprintf("%s/%s", dir, file);
	int	 fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		if (optional && errno == ENOENT)
			rc = 0;
		else
			errf(err, "open %s: %s", path, strerror(errno));
	} else if (write_full(fd, val, strlen(val)) == -1)
		errf(err, "write %s to %s: %s", val, path, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

static int
cg_write_u64(const char *dir, const char *file, uint64_t v, int optional,
    struct buf *err)
{
	char	 s[32];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return cg_write(dir, file, s, optional, err);
}

static int
cg_read(const char *dir, const char *file, struct buf *out)
{
	struct buf	 e = BUF_INIT;
	char		*path = xasprintf("%s/%s", dir, file);
	int		 rc;

	buf_reset(out);
	rc = read_file(path, CG_FILE_MAX, out, &e);
	buf_free(&e);
	free(path);
	return rc;
}

/* The number after "key " on a line of a flat keyed file; 0 if none. */
static uint64_t
cg_read_key(const char *dir, const char *file, const char *key)
{
	struct buf	 b = BUF_INIT;
	uint64_t	 v = 0;
	char		*line, *save = NULL;
	size_t		 klen = strlen(key);

	if (cg_read(dir, file, &b) == 0 && b.len > 0)
		for (line = strtok_r(b.data, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
				v = strtoull(line + klen + 1, NULL, 10);
				break;
			}
	buf_free(&b);
	return v;
}

static uint64_t
cg_read_u64(const char *dir, const char *file)
{
	struct buf	 b = BUF_INIT;
	uint64_t	 v = 0;

	if (cg_read(dir, file, &b) == 0)
		v = strtoull(buf_str(&b), NULL, 10);
	buf_free(&b);
	return v;
}

/* ---- killing and removing -------------------------------------------------- */

/* SIGKILL every task in dir; the number of tasks seen. */
static size_t
cg_kill_tasks(const char *dir)
{
	struct buf	 b = BUF_INIT;
	const char	*p;
	char		*end;
	long		 pid;
	size_t		 n = 0;

	(void)cg_write(dir, "cgroup.kill", "1", 1, NULL);
	if (cg_read(dir, "cgroup.procs", &b) == 0)
		for (p = buf_str(&b); *p != '\0'; p = end) {
			pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0)
				n++;
			while (*end == '\n')
				end++;
		}
	buf_free(&b);
	return n;
}

/* Kill and rmdir one group; 0 when it is gone. */
static int
cg_remove_dir(const char *dir)
{
	(void)cg_kill_tasks(dir);
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	return -1;
}

/* Remove a dead manager's directory and its build groups. */
static void
cg_remove_tree(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		*sub;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "build-", 6) != 0)
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		(void)cg_remove_dir(sub);
		free(sub);
	}
	closedir(d);
	(void)rmdir(dir);
}

/* peipkg-manager.<pid> of managers that are gone, below parent. */
static void
cg_sweep_stale(const char *parent)
{
	struct dirent	*de;
	DIR		*d;
	char		*end, *dir;
	long		 pid;

	if ((d = opendir(parent)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "peipkg-manager.", 15) != 0)
			continue;
		pid = strtol(de->d_name + 15, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;	/* not ours, or its manager runs */
		dir = xasprintf("%s/%s", parent, de->d_name);
		cg_remove_tree(dir);
		free(dir);
	}
	closedir(d);
}

/* ---- opening ----------------------------------------------------------------- */

/*
 * Our group in a hierarchy, from /proc/self/cgroup: the v2 line
 * ("0::/path") when ctrl is NULL, else the v1 line listing ctrl.
 */
static char *
cg_own_path(const char *ctrl, struct buf *err)
{
	struct buf	 b = BUF_INIT, e = BUF_INIT;
	char		*line, *save = NULL, *f2, *path, *res = NULL, *c, *cs;

	if (read_file("/proc/self/cgroup", CG_FILE_MAX, &b, &e) == -1 ||
	    b.len == 0) {
		errf(err, "/proc/self/cgroup: %s", e.len > 0 ? buf_str(&e) :
		    "empty");
		goto out;
	}
	for (line = strtok_r(b.data, "\n", &save); line != NULL &&
	    res == NULL; line = strtok_r(NULL, "\n", &save)) {
		if ((f2 = strchr(line, ':')) == NULL ||
		    (path = strchr(++f2, ':')) == NULL)
			continue;
		*path++ = '\0';
		if (ctrl == NULL) {
			if (strncmp(line, "0:", 2) == 0 && *f2 == '\0')
				res = xstrdup(path);
			continue;
		}
		for (c = strtok_r(f2, ",", &cs); c != NULL;
		    c = strtok_r(NULL, ",", &cs))
			if (strcmp(c, ctrl) == 0)
				res = xstrdup(path);
	}
	if (res == NULL)
		errf(err, "/proc/self/cgroup has no %s%s line",
		    ctrl != NULL ? ctrl : "cgroup v2",
		    ctrl != NULL ? " controller" : "");
out:
	buf_free(&b);
	buf_free(&e);
	return res;
}

static int
cg_mkdir(const char *dir, struct buf *err)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return errf(err, "mkdir %s: %s", dir, strerror(errno));
	return 0;
}

static int
cg_enable(const char *dir, struct buf *err)
{
	if (cg_write(dir, "cgroup.subtree_control", "+memory", 0, err) ==
	    -1 || cg_write(dir, "cgroup.subtree_control", "+pids", 0,
	    err) == -1)
		return -1;
	return 0;
}

/* systemd marks the groups it hands over (Delegate=yes) with this. */
static int
cg_delegated(const char *dir)
{
	char	 v[8];
	ssize_t	 n;

	n = getxattr(dir, "trusted.delegate", v, sizeof(v));
	return n == 1 && v[0] == '1';
}

/* v2: leave inner nodes without tasks, then make our directory. */
static int
cg_open_v2(struct cgroups *cg, const char *fsroot, struct buf *err)
{
	char	*own, *parent = NULL, *sup = NULL, pid[32];
	int	 rc = -1;

	if ((own = cg_own_path(NULL, err)) == NULL)
		return -1;
	parent = xasprintf("%s%s", fsroot, strcmp(own, "/") == 0 ? "" : own);
	if (strcmp(own, "/") != 0) {
		if (!cg_delegated(parent)) {
			errf(err, "cgroup %s is not delegated to us (systemd: "
			    "Delegate=yes)", own);
			goto out;
		}
		sup = xasprintf("%s/supervisor", parent);
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		if (cg_mkdir(sup, err) == -1 || cg_write(sup, "cgroup.procs",
		    pid, 0, err) == -1)
			goto out;
	}
	cg_sweep_stale(parent);
	cg->base[0] = xasprintf("%s/peipkg-manager.%ld", parent,
	    (long)getpid());
	cg->nbase = 1;
	if (cg_enable(parent, err) == -1 || cg_mkdir(cg->base[0], err) == -1)
		goto out;
	if (cg_enable(cg->base[0], err) == -1)
		goto out;
	rc = 0;
out:
	free(own);
	free(parent);
	free(sup);
	return rc;
}

static int
cg_open_v1(struct cgroups *cg, const char *fsroot, struct buf *err)
{
	static const char *const ctrl[2] = { "memory", "pids" };
	struct statfs	 sf;
	char		*own, *mnt, *parent;
	int		 i, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		mnt = xasprintf("%s/%s", fsroot, ctrl[i]);
		if (statfs(mnt, &sf) == -1 || sf.f_type != CGROUP_SUPER_MAGIC)
			rc = errf(err, "%s is not a cgroup v1 hierarchy", mnt);
		else if ((own = cg_own_path(ctrl[i], err)) == NULL)
			rc = -1;
		else {
			parent = xasprintf("%s%s", mnt, strcmp(own, "/") == 0 ?
			    "" : own);
			cg_sweep_stale(parent);
			cg->base[i] = xasprintf("%s/peipkg-manager.%ld",
			    parent, (long)getpid());
			cg->nbase = i + 1;
			rc = cg_mkdir(cg->base[i], err);
			free(parent);
			free(own);
		}
		free(mnt);
	}
	return rc;
}

struct cgroups *
cg_open(const char *fsroot, struct buf *err)
{
	struct cgroups	*cg = xcalloc(1, sizeof(*cg));
	struct statfs	 sf;
	int		 rc;

	if (statfs(fsroot, &sf) == -1) {
		errf(err, "statfs %s: %s", fsroot, strerror(errno));
		cg_close(cg, 0);
		return NULL;
	}
	cg->v2 = sf.f_type == CGROUP2_SUPER_MAGIC;
	rc = cg->v2 ? cg_open_v2(cg, fsroot, err) :
	    cg_open_v1(cg, fsroot, err);
	if (rc == -1) {
		cg_close(cg, 0);
		return NULL;
	}
	cg->desc = cg->v2 ? xasprintf("v2 %s", cg->base[0]) :
	    xasprintf("v1 %s %s", cg->base[CG_MEM], cg->base[CG_PIDS]);
	return cg;
}

const char *
cg_describe(const struct cgroups *cg)
{
	return cg->desc;
}

/* ---- builds ------------------------------------------------------------------ */

static char *
cg_build_dir(const struct cgroups *cg, int slot, uint32_t id)
{
	return xasprintf("%s/build-%u", cg->base[slot], id);
}

static int
cg_limits(const struct cgroups *cg, uint32_t id, uint64_t memory_max,
    uint64_t pids_max, struct buf *err)
{
	char	*mem = cg_build_dir(cg, 0, id);
	char	*pids = cg_build_dir(cg, cg->v2 ? 0 : CG_PIDS, id);
	int	 rc = -1;

	/* No swap beyond the limit: v2 none at all, v1 memory+swap
	 * capped at the same value (absent without swap accounting). */
	if (memory_max > 0 && (cg_write_u64(mem, cg->v2 ? "memory.max" :
	    "memory.limit_in_bytes", memory_max, 0, err) == -1 ||
	    (cg->v2 ? cg_write(mem, "memory.swap.max", "0", 1, err) :
	    cg_write_u64(mem, "memory.memsw.limit_in_bytes", memory_max, 1,
	    err)) == -1))
		goto out;
	if (cg->v2 && cg_write(mem, "memory.oom.group", "1", 1, err) == -1)
		goto out;
	if (pids_max > 0 && cg_write_u64(pids, "pids.max", pids_max, 0,
	    err) == -1)
		goto out;
	rc = 0;
out:
	free(mem);
	free(pids);
	return rc;
}

int
cg_build_create(struct cgroups *cg, uint32_t id, uint64_t memory_max,
    uint64_t pids_max, struct buf *err)
{
	char	*dir;
	int	 i, rc = 0;

	for (i = 0; i < cg->nbase && rc == 0; i++) {
		dir = cg_build_dir(cg, i, id);
		(void)cg_remove_dir(dir);	/* a leftover of ours */
		rc = cg_mkdir(dir, err);
		free(dir);
	}
	if (rc == 0)
		rc = cg_limits(cg, id, memory_max, pids_max, err);
	if (rc == -1)
		(void)cg_build_remove(cg, id);
	return rc;
}

int
cg_build_attach(struct cgroups *cg, uint32_t id, pid_t pid,
    struct buf *err)
{
	char	*dir, s[32];
	int	 i, rc = 0;

	snprintf(s, sizeof(s), "%ld", (long)pid);
	for (i = 0; i < cg->nbase && rc == 0; i++) {
		dir = cg_build_dir(cg, i, id);
		rc = cg_write(dir, "cgroup.procs", s, 0, err);
		free(dir);
	}
	return rc;
}

void
cg_build_report(struct cgroups *cg, uint32_t id, struct cg_report *r)
{
	char	*mem = cg_build_dir(cg, 0, id);
	char	*pids = cg_build_dir(cg, cg->v2 ? 0 : CG_PIDS, id);

	memset(r, 0, sizeof(*r));
	r->oom_kills = cg_read_key(mem, cg->v2 ? "memory.events" :
	    "memory.oom_control", "oom_kill");
	r->pids_denied = cg_read_key(pids, "pids.events", "max");
	r->memory_peak = cg_read_u64(mem, cg->v2 ? "memory.peak" :
	    "memory.max_usage_in_bytes");
	free(mem);
	free(pids);
}

/* Remove build-<id> in every hierarchy; -1 while one is busy. */
static int
cg_build_rmdirs(struct cgroups *cg, uint32_t id)
{
	char	*dir;
	int	 i, rc = 0;

	for (i = 0; i < cg->nbase; i++) {
		dir = cg_build_dir(cg, i, id);
		if (cg_remove_dir(dir) == -1)
			rc = -1;
		free(dir);
	}
	return rc;
}

size_t
cg_build_remove(struct cgroups *cg, uint32_t id)
{
	if (cg_build_rmdirs(cg, id) == -1) {
		cg->pending = xreallocarray(cg->pending, cg->npending + 1,
		    sizeof(*cg->pending));
		cg->pending[cg->npending++] = id;
	}
	return cg->npending;
}

size_t
cg_sweep(struct cgroups *cg)
{
	size_t	 i, n = 0;

	for (i = 0; i < cg->npending; i++)
		if (cg_build_rmdirs(cg, cg->pending[i]) == -1)
			cg->pending[n++] = cg->pending[i];
	cg->npending = n;
	return n;
}

void
cg_close(struct cgroups *cg, int wait_ms)
{
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	int		 i;

	if (cg == NULL)
		return;
	while (cg_sweep(cg) > 0 && wait_ms > 0) {
		nanosleep(&ts, NULL);
		wait_ms -= 50;
	}
	for (i = 0; i < cg->nbase; i++) {
		cg_remove_tree(cg->base[i]);
		free(cg->base[i]);
	}
	free(cg->pending);
	free(cg->desc);
	free(cg);
}
