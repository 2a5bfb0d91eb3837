/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pkgread.h: the strict .peipkg reader and verifier: what the real
 * consumer client checks (CONSUMER.md §1.8-1.9), and a little more,
 * before a package is published or reported as good.
 *
 * One streaming pass: the compressed bytes are hashed and counted while
 * zstd decompresses them under the size caps (4 GiB, then size_installed
 * + 320 MiB once the manifest is read); the tar is parsed strictly
 * (checksums, ustar magic, types 0/5/2 and legacy NUL, PAX 'x' headers
 * except before the signature, no 'g' headers, payload names strictly
 * ascending with directories compared with their '/', payload path
 * syntax, .peipkg/signature last); files.json must match every payload
 * file's size and SHA-256; the manifest must pass the consumer's rules;
 * the inline signature must verify under a trusted key.
 *
 * Stricter than the consumer (so nothing we accept is refused by it):
 * numeric fields in base-256, GNU long-name entries, V7 headers, GNU
 * sparse records, two PAX headers in a row, non-zero data after the end
 * of the archive, a repeated manifest/files entry, JSON members that the
 * consumer would match case-insensitively, non-zero directory or symlink
 * sizes and empty symlink targets are all refused.
 *
 * Trust: the input is hostile.  No size field is trusted: reads are
 * bounded by the caps, and nothing is allocated in proportion to an
 * untrusted size beyond the member caps (manifest 16 MiB, files.json
 * 64 MiB, signature 64 KiB, PAX header 1 MiB), growing as data arrives.
 */
#ifndef PM_PKGREAD_H
#define PM_PKGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "util.h"

#define PKG_MAX_TAR		(4ULL << 30)	/* absolute decompressed cap */
#define PKG_OVERHEAD		(320ULL << 20)	/* over size_installed */
#define PKG_MAX_ENTRIES		100000		/* payload entries */
#define PKG_MAX_MANIFEST	(16 << 20)
#define PKG_MAX_FILES_JSON	(64 << 20)
#define PKG_MAX_SIGNATURE	(64 << 10)
#define PKG_MAX_PAX		(1 << 20)

struct pkg_verify_opts {
	const uint8_t	(*keys)[32];	/* trusted Ed25519 public keys */
	size_t		 nkeys;
	int		 allow_unsigned;	/* else an unsigned package fails */
	int		 format_only;	/* parse the envelope, skip trust */
	uint64_t	 max_tar;	/* PKG_MAX_TAR */
	uint64_t	 max_entries;	/* PKG_MAX_ENTRIES */
};

struct pkg_info {
	struct manifest	 mf;		/* parsed, consumer-valid */
	struct buf	 manifest_json;	/* exact member bytes (sidecars) */
	struct buf	 files_json;
	int		 is_signed;
	char		 fpr[65];	/* signer fingerprint when signed */
	uint64_t	 signed_bytes;	/* offset of the signature header */
	uint64_t	 size_compressed;
	uint8_t		 sha256[32];	/* of the compressed file */
	char		 sha256_hex[65];
	uint64_t	 tar_size;	/* decompressed bytes */
	size_t		 nentries;	/* payload entries */
	size_t		 nfiles;	/* regular payload files */
};

void	 pkg_verify_opts_init(struct pkg_verify_opts *);
/*
 * Verify the package readable from fd (from its current offset to EOF).
 * On success fills *info (free with pkg_info_free) and returns 0; on
 * failure returns -1 with one message naming what failed and where
 * (entry name, tar offset).  *info is always initialised.
 */
int	 pkg_verify_fd(int fd, const struct pkg_verify_opts *,
	    struct pkg_info *, struct buf *err);
int	 pkg_verify_file(const char *path, const struct pkg_verify_opts *,
	    struct pkg_info *, struct buf *err);
void	 pkg_info_free(struct pkg_info *);

#endif /* PM_PKGREAD_H */
