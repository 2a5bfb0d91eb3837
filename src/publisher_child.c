/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * publisher_child.c: the publisher's short-lived child that does one
 * repository init or publish (publisher.h), and the result it reports.
 *
 * A publish copies ONLY the expected file names out of the job's out/
 * directory (openat O_NOFOLLOW|O_NOCTTY|O_NONBLOCK: never a symlink,
 * never blocking on a FIFO; regular files; at most PUB_MAX_PACKAGE
 * bytes, however the file grows meanwhile) into "<parent>/.<repo>.in",
 * verifies every copy (pkgread: the consumer's rules, signed by the
 * repository key), checks that its manifest is the expected
 * <name>_<version>_<arch>.peipkg at the job's version, and publishes
 * them all in one repository switch (repo_publish) with the current time.
 * The copies are removed whatever happens.  Index signatures come from
 * a remote signer on the child's socketpair, relayed by the publisher.
 *
 * Trust: the job's directory and its files come from a hostile build.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "msg.h"
#include "msgtypes.h"
#include "pkgread.h"
#include "publisher.h"
#include "repo.h"
#include "signer_remote.h"

#define COPY_CHUNK	(64 * 1024)

static void	 child_send(int, const struct pub_result *);
static int	 child_init(const struct pub_job *, struct signer *,
		    struct pub_result *, struct buf *);
static int	 child_publish(const struct pub_job *, struct signer *,
		    struct pub_result *, struct buf *);
static int	 copy_expected(const struct pub_job *, const char *,
		    const struct fs_dir *, struct pub_result *, struct buf *);
static int	 check_copy(const struct pub_job *, const struct fs_dir *,
		    const char *, struct pub_result *, struct buf *);

void
pub_child_main(const struct pub_job *j, int sock)
{
	struct signer_remote_opts	 so = { sock, 0, j->pub, NULL, NULL };
	struct signer			*s;
	struct pub_result		 res;
	struct buf			 err = BUF_INIT;

	memset(&res, 0, sizeof(res));
	s = signer_remote_new(&so);
	if (j->init)
		res.ok = child_init(j, s, &res, &err) == 0;
	else
		res.ok = child_publish(j, s, &res, &err) == 0;
	res.err = buf_release(&err);
	child_send(sock, &res);
	_exit(0);
}

/* Init when repo.json is absent; generated_at says when ("" = it
 * existed already). */
static int
child_init(const struct pub_job *j, struct signer *s, struct pub_result *r,
    struct buf *err)
{
	struct repo_init_opts	 io;
	struct stat		 sb;
	char			 now[32], *desc;
	int			 rc = 0;

	desc = xasprintf("%s/repo.json", j->repo);
	fmt_rfc3339((int64_t)time(NULL), now);
	io = (struct repo_init_opts){ j->repo, j->name, j->description, now,
	    j->pub, s };
	if (lstat(desc, &sb) == -1) {
		if ((rc = repo_init(&io, err)) == 0)
			r->generated_at = xstrdup(now);
	}
	free(desc);
	return rc;
}

static int
child_publish(const struct pub_job *j, struct signer *s, struct pub_result *r,
    struct buf *err)
{
	struct repo_publish_opts	 po;
	struct repo_publish_result	 pr;
	struct fs_dir			 parent = { -1, NULL }, in = { -1, NULL };
	char				 now[32], *name;
	size_t				 i;
	int				 rc = -1;

