/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * peipkg-manager.c: main(); command line, mode selection and
 * --check-config; `-P <role>` runs a role process (started by the
 * parent only, with its channel on fd 3); otherwise the daemon or
 * --once (parent.c).  Runs privileged; parses only its own arguments
 * and the operator files (config, recipes).
 *
 * Exit status: 0 ok, 1 runtime error, 2 command line or configuration
 * error (peipkg-manager(8)).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "recipe.h"

#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "role.h"


#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

enum mode {
	MODE_DAEMON,
	MODE_ONCE,
	MODE_CHECK
};

struct opts {
	const char	*config;
	enum log_level	 level;
	enum log_target	 target;
	enum mode	 mode;
	const char	*role;		/* -P */
};

static void	 usage(FILE *);
static int	 log_opt(int, const char *, struct opts *);
static int	 set_mode(struct opts *, int, int);
static int	 parse_args(int, char *[], struct opts *);
static void	 print_lines(FILE *, const char *);
static void	 log_lines(enum log_level, const char *, const char *,
		    const char *);
static int	 check_config(const struct opts *);
static int	 load_all(const struct opts *, struct config **,
		    struct roster **);
static int	 run_role(const struct opts *);

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: peipkg-manager [--config PATH] [--log-level LEVEL]\n"
	    "                      [--log-target TARGET] [--once | "
	    "--check-config]\n"
	    "       peipkg-manager --version | --help\n"
	    "\n"
	    "  --config PATH        configuration file (default %s)\n"
	    "  --log-level LEVEL    debug, info, warn or error (default info)\n"
	    "  --log-target TARGET  auto, stderr or journal (default auto)\n"
	    "  --once               poll every watched recipe once, build, "
	    "exit\n"
	    "  --check-config       validate the configuration and every "
	    "recipe, exit\n"
	    "  --version            print the version and exit\n"
	    "  --help               print this help and exit\n",
	    CONFIG_DEFAULT_PATH);
}

/* --log-level (ch 'l') or --log-target ('t'); -1 once told. */
static int
log_opt(int ch, const char *arg, struct opts *o)
{
	if (ch == 'l' && log_parse_level(arg, &o->level) == -1) {
		fprintf(stderr, "peipkg-manager: unknown log level \"%s\" "
		    "(want one of: debug, info, warn, error)\n", arg);
		return -1;
	}
	if (ch == 't' && log_parse_target(arg, &o->target) == -1) {
		fprintf(stderr, "peipkg-manager: unknown log target \"%s\" "
		    "(want one of: auto, stderr, journal)\n", arg);
		return -1;
	}
	return 0;
}

/* The mode from --once and --check-config: -1 to continue, or 2. */
static int
set_mode(struct opts *o, int once, int check)
{
	if (once && check) {
		fprintf(stderr, "peipkg-manager: --once and --check-config "
		    "cannot be combined\n");
		return EXIT_USAGE;
	}
	o->mode = check ? MODE_CHECK : once ? MODE_ONCE : MODE_DAEMON;
	return -1;
}

