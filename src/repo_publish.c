/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * repo_publish.c: repository init and publish, and the atomic switch
 * (doc/design.md, "The repository switch").
 *
 * A state S is never modified in place.  Under a lock (.S.lock next to
 * S) stale trees .S.new.<pid> / .S.old.<pid> of crashed attempts are
 * removed; every candidate package is copied into a new tree
 * .S.new.<pid> and verified there with the consumer's rules (so the
 * bytes verified are the bytes published); the indexes are computed and
 * signed in memory; the rest of S is hard-linked into the new tree; every
 * file written is fsynced, then the directories and the file system;
 * renameat2(RENAME_EXCHANGE) swaps the trees and the parent directory is
 * fsynced; the old tree is removed.  Any failure before the swap removes
 * the new tree and leaves S byte for byte as it was.
 *
 * Trust: candidate packages and the previous state are untrusted (see
 * repo.h); the signer may live in another process and is checked.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "fsutil.h"
#include "log.h"
#include "pkgread.h"
#include "repo.h"
#include "sign.h"

#define DEFAULT_MAX_PACKAGE	(UINT64_C(4) << 30)

struct cand {
	char			*file;		/* name in the source dir */
	char			*tmp;		/* copy in the new tree root */
	struct repo_entry	 e;
	int			 ok;		/* verified, e filled */
	int			 skip;		/* published, same bytes */
	char			*rel;		/* state path or NULL */
	struct buf		 mjson;		/* verbatim package members */
	struct buf		 fjson;
};

struct hset {
	char	**keys;
	void	**vals;
	size_t	  cap;
};

/* One init or publish attempt. */
struct pub {
	const struct repo_publish_opts	*o;
	struct repo_publish_result	*res;
	struct fs_switch		 sw;
	char				*inpath;	/* previous state */
	struct repo_state		 st;
	int				 st_loaded;
	uint8_t				(*pubs)[32];
	int64_t				 now;	/* generated_at instant */
	long				 now_ns;
	struct cand			*c;
	size_t				 nc;
	struct repo_entry		**arch;
	size_t				 narch;
	struct repo_entry		**act;
	size_t				 nact;
	const char			*gen_at;
	int64_t				 ver;
	struct buf			 doc[REPO_NDOCS];
	struct buf			 sig[REPO_NDOCS];
};

static int	 check_prev(struct pub *, struct buf *);
static int	 load_prev(struct pub *, struct buf *);
static int	 cand_cmp(const void *, const void *);
static int	 read_cands(struct pub *, struct buf *);
static int	 read_cand(struct pub *, const char *, struct cand *,
		    struct buf *);
static int	 merge(struct pub *, struct buf *);
static void	 reject_conflicts(struct pub *);
static int	 merge_cand(struct pub *, struct hset *, struct hset *,
		    struct cand *, struct buf *);
static int	 sign_doc(struct pub *, struct signer *, const uint8_t *,
		    enum repo_doc, struct buf *);
static int	 render_docs(struct pub *, struct buf *);
static int	 skip_meta(void *, const char *, int);
static int	 fill_tree(struct pub *, struct buf *);
static int	 place_cand(struct pub *, struct cand *, struct hset *,
		    struct buf *);
static int	 write_docs(struct pub *, struct buf *);
static void	 pub_free(struct pub *);
static void	 strv_add(char ***, size_t *, const char *);
static uint64_t	 hash_str(const char *);
static void	 hset_init(struct hset *, size_t);
static void	**hset_slot(struct hset *, const char *, int);
static void	 hset_free(struct hset *);
static char	*nva_key(const struct repo_entry *);

/* ---- small helpers ----------------------------------------------------- */

static void
strv_add(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static uint64_t
hash_str(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s));
}

static void
hset_init(struct hset *h, size_t n)
{
	for (h->cap = 16; h->cap < 2 * n + 1; h->cap *= 2)
		;
	h->keys = xcalloc(h->cap, sizeof(*h->keys));
	h->vals = xcalloc(h->cap, sizeof(*h->vals));
}

