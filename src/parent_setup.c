/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_setup.c: the parent's start-up before any child exists: its
 * own executable and the build worker's, the role and build users, the
 * state directories and their owners, the HTTP listener (a systemd
 * socket or [http].addr), the webhook secrets, and a check that every
 * signing key opens (the signer reads them later).
 *
 * Trust: privileged; reads only the operator's config and files it
 * names, the passwd/group databases and its environment (test hooks in
 * parent.h).  Every failure is logged as "construct manager" and stops
 * the start.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cgroup.h"
#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "tagledger.h"

#define SECRET_MAX	65536

static int	 setup_users(struct parent *);
static int	 setup_dirs(struct parent *);
static int	 setup_secrets(struct parent *);
static int	 setup_keys(struct parent *);
static int	 setup_listener(struct parent *);
static int	 setup_cgroups(struct parent *);
static void	 setup_tags(struct parent *);
static int	 bind_addr(const char *, gid_t, int *, struct buf *);
static char	*sock_name(int);
static void	 setup_paths(struct parent *);

/*
 * Everything the roles and workers need from the parent's side, in
 * order; 0, or -1 once the failure is logged.
 */
int
parent_setup(struct parent *p)
{
	setup_paths(p);
	if (setup_users(p) == -1 || setup_dirs(p) == -1)
		return -1;
	setup_tags(p);		/* state_dir files: warnings only */
	parent_hwm_load(p);
	if (setup_listener(p) == -1 || setup_secrets(p) == -1 ||
	    setup_keys(p) == -1 || setup_cgroups(p) == -1)
		return -1;
	return 0;
}

static int
lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	char		*e;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		e = xasprintf("user \"%s\" does not exist%s%s (create it: "
		    "see peipkg-manager.sysusers)", name, errno ? ": " : "",
		    errno ? strerror(errno) : "");
		log_event(LL_ERROR, "construct manager", LKV_S("err", e));
		free(e);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int
setup_users(struct parent *p)
{
	p->p_root = geteuid() == 0;
	p->p_role_user = p->p_cfg->manager.user;
	p->p_build_user = p->p_cfg->build.user;
	if (!p->p_root) {
		p->p_role_uid = p->p_build_uid = getuid();
		p->p_role_gid = p->p_build_gid = getgid();
		return 0;
	}
	if (lookup_user(p->p_role_user, &p->p_role_uid, &p->p_role_gid) ==
	    -1 || lookup_user(p->p_build_user, &p->p_build_uid,
	    &p->p_build_gid) == -1)
		return -1;
	return 0;
}

