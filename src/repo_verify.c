/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * repo_verify.c: the consumer's rules for a repository state (repo.h:
 * repo_desc_check, repo_index_check, repo_entry_check, key files and
 * detached signatures) and `peipkg-repo verify`.
 *
 * verify follows BEHAVIOUR.md §4.9 with these changes: hashes mode reads
 * the packages from the state's own tree by URL unless an
 * --all-packages-dir is given (§8 item 16), checks size_compressed too
 * and runs each package whose hash matches through the consumer's
 * package verification (pkgread, keys usable now) plus the manifest
 * name/version/architecture = entry check; metadata mode adds the checks
 * a consumer makes that the reference verifier leaves out: every .sig
 * present, descriptor rules (incl. revoked keys' files), index
 * repo/kind/generated_at, archive order and uniqueness, active names
 * strictly ascending, each entry decodable by the consumer, and the
 * active index equal to the selection the archive implies.
 *
 * Trust: the state is untrusted; everything read is size-capped and
 * every problem is reported, never acted on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "pkgread.h"
#include "repo.h"
#include "sign.h"

struct vctx {
	const struct repo_verify_opts	*o;
	struct repo_state		 st;
	uint8_t				(*pubs)[32];
	struct buf			*issues;
	struct buf			*warnings;
	struct buf			 keyerr;	/* key file problems */
	int				 n;
};

struct hfile {
	char			*name;	/* as reported */
	char			*path;	/* to read */
	const struct repo_entry	*e;
};

static int	 is_lower_hex64(const char *);
static void	 take(struct vctx *, const char *, struct buf *);
static void	 check_entries(struct vctx *, const struct repo_index *,
		    const char *);
static void	 check_order(struct vctx *);
static const struct repo_entry *find_nva(const struct repo_index *,
		    const struct repo_entry *);
static void	 check_active(struct vctx *);
static void	 verify_metadata(struct vctx *);
static int	 hfile_cmp(const void *, const void *);
static void	 add_file(struct vctx *, struct hfile **, size_t *,
		    const struct repo_entry *);
static void	 check_package(struct vctx *, const struct hfile *, int);
static void	 hash_one(struct vctx *, const struct hfile *);
static void	 verify_hashes(struct vctx *);

/* ---- the consumer's rules ---------------------------------------------- */

static int
is_lower_hex64(const char *s)
{
	size_t	 i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int
repo_desc_check(const struct repo_desc *d, struct buf *err)
{
	const struct repo_key	*k;
	struct buf		 e = BUF_INIT;
	size_t			 i, nactive = 0;
	int			 rc = 0;

	if (*d->name == '\0')
		rc = errf(err, "repo.json: repo.name is empty");
	if (strcmp(d->algorithm, "ed25519") != 0)
		rc = errf(err, "repo.json: repo.signing.algorithm is \"%s\", "
		    "expected \"ed25519\"", d->algorithm);
	if (d->nkeys == 0)
		rc = errf(err, "repo.json: repo.signing.keys is empty");
	for (i = 0; i < d->nkeys; i++) {
		k = &d->keys[i];
		if (!is_lower_hex64(k->fingerprint))
			rc = errf(err, "repo.json: keys[%zu]: fingerprint "
			    "\"%s\" is not 64 lowercase hex characters", i,
			    k->fingerprint);
		if (*k->url == '\0')
			rc = errf(err, "repo.json: keys[%zu]: url is empty", i);
		if (strcmp(k->status, "active") == 0)
			nactive++;
		else if (strcmp(k->status, "transitioning") == 0) {
			buf_reset(&e);
			if (*k->valid_until == '\0')
				rc = errf(err, "repo.json: keys[%zu]: a "
				    "transitioning key needs valid_until", i);
			else if (repo_timestamp_check(k->valid_until,
			    &e) == -1)
				rc = errf(err, "repo.json: keys[%zu]: "
				    "valid_until: %s", i, buf_str(&e));
		} else if (strcmp(k->status, "revoked") != 0)
			rc = errf(err, "repo.json: keys[%zu]: status \"%s\" is "
			    "not active, transitioning or revoked", i,
			    k->status);
		if (i > 0 && strcmp(d->keys[i - 1].fingerprint,
		    k->fingerprint) >= 0)
			rc = errf(err, "repo.json: keys are not strictly "
			    "ascending by fingerprint (\"%s\" after \"%s\")",
			    k->fingerprint, d->keys[i - 1].fingerprint);
	}
	if (d->nkeys > 0 && nactive == 0)
		rc = errf(err, "repo.json: no key has status \"active\"");
	if (strcmp(d->active_url, "/index/active.json") != 0 ||
	    strcmp(d->active_sig_url, "/index/active.json.sig") != 0 ||
	    strcmp(d->archive_url, "/index/archive.json") != 0 ||
	    strcmp(d->archive_sig_url, "/index/archive.json.sig") != 0)
		rc = errf(err, "repo.json: the index pointers are not the "
		    "conventional /index/active.json(.sig) and "
		    "/index/archive.json(.sig)");
	buf_free(&e);
	return rc;
}

int
repo_index_check(const struct repo_index *ix, const char *what,
    const char *desc_name, const char *kind, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 rc = 0;

	if (ix->schema_version != 1)
		rc = errf(err, "%s: schema_version is %lld, expected 1", what,
		    (long long)ix->schema_version);
	if (strcmp(ix->repo, desc_name) != 0)
		rc = errf(err, "%s: names repository \"%s\" but the "
		    "descriptor names \"%s\"", what, ix->repo, desc_name);
	if (strcmp(ix->kind, kind) != 0)
		rc = errf(err, "%s: kind is \"%s\", expected \"%s\"", what,
		    ix->kind, kind);
	if (ix->index_version < 1)
		rc = errf(err, "%s: index_version %lld is below 1", what,
		    (long long)ix->index_version);
	if (repo_timestamp_check(ix->generated_at, &e) == -1)
		rc = errf(err, "%s: generated_at: %s", what, buf_str(&e));
	buf_free(&e);
	return rc;
}

int
repo_entry_check(const struct repo_entry *x, struct buf *err)
{
	struct buf		 who = BUF_INIT, e = BUF_INIT;
	struct pm_version	 v;
	const char		*w;
	int			 rc = 0;

	buf_addf(&who, "package %s %s %s", x->name, x->version,
	    x->architecture);
	w = buf_str(&who);
	if (version_parse(x->version, &v, &e) == -1)
		rc = errf(err, "%s: version: %s", w, buf_str(&e));
	else
		version_free(&v);
	if (*x->name == '\0' || *x->architecture == '\0')
		rc = errf(err, "%s: name and architecture must not be empty",
		    w);
	if (strcmp(x->hash_algorithm, "sha256") != 0)
		rc = errf(err, "%s: hash algorithm \"%s\" is not \"sha256\"",
		    w, x->hash_algorithm);
	if (!is_lower_hex64(x->hash))
		rc = errf(err, "%s: hash value \"%s\" is not 64 lowercase hex "
		    "characters", w, x->hash);
	if (*x->url == '\0')
		rc = errf(err, "%s: url is empty", w);
	if (manifest_relations_check(&x->rel, MF_INDEX_ENTRY, w, err) == -1)
		rc = -1;
	buf_reset(&e);
	if (*x->build_timestamp != '\0' &&
	    repo_timestamp_check(x->build_timestamp, &e) == -1)
		rc = errf(err, "%s: build.timestamp: %s", w, buf_str(&e));
	buf_free(&who);
	buf_free(&e);
	return rc;
}

int
repo_key_usable(const struct repo_key *k, int64_t now, long now_ns)
{
	int64_t	 s;
	long	 ns;

	if (strcmp(k->status, "active") == 0)
		return 1;
	if (strcmp(k->status, "transitioning") != 0 ||
	    parse_rfc3339_z(k->valid_until, &s, &ns, NULL) == -1)
		return 0;
	return s > now || (s == now && ns >= now_ns);
}

int
repo_load_keys(const char *dir, const struct repo_desc *d,
    uint8_t (*pubs)[32], struct buf *err)
{
	struct buf	 raw = BUF_INIT, e = BUF_INIT;
	char		*rel, *path, fpr[65];
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < d->nkeys; i++) {
		memset(pubs[i], 0, 32);
		rel = repo_key_path(&d->keys[i]);
		path = xasprintf("%s/%s", dir, rel);
		buf_reset(&raw);
		buf_reset(&e);
		if (read_file(path, REPO_KEY_MAX, &raw, &e) == -1)
			rc = errf(err, "key %s: %s", d->keys[i].fingerprint,
			    buf_str(&e));
		else if (pubkey_parse(raw.data, raw.len, pubs[i], &e) == -1)
			rc = errf(err, "key %s: %s: %s", d->keys[i].fingerprint,
			    rel, buf_str(&e));
		else {
			fingerprint_hex(pubs[i], fpr);
			if (strcmp(fpr, d->keys[i].fingerprint) != 0) {
				rc = errf(err, "key %s: %s holds the key with "
				    "fingerprint %s", d->keys[i].fingerprint,
				    rel, fpr);
				memset(pubs[i], 0, 32);
			}
		}
		free(rel);
		free(path);
	}
	buf_free(&raw);
	buf_free(&e);
	return rc;
}

int
repo_sig_check(const struct repo_state *st, enum repo_doc doc,
    const uint8_t (*pubs)[32], struct buf *err)
{
	const struct repo_desc	*d = &st->desc;
	struct buf		 e = BUF_INIT;
	uint8_t			 sig[64], digest[32];
	char			 fpr[65];
	size_t			 i;
	int			 rc = -1;

	if (!st->has_sig[doc])
		return errf(err, "%s.sig: missing", repo_doc_path[doc]);
	if (sigenv_parse(st->sig[doc].data, st->sig[doc].len, fpr, sig,
	    &e) == -1) {
		errf(err, "%s.sig: %s", repo_doc_path[doc], buf_str(&e));
		goto out;
	}
	for (i = 0; i < d->nkeys; i++)
		if (strcmp(d->keys[i].fingerprint, fpr) == 0 &&
		    strcmp(d->keys[i].status, "revoked") != 0)
			break;
	if (i == d->nkeys) {
		errf(err, "%s.sig: signed by key %s, which is not a "
		    "non-revoked key of the descriptor", repo_doc_path[doc],
		    fpr);
		goto out;
	}
	sha256(st->raw[doc].data, st->raw[doc].len, digest);
	if (!ed25519_verify(pubs[i], digest, sizeof(digest), sig)) {
		errf(err, "%s.sig: signature does not verify with key %s",
		    repo_doc_path[doc], fpr);
		goto out;
	}
	rc = 0;
 out:
	buf_free(&e);
	return rc;
}

/* ---- verify ------------------------------------------------------------ */

/* Move each line of `e` into the issues (counted), with a prefix. */
static void
take(struct vctx *v, const char *prefix, struct buf *e)
{
	const char	*s, *nl;

	for (s = buf_str(e); *s != '\0'; s = *nl ? nl + 1 : nl) {
		nl = strchr(s, '\n');
		if (nl == NULL)
			nl = s + strlen(s);
		buf_addf(v->issues, "%s%.*s\n", prefix, (int)(nl - s), s);
		v->n++;
	}
	buf_reset(e);
}

static void
check_entries(struct vctx *v, const struct repo_index *ix, const char *what)
{
	struct buf	 e = BUF_INIT, pfx = BUF_INIT;
	size_t		 i;

	buf_addf(&pfx, "%s: ", what);
	for (i = 0; i < ix->npkgs; i++)
		if (repo_entry_check(&ix->pkgs[i], &e) == -1)
			take(v, buf_str(&pfx), &e);
	buf_free(&pfx);
	buf_free(&e);
}

/* Active names strictly ascending; archive by name, version descending. */
static void
check_order(struct vctx *v)
{
	const struct repo_index	*a = &v->st.active, *r = &v->st.archive;
	struct buf		 e = BUF_INIT;
	size_t			 i;
	int			 c;

	for (i = 1; i < a->npkgs; i++)
		if ((c = strcmp(a->pkgs[i - 1].name, a->pkgs[i].name)) == 0)
			errf(&e, "index/active.json: duplicate package \"%s\"",
			    a->pkgs[i].name);
		else if (c > 0)
			errf(&e, "index/active.json: packages are not sorted "
			    "by name (\"%s\" after \"%s\")", a->pkgs[i].name,
			    a->pkgs[i - 1].name);
	for (i = 1; i < r->npkgs; i++) {
		c = strcmp(r->pkgs[i - 1].name, r->pkgs[i].name);
		if (c > 0)
			errf(&e, "index/archive.json: packages are not sorted "
			    "by name (\"%s\" after \"%s\")", r->pkgs[i].name,
			    r->pkgs[i - 1].name);
		else if (c == 0 && version_valid(r->pkgs[i].version) &&
		    version_valid(r->pkgs[i - 1].version) &&
		    version_cmp_str(r->pkgs[i - 1].version,
		    r->pkgs[i].version, NULL) < 0)
			errf(&e, "index/archive.json: %s versions are not "
			    "descending (\"%s\" after \"%s\")", r->pkgs[i].name,
			    r->pkgs[i].version, r->pkgs[i - 1].version);
		if (c == 0 && find_nva(r, &r->pkgs[i]) != &r->pkgs[i])
			errf(&e, "index/archive.json: %s %s %s is listed "
			    "twice", r->pkgs[i].name, r->pkgs[i].version,
			    r->pkgs[i].architecture);
	}
	take(v, "", &e);
	buf_free(&e);
}

/* The first archive entry with the same (name, version, architecture). */
static const struct repo_entry *
find_nva(const struct repo_index *r, const struct repo_entry *x)
{
	size_t	 lo = 0, hi = r->npkgs, i;

	/* Entries of one name are contiguous when sorted; bisect to them. */
	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if (strcmp(r->pkgs[i].name, x->name) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	for (i = lo; i < r->npkgs; i++)
		if (strcmp(r->pkgs[i].version, x->version) == 0 &&
		    strcmp(r->pkgs[i].architecture, x->architecture) == 0 &&
		    strcmp(r->pkgs[i].name, x->name) == 0)
			return &r->pkgs[i];
	return NULL;
}

/*
 * Every active entry is in the archive with the same hash (spec §6.3),
 * and the active index is exactly the archive's per-name selection.
 */
static void
check_active(struct vctx *v)
{
	const struct repo_index	*a = &v->st.active, *r = &v->st.archive;
	const struct repo_entry	*x;
	struct repo_entry	**ptr, **sel = NULL;
	struct buf		 e = BUF_INIT, ign = BUF_INIT;
	size_t			 i, j, nsel = 0;

	for (i = 0; i < a->npkgs; i++) {
		if ((x = find_nva(r, &a->pkgs[i])) == NULL)
			errf(&e, "active entry %s %s %s has no archive entry",
			    a->pkgs[i].name, a->pkgs[i].version,
			    a->pkgs[i].architecture);
		else if (strcmp(x->hash, a->pkgs[i].hash) != 0)
			errf(&e, "active entry %s %s %s: hash %s differs from "
			    "the archive's %s", a->pkgs[i].name,
			    a->pkgs[i].version, a->pkgs[i].architecture,
			    a->pkgs[i].hash, x->hash);
	}
	ptr = xcalloc(r->npkgs + 1, sizeof(*ptr));
	for (i = 0; i < r->npkgs; i++)
		ptr[i] = &r->pkgs[i];
	if (repo_active_select(ptr, r->npkgs, &sel, &nsel, &ign) == 0) {
		for (i = j = 0; i < nsel; i++) {
			while (j < a->npkgs &&
			    strcmp(a->pkgs[j].name, sel[i]->name) < 0)
				j++;
			if (j == a->npkgs || strcmp(a->pkgs[j].name,
			    sel[i]->name) != 0)
				errf(&e, "index/active.json: no entry for %s "
				    "(the archive's newest is %s %s)",
				    sel[i]->name, sel[i]->version,
				    sel[i]->architecture);
			else if (strcmp(a->pkgs[j].version,
			    sel[i]->version) != 0 || strcmp(
			    a->pkgs[j].architecture, sel[i]->architecture))
				errf(&e, "index/active.json: %s is %s %s, but "
				    "the archive's newest is %s %s",
				    sel[i]->name, a->pkgs[j].version,
				    a->pkgs[j].architecture, sel[i]->version,
				    sel[i]->architecture);
		}
	} else
		take(v, "index/archive.json: ", &ign);
	take(v, "", &e);
	free(sel);
	free(ptr);
	buf_free(&e);
	buf_free(&ign);
}

static void
verify_metadata(struct vctx *v)
{
	const struct repo_state	*st = &v->st;
	struct buf		 e = BUF_INIT;
	int			 d;

	repo_desc_check(&st->desc, &e);
	take(v, "", &e);
	take(v, "", &v->keyerr);
	for (d = 0; d < REPO_NDOCS; d++)
		if (repo_sig_check(st, (enum repo_doc)d,
		    (const uint8_t (*)[32])v->pubs, &e) == -1)
			take(v, "", &e);
	repo_index_check(&st->active, "index/active.json", st->desc.name,
	    "active", &e);
	repo_index_check(&st->archive, "index/archive.json", st->desc.name,
	    "archive", &e);
	take(v, "", &e);
	if (st->active.index_version != st->archive.index_version)
		buf_addf(v->warnings, "the indexes carry different "
		    "index_version values (active %lld, archive %lld)\n",
		    (long long)st->active.index_version,
		    (long long)st->archive.index_version);
	check_entries(v, &st->active, "index/active.json");
	check_entries(v, &st->archive, "index/archive.json");
	check_order(v);
	check_active(v);
	buf_free(&e);
}

static int
hfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hfile *)a)->name,
	    ((const struct hfile *)b)->name);
}

