/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_jobdir.c: the files of a build on the parent's side: the job
 * directory (state_dir/jobs/<name>, owned by the build user, removed by
 * a forked remover at the end and swept at start-up), the build log
 * (state_dir/logs/<recipe>/<version>/<attempt>.log) and the retention
 * of the logs of failed, unpublished versions.
 *
 * Trust: privileged, working in directories a hostile build could
 * write: logs are opened O_NOFOLLOW, directories are removed by rm_rf
 * (which does not follow links) and only regular files count as logs.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "pmsched.h"

struct logent {
	char	*path;
	char	*vdir;
	time_t	 mtime;
	long	 nsec;
};

/* logs/<recipe>/<version>/<attempt>.log, attempt = highest + 1. */
int
job_log_open(struct parent *p, struct job *j, struct buf *err)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *end;
	long		 n, max = 0;
	int		 rc = -1;

	dir = xasprintf("%s/logs/%s/%s", p->p_cfg->manager.state_dir,
	    j->j_recipe, j->j_version);
	if (mkdir_p(dir, 0750) == -1) {
		errf(err, "mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			n = strtol(de->d_name, &end, 10);
			if (end != de->d_name && strcmp(end, ".log") == 0 &&
			    n > max)
				max = n;
		}
		closedir(d);
	}
	j->j_log = xasprintf("%s/%ld.log", dir, max + 1);
	j->j_log_fd = open(j->j_log, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0640);
	if (j->j_log_fd == -1) {
		errf(err, "open %s: %s", j->j_log, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* jobs/<name>/ (build user, 0700) and out/ (0755) inside. */
int
job_dirs(struct parent *p, struct job *j, struct buf *err)
{
	char	*out = xasprintf("%s/out", j->j_dir);
	int	 rc = -1;

	rm_rf(j->j_dir);
	if (mkdir(j->j_dir, 0700) == -1 || mkdir(out, 0755) == -1) {
		errf(err, "mkdir %s: %s", j->j_dir, strerror(errno));
		goto out;
	}
	if (p->p_root && (lchown(j->j_dir, p->p_build_uid,
	    p->p_build_gid) == -1 || lchown(out, p->p_build_uid,
	    p->p_build_gid) == -1)) {
		errf(err, "chown %s: %s", j->j_dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(out);
	return rc;
}

/* Removed by a forked child: a huge tree never blocks the loop. */
void
job_remove_dir(struct parent *p, struct job *j)
{
	size_t	 i;
	pid_t	 pid;

	for (i = 0; i < nitems(p->p_cleanup_pids); i++)
		if (p->p_cleanup_pids[i] == 0)
			break;
	if (i == nitems(p->p_cleanup_pids) || (pid = fork()) == -1) {
		if (rm_rf(j->j_dir) == -1)
			log_event(LL_WARN, "remove job directory failed",
			    LKV_S("dir", j->j_dir), LKV_S("err",
			    strerror(errno)));
		return;
	}
	if (pid == 0)
		_exit(rm_rf(j->j_dir) == -1 ? 1 : 0);
	p->p_cleanup_pids[i] = pid;
	p->p_cleanups++;
}

int
job_cleanup_reaped(struct parent *p, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < nitems(p->p_cleanup_pids); i++)
		if (p->p_cleanup_pids[i] == pid) {
			p->p_cleanup_pids[i] = 0;
			p->p_cleanups--;
			return 1;
		}
	return 0;
}

/* Startup: jobs/ holds nothing of a previous run. */
void
job_prepare_dirs_clean(struct parent *p)
{
	struct dirent	*de;
	DIR		*d;
	char		*jobs, *path;

	jobs = xasprintf("%s/jobs", p->p_cfg->manager.state_dir);
	if ((d = opendir(jobs)) == NULL) {
		free(jobs);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", jobs, de->d_name);
		log_event(LL_INFO, "removing a stale job directory",
		    LKV_S("dir", path));
		if (rm_rf(path) == -1)
			log_event(LL_WARN, "remove job directory failed",
			    LKV_S("dir", path), LKV_S("err", strerror(errno)));
		free(path);
	}
	closedir(d);
	free(jobs);
}

static int
logent_cmp(const void *a, const void *b)
{
	const struct logent *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? 1 : -1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? 1 : -1;
	return strcmp(y->path, x->path);
}

static void
collect_logs(struct parent *p, const char *rdir, const char *recipe,
    struct logent **v, size_t *n)
{
	struct dirent	*de, *le;
	struct stat	 st;
	DIR		*d, *ld;
	char		*vdir, *path;

	if ((d = opendir(rdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || sched_recipe_published(p->p_sched,
		    recipe, de->d_name))
			continue;
		vdir = xasprintf("%s/%s", rdir, de->d_name);
		if ((ld = opendir(vdir)) != NULL) {
			while ((le = readdir(ld)) != NULL) {
				path = xasprintf("%s/%s", vdir, le->d_name);
				if (!str_has_suffix(le->d_name, ".log") ||
				    lstat(path, &st) == -1 ||
				    !S_ISREG(st.st_mode)) {
					free(path);
					continue;
				}
				*v = xreallocarray(*v, *n + 1, sizeof(**v));
				(*v)[*n].path = path;
				(*v)[*n].vdir = xstrdup(vdir);
				(*v)[*n].mtime = st.st_mtim.tv_sec;
				(*v)[(*n)++].nsec = st.st_mtim.tv_nsec;
			}
			closedir(ld);
		}
		free(vdir);
	}
	closedir(d);
}

/* Keep the newest [build].log_retention logs of failed, unpublished
 * versions of a recipe (at least the newest one). */
void
job_prune_logs(struct parent *p, const char *recipe)
{
	struct logent	*v = NULL;
	char		*rdir;
	size_t		 n = 0, i, keep;

	keep = p->p_cfg->build.log_retention < 1 ? 1 :
	    (size_t)p->p_cfg->build.log_retention;
	rdir = xasprintf("%s/logs/%s", p->p_cfg->manager.state_dir, recipe);
	collect_logs(p, rdir, recipe, &v, &n);
	qsort(v, n, sizeof(*v), logent_cmp);
	for (i = 0; i < n; i++) {
		if (i >= keep) {
			unlink(v[i].path);
			rmdir(v[i].vdir);	/* fails unless empty */
		}
		free(v[i].path);
		free(v[i].vdir);
	}
	free(v);
	free(rdir);
}
