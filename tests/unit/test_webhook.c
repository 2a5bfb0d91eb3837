/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * test_webhook.c: webhook authentication (GitHub's known-answer vector
 * and every negative of RELIABILITY.md B6), the streaming payload parser,
 * URL normalisation and matching, the replay filter and the log rate
 * limiter (src/webhook.c).
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

#include "crypto.h"
#include "webhook.h"

#define HOUR	(INT64_C(3600) * 1000000000)
#define SEC	INT64_C(1000000000)

static const char	 ksecret[] = "It's a Secret to Everybody";
static const char	 kbody[] = "Hello, World!";
static const char	 kmac[] =
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

static const char	 gh_payload[] =
    "{\"ref\":\"refs/tags/v1.2.3\",\"before\":\"0000\",\"created\":true,"
    "\"deleted\":false,\"forced\":false,\"base_ref\":null,"
    "\"commits\":[{\"id\":\"abc\",\"message\":\"fix \\\"quoted\\\" \\u00e9"
    "\\ud83d\\ude00 \\n\",\"distinct\":true,\"added\":[],\"modified\":"
    "[\"a.c\",\"b.c\"]}],\"repository\":{\"id\":123456,\"name\":\"zlib\","
    "\"full_name\":\"madler/zlib\",\"owner\":{\"login\":\"madler\","
    "\"html_url\":\"https://github.com/madler\"},\"private\":false,"
    "\"html_url\":\"https://github.com/madler/zlib\",\"fork\":false,"
    "\"topics\":[\"compression\",{\"html_url\":\"x\"}],\"size\":1.5e3,"
    "\"clone_url\":\"https://github.com/madler/zlib.git\",\"stargazers\":-7}"
    ",\"sender\":{\"login\":\"madler\",\"html_url\":\"https://github.com/s\"}}";

static void
mac_hex(const char *secret, const void *body, size_t n, char out[65])
{
	struct hmac_ctx	 h;
	uint8_t		 mac[32];

	hmac_init(&h, secret, strlen(secret));
	hmac_update(&h, body, n);
	hmac_final(&h, mac);
	hex_encode(mac, sizeof(mac), out);
}

/* Run one whole request: header check, then the body in one piece. */
static enum wh_status
run_req(enum forge f, const char *secret, const char *hdr, int ndup,
    const void *body, size_t n)
{
	struct wh_req	*r;
	uint8_t		 mac[32];
	enum wh_status	 st;

	st = wh_auth_header(f, secret, strlen(secret), hdr, ndup, mac);
	if (st != WH_OK)
		return st;
	r = wh_req_new(f, secret, strlen(secret), mac);
	wh_req_body(r, body, n);
	st = wh_req_finish(r);
	wh_req_free(r);
	return st;
}

static void
test_github_known_answer(void **state)
{
	char	 hex[65], hdr[80];

	mac_hex(ksecret, kbody, strlen(kbody), hex);
	assert_string_equal(hex, kmac);
	snprintf(hdr, sizeof(hdr), "sha256=%s", kmac);
	/* the signature holds; the body is not JSON */
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, kbody,
	    strlen(kbody)), WH_BADJSON);
}

