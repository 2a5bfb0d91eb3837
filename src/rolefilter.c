/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * rolefilter.c: the seccomp allow-lists of the role processes
 * (rolefilter.h): the deny list, the base list every libevent role
 * needs, the http role's list, and the loader.
 *
 * The base list was measured with strace on the http role (libevent
 * 2.1 epoll backend, glibc 2.36, OpenSSL 3 HMAC, yajl) and is kept to
 * what that needs; a role that needs more adds it to its own list.
 *
 * Trust: constants only.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <seccomp.h>

#include "rolefilter.h"

/* Never needed by a role; a call means compromise: kill. */
static const struct rf_rule deny_rules[] = {
	RF_KILL("execve"), RF_KILL("execveat"),
	RF_KILL("ptrace"), RF_KILL("process_vm_readv"),
	RF_KILL("process_vm_writev"), RF_KILL("kcmp"),
	RF_KILL("mount"), RF_KILL("umount2"), RF_KILL("pivot_root"),
	RF_KILL("chroot"), RF_KILL("unshare"), RF_KILL("setns"),
	RF_KILL("open_tree"), RF_KILL("move_mount"), RF_KILL("fsopen"),
	RF_KILL("fsconfig"), RF_KILL("fsmount"), RF_KILL("fspick"),
	RF_KILL("mount_setattr"), RF_KILL("name_to_handle_at"),
	RF_KILL("open_by_handle_at"),
	RF_KILL("bpf"), RF_KILL("perf_event_open"), RF_KILL("userfaultfd"),
	RF_KILL("kexec_load"), RF_KILL("kexec_file_load"),
	RF_KILL("init_module"), RF_KILL("finit_module"),
	RF_KILL("delete_module"),
	RF_KILL("keyctl"), RF_KILL("add_key"), RF_KILL("request_key"),
	RF_KILL("io_uring_setup"), RF_KILL("io_uring_enter"),
	RF_KILL("io_uring_register"),
	RF_KILL("iopl"), RF_KILL("ioperm"), RF_KILL("modify_ldt"),
	RF_KILL("swapon"), RF_KILL("swapoff"), RF_KILL("reboot"),
	RF_KILL("settimeofday"), RF_KILL("clock_settime"),
	RF_KILL("clock_adjtime"), RF_KILL("adjtimex"), RF_KILL("acct"),
	RF_KILL("quotactl"), RF_KILL("syslog"), RF_KILL("personality"),
	RF_KILL("uselib"), RF_KILL("vhangup"), RF_KILL("lookup_dcookie"),
	RF_KILL("setuid"), RF_KILL("setgid"), RF_KILL("setreuid"),
	RF_KILL("setregid"), RF_KILL("setresuid"), RF_KILL("setresgid"),
	RF_KILL("setgroups"), RF_KILL("setfsuid"), RF_KILL("setfsgid"),
	RF_KILL("capset"),
};
const struct rf_list rolefilter_deny = RF_LIST("deny", deny_rules);

/* The event loop, the parent channel, memory, clocks, signals. */
static const struct rf_rule base_rules[] = {
	RF_ALLOW("read"), RF_ALLOW("readv"), RF_ALLOW("write"),
	RF_ALLOW("writev"), RF_ALLOW("recvmsg"), RF_ALLOW("recvfrom"),
	RF_ALLOW("sendmsg"), RF_ALLOW("sendto"), RF_ALLOW("close"),
	RF_ALLOW("epoll_create1"), RF_ALLOW("epoll_ctl"),
	RF_ALLOW("epoll_wait"), RF_ALLOW("epoll_pwait"),
	RF_ALLOW("epoll_pwait2"), RF_ALLOW("poll"), RF_ALLOW("ppoll"),
	RF_ALLOW_EQ32("fcntl", 1, F_GETFL), RF_ALLOW_EQ32("fcntl", 1, F_SETFL),
	RF_ALLOW_EQ32("fcntl", 1, F_GETFD), RF_ALLOW_EQ32("fcntl", 1, F_SETFD),
	RF_ALLOW_EQ32("fcntl", 1, F_DUPFD_CLOEXEC),
	RF_ALLOW("clock_gettime"), RF_ALLOW("clock_getres"),
	RF_ALLOW("gettimeofday"), RF_ALLOW("time"),
	RF_ALLOW("brk"), RF_ALLOW("munmap"), RF_ALLOW("mremap"),
	RF_ALLOW("madvise"),
	RF_ALLOW_MASKED("mmap", 2, PROT_EXEC, 0),
	RF_ALLOW_MASKED("mprotect", 2, PROT_EXEC, 0),
	RF_ALLOW("futex"), RF_ALLOW("getrandom"),
	RF_ALLOW("fstat"), RF_ALLOW("newfstatat"),
	RF_ALLOW("rt_sigreturn"), RF_ALLOW("rt_sigprocmask"),
	RF_ALLOW("restart_syscall"),
	RF_ALLOW("getpid"), RF_ALLOW("gettid"), RF_ALLOW("getppid"),
	RF_ALLOW("tgkill"),		/* abort() */
	RF_ALLOW("exit"), RF_ALLOW("exit_group"),
};
const struct rf_list rolefilter_base = RF_LIST("base", base_rules);

