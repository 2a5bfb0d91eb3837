/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * repo.c: the repository documents (repo.h): loading a state, the
 * canonical writers, entries from manifests, URL templates and state
 * paths, key-file paths, archive order, active selection and the
 * generated_at rule.  The consumer's value rules, key files and
 * signatures are in repo_verify.c.
 *
 * Trust: everything read from a state directory is untrusted: sizes are
 * capped at the consumer's fetch limits and JSON goes through the strict
 * yajl wrapper (json.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "repo.h"

const char *const repo_doc_path[REPO_NDOCS] = {
	"repo.json", "index/active.json", "index/archive.json"
};

static const char *const doc_max_what[REPO_NDOCS] = {
	"descriptor", "active index", "archive index"
};

struct sortent {
	struct repo_entry	*e;
	struct pm_version	 v;
	size_t			 seq;
};

static int	 opt_str(yajl_val, const char *, const char *, char **,
		    struct buf *);
static int	 req_str(yajl_val, const char *, const char *, char **,
		    struct buf *);
static int	 opt_array(yajl_val, const char *, const char *, yajl_val *,
		    struct buf *);
static int	 parse_entry(yajl_val, const char *, struct repo_entry *,
		    struct buf *);
static int	 parse_key(yajl_val, const char *, struct repo_key *,
		    struct buf *);
static int	 parse_pointer(yajl_val, const char *, char **, char **,
		    struct buf *);
static void	 write_str(struct jw *, const char *, const char *);
static void	 write_key(struct jw *, const struct repo_key *);
static void	 write_pointer(struct jw *, const char *, const char *,
		    const char *);
static void	 write_entry(struct jw *, const struct repo_entry *);
static int	 path_ok(const char *);
static int	 sortent_cmp(const void *, const void *);
static int	 load_doc(const char *, enum repo_doc, struct repo_state *,
		    struct buf *);

/* ---- JSON member helpers ----------------------------------------------- */

/* An optional string member: absent or null is "". */
static int
opt_str(yajl_val o, const char *key, const char *what, char **out,
    struct buf *err)
{
	yajl_val	 v = json_get(o, key);

	if (v == NULL || YAJL_IS_NULL(v)) {
		*out = xstrdup("");
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return errf(err, "%s: member \"%s\" must be a string", what,
		    key);
	*out = xstrdup(v->u.string);
	return 0;
}

static int
req_str(yajl_val o, const char *key, const char *what, char **out,
    struct buf *err)
{
	const char	*s;

	if (json_get_str(o, key, what, &s, err) == -1)
		return -1;
	*out = xstrdup(s);
	return 0;
}

/* An optional array member: absent or null is empty (*out NULL). */
static int
opt_array(yajl_val o, const char *key, const char *what, yajl_val *out,
    struct buf *err)
{
	yajl_val	 v = json_get(o, key);

	*out = NULL;
	if (v == NULL || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return errf(err, "%s: member \"%s\" must be an array", what,
		    key);
	*out = v;
	return 0;
}

/* ---- parsing ----------------------------------------------------------- */

static int
parse_entry(yajl_val o, const char *what, struct repo_entry *e,
    struct buf *err)
{
	yajl_val	 h, b;
	struct buf	 hw = BUF_INIT;
	int		 rc = -1;

	if (!YAJL_IS_OBJECT(o))
		return errf(err, "%s: not a JSON object", what);
	if (req_str(o, "name", what, &e->name, err) ||
	    req_str(o, "version", what, &e->version, err) ||
	    req_str(o, "architecture", what, &e->architecture, err) ||
	    opt_str(o, "description", what, &e->description, err) ||
	    opt_str(o, "license", what, &e->license, err) ||
	    opt_str(o, "homepage", what, &e->homepage, err) ||
	    manifest_relations_parse(o, MF_STRICT, MF_INDEX_ENTRY, &e->rel,
	    what, err) ||
	    json_get_uint(o, "size_compressed", what, &e->size_compressed,
	    err) ||
	    json_get_uint(o, "size_installed", what, &e->size_installed,
	    err) ||
	    json_get_object(o, "hash", what, &h, err) ||
	    req_str(o, "url", what, &e->url, err))
		goto out;
	buf_addf(&hw, "%s: hash", what);
	if (req_str(h, "algorithm", buf_str(&hw), &e->hash_algorithm, err) ||
	    req_str(h, "value", buf_str(&hw), &e->hash, err))
		goto out;
	b = json_get(o, "build");
	if (b != NULL && !YAJL_IS_NULL(b) && !YAJL_IS_OBJECT(b)) {
		errf(err, "%s: member \"build\" must be an object", what);
		goto out;
	}
	buf_reset(&hw);
	buf_addf(&hw, "%s: build", what);
	if (opt_str(b, "timestamp", buf_str(&hw), &e->build_timestamp, err) ||
	    opt_str(b, "farm_id", buf_str(&hw), &e->build_farm_id, err))
		goto out;
	rc = 0;
 out:
	buf_free(&hw);
	return rc;
}

void
repo_entry_free(struct repo_entry *e)
{
	free(e->name);
	free(e->version);
	free(e->architecture);
	free(e->description);
	free(e->license);
	free(e->homepage);
	manifest_relations_free(&e->rel);
	free(e->hash_algorithm);
	free(e->hash);
	free(e->url);
	free(e->build_timestamp);
	free(e->build_farm_id);
	memset(e, 0, sizeof(*e));
}

int
repo_index_parse(const char *s, size_t n, const char *what,
    struct repo_index *ix, struct buf *err)
{
	struct buf	 w = BUF_INIT, e = BUF_INIT;
	yajl_val	 v, pk;
	size_t		 i;
	int		 rc = -1;

	memset(ix, 0, sizeof(*ix));
	if ((v = json_parse(s, n, &e)) == NULL) {
		errf(err, "%s: %s", what, buf_str(&e));
		goto out;
	}
	if (json_get_int64(v, "schema_version", what, &ix->schema_version,
	    err) || req_str(v, "repo", what, &ix->repo, err) ||
	    req_str(v, "kind", what, &ix->kind, err) ||
	    json_get_int64(v, "index_version", what, &ix->index_version,
	    err) || req_str(v, "generated_at", what, &ix->generated_at, err) ||
	    opt_array(v, "packages", what, &pk, err))
		goto out;
	if (pk != NULL && pk->u.array.len > 0) {
		ix->pkgs = xcalloc(pk->u.array.len, sizeof(*ix->pkgs));
		for (i = 0; i < pk->u.array.len; i++) {
			buf_reset(&w);
			buf_addf(&w, "%s: packages[%zu]", what, i);
			ix->npkgs = i + 1;
			if (parse_entry(pk->u.array.values[i], buf_str(&w),
			    &ix->pkgs[i], err) == -1)
				goto out;
		}
	}
	rc = 0;
 out:
	yajl_tree_free(v);
	buf_free(&w);
	buf_free(&e);
	if (rc == -1)
		repo_index_free(ix);
	return rc;
}

void
repo_index_free(struct repo_index *ix)
{
	size_t	 i;

	for (i = 0; i < ix->npkgs; i++)
		repo_entry_free(&ix->pkgs[i]);
	free(ix->pkgs);
	free(ix->repo);
	free(ix->kind);
	free(ix->generated_at);
	memset(ix, 0, sizeof(*ix));
}

static int
parse_key(yajl_val o, const char *what, struct repo_key *k, struct buf *err)
{
	if (req_str(o, "fingerprint", what, &k->fingerprint, err) ||
	    req_str(o, "url", what, &k->url, err) ||
	    req_str(o, "status", what, &k->status, err) ||
	    opt_str(o, "valid_until", what, &k->valid_until, err))
		return -1;
	return 0;
}

static int
parse_pointer(yajl_val ixs, const char *key, char **url, char **sig,
    struct buf *err)
{
	struct buf	 w = BUF_INIT;
	yajl_val	 p;
	int		 rc = -1;

	buf_addf(&w, "repo.json: indexes.%s", key);
	if (json_get_object(ixs, key, "repo.json: indexes", &p, err) == 0 &&
	    req_str(p, "url", buf_str(&w), url, err) == 0 &&
	    req_str(p, "signature_url", buf_str(&w), sig, err) == 0)
		rc = 0;
	buf_free(&w);
	return rc;
}

int
repo_desc_parse(const char *s, size_t n, struct repo_desc *d,
    struct buf *err)
{
	struct buf	 e = BUF_INIT, w = BUF_INIT;
	yajl_val	 v, r, sg, keys, ixs;
	int64_t		 ver;
	size_t		 i;
	int		 rc = -1;

	memset(d, 0, sizeof(*d));
	if ((v = json_parse(s, n, &e)) == NULL) {
		errf(err, "repo.json: %s", buf_str(&e));
		goto out;
	}
	if (json_get_int64(v, "schema_version", "repo.json", &ver, err) ||
	    json_get_object(v, "repo", "repo.json", &r, err) ||
	    req_str(r, "name", "repo.json: repo", &d->name, err) ||
	    opt_str(r, "description", "repo.json: repo", &d->description,
	    err) ||
	    json_get_object(r, "signing", "repo.json: repo", &sg, err) ||
	    req_str(sg, "algorithm", "repo.json: repo.signing", &d->algorithm,
	    err) ||
	    json_get_array(sg, "keys", "repo.json: repo.signing", &keys,
	    err) ||
	    json_get_object(v, "indexes", "repo.json", &ixs, err) ||
	    parse_pointer(ixs, "active", &d->active_url, &d->active_sig_url,
	    err) ||
	    parse_pointer(ixs, "archive", &d->archive_url,
	    &d->archive_sig_url, err))
		goto out;
	if (ver != 1) {
		errf(err, "repo.json: schema_version is %lld, expected 1",
		    (long long)ver);
		goto out;
	}
	d->keys = xcalloc(keys->u.array.len, sizeof(*d->keys));
	for (i = 0; i < keys->u.array.len; i++) {
		buf_reset(&w);
		buf_addf(&w, "repo.json: repo.signing.keys[%zu]", i);
		d->nkeys = i + 1;
		if (parse_key(keys->u.array.values[i], buf_str(&w),
		    &d->keys[i], err) == -1)
			goto out;
	}
	rc = 0;
 out:
	yajl_tree_free(v);
	buf_free(&e);
	buf_free(&w);
	if (rc == -1)
		repo_desc_free(d);
	return rc;
}

void
repo_desc_free(struct repo_desc *d)
{
	size_t	 i;

	for (i = 0; i < d->nkeys; i++) {
		free(d->keys[i].fingerprint);
		free(d->keys[i].url);
		free(d->keys[i].status);
		free(d->keys[i].valid_until);
	}
	free(d->keys);
	free(d->name);
	free(d->description);
	free(d->algorithm);
	free(d->active_url);
	free(d->active_sig_url);
	free(d->archive_url);
	free(d->archive_sig_url);
	memset(d, 0, sizeof(*d));
}

void
repo_desc_init(struct repo_desc *d, const char *name, const char *desc,
    const char fpr[65])
{
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(name);
	d->description = xstrdup(desc != NULL ? desc : "");
	d->algorithm = xstrdup("ed25519");
	d->keys = xcalloc(1, sizeof(*d->keys));
	d->nkeys = 1;
	d->keys[0].fingerprint = xstrdup(fpr);
	d->keys[0].url = xasprintf("/keys/%s.pub", fpr);
	d->keys[0].status = xstrdup("active");
	d->keys[0].valid_until = xstrdup("");
	d->active_url = xstrdup("/index/active.json");
	d->active_sig_url = xstrdup("/index/active.json.sig");
	d->archive_url = xstrdup("/index/archive.json");
	d->archive_sig_url = xstrdup("/index/archive.json.sig");
}

void
repo_desc_sort_keys(struct repo_desc *d)
{
	struct repo_key	 t;
	size_t		 i, j;

	/* Insertion sort: stable, and descriptors list a handful of keys. */
	for (i = 1; i < d->nkeys; i++) {
		t = d->keys[i];
		for (j = i; j > 0 &&
		    strcmp(d->keys[j - 1].fingerprint, t.fingerprint) > 0; j--)
			d->keys[j] = d->keys[j - 1];
		d->keys[j] = t;
	}
}

/* ---- loading a state --------------------------------------------------- */

static int
load_doc(const char *dir, enum repo_doc doc, struct repo_state *st,
    struct buf *err)
{
	static const size_t	 max[REPO_NDOCS] = {
		REPO_DESC_MAX, REPO_INDEX_MAX, REPO_INDEX_MAX
	};
	struct buf	 e = BUF_INIT;
	char		*path, *sig;
	int		 rc = -1;

	path = xasprintf("%s/%s", dir, repo_doc_path[doc]);
	sig = xasprintf("%s.sig", path);
	if (read_file(path, max[doc], &st->raw[doc], &e) == -1) {
		errf(err, "read %s %s", doc_max_what[doc], buf_str(&e));
		goto out;
	}
	buf_reset(&e);
	if (read_file(sig, REPO_SIG_MAX, &st->sig[doc], &e) == 0)
		st->has_sig[doc] = 1;
	else if (errno != ENOENT) {
		errf(err, "read signature %s", buf_str(&e));
		goto out;
	}
	rc = 0;
 out:
	buf_free(&e);
	free(path);
	free(sig);
	return rc;
}

int
repo_state_load(const char *dir, struct repo_state *st, struct buf *err)
{
	int	 d;

	memset(st, 0, sizeof(*st));
	for (d = 0; d < REPO_NDOCS; d++)
		if (load_doc(dir, (enum repo_doc)d, st, err) == -1)
			goto fail;
	if (repo_desc_parse(st->raw[REPO_DOC_DESC].data,
	    st->raw[REPO_DOC_DESC].len, &st->desc, err) == -1 ||
	    repo_index_parse(st->raw[REPO_DOC_ACTIVE].data,
	    st->raw[REPO_DOC_ACTIVE].len, "index/active.json", &st->active,
	    err) == -1 ||
	    repo_index_parse(st->raw[REPO_DOC_ARCHIVE].data,
	    st->raw[REPO_DOC_ARCHIVE].len, "index/archive.json",
	    &st->archive, err) == -1)
		goto fail;
	return 0;
 fail:
	repo_state_free(st);
	return -1;
}

void
repo_state_free(struct repo_state *st)
{
	int	 d;

	repo_desc_free(&st->desc);
	repo_index_free(&st->active);
	repo_index_free(&st->archive);
	for (d = 0; d < REPO_NDOCS; d++) {
		buf_free(&st->raw[d]);
		buf_free(&st->sig[d]);
		st->has_sig[d] = 0;
	}
}

/* ---- canonical writers ------------------------------------------------- */

static void
write_str(struct jw *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_str(w, value);
}

static void
write_key(struct jw *w, const struct repo_key *k)
{
	jw_obj_begin(w);
	write_str(w, "fingerprint", k->fingerprint);
	write_str(w, "url", k->url);
	write_str(w, "status", k->status);
	if (*k->valid_until != '\0')
		write_str(w, "valid_until", k->valid_until);
	jw_obj_end(w);
}

/* "<name>": {"url": ..., "signature_url": ...} */
static void
write_pointer(struct jw *w, const char *name, const char *url,
    const char *sig_url)
{
	jw_key(w, name);
	jw_obj_begin(w);
	write_str(w, "url", url);
	write_str(w, "signature_url", sig_url);
	jw_obj_end(w);
}

void
repo_desc_write(const struct repo_desc *d, struct buf *out)
{
	struct jw	 w;
	size_t		 i;

	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version");
	jw_int(&w, 1);
	jw_key(&w, "repo");
	jw_obj_begin(&w);
	write_str(&w, "name", d->name);
	write_str(&w, "description", d->description);
	jw_key(&w, "signing");
	jw_obj_begin(&w);
	write_str(&w, "algorithm", d->algorithm);
	jw_key(&w, "keys");
	jw_arr_begin(&w);
	for (i = 0; i < d->nkeys; i++)
		write_key(&w, &d->keys[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_key(&w, "indexes");
	jw_obj_begin(&w);
	write_pointer(&w, "active", d->active_url, d->active_sig_url);
	write_pointer(&w, "archive", d->archive_url, d->archive_sig_url);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
}

static void
write_entry(struct jw *w, const struct repo_entry *e)
{
	jw_obj_begin(w);
	write_str(w, "name", e->name);
	write_str(w, "version", e->version);
	write_str(w, "architecture", e->architecture);
	write_str(w, "description", e->description);
	write_str(w, "license", e->license);
	write_str(w, "homepage", e->homepage);
	manifest_relations_write(w, &e->rel);
	jw_key(w, "size_compressed");
	jw_uint(w, e->size_compressed);
	jw_key(w, "size_installed");
	jw_uint(w, e->size_installed);
	jw_key(w, "hash");
	jw_obj_begin(w);
	write_str(w, "algorithm", e->hash_algorithm);
	write_str(w, "value", e->hash);
	jw_obj_end(w);
	write_str(w, "url", e->url);
	jw_key(w, "build");
	jw_obj_begin(w);
	write_str(w, "timestamp", e->build_timestamp);
	write_str(w, "farm_id", e->build_farm_id);
	jw_obj_end(w);
	jw_obj_end(w);
}

void
repo_index_write(struct buf *out, const char *repo, const char *kind,
    int64_t index_version, const char *generated_at,
    struct repo_entry *const *pkgs, size_t n)
{
	struct jw	 w;
	size_t		 i;

	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_key(&w, "schema_version");
	jw_int(&w, 1);
	write_str(&w, "repo", repo);
	write_str(&w, "kind", kind);
	jw_key(&w, "index_version");
	jw_int(&w, index_version);
	write_str(&w, "generated_at", generated_at);
	jw_key(&w, "packages");
	jw_arr_begin(&w);
	for (i = 0; i < n; i++)
		write_entry(&w, pkgs[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end(&w);
}

/* ---- consumer rules ---------------------------------------------------- */

int
repo_timestamp_check(const char *ts, struct buf *err)
{
	int64_t	 secs;
	long	 ns;

	if (!str_has_suffix(ts, "Z"))
		return errf(err, "Timestamp must end with 'Z' for UTC (got "
		    "\"%s\")", ts);
	return parse_rfc3339_z(ts, &secs, &ns, err);
}

/* ---- keys and signatures ----------------------------------------------- */

char *
repo_key_path(const struct repo_key *k)
{
	if (k->url[0] == '/' && path_ok(k->url + 1))
		return xstrdup(k->url + 1);
	return xasprintf("keys/%s.pub", k->fingerprint);
}

/* ---- entries, URLs, order ---------------------------------------------- */

void
repo_entry_from_manifest(struct repo_entry *e, const struct manifest *m,
    uint64_t size, const uint8_t sha[32], const char *url)
{
	char	 hex[65];

	memset(e, 0, sizeof(*e));
	e->name = xstrdup(m->name);
	e->version = xstrdup(m->version);
	e->architecture = xstrdup(m->architecture);
	e->description = xstrdup(m->description ? m->description : "");
	e->license = xstrdup(m->license ? m->license : "");
	e->homepage = xstrdup(m->homepage ? m->homepage : "");
	manifest_relations_copy(&e->rel, &m->rel);
	e->size_compressed = size;
	e->size_installed = m->size_installed;
	e->hash_algorithm = xstrdup("sha256");
	hex_encode(sha, 32, hex);
	e->hash = xstrdup(hex);
	e->url = xstrdup(url);
	e->build_timestamp = xstrdup(m->build.timestamp ?
	    m->build.timestamp : "");
	e->build_farm_id = xstrdup(m->build.farm_id ? m->build.farm_id : "");
}

int
repo_url_render(const char *tmpl, const char *name, const char *version,
    const char *arch, const char *filename, char **out, struct buf *err)
{
	static const char *const ph[] = {
		"{name}", "{version}", "{arch}", "{filename}"
	};
	const char	*val[4] = { name, version, arch, filename };
	struct buf	 b = BUF_INIT;
	const char	*p;
	size_t		 k;

	for (p = tmpl; *p != '\0';) {
		for (k = 0; k < 4; k++)
			if (str_has_prefix(p, ph[k]))
				break;
		if (k < 4) {
			buf_adds(&b, val[k]);
			p += strlen(ph[k]);
		} else
			buf_addc(&b, *p++);
	}
	buf_add(&b, "", 0);
	if (b.data[0] != '/' && !str_has_prefix(b.data, "https://") &&
	    !str_has_prefix(b.data, "http://")) {
		errf(err, "package URL \"%s\" (template \"%s\") is neither "
		    "'/'-rooted nor an http(s) URL", b.data, tmpl);
		buf_free(&b);
		return -1;
	}
	*out = buf_release(&b);
	return 0;
}

/*
 * A relative path safe to use inside a state and in a URL: non-empty
 * segments not starting with '.', no control byte, '\\', '?', '#', '%'.
 */
static int
path_ok(const char *p)
{
	const char	*s;

	if (*p == '\0')
		return 0;
	for (s = p; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\\' ||
		    *s == '?' || *s == '#' || *s == '%')
			return 0;
		if ((s == p || s[-1] == '/') && (*s == '/' || *s == '.'))
			return 0;
	}
	return s[-1] != '/';
}

int
repo_url_path(const char *url, char **rel, struct buf *err)
{
	*rel = NULL;
	if (str_has_prefix(url, "https://") || str_has_prefix(url, "http://"))
		return 0;
	if (url[0] != '/' || !path_ok(url + 1))
		return errf(err, "package URL \"%s\" is not a '/'-rooted path "
		    "of non-empty segments not starting with '.' and free of "
		    "control bytes, '\\', '?', '#' and '%%'", url);
	if (str_has_prefix(url, "/index/") || str_has_prefix(url, "/keys/") ||
	    strcmp(url, "/repo.json") == 0 ||
	    strcmp(url, "/repo.json.sig") == 0)
		return errf(err, "package URL \"%s\" collides with the "
		    "repository metadata", url);
	*rel = xstrdup(url + 1);
	return 0;
}

static int
sortent_cmp(const void *a, const void *b)
{
	const struct sortent	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->e->name, y->e->name)) != 0)
		return c;
	if ((c = version_cmp(&y->v, &x->v)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
repo_archive_sort(struct repo_entry **v, size_t n, struct buf *err)
{
	struct sortent	*s;
	struct buf	 e = BUF_INIT;
	size_t		 i, parsed;
	int		 rc = -1;

	s = xcalloc(n, sizeof(*s));
	for (parsed = 0; parsed < n; parsed++) {
		s[parsed].e = v[parsed];
		s[parsed].seq = parsed;
		if (version_parse(v[parsed]->version, &s[parsed].v, &e) == -1) {
			errf(err, "sort archive: package %s: parse version "
			    "\"%s\": %s", v[parsed]->name, v[parsed]->version,
			    buf_str(&e));
			goto out;
		}
	}
	qsort(s, n, sizeof(*s), sortent_cmp);
	for (i = 0; i < n; i++)
		v[i] = s[i].e;
	rc = 0;
 out:
	for (i = 0; i < parsed; i++)
		version_free(&s[i].v);
	free(s);
	buf_free(&e);
	return rc;
}

int
repo_active_select(struct repo_entry *const *v, size_t n,
    struct repo_entry ***out, size_t *nout, struct buf *err)
{
	struct repo_entry	**a, *kept = NULL;
	int			  c;
	size_t			  i, na = 0;

	a = xcalloc(n, sizeof(*a));
	for (i = 0; i < n; i++) {
		if (kept == NULL || strcmp(kept->name, v[i]->name) != 0) {
			kept = a[na++] = v[i];
			continue;
		}
		if ((c = version_cmp_str(v[i]->version, kept->version,
		    err)) == -2)
			goto fail;
		if (c > 0)
			kept = a[na - 1] = v[i];
		else if (c == 0 && strcmp(v[i]->architecture,
		    kept->architecture) != 0) {
			errf(err, "active index conflict: %s exists at version "
			    "%s for both architectures \"%s\" and \"%s\" (the "
			    "active index holds one entry per name: publish "
			    "one architecture per repository)", kept->name,
			    kept->version, kept->architecture,
			    v[i]->architecture);
			goto fail;
		}
	}
	*out = a;
	*nout = na;
	return 0;
 fail:
	free(a);
	return -1;
}

int
repo_generated_at(const char *prev, const char *req, const char **out,
    int *clamped, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int64_t		 ps, rs;
	long		 pn, rn;
	int		 rc = -1;

	*clamped = 0;
	if (parse_rfc3339_z(prev, &ps, &pn, &e) == -1) {
		errf(err, "previous generated_at: %s", buf_str(&e));
		goto out;
	}
	if (repo_timestamp_check(req, &e) == -1) {
		errf(err, "%s", buf_str(&e));
		goto out;
	}
	parse_rfc3339_z(req, &rs, &rn, NULL);
	if (rs < ps || (rs == ps && rn < pn)) {
		*out = prev;
		*clamped = 1;
	} else
		*out = req;
	rc = 0;
 out:
	buf_free(&e);
	return rc;
}
