/*
 * test_sched.c: the parent's scheduler: intake rules, composition with
 * the current recipe, dedup by package names (not the recipe id),
 * failure back-off 1m 5m 15m 1h 6h 24h 24h, queued/running dedup,
 * parallel limits, per-recipe exclusivity, FIFO order, reload
 * revalidation and the held queue before the published set arrives.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"
#include "msgtypes.h"
#include "pmsched.h"

#define S	INT64_C(1000000000)
#define T0	(INT64_C(1778164331) * S)

static const char *const pk_hello[] = { "hello" };
static const char *const pk_foo[] = { "foo", "foo-doc" };
static const char *const pk_lib[] = { "libz" };

/* hello: id = package; foo-recipe: packages foo, foo-doc; libz: min 1.2;
 * plain: not watched. */
static struct sched_recipe roster[] = {
	{ "foo-recipe", "", 1, 1, pk_foo, 2 },
	{ "hello", "", 1, 1, pk_hello, 1 },
	{ "libz", "1.2", 2, 1, pk_lib, 1 },
	{ "plain", "", 1, 0, pk_hello, 1 },
};

struct notes {
	char	 text[4096];
};

static void
note_cb(void *arg, enum sched_result r, const struct sched_trigger *t,
    const char *detail)
{
	struct notes	*n = arg;
	size_t		 len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%d:%s:%s:%s:%s;",
	    (int)r, t->t_recipe, t->t_tag, t->t_version ? t->t_version : "-",
	    detail ? detail : "");
}

static struct sched *
mk(int par, struct notes *n)
{
	struct sched	*s = sched_new(par);

	if (n != NULL) {
		n->text[0] = '\0';
		sched_set_note(s, note_cb, n);
	}
	sched_set_recipes(s, roster, nitems(roster));
	sched_pub_reset(s);
	sched_pub_final(s);
	return s;
}

static void
test_backoff_steps(void **state)
{
	static const char *const want[] = { "1m0s", "5m0s", "15m0s",
	    "1h0m0s", "6h0m0s", "24h0m0s", "24h0m0s", "24h0m0s" };
	unsigned	 i;

	for (i = 0; i < nitems(want); i++)
		assert_string_equal(duration_str(sched_backoff(i + 1)),
		    want[i]);
}

static void
test_compose_and_queue(void **state)
{
	struct sched		*s = mk(1, NULL);
	struct sched_job	*j;

	assert_int_equal(sched_trigger(s, "libz", "v1.3", "1.3", SRC_POLL,
	    T0), SCHED_QUEUED);
	assert_int_equal(sched_nqueued(s), 1);
	j = sched_next(s, T0 + S);
	assert_non_null(j);
	assert_string_equal(j->j_version, "1.3-2");
	assert_string_equal(j->j_tag, "v1.3");
	assert_int_equal(j->j_started, T0 + S);
	assert_int_equal(j->j_seen, T0);
	assert_int_equal(j->j_id, 1);
	assert_int_equal(sched_attempted(s), 1);
	assert_int_equal(sched_nqueued(s), 0);
	assert_int_equal(sched_nrunning(s), 1);
	sched_free(s);
}

static void
test_intake_drops(void **state)
{
	struct notes	 n;
	struct sched	*s = mk(1, &n);

	assert_int_equal(sched_trigger(s, "gone", "v1", "1", SRC_POLL, T0),
	    SCHED_REMOVED);
	assert_int_equal(sched_trigger(s, "plain", "v1", "1", SRC_POLL, T0),
	    SCHED_UNWATCHED);
	assert_int_equal(sched_trigger(s, "libz", "v1.1.9", "1.1.9",
	    SRC_POLL, T0), SCHED_BELOW_MIN);
	assert_int_equal(sched_trigger(s, "libz", "v1.2", "1.2", SRC_POLL,
	    T0), SCHED_QUEUED);
	assert_string_equal(n.text, "1:gone:v1:-:;2:plain:v1:-:;"
	    "3:libz:v1.1.9:-:1.2;");
	assert_int_equal(sched_nqueued(s), 1);
	sched_free(s);
}

static void
test_dedup_queued_running(void **state)
{
	struct notes		 n;
	struct sched		*s = mk(1, &n);
	struct sched_job	*j;

	assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0),
	    SCHED_QUEUED);
	assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_WEBHOOK,
	    T0), SCHED_QUEUED_DUP);
	j = sched_next(s, T0);
	assert_non_null(j);
	assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0),
	    SCHED_RUNNING_DUP);
	/* Another version of the same recipe queues but waits. */
	assert_int_equal(sched_trigger(s, "hello", "v2", "2", SRC_POLL, T0),
	    SCHED_QUEUED);
	assert_null(sched_next(s, T0));
	assert_string_equal(n.text, "6:hello:v1:1-1:;7:hello:v1:1-1:;");
	sched_free(s);
}

