/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_proc.c: the channel socketpair, proc_spawn's fd layout, signal
 * reset and parent-death signal, the privilege drop (as root, in forked
 * children) and reaping (src/proc.c).
 */
#include "config.h"

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Read a whole small file or pipe into buf (NUL-terminated). */
static size_t
read_all(int fd, char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off + 1 < len && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	return off;
}

static void
status_line(const char *path, const char *key, char *out, size_t len)
{
	char	 buf[8192], *p, *e;
	int	 fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd == -1)
		return;
	read_all(fd, buf, sizeof(buf));
	close(fd);
	for (p = buf; p != NULL && *p != '\0'; p = e != NULL ? e + 1 : NULL) {
		e = strchr(p, '\n');
		if (strncmp(p, key, strlen(key)) == 0 &&
		    p[strlen(key)] == ':') {
			snprintf(out, len, "%.*s", e != NULL ? (int)(e - p) :
			    (int)strlen(p), p);
			return;
		}
	}
}

static void
fdlink(pid_t pid, int fd, char *out, size_t len)
{
	char	 path[64];
	ssize_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
	n = readlink(path, out, len - 1);
	out[n < 0 ? 0 : n] = '\0';
}

static pid_t
wait_exit(pid_t pid, int *status)
{
	pid_t	 w;

	do
		w = waitpid(pid, status, 0);
	while (w == -1 && errno == EINTR);
	return w;
}

static void
test_socketpair(void **state)
{
	struct buf	 err = BUF_INIT;
	int		 sv[2], type, sz, i;
	socklen_t	 sl;

	assert_int_equal(proc_socketpair(sv, &err), 0);
	for (i = 0; i < 2; i++) {
		sl = sizeof(type);
		assert_int_equal(getsockopt(sv[i], SOL_SOCKET, SO_TYPE, &type,
		    &sl), 0);
		assert_int_equal(type, SOCK_SEQPACKET);
		assert_true(fcntl(sv[i], F_GETFD) & FD_CLOEXEC);
		sl = sizeof(sz);
		assert_int_equal(getsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz,
		    &sl), 0);
		assert_true(sz >= PROC_SOCKBUF);
		close(sv[i]);
	}
	buf_free(&err);
}

/* The child's fds, as "0 1 2 3 4". */
static void
list_fds(pid_t pid, char *out, size_t len)
{
	char		 path[64];
	int		 seen[64] = { 0 }, fd;
	DIR		*d;
	struct dirent	*de;
	size_t		 off = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		assert_true(fd >= 0 && fd < 64);
		seen[fd] = 1;
	}
	closedir(d);
	out[0] = '\0';
	for (fd = 0; fd < 64; fd++)
		if (seen[fd])
			off += (size_t)snprintf(out + off, len - off, "%s%d",
			    off ? " " : "", fd);
}

static void
wait_comm(pid_t pid, const char *want)
{
	char	 path[64], buf[64];
	int	 i, fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	for (i = 0; i < 500; i++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
			read_all(fd, buf, sizeof(buf));
			close(fd);
			if (strcmp(buf, want) == 0)
				return;
		}
		sleep_ms(10);
	}
	fail_msg("child never became %s", want);
}

