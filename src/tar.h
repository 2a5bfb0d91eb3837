/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tar.h: the canonical PSD-009 tar writer (BEHAVIOUR.md §3.13): ustar
 * headers with fixed metadata, the ustar prefix split for long ASCII
 * names, PAX records where ustar cannot carry a name, target or size,
 * and the two-block trailer.  Bytes go to a sink callback, so a package
 * streams through SHA-256 and zstd and is never held whole in memory.
 *
 * Every entry gets mode 0777, uid/gid 0, owner/group "root", the same
 * whole-second mtime.  An entry gets a PAX extended header (typeflag 'x',
 * records sorted by key: linkpath < path < size) when its path is
 * non-ASCII or longer than 100 bytes and cannot be split, its link
 * target is non-ASCII or longer than 100 bytes, or a file is 8 GiB or
 * larger.  No global headers, no mtime/atime records.
 *
 * Trust: names and targets come from build output; they are written
 * verbatim into fixed-size fields with bounds checked here.  Callers
 * validate path syntax (identity.h) before writing.
 */
#ifndef PM_TAR_H
#define PM_TAR_H

#include <stdint.h>

#include "util.h"

#define TAR_BLOCK	512
#define TAR_MTIME_MAX	077777777777LL	/* 11 octal digits (year 2242) */

typedef int (*tar_sink_fn)(void *arg, const void *, size_t, struct buf *err);

struct tar_writer {
	tar_sink_fn	 sink;
	void		*arg;
	int64_t		 mtime;		/* whole seconds for every entry */
	uint64_t	 offset;	/* bytes written so far */
	uint64_t	 remaining;	/* content bytes still due for a file */
	uint64_t	 filesize;
};

/* mtime must be within [0, TAR_MTIME_MAX]; tar_add_* fail otherwise. */
void	 tar_init(struct tar_writer *, tar_sink_fn, void *, int64_t mtime);
/* Directory `path` must end in '/'. */
int	 tar_add_dir(struct tar_writer *, const char *path, struct buf *err);
int	 tar_add_symlink(struct tar_writer *, const char *path,
	    const char *target, struct buf *err);
/* A regular file: header, then exactly `size` bytes of tar_write_data. */
int	 tar_begin_file(struct tar_writer *, const char *path, uint64_t size,
	    struct buf *err);
int	 tar_write_data(struct tar_writer *, const void *, size_t,
	    struct buf *err);
int	 tar_add_file_mem(struct tar_writer *, const char *path, const void *,
	    size_t, struct buf *err);
/* Account for n content bytes without writing them (a sizing pass whose
 * sink only counts: it is called with a NULL buffer). */
int	 tar_skip_data(struct tar_writer *, uint64_t, struct buf *err);
/* The two all-zero trailer blocks. */
int	 tar_finish(struct tar_writer *, struct buf *err);

/*
 * Exposed for tests and the reader: the ustar prefix split of `path`
 * (Go archive/tar splitUSTARPath); returns 1 and the index of the
 * splitting '/' when the path can be split, else 0.
 */
int	 tar_split_ustar(const char *path, size_t *slash);
/* Append one PAX record "<len> <key>=<value>\n". */
void	 tar_pax_record(struct buf *, const char *key, const char *value);
/* Header checksum of a 512-byte block, chksum field counted as spaces. */
unsigned tar_checksum(const unsigned char *block);

#endif /* PM_TAR_H */
