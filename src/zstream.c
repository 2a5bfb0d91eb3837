/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * zstream.c: zstd streams over file descriptors (libzstd).  The
 * decompressor handles untrusted input: output is capped and every
 * libzstd error is reported, never trusted.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "log.h"
#include "zstream.h"

struct zout {
	ZSTD_CCtx	*cctx;
	int		 fd;
	void		*obuf;
	size_t		 osize;
	uint64_t	 written;
	ztap_fn		 tap;
	void		*tap_arg;
};

struct zin {
	ZSTD_DCtx	*dctx;
	int		 fd;
	void		*ibuf;
	size_t		 isize;
	ZSTD_inBuffer	 in;
	uint64_t	 total;
	uint64_t	 limit;
	uint64_t	 compressed;
	ztap_fn		 tap;
	void		*tap_arg;
	int		 eof;		/* no more input from fd */
	int		 frame_open;	/* inside an unfinished frame */
	int		 any;		/* at least one frame started */
};

struct zout *
zout_new(int fd, int level, int workers, struct buf *err)
{
	struct zout	*z;
	size_t		 r;

	if (level < 1 || level > ZSTD_maxCLevel()) {
		errf(err, "zstd: level %d is not between 1 and %d", level,
		    ZSTD_maxCLevel());
		return NULL;
	}
	if (workers < 1 || workers > ZOUT_MAX_WORKERS) {
		errf(err, "zstd: %d workers is not between 1 and %d", workers,
		    ZOUT_MAX_WORKERS);
		return NULL;
	}
	z = xcalloc(1, sizeof(*z));
	z->fd = fd;
	z->osize = ZSTD_CStreamOutSize();
	z->obuf = xmalloc(z->osize);
	if ((z->cctx = ZSTD_createCCtx()) == NULL)
		fatalx("zstd: cannot create a compression context");
	/*
	 * Multi-threaded mode even for one worker: its output depends on
	 * the parameters only, never on the worker count.
	 */
	if (ZSTD_isError(r = ZSTD_CCtx_setParameter(z->cctx,
	    ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(r = ZSTD_CCtx_setParameter(z->cctx,
	    ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(r = ZSTD_CCtx_setParameter(z->cctx,
	    ZSTD_c_nbWorkers, workers))) {
		errf(err, "zstd: %s", ZSTD_getErrorName(r));
		zout_free(z);
		return NULL;
	}
	return z;
}

void
zout_set_tap(struct zout *z, ztap_fn fn, void *arg)
{
	z->tap = fn;
	z->tap_arg = arg;
}

static int
zout_flush_out(struct zout *z, ZSTD_outBuffer *out, struct buf *err)
{
	if (out->pos == 0)
		return 0;
	if (write_full(z->fd, out->dst, out->pos) == -1)
		return errf(err, "write: %s", strerror(errno));
	if (z->tap != NULL)
		z->tap(z->tap_arg, out->dst, out->pos);
	z->written += out->pos;
	out->pos = 0;
	return 0;
}

static int
zout_stream(struct zout *z, const void *p, size_t n, ZSTD_EndDirective mode,
    struct buf *err)
{
	ZSTD_inBuffer	 in = { p, n, 0 };
	ZSTD_outBuffer	 out = { z->obuf, z->osize, 0 };
	size_t		 left;

	for (;;) {
		left = ZSTD_compressStream2(z->cctx, &out, &in, mode);
		if (ZSTD_isError(left))
			return errf(err, "zstd: %s", ZSTD_getErrorName(left));
		if (zout_flush_out(z, &out, err) == -1)
			return -1;
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int
zout_pledge(struct zout *z, uint64_t size, struct buf *err)
{
	size_t	 r;

	r = ZSTD_CCtx_setPledgedSrcSize(z->cctx, size);
	if (ZSTD_isError(r))
		return errf(err, "zstd: %s", ZSTD_getErrorName(r));
	return 0;
}

int
zout_write(struct zout *z, const void *p, size_t n, struct buf *err)
{
	return n == 0 ? 0 : zout_stream(z, p, n, ZSTD_e_continue, err);
}

int
zout_sink(void *arg, const void *p, size_t n, struct buf *err)
{
	return zout_write(arg, p, n, err);
}

int
zout_finish(struct zout *z, uint64_t *written, struct buf *err)
{
	if (zout_stream(z, NULL, 0, ZSTD_e_end, err) == -1)
		return -1;
	if (written != NULL)
		*written = z->written;
	return 0;
}

void
zout_free(struct zout *z)
{
	if (z == NULL)
		return;
	ZSTD_freeCCtx(z->cctx);
	free(z->obuf);
	free(z);
}

struct zin *
zin_new(int fd, uint64_t limit, struct buf *err)
{
	struct zin	*z;

	z = xcalloc(1, sizeof(*z));
	z->fd = fd;
	z->limit = limit;
	z->isize = ZSTD_DStreamInSize();
	z->ibuf = xmalloc(z->isize);
	z->in.src = z->ibuf;
	if ((z->dctx = ZSTD_createDCtx()) == NULL)
		fatalx("zstd: cannot create a decompression context");
	return z;
}

void
zin_set_tap(struct zin *z, ztap_fn fn, void *arg)
{
	z->tap = fn;
	z->tap_arg = arg;
}

uint64_t
zin_compressed(const struct zin *z)
{
	return z->compressed;
}

void
zin_set_limit(struct zin *z, uint64_t limit)
{
	z->limit = limit;
}

uint64_t
zin_total(const struct zin *z)
{
	return z->total;
}

static int
zin_fill(struct zin *z, struct buf *err)
{
	ssize_t	 n;

	if (z->in.pos < z->in.size || z->eof)
		return 0;
	do
		n = read(z->fd, z->ibuf, z->isize);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errf(err, "read: %s", strerror(errno));
	z->in.size = (size_t)n;
	z->in.pos = 0;
	z->compressed += (uint64_t)n;
	if (n > 0 && z->tap != NULL)
		z->tap(z->tap_arg, z->ibuf, (size_t)n);
	if (n == 0)
		z->eof = 1;
	return 0;
}

ssize_t
zin_read(struct zin *z, void *p, size_t n, struct buf *err)
{
	ZSTD_outBuffer	 out = { p, n, 0 };
	size_t		 r;

	while (n > 0) {
		if (zin_fill(z, err) == -1)
			return -1;
		if (z->in.pos == z->in.size && z->eof && !z->frame_open) {
			if (!z->any)
				return errf(err, "zstd: empty stream");
			break;
		}
		r = ZSTD_decompressStream(z->dctx, &out, &z->in);
		if (ZSTD_isError(r))
			return errf(err, "zstd: %s", ZSTD_getErrorName(r));
		z->any = 1;
		z->frame_open = r != 0;
		if (out.pos > 0)
			break;
		if (z->in.pos == z->in.size && z->eof && z->frame_open)
			return errf(err, "zstd: truncated stream");
	}
	z->total += out.pos;
	if (z->total > z->limit)
		return errf(err, "decompressed size exceeds the %llu-byte limit",
		    (unsigned long long)z->limit);
	return (ssize_t)out.pos;
}

int
zin_read_full(struct zin *z, void *p, size_t n, struct buf *err)
{
	size_t	 got = 0;
	ssize_t	 r;

	while (got < n) {
		if ((r = zin_read(z, (char *)p + got, n - got, err)) == -1)
			return -1;
		if (r == 0)
			return errf(err, "unexpected end of the archive");
		got += (size_t)r;
	}
	return 0;
}

void
zin_free(struct zin *z)
{
	if (z == NULL)
		return;
	ZSTD_freeDCtx(z->dctx);
	free(z->ibuf);
	free(z);
}
