/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fuzz_toml.c: libFuzzer harness for the TOML parser.  Every input must
 * either parse (and free) cleanly or fail with exactly one error line.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_table	*t;
	struct buf		 err = BUF_INIT;

	t = toml_parse((const char *)data, size, "fuzz.toml", &err);
	/* Exactly one of: a tree, or one "fuzz.toml:L:C: msg" line. */
	if ((t == NULL) == (err.len == 0))
		abort();
	if (t == NULL && (strncmp(err.data, "fuzz.toml:", 10) != 0 ||
	    strchr(err.data, '\n') != NULL))
		abort();
	toml_free(t);
	buf_free(&err);
	return 0;
}
