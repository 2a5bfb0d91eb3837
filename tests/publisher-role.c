/*
 * publisher-role.c: runs the publisher role exactly as `peipkg-manager
 * -P publisher` does (channel on fd 3, configuration from the parent),
 * for tests/integ/publisher-role.sh.  No test hooks.
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "publisher.h"
#include "role.h"

int
main(int argc, char *argv[])
{
	struct role_opts	 o;

	memset(&o, 0, sizeof(o));
	log_init("publisher", LL_DEBUG, LOG_TARGET_STDERR);
	o.level = LL_DEBUG;
	o.target = LOG_TARGET_STDERR;
	return publisher_run(&o);
}
