/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tar.c: canonical tar writer for .peipkg archives.  Reproduces the
 * header bytes of the reference producer (BEHAVIOUR.md §3.13), which the
 * golden vectors pin byte for byte.  Trust: paths and link targets come
 * from untrusted build output and are only copied into bounded fields.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tar.h"

#define NAME_LEN	100
#define PREFIX_LEN	155
#define OCTAL_SIZE_MAX	077777777777ULL	/* 11 octal digits */

enum { TYPE_FILE = '0', TYPE_SYMLINK = '2', TYPE_DIR = '5', TYPE_PAX = 'x' };

/* What goes into one 512-byte header block. */
struct hdr {
	char		 name[NAME_LEN];	/* NUL-padded field bytes */
	char		 link[NAME_LEN];
	char		 prefix[PREFIX_LEN];
	uint64_t	 size;
	int64_t		 mtime;
	int		 type;
	int		 pax;		/* extended-header block layout */
};

static int	 is_ascii(const char *);
static void	 put_octal(unsigned char *, size_t, uint64_t);
static int	 emit(struct tar_writer *, const void *, size_t, struct buf *);
static int	 emit_header(struct tar_writer *, const struct hdr *,
		    struct buf *);
static void	 field_copy(char *, size_t, const char *);
static void	 field_ascii(char *, const char *);
static char	*pax_name(const char *);
static int	 pad(struct tar_writer *, uint64_t, struct buf *);
static int	 emit_pax(struct tar_writer *, const char *, const char *,
		    uint64_t, struct buf *);
