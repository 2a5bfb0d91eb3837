/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * httpmsg.c: strict HTTP/1.1 request heads, chunked bodies and response
 * heads (httpmsg.h).  Pure: no sockets, no allocation beyond the
 * caller's buffers, no logging.
 *
 * Trust: every byte is hostile network input; every loop is bounded by
 * the input length and every field by a documented maximum.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpmsg.h"

enum ck_state {
	CK_SIZE = 0,
	CK_EXT,
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER_START,
	CK_TRAILER,
	CK_TRAILER_LF,
	CK_END_LF,
	CK_DONE
};

static const struct {
	const char	*name;
	enum http_hdr	 h;
} known_headers[] = {
	{ "x-hub-signature-256",	H_HUB_SIGNATURE_256 },
	{ "x-gitea-signature",		H_GITEA_SIGNATURE },
	{ "x-forgejo-signature",	H_FORGEJO_SIGNATURE },
	{ "x-gitlab-token",		H_GITLAB_TOKEN },
	{ "x-github-delivery",		H_GITHUB_DELIVERY },
	{ "x-gitea-delivery",		H_GITEA_DELIVERY },
	{ "x-forgejo-delivery",		H_FORGEJO_DELIVERY },
	{ "idempotency-key",		H_IDEMPOTENCY_KEY },
	{ "x-real-ip",			H_REAL_IP }
};

static int	 is_tchar(int);
static int	 parse_request_line(char *, struct http_head *);
static int	 parse_header(char *, struct http_head *, int *);
static int	 parse_clen(const char *, uint64_t *);
static void	 parse_connection(const char *, struct http_head *);
static int	 ck_size_byte(struct http_chunked *, int);
static int	 ck_tail_byte(struct http_chunked *, int);

/* RFC 9110 token characters. */
static int
is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

ssize_t
http_head_end(const char *p, size_t n, size_t *scan)
{
	size_t	 i;

	for (i = *scan; i < n; i++) {
		if (p[i] == '\r') {
			if (i + 1 == n)
				break;		/* decide when the LF comes */
			if (p[i + 1] != '\n')
				return -1;
		} else if (p[i] == '\n') {
			if (i == 0 || p[i - 1] != '\r')
				return -1;
			if (i >= 3 && p[i - 2] == '\n' && p[i - 3] == '\r')
				return (ssize_t)(i + 1);
		}
	}
	*scan = i;
	return 0;
}

static int
parse_request_line(char *line, struct http_head *h)
{
	char	*target, *version, *q;
	size_t	 i, n;

	if ((target = strchr(line, ' ')) == NULL)
		return 400;
	*target++ = '\0';
	if ((version = strchr(target, ' ')) == NULL)
		return 400;
	*version++ = '\0';
	n = strlen(line);
	if (n == 0 || n > 16)
		return 400;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)line[i]))
			return 400;
	h->method = strcmp(line, "GET") == 0 ? HM_GET :
	    strcmp(line, "HEAD") == 0 ? HM_HEAD :
	    strcmp(line, "POST") == 0 ? HM_POST : HM_OTHER;
	n = strlen(target);
	if (n > HTTP_URI_MAX)
		return 414;
	if (n == 0 || target[0] != '/')
		return 400;
	for (i = 0; i < n; i++)
		if ((unsigned char)target[i] <= 0x20 ||
		    (unsigned char)target[i] >= 0x7f)
			return 400;
	if ((q = strchr(target, '?')) != NULL)
		*q = '\0';
	memcpy(h->path, target, strlen(target) + 1);
	if (strcmp(version, "HTTP/1.1") == 0)
		h->minor = 1;
	else if (strcmp(version, "HTTP/1.0") == 0)
		h->minor = 0;
	else if (strlen(version) == 8 && strncmp(version, "HTTP/", 5) == 0 &&
	    version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
	    version[7] >= '0' && version[7] <= '9')
		return 505;
	else
		return 400;
	return 0;
}

static int
parse_clen(const char *v, uint64_t *out)
{
	uint64_t	 x = 0;
	size_t		 i, n = strlen(v);

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

static void
parse_connection(const char *v, struct http_head *h)
{
	const char	*p = v;
	size_t		 n;

	while (*p != '\0') {
		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 5 && strncasecmp(p, "close", 5) == 0)
			h->conn_close = 1;
		p += n;
	}
}

/* One "name: value" line.  *nhost counts Host headers. */
static int
parse_header(char *line, struct http_head *h, int *nhost)
{
	char	*colon, *v, *e;
	size_t	 i;

	if ((colon = strchr(line, ':')) == NULL || colon == line)
		return 400;
	*colon = '\0';
	for (i = 0; line[i] != '\0'; i++)
		if (!is_tchar((unsigned char)line[i]))
			return 400;	/* also space before ':', obs-fold */
	v = colon + 1;
	v += strspn(v, " \t");
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	for (i = 0; v[i] != '\0'; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    (unsigned char)v[i] == 0x7f)
			return 400;
	if (strcasecmp(line, "content-length") == 0) {
		if (h->has_clen || parse_clen(v, &h->clen) == -1)
			return 400;
		h->has_clen = 1;
	} else if (strcasecmp(line, "transfer-encoding") == 0) {
		if (h->chunked || strcasecmp(v, "chunked") != 0)
			return 400;
		h->chunked = 1;
	} else if (strcasecmp(line, "connection") == 0) {
		parse_connection(v, h);
	} else if (strcasecmp(line, "expect") == 0) {
		if (strcasecmp(v, "100-continue") != 0)
			return 417;
		h->expect_continue = 1;
	} else if (strcasecmp(line, "host") == 0) {
		if (++*nhost > 1)
			return 400;
	} else {
		for (i = 0; i < nitems(known_headers); i++) {
			if (strcasecmp(line, known_headers[i].name) == 0) {
				h->hv[known_headers[i].h] = v;
				h->hn[known_headers[i].h]++;
			}
		}
	}
	return 0;
}

