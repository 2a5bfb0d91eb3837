/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fuzz_http.c: libFuzzer harness for what the http role does with bytes
 * from the network (RELIABILITY.md §2.10 Z2, Z3): the request head
 * (src/httpmsg.c: http_head_end, http_head_parse), chunked bodies
 * (http_chunked_feed) and webhook JSON (src/webhook.c: wh_json_*).
 *
 * Input: byte 0 picks the target (mod 3) and, for the head and the JSON,
 * the forge; byte 1 the piece size the input is fed in (1-256), as the
 * network would split it; the rest is the data.  Invariants (abort on
 * violation): a head end never lies past the input and ends in CRLF
 * CRLF; a parse answers 0 or one of the documented codes, and on 0 the
 * path is origin-form and the version 1.0 or 1.1; the chunked decoder
 * never consumes more than it was given, never passes on more than its
 * limit and reports what it passed on; JSON candidates are NUL-free
 * strings of at most WH_STR_MAX bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg.h"
#include "webhook.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHUNK_LIMIT	4096

static void
fuzz_head(const uint8_t *d, size_t n, size_t piece)
{
	struct http_head	 h;
	size_t			 scan = 0, have;
	ssize_t			 end = 0;
	char			*copy;
	int			 rc;

	/* Grow the visible input piece by piece, as reads would. */
	for (have = piece < n ? piece : n; ; have += piece) {
		if (have > n)
			have = n;
		end = http_head_end((const char *)d, have, &scan);
		if (end != 0 || have == n)
			break;
	}
	if (end <= 0)
		return;
	if ((size_t)end > n || memcmp(d + end - 4, "\r\n\r\n", 4) != 0)
		abort();
	copy = malloc((size_t)end + 1);
	memcpy(copy, d, (size_t)end);
	copy[end] = '\0';
	rc = http_head_parse(copy, (size_t)end, &h);
	if (rc != 0 && rc != 400 && rc != 414 && rc != 417 && rc != 431 &&
	    rc != 505)
		abort();
	if (rc == 0 && (h.path[0] != '/' || (h.minor != 0 && h.minor != 1) ||
	    strlen(h.path) > HTTP_URI_MAX))
		abort();
	free(copy);
}

static void
count(void *arg, const void *p, size_t n)
{
	(void)p;
	*(uint64_t *)arg += n;
}

static void
fuzz_chunked(const uint8_t *d, size_t n, size_t piece)
{
	struct http_chunked	 c;
	uint64_t		 out = 0;
	size_t			 off = 0, len;
	ssize_t			 used;

	http_chunked_init(&c, CHUNK_LIMIT);
	while (off < n && !c.done) {
		len = n - off < piece ? n - off : piece;
		used = http_chunked_feed(&c, d + off, len, count, &out);
		if (used == -1) {
			if (c.status != 400 && c.status != 413)
				abort();
			break;
		}
		if ((size_t)used > len || ((size_t)used < len && !c.done))
			abort();
		off += (size_t)used;
	}
	if (out != c.total || c.total > CHUNK_LIMIT)
		abort();
}

static void
fuzz_json(const uint8_t *d, size_t n, size_t piece, enum forge f)
{
	struct wh_json	*j = wh_json_new(f);
	const char	*u;
	size_t		 off, i;

	for (off = 0; off < n; off += piece)
		(void)wh_json_feed(j, d + off, n - off < piece ? n - off :
		    piece);
	if (wh_json_finish(j) == 0)
		for (i = 0; i < WH_NURL; i++)
			if ((u = wh_json_url(j, i)) != NULL &&
			    (u[0] == '\0' || strlen(u) > WH_STR_MAX))
				abort();
	if (strlen(wh_json_log_url(j)) > WH_STR_MAX)
		abort();
	wh_json_free(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	 piece;

	if (size < 2)
		return 0;
	piece = (size_t)data[1] + 1;
	switch (data[0] % 3) {
	case 0:
		fuzz_head(data + 2, size - 2, piece);
		break;
	case 1:
		fuzz_chunked(data + 2, size - 2, piece);
		break;
	default:
		fuzz_json(data + 2, size - 2, piece,
		    (enum forge)((data[0] / 3) % FORGE_NUM));
		break;
	}
	return 0;
}