	memset(&pr, 0, sizeof(pr));
	name = xasprintf(".%s.in", j->base);
	r->names = xcalloc(j->nfiles + 1, sizeof(char *));
	r->versions = xcalloc(j->nfiles + 1, sizeof(char *));
	if (fs_dir_open(&parent, AT_FDCWD, j->parent, j->parent, err) == -1 ||
	    fs_remove_tree(&parent, name, err) == -1 ||
	    fs_dir_mkdir(&in, &parent, name, 0, err) == -1)
		goto out;
	for (i = 0; i < j->nfiles; i++)
		if (copy_expected(j, j->files[i], &in, r, err) == -1)
			goto out;
	fmt_rfc3339((int64_t)time(NULL), now);
	memset(&po, 0, sizeof(po));
	po.state = j->repo;
	po.new_dir = in.path;
	po.timestamp = now;
	po.signer = s;
	po.min_index_version = j->last_iv;
	po.max_package_size = PUB_MAX_PACKAGE;
	if (repo_publish(&po, &pr, err) == -1)
		goto out;
	r->iv = (uint64_t)pr.index_version;
	r->clamped = pr.clamped;
	r->generated_at = xstrdup(pr.generated_at);
	r->requested_at = xstrdup(pr.requested_at);
	r->paths = pr.new_paths;
	r->npaths = pr.nnew_paths;
	pr.new_paths = NULL;
	pr.nnew_paths = 0;
	rc = 0;
out:
	if (parent.fd != -1)
		(void)fs_remove_tree(&parent, name, NULL);
	fs_dir_close(&in);
	fs_dir_close(&parent);
	repo_publish_result_free(&pr);
	free(name);
	return rc;
}

/* Copy the expected file `name` of the job's directory into `in`, then
 * check the copy (so the bytes checked are the bytes published). */
