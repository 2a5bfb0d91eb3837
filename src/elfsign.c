/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * elfsign.c: embed an Ed25519 signature in an ELF64 file as a
 * `.peios.sig` section, append-only, and verify one (BEHAVIOUR.md §3.5).
 *
 * Trust: the ELF file was written by a hostile build script.  We read it
 * through one descriptor opened with O_NOFOLLOW, check every header
 * field against the file size before using it, stream the copy (no size
 * limit, constant memory) and verify what we wrote before it replaces
 * the original.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "elfsign.h"

#define EHDR_LEN	64
#define SHDR_LEN	64
#define SHN_LORESERVE	0xff00
#define SHT_PROGBITS	1
#define COPY_CHUNK	(64 * 1024)

/* What we need of an ELF64 file, all checked against its size. */
struct elf {
	uint8_t		 ehdr[EHDR_LEN];
	uint64_t	 size;		/* file size */
	uint64_t	 shoff;
	uint16_t	 shnum;
	uint16_t	 shstrndx;
	uint8_t		*shdrs;		/* shnum * 64 bytes */
	uint8_t		*strtab;	/* the section-name table */
	uint64_t	 strsize;
};

struct out {
	int			 fd;
	uint64_t		 off;
	struct sha256_ctx	 sha;
};

static uint16_t	 le16(const uint8_t *);
static uint32_t	 le32(const uint8_t *);
static uint64_t	 le64(const uint8_t *);
static void	 put16(uint8_t *, uint16_t);
static void	 put32(uint8_t *, uint32_t);
static void	 put64(uint8_t *, uint64_t);
static int	 pread_full(int, void *, size_t, uint64_t);
static int	 elf_read(int, struct elf *, struct buf *);
static void	 elf_free(struct elf *);
static const char *sec_name(const struct elf *, size_t);
static int	 elf_names(const struct elf *, long *, struct buf *);
static int	 out_write(struct out *, const void *, size_t, struct buf *);
static int	 out_zero(struct out *, size_t, struct buf *);
static int	 write_signed(int, const struct elf *, struct out *,
		    uint64_t *, struct buf *);
static int	 sign_blob(int, uint64_t, const uint8_t [32], struct signer *,
		    const char *, const char *, uint8_t [32], struct buf *);