/* The value slot of `key`, or NULL when absent and !add. */
static void **
hset_slot(struct hset *h, const char *key, int add)
{
	size_t	 i;

	for (i = hash_str(key) & (h->cap - 1); h->keys[i] != NULL;
	    i = (i + 1) & (h->cap - 1))
		if (strcmp(h->keys[i], key) == 0)
			return &h->vals[i];
	if (!add)
		return NULL;
	h->keys[i] = xstrdup(key);
	return &h->vals[i];
}

static void
hset_free(struct hset *h)
{
	size_t	 i;

	for (i = 0; i < h->cap; i++)
		free(h->keys[i]);
	free(h->keys);
	free(h->vals);
}

static char *
nva_key(const struct repo_entry *e)
{
	return xasprintf("%s\x01%s\x01%s", e->name, e->version,
	    e->architecture);
}

/* ---- the previous state ------------------------------------------------ */

/*
 * The previous state must be one the consumer accepts and we signed:
 * a state changed after signing is never re-signed (a rebuild, which
 * discards the archive, only warns).
 */
static int
check_prev(struct pub *p, struct buf *err)
{
	const struct repo_state	*st = &p->st;
	struct buf		 e = BUF_INIT;
	size_t			 i;
	int			 d, rc = -1;

	for (d = 0; d < REPO_NDOCS; d++) {
		buf_reset(&e);
		if (repo_sig_check(st, (enum repo_doc)d,
		    (const uint8_t (*)[32])p->pubs, &e) == 0)
			continue;
		if (!p->o->rebuild) {
			errf(err, "%s (the state changed after it was signed: "
			    "inspect it, or recover with a rebuild)",
			    buf_str(&e));
			goto out;
		}
		buf_addf(&p->res->warnings, "%s (ignored by the rebuild)\n",
		    buf_str(&e));
	}
	for (i = 0; !p->o->rebuild && i < st->archive.npkgs; i++)
		if (repo_entry_check(&st->archive.pkgs[i], &e) == -1) {
			errf(err, "index/archive.json: %s (the consumer cannot "
			    "read this index: recover with a rebuild)",
			    buf_str(&e));
			goto out;
		}
	rc = 0;
 out:
	buf_free(&e);
	return rc;
}

static int
load_prev(struct pub *p, struct buf *err)
{
	struct repo_state	*st = &p->st;
	const char		*prev;
	int64_t			 iv;
	size_t			 i;
	int			 d;

	if (repo_state_load(p->inpath, st, err) == -1)
		return -1;
	p->st_loaded = 1;
	repo_desc_sort_keys(&st->desc);
	p->pubs = xcalloc(st->desc.nkeys + 1, sizeof(*p->pubs));
	if (repo_desc_check(&st->desc, err) == -1 ||
	    repo_index_check(&st->active, "index/active.json",
	    st->desc.name, "active", err) == -1 ||
	    repo_index_check(&st->archive, "index/archive.json",
	    st->desc.name, "archive", err) == -1 ||
	    repo_load_keys(p->inpath, &st->desc, p->pubs, err) == -1 ||
	    check_prev(p, err) == -1)
		return -1;
	iv = st->active.index_version > st->archive.index_version ?
	    st->active.index_version : st->archive.index_version;
	if (iv < p->o->min_index_version)
		return errf(err, "%s holds index_version %lld, below %lld "
		    "published before: the state was rolled back", p->inpath,
		    (long long)iv, (long long)p->o->min_index_version);
	p->ver = iv + 1;
	prev = st->active.generated_at;
	if (repo_generated_at(st->archive.generated_at, prev, &prev,
	    &d, err) == -1 || repo_generated_at(prev, p->o->timestamp,
	    &p->gen_at, &p->res->clamped, err) == -1)
		return -1;
	parse_rfc3339_z(p->gen_at, &p->now, &p->now_ns, NULL);
	/* Memory: the file bytes and the old active entries are done with. */
	for (d = 0; d < REPO_NDOCS; d++)
		buf_free(&st->raw[d]);
	for (i = 0; i < st->active.npkgs; i++)
		repo_entry_free(&st->active.pkgs[i]);
	st->active.npkgs = 0;
	return 0;
}