int
http_head_parse(char *buf, size_t len, struct http_head *h)
{
	char	*line = buf, *eol, *end = buf + len - 2;
	int	 rc, nhost = 0;

	memset(h, 0, sizeof(*h));
	if (len < 4 || memcmp(end - 2, "\r\n\r\n", 4) != 0)
		return 400;
	while (line < end) {
		if ((eol = strstr(line, "\r\n")) == NULL)
			return 400;	/* a NUL byte inside the head */
		*eol = '\0';
		if (line == buf)
			rc = parse_request_line(line, h);
		else if (++h->nheaders > HTTP_HEADERS_MAX)
			rc = 431;
		else
			rc = parse_header(line, h, &nhost);
		if (rc != 0)
			return rc;
		line = eol + 2;
	}
	if (line != end)
		return 400;
	if (h->has_clen && h->chunked)
		return 400;	/* ambiguous framing (smuggling) */
	if (h->minor == 1 && nhost == 0)
		return 400;
	if (h->minor == 0 && h->chunked)
		return 400;
	return 0;
}

/* ---- chunked bodies ------------------------------------------------ */

void
http_chunked_init(struct http_chunked *c, uint64_t limit)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit;
}

/* The size line: hex digits, optional extensions, CRLF. */
static int
ck_size_byte(struct http_chunked *c, int b)
{
	int	 d;

	if (c->state != CK_SIZE_LF && ++c->linelen > HTTP_CHUNK_LINE_MAX)
		return -1;
	switch (c->state) {
	case CK_SIZE:
		if ((d = hex_digit(b)) != -1) {
			if (++c->ndigits > 15)
				return -1;
			c->size = c->size * 16 + (uint64_t)d;
		} else if (c->ndigits > 0 && (b == ';' || b == '\r'))
			c->state = b == ';' ? CK_EXT : CK_SIZE_LF;
		else
			return -1;
		return 0;
	case CK_EXT:
		if (b == '\r')
			c->state = CK_SIZE_LF;
		else if ((b < 0x20 && b != '\t') || b == 0x7f)
			return -1;
		return 0;
	default:	/* CK_SIZE_LF */
		if (b != '\n')
			return -1;
		if (c->size > c->limit - c->total) {
			c->status = 413;
			return -1;
		}
		c->state = c->size == 0 ? CK_TRAILER_START : CK_DATA;
		c->linelen = 0;
		return 0;
	}
}

/* The CRLF after chunk data, the trailer section, the final CRLF. */
static int
ck_tail_byte(struct http_chunked *c, int b)
{
	switch (c->state) {
	case CK_DATA_CR:
		c->state = CK_DATA_LF;
		return b == '\r' ? 0 : -1;
	case CK_DATA_LF:
		c->state = CK_SIZE;
		c->size = 0;
		c->ndigits = 0;
		c->linelen = 0;
		return b == '\n' ? 0 : -1;
	case CK_TRAILER_START:
		if (b == '\r') {
			c->state = CK_END_LF;
			return 0;
		}
		c->state = CK_TRAILER;
		/* FALLTHROUGH */
	case CK_TRAILER:
		if (++c->linelen > HTTP_HEAD_MAX || b == '\n')
			return -1;
		if (b == '\r')
			c->state = CK_TRAILER_LF;
		return 0;
	case CK_TRAILER_LF:
		c->state = CK_TRAILER_START;
		return b == '\n' ? 0 : -1;
	case CK_END_LF:
		if (b != '\n')
			return -1;
		c->state = CK_DONE;
		c->done = 1;
		return 0;
	default:
		return -1;
	}
}

ssize_t
http_chunked_feed(struct http_chunked *c, const void *p, size_t n,
    http_data_fn fn, void *arg)
{
	const uint8_t	*b = p;
	size_t		 i = 0, k;

	if (c->status != 0)
		return -1;
	while (i < n && c->state != CK_DONE) {
		if (c->state == CK_DATA) {
			k = n - i;
			if (k > c->size)
				k = (size_t)c->size;
			fn(arg, b + i, k);
			c->size -= k;
			c->total += k;
			i += k;
			if (c->size == 0)
				c->state = CK_DATA_CR;
			continue;
		}
		if ((c->state <= CK_SIZE_LF ? ck_size_byte(c, b[i]) :
		    ck_tail_byte(c, b[i])) == -1) {
			if (c->status == 0)
				c->status = 400;
			return -1;
		}
		i++;
	}
	return (ssize_t)i;
}

/* ---- responses ----------------------------------------------------- */

const char *
http_reason(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

void
http_response_head(struct buf *b, int code, const char *ctype, size_t clen,
    int close, const char *extra, time_t now)
{
	struct tm	 tm;
	char		 date[64];

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	buf_addf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", code, http_reason(code),
	    date);
	if (ctype != NULL)
		buf_addf(b, "Content-Type: %s\r\n", ctype);
	buf_addf(b, "Content-Length: %zu\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Cache-Control: no-store\r\n", clen);
	if (extra != NULL)
		buf_adds(b, extra);
	if (close)
		buf_adds(b, "Connection: close\r\n");
	buf_adds(b, "\r\n");
}
