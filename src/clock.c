/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * clock.c: wall and monotonic clocks, the test clock, RFC 3339 text.
 *
 * Trust: no untrusted input; the test clock file is read with a size
 * limit and a malformed one is ignored (the real clock is used).
 */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static int	 test_clock(int64_t *);

int
clock_parse(const char *s, int64_t *ns)
{
	int64_t	 sec = 0, frac = 0, scale = CLOCK_NS;
	int	 digits = 0;

	while (isspace((unsigned char)*s))
		s++;
	for (; isdigit((unsigned char)*s); s++, digits++) {
		if (sec > (INT64_MAX / CLOCK_NS - 9) / 10)
			return -1;
		sec = sec * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++)
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		return -1;
	*ns = sec * CLOCK_NS + frac;
	return 0;
}

/* 1 with *ns from PEIPKG_TEST_CLOCK_FILE, else 0. */
static int
test_clock(int64_t *ns)
{
	const char	*path;
	char		 b[64];
	ssize_t		 n;
	int		 fd;

	if ((path = getenv("PEIPKG_TEST_CLOCK_FILE")) == NULL ||
	    path[0] == '\0')
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	return clock_parse(b, ns) == 0;
}

int64_t
pm_now_ns(void)
{
	struct timespec	 ts;
	int64_t		 ns;

	if (test_clock(&ns))
		return ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * CLOCK_NS + ts.tv_nsec;
}

int64_t
pm_now(void)
{
	return pm_now_ns() / CLOCK_NS;
}

int64_t
pm_mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * CLOCK_NS + ts.tv_nsec;
}

void
clock_fmt(int64_t ns, char out[CLOCK_FMT_MAX])
{
	struct tm	 tm;
	time_t		 t;
	int64_t		 frac;
	char		 f[16];
	size_t		 len;
	int		 i;

	t = (time_t)(ns / CLOCK_NS);
	frac = ns % CLOCK_NS;
	if (frac < 0) {
		frac += CLOCK_NS;
		t--;
	}
	gmtime_r(&t, &tm);
	len = strftime(out, CLOCK_FMT_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac != 0) {
		snprintf(f, sizeof(f), ".%09lld", (long long)frac);
		for (i = (int)strlen(f) - 1; f[i] == '0'; i--)
			f[i] = '\0';
		snprintf(out + len, CLOCK_FMT_MAX - len, "%sZ", f);
	} else
		snprintf(out + len, CLOCK_FMT_MAX - len, "Z");
}
