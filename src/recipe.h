/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * recipe.h: the recipe model (peipkg.toml) shared by the packer and the
 * daemon, and the roster of recipes in recipes_dir.
 *
 * [meta], [[package]] and [[sign]] are always decoded strictly and
 * validated with the reference packer's rules plus the consumer's
 * manifest rules.  [upstream], [watch] and [build] belong to the
 * manager: in RECIPE_MANAGER mode they are strict too (unknown keys
 * rejected, tag_pattern compiled); in RECIPE_BUILD mode they are
 * ignored.  Other top-level sections are tolerated.  Every error of a
 * recipe is collected, one per line, as file:line:col: key.path: message
 * (key paths have no array indices: "package.dependencies.constrait").
 * String members are never NULL ("" when unset).
 *
 * Trust: operator files (recipes), parsed by the privileged parent and
 * by the packer; nothing from a recipe reaches a path unvalidated.
 */
#ifndef PM_RECIPE_H
#define PM_RECIPE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define RECIPE_FILE		"peipkg.toml"
#define RECIPE_MAX_PACKAGES	256
#define RECIPE_MAX_DEPS		10000	/* per array, as the consumer */
#define RECIPE_MAX_REPLACES	1000
#define RECIPE_MAX_FILES	10000
#define ROSTER_MAX_RECIPES	10000

struct tagpattern;

enum recipe_mode {
	RECIPE_BUILD = 0,	/* packer: [upstream]/[watch]/[build] ignored */
	RECIPE_MANAGER = 1	/* daemon: those sections strict */
};

enum forge {
	FORGE_GITHUB = 0,
	FORGE_GITLAB = 1,
	FORGE_GITEA = 2,
	FORGE_NUM = 3
};

struct recipe_dep {		/* dependencies, optional_dependencies, conflicts */
	char	*name;
	char	*constraint;	/* "" when absent */
	char	*arch;		/* "" or "any" */
	int	 same_build;	/* constraint becomes "= <build version>" */
	int	 line, col;
};

struct recipe_provide {
	char	*name;
	char	*version;	/* "" or a full version */
	int	 line, col;
};

struct recipe_replace {
	char	*name;
	char	*constraint;
	int	 line, col;
};

struct recipe_package {
	char			*name;
	char			*architecture;
	char			*description;
	struct recipe_dep	*deps;
	size_t			 ndeps;
	struct recipe_dep	*optdeps;
	size_t			 noptdeps;
	struct recipe_dep	*conflicts;
	size_t			 nconflicts;
	struct recipe_provide	*provides;
	size_t			 nprovides;
	struct recipe_replace	*replaces;
	size_t			 nreplaces;
	char			**side_effects;
	size_t			 nside_effects;
	char			**files;	/* doublestar globs */
	size_t			 nfiles;
	int			 line, col;	/* of the [[package]] */
	int			 se_line, se_col;	/* of side_effects */
	int			 files_line, files_col;	/* of files */
};

struct recipe_sign {
	char	*path;		/* relative to DESTDIR, clean */
	char	*key;		/* signing key name */
	int	 line, col;
};

struct recipe {
	char			*id;	/* directory name */
	char			*dir;	/* directory part of path ("." if none) */
	char			*path;	/* the file, as given (used in messages) */
	/* [meta] */
	char			*license;
	char			*homepage;
	char			*source;
	char			*build_script;	/* relative to dir, clean */
	struct recipe_package	*pkgs;
	size_t			 npkgs;
	struct recipe_sign	*signs;
	size_t			 nsigns;
	/* [upstream] (RECIPE_MANAGER only) */
	int			 has_upstream;
	char			*git;
	struct tagpattern	*tag_pattern;	/* NULL when unwatched */
	int64_t			 peios_revision;	/* >= 1 */
	int			 submodules;
	char			*min_version;	/* "" = no floor */
	int			 watched;	/* git and tag_pattern set */
	/* [watch] */
	int			 webhook[FORGE_NUM];	/* by enum forge */
	int64_t			 poll_interval;	/* ns; 0 = config default */
	/* [build] (our extension); 0 = config default */
	int64_t			 wall_timeout;
	int64_t			 idle_timeout;
	uint64_t		 memory_max;	/* 0: the farm's */
	int			 allow_ptrace;
	int			 watch_line, watch_col;	/* of [watch] */
};

struct roster_reject {
	char	*id;
	char	*path;
	char	*errors;	/* one per line */
};

struct roster {
	char			*dir;
	struct recipe		**r;	/* valid recipes, sorted by id */
	size_t			 n;
	struct roster_reject	*bad;	/* sorted by id */
	size_t			 nbad;
};

/*
 * Load one recipe file (at most TOML_MAX_INPUT bytes).  `id` is the
 * recipe ID (the directory name; NULL for ""); `path` is also the file
 * name in messages and gives r->dir.  NULL with every error in err.
 */
struct recipe *recipe_load(const char *path, const char *id,
	    enum recipe_mode, struct buf *err);
/* The same on a buffer; `name` stands for the path (tests, fuzzing). */
struct recipe *recipe_parse(const char *data, size_t len, const char *name,
	    const char *id, enum recipe_mode, struct buf *err);
void	 recipe_free(struct recipe *);
const struct recipe_package *recipe_package(const struct recipe *,
	    const char *name);
/* 0 when the string may name a recipe directory, else -1 and a message. */
int	 recipe_id_valid(const char *, struct buf *err);
/* A signing key name: 1-64 of [A-Za-z0-9._-], first alphanumeric. */
int	 recipe_key_name_valid(const char *, struct buf *err);
/* 1 when the recipe enables any webhook. */
int	 recipe_has_webhook(const struct recipe *);

/*
 * List recipes_dir: every real subdirectory (not a symlink) holding
 * peipkg.toml is a recipe; bad ones go to the rejected list with their
 * errors and never stop the others.  -1 only when the directory itself
 * cannot be read.
 */
int	 roster_load(const char *dir, enum recipe_mode, struct roster **,
	    struct buf *err);
void	 roster_free(struct roster *);
const struct recipe *roster_find(const struct roster *, const char *id);
size_t	 roster_watched(const struct roster *);
/* Move recipe i to the rejected list with `errors`. */
void	 roster_reject(struct roster *, size_t i, const char *errors);

#endif /* PM_RECIPE_H */
