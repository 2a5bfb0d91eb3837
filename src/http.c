/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * http.c: the http role (`peipkg-manager -P http`): /healthz, /status,
 * /metrics and the forge webhooks, served on listening sockets the
 * parent passes (PM_CONF_LISTENER), under an unprivileged user, in an
 * empty chroot, behind a seccomp allow-list (role.h).
 *
 * A small HTTP/1.1 server on libevent bufferevents, not evhttp: evhttp
 * in libevent 2.1.12 reads a whole request body before the first user
 * callback (evhttp_set_newreqcb, which would allow streaming, only
 * exists from 2.2), cannot answer early without re-entering its state
 * machine, answers errors with text/html pages, and has only idle
 * timeouts and no connection cap.  Here http_conn.c runs the
 * connections, httpmsg.c frames every request, and every limit is ours
 * (doc/http.md):
 *	head: HTTP_HEAD_MAX bytes, a deadline for the whole head
 *	(header_timeout, counted from accept or from the first byte of a
 *	keep-alive request); body: max_body bytes, checked on
 *	Content-Length and as a chunked body streams, idle and total
 *	deadlines; keep-alive idle timeout; writes: idle and total
 *	timeouts; at most max_connections connections (the listeners pause
 *	at the cap and resume on close); at most max_pending webhooks
 *	waiting for the parent, then 503.
 * A webhook body is never stored: each piece is MACed and fed to the
 * streaming JSON parser (webhook.c) as it arrives, then dropped.
 * Responses always carry X-Content-Type-Options: nosniff; errors are
 * short text/plain bodies.  A response sent before the request was read
 * entirely closes the connection after a short lingering read, so the
 * client sees the answer rather than a reset.
 *
 * Trust: everything from the network is hostile.  The parent is
 * trusted (configuration, secrets, listeners, status documents).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "crypto.h"
#include "http.h"

struct httpd	 httpd;

static enum step webhook_forward(struct conn *);

/* ---- helpers shared with http_conn.c -------------------------------- */

void
http_timer_at(struct event *ev, int64_t at)
{
	int64_t		 d = at - role_now();
	struct timeval	 tv;

	if (d < 0)
		d = 0;
	tv.tv_sec = (time_t)(d / NS);
	tv.tv_usec = (suseconds_t)(d % NS / 1000);
	evtimer_add(ev, &tv);
}

void
http_doc_unref(struct doc *d)
{
	if (d != NULL && --d->d_refs == 0)
		free(d);
}

/* Copy a header value made only of the allowed characters (NULL:
 * visible ASCII); anything else, or too long, gives "". */
void
http_copy_token(char *dst, size_t size, const char *v, const char *allowed)
{
	static const char	*visible =
	    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
	size_t			 n;

	dst[0] = '\0';
	if (v == NULL || (n = strlen(v)) == 0 || n >= size ||
	    strspn(v, allowed != NULL ? allowed : visible) != n)
		return;
	memcpy(dst, v, n + 1);
}

void
http_pending_remove(struct conn *c)
{
	TAILQ_REMOVE(&httpd.pending, c, c_pending);
	httpd.npending--;
	c->c_reqid = 0;
}

/* ---- webhooks ------------------------------------------------------- */

/* The forge's authentication header and delivery id. */
static const char *
auth_value(const struct http_head *h, enum forge f, int *ndup,
    const char **delivery)
{
	const char	*v, *fj;

	switch (f) {
	case FORGE_GITHUB:
		*ndup = h->hn[H_HUB_SIGNATURE_256];
		*delivery = h->hv[H_GITHUB_DELIVERY];
		return h->hv[H_HUB_SIGNATURE_256];
	case FORGE_GITLAB:
		*ndup = h->hn[H_GITLAB_TOKEN];
		*delivery = h->hv[H_IDEMPOTENCY_KEY];
		return h->hv[H_GITLAB_TOKEN];
	default:
		/* Forgejo sends both names with the same value */
		v = h->hv[H_GITEA_SIGNATURE];
		fj = h->hv[H_FORGEJO_SIGNATURE];
		*ndup = h->hn[H_GITEA_SIGNATURE] + h->hn[H_FORGEJO_SIGNATURE];
		if (v != NULL && fj != NULL && *ndup == 2 &&
		    strcmp(v, fj) == 0)
			*ndup = 1;
		*delivery = h->hv[H_GITEA_DELIVERY] != NULL ?
		    h->hv[H_GITEA_DELIVERY] : h->hv[H_FORGEJO_DELIVERY];
		return v != NULL ? v : fj;
	}
}