static int	 add_entry(struct tar_writer *, int, const char *,
		    const char *, uint64_t, struct buf *);

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* len-1 zero-padded octal digits and a NUL. */
static void
put_octal(unsigned char *field, size_t len, uint64_t v)
{
	size_t	 i;

	for (i = len - 1; i > 0; i--) {
		field[i - 1] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
	field[len - 1] = '\0';
}

static int
emit(struct tar_writer *tw, const void *p, size_t n, struct buf *err)
{
	if (n > 0 && tw->sink(tw->arg, p, n, err) == -1)
		return -1;
	tw->offset += n;
	return 0;
}

unsigned
tar_checksum(const unsigned char *b)
{
	unsigned	 sum = 0;
	size_t		 i;

	for (i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	return sum;
}

static int
emit_header(struct tar_writer *tw, const struct hdr *h, struct buf *err)
{
	unsigned char	 b[TAR_BLOCK];

	memset(b, 0, sizeof(b));
	memcpy(b, h->name, NAME_LEN);
	put_octal(b + 100, 8, h->pax ? 0 : 0777);
	put_octal(b + 108, 8, 0);
	put_octal(b + 116, 8, 0);
	put_octal(b + 124, 12, h->size);
	put_octal(b + 136, 12, h->pax ? 0 : (uint64_t)h->mtime);
	b[156] = (unsigned char)h->type;
	memcpy(b + 157, h->link, NAME_LEN);
	memcpy(b + 257, "ustar\0" "00", 8);
	if (!h->pax) {
		memcpy(b + 265, "root", 4);
		memcpy(b + 297, "root", 4);
		put_octal(b + 329, 8, 0);
		put_octal(b + 337, 8, 0);
	}
	memcpy(b + 345, h->prefix, PREFIX_LEN);
	put_octal(b + 148, 7, tar_checksum(b));
	b[155] = ' ';
	return emit(tw, b, sizeof(b), err);
}

/* Go archive/tar splitUSTARPath. */
int
tar_split_ustar(const char *path, size_t *slash)
{
	size_t	 len = strlen(path), lim, i;

	if (len <= NAME_LEN || !is_ascii(path))
		return 0;
	if (len > PREFIX_LEN + 1)
		lim = PREFIX_LEN + 1;
	else
		lim = path[len - 1] == '/' ? len - 1 : len;
	for (i = lim; i > 0 && path[i - 1] != '/'; i--)
		;
	if (i <= 1)
		return 0;	/* no '/', or only at index 0 */
	i--;
	if (len - i - 1 == 0 || len - i - 1 > NAME_LEN || i > PREFIX_LEN)
		return 0;
	*slash = i;
	return 1;
}

/* Copy a string that fits into a NUL-padded field. */
static void
field_copy(char *field, size_t len, const char *s)
{
	memset(field, 0, len);
	memcpy(field, s, strlen(s));
}

/*
 * The ustar name or link field of an entry that has a PAX header: the
 * value with non-ASCII bytes dropped, cut to 100 bytes; when it was cut
 * and byte 99 is '/', the first '/' of that trailing run becomes NUL
 * (Go's formatString, which guards readers that take a trailing '/' in
 * the name of a regular file for a directory).
 */
static void
field_ascii(char *field, const char *s)
{
	size_t	 n = 0, full = 0, i;

	memset(field, 0, NAME_LEN);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			continue;
		if (n < NAME_LEN)
			field[n++] = *s;
		full++;
	}
	if (full > NAME_LEN && field[NAME_LEN - 1] == '/') {
		for (i = NAME_LEN - 1; i > 0 && field[i - 1] == '/'; i--)
			;
		field[i] = '\0';
	}
}

/*
 * The extended header's own name: "<dir>/PaxHeaders.0/<base>" (for a
 * directory "a/b/": "a/b/PaxHeaders.0"), non-ASCII dropped, cut to 100
 * bytes, trailing '/' removed.
 */
static char *
pax_name(const char *path)
{
	struct buf	 b = BUF_INIT;
	const char	*slash, *s;
	char		*out;
	size_t		 n;

	if ((slash = strrchr(path, '/')) != NULL) {
		buf_add(&b, path, (size_t)(slash - path));
		buf_adds(&b, "/PaxHeaders.0");
		if (slash[1] != '\0')
			buf_adds(&b, slash);
	} else {
		buf_adds(&b, "PaxHeaders.0/");
		buf_adds(&b, path);
	}
	out = xcalloc(1, NAME_LEN + 1);
	for (n = 0, s = b.data; *s != '\0' && n < NAME_LEN; s++)
		if ((unsigned char)*s < 0x80)
			out[n++] = *s;
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	buf_free(&b);
	return out;
}

void
tar_pax_record(struct buf *b, const char *key, const char *val)
{
	size_t	 base = strlen(key) + strlen(val) + 3, len, d;
	char	 tmp[32];

	d = (size_t)snprintf(tmp, sizeof(tmp), "%zu", base);
	len = base + d;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%zu", len) != d)
		len++;		/* adding the digits added a digit */
	buf_addf(b, "%zu %s=%s\n", len, key, val);
}

static int
pad(struct tar_writer *tw, uint64_t size, struct buf *err)
{
	static const char	 zero[TAR_BLOCK];
	size_t			 rem = (size_t)(size % TAR_BLOCK);

	return rem == 0 ? 0 : emit(tw, zero, TAR_BLOCK - rem, err);
}

/* Records in key order: linkpath, path, size. */
static int
emit_pax(struct tar_writer *tw, const char *path, const char *target,
    uint64_t size, struct buf *err)
{
	struct hdr	 h;
	struct buf	 rec = BUF_INIT;
	char		*pn, num[32];
	int		 rc = -1;

	if (target != NULL && (!is_ascii(target) || strlen(target) > NAME_LEN))
		tar_pax_record(&rec, "linkpath", target);
	if (!is_ascii(path) || strlen(path) > NAME_LEN)
		tar_pax_record(&rec, "path", path);
	if (size > OCTAL_SIZE_MAX) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		tar_pax_record(&rec, "size", num);
	}
	memset(&h, 0, sizeof(h));
	pn = pax_name(path);
	field_copy(h.name, NAME_LEN, pn);
	h.size = rec.len;
	h.type = TYPE_PAX;
	h.pax = 1;
	if (emit_header(tw, &h, err) == 0 &&
	    emit(tw, rec.data, rec.len, err) == 0 &&
	    pad(tw, rec.len, err) == 0)
		rc = 0;
	free(pn);
	buf_free(&rec);
	return rc;
}

