/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * probe.c: escape probes for the build sandbox (RELIABILITY.md §2.6,
 * §2.8).  Built by tests/integ/sandbox-probes.sh with the host gcc and
 * run as (part of) build.sh inside the sandbox.  Each argument names one
 * probe; each probe makes one attempt in a forked child, with invalid
 * pointers or fds where it can (so that EPERM/ENOSYS can only come from
 * the filter, never from a successful call), and prints one line
 *   {"probe":"<label>","rc":<n>,"errno":"<ENAME or 0>","signal":<n>}
 * signal being the one that killed the child (0 if none).
 *
 * Argument forms:
 *   NAME                    a fixed probe (see the table at the end)
 *   r:LABEL:PATH            open(PATH, O_RDONLY)
 *   w:LABEL:PATH            create PATH and write one byte
 *   wo:LABEL:PATH           open(PATH, O_WRONLY), no create
 *   tcp:LABEL:IPV4:PORT     connect()
 *   unix:LABEL:PATH         connect() to a Unix socket
 *   uid:LABEL:PATH          run `PATH -u`; rc = the number it prints
 *   fsize:LABEL:PATH:N      write N bytes (default SIGXFSZ action)
 *   fsizeign:LABEL:PATH:N   the same with SIGXFSZ ignored
 *   sparse:LABEL:PATH:N     ftruncate PATH to N bytes (SIGXFSZ ignored)
 *   env:PATH                write the environment, one per line, to PATH
 *   listen:PORTFILE         (on the host) listen on 127.0.0.1, write the
 *                           port to PORTFILE, accept forever
 *
 * Trust: test code; it is the hostile side on purpose.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK	40
#endif
#define NR_OPEN_TREE_ATTR	467	/* unknown to libseccomp 2.5 */
#define X32_BIT			0x40000000

extern char **environ;

struct attempt {
	long	 rc;
	int	 err;
};

typedef struct attempt (*probe_fn)(const char *);

static int	 harness_fd = -1;	/* result pipe, open in each attempt */

static struct attempt
mk(long rc)
{
	struct attempt	 a = { rc, rc < 0 ? errno : 0 };
	return a;
}

/* Run fn(arg) in a child; report how it went. */
static void
run(const char *label, probe_fn fn, const char *arg)
{
	struct attempt	 a = { -1, 0 };
	int		 p[2], st, sig = 0;
	pid_t		 pid;
	const char	*en;

	if (pipe(p) == -1 || (pid = fork()) == -1) {
		printf("{\"probe\":\"%s\",\"rc\":-1,\"errno\":\"%s\","
		    "\"signal\":0,\"note\":\"harness\"}\n", label,
		    strerrorname_np(errno));
		fflush(stdout);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		harness_fd = p[1];
		a = fn(arg);
		(void)write(p[1], &a, sizeof(a));
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &a, sizeof(a)) != sizeof(a))
		a.rc = -1, a.err = 0;
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		continue;
	if (WIFSIGNALED(st))
		sig = WTERMSIG(st);
	en = a.err == 0 ? "0" : strerrorname_np(a.err);
	printf("{\"probe\":\"%s\",\"rc\":%ld,\"errno\":\"%s\",\"signal\":%d}\n",
	    label, a.rc, en != NULL ? en : "?", sig);
	fflush(stdout);
}

/* ---- files ---------------------------------------------------------- */

static struct attempt
p_read(const char *path)
{
	int	 fd = open(path, O_RDONLY | O_CLOEXEC);
	return mk(fd < 0 ? -1 : 0);
}

static struct attempt
p_write(const char *path)
{
	int	 fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return mk(-1);
	return mk(write(fd, "x", 1) == 1 ? 0 : -1);
}

static struct attempt
p_write_only(const char *path)
{
	int	 fd = open(path, O_WRONLY | O_CLOEXEC);
	return mk(fd < 0 ? -1 : 0);
}