/*
 * PM_WEBHOOK_REJECTED (u8 forge, u8 reason): a webhook refused here, for
 * the parent's counters.  Skipped while the parent is slow to read, so a
 * flood of bad requests cannot fill the channel (and get this process
 * dropped): the counters then undercount, nothing else is lost.
 */
void
http_hook_rejected(struct conn *c, enum pm_hook_reject why)
{
	struct msgbuf	*mb;

	if (httpd.role->r_parent.p_out_bytes > HTTP_REJECT_QUEUE)
		return;
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_WEBHOOK_REJECTED, 0);
	msg_put_u8(mb, (uint8_t)c->c_forge);
	msg_put_u8(mb, (uint8_t)why);
	(void)role_send(httpd.role, mb, -1);
	free(mb);
}

static void
sig_warn(struct conn *c)
{
	uint64_t	 sup;

	http_hook_rejected(c, HOOK_BAD_SIGNATURE);
	if (!wh_ratelimit(&httpd.sig_rl, role_now(), &sup))
		return;
	if (sup > 0)
		log_event(LL_WARN, "webhook signature invalid",
		    LKV_S("remote", c->c_remote),
		    LKV_S("forge", wh_forge_name(c->c_forge)),
		    LKV_I("suppressed", sup));
	else
		log_event(LL_WARN, "webhook signature invalid",
		    LKV_S("remote", c->c_remote),
		    LKV_S("forge", wh_forge_name(c->c_forge)));
}

