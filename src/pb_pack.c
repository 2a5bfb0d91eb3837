/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pb_pack.c: `peipkg-build pack --manifest PATH --staged DIR --out FILE
 * [--sign-key PATH] [--dir PATH]... [--zstd-level N]`: one .peipkg from a
 * resolved manifest and a staged tree (BEHAVIOUR.md §3.17), with the
 * consumer's rules: the manifest is validated (CONSUMER.md P7), the
 * dependency-like lists are sorted and must be unique, the timestamp
 * must be whole seconds ending in 'Z', payload paths are checked and
 * sorted by on-wire name.  --dir claims a directory explicitly (kept
 * even when empty).  Hidden: --zstd-workers N (output bytes do not
 * depend on it; default min(4, online CPUs)).
 *
 * Trust: the manifest and key are operator files; the staged tree is
 * build output (see pack.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "manifest.h"
#include "pack.h"
#include "peipkg-build.h"
#include "pkgread.h"
#include "sign.h"
#include "zstream.h"

struct pack_args {
	char		*manifest;
	char		*staged;
	char		*out;
	char		*sign_key;
	struct cf_multi	 dirs;
	long long	 level;
	long long	 workers;
};

static int	 load_manifest(const char *, struct manifest *, struct buf *);
static int	 run(struct pack_args *, struct buf *);

static int
load_manifest(const char *path, struct manifest *mf, struct buf *err)
{
	struct buf	 data = BUF_INIT, e = BUF_INIT;
	int		 rc = -1;

	manifest_init(mf);
	if (read_file(path, PKG_MAX_MANIFEST, &data, err) == -1)
		goto out;
	manifest_free(mf);
	if (manifest_parse(data.data, data.len, MF_LENIENT, mf, &e) == -1) {
		errf(err, "manifest %s: %s", path, buf_str(&e));
		goto out;
	}
	if (manifest_sort(mf, &e) == -1 ||
	    manifest_validate(mf, MF_PRODUCER, &e) == -1) {
		errf(err, "manifest %s is not acceptable to the consumer:\n%s",
		    path, buf_str(&e));
		goto out;
	}
	rc = 0;
 out:
	buf_free(&data);
	buf_free(&e);
	return rc;
}

static int
run(struct pack_args *a, struct buf *err)
{
	struct manifest		 mf;
	struct pack_opts	 o;
	struct pack_list	 l = { NULL, 0, 0 };
	struct pm_key		 key;
	struct buf		 e = BUF_INIT;
	int			 rootfd = -1, have_key = 0, rc = -1;

	pack_opts_init(&o);
	o.level = (int)a->level;
	o.workers = (int)a->workers;
	memset(&key, 0, sizeof(key));
	if (load_manifest(a->manifest, &mf, err) == -1)
		goto out;
	if (a->sign_key != NULL) {
		if (key_load_file(a->sign_key, &key, err) == -1)
			goto out;
		have_key = 1;
		o.signer = signer_local_new(&key);
	}
	if ((rootfd = open(a->staged, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		errf(err, "staged tree %s: %s", a->staged, strerror(errno));
		goto out;
	}
	if (pack_collect(rootfd, (const char *const *)a->dirs.v, a->dirs.n,
	    &o, &l, &e) == -1) {
		errf(err, "walk staged tree: %s", buf_str(&e));
		goto out;
	}
	if (pack_write_file(&mf, rootfd, &l, &o, a->out, NULL, &e) == -1) {
		errf(err, "pack %s: %s", a->out, buf_str(&e));
		goto out;
	}
	rc = 0;
 out:
	if (rootfd != -1)
		close(rootfd);
	if (o.signer != NULL)
		signer_local_free(o.signer);
	if (have_key)
		key_free(&key);
	pack_list_free(&l);
	manifest_free(&mf);
	buf_free(&e);
	return rc;
}

static long long
default_workers(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : n;
}

int
cmd_pack(int argc, char **argv)
{
	struct pack_args	 a;
	struct buf		 err = BUF_INIT;
	struct cf_flag		 flags[] = {
		{ "manifest", CF_STR, &a.manifest,
		    "resolved manifest.json `path`", 0, 0 },
		{ "staged", CF_STR, &a.staged,
		    "staged tree `directory` (every file and symlink is "
		    "packed)", 0, 0 },
		{ "out", CF_STR, &a.out, "output .peipkg `file`", 0, 0 },
		{ "sign-key", CF_STR, &a.sign_key,
		    "Ed25519 private key `path` (raw 32-byte seed or PKCS#8 "
		    "PEM); omit for an unsigned package", 0, 0 },
		{ "dir", CF_MULTI, &a.dirs,
		    "claim the staged `directory` explicitly (repeatable; "
		    "kept even when empty)", 0, 0 },
		{ "zstd-level", CF_INT, &a.level, "zstd compression level",
		    0, 0 },
		{ "zstd-workers", CF_INT, &a.workers, "zstd worker threads",
		    1, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "pack", flags, NULL, 0 };
	int			 rc = 1;

	memset(&a, 0, sizeof(a));
	a.level = ZOUT_DEFAULT_LEVEL;
	a.workers = default_workers();
	if (pb_flags(&set, argc - 1, argv + 1) == -1)
		goto out;
	if (set.nargs > 0) {
		cf_usage(&set, stderr);
		rc = pb_failf("pack: unexpected argument \"%s\"", set.args[0]);
		goto out;
	}
	if (a.manifest == NULL || *a.manifest == '\0')
		rc = pb_required(&set, "manifest");
	else if (a.staged == NULL || *a.staged == '\0')
		rc = pb_required(&set, "staged");
	else if (a.out == NULL || *a.out == '\0')
		rc = pb_required(&set, "out");
	else if (a.level < 1 || a.level > 22)
		rc = pb_failf("--zstd-level %lld: must be 1-22", a.level);
	else if (a.workers < 1 || a.workers > ZOUT_MAX_WORKERS)
		rc = pb_failf("--zstd-workers %lld: must be 1-%d", a.workers,
		    ZOUT_MAX_WORKERS);
	else if (run(&a, &err) == -1)
		rc = pb_fail(&err);
	else
		rc = 0;
 out:
	cf_multi_free(&a.dirs);
	buf_free(&err);
	return rc;
}