/* BEHAVIOUR.md §8 item 1: published means every package name of the
 * recipe at that version, whatever the recipe directory is called. */
static void
test_dedup_by_package_names(void **state)
{
	struct notes	 n;
	struct sched	*s = sched_new(1);

	n.text[0] = '\0';
	sched_set_note(s, note_cb, &n);
	sched_set_recipes(s, roster, nitems(roster));
	sched_pub_reset(s);
	sched_pub_add(s, "foo-recipe", "1.1.0-1");	/* the id: irrelevant */
	sched_pub_add(s, "foo", "1.1.0-1");
	sched_pub_final(s);
	assert_false(sched_recipe_published(s, "foo-recipe", "1.1.0-1"));
	assert_int_equal(sched_trigger(s, "foo-recipe", "v1.1.0", "1.1.0",
	    SRC_POLL, T0), SCHED_QUEUED);
	sched_stop(s);
	sched_free(s);

	s = mk(1, &n);
	sched_pub_add(s, "foo", "1.1.0-1");
	sched_pub_add(s, "foo-doc", "1.1.0-1");
	sched_pub_add(s, "foo", "1.2.0-1");
	assert_true(sched_recipe_published(s, "foo-recipe", "1.1.0-1"));
	assert_int_equal(sched_trigger(s, "foo-recipe", "v1.1.0", "1.1.0",
	    SRC_POLL, T0), SCHED_PUBLISHED);
	assert_int_equal(sched_trigger(s, "foo-recipe", "v1.2.0", "1.2.0",
	    SRC_POLL, T0), SCHED_QUEUED);
	/* A package named like the recipe id counts for nothing. */
	sched_pub_add(s, "hello", "9-1");
	assert_int_equal(sched_trigger(s, "hello", "v9", "9", SRC_POLL, T0),
	    SCHED_PUBLISHED);
	assert_string_equal(n.text, "4:foo-recipe:v1.1.0:1.1.0-1:;"
	    "4:hello:v9:9-1:;");
	sched_free(s);
}

static void
test_backoff_sequence(void **state)
{
	static const int64_t	 want[] = { 1, 5, 15, 60, 360, 1440, 1440 };
	struct sched		*s = mk(1, NULL);
	struct sched_job	*j;
	const struct sched_failure *f;
	int64_t			 now = T0, d;
	size_t			 i, n;

	for (i = 0; i < nitems(want); i++) {
		assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_POLL,
		    now), SCHED_QUEUED);
		j = sched_next(s, now);
		assert_non_null(j);
		d = sched_finish(s, j->j_id, 0, "/l/1.log", now);
		assert_int_equal(d, want[i] * 60 * S);
		f = sched_failures(s, &n);
		assert_int_equal(n, 1);
		assert_string_equal(f[0].f_key, "hello@1-1");
		assert_int_equal(f[0].f_count, i + 1);
		assert_int_equal(f[0].f_next_retry, now + d);
		/* Not strictly after next_retry: still backing off. */
		assert_int_equal(sched_trigger(s, "hello", "v1", "1",
		    SRC_POLL, now + d), SCHED_BACKOFF);
		assert_int_equal(sched_in_backoff(s, now + d - 1), 1);
		now += d + 1;
		assert_int_equal(sched_in_backoff(s, now), 0);
	}
	assert_int_equal(sched_failed(s), nitems(want));
	/* Success clears the record. */
	assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_POLL, now),
	    SCHED_QUEUED);
	j = sched_next(s, now);
	assert_int_equal(sched_finish(s, j->j_id, 1, NULL, now), 0);
	sched_failures(s, &n);
	assert_int_equal(n, 0);
	assert_int_equal(sched_succeeded(s), 1);
	assert_int_equal(sched_attempted(s), nitems(want) + 1);
	sched_free(s);
}

static void
test_backoff_keyed_by_version(void **state)
{
	struct sched		*s = mk(1, NULL);
	struct sched_job	*j;

	sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0);
	j = sched_next(s, T0);
	sched_finish(s, j->j_id, 0, NULL, T0);
	assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0),
	    SCHED_BACKOFF);
	assert_int_equal(sched_trigger(s, "hello", "v2", "2", SRC_POLL, T0),
	    SCHED_QUEUED);
	sched_free(s);
}

