/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * http_conn.c: the HTTP/1.1 connections of the http role (http.c has
 * the design notes): accept, the per-connection state machine (idle,
 * head, body, waiting for the parent, writing, lingering), its
 * deadlines, request routing and the responses.  Heads and chunked
 * bodies are framed by httpmsg.c; webhook bodies go to http.c piece by
 * piece as they arrive and are never stored.
 *
 * Trust: reads hostile network bytes.  Every input is bounded: the
 * bufferevent reads at most HTTP_READ_HIGH bytes ahead, a head at most
 * HTTP_HEAD_MAX, a body at most max_body; every state has a deadline.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http.h"

static void	 conn_process(struct conn *);

/* ---- responses ------------------------------------------------------ */

static void
doc_cleanup(const void *data, size_t len, void *arg)
{
	http_doc_unref(arg);
}

enum step
conn_respond(struct conn *c, int code, const char *ctype, const void *body,
    size_t len, struct doc *doc, const char *extra)
{
	struct evbuffer	*out = bufferevent_get_output(c->c_bev);
	struct buf	 hb = BUF_INIT;

	if (c->c_unread || httpd.shutting)
		c->c_close = 1;
	if (doc != NULL)
		len = doc->d_len;
	http_response_head(&hb, code, ctype, len, c->c_close, extra,
	    time(NULL));
	evbuffer_add(out, hb.data, hb.len);
	buf_free(&hb);
	if (!c->c_headonly && len > 0) {
		if (doc != NULL) {
			doc->d_refs++;
			evbuffer_add_reference(out, doc->d_data, len,
			    doc_cleanup, doc);
		} else
			evbuffer_add(out, body, len);
	}
	conn_state(c, CS_WRITE);
	return STEP_WAIT;
}

enum step
conn_respond_text(struct conn *c, int code, const char *text, const char *extra)
{
	return conn_respond(c, code, CT_TEXT, text, strlen(text), NULL, extra);
}

const char *
conn_error_text(int code)
{
	switch (code) {
	case 400: return "bad request\n";
	case 404: return "404 page not found\n";
	case 405: return "method not allowed\n";
	case 408: return "request timeout\n";
	case 413: return "request body too large\n";
	case 414: return "request target too long\n";
	case 417: return "expectation failed\n";
	case 431: return "request header fields too large\n";
	case 505: return "http version not supported\n";
	default: return "service unavailable\n";
	}
}

enum step
conn_respond_error(struct conn *c, int code)
{
	return conn_respond_text(c, code, conn_error_text(code), NULL);
}

/* ---- connection state ----------------------------------------------- */

void
conn_state(struct conn *c, enum cstate s)
{
	int64_t	 now = role_now(), at;

	c->c_state = s;
	switch (s) {
	case CS_IDLE:
		at = c->c_nreq == 0 ? c->c_accepted + httpd.header_timeout :
		    now + httpd.keepalive_timeout;
		bufferevent_enable(c->c_bev, EV_READ);
		break;
	case CS_HEAD:
		at = (c->c_nreq == 0 ? c->c_accepted : now) +
		    httpd.header_timeout;
		break;
	case CS_BODY:
		c->c_body_deadline = now + httpd.body_timeout;
		at = now + httpd.body_idle_timeout;
		if (at > c->c_body_deadline)
			at = c->c_body_deadline;
		break;
	case CS_WAIT:
		bufferevent_disable(c->c_bev, EV_READ);
		at = now + HTTP_ACK_TIMEOUT;
		break;
	case CS_WRITE:
		bufferevent_disable(c->c_bev, EV_READ);
		at = now + HTTP_WRITE_TOTAL;
		break;
	default:	/* CS_LINGER */
		bufferevent_enable(c->c_bev, EV_READ);
		at = now + HTTP_LINGER;
		break;
	}
	http_timer_at(c->c_timer, at);
}

static void
conn_reset(struct conn *c)
{
	wh_req_free(c->c_wh);
	c->c_wh = NULL;
	free(c->c_logurl);
	c->c_logurl = NULL;
	c->c_close = c->c_unread = c->c_headonly = c->c_chunked = 0;
	c->c_left = 0;
	c->c_delivery[0] = c->c_recipe[0] = '\0';
	c->c_scan = 0;
	c->c_crlf = 0;
}

