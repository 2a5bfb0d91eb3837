/*
 * test_signer_policy.c: what the signer agrees to sign
 * (src/signer_policy.c): package signatures once per declared package of
 * a running job, binary signatures once per granted (path, key), index
 * signatures for the publisher only, job revocation, and the exact
 * refusal reasons.
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

#include "msgtypes.h"
#include "sign.h"
#include "signer_policy.h"

static char *pkgs[] = { "libfoo", "libfoo-dev" };
static char *paths[] = { "usr/bin/foo", "usr/lib/foo.so", "usr/bin/foo" };
static char *keys[] = { "secureboot", "secureboot", "vendor" };

static int
setup(void **state)
{
	struct signer_policy	*sp = xcalloc(1, sizeof(*sp));
	struct buf		 err = BUF_INIT;

	sp_init(sp);
	assert_int_equal(sp_job_add(sp, 7, "libfoo", "1.2.3-1", pkgs, 2,
	    paths, keys, 3, &err), 0);
	assert_int_equal(sp_job_add(sp, 8, "hello", "0.1-1",
	    (char *[]){ "hello" }, 1, NULL, NULL, 0, &err), 0);
	assert_int_equal(err.len, 0);
	*state = sp;
	return 0;
}

static int
teardown(void **state)
{
	sp_free(*state);
	free(*state);
	return 0;
}

/*
 * One request; returns the decision and leaves the reason in *reason
 * (freed by the caller).  Commits a granted request, as the signer does
 * after signing.
 */
static int
ask(struct signer_policy *sp, int origin, uint32_t job, int kind,
    const char *subject, const char *key, struct buf *reason)
{
	struct sp_request	 rq = { origin, job, kind, subject, key };
	struct sp_ticket	 t;

	buf_reset(reason);
	if (sp_check(sp, &rq, &t, reason) == -1)
		return -1;
	sp_commit(sp, &t);
	return 0;
}

static void
refused(struct signer_policy *sp, int origin, uint32_t job, int kind,
    const char *subject, const char *key, const char *want)
{
	struct buf	 r = BUF_INIT;

	assert_int_equal(ask(sp, origin, job, kind, subject, key, &r), -1);
	assert_string_equal(buf_str(&r), want);
	buf_free(&r);
}

static void
granted(struct signer_policy *sp, int origin, uint32_t job, int kind,
    const char *subject, const char *key)
{
	struct buf	 r = BUF_INIT;

	assert_int_equal(ask(sp, origin, job, kind, subject, key, &r), 0);
	assert_int_equal(r.len, 0);
	buf_free(&r);
}

static void
test_package_once(void **state)
{
	struct signer_policy	*sp = *state;

	granted(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo", "");
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo", "",
	    "package \"libfoo\" already signed for job 7");
	granted(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo-dev", "");
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo-dev", "",
	    "package \"libfoo-dev\" already signed for job 7");
	/* Another job's packages are independent. */
	granted(sp, ROLE_WORKER, 8, SIGN_PACKAGE, "hello", "");
	assert_int_equal(sp->sp_issued[SIGN_PACKAGE], 3);
	assert_int_equal(sp->sp_issued_total, 3);
	assert_int_equal(sp->sp_refused, 2);
}

static void
test_package_refusals(void **state)
{
	struct signer_policy	*sp = *state;

	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "hello", "",
	    "package \"hello\" not declared by the job");
	refused(sp, ROLE_WORKER, 8, SIGN_PACKAGE, "libfoo", "",
	    "package \"libfoo\" not declared by the job");
	refused(sp, ROLE_WORKER, 99, SIGN_PACKAGE, "libfoo", "",
	    "no such job 99");
	refused(sp, ROLE_WORKER, 0, SIGN_PACKAGE, "libfoo", "",
	    "no such job 0");
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo", "secureboot",
	    "package signatures use the package key, not key "
	    "\"secureboot\"");
	/* Prefix and case do not match. */
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfo", "",
	    "package \"libfo\" not declared by the job");
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "LIBFOO", "",
	    "package \"LIBFOO\" not declared by the job");
	refused(sp, ROLE_PUBLISHER, 0, SIGN_PACKAGE, "libfoo", "",
	    "package signing requested by a process other than a build "
	    "worker");
	refused(sp, ROLE_PUBLISHER, 7, SIGN_PACKAGE, "libfoo", "",
	    "package signing requested by a process other than a build "
	    "worker");
	/* None of that used up the real grant. */
	granted(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo", "");
	assert_int_equal(sp->sp_refused, 9);
}