/* PATH:N -> write N bytes, 64 KiB at a time. */
static struct attempt
p_fsize(const char *arg)
{
	char		 path[4096], b[65536];
	const char	*colon = strrchr(arg, ':');
	long		 left;
	ssize_t		 n;
	int		 fd;

	if (colon == NULL)
		return mk(-1);
	snprintf(path, sizeof(path), "%.*s", (int)(colon - arg), arg);
	left = atol(colon + 1);
	memset(b, 'z', sizeof(b));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return mk(-1);
	while (left > 0) {
		n = write(fd, b, left < (long)sizeof(b) ? (size_t)left :
		    sizeof(b));
		if (n < 0)
			return mk(-1);
		left -= n;
	}
	return mk(0);
}

/* PATH:N -> a sparse file of N bytes (ftruncate), SIGXFSZ ignored. */
static struct attempt
p_sparse(const char *arg)
{
	char		 path[4096];
	const char	*colon = strrchr(arg, ':');
	int		 fd;

	if (colon == NULL)
		return mk(-1);
	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof(path), "%.*s", (int)(colon - arg), arg);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return mk(-1);
	return mk(ftruncate(fd, atoll(colon + 1)));
}

static struct attempt
p_fsize_ign(const char *arg)
{
	signal(SIGXFSZ, SIG_IGN);
	return p_fsize(arg);
}

/* ---- network -------------------------------------------------------- */

static struct attempt
p_tcp(const char *arg)
{
	struct sockaddr_in	 sin;
	char			 ip[64];
	const char		*colon = strrchr(arg, ':');
	int			 s;

	if (colon == NULL)
		return mk(-1);
	snprintf(ip, sizeof(ip), "%.*s", (int)(colon - arg), arg);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	inet_pton(AF_INET, ip, &sin.sin_addr);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return mk(-1);
	return mk(connect(s, (struct sockaddr *)&sin, sizeof(sin)));
}

static struct attempt
p_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return mk(-1);
	return mk(connect(s, (struct sockaddr *)&sun, sizeof(sun)));
}

/* Number of interfaces other than lo. */
static struct attempt
p_ifaces(const char *unused)
{
	struct if_nameindex	*ifs, *i;
	long			 n = 0;

	if ((ifs = if_nameindex()) == NULL)
		return mk(-1);
	for (i = ifs; i->if_index != 0; i++)
		if (strcmp(i->if_name, "lo") != 0)
			n++;
	return mk(n);
}

static struct attempt
p_lo_up(const char *unused)
{
	struct ifreq	 ifr;
	int		 s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return mk(-1);
	return mk((ifr.ifr_flags & IFF_UP) != 0);
}

/* ---- processes ------------------------------------------------------ */

static struct attempt
p_ptrace_child(const char *unused)
{
	struct attempt	 a;
	pid_t		 c;

	if ((c = fork()) == 0) {
		pause();
		_exit(0);
	}
	a = mk(ptrace(PTRACE_ATTACH, c, NULL, NULL));
	kill(c, SIGKILL);
	return a;
}

static struct attempt
p_vm_readv(const char *unused)
{
	char		 b[8];
	struct iovec	 l = { b, sizeof(b) }, r = { (void *)16, sizeof(b) };
	return mk(process_vm_readv(getppid(), &l, 1, &r, 1, 0));
}

static struct attempt
p_kcmp(const char *unused)
{
	return mk(syscall(SYS_kcmp, getpid(), getppid(), KCMP_FILE, 0, 0));
}

static struct attempt
p_pidfd_getfd(const char *unused)
{
	long	 pfd = syscall(SYS_pidfd_open, getppid(), 0);

	if (pfd < 0)
		return mk(-1);
	return mk(syscall(SYS_pidfd_getfd, pfd, 0, 0));
}

static struct attempt
p_kill_all(const char *unused)
{
	return mk(kill(-1, SIGKILL));
}

/* Fork until it fails; rc = how many it got.  Children just wait. */
static struct attempt
p_forkloop(const char *unused)
{
	static pid_t	 kids[100000];
	struct attempt	 a = { 0, 0 };
	pid_t		 c;
	long		 i;

	while (a.rc < (long)(sizeof(kids) / sizeof(kids[0]))) {
		if ((c = fork()) == -1) {
			a.err = errno;
			break;
		}
		if (c == 0) {
			pause();
			_exit(0);
		}
		kids[a.rc++] = c;
	}
	for (i = 0; i < a.rc; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < a.rc; i++)
		waitpid(kids[i], NULL, 0);
	return a;
}