enum step
http_webhook_begin(struct conn *c, const struct http_head *h, enum forge f)
{
	const struct secret	*s = &httpd.secret[f];
	const char		*v, *delivery;
	uint8_t			 mac[32];
	int			 ndup;

	c->c_forge = f;
	if (h->method != HM_POST) {
		http_hook_rejected(c, HOOK_BAD_REQUEST);
		return conn_respond_text(c, 405, conn_error_text(405),
		    "Allow: POST\r\n");
	}
	if (h->has_clen && h->clen > httpd.max_body) {
		http_hook_rejected(c, HOOK_TOO_LARGE);
		return conn_respond_error(c, 413);
	}
	v = auth_value(h, f, &ndup, &delivery);
	if (wh_auth_header(f, s->s_data, s->s_len, v, ndup, mac) != WH_OK) {
		sig_warn(c);
		return conn_respond_text(c, 401, "invalid signature\n", NULL);
	}
	http_copy_token(c->c_delivery, sizeof(c->c_delivery), delivery, NULL);
	c->c_wh = wh_req_new(f, s->s_data, s->s_len, mac);
	if (!c->c_unread)
		return http_webhook_finish(c);
	if (h->expect_continue && h->minor == 1)
		evbuffer_add(bufferevent_get_output(c->c_bev),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	c->c_chunked = h->chunked;
	c->c_left = h->clen;
	http_chunked_init(&c->c_ck, httpd.max_body);
	conn_state(c, CS_BODY);
	return STEP_NEXT;
}

static enum step
webhook_forward(struct conn *c)
{
	static struct msgbuf	 mb;
	uint64_t		 sup;

	if (httpd.npending >= httpd.max_pending) {
		if (wh_ratelimit(&httpd.busy_rl, role_now(), &sup))
			log_event(LL_WARN, "webhook refused: too many waiting "
			    "for the parent", LKV_S("recipe", c->c_recipe),
			    LKV_I("pending", httpd.npending),
			    LKV_I("suppressed", sup));
		return conn_respond_error(c, 503);
	}
	if (++httpd.next_reqid == 0)
		httpd.next_reqid = 1;
	msg_init(&mb, PM_WEBHOOK, httpd.next_reqid);
	msg_put_u8(&mb, (uint8_t)c->c_forge);
	msg_put_str(&mb, c->c_recipe);
	msg_put_str(&mb, c->c_delivery);
	if (role_send(httpd.role, &mb, -1) == -1)
		return conn_respond_error(c, 503);
	c->c_reqid = httpd.next_reqid;
	TAILQ_INSERT_TAIL(&httpd.pending, c, c_pending);
	httpd.npending++;
	conn_state(c, CS_WAIT);
	return STEP_WAIT;
}

enum step
http_webhook_finish(struct conn *c)
{
	const struct wh_recipe	*hit;
	const struct wh_json	*j = wh_req_json(c->c_wh);
	enum wh_status		 st = wh_req_finish(c->c_wh);

	if (st == WH_BADSIG) {
		sig_warn(c);
		return conn_respond_text(c, 401, "invalid signature\n", NULL);
	}
	if (st == WH_BADJSON) {
		http_hook_rejected(c, HOOK_BAD_REQUEST);
		log_event(LL_DEBUG, "webhook payload rejected",
		    LKV_S("forge", wh_forge_name(c->c_forge)),
		    LKV_S("err", wh_json_error(j)));
		return conn_respond_text(c, 400, "parse json\n", NULL);
	}
	c->c_logurl = xstrdup(wh_json_log_url(j));
	if (wh_table_match(&httpd.table, c->c_forge, j, &hit) != WH_MATCH) {
		log_event(LL_INFO, "webhook for unrecognised or opted-out repo",
		    LKV_S("html_url", c->c_logurl),
		    LKV_S("forge", wh_forge_name(c->c_forge)));
		return conn_respond_text(c, 200, "", NULL);
	}
	snprintf(c->c_recipe, sizeof(c->c_recipe), "%s", hit->id);
	wh_req_free(c->c_wh);
	c->c_wh = NULL;
	if (c->c_delivery[0] != '\0' && wh_dedup_seen(httpd.dedup, c->c_forge,
	    c->c_delivery, role_now())) {
		http_hook_rejected(c, HOOK_DUPLICATE);
		log_event(LL_INFO, "webhook delivery already seen",
		    LKV_S("recipe", c->c_recipe),
		    LKV_S("delivery", c->c_delivery));
		return conn_respond_text(c, 200, "", NULL);
	}
	return webhook_forward(c);
}

/* PM_WEBHOOK_ACK: u8 accepted; id = request id. */
static int
http_webhook_ack(struct peer *p, struct msg *m)
{
	struct conn	*c;
	uint8_t		 accepted;

	if (msg_get_u8(m, &accepted) == -1 || msg_end(m) == -1 ||
	    accepted > 1)
		return msg_reject(m, "bad PM_WEBHOOK_ACK");
	TAILQ_FOREACH(c, &httpd.pending, c_pending)
		if (c->c_reqid == m->m_hdr.id)
			break;
	if (c == NULL) {
		log_event(LL_DEBUG, "late webhook acknowledgement",
		    LKV_I("id", m->m_hdr.id));
		return 0;
	}
	http_pending_remove(c);
	if (accepted) {
		log_event(LL_INFO,
		    "webhook accepted, triggering immediate poll",
		    LKV_S("recipe", c->c_recipe),
		    LKV_S("forge", wh_forge_name(c->c_forge)));
		if (c->c_delivery[0] != '\0')
			wh_dedup_add(httpd.dedup, c->c_forge, c->c_delivery,
			    role_now());
	} else		/* the parent has logged why */
		log_event(LL_DEBUG, "webhook refused by the parent",
		    LKV_S("recipe", c->c_recipe),
		    LKV_S("html_url", c->c_logurl));
	conn_respond_text(c, 200, "", NULL);
	return 0;
}

/* ---- listeners ------------------------------------------------------ */

void
http_listeners_update(void)
{
	struct listener	*l;
	int		 want;

	want = httpd.have_conf && !httpd.shutting && !httpd.accept_paused &&
	    httpd.nconns < httpd.max_conns;
	if (want == httpd.listening)
		return;
	httpd.listening = want;
	TAILQ_FOREACH(l, &httpd.listeners, l_entry) {
		if (want)
			evconnlistener_enable(l->l_lev);
		else
			evconnlistener_disable(l->l_lev);
	}
}

static void
accept_retrycb(evutil_socket_t fd, short ev, void *arg)
{
	httpd.accept_paused = 0;
	http_listeners_update();
}

/* EMFILE and friends: pause accepting instead of spinning. */
static void
accept_errorcb(struct evconnlistener *lev, void *arg)
{
	uint64_t	 sup;
	int		 e = EVUTIL_SOCKET_ERROR();

	if (wh_ratelimit(&httpd.accept_rl, role_now(), &sup))
		log_event(LL_WARN, "accept failed; pausing", LKV_S("err",
		    strerror(e)), LKV_I("suppressed", sup));
	httpd.accept_paused = 1;
	http_listeners_update();
	http_timer_at(httpd.accept_retry, role_now() + HTTP_ACCEPT_RETRY);
}

static void
format_addr(int fd, char *out, size_t size)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 len = sizeof(ss);
	char			 ip[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	snprintf(out, size, "?");
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_UNIX)
		snprintf(out, size, "unix:%s%.*s", sun->sun_path[0] == '\0' ?
		    "@" : "", (int)sizeof(sun->sun_path) - 1,
		    sun->sun_path + (sun->sun_path[0] == '\0'));
	else if (ss.ss_family == AF_INET && inet_ntop(AF_INET,
	    &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip)) != NULL)
		snprintf(out, size, "%s:%u", ip,
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else if (ss.ss_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip)) != NULL)
		snprintf(out, size, "[%s]:%u", ip,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/* Only a listening stream socket of the announced family is taken. */
static int
listener_check(int fd, int is_unix)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss), olen;
	int			 v, fl;

	olen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &olen) == -1 ||
	    v != 1)
		return -1;
	olen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &olen) == -1 ||
	    v != SOCK_STREAM)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if ((ss.ss_family == AF_UNIX) != is_unix ||
	    (ss.ss_family != AF_UNIX && ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6))
		return -1;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/* PM_CONF_LISTENER: u8 is_unix, +fd. */
