/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * webhook.h: the logic of forge webhooks, without sockets (BEHAVIOUR.md
 * §5.15, RELIABILITY.md §1.9 and §2.3).  Used by the http role.
 *
 *  - authentication: GitHub `X-Hub-Signature-256: sha256=<hex>` and
 *    Gitea/Forgejo `X-Gitea-Signature: <hex>` (HMAC-SHA256 of the raw
 *    body), GitLab `X-Gitlab-Token` (the secret itself); constant-time
 *    comparisons; a forge without a secret rejects everything;
 *  - the payload, parsed with yajl's streaming parser as it arrives:
 *    only the repository URLs are kept, bounded, so memory does not grow
 *    with the body;
 *  - URL normalisation and the recipe lookup;
 *  - the delivery-id replay filter and a log rate limiter.
 *
 * Trust: every byte given to these functions comes from the network,
 * unauthenticated until wh_req_finish() says otherwise.
 */
#ifndef PM_WEBHOOK_H
#define PM_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "recipe.h"
#include "util.h"

#define WH_URL_MAX	1024	/* longest repository URL kept */
#define WH_STR_MAX	4096	/* string bytes given to yajl; rest skipped */
#define WH_NUM_MAX	64	/* longest number token */
#define WH_DEPTH_MAX	32	/* deepest nesting of arrays and objects */
#define WH_NURL		3	/* candidate URL fields per forge */
#define WH_DELIVERY_MAX	128	/* longest delivery id remembered */
#define WH_DEDUP_MAX	10000
#define WH_DEDUP_WINDOW	(INT64_C(72) * 3600 * 1000000000)	/* ns */
#define WH_WARN_INTERVAL (INT64_C(10) * 1000000000)		/* ns */

enum wh_status {
	WH_OK = 0,
	WH_BADSIG = 1,		/* 401 */
	WH_BADJSON = 2		/* 400 */
};

/* "github", "gitlab", "gitea"; NULL for anything else. */
const char *wh_forge_name(enum forge);
/* "/webhooks/<forge>" -> 0 and *f; -1 for any other path. */
int	 wh_forge_from_path(const char *path, enum forge *f);

/*
 * BEHAVIOUR.md §5.15: ASCII-lowercase the whole URL, remove one trailing
 * '/', then one trailing ".git".  out has room for len + 1 bytes; returns
 * the new length (out is NUL-terminated).
 */
size_t	 wh_url_normalise(const char *in, size_t len, char *out);

/* ---- authentication ------------------------------------------------ */

/*
 * Check the forge's authentication header before any body byte is read.
 * value is the header (NULL when absent), ndup how many times it came.
 * GitHub: "sha256=" (lower case) and 64 hex digits of either case;
 * Gitea: 64 hex digits; both fill mac[] for wh_req_new().  GitLab: the
 * token is compared with the secret here, in constant time.  An empty
 * secret (the forge is not configured), a missing, repeated or malformed
 * header or a wrong token give WH_BADSIG.
 */
enum wh_status wh_auth_header(enum forge, const void *secret,
	    size_t secretlen, const char *value, int ndup, uint8_t mac[32]);
/* Constant-time in the contents of both strings. */
int	 wh_token_equal(const void *secret, size_t, const void *tok, size_t);

/* ---- streaming payload --------------------------------------------- */

/*
 * Parses one JSON document fed in pieces of any size, keeping only the
 * forge's URL fields: GitHub and Gitea repository.html_url then
 * repository.clone_url; GitLab project.web_url, project.git_http_url,
 * project.http_url.  Member names match case-insensitively (as Go's
 * encoding/json in the reference, including its ſ/K folds); a repeated
 * member overwrites; null leaves a field unchanged.  Rejected: invalid
 * JSON or UTF-8, a top level that is not an object (or null), a target
 * member that is not an object (or null), a URL field that is not a
 * string (or null), nesting deeper than WH_DEPTH_MAX, a number longer
 * than WH_NUM_MAX.  Strings longer than WH_STR_MAX are cut before they
 * reach yajl, so yajl's buffers stay small whatever the body holds; a
 * cut or over-long URL field can never match.
 */
