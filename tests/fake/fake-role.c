/*
 * fake-role.c: a stand-in for `peipkg-manager -P <role>` (http, poller,
 * signer, publisher) speaking the real protocol, steered by files under
 * $PEIPKG_FAKE_DIR:
 *   tags/<recipe>	poller: "<tag> <upstream>" lines emitted per poll
 *   pollfail/<recipe>	poller: the poll fails with this text
 *   published		publisher: "<name> <version>" lines (the archive)
 *   pubfail		publisher: every publish fails
 *   webhook		http: recipe named by SIGUSR2's PM_WEBHOOK
 *   <role>.nopong	stop answering heartbeats
 * and recording into <role>.log; http writes the pushed documents to
 * status.json and metrics.txt.  SIGUSR1: send a malformed record.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "log.h"

static struct msg	 M;
static const char	*role;
static int		 ready;
static uint32_t		 hook_id;

static void
send_empty(uint16_t type, uint32_t id)
{
	struct msgbuf	 mb;

	msg_init(&mb, type, id);
	fake_send(&mb, -1);
}

static void
conf_role(void)
{
	char	*user = fake_str(&M), *empty = fake_str(&M);
	uint8_t	 lvl;

	msg_get_u8(&M, &lvl);
	fake_note("conf_role user=%s empty=%s level=%u", user, empty, lvl);
	free(user);
	free(empty);
}

static void
table(void)
{
	uint32_t	 n;
	char		*id;

	if (M.m_hdr.type == PM_CONF_BEGIN) {
		msg_get_u32(&M, &n);
		fake_note("table begin gen=%u n=%u", M.m_hdr.id, n);
	} else if (M.m_hdr.type == PM_CONF_RECIPE) {
		id = fake_str(&M);
		fake_note("recipe %s", id);
		free(id);
	} else {
		fake_note("table end gen=%u", M.m_hdr.id);
		if (!ready) {
			ready = 1;
			send_empty(PM_READY, 0);
			fake_event(LL_INFO, "fake role ready", "role", role);
		}
	}
}

/* ---- http ------------------------------------------------------------- */

static struct buf	 doc[2];

static void
http_webhook(void)
{
	struct msgbuf	 mb;
	char		*r = fake_file("webhook"), *nl;

	if (r == NULL)
		return;
	if ((nl = strchr(r, '\n')) != NULL)
		*nl = '\0';
	msg_init(&mb, PM_WEBHOOK, ++hook_id);
	msg_put_u8(&mb, 0);	/* FORGE_GITHUB */
	msg_put_str(&mb, r);
	msg_put_str(&mb, "delivery-1");
	fake_send(&mb, -1);
	fake_note("webhook %u %s", hook_id, r);
	free(r);
}

static void
http_msg(void)
{
	const void	*p;
	size_t		 n;
	uint32_t	 gen, total, off;
	uint8_t		 kind, ok;
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);
	int		 fd;

	switch (M.m_hdr.type) {
	case PM_STATUS_DOC:
		msg_get_u8(&M, &kind);
		msg_get_u32(&M, &gen);
		msg_get_u32(&M, &total);
		msg_get_u32(&M, &off);
		msg_get_bytes(&M, &p, &n, PM_PAYLOAD_MAX);
		if (kind > 1)
			exit(1);
		if (off == 0)
			buf_reset(&doc[kind]);
		buf_add(&doc[kind], p, n);
		if (off + n == total)
			fake_write(kind ? "metrics.txt" : "status.json",
			    doc[kind].data, doc[kind].len);
		break;
	case PM_CONF_LISTENER:
		fd = msg_take_fd(&M);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		fake_note("listener family=%s",
		    ss.ss_family == AF_UNIX ? "unix" : "inet");
		close(fd);
		break;
	case PM_CONF_SECRET:
		msg_get_u8(&M, &kind);
		msg_get_bytes(&M, &p, &n, 65536);
		fake_note("secret forge=%u len=%zu", kind, n);
		break;
	case PM_WEBHOOK_ACK:
		msg_get_u8(&M, &ok);
		fake_note("ack %u %u", M.m_hdr.id, ok);
		break;
	}
}

/* ---- poller ----------------------------------------------------------- */

