/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * clock.h: the daemon's clocks.  Wall time (failure back-off, /status
 * times, poll timestamps) comes from pm_now*(), which tests drive: when
 * the environment variable PEIPKG_TEST_CLOCK_FILE names a readable file,
 * its content ("<unix seconds>[.<fraction>]", surrounding whitespace
 * ignored) is the current time, re-read on every call.  Timeouts and
 * watchdogs use the monotonic clock, never the wall clock.
 *
 * Trust: the test clock file is set up by the operator/test only.
 */
#ifndef PM_CLOCK_H
#define PM_CLOCK_H

#include <stdint.h>

#define CLOCK_NS	INT64_C(1000000000)
#define CLOCK_FMT_MAX	40

int64_t	 pm_now(void);		/* wall clock, unix seconds */
int64_t	 pm_now_ns(void);	/* wall clock, unix nanoseconds */
int64_t	 pm_mono_ns(void);	/* CLOCK_MONOTONIC, nanoseconds */

/*
 * RFC 3339 in UTC with a trailing Z and the fraction of the second with
 * its trailing zeros removed (none when whole): Go's RFC3339Nano.
 * "2026-05-07T14:32:11.5Z", "2026-05-07T14:32:11Z".
 */
void	 clock_fmt(int64_t ns, char [CLOCK_FMT_MAX]);
/* Parse the test clock text; 0 and *ns, or -1. */
int	 clock_parse(const char *, int64_t *ns);

#endif /* PM_CLOCK_H */
