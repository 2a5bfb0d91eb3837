/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * webhook.c: webhook authentication, streaming payload parsing, URL
 * matching, replay filter and rate limiter (webhook.h).  No sockets, no
 * logging: the http role calls these and logs the outcome.
 *
 * Trust: all input is hostile network data.  Memory per request is
 * bounded whatever the body: yajl never sees a string longer than
 * WH_STR_MAX or a number longer than WH_NUM_MAX (a byte-level prefilter
 * cuts or rejects them first), nesting stops at WH_DEPTH_MAX, and only
 * WH_NURL fields of at most WH_URL_MAX bytes are kept.
 */
#include "config.h"

#include <malloc.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "crypto.h"
#include "log.h"
#include "webhook.h"

#define STAGE_SIZE	4096	/* prefiltered bytes handed to yajl at once */

enum key_kind {
	K_OTHER = 0,
	K_TARGET = 1
};

enum field_state {
	F_UNSET = 0,
	F_SET = 1,
	F_UNUSABLE = 2		/* too long, cut, or holds a NUL */
};

struct wh_field {
	enum field_state f_state;
	size_t		 f_len;
	char		 f_val[WH_URL_MAX + 1];
};

struct wh_json {
	enum forge	 forge;
	yajl_handle	 y;
	int		 failed;
	char		 why[160];
	/* position in the document */
	int		 depth;
	enum key_kind	 key1;		/* last key of the top-level object */
	int		 tdepth;	/* depth inside the target, or 0 */
	int		 key2;		/* field index of the last target key */
	/* byte prefilter */
	int		 in_str;
	int		 esc;		/* after a backslash */
	int		 hexleft;	/* \uXXXX digits still to come */
	int		 skipping;	/* dropping the tail of a long string */
	int		 cut;		/* the string now closing was cut */
	size_t		 str_len;
	size_t		 num_len;
	uint8_t		 stage[STAGE_SIZE];
	size_t		 nstage;
	/* memory held by yajl */
	size_t		 mem;
	size_t		 mem_peak;
	struct wh_field	 field[WH_NURL];
};

struct wh_req {
	enum forge	 forge;
	int		 use_mac;
	struct hmac_ctx	 hmac;
	uint8_t		 want[32];
	struct wh_json	*json;
};

struct dd_entry {
	uint8_t		 key[32];
	int64_t		 t;
	int32_t		 next;		/* bucket chain, -1 ends */
};

struct wh_dedup {
	struct dd_entry	*e;
	size_t		 cap;
	size_t		 head;		/* oldest entry */
	size_t		 n;
	int64_t		 window;
	int32_t		*bucket;
	size_t		 nbucket;	/* power of two */
};

static const char *const forge_names[FORGE_NUM] = {
	"github", "gitlab", "gitea"
};

/* Target object and URL fields per forge, in candidate order. */
static const char *const target_name[FORGE_NUM] = {
	"repository", "project", "repository"
};
static const char *const field_names[FORGE_NUM][WH_NURL] = {
	{ "html_url", "clone_url", NULL },
	{ "web_url", "git_http_url", "http_url" },
	{ "html_url", "clone_url", NULL }
};

static int	 name_eq(const unsigned char *, size_t, const char *);
static int	 json_fail(struct wh_json *, const char *);
static int	 json_value(struct wh_json *, int);
static void	 json_flush(struct wh_json *);
static void	 json_put(struct wh_json *, uint8_t);
static void	 json_byte(struct wh_json *, uint8_t);
static void	 json_string_byte(struct wh_json *, uint8_t);

/* ---- names and URLs ------------------------------------------------ */

const char *
wh_forge_name(enum forge f)
{
	if ((int)f < 0 || f >= FORGE_NUM)
		return NULL;
	return forge_names[f];
}

