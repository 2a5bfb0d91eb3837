/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * elfsign.h: embedded binary signatures (BEHAVIOUR.md §3.5): a 65-byte
 * `.peios.sig` section appended to a little-endian ELF64 file.
 *
 * Layout of a signed file (everything new is appended; of the original
 * bytes only e_shoff and e_shnum change):
 *   original bytes | 65-byte blob | old section-name table + ".peios.sig\0"
 *   | zero padding to 8 | old section headers (the name table's entry
 *   moved to the new table) + one SHT_PROGBITS entry for the blob.
 * The blob is 0x01 then the Ed25519 signature of SHA-256(new file with
 * the 65 blob bytes read as zero).
 *
 * Trust: the file comes from a hostile build; every offset and size is
 * checked against the file, nothing is mapped, and reads are bounded.
 * The signature is produced by a struct signer (kind SIGN_BINARY), so
 * this module never holds a key.
 */
#ifndef PM_ELFSIGN_H
#define PM_ELFSIGN_H

#include <stdint.h>

#include "sign.h"
#include "util.h"

#define ELFSIGN_SECTION		".peios.sig"
#define ELFSIGN_BLOB_LEN	65
#define ELFSIGN_BLOB_VERSION	0x01
#define ELFSIGN_TMP_SUFFIX	".peios-sig.tmp"
#define ELFSIGN_MAX_STRTAB	(16 * 1024 * 1024)

/*
 * Sign the regular file `name` in directory `dirfd` in place: the signed
 * copy is written as <name>.peios-sig.tmp with the original permission
 * bits (0777 part), self-verified, and renamed over `name`.  `name` must
 * not be a symlink.  The signer is asked for kind SIGN_BINARY with
 * `keyname` and `subject`.  Messages do not repeat the file name (the
 * caller prefixes it).  On failure the original file is untouched.
 */
int	 elfsign_file(int dirfd, const char *name, struct signer *,
	    const char *keyname, const char *subject, struct buf *err);
/*
 * Check the embedded signature of the file open on `fd` against `pub`.
 * 0 when it verifies; -1 with a message otherwise.
 */
int	 elfsign_verify(int fd, const uint8_t pub[32], struct buf *err);

#endif /* PM_ELFSIGN_H */
