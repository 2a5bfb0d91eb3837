/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * poller-role.c: runs the poller role exactly as `peipkg-manager -P
 * poller --log-level L` does (logging set up as main() does, then
 * poller_main() with the channel on fd 3), for tests/integ/poller-role.sh
 * and for the parent's PEIPKG_ROLE_POLLER_PATH hook.
 *
 * Test hook, honoured only by this program: PEIPKG_TEST_POLLER_PROBE set
 * makes the role try forbidden things right after its sandbox is in
 * place and print one "probe <name>: <result>" line per attempt on
 * stderr, then carry on normally.
 *
 * Trust: a test program; no untrusted input beyond the role's own.
 */
#include "config.h"

#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int	 poller_main(void);
extern void (*poller_after_sandbox)(void);

static void	 probe(void);
static void	 probe_errno(const char *, int);
static void	 probe_child(const char *, int);
static void	 probe_status(void);

static void
probe_errno(const char *name, int rc)
{
	fprintf(stderr, "probe %s: %s\n", name, rc == -1 ?
	    strerror(errno) : "allowed");
	if (rc >= 0)
		close(rc);
}

/* In a child: the named forbidden call; reports how the child ended. */
static void
probe_child(const char *name, int what)
{
	char	*argv[] = { "/bin/true", NULL };
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "probe %s: fork: %s\n", name, strerror(errno));
		return;
	}
	if (pid == 0) {
		if (what == 0)
			execv(argv[0], argv);
		else
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		_exit(42);
	}
	if (waitpid(pid, &st, 0) == -1)
		fprintf(stderr, "probe %s: waitpid: %s\n", name,
		    strerror(errno));
	else if (WIFSIGNALED(st))
		fprintf(stderr, "probe %s: killed by signal %d\n", name,
		    WTERMSIG(st));
	else
		fprintf(stderr, "probe %s: exited %d\n", name,
		    WEXITSTATUS(st));
}

/* The lines of /proc/self/status that describe the sandbox. */
static void
probe_status(void)
{
	static const char *const keys[] = { "Uid:", "CapEff:", "CapBnd:",
	    "NoNewPrivs:", "Seccomp:" };
	char	 line[256];
	FILE	*f;
	size_t	 i;

	if ((f = fopen("/proc/self/status", "r")) == NULL) {
		fprintf(stderr, "probe status: %s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fprintf(stderr, "probe status %s", line);
	fclose(f);
}

static void
probe(void)
{
	probe_errno("open-write", open("/tmp/poller-probe-file",
	    O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	probe_errno("mkdir", mkdir("/tmp/poller-probe-dir", 0700));
	probe_errno("socket-packet", socket(AF_PACKET, SOCK_RAW, 0));
	probe_errno("open-read", open("/etc/hostname", O_RDONLY | O_CLOEXEC));
	probe_child("exec", 0);
	probe_child("ptrace", 1);
	probe_status();
}

int
main(int argc, char *argv[])
{
	enum log_level	 lvl = LL_INFO;
	int		 i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--log-level") == 0 &&
		    log_parse_level(argv[i + 1], &lvl) == -1) {
			fprintf(stderr, "poller-role: bad log level %s\n",
			    argv[i + 1]);
			return 2;
		}
	log_init("poller", lvl, LOG_TARGET_AUTO);
	if (getenv("PEIPKG_TEST_POLLER_PROBE") != NULL)
		poller_after_sandbox = probe;
	return poller_main();
}
