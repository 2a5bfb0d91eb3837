/*
 * test_signer_remote.c: the signer interface over a channel
 * (src/signer_remote.c).  The "parent" end of a SOCK_SEQPACKET pair is
 * written before sign() runs (the records wait in the socket), so the
 * test is single-threaded: answers, stale answers, other messages kept
 * with their fds or handled by the callback, refusals, forged or
 * misdirected signatures, malformed answers, end of file and timeout.
 */
#include "config.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"
#include "msg.h"
#include "msgtypes.h"
#include "sign.h"
#include "signer_remote.h"

struct fx {
	int		 sv[2];		/* [0] ours (the role), [1] parent */
	struct pm_key	 key;
	struct pm_key	 other;
	uint8_t		 digest[32];
	struct msg	 m;
	int		 handled;
};

static uint32_t	 last_id;	/* ids the module hands out, in order */

static int
setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));
	uint8_t		 seed[32];
	int		 i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, f->sv), 0);
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	assert_int_equal(key_from_seed(seed, &f->key, NULL), 0);
	seed[0] = 0xff;
	assert_int_equal(key_from_seed(seed, &f->other, NULL), 0);
	memset(f->digest, 0x5a, sizeof(f->digest));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	close(f->sv[0]);
	if (f->sv[1] != -1)
		close(f->sv[1]);
	key_free(&f->key);
	key_free(&f->other);
	free(f);
	return 0;
}

/* Queue a PM_SIGN_ANS for request `id` on the parent end. */
static void
put_answer(struct fx *f, uint32_t id, int ok, const struct pm_key *k,
    const uint8_t *digest, const char *error)
{
	struct msgbuf	 mb;
	uint8_t		 sig[64] = { 0 };

	if (k != NULL)
		key_sign(k, digest, 32, sig);
	msg_init(&mb, PM_SIGN_ANS, id);
	msg_put_u8(&mb, (uint8_t)ok);
	msg_put_fixed(&mb, sig, 64);
	msg_put_fixed(&mb, k != NULL ? k->pub : sig, 32);
	msg_put_str(&mb, error);
	assert_int_equal(msg_send(f->sv[1], &mb, -1, NULL), 0);
}

static void
put_simple(struct fx *f, uint16_t type, uint32_t id, uint64_t v, int fd)
{
	struct msgbuf	 mb;

	msg_init(&mb, type, id);
	msg_put_u64(&mb, v);
	assert_int_equal(msg_send(f->sv[1], &mb, fd, NULL), 0);
}

/* The PM_SIGN_REQ the parent end received. */
static void
get_request(struct fx *f, uint8_t kind, const char *subject,
    const char *key)
{
	char		*s = NULL, *k = NULL;
	uint8_t		 got_kind, dg[32];

	assert_int_equal(msg_recv(f->sv[1], &f->m, NULL), 1);
	assert_int_equal(f->m.m_hdr.type, PM_SIGN_REQ);
	assert_int_equal(f->m.m_hdr.id, last_id + 1);
	last_id = f->m.m_hdr.id;
	assert_int_equal(msg_get_u8(&f->m, &got_kind), 0);
	assert_int_equal(msg_get_str(&f->m, &s, PM_STR_MAX), 0);
	assert_int_equal(msg_get_str(&f->m, &k, PM_ID_MAX), 0);
	assert_int_equal(msg_get_fixed(&f->m, dg, 32), 0);
	assert_int_equal(msg_end(&f->m), 0);
	assert_int_equal(got_kind, kind);
	assert_string_equal(s, subject);
	assert_string_equal(k, key);
	assert_memory_equal(dg, f->digest, 32);
	free(s);
	free(k);
}

static int
sign(struct fx *f, struct signer *s, enum sign_kind kind, const char *subj,
    const char *key, uint8_t pub[32], struct buf *err)
{
	uint8_t	 sig[64];
	int	 rc;

	rc = s->sign(s, kind, subj, key, f->digest, sig, pub, err);
	if (rc == 0)
		assert_true(ed25519_verify(pub, f->digest, 32, sig));
	return rc;
}