struct wh_json;
struct wh_json *wh_json_new(enum forge);
/* 0, or -1 once the document is known to be bad (sticky; later input is
 * ignored). */
int	 wh_json_feed(struct wh_json *, const void *, size_t);
/* End of input: 0 when the document was valid, else -1. */
int	 wh_json_finish(struct wh_json *);
const char *wh_json_error(const struct wh_json *);	/* "" if none */
/* Candidate i (0 .. WH_NURL-1) in the forge's order; NULL when absent,
 * empty or unusable. */
const char *wh_json_url(const struct wh_json *, size_t i);
/* The raw first field (html_url / web_url), possibly cut; "" if none. */
const char *wh_json_log_url(const struct wh_json *);
/* Largest number of bytes yajl held at once (for tests). */
size_t	 wh_json_peak_mem(const struct wh_json *);
void	 wh_json_free(struct wh_json *);

/* ---- one request --------------------------------------------------- */

/* HMAC (GitHub, Gitea) and JSON over one streamed body. */
struct wh_req;
struct wh_req *wh_req_new(enum forge, const void *secret, size_t secretlen,
	    const uint8_t mac[32]);
void	 wh_req_body(struct wh_req *, const void *, size_t);
/* The signature first (WH_BADSIG), then the document (WH_BADJSON). */
enum wh_status wh_req_finish(struct wh_req *);
const struct wh_json *wh_req_json(const struct wh_req *);
void	 wh_req_free(struct wh_req *);

/* ---- recipes ------------------------------------------------------- */

struct wh_recipe {
	char		*id;
	char		*url;		/* normalised git URL */
	unsigned	 webhook;	/* 1 << enum forge */
	int		 watched;
};

struct wh_table {
	struct wh_recipe *r;
	size_t		  n;
	size_t		  cap;
};

enum wh_match {
	WH_NO_MATCH = 0,
	WH_OPTED_OUT = 1,	/* matched a recipe without this forge */
	WH_MATCH = 2
};

void	 wh_table_init(struct wh_table *);
void	 wh_table_add(struct wh_table *, const char *id, const char *git_url,
	    unsigned webhook_bits, int watched);
void	 wh_table_free(struct wh_table *);
/* The watched recipe whose URL equals url once both are normalised; the
 * later one in roster order on a tie.  NULL if none. */
/* f: an enum forge whose webhook must be enabled, or -1 for any. */
const struct wh_recipe *wh_table_find(const struct wh_table *, const char *,
	    int f);
const struct wh_recipe *wh_table_lookup(const struct wh_table *,
	    const char *url);
/* §5.15 step 5-6: the first candidate that names a watched recipe
 * decides; *hit is set for WH_MATCH and WH_OPTED_OUT. */
enum wh_match wh_table_match(const struct wh_table *, enum forge,
	    const struct wh_json *, const struct wh_recipe **hit);

/* ---- replay filter ------------------------------------------------- */

/* Remembers (forge, delivery id) pairs for `window` ns, at most cap of
 * them (the oldest is forgotten first).  Times are monotonic ns. */
struct wh_dedup;
struct wh_dedup *wh_dedup_new(size_t cap, int64_t window);
int	 wh_dedup_seen(struct wh_dedup *, enum forge, const char *id,
	    int64_t now);
void	 wh_dedup_add(struct wh_dedup *, enum forge, const char *id,
	    int64_t now);
size_t	 wh_dedup_count(const struct wh_dedup *);
void	 wh_dedup_free(struct wh_dedup *);

/* ---- log rate limiter ---------------------------------------------- */

struct wh_ratelimit {
	int64_t		 interval;	/* ns between two lines */
	int64_t		 next;		/* earliest time of the next line */
	uint64_t	 suppressed;	/* events dropped since the last line */
	int		 primed;
};
#define WH_RATELIMIT_INIT(ns)	{ (ns), 0, 0, 0 }

/* 1: log now, *suppressed = events dropped since the previous line.
 * 0: drop this one (it is counted). */
int	 wh_ratelimit(struct wh_ratelimit *, int64_t now, uint64_t *suppressed);

#endif /* PM_WEBHOOK_H */
