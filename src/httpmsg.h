/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * httpmsg.h: HTTP/1.1 request framing for the http role (RFC 9112), kept
 * apart from sockets so that every rule can be unit-tested.
 *
 * Strict by design (RELIABILITY.md §2.3 B1, B12, B13): lines end in
 * CRLF only (a bare CR or LF is an error), no obs-fold, no whitespace
 * before a header colon, no control bytes in values, one Host, at most
 * one Content-Length (digits only) and one Transfer-Encoding (exactly
 * "chunked"), never both; origin-form targets only.  Errors are HTTP
 * status codes: the server answers with that code and closes.
 *
 * Trust: parses raw bytes from the network.
 */
#ifndef PM_HTTPMSG_H
#define PM_HTTPMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "util.h"

#define HTTP_HEAD_MAX		8192	/* request line + headers + CRLF */
#define HTTP_URI_MAX		2048
#define HTTP_HEADERS_MAX	100
#define HTTP_CHUNK_LINE_MAX	256	/* chunk size line with extensions */

enum http_method {
	HM_OTHER = 0,
	HM_GET,
	HM_HEAD,
	HM_POST
};

/* The headers the server looks at besides the framing ones. */
enum http_hdr {
	H_HUB_SIGNATURE_256 = 0,	/* X-Hub-Signature-256 */
	H_GITEA_SIGNATURE,		/* X-Gitea-Signature */
	H_FORGEJO_SIGNATURE,		/* X-Forgejo-Signature */
	H_GITLAB_TOKEN,			/* X-Gitlab-Token */
	H_GITHUB_DELIVERY,		/* X-GitHub-Delivery */
	H_GITEA_DELIVERY,		/* X-Gitea-Delivery */
	H_FORGEJO_DELIVERY,		/* X-Forgejo-Delivery */
	H_IDEMPOTENCY_KEY,		/* Idempotency-Key (GitLab) */
	H_REAL_IP,			/* X-Real-IP (set by nginx) */
	H_NUM
};

struct http_head {
	enum http_method method;
	char		 path[HTTP_URI_MAX + 1];	/* query removed */
	int		 minor;		/* HTTP/1.<minor>, 0 or 1 */
	int		 has_clen;
	uint64_t	 clen;
	int		 chunked;
	int		 conn_close;	/* Connection: close */
	int		 expect_continue;
	int		 nheaders;
	const char	*hv[H_NUM];	/* last value, in the parsed buffer */
	int		 hn[H_NUM];	/* times seen */
};

/*
 * Look for the end of a request head in p[0..n).  *scan is where the
 * previous call stopped (start at 0).  Returns the head length including
 * the final CRLF CRLF, 0 when more bytes are needed, -1 on a bare CR or
 * LF (a framing error: 400).
 */
ssize_t	 http_head_end(const char *p, size_t n, size_t *scan);

/*
 * Parse a complete head (as delimited by http_head_end) in place: buf
 * must hold len bytes plus a NUL.  0, or the HTTP status to answer
 * with: 400, 414 (target over HTTP_URI_MAX), 417 (an Expect other than
 * 100-continue), 431 (over HTTP_HEADERS_MAX headers), 505 (HTTP other
 * than 1.0 and 1.1).
 */
int	 http_head_parse(char *buf, size_t len, struct http_head *);

/* Incremental decoder of a chunked body; trailers are read and ignored.
 * limit caps the decoded bytes: exceeding it is a 413 as soon as the
 * chunk size is known. */
struct http_chunked {
	int		 state;
	uint64_t	 size;		/* chunk being read */
	int		 ndigits;
	size_t		 linelen;	/* size line or trailer bytes so far */
	uint64_t	 total;		/* decoded so far */
	uint64_t	 limit;
	int		 done;
	int		 status;	/* 400 or 413 after an error */
};

typedef void (*http_data_fn)(void *, const void *, size_t);

void	 http_chunked_init(struct http_chunked *, uint64_t limit);
/* Consume bytes; decoded data goes to fn.  Returns the number of bytes
 * consumed (less than n only once done), or -1 with status set. */
ssize_t	 http_chunked_feed(struct http_chunked *, const void *, size_t,
	    http_data_fn fn, void *arg);

const char *http_reason(int code);
/* Status line and headers of a response, ending with the blank line.
 * ctype NULL: no Content-Type; extra: more header lines, each ending in
 * CRLF, or NULL. */
void	 http_response_head(struct buf *, int code, const char *ctype,
	    size_t clen, int close, const char *extra, time_t now);

#endif /* PM_HTTPMSG_H */
