/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * manifest.h: the package manifest (.peipkg/manifest.json, BEHAVIOUR.md
 * §3.10) and the files manifest (.peipkg/files.json, §3.14): canonical
 * writers, parsers and the consumer's acceptance rules (CONSUMER.md §1.8,
 * §1.9).  The relation arrays (dependencies ... side_effects) are shared
 * with repository index entries (repo.h), which carry them under the same
 * rules (CONSUMER.md §1.6).
 *
 * String members are never NULL after manifest_init() or a parse; the
 * writer and the validator also read NULL as "".  Optional sub-members
 * (dependency constraint/arch, provides version, replaces constraint)
 * are "" when absent and omitted from the JSON then.
 *
 * Trust: manifest_parse(MF_STRICT) reads manifests out of packages
 * (hostile); MF_LENIENT reads operator input to `peipkg-build pack`.
 */
#ifndef PM_MANIFEST_H
#define PM_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "util.h"

#define MF_MAX_DEPS		10000	/* dependencies, optional, conflicts, provides */
#define MF_MAX_REPLACES		1000
#define MF_MAX_SD_OVERRIDES	100000
#define MF_MAX_SD_BYTES		(64 * 1024)	/* decoded sd */
#define MF_MAX_FILES		100000	/* files.json entries */

/* manifest_parse() modes */
#define MF_STRICT	0	/* consumer rules: required members, exact names */
#define MF_LENIENT	1	/* pack input: names folded, unknown dropped */
/* manifest_validate() flags */
#define MF_PRODUCER	0x01	/* also: whole-second "...Z" build timestamp */
/* manifest_relations_parse() and manifest_relations_check() flags */
#define MF_INDEX_ENTRY	0x02	/* an index entry: see manifest_relations_* */

struct mf_dep {
	char	*name;
	char	*constraint;	/* "" = none */
	char	*arch;		/* "" or "any" */
};

struct mf_deps {
	struct mf_dep	*v;
	size_t		 n;
};

struct mf_provide {
	char	*name;
	char	*version;	/* "" = none */
};

struct mf_replace {
	char	*name;
	char	*constraint;	/* "" = none */
};

/*
 * The relation arrays, in on-wire order: a manifest and an index entry
 * (struct repo_entry) both hold one.
 */
struct mf_relations {
	struct mf_deps		 dependencies;
	struct mf_deps		 optional_dependencies;
	struct mf_deps		 conflicts;
	struct mf_provide	*provides;
	size_t			 nprovides;
	struct mf_replace	*replaces;
	size_t			 nreplaces;
	char			**side_effects;
	size_t			 nside_effects;
};

struct mf_sd_override {
	char	*path;
	char	*sd;		/* unpadded standard base64 */
};

struct mf_build {
	char	*timestamp;	/* RFC 3339, verbatim */
	char	*farm_id;
	char	*source_ref;
};

/* Members in on-wire order; schema_version is always 1. */
struct manifest {
	char			*name;
	char			*version;
	char			*architecture;
	char			*description;
	char			*license;
	char			*homepage;
	struct mf_relations	 rel;
	uint64_t		 size_installed;
	struct mf_sd_override	*sd_overrides;
	size_t			 nsd_overrides;
	struct mf_build		 build;
};

/* One files.json entry. */
struct mf_file {
	char		*path;
	uint64_t	 size;
	uint8_t		 sha256[32];
};

void	 manifest_init(struct manifest *);
void	 manifest_free(struct manifest *);
/* Replace a string member: manifest_set(&mf->name, "hello"). */
void	 manifest_set(char **, const char *);
void	 manifest_dep_add(struct mf_deps *, const char *name,
	    const char *constraint, const char *arch);
void	 manifest_provide_add(struct manifest *, const char *name,
	    const char *version);
void	 manifest_replace_add(struct manifest *, const char *name,
	    const char *constraint);
void	 manifest_side_effect_add(struct manifest *, const char *);
void	 manifest_sd_override_add(struct manifest *, const char *path,
	    const char *sd);

/* Canonical JSON (BEHAVIOUR.md §2.1, §3.10) with the trailing "\n". */
void	 manifest_write(const struct manifest *, struct buf *);
/*
 * Parse manifest.json.  MF_STRICT applies every consumer rule
 * (structure, then manifest_validate(..., 0)); MF_LENIENT only requires
 * well-typed members and leaves validation to the caller.  On error the
 * struct is left initialised but empty.
 */
int	 manifest_parse(const char *, size_t, int mode, struct manifest *,
	    struct buf *err);
/*
 * The consumer's rules on a manifest struct (for building and after a
 * strict parse).  Every violation is reported (one errf each, naming the
 * field and value); returns -1 if there was any.
 */
int	 manifest_validate(const struct manifest *, int flags, struct buf *err);
/*
 * Sort dependencies, optional_dependencies, conflicts, provides and
 * replaces by name and sd_overrides by path (byte order); a duplicate
 * name is an error naming the list and the name (all are reported).
 * Side effects keep their order.
 */
int	 manifest_sort(struct manifest *, struct buf *err);
/*
 * A producer timestamp: RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" exactly (no
 * fraction, no offset).  Sets *secs; the message names the value.
 */
int	 manifest_timestamp(const char *, int64_t *secs, struct buf *err);

/*
 * 0, or -1 if the document holds a raw \v or \f byte: yajl reads them as
 * whitespace, the consumer's JSON decoder refuses them (for documents
 * parsed with json_parse that the consumer also reads).
 */
int	 manifest_json_space_ok(const char *, size_t, struct buf *err);

/*
 * The relation arrays of a manifest (manifest.c) or of an index entry
 * (repo.c), one rule set for both (manifest_relations.c).
 *
 * manifest_relations_parse: the six members of JSON object `obj`, as
 * manifest_parse() reads them in `mode` (a member whose name differs
 * only in letter case is refused in MF_STRICT, a repeated one always).
 * `who` prefixes every message (NULL: a manifest, messages name the
 * member only).  With MF_INDEX_ENTRY every array is optional; without
 * it MF_STRICT requires dependencies and conflicts.
 * manifest_relations_check: names, constraints, arch "any", provides
 * versions, sorted-unique names, side-effect set (each violation one
 * errf, prefixed with `who` as above); -1 if there was any.
 * MF_INDEX_ENTRY words the order messages as the index verifier does
 * ("<list> is not sorted", "<list> has a duplicate entry").
 */
int	 manifest_relations_parse(yajl_val obj, int mode, int flags,
	    struct mf_relations *, const char *who, struct buf *err);
void	 manifest_relations_write(struct jw *, const struct mf_relations *);
int	 manifest_relations_check(const struct mf_relations *, int flags,
	    const char *who, struct buf *err);
/* Deep copy into an empty `dst` (absent optional members become ""). */
void	 manifest_relations_copy(struct mf_relations *dst,
	    const struct mf_relations *src);
void	 manifest_relations_free(struct mf_relations *);

/* files.json: entries must already be sorted by path. */
void	 manifest_files_write(const struct mf_file *, size_t, struct buf *);
/* Strict: schema, sha256, entries strictly ascending, <= MF_MAX_FILES. */
int	 manifest_files_parse(const char *, size_t, struct mf_file **,
	    size_t *, struct buf *err);
void	 manifest_files_free(struct mf_file *, size_t);

#endif /* PM_MANIFEST_H */