void
conn_free(struct conn *c)
{
	if (c->c_reqid != 0)
		http_pending_remove(c);
	TAILQ_REMOVE(&httpd.conns, c, c_entry);
	httpd.nconns--;
	conn_reset(c);
	event_free(c->c_timer);
	bufferevent_free(c->c_bev);
	free(c);
	http_listeners_update();
	if (httpd.shutting && httpd.nconns == 0)
		role_exit(httpd.role, 0);
}

static void
conn_timercb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	switch (c->c_state) {
	case CS_HEAD:
	case CS_BODY:
		/* answer, then close without lingering */
		c->c_unread = 0;
		c->c_close = 1;
		conn_respond_error(c, 408);
		break;
	case CS_WAIT:
		http_pending_remove(c);
		log_event(LL_WARN, "webhook not acknowledged by the parent",
		    LKV_S("recipe", c->c_recipe));
		conn_respond_error(c, 503);
		break;
	default:	/* idle, write or linger deadline */
		conn_free(c);
		break;
	}
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	conn_free(arg);		/* EOF, error, or the write idle timeout */
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->c_state != CS_WRITE)
		return;		/* a 100 Continue went out */
	if (c->c_close && !c->c_unread) {
		conn_free(c);
		return;
	}
	if (c->c_close) {
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		conn_state(c, CS_LINGER);
	} else {
		conn_reset(c);
		conn_state(c, CS_IDLE);
	}
	conn_process(c);	/* pipelined or lingering input */
}

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

/* ---- reading requests ----------------------------------------------- */

static enum step
conn_idle(struct conn *c)
{
	if (evbuffer_get_length(bufferevent_get_input(c->c_bev)) == 0)
		return STEP_WAIT;
	conn_state(c, CS_HEAD);
	return STEP_NEXT;
}

static enum step
serve_doc(struct conn *c, int kind, const char *ctype)
{
	if (httpd.doc[kind] == NULL)
		return conn_respond_text(c, 503, "status not available yet\n",
		    NULL);
	return conn_respond(c, 200, ctype, NULL, 0, httpd.doc[kind], NULL);
}

static enum step
serve_get(struct conn *c, const struct http_head *h)
{
	if (h->method != HM_GET && h->method != HM_HEAD)
		return conn_respond_text(c, 405, conn_error_text(405),
		    "Allow: GET, HEAD\r\n");
	if (c->c_unread)
		return conn_respond_error(c, 413);	/* no body on these */
	if (strcmp(h->path, "/healthz") == 0)
		return conn_respond_text(c, 200, "ok\n", NULL);
	if (strcmp(h->path, "/status") == 0)
		return serve_doc(c, 0, CT_JSON);
	return serve_doc(c, 1, CT_METRICS);
}

static enum step
conn_request(struct conn *c, const struct http_head *h)
{
	enum forge	 f;

	c->c_nreq++;
	c->c_close = h->conn_close || h->minor == 0;
	c->c_headonly = h->method == HM_HEAD;
	c->c_unread = h->chunked || (h->has_clen && h->clen > 0);
	if (c->c_unix) {
		/* behind nginx: its X-Real-IP, for logs only */
		http_copy_token(c->c_remote, sizeof(c->c_remote),
		    h->hv[H_REAL_IP], "0123456789abcdefABCDEF.:");
		if (c->c_remote[0] == '\0')
			snprintf(c->c_remote, sizeof(c->c_remote), "unix");
	}
	if (strcmp(h->path, "/healthz") == 0 ||
	    strcmp(h->path, "/status") == 0 ||
	    strcmp(h->path, "/metrics") == 0)
		return serve_get(c, h);
	if (wh_forge_from_path(h->path, &f) == 0)
		return http_webhook_begin(c, h, f);
	return conn_respond_error(c, 404);
}

static enum step
conn_head(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_bev);
	struct http_head	 h;
	char			 head[HTTP_HEAD_MAX + 1];
	size_t			 len = evbuffer_get_length(in), n;
	ssize_t			 end;
	char			*p;
	int			 rc;

	n = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	if ((p = (char *)evbuffer_pullup(in, (ssize_t)n)) == NULL)
		return STEP_WAIT;
	if (c->c_scan == 0 && n >= 2 && p[0] == '\r' && p[1] == '\n') {
		if (++c->c_crlf > HTTP_CRLF_MAX)
			return conn_respond_error(c, 400);
		evbuffer_drain(in, 2);	/* RFC 9112 2.2: empty lines */
		return STEP_NEXT;
	}
	if ((end = http_head_end(p, n, &c->c_scan)) == -1) {
		c->c_unread = 1;
		return conn_respond_error(c, 400);
	}
	if (end == 0) {
		if (len < HTTP_HEAD_MAX)
			return STEP_WAIT;
		c->c_unread = 1;
		return conn_respond_error(c, 431);
	}
	memcpy(head, p, (size_t)end);
	head[end] = '\0';
	evbuffer_drain(in, (size_t)end);
	if ((rc = http_head_parse(head, (size_t)end, &h)) != 0) {
		c->c_unread = 1;
		return conn_respond_error(c, rc);
	}
	return conn_request(c, &h);
}