static void
test_github_signature_negatives(void **state)
{
	const char	*body = gh_payload;
	size_t		 n = strlen(body);
	char		 hex[65], other[65], hdr[128], up[65], *nl;
	size_t		 i;

	mac_hex(ksecret, body, n, hex);
	snprintf(hdr, sizeof(hdr), "sha256=%s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_OK);
	/* upper-case hex is accepted, as the reference does */
	for (i = 0; i < 64; i++)
		up[i] = hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i];
	up[64] = '\0';
	snprintf(hdr, sizeof(hdr), "sha256=%s", up);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_OK);
	/* missing, repeated, wrong algorithm, upper-case prefix */
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, NULL, 0, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "sha256=%s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 2, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "sha1=%.40s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "SHA256=%s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "%s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	/* 63 and 65 hex digits, a non-hex digit, empty */
	snprintf(hdr, sizeof(hdr), "sha256=%.63s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "sha256=%s0", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "sha256=%.63sg", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, "sha256=", 1, body,
	    n), WH_BADSIG);
	/* another body's signature; the body plus a newline; empty body */
	mac_hex(ksecret, "{}", 2, other);
	snprintf(hdr, sizeof(hdr), "sha256=%s", other);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	nl = xasprintf("%s\n", body);
	snprintf(hdr, sizeof(hdr), "sha256=%s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, nl, n + 1),
	    WH_BADSIG);
	free(nl);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, "", 0),
	    WH_BADSIG);
	mac_hex(ksecret, "", 0, other);
	snprintf(hdr, sizeof(hdr), "sha256=%s", other);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, "", 0),
	    WH_BADJSON);
	/* wrong secret; no secret at all (fail closed) */
	mac_hex("another secret", body, n, other);
	snprintf(hdr, sizeof(hdr), "sha256=%s", other);
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, body, n),
	    WH_BADSIG);
	snprintf(hdr, sizeof(hdr), "sha256=%s", hex);
	assert_int_equal(run_req(FORGE_GITHUB, "", hdr, 1, body, n),
	    WH_BADSIG);
	/* a bad signature wins over malformed JSON */
	assert_int_equal(run_req(FORGE_GITHUB, ksecret, hdr, 1, "{", 1),
	    WH_BADSIG);
}

static void
test_gitlab_token(void **state)
{
	const char	*body = "{\"project\":{}}";
	size_t		 n = strlen(body);
	uint8_t		 mac[32];

	assert_int_equal(run_req(FORGE_GITLAB, "tok-123", "tok-123", 1, body,
	    n), WH_OK);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "tok-123", 7, "tok-12",
	    1, mac), WH_BADSIG);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "tok-123", 7,
	    "tok-1234", 1, mac), WH_BADSIG);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "tok-123", 7, "TOK-123",
	    1, mac), WH_BADSIG);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "tok-123", 7, "", 1,
	    mac), WH_BADSIG);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "tok-123", 7, NULL, 0,
	    mac), WH_BADSIG);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "tok-123", 7, "tok-123",
	    2, mac), WH_BADSIG);
	assert_int_equal(wh_auth_header(FORGE_GITLAB, "", 0, "", 1, mac),
	    WH_BADSIG);
	assert_true(wh_token_equal("abc", 3, "abc", 3));
	assert_false(wh_token_equal("abc", 3, "abd", 3));
	assert_false(wh_token_equal("abc", 3, "ab", 2));
	/* the token is not a MAC: the body is not authenticated, only
	 * parsed */
	assert_int_equal(run_req(FORGE_GITLAB, "tok-123", "tok-123", 1, "{",
	    1), WH_BADJSON);
}

static void
test_gitea_hex(void **state)
{
	const char	*body = "{\"repository\":{\"html_url\":\"x\"}}";
	size_t		 n = strlen(body);
	char		 hex[65], hdr[80];

	mac_hex("gitea-secret", body, n, hex);
	assert_int_equal(run_req(FORGE_GITEA, "gitea-secret", hex, 1, body,
	    n), WH_OK);
	snprintf(hdr, sizeof(hdr), "sha256=%s", hex);
	assert_int_equal(run_req(FORGE_GITEA, "gitea-secret", hdr, 1, body,
	    n), WH_BADSIG);
	assert_int_equal(run_req(FORGE_GITEA, "other", hex, 1, body, n),
	    WH_BADSIG);
	assert_int_equal(run_req(FORGE_GITEA, "gitea-secret", hex, 1, "{}",
	    2), WH_BADSIG);
	assert_int_equal(run_req(FORGE_GITEA, "", hex, 1, body, n),
	    WH_BADSIG);
}

