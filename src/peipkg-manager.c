/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * peipkg-manager.c: main(); command line, mode and role selection.
 * Runs privileged; parses only operator files and its own arguments.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int
main(int argc, char *argv[])
{
	log_init("main", LL_INFO, LOG_TARGET_AUTO);
	if (argc > 1 && (!strcmp(argv[1], "--version")))
		printf("peipkg-manager %s\n", PACKAGE_VERSION);
	return 0;
}