static void
body_sink(void *arg, const void *p, size_t n)
{
	struct conn	*c = arg;

	wh_req_body(c->c_wh, p, n);
}

/* Feed up to max input bytes (all for chunked) to the body decoder. */
static enum step
conn_body(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_bev);
	struct evbuffer_iovec	 v[HTTP_IOV];
	size_t			 used = 0, k;
	ssize_t			 r;
	int			 i, nv;
	int64_t			 at;

	if ((nv = evbuffer_peek(in, -1, NULL, v, HTTP_IOV)) <= 0)
		return STEP_WAIT;
	for (i = 0; i < nv && i < HTTP_IOV && !c->c_ck.done; i++) {
		if (c->c_chunked) {
			r = http_chunked_feed(&c->c_ck, v[i].iov_base,
			    v[i].iov_len, body_sink, c);
			if (r == -1) {
				evbuffer_drain(in, used);
				http_hook_rejected(c, c->c_ck.status == 413 ?
				    HOOK_TOO_LARGE : HOOK_BAD_REQUEST);
				return conn_respond_error(c, c->c_ck.status);
			}
			k = (size_t)r;
		} else {
			k = v[i].iov_len < c->c_left ? v[i].iov_len :
			    (size_t)c->c_left;
			body_sink(c, v[i].iov_base, k);
			if ((c->c_left -= k) == 0)
				c->c_ck.done = 1;
		}
		used += k;
	}
	evbuffer_drain(in, used);
	if (c->c_ck.done) {
		c->c_unread = 0;
		return http_webhook_finish(c);
	}
	at = role_now() + httpd.body_idle_timeout;
	http_timer_at(c->c_timer, at < c->c_body_deadline ? at :
	    c->c_body_deadline);
	return nv > HTTP_IOV ? STEP_NEXT : STEP_WAIT;
}

static enum step
conn_linger(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->c_bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	return STEP_WAIT;
}

static void
conn_process(struct conn *c)
{
	enum step	 s = STEP_NEXT;

	while (s == STEP_NEXT) {
		switch (c->c_state) {
		case CS_IDLE:
			s = conn_idle(c);
			break;
		case CS_HEAD:
			s = conn_head(c);
			break;
		case CS_BODY:
			s = conn_body(c);
			break;
		case CS_LINGER:
			s = conn_linger(c);
			break;
		default:
			s = STEP_WAIT;
			break;
		}
	}
}

/* ---- accepting ------------------------------------------------------ */

void
conn_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*l = arg;
	struct conn	*c;
	struct timeval	 wt = { HTTP_WRITE_IDLE_SEC, 0 };
	char		 ip[INET6_ADDRSTRLEN];

	if (httpd.shutting || httpd.nconns >= httpd.max_conns) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	if ((c->c_bev = bufferevent_socket_new(httpd.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (c->c_timer = evtimer_new(httpd.base, conn_timercb, c)) == NULL)
		fatalx("libevent: cannot set up a connection");
	bufferevent_setcb(c->c_bev, conn_readcb, conn_writecb, conn_eventcb,
	    c);
	bufferevent_setwatermark(c->c_bev, EV_READ, 0, HTTP_READ_HIGH);
	bufferevent_set_timeouts(c->c_bev, NULL, &wt);
	c->c_unix = l->l_unix;
	c->c_accepted = role_now();
	if (sa->sa_family == AF_INET && inet_ntop(AF_INET,
	    &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip)) != NULL)
		snprintf(c->c_remote, sizeof(c->c_remote), "%s:%u", ip,
		    ntohs(((struct sockaddr_in *)sa)->sin_port));
	else if (sa->sa_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip)) != NULL)
		snprintf(c->c_remote, sizeof(c->c_remote), "[%s]:%u", ip,
		    ntohs(((struct sockaddr_in6 *)sa)->sin6_port));
	TAILQ_INSERT_TAIL(&httpd.conns, c, c_entry);
	httpd.nconns++;
	conn_state(c, CS_IDLE);
	http_listeners_update();
}