static void
add_file(struct vctx *v, struct hfile **f, size_t *n,
    const struct repo_entry *x)
{
	struct buf	 e = BUF_INIT;
	char		*rel;

	*f = xreallocarray(*f, *n + 1, sizeof(**f));
	if (v->o->all_packages_dir != NULL) {
		(*f)[*n].name = xasprintf("%s_%s_%s.peipkg", x->name,
		    x->version, x->architecture);
		(*f)[*n].path = xasprintf("%s/%s", v->o->all_packages_dir,
		    (*f)[*n].name);
	} else if (repo_url_path(x->url, &rel, &e) == -1) {
		buf_addf(v->issues, "hash check: %s\n", buf_str(&e));
		v->n++;
		buf_free(&e);
		return;
	} else if (rel == NULL) {
		buf_addf(v->warnings, "hash check: %s is not stored in the "
		    "state; not checked\n", x->url);
		return;
	} else {
		(*f)[*n].name = rel;
		(*f)[*n].path = xasprintf("%s/%s", v->o->state, rel);
	}
	(*f)[*n].e = x;
	(*n)++;
}

/* The consumer's package checks, and the identity check of compose. */
static void
check_package(struct vctx *v, const struct hfile *f, int fd)
{
	struct pkg_verify_opts	 vo;
	struct pkg_info		 pi;
	struct buf		 e = BUF_INIT;
	uint8_t			(*trust)[32];
	size_t			 i, nt = 0;

	memset(&pi, 0, sizeof(pi));
	trust = xcalloc(v->st.desc.nkeys + 1, sizeof(*trust));
	for (i = 0; i < v->st.desc.nkeys; i++)
		if (repo_key_usable(&v->st.desc.keys[i], (int64_t)time(NULL),
		    0))
			memcpy(trust[nt++], v->pubs[i], 32);
	pkg_verify_opts_init(&vo);
	vo.keys = (const uint8_t (*)[32])trust;
	vo.nkeys = nt;
	if (lseek(fd, 0, SEEK_SET) == -1 || pkg_verify_fd(fd, &vo, &pi,
	    &e) == -1) {
		buf_addf(v->issues, "package check: %s: %s\n", f->name,
		    e.len ? buf_str(&e) : strerror(errno));
		v->n++;
	} else if (strcmp(pi.mf.name, f->e->name) != 0 ||
	    strcmp(pi.mf.version, f->e->version) != 0 ||
	    strcmp(pi.mf.architecture, f->e->architecture) != 0) {
		buf_addf(v->issues, "package check: %s: the manifest names "
		    "%s %s %s, the index %s %s %s\n", f->name, pi.mf.name,
		    pi.mf.version, pi.mf.architecture, f->e->name,
		    f->e->version, f->e->architecture);
		v->n++;
	}
	pkg_info_free(&pi);
	free(trust);
	buf_free(&e);
}

