/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * peipkg-repo.c: the `peipkg-repo` command (init, publish, verify), a
 * drop-in for the reference tool (BEHAVIOUR.md §2.5, §4) over the same
 * library code the daemon's publisher calls (repo.h).  Differences from
 * the reference, all on the consumer's side (CONSUMER.md §2.2): packages
 * are verified before they enter an index, generated_at never goes
 * backwards (clamped, with a warning), the descriptor's keys are sorted,
 * the switch is atomic, verify hashes the state's own packages, and no
 * browse site is written.
 *
 * Trust: command-line arguments are the operator's; everything read is
 * handled by the library.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliflags.h"
#include "crypto.h"
#include "log.h"
#include "repo.h"
#include "sign.h"
#include "upload.h"

#define PROG	"peipkg-repo"

/* The flags of `publish`. */
struct publish_args {
	char	*in, *nw, *out, *keyp, *ts, *all, *tmpl;
	int	 rebuild;
};

static const char usage_main[] =
    "usage: peipkg-repo <subcommand> [flags]\n"
    "\n"
    "Subcommands:\n"
    "  init     create an empty, signed repository state\n"
    "  publish  add packages and switch to a new signed state\n"
    "  verify   audit a repository state\n"
    "  upload   mirror a state to an rclone remote, packages first\n"
    "\n"
    "Run 'peipkg-repo <subcommand> -h' for the flags of a subcommand.\n";

static int	 fail(struct buf *);
static int	 parse(struct cf_set *, int, char **);
static int	 required(const char *, const char *, const struct cf_set *);
static int	 load_signer(const char *, struct pm_key *, struct signer **);
static int	 cmd_init(int, char **);
static void	 print_publish(const struct repo_publish_result *);
static void	 print_lines(FILE *, const char *, const struct buf *);
static int	 publish(const struct publish_args *, struct signer *,
		    struct repo_publish_result *);
static int	 cmd_publish(int, char **);
static int	 cmd_verify(int, char **);
static int	 cmd_upload(int, char **);

/* Print each line of an error as "peipkg-repo: <line>"; exit status 1. */
static int
fail(struct buf *err)
{
	const char	*s, *nl;

	for (s = buf_str(err); *s != '\0'; s = *nl ? nl + 1 : nl) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		fprintf(stderr, PROG ": %.*s\n", (int)(nl - s), s);
	}
	if (err->len == 0)
		fprintf(stderr, PROG ": failed\n");
	buf_free(err);
	return 1;
}

/*
 * Go flag syntax; on an error the flag message and the usage go first
 * (BEHAVIOUR.md §2.5).  Arguments left after the flags are refused.
 */
static int
parse(struct cf_set *set, int argc, char **argv)
{
	struct buf	 err = BUF_INIT;

	if (cf_parse_report(set, argc, argv, &err) == -1)
		return fail(&err);
	if (set->nargs > 0) {
		cf_usage(set, stderr);
		errf(&err, "%s: unexpected argument \"%s\"", set->name,
		    set->args[0]);
		return fail(&err);
	}
	return 0;
}

static int
required(const char *flag, const char *value, const struct cf_set *set)
{
	if (value != NULL && *value != '\0')
		return 0;
	cf_usage(set, stderr);
	fprintf(stderr, PROG ": %s is required\n", flag);
	return 1;
}