static void
test_failure_pruned_when_published(void **state)
{
	struct sched		*s = mk(1, NULL);
	struct sched_job	*j;
	size_t			 n;

	sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0);
	j = sched_next(s, T0);
	sched_finish(s, j->j_id, 0, NULL, T0);
	sched_failures(s, &n);
	assert_int_equal(n, 1);
	sched_pub_add(s, "hello", "1-1");
	sched_pub_final(s);
	sched_failures(s, &n);
	assert_int_equal(n, 0);
	sched_free(s);
}

static void
test_parallel_and_exclusive(void **state)
{
	struct sched		*s = mk(2, NULL);
	struct sched_job	*a, *b, *c;

	sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0);
	sched_trigger(s, "hello", "v2", "2", SRC_POLL, T0);
	sched_trigger(s, "libz", "v1.3", "1.3", SRC_POLL, T0);
	sched_trigger(s, "foo-recipe", "v1", "1", SRC_POLL, T0);
	a = sched_next(s, T0);
	b = sched_next(s, T0);
	assert_string_equal(a->j_recipe, "hello");
	assert_string_equal(a->j_version, "1-1");
	/* hello v2 waits for hello v1: libz overtakes it. */
	assert_string_equal(b->j_recipe, "libz");
	assert_null(sched_next(s, T0));		/* limit 2 */
	assert_true(sched_recipe_busy(s, "hello"));
	sched_finish(s, b->j_id, 1, NULL, T0);
	c = sched_next(s, T0);
	assert_string_equal(c->j_recipe, "foo-recipe");
	sched_finish(s, a->j_id, 1, NULL, T0);
	a = sched_next(s, T0);
	assert_string_equal(a->j_recipe, "hello");
	assert_string_equal(a->j_version, "2-1");
	assert_int_equal(TAILQ_FIRST(sched_running(s))->j_id, c->j_id);
	sched_free(s);
}

static void
test_fifo(void **state)
{
	struct sched		*s = mk(1, NULL);
	struct sched_job	*j;
	static const char *const order[] = { "libz", "hello", "foo-recipe" };
	size_t			 i;

	sched_trigger(s, "libz", "v1.5", "1.5", SRC_POLL, T0);
	sched_trigger(s, "hello", "v3", "3", SRC_WEBHOOK, T0);
	sched_trigger(s, "foo-recipe", "v1", "1", SRC_POLL, T0);
	for (i = 0; i < nitems(order); i++) {
		j = sched_next(s, T0);
		assert_non_null(j);
		assert_string_equal(j->j_recipe, order[i]);
		assert_null(sched_next(s, T0));
		sched_finish(s, j->j_id, 1, NULL, T0);
	}
	assert_null(sched_next(s, T0));
	sched_free(s);
}

static void
test_held_until_published_set(void **state)
{
	struct notes		 n;
	struct sched		*s = sched_new(1);
	struct sched_job	*j;

	n.text[0] = '\0';
	sched_set_note(s, note_cb, &n);
	sched_set_recipes(s, roster, nitems(roster));
	assert_false(sched_pub_ready(s));
	assert_int_equal(sched_trigger(s, "hello", "v1", "1", SRC_START, T0),
	    SCHED_QUEUED);
	assert_int_equal(sched_trigger(s, "hello", "v2", "2", SRC_START, T0),
	    SCHED_QUEUED);
	assert_null(sched_next(s, T0));
	sched_pub_reset(s);
	sched_pub_add(s, "hello", "1-1");
	assert_null(sched_next(s, T0));		/* set not final yet */
	sched_pub_final(s);
	j = sched_next(s, T0);
	assert_non_null(j);
	assert_string_equal(j->j_version, "2-1");
	assert_string_equal(n.text, "4:hello:v1:1-1:;");
	/* A new reset replaces the set only when final. */
	sched_pub_reset(s);
	sched_pub_add(s, "hello", "5-1");
	assert_true(sched_published(s, "hello", "1-1"));
	sched_pub_final(s);
	assert_false(sched_published(s, "hello", "1-1"));
	assert_true(sched_published(s, "hello", "5-1"));
	sched_free(s);
}

