/*
 * test_status.c: the exact /status bytes (idle with null forms, one
 * build in flight, several in flight, failures, poll and upload
 * additions, HTML-safe escaping), RFC 3339 text of the clock module and
 * the test clock file, and the /metrics text, checked line by line and
 * with `promtool check metrics` when promtool is installed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "msgtypes.h"
#include "pmsched.h"
#include "status.h"

#define S	INT64_C(1000000000)
#define T0	(INT64_C(1778164331) * S)	/* 2026-05-07T14:32:11Z */

static const char *const pk_figlet[] = { "figlet" };
static const char *const pk_hello[] = { "hello" };
static const struct sched_recipe roster[] = {
	{ "figlet", "", 1, 1, pk_figlet, 1 },
	{ "hello", "", 1, 1, pk_hello, 1 },
};
static const char *const ids[] = { "figlet", "hello" };

struct fix {
	struct status	 st;
	struct sched	*s;
	struct buf	 out;
};

static int
setup(void **state)
{
	struct fix	*f = xcalloc(1, sizeof(*f));

	status_init(&f->st, "peios-build-1");
	status_set_recipes(&f->st, ids, nitems(ids));
	f->s = sched_new(2);
	sched_set_recipes(f->s, roster, nitems(roster));
	sched_pub_reset(f->s);
	sched_pub_final(f->s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	status_free(&f->st);
	sched_free(f->s);
	buf_free(&f->out);
	free(f);
	return 0;
}

static void
test_rfc3339(void **state)
{
	char	 t[CLOCK_FMT_MAX];
	int64_t	 ns;

	clock_fmt(T0, t);
	assert_string_equal(t, "2026-05-07T14:32:11Z");
	clock_fmt(T0 + 123456789, t);
	assert_string_equal(t, "2026-05-07T14:32:11.123456789Z");
	clock_fmt(T0 + 500000000, t);
	assert_string_equal(t, "2026-05-07T14:32:11.5Z");
	clock_fmt(T0 + 1000, t);
	assert_string_equal(t, "2026-05-07T14:32:11.000001Z");
	clock_fmt(0, t);
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	assert_int_equal(clock_parse(" 1778164331\n", &ns), 0);
	assert_int_equal(ns, T0);
	assert_int_equal(clock_parse("1778164331.25", &ns), 0);
	assert_int_equal(ns, T0 + 250000000);
	assert_int_equal(clock_parse("", &ns), -1);
	assert_int_equal(clock_parse("12x", &ns), -1);
	assert_int_equal(clock_parse("-5", &ns), -1);
}

static void
test_clock_file(void **state)
{
	char	 path[] = "/tmp/test_status.clock.XXXXXX";
	int	 fd = mkstemp(path);
	int64_t	 mono;

	assert_true(fd != -1);
	assert_int_equal(write(fd, "1778164331\n", 11), 11);
	setenv("PEIPKG_TEST_CLOCK_FILE", path, 1);
	assert_int_equal(pm_now(), 1778164331);
	assert_int_equal(pm_now_ns(), T0);
	/* Re-read on every call. */
	assert_int_equal(pwrite(fd, "1778164391 \n", 12, 0), 12);
	assert_int_equal(pm_now(), 1778164391);
	/* A malformed file falls back to the real clock. */
	assert_int_equal(pwrite(fd, "soon        ", 12, 0), 12);
	assert_true(pm_now() > 1700000000 && pm_now() != 1778164391);
	unsetenv("PEIPKG_TEST_CLOCK_FILE");
	close(fd);
	unlink(path);
	mono = pm_mono_ns();
	assert_true(pm_mono_ns() >= mono);
}

static const char idle_json[] =
"{\n"
"  \"farm_id\": \"peios-build-1\",\n"
"  \"recipes\": [\n"
"    \"figlet\",\n"
"    \"hello\"\n"
"  ],\n"
"  \"builds_attempted\": 0,\n"
"  \"builds_succeeded\": 0,\n"
"  \"in_flight\": null,\n"
"  \"failures\": null,\n"
"  \"builds_failed\": 0,\n"
"  \"builds_queued\": 0,\n"
"  \"in_flight_all\": [],\n"
"  \"polls\": {},\n"
"  \"upload\": null,\n"
"  \"child_restarts\": {\n"
"    \"http\": 0,\n"
"    \"poller\": 0,\n"
"    \"signer\": 0,\n"
"    \"publisher\": 0\n"
"  },\n"
"  \"ipc_protocol_errors\": 0,\n"
"  \"upstream_tags_moved\": 0\n"
"}\n";

static void
test_idle(void **state)
{
	struct fix	*f = *state;

	status_json(&f->st, f->s, &f->out);
	assert_string_equal(buf_str(&f->out), idle_json);
}

static void
test_empty_roster(void **state)
{
	struct fix	*f = *state;

	status_set_recipes(&f->st, NULL, 0);
	status_json(&f->st, f->s, &f->out);
	assert_non_null(strstr(buf_str(&f->out),
	    "  \"recipes\": [],\n  \"builds_attempted\": 0,\n"));
}

static const char busy_json[] =
"{\n"
"  \"farm_id\": \"peios-build-1\",\n"
"  \"recipes\": [\n"
"    \"figlet\",\n"
"    \"hello\"\n"
"  ],\n"
"  \"builds_attempted\": 3,\n"
"  \"builds_succeeded\": 0,\n"
"  \"in_flight\": {\n"
"    \"recipe\": \"hello\",\n"
"    \"version\": \"2.12.1-1\",\n"
"    \"started_at\": \"2026-05-07T14:33:11Z\"\n"
"  },\n"
"  \"failures\": {\n"
"    \"figlet@2.2.5-1\": {\n"
"      \"failures\": 1,\n"
"      \"next_retry\": \"2026-05-07T14:33:11Z\",\n"
"      \"log\": \"/var/lib/peipkg-manager/logs/figlet/2.2.5-1/1.log\"\n"
"    }\n"
"  },\n"
"  \"builds_failed\": 1,\n"
"  \"builds_queued\": 0,\n"
"  \"in_flight_all\": [\n"
"    {\n"
"      \"recipe\": \"hello\",\n"
"      \"version\": \"2.12.1-1\",\n"
"      \"started_at\": \"2026-05-07T14:33:11Z\",\n"
"      \"tag\": \"v2.12.1\",\n"
"      \"job\": 2\n"
"    },\n"
"    {\n"
"      \"recipe\": \"figlet\",\n"
"      \"version\": \"2.2.6-1\",\n"
"      \"started_at\": \"2026-05-07T14:33:12.25Z\",\n"
"      \"tag\": \"2.2.6\\u003cb\\u003e\",\n"
"      \"job\": 3\n"
"    }\n"
"  ],\n"
"  \"polls\": {\n"
"    \"figlet\": {\n"
"      \"last_poll\": \"2026-05-07T14:32:11Z\",\n"
"      \"ok\": false,\n"
"      \"error\": \"ls-remote: \\u0026 \\\"timeout\\\"\",\n"
"      \"last_success\": null\n"
"    },\n"
"    \"hello\": {\n"
"      \"last_poll\": \"2026-05-07T14:32:11Z\",\n"
"      \"ok\": true,\n"
"      \"error\": \"\",\n"
"      \"last_success\": \"2026-05-07T14:32:11Z\"\n"
"    }\n"
"  },\n"
"  \"upload\": {\n"
"    \"state\": \"failed\",\n"
"    \"error\": \"rclone sync: exit status 1\",\n"
"    \"next_retry\": \"2026-05-07T14:42:11Z\",\n"
"    \"index_version\": 7\n"
"  },\n"
"  \"child_restarts\": {\n"
"    \"http\": 2,\n"
"    \"poller\": 0,\n"
"    \"signer\": 0,\n"
"    \"publisher\": 1\n"
"  },\n"
"  \"ipc_protocol_errors\": 1,\n"
"  \"upstream_tags_moved\": 2\n"
"}\n";

/* figlet 2.2.5-1 failed once, hello and figlet 2.2.6-1 are running. */
static void
make_busy(struct fix *f)
{
	struct sched_job	*j;

	sched_trigger(f->s, "figlet", "2.2.5", "2.2.5", SRC_POLL, T0);
	j = sched_next(f->s, T0);
	sched_finish(f->s, j->j_id, 0,
	    "/var/lib/peipkg-manager/logs/figlet/2.2.5-1/1.log", T0);
	sched_trigger(f->s, "hello", "v2.12.1", "2.12.1", SRC_POLL, T0);
	sched_trigger(f->s, "figlet", "2.2.6<b>", "2.2.6", SRC_POLL, T0);
	sched_next(f->s, T0 + 60 * S);
	sched_next(f->s, T0 + 61 * S + 250000000);
	status_poll_done(&f->st, "figlet", 0, "ls-remote: & \"timeout\"", T0);
	status_poll_done(&f->st, "hello", 1, "", T0);
	status_poll_done(&f->st, "gone", 1, "", T0);
	f->st.up_have = 1;
	f->st.up_state = UPLOAD_FAILED;
	free(f->st.up_error);
	f->st.up_error = xstrdup("rclone sync: exit status 1");
	f->st.up_next_retry = T0 / S + 600;
	f->st.up_index_version = 7;
	f->st.restarts[ROLE_HTTP] = 2;
	f->st.restarts[ROLE_PUBLISHER] = 1;
	f->st.ipc_errors = 1;
	f->st.tags_moved = 2;
}

static void
test_busy(void **state)
{
	struct fix	*f = *state;

	make_busy(f);
	status_json(&f->st, f->s, &f->out);
	assert_string_equal(buf_str(&f->out), busy_json);
}

static void
test_polls_survive_reload(void **state)
{
	static const char *const ids2[] = { "hello", "zeta" };
	struct fix	*f = *state;

	status_poll_done(&f->st, "hello", 0, "boom", T0);
	status_poll_done(&f->st, "hello", 0, "boom", T0 + S);
	status_set_recipes(&f->st, ids2, 2);
	assert_int_equal(f->st.nrecipes, 2);
	assert_int_equal(f->st.polls[0].p_errors, 2);
	assert_string_equal(f->st.polls[0].p_error, "boom");
	assert_false(f->st.polls[1].p_have);
	assert_null(status_poll(&f->st, "figlet"));
}

static void
test_histogram(void **state)
{
	struct fix	*f = *state;
	struct buf	*b = &f->out;

	status_observe(&f->st.publish_dur, 0.05);
	status_observe(&f->st.publish_dur, 0.5);
	status_observe(&f->st.publish_dur, 1000);
	status_metrics(&f->st, f->s, T0, b);
	assert_non_null(strstr(buf_str(b),
	    "# HELP peipkg_publish_duration_seconds Time the publisher took "
	    "for one build's packages.\n"
	    "# TYPE peipkg_publish_duration_seconds histogram\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"0.1\"} 1\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"0.5\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"1\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"2.5\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"5\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"10\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"30\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"60\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"300\"} 2\n"
	    "peipkg_publish_duration_seconds_bucket{le=\"+Inf\"} 3\n"
	    "peipkg_publish_duration_seconds_sum 1000.55\n"
	    "peipkg_publish_duration_seconds_count 3\n"));
}

static void
expect_line(const char *doc, const char *line)
{
	char	*l = xasprintf("\n%s\n", line);

	if (strstr(doc, l) == NULL)
		fail_msg("metrics: missing line \"%s\" in\n%s", line, doc);
	free(l);
}

static void
test_metrics_lines(void **state)
{
	struct fix	*f = *state;
	const char	*d;
	struct buf	 lab = BUF_INIT;

	make_busy(f);
	f->st.webhooks[FORGE_GITHUB][HOOKR_ACCEPTED] = 4;
	f->st.webhooks[FORGE_GITEA][HOOKR_BAD_SIGNATURE] = 2;
	status_metrics(&f->st, f->s, T0 + 30 * S, &f->out);
	d = buf_str(&f->out);
	assert_true(str_has_prefix(d,
	    "# HELP peipkg_builds_attempted_total Builds started since the "
	    "daemon started.\n# TYPE peipkg_builds_attempted_total counter\n"
	    "peipkg_builds_attempted_total 3\n"));
	expect_line(d, "peipkg_builds_succeeded_total 0");
	expect_line(d, "peipkg_builds_failed_total 1");
	expect_line(d, "peipkg_builds_in_flight 2");
	expect_line(d, "# TYPE peipkg_builds_in_flight gauge");
	expect_line(d, "peipkg_builds_in_backoff 1");
	expect_line(d, "peipkg_recipe_last_successful_poll_timestamp_seconds"
	    "{recipe=\"hello\"} 1778164331");
	assert_null(strstr(d, "timestamp_seconds{recipe=\"figlet\"}"));
	expect_line(d, "peipkg_recipe_poll_errors_total{recipe=\"figlet\"} 1");
	expect_line(d, "peipkg_recipe_poll_errors_total{recipe=\"hello\"} 0");
	expect_line(d, "peipkg_webhooks_total{endpoint=\"github\","
	    "result=\"accepted\"} 4");
	expect_line(d, "peipkg_webhooks_total{endpoint=\"gitea\","
	    "result=\"bad_signature\"} 2");
	expect_line(d, "peipkg_webhooks_total{endpoint=\"gitlab\","
	    "result=\"duplicate\"} 0");
	expect_line(d, "peipkg_build_duration_seconds_bucket{le=\"+Inf\"} 0");
	expect_line(d, "peipkg_tag_to_published_seconds_count 0");
	expect_line(d, "peipkg_child_restarts_total{role=\"http\"} 2");
	expect_line(d, "peipkg_child_restarts_total{role=\"publisher\"} 1");
	expect_line(d, "peipkg_ipc_protocol_errors_total 1");
	expect_line(d, "peipkg_upstream_tags_moved_total 2");
	/* Back-off over: the gauge drops. */
	buf_reset(&f->out);
	status_metrics(&f->st, f->s, T0 + 61 * S, &f->out);
	expect_line(buf_str(&f->out), "peipkg_builds_in_backoff 0");
	status_label(&lab, "a\\b\"c\nd");
	assert_string_equal(buf_str(&lab), "a\\\\b\\\"c\\nd");
	buf_free(&lab);
}

static void
test_promtool(void **state)
{
	struct fix	*f = *state;
	char		 path[] = "/tmp/test_status.metrics.XXXXXX";
	char		*cmd;
	int		 fd, rc;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		skip();		/* promtool absent (Debian package prometheus) */
		return;
	}
	make_busy(f);
	status_observe(&f->st.build_dur, 75);
	status_metrics(&f->st, f->s, T0, &f->out);
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, f->out.data, f->out.len),
	    (ssize_t)f->out.len);
	close(fd);
	cmd = xasprintf("promtool check metrics <%s", path);
	rc = system(cmd);
	free(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_clock_file),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_roster, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_polls_survive_reload,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_metrics_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_promtool, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
