/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sbxfilter.c: the seccomp filter build.sh runs under.
 *
 * A deny-list with default allow (RELIABILITY.md §3.4, the Flatpak-style
 * fallback while recipes are onboarded): denied calls fail with EPERM, or
 * ENOSYS where libc should fall back, so a build fails with a readable
 * error; only a foreign architecture (i386 via int 0x80) or an x32 call
 * kills the process.  libseccomp adds the x32 check itself when x32 is
 * not one of the filter's architectures.  Syscalls newer than this
 * libseccomp (it cannot name them, so they cannot be judged) get ENOSYS:
 * open_tree_attr, listmount and friends on a recent kernel.
 *
 * Argument filters look only at the low 32 bits where the kernel does
 * (ioctl command, socket domain, personality), so setting high bits
 * cannot slip past them (CVE-2019-10063).  libseccomp compares one
 * argument once per rule, so "anything but these values" is written as
 * aligned blocks, each one masked comparison.
 *
 * Trust: the filter is built from constants; the caller is trusted.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <linux/sched.h>	/* CLONE_*: src/sched.h shadows <sched.h> */
#include <stdlib.h>
#include <string.h>

#include "sbxfilter.h"

#define LOW32		0xffffffffULL
#define NR_SWEEP	512	/* native syscall numbers checked for names */

struct deny {
	const char	*name;
	int		 err;
};

static int	 deny_names(scmp_filter_ctx, const struct deny *, size_t,
		    struct buf *);
static int	 deny_unknown(scmp_filter_ctx, struct buf *);
static int	 deny_args(scmp_filter_ctx, struct buf *);
static int	 deny_except(scmp_filter_ctx, uint32_t, const char *,
		    unsigned int, const uint32_t *, size_t, struct buf *);
static int	 deny_blocks(scmp_filter_ctx, uint32_t, int, unsigned int,
		    uint64_t, uint64_t, struct buf *);
static int	 rule(scmp_filter_ctx, uint32_t, int, unsigned int,
		    const struct scmp_arg_cmp *, struct buf *);

static const struct deny deny_table[] = {
	/* no nested namespaces, no changes to the file-system view */
	{ "unshare", EPERM }, { "setns", EPERM }, { "clone3", ENOSYS },
	{ "mount", EPERM }, { "umount", EPERM }, { "umount2", EPERM },
	{ "pivot_root", EPERM }, { "chroot", EPERM },
	{ "open_tree", ENOSYS }, { "move_mount", ENOSYS },
	{ "fsopen", ENOSYS }, { "fsconfig", ENOSYS }, { "fsmount", ENOSYS },
	{ "fspick", ENOSYS }, { "mount_setattr", ENOSYS },
	/* kernel keyrings are not namespaced */
	{ "add_key", EPERM }, { "keyctl", EPERM }, { "request_key", EPERM },
	/* cross-process introspection (ptrace is added unless opted in) */
	{ "process_vm_readv", EPERM }, { "process_vm_writev", EPERM },
	{ "kcmp", EPERM }, { "pidfd_getfd", EPERM },
	{ "process_madvise", EPERM },
	/* large attack surface */
	{ "perf_event_open", EPERM }, { "bpf", EPERM },
	{ "userfaultfd", EPERM }, { "lookup_dcookie", EPERM },
	{ "fanotify_init", EPERM },
	{ "io_uring_setup", ENOSYS }, { "io_uring_enter", ENOSYS },
	{ "io_uring_register", ENOSYS },
	/* host administration */
	{ "init_module", EPERM }, { "finit_module", EPERM },
	{ "delete_module", EPERM }, { "kexec_load", EPERM },
	{ "kexec_file_load", EPERM }, { "reboot", EPERM },
	{ "swapon", EPERM }, { "swapoff", EPERM }, { "acct", EPERM },
	{ "quotactl", EPERM }, { "quotactl_fd", EPERM },
	{ "syslog", EPERM }, { "iopl", EPERM }, { "ioperm", EPERM },
	{ "vhangup", EPERM }, { "uselib", EPERM }, { "nfsservctl", EPERM },
	{ "_sysctl", EPERM },
	/* clock and host name */
	{ "settimeofday", EPERM }, { "clock_settime", EPERM },
	{ "clock_adjtime", EPERM }, { "adjtimex", EPERM },
	{ "stime", EPERM }, { "sethostname", EPERM },
	{ "setdomainname", EPERM },
	/* handle-based opens bypass the mount view */
	{ "open_by_handle_at", EPERM }, { "name_to_handle_at", EPERM },
	/* NUMA and page migration */
	{ "mbind", EPERM }, { "set_mempolicy", EPERM },
	{ "set_mempolicy_home_node", EPERM }, { "migrate_pages", EPERM },
	{ "move_pages", EPERM },
	/* CPU emulation */
	{ "modify_ldt", EPERM }, { "vm86", EPERM }, { "vm86old", EPERM },
};

static const struct deny deny_ptrace[] = { { "ptrace", EPERM } };