int
wh_forge_from_path(const char *path, enum forge *f)
{
	int	 i;

	if (!str_has_prefix(path, "/webhooks/"))
		return -1;
	for (i = 0; i < FORGE_NUM; i++) {
		if (strcmp(path + strlen("/webhooks/"), forge_names[i]) == 0) {
			*f = (enum forge)i;
			return 0;
		}
	}
	return -1;
}

size_t
wh_url_normalise(const char *in, size_t len, char *out)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' :
		    in[i];
	if (len > 0 && out[len - 1] == '/')
		len--;
	if (len >= 4 && memcmp(out + len - 4, ".git", 4) == 0)
		len -= 4;
	out[len] = '\0';
	return len;
}

/*
 * Go's encoding/json matches member names with simple case folding.  Our
 * names are ASCII, so only ASCII letters and the two non-ASCII runes that
 * fold onto ASCII letters matter: U+017F (ſ) -> s, U+212A (Kelvin) -> k.
 */
static int
name_eq(const unsigned char *s, size_t n, const char *want)
{
	size_t	 i = 0;
	int	 c;

	for (; *want != '\0'; want++) {
		if (i < n) {
			c = s[i];
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (c == *want) {
				i++;
				continue;
			}
		}
		if (*want == 's' && i + 1 < n && s[i] == 0xc5 &&
		    s[i + 1] == 0xbf)
			i += 2;
		else if (*want == 'k' && i + 2 < n && s[i] == 0xe2 &&
		    s[i + 1] == 0x84 && s[i + 2] == 0xaa)
			i += 3;
		else
			return 0;
	}
	return i == n;
}

/* ---- authentication ------------------------------------------------ */

int
wh_token_equal(const void *secret, size_t slen, const void *tok, size_t tlen)
{
	uint8_t	 a[32], b[32];

	/* Hashing first makes the comparison independent of both lengths. */
	sha256(secret, slen, a);
	sha256(tok, tlen, b);
	return ct_equal(a, b, sizeof(a)) && slen == tlen;
}

enum wh_status
wh_auth_header(enum forge f, const void *secret, size_t secretlen,
    const char *value, int ndup, uint8_t mac[32])
{
	size_t	 n;

	if (secretlen == 0 || value == NULL || ndup != 1)
		return WH_BADSIG;
	n = strlen(value);
	switch (f) {
	case FORGE_GITHUB:
		if (!str_has_prefix(value, "sha256="))
			return WH_BADSIG;
		value += strlen("sha256=");
		n -= strlen("sha256=");
		/* FALLTHROUGH */
	case FORGE_GITEA:
		if (n != 64 || hex_decode(value, n, mac) == -1)
			return WH_BADSIG;
		return WH_OK;
	case FORGE_GITLAB:
		return wh_token_equal(secret, secretlen, value, n) ? WH_OK :
		    WH_BADSIG;
	default:
		return WH_BADSIG;
	}
}

/* ---- yajl callbacks ------------------------------------------------ */

enum value_kind {
	V_NULL = 0,
	V_STRING,
	V_SCALAR,		/* number or boolean */
	V_MAP,
	V_ARRAY
};

static int
json_fail(struct wh_json *j, const char *why)
{
	if (!j->failed)
		snprintf(j->why, sizeof(j->why), "%s", why);
	j->failed = 1;
	return 0;	/* yajl: cancel */
}

/* Type rules of decoding into the reference's struct (Go): a value the
 * struct has no field for is ignored, null never changes anything. */
static int
json_value(struct wh_json *j, int kind)
{
	if (kind == V_NULL)
		return 1;
	if (j->depth == 0 && kind != V_MAP)
		return json_fail(j, "the document is not a JSON object");
	if (j->depth == 1 && j->key1 == K_TARGET && kind != V_MAP)
		return json_fail(j, "the repository member is not an object");
	if (j->tdepth != 0 && j->depth == j->tdepth && j->key2 >= 0 &&
	    kind != V_STRING)
		return json_fail(j, "a repository URL is not a string");
	return 1;
}

static int
cb_null(void *ctx)
{
	return json_value(ctx, V_NULL);
}

