/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pkgread.c: strict streaming reader and verifier for .peipkg files.
 *
 * Trust: packages are hostile (built by untrusted scripts, or fetched).
 * Every header field is checked before use; content is read in fixed
 * chunks and never buffered except the three metadata members, which
 * have hard caps.  Messages name the entry and its tar offset.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "identity.h"
#include "log.h"
#include "pkgread.h"
#include "sign.h"
#include "zstream.h"

#define IO_CHUNK	(64 * 1024)
#define META_PREFIX	".peipkg/"
#define MANIFEST_NAME	".peipkg/manifest.json"
#define FILES_NAME	".peipkg/files.json"
#define SIG_NAME	".peipkg/signature"

enum { E_FILE = '0', E_DIR = '5', E_SYMLINK = '2' };

struct entry {
	char		*name;
	char		*link;
	uint64_t	 size;
	int		 type;		/* E_FILE, E_DIR, E_SYMLINK */
	int		 pax;		/* an extended header preceded it */
	uint64_t	 off;		/* offset of its (real) header */
	unsigned char	 hdr[512];	/* the real header, not yet hashed */
};

/* What an extended header says about the entry that follows it. */
struct pax {
	char		*path;
	char		*link;
	int		 has_size;
	uint64_t	 size;
	uint64_t	 off;		/* of the 'x' header; 0 = none seen */
	int		 seen;
};

struct reader {
	struct zin		*z;
	const struct pkg_verify_opts *o;
	struct pkg_info		*info;
	uint64_t		 off;		/* tar offset */
	struct sha256_ctx	 tarsha;	/* bytes before the signature */
	struct sha256_ctx	 filesha;	/* compressed file */
	char			*io;
	struct mf_file		*files;
	size_t			 nfiles;
	size_t			 fcur;		/* next files.json entry */
	char			*prev;		/* last payload name */
	uint64_t		*nondir;	/* hash set: file/symlink paths */
	size_t			 nondir_cap;	/* power of two */
	int			 payload_seen;
	int			 signed_done;
	uint8_t			 digest[32];	/* of the signed range */
	char			 fpr[65];
	uint8_t			 sig[64];
};

static void	 entry_free(struct entry *);
static void	 file_tap(void *, const void *, size_t);
static int	 read_block(struct reader *, unsigned char *, struct buf *);
static int	 is_zero(const unsigned char *, size_t);
static int	 octal_field(const unsigned char *, size_t, uint64_t *);
static int	 check_header(struct reader *, const unsigned char *,
		    uint64_t *, struct buf *);
static char	*field_str(const unsigned char *, size_t);
static int	 pax_parse(const char *, size_t, struct pax *, struct buf *);
static int	 read_pax(struct reader *, uint64_t, struct pax *,
		    struct buf *);
static int	 entry_fill(struct entry *, struct pax *, uint64_t,
		    struct buf *);
static int	 end_of_archive(struct reader *, struct buf *);
static int	 next_entry(struct reader *, struct entry *, struct buf *);
static int	 content(struct reader *, const struct entry *, struct buf *,
		    size_t, struct sha256_ctx *, int, struct buf *);
static int	 read_meta(struct reader *, const char *, size_t,
		    struct buf *, struct buf *);
static int	 metadata(struct reader *, struct buf *);
static int	 signature(struct reader *, struct entry *, struct buf *);
static int	 payload_file(struct reader *, struct entry *, struct buf *);
static uint64_t	 path_hash(const char *, size_t);
static int	 nondir_has(struct reader *, const char *, size_t, int);
static int	 check_nesting(struct reader *, const struct entry *, size_t,
		    struct buf *);
static int	 payload(struct reader *, struct entry *, struct buf *);
static int	 other_meta(struct reader *, struct entry *, struct buf *);
static int	 trust(struct reader *, struct buf *);
static int	 drain(struct reader *, struct buf *);
static int	 verify(struct reader *, struct buf *);

void
pkg_verify_opts_init(struct pkg_verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_tar = PKG_MAX_TAR;
	o->max_entries = PKG_MAX_ENTRIES;
}

void
pkg_info_free(struct pkg_info *info)
{
	manifest_free(&info->mf);
	buf_free(&info->manifest_json);
	buf_free(&info->files_json);
	memset(info, 0, sizeof(*info));
}

static void
entry_free(struct entry *e)
{
	free(e->name);
	free(e->link);
	e->name = e->link = NULL;
}

