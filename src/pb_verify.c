/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pb_verify.c: `peipkg-build verify FILE --key PUB [--key PUB]...
 * [--allow-unsigned]`: the consumer's full package verification
 * (pkgread.h) with the given public keys (raw 32 bytes or PEM "PUBLIC
 * KEY") as the trust set.  Prints "OK" and exits 0, or
 * "peipkg-build: <reason>" and exits 1.  Flags may come before or after
 * FILE.
 *
 * Trust: the package is hostile; key files are operator input.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "peipkg-build.h"
#include "pkgread.h"

static int	 load_keys(const struct cf_multi *, uint8_t (**)[32],
		    struct buf *);
static int	 parse_args(struct cf_set *, int, char **, char **);

static int
load_keys(const struct cf_multi *paths, uint8_t (**keys)[32],
    struct buf *err)
{
	struct buf	 data = BUF_INIT, e = BUF_INIT;
	size_t		 i;
	int		 rc = 0;

	*keys = xcalloc(paths->n, sizeof(**keys));
	for (i = 0; i < paths->n && rc == 0; i++) {
		buf_reset(&data);
		if (read_file(paths->v[i], KEY_FILE_MAX, &data, err) == -1)
			rc = -1;
		else if (pubkey_parse(data.data, data.len, (*keys)[i],
		    &e) == -1)
			rc = errf(err, "--key %s: %s", paths->v[i],
			    buf_str(&e));
	}
	buf_free(&data);
	buf_free(&e);
	return rc;
}

/* The flags, before and after the one package file; -1 once told. */
static int
parse_args(struct cf_set *set, int argc, char **argv, char **file)
{
	*file = NULL;
	for (;;) {
		if (pb_flags(set, argc, argv) == -1)
			return -1;
		if (set->nargs == 0)
			break;
		if (*file != NULL) {
			cf_usage(set, stderr);
			pb_failf("verify: unexpected argument \"%s\"",
			    set->args[0]);
			return -1;
		}
		*file = set->args[0];
		argc = set->nargs - 1;
		argv = set->args + 1;
	}
	if (*file == NULL) {
		cf_usage(set, stderr);
		pb_failf("verify: a package file is required");
		return -1;
	}
	return 0;
}

int
cmd_verify(int argc, char **argv)
{
	struct cf_multi		 keypaths = { NULL, 0 };
	struct pkg_verify_opts	 o;
	struct pkg_info		 info;
	struct buf		 err = BUF_INIT;
	uint8_t			(*keys)[32] = NULL;
	char			*file;
	int			 allow_unsigned = 0, rc = 1;
	struct cf_flag		 flags[] = {
		{ "key", CF_MULTI, &keypaths, "trusted public key `file` (raw "
		    "32 bytes or PEM; repeatable)", 0, 0 },
		{ "allow-unsigned", CF_BOOL, &allow_unsigned,
		    "accept a package without a signature", 0, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "verify", flags, NULL, 0 };

	memset(&info, 0, sizeof(info));
	if (parse_args(&set, argc - 1, argv + 1, &file) == -1)
		goto out;
	if (keypaths.n == 0 && !allow_unsigned) {
		pb_required(&set, "key");
		goto out;
	}
	if (load_keys(&keypaths, &keys, &err) == -1) {
		pb_fail(&err);
		goto out;
	}
	pkg_verify_opts_init(&o);
	o.keys = (const uint8_t (*)[32])keys;
	o.nkeys = keypaths.n;
	o.allow_unsigned = allow_unsigned;
	if (pkg_verify_file(file, &o, &info, &err) == -1) {
		pb_fail(&err);
		goto out;
	}
	printf("OK\n");
	rc = fflush(stdout) == 0 ? 0 : pb_failf("stdout: write failed");
 out:
	pkg_info_free(&info);
	cf_multi_free(&keypaths);
	free(keys);
	buf_free(&err);
	return rc;
}