static int
mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, int root)
{
	struct stat	 st;

	if (mkdir_p(path, mode) == -1 || lstat(path, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		log_event(LL_ERROR, "construct manager", LKV_S("err",
		    errno != 0 ? strerror(errno) : "not a directory"),
		    LKV_S("dir", path));
		return -1;
	}
	if (root && (lchown(path, uid, gid) == -1 ||
	    chmod(path, mode) == -1)) {
		log_event(LL_ERROR, "construct manager", LKV_S("err",
		    strerror(errno)), LKV_S("dir", path));
		return -1;
	}
	return 0;
}

/*
 * state_dir: root:<role group> 1775 (the publisher renames its repo/
 * siblings there; the sticky bit keeps it off jobs/ and logs/);
 * repo/ the role user's; jobs/, logs/ and empty/ root's.
 */
static int
setup_dirs(struct parent *p)
{
	const char	*sd = p->p_cfg->manager.state_dir;
	char		*d[4];
	int		 rc = -1, i;

	d[0] = xasprintf("%s/repo", sd);
	d[1] = xasprintf("%s/jobs", sd);
	d[2] = xasprintf("%s/logs", sd);
	d[3] = xasprintf("%s/empty", sd);
	if (mkdir_owned(sd, p->p_root ? 01775 : 0755, 0, p->p_role_gid,
	    p->p_root) == -1 ||
	    mkdir_owned(d[0], 0755, p->p_role_uid, p->p_role_gid,
	    p->p_root) == -1 ||
	    mkdir_owned(d[1], 0755, 0, 0, p->p_root) == -1 ||
	    mkdir_owned(d[2], 0750, 0, 0, p->p_root) == -1 ||
	    mkdir_owned(d[3], 0755, 0, 0, p->p_root) == -1)
		goto out;
	p->p_empty = xstrdup(d[3]);
	rc = 0;
out:
	for (i = 0; i < 4; i++)
		free(d[i]);
	return rc;
}

/* The published-commits ledger; problems with it are only warnings. */
static void
setup_tags(struct parent *p)
{
	struct buf	 warn = BUF_INIT;
	char		*path = xasprintf("%s/published-commits",
			    p->p_cfg->manager.state_dir);

	p->p_tags = tagledger_open(path, &warn);
	if (warn.len > 0)
		log_event(LL_WARN, "published-commits ledger",
		    LKV_S("warning", buf_str(&warn)));
	buf_free(&warn);
	free(path);
}

/* Webhook secrets, read once (trailing blanks stripped). */
static int
setup_secrets(struct parent *p)
{
	struct buf	 err = BUF_INIT;
	const char	*path;
	int		 f;

	for (f = 0; f < FORGE_NUM; f++) {
		buf_init(&p->p_secret[f]);
		path = config_webhook_secret(p->p_cfg, f);
		if (p->p_listen_fd == -1 || path[0] == '\0')
			continue;
		if (read_file(path, SECRET_MAX, &p->p_secret[f], &err) == -1) {
			log_event(LL_ERROR, "construct manager",
			    LKV_S("err", buf_str(&err)));
			buf_free(&err);
			return -1;
		}
		while (p->p_secret[f].len > 0 && strchr(" \t\r\n",
		    p->p_secret[f].data[p->p_secret[f].len - 1]) != NULL)
			p->p_secret[f].data[--p->p_secret[f].len] = '\0';
	}
	return 0;
}

/* Every key file must open now; the signer reads them later. */
static int
setup_keys(struct parent *p)
{
	const char	*path;
	size_t		 i;
	int		 fd;

	for (i = 0; i <= p->p_cfg->nkeys; i++) {
		path = i == 0 ? p->p_cfg->signing.key_file :
		    p->p_cfg->keys[i - 1].private_path;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
			log_event(LL_ERROR, "construct manager",
			    LKV_S("err", strerror(errno)),
			    LKV_S("key_file", path));
			return -1;
		}
		close(fd);
	}
	return 0;
}

/*
 * Per-build cgroups (memory_max, pids.max, the whole-tree kill), before
 * any child exists.  Optional unless [build] memory_max asks for them.
 */
static int
setup_cgroups(struct parent *p)
{
	struct buf	 err = BUF_INIT;
	const char	*root = getenv("PEIPKG_TEST_CGROUP_ROOT");
	int		 rc = 0;

	if (!p->p_root)
		errf(&err, "not running as root");
	else if (root == NULL || root[0] != '\0')
		p->p_cg = cg_open(root != NULL ? root : "/sys/fs/cgroup", &err);
	else
		errf(&err, "disabled by PEIPKG_TEST_CGROUP_ROOT");
	if (p->p_cg != NULL)
		log_event(LL_INFO, "build cgroups", LKV_S("path",
		    cg_describe(p->p_cg)));
	else if (p->p_cfg->build.memory_max > 0) {
		log_event(LL_ERROR, "construct manager", LKV_S("err",
		    "[build] memory_max needs per-build cgroups"),
		    LKV_S("reason", buf_str(&err)));
		rc = -1;
	} else {
		p->p_cg_why = xstrdup(buf_str(&err));
		log_event(LL_INFO, "build cgroups unavailable",
		    LKV_S("reason", p->p_cg_why));
	}
	buf_free(&err);
	return rc;
}