static int
http_conf_listener(struct peer *p, struct msg *m)
{
	struct listener	*l;
	uint8_t		 is_unix;
	int		 fd;

	if (msg_get_u8(m, &is_unix) == -1 || msg_end(m) == -1 || is_unix > 1)
		return msg_reject(m, "bad PM_CONF_LISTENER");
	if ((fd = msg_take_fd(m)) == -1)
		return msg_reject(m, "no socket attached");
	if (listener_check(fd, is_unix) == -1) {
		close(fd);
		return msg_reject(m, "not a listening stream socket of the "
		    "announced family");
	}
	l = xcalloc(1, sizeof(*l));
	l->l_unix = is_unix;
	format_addr(fd, l->l_addr, sizeof(l->l_addr));
	if ((l->l_lev = evconnlistener_new(httpd.base, conn_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
	    0, fd)) == NULL)
		fatalx("evconnlistener_new failed");
	evconnlistener_set_error_cb(l->l_lev, accept_errorcb);
	TAILQ_INSERT_TAIL(&httpd.listeners, l, l_entry);
	if (httpd.listening)
		evconnlistener_enable(l->l_lev);
	log_event(LL_INFO, "webhook server listening",
	    LKV_S("addr", l->l_addr));
	return 0;
}

static void
listeners_free(void)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(&httpd.listeners)) != NULL) {
		TAILQ_REMOVE(&httpd.listeners, l, l_entry);
		evconnlistener_free(l->l_lev);
		free(l);
	}
	httpd.listening = 0;
}