/* ---- candidates -------------------------------------------------------- */

/*
 * Copy one candidate into the new tree, then verify the copy: signature
 * under a key the repository trusts now, and every consumer rule.
 */
static int
read_cand(struct pub *p, const char *dir, struct cand *c, struct buf *err)
{
	struct pkg_verify_opts	 vo;
	struct pkg_info	 pi;
	struct buf	 e = BUF_INIT;
	uint8_t		(*trust)[32], sha[32];
	uint64_t	 size;
	char		*src, *tpath;
	size_t		 i, nt = 0;
	int		 fd = -1, rc = -1;

	memset(&pi, 0, sizeof(pi));
	trust = xcalloc(p->st.desc.nkeys + 1, sizeof(*trust));
	for (i = 0; i < p->st.desc.nkeys; i++)
		if (repo_key_usable(&p->st.desc.keys[i], p->now, p->now_ns))
			memcpy(trust[nt++], p->pubs[i], 32);
	src = xasprintf("%s/%s", dir, c->file);
	c->tmp = fs_unique_name(".in.");
	tpath = xasprintf("%s/%s", p->sw.tree.path, c->tmp);
	if (fs_copy_file(src, &p->sw.tree, c->tmp, p->o->max_package_size ?
	    p->o->max_package_size : DEFAULT_MAX_PACKAGE, "pkg", &size, sha,
	    err) == -1)
		goto out;
	pkg_verify_opts_init(&vo);
	vo.keys = (const uint8_t (*)[32])trust;
	vo.nkeys = nt;
	if ((fd = open(tpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		errf(err, "open %s: %s", tpath, strerror(errno));
		goto out;
	}
	if (pkg_verify_fd(fd, &vo, &pi, &e) == -1) {
		errf(err, "%s: rejected by the consumer's package "
		    "verification: %s", c->file, buf_str(&e));
		goto out;
	}
	repo_entry_from_manifest(&c->e, &pi.mf, size, sha, "");
	buf_add(&c->mjson, pi.manifest_json.data, pi.manifest_json.len);
	buf_add(&c->fjson, pi.files_json.data, pi.files_json.len);
	c->ok = 1;
	rc = 0;
 out:
	if (fd != -1)
		close(fd);
	pkg_info_free(&pi);
	buf_free(&e);
	free(trust);
	free(src);
	free(tpath);
	return rc;
}

static int
cand_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cand *)a)->file,
	    ((const struct cand *)b)->file);
}

static int
read_cands(struct pub *p, struct buf *err)
{
	const char	*dir = p->o->rebuild ? p->o->all_packages_dir :
			    p->o->new_dir;
	struct dirent	**ents = NULL;
	struct stat	 sb;
	char		*path;
	int		 i, n, rc = 0;

	if ((n = scandir(dir, &ents, NULL, NULL)) == -1)
		return errf(err, "read directory %s: %s", dir,
		    strerror(errno));
	p->c = xcalloc((size_t)n + 1, sizeof(*p->c));
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, ents[i]->d_name);
		if (str_has_suffix(ents[i]->d_name, ".peipkg") &&
		    stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
			p->c[p->nc].file = xstrdup(ents[i]->d_name);
			p->nc++;
		}
		free(path);
		free(ents[i]);
	}
	free(ents);
	/* File-name byte order (alphasort would follow the locale). */
	qsort(p->c, p->nc, sizeof(*p->c), cand_cmp);
	for (i = 0; i < (int)p->nc; i++)
		if (read_cand(p, dir, &p->c[i], err) == -1) {
			strv_add(&p->res->rejected, &p->res->nrejected,
			    p->c[i].file);
			rc = -1;
		}
	return rc;
}

/* ---- merge, order, selection ------------------------------------------- */

static int
merge_cand(struct pub *p, struct hset *nva, struct hset *urls,
    struct cand *c, struct buf *err)
{
	struct repo_entry	 *old, **slot;
	char			 *key, *url = NULL;
	int			  rc = -1;

