/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * rolefilter.h: seccomp allow-lists for the unprivileged role processes
 * (http, poller, signer, publisher), built with libseccomp.
 *
 * The filter of a role is:
 *	- a foreign architecture (i386 int 0x80, x32): kill the process;
 *	- rolefilter_deny (namespaces, mounts, ptrace, exec, kernel
 *	  modules, bpf, keyrings, io_uring, ...): kill the process;
 *	- rolefilter_base (what every libevent role needs: the event loop,
 *	  the parent channel, malloc, clocks) and the role's own list:
 *	  allowed, possibly only for some argument values;
 *	- anything else: fails with EPERM.
 * mmap and mprotect are allowed only without PROT_EXEC.
 *
 * A role author writes a list next to the role, e.g.
 *
 *	static const struct rf_rule poller_rules[] = {
 *		RF_ALLOW("connect"),
 *		RF_ALLOW_EQ("socket", 0, AF_INET),
 *		RF_ALLOW_EQ("socket", 0, AF_INET6),
 *		RF_KILL("fork"),
 *	};
 *	const struct rf_list rolefilter_poller = RF_LIST("poller",
 *	    poller_rules);
 *
 * and names it in its struct role_def (role.h); role_run() installs
 * base + deny + that list after dropping privileges.  Several rules for
 * one syscall are alternatives; a syscall may not be both killed and
 * allowed.  Names unknown to this architecture's syscall table are
 * skipped (epoll_wait does not exist on arm64, for example).  Argument
 * comparisons use the low 32 bits where the kernel does (ioctl
 * requests), so high bits cannot slip past them.
 *
 * Trust: the lists are constants; no untrusted input.
 */
#ifndef PM_ROLEFILTER_H
#define PM_ROLEFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum rf_action {
	RF_ACT_ALLOW = 0,
	RF_ACT_KILL = 1,	/* SIGSYS, the whole process */
	RF_ACT_ERRNO = 2	/* fail with rule.err */
};

enum rf_cmp {
	RF_ANY = 0,		/* no argument condition */
	RF_EQ = 1,		/* arg == a */
	RF_MASKED = 2,		/* (arg & a) == b */
	RF_EQ32 = 3		/* (arg & 0xffffffff) == a */
};

struct rf_rule {
	const char	*name;
	enum rf_action	 action;
	int		 err;
	enum rf_cmp	 cmp;
	unsigned	 arg;		/* argument index, 0-5 */
	uint64_t	 a;
	uint64_t	 b;
};

#define RF_ALLOW(n)		{ (n), RF_ACT_ALLOW, 0, RF_ANY, 0, 0, 0 }
#define RF_ALLOW_EQ(n, i, v)	{ (n), RF_ACT_ALLOW, 0, RF_EQ, (i), (v), 0 }
#define RF_ALLOW_EQ32(n, i, v)	{ (n), RF_ACT_ALLOW, 0, RF_EQ32, (i), (v), 0 }
#define RF_ALLOW_MASKED(n, i, m, v) \
	{ (n), RF_ACT_ALLOW, 0, RF_MASKED, (i), (m), (v) }
#define RF_KILL(n)		{ (n), RF_ACT_KILL, 0, RF_ANY, 0, 0, 0 }
#define RF_ERRNO(n, e)		{ (n), RF_ACT_ERRNO, (e), RF_ANY, 0, 0, 0 }

struct rf_list {
	const char		*name;
	const struct rf_rule	*rules;
	size_t			 nrules;
};

#define RF_LIST(name, rules)	{ (name), (rules), nitems(rules) }

extern const struct rf_list rolefilter_base;
extern const struct rf_list rolefilter_deny;
extern const struct rf_list rolefilter_http;

/*
 * Build and load the filter: deny + base + the given lists (NULL
 * entries are skipped).  The caller has set PR_SET_NO_NEW_PRIVS
 * (proc_drop_privileges does).  -1 with the failing rule in err; the
 * process is then unfiltered and must exit.
 */
int	 rolefilter_install(const struct rf_list *const *lists, size_t n,
	    struct buf *err);

#endif /* PM_ROLEFILTER_H */
