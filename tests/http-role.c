/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * http-role.c: runs the http role exactly as `peipkg-manager -P http`
 * does, for tests/fakeparent: PM_CONF_ROLE is read from fd 3 (user,
 * empty directory, log level), then http_main().
 *
 *	http-role [-N]
 *
 * -N skips the seccomp filter (debugging only).  Test-only hook: with
 * PEIPKG_TEST_FORBIDDEN_SYSCALL=<name> in the environment the role tries
 * that call once it is sandboxed and logs the result (event "test
 * probe"); names: socket, open, ptrace, mount, execve.  Only this
 * program honours the variable; peipkg-manager never looks at it.
 *
 * Trust: a test driver; its input is the test script's command line.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "role.h"

static void
probe(void)
{
	const char	*what = getenv("PEIPKG_TEST_FORBIDDEN_SYSCALL");
	char *const	 argv[] = { (char *)"/bin/true", NULL };
	long		 rc = -1;

	errno = 0;
	if (strcmp(what, "socket") == 0)
		rc = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(what, "open") == 0)
		rc = open("/", O_RDONLY | O_DIRECTORY);
	else if (strcmp(what, "ptrace") == 0)
		rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	else if (strcmp(what, "mount") == 0)
		rc = mount("none", "/", "tmpfs", 0, NULL);
	else if (strcmp(what, "execve") == 0)
		rc = execve(argv[0], argv, NULL);
	log_event(LL_WARN, "test probe", LKV_S("syscall", what),
	    LKV_I("rc", rc), LKV_S("errno", rc == -1 ? strerrorname_np(errno) :
	    "none"));
	if (rc >= 0 && strcmp(what, "socket") == 0)
		close((int)rc);
}

int
main(int argc, char *argv[])
{
	struct role_opts	 o;
	int			 ch;

	memset(&o, 0, sizeof(o));
	o.target = LOG_TARGET_STDERR;
	log_init("http", LL_INFO, LOG_TARGET_STDERR);
	while ((ch = getopt(argc, argv, "N")) != -1) {
		if (ch != 'N') {
			fprintf(stderr, "usage: http-role [-N]\n");
			return 2;
		}
		o.no_filter = 1;
	}
	if (getenv("PEIPKG_TEST_FORBIDDEN_SYSCALL") != NULL)
		o.after_sandbox = probe;
	return http_main(&o);
}
