/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * hello.c: a tiny C program the sandbox tests build with the host
 * toolchain inside the build sandbox.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define PACKAGE_STRING "cproj (plain make)"
#endif

#include <stdio.h>

#include "greet.h"

int
main(void)
{
	printf("%s: %s\n", PACKAGE_STRING, greet_text());
	return 0;
}
