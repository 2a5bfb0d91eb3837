/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tagledger.c: the published-commits ledger (tagledger.h): a chained
 * hash of recipe@version -> commit, loaded from and appended to one
 * file.
 *
 * Trust: privileged parent; reads only its own file, whose lines are
 * still checked (four fields, 40 hex digits) before they are believed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tagledger.h"

#define LEDGER_MAX	(256ULL << 20)	/* bytes read at start */

struct lentry {
	struct lentry	*next;
	char		*key;		/* "<recipe> <version>" */
	uint8_t		 oid[TAGLEDGER_OID_LEN];
	uint8_t		 told[TAGLEDGER_OID_LEN];	/* last reported */
	int		 have_told;
};

struct tagledger {
	char		 *path;
	struct lentry	**b;
	size_t		  nb, n;
	int		  need_nl;	/* the file ends in a torn line */
};

static uint64_t
hash(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s));
}

static struct lentry *
find(const struct tagledger *l, const char *key)
{
	struct lentry	*e;

	for (e = l->b[hash(key) % l->nb]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
grow(struct tagledger *l)
{
	struct lentry	**nb, *e, *next;
	size_t		  i, n = l->nb * 2;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < l->nb; i++)
		for (e = l->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[hash(e->key) % n];
			nb[hash(e->key) % n] = e;
		}
	free(l->b);
	l->b = nb;
	l->nb = n;
}

/* The latest publish of a key wins (there is only one, normally). */
static void
put(struct tagledger *l, const char *recipe, const char *version,
    const uint8_t *oid)
{
	char		*key = xasprintf("%s %s", recipe, version);
	struct lentry	*e;

	if ((e = find(l, key)) != NULL)
		free(key);
	else {
		if (l->n >= l->nb)
			grow(l);
		e = xcalloc(1, sizeof(*e));
		e->key = key;
		e->next = l->b[hash(key) % l->nb];
		l->b[hash(key) % l->nb] = e;
		l->n++;
	}
	memcpy(e->oid, oid, TAGLEDGER_OID_LEN);
}

/* One line: 0, or -1 when it does not parse. */
static int
parse_line(struct tagledger *l, char *line)
{
	char	*f[5], *save = NULL;
	uint8_t	 oid[TAGLEDGER_OID_LEN];
	int	 n = 0;

	for (f[n] = strtok_r(line, " ", &save); f[n] != NULL && n < 4;
	    f[n] = strtok_r(NULL, " ", &save))
		n++;
	if (n != 4 || f[4] != NULL || strlen(f[3]) != 2 * sizeof(oid) ||
	    hex_decode(f[3], strlen(f[3]), oid) == -1)
		return -1;
	put(l, f[0], f[1], oid);
	return 0;
}

static void
load(struct tagledger *l, struct buf *warn)
{
	struct buf	 b = BUF_INIT, e = BUF_INIT;
	char		*p, *nl;
	int		 lineno = 0;

	if (access(l->path, F_OK) == -1 && errno == ENOENT)
		goto out;		/* nothing published yet */
	if (read_file(l->path, LEDGER_MAX, &b, &e) == -1) {
		errf(warn, "%s", buf_str(&e));
		goto out;
	}
	l->need_nl = b.len > 0 && b.data[b.len - 1] != '\n';
	for (p = b.data; p != NULL && *p != '\0'; p = nl) {
		lineno++;
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (parse_line(l, p) == -1)
			errf(warn, "%s:%d: not <recipe> <version> <tag> "
			    "<commit>; line skipped", l->path, lineno);
	}
out:
	buf_free(&b);
	buf_free(&e);
}

struct tagledger *
tagledger_open(const char *path, struct buf *warn)
{
	struct tagledger	*l = xcalloc(1, sizeof(*l));

	l->path = xstrdup(path);
	l->nb = 64;
	l->b = xcalloc(l->nb, sizeof(*l->b));
	load(l, warn);
	return l;
}

void
tagledger_free(struct tagledger *l)
{
	struct lentry	*e, *next;
	size_t		 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nb; i++)
		for (e = l->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	free(l->b);
	free(l->path);
	free(l);
}

int
tagledger_moved(struct tagledger *l, const char *recipe, const char *version,
    const uint8_t oid[TAGLEDGER_OID_LEN], char published[41])
{
	char		*key = xasprintf("%s %s", recipe, version);
	struct lentry	*e = find(l, key);
	int		 moved = 0;

	free(key);
	if (e != NULL && memcmp(e->oid, oid, TAGLEDGER_OID_LEN) != 0 &&
	    !(e->have_told && memcmp(e->told, oid, TAGLEDGER_OID_LEN) == 0)) {
		memcpy(e->told, oid, TAGLEDGER_OID_LEN);
		e->have_told = 1;
		hex_encode(e->oid, TAGLEDGER_OID_LEN, published);
		moved = 1;
	}
	return moved;
}

int
tagledger_add(struct tagledger *l, const char *recipe, const char *version,
    const char *tag, const uint8_t oid[TAGLEDGER_OID_LEN], struct buf *err)
{
	char	 hex[2 * TAGLEDGER_OID_LEN + 1], *line;
	int	 fd, rc = -1;

	hex_encode(oid, TAGLEDGER_OID_LEN, hex);
	line = xasprintf("%s%s %s %s %s\n", l->need_nl ? "\n" : "", recipe,
	    version, tag, hex);
	if ((fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		errf(err, "open %s: %s", l->path, strerror(errno));
	else if (write_full(fd, line, strlen(line)) == -1 || fsync(fd) == -1)
		errf(err, "write %s: %s", l->path, strerror(errno));
	else {
		l->need_nl = 0;
		rc = 0;
	}
	if (fd != -1)
		close(fd);
	put(l, recipe, version, oid);
	free(line);
	return rc;
}