/* Parse doc in pieces of the given sizes (0 = random, from seed). */
static struct wh_json *
parse_chunks(enum forge f, const char *doc, size_t n, size_t step,
    unsigned seed, int *rc)
{
	struct wh_json	*j = wh_json_new(f);
	size_t		 off = 0, k;

	srand(seed);
	while (off < n) {
		k = step != 0 ? step : 1 + (size_t)rand() % 97;
		if (k > n - off)
			k = n - off;
		(void)wh_json_feed(j, doc + off, k);
		off += k;
	}
	*rc = wh_json_finish(j);
	return j;
}

static void
expect_urls(const struct wh_json *j, const char *u0, const char *u1,
    const char *u2)
{
	const char	*want[WH_NURL] = { u0, u1, u2 };
	size_t		 i;

	for (i = 0; i < WH_NURL; i++) {
		if (want[i] == NULL)
			assert_null(wh_json_url(j, i));
		else {
			assert_non_null(wh_json_url(j, i));
			assert_string_equal(wh_json_url(j, i), want[i]);
		}
	}
}

static void
test_json_chunking(void **state)
{
	struct wh_json	*j;
	size_t		 n = strlen(gh_payload);
	unsigned	 seed;
	int		 rc;

	j = parse_chunks(FORGE_GITHUB, gh_payload, n, n, 0, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "https://github.com/madler/zlib",
	    "https://github.com/madler/zlib.git", NULL);
	wh_json_free(j);
	j = parse_chunks(FORGE_GITHUB, gh_payload, n, 1, 0, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "https://github.com/madler/zlib",
	    "https://github.com/madler/zlib.git", NULL);
	wh_json_free(j);
	for (seed = 1; seed <= 64; seed++) {
		j = parse_chunks(FORGE_GITHUB, gh_payload, n, 0, seed, &rc);
		assert_int_equal(rc, 0);
		expect_urls(j, "https://github.com/madler/zlib",
		    "https://github.com/madler/zlib.git", NULL);
		wh_json_free(j);
	}
}

static struct wh_json *
parse1(enum forge f, const char *doc, int *rc)
{
	return parse_chunks(f, doc, strlen(doc), 1, 0, rc);
}

static void
test_json_members(void **state)
{
	static const char *gl =
	    "{\"object_kind\":\"tag_push\",\"project\":{\"web_url\":"
	    "\"https://gitlab.com/g/r\",\"git_http_url\":"
	    "\"https://gitlab.com/g/r.git\",\"http_url\":\"h\"},"
	    "\"repository\":{\"html_url\":\"no\"}}";
	struct wh_json	*j;
	int		 rc;

	/* case-insensitive names, including Go's ſ fold */
	j = parse1(FORGE_GITHUB, "{\"Repository\":{\"HTML_URL\":\"a\","
	    "\"Clone_Url\":\"b\"}}", &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "a", "b", NULL);
	wh_json_free(j);
	j = parse1(FORGE_GITHUB, "{\"repo\xc5\xbfitory\":{\"html_url\":"
	    "\"a\"}}", &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "a", NULL, NULL);
	wh_json_free(j);
	/* near misses do not match */
	j = parse1(FORGE_GITHUB, "{\"repositor\":{\"html_url\":\"a\"},"
	    "\"repository\":{\"html_urlx\":\"b\",\"owner\":{\"html_url\":"
	    "\"c\"}}}", &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, NULL, NULL, NULL);
	wh_json_free(j);
	/* repeats overwrite, null leaves the value, empty is skipped */
	j = parse1(FORGE_GITHUB, "{\"repository\":{\"html_url\":\"a\"},"
	    "\"repository\":{\"html_url\":\"b\",\"clone_url\":\"c\","
	    "\"clone_url\":null}}", &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "b", "c", NULL);
	wh_json_free(j);
	j = parse1(FORGE_GITHUB, "{\"repository\":{\"html_url\":\"\","
	    "\"clone_url\":\"c\"}}", &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, NULL, "c", NULL);
	assert_string_equal(wh_json_log_url(j), "");
	wh_json_free(j);
	/* GitLab and Gitea fields */
	j = parse1(FORGE_GITLAB, gl, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "https://gitlab.com/g/r", "https://gitlab.com/g/r.git",
	    "h");
	wh_json_free(j);
	j = parse1(FORGE_GITEA, gl, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "no", NULL, NULL);
	wh_json_free(j);
	/* escapes are decoded; a NUL makes the field unusable */
	j = parse1(FORGE_GITHUB, "{\"repository\":{\"html_url\":"
	    "\"https:\\/\\/x\\u002fy\",\"clone_url\":\"a\\u0000b\"}}", &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "https://x/y", NULL, NULL);
	wh_json_free(j);
}

