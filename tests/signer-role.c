/*
 * signer-role.c: runs the signer role exactly as `peipkg-manager -P
 * signer` does (channel on fd 3, configuration from the parent), for
 * tests/integ/signer-role.sh.  One test hook, honoured only here:
 * PEIPKG_TEST_PROBE_OPEN=<path> makes the role try open(<path>) right
 * after its sandbox is in place and log the result (INFO "test probe
 * open" errno=<n>; errno 0 means the open succeeded).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "role.h"
#include "signer_policy.h"

static void
probe_open(void)
{
	const char	*path = getenv("PEIPKG_TEST_PROBE_OPEN");
	int		 fd, e = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		e = errno;
	else
		close(fd);
	log_event(LL_INFO, "test probe open", LKV_S("path", path),
	    LKV_I("errno", e));
}

int
main(int argc, char *argv[])
{
	struct role_opts	 o;

	memset(&o, 0, sizeof(o));
	log_init("signer", LL_DEBUG, LOG_TARGET_STDERR);
	o.level = LL_DEBUG;
	o.target = LOG_TARGET_STDERR;
	if (getenv("PEIPKG_TEST_PROBE_OPEN") != NULL)
		o.after_sandbox = probe_open;
	return signer_run(&o);
}