static void
test_spawn_fds(void **state)
{
	struct buf	 err = BUF_INIT;
	char *const	 argv[] = { (char *)"sh", (char *)"-c",
	    (char *)"printf chan >&3; printf keep >&4; exec sleep 30", NULL };
	char		 buf[256], a[64], b[64];
	int		 sv[2], kp[2], stray, st, keep[1], i;
	sigset_t	 set, old;
	pid_t		 pid;

	assert_int_equal(proc_socketpair(sv, &err), 0);
	assert_int_equal(pipe2(kp, O_CLOEXEC), 0);
	/* Inheritable strays the child must not get. */
	stray = open("/dev/null", O_RDONLY);
	assert_int_equal(dup2(stray, 40), 40);
	/* Dispositions and mask the child must not inherit. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	keep[0] = kp[1];
	pid = proc_spawn("/bin/sh", argv, sv[1], keep, 1, &err);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_true(pid > 0);
	assert_string_equal(buf_str(&err), "");
	/* The parent keeps its fds. */
	assert_true(fcntl(sv[1], F_GETFD) != -1);
	assert_true(fcntl(kp[1], F_GETFD) != -1);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "chan", 4);
	wait_comm(pid, "sleep\n");
	/* The new image's loader briefly opens files of its own: retry.
	 * An fd leaked by proc_spawn would stay and fail the test. */
	for (i = 0; i < 500; i++) {
		list_fds(pid, buf, sizeof(buf));
		if (strcmp(buf, "0 1 2 3 4") == 0)
			break;
		sleep_ms(10);
	}
	assert_string_equal(buf, "0 1 2 3 4");
	fdlink(pid, 3, a, sizeof(a));
	fdlink(getpid(), sv[1], b, sizeof(b));
	assert_string_equal(a, b);
	fdlink(pid, 4, a, sizeof(a));
	fdlink(getpid(), kp[1], b, sizeof(b));
	assert_string_equal(a, b);
	snprintf(buf, sizeof(buf), "/proc/%ld/status", (long)pid);
	status_line(buf, "SigBlk", a, sizeof(a));
	assert_string_equal(a, "SigBlk:\t0000000000000000");
	/* Signals 32 and 33 belong to glibc, which installs its own
	 * handlers for them when needed and refuses sigaction() on them;
	 * `make check` may start us with them ignored. */
	status_line(buf, "SigIgn", a, sizeof(a));
	assert_int_equal(strtoull(a + 8, NULL, 16) & ~0x180000000ULL, 0);
	kill(pid, SIGKILL);
	assert_int_equal(wait_exit(pid, &st), pid);
	assert_string_equal(proc_describe_status(st, buf, sizeof(buf)),
	    "killed by signal 9 (SIGKILL)");
	close(kp[1]);
	assert_int_equal(read_all(kp[0], buf, sizeof(buf)), 4);
	assert_string_equal(buf, "keep");
	close(40);
	close(stray);
	close(kp[0]);
	close(sv[0]);
	close(sv[1]);
	buf_free(&err);
}

/* chan_fd on 4 and the kept fd on 3: the targets overlap the sources. */
static void
test_spawn_overlap(void **state)
{
	char *const	 argv[] = { (char *)"sh", (char *)"-c",
	    (char *)"printf chan >&3; printf keep >&4", NULL };
	char		 buf[64];
	int		 sv[2], kp[2], st, keep[1] = { 3 };
	pid_t		 helper;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	assert_int_equal(pipe2(kp, O_CLOEXEC), 0);
	if ((helper = fork()) == 0) {
		struct buf	 err = BUF_INIT;
		pid_t		 pid;
		int		 a = fcntl(sv[1], F_DUPFD_CLOEXEC, 100);
		int		 b = fcntl(kp[1], F_DUPFD_CLOEXEC, 100);

		if (a == -1 || b == -1 || dup2(a, 4) == -1 ||
		    dup2(b, 3) == -1)
			_exit(2);
		if ((pid = proc_spawn("/bin/sh", argv, 4, keep, 1,
		    &err)) == -1)
			_exit(3);
		_exit(wait_exit(pid, &st) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0 ? 0 : 4);
	}
	close(kp[1]);
	close(sv[1]);
	assert_int_equal(wait_exit(helper, &st), helper);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_memory_equal(buf, "chan", 4);
	assert_int_equal(read_all(kp[0], buf, sizeof(buf)), 4);
	assert_string_equal(buf, "keep");
	close(sv[0]);
	close(kp[0]);
}