	key = nva_key(&c->e);
	slot = (struct repo_entry **)hset_slot(nva, key, 1);
	if ((old = *slot) != NULL) {
		if (strcmp(old->hash, c->e.hash) == 0) {
			c->skip = 1;
			buf_addf(&p->res->warnings, "%s: %s_%s_%s is already "
			    "published with the same bytes; skipped\n",
			    c->file, c->e.name, c->e.version,
			    c->e.architecture);
			strv_add(&p->res->skipped, &p->res->nskipped, c->file);
			rc = 0;
		} else
			errf(err, "package %s_%s_%s already exists in the "
			    "archive (§6.3 forbids re-publishing the same "
			    "name+version+architecture)", c->e.name,
			    c->e.version, c->e.architecture);
		goto out;
	}
	*slot = &c->e;
	if (repo_url_render(p->o->url_template ? p->o->url_template :
	    REPO_URL_TEMPLATE, c->e.name, c->e.version, c->e.architecture,
	    c->file, &url, err) == -1 ||
	    repo_url_path(url, &c->rel, err) == -1)
		goto out;
	free(c->e.url);
	c->e.url = url;
	url = NULL;
	if (repo_entry_check(&c->e, err) == -1)
		goto out;
	if (c->rel != NULL && *(slot = (struct repo_entry **)hset_slot(urls,
	    c->rel, 1)) != NULL) {
		errf(err, "%s: its URL %s is already taken by %s_%s_%s",
		    c->file, c->e.url, (*slot)->name, (*slot)->version,
		    (*slot)->architecture);
		goto out;
	}
	if (c->rel != NULL)
		*slot = &c->e;
	rc = 0;
 out:
	free(url);
	free(key);
	return rc;
}

static int
merge(struct pub *p, struct buf *err)
{
	struct repo_index	*ar = &p->st.archive;
	struct hset		 nva, urls;
	struct repo_entry	**slot;
	char			*key, *rel;
	size_t			 i, nold = p->o->rebuild ? 0 : ar->npkgs;
	int			 rc = 0;

	hset_init(&nva, nold + p->nc);
	hset_init(&urls, nold + p->nc);
	p->arch = xcalloc(nold + p->nc + 1, sizeof(*p->arch));
	for (i = 0; i < nold; i++) {
		p->arch[p->narch++] = &ar->pkgs[i];
		key = nva_key(&ar->pkgs[i]);
		slot = (struct repo_entry **)hset_slot(&nva, key, 1);
		if (*slot == NULL)
			*slot = &ar->pkgs[i];
		free(key);
		if (repo_url_path(ar->pkgs[i].url, &rel, NULL) == 0 &&
		    rel != NULL)
			*hset_slot(&urls, rel, 1) = &ar->pkgs[i];
		free(rel);
	}
	for (i = 0; i < p->nc; i++) {
		if (merge_cand(p, &nva, &urls, &p->c[i], err) == -1) {
			strv_add(&p->res->rejected, &p->res->nrejected,
			    p->c[i].file);
			rc = -1;
		} else if (!p->c[i].skip)
			p->arch[p->narch++] = &p->c[i].e;
	}
	hset_free(&nva);
	hset_free(&urls);
	if (rc == -1 || repo_archive_sort(p->arch, p->narch, err) == -1)
		return -1;
	if (repo_active_select(p->arch, p->narch, &p->act, &p->nact,
	    err) == -1) {
		reject_conflicts(p);
		return -1;
	}
	return 0;
}

/*
 * After an active-selection conflict: name the candidates that tie with
 * the highest version of their name (the conflict is among those).
 */
static void
reject_conflicts(struct pub *p)
{
	size_t	 i, k;

	for (i = 0; i < p->nc; i++) {
		if (p->c[i].skip)
			continue;
		for (k = 0; k < p->narch; k++)
			if (strcmp(p->arch[k]->name, p->c[i].e.name) == 0)
				break;
		if (k < p->narch && version_cmp_str(p->arch[k]->version,
		    p->c[i].e.version, NULL) == 0)
			strv_add(&p->res->rejected, &p->res->nrejected,
			    p->c[i].file);
	}
}

