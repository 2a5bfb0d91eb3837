/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * http.h: internals of the http role, shared by http.c (the role:
 * configuration, listeners, status documents, webhooks) and
 * http_conn.c (the HTTP/1.1 connections).  Nothing else includes it;
 * the role's entry point, http_main(), is declared in role.h.
 *
 * Trust: see http.c.
 */
#ifndef PM_HTTP_H
#define PM_HTTP_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "httpmsg.h"
#include "msgtypes.h"
#include "role.h"
#include "webhook.h"

#define NS			INT64_C(1000000000)
#define HTTP_WRITE_IDLE_SEC	10
#define HTTP_WRITE_TOTAL	(30 * NS)
#define HTTP_ACK_TIMEOUT	(5 * NS)	/* for PM_WEBHOOK_ACK */
#define HTTP_LINGER		(2 * NS)
#define HTTP_SHUTDOWN_GRACE	(2 * NS)
#define HTTP_ACCEPT_RETRY	(1 * NS)
#define HTTP_READ_HIGH		(HTTP_HEAD_MAX + 8192)
#define HTTP_DOC_MAX		(16 * 1024 * 1024)
#define HTTP_SECRET_MAX		4096
#define HTTP_BODY_LIMIT		(25 * 1024 * 1024)
#define HTTP_CRLF_MAX		8	/* empty lines before a request */
#define HTTP_IOV		16
#define HTTP_REJECT_QUEUE	(64 * 1024)	/* http_hook_rejected() */

#define CT_TEXT		"text/plain; charset=utf-8"
#define CT_JSON		"application/json; charset=utf-8"
#define CT_METRICS	"text/plain; version=0.0.4; charset=utf-8"

enum cstate {
	CS_IDLE = 0,	/* no request yet, or keep-alive between requests */
	CS_HEAD,	/* reading a request head */
	CS_BODY,	/* streaming a webhook body */
	CS_WAIT,	/* waiting for the parent's PM_WEBHOOK_ACK */
	CS_WRITE,	/* writing a response */
	CS_LINGER	/* response sent early; draining, then close */
};

enum step {
	STEP_WAIT = 0,	/* need input or output progress */
	STEP_NEXT	/* state changed: run again */
};

struct doc {
	int		 d_refs;
	size_t		 d_len;
	char		 d_data[];
};

struct assembly {
	struct doc	*a_doc;		/* being filled */
	uint32_t	 a_gen;
	size_t		 a_off;
};

struct listener {
	TAILQ_ENTRY(listener)	 l_entry;
	struct evconnlistener	*l_lev;
	int			 l_unix;
	char			 l_addr[128];
};

struct conn {
	TAILQ_ENTRY(conn)	 c_entry;
	TAILQ_ENTRY(conn)	 c_pending;	/* while CS_WAIT */
	struct bufferevent	*c_bev;
	struct event		*c_timer;
	enum cstate		 c_state;
	int			 c_unix;
	char			 c_remote[64];
	int64_t			 c_accepted;
	int64_t			 c_body_deadline;
	unsigned		 c_nreq;
	size_t			 c_scan;	/* head bytes already scanned */
	int			 c_crlf;
	/* the current request */
	int			 c_close;	/* close after the response */
	int			 c_unread;	/* request not read entirely */
	int			 c_headonly;
	int			 c_chunked;
	uint64_t		 c_left;	/* body bytes to come */
	struct http_chunked	 c_ck;
	enum forge		 c_forge;
	struct wh_req		*c_wh;
	char			 c_delivery[WH_DELIVERY_MAX + 1];
	char			 c_recipe[PM_ID_MAX + 1];
	char			*c_logurl;
	uint32_t		 c_reqid;
};

struct secret {
	uint8_t		*s_data;
	size_t		 s_len;
};

struct httpd {
	struct role		*role;
	struct event_base	*base;
	/* PM_CONF_HTTP */
	int			 have_conf;
	uint64_t		 max_body;
	int64_t			 header_timeout;
	int64_t			 body_idle_timeout;
	int64_t			 body_timeout;
	int64_t			 keepalive_timeout;
	uint32_t		 max_conns;
	uint32_t		 max_pending;
	struct secret		 secret[FORGE_NUM];
	/* recipes: the table in use and the one being received */
	struct wh_table		 table;
	struct wh_table		 next;
	int			 next_open;
	uint32_t		 next_gen;
	uint32_t		 next_count;
	int			 have_table;
	/* /status and /metrics */
	struct doc		*doc[2];
	struct assembly		 assembly[2];
	/* connections */
	TAILQ_HEAD(, listener)	 listeners;
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, conn)	 pending;
	uint32_t		 nconns;
	uint32_t		 npending;
	uint32_t		 next_reqid;
	int			 listening;
	int			 accept_paused;
	int			 shutting;
	struct event		*accept_retry;
	struct event		*shutdown_timer;
	struct wh_dedup		*dedup;
	struct wh_ratelimit	 sig_rl;
	struct wh_ratelimit	 busy_rl;
	struct wh_ratelimit	 accept_rl;
};

extern struct httpd	 httpd;

/* http.c */
void	 http_timer_at(struct event *, int64_t at);
void	 http_doc_unref(struct doc *);
void	 http_copy_token(char *, size_t, const char *, const char *allowed);
void	 http_pending_remove(struct conn *);
void	 http_hook_rejected(struct conn *, enum pm_hook_reject);
void	 http_listeners_update(void);
enum step http_webhook_begin(struct conn *, const struct http_head *,
	    enum forge);
enum step http_webhook_finish(struct conn *);

/* http_conn.c */
void	 conn_accept(struct evconnlistener *, evutil_socket_t,
	    struct sockaddr *, int, void *);
void	 conn_state(struct conn *, enum cstate);
void	 conn_free(struct conn *);
enum step conn_respond(struct conn *, int, const char *, const void *,
	    size_t, struct doc *, const char *);
enum step conn_respond_text(struct conn *, int, const char *, const char *);
enum step conn_respond_error(struct conn *, int);
const char *conn_error_text(int);

#endif /* PM_HTTP_H */