static void
test_spawn_failures(void **state)
{
	struct buf	 err = BUF_INIT;
	char *const	 argv[] = { (char *)"x", NULL };
	int		 sv[2], bad[1] = { 900 }, st;
	pid_t		 pid;

	assert_int_equal(proc_socketpair(sv, &err), 0);
	assert_int_equal(proc_spawn("/nonexistent/prog", argv, sv[1], NULL,
	    0, &err), -1);
	assert_string_equal(buf_str(&err), "spawn /nonexistent/prog: execv: "
	    "No such file or directory");
	assert_int_equal(proc_reap(&pid, &st), 0);	/* already reaped */
	buf_reset(&err);
	assert_int_equal(proc_spawn("/bin/true", argv, sv[1], bad, 1, &err),
	    -1);
	assert_string_equal(buf_str(&err), "spawn /bin/true: duplicating fds: "
	    "Bad file descriptor");
	buf_reset(&err);
	assert_int_equal(proc_spawn("/bin/true", argv, -1, NULL, 0, &err),
	    -1);
	assert_string_equal(buf_str(&err),
	    "spawn /bin/true: bad channel fd or too many fds");
	close(sv[0]);
	close(sv[1]);
	buf_free(&err);
}

/* The child dies with its parent (PR_SET_PDEATHSIG). */
static void
test_spawn_pdeathsig(void **state)
{
	char *const	 argv[] = { (char *)"sleep", (char *)"30", NULL };
	int		 pp[2], st, i;
	pid_t		 helper, pid = 0, w = 0;

	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	if ((helper = fork()) == 0) {
		pid = proc_spawn("/bin/sleep", argv, pp[1], NULL, 0, NULL);
		(void)!write(pp[1], &pid, sizeof(pid));
		_exit(pid > 0 ? 0 : 1);
	}
	close(pp[1]);
	assert_int_equal(read(pp[0], &pid, sizeof(pid)), sizeof(pid));
	close(pp[0]);
	assert_true(pid > 0);
	assert_int_equal(wait_exit(helper, &st), helper);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Reparented to us; without the death signal it would sleep on. */
	for (i = 0; i < 500 && (w = waitpid(pid, &st, WNOHANG)) == 0; i++)
		sleep_ms(10);
	if (w != pid) {
		kill(pid, SIGKILL);
		wait_exit(pid, &st);
		fail_msg("spawned child survived its parent");
	}
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

/* ---- dropping privileges ------------------------------------------ */

/* What a demoted process looks like, one fact per line. */
static void
report(char *out, size_t len, const char *probe)
{
	static const char *const keys[] = { "CapInh", "CapPrm", "CapEff",
	    "CapBnd", "CapAmb", "NoNewPrivs" };
	uid_t		 ru, eu, su;
	gid_t		 rg, eg, sg, groups[8];
	struct rlimit	 rl;
	char		 line[128];
	size_t		 i, off;
	int		 ng, fd;

	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	ng = getgroups(8, groups);
	off = (size_t)snprintf(out, len, "ids %lu %lu %lu %lu %lu %lu "
	    "groups %d:%lu\n", (unsigned long)ru, (unsigned long)eu,
	    (unsigned long)su, (unsigned long)rg, (unsigned long)eg,
	    (unsigned long)sg, ng, ng > 0 ? (unsigned long)groups[0] : 0UL);
	for (i = 0; i < nitems(keys); i++) {
		status_line("/proc/self/status", keys[i], line, sizeof(line));
		off += (size_t)snprintf(out + off, len - off, "%s\n", line);
	}
	getrlimit(RLIMIT_CORE, &rl);
	off += (size_t)snprintf(out + off, len - off, "dumpable %d core %lu "
	    "%lu\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
	    (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	fd = open(probe, O_RDONLY | O_CLOEXEC);
	off += (size_t)snprintf(out + off, len - off, "open %s\n",
	    fd == -1 ? strerrorname_np(errno) : "ok");
	errno = 0;
	snprintf(out + off, len - off, "setuid0 %s\n",
	    setuid(0) == -1 ? strerrorname_np(errno) : "ok");
}

/* Run fn in a forked child and return what it wrote. */
static void
in_child(void (*fn)(int, const void *), const void *arg, char *out,
    size_t len)
{
	int	 pp[2], st;
	pid_t	 pid;

	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	if ((pid = fork()) == 0) {
		close(pp[0]);
		fn(pp[1], arg);
		_exit(0);
	}
	close(pp[1]);
	read_all(pp[0], out, len);
	close(pp[0]);
	assert_int_equal(wait_exit(pid, &st), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
drop_nobody(int out, const void *arg)
{
	struct buf	 err = BUF_INIT;
	char		 buf[2048];
	cap_value_t	 v = CAP_NET_BIND_SERVICE;
	cap_t		 c = cap_get_proc();

	/* An inheritable capability survives a uid change unless cleared. */
	if (c == NULL || cap_set_flag(c, CAP_INHERITABLE, 1, &v,
	    CAP_SET) == -1 || cap_set_proc(c) == -1)
		_exit(1);
	cap_free(c);
	if (proc_drop_privileges("nobody", NULL, &err) == -1)
		snprintf(buf, sizeof(buf), "error: %s\n", buf_str(&err));
	else
		report(buf, sizeof(buf), arg);
	(void)!write(out, buf, strlen(buf));
}

static const char zero_caps[] =
	"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
	"CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
	"CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n";

static void
test_drop_root(void **state)
{
	char		 path[] = "/tmp/peipkg-proc-XXXXXX", got[2048];
	char		 want[2048];
	struct passwd	*pw;
	int		 fd;

	if (geteuid() != 0)
		skip();
	assert_non_null(pw = getpwnam("nobody"));
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
	in_child(drop_nobody, path, got, sizeof(got));
	snprintf(want, sizeof(want), "ids %lu %lu %lu %lu %lu %lu groups "
	    "1:%lu\n%sdumpable 0 core 0 0\nopen EACCES\nsetuid0 EPERM\n",
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_uid,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid,
	    (unsigned long)pw->pw_gid, (unsigned long)pw->pw_gid,
	    (unsigned long)pw->pw_gid, zero_caps);
	assert_string_equal(got, want);
	unlink(path);
}

static void
drop_chroot(int out, const void *arg)
{
	struct buf	 err = BUF_INIT;
	char		 buf[512], cwd[64];

	if (proc_drop_privileges("nobody", arg, &err) == -1)
		snprintf(buf, sizeof(buf), "error: %s\n", buf_str(&err));
	else
		snprintf(buf, sizeof(buf), "cwd %s marker %s uid %lu\n",
		    getcwd(cwd, sizeof(cwd)) ? cwd : "?",
		    access("/marker", R_OK) == 0 ? "yes" : "no",
		    (unsigned long)getuid());
	(void)!write(out, buf, strlen(buf));
}

static void
test_drop_chroot(void **state)
{
	char		 dir[] = "/tmp/peipkg-root-XXXXXX", path[64];
	char		 got[512], want[512];
	struct passwd	*pw;
	int		 fd;

	if (geteuid() != 0)
		skip();
	assert_non_null(pw = getpwnam("nobody"));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/marker", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC,
	    0644)) != -1);
	close(fd);
	in_child(drop_chroot, dir, got, sizeof(got));
	snprintf(want, sizeof(want), "cwd / marker yes uid %lu\n",
	    (unsigned long)pw->pw_uid);
	assert_string_equal(got, want);
	unlink(path);
	rmdir(dir);
}

static void
drop_unprivileged(int out, const void *arg)
{
	struct buf	 err = BUF_INIT;
	char		 buf[2048], bnd[64];
	gid_t		 g = 65534;

	if (geteuid() == 0 && (setgroups(1, &g) == -1 ||
	    setresgid(g, g, g) == -1 || setresuid(65534, 65534, 65534) == -1))
		_exit(1);
	/* The uid change cleared it; the drop must clear it again. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
		_exit(1);
	if (proc_drop_privileges(NULL, NULL, &err) == -1) {
		snprintf(buf, sizeof(buf), "error: %s\n", buf_str(&err));
	} else {
		status_line("/proc/self/status", "CapEff", bnd, sizeof(bnd));
		snprintf(buf, sizeof(buf), "%s\n", bnd);
		status_line("/proc/self/status", "NoNewPrivs", bnd,
		    sizeof(bnd));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "%s\ndumpable %d\n", bnd, prctl(PR_GET_DUMPABLE, 0, 0,
		    0, 0));
	}
	(void)!write(out, buf, strlen(buf));
}

static void
test_drop_unprivileged(void **state)
{
	char	 got[2048];

	in_child(drop_unprivileged, NULL, got, sizeof(got));
	assert_string_equal(got, "CapEff:\t0000000000000000\n"
	    "NoNewPrivs:\t1\ndumpable 0\n");
}

static void
test_drop_errors(void **state)
{
	struct buf	 err = BUF_INIT;

	if (geteuid() != 0)
		skip();
	/* Both fail before changing anything. */
	assert_int_equal(proc_drop_privileges("no-such-user-pm", NULL, &err),
	    -1);
	assert_string_equal(buf_str(&err),
	    "user no-such-user-pm: no such user");
	buf_reset(&err);
	assert_int_equal(proc_drop_privileges("root", NULL, &err), -1);
	assert_string_equal(buf_str(&err), "user root has uid 0");
	assert_int_equal(getuid(), 0);
	buf_free(&err);
}

/* ---- reaping ------------------------------------------------------ */

static void
test_reap(void **state)
{
	char	 buf[64];
	pid_t	 a, b, got;
	int	 st, i, n = 0, seen_a = 0, seen_b = 0;

	assert_int_equal(proc_reap(&got, &st), 0);	/* no children */
	if ((a = fork()) == 0)
		_exit(3);
	if ((b = fork()) == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	for (i = 0; i < 500 && n < 2; i++) {
		while (proc_reap(&got, &st) == 1) {
			n++;
			proc_describe_status(st, buf, sizeof(buf));
			if (got == a) {
				seen_a = 1;
				assert_string_equal(buf, "exited 3");
			} else if (got == b) {
				seen_b = 1;
				assert_string_equal(buf,
				    "killed by signal 9 (SIGKILL)");
			}
		}
		if (n < 2)
			sleep_ms(10);
	}
	assert_true(seen_a && seen_b);
	assert_int_equal(proc_reap(&got, &st), 0);
}

static void
test_describe(void **state)
{
	char	 buf[64];

	assert_string_equal(proc_describe_status(1 << 8, buf, sizeof(buf)),
	    "exited 1");
	assert_string_equal(proc_describe_status(0, buf, sizeof(buf)),
	    "exited 0");
	assert_string_equal(proc_describe_status(SIGSEGV | 0x80, buf,
	    sizeof(buf)), "killed by signal 11 (SIGSEGV), core dumped");
	assert_string_equal(proc_describe_status(SIGTERM, buf, sizeof(buf)),
	    "killed by signal 15 (SIGTERM)");
	assert_string_equal(proc_describe_status(40, buf, sizeof(buf)),
	    "killed by signal 40");
	assert_string_equal(proc_describe_status((SIGSTOP << 8) | 0x7f, buf,
	    sizeof(buf)), "stopped by signal 19 (SIGSTOP)");
	assert_string_equal(proc_describe_status(0xffff, buf, sizeof(buf)),
	    "continued");
	/* Truncation stays NUL-terminated. */
	assert_string_equal(proc_describe_status(SIGKILL, buf, 10),
	    "killed by");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socketpair),
		cmocka_unit_test(test_spawn_fds),
		cmocka_unit_test(test_spawn_overlap),
		cmocka_unit_test(test_spawn_failures),
		cmocka_unit_test(test_spawn_pdeathsig),
		cmocka_unit_test(test_drop_root),
		cmocka_unit_test(test_drop_chroot),
		cmocka_unit_test(test_drop_unprivileged),
		cmocka_unit_test(test_drop_errors),
		cmocka_unit_test(test_reap),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