/* ---- documents and signatures ------------------------------------------ */

/*
 * Sign through the signer and check the answer: the signature verifies,
 * and the key is a descriptor key usable now whose published key file
 * holds the same public key (`want`, NULL to skip that last check).
 */
static int
sign_doc(struct pub *p, struct signer *s, const uint8_t *want,
    enum repo_doc doc, struct buf *err)
{
	const struct repo_desc	*d = &p->st.desc;
	uint8_t			 digest[32], sig[64], pub[32];
	char			 fpr[65];
	size_t			 i;

	sha256(p->doc[doc].data, p->doc[doc].len, digest);
	if (s->sign(s, SIGN_INDEX, repo_doc_path[doc], NULL, digest, sig, pub,
	    err) == -1)
		return -1;
	if (!ed25519_verify(pub, digest, sizeof(digest), sig))
		return errf(err, "the signature of %s does not verify",
		    repo_doc_path[doc]);
	fingerprint_hex(pub, fpr);
	for (i = 0; i < d->nkeys; i++)
		if (strcmp(d->keys[i].fingerprint, fpr) == 0)
			break;
	if (i == d->nkeys || !repo_key_usable(&d->keys[i], p->now, p->now_ns))
		return errf(err, "the signing key %s is not an active key of "
		    "repository \"%s\" (repo.json lists the keys that may "
		    "sign)", fpr, d->name);
	if (want != NULL ? memcmp(want, pub, 32) != 0 :
	    memcmp(p->pubs[i], pub, 32) != 0)
		return errf(err, "the signing key %s does not match its key "
		    "file", fpr);
	sigenv_write(&p->sig[doc], fpr, sig);
	return 0;
}

static int
render_docs(struct pub *p, struct buf *err)
{
	const char	*name = p->st.desc.name;
	int		 d;

	repo_desc_write(&p->st.desc, &p->doc[REPO_DOC_DESC]);
	repo_index_write(&p->doc[REPO_DOC_ACTIVE], name, "active", p->ver,
	    p->gen_at, p->act, p->nact);
	repo_index_write(&p->doc[REPO_DOC_ARCHIVE], name, "archive", p->ver,
	    p->gen_at, p->arch, p->narch);
	if (p->doc[REPO_DOC_DESC].len > REPO_DESC_MAX ||
	    p->doc[REPO_DOC_ARCHIVE].len > REPO_INDEX_MAX)
		return errf(err, "the %s would be %zu bytes, over the "
		    "consumer's limit", p->doc[REPO_DOC_DESC].len >
		    REPO_DESC_MAX ? "descriptor" : "archive index",
		    p->doc[REPO_DOC_DESC].len > REPO_DESC_MAX ?
		    p->doc[REPO_DOC_DESC].len : p->doc[REPO_DOC_ARCHIVE].len);
	for (d = 0; d < REPO_NDOCS; d++)
		if (sign_doc(p, p->o->signer, NULL, (enum repo_doc)d,
		    err) == -1)
			return -1;
	return 0;
}

/* ---- the new tree ------------------------------------------------------ */

/* Left out of the hard-link copy: what is rewritten, and dot names. */
static int
skip_meta(void *arg, const char *rel, int is_dir)
{
	const char	*slash = strrchr(rel, '/');
	int		 d;

	if ((slash != NULL ? slash[1] : rel[0]) == '.')
		return 1;
	for (d = 0; d < REPO_NDOCS; d++)
		if (strcmp(rel, repo_doc_path[d]) == 0 ||
		    (str_has_prefix(rel, repo_doc_path[d]) &&
		    strcmp(rel + strlen(repo_doc_path[d]), ".sig") == 0))
			return 1;
	return 0;
}

static int
place_cand(struct pub *p, struct cand *c, struct hset *sidecars,
    struct buf *err)
{
	struct fs_dir	 d;
	char		*dir, *file, *slash, *sc;
	void		**mark;
	int		 have, rc = -1;