static void
test_answer(void **state)
{
	struct fx			*f = *state;
	struct signer_remote_opts	 o = { f->sv[0], 0, f->key.pub, NULL,
					    NULL };
	struct signer			*s = signer_remote_new(&o);
	struct buf			 err = BUF_INIT;
	uint8_t				 pub[32];

	put_answer(f, last_id + 1, 1, &f->key, f->digest, "");
	assert_int_equal(sign(f, s, SIGN_PACKAGE, "libfoo", NULL, pub, &err),
	    0);
	assert_memory_equal(pub, f->key.pub, 32);
	get_request(f, SIGN_PACKAGE, "libfoo", "");
	/* A binary signature names its key. */
	put_answer(f, last_id + 1, 1, &f->key, f->digest, "");
	assert_int_equal(sign(f, s, SIGN_BINARY, "usr/bin/foo", "vendor",
	    pub, &err), 0);
	get_request(f, SIGN_BINARY, "usr/bin/foo", "vendor");
	assert_int_equal(err.len, 0);
	assert_int_equal(signer_remote_kept(s), 0);
	signer_remote_free(s);
	buf_free(&err);
}

static void
test_keep_and_next(void **state)
{
	struct fx			*f = *state;
	struct signer_remote_opts	 o = { f->sv[0], 0, NULL, NULL, NULL };
	struct signer			*s = signer_remote_new(&o);
	struct buf			 err = BUF_INIT;
	uint8_t				 pub[32];
	uint64_t			 v;
	int				 fd;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_not_equal(fd, -1);
	put_simple(f, PM_PING, 9, 1234, -1);
	put_answer(f, last_id + 77, 1, &f->key, f->digest, "");	/* stale */
	put_simple(f, PM_PUB_REQ, 42, 5678, fd);
	put_answer(f, last_id + 1, 1, &f->key, f->digest, "");
	close(fd);
	assert_int_equal(sign(f, s, SIGN_INDEX, "repo.json", NULL, pub, &err),
	    0);
	get_request(f, SIGN_INDEX, "repo.json", "");
	assert_int_equal(signer_remote_kept(s), 2);
	assert_int_equal(signer_remote_stale(s), 1);
	/* Kept in arrival order, payload and fd intact. */
	assert_int_equal(signer_remote_next(s, &f->m), 1);
	assert_int_equal(f->m.m_hdr.type, PM_PING);
	assert_int_equal(f->m.m_hdr.id, 9);
	assert_int_equal(f->m.m_fd, -1);
	assert_int_equal(msg_get_u64(&f->m, &v), 0);
	assert_int_equal(msg_end(&f->m), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(signer_remote_next(s, &f->m), 1);
	assert_int_equal(f->m.m_hdr.type, PM_PUB_REQ);
	assert_int_equal(f->m.m_hdr.id, 42);
	assert_int_not_equal(f->m.m_fd, -1);
	assert_int_equal(msg_get_u64(&f->m, &v), 0);
	assert_int_equal(v, 5678);
	msg_release(&f->m);
	assert_int_equal(signer_remote_next(s, &f->m), 0);
	assert_int_equal(signer_remote_kept(s), 0);
	/* Kept messages never taken have their fds closed by free. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	put_simple(f, PM_PUB_REQ, 43, 1, fd);
	put_answer(f, last_id + 1, 1, &f->key, f->digest, "");
	assert_int_equal(sign(f, s, SIGN_INDEX, "repo.json", NULL, pub, &err),
	    0);
	get_request(f, SIGN_INDEX, "repo.json", "");
	assert_int_equal(signer_remote_kept(s), 1);
	signer_remote_free(s);
	close(fd);
	buf_free(&err);
}

static int
handle(void *arg, struct msg *m)
{
	struct fx	*f = arg;

	f->handled++;
	if (m->m_hdr.type == PM_PING)
		return SR_HANDLED;
	if (m->m_hdr.type == PM_SHUTDOWN)
		return SR_ABORT;
	return SR_KEEP;
}

static void
test_callback(void **state)
{
	struct fx			*f = *state;
	struct signer_remote_opts	 o = { f->sv[0], 0, NULL, handle, f };
	struct signer			*s = signer_remote_new(&o);
	struct buf			 err = BUF_INIT;
	uint8_t				 pub[32];

	put_simple(f, PM_PING, 1, 1, -1);
	put_simple(f, PM_CONF_PUBLISHER, 2, 2, -1);
	put_answer(f, last_id + 1, 1, &f->key, f->digest, "");
	assert_int_equal(sign(f, s, SIGN_INDEX, "repo.json", NULL, pub, &err),
	    0);
	get_request(f, SIGN_INDEX, "repo.json", "");
	assert_int_equal(f->handled, 2);
	assert_int_equal(signer_remote_kept(s), 1);
	put_simple(f, PM_SHUTDOWN, 3, 3, -1);
	assert_int_equal(sign(f, s, SIGN_INDEX, "repo.json", NULL, pub, &err),
	    -1);
	get_request(f, SIGN_INDEX, "repo.json", "");
	assert_string_equal(buf_str(&err), "gave up waiting for the signer: "
	    "unknown (3) could not be handled");
	signer_remote_free(s);
	buf_free(&err);
}

static void
expect_error(struct fx *f, struct signer *s, const char *want)
{
	struct buf	 err = BUF_INIT;
	uint8_t		 pub[32];

	assert_int_equal(sign(f, s, SIGN_PACKAGE, "libfoo", NULL, pub, &err),
	    -1);
	get_request(f, SIGN_PACKAGE, "libfoo", "");
	assert_string_equal(buf_str(&err), want);
	buf_free(&err);
}

static void
test_bad_answers(void **state)
{
	struct fx			*f = *state;
	struct signer_remote_opts	 o = { f->sv[0], 0, f->key.pub, NULL,
					    NULL };
	struct signer			*s = signer_remote_new(&o);
	struct msgbuf			 mb;
	uint8_t				 wrong[32];
	char				 want[512], a[65], b[65];

	put_answer(f, last_id + 1, 0, NULL, NULL, "no such job 7");
	expect_error(f, s, "package signature for libfoo refused by the "
	    "signer: no such job 7");
	/* A signature over another digest. */
	memset(wrong, 0x11, sizeof(wrong));
	put_answer(f, last_id + 1, 1, &f->key, wrong, "");
	expect_error(f, s, "package signature for libfoo from the signer "
	    "does not verify");
	/* A valid signature by a key other than the expected one. */
	put_answer(f, last_id + 1, 1, &f->other, f->digest, "");
	fingerprint_hex(f->other.pub, a);
	fingerprint_hex(f->key.pub, b);
	snprintf(want, sizeof(want), "package signature for libfoo made "
	    "with key %s, expected %s", a, b);
	expect_error(f, s, want);
	/* Truncated, and a bad ok flag. */
	msg_init(&mb, PM_SIGN_ANS, last_id + 1);
	msg_put_u8(&mb, 1);
	assert_int_equal(msg_send(f->sv[1], &mb, -1, NULL), 0);
	expect_error(f, s, "package signature for libfoo: malformed answer: "
	    "truncated fixed field");
	put_answer(f, last_id + 1, 2, &f->key, f->digest, "");
	expect_error(f, s, "package signature for libfoo: malformed answer: "
	    "bad ok flag");
	signer_remote_free(s);
}

static void
test_timeout_eof(void **state)
{
	struct fx			*f = *state;
	struct signer_remote_opts	 o = { f->sv[0], 150, NULL, NULL,
					    NULL };
	struct signer			*s = signer_remote_new(&o);
	struct buf			 err = BUF_INIT;
	uint8_t				 pub[32];

	expect_error(f, s, "no answer from the signer within 150 ms");
	/* The late answer is dropped by the next request. */
	put_answer(f, last_id, 1, &f->key, f->digest, "");
	put_answer(f, last_id + 1, 1, &f->key, f->digest, "");
	assert_int_equal(sign(f, s, SIGN_PACKAGE, "libfoo", NULL, pub, &err),
	    0);
	get_request(f, SIGN_PACKAGE, "libfoo", "");
	assert_int_equal(signer_remote_stale(s), 1);
	assert_int_equal(s->sign(s, SIGN_PACKAGE, NULL, NULL, f->digest,
	    (uint8_t [64]){ 0 }, pub, &err), -1);
	assert_string_equal(buf_str(&err), "package signature: subject or "
	    "key name missing or too long");
	buf_reset(&err);
	/* The parent stops sending: end of file while waiting. */
	assert_int_equal(shutdown(f->sv[1], SHUT_WR), 0);
	assert_int_equal(sign(f, s, SIGN_PACKAGE, "libfoo", NULL, pub, &err),
	    -1);
	get_request(f, SIGN_PACKAGE, "libfoo", "");
	assert_string_equal(buf_str(&err), "the channel closed while waiting "
	    "for the signer");
	buf_reset(&err);
	close(f->sv[1]);
	f->sv[1] = -1;
	assert_int_equal(sign(f, s, SIGN_PACKAGE, "libfoo", NULL, pub, &err),
	    -1);
	last_id++;
	assert_string_equal(buf_str(&err), "send message PM_SIGN_REQ (400): "
	    "Broken pipe");
	signer_remote_free(s);
	buf_free(&err);
}

int
main(void)
{
	static const struct msg_typename names[] = {
		{ PM_SIGN_REQ, "PM_SIGN_REQ" }
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_and_next, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_callback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_eof, setup,
		    teardown),
	};

	crypto_init();
	msg_register_names(names, nitems(names));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