static void
test_reload_revalidates(void **state)
{
	static const char *const pk_new[] = { "libz" };
	struct sched_recipe	 r2[] = {
		{ "hello", "", 3, 1, pk_hello, 1 },	/* revision 1 -> 3 */
		{ "libz", "1.4", 2, 1, pk_new, 1 },	/* floor raised */
		{ "plain", "", 1, 0, pk_hello, 1 },
		{ "foo-recipe", "", 1, 0, pk_foo, 2 },	/* unwatched now */
	};
	struct notes		 n;
	struct sched		*s = mk(1, &n);
	struct sched_job	*j;

	sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0);
	sched_trigger(s, "libz", "v1.3", "1.3", SRC_POLL, T0);
	sched_trigger(s, "libz", "v1.5", "1.5", SRC_POLL, T0);
	sched_trigger(s, "foo-recipe", "v1", "1", SRC_POLL, T0);
	sched_set_recipes(s, r2, nitems(r2));
	assert_string_equal(n.text, "3:libz:v1.3:1.3-2:1.4;"
	    "2:foo-recipe:v1:1-1:;");
	assert_int_equal(sched_nqueued(s), 2);
	j = sched_next(s, T0);
	assert_string_equal(j->j_version, "1-3");
	sched_finish(s, j->j_id, 1, NULL, T0);
	j = sched_next(s, T0);
	assert_string_equal(j->j_version, "1.5-2");
	sched_finish(s, j->j_id, 1, NULL, T0);
	/* Removed from the roster. */
	sched_trigger(s, "hello", "v7", "7", SRC_POLL, T0);
	n.text[0] = '\0';
	sched_set_recipes(s, r2 + 1, 1);
	assert_string_equal(n.text, "1:hello:v7:7-3:;");
	assert_int_equal(sched_nqueued(s), 0);
	sched_free(s);
}

static void
test_stop(void **state)
{
	struct sched	*s = mk(1, NULL);

	sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0);
	sched_trigger(s, "libz", "v1.3", "1.3", SRC_POLL, T0);
	assert_int_equal(sched_stop(s), 2);
	assert_int_equal(sched_nqueued(s), 0);
	assert_null(sched_next(s, T0));
	assert_int_equal(sched_trigger(s, "hello", "v2", "2", SRC_POLL, T0),
	    SCHED_STOPPED);
	sched_free(s);
}

static void
test_ids_and_unknown_finish(void **state)
{
	struct sched		*s = mk(3, NULL);
	struct sched_job	*a, *b;

	sched_trigger(s, "hello", "v1", "1", SRC_POLL, T0);
	sched_trigger(s, "libz", "v1.3", "1.3", SRC_POLL, T0);
	a = sched_next(s, T0);
	b = sched_next(s, T0);
	assert_int_equal(a->j_id, 1);
	assert_int_equal(b->j_id, 2);
	assert_ptr_equal(sched_job(s, 2), b);
	assert_null(sched_job(s, 3));
	assert_int_equal(sched_finish(s, 99, 0, NULL, T0), 0);
	assert_int_equal(sched_failed(s), 0);
	assert_int_equal(sched_nrunning(s), 2);
	sched_free(s);
}

/* The polled commit rides along to the job; a newer poll of the same
 * tag while queued moves the build to the newer commit. */
static void
test_commit_pinned(void **state)
{
	struct sched		*s = mk(1, NULL);
	struct sched_job	*j;
	uint8_t			 a[SCHED_OID_LEN], b[SCHED_OID_LEN];

	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	assert_int_equal(sched_trigger_oid(s, "hello", "v1", "1", a, SRC_POLL,
	    T0), SCHED_QUEUED);
	assert_int_equal(sched_trigger_oid(s, "hello", "v1", "1", b, SRC_POLL,
	    T0), SCHED_QUEUED_DUP);
	/* Another tag of the same version does not move it. */
	assert_int_equal(sched_trigger_oid(s, "hello", "1", "1", a, SRC_POLL,
	    T0), SCHED_QUEUED_DUP);
	assert_int_equal(sched_trigger(s, "libz", "v1.2.13", "1.2.13",
	    SRC_POLL, T0), SCHED_QUEUED);
	j = sched_next(s, T0);
	assert_non_null(j);
	assert_string_equal(j->j_recipe, "hello");
	assert_true(j->j_has_oid);
	assert_memory_equal(j->j_oid, b, sizeof(b));
	sched_finish(s, j->j_id, 1, "", T0);
	j = sched_next(s, T0);
	assert_non_null(j);
	assert_string_equal(j->j_recipe, "libz");
	assert_false(j->j_has_oid);
	sched_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_steps),
		cmocka_unit_test(test_compose_and_queue),
		cmocka_unit_test(test_intake_drops),
		cmocka_unit_test(test_dedup_queued_running),
		cmocka_unit_test(test_dedup_by_package_names),
		cmocka_unit_test(test_backoff_sequence),
		cmocka_unit_test(test_backoff_keyed_by_version),
		cmocka_unit_test(test_failure_pruned_when_published),
		cmocka_unit_test(test_parallel_and_exclusive),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_held_until_published_set),
		cmocka_unit_test(test_reload_revalidates),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_ids_and_unknown_finish),
		cmocka_unit_test(test_commit_pinned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
