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

#define ZOUT_DEFAULT_LEVEL	19

struct zout;
struct zin;

struct zout *zout_new(int fd, int level, int workers, struct buf *err);
int	 zout_write(struct zout *, const void *, size_t, struct buf *err);
/* Finish the frame and flush; returns compressed bytes written. */
int	 zout_finish(struct zout *, uint64_t *written, struct buf *err);
void	 zout_free(struct zout *);
/* A tar_sink_fn-compatible adapter: arg is the struct zout *. */
int	 zout_sink(void *, const void *, size_t, struct buf *err);

struct zin *zin_new(int fd, uint64_t limit, struct buf *err);
void	 zin_set_limit(struct zin *, uint64_t);
/* Fill exactly n bytes; -1 on error, truncation or limit; 0 on success. */
int	 zin_read_full(struct zin *, void *, size_t, struct buf *err);
/* Read up to n bytes; returns bytes (0 = end of data) or -1. */
ssize_t	 zin_read(struct zin *, void *, size_t, struct buf *err);
uint64_t zin_total(const struct zin *);
void	 zin_free(struct zin *);

#endif /* PM_ZSTREAM_H */