static void
poll_now(void)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	char		*recipe = fake_str(&M), *rel, *tags, *fail, *line,
			*save, *sp;
	uint8_t		 src, oid[20] = { 0 };
	uint32_t	 n = 0;

	msg_get_u8(&M, &src);
	fake_note("pollnow %s %u", recipe, src);
	rel = xasprintf("tags/%s", recipe);
	tags = fake_file(rel);
	free(rel);
	rel = xasprintf("pollfail/%s", recipe);
	fail = fake_file(rel);
	free(rel);
	for (line = tags ? strtok_r(tags, "\n", &save) : NULL; line != NULL &&
	    fail == NULL; line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		msg_init(mb, PM_POLL_TRIGGER, 0);
		msg_put_str(mb, recipe);
		msg_put_str(mb, line);
		msg_put_str(mb, sp);
		msg_put_fixed(mb, oid, sizeof(oid));
		msg_put_u8(mb, src);
		fake_send(mb, -1);
		n++;
	}
	msg_init(mb, PM_POLL_DONE, 0);
	msg_put_str(mb, recipe);
	msg_put_u8(mb, fail == NULL);
	msg_put_str(mb, fail == NULL ? "" : fail);
	msg_put_u32(mb, n);
	msg_put_u32(mb, n);
	msg_put_u32(mb, 0);
	msg_put_i64(mb, 0);
	msg_put_u8(mb, src);
	fake_send(mb, -1);
	free(fail);
	free(tags);
	free(recipe);
	free(mb);
}

/* ---- signer ----------------------------------------------------------- */

#define MAXJOBS	16
static struct {
	uint32_t	 id;
	char		*pkgs[64];
	int		 signed_[64];
	int		 n;
}			 jobs[MAXJOBS];
static char		*keynames[32];
static int		 nkeys;

static void
signer_msg(void)
{
	struct msgbuf	*mb;
	struct stat	 st;
	char		*name, *subject, *key;
	uint8_t		 origin, kind, dig[32], sig[64] = { 0 }, pub[32];
	uint32_t	 job;
	uint16_t	 n, i;
	int		 fd, k, ok;

	switch (M.m_hdr.type) {
	case PM_CONF_KEY:
		name = fake_str(&M);
		fd = msg_take_fd(&M);
		fstat(fd, &st);
		close(fd);
		fake_note("key name=%s size=%lld", name, (long long)st.st_size);
		keynames[nkeys++] = name;
		break;
	case PM_CONF_KEYS_END:
		mb = xmalloc(sizeof(*mb));
		msg_init(mb, PM_SIGNER_KEYS, 0);
		msg_put_u16(mb, (uint16_t)nkeys);
		for (k = 0; k < nkeys; k++) {
			memset(pub, k + 1, sizeof(pub));
			msg_put_str(mb, keynames[k]);
			msg_put_fixed(mb, pub, sizeof(pub));
		}
		fake_send(mb, -1);
		free(mb);
		send_empty(PM_READY, 0);
		break;
	case PM_SIGN_JOB:
		for (k = 0; k < MAXJOBS && jobs[k].id != 0; k++)
			;
		if (k == MAXJOBS)
			exit(1);
		jobs[k].id = M.m_hdr.id;
		free(fake_str(&M));
		free(fake_str(&M));
		msg_get_u16(&M, &n);
		for (i = 0; i < n && i < 64; i++)
			jobs[k].pkgs[i] = fake_str(&M);
		jobs[k].n = n;
		msg_get_u16(&M, &n);
		fake_note("signjob %u pkgs=%d signs=%u", M.m_hdr.id,
		    jobs[k].n, n);
		break;
	case PM_SIGN_JOB_END:
		fake_note("jobend %u", M.m_hdr.id);
		for (k = 0; k < MAXJOBS; k++)
			if (jobs[k].id == M.m_hdr.id)
				memset(&jobs[k], 0, sizeof(jobs[k]));
		break;
	case PM_SIGN_RELAY:
		msg_get_u8(&M, &origin);
		msg_get_u32(&M, &job);
		msg_get_u8(&M, &kind);
		subject = fake_str(&M);
		key = fake_str(&M);
		msg_get_fixed(&M, dig, sizeof(dig));
		ok = origin == ROLE_PUBLISHER && kind == 3;
		for (k = 0; k < MAXJOBS && origin == ROLE_WORKER; k++) {
			if (jobs[k].id != job || job == 0)
				continue;
			for (i = 0; i < jobs[k].n; i++)
				if (strcmp(jobs[k].pkgs[i], subject) == 0 &&
				    !jobs[k].signed_[i])
					ok = jobs[k].signed_[i] = 1;
		}
		fake_note("relay origin=%u job=%u kind=%u subject=%s ok=%d",
		    origin, job, kind, subject, ok);
		mb = xmalloc(sizeof(*mb));
		msg_init(mb, PM_SIGN_ANS, M.m_hdr.id);
		msg_put_u8(mb, (uint8_t)ok);
		msg_put_fixed(mb, sig, sizeof(sig));
		memset(pub, 1, sizeof(pub));
		msg_put_fixed(mb, pub, sizeof(pub));
		msg_put_str(mb, ok ? "" : "not allowed");
		fake_send(mb, -1);
		free(mb);
		free(subject);
		free(key);
		break;
	}
}

/* ---- publisher -------------------------------------------------------- */