static int
add_entry(struct tar_writer *tw, int type, const char *path,
    const char *target, uint64_t size, struct buf *err)
{
	struct hdr	 h;
	size_t		 split, plen = strlen(path);
	int		 need_pax;

	if (tw->remaining != 0)
		return errf(err, "tar: %s: previous file is incomplete", path);
	if (plen == 0)
		return errf(err, "tar: empty entry name");
	if (tw->mtime < 0 || tw->mtime > TAR_MTIME_MAX)
		return errf(err, "tar: mtime %lld does not fit the header",
		    (long long)tw->mtime);
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.size = size > OCTAL_SIZE_MAX ? 0 : size;
	h.mtime = tw->mtime;
	need_pax = !is_ascii(path) || (plen > NAME_LEN &&
	    !tar_split_ustar(path, &split)) || size > OCTAL_SIZE_MAX ||
	    (target != NULL && (!is_ascii(target) ||
	    strlen(target) > NAME_LEN));
	if (need_pax) {
		if (emit_pax(tw, path, target, size, err) == -1)
			return -1;
		field_ascii(h.name, path);
		if (target != NULL)
			field_ascii(h.link, target);
	} else {
		if (plen > NAME_LEN && tar_split_ustar(path, &split)) {
			memcpy(h.prefix, path, split);
			field_copy(h.name, NAME_LEN, path + split + 1);
		} else
			field_copy(h.name, NAME_LEN, path);
		if (target != NULL)
			field_copy(h.link, NAME_LEN, target);
	}
	if (emit_header(tw, &h, err) == -1)
		return -1;
	tw->remaining = size;
	tw->filesize = size;
	return 0;
}

void
tar_init(struct tar_writer *tw, tar_sink_fn sink, void *arg, int64_t mtime)
{
	memset(tw, 0, sizeof(*tw));
	tw->sink = sink;
	tw->arg = arg;
	tw->mtime = mtime;
}

int
tar_add_dir(struct tar_writer *tw, const char *path, struct buf *err)
{
	if (!str_has_suffix(path, "/"))
		return errf(err, "tar: directory %s lacks its trailing '/'",
		    path);
	return add_entry(tw, TYPE_DIR, path, NULL, 0, err);
}

int
tar_add_symlink(struct tar_writer *tw, const char *path, const char *target,
    struct buf *err)
{
	if (*target == '\0')
		return errf(err, "tar: symlink %s has an empty target", path);
	return add_entry(tw, TYPE_SYMLINK, path, target, 0, err);
}

int
tar_begin_file(struct tar_writer *tw, const char *path, uint64_t size,
    struct buf *err)
{
	return add_entry(tw, TYPE_FILE, path, NULL, size, err);
}

int
tar_write_data(struct tar_writer *tw, const void *p, size_t n,
    struct buf *err)
{
	if (n > tw->remaining)
		return errf(err, "tar: file grew beyond its declared size");
	if (emit(tw, p, n, err) == -1)
		return -1;
	tw->remaining -= n;
	if (tw->remaining == 0 && n > 0)
		return pad(tw, tw->filesize, err);
	return 0;
}

int
tar_skip_data(struct tar_writer *tw, uint64_t n, struct buf *err)
{
	if (n > tw->remaining)
		return errf(err, "tar: file grew beyond its declared size");
	while (n > 0) {
		size_t	 step = n > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)n;

		if (emit(tw, NULL, step, err) == -1)
			return -1;
		tw->remaining -= step;
		n -= step;
	}
	return tw->remaining == 0 ? pad(tw, tw->filesize, err) : 0;
}

int
tar_add_file_mem(struct tar_writer *tw, const char *path, const void *p,
    size_t n, struct buf *err)
{
	if (tar_begin_file(tw, path, n, err) == -1)
		return -1;
	return n == 0 ? 0 : tar_write_data(tw, p, n, err);
}

int
tar_finish(struct tar_writer *tw, struct buf *err)
{
	static const char	 zero[2 * TAR_BLOCK];

	if (tw->remaining != 0)
		return errf(err, "tar: last file is incomplete");
	return emit(tw, zero, sizeof(zero), err);
}