static void
expect_bad(enum forge f, const char *doc, const char *why)
{
	struct wh_json	*j;
	int		 rc;

	j = parse_chunks(f, doc, strlen(doc), 0, 7, &rc);
	if (rc != -1)
		fail_msg("accepted: %s", doc);
	if (strstr(wh_json_error(j), why) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", doc,
		    wh_json_error(j), why);
	wh_json_free(j);
}

static void
expect_good(enum forge f, const char *doc)
{
	struct wh_json	*j;
	int		 rc;

	j = parse_chunks(f, doc, strlen(doc), 0, 7, &rc);
	if (rc != 0)
		fail_msg("rejected: %s: %s", doc, wh_json_error(j));
	wh_json_free(j);
}

static char *
nested(int depth)
{
	struct buf	 b = BUF_INIT;
	int		 i;

	buf_adds(&b, "{\"a\":");
	for (i = 1; i < depth; i++)
		buf_adds(&b, "[");
	buf_adds(&b, "1");
	for (i = 1; i < depth; i++)
		buf_adds(&b, "]");
	buf_adds(&b, "}");
	return buf_release(&b);
}

static void
test_json_malformed(void **state)
{
	char	*s;

	expect_bad(FORGE_GITHUB, "", "premature EOF");
	expect_bad(FORGE_GITHUB, "{\"repository\":", "premature EOF");
	expect_bad(FORGE_GITHUB, "{\"a\":1,}", "invalid JSON");
	expect_bad(FORGE_GITHUB, "{} {}", "invalid JSON");
	expect_bad(FORGE_GITHUB, "{}x", "invalid JSON");
	expect_bad(FORGE_GITHUB, "{/*c*/}", "invalid JSON");
	expect_bad(FORGE_GITHUB, "{\"a\":\"\xff\"}", "invalid JSON");
	expect_bad(FORGE_GITHUB, "{\"a\":\"x\ny\"}", "invalid JSON");
	expect_bad(FORGE_GITHUB, "{'a':1}", "invalid JSON");
	expect_bad(FORGE_GITHUB, "[]", "not a JSON object");
	expect_bad(FORGE_GITHUB, "\"s\"", "not a JSON object");
	expect_bad(FORGE_GITHUB, "42", "not a JSON object");
	expect_bad(FORGE_GITHUB, "{\"repository\":\"x\"}", "not an object");
	expect_bad(FORGE_GITHUB, "{\"REPOSITORY\":[]}", "not an object");
	expect_bad(FORGE_GITHUB, "{\"repository\":{\"html_url\":5}}",
	    "not a string");
	expect_bad(FORGE_GITHUB, "{\"repository\":{\"clone_url\":{}}}",
	    "not a string");
	expect_bad(FORGE_GITLAB, "{\"project\":{\"web_url\":true}}",
	    "not a string");
	s = nested(WH_DEPTH_MAX + 1);
	expect_bad(FORGE_GITHUB, s, "nested too deeply");
	free(s);
	s = nested(WH_DEPTH_MAX);
	expect_good(FORGE_GITHUB, s);
	free(s);
	expect_bad(FORGE_GITHUB, "{\"a\":1234567890123456789012345678901234"
	    "5678901234567890123456789012345}", "number too long");
	/* what the reference's decoder accepts */
	expect_good(FORGE_GITHUB, "null");
	expect_good(FORGE_GITHUB, " {} ");
	expect_good(FORGE_GITHUB, "{\"repository\":null}");
	expect_good(FORGE_GITHUB, "{\"repository\":{\"html_url\":null}}");
	expect_good(FORGE_GITHUB, "{\"a\":1e999,\"b\":-0.5E-3,\"c\":[true]}");
	expect_good(FORGE_GITHUB, "{\"sender\":{\"html_url\":5},\"repository"
	    "x\":[1]}");
}