static int
cb_bool(void *ctx, int b)
{
	return json_value(ctx, V_SCALAR);
}

static int
cb_number(void *ctx, const char *s, size_t n)
{
	return json_value(ctx, V_SCALAR);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t n)
{
	struct wh_json	*j = ctx;
	struct wh_field	*f;

	if (!json_value(j, V_STRING))
		return 0;
	if (j->tdepth == 0 || j->depth != j->tdepth || j->key2 < 0)
		return 1;
	f = &j->field[j->key2];
	f->f_len = n > WH_URL_MAX ? WH_URL_MAX : n;
	memcpy(f->f_val, s, f->f_len);
	f->f_val[f->f_len] = '\0';
	f->f_state = (j->cut || n > WH_URL_MAX || memchr(s, '\0', n) != NULL) ?
	    F_UNUSABLE : F_SET;
	return 1;
}

static int
cb_start_map(void *ctx)
{
	struct wh_json	*j = ctx;

	if (!json_value(j, V_MAP))
		return 0;
	if (j->depth == WH_DEPTH_MAX)
		return json_fail(j, "JSON nested too deeply");
	if (j->depth == 1 && j->key1 == K_TARGET)
		j->tdepth = 2;
	j->depth++;
	j->key2 = -1;
	return 1;
}

static int
cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
	struct wh_json	*j = ctx;
	int		 i;

	if (j->depth == 1)
		j->key1 = !j->cut && name_eq(s, n, target_name[j->forge]) ?
		    K_TARGET : K_OTHER;
	if (j->tdepth == 0 || j->depth != j->tdepth)
		return 1;
	j->key2 = -1;
	for (i = 0; i < WH_NURL && !j->cut; i++)
		if (field_names[j->forge][i] != NULL &&
		    name_eq(s, n, field_names[j->forge][i]))
			j->key2 = i;
	return 1;
}

static int
cb_end_map(void *ctx)
{
	struct wh_json	*j = ctx;

	if (j->depth == j->tdepth)
		j->tdepth = 0;
	j->depth--;
	return 1;
}

static int
cb_start_array(void *ctx)
{
	struct wh_json	*j = ctx;

	if (!json_value(j, V_ARRAY))
		return 0;
	if (j->depth == WH_DEPTH_MAX)
		return json_fail(j, "JSON nested too deeply");
	j->depth++;
	return 1;
}

static int
cb_end_array(void *ctx)
{
	struct wh_json	*j = ctx;

	j->depth--;
	return 1;
}

static const yajl_callbacks json_callbacks = {
	cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array
};

/* ---- yajl memory accounting ---------------------------------------- */

static void
mem_count(struct wh_json *j, size_t add, size_t sub)
{
	j->mem = j->mem + add - sub;
	if (j->mem > j->mem_peak)
		j->mem_peak = j->mem;
}

static void *
ya_malloc(void *ctx, size_t n)
{
	void	*p = xmalloc(n);

	mem_count(ctx, malloc_usable_size(p), 0);
	return p;
}

static void *
ya_realloc(void *ctx, void *p, size_t n)
{
	size_t	 old = p != NULL ? malloc_usable_size(p) : 0;

	p = xreallocarray(p, 1, n);
	mem_count(ctx, malloc_usable_size(p), old);
	return p;
}

static void
ya_free(void *ctx, void *p)
{
	if (p != NULL)
		mem_count(ctx, 0, malloc_usable_size(p));
	free(p);
}

/* ---- the streaming parser ------------------------------------------ */

struct wh_json *
wh_json_new(enum forge f)
{
	struct wh_json	*j = xcalloc(1, sizeof(*j));
	yajl_alloc_funcs afs = { ya_malloc, ya_realloc, ya_free, j };

	j->forge = f;
	j->key2 = -1;
	if ((j->y = yajl_alloc(&json_callbacks, &afs, j)) == NULL)
		fatalx("yajl_alloc failed");
	return j;
}

