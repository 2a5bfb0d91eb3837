/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * signer.c: the signer role (`peipkg-manager -P signer`), the only
 * process that ever holds private key material (doc/design.md,
 * RELIABILITY.md §2.9).
 *
 * The parent starts it last, after every other role exists, so no
 * process forked from it shares key pages.  Start-up, before the event
 * loop, reading fd 3 (PM_CHAN_FD) with blocking receives:
 *	PM_CONF_ROLE; PM_CONF_KEY x n, each with the key file as a passed
 *	fd opened by the parent (the parent never reads key bytes): read it
 *	(bounded) into a locked, non-dumpable page, parse it, wipe the
 *	bytes, close the fd; PM_CONF_KEYS_END.
 * Then role_run(): PM_SIGNER_KEYS (every name and public key), the
 * sandbox (role user, chroot to the empty directory, seccomp: the
 * channel, memory, clocks, exit; no open, no socket, no exec, no fork),
 * PM_READY, and from then on only PM_SIGN_JOB / PM_SIGN_JOB_END /
 * PM_SIGN_RELAY, answered with PM_SIGN_ANS as signer_policy.c decides.
 *
 * Key protection: the process is non-dumpable with RLIMIT_CORE 0 from
 * its first instruction here; key structures live in one mlock()ed
 * MADV_DONTDUMP mapping; OpenSSL's private-key copies go to its secure
 * heap (also locked and excluded from dumps) when it can be set up.
 * Every signature is logged (INFO "signature issued": job, kind,
 * subject, key, digest, fingerprint, running count); every refusal is
 * logged (WARN "signature refused" with the reason).
 *
 * Trust: the parent is trusted (a malformed message ends the role);
 * the kind, subject and key name of a relayed request come from a build
 * worker or the publisher and are only compared by the policy.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"
#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "role.h"
#include "sign.h"
#include "signer_policy.h"

#define SIGNER_KEYS_MAX		64
#define SECURE_HEAP_SIZE	(64 * 1024)	/* power of two */

struct vkey {
	char		 vk_name[PM_ID_MAX + 1];
	struct pm_key	 vk_key;
};

/* The locked mapping: every byte of key material we control. */
struct vault {
	uint8_t		 v_scratch[KEY_FILE_MAX + 1];	/* a key file */
	struct vkey	 v_keys[SIGNER_KEYS_MAX];
	size_t		 v_nkeys;
};

struct signer_conf {
	char		*user;
	char		*empty_dir;
	uint8_t		 level;
	int		 have_role;
	int		 keys_done;
};

static struct vault		*vault;
static size_t			 vault_len;
static struct signer_policy	 policy;
static struct signer_conf	 conf;

static void	 protect_process(void);
static void	 vault_new(void);
static void	 vault_wipe(void);
static const struct vkey *vault_find(const char *);
static int	 read_key_fd(int, size_t *, struct buf *);
static int	 c_role(struct peer *, struct msg *);
static int	 c_key(struct peer *, struct msg *);
static int	 c_keys_end(struct peer *, struct msg *);
static int	 c_ping(struct peer *, struct msg *);
static int	 c_shutdown(struct peer *, struct msg *);
static int	 read_conf(struct buf *);
static void	 conf_log_forward(enum log_level, const char *,
		    const struct lkv *);
static int	 send_keys(struct role *, struct buf *);
static int	 signer_init(struct role *, struct buf *);
static int	 signer_start(struct role *, struct buf *);
static int	 h_sign_job(struct peer *, struct msg *);
static int	 h_sign_job_end(struct peer *, struct msg *);
static int	 h_sign_relay(struct peer *, struct msg *);
static void	 answer(struct role *, uint32_t, const uint8_t *,
		    const uint8_t *, const char *);

/* Beyond rolefilter_base: nothing.  These are explicit kills. */
static const struct rf_rule signer_rules[] = {
	RF_KILL("fork"), RF_KILL("vfork"), RF_KILL("clone"),
	RF_KILL("clone3"), RF_KILL("socket"), RF_KILL("socketpair"),
	RF_KILL("connect"), RF_KILL("bind"), RF_KILL("listen"),
};
static const struct rf_list rolefilter_signer = RF_LIST("signer",
    signer_rules);