static void
pub_set_all(void)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	char		*set = fake_file("published"), *line, *save, *sp;
	uint16_t	 n = 0;

	for (line = set ? strtok_r(set, "\n", &save) : NULL; line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		n++;
	free(set);
	set = fake_file("published");
	msg_init(mb, PM_PUB_SET, 0);
	msg_put_u8(mb, 1);
	msg_put_u8(mb, 1);
	msg_put_u16(mb, n);
	for (line = set ? strtok_r(set, "\n", &save) : NULL; line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			exit(1);
		*sp++ = '\0';
		msg_put_str(mb, line);
		msg_put_str(mb, sp);
	}
	fake_send(mb, -1);
	fake_note("pubset %u", n);
	free(set);
	free(mb);
}

/* One index signature through the parent's relay. */
static int
pub_sign(uint32_t id)
{
	struct msgbuf	 mb;
	uint8_t		 dig[32] = { 0 }, ok;

	msg_init(&mb, PM_SIGN_REQ, id);
	msg_put_u8(&mb, 3);
	msg_put_str(&mb, "index/active.json");
	msg_put_str(&mb, "");
	msg_put_fixed(&mb, dig, sizeof(dig));
	fake_send(&mb, -1);
	while (fake_recv(&M, NULL) == 1) {
		if (M.m_hdr.type == PM_SIGN_ANS && M.m_hdr.id == id) {
			msg_get_u8(&M, &ok);
			return ok;
		}
		fake_note("unexpected %u while signing", M.m_hdr.type);
	}
	exit(0);
}

static void
pub_req(void)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	struct stat	 st;
	struct buf	 add = BUF_INIT;
	char		*recipe = fake_str(&M), *version = fake_str(&M);
	char		*names[64], *fail = fake_file("pubfail"), *u, *cur;
	uint32_t	 job = M.m_hdr.id;
	uint16_t	 n, i;
	int		 fd = msg_take_fd(&M), ok = 1;

	msg_get_u16(&M, &n);
	for (i = 0; i < n && i < 64; i++) {
		names[i] = fake_str(&M);
		if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			ok = 0;
	}
	close(fd);
	fake_note("pubreq %u %s %s n=%u files_ok=%d", job, recipe, version,
	    n, ok);
	if (!pub_sign(1000 + job))
		ok = 0;
	if (fail != NULL)
		ok = 0;
	msg_init(mb, PM_PUB_DONE, job);
	msg_put_u8(mb, (uint8_t)ok);
	msg_put_str(mb, ok ? "" : fail != NULL ? "fake publish failure" :
	    "fake publisher: files or signature missing");
	msg_put_u64(mb, 1);
	msg_put_u8(mb, 0);
	fake_send(mb, -1);
	if (ok) {
		msg_init(mb, PM_PUB_SET, 0);
		msg_put_u8(mb, 1);
		msg_put_u8(mb, 0);
		msg_put_u16(mb, n);
		cur = fake_file("published");
		if (cur != NULL)
			buf_adds(&add, cur);
		free(cur);
		for (i = 0; i < n; i++) {
			/* <name>_<version>_<arch>.peipkg */
			if ((u = strchr(names[i], '_')) != NULL)
				*u = '\0';
			msg_put_str(mb, names[i]);
			msg_put_str(mb, version);
			buf_addf(&add, "%s %s\n", names[i], version);
			fake_note("published %s %s", names[i], version);
		}
		fake_write("published", add.data, add.len);
		fake_send(mb, -1);
	}
	for (i = 0; i < n && i < 64; i++)
		free(names[i]);
	buf_free(&add);
	free(fail);
	free(recipe);
	free(version);
	free(mb);
}

static void
publisher_msg(void)
{
	char	*repo;

	switch (M.m_hdr.type) {
	case PM_CONF_PUBLISHER:
		repo = fake_str(&M);
		fake_note("conf_publisher repo=%s", repo);
		free(repo);
		pub_set_all();
		if (!ready) {
			ready = 1;
			send_empty(PM_READY, 0);
		}
		break;
	case PM_PUB_REQ:
		pub_req();
		break;
	}
}

int
main(int argc, char *argv[])
{
	if (argc < 3 || strcmp(argv[1], "-P") != 0)
		return 2;
	role = argv[2];
	fake_init(role);
	M.m_fd = -1;
	while (fake_recv(&M, strcmp(role, "http") == 0 ? http_webhook :
	    NULL) == 1) {
		switch (M.m_hdr.type) {
		case PM_CONF_ROLE:
			conf_role();
			continue;
		case PM_SHUTDOWN:
			fake_note("shutdown");
			return 0;
		case PM_CONF_BEGIN:
		case PM_CONF_RECIPE:
		case PM_CONF_END:
			table();
			continue;
		case PM_POLL_NOW:
			poll_now();
			continue;
		}
		if (strcmp(role, "http") == 0)
			http_msg();
		else if (strcmp(role, "signer") == 0)
			signer_msg();
		else if (strcmp(role, "publisher") == 0)
			publisher_msg();
		else
			fake_note("message %u", M.m_hdr.type);
	}
	fake_note("eof");
	return 0;
}
