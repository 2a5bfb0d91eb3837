/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_rolefilter.c: the role seccomp filter (src/rolefilter.c): what the
 * base list allows, the EPERM default, the kill list, argument
 * conditions, role lists, names this architecture lacks, and the error
 * for a rule that contradicts the deny list.  Each case runs in a forked
 * child, since a filter cannot be removed.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "rolefilter.h"

static const struct rf_rule extra_rules[] = {
	RF_ALLOW_EQ32("socket", 0, AF_UNIX),
	RF_ERRNO("getuid", ENOSYS),
	RF_ALLOW("no_such_syscall_anywhere"),
};
static const struct rf_list extra = RF_LIST("extra", extra_rules);

/* Exit codes of the child's checks. */
enum {
	C_OK = 0,
	C_INSTALL = 10,
	C_BASE,
	C_EPERM,
	C_ARG,
	C_ERRNO,
	C_MMAP
};

static int
child_checks(void)
{
	const struct rf_list	*lists[] = { &extra, NULL };
	struct buf		 err = BUF_INIT;
	void			*p;
	int			 fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    rolefilter_install(lists, 2, &err) == -1)
		return C_INSTALL;
	/* the base list: memory, time, pipes */
	if ((p = malloc(1 << 20)) == NULL || getpid() <= 0)
		return C_BASE;
	free(p);
	/* not listed: EPERM */
	errno = 0;
	if (open("/", O_RDONLY) != -1 || errno != EPERM)
		return C_EPERM;
	/* argument conditions: AF_UNIX yes, AF_INET no */
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return C_ARG;
	close(fd);
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return C_ARG;
	/* RF_ERRNO */
	if (syscall(SYS_getuid) != -1 || errno != ENOSYS)
		return C_ERRNO;
	/* no executable mappings */
	if (mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0) != MAP_FAILED || errno != EPERM)
		return C_MMAP;
	return C_OK;
}

static int
run_child(int (*fn)(void))
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
test_allow_deny_default(void **state)
{
	int	 st = run_child(child_checks);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != C_OK)
		fail_msg("child status 0x%x", st);
}

static int
child_ptrace(void)
{
	struct buf	 err = BUF_INIT;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    rolefilter_install(NULL, 0, &err) == -1)
		return C_INSTALL;
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return C_OK;
}

static int
child_execve(void)
{
	char *const	 argv[] = { (char *)"/bin/true", NULL };
	struct buf	 err = BUF_INIT;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    rolefilter_install(NULL, 0, &err) == -1)
		return C_INSTALL;
	execve(argv[0], argv, NULL);
	return C_OK;
}

static int
child_http_fork(void)
{
	const struct rf_list	*lists[] = { &rolefilter_http };
	struct buf		 err = BUF_INIT;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    rolefilter_install(lists, 1, &err) == -1)
		return C_INSTALL;
	(void)fork();
	return C_OK;
}

static void
test_kills(void **state)
{
	int	 st;

	st = run_child(child_ptrace);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_child(child_execve);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_child(child_http_fork);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}

static const struct rf_rule bad_rules[] = {
	RF_ALLOW("ptrace"),		/* killed by the deny list */
};
static const struct rf_list bad = RF_LIST("bad", bad_rules);

static void
test_conflict(void **state)
{
	const struct rf_list	*lists[] = { &bad };
	struct buf		 err = BUF_INIT;

	/* nothing is loaded when building fails, so no child is needed */
	assert_int_equal(rolefilter_install(lists, 1, &err), -1);
	assert_string_equal(buf_str(&err),
	    "seccomp: bad list: rule for ptrace: the deny list kills it");
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_deny_default),
		cmocka_unit_test(test_kills),
		cmocka_unit_test(test_conflict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
