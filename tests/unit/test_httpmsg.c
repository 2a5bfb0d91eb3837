/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_httpmsg.c: request-head framing, the strict header rules
 * (RELIABILITY.md B1, B12, B13), chunked bodies and response heads
 * (src/httpmsg.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "httpmsg.h"

/* Frame and parse one head; returns the parse status, or -1 when the
 * framing (http_head_end) failed, -2 when it wanted more bytes.  The
 * parsed copy lives until the next call (h->hv points into it). */
static int
parse(const char *s, struct http_head *h)
{
	static char	*copy;
	size_t		 n = strlen(s), scan = 0, i;
	ssize_t		 end = 0;

	/* byte by byte, as a slow client would send it */
	for (i = 1; i <= n && end == 0; i++)
		end = http_head_end(s, i, &scan);
	if (end == -1)
		return -1;
	if (end == 0)
		return -2;
	free(copy);
	copy = xstrndup(s, (size_t)end);
	return http_head_parse(copy, (size_t)end, h);
}

static void
test_head_good(void **state)
{
	struct http_head	 h;

	assert_int_equal(parse("GET /status?x=1 HTTP/1.1\r\nHost: a\r\n"
	    "X-Hub-Signature-256:  sha256=ab \t\r\nconnection: Keep-Alive, "
	    "CLOSE\r\n\r\nTRAILING", &h), 0);
	assert_int_equal(h.method, HM_GET);
	assert_string_equal(h.path, "/status");
	assert_int_equal(h.minor, 1);
	assert_true(h.conn_close);
	assert_int_equal(h.hn[H_HUB_SIGNATURE_256], 1);
	assert_string_equal(h.hv[H_HUB_SIGNATURE_256], "sha256=ab");
	assert_false(h.has_clen);
	assert_false(h.chunked);

	assert_int_equal(parse("POST /webhooks/github HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 0042\r\nExpect: 100-Continue\r\n"
	    "X-GitHub-Delivery: g1\r\nx-github-delivery: g2\r\n\r\n", &h), 0);
	assert_int_equal(h.method, HM_POST);
	assert_true(h.has_clen);
	assert_int_equal(h.clen, 42);
	assert_true(h.expect_continue);
	assert_int_equal(h.hn[H_GITHUB_DELIVERY], 2);
	assert_string_equal(h.hv[H_GITHUB_DELIVERY], "g2");

	assert_int_equal(parse("DELETE / HTTP/1.0\r\n\r\n", &h), 0);
	assert_int_equal(h.method, HM_OTHER);
	assert_int_equal(h.minor, 0);
	assert_int_equal(parse("POST /x HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n", &h), 0);
	assert_true(h.chunked);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\n\r\n", &h),
	    0);
}