	if (c->rel == NULL) {
		unlinkat(p->sw.tree.fd, c->tmp, 0);
		return 0;
	}
	dir = xstrdup(c->rel);
	slash = strrchr(dir, '/');
	file = slash != NULL ? slash + 1 : dir;
	if (slash != NULL)
		*slash = '\0';
	if (fs_mkdirs(&p->sw.tree, slash != NULL ? dir : ".", &d, err) == -1)
		goto out;
	if (renameat(p->sw.tree.fd, c->tmp, d.fd, file) == -1) {
		errf(err, "rename %s/%s -> %s/%s: %s", p->sw.tree.path, c->tmp,
		    d.path, file, strerror(errno));
		goto close;
	}
	fs_crash_point("pkg.placed");
	strv_add(&p->res->new_paths, &p->res->nnew_paths, c->rel);
	/* The package's directory and every ancestor get an fsync. */
	while (slash != NULL) {
		fs_switch_note_dir(&p->sw, dir);
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
	}
	/* Sidecars: kept when both exist (a rebuild rewrites them once). */
	mark = hset_slot(sidecars, d.path, 1);
	have = fs_exists(&d, "manifest.json", NULL) == 1 &&
	    fs_exists(&d, "files.json", NULL) == 1;
	if (*mark == NULL && (p->o->rebuild || !have)) {
		if (fs_write_file(&d, "manifest.json", c->mjson.data,
		    c->mjson.len, "sidecar", err) == -1 ||
		    fs_write_file(&d, "files.json", c->fjson.data,
		    c->fjson.len, "sidecar", err) == -1)
			goto close;
		slash = strrchr(c->rel, '/');
		for (have = 0; have < 2; have++) {
			sc = xasprintf("%.*s%s", slash != NULL ?
			    (int)(slash - c->rel + 1) : 0, c->rel,
			    have ? "files.json" : "manifest.json");
			strv_add(&p->res->new_paths, &p->res->nnew_paths, sc);
			free(sc);
		}
	}
	*mark = p;
	rc = 0;
 close:
	fs_dir_close(&d);
 out:
	free(dir);
	return rc;
}

static int
write_docs(struct pub *p, struct buf *err)
{
	struct fs_dir	 ix, *dd;
	const char	*name, *site;
	char		*signame;
	int		 d, rc = 0;

	if (fs_mkdirs(&p->sw.tree, "index", &ix, err) == -1)
		return -1;
	fs_switch_note_dir(&p->sw, "index");
	for (d = 0; d < REPO_NDOCS && rc == 0; d++) {
		dd = d == REPO_DOC_DESC ? &p->sw.tree : &ix;
		name = d == REPO_DOC_DESC ? "repo.json" : strchr(
		    repo_doc_path[d], '/') + 1;
		site = d == REPO_DOC_DESC ? "desc" : "idx";
		signame = xasprintf("%s.sig", name);
		if (fs_write_file(dd, name, p->doc[d].data, p->doc[d].len,
		    site, err) == -1 || fs_write_file(dd, signame,
		    p->sig[d].data, p->sig[d].len, "sig", err) == -1)
			rc = -1;
		free(signame);
	}
	fs_dir_close(&ix);
	return rc;
}

static int
fill_tree(struct pub *p, struct buf *err)
{
	struct fs_dir	 in;
	struct hset	 sidecars;
	size_t		 i;
	int		 rc = -1;

	if (fs_dir_open(&in, AT_FDCWD, p->inpath, p->inpath, err) == -1)
		return -1;
	if (fs_link_tree(&in, &p->sw.tree, skip_meta, NULL, NULL, err) == -1)
		goto out;
	fs_crash_point("tree.linked");
	hset_init(&sidecars, p->nc);
	for (i = 0; i < p->nc; i++)
		if (p->c[i].skip)
			unlinkat(p->sw.tree.fd, p->c[i].tmp, 0);
		else if (place_cand(p, &p->c[i], &sidecars, err) == -1)
			break;
	hset_free(&sidecars);
	if (i == p->nc && write_docs(p, err) == 0)
		rc = 0;
	fs_crash_point("tree.built");
 out:
	fs_dir_close(&in);
	return rc;
}