static void
test_binary(void **state)
{
	struct signer_policy	*sp = *state;

	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/lib/foo.so", "vendor",
	    "key \"vendor\" not granted for path usr/lib/foo.so");
	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/bin/bar", "secureboot",
	    "key \"secureboot\" not granted for path usr/bin/bar");
	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/bin/foo", "",
	    "binary signature for usr/bin/foo without a key name");
	refused(sp, ROLE_WORKER, 8, SIGN_BINARY, "usr/bin/foo", "secureboot",
	    "key \"secureboot\" not granted for path usr/bin/foo");
	granted(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/bin/foo", "secureboot");
	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/bin/foo", "secureboot",
	    "path usr/bin/foo already signed with key \"secureboot\" for "
	    "job 7");
	/* The same path with its other granted key is a separate grant. */
	granted(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/bin/foo", "vendor");
	granted(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/lib/foo.so",
	    "secureboot");
	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/lib/foo.so",
	    "secureboot", "path usr/lib/foo.so already signed with key "
	    "\"secureboot\" for job 7");
	refused(sp, ROLE_PUBLISHER, 0, SIGN_BINARY, "usr/bin/foo", "vendor",
	    "binary signing requested by a process other than a build "
	    "worker");
	/* Binary grants do not sign packages and vice versa. */
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "usr/bin/foo", "",
	    "package \"usr/bin/foo\" not declared by the job");
	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "libfoo", "secureboot",
	    "key \"secureboot\" not granted for path libfoo");
	assert_int_equal(sp->sp_issued[SIGN_BINARY], 3);
}

static void
test_index(void **state)
{
	struct signer_policy	*sp = *state;
	int			 i;

	/* Every publish signs the three documents again: no limit. */
	for (i = 0; i < 3; i++) {
		granted(sp, ROLE_PUBLISHER, 0, SIGN_INDEX, "repo.json", "");
		granted(sp, ROLE_PUBLISHER, 0, SIGN_INDEX,
		    "index/active.json", "");
		granted(sp, ROLE_PUBLISHER, 0, SIGN_INDEX,
		    "index/archive.json", "");
	}
	assert_int_equal(sp->sp_issued[SIGN_INDEX], 9);
	refused(sp, ROLE_WORKER, 7, SIGN_INDEX, "repo.json", "",
	    "index signing requested by a worker");
	refused(sp, ROLE_WORKER, 0, SIGN_INDEX, "index/active.json", "",
	    "index signing requested by a worker");
	refused(sp, ROLE_HTTP, 0, SIGN_INDEX, "repo.json", "",
	    "index signing requested by a process other than the publisher");
	refused(sp, ROLE_PUBLISHER, 0, SIGN_INDEX, "index/other.json", "",
	    "index subject \"index/other.json\" is not a repository "
	    "document");
	refused(sp, ROLE_PUBLISHER, 0, SIGN_INDEX, "/repo.json", "",
	    "index subject \"/repo.json\" is not a repository document");
	refused(sp, ROLE_PUBLISHER, 0, SIGN_INDEX, "repo.json", "vendor",
	    "index signatures use the repository key, not key \"vendor\"");
	refused(sp, ROLE_PUBLISHER, 0, 9, "repo.json", "",
	    "unknown signature kind 9");
	refused(sp, ROLE_WORKER, 7, 0, "libfoo", "",
	    "unknown signature kind 0");
	assert_true(sp_index_subject("index/archive.json"));
	assert_false(sp_index_subject("index/archive.json.sig"));
}

