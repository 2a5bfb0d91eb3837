/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml-decode.c: the toml-test decoder protocol for src/toml.c.  Reads
 * TOML on stdin and prints it as tagged JSON: every scalar becomes
 * {"type": ..., "value": "<text>"}, tables objects, arrays arrays.  On
 * invalid input the parser's one error goes to stderr and the exit
 * status is 1.  Test tool only; stdin is bounded by TOML_MAX_INPUT.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toml.h"

static void	 json_str(struct buf *, const char *, size_t);
static void	 json_float(struct buf *, double);
static void	 json_value(struct buf *, const struct toml_value *);
static void	 json_table(struct buf *, const struct toml_table *);

static void
json_str(struct buf *o, const char *s, size_t n)
{
	size_t	 i;
	int	 c;

	buf_addc(o, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_addf(o, "\\%c", c);
		else if (c == '\n')
			buf_adds(o, "\\n");
		else if (c == '\t')
			buf_adds(o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_addf(o, "\\u%04x", (unsigned int)c);
		else
			buf_addc(o, c);
	}
	buf_addc(o, '"');
}

/* The shortest text that reads back as the same double. */
static void
json_float(struct buf *o, double f)
{
	char	 s[64];
	int	 prec;

	if (isnan(f)) {
		buf_adds(o, "nan");
		return;
	}
	if (isinf(f)) {
		buf_adds(o, f < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, f);
		if (strtod(s, NULL) == f)
			break;
	}
	buf_adds(o, s);
}

static void
json_value(struct buf *o, const struct toml_value *v)
{
	struct buf	 t = BUF_INIT;
	size_t		 i;

	if (v->type == TOML_TABLE) {
		json_table(o, v->u.tab);
		return;
	}
	if (v->type == TOML_ARRAY) {
		buf_addc(o, '[');
		for (i = 0; i < v->u.arr.n; i++) {
			if (i > 0)
				buf_addc(o, ',');
			json_value(o, &v->u.arr.v[i]);
		}
		buf_addc(o, ']');
		return;
	}
	if (v->type == TOML_INTEGER)
		buf_addf(&t, "%lld", (long long)v->u.i);
	else if (v->type == TOML_FLOAT)
		json_float(&t, v->u.f);
	else if (v->type == TOML_BOOL)
		buf_adds(&t, v->u.b ? "true" : "false");
	else
		buf_add(&t, v->u.str.s, v->u.str.len);
	buf_addf(o, "{\"type\":\"%s\",\"value\":",
	    v->type == TOML_STRING ? "string" :
	    v->type == TOML_INTEGER ? "integer" :
	    v->type == TOML_FLOAT ? "float" :
	    v->type == TOML_BOOL ? "bool" :
	    v->type == TOML_DATETIME ? "datetime" :
	    v->type == TOML_LOCAL_DATETIME ? "datetime-local" :
	    v->type == TOML_LOCAL_DATE ? "date-local" : "time-local");
	json_str(o, buf_str(&t), t.len);
	buf_addc(o, '}');
	buf_free(&t);
}

static void
json_table(struct buf *o, const struct toml_table *tab)
{
	size_t	 i;

	buf_addc(o, '{');
	for (i = 0; i < tab->n; i++) {
		if (i > 0)
			buf_addc(o, ',');
		json_str(o, tab->kv[i].key, tab->kv[i].keylen);
		buf_addc(o, ':');
		json_value(o, &tab->kv[i].val);
	}
	buf_addc(o, '}');
}

int
main(void)
{
	struct toml_table	*t;
	struct buf		 in = BUF_INIT, err = BUF_INIT, out = BUF_INIT;
	int			 rc = 1;

	if (read_fd(STDIN_FILENO, TOML_MAX_INPUT, &in, &err) == -1) {
		fprintf(stderr, "toml-decode: stdin: %s\n", buf_str(&err));
		goto out;
	}
	if ((t = toml_parse(in.data, in.len, "<stdin>", &err)) == NULL) {
		fprintf(stderr, "%s\n", buf_str(&err));
		goto out;
	}
	json_table(&out, t);
	buf_addc(&out, '\n');
	toml_free(t);
	if (write_full(STDOUT_FILENO, out.data, out.len) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&in);
	buf_free(&err);
	buf_free(&out);
	return rc;
}
