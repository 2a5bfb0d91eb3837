/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * repo.h: the PSD-009 repository state (BEHAVIOUR.md §4, CONSUMER.md
 * §1.2-1.7): the descriptor repo.json, the active and archive indexes,
 * their detached signatures and the key files, and the three operations
 * on a state directory: init, publish (incremental or rebuild) and
 * verify.
 *
 * A state is written only through the atomic switch of doc/design.md
 * ("The repository switch"): a complete new tree is built next to the
 * state, made durable, and exchanged with it in one renameat2() call.
 * Every signature comes from a struct signer (sign.h); this code never
 * holds a private key.
 *
 * Trust: a state directory and candidate packages are untrusted input
 * (parsed with size limits, every package verified by pkgread with the
 * consumer's rules before it enters an index); operator options are
 * trusted but validated.
 */
#ifndef PM_REPO_H
#define PM_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "sign.h"
#include "util.h"
#include "version.h"

#define REPO_URL_TEMPLATE	"/p/{name}/{version}/{filename}"
#define REPO_DESC_MAX		(4 * 1024 * 1024)	/* consumer limits */
#define REPO_SIG_MAX		4096
#define REPO_KEY_MAX		(64 * 1024)
#define REPO_INDEX_MAX		(64 * 1024 * 1024)

/* The three signed documents, in write order. */
enum repo_doc {
	REPO_DOC_DESC = 0,
	REPO_DOC_ACTIVE = 1,
	REPO_DOC_ARCHIVE = 2
};
#define REPO_NDOCS	3

/* "repo.json", "index/active.json", "index/archive.json" */
extern const char *const repo_doc_path[REPO_NDOCS];

struct repo_key {
	char	*fingerprint;
	char	*url;
	char	*status;	/* active, transitioning, revoked (checked) */
	char	*valid_until;	/* "" = absent */
};

struct repo_desc {
	char		*name;
	char		*description;
	char		*algorithm;
	struct repo_key	*keys;
	size_t		 nkeys;
	char		*active_url;
	char		*active_sig_url;
	char		*archive_url;
	char		*archive_sig_url;
};

/* One index entry (BEHAVIOUR.md §4.3); strings are never NULL. */
struct repo_entry {
	char			*name;
	char			*version;
	char			*architecture;
	char			*description;
	char			*license;
	char			*homepage;
	struct mf_relations	 rel;		/* as in a manifest */
	uint64_t		 size_compressed;
	uint64_t		 size_installed;
	char			*hash_algorithm;
	char			*hash;		/* lowercase hex */
	char			*url;
	char			*build_timestamp;
	char			*build_farm_id;
};

struct repo_index {
	int64_t			 schema_version;
	char			*repo;
	char			*kind;
	int64_t			 index_version;
	char			*generated_at;
	struct repo_entry	*pkgs;
	size_t			 npkgs;
};

/* A loaded state: parsed documents plus their exact bytes. */
struct repo_state {
	struct repo_desc	 desc;
	struct repo_index	 active;
	struct repo_index	 archive;
	struct buf		 raw[REPO_NDOCS];
	struct buf		 sig[REPO_NDOCS];
	int			 has_sig[REPO_NDOCS];
};

/* ---- documents (repo.c) ------------------------------------------------ */

/*
 * Read and parse repo.json and both indexes (required) and the three
 * .sig files (optional: has_sig says which exist) of the state in `dir`.
 * Parsing is structural: required members present with the right JSON
 * types, unknown members ignored; the consumer's value rules are the
 * separate *_check functions below.
 */
int	 repo_state_load(const char *dir, struct repo_state *, struct buf *err);
void	 repo_state_free(struct repo_state *);

int	 repo_desc_parse(const char *, size_t, struct repo_desc *,
	    struct buf *err);
void	 repo_desc_free(struct repo_desc *);
/* `what` prefixes messages ("index/archive.json"). */
int	 repo_index_parse(const char *, size_t, const char *what,
	    struct repo_index *, struct buf *err);
void	 repo_index_free(struct repo_index *);
void	 repo_entry_free(struct repo_entry *);

/* A descriptor with one active key, conventional index URLs. */
void	 repo_desc_init(struct repo_desc *, const char *name,
	    const char *description, const char fpr[65]);
/* Keys in strictly ascending fingerprint order (stable). */
void	 repo_desc_sort_keys(struct repo_desc *);

/* Canonical encoders (BEHAVIOUR.md §2.1, §4.3), one "\n" at the end. */
void	 repo_desc_write(const struct repo_desc *, struct buf *);
void	 repo_index_write(struct buf *, const char *repo, const char *kind,
	    int64_t index_version, const char *generated_at,
	    struct repo_entry *const *, size_t);

/*
 * Consumer rules.  Every violation is one errf() naming the field and
 * value; the return value is -1 if there was any.
 * repo_desc_check: CONSUMER.md §1.2 (keys strictly ascending, one
 * active, statuses, transitioning valid_until, index pointers) plus the
 * conventional index URLs this implementation writes.
 * repo_index_check: §1.6 header rules (schema_version, repo = desc_name,
 * kind, index_version >= 1, generated_at RFC 3339 "Z").
 * repo_entry_check: §1.6 entry rules (version grammar, sizes, hash,
 * url, build.timestamp, and the relation arrays exactly as in a manifest:
 * manifest_relations_check()).
 */
int	 repo_desc_check(const struct repo_desc *, struct buf *err);
int	 repo_index_check(const struct repo_index *, const char *what,
	    const char *desc_name, const char *kind, struct buf *err);
int	 repo_entry_check(const struct repo_entry *, struct buf *err);

/*
 * 1 when `k` may sign at instant `now` (seconds, nanoseconds): active,
 * or transitioning with valid_until not before `now`.
 */
int	 repo_key_usable(const struct repo_key *, int64_t now, long now_ns);
/*
 * The state-relative path of a key file: the key URL without its
 * leading '/' when it is '/'-rooted, else "keys/<fingerprint>.pub".
 */
char	*repo_key_path(const struct repo_key *);
/*
 * Read every descriptor key file from the state `dir` and check that it
 * parses (raw 32 bytes or PEM "PUBLIC KEY") and hashes to its declared
 * fingerprint; pubs[i] gets key i.  Every bad key is reported.
 */
int	 repo_load_keys(const char *dir, const struct repo_desc *,
	    uint8_t (*pubs)[32], struct buf *err);
/*
 * Check the .sig of document `doc` against the keys listed as non-revoked
 * (the envelope's fingerprint must name one of them, as the reference
 * verifier requires; the signature must verify with it).
 */
int	 repo_sig_check(const struct repo_state *, enum repo_doc,
	    const uint8_t (*pubs)[32], struct buf *err);

/* ---- entries, order, selection (repo.c) -------------------------------- */

/* An index entry from a verified manifest (deep copy). */
void	 repo_entry_from_manifest(struct repo_entry *, const struct manifest *,
	    uint64_t size, const uint8_t sha[32], const char *url);
/*
 * Render a package URL template: {name} {version} {arch} {filename} are
 * replaced, everything else is literal.  The result must be '/'-rooted
 * or an http(s) URL.
 */
int	 repo_url_render(const char *tmpl, const char *name,
	    const char *version, const char *arch, const char *filename,
	    char **out, struct buf *err);
/*
 * The state-relative file path of a package URL: *rel is the '/'-rooted
 * URL without its '/' (NULL for an http(s) URL: nothing is stored).  A
 * path with an empty, "." or ".." segment, a control byte, '\', '?', '#'
 * or '%', or one under index/ or keys/ or naming repo.json(.sig) is
 * refused.
 */
int	 repo_url_path(const char *url, char **rel, struct buf *err);
/*
 * Sort `n` entry pointers as the archive requires: name ascending (byte
 * order), then version descending by the consumer comparison; equal
 * entries keep their order.  Every version must parse.
 */
int	 repo_archive_sort(struct repo_entry **, size_t, struct buf *err);
/*
 * The active selection over a sorted archive (BEHAVIOUR.md §4.6): the
 * highest version per name across architectures; the same version for
 * two architectures is an error.  *out (owned by the caller, entries
 * borrowed) gets one pointer per name in name order.
 */
int	 repo_active_select(struct repo_entry *const *, size_t,
	    struct repo_entry ***out, size_t *nout, struct buf *err);
/*
 * generated_at for a publish requested at `req`: `req` itself unless it
 * is earlier than `prev` (the previous state's generated_at), in which
 * case `prev` (*clamped = 1).  Both must be RFC 3339 ending in 'Z'.
 */
int	 repo_generated_at(const char *prev, const char *req,
	    const char **out, int *clamped, struct buf *err);
/* An RFC 3339 timestamp ending in 'Z' (the CLI's --timestamp rule). */
int	 repo_timestamp_check(const char *, struct buf *err);

/* ---- operations (repo_publish.c, repo_verify.c) ------------------------ */

struct repo_init_opts {
	const char	*state;		/* must not exist or be empty */
	const char	*name;
	const char	*description;	/* NULL = "" */
	const char	*timestamp;	/* RFC 3339, ends in 'Z' */
	const uint8_t	*pub;		/* 32 bytes: the repository key */
	struct signer	*signer;	/* must sign with `pub` */
};

int	 repo_init(const struct repo_init_opts *, struct buf *err);

struct repo_publish_opts {
	const char	*state;		/* the state switched atomically */
	const char	*in;		/* previous state; NULL = `state` */
	const char	*new_dir;	/* incremental: candidate packages */
	int		 rebuild;	/* rebuild from all_packages_dir */
	const char	*all_packages_dir;
	const char	*url_template;	/* NULL = REPO_URL_TEMPLATE */
	const char	*timestamp;	/* RFC 3339, ends in 'Z' */
	struct signer	*signer;	/* SIGN_INDEX signatures */
	/*
	 * Refuse a previous state whose index_version is below this (a
	 * state rolled back on disk); 0 = no floor.  The daemon passes the
	 * last index_version it published.
	 */
	int64_t		 min_index_version;
	uint64_t	 max_package_size;	/* 0 = 4 GiB */
};

struct repo_publish_result {
	int64_t		 index_version;
	char		*generated_at;
	int		 clamped;	/* --timestamp was earlier: raised */
	char		*requested_at;	/* the timestamp asked for */
	char		**added;	/* file names, sorted */
	size_t		 nadded;
	/* Candidates already in the archive with the same hash (no error). */
	char		**skipped;
	size_t		 nskipped;
	/* On failure: the candidate files that caused it (to quarantine). */
	char		**rejected;
	size_t		 nrejected;
	/* State-relative paths written fresh: packages, then sidecars. */
	char		**new_paths;
	size_t		 nnew_paths;
	struct buf	 warnings;	/* non-fatal notes, one per line */
};

/*
 * One publish.  On success the state directory holds the complete new
 * state; on any failure it is unchanged (byte for byte) and no file of
 * the attempt is left behind.  Fills `res` in both cases (rejected is
 * meaningful on failure); free it with repo_publish_result_free().
 */
int	 repo_publish(const struct repo_publish_opts *,
	    struct repo_publish_result *, struct buf *err);
void	 repo_publish_result_free(struct repo_publish_result *);

#define REPO_VERIFY_METADATA	0x01
#define REPO_VERIFY_HASHES	0x02
#define REPO_VERIFY_BOTH	(REPO_VERIFY_METADATA | REPO_VERIFY_HASHES)

struct repo_verify_opts {
	const char	*state;
	int		 mode;
	const char	*all_packages_dir;	/* NULL: packages by URL */
};

/*
 * Audit a state (read-only).  Issues and warnings are appended one per
 * line.  Returns the number of issues, or -1 (err set) when the state
 * cannot be loaded at all.
 */
int	 repo_verify(const struct repo_verify_opts *, struct buf *issues,
	    struct buf *warnings, struct buf *err);

#endif /* PM_REPO_H */
