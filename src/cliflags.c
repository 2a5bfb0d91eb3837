/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * cliflags.c: Go `flag` package parsing and usage text, for the tools
 * that replace the Go reference CLIs.  Trust: operator argv.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cliflags.h"

static struct cf_flag *find(const struct cf_set *, const char *, size_t);
static int	 parse_bool(const char *, int *);
static int	 set_value(struct cf_flag *, const char *, struct buf *);
static void	 usage_name(const struct cf_flag *, struct buf *,
		    struct buf *);
static int	 cmp_flag(const void *, const void *);
static void	 usage_line(const struct cf_flag *, FILE *);

static struct cf_flag *
find(const struct cf_set *s, const char *name, size_t len)
{
	struct cf_flag	*f;

	for (f = s->flags; f->name != NULL; f++)
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

struct cf_flag *
cf_lookup(const struct cf_set *s, const char *name)
{
	return find(s, name, strlen(name));
}

/* strconv.ParseBool */
static int
parse_bool(const char *v, int *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	size_t	 i;

	for (i = 0; i < nitems(t); i++) {
		if (strcmp(v, t[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
set_value(struct cf_flag *f, const char *v, struct buf *err)
{
	struct cf_multi	*m;
	long long	 n;
	char		*end;

	switch (f->kind) {
	case CF_STR:
		*(const char **)f->ptr = v;
		break;
	case CF_MULTI:
		m = f->ptr;
		m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
		m->v[m->n++] = (char *)v;
		break;
	case CF_INT:
		errno = 0;
		n = strtoll(v, &end, 0);
		if (*v == '\0' || *v == ' ' || *v == '\t' || *end != '\0' ||
		    errno != 0)
			return errf(err, "invalid value \"%s\" for flag -%s: "
			    "%s", v, f->name, errno == ERANGE ?
			    "value out of range" : "parse error");
		*(long long *)f->ptr = n;
		break;
	case CF_BOOL:
		if (parse_bool(v, (int *)f->ptr) == -1)
			return errf(err, "invalid boolean value \"%s\" for "
			    "-%s: parse error", v, f->name);
		break;
	}
	f->set++;
	return 0;
}

int
cf_parse(struct cf_set *s, int argc, char **argv, struct buf *err)
{
	struct cf_flag	*f;
	const char	*arg, *name, *eq;
	int		 i = 0;

	while (i < argc) {
		arg = argv[i];
		if (strlen(arg) < 2 || arg[0] != '-')
			break;
		name = arg + 1;
		if (*name == '-') {
			name++;
			if (*name == '\0') {
				i++;		/* "--" ends the flags */
				break;
			}
		}
		if (*name == '\0' || *name == '-' || *name == '=')
			return errf(err, "bad flag syntax: %s", arg);
		i++;
		eq = strchr(name, '=');
		f = find(s, name, eq ? (size_t)(eq - name) : strlen(name));
		if (f == NULL) {
			if (eq == NULL && (strcmp(name, "h") == 0 ||
			    strcmp(name, "help") == 0))
				return CF_HELP;
			return errf(err, "flag provided but not defined: -%.*s",
			    eq ? (int)(eq - name) : (int)strlen(name), name);
		}
		if (f->kind == CF_BOOL && eq == NULL) {
			*(int *)f->ptr = 1;
			f->set++;
			continue;
		}
		if (eq == NULL && i >= argc)
			return errf(err, "flag needs an argument: -%s", name);
		if (set_value(f, eq ? eq + 1 : argv[i++], err) == -1)
			return CF_ERROR;
	}
	s->args = argv + i;
	s->nargs = argc - i;
	return 0;
}

/* Go's UnquoteUsage: the value name and the usage without back quotes. */
static void
usage_name(const struct cf_flag *f, struct buf *name, struct buf *text)
{
	const char	*u = f->usage != NULL ? f->usage : "", *a, *b;

	if ((a = strchr(u, '`')) != NULL && (b = strchr(a + 1, '`')) != NULL) {
		buf_add(name, a + 1, (size_t)(b - a - 1));
		buf_add(text, u, (size_t)(a - u));
		buf_add(text, a + 1, (size_t)(b - a - 1));
		buf_adds(text, b + 1);
		return;
	}
	buf_adds(text, u);
	if (f->kind == CF_STR)
		buf_adds(name, "string");
	else if (f->kind == CF_INT)
		buf_adds(name, "int");
	else if (f->kind == CF_MULTI)
		buf_adds(name, "value");
}

static int
cmp_flag(const void *a, const void *b)
{
	return strcmp((*(const struct cf_flag *const *)a)->name,
	    (*(const struct cf_flag *const *)b)->name);
}

static void
usage_line(const struct cf_flag *f, FILE *fp)
{
	struct buf	 line = BUF_INIT, name = BUF_INIT, text = BUF_INIT;
	const char	*p;

	usage_name(f, &name, &text);
	buf_addf(&line, "  -%s", f->name);
	if (name.len > 0)
		buf_addf(&line, " %s", name.data);
	buf_adds(&line, line.len <= 4 ? "\t" : "\n    \t");
	for (p = buf_str(&text); *p != '\0'; p++)
		if (*p == '\n')
			buf_adds(&line, "\n    \t");
		else
			buf_addc(&line, *p);
	if (f->kind == CF_INT && *(long long *)f->ptr != 0)
		buf_addf(&line, " (default %lld)", *(long long *)f->ptr);
	fprintf(fp, "%s\n", line.data);
	buf_free(&line);
	buf_free(&name);
	buf_free(&text);
}

/* Go's PrintDefaults: flags in lexical order. */
void
cf_usage(const struct cf_set *s, FILE *fp)
{
	const struct cf_flag	**v;
	size_t			  n = 0, i;

	for (n = 0; s->flags[n].name != NULL; n++)
		;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = &s->flags[i];
	qsort(v, n, sizeof(*v), cmp_flag);
	fprintf(fp, "Usage of %s:\n", s->name);
	for (i = 0; i < n; i++)
		if (!v[i]->hidden)
			usage_line(v[i], fp);
	free(v);
}

int
cf_parse_report(struct cf_set *s, int argc, char **argv, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 rc;

	rc = cf_parse(s, argc, argv, &e);
	if (rc == CF_HELP) {
		cf_usage(s, stderr);
		errf(err, "flag: help requested");
	} else if (rc == CF_ERROR) {
		fprintf(stderr, "%s\n", buf_str(&e));
		cf_usage(s, stderr);
		errf(err, "%s", buf_str(&e));
	}
	buf_free(&e);
	return rc == 0 ? 0 : -1;
}

void
cf_multi_free(struct cf_multi *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