static void
json_stop(struct wh_json *j)
{
	if (j->y != NULL)
		yajl_free(j->y);
	j->y = NULL;
}

static void
json_yajl_error(struct wh_json *j, yajl_status st)
{
	unsigned char	*e;

	if (st == yajl_status_client_canceled || j->failed) {
		/* json_fail keeps the reason a callback gave */
		json_fail(j, "rejected");
		return;
	}
	e = yajl_get_error(j->y, 0, NULL, 0);
	snprintf(j->why, sizeof(j->why), "invalid JSON: %s", e != NULL ?
	    (const char *)e : "parse error");
	/* yajl ends its messages with a newline */
	j->why[strcspn(j->why, "\n")] = '\0';
	if (e != NULL)
		yajl_free_error(j->y, e);
	j->failed = 1;
}

static void
json_flush(struct wh_json *j)
{
	yajl_status	 st;

	if (j->failed)
		j->nstage = 0;
	if (j->nstage == 0)
		return;
	st = yajl_parse(j->y, j->stage, j->nstage);
	j->nstage = 0;
	if (st != yajl_status_ok) {
		json_yajl_error(j, st);
		json_stop(j);
	}
}

static void
json_put(struct wh_json *j, uint8_t c)
{
	if (j->failed)
		return;
	j->stage[j->nstage++] = c;
	if (j->nstage == sizeof(j->stage))
		json_flush(j);
}

/* Inside a string: forward up to WH_STR_MAX bytes, then skip to the
 * closing quote.  The cut never splits an escape or a UTF-8 sequence. */
static void
json_string_byte(struct wh_json *j, uint8_t c)
{
	int	 boundary = !j->esc && j->hexleft == 0 && (c & 0xc0) != 0x80;

	if (!j->skipping && boundary && c != '"' && j->str_len >= WH_STR_MAX)
		j->skipping = 1;
	if (j->esc) {
		j->esc = 0;
		j->hexleft = c == 'u' ? 4 : 0;
	} else if (j->hexleft > 0) {
		j->hexleft--;
	} else if (c == '\\') {
		j->esc = 1;
	} else if (c == '"') {
		j->in_str = 0;
		if (j->skipping) {
			/* flush first so the callback of this very string
			 * runs with `cut` set */
			json_flush(j);
			j->cut = 1;
			json_put(j, c);
			json_flush(j);
			j->cut = 0;
			return;
		}
	}
	if (j->skipping)
		return;
	j->str_len++;
	json_put(j, c);
}

static void
json_byte(struct wh_json *j, uint8_t c)
{
	if (j->in_str) {
		json_string_byte(j, c);
		return;
	}
	if (c == '"') {
		j->in_str = 1;
		j->esc = j->hexleft = j->skipping = 0;
		j->str_len = 0;
		j->num_len = 0;
	} else if ((c >= '0' && c <= '9') || c == '-' || c == '+' ||
	    c == '.' || c == 'e' || c == 'E') {
		if (++j->num_len > WH_NUM_MAX) {
			json_fail(j, "JSON number too long");
			json_stop(j);
			return;
		}
	} else
		j->num_len = 0;
	json_put(j, c);
}

int
wh_json_feed(struct wh_json *j, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < n && !j->failed; i++)
		json_byte(j, b[i]);
	json_flush(j);
	return j->failed ? -1 : 0;
}

int
wh_json_finish(struct wh_json *j)
{
	yajl_status	 st;

	json_flush(j);
	if (!j->failed && (st = yajl_complete_parse(j->y)) != yajl_status_ok)
		json_yajl_error(j, st);
	json_stop(j);
	return j->failed ? -1 : 0;
}

const char *
wh_json_error(const struct wh_json *j)
{
	return j->why;
}

const char *
wh_json_url(const struct wh_json *j, size_t i)
{
	if (i >= WH_NURL || j->field[i].f_state != F_SET ||
	    j->field[i].f_len == 0)
		return NULL;
	return j->field[i].f_val;
}

