/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * zstream.h: streaming zstd compression into a file descriptor and
 * bounded streaming decompression from one.
 *
 * Compression always runs libzstd's multi-threaded streaming mode (at
 * least one worker) so the bytes are identical whatever the thread count.
 * Decompression accepts any standard frames (concatenated too) and stops
 * with an error once the output would exceed the caller's limit.
 * Trust: the decompressor reads untrusted packages.
 */
#ifndef PM_ZSTREAM_H
#define PM_ZSTREAM_H

#include <stdint.h>

#include "util.h"

/*
 * Level 19 by default: on 60 MB of Debian binaries it gave 28.6 MB in
 * 40 s per thread (level 15: 32.0 MB/13 s, 9: 32.2 MB/1.7 s, 3: 35.8 MB/
 * 0.6 s).  Packages are compressed once and fetched many times; large
 * ones get more workers, which does not change the bytes.
 */
#define ZOUT_DEFAULT_LEVEL	19
#define ZOUT_MAX_WORKERS	64

struct zout;
struct zin;

/* Sees every compressed byte (written or read), e.g. to hash the file. */
typedef void (*ztap_fn)(void *arg, const void *, size_t);

/* level 1-22 (ZSTD_maxCLevel()), workers 1-ZOUT_MAX_WORKERS. */
struct zout *zout_new(int fd, int level, int workers, struct buf *err);
void	 zout_set_tap(struct zout *, ztap_fn, void *);
/* Declare the exact input size before the first write: libzstd then sizes
 * its tables to the input (small packages stay cheap) and records the
 * size in the frame header.  Deterministic like everything else. */
int	 zout_pledge(struct zout *, uint64_t, struct buf *err);
int	 zout_write(struct zout *, const void *, size_t, struct buf *err);
/* Finish the frame and flush; returns compressed bytes written. */
int	 zout_finish(struct zout *, uint64_t *written, struct buf *err);
void	 zout_free(struct zout *);
/* A tar_sink_fn-compatible adapter: arg is the struct zout *. */
int	 zout_sink(void *, const void *, size_t, struct buf *err);

struct zin *zin_new(int fd, uint64_t limit, struct buf *err);
void	 zin_set_tap(struct zin *, ztap_fn, void *);
void	 zin_set_limit(struct zin *, uint64_t);
/* Fill exactly n bytes; -1 on error, truncation or limit; 0 on success. */
int	 zin_read_full(struct zin *, void *, size_t, struct buf *err);
/* Read up to n bytes; returns bytes (0 = end of data) or -1. */
ssize_t	 zin_read(struct zin *, void *, size_t, struct buf *err);
uint64_t zin_total(const struct zin *);		/* decompressed so far */
uint64_t zin_compressed(const struct zin *);	/* read from fd so far */
void	 zin_free(struct zin *);

#endif /* PM_ZSTREAM_H */
