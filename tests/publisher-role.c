/*
 * publisher-role.c: runs the publisher role exactly as `peipkg-manager
 * -P publisher` does (channel on fd 3, configuration from the parent),
 * for tests/integ/publisher-role.sh.
 *
 * Test hook, honoured only by this program: with PEIPKG_TEST_PROBE set
 * in the environment, the role tries calls its seccomp filter forbids
 * (a network socket, ptrace, mount) right after sandboxing itself, each
 * in a child that inherits the filter, and logs how each ended
 * ("test probe" call= result=errno:N or result=signal:N).
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "publisher.h"
#include "role.h"

/* Make one call in a child (the filter may kill it) and log the end. */
static void
probe_one(const char *call)
{
	char	 res[32];
	pid_t	 pid;
	int	 st, rc = 0;

	if ((pid = fork()) == 0) {
		if (strcmp(call, "socket") == 0)
			rc = socket(AF_INET, SOCK_STREAM, 0);
		else if (strcmp(call, "ptrace") == 0)
			rc = (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		else
			rc = mount("none", "/tmp", "tmpfs", 0, NULL);
		_exit(rc == -1 ? errno : 0);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1)
		snprintf(res, sizeof(res), "fork-failed");
	else if (WIFSIGNALED(st))
		snprintf(res, sizeof(res), "signal:%d", WTERMSIG(st));
	else
		snprintf(res, sizeof(res), "errno:%d", WEXITSTATUS(st));
	log_event(LL_INFO, "test probe", LKV_S("call", call),
	    LKV_S("result", res));
}

static void
probe(void)
{
	probe_one("socket");
	probe_one("ptrace");
	probe_one("mount");
}

int
main(int argc, char *argv[])
{
	struct role_opts	 o;

	memset(&o, 0, sizeof(o));
	log_init("publisher", LL_DEBUG, LOG_TARGET_STDERR);
	o.level = LL_DEBUG;
	o.target = LOG_TARGET_STDERR;
	if (getenv("PEIPKG_TEST_PROBE") != NULL)
		o.after_sandbox = probe;
	return publisher_run(&o);
}