/* http: accept and serve connections on listeners the parent opened. */
static const struct rf_rule http_rules[] = {
	RF_ALLOW("accept4"), RF_ALLOW("accept"), RF_ALLOW("shutdown"),
	RF_ALLOW("getsockname"), RF_ALLOW("getpeername"),
	RF_ALLOW("getsockopt"),
	RF_ALLOW_EQ32("ioctl", 1, FIONREAD),	/* evbuffer_read */
	RF_KILL("fork"), RF_KILL("vfork"), RF_KILL("clone"),
	RF_KILL("clone3"),
};
const struct rf_list rolefilter_http = RF_LIST("http", http_rules);

static int
add_rule(scmp_filter_ctx ctx, const char *list, const struct rf_rule *r,
    struct buf *err)
{
	uint32_t	 act;
	int		 nr, rc;

	/* a syscall this architecture does not have: nothing to allow */
	if ((nr = seccomp_syscall_resolve_name(r->name)) < 0)
		return 0;
	act = r->action == RF_ACT_ALLOW ? SCMP_ACT_ALLOW :
	    r->action == RF_ACT_KILL ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_ERRNO((uint32_t)r->err);
	switch (r->cmp) {
	case RF_EQ:
		rc = seccomp_rule_add(ctx, act, nr, 1,
		    SCMP_CMP(r->arg, SCMP_CMP_EQ, r->a));
		break;
	case RF_EQ32:
		rc = seccomp_rule_add(ctx, act, nr, 1,
		    SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, r->a));
		break;
	case RF_MASKED:
		rc = seccomp_rule_add(ctx, act, nr, 1,
		    SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->a, r->b));
		break;
	default:
		rc = seccomp_rule_add(ctx, act, nr, 0);
		break;
	}
	if (rc < 0)
		return errf(err, "seccomp: %s list: rule for %s: %s", list,
		    r->name, strerror(-rc));
	return 0;
}

/* libseccomp keeps one of two contradicting actions without a word, so
 * a role list may not loosen the deny list. */
static int
denied(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(deny_rules); i++)
		if (strcmp(deny_rules[i].name, name) == 0)
			return 1;
	return 0;
}

static int
add_list(scmp_filter_ctx ctx, const struct rf_list *l, struct buf *err)
{
	size_t	 i;

	for (i = 0; i < l->nrules; i++) {
		if (l != &rolefilter_deny && l->rules[i].action !=
		    RF_ACT_KILL && denied(l->rules[i].name))
			return errf(err, "seccomp: %s list: rule for %s: the "
			    "deny list kills it", l->name, l->rules[i].name);
		if (add_rule(ctx, l->name, &l->rules[i], err) == -1)
			return -1;
	}
	return 0;
}

int
rolefilter_install(const struct rf_list *const *lists, size_t n,
    struct buf *err)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc = -1, r;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		return errf(err, "seccomp_init failed");
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0) {
		errf(err, "seccomp: bad-arch action: %s", strerror(-r));
		goto out;
	}
	if (add_list(ctx, &rolefilter_deny, err) == -1 ||
	    add_list(ctx, &rolefilter_base, err) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (lists[i] != NULL && add_list(ctx, lists[i], err) == -1)
			goto out;
	if ((r = seccomp_load(ctx)) < 0) {
		errf(err, "seccomp_load: %s", strerror(-r));
		goto out;
	}
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