/* personality(2) values a build may use: Docker's and Flatpak's list. */
static const uint32_t personality_ok[] = {
	0x0, 0x8, 0x20000, 0x20008, 0xffffffff
};
/* AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (getifaddrs, AI_ADDRCONFIG). */
static const uint32_t domain_ok[] = { 1, 2, 10, 16 };

/* Every CLONE_NEW* flag clone(2) takes. */
static const uint64_t clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET
};

scmp_filter_ctx
sbxfilter_build(int allow_ptrace, struct buf *err)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		errf(err, "sandbox: seccomp_init failed");
		return NULL;
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) != 0) {
		errf(err, "sandbox: seccomp attributes: %s", strerror(-rc));
		goto fail;
	}
	if (deny_names(ctx, deny_table, nitems(deny_table), err) == -1 ||
	    (!allow_ptrace && deny_names(ctx, deny_ptrace,
	    nitems(deny_ptrace), err) == -1) ||
	    deny_args(ctx, err) == -1 || deny_unknown(ctx, err) == -1)
		goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

int
sbxfilter_install(scmp_filter_ctx ctx, struct buf *err)
{
	int	 rc;

	if ((rc = seccomp_load(ctx)) != 0)
		return errf(err, "sandbox: load seccomp filter: %s",
		    strerror(-rc));
	return 0;
}

/* Names this architecture lacks (vm86 on x86-64) are skipped. */
static int
deny_names(scmp_filter_ctx ctx, const struct deny *d, size_t n,
    struct buf *err)
{
	size_t	 i;
	int	 nr;

	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(d[i].name);
		if (nr < 0)
			continue;
		if (rule(ctx, SCMP_ACT_ERRNO(d[i].err), nr, 0, NULL, err) == -1)
			return -1;
	}
	return 0;
}

static int
deny_unknown(scmp_filter_ctx ctx, struct buf *err)
{
	char	*name;
	int	 nr;

	for (nr = 0; nr < NR_SWEEP; nr++) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		free(name);
		if (name != NULL)
			continue;
		if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0, NULL, err) == -1)
			return -1;
	}
	return 0;
}

static int
deny_args(scmp_filter_ctx ctx, struct buf *err)
{
	struct scmp_arg_cmp c;
	size_t		 i;
	int		 nr;

	nr = seccomp_syscall_resolve_name("clone");
	for (i = 0; i < nitems(clone_ns_flags); i++) {
		c = (struct scmp_arg_cmp){ 0, SCMP_CMP_MASKED_EQ,
		    clone_ns_flags[i], clone_ns_flags[i] };
		if (rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &c, err) == -1)
			return -1;
	}
	nr = seccomp_syscall_resolve_name("ioctl");
	c = (struct scmp_arg_cmp){ 1, SCMP_CMP_MASKED_EQ, LOW32, TIOCSTI };
	if (rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &c, err) == -1)
		return -1;
	c = (struct scmp_arg_cmp){ 1, SCMP_CMP_MASKED_EQ, LOW32, TIOCLINUX };
	if (rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &c, err) == -1)
		return -1;
	if (deny_except(ctx, SCMP_ACT_ERRNO(EPERM), "personality", 0,
	    personality_ok, nitems(personality_ok), err) == -1 ||
	    deny_except(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 0,
	    domain_ok, nitems(domain_ok), err) == -1 ||
	    deny_except(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", 0,
	    domain_ok, nitems(domain_ok), err) == -1)
		return -1;
	return 0;
}

/* Deny `arg` (low 32 bits) outside the sorted list `ok`. */
static int
deny_except(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int arg, const uint32_t *ok, size_t n, struct buf *err)
{
	uint64_t lo = 0, end;
	size_t	 i;
	int	 nr;

	if ((nr = seccomp_syscall_resolve_name(name)) < 0)
		return 0;
	for (i = 0; i <= n; i++) {
		end = i < n ? ok[i] : LOW32 + 1;
		if (deny_blocks(ctx, action, nr, arg, lo, end, err) == -1)
			return -1;
		lo = end + 1;
	}
	return 0;
}

/* Cover [lo, end) with aligned power-of-two blocks, one rule each. */
static int
deny_blocks(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int arg,
    uint64_t lo, uint64_t end, struct buf *err)
{
	struct scmp_arg_cmp c;
	uint64_t	 size;

	while (lo < end) {
		size = 1;
		while (size <= LOW32 && (lo & (2 * size - 1)) == 0 &&
		    lo + 2 * size <= end)
			size *= 2;
		c = (struct scmp_arg_cmp){ arg, SCMP_CMP_MASKED_EQ,
		    ~(size - 1) & LOW32, lo };
		if (rule(ctx, action, nr, 1, &c, err) == -1)
			return -1;
		lo += size;
	}
	return 0;
}

static int
rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int ncmp,
    const struct scmp_arg_cmp *c, struct buf *err)
{
	char	*name;
	int	 rc;

	if ((rc = seccomp_rule_add_array(ctx, action, nr, ncmp, c)) == 0)
		return 0;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	errf(err, "sandbox: seccomp rule for %s (%d): %s",
	    name != NULL ? name : "?", nr, strerror(-rc));
	free(name);
	return -1;
}