/* ---- configuration from the parent ---------------------------------- */

static void
maybe_ready(void)
{
	if (httpd.have_conf && httpd.have_table)
		role_ready(httpd.role);
}

static int
timeout_ok(int64_t t)
{
	return t > 0 && t <= 3600 * NS;
}

/* PM_CONF_HTTP: str farm_id, u64 max_body, i64 header_timeout,
 * i64 body_idle_timeout, i64 body_timeout, i64 keepalive_timeout,
 * u32 max_connections, u32 max_pending. */
static int
http_conf_http(struct peer *p, struct msg *m)
{
	char	*farm = NULL;
	int	 rc = -1;

	if (msg_get_str(m, &farm, PM_ID_MAX) == -1 ||
	    msg_get_u64(m, &httpd.max_body) == -1 ||
	    msg_get_i64(m, &httpd.header_timeout) == -1 ||
	    msg_get_i64(m, &httpd.body_idle_timeout) == -1 ||
	    msg_get_i64(m, &httpd.body_timeout) == -1 ||
	    msg_get_i64(m, &httpd.keepalive_timeout) == -1 ||
	    msg_get_u32(m, &httpd.max_conns) == -1 ||
	    msg_get_u32(m, &httpd.max_pending) == -1 || msg_end(m) == -1)
		goto out;
	if (httpd.max_body == 0 || httpd.max_body > HTTP_BODY_LIMIT ||
	    !timeout_ok(httpd.header_timeout) ||
	    !timeout_ok(httpd.body_timeout) ||
	    !timeout_ok(httpd.body_idle_timeout) ||
	    !timeout_ok(httpd.keepalive_timeout) || httpd.max_conns == 0 ||
	    httpd.max_conns > 65536 || httpd.max_pending == 0 ||
	    httpd.max_pending > 65536) {
		msg_reject(m, "PM_CONF_HTTP value out of range");
		goto out;
	}
	httpd.have_conf = 1;
	http_listeners_update();
	maybe_ready();
	rc = 0;
out:
	free(farm);
	return rc;
}

/* PM_CONF_SECRET: u8 forge, bytes secret (empty: the forge is off). */
static int
http_conf_secret(struct peer *p, struct msg *m)
{
	struct secret	*s;
	const void	*data;
	size_t		 n;
	uint8_t		 f;

	if (msg_get_u8(m, &f) == -1 || msg_get_bytes(m, &data, &n,
	    HTTP_SECRET_MAX) == -1 || msg_end(m) == -1 || f >= FORGE_NUM)
		return msg_reject(m, "bad PM_CONF_SECRET");
	s = &httpd.secret[f];
	if (s->s_data != NULL) {
		explicit_bzero(s->s_data, s->s_len);
		free(s->s_data);
	}
	s->s_data = n > 0 ? xmemdup(data, n) : NULL;
	s->s_len = n;
	return 0;
}

/* PM_CONF_BEGIN: id = generation; u32 nrecipes. */
static int
http_conf_begin(struct peer *p, struct msg *m)
{
	if (msg_get_u32(m, &httpd.next_count) == -1 || msg_end(m) == -1)
		return -1;
	wh_table_free(&httpd.next);
	httpd.next_open = 1;
	httpd.next_gen = m->m_hdr.id;
	return 0;
}

/* PM_CONF_RECIPE: str id, str git url, str tag_pattern,
 * i64 peios_revision, str min_version, i64 poll interval, u8 webhook
 * bits, u8 watched, u8 submodules. */
