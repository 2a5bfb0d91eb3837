/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * duration.h: Go-style duration strings ("1h30m", "90s", "1.5h") as
 * int64 nanoseconds, and the Go text form for logs ("1m0s").
 *
 * Trust: operator files; parsing is bounded by the string and checks
 * every multiplication and addition for overflow.
 */
#ifndef PM_DURATION_H
#define PM_DURATION_H

#include <stdint.h>

#include "util.h"

#define DURATION_NS	INT64_C(1)
#define DURATION_US	INT64_C(1000)
#define DURATION_MS	INT64_C(1000000)
#define DURATION_S	INT64_C(1000000000)
#define DURATION_M	(60 * DURATION_S)
#define DURATION_H	(60 * DURATION_M)

/* Longest text duration_format() writes, with its NUL. */
#define DURATION_FMT_MAX	32

/*
 * Parse: optional sign, then one or more <number><unit>; number =
 * digits with an optional fraction (".5", "1."), units ns us µs μs ms s
 * m h; the bare string "0" is zero.  On error appends e.g.
 *   invalid duration "1d": unknown unit "d"
 */
int	 duration_parse(const char *, int64_t *, struct buf *err);
/* Go's Duration.String(): "0s", "1.5s", "1m0s", "1h0m0s", "250ms". */
void	 duration_format(int64_t, char [DURATION_FMT_MAX]);
/* The same, in a thread-local ring of 8 buffers (for log fields). */
const char *duration_str(int64_t);

#endif /* PM_DURATION_H */