/* ---- publish ----------------------------------------------------------- */

static void
pub_free(struct pub *p)
{
	size_t	 i;
	int	 d;

	fs_switch_close(&p->sw);
	for (i = 0; i < p->nc; i++) {
		free(p->c[i].file);
		free(p->c[i].tmp);
		free(p->c[i].rel);
		repo_entry_free(&p->c[i].e);
		buf_free(&p->c[i].mjson);
		buf_free(&p->c[i].fjson);
	}
	free(p->c);
	free(p->arch);
	free(p->act);
	for (d = 0; d < REPO_NDOCS; d++) {
		buf_free(&p->doc[d]);
		buf_free(&p->sig[d]);
	}
	if (p->st_loaded)
		repo_state_free(&p->st);
	free(p->pubs);
	free(p->inpath);
}

static void
pub_init(struct pub *p, const struct repo_publish_opts *o,
    struct repo_publish_result *res)
{
	memset(p, 0, sizeof(*p));
	p->o = o;
	p->res = res;
	p->sw.parent.fd = p->sw.tree.fd = p->sw.lockfd = -1;
}

static int
check_opts(const struct repo_publish_opts *o, struct buf *err)
{
	if (o->state == NULL || *o->state == '\0')
		return errf(err, "no repository state directory given");
	if (o->signer == NULL)
		return errf(err, "no signer given");
	if (o->rebuild && (o->all_packages_dir == NULL ||
	    *o->all_packages_dir == '\0'))
		return errf(err, "--rebuild requires --all-packages-dir");
	if (!o->rebuild && (o->new_dir == NULL || *o->new_dir == '\0'))
		return errf(err, "--new is required (or --rebuild with "
		    "--all-packages-dir)");
	if (o->timestamp == NULL)
		return errf(err, "--timestamp is required");
	return repo_timestamp_check(o->timestamp, err);
}

/*
 * Where the previous state is read from: the state itself, or (CLI
 * --in A --out B, compared by inode, not by string) another directory,
 * in which case B must be absent or empty.
 */
static int
find_in(struct pub *p, struct buf *err)
{
	struct stat	 a, b;
	const char	*in = p->o->in;

	if (in != NULL && stat(in, &a) == -1)
		return errf(err, "%s: %s", in, strerror(errno));
	if (in == NULL || (p->sw.exists && fstatat(p->sw.parent.fd,
	    p->sw.base, &b, 0) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)) {
		if (!p->sw.exists)
			return errf(err, "%s: no repository state (run init "
			    "first)", p->o->state);
		p->inpath = xstrdup(p->sw.path);
		return 0;
	}
	if (fs_switch_target_empty(&p->sw, err) == -1)
		return errf(err, "refusing to replace %s with a state "
		    "published from %s: --out must be --in, a new path or an "
		    "empty directory", p->o->state, in);
	p->inpath = xstrdup(in);
	return 0;
}

int
repo_publish(const struct repo_publish_opts *o,
    struct repo_publish_result *res, struct buf *err)
{
	struct pub	 p;
	size_t		 i;
	int		 rc = -1;

	memset(res, 0, sizeof(*res));
	pub_init(&p, o, res);
	res->requested_at = xstrdup(o->timestamp ? o->timestamp : "");
	if (check_opts(o, err) == -1 ||
	    fs_switch_open(&p.sw, o->state, &res->warnings, err) == -1 ||
	    find_in(&p, err) == -1 || load_prev(&p, err) == -1 ||
	    fs_switch_begin(&p.sw, err) == -1 ||
	    read_cands(&p, err) == -1 || merge(&p, err) == -1 ||
	    render_docs(&p, err) == -1 || fill_tree(&p, err) == -1 ||
	    fs_switch_commit(&p.sw, err) == -1)
		goto out;
	res->index_version = p.ver;
	res->generated_at = xstrdup(p.gen_at);
	for (i = 0; i < p.nc; i++)
		if (!p.c[i].skip)
			strv_add(&res->added, &res->nadded, p.c[i].file);
	rc = 0;
 out:
	pub_free(&p);
	return rc;
}