static int
http_conf_recipe(struct peer *p, struct msg *m)
{
	char		*id = NULL, *url = NULL, *pat = NULL, *minv = NULL;
	int64_t		 rev, ival;
	uint8_t		 bits, watched, sub;
	int		 rc = -1;

	if (!httpd.next_open || httpd.next.n >= httpd.next_count)
		return msg_reject(m, "PM_CONF_RECIPE outside a table");
	if (msg_get_str(m, &id, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &url, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &pat, PM_STR_MAX) == -1 ||
	    msg_get_i64(m, &rev) == -1 ||
	    msg_get_str(m, &minv, PM_STR_MAX) == -1 ||
	    msg_get_i64(m, &ival) == -1 || msg_get_u8(m, &bits) == -1 ||
	    msg_get_u8(m, &watched) == -1 || msg_get_u8(m, &sub) == -1 ||
	    msg_end(m) == -1)
		goto out;
	wh_table_add(&httpd.next, id, url, bits, watched != 0);
	rc = 0;
out:
	free(id);
	free(url);
	free(pat);
	free(minv);
	return rc;
}

/* PM_CONF_END: id = generation. */
static int
http_conf_end(struct peer *p, struct msg *m)
{
	if (!httpd.next_open || m->m_hdr.id != httpd.next_gen ||
	    httpd.next.n != httpd.next_count)
		return msg_reject(m, "PM_CONF_END does not close the table");
	wh_table_free(&httpd.table);
	httpd.table = httpd.next;
	wh_table_init(&httpd.next);
	httpd.next_open = 0;
	httpd.have_table = 1;
	log_event(LL_DEBUG, "recipe table received",
	    LKV_I("recipes", httpd.table.n),
	    LKV_I("generation", httpd.next_gen));
	maybe_ready();
	return 0;
}

/* PM_STATUS_DOC: u8 kind, u32 generation, u32 total, u32 offset,
 * bytes chunk. */
static int
http_status_doc(struct peer *p, struct msg *m)
{
	struct assembly	*a;
	const void	*chunk;
	size_t		 n;
	uint32_t	 gen, total, off;
	uint8_t		 kind;

	if (msg_get_u8(m, &kind) == -1 || msg_get_u32(m, &gen) == -1 ||
	    msg_get_u32(m, &total) == -1 || msg_get_u32(m, &off) == -1 ||
	    msg_get_bytes(m, &chunk, &n, PM_PAYLOAD_MAX) == -1 ||
	    msg_end(m) == -1 || kind > 1 || total > HTTP_DOC_MAX)
		return msg_reject(m, "bad PM_STATUS_DOC");
	a = &httpd.assembly[kind];
	if (off == 0) {
		free(a->a_doc);
		a->a_doc = xmalloc(sizeof(*a->a_doc) + total);
		a->a_doc->d_refs = 1;
		a->a_doc->d_len = total;
		a->a_gen = gen;
		a->a_off = 0;
	} else if (a->a_doc == NULL || a->a_gen != gen ||
	    a->a_doc->d_len != total || a->a_off != off)
		return msg_reject(m, "PM_STATUS_DOC chunk out of sequence");
	if (n > total - a->a_off)
		return msg_reject(m, "PM_STATUS_DOC chunk past the end");
	memcpy(a->a_doc->d_data + a->a_off, chunk, n);
	a->a_off += n;
	if (a->a_off == total) {
		http_doc_unref(httpd.doc[kind]);
		httpd.doc[kind] = a->a_doc;
		a->a_doc = NULL;
	}
	return 0;
}

/* ---- the role ------------------------------------------------------- */

static void
shutdown_timercb(evutil_socket_t fd, short ev, void *arg)
{
	role_exit(httpd.role, 0);
}