const char *
wh_json_log_url(const struct wh_json *j)
{
	return j->field[0].f_val;
}

size_t
wh_json_peak_mem(const struct wh_json *j)
{
	return j->mem_peak;
}

void
wh_json_free(struct wh_json *j)
{
	if (j == NULL)
		return;
	json_stop(j);
	free(j);
}

/* ---- one request --------------------------------------------------- */

struct wh_req *
wh_req_new(enum forge f, const void *secret, size_t secretlen,
    const uint8_t mac[32])
{
	struct wh_req	*r = xcalloc(1, sizeof(*r));

	r->forge = f;
	r->use_mac = f != FORGE_GITLAB;
	if (r->use_mac) {
		hmac_init(&r->hmac, secret, secretlen);
		memcpy(r->want, mac, sizeof(r->want));
	}
	r->json = wh_json_new(f);
	return r;
}

void
wh_req_body(struct wh_req *r, const void *p, size_t n)
{
	if (r->use_mac)
		hmac_update(&r->hmac, p, n);
	(void)wh_json_feed(r->json, p, n);
}

enum wh_status
wh_req_finish(struct wh_req *r)
{
	uint8_t	 got[32];
	int	 json_ok = wh_json_finish(r->json) == 0;

	if (r->use_mac) {
		hmac_final(&r->hmac, got);
		r->use_mac = 0;
		if (!ct_equal(got, r->want, sizeof(got)))
			return WH_BADSIG;
	}
	return json_ok ? WH_OK : WH_BADJSON;
}

const struct wh_json *
wh_req_json(const struct wh_req *r)
{
	return r->json;
}

void
wh_req_free(struct wh_req *r)
{
	if (r == NULL)
		return;
	if (r->use_mac)
		hmac_free(&r->hmac);
	wh_json_free(r->json);
	free(r);
}

/* ---- recipes ------------------------------------------------------- */

void
wh_table_init(struct wh_table *t)
{
	memset(t, 0, sizeof(*t));
}

void
wh_table_add(struct wh_table *t, const char *id, const char *git_url,
    unsigned bits, int watched)
{
	struct wh_recipe	*r;
	size_t			 len = strlen(git_url);

	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->r = xreallocarray(t->r, t->cap, sizeof(*t->r));
	}
	r = &t->r[t->n++];
	r->id = xstrdup(id);
	r->url = xmalloc(len + 1);
	wh_url_normalise(git_url, len, r->url);
	r->webhook = bits;
	r->watched = watched;
}

void
wh_table_free(struct wh_table *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		free(t->r[i].id);
		free(t->r[i].url);
	}
	free(t->r);
	wh_table_init(t);
}

const struct wh_recipe *
wh_table_lookup(const struct wh_table *t, const char *url)
{
	return wh_table_find(t, url, -1);
}

/*
 * The first watched recipe (roster order) tracking `url` whose webhook
 * for forge `f` is enabled, or, with f == -1, the first one at all.
 * Several recipes may track one repository (official fsbase and
 * live-boot share theirs); the parent polls every opted-in one.
 */
const struct wh_recipe *
wh_table_find(const struct wh_table *t, const char *url, int f)
{
	char	 norm[WH_URL_MAX + 1];
	size_t	 i, len = strlen(url);

	if (len > WH_URL_MAX)
		return NULL;
	wh_url_normalise(url, len, norm);
	for (i = 0; i < t->n; i++) {
		if (!t->r[i].watched || strcmp(t->r[i].url, norm) != 0)
			continue;
		if (f == -1 || (t->r[i].webhook & (1U << f)))
			return &t->r[i];
	}
	return NULL;
}