static int	 open_unsigned(int, const char *, struct stat *, struct elf *,
		    struct buf *);

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* 0 when all n bytes were read; -1 with errno (0: short file). */
static int
pread_full(int fd, void *b, size_t n, uint64_t off)
{
	ssize_t	 r;
	size_t	 got = 0;

	while (got < n) {
		r = pread(fd, (char *)b + got, n - got, (off_t)(off + got));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static void
elf_free(struct elf *e)
{
	free(e->shdrs);
	free(e->strtab);
	e->shdrs = e->strtab = NULL;
}

/* Header, section table and name table, every bound checked. */
static int
elf_read(int fd, struct elf *e, struct buf *err)
{
	struct stat	 sb;
	const uint8_t	*sh;
	uint64_t	 off;

	memset(e, 0, sizeof(*e));
	if (fstat(fd, &sb) == -1)
		return errf(err, "fstat: %s", strerror(errno));
	e->size = (uint64_t)sb.st_size;
	if (e->size < EHDR_LEN || pread_full(fd, e->ehdr, EHDR_LEN, 0) == -1 ||
	    memcmp(e->ehdr, "\177ELF", 4) != 0)
		return errf(err, "not an ELF file");
	if (e->ehdr[4] != 2)
		return errf(err, "not a 64-bit ELF file (EI_CLASS %u; only "
		    "ELFCLASS64 can be signed)", e->ehdr[4]);
	if (e->ehdr[5] != 1)
		return errf(err, "not a little-endian ELF file (EI_DATA %u; "
		    "only ELFDATA2LSB can be signed)", e->ehdr[5]);
	e->shoff = le64(e->ehdr + 0x28);
	e->shnum = le16(e->ehdr + 0x3c);
	e->shstrndx = le16(e->ehdr + 0x3e);
	if (le16(e->ehdr + 0x3a) != SHDR_LEN)
		return errf(err, "section header entry size is %u, not %d",
		    le16(e->ehdr + 0x3a), SHDR_LEN);
	if (e->shnum == 0)
		return errf(err, "has no section header table (e_shnum 0)");
	if (e->shstrndx >= e->shnum)
		return errf(err, "invalid section-name table index %u "
		    "(e_shnum %u)", e->shstrndx, e->shnum);
	if (e->shoff > e->size ||
	    (uint64_t)e->shnum * SHDR_LEN > e->size - e->shoff)
		return errf(err, "section header table (offset %ju, %u "
		    "entries) lies outside the file (%ju bytes)",
		    (uintmax_t)e->shoff, e->shnum, (uintmax_t)e->size);
	e->shdrs = xmalloc((size_t)e->shnum * SHDR_LEN);
	if (pread_full(fd, e->shdrs, (size_t)e->shnum * SHDR_LEN,
	    e->shoff) == -1)
		return errf(err, "read section headers: %s",
		    errno ? strerror(errno) : "file shrank");
	sh = e->shdrs + (size_t)e->shstrndx * SHDR_LEN;
	off = le64(sh + 0x18);
	e->strsize = le64(sh + 0x20);
	if (off > e->size || e->strsize > e->size - off)
		return errf(err, "section-name table lies outside the file");
	if (e->strsize > ELFSIGN_MAX_STRTAB)
		return errf(err, "section-name table larger than %d bytes",
		    ELFSIGN_MAX_STRTAB);
	e->strtab = xmalloc(e->strsize + 1);
	if (pread_full(fd, e->strtab, e->strsize, off) == -1)
		return errf(err, "read section names: %s",
		    errno ? strerror(errno) : "file shrank");
	e->strtab[e->strsize] = '\0';
	return 0;
}

/* The name of section i, or NULL when its offset is out of range. */
static const char *
sec_name(const struct elf *e, size_t i)
{
	uint32_t	 n = le32(e->shdrs + i * SHDR_LEN);

	if (n >= e->strsize || memchr(e->strtab + n, '\0',
	    e->strsize - n) == NULL)
		return NULL;
	return (const char *)e->strtab + n;
}

/* Check every name; *sig = index of the .peios.sig section or -1. */
static int
elf_names(const struct elf *e, long *sig, struct buf *err)
{
	const char	*name;
	size_t		 i;

	*sig = -1;
	for (i = 0; i < e->shnum; i++) {
		if ((name = sec_name(e, i)) == NULL)
			return errf(err, "section %zu has a bad name offset",
			    i);
		if (strcmp(name, ELFSIGN_SECTION) != 0)
			continue;
		if (*sig != -1)
			return errf(err, "has two %s sections",
			    ELFSIGN_SECTION);
		*sig = (long)i;
	}
	return 0;
}

static int
out_write(struct out *o, const void *b, size_t n, struct buf *err)
{
	if (write_full(o->fd, b, n) == -1)
		return errf(err, "write: %s", strerror(errno));
	sha256_update(&o->sha, b, n);
	o->off += n;
	return 0;
}

static int
out_zero(struct out *o, size_t n, struct buf *err)
{
	static const uint8_t	 zero[ELFSIGN_BLOB_LEN];
	size_t			 k;

	for (; n > 0; n -= k) {
		k = n < sizeof(zero) ? n : sizeof(zero);
		if (out_write(o, zero, k, err) == -1)
			return -1;
	}
	return 0;
}

/*
 * Write the signed layout with a zero blob to o->fd, hashing it.
 * *blob_off = where the blob goes.
 */
static int
write_signed(int in, const struct elf *e, struct out *o, uint64_t *blob_off,
    struct buf *err)
{
	uint8_t		 hdr[EHDR_LEN], sh[SHDR_LEN], *chunk;
	uint64_t	 strtab_off, table_off, off;
	size_t		 n, i;
	int		 rc = -1;

	*blob_off = e->size;
	strtab_off = e->size + ELFSIGN_BLOB_LEN;
	table_off = (strtab_off + e->strsize + sizeof(ELFSIGN_SECTION) + 7) &
	    ~(uint64_t)7;
	memcpy(hdr, e->ehdr, EHDR_LEN);
	put64(hdr + 0x28, table_off);
	put16(hdr + 0x3c, (uint16_t)(e->shnum + 1));
	chunk = xmalloc(COPY_CHUNK);
	if (out_write(o, hdr, EHDR_LEN, err) == -1)
		goto out;
	for (off = EHDR_LEN; off < e->size; off += n) {
		n = e->size - off < COPY_CHUNK ? e->size - off : COPY_CHUNK;
		if (pread_full(in, chunk, n, off) == -1) {
			errf(err, "read: %s", errno ? strerror(errno) :
			    "the file shrank while it was being signed");
			goto out;
		}
		if (out_write(o, chunk, n, err) == -1)
			goto out;
	}
	if (out_zero(o, ELFSIGN_BLOB_LEN, err) == -1 ||
	    out_write(o, e->strtab, e->strsize, err) == -1 ||
	    out_write(o, ELFSIGN_SECTION, sizeof(ELFSIGN_SECTION), err) == -1 ||
	    out_zero(o, table_off - o->off, err) == -1)
		goto out;
	for (i = 0; i < e->shnum; i++) {
		memcpy(sh, e->shdrs + i * SHDR_LEN, SHDR_LEN);
		if (i == e->shstrndx) {
			put64(sh + 0x18, strtab_off);
			put64(sh + 0x20, e->strsize + sizeof(ELFSIGN_SECTION));
		}
		if (out_write(o, sh, SHDR_LEN, err) == -1)
			goto out;
	}
	memset(sh, 0, SHDR_LEN);
	put32(sh + 0x00, (uint32_t)e->strsize);
	put32(sh + 0x04, SHT_PROGBITS);
	put64(sh + 0x18, *blob_off);
	put64(sh + 0x20, ELFSIGN_BLOB_LEN);
	put64(sh + 0x30, 1);
	rc = out_write(o, sh, SHDR_LEN, err);
out:
	free(chunk);
	return rc;
}

/* Ask the signer, then write 0x01 + signature at the blob offset. */
static int
sign_blob(int fd, uint64_t blob_off, const uint8_t digest[32],
    struct signer *s, const char *keyname, const char *subject,
    uint8_t pub[32], struct buf *err)
{
	uint8_t	 blob[ELFSIGN_BLOB_LEN];

	if (s->sign(s, SIGN_BINARY, subject, keyname, digest, blob + 1, pub,
	    err) == -1)
		return -1;
	blob[0] = ELFSIGN_BLOB_VERSION;
	if (pwrite(fd, blob, sizeof(blob), (off_t)blob_off) !=
	    (ssize_t)sizeof(blob))
		return errf(err, "write signature: %s", strerror(errno));
	return 0;
}

/* Open `name` (no symlink), read its ELF headers; refuse a signed one. */
static int
open_unsigned(int dirfd, const char *name, struct stat *sb, struct elf *e,
    struct buf *err)
{
	long	 sig;
	int	 in;

	if ((in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errf(err, "%s", errno == ELOOP ? "is a symlink (sign "
		    "the file it points to instead)" : strerror(errno));
	if (fstat(in, sb) == -1 || !S_ISREG(sb->st_mode))
		errf(err, "not a regular file");
	else if (elf_read(in, e, err) == -1 || elf_names(e, &sig, err) == -1)
		;
	else if (sig != -1)
		errf(err, "already has a %s section", ELFSIGN_SECTION);
	else if (e->shnum + 1 >= SHN_LORESERVE)
		errf(err, "too many sections (%u)", e->shnum);
	else
		return in;
	close(in);
	return -1;
}

int
elfsign_file(int dirfd, const char *name, struct signer *s,
    const char *keyname, const char *subject, struct buf *err)
{
	struct elf	 e;
	struct out	 o = { -1, 0, { NULL } };
	struct stat	 sb;
	uint8_t		 digest[32], pub[32];
	uint64_t	 blob_off;
	char		*tmp;
	int		 in, rc = -1;

	memset(&e, 0, sizeof(e));
	tmp = xasprintf("%s%s", name, ELFSIGN_TMP_SUFFIX);
	if ((in = open_unsigned(dirfd, name, &sb, &e, err)) == -1)
		goto out;
	if (unlinkat(dirfd, tmp, 0) == -1 && errno != ENOENT) {
		errf(err, "remove stale %s: %s", tmp, strerror(errno));
		goto out;
	}
	o.fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (o.fd == -1) {
		errf(err, "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	sha256_init(&o.sha);
	if (write_signed(in, &e, &o, &blob_off, err) == -1)
		goto out;
	sha256_final(&o.sha, digest);
	if (sign_blob(o.fd, blob_off, digest, s, keyname, subject, pub,
	    err) == -1)
		goto out;
	if (elfsign_verify(o.fd, pub, err) == -1)
		errf(err, "post-sign self-verification failed");
	else if (fchmod(o.fd, sb.st_mode & 0777) == -1 || fsync(o.fd) == -1 ||
	    renameat(dirfd, tmp, dirfd, name) == -1)
		errf(err, "replace the file: %s", strerror(errno));
	else
		rc = 0;
out:
	sha256_free(&o.sha);
	if (o.fd != -1) {
		close(o.fd);
		if (rc == -1)
			(void)unlinkat(dirfd, tmp, 0);
	}
	if (in != -1)
		close(in);
	elf_free(&e);
	free(tmp);
	return rc;
}

/* The signature section's blob and its offset in the file. */
static int
read_blob(int fd, const struct elf *e, long sig, uint64_t *boff,
    uint8_t blob[ELFSIGN_BLOB_LEN], struct buf *err)
{
	const uint8_t	*sh = e->shdrs + (size_t)sig * SHDR_LEN;

	*boff = le64(sh + 0x18);
	if (le64(sh + 0x20) != ELFSIGN_BLOB_LEN || *boff > e->size ||
	    e->size - *boff < ELFSIGN_BLOB_LEN ||
	    pread_full(fd, blob, ELFSIGN_BLOB_LEN, *boff) == -1)
		return errf(err, "%s section is not %d bytes inside the file",
		    ELFSIGN_SECTION, ELFSIGN_BLOB_LEN);
	if (blob[0] != ELFSIGN_BLOB_VERSION)
		return errf(err, "%s: unknown blob version %u",
		    ELFSIGN_SECTION, blob[0]);
	return 0;
}

/* SHA-256 of the file's first `size` bytes, the blob read as zeros. */
static int
hash_zeroed(int fd, uint64_t size, uint64_t boff, uint8_t digest[32],
    struct buf *err)
{
	struct sha256_ctx	 sha;
	uint8_t			*chunk = xmalloc(COPY_CHUNK);
	uint64_t		 off, lo, hi;
	size_t			 n;
	int			 rc = -1;

	sha256_init(&sha);
	for (off = 0; off < size; off += n) {
		n = size - off < COPY_CHUNK ? size - off : COPY_CHUNK;
		if (pread_full(fd, chunk, n, off) == -1) {
			errf(err, "read: %s", errno ? strerror(errno) :
			    "file shrank");
			goto out;
		}
		lo = boff > off ? boff : off;
		hi = boff + ELFSIGN_BLOB_LEN < off + n ?
		    boff + ELFSIGN_BLOB_LEN : off + n;
		if (lo < hi)
			memset(chunk + (lo - off), 0, hi - lo);
		sha256_update(&sha, chunk, n);
	}
	sha256_final(&sha, digest);
	rc = 0;
out:
	sha256_free(&sha);
	free(chunk);
	return rc;
}

int
elfsign_verify(int fd, const uint8_t pub[32], struct buf *err)
{
	struct elf	 e;
	uint8_t		 digest[32], blob[ELFSIGN_BLOB_LEN];
	uint64_t	 boff;
	long		 sig;
	int		 rc = -1;

	if (elf_read(fd, &e, err) == -1 || elf_names(&e, &sig, err) == -1)
		goto out;
	if (sig == -1) {
		errf(err, "has no %s section", ELFSIGN_SECTION);
		goto out;
	}
	if (read_blob(fd, &e, sig, &boff, blob, err) == -1 ||
	    hash_zeroed(fd, e.size, boff, digest, err) == -1)
		goto out;
	if (!ed25519_verify(pub, digest, sizeof(digest), blob + 1)) {
		errf(err, "the signature does not verify");
		goto out;
	}
	rc = 0;
out:
	elf_free(&e);
	return rc;
}
