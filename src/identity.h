/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * identity.h: the consumer client's rules for package identity and
 * manifest fields (CONSUMER.md §1.8-1.9), and payload path syntax.
 * Every checker returns 0 when valid, or -1 with one message appended
 * to err that names the offending value.
 *
 * Trust: inputs are recipes, manifests and build output; no check reads
 * beyond the NUL-terminated string it is given.
 */
#ifndef PM_IDENTITY_H
#define PM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PATH_MAX_BYTES		4096
#define PATH_MAX_COMPONENTS	256
#define PATH_MAX_COMPONENT	255

/*
 * 2-64 of [a-z0-9.+-], first [a-z0-9], last [a-z0-9+], no "--" ".." "-."
 * ".-" ('+' is not a separator: "libstdc++" and "g++" pass).
 */
int	 ident_name(const char *, struct buf *err);
/* 1-16 chars, first [a-z], then [a-z0-9_] */
int	 ident_arch(const char *, struct buf *err);
/* Printable UTF-8 (Go unicode.IsPrint: L, M, N, P, S and ASCII space). */
int	 ident_description(const char *, struct buf *err);
/* Empty, or an http/https URL with a host. */
int	 ident_homepage(const char *, struct buf *err);
/*
 * Comma-separated [op] version, revision optional; op in = != < <= > >=;
 * blanks (space, tab) around operators and commas.  "" (no constraint)
 * is accepted; an empty expression ("a,,b", trailing ',') is not.
 */
int	 ident_constraint(const char *, struct buf *err);
/* One of ldconfig, depmod, man-db. */
int	 ident_side_effect(const char *, struct buf *err);
/* Dependency arch: "" or "any". */
int	 ident_dep_arch(const char *, struct buf *err);
/*
 * Payload path syntax: non-empty, <= 4096 bytes, relative, not .peipkg or
 * under .peipkg/, valid UTF-8 in NFC, no byte < 0x20, no 0x7f, no '\',
 * <= 256 components of 1-255 bytes, none "." or "..".  `len` excludes a
 * directory's trailing '/', which the caller strips.
 */
int	 ident_payload_path(const char *, size_t len, struct buf *err);
/* 1 when the UTF-8 string is in Unicode NFC. */
int	 ident_is_nfc(const char *, size_t len);
/* 1 when `uc` is printable in Go's unicode.IsPrint sense. */
int	 ident_is_print(uint32_t uc);
/*
 * Append `len` bytes of a value in double quotes for an error message:
 * printable UTF-8 verbatim, '"' and '\\' escaped, \t \n \r, other
 * controls and invalid bytes as \xNN, other non-printable characters as
 * \uNNNN; values over 320 bytes are cut to 256 and marked "...".
 */
void	 ident_quote(struct buf *, const char *, size_t len);

#endif /* PM_IDENTITY_H */