static char *
long_string_doc(const char *before, size_t len, const char *fill,
    const char *after)
{
	struct buf	 b = BUF_INIT;
	size_t		 flen = strlen(fill);

	buf_adds(&b, before);
	while (len >= flen) {
		buf_add(&b, fill, flen);
		len -= flen;
	}
	buf_adds(&b, after);
	return buf_release(&b);
}

static void
test_json_huge_strings(void **state)
{
	struct wh_json	*j;
	char		*doc;
	int		 rc;

	/* 8 MiB of padding: accepted, and yajl never holds much */
	doc = long_string_doc("{\"pad\":\"", 8 << 20, "abc\\\"\xc3\xa9\\u00e9",
	    "\",\"repository\":{\"html_url\":\"u\"}}");
	j = parse_chunks(FORGE_GITHUB, doc, strlen(doc), 65536, 0, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, "u", NULL, NULL);
	assert_true(wh_json_peak_mem(j) < 64 * 1024);
	wh_json_free(j);
	free(doc);
	/* the cut lands inside escapes and UTF-8 sequences for every
	 * alignment: still valid */
	for (rc = 0; rc < 7; rc++) {
		doc = long_string_doc(rc == 0 ? "{\"a\":\"" : rc == 1 ?
		    "{\"a\":\"x" : rc == 2 ? "{\"a\":\"xx" : rc == 3 ?
		    "{\"a\":\"xxx" : rc == 4 ? "{\"a\":\"xxxx" : rc == 5 ?
		    "{\"a\":\"xxxxx" : "{\"a\":\"xxxxxx", WH_STR_MAX * 2,
		    "\\ud83d\\ude00\xf0\x9f\x98\x80", "\"}");
		expect_good(FORGE_GITHUB, doc);
		free(doc);
	}
	/* an over-long URL is unusable; the next candidate is used */
	doc = long_string_doc("{\"repository\":{\"html_url\":\"",
	    WH_URL_MAX + 1, "h", "\",\"clone_url\":\"c\"}}");
	j = parse_chunks(FORGE_GITHUB, doc, strlen(doc), 100, 0, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, NULL, "c", NULL);
	assert_int_equal(strlen(wh_json_log_url(j)), WH_URL_MAX);
	wh_json_free(j);
	free(doc);
	/* a URL cut by the prefilter cannot match either, even when its
	 * escapes decode to something short */
	doc = long_string_doc("{\"repository\":{\"html_url\":\"",
	    WH_STR_MAX + 60, "\\u0041", "\"}}");
	j = parse_chunks(FORGE_GITHUB, doc, strlen(doc), 0, 3, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, NULL, NULL, NULL);
	wh_json_free(j);
	free(doc);
	/* a key cut by the prefilter never matches */
	doc = long_string_doc("{\"", WH_STR_MAX + 60, "\\u0072",
	    "\":{\"html_url\":\"u\"}}");
	j = parse_chunks(FORGE_GITHUB, doc, strlen(doc), 0, 3, &rc);
	assert_int_equal(rc, 0);
	expect_urls(j, NULL, NULL, NULL);
	wh_json_free(j);
	free(doc);
}

