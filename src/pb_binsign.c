/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pb_binsign.c: `peipkg-build binary-sign --in ELF --key PATH`: embed a
 * binary signature in one ELF64 file in place (BEHAVIOUR.md §3.5), the
 * same way a build signs its [[sign]] paths.  Prints nothing on success.
 * The file must not be a symlink (name the file itself).
 *
 * Trust: operator command line and key; the ELF file may come from
 * anywhere and is parsed defensively (elfsign.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "elfsign.h"
#include "peipkg-build.h"
#include "sign.h"

#define CLI_KEY_NAME	"binary-sign"

static int	 sign_one(const char *, const char *, struct buf *);

static int
sign_one(const char *in, const char *keypath, struct buf *err)
{
	struct pm_key	 key;
	struct signer	*s = NULL;
	struct buf	 e = BUF_INIT;
	char		*dir, *slash;
	const char	*base;
	int		 dfd = -1, have_key = 0, rc = -1;

	dir = xstrdup(in);
	if ((slash = strrchr(dir, '/')) == NULL) {
		base = in;
		free(dir);
		dir = xstrdup(".");
	} else {
		base = in + (slash - dir) + 1;
		*slash = '\0';
		if (dir[0] == '\0')
			dir[0] = '/', dir[1] = '\0';
	}
	if (key_load_file(keypath, &key, &e) == -1) {
		errf(err, "--key: %s", buf_str(&e));
		goto out;
	}
	have_key = 1;
	s = signer_local_new(NULL);
	if (signer_local_add_key(s, CLI_KEY_NAME, &key, err) == -1)
		goto out;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		errf(err, "sign %s: not a file name", in);
	else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		errf(err, "sign %s: %s: %s", in, dir, strerror(errno));
	else if (elfsign_file(dfd, base, s, CLI_KEY_NAME, in, &e) == -1)
		errf(err, "sign %s: %s", in, buf_str(&e));
	else
		rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	if (have_key)
		key_free(&key);
	signer_local_free(s);
	buf_free(&e);
	free(dir);
	return rc;
}

int
cmd_binary_sign(int argc, char **argv)
{
	struct buf	 err = BUF_INIT;
	char		*in = NULL, *key = NULL;
	struct cf_flag	 flags[] = {
		{ "in", CF_STR, &in, "ELF `file` to sign in place", 0, 0 },
		{ "key", CF_STR, &key, "Ed25519 private key `path` (raw "
		    "32-byte seed or PKCS#8 PEM)", 0, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set	 set = { "binary-sign", flags, NULL, 0 };
	int		 rc = 1;

	if (pb_flags(&set, argc - 1, argv + 1) == -1)
		;
	else if (set.nargs > 0) {
		cf_usage(&set, stderr);
		rc = pb_failf("binary-sign: unexpected argument \"%s\"",
		    set.args[0]);
	} else if (in == NULL || *in == '\0')
		rc = pb_required(&set, "in");
	else if (key == NULL || *key == '\0')
		rc = pb_required(&set, "key");
	else if (sign_one(in, key, &err) == -1)
		rc = pb_fail(&err);
	else
		rc = 0;
	buf_free(&err);
	return rc;
}
