/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * peipkg-build.h: the subcommands of peipkg-build and the error/exit
 * conventions they share (BEHAVIOUR.md §2.5): every error after the
 * subcommand is chosen prints "peipkg-build: <message>" on stderr and
 * exits 1.  A subcommand gets argv with argv[0] = its own name and
 * returns the exit status.
 */
#ifndef PM_PEIPKG_BUILD_H
#define PM_PEIPKG_BUILD_H

#include "cliflags.h"
#include "util.h"

#define PB_PROG		"peipkg-build"

/*
 * Print "peipkg-build: <first line>" and each further line indented by
 * two spaces (unless it already starts with a blank); returns 1.
 */
int	 pb_fail(const struct buf *);
int	 pb_failf(const char *, ...) PM_PRINTF(1, 2);
/* Flags in Go syntax; prints Go's error and usage; -1 means exit 1. */
int	 pb_flags(struct cf_set *, int argc, char **argv);
/* "<flag> is required" after the usage, as the reference does; 1. */
int	 pb_required(const struct cf_set *, const char *flag);

int	 cmd_pack(int, char **);		/* pb_pack.c */
int	 cmd_verify(int, char **);		/* pb_verify.c */
#ifdef HAVE_PB_BUILD
int	 cmd_build(int, char **);		/* pb_build.c */
int	 cmd_binary_sign(int, char **);		/* pb_binsign.c */
#endif

#endif /* PM_PEIPKG_BUILD_H */
