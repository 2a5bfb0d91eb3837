/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * peipkg-build.c: main() of peipkg-build, the deterministic .peipkg
 * emitter: subcommand dispatch, usage and the shared error conventions.
 * Trust: operator command line; the subcommands read build output and
 * packages (see pack.h, pkgread.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "peipkg-build.h"

struct subcmd {
	const char	*name;
	int		(*fn)(int, char **);
};

static const struct subcmd subcmds[] = {
#ifdef HAVE_PB_BUILD
	{ "build", cmd_build },
#endif
	{ "pack", cmd_pack },
	{ "verify", cmd_verify },
#ifdef HAVE_PB_BUILD
	{ "binary-sign", cmd_binary_sign },
#endif
};

static void	 usage(FILE *);

static void
usage(FILE *fp)
{
	fputs("Usage: " PB_PROG " <subcommand> [flags]\n"
	    "\n"
	    "Subcommands:\n"
#ifdef HAVE_PB_BUILD
	    "  build        run a recipe's build.sh and emit one .peipkg per "
	    "[[package]]\n"
#endif
	    "  pack         emit one .peipkg from a manifest and a staged "
	    "tree\n"
	    "  verify       check a .peipkg as the consumer does\n"
#ifdef HAVE_PB_BUILD
	    "  binary-sign  embed a binary signature into an ELF file\n"
#endif
	    "\n"
	    "Run '" PB_PROG " <subcommand> -h' for its flags.\n", fp);
}

int
pb_fail(const struct buf *err)
{
	const char	*s = buf_str(err), *nl;
	int		 first = 1;

	if (*s == '\0')
		s = "failed";
	for (; s != NULL; s = nl ? nl + 1 : NULL, first = 0) {
		nl = strchr(s, '\n');
		if (first)
			fprintf(stderr, "%s: ", PB_PROG);
		else if (*s != ' ' && *s != '\t')
			fputs("  ", stderr);
		fprintf(stderr, "%.*s\n", nl ? (int)(nl - s) : (int)strlen(s),
		    s);
	}
	return 1;
}

int
pb_failf(const char *fmt, ...)
{
	struct buf	 b = BUF_INIT;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	pb_fail(&b);
	buf_free(&b);
	return 1;
}

int
pb_flags(struct cf_set *s, int argc, char **argv)
{
	struct buf	 err = BUF_INIT;
	int		 rc = 0;

	if (cf_parse_report(s, argc, argv, &err) == -1) {
		pb_fail(&err);
		rc = -1;
	}
	buf_free(&err);
	return rc;
}

int
pb_required(const struct cf_set *s, const char *flag)
{
	cf_usage(s, stderr);
	return pb_failf("--%s is required", flag);
}

int
main(int argc, char *argv[])
{
	size_t	 i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < nitems(subcmds); i++)
		if (strcmp(argv[1], subcmds[i].name) == 0)
			break;
	if (i == nitems(subcmds)) {
		fprintf(stderr, "%s: unknown subcommand \"%s\"\n\n", PB_PROG,
		    argv[1]);
		usage(stderr);
		return 2;
	}
	crypto_init();
	return subcmds[i].fn(argc - 1, argv + 1);
}