enum wh_match
wh_table_match(const struct wh_table *t, enum forge f,
    const struct wh_json *j, const struct wh_recipe **hit)
{
	const char	*url;
	size_t		 i;
	int		 known = 0;

	*hit = NULL;
	for (i = 0; i < WH_NURL && *hit == NULL; i++) {
		if ((url = wh_json_url(j, i)) == NULL)
			continue;
		if (wh_table_find(t, url, -1) != NULL)
			known = 1;
		*hit = wh_table_find(t, url, (int)f);
	}
	if (*hit != NULL)
		return WH_MATCH;
	return known ? WH_OPTED_OUT : WH_NO_MATCH;
}

/* ---- replay filter ------------------------------------------------- */

struct wh_dedup *
wh_dedup_new(size_t cap, int64_t window)
{
	struct wh_dedup	*d = xcalloc(1, sizeof(*d));
	size_t		 i;

	d->cap = cap == 0 ? 1 : cap;
	d->window = window;
	d->e = xcalloc(d->cap, sizeof(*d->e));
	for (d->nbucket = 1; d->nbucket < d->cap; d->nbucket *= 2)
		;
	d->bucket = xcalloc(d->nbucket, sizeof(*d->bucket));
	for (i = 0; i < d->nbucket; i++)
		d->bucket[i] = -1;
	return d;
}

static void
dd_key(enum forge f, const char *id, uint8_t key[32])
{
	struct sha256_ctx	 c;
	uint8_t			 fb = (uint8_t)f;

	sha256_init(&c);
	sha256_update(&c, &fb, 1);
	sha256_update(&c, id, strlen(id));
	sha256_final(&c, key);
}

static size_t
dd_bucket(const struct wh_dedup *d, const uint8_t key[32])
{
	uint32_t	 h;

	memcpy(&h, key, sizeof(h));
	return h & (d->nbucket - 1);
}

static void
dd_evict_oldest(struct wh_dedup *d)
{
	int32_t		*pp, idx = (int32_t)d->head;

	pp = &d->bucket[dd_bucket(d, d->e[idx].key)];
	while (*pp != -1 && *pp != idx)
		pp = &d->e[*pp].next;
	if (*pp == idx)
		*pp = d->e[idx].next;
	d->head = (d->head + 1) % d->cap;
	d->n--;
}

static void
dd_expire(struct wh_dedup *d, int64_t now)
{
	while (d->n > 0 && now - d->e[d->head].t >= d->window)
		dd_evict_oldest(d);
}

int
wh_dedup_seen(struct wh_dedup *d, enum forge f, const char *id, int64_t now)
{
	uint8_t	 key[32];
	int32_t	 i;

	dd_expire(d, now);
	dd_key(f, id, key);
	for (i = d->bucket[dd_bucket(d, key)]; i != -1; i = d->e[i].next)
		if (memcmp(d->e[i].key, key, sizeof(key)) == 0)
			return 1;
	return 0;
}

void
wh_dedup_add(struct wh_dedup *d, enum forge f, const char *id, int64_t now)
{
	struct dd_entry	*e;
	size_t		 idx, b;

	if (wh_dedup_seen(d, f, id, now))
		return;
	if (d->n == d->cap)
		dd_evict_oldest(d);
	idx = (d->head + d->n) % d->cap;
	e = &d->e[idx];
	dd_key(f, id, e->key);
	e->t = now;
	b = dd_bucket(d, e->key);
	e->next = d->bucket[b];
	d->bucket[b] = (int32_t)idx;
	d->n++;
}

size_t
wh_dedup_count(const struct wh_dedup *d)
{
	return d->n;
}

void
wh_dedup_free(struct wh_dedup *d)
{
	if (d == NULL)
		return;
	free(d->e);
	free(d->bucket);
	free(d);
}

/* ---- log rate limiter ---------------------------------------------- */

int
wh_ratelimit(struct wh_ratelimit *rl, int64_t now, uint64_t *suppressed)
{
	if (rl->primed && now < rl->next) {
		rl->suppressed++;
		return 0;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->next = now + rl->interval;
	rl->primed = 1;
	return 1;
}
