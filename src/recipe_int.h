/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * recipe_int.h: what recipe.c (decoding) shares with recipe_check.c
 * (the packer's and the consumer's rules); not for other modules.
 *
 * Trust: as recipe.c: operator files.
 */
#ifndef PM_RECIPE_INT_H
#define PM_RECIPE_INT_H

#include <stddef.h>

#include "recipe.h"
#include "tdec.h"

/* The three dependency-shaped arrays of a [[package]]. */
enum { DEP_DEPS, DEP_OPT, DEP_CONFLICTS, DEP_NUM };
extern const char *const recipe_dep_keys[DEP_NUM];

/* Where [meta] and its keys are, for messages after decoding. */
struct meta_pos {
	int	 meta[2];
	int	 homepage[2];
	int	 build_script[2];
};

/* Array `which` (DEP_*) of a package and, in *n, its length. */
struct recipe_dep **recipe_dep_slot(const struct recipe_package *, int which,
	    size_t *n);
/*
 * The packer's rules in the reference order (build_script, packages,
 * names, architectures, duplicates, dependency names), then [meta], the
 * consumer's manifest rules per package and [[sign]]: every violation is
 * one tdec_report().  Cleans build_script and the [[sign]] paths.
 */
void	 recipe_check(struct recipe *, struct tdec *,
	    const struct meta_pos *);

#endif /* PM_RECIPE_INT_H */