static void
file_tap(void *arg, const void *p, size_t n)
{
	sha256_update(arg, p, n);
}

/* One 512-byte block: 1, or 0 at a clean end of data, or -1. */
static int
read_block(struct reader *r, unsigned char *b, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	size_t		 got = 0;
	ssize_t		 n;

	while (got < 512) {
		if ((n = zin_read(r->z, b + got, 512 - got, &e)) == -1) {
			errf(err, "%s (at tar offset %llu)", buf_str(&e),
			    (unsigned long long)(r->off + got));
			buf_free(&e);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == 0)
		return 0;
	if (got < 512)
		return errf(err, "archive truncated inside the block at "
		    "offset %llu", (unsigned long long)r->off);
	r->off += 512;
	return 1;
}

static int
is_zero(const unsigned char *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Octal number with optional surrounding spaces/NULs (empty = 0). */
static int
octal_field(const unsigned char *f, size_t n, uint64_t *v)
{
	size_t	 b = 0, e = n;

	if (n > 0 && (f[0] & 0x80))
		return -1;		/* base-256: never ours */
	while (b < e && (f[b] == ' ' || f[b] == '\0'))
		b++;
	while (e > b && (f[e - 1] == ' ' || f[e - 1] == '\0'))
		e--;
	*v = 0;
	for (; b < e; b++) {
		if (f[b] < '0' || f[b] > '7' || *v > (UINT64_MAX >> 3))
			return -1;
		*v = *v * 8 + (uint64_t)(f[b] - '0');
	}
	return 0;
}

/* Checksum, magic and numeric fields of a header block; sets its size. */
static int
check_header(struct reader *r, const unsigned char *b, uint64_t *size,
    struct buf *err)
{
	static const struct { size_t off, len; const char *name; } num[] = {
		{ 100, 8, "mode" }, { 108, 8, "uid" }, { 116, 8, "gid" },
		{ 124, 12, "size" }, { 136, 12, "mtime" },
		{ 329, 8, "devmajor" }, { 337, 8, "devminor" },
	};
	unsigned long long	 off = r->off - 512;
	uint64_t		 sum, v;
	unsigned		 usum = 0;
	int			 ssum = 0;
	size_t			 i;

	for (i = 0; i < 512; i++) {
		usum += (i >= 148 && i < 156) ? ' ' : b[i];
		ssum += (i >= 148 && i < 156) ? ' ' : (signed char)b[i];
	}
	if (octal_field(b + 148, 8, &sum) == -1 ||
	    (sum != usum && (int64_t)sum != ssum))
		return errf(err, "tar header at offset %llu: bad checksum", off);
	if (memcmp(b + 257, "ustar\0" "00", 8) != 0 &&
	    memcmp(b + 257, "ustar  \0", 8) != 0)
		return errf(err, "tar header at offset %llu: not a ustar header",
		    off);
	for (i = 0; i < nitems(num); i++) {
		if (octal_field(b + num[i].off, num[i].len, &v) == -1)
			return errf(err, "tar header at offset %llu: invalid "
			    "%s field", off, num[i].name);
		if (num[i].off == 124)
			*size = v;
	}
	return 0;
}

static char *
field_str(const unsigned char *f, size_t n)
{
	return xstrndup((const char *)f, strnlen((const char *)f, n));
}

/* PAX records "<len> <key>=<value>\n"; path, linkpath, size are used. */
static int
pax_parse(const char *d, size_t n, struct pax *px, struct buf *err)
{
	size_t		 i = 0, len, dl, kl;
	const char	*rec, *eq, *val;
	char		*end;

	while (i < n) {
		rec = d + i;
		for (dl = 0; i + dl < n && rec[dl] >= '0' && rec[dl] <= '9' &&
		    dl < 8; dl++)
			;
		if (dl == 0 || i + dl >= n || rec[dl] != ' ')
			goto bad;
		len = strtoul(rec, &end, 10);
		if (len < 5 || len > n - i || len <= dl + 1 ||
		    rec[len - 1] != '\n')
			goto bad;
		eq = memchr(rec + dl + 1, '=', len - dl - 2);
		if (eq == NULL || eq == rec + dl + 1 ||
		    memchr(rec, '\0', len) != NULL)
			goto bad;
		kl = (size_t)(eq - (rec + dl + 1));
		val = eq + 1;
		if (kl >= 10 && strncmp(rec + dl + 1, "GNU.sparse", 10) == 0)
			return errf(err, "PAX header at offset %llu: GNU sparse "
			    "files are not supported",
			    (unsigned long long)px->off);
		if (val == rec + len - 1)
			;	/* empty value: the ustar field stays */
		else if (kl == 4 && strncmp(rec + dl + 1, "path", 4) == 0) {
			free(px->path);
			px->path = xstrndup(val, (size_t)(rec + len - 1 - val));
		} else if (kl == 8 && strncmp(rec + dl + 1, "linkpath",
		    8) == 0) {
			free(px->link);
			px->link = xstrndup(val, (size_t)(rec + len - 1 - val));
		} else if (kl == 4 && strncmp(rec + dl + 1, "size", 4) == 0) {
			px->size = 0;
			for (; *val != '\n'; val++) {
				if (*val < '0' || *val > '9' ||
				    px->size > PKG_MAX_TAR)
					goto bad;
				px->size = px->size * 10 +
				    (uint64_t)(*val - '0');
			}
			px->has_size = 1;
		}
		i += len;
	}
	return 0;
 bad:
	return errf(err, "PAX header at offset %llu: malformed record at "
	    "byte %zu", (unsigned long long)px->off, i);
}

static int
read_pax(struct reader *r, uint64_t size, struct pax *px, struct buf *err)
{
	struct buf	 d = BUF_INIT;
	unsigned char	 b[512];
	uint64_t	 left;
	int		 rc = -1;

	if (size > PKG_MAX_PAX) {
		errf(err, "PAX header at offset %llu: %llu bytes (at most %d)",
		    (unsigned long long)px->off, (unsigned long long)size,
		    PKG_MAX_PAX);
		goto out;
	}
	for (left = size; left > 0; left -= left > 512 ? 512 : left) {
		if (read_block(r, b, err) != 1) {
			errf(err, "PAX header at offset %llu: truncated",
			    (unsigned long long)px->off);
			goto out;
		}
		if (r->tarsha.md != NULL)
			sha256_update(&r->tarsha, b, 512);
		buf_add(&d, b, left > 512 ? 512 : (size_t)left);
	}
	rc = pax_parse(d.data, d.len, px, err);
 out:
	buf_free(&d);
	return rc;
}

/* After a zero block: a second zero block or the end of data. */
static int
end_of_archive(struct reader *r, struct buf *err)
{
	unsigned char	 b[512];
	int		 rc;

	if ((rc = read_block(r, b, err)) == -1)
		return -1;
	if (rc == 1 && !is_zero(b, 512))
		return errf(err, "non-zero tar block at offset %llu after a "
		    "zero block", (unsigned long long)(r->off - 512));
	return 0;
}

/* Name, link target, size and type of the entry in e->hdr. */
static int
entry_fill(struct entry *e, struct pax *px, uint64_t size, struct buf *err)
{
	const unsigned char	*b = e->hdr;
	char			*prefix, *full;
	unsigned long long	 off = e->off;

	e->pax = px->seen;
	e->size = px->has_size ? px->size : size;
	if (px->path != NULL) {
		e->name = px->path;
		px->path = NULL;
	} else {
		e->name = field_str(b, 100);
		prefix = field_str(b + 345, 155);
		if (memcmp(b + 257, "ustar\0", 6) == 0 && *prefix != '\0') {
			full = xasprintf("%s/%s", prefix, e->name);
			free(e->name);
			e->name = full;
		}
		free(prefix);
	}
	e->link = px->link != NULL ? px->link : field_str(b + 157, 100);
	px->link = NULL;
	if (*e->name == '\0')
		return errf(err, "tar entry at offset %llu has an empty name",
		    off);
	if (b[156] == '0' || b[156] == '5' || b[156] == '2')
		e->type = b[156];
	else if (b[156] == '\0')
		e->type = str_has_suffix(e->name, "/") ? E_DIR : E_FILE;
	else
		return errf(err, "tar entry at offset %llu has type '%c', "
		    "which a package may not contain (only files, directories "
		    "and symlinks)", off,
		    b[156] >= 0x20 && b[156] < 0x7f ? b[156] : '?');
	return 1;
}

/*
 * The next real entry (PAX header merged): 1, or 0 at the end of the
 * archive.  The real header block is not hashed yet (e->hdr).
 */
static int
next_entry(struct reader *r, struct entry *e, struct buf *err)
{
	unsigned char	*b = e->hdr;
	struct pax	 px;
	uint64_t	 size = 0;
	int		 rc;

	memset(e, 0, offsetof(struct entry, hdr));
	memset(&px, 0, sizeof(px));
	for (;;) {
		if ((rc = read_block(r, b, err)) != 1)
			goto out;
		if (is_zero(b, 512)) {
			rc = end_of_archive(r, err) == -1 ? -1 : 0;
			if (rc == 0 && px.seen)
				rc = errf(err, "PAX header at offset %llu "
				    "belongs to no entry",
				    (unsigned long long)px.off);
			goto out;
		}
		if ((rc = check_header(r, b, &size, err)) == -1)
			goto out;
		if (b[156] != 'x')
			break;
		if (px.seen) {
			rc = errf(err, "two PAX headers in a row at offset "
			    "%llu", (unsigned long long)(r->off - 512));
			goto out;
		}
		px.seen = 1;
		px.off = r->off - 512;
		if (r->tarsha.md != NULL)
			sha256_update(&r->tarsha, b, 512);
		if ((rc = read_pax(r, size, &px, err)) == -1)
			goto out;
	}
	e->off = r->off - 512;
	rc = entry_fill(e, &px, size, err);
 out:
	free(px.path);
	free(px.link);
	if (rc != 1)
		entry_free(e);
	return rc;
}

/*
 * Read an entry's content and padding, hashing into the signed range.
 * Up to `max` bytes are kept in `keep` (if not NULL), and hashed into
 * `sha` (if not NULL).  `signed_range` 0: the bytes are not signed.
 */
static int
content(struct reader *r, const struct entry *e, struct buf *keep, size_t max,
    struct sha256_ctx *sha, int signed_range, struct buf *err)
{
	struct buf	 ze = BUF_INIT;
	uint64_t	 left = e->size, pad = (512 - e->size % 512) % 512;
	size_t		 want;

	if (keep != NULL && e->size > max)
		return errf(err, "%s: %llu bytes (at most %zu)", e->name,
		    (unsigned long long)e->size, max);
	while (left + pad > 0) {
		want = left > 0 ? (left < IO_CHUNK ? (size_t)left : IO_CHUNK) :
		    (size_t)pad;
		if (zin_read_full(r->z, r->io, want, &ze) == -1) {
			errf(err, "%s (entry at offset %llu): %s", e->name,
			    (unsigned long long)e->off, buf_str(&ze));
			buf_free(&ze);
			return -1;
		}
		r->off += want;
		if (signed_range && r->tarsha.md != NULL)
			sha256_update(&r->tarsha, r->io, want);
		if (left > 0) {
			if (sha != NULL)
				sha256_update(sha, r->io, want);
			if (keep != NULL)
				buf_add(keep, r->io, want);
			left -= want;
		} else if (!is_zero((unsigned char *)r->io, want))
			return errf(err, "%s (at offset %llu): padding is not "
			    "zero", e->name, (unsigned long long)e->off);
		else
			pad = 0;
	}
	return 0;
}

/* Entry 0 or 1 must be the named regular file. */
static int
read_meta(struct reader *r, const char *name, size_t max, struct buf *out,
    struct buf *err)
{
	struct entry	 e;
	int		 rc;

	if ((rc = next_entry(r, &e, err)) != 1)
		return rc == 0 ? errf(err, "archive ends before %s", name) : -1;
	sha256_update(&r->tarsha, e.hdr, 512);
	if (strcmp(e.name, name) != 0 || e.type != E_FILE) {
		errf(err, "tar entry at offset %llu must be the regular file "
		    "%s", (unsigned long long)e.off, name);
		entry_free(&e);
		return -1;
	}
	rc = content(r, &e, out, max, NULL, 1, err);
	if (out->data == NULL)
		buf_add(out, "", 0);
	entry_free(&e);
	return rc;
}

static int
metadata(struct reader *r, struct buf *err)
{
	struct pkg_info	*info = r->info;
	struct buf	 e = BUF_INIT;
	uint64_t	 sum = 0, lim;
	size_t		 i;
	int		 rc = -1;

	if (read_meta(r, MANIFEST_NAME, PKG_MAX_MANIFEST, &info->manifest_json,
	    err) == -1)
		goto out;
	manifest_free(&info->mf);	/* manifest_parse initialises it */
	if (manifest_parse(info->manifest_json.data, info->manifest_json.len,
	    MF_STRICT, &info->mf, &e) == -1) {
		errf(err, "%s: %s", MANIFEST_NAME, buf_str(&e));
		goto out;
	}
	lim = info->mf.size_installed > r->o->max_tar ? r->o->max_tar :
	    info->mf.size_installed + PKG_OVERHEAD;
	zin_set_limit(r->z, lim < r->o->max_tar ? lim : r->o->max_tar);
	if (read_meta(r, FILES_NAME, PKG_MAX_FILES_JSON, &info->files_json,
	    err) == -1)
		goto out;
	if (manifest_files_parse(info->files_json.data, info->files_json.len,
	    &r->files, &r->nfiles, &e) == -1) {
		errf(err, "%s: %s", FILES_NAME, buf_str(&e));
		goto out;
	}
	for (i = 0; i < r->nfiles; i++) {
		if (r->files[i].size > UINT64_MAX - sum) {
			errf(err, "%s: sizes overflow", FILES_NAME);
			goto out;
		}
		sum += r->files[i].size;
	}
	if (sum != info->mf.size_installed) {
		errf(err, "%s: size_installed is %llu but the files in %s "
		    "total %llu bytes", MANIFEST_NAME,
		    (unsigned long long)info->mf.size_installed, FILES_NAME,
		    (unsigned long long)sum);
		goto out;
	}
	rc = 0;
 out:
	buf_free(&e);
	return rc;
}

static int
signature(struct reader *r, struct entry *e, struct buf *err)
{
	struct buf	 env = BUF_INIT, pe = BUF_INIT;
	int		 rc = -1;

	if (e->pax) {
		errf(err, "%s (at offset %llu) is preceded by a PAX extended "
		    "header: its signed range cannot match (fractional "
		    "timestamp?); the signature does not verify", SIG_NAME,
		    (unsigned long long)e->off);
		goto out;
	}
	if (e->type != E_FILE) {
		errf(err, "%s (at offset %llu) is not a regular file", SIG_NAME,
		    (unsigned long long)e->off);
		goto out;
	}
	r->info->signed_bytes = e->off;
	sha256_final(&r->tarsha, r->digest);
	if (content(r, e, &env, PKG_MAX_SIGNATURE, NULL, 0, err) == -1)
		goto out;
	if (env.data == NULL)
		buf_add(&env, "", 0);
	if (manifest_json_space_ok(env.data, env.len, &pe) == -1 ||
	    sigenv_parse(env.data, env.len, r->fpr, r->sig, &pe) == -1) {
		errf(err, "%s: %s", SIG_NAME, buf_str(&pe));
		goto out;
	}
	r->signed_done = 1;
	rc = 0;
 out:
	buf_free(&env);
	buf_free(&pe);
	return rc;
}

/* A regular payload file: the next files.json entry, same size/hash. */
static int
payload_file(struct reader *r, struct entry *e, struct buf *err)
{
	struct sha256_ctx	 sha;
	struct mf_file		*f;
	uint8_t			 d[32];
	char			 got[65], want[65];

	if (r->fcur < r->nfiles &&
	    strcmp(r->files[r->fcur].path, e->name) < 0)
		return errf(err, "%s lists %s, which is not a regular file in "
		    "the payload", FILES_NAME, r->files[r->fcur].path);
	if (r->fcur == r->nfiles || strcmp(r->files[r->fcur].path,
	    e->name) != 0)
		return errf(err, "payload file %s (at offset %llu) has no "
		    "entry in %s", e->name, (unsigned long long)e->off,
		    FILES_NAME);
	f = &r->files[r->fcur++];
	if (f->size != e->size)
		return errf(err, "payload file %s (at offset %llu) is %llu "
		    "bytes but %s says %llu", e->name,
		    (unsigned long long)e->off, (unsigned long long)e->size,
		    FILES_NAME, (unsigned long long)f->size);
	sha256_init(&sha);
	if (content(r, e, NULL, 0, &sha, 1, err) == -1) {
		sha256_free(&sha);
		return -1;
	}
	sha256_final(&sha, d);
	if (memcmp(d, f->sha256, 32) != 0) {
		hex_encode(d, 32, got);
		hex_encode(f->sha256, 32, want);
		return errf(err, "payload file %s (at offset %llu) hash "
		    "mismatch (got %s, want %s)", e->name,
		    (unsigned long long)e->off, got, want);
	}
	r->info->nfiles++;
	return 0;
}

/* FNV-1a; 0 marks an empty slot, so it is mapped to 1. */
static uint64_t
path_hash(const char *s, size_t n)
{
	uint64_t	 h = fnv1a(FNV1A_INIT, s, n);

	return h == 0 ? 1 : h;
}

/*
 * Is path s[0..n) a file or symlink seen earlier?  With add, record it.
 * A hash collision can only make a package fail, never pass.
 */
static int
nondir_has(struct reader *r, const char *s, size_t n, int add)
{
	uint64_t	 h = path_hash(s, n);
	size_t		 i;

	if (r->nondir == NULL) {
		for (r->nondir_cap = 1024; r->nondir_cap < 2 *
		    r->o->max_entries + 2; r->nondir_cap *= 2)
			;
		r->nondir = xcalloc(r->nondir_cap, sizeof(*r->nondir));
	}
	for (i = h & (r->nondir_cap - 1); r->nondir[i] != 0;
	    i = (i + 1) & (r->nondir_cap - 1))
		if (r->nondir[i] == h)
			return 1;
	if (add)
		r->nondir[i] = h;
	return 0;
}

/*
 * No entry may lie beneath a file or symlink, and no directory may have
 * the path of one ("a" then "a/" would both pass the order check).
 */
static int
check_nesting(struct reader *r, const struct entry *e, size_t n,
    struct buf *err)
{
	const char	*p;

	for (p = memchr(e->name, '/', n); p != NULL;
	    p = memchr(p + 1, '/', n - (size_t)(p + 1 - e->name)))
		if (nondir_has(r, e->name, (size_t)(p - e->name), 0))
			return errf(err, "payload entry %s (at offset %llu) "
			    "lies beneath the file or symlink %.*s", e->name,
			    (unsigned long long)e->off,
			    (int)(p - e->name), e->name);
	if (e->type == E_DIR && nondir_has(r, e->name, n, 0))
		return errf(err, "directory %s (at offset %llu) has the path "
		    "of an earlier file or symlink", e->name,
		    (unsigned long long)e->off);
	if (e->type != E_DIR)
		nondir_has(r, e->name, n, 1);
	return 0;
}

static int
payload(struct reader *r, struct entry *e, struct buf *err)
{
	struct buf	 pe = BUF_INIT;
	size_t		 n = strlen(e->name);
	unsigned long long off = e->off;
	int		 rc = -1;

	r->payload_seen = 1;
	if (e->type == E_DIR && n > 0 && e->name[n - 1] == '/')
		n--;
	if (ident_payload_path(e->name, n, &pe) == -1)
		errf(err, "payload entry at offset %llu: %s", off, buf_str(&pe));
	else if (r->prev != NULL && strcmp(r->prev, e->name) >= 0)
		errf(err, "payload entries are not sorted (\"%s\" after \"%s\" "
		    "at offset %llu)%s", e->name, r->prev, off,
		    strcmp(r->prev, e->name) == 0 ? ": duplicate entry" : "");
	else if (++r->info->nentries > r->o->max_entries)
		errf(err, "more than %llu payload entries",
		    (unsigned long long)r->o->max_entries);
	else if (e->type != E_FILE && e->size != 0)
		errf(err, "%s %s (at offset %llu) has a non-zero size",
		    e->type == E_DIR ? "directory" : "symlink", e->name, off);
	else if (e->type == E_SYMLINK && *e->link == '\0')
		errf(err, "symlink %s (at offset %llu) has an empty target",
		    e->name, off);
	else if (check_nesting(r, e, n, err) == -1)
		;
	else if (e->type == E_FILE)
		rc = payload_file(r, e, err);
	else
		rc = 0;
	free(r->prev);
	r->prev = xstrdup(e->name);
	buf_free(&pe);
	return rc;
}

/* Other .peipkg/ entries: ignored, but only before the payload. */
static int
other_meta(struct reader *r, struct entry *e, struct buf *err)
{
	if (r->payload_seen)
		return errf(err, "metadata entry %s (at offset %llu) comes "
		    "after payload entries", e->name,
		    (unsigned long long)e->off);
	if (strcmp(e->name, MANIFEST_NAME) == 0 ||
	    strcmp(e->name, FILES_NAME) == 0)
		return errf(err, "second %s entry at offset %llu", e->name,
		    (unsigned long long)e->off);
	return content(r, e, NULL, 0, NULL, 1, err);
}

/* The signer must be a trusted key and the signature must verify. */
static int
trust(struct reader *r, struct buf *err)
{
	char	 fpr[65];
	size_t	 i;

	if (!r->signed_done)
		return r->o->allow_unsigned ? 0 : errf(err, "package is "
		    "unsigned (a signature is required)");
	r->info->is_signed = 1;
	memcpy(r->info->fpr, r->fpr, sizeof(r->fpr));
	if (r->o->format_only)
		return 0;
	for (i = 0; i < r->o->nkeys; i++) {
		fingerprint_hex(r->o->keys[i], fpr);
		if (strcmp(fpr, r->fpr) == 0)
			break;
	}
	if (i == r->o->nkeys)
		return errf(err, "signing key %s is not in the trust set",
		    r->fpr);
	if (!ed25519_verify(r->o->keys[i], r->digest, 32, r->sig))
		return errf(err, "%s: signature does not verify (key %s)",
		    SIG_NAME, r->fpr);
	return 0;
}

/* Whatever follows the end of the archive must be zero. */
static int
drain(struct reader *r, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	ssize_t		 n;

	for (;;) {
		if ((n = zin_read(r->z, r->io, IO_CHUNK, &e)) == -1) {
			errf(err, "%s (after the end of the archive)",
			    buf_str(&e));
			buf_free(&e);
			return -1;
		}
		if (n == 0)
			return 0;
		if (!is_zero((unsigned char *)r->io, (size_t)n))
			return errf(err, "non-zero data after the end of the "
			    "archive (offset %llu)", (unsigned long long)r->off);
		r->off += (uint64_t)n;
	}
}

static int
verify(struct reader *r, struct buf *err)
{
	struct entry	 e;
	int		 rc;

	if (metadata(r, err) == -1)
		return -1;
	memset(&e, 0, sizeof(e));
	while ((rc = next_entry(r, &e, err)) == 1) {
		if (r->signed_done)
			rc = errf(err, "entry %s at offset %llu follows %s",
			    e.name, (unsigned long long)e.off, SIG_NAME);
		else if (strcmp(e.name, SIG_NAME) == 0)
			rc = signature(r, &e, err);
		else {
			sha256_update(&r->tarsha, e.hdr, 512);
			if (str_has_prefix(e.name, META_PREFIX))
				rc = other_meta(r, &e, err);
			else
				rc = payload(r, &e, err);
		}
		entry_free(&e);
		if (rc == -1)
			return -1;
	}
	if (rc == -1 || drain(r, err) == -1)
		return -1;
	if (r->fcur < r->nfiles)
		return errf(err, "%s lists %s, which is not a regular file in "
		    "the payload", FILES_NAME, r->files[r->fcur].path);
	return trust(r, err);
}

int
pkg_verify_fd(int fd, const struct pkg_verify_opts *o, struct pkg_info *info,
    struct buf *err)
{
	struct reader	 r;
	int		 rc = -1;

	memset(info, 0, sizeof(*info));
	manifest_init(&info->mf);
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.info = info;
	r.io = xmalloc(IO_CHUNK);
	sha256_init(&r.tarsha);
	sha256_init(&r.filesha);
	if ((r.z = zin_new(fd, o->max_tar, err)) == NULL)
		goto out;
	zin_set_tap(r.z, file_tap, &r.filesha);
	if (verify(&r, err) == -1)
		goto out;
	info->tar_size = r.off;
	info->size_compressed = zin_compressed(r.z);
	sha256_final(&r.filesha, info->sha256);
	hex_encode(info->sha256, 32, info->sha256_hex);
	rc = 0;
 out:
	if (rc == -1) {
		pkg_info_free(info);
		manifest_init(&info->mf);
	}
	zin_free(r.z);
	sha256_free(&r.tarsha);
	sha256_free(&r.filesha);
	manifest_files_free(r.files, r.nfiles);
	free(r.nondir);
	free(r.prev);
	free(r.io);
	return rc;
}

int
pkg_verify_file(const char *path, const struct pkg_verify_opts *o,
    struct pkg_info *info, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		memset(info, 0, sizeof(*info));
		manifest_init(&info->mf);
		return errf(err, "%s: %s", path, strerror(errno));
	}
	if ((rc = pkg_verify_fd(fd, o, info, &e)) == -1)
		errf(err, "%s: %s", path, buf_str(&e));
	close(fd);
	buf_free(&e);
	return rc;
}