static struct attempt
p_fork(const char *unused)
{
	pid_t	 c = fork();

	if (c == 0)
		_exit(0);
	return mk(c < 0 ? -1 : 0);
}

static void *
thread_main(void *unused)
{
	return NULL;
}

static struct attempt
p_thread(const char *unused)
{
	pthread_t	 t;
	int		 e = pthread_create(&t, NULL, thread_main, NULL);
	struct attempt	 a = { e == 0 ? 0 : -1, e };

	if (e == 0)
		pthread_join(t, NULL);
	return a;
}

/* ---- namespaces and mounts ------------------------------------------ */

static struct attempt
p_clone_user(const char *unused)
{
	long	 rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);

	if (rc == 0)
		_exit(0);
	return mk(rc < 0 ? -1 : 0);
}

/* ---- keyrings, terminals -------------------------------------------- */

static struct attempt
p_isatty(const char *unused)
{
	return mk(isatty(0) + isatty(1) + isatty(2));
}

/* ---- kernel surface ------------------------------------------------- */

static struct attempt
p_socket_inet(const char *unused)
{
	int	 s = socket(AF_INET, SOCK_STREAM, 0);
	return mk(s < 0 ? -1 : 0);
}

static struct attempt
p_socket_netlink(const char *unused)
{
	int	 s = socket(AF_NETLINK, SOCK_RAW, 0);
	return mk(s < 0 ? -1 : 0);
}

/* i386 getpid through int 0x80: the arch check must kill us. */
static struct attempt
p_int80(const char *unused)
{
	long	 ret;

	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return mk(ret);
}

/* ---- identity and inheritance --------------------------------------- */

static long
status_field(const char *name)
{
	char	 line[256];
	FILE	*f = fopen("/proc/self/status", "r");
	size_t	 n = strlen(name);
	long	 v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

static struct attempt
p_nnp(const char *unused)
{
	return mk(status_field("NoNewPrivs"));
}

static struct attempt
p_seccomp(const char *unused)
{
	return mk(status_field("Seccomp"));
}

/* rc = how many of the five capability sets are non-empty. */
static struct attempt
p_caps(const char *unused)
{
	const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd",
	    "CapAmb" };
	long	 n = 0;
	size_t	 i;

	for (i = 0; i < 5; i++)
		if (status_field(sets[i]) != 0)
			n++;
	return mk(n);
}

static struct attempt
p_uid_map(const char *unused)
{
	char	 line[256];
	FILE	*f = fopen("/proc/self/uid_map", "r");
	long	 n = 0;

	if (f == NULL)
		return mk(-1);
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	return mk(n);
}

static struct attempt
p_setuid0(const char *unused)
{
	return mk(setuid(0));
}

/* Supplementary groups: root's must not follow the build in. */
static struct attempt
p_groups(const char *unused)
{
	return mk(getgroups(0, NULL));
}

static struct attempt
p_getuid(const char *unused)
{
	return mk(getuid());
}

/* Open fds other than 0, 1, 2, ours and the directory being read. */
static struct attempt
p_fds(const char *unused)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	long		 n = 0;
	int		 fd;

	if (d == NULL)
		return mk(-1);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d) && fd != harness_fd)
			n++;
	}
	return mk(n);
}

/* Processes visible in /proc. */
static struct attempt
p_proc_pids(const char *unused)
{
	DIR		*d = opendir("/proc");
	struct dirent	*e;
	long		 n = 0;

	if (d == NULL)
		return mk(-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	return mk(n);
}

/* Run `path -u` (a setuid copy of id) and return what it prints. */
static struct attempt
p_uid_of(const char *path)
{
	char	 out[32] = "";
	int	 p[2], st;
	ssize_t	 n;
	pid_t	 c;

	if (pipe(p) == -1 || (c = fork()) == -1)
		return mk(-1);
	if (c == 0) {
		dup2(p[1], 1);
		execl(path, path, "-u", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	waitpid(c, &st, 0);
	if (n <= 0)
		return mk(-1);
	out[n] = '\0';
	return mk(atol(out));
}

static struct attempt
p_env(const char *path)
{
	FILE	*f = fopen(path, "w");
	char	**e;

	if (f == NULL)
		return mk(-1);
	for (e = environ; *e != NULL; e++)
		fprintf(f, "%s\n", *e);
	return mk(fclose(f));
}

/* Host side: a TCP listener the sandbox must not reach. */
static int
listen_forever(const char *portfile)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	FILE			*f;
	int			 s, c;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(s, 16) < 0 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) < 0)
		return 1;
	if ((f = fopen(portfile, "w")) == NULL)
		return 1;
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	fclose(f);
	for (;;)
		if ((c = accept(s, NULL, NULL)) >= 0)
			close(c);
}

