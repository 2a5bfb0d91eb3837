/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pack.h: the deterministic .peipkg packer (BEHAVIOUR.md §3.10-3.16 with
 * the consumer's rules, CONSUMER.md §2.3).
 *
 * The caller gives a manifest, a directory fd for the staged tree and the
 * payload entries; pack_write_*() validates every path (identity.h),
 * hashes every file into files.json, validates the manifest with the
 * consumer's rules plus whole-second "Z" timestamps, then streams the
 * tar (manifest.json, files.json, payload sorted by on-wire name -
 * directories with their '/' - and the signature) through SHA-256 and
 * zstd.  Files are hashed twice; a file whose size, type or content
 * changed in between fails the pack.
 *
 * Trust: the staged tree is build output (hostile).  Every path is
 * opened component by component with O_NOFOLLOW below the root fd, so no
 * symlink is ever followed, in or out of the tree; devices, FIFOs and
 * sockets are refused without being opened.
 */
#ifndef PM_PACK_H
#define PM_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "util.h"

struct signer;

#define PACK_MAX_ENTRIES	100000		/* payload entries */
#define PACK_MAX_BYTES		(2ULL << 30)	/* sum of file sizes */
#define PACK_MAX_DEPTH		256		/* directory walk depth */

enum pack_type {
	PACK_FILE = 1,
	PACK_DIR = 2,
	PACK_SYMLINK = 3
};

struct pack_entry {
	char		*path;	/* relative to the root, no trailing '/' */
	enum pack_type	 type;
};

struct pack_list {
	struct pack_entry *v;
	size_t		 n;
	size_t		 cap;
};

struct pack_opts {
	int		 level;		/* zstd level (ZOUT_DEFAULT_LEVEL) */
	int		 workers;	/* zstd workers >= 1; bytes identical */
	struct signer	*signer;	/* NULL: unsigned package */
	uint64_t	 max_entries;	/* PACK_MAX_ENTRIES */
	uint64_t	 max_bytes;	/* PACK_MAX_BYTES */
	/*
	 * Optional: called after files.json is complete ("hashed") and
	 * after the last byte is written ("written"); for progress logs,
	 * and tests that change the tree between the two passes.
	 */
	void		(*progress)(void *, const char *stage);
	void		*progress_arg;
};

struct pack_result {
	uint64_t	 tar_size;
	uint64_t	 size_compressed;
	uint8_t		 sha256[32];	/* of the compressed file */
	uint64_t	 size_installed;
	size_t		 nentries;	/* payload entries */
	uint64_t	 signed_bytes;	/* signature header offset; 0 unsigned */
};

void	 pack_opts_init(struct pack_opts *);

void	 pack_list_add(struct pack_list *, const char *path, enum pack_type);
void	 pack_list_free(struct pack_list *);
/* Add a directory entry for every ancestor of every entry not yet listed. */
void	 pack_list_add_ancestors(struct pack_list *);

/*
 * The payload rule of `peipkg-build pack` (vectors README "Payload
 * rule"): every regular file and symlink under rootfd, every ancestor
 * directory of those, plus the `ndirs` explicit directory claims (a
 * trailing '/' is allowed); empty directories are dropped.  A device,
 * FIFO or socket is an error naming its path.  Bounded by
 * opts->max_entries and PACK_MAX_DEPTH.
 */
int	 pack_collect(int rootfd, const char *const *dirs, size_t ndirs,
	    const struct pack_opts *, struct pack_list *, struct buf *err);

/*
 * Pack into `outfd` (written from its current offset, not synced).
 * Sets mf->size_installed.  The manifest must already be sorted
 * (manifest_sort).  `res` may be NULL.
 */
int	 pack_write_fd(struct manifest *, int rootfd, const struct pack_list *,
	    const struct pack_opts *, int outfd, struct pack_result *,
	    struct buf *err);
/*
 * Pack into the file `path`: a temporary file in the same directory,
 * fsynced, renamed over `path`, directory fsynced.  Mode 0644.  On any
 * failure nothing is left behind.
 */
int	 pack_write_file(struct manifest *, int rootfd,
	    const struct pack_list *, const struct pack_opts *,
	    const char *path, struct pack_result *, struct buf *err);

#endif /* PM_PACK_H */
