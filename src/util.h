/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * util.h: memory helpers, the growable byte buffer and the error
 * convention shared by every module and every process.
 *
 * Error convention: a function that can fail returns -1 (or NULL) and
 * appends one human-readable message to the caller's `struct buf *err`
 * with errf().  Pure modules never log; the caller logs the message
 * once.  Several errors may be collected in one buffer; errf() separates
 * them with a newline.  Allocation failure is fatal (xmalloc & co).
 */
#ifndef PM_UTIL_H
#define PM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PM_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define PM_NORETURN	__attribute__((noreturn))
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
};
#define BUF_INIT { NULL, 0, 0 }

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) PM_PRINTF(1, 2);
void	*xmemdup(const void *, size_t);

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, int);
void	 buf_adds(struct buf *, const char *);
void	 buf_addf(struct buf *, const char *, ...) PM_PRINTF(2, 3);
void	 buf_vaddf(struct buf *, const char *, va_list) PM_PRINTF(2, 0);
char	*buf_release(struct buf *);	/* caller owns; buffer reset */
const char *buf_str(const struct buf *);	/* "" when empty */

/* Append an error message (newline-separated) and return -1. */
int	 errf(struct buf *, const char *, ...) PM_PRINTF(2, 3);
int	 verrf(struct buf *, const char *, va_list) PM_PRINTF(2, 0);

/* Strings and bytes. */
int	 str_has_prefix(const char *, const char *);
int	 str_has_suffix(const char *, const char *);
void	 hex_encode(const uint8_t *, size_t, char *);	/* 2n+1 bytes out */
int	 hex_decode(const char *, size_t, uint8_t *);	/* -1 on bad hex */
int	 hex_digit(int);	/* 0-15, or -1 if not a hex digit */
int	 utf8_valid(const char *, size_t);

/* FNV-1a over n bytes, continuing from h (start with FNV1A_INIT). */
#define FNV1A_INIT	14695981039346656037ULL
uint64_t fnv1a(uint64_t h, const void *, size_t);

/* Files. */
int	 read_file(const char *, size_t, struct buf *, struct buf *);
int	 read_fd(int, size_t, struct buf *, struct buf *);
int	 write_full(int, const void *, size_t);
int	 mkdir_p(const char *, mode_t);
int	 rm_rf(const char *);

/* Time: UTC RFC 3339 with whole seconds and a trailing Z. */
void	 fmt_rfc3339(int64_t, char [32]);
int	 parse_rfc3339_z(const char *, int64_t *, long *, struct buf *);

#endif /* PM_UTIL_H */