static const struct {
	const char	*name;
	probe_fn	 fn;
} fixed[] = {
	{ "ifaces", p_ifaces }, { "lo_up", p_lo_up },
	{ "ptrace_child", p_ptrace_child },
	{ "process_vm_readv", p_vm_readv }, { "kcmp", p_kcmp },
	{ "pidfd_getfd", p_pidfd_getfd }, { "kill_all", p_kill_all },
	{ "forkloop", p_forkloop }, { "fork", p_fork },
	{ "thread", p_thread },
	{ "clone_newuser", p_clone_user }, { "isatty", p_isatty },
	{ "socket_inet", p_socket_inet },
	{ "socket_netlink", p_socket_netlink },
	{ "int80", p_int80 }, { "nnp", p_nnp }, { "seccomp", p_seccomp },
	{ "caps", p_caps },
	{ "uid_map", p_uid_map }, { "setuid0", p_setuid0 },
	{ "getuid", p_getuid }, { "groups", p_groups }, { "fds", p_fds },
	{ "proc_pids", p_proc_pids },
};

/*
 * One raw syscall each, NULL pointers and bad fds throughout: a kernel
 * that got the call would answer EFAULT/EBADF/EINVAL, so EPERM or ENOSYS
 * can only be the filter's.  ARG_PPID stands for getppid().
 */
