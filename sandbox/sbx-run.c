/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sbx-run.c: test driver for the build sandbox.  One flag per
 * sandbox_conf field; runs the script and prints one line
 *   end=<exited|signaled|wall-timeout|idle-timeout> status=<n>
 *   log_bytes=<n> truncated=<0|1>
 * on stdout and the reason on stderr.  Exits 0 when the sandbox was set
 * up (whatever the script did), 1 when it could not be, 2 on bad usage.
 *
 * Trust: a test tool; its arguments are trusted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "util.h"

#define MAX_LIST	256

enum {
	OPT_SCRIPT = 256, OPT_SOURCE, OPT_DESTDIR, OPT_WORKDIR, OPT_HIDE,
	OPT_ENV, OPT_UID, OPT_GID, OPT_WALL, OPT_IDLE, OPT_GRACE, OPT_LOG,
	OPT_LOG_MAX, OPT_NPROC, OPT_NOFILE, OPT_FSIZE, OPT_PTRACE
};

static const struct option longopts[] = {
	{ "script", required_argument, NULL, OPT_SCRIPT },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "destdir", required_argument, NULL, OPT_DESTDIR },
	{ "workdir", required_argument, NULL, OPT_WORKDIR },
	{ "hide", required_argument, NULL, OPT_HIDE },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "wall-ms", required_argument, NULL, OPT_WALL },
	{ "idle-ms", required_argument, NULL, OPT_IDLE },
	{ "grace-ms", required_argument, NULL, OPT_GRACE },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-max", required_argument, NULL, OPT_LOG_MAX },
	{ "nproc", required_argument, NULL, OPT_NPROC },
	{ "nofile", required_argument, NULL, OPT_NOFILE },
	{ "fsize", required_argument, NULL, OPT_FSIZE },
	{ "allow-ptrace", no_argument, NULL, OPT_PTRACE },
	{ NULL, 0, NULL, 0 }
};

struct lists {
	const char	*hide[MAX_LIST + 1];
	const char	*env[MAX_LIST + 1];
	size_t		 nhide, nenv;
	const char	*log;
};

static void	 usage(void) __attribute__((noreturn));
static uint64_t	 num(const char *, const char *);
static void	 push(const char **, size_t *, const char *);
static void	 parse(int, char **, struct sandbox_conf *, struct lists *);

static void
usage(void)
{
	fprintf(stderr, "usage: sbx-run --script PATH --source DIR "
	    "--destdir DIR --workdir DIR\n"
	    "\t[--hide PATH]... [--env NAME=VALUE]... [--uid N --gid N]\n"
	    "\t[--wall-ms N] [--idle-ms N] [--grace-ms N] [--log FILE]\n"
	    "\t[--log-max N] [--nproc N] [--nofile N] [--fsize N] "
	    "[--allow-ptrace]\n");
	exit(2);
}

static uint64_t
num(const char *flag, const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
		fprintf(stderr, "sbx-run: %s: bad number \"%s\"\n", flag, s);
		exit(2);
	}
	return v;
}

static void
push(const char **list, size_t *n, const char *s)
{
	if (*n == MAX_LIST) {
		fprintf(stderr, "sbx-run: more than %d list entries\n",
		    MAX_LIST);
		exit(2);
	}
	list[(*n)++] = s;
	list[*n] = NULL;
}

static void
parse(int argc, char **argv, struct sandbox_conf *c, struct lists *l)
{
	int	 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SCRIPT: c->script = optarg; break;
		case OPT_SOURCE: c->source_dir = optarg; break;
		case OPT_DESTDIR: c->destdir = optarg; break;
		case OPT_WORKDIR: c->workdir = optarg; break;
		case OPT_HIDE: push(l->hide, &l->nhide, optarg); break;
		case OPT_ENV: push(l->env, &l->nenv, optarg); break;
		case OPT_UID: c->uid = (uid_t)num("--uid", optarg); break;
		case OPT_GID: c->gid = (gid_t)num("--gid", optarg); break;
		case OPT_WALL:
			c->wall_timeout_ms = (int64_t)num("--wall-ms", optarg);
			break;
		case OPT_IDLE:
			c->idle_timeout_ms = (int64_t)num("--idle-ms", optarg);
			break;
		case OPT_GRACE:
			c->kill_grace_ms = (int64_t)num("--grace-ms", optarg);
			break;
		case OPT_LOG: l->log = optarg; break;
		case OPT_LOG_MAX: c->log_max = num("--log-max", optarg); break;
		case OPT_NPROC:
			c->max_processes = (rlim_t)num("--nproc", optarg);
			break;
		case OPT_NOFILE:
			c->max_open_files = (rlim_t)num("--nofile", optarg);
			break;
		case OPT_FSIZE:
			c->max_file_size = (rlim_t)num("--fsize", optarg);
			break;
		case OPT_PTRACE: c->allow_ptrace = 1; break;
		default: usage();
		}
	}
	if (optind != argc || c->script == NULL || c->source_dir == NULL ||
	    c->destdir == NULL || c->workdir == NULL)
		usage();
}

int
main(int argc, char **argv)
{
	struct sandbox_conf	 c;
	struct sandbox_result	 res;
	struct lists		 l;
	struct buf		 err = BUF_INIT;

	memset(&c, 0, sizeof(c));
	memset(&l, 0, sizeof(l));
	c.uid = geteuid() == 0 ? (uid_t)-1 : geteuid();
	c.gid = geteuid() == 0 ? (gid_t)-1 : getegid();
	c.wall_timeout_ms = 3600 * 1000;
	c.idle_timeout_ms = 1800 * 1000;
	c.kill_grace_ms = 10 * 1000;
	c.log_fd = STDOUT_FILENO;
	parse(argc, argv, &c, &l);
	c.hide = l.hide;
	c.env = l.env;
	if (l.log != NULL && (c.log_fd = open(l.log,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1) {
		fprintf(stderr, "sbx-run: %s: %s\n", l.log, strerror(errno));
		return 1;
	}
	if (sandbox_run(&c, &res, &err) == -1) {
		fprintf(stderr, "sbx-run: %s\n", buf_str(&err));
		printf("end=%s\n", sandbox_end_name(res.end));
		return 1;
	}
	fprintf(stderr, "sbx-run: %s\n", res.reason);
	printf("end=%s status=%d log_bytes=%" PRIu64 " truncated=%d\n",
	    sandbox_end_name(res.end), res.status, res.log_bytes,
	    res.truncated);
	return 0;
}