/* PM_SHUTDOWN: stop accepting, answer what waits, let writes finish. */
static void
http_shutdown(struct role *r)
{
	struct conn	*c, *next;

	httpd.shutting = 1;
	listeners_free();
	for (c = TAILQ_FIRST(&httpd.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		if (c->c_state == CS_IDLE)
			conn_free(c);
		else if (c->c_state == CS_WAIT) {
			http_pending_remove(c);
			conn_respond_error(c, 503);
		}
	}
	if (httpd.nconns == 0)
		role_exit(r, 0);
	else
		http_timer_at(httpd.shutdown_timer,
		    role_now() + HTTP_SHUTDOWN_GRACE);
}

static int
http_init(struct role *r, struct buf *err)
{
	crypto_init();		/* OpenSSL providers, before the chroot */
	httpd.role = r;
	httpd.base = r->r_base;
	TAILQ_INIT(&httpd.listeners);
	TAILQ_INIT(&httpd.conns);
	TAILQ_INIT(&httpd.pending);
	wh_table_init(&httpd.table);
	wh_table_init(&httpd.next);
	httpd.dedup = wh_dedup_new(WH_DEDUP_MAX, WH_DEDUP_WINDOW);
	httpd.sig_rl.interval = WH_WARN_INTERVAL;
	httpd.busy_rl.interval = WH_WARN_INTERVAL;
	httpd.accept_rl.interval = WH_WARN_INTERVAL;
	if ((httpd.accept_retry = evtimer_new(httpd.base, accept_retrycb,
	    NULL)) == NULL || (httpd.shutdown_timer = evtimer_new(httpd.base,
	    shutdown_timercb, NULL)) == NULL)
		return errf(err, "evtimer_new failed");
	return 0;
}

static const struct msg_handler http_table[] = {
	{ PM_CONF_HTTP, 52, 52 + PM_ID_MAX, MSG_ONCE, http_conf_http },
	{ PM_CONF_SECRET, 5, 5 + HTTP_SECRET_MAX, 0, http_conf_secret },
	{ PM_CONF_LISTENER, 1, 1, MSG_ALLOW_FD, http_conf_listener },
	{ PM_CONF_BEGIN, 4, 4, 0, http_conf_begin },
	{ PM_CONF_RECIPE, 35, 35 + PM_ID_MAX + 3 * PM_STR_MAX, 0,
	    http_conf_recipe },
	{ PM_CONF_END, 0, 0, 0, http_conf_end },
	{ PM_STATUS_DOC, 17, PM_PAYLOAD_MAX, 0, http_status_doc },
	{ PM_WEBHOOK_ACK, 1, 1, 0, http_webhook_ack },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_typename http_names[] = {
	{ PM_CONF_HTTP, "PM_CONF_HTTP" }, { PM_CONF_SECRET, "PM_CONF_SECRET" },
	{ PM_CONF_LISTENER, "PM_CONF_LISTENER" },
	{ PM_CONF_BEGIN, "PM_CONF_BEGIN" },
	{ PM_CONF_RECIPE, "PM_CONF_RECIPE" },
	{ PM_CONF_END, "PM_CONF_END" }, { PM_STATUS_DOC, "PM_STATUS_DOC" },
	{ PM_WEBHOOK, "PM_WEBHOOK" }, { PM_WEBHOOK_ACK, "PM_WEBHOOK_ACK" }
};

static const struct role_def http_role = {
	"http", http_table, http_names, nitems(http_names), &rolefilter_http,
	1, http_init, NULL, http_shutdown
};

/* Receive PM_CONF_ROLE into opts, then run the role. */
int
http_main(struct role_opts *opts)
{
	struct buf	 err = BUF_INIT;
	char		*user = NULL, *dir = NULL;
	int		 rc = 1;

	if (role_conf_recv(opts, &user, &dir, &err) == 0)
		rc = role_run(&http_role, opts);
	else
		log_event(LL_ERROR, "role start-up failed",
		    LKV_S("err", buf_str(&err)));
	free(user);
	free(dir);
	buf_free(&err);
	return rc;
}