static int
copy_expected(const struct pub_job *j, const char *name,
    const struct fs_dir *in, struct pub_result *r, struct buf *err)
{
	struct stat	 sb;
	uint8_t		*b = NULL;
	uint64_t	 total = 0;
	ssize_t		 n;
	int		 fd, out = -1, rc = -1;

	fd = openat(j->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return errf(err, "%s: %s", name, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		errf(err, "%s: not a regular file", name);
		goto out;
	}
	if ((uint64_t)sb.st_size > PUB_MAX_PACKAGE) {
		errf(err, "%s: larger than %llu bytes", name,
		    (unsigned long long)PUB_MAX_PACKAGE);
		goto out;
	}
	if ((out = openat(in->fd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) == -1) {
		errf(err, "%s/%s: %s", in->path, name, strerror(errno));
		goto out;
	}
	b = xmalloc(COPY_CHUNK);
	while ((n = read(fd, b, COPY_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || (total += (uint64_t)n) > PUB_MAX_PACKAGE ||
		    write_full(out, b, (size_t)n) == -1) {
			errf(err, "%s: copy failed: %s", name, n == -1 ||
			    total <= PUB_MAX_PACKAGE ? strerror(errno) :
			    "the file grew past the size limit");
			goto out;
		}
	}
	rc = check_copy(j, in, name, r, err);
out:
	free(b);
	if (out != -1)
		close(out);
	close(fd);
	return rc;
}

/* The copy must verify under the repository key and be what the job
 * was expected to produce: <name>_<version>_<arch>.peipkg at `version`. */
static int
check_copy(const struct pub_job *j, const struct fs_dir *in,
    const char *name, struct pub_result *r, struct buf *err)
{
	struct pkg_verify_opts	 vo;
	struct pkg_info		 pi;
	struct buf		 e = BUF_INIT;
	char			*want = NULL;
	int			 fd, rc = -1;

	memset(&pi, 0, sizeof(pi));
	if ((fd = openat(in->fd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errf(err, "%s: %s", name, strerror(errno));
	pkg_verify_opts_init(&vo);
	vo.keys = (const uint8_t (*)[32])j->pub;
	vo.nkeys = 1;
	if (pkg_verify_fd(fd, &vo, &pi, &e) == -1) {
		errf(err, "%s: rejected by the package verifier: %s", name,
		    buf_str(&e));
		goto out;
	}
	want = xasprintf("%s_%s_%s.peipkg", pi.mf.name, pi.mf.version,
	    pi.mf.architecture);
	if (strcmp(pi.mf.version, j->version) != 0 ||
	    strcmp(want, name) != 0) {
		errf(err, "%s: the package is %s %s for %s, not what the job "
		    "was expected to produce (version %s)", name, pi.mf.name,
		    pi.mf.version, pi.mf.architecture, j->version);
		goto out;
	}
	r->names[r->nadded] = xstrdup(pi.mf.name);
	r->versions[r->nadded++] = xstrdup(pi.mf.version);
	rc = 0;
out:
	close(fd);
	pkg_info_free(&pi);
	buf_free(&e);
	free(want);
	return rc;
}

/* ---- the result -------------------------------------------------------- */

/*
 * PUB_CHILD_RESULT: u8 ok, str err, u64 iv, u8 clamped, str generated_at,
 * str requested_at, u16 n, n x (str name, str version), u8 all_paths,
 * u16 npaths, npaths x str path.  When the paths do not fit, all_paths
 * is set instead (the next upload takes everything).
 */
static void
child_send(int sock, const struct pub_result *r)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	const char	*e = r->err != NULL ? r->err : "";
	size_t		 i, elen = strlen(e);
	int		 all = r->all_paths;

	for (;;) {
		msg_init(mb, PUB_CHILD_RESULT, 0);
		msg_put_u8(mb, (uint8_t)r->ok);
		msg_put_bytes(mb, e, elen > PM_ERR_MAX ? PM_ERR_MAX : elen);
		msg_put_u64(mb, r->iv);
		msg_put_u8(mb, (uint8_t)r->clamped);
		msg_put_str(mb, r->generated_at != NULL ? r->generated_at : "");
		msg_put_str(mb, r->requested_at != NULL ? r->requested_at : "");
		msg_put_u16(mb, (uint16_t)r->nadded);
		for (i = 0; i < r->nadded; i++) {
			msg_put_str(mb, r->names[i]);
			msg_put_str(mb, r->versions[i]);
		}
		msg_put_u8(mb, (uint8_t)all);
		msg_put_u16(mb, all ? 0 : (uint16_t)r->npaths);
		for (i = 0; !all && i < r->npaths; i++)
			msg_put_str(mb, r->paths[i]);
		if (mb->mb_error == NULL || all)
			break;
		all = 1;
	}
	(void)msg_send(sock, mb, -1, NULL);
	free(mb);
}

int
pub_result_parse(struct msg *m, struct pub_result *r)
{
	uint16_t	 n, np, i;
	uint8_t		 ok, cl, all;

	pub_result_free(r);
	if (msg_get_u8(m, &ok) == -1 ||
	    msg_get_str(m, &r->err, PM_ERR_MAX) == -1 ||
	    msg_get_u64(m, &r->iv) == -1 || msg_get_u8(m, &cl) == -1 ||
	    msg_get_str(m, &r->generated_at, 64) == -1 ||
	    msg_get_str(m, &r->requested_at, 64) == -1 ||
	    msg_get_u16(m, &n) == -1)
		return -1;
	r->names = xcalloc((size_t)n + 1, sizeof(char *));
	r->versions = xcalloc((size_t)n + 1, sizeof(char *));
	/* nadded counts every slot that may hold an allocation. */
	for (i = 0; i < n; i++) {
		r->nadded++;
		if (msg_get_str(m, &r->names[i], PM_ID_MAX) == -1 ||
		    msg_get_str(m, &r->versions[i], PM_STR_MAX) == -1)
			return -1;
	}
	if (msg_get_u8(m, &all) == -1 || msg_get_u16(m, &np) == -1)
		return -1;
	r->paths = xcalloc((size_t)np + 1, sizeof(char *));
	for (i = 0; i < np; i++) {
		r->npaths++;
		if (msg_get_str(m, &r->paths[i], PM_STR_MAX) == -1)
			return -1;
	}
	if (msg_end(m) == -1 || ok > 1 || cl > 1 || all > 1)
		return -1;
	r->ok = ok;
	r->clamped = cl;
	r->all_paths = all;
	return 0;
}

void
pub_result_free(struct pub_result *r)
{
	size_t	 i;

	for (i = 0; i < r->nadded; i++) {
		free(r->names[i]);
		free(r->versions[i]);
	}
	for (i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->names);
	free(r->versions);
	free(r->paths);
	free(r->err);
	free(r->generated_at);
	free(r->requested_at);
	memset(r, 0, sizeof(*r));
}