static int
load_signer(const char *path, struct pm_key *key, struct signer **s)
{
	struct buf	 err = BUF_INIT;

	if (key_load_file(path, key, &err) == -1)
		return fail(&err);
	*s = signer_local_new(key);
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	struct repo_init_opts	 o;
	struct buf		 err = BUF_INIT;
	struct signer		*s = NULL;
	struct pm_key		 key;
	char			*name = NULL, *desc = NULL, *keyp = NULL;
	char			*ts = NULL, *out = NULL;
	struct cf_flag		 flags[] = {
		{ "name", CF_STR, &name,
		    "repository `name` (recorded in repo.json)", 0, 0 },
		{ "description", CF_STR, &desc,
		    "one-line `description` of the repository", 0, 0 },
		{ "sign-key", CF_STR, &keyp,
		    "Ed25519 private `key` (32-byte seed or PKCS#8 PEM)",
		    0, 0 },
		{ "timestamp", CF_STR, &ts,
		    "RFC 3339 UTC `time` ending in Z (generated_at)", 0, 0 },
		{ "out", CF_STR, &out,
		    "state `directory` to write", 0, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "init", flags, NULL, 0 };
	int			 rc;

	if ((rc = parse(&set, argc, argv)) != 0 ||
	    (rc = required("--name", name, &set)) != 0 ||
	    (rc = required("--sign-key", keyp, &set)) != 0 ||
	    (rc = required("--timestamp", ts, &set)) != 0 ||
	    (rc = required("--out", out, &set)) != 0 ||
	    (rc = load_signer(keyp, &key, &s)) != 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.state = out;
	o.name = name;
	o.description = desc;
	o.timestamp = ts;
	o.pub = key.pub;
	o.signer = s;
	if (repo_init(&o, &err) == -1)
		rc = fail(&err);
	else
		printf("initialised repository \"%s\" at %s\n", name, out);
	key_free(&key);
 out:
	signer_local_free(s);
	buf_free(&err);
	return rc;
}

static void
print_publish(const struct repo_publish_result *r)
{
	const char	*s, *nl;
	size_t		 i;

	if (r->clamped)
		fprintf(stderr, PROG ": warning: --timestamp %s is earlier "
		    "than the previous generated_at; generated_at stays %s\n",
		    r->requested_at, r->generated_at);
	for (s = buf_str(&r->warnings); *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			break;
		fprintf(stderr, PROG ": warning: %.*s\n", (int)(nl - s), s);
	}
	printf("published index_version %lld (%zu new packages)\n",
	    (long long)r->index_version, r->nadded);
	for (i = 0; i < r->nadded; i++)
		printf("  + %s\n", r->added[i]);
}

/* repo_publish() as the flags say; prints the result or the error. */
static int
publish(const struct publish_args *a, struct signer *s,
    struct repo_publish_result *res)
{
	struct repo_publish_opts	 o;
	struct buf			 err = BUF_INIT;

	memset(&o, 0, sizeof(o));
	o.state = a->out;
	o.in = a->in;
	o.new_dir = a->nw;
	o.rebuild = a->rebuild;
	o.all_packages_dir = a->all;
	o.url_template = a->tmpl;
	o.timestamp = a->ts;
	o.signer = s;
	if (repo_publish(&o, res, &err) == -1)
		return fail(&err);
	print_publish(res);
	buf_free(&err);
	return 0;
}

static int
cmd_publish(int argc, char **argv)
{
	struct publish_args		 a;
	struct repo_publish_result	 res;
	struct signer			*s = NULL;
	struct pm_key			 key;
	struct cf_flag		 flags[] = {
		{ "in", CF_STR, &a.in,
		    "previous state `directory`", 0, 0 },
		{ "new", CF_STR, &a.nw,
		    "`directory` of new .peipkg files", 0, 0 },
		{ "out", CF_STR, &a.out,
		    "state `directory` to write", 0, 0 },
		{ "sign-key", CF_STR, &a.keyp,
		    "Ed25519 private `key` (32-byte seed or PKCS#8 PEM)",
		    0, 0 },
		{ "timestamp", CF_STR, &a.ts,
		    "RFC 3339 UTC `time` ending in Z (generated_at)", 0, 0 },
		{ "rebuild", CF_BOOL, &a.rebuild,
		    "rebuild the archive from --all-packages-dir", 0, 0 },
		{ "all-packages-dir", CF_STR, &a.all,
		    "`directory` holding every .peipkg ever published", 0, 0 },
		{ "package-url-template", CF_STR, &a.tmpl,
		    "URL `template` of new entries (default \""
		    REPO_URL_TEMPLATE "\")", 0, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "publish", flags, NULL, 0 };
	int			 rc;

	memset(&a, 0, sizeof(a));
	memset(&res, 0, sizeof(res));
	if ((rc = parse(&set, argc, argv)) != 0 ||
	    (rc = required("--in", a.in, &set)) != 0 ||
	    (rc = required("--sign-key", a.keyp, &set)) != 0 ||
	    (rc = required("--timestamp", a.ts, &set)) != 0 ||
	    (rc = required("--out", a.out, &set)) != 0 ||
	    (rc = required(a.rebuild ? "--all-packages-dir" : "--new",
	    a.rebuild ? a.all : a.nw, &set)) != 0 ||
	    (rc = load_signer(a.keyp, &key, &s)) != 0)
		goto out;
	rc = publish(&a, s, &res);
	key_free(&key);
 out:
	repo_publish_result_free(&res);
	signer_local_free(s);
	return rc;
}

static void
print_lines(FILE *f, const char *prefix, const struct buf *b)
{
	const char	*s, *nl;

	for (s = buf_str(b); *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			break;
		fprintf(f, "%s%.*s\n", prefix, (int)(nl - s), s);
	}
}

static int
cmd_verify(int argc, char **argv)
{
	struct repo_verify_opts	 o;
	struct buf		 err = BUF_INIT, issues = BUF_INIT;
	struct buf		 warn = BUF_INIT;
	char			*repo = NULL, *mode = NULL, *all = NULL;
	struct cf_flag		 flags[] = {
		{ "repo", CF_STR, &repo,
		    "state `directory`", 0, 0 },
		{ "mode", CF_STR, &mode,
		    "`mode`: metadata, hashes or both (default \"both\")",
		    0, 0 },
		{ "all-packages-dir", CF_STR, &all,
		    "`directory` holding every .peipkg ever published", 0, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "verify", flags, NULL, 0 };
	int			 n, rc;

	memset(&o, 0, sizeof(o));
	if ((rc = parse(&set, argc, argv)) != 0 ||
	    (rc = required("--repo", repo, &set)) != 0)
		goto out;
	if (mode == NULL || strcmp(mode, "both") == 0)
		o.mode = REPO_VERIFY_BOTH;
	else if (strcmp(mode, "metadata") == 0)
		o.mode = REPO_VERIFY_METADATA;
	else if (strcmp(mode, "hashes") == 0)
		o.mode = REPO_VERIFY_HASHES;
	else {
		cf_usage(&set, stderr);
		errf(&err, "--mode must be one of metadata, hashes, both "
		    "(got \"%s\")", mode);
		rc = fail(&err);
		goto out;
	}
	o.state = repo;
	o.all_packages_dir = all != NULL && *all != '\0' ? all : NULL;
	if ((n = repo_verify(&o, &issues, &warn, &err)) == -1) {
		rc = fail(&err);
		goto out;
	}
	print_lines(stderr, "WARN: ", &warn);
	if (n == 0)
		printf("OK\n");
	else {
		print_lines(stderr, "FAIL: ", &issues);
		fprintf(stderr, PROG ": %d issue(s) found\n", n);
		rc = 1;
	}
 out:
	buf_free(&err);
	buf_free(&issues);
	buf_free(&warn);
	return rc;
}

static int
cmd_upload(int argc, char **argv)
{
	struct upload_opts	 o;
	struct buf		 err = BUF_INIT;
	enum upload_phase	 ph;
	char			*repo = NULL, *remote = NULL, *rclone = NULL;
	char			*timeout = NULL, *end;
	int			 sync = 0, rc;
	struct cf_flag		 flags[] = {
		{ "repo", CF_STR, &repo,
		    "state `directory`", 0, 0 },
		{ "remote", CF_STR, &remote,
		    "rclone `destination` (remote:path or a directory)", 0, 0 },
		{ "rclone", CF_STR, &rclone,
		    "rclone `program` (default \"rclone\" from PATH)", 0, 0 },
		{ "sync", CF_BOOL, &sync,
		    "finish with rclone sync so deletions converge", 0, 0 },
		{ "timeout", CF_STR, &timeout,
		    "limit in `seconds` for each rclone run", 0, 0 },
		{ NULL, 0, NULL, NULL, 0, 0 }
	};
	struct cf_set		 set = { "upload", flags, NULL, 0 };

	memset(&o, 0, sizeof(o));
	if ((rc = parse(&set, argc, argv)) != 0 ||
	    (rc = required("--repo", repo, &set)) != 0 ||
	    (rc = required("--remote", remote, &set)) != 0)
		goto out;
	if (timeout != NULL) {
		errno = 0;
		o.timeout = (int)strtol(timeout, &end, 10);
		if (errno != 0 || *end != '\0' || end == timeout ||
		    o.timeout < 0) {
			cf_usage(&set, stderr);
			errf(&err, "--timeout \"%s\": not a number of seconds",
			    timeout);
			rc = fail(&err);
			goto out;
		}
	}
	o.local = repo;
	o.remote = remote;
	o.rclone = rclone;
	o.sync = sync;
	if (upload_run(&o, &ph, &err) == -1) {
		errf(&err, "upload stopped in the %s phase; the remote holds "
		    "an older state (run the upload again)",
		    upload_phase_name(ph));
		rc = fail(&err);
	} else
		printf("uploaded %s to %s\n", repo, remote);
 out:
	buf_free(&err);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*sub;
	int		 rc;

	if (argc < 2) {
		fputs(usage_main, stderr);
		return 2;
	}
	sub = argv[1];
	if (strcmp(sub, "help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "--help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	crypto_init();
	if (strcmp(sub, "init") == 0)
		rc = cmd_init(argc - 2, argv + 2);
	else if (strcmp(sub, "publish") == 0)
		rc = cmd_publish(argc - 2, argv + 2);
	else if (strcmp(sub, "verify") == 0)
		rc = cmd_verify(argc - 2, argv + 2);
	else if (strcmp(sub, "upload") == 0)
		rc = cmd_upload(argc - 2, argv + 2);
	else {
		fprintf(stderr, PROG ": unknown subcommand \"%s\"\n\n", sub);
		fputs(usage_main, stderr);
		return 2;
	}
	if (fflush(stdout) == EOF && rc == 0) {
		fprintf(stderr, PROG ": write standard output failed\n");
		rc = 1;
	}
	return rc;
}