static const struct msg_handler conf_table[] = {
	{ PM_CONF_ROLE, 9, 8 + PM_STR_MAX * 2 + 1, 0, c_role },
	{ PM_CONF_KEY, 4, 4 + PM_ID_MAX, MSG_ALLOW_FD, c_key },
	{ PM_CONF_KEYS_END, 0, 0, 0, c_keys_end },
	{ PM_PING, 8, 8, 0, c_ping },
	{ PM_SHUTDOWN, 0, 0, 0, c_shutdown },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_handler signer_table[] = {
	{ PM_SIGN_JOB, 12, PM_PAYLOAD_MAX, 0, h_sign_job },
	{ PM_SIGN_JOB_END, 0, 0, 0, h_sign_job_end },
	{ PM_SIGN_RELAY, 46, 46 + PM_STR_MAX + PM_ID_MAX, 0, h_sign_relay },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_typename signer_names[] = {
	{ PM_CONF_ROLE, "PM_CONF_ROLE" }, { PM_CONF_KEY, "PM_CONF_KEY" },
	{ PM_CONF_KEYS_END, "PM_CONF_KEYS_END" },
	{ PM_SIGNER_KEYS, "PM_SIGNER_KEYS" }, { PM_SIGN_JOB, "PM_SIGN_JOB" },
	{ PM_SIGN_JOB_END, "PM_SIGN_JOB_END" },
	{ PM_SIGN_RELAY, "PM_SIGN_RELAY" }, { PM_SIGN_ANS, "PM_SIGN_ANS" },
};

static const struct role_def signer_def = {
	"signer", signer_table, signer_names, nitems(signer_names),
	&rolefilter_signer, 1, signer_init, signer_start, NULL
};

/* ---- key protection ---------------------------------------------------- */

/* Before any key byte exists: no core file, no ptrace by our uid. */
static void
protect_process(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("RLIMIT_CORE");
	/* Private keys inside OpenSSL: its locked, non-dumpable heap. */
	if (CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, 32) != 1)
		log_debug("OpenSSL secure heap not fully available: private "
		    "keys are on the normal heap");
}

static void
vault_new(void)
{
	long	 pg = sysconf(_SC_PAGESIZE);
	void	*p;

	vault_len = (sizeof(*vault) + (size_t)pg - 1) & ~((size_t)pg - 1);
	p = mmap(NULL, vault_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap key vault");
	if (madvise(p, vault_len, MADV_DONTDUMP) == -1)
		fatal("madvise MADV_DONTDUMP");
	if (mlock(p, vault_len) == -1)
		log_event(LL_WARN, "cannot lock the key pages in memory",
		    LKV_S("err", strerror(errno)));
	vault = p;
}

static void
vault_wipe(void)
{
	size_t	 i;

	if (vault == NULL)
		return;
	for (i = 0; i < vault->v_nkeys; i++)
		key_free(&vault->v_keys[i].vk_key);
	OPENSSL_cleanse(vault, vault_len);
}

static const struct vkey *
vault_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < vault->v_nkeys; i++)
		if (strcmp(vault->v_keys[i].vk_name, name) == 0)
			return &vault->v_keys[i];
	return NULL;
}