void
repo_publish_result_free(struct repo_publish_result *r)
{
	size_t	 i;

	for (i = 0; i < r->nadded; i++)
		free(r->added[i]);
	for (i = 0; i < r->nskipped; i++)
		free(r->skipped[i]);
	for (i = 0; i < r->nrejected; i++)
		free(r->rejected[i]);
	for (i = 0; i < r->nnew_paths; i++)
		free(r->new_paths[i]);
	free(r->added);
	free(r->skipped);
	free(r->rejected);
	free(r->new_paths);
	free(r->generated_at);
	free(r->requested_at);
	buf_free(&r->warnings);
	memset(r, 0, sizeof(*r));
}

/* ---- init -------------------------------------------------------------- */

static int
init_fill(struct pub *p, const struct repo_init_opts *o, struct buf *err)
{
	struct fs_dir	 keys;
	struct buf	 pem = BUF_INIT;
	char		 fpr[65], *kname;
	int		 d, rc = -1;

	fingerprint_hex(o->pub, fpr);
	repo_desc_init(&p->st.desc, o->name, o->description, fpr);
	p->st_loaded = 1;
	p->pubs = xcalloc(1, sizeof(*p->pubs));
	memcpy(p->pubs[0], o->pub, 32);
	p->gen_at = o->timestamp;
	p->ver = 1;
	repo_desc_write(&p->st.desc, &p->doc[REPO_DOC_DESC]);
	repo_index_write(&p->doc[REPO_DOC_ACTIVE], o->name, "active", 1,
	    o->timestamp, NULL, 0);
	repo_index_write(&p->doc[REPO_DOC_ARCHIVE], o->name, "archive", 1,
	    o->timestamp, NULL, 0);
	for (d = 0; d < REPO_NDOCS; d++)
		if (sign_doc(p, o->signer, o->pub, (enum repo_doc)d, err) == -1)
			goto out;
	if (write_docs(p, err) == -1 ||
	    fs_mkdirs(&p->sw.tree, "keys", &keys, err) == -1)
		goto out;
	fs_switch_note_dir(&p->sw, "keys");
	pubkey_pem(o->pub, &pem);
	kname = xasprintf("%s.pub", fpr);
	rc = fs_write_file(&keys, kname, pem.data, pem.len, "key", err);
	free(kname);
	fs_dir_close(&keys);
 out:
	buf_free(&pem);
	return rc;
}

int
repo_init(const struct repo_init_opts *o, struct buf *err)
{
	struct repo_publish_opts	 po;
	struct repo_publish_result	 res;
	struct pub			 p;
	struct buf			 e = BUF_INIT;
	int				 rc = -1;

	memset(&po, 0, sizeof(po));
	memset(&res, 0, sizeof(res));
	pub_init(&p, &po, &res);
	if (o->name == NULL || *o->name == '\0')
		errf(err, "--name is required");
	else if (o->state == NULL || *o->state == '\0')
		errf(err, "--out is required");
	else if (o->pub == NULL || o->signer == NULL)
		errf(err, "no signing key given");
	else if (o->timestamp == NULL)
		errf(err, "--timestamp is required");
	else if (repo_timestamp_check(o->timestamp, err) == 0 &&
	    fs_switch_open(&p.sw, o->state, &res.warnings, err) == 0) {
		if (fs_switch_target_empty(&p.sw, &e) == -1)
			errf(err, "%s is not empty (init refuses to overwrite "
			    "an existing state; publish into it instead)",
			    o->state);
		else if (parse_rfc3339_z(o->timestamp, &p.now, &p.now_ns,
		    err) == 0 && fs_switch_begin(&p.sw, err) == 0 &&
		    init_fill(&p, o, err) == 0 &&
		    fs_switch_commit(&p.sw, err) == 0)
			rc = 0;
	}
	pub_free(&p);
	repo_publish_result_free(&res);
	buf_free(&e);
	return rc;
}