/* "unix:/path": mode 0660, group `gid` unless (gid_t)-1. */
static int
bind_unix(const char *addr, gid_t gid, struct buf *err)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(addr + 5) >= sizeof(sun.sun_path) || addr[5] != '/') {
		errf(err, "[http].addr %s: not an absolute socket path "
		    "of at most %zu bytes", addr, sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, addr + 5);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    (unlink(sun.sun_path) == -1 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0660) == -1 ||
	    (gid != (gid_t)-1 && chown(sun.sun_path, (uid_t)-1, gid) == -1) ||
	    listen(fd, 128) == -1) {
		errf(err, "listen on %s: %s", addr, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* The first of the addresses that binds and listens, or -1. */
static int
listen_first(const struct addrinfo *res)
{
	const struct addrinfo	*ai;
	int			 fd = -1, one = 1, e;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	return fd;
}

/* "host:port", ":port" or "[v6]:port". */
static int
bind_inet(const char *addr, struct buf *err)
{
	struct addrinfo		 hints, *res = NULL;
	char			*host = xstrdup(addr), *port;
	int			 fd = -1, e;

	if ((port = strrchr(host, ':')) == NULL) {
		errf(err, "[http].addr %s: want host:port, :port, [v6]:port "
		    "or unix:/path", addr);
		goto out;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
		errf(err, "[http].addr %s: %s", addr, gai_strerror(e));
		goto out;
	}
	if ((fd = listen_first(res)) == -1)
		errf(err, "listen on %s: %s", addr, strerror(errno));
out:
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	return fd;
}

/*
 * [http].addr: "unix:/path" (mode 0660, group `gid` unless (gid_t)-1),
 * "host:port", ":port" or "[v6]:port".  Returns a listening socket or -1.
 */
static int
bind_addr(const char *addr, gid_t gid, int *is_unix, struct buf *err)
{
	*is_unix = str_has_prefix(addr, "unix:");
	if (*is_unix)
		return bind_unix(addr, gid, err);
	return bind_inet(addr, err);
}

/* A passed socket's address for the log: unix:/path or host:port. */
static char *
sock_name(int fd)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 len = sizeof(ss);
	char			 host[NI_MAXHOST], serv[NI_MAXSERV];

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return xasprintf("unknown (%s)", strerror(errno));
	if (ss.ss_family == AF_UNIX && (len <= offsetof(struct sockaddr_un,
	    sun_path) || sun->sun_path[0] == '\0'))
		return xstrdup("unix:(abstract or unnamed)");
	if (ss.ss_family == AF_UNIX)
		return xasprintf("unix:%.*s", (int)sizeof(sun->sun_path),
		    sun->sun_path);
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return xasprintf("unknown (family %d)", ss.ss_family);
	if (ss.ss_family == AF_INET6)
		return xasprintf("[%s]:%s", host, serv);
	return xasprintf("%s:%s", host, serv);
}

/* systemd sockets first, else [http].addr; none in --once mode. */
static int
setup_listener(struct parent *p)
{
	struct buf	 err = BUF_INIT;
	struct group	*gr = NULL;
	char		*name;
	int		 n;

	p->p_listen_fd = -1;
	if (p->p_once)
		return 0;
	if ((n = sd_listen_fds(1)) > 0) {
		p->p_listen_fd = SD_LISTEN_FDS_START;
		p->p_listen_unix = sd_is_socket(p->p_listen_fd, AF_UNIX,
		    SOCK_STREAM, 1) > 0;
		fcntl(p->p_listen_fd, F_SETFD, FD_CLOEXEC);
		for (; n > 1; n--)
			close(SD_LISTEN_FDS_START + n - 1);
		name = sock_name(p->p_listen_fd);
		log_event(LL_INFO, "webhook server listening",
		    LKV_S("addr", "systemd socket"), LKV_S("socket", name));
		free(name);
		return 0;
	}
	if (p->p_cfg->http.addr[0] == '\0')
		return 0;
	if (p->p_cfg->http.socket_group[0] != '\0' &&
	    (gr = getgrnam(p->p_cfg->http.socket_group)) == NULL) {
		log_event(LL_ERROR, "construct manager", LKV_S("err",
		    "[http].socket_group: no such group"),
		    LKV_S("group", p->p_cfg->http.socket_group));
		return -1;
	}
	if ((p->p_listen_fd = bind_addr(p->p_cfg->http.addr,
	    gr != NULL ? gr->gr_gid : (gid_t)-1, &p->p_listen_unix,
	    &err)) == -1) {
		log_event(LL_ERROR, "construct manager",
		    LKV_S("err", buf_str(&err)));
		buf_free(&err);
		return -1;
	}
	log_event(LL_INFO, "webhook server listening",
	    LKV_S("addr", p->p_cfg->http.addr));
	return 0;
}

/* Our own executable (roles re-exec it) and the build worker. */
static void
setup_paths(struct parent *p)
{
	char		 self[PATH_MAX], *slash;
	const char	*s;
	ssize_t		 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	p->p_self = xstrdup(self);
	if ((s = getenv("PEIPKG_BUILDD_PATH")) != NULL && s[0] != '\0') {
		p->p_buildd = xstrdup(s);
		return;
	}
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	p->p_buildd = xasprintf("%s/sandbox/peipkg-buildd", self);
	if (access(p->p_buildd, X_OK) == -1) {
		free(p->p_buildd);
		p->p_buildd = xstrdup(LIBEXECDIR "/peipkg-buildd");
	}
}