static void
test_head_bad(void **state)
{
	static const struct {
		const char	*req;
		int		 status;
	} t[] = {
		/* framing */
		{ "GET / HTTP/1.1\nHost: a\n\n", -1 },
		{ "GET / HTTP/1.1\r\nHost: a\n\r\n", -1 },
		{ "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", -1 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n", -2 },
		{ "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", -2 },
		/* request line */
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
		{ "GET /\r\n\r\n", 400 },
		{ "GET http://x/status HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400 },
		{ "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		/* headers */
		{ "GET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01 b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417 },
		/* smuggling */
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		    "Content-Length: 3\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n",
		    400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n",
		    400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
		    400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
		    "1234567890123456789\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding: chunked, identity\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		    400 },
	};
	char			 nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	struct http_head	 h;
	size_t			 i, scan = 0, n = sizeof(nul) - 1;
	int			 rc;

	for (i = 0; i < nitems(t); i++) {
		/* strlen stops at the embedded NUL: the framing then waits */
		rc = parse(t[i].req, &h);
		if (rc != t[i].status)
			fail_msg("case %zu: got %d, want %d", i, rc,
			    t[i].status);
	}
	/* a NUL byte inside a complete head */
	assert_int_equal(http_head_end(nul, n, &scan), (ssize_t)n);
	assert_int_equal(http_head_parse(nul, n, &h), 400);
}

static void
test_head_limits(void **state)
{
	struct http_head	 h;
	struct buf		 b = BUF_INIT;
	int			 i;

	buf_adds(&b, "GET /");
	for (i = 0; i < HTTP_URI_MAX; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(parse(buf_str(&b), &h), 414);
	buf_reset(&b);
	buf_adds(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < HTTP_HEADERS_MAX - 1; i++)
		buf_adds(&b, "X: y\r\n");
	buf_adds(&b, "\r\n");
	assert_int_equal(parse(buf_str(&b), &h), 0);
	buf_reset(&b);
	buf_adds(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < HTTP_HEADERS_MAX; i++)
		buf_adds(&b, "X: y\r\n");
	buf_adds(&b, "\r\n");
	assert_int_equal(parse(buf_str(&b), &h), 431);
	buf_free(&b);
}

struct sink {
	struct buf	 b;
	int		 calls;
};

static void
sink_fn(void *arg, const void *p, size_t n)
{
	struct sink	*s = arg;

	buf_add(&s->b, p, n);
	s->calls++;
}

/* Feed in pieces of `step` bytes; returns total consumed or -1. */
static ssize_t
chunked(const char *in, size_t n, size_t step, uint64_t limit,
    struct sink *s, struct http_chunked *c)
{
	size_t	 off = 0, k;
	ssize_t	 r;

	http_chunked_init(c, limit);
	memset(s, 0, sizeof(*s));
	while (off < n && !c->done) {
		k = n - off < step ? n - off : step;
		if ((r = http_chunked_feed(c, in + off, k, sink_fn, s)) == -1)
			return -1;
		off += (size_t)r;
		if ((size_t)r < k)
			break;
	}
	return (ssize_t)off;
}

static void
test_chunked(void **state)
{
	static const char body[] = "4\r\nWiki\r\n5;ext=\"x\"\r\npedia\r\n"
	    "E\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nNEXT";
	struct http_chunked	 c;
	struct sink		 s;
	size_t			 step;

	for (step = 1; step <= sizeof(body); step++) {
		assert_int_equal(chunked(body, sizeof(body) - 1, step, 1000,
		    &s, &c), sizeof(body) - 1 - 4);
		assert_true(c.done);
		assert_int_equal(s.b.len, 23);
		assert_memory_equal(s.b.data,
		    "Wikipedia in\r\n\r\nchunks.", 23);
		buf_free(&s.b);
	}
	/* the limit is checked when the size is known, before the data */
	assert_int_equal(chunked(body, sizeof(body) - 1, 7, 22, &s, &c), -1);
	assert_int_equal(c.status, 413);
	assert_int_equal(s.b.len, 9);
	buf_free(&s.b);
	assert_int_equal(chunked("fffffffffffffff\r\n", 17, 3, UINT64_MAX,
	    &s, &c), 17);
	assert_false(c.done);
	buf_free(&s.b);
}

static void
test_chunked_bad(void **state)
{
	static const char *const bad[] = {
		"\r\n", "x\r\n", "4\nWiki\r\n0\r\n\r\n", "4\r\nWikiX\r\n",
		"4\r\nWiki\r\r", " 4\r\nWiki\r\n", "4 \r\nWiki\r\n",
		"-4\r\n", "0x4\r\n", "1000000000000000\r\n",
		"0\r\nX: 1\n\r\n", "0\r\n\rX", "4;\x01\r\n",
	};
	struct http_chunked	 c;
	struct sink		 s;
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		if (chunked(bad[i], strlen(bad[i]), 1, UINT64_MAX, &s,
		    &c) != -1 || c.status != 400)
			fail_msg("accepted: case %zu", i);
		buf_free(&s.b);
	}
}

static void
test_response_head(void **state)
{
	struct buf	 b = BUF_INIT;

	http_response_head(&b, 405, "text/plain; charset=utf-8", 19, 1,
	    "Allow: GET, HEAD\r\n", 0);
	assert_string_equal(buf_str(&b),
	    "HTTP/1.1 405 Method Not Allowed\r\n"
	    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 19\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Cache-Control: no-store\r\n"
	    "Allow: GET, HEAD\r\n"
	    "Connection: close\r\n\r\n");
	buf_reset(&b);
	http_response_head(&b, 200, NULL, 0, 0, NULL, 86400);
	assert_string_equal(buf_str(&b),
	    "HTTP/1.1 200 OK\r\n"
	    "Date: Fri, 02 Jan 1970 00:00:00 GMT\r\n"
	    "Content-Length: 0\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Cache-Control: no-store\r\n\r\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_good),
		cmocka_unit_test(test_head_bad),
		cmocka_unit_test(test_head_limits),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_response_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
