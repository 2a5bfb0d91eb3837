/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pmconfig.h: the farm configuration file (peipkg-config.toml(5)),
 * implemented in config.c.  (Not "config.h": that name is the autoconf
 * header every file includes first.)
 *
 * Loading is strict: unknown keys at any depth, type mismatches and
 * every rule violation are reported together, one per line, as
 *   file:line:col: key.path: message
 * Relative paths are resolved against the directory of the file.
 * String members are never NULL ("" when unset).
 *
 * Trust: an operator file, parsed only by the privileged parent.
 */
#ifndef PM_PMCONFIG_H
#define PM_PMCONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "recipe.h"
#include "util.h"

#define CONFIG_DEFAULT_PATH	SYSCONFDIR "/peipkg-manager/config.toml"
#define CONFIG_MAX_DURATION	(INT64_C(8760) * 3600 * 1000000000)	/* 365 days */
#define CONFIG_MIN_POLL		(INT64_C(60) * 1000000000)		/* 1m */
#define CONFIG_MAX_BODY_LIMIT	(25 * 1024 * 1024)
#define MEMORY_MAX_MIN		(INT64_C(16) << 20)	/* 16 MiB */

struct tdec_tab;
/* [build] memory_max of the config and of recipes: 0 or >= 16 MiB. */
void	 config_memory_field(struct tdec_tab *, uint64_t *);

enum upload_backend {
	UPLOAD_NONE = 0,	/* "" or "none" */
	UPLOAD_RCLONE = 1
};

struct signing_key {
	char	*name;
	char	*private_path;		/* resolved */
	char	*pubkey_env;		/* "" when absent */
	int	 line, col;		/* of the [[signing_key]] */
};

struct grant {
	char	 *recipe;
	char	**inject_pubkey;	/* signing key names */
	size_t	  ninject_pubkey;
	char	**sign;			/* signing key names */
	size_t	  nsign;
	int	  line, col;		/* of the [[grant]] */
};

struct config {
	char	*path;			/* as given */
	char	*dir;			/* absolute directory of the file */
	struct {
		char	*id;
		char	*recipes_dir;	/* resolved */
		char	*state_dir;	/* resolved */
		char	*user;		/* default PM_DEFAULT_USER */
		int	 max_parallel_builds;
		int64_t	 stop_timeout;	/* drain at SIGTERM, ns */
	} manager;
	struct {
		char	*name;
		char	*description;
	} repo;
	struct {
		char	*key_file;	/* resolved */
	} signing;
	struct {
		enum upload_backend backend;
		char	*remote;
		int64_t	 retry_initial;	/* ns */
		int64_t	 retry_max;
		char	*rclone_config;	/* resolved, or "" (inherit) */
	} upload;
	struct {
		char	*addr;		/* "" = no HTTP server */
		char	*webhook_secret_file;	/* resolved, or "" */
		char	*gitlab_token_file;
		char	*gitea_secret_file;
		char	*socket_group;	/* "" = leave root's */
		uint64_t max_body;	/* bytes */
		int64_t	 header_timeout;
		int64_t	 body_idle_timeout;
		int64_t	 body_timeout;
		int64_t	 keepalive_timeout;
		int	 max_connections;
		int	 max_pending;
		int	 line, col;	/* of [http] (or 1:1) */
	} http;
	struct {
		int64_t	 default_interval;
		int64_t	 connect_timeout;
		int64_t	 timeout;
		int	 concurrency;
		int64_t	 max_tags;
	} poll;
	struct {
		int64_t	 wall_timeout;
		int64_t	 idle_timeout;
		int64_t	 kill_grace;
		uint64_t log_max;	/* bytes */
		int	 log_retention;	/* failed-build logs kept per recipe */
		int64_t	 max_processes;
		int64_t	 max_open_files;
		uint64_t max_file_size;	/* bytes */
		uint64_t memory_max;	/* bytes per build; 0: none */
		int	 zstd_level;
		char	*user;		/* build worker user */
	} build;
	struct signing_key	*keys;
	size_t			 nkeys;
	struct grant		*grants;
	size_t			 ngrants;
};

/*
 * Load and validate.  Returns NULL with every error appended to err; then
 * *io_error is 1 when the file could not be read at all (a runtime
 * error) and 0 when it was read but is invalid (a schema error).
 */
struct config *config_load(const char *path, struct buf *err, int *io_error);
void	 config_free(struct config *);

const struct signing_key *config_signing_key(const struct config *,
	    const char *name);
const struct grant *config_grant(const struct config *, const char *recipe);
/* The secret file for a forge's webhooks ("" when none is configured). */
const char *config_webhook_secret(const struct config *, enum forge);
const char *config_forge_key(enum forge);	/* "github_webhook", ... */

/*
 * Checks that need both the config and the recipe roster:
 *  - each forge's webhook secret is configured when [http].addr is set
 *    and a recipe enables that forge's webhook (fail closed): an error
 *    about the configuration, appended to err;
 *  - every [[sign]] key of a recipe is authorised by the recipe's
 *    [[grant]] (fail closed: no grant, no signature): such a recipe is
 *    moved to the roster's rejected list with its errors;
 *  - a [[grant]] naming no recipe of the roster, or webhooks enabled
 *    without [http].addr: warnings, appended to warn.
 * Same line format as config_load().  Returns the number of errors
 * appended to err (configuration errors only).
 */
int	 config_check_roster(const struct config *, struct roster *,
	    struct buf *err, struct buf *warn);

#endif /* PM_PMCONFIG_H */