/* Returns -1 to continue, else an exit status. */
static int
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "config",		required_argument,	NULL, 'c' },
		{ "log-level",		required_argument,	NULL, 'l' },
		{ "log-target",		required_argument,	NULL, 't' },
		{ "once",		no_argument,		NULL, 'o' },
		{ "check-config",	no_argument,		NULL, 'n' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL,			0,			NULL, 0 }
	};
	int	 ch, once = 0, check = 0;

	opterr = 1;
	while ((ch = getopt_long_only(argc, argv, "hP:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'P':	/* a role process, started by the parent */
			o->role = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'l':
		case 't':
			if (log_opt(ch, optarg, o) == -1)
				return EXIT_USAGE;
			break;
		case 'o':
			once = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("peipkg-manager %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "peipkg-manager: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return set_mode(o, once, check);
}

static void
print_lines(FILE *f, const char *s)
{
	if (s[0] != '\0')
		fprintf(f, "%s\n", s);
}

/* One log event per line of text (messages stay one line each). */
static void
log_lines(enum log_level lvl, const char *msg, const char *recipe,
    const char *text)
{
	const char	*nl;
	char		*line;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		line = nl != NULL ? xstrndup(text, (size_t)(nl - text)) :
		    xstrdup(text);
		if (recipe != NULL)
			log_event(lvl, msg, LKV_S("recipe", recipe),
			    LKV_S("err", line));
		else
			log_event(lvl, msg, LKV_S(lvl == LL_WARN ? "warning" :
			    "err", line));
		free(line);
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/*
 * --check-config: every error on stderr (one per line), warnings too,
 * one summary line on stdout.  0 when valid, 2 otherwise.
 */
static int
check_config(const struct opts *o)
{
	struct buf	 err = BUF_INIT, warn = BUF_INIT, list = BUF_INIT;
	struct config	*cfg;
	struct roster	*ros = NULL;
	size_t		 i;
	int		 io, nerr = 0;

	if ((cfg = config_load(o->config, &err, &io)) == NULL) {
		print_lines(stderr, buf_str(&err));
		printf("config INVALID: %s\n", io ? "cannot read the "
		    "configuration file" : "errors in the configuration file");
		buf_free(&err);
		return EXIT_USAGE;
	}
	if (roster_load(cfg->manager.recipes_dir, RECIPE_MANAGER, &ros,
	    &err) == -1) {
		print_lines(stderr, buf_str(&err));
		printf("config INVALID: cannot read recipes_dir\n");
		config_free(cfg);
		buf_free(&err);
		return EXIT_USAGE;
	}
	nerr = config_check_roster(cfg, ros, &err, &warn);
	print_lines(stderr, buf_str(&warn));
	for (i = 0; i < ros->nbad; i++)
		print_lines(stderr, ros->bad[i].errors);
	print_lines(stderr, buf_str(&err));
	nerr += (int)ros->nbad;
	if (nerr == 0)
		printf("config OK: %zu recipes (%zu watched)\n", ros->n,
		    roster_watched(ros));
	else {
		for (i = 0; i < ros->n; i++)
			buf_addf(&list, "%s%s", i ? " " : "", ros->r[i]->id);
		buf_adds(&list, "");
		printf("config INVALID: %zu recipes valid (%zu watched)%s%s; "
		    "%zu rejected:", ros->n, roster_watched(ros),
		    ros->n ? ": " : "", buf_str(&list), ros->nbad);
		for (i = 0; i < ros->nbad; i++)
			printf(" %s", ros->bad[i].id);
		printf("\n");
	}
	roster_free(ros);
	config_free(cfg);
	buf_free(&err);
	buf_free(&warn);
	buf_free(&list);
	return nerr == 0 ? 0 : EXIT_USAGE;
}

/*
 * Daemon and --once start-up: a schema error exits 2, an unreadable
 * file 1.  Bad recipes are logged and left out; they never stop the
 * others.  Returns -1 on success, else the exit status.
 */
static int
load_all(const struct opts *o, struct config **cfgp, struct roster **rosp)
{
	struct buf	 err = BUF_INIT, warn = BUF_INIT;
	struct config	*cfg;
	struct roster	*ros;
	size_t		 i;
	int		 io, rc = -1;

	if ((cfg = config_load(o->config, &err, &io)) == NULL) {
		log_lines(LL_ERROR, "load config", NULL, buf_str(&err));
		rc = io ? EXIT_RUNTIME : EXIT_USAGE;
		goto out;
	}
	if (roster_load(cfg->manager.recipes_dir, RECIPE_MANAGER, &ros,
	    &err) == -1) {
		log_lines(LL_ERROR, "construct manager", NULL, buf_str(&err));
		config_free(cfg);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (config_check_roster(cfg, ros, &err, &warn) > 0) {
		log_lines(LL_ERROR, "load config", NULL, buf_str(&err));
		roster_free(ros);
		config_free(cfg);
		rc = EXIT_USAGE;
		goto out;
	}
	log_lines(LL_WARN, "configuration warning", NULL, buf_str(&warn));
	for (i = 0; i < ros->nbad; i++)
		log_lines(LL_ERROR, "recipe rejected", ros->bad[i].id,
		    ros->bad[i].errors);
	log_event(LL_INFO, "recipe roster loaded", LKV_I("count", ros->n),
	    LKV_S("dir", ros->dir));
	*cfgp = cfg;
	*rosp = ros;
out:
	buf_free(&err);
	buf_free(&warn);
	return rc;
}

static int
run_http(const struct opts *o)
{
	struct role_opts	 ro;

	memset(&ro, 0, sizeof(ro));
	ro.target = o->target;
	return http_main(&ro);	/* 1 (EXIT_RUNTIME) when it cannot start */
}

/* -P <role>: a role process; its parent set up fd 3. */
static int
run_role(const struct opts *o)
{
	static const char *const roles[] = { "http", "poller", "signer",
	    "publisher" };
	int	(*fn[4])(void) = { NULL, poller_main, signer_main,
		    publisher_main };
	size_t	 i;

	for (i = 0; i < nitems(roles); i++) {
		if (strcmp(o->role, roles[i]) != 0)
			continue;
		log_init(roles[i], o->level, o->target);
		return i == 0 ? run_http(o) : fn[i]();
	}
	fprintf(stderr, "peipkg-manager: unknown role \"%s\"\n", o->role);
	return EXIT_USAGE;
}

int
main(int argc, char *argv[])
{
	struct opts	 o = { CONFIG_DEFAULT_PATH, LL_INFO, LOG_TARGET_AUTO,
			    MODE_DAEMON, NULL };
	struct config	*cfg = NULL;
	struct roster	*ros = NULL;
	int		 rc;

	log_init("main", LL_INFO, LOG_TARGET_STDERR);
	if ((rc = parse_args(argc, argv, &o)) != -1)
		return rc;
	if (o.role != NULL)
		return run_role(&o);
	log_init("main", o.level, o.target);
	if (o.mode == MODE_CHECK)
		return check_config(&o);
	if ((rc = load_all(&o, &cfg, &ros)) != -1)
		return rc;
	/* Exit 1 when recipes exist but not one of them is valid. */
	if (ros->n == 0 && ros->nbad > 0) {
		log_event(LL_ERROR, "construct manager", LKV_S("err",
		    "no valid recipe: every recipe failed to load"));
		roster_free(ros);
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	rc = parent_main(cfg, ros, o.mode == MODE_ONCE, o.config, o.level);
	config_free(cfg);
	return rc;
}
