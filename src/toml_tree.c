/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * toml_tree.c: the tree toml.c builds (toml.h): tables whose keys keep
 * their definition order and get an open-addressing hash index once
 * they are large, array growth, freeing, and lookup by key.
 *
 * Trust: keys come from operator files and may hold any bytes (NULs
 * included); they are compared by length and bytes only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "toml_int.h"

#define IDX_MIN		8	/* keys before a table gets a hash index */

static uint64_t	 key_hash(const char *, size_t);
static int	 kv_is(const struct toml_kv *, const char *, size_t);
static void	 idx_put(struct toml_table *, size_t);

struct toml_table *
toml_table_new(unsigned int flags, int line, int col)
{
	struct toml_table	*t;

	t = xcalloc(1, sizeof(*t));
	t->flags = flags;
	t->line = line;
	t->col = col;
	return t;
}

static uint64_t
key_hash(const char *s, size_t n)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static int
kv_is(const struct toml_kv *kv, const char *s, size_t len)
{
	return kv->keylen == len && memcmp(kv->key, s, len) == 0;
}

struct toml_kv *
toml_table_find(const struct toml_table *t, const char *s, size_t len)
{
	size_t	 i, h, mask;

	if (t->idx == NULL) {
		for (i = 0; i < t->n; i++)
			if (kv_is(&t->kv[i], s, len))
				return &t->kv[i];
		return NULL;
	}
	mask = t->idxcap - 1;
	for (h = key_hash(s, len) & mask; t->idx[h] != 0; h = (h + 1) & mask)
		if (kv_is(&t->kv[t->idx[h] - 1], s, len))
			return &t->kv[t->idx[h] - 1];
	return NULL;
}

static void
idx_put(struct toml_table *t, size_t i)
{
	size_t	 mask = t->idxcap - 1, h;

	h = key_hash(t->kv[i].key, t->kv[i].keylen) & mask;
	while (t->idx[h] != 0)
		h = (h + 1) & mask;
	t->idx[h] = i + 1;
}

struct toml_kv *
toml_table_add(struct toml_table *t, const struct kpart *kp)
{
	struct toml_kv	*kv;
	size_t		 i;

	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 8 : t->cap * 2;
		t->kv = xreallocarray(t->kv, t->cap, sizeof(*t->kv));
	}
	kv = &t->kv[t->n++];
	memset(kv, 0, sizeof(*kv));
	kv->key = xstrndup(kp->s, kp->len);
	kv->keylen = kp->len;
	kv->line = kp->line;
	kv->col = kp->col;
	if (t->n < IDX_MIN)
		return kv;
	if (t->idx == NULL || t->n * 2 > t->idxcap) {
		free(t->idx);
		t->idxcap = t->idxcap == 0 ? 32 : t->idxcap * 2;
		t->idx = xcalloc(t->idxcap, sizeof(*t->idx));
		for (i = 0; i < t->n; i++)
			idx_put(t, i);
	} else
		idx_put(t, t->n - 1);
	return kv;
}

struct toml_table *
toml_table_add_table(struct toml_table *t, const struct kpart *kp,
    unsigned int flags, int line, int col)
{
	struct toml_kv	*kv;

	kv = toml_table_add(t, kp);
	kv->val.type = TOML_TABLE;
	kv->val.line = line;
	kv->val.col = col;
	kv->val.u.tab = toml_table_new(flags, line, col);
	return kv->val.u.tab;
}

/* Capacity is the next power of two of n. */
struct toml_value *
toml_array_push(struct toml_value *a)
{
	size_t	 n = a->u.arr.n;

	if ((n & (n - 1)) == 0)
		a->u.arr.v = xreallocarray(a->u.arr.v, n == 0 ? 1 : n * 2,
		    sizeof(*a->u.arr.v));
	memset(&a->u.arr.v[n], 0, sizeof(a->u.arr.v[n]));
	a->u.arr.n++;
	return &a->u.arr.v[n];
}

void
toml_value_free(struct toml_value *v)
{
	size_t	 i;

	switch ((int)v->type) {
	case 0:
	case TOML_INTEGER:
	case TOML_FLOAT:
	case TOML_BOOL:
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			toml_value_free(&v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case TOML_TABLE:
		toml_free(v->u.tab);
		break;
	default:	/* strings and date-times */
		free(v->u.str.s);
		break;
	}
	memset(v, 0, sizeof(*v));
}

int
toml_value_is_aot(const struct toml_value *v)
{
	return v->type == TOML_ARRAY && v->u.arr.n > 0 &&
	    v->u.arr.v[0].type == TOML_TABLE &&
	    (v->u.arr.v[0].u.tab->flags & T_AOT) != 0;
}

const char *
toml_value_what(const struct toml_value *v)
{
	if (v->type == TOML_TABLE && (v->u.tab->flags & T_INLINE))
		return "an inline table";
	if (v->type == TOML_TABLE && (v->u.tab->flags & T_EXPLICIT))
		return "a table defined by a header";
	if (v->type == TOML_TABLE)
		return "a table";
	if (v->type == TOML_ARRAY)
		return toml_value_is_aot(v) ? "an array of tables" :
		    "a static array";
	if (v->type == TOML_INTEGER)
		return "an integer";
	if (v->type == TOML_DATETIME)
		return "an offset date-time";
	return v->type == TOML_STRING ? "a string" :
	    v->type == TOML_FLOAT ? "a float" :
	    v->type == TOML_BOOL ? "a boolean" :
	    v->type == TOML_LOCAL_DATETIME ? "a local date-time" :
	    v->type == TOML_LOCAL_DATE ? "a local date" : "a local time";
}

/* ---- API ---------------------------------------------------------- */

void
toml_free(struct toml_table *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->kv[i].key);
		toml_value_free(&t->kv[i].val);
	}
	free(t->kv);
	free(t->idx);
	free(t);
}

const struct toml_kv *
toml_get(const struct toml_table *t, const char *key)
{
	if (t == NULL || key == NULL)
		return NULL;
	return toml_table_find(t, key, strlen(key));
}

const char *
toml_type_name(enum toml_type type)
{
	static const char *const names[] = { "?", "string", "integer",
	    "float", "boolean", "offset date-time", "local date-time",
	    "local date", "local time", "array", "table" };

	if ((int)type < 0 || (size_t)type >= nitems(names))
		return "?";
	return names[type];
}