static void
test_url_normalise(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "https://github.com/madler/zlib",
		    "https://github.com/madler/zlib" },
		{ "https://GitHub.com/Madler/ZLIB.GIT",
		    "https://github.com/madler/zlib" },
		{ "https://github.com/madler/zlib/",
		    "https://github.com/madler/zlib" },
		{ "https://github.com/madler/zlib.git/",
		    "https://github.com/madler/zlib" },
		{ "https://github.com/madler/zlib//",
		    "https://github.com/madler/zlib/" },
		{ "https://github.com/madler/zlib.git.git",
		    "https://github.com/madler/zlib.git" },
		{ "https://github.com/madler/zlib/.git",
		    "https://github.com/madler/zlib/" },
		{ "https://x/é.GIT", "https://x/é" },
		{ ".git", "" },
		{ "/", "" },
		{ "", "" }
	};
	char	 out[128];
	size_t	 i, n;

	for (i = 0; i < nitems(t); i++) {
		n = wh_url_normalise(t[i].in, strlen(t[i].in), out);
		assert_string_equal(out, t[i].out);
		assert_int_equal(n, strlen(t[i].out));
	}
}

static enum wh_match
match_doc(const struct wh_table *t, enum forge f, const char *doc,
    const char **id)
{
	const struct wh_recipe	*hit;
	struct wh_json		*j;
	enum wh_match		 m;
	int			 rc;

	j = parse1(f, doc, &rc);
	assert_int_equal(rc, 0);
	m = wh_table_match(t, f, j, &hit);
	*id = hit != NULL ? hit->id : NULL;
	wh_json_free(j);
	return m;
}

static void
test_table_match(void **state)
{
	struct wh_table	 t;
	const char	*id;

	wh_table_init(&t);
	wh_table_add(&t, "zlib-old", "https://github.com/madler/zlib", 1, 1);
	wh_table_add(&t, "zlib", "https://github.com/Madler/zlib.git", 1, 1);
	wh_table_add(&t, "hidden", "https://github.com/a/hidden", 7, 0);
	wh_table_add(&t, "optout", "https://github.com/a/optout", 2, 1);
	wh_table_add(&t, "other", "https://github.com/a/other", 1, 1);
	wh_table_add(&t, "gl", "https://gitlab.com/g/r.git", 2, 1);
	/* a tie names the first opted-in recipe; the parent polls them all */
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{\"repository\":"
	    "{\"html_url\":\"https://github.com/madler/zlib\"}}", &id),
	    WH_MATCH);
	assert_string_equal(id, "zlib-old");
	/* html_url empty: clone_url */
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{\"repository\":"
	    "{\"html_url\":\"\",\"clone_url\":\"https://github.com/a/other."
	    "git\"}}", &id), WH_MATCH);
	assert_string_equal(id, "other");
	/* html_url unknown: clone_url */
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{\"repository\":"
	    "{\"html_url\":\"https://x/y\",\"clone_url\":\"https://github.com/"
	    "a/other/\"}}", &id), WH_MATCH);
	assert_string_equal(id, "other");
	/* unwatched recipes are invisible */
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{\"repository\":"
	    "{\"html_url\":\"https://github.com/a/hidden\"}}", &id),
	    WH_NO_MATCH);
	assert_null(id);
	/* an opted-out html_url does not hide an opted-in clone_url */
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{\"repository\":"
	    "{\"html_url\":\"https://github.com/a/optout\",\"clone_url\":"
	    "\"https://github.com/a/other\"}}", &id), WH_MATCH);
	assert_string_equal(id, "other");
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{\"repository\":"
	    "{\"html_url\":\"https://github.com/a/optout\"}}", &id),
	    WH_OPTED_OUT);
	assert_null(id);
	assert_int_equal(match_doc(&t, FORGE_GITLAB, "{\"project\":"
	    "{\"web_url\":\"https://GITLAB.com/g/r\"}}", &id), WH_MATCH);
	assert_string_equal(id, "gl");
	assert_int_equal(match_doc(&t, FORGE_GITEA, "{\"repository\":"
	    "{\"html_url\":\"https://gitlab.com/g/r\"}}", &id), WH_OPTED_OUT);
	assert_int_equal(match_doc(&t, FORGE_GITHUB, "{}", &id), WH_NO_MATCH);
	wh_table_free(&t);
	assert_int_equal(t.n, 0);
}