#define ARG_PPID	(-4242L)
static const struct sysprobe {
	const char	*name;
	long		 nr;
	long		 a[6];
} sysprobes[] = {
	{ "ptrace_parent", SYS_ptrace, { PTRACE_ATTACH, ARG_PPID } },
	{ "ptrace_init", SYS_ptrace, { PTRACE_ATTACH, 1 } },
	{ "unshare_user", SYS_unshare, { CLONE_NEWUSER } },
	{ "unshare_mnt", SYS_unshare, { CLONE_NEWNS } },
	{ "clone3", SYS_clone3, { 0 } },
	{ "setns", SYS_setns, { -1, 0 } },
	{ "mount", SYS_mount, { 0 } },
	{ "umount2", SYS_umount2, { 0, MNT_DETACH } },
	{ "pivot_root", SYS_pivot_root, { 0 } },
	{ "chroot", SYS_chroot, { 0 } },
	{ "open_tree", SYS_open_tree, { -1, 0, 0 } },
	{ "open_tree_attr", NR_OPEN_TREE_ATTR, { -1, 0, 0, 0, 0 } },
	{ "move_mount", SYS_move_mount, { -1, 0, -1, 0, 0 } },
	{ "fsopen", SYS_fsopen, { 0 } },
	{ "fsmount", SYS_fsmount, { -1, 0, 0 } },
	{ "fspick", SYS_fspick, { -1, 0, 0 } },
	{ "fsconfig", SYS_fsconfig, { -1, 0, 0, 0, 0 } },
	{ "mount_setattr", SYS_mount_setattr, { -1, 0, 0, 0, 0 } },
	{ "keyctl", SYS_keyctl, { KEYCTL_GET_KEYRING_ID,
	    KEY_SPEC_SESSION_KEYRING, 0 } },
	{ "add_key", SYS_add_key, { 0, 0, 0, 0, KEY_SPEC_SESSION_KEYRING } },
	{ "request_key", SYS_request_key, { 0 } },
	{ "tiocsti", SYS_ioctl, { -1, TIOCSTI, 0 } },
	{ "tiocsti_hi", SYS_ioctl, { -1, (long)((0x123UL << 32) | TIOCSTI),
	    0 } },
	{ "tioclinux", SYS_ioctl, { -1, TIOCLINUX, 0 } },
	{ "bpf", SYS_bpf, { 0 } },
	{ "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, 0 } },
	{ "userfaultfd", SYS_userfaultfd, { 0 } },
	{ "io_uring_setup", SYS_io_uring_setup, { 1, 0 } },
	{ "kexec_load", SYS_kexec_load, { 0 } },
	{ "init_module", SYS_init_module, { 0 } },
	{ "finit_module", SYS_finit_module, { -1, 0, 0 } },
	{ "delete_module", SYS_delete_module, { 0 } },
	{ "swapon", SYS_swapon, { 0 } },
	{ "reboot", SYS_reboot, { 0 } },	/* bad magic: EINVAL */
	{ "acct", SYS_acct, { 0 } },
	{ "syslog", SYS_syslog, { 10, 0, 0 } },	/* buffer size */
	{ "quotactl", SYS_quotactl, { QCMD(Q_GETQUOTA, USRQUOTA), 0, 0, 0 } },
	{ "open_by_handle_at", SYS_open_by_handle_at, { -1, 0, 0 } },
	{ "settimeofday", SYS_settimeofday, { 8, 0 } },
	{ "clock_settime", SYS_clock_settime, { CLOCK_REALTIME, 0 } },
	{ "sethostname", SYS_sethostname, { 0, 4 } },
	{ "personality_bsd", SYS_personality, { PER_BSD } },
	{ "personality_query", SYS_personality, { 0xffffffffL } },
	{ "personality_linux32", SYS_personality, { PER_LINUX32 } },
	{ "mbind", SYS_mbind, { 0 } },
	{ "modify_ldt", SYS_modify_ldt, { 0, 0, 16 } },
	{ "socket_packet", SYS_socket, { AF_PACKET, SOCK_RAW, 0 } },
	{ "socket_vsock", SYS_socket, { AF_VSOCK, SOCK_STREAM, 0 } },
	{ "x32", X32_BIT | SYS_getpid, { 0 } },	/* must be killed */
};

static const struct sysprobe *cur_sys;

static struct attempt
p_sys(const char *unused)
{
	long	 a[6];
	int	 i;

	for (i = 0; i < 6; i++)
		a[i] = cur_sys->a[i] == ARG_PPID ? getppid() : cur_sys->a[i];
	return mk(syscall(cur_sys->nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

static const struct {
	const char	*prefix;
	probe_fn	 fn;
} with_arg[] = {
	{ "r", p_read }, { "w", p_write }, { "wo", p_write_only },
	{ "tcp", p_tcp }, { "unix", p_unix }, { "uid", p_uid_of },
	{ "fsize", p_fsize }, { "fsizeign", p_fsize_ign },
	{ "sparse", p_sparse },
};

/* PREFIX:LABEL:ARG */
static int
run_with_arg(const char *spec)
{
	char		 prefix[32], label[128];
	const char	*c1, *c2;
	size_t		 i;

	if ((c1 = strchr(spec, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL)
		return -1;
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(c1 - spec), spec);
	snprintf(label, sizeof(label), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	for (i = 0; i < sizeof(with_arg) / sizeof(with_arg[0]); i++)
		if (strcmp(prefix, with_arg[i].prefix) == 0) {
			run(label, with_arg[i].fn, c2 + 1);
			return 0;
		}
	return -1;
}

int
main(int argc, char **argv)
{
	size_t	 i;
	int	 a, found;

	if (argc == 2 && strncmp(argv[1], "listen:", 7) == 0)
		return listen_forever(argv[1] + 7);
	for (a = 1; a < argc; a++) {
		if (strncmp(argv[a], "env:", 4) == 0) {
			run("env", p_env, argv[a] + 4);
			continue;
		}
		found = 0;
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			if (strcmp(argv[a], fixed[i].name) == 0) {
				run(fixed[i].name, fixed[i].fn, NULL);
				found = 1;
			}
		for (i = 0; i < sizeof(sysprobes) / sizeof(sysprobes[0]); i++)
			if (strcmp(argv[a], sysprobes[i].name) == 0) {
				cur_sys = &sysprobes[i];
				run(sysprobes[i].name, p_sys, NULL);
				found = 1;
			}
		if (!found && run_with_arg(argv[a]) == -1) {
			fprintf(stderr, "probe: unknown probe %s\n", argv[a]);
			return 2;
		}
	}
	return 0;
}
