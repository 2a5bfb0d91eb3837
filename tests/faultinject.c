/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * faultinject.c: an LD_PRELOAD shim for tests/integ/repo-faults.sh that
 * makes the N-th call of one file-system function fail with a chosen
 * errno, so every storage failure a publish can meet is exercised.
 *
 *   FAULT_CALL   write, fsync, fdatasync, syncfs, rename (rename and
 *                renameat), renameat2, link (link and linkat) or mkdir
 *                (mkdir and mkdirat)
 *   FAULT_N      fail the N-th call of that function (1-based); 0 or
 *                unset: never fail, only count
 *   FAULT_ERRNO  EIO (default), ENOSPC, EROFS or EDQUOT
 *   FAULT_COUNT  file that receives "<calls>\n" at exit
 *
 * Built by the test with `gcc -shared -fPIC -o faultinject.so
 * faultinject.c -ldl`; not part of any installed program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long	 calls;

static int	 hit(const char *);
static void	 report(void) __attribute__((destructor));

/* Count a call of `fn`; 1 when this one must fail (errno is set). */
static int
hit(const char *fn)
{
	const char	*want = getenv("FAULT_CALL"), *e, *n;

	if (want == NULL || strcmp(want, fn) != 0)
		return 0;
	calls++;
	n = getenv("FAULT_N");
	if (n == NULL || strtoul(n, NULL, 10) != calls)
		return 0;
	e = getenv("FAULT_ERRNO");
	if (e != NULL && strcmp(e, "ENOSPC") == 0)
		errno = ENOSPC;
	else if (e != NULL && strcmp(e, "EROFS") == 0)
		errno = EROFS;
	else if (e != NULL && strcmp(e, "EDQUOT") == 0)
		errno = EDQUOT;
	else
		errno = EIO;
	return 1;
}

static void
report(void)
{
	const char	*path = getenv("FAULT_COUNT");
	FILE		*f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "%lu\n", calls);
	fclose(f);
}

#define REAL(fn) \
	static __typeof__(fn) *real; \
	if (real == NULL) \
		*(void **)&real = dlsym(RTLD_NEXT, #fn)

ssize_t
write(int fd, const void *p, size_t n)
{
	REAL(write);
	if (fd > 2 && hit("write"))
		return -1;
	return real(fd, p, n);
}

int
fsync(int fd)
{
	REAL(fsync);
	return hit("fsync") ? -1 : real(fd);
}

int
fdatasync(int fd)
{
	REAL(fdatasync);
	return hit("fdatasync") ? -1 : real(fd);
}

int
syncfs(int fd)
{
	REAL(syncfs);
	return hit("syncfs") ? -1 : real(fd);
}

int
rename(const char *a, const char *b)
{
	REAL(rename);
	return hit("rename") ? -1 : real(a, b);
}

int
renameat(int da, const char *a, int db, const char *b)
{
	REAL(renameat);
	return hit("rename") ? -1 : real(da, a, db, b);
}

int
renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	REAL(renameat2);
	return hit("renameat2") ? -1 : real(da, a, db, b, flags);
}

int
link(const char *a, const char *b)
{
	REAL(link);
	return hit("link") ? -1 : real(a, b);
}

int
linkat(int da, const char *a, int db, const char *b, int flags)
{
	REAL(linkat);
	return hit("link") ? -1 : real(da, a, db, b, flags);
}

int
mkdir(const char *p, mode_t m)
{
	REAL(mkdir);
	return hit("mkdir") ? -1 : real(p, m);
}

int
mkdirat(int d, const char *p, mode_t m)
{
	REAL(mkdirat);
	return hit("mkdir") ? -1 : real(d, p, m);
}