/* Read a whole key file (at most KEY_FILE_MAX bytes) into the scratch. */
static int
read_key_fd(int fd, size_t *len, struct buf *err)
{
	struct stat	 sb;
	size_t		 n = 0;
	ssize_t		 r;

	if (fstat(fd, &sb) == -1)
		return errf(err, "fstat: %s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return errf(err, "not a regular file");
	while (n < sizeof(vault->v_scratch)) {
		r = read(fd, vault->v_scratch + n,
		    sizeof(vault->v_scratch) - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return errf(err, "read: %s", strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KEY_FILE_MAX)
		return errf(err, "larger than %d bytes", KEY_FILE_MAX);
	*len = n;
	return 0;
}

/* ---- configuration, before the event loop ------------------------------ */

static int
c_role(struct peer *p, struct msg *m)
{
	if (conf.have_role)
		return msg_reject(m, "PM_CONF_ROLE sent twice");
	if (msg_get_str(m, &conf.user, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &conf.empty_dir, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &conf.level) == -1 || msg_end(m) == -1)
		return -1;
	if (conf.level > LL_ERROR)
		return msg_reject(m, "bad log level");
	conf.have_role = 1;
	log_set_level((enum log_level)conf.level);
	return 0;
}

static int
c_key(struct peer *p, struct msg *m)
{
	struct buf	 err = BUF_INIT;
	struct vkey	*vk;
	char		*name = NULL;
	size_t		 len = 0;
	int		 fd = msg_take_fd(m), rc = -1;

	if (!conf.have_role || fd == -1 ||
	    msg_get_str(m, &name, PM_ID_MAX) == -1 || msg_end(m) == -1) {
		msg_reject(m, "PM_CONF_KEY without PM_CONF_ROLE, fd or name");
		goto out;
	}
	if (vault_find(name) != NULL || vault->v_nkeys == SIGNER_KEYS_MAX) {
		msg_reject(m, "duplicate key name or too many keys");
		goto out;
	}
	vk = &vault->v_keys[vault->v_nkeys];
	snprintf(vk->vk_name, sizeof(vk->vk_name), "%s", name);
	if (read_key_fd(fd, &len, &err) == 0)
		(void)key_load_mem(vault->v_scratch, len, name[0] == '\0' ?
		    "[signing].key_file" : name, &vk->vk_key, &err);
	OPENSSL_cleanse(vault->v_scratch, sizeof(vault->v_scratch));
	if (err.len > 0) {
		log_event(LL_ERROR, "cannot load signing key", LKV_S("key",
		    name[0] == '\0' ? "[signing].key_file" : name),
		    LKV_S("err", buf_str(&err)));
		msg_reject(m, "a signing key cannot be loaded");
		goto out;
	}
	vault->v_nkeys++;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(name);
	buf_free(&err);
	return rc;
}

static int
c_keys_end(struct peer *p, struct msg *m)
{
	if (!conf.have_role || vault_find("") == NULL)
		return msg_reject(m, "PM_CONF_KEYS_END without the package key");
	conf.keys_done = 1;
	return 0;
}

static int
c_ping(struct peer *p, struct msg *m)
{
	struct msgbuf	 mb;
	struct buf	 err = BUF_INIT;
	uint64_t	 nonce;

	if (msg_get_u64(m, &nonce) == -1 || msg_end(m) == -1)
		return -1;
	msg_init(&mb, PM_PONG, m->m_hdr.id);
	msg_put_u64(&mb, nonce);
	if (msg_send(PM_CHAN_FD, &mb, -1, &err) == -1)
		fatalx("%s", buf_str(&err));
	buf_free(&err);
	return 0;
}

static int
c_shutdown(struct peer *p, struct msg *m)
{
	vault_wipe();
	exit(0);
}

/*
 * Until role_run() installs its forwarder: log events go to the parent as
 * PM_LOG (blocking sends), or to stderr when they do not fit.
 */
static void
conf_log_forward(enum log_level lvl, const char *msg, const struct lkv *kv)
{
	static struct msgbuf	 mb;
	const struct lkv	*p;
	char			 num[32];
	uint16_t		 n = 0;

	for (p = kv; p != NULL && p->key != NULL && n < 32; p++)
		n++;
	msg_init(&mb, PM_LOG, 0);
	msg_put_u8(&mb, (uint8_t)lvl);
	msg_put_str(&mb, msg);
	msg_put_u16(&mb, n);
	for (p = kv; n > 0; p++, n--) {
		msg_put_str(&mb, p->key);
		if (p->type == LKV_INT)
			snprintf(num, sizeof(num), "%lld", p->i);
		msg_put_str(&mb, p->type == LKV_INT ? num : p->s != NULL ?
		    p->s : "");
	}
	if (msg_send(PM_CHAN_FD, &mb, -1, NULL) == -1)
		log_emit_as("signer", lvl, msg, kv);
}

/* Blocking receives on fd 3 until PM_CONF_KEYS_END. */
static int
read_conf(struct buf *err)
{
	struct msg	*m = xmalloc(sizeof(*m));
	int		 r, rc = -1;

	while (!conf.keys_done) {
		if ((r = msg_recv(PM_CHAN_FD, m, err)) != 1) {
			if (r == 0)
				errf(err, "the parent closed the channel");
			goto out;
		}
		if (msg_dispatch(NULL, conf_table, m, err) == -1)
			goto out;
		msg_release(m);
	}
	rc = 0;
out:
	free(m);
	return rc;
}

/* ---- the role ---------------------------------------------------------- */

/* PM_SIGNER_KEYS: u16 n, n x (str name, fixed[32] public key). */
static int
send_keys(struct role *r, struct buf *err)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	size_t		 i;
	int		 rc;

	msg_init(mb, PM_SIGNER_KEYS, 0);
	msg_put_u16(mb, (uint16_t)vault->v_nkeys);
	for (i = 0; i < vault->v_nkeys; i++) {
		msg_put_str(mb, vault->v_keys[i].vk_name);
		msg_put_fixed(mb, vault->v_keys[i].vk_key.pub, 32);
		log_event(LL_INFO, "signing key loaded", LKV_S("key",
		    vault->v_keys[i].vk_name), LKV_S("fingerprint",
		    vault->v_keys[i].vk_key.fpr));
	}
	if ((rc = role_send(r, mb, -1)) == -1)
		errf(err, "cannot send PM_SIGNER_KEYS");
	free(mb);
	return rc;
}

static int
signer_init(struct role *r, struct buf *err)
{
	return send_keys(r, err);
}

static int
signer_start(struct role *r, struct buf *err)
{
	role_ready(r);
	return 0;
}

/* PM_SIGN_JOB (id = job): str recipe, str version, u16 n, n x str package,
 * u16 nsign, nsign x (str path, str key). */
static int
h_sign_job(struct peer *p, struct msg *m)
{
	struct buf	 err = BUF_INIT;
	char		*recipe = NULL, *version = NULL, **pk = NULL;
	char		**paths = NULL, **keys = NULL;
	uint16_t	 np = 0, ns = 0, i, j, k = 0;
	int		 rc = -1;

	if (msg_get_str(m, &recipe, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &version, PM_STR_MAX) == -1 ||
	    msg_get_u16(m, &np) == -1)
		goto out;
	pk = xcalloc((size_t)np + 1, sizeof(*pk));
	for (i = 0; i < np; i++)
		if (msg_get_str(m, &pk[i], PM_ID_MAX) == -1)
			goto out;
	if (msg_get_u16(m, &ns) == -1)
		goto out;
	paths = xcalloc((size_t)ns + 1, sizeof(*paths));
	keys = xcalloc((size_t)ns + 1, sizeof(*keys));
	for (k = 0; k < ns; k++)
		if (msg_get_str(m, &paths[k], PM_STR_MAX) == -1 ||
		    msg_get_str(m, &keys[k], PM_ID_MAX) == -1)
			goto out;
	if (msg_end(m) == -1)
		goto out;
	if (sp_job_add(&policy, m->m_hdr.id, recipe, version, pk, np, paths,
	    keys, ns, &err) == -1)
		log_event(LL_WARN, "signing job not accepted", LKV_I("job",
		    m->m_hdr.id), LKV_S("err", buf_str(&err)));
	else
		log_event(LL_DEBUG, "signing job", LKV_I("job", m->m_hdr.id),
		    LKV_S("recipe", recipe), LKV_S("version", version),
		    LKV_I("packages", np), LKV_I("binary_grants", ns));
	rc = 0;
out:
	for (j = 0; pk != NULL && j <= np; j++)
		free(pk[j]);
	for (j = 0; paths != NULL && j <= ns; j++) {
		free(paths[j]);
		free(keys[j]);
	}
	free(pk);
	free(paths);
	free(keys);
	free(recipe);
	free(version);
	buf_free(&err);
	return rc;
}

static int
h_sign_job_end(struct peer *p, struct msg *m)
{
	if (sp_job_end(&policy, m->m_hdr.id) == -1)
		log_event(LL_DEBUG, "end of a job never announced",
		    LKV_I("job", m->m_hdr.id));
	return 0;
}

/* PM_SIGN_ANS (id = relay id): u8 ok, fixed[64] sig, fixed[32] pub,
 * str error. */
static void
answer(struct role *r, uint32_t id, const uint8_t *sig, const uint8_t *pub,
    const char *error)
{
	static const uint8_t	 zero[64];
	struct msgbuf		*mb = xmalloc(sizeof(*mb));

	msg_init(mb, PM_SIGN_ANS, id);
	msg_put_u8(mb, sig != NULL);
	msg_put_fixed(mb, sig != NULL ? sig : zero, 64);
	msg_put_fixed(mb, pub != NULL ? pub : zero, 32);
	msg_put_bytes(mb, error, strlen(error) > PM_ERR_MAX ? PM_ERR_MAX :
	    strlen(error));
	(void)role_send(r, mb, -1);
	free(mb);
}

/* PM_SIGN_RELAY (id = relay id): u8 origin, u32 job, u8 kind,
 * str subject, str key name, fixed[32] digest. */
static int
h_sign_relay(struct peer *p, struct msg *m)
{
	struct sp_request	 rq;
	struct sp_ticket	 t;
	struct buf		 why = BUF_INIT;
	const struct vkey	*vk = NULL;
	char			*subject = NULL, *key = NULL, hex[65];
	uint8_t			 origin, kind, digest[32], sig[64];
	uint32_t		 job;
	int			 rc = -1;

	if (msg_get_u8(m, &origin) == -1 || msg_get_u32(m, &job) == -1 ||
	    msg_get_u8(m, &kind) == -1 ||
	    msg_get_str(m, &subject, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &key, PM_ID_MAX) == -1 ||
	    msg_get_fixed(m, digest, sizeof(digest)) == -1 ||
	    msg_end(m) == -1)
		goto out;
	rq = (struct sp_request){ origin, job, kind, subject, key };
	hex_encode(digest, sizeof(digest), hex);
	if (sp_check(&policy, &rq, &t, &why) == 0 &&
	    (vk = vault_find(key)) == NULL) {
		sp_count_refusal(&policy);
		errf(&why, "signing key \"%s\" is not loaded", key);
	}
	if (vk == NULL) {
		log_event(LL_WARN, "signature refused", LKV_I("job", job),
		    LKV_S("kind", sign_kind_name(kind)), LKV_S("subject",
		    subject), LKV_S("key", key), LKV_S("digest", hex),
		    LKV_S("reason", buf_str(&why)),
		    LKV_I("refused", policy.sp_refused));
		answer(p->p_arg, m->m_hdr.id, NULL, NULL, buf_str(&why));
	} else {
		key_sign(&vk->vk_key, digest, sizeof(digest), sig);
		sp_commit(&policy, &t);
		log_event(LL_INFO, "signature issued", LKV_I("job", job),
		    LKV_S("kind", sign_kind_name(kind)), LKV_S("subject",
		    subject), LKV_S("key", key), LKV_S("digest", hex),
		    LKV_S("fingerprint", vk->vk_key.fpr),
		    LKV_I("signatures", policy.sp_issued_total));
		answer(p->p_arg, m->m_hdr.id, sig, vk->vk_key.pub, "");
	}
	rc = 0;
out:
	free(subject);
	free(key);
	buf_free(&why);
	return rc;
}

/* ---- entry points ------------------------------------------------------ */

int
signer_run(const struct role_opts *tmpl)
{
	struct role_opts	 o;
	struct buf		 err = BUF_INIT;
	int			 rc;

	log_set_forward(conf_log_forward);
	protect_process();
	crypto_init();
	vault_new();
	sp_init(&policy);
	msg_register_names(signer_names, nitems(signer_names));
	if (read_conf(&err) == -1) {
		log_event(LL_ERROR, "signer configuration failed",
		    LKV_S("err", buf_str(&err)));
		log_set_forward(NULL);
		vault_wipe();
		buf_free(&err);
		return 1;
	}
	o = *tmpl;
	o.user = conf.user[0] != '\0' ? conf.user : NULL;
	o.empty_dir = conf.empty_dir[0] != '\0' ? conf.empty_dir : NULL;
	o.level = (enum log_level)conf.level;
	rc = role_run(&signer_def, &o);
	vault_wipe();
	sp_free(&policy);
	buf_free(&err);
	return rc;
}

int
signer_main(void)
{
	struct role_opts	 o;

	memset(&o, 0, sizeof(o));
	o.level = log_get_level();
	o.target = LOG_TARGET_AUTO;
	return signer_run(&o);
}
