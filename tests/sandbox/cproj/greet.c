/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * greet.c: second translation unit of the sandbox test project.
 */
#include "greet.h"

const char *
greet_text(void)
{
	return "built inside the peipkg sandbox";
}
