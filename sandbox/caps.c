/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * caps.c: drop every capability of the calling process with libcap and
 * set no_new_privs, so that nothing the build execs (setuid binaries,
 * file capabilities) can gain privilege.  The sandbox's init calls it
 * after its own set-up and build.sh's process calls it again before
 * seccomp (the second call finds nothing left to drop).
 *
 * Trust: runs inside the sandbox before build.sh; sees no input.
 */
#include "config.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <linux/securebits.h>

#include <errno.h>
#include <string.h>

#include "caps.h"

static int	 drop_bounding(struct buf *);
static int	 check_empty(struct buf *);

int
caps_lock_securebits(struct buf *err)
{
	unsigned	 bits;

	bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
	    SECBIT_KEEP_CAPS_LOCKED |
	    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (cap_set_secbits(bits) == -1)
		return errf(err, "sandbox: set securebits: %s",
		    strerror(errno));
	return 0;
}

int
caps_drop_all(struct buf *err)
{
	cap_t	 none;
	int	 rc;

	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	if (drop_bounding(err) == -1)
		return -1;
	if (cap_reset_ambient() == -1)
		return errf(err, "sandbox: clear ambient capabilities: %s",
		    strerror(errno));
	if ((none = cap_init()) == NULL)
		return errf(err, "sandbox: cap_init: %s", strerror(errno));
	rc = cap_set_proc(none);
	cap_free(none);
	if (rc == -1)
		return errf(err, "sandbox: clear capabilities: %s",
		    strerror(errno));
	if (check_empty(err) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return errf(err, "sandbox: no_new_privs: %s", strerror(errno));
	return 0;
}

static int
drop_bounding(struct buf *err)
{
	cap_value_t	 c;
	int		 in;

	/* cap_get_bound() is -1 past the last capability the kernel has. */
	for (c = 0; (in = cap_get_bound(c)) != -1; c++)
		if (in && cap_drop_bound(c) == -1)
			return errf(err, "sandbox: drop capability %d from the "
			    "bounding set: %s", (int)c, strerror(errno));
	return 0;
}

/* Trust but verify: every set, including ambient and bounding, empty. */
static int
check_empty(struct buf *err)
{
	cap_t		 now, none;
	cap_value_t	 c;
	int		 differ;

	if ((now = cap_get_proc()) == NULL)
		return errf(err, "sandbox: cap_get_proc: %s", strerror(errno));
	none = cap_init();
	differ = none == NULL || cap_compare(now, none) != 0;
	cap_free(now);
	cap_free(none);
	for (c = 0; !differ && CAP_IS_SUPPORTED(c); c++)
		if (cap_get_bound(c) != 0 || cap_get_ambient(c) != 0)
			differ = 1;
	if (differ)
		return errf(err, "sandbox: capabilities remain after the drop");
	return 0;
}
