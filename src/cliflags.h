/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * cliflags.h: Go `flag` package syntax for the subcommands of
 * peipkg-build and peipkg-repo (BEHAVIOUR.md §2.5): -flag value,
 * --flag value, -flag=value, --flag=value; boolean flags take no value
 * (or -flag=true/false); "--" ends the flags; parsing stops at the first
 * argument that is not a flag; a string flag given twice keeps the last
 * value, a CF_MULTI flag collects every value.  Error texts are Go's
 * ("flag provided but not defined: -x", "flag needs an argument: -x").
 *
 * Trust: argv of an operator-run tool.
 */
#ifndef PM_CLIFLAGS_H
#define PM_CLIFLAGS_H

#include <stdio.h>

#include "util.h"

enum cf_kind {
	CF_STR = 1,		/* ptr: char ** (points into argv) */
	CF_BOOL = 2,		/* ptr: int * */
	CF_INT = 3,		/* ptr: long long *; Go ParseInt(s, 0, 64) */
	CF_MULTI = 4		/* ptr: struct cf_multi * */
};

struct cf_multi {
	char	**v;		/* point into argv */
	size_t	 n;
};

struct cf_flag {
	const char	*name;		/* without dashes; NULL ends a table */
	enum cf_kind	 kind;
	void		*ptr;
	const char	*usage;		/* a `quoted` word names the value */
	int		 hidden;	/* left out of the usage text */
	int		 set;		/* out: how many times given */
};

struct cf_set {
	const char	*name;		/* "pack": "Usage of pack:" */
	struct cf_flag	*flags;
	char		**args;		/* out: arguments after the flags */
	int		 nargs;
};

#define CF_ERROR	(-1)
#define CF_HELP		(-2)	/* -h, -help or --help given */

/*
 * Parse argv[0..argc) (no program or subcommand name).  Returns 0, or
 * CF_ERROR with Go's message in err, or CF_HELP.
 */
int	 cf_parse(struct cf_set *, int argc, char **argv, struct buf *err);
/* "Usage of <name>:" and Go's PrintDefaults layout. */
void	 cf_usage(const struct cf_set *, FILE *);
/*
 * cf_parse() plus Go's ContinueOnError output on stderr: the message (not
 * for help) and the usage.  Returns 0, or -1 with the message in err
 * ("flag: help requested" for help).
 */
int	 cf_parse_report(struct cf_set *, int argc, char **argv,
	    struct buf *err);
/* The flag named `name` in the set (NULL if none). */
struct cf_flag *cf_lookup(const struct cf_set *, const char *name);
void	 cf_multi_free(struct cf_multi *);

#endif /* PM_CLIFLAGS_H */