static void
test_revocation(void **state)
{
	struct signer_policy	*sp = *state;

	assert_int_equal(sp_job_end(sp, 7), 0);
	refused(sp, ROLE_WORKER, 7, SIGN_PACKAGE, "libfoo", "",
	    "no such job 7");
	refused(sp, ROLE_WORKER, 7, SIGN_BINARY, "usr/bin/foo", "secureboot",
	    "no such job 7");
	assert_int_equal(sp_job_end(sp, 7), -1);
	assert_null(sp_job_find(sp, 7));
	/* Job 8 is untouched. */
	granted(sp, ROLE_WORKER, 8, SIGN_PACKAGE, "hello", "");
	assert_int_equal(sp->sp_njobs, 1);
}

static void
test_announce(void **state)
{
	struct signer_policy	*sp = *state;
	struct buf		 err = BUF_INIT;

	granted(sp, ROLE_WORKER, 8, SIGN_PACKAGE, "hello", "");
	/* Announcing a job again keeps its state (no second signature). */
	assert_int_equal(sp_job_add(sp, 8, "hello", "0.1-1",
	    (char *[]){ "hello" }, 1, NULL, NULL, 0, &err), -1);
	assert_string_equal(buf_str(&err), "job 8 is already announced");
	refused(sp, ROLE_WORKER, 8, SIGN_PACKAGE, "hello", "",
	    "package \"hello\" already signed for job 8");
	buf_reset(&err);
	assert_int_equal(sp_job_add(sp, 0, "x", "1", NULL, 0, NULL, NULL, 0,
	    &err), -1);
	assert_string_equal(buf_str(&err), "job id 0 is not a job");
	buf_reset(&err);
	assert_int_equal(sp_job_add(sp, 9, "x", "1", (char *[]){ "" }, 1,
	    NULL, NULL, 0, &err), -1);
	assert_string_equal(buf_str(&err), "job 9: empty package name");
	buf_reset(&err);
	assert_int_equal(sp_job_add(sp, 9, "x", "1", NULL, 0,
	    (char *[]){ "usr/bin/x" }, (char *[]){ "" }, 1, &err), -1);
	assert_string_equal(buf_str(&err), "job 9: [[sign]] grant 0 has an "
	    "empty path or key name");
	assert_null(sp_job_find(sp, 9));
	/* A job with nothing to sign gets nothing. */
	assert_int_equal(sp_job_add(sp, 10, "data", "1", NULL, 0, NULL, NULL,
	    0, NULL), 0);
	refused(sp, ROLE_WORKER, 10, SIGN_PACKAGE, "data", "",
	    "package \"data\" not declared by the job");
	buf_free(&err);
}

static void
test_uncommitted(void **state)
{
	struct signer_policy	*sp = *state;
	struct sp_request	 rq = { ROLE_WORKER, 7, SIGN_BINARY,
				    "usr/bin/foo", "vendor" };
	struct sp_ticket	 t;
	struct buf		 r = BUF_INIT;

	/* Checked but not committed (the key was missing): still usable. */
	assert_int_equal(sp_check(sp, &rq, &t, &r), 0);
	sp_count_refusal(sp);
	assert_int_equal(sp_check(sp, &rq, &t, &r), 0);
	sp_commit(sp, &t);
	assert_int_equal(sp_check(sp, &rq, &t, &r), -1);
	assert_string_equal(buf_str(&r), "path usr/bin/foo already signed "
	    "with key \"vendor\" for job 7");
	assert_int_equal(sp->sp_refused, 2);
	assert_int_equal(sp->sp_issued_total, 1);
	buf_free(&r);
}

static void
test_jobs_max(void **state)
{
	struct signer_policy	*sp = *state;
	struct buf		 err = BUF_INIT;
	uint32_t		 id;

	for (id = 100; sp->sp_njobs < SP_JOBS_MAX; id++)
		assert_int_equal(sp_job_add(sp, id, "r", "1", NULL, 0, NULL,
		    NULL, 0, &err), 0);
	assert_int_equal(sp_job_add(sp, id, "r", "1", NULL, 0, NULL, NULL, 0,
	    &err), -1);
	assert_non_null(strstr(buf_str(&err), "more than 4096 jobs"));
	assert_int_equal(sp_job_end(sp, 100), 0);
	assert_int_equal(sp_job_add(sp, id, "r", "1", NULL, 0, NULL, NULL, 0,
	    NULL), 0);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_package_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_package_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_announce, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_uncommitted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_jobs_max, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