static void
test_dedup(void **state)
{
	struct wh_dedup	*d = wh_dedup_new(WH_DEDUP_MAX, WH_DEDUP_WINDOW);
	char		 id[32];
	int		 i;

	assert_false(wh_dedup_seen(d, FORGE_GITHUB, "guid-1", 0));
	wh_dedup_add(d, FORGE_GITHUB, "guid-1", 0);
	assert_true(wh_dedup_seen(d, FORGE_GITHUB, "guid-1", 72 * HOUR - 1));
	assert_false(wh_dedup_seen(d, FORGE_GITEA, "guid-1", 1));
	assert_false(wh_dedup_seen(d, FORGE_GITHUB, "guid-2", 1));
	assert_false(wh_dedup_seen(d, FORGE_GITHUB, "guid-1", 72 * HOUR));
	assert_int_equal(wh_dedup_count(d), 0);
	/* the cap: the oldest is forgotten first */
	for (i = 0; i < WH_DEDUP_MAX + 5; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		wh_dedup_add(d, FORGE_GITHUB, id, 100 * HOUR + i);
	}
	assert_int_equal(wh_dedup_count(d), WH_DEDUP_MAX);
	for (i = 0; i < WH_DEDUP_MAX + 5; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(wh_dedup_seen(d, FORGE_GITHUB, id,
		    101 * HOUR), i >= 5);
	}
	/* half of them expire */
	assert_false(wh_dedup_seen(d, FORGE_GITHUB, "x",
	    172 * HOUR + WH_DEDUP_MAX / 2));
	assert_int_equal(wh_dedup_count(d), WH_DEDUP_MAX / 2 + 4);
	assert_true(wh_dedup_seen(d, FORGE_GITHUB, "id-10004",
	    172 * HOUR + WH_DEDUP_MAX / 2));
	wh_dedup_free(d);
}

static void
test_ratelimit(void **state)
{
	struct wh_ratelimit	 rl = WH_RATELIMIT_INIT(WH_WARN_INTERVAL);
	uint64_t		 sup = 99;
	int			 i;

	assert_true(wh_ratelimit(&rl, 5 * SEC, &sup));
	assert_int_equal(sup, 0);
	for (i = 0; i < 1000; i++)
		assert_false(wh_ratelimit(&rl, 5 * SEC + i * 1000000, &sup));
	assert_false(wh_ratelimit(&rl, 15 * SEC - 1, &sup));
	assert_true(wh_ratelimit(&rl, 15 * SEC, &sup));
	assert_int_equal(sup, 1001);
	assert_true(wh_ratelimit(&rl, 60 * SEC, &sup));
	assert_int_equal(sup, 0);
}

static void
test_forge_paths(void **state)
{
	enum forge	 f = FORGE_NUM;

	assert_int_equal(wh_forge_from_path("/webhooks/github", &f), 0);
	assert_int_equal(f, FORGE_GITHUB);
	assert_int_equal(wh_forge_from_path("/webhooks/gitlab", &f), 0);
	assert_int_equal(f, FORGE_GITLAB);
	assert_int_equal(wh_forge_from_path("/webhooks/gitea", &f), 0);
	assert_int_equal(f, FORGE_GITEA);
	assert_int_equal(wh_forge_from_path("/webhooks/GitHub", &f), -1);
	assert_int_equal(wh_forge_from_path("/webhooks/github/", &f), -1);
	assert_int_equal(wh_forge_from_path("/webhooks/", &f), -1);
	assert_int_equal(wh_forge_from_path("/status", &f), -1);
	assert_string_equal(wh_forge_name(FORGE_GITEA), "gitea");
	assert_null(wh_forge_name(FORGE_NUM));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_known_answer),
		cmocka_unit_test(test_github_signature_negatives),
		cmocka_unit_test(test_gitlab_token),
		cmocka_unit_test(test_gitea_hex),
		cmocka_unit_test(test_json_chunking),
		cmocka_unit_test(test_json_members),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_json_huge_strings),
		cmocka_unit_test(test_url_normalise),
		cmocka_unit_test(test_table_match),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_forge_paths),
	};

	crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
