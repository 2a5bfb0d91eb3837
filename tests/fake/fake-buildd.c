/*
 * fake-buildd.c: a stand-in for sandbox/peipkg-buildd.  Reads the job
 * exactly as the real worker must (every field of PM_BUILD_JOB, then
 * PM_BUILD_LOG_FD), then behaves as $PEIPKG_FAKE_DIR/build/<recipe>
 * says (first word; default ok):
 *   ok		create <name>_<version>_<arch>.peipkg in <job dir>/out for
 *		every "<name> <arch>" line of pkgs/<recipe>, get each
 *		signed (PM_SIGN_REQ package), report success
 *   fail	report a failed build
 *   hang	never answer (the parent's watchdog must kill it)
 *   crash	exit 3 without a result
 *   garbage	send a malformed record
 *   badout	report an output file the recipe does not declare
 *   signtwice	ask for the first package's signature twice, then fail
 *		with "second signature refused" (or "... granted")
 * Notes go to buildd.log.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"

static struct msg	 M;
static uint32_t		 job;

static void
skip_strs(int n)
{
	while (n-- > 0)
		free(fake_str(&M));
}

static void
read_job(char **recipe, char **version, char **dir)
{
	uint64_t	 u64;
	int64_t		 i64;
	uint32_t	 u32, uid, gid;
	uint16_t	 n;
	uint8_t		 u8, oid[20];
	char		*file, *up, *tag, *git, *farm, *ref;

	if (fake_recv(&M, NULL) != 1 || M.m_hdr.type != PM_BUILD_JOB)
		exit(10);
	job = M.m_hdr.id;
	*recipe = fake_str(&M);
	file = fake_str(&M);
	*version = fake_str(&M);
	up = fake_str(&M);
	tag = fake_str(&M);
	msg_get_u8(&M, &u8);
	msg_get_fixed(&M, oid, sizeof(oid));
	git = fake_str(&M);
	msg_get_u8(&M, &u8);
	farm = fake_str(&M);
	ref = fake_str(&M);
	*dir = fake_str(&M);
	msg_get_u32(&M, &uid);
	msg_get_u32(&M, &gid);
	msg_get_i64(&M, &i64);
	msg_get_i64(&M, &i64);
	msg_get_i64(&M, &i64);
	msg_get_u64(&M, &u64);
	msg_get_u64(&M, &u64);
	msg_get_u64(&M, &u64);
	msg_get_u64(&M, &u64);
	msg_get_u8(&M, &u8);
	msg_get_u32(&M, &u32);
	msg_get_u16(&M, &n);
	skip_strs(n);
	msg_get_u16(&M, &n);
	skip_strs(n);
	msg_get_u16(&M, &n);
	skip_strs(n);
	if (msg_end(&M) == -1)
		exit(11);
	fake_note("job %u recipe=%s version=%s upstream=%s tag=%s ref=%s "
	    "farm=%s file=%s dir=%s uid=%u gid=%u", job, *recipe, *version,
	    up, tag, ref, farm, file, *dir, uid, gid);
	free(file);
	free(up);
	free(tag);
	free(git);
	free(farm);
	free(ref);
}

static int
sign(const char *name)
{
	struct msgbuf	 mb;
	uint8_t		 dig[32] = { 0 }, ok;
	static uint32_t	 req;

	msg_init(&mb, PM_SIGN_REQ, ++req);
	msg_put_u8(&mb, 1);
	msg_put_str(&mb, name);
	msg_put_str(&mb, "");
	msg_put_fixed(&mb, dig, sizeof(dig));
	fake_send(&mb, -1);
	if (fake_recv(&M, NULL) != 1 || M.m_hdr.type != PM_SIGN_ANS ||
	    M.m_hdr.id != req)
		exit(12);
	msg_get_u8(&M, &ok);
	fake_note("signed %s ok=%u", name, ok);
	return ok;
}

static void
done(int ok, const char *err, char **names, int n)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	int		 i;

	msg_init(mb, PM_BUILD_DONE, job);
	msg_put_u8(mb, (uint8_t)ok);
	msg_put_str(mb, err);
	msg_put_i64(mb, 1778000000);
	msg_put_u16(mb, (uint16_t)n);
	for (i = 0; i < n; i++)
		msg_put_str(mb, names[i]);
	fake_send(mb, -1);
	free(mb);
}

int
main(void)
{
	struct msgbuf	 mb;
	char		*recipe, *version, *dir, *rel, *mode, *pkgs, *line,
			*save, *sp, *names[64], *path;
	const char	*err = "fake worker: output or signature failed";
	int		 logfd, n = 0, ok = 1, fd;

	setsid();
	fake_init("buildd");
	M.m_fd = -1;
	read_job(&recipe, &version, &dir);
	if (fake_recv(&M, NULL) != 1 || M.m_hdr.type != PM_BUILD_LOG_FD)
		exit(13);
	logfd = msg_take_fd(&M);
	dprintf(logfd, "fake build of %s %s\n", recipe, version);
	rel = xasprintf("build/%s", recipe);
	mode = fake_file(rel);
	free(rel);
	if (mode == NULL)
		mode = xstrdup("ok");
	mode[strcspn(mode, " \n")] = '\0';
	fake_note("mode %s", mode);
	msg_init(&mb, PM_BUILD_PHASE, job);
	msg_put_u8(&mb, 2);
	msg_put_str(&mb, "build.sh");
	fake_send(&mb, -1);
	fake_event(1, "fake worker building", "recipe", recipe);
	if (strcmp(mode, "hang") == 0)
		for (;;)
			pause();
	if (strcmp(mode, "crash") == 0)
		exit(3);
	if (strcmp(mode, "garbage") == 0) {
		fake_garbage();
		pause();
	}
	if (strcmp(mode, "fail") == 0) {
		dprintf(logfd, "build.sh: exit status 1\n");
		done(0, "build.sh exited 1", NULL, 0);
		return 0;
	}
	rel = xasprintf("pkgs/%s", recipe);
	pkgs = fake_file(rel);
	free(rel);
	for (line = pkgs ? strtok_r(pkgs, "\n", &save) : NULL; line != NULL &&
	    n < 64; line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		names[n] = xasprintf("%s_%s_%s.peipkg", line, version, sp);
		path = xasprintf("%s/out/%s", dir, names[n]);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) ==
		    -1)
			ok = 0;
		else
			close(fd);
		free(path);
		if (!sign(line))
			ok = 0;
		if (strcmp(mode, "signtwice") == 0 && n == 0) {
			err = sign(line) ? "second signature granted" :
			    "second signature refused";
			ok = 0;
		}
		n++;
	}
	if (strcmp(mode, "badout") == 0)
		names[n++] = xstrdup("evil_1-1_noarch.peipkg");
	done(ok, ok ? "" : err, names, n);
	return 0;
}