static void
hash_one(struct vctx *v, const struct hfile *f)
{
	struct buf	 e = BUF_INIT;
	uint8_t		 sha[32];
	uint64_t	 size = 0;
	char		 hex[65];
	int		 fd;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1) {
		buf_addf(v->issues, "hash check: read %s: %s\n", f->name,
		    strerror(errno));
		v->n++;
		return;
	}
	if (sha256_fd(fd, sha, &size, &e) == -1) {
		buf_addf(v->issues, "hash check: read %s: %s\n", f->name,
		    buf_str(&e));
		v->n++;
	} else {
		hex_encode(sha, 32, hex);
		if (strcmp(hex, f->e->hash) != 0) {
			buf_addf(v->issues, "hash mismatch: %s computed %s, "
			    "index claimed %s\n", f->name, hex, f->e->hash);
			v->n++;
		} else if (size != f->e->size_compressed) {
			buf_addf(v->issues, "size mismatch: %s is %llu bytes, "
			    "index claimed %llu\n", f->name,
			    (unsigned long long)size,
			    (unsigned long long)f->e->size_compressed);
			v->n++;
		} else
			check_package(v, f, fd);
	}
	close(fd);
	buf_free(&e);
}

static void
verify_hashes(struct vctx *v)
{
	const struct repo_index	*ix[2] = { &v->st.archive, &v->st.active };
	struct hfile		*f = NULL;
	size_t			 i, k, n = 0;

	for (k = 0; k < 2; k++)
		for (i = 0; i < ix[k]->npkgs; i++)
			add_file(v, &f, &n, &ix[k]->pkgs[i]);
	/* Stable enough: duplicates keep the archive's claim first. */
	qsort(f, n, sizeof(*f), hfile_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(f[i].name, f[i - 1].name) != 0)
			hash_one(v, &f[i]);
	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].path);
	}
	free(f);
}

int
repo_verify(const struct repo_verify_opts *o, struct buf *issues,
    struct buf *warnings, struct buf *err)
{
	struct vctx	 v;

	memset(&v, 0, sizeof(v));
	v.o = o;
	v.issues = issues;
	v.warnings = warnings;
	if ((o->mode & REPO_VERIFY_BOTH) == 0 || (o->mode & ~REPO_VERIFY_BOTH))
		return errf(err, "no verify mode given");
	if (repo_state_load(o->state, &v.st, err) == -1)
		return -1;
	v.pubs = xcalloc(v.st.desc.nkeys + 1, sizeof(*v.pubs));
	repo_load_keys(o->state, &v.st.desc, v.pubs, &v.keyerr);
	if (o->mode & REPO_VERIFY_METADATA)
		verify_metadata(&v);
	if ((o->mode & REPO_VERIFY_HASHES) && v.n > 0 &&
	    (o->mode & REPO_VERIFY_METADATA))
		buf_addf(warnings, "skipping hash check because metadata check "
		    "found issues\n");
	else if (o->mode & REPO_VERIFY_HASHES)
		verify_hashes(&v);
	free(v.pubs);
	buf_free(&v.keyerr);
	repo_state_free(&v.st);
	return v.n;
}
