/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * publisher_upload.c: the publisher's upload driver and the uploader
 * process ([upload] backend = "rclone"; publisher.h).
 *
 * The uploader is forked by the publisher before its seccomp filter is
 * installed (the filter forbids exec, rclone must be exec'd).  It puts
 * itself in its own process group, dies with the publisher, demotes
 * itself to the role user (no capabilities, NO_NEW_PRIVS) and installs
 * a deny-list filter (namespaces, mounts, ptrace, kernel keyrings, bpf,
 * modules, ...: kill) that rclone inherits.  Then it waits for
 * PUB_UPL_RUN and runs the ordered upload of upload.h (packages, keys,
 * indexes, descriptor, then a sync) from a hard-linked snapshot of the
 * repository, "<parent>/.<repo>.upload", which the publisher makes while
 * no publish is running, so rclone never reads a tree that is being
 * switched.
 *
 * Scheduling (publisher side): an upload starts after every successful
 * publish and once at start (everything).  While one runs, a newer
 * publish only marks another run wanted.  A failure is logged (WARN
 * "upload failed" err, next_retry_after), reported with PM_UPLOAD_STATE
 * and retried after retry_initial, doubling up to retry_max; a later
 * publish supersedes the pending retry and starts at once.  The paths
 * the publishes wrote accumulate until an upload succeeds, so the next
 * run covers everything; success logs INFO "upload complete".
 *
 * Trust: rclone's output is untrusted text, only quoted in messages.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <seccomp.h>

#include "duration.h"
#include "fsutil.h"
#include "log.h"
#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "publisher.h"
#include "role.h"
#include "upload.h"

struct upl {
	struct role	*u_role;
	pid_t		 u_pid;
	int		 u_sock;
	struct event	*u_ev;
	struct event	*u_timer;
	struct msg	*u_msg;
	int		 u_enabled;
	char		*u_repo, *u_parent, *u_base, *u_remote, *u_rconf;
	char		*u_snap;	/* snapshot name in u_parent */
	int64_t		 u_retry_initial, u_retry_max, u_delay;
	int		 u_state;	/* enum pm_upload_state */
	int		 u_want;	/* a run is wanted */
	/* Pending: written since the last successful upload. */
	int		 u_all;
	char		**u_paths;
	size_t		 u_npaths, u_bytes;
	/* Taken by the running upload. */
	int		 u_run_all;
	char		**u_run_paths;
	size_t		 u_run_npaths;
	int64_t		 u_target_iv, u_run_iv, u_done_iv;
};

static void	 uploader_main(int, const char *, pid_t) PM_NORETURN;
static int	 uploader_filter(struct buf *);
static int	 uploader_run(int, struct msg *, struct buf *);
static void	 read_cb(evutil_socket_t, short, void *);
static void	 retry_cb(evutil_socket_t, short, void *);
static void	 add_path(struct upl *, const char *);
static void	 clear_pending(struct upl *);
static void	 give_back(struct upl *);
static int	 snapshot(struct upl *, struct buf *);
static void	 snapshot_remove(struct upl *);
static int	 send_run(struct upl *, struct buf *);
static void	 finished(struct upl *, int, const char *);
static void	 send_state(struct upl *, int, const char *, int64_t);
static void	 stop_uploader(struct upl *);

/* ---- the uploader process ---------------------------------------------- */

static const char *const deny[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "mount",
	"umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree",
	"move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
	"mount_setattr", "name_to_handle_at", "open_by_handle_at", "bpf",
	"perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "keyctl", "add_key",
	"request_key", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "iopl", "ioperm", "modify_ldt", "swapon",
	"swapoff", "reboot", "settimeofday", "clock_settime",
	"clock_adjtime", "adjtimex", "acct", "quotactl", "syslog", "uselib",
	"vhangup", "lookup_dcookie", "setuid", "setgid", "setreuid",
	"setregid", "setresuid", "setresgid", "setgroups", "capset",
};

/* rclone is a Go program with a large syscall set: deny, not allow. */
static int
uploader_filter(struct buf *err)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 nr, r = 0;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return errf(err, "seccomp_init failed");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	for (i = 0; r >= 0 && i < nitems(deny); i++)
		if ((nr = seccomp_syscall_resolve_name(deny[i])) >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
	if (r >= 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return errf(err, "uploader seccomp filter: %s", strerror(-r));
	return 0;
}

static void
uploader_main(int sock, const char *user, pid_t parent)
{
	struct buf	 err = BUF_INIT;
	struct msg	*m = xmalloc(sizeof(*m));
	int		 r;

	log_set_forward(NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	(void)setpgid(0, 0);
	signal(SIGPIPE, SIG_IGN);
	if (sock > 3)
		(void)close_range(3, (unsigned)sock - 1, 0);
	(void)close_range((unsigned)sock + 1, ~0U, 0);
	if (proc_drop_privileges(geteuid() == 0 ? user : NULL, NULL,
	    &err) == -1 || uploader_filter(&err) == -1) {
		log_event(LL_ERROR, "uploader start-up failed",
		    LKV_S("err", buf_str(&err)));
		_exit(1);
	}
	while ((r = msg_recv(sock, m, &err)) == 1) {
		if (m->m_hdr.type != PUB_UPL_RUN ||
		    uploader_run(sock, m, &err) == -1)
			break;
		msg_release(m);
	}
	_exit(r == 0 ? 0 : 1);
}

/* PUB_UPL_RUN: u64 iv, str local, str remote, str rclone config, u8 all,
 * u16 n, n x str path.  Answer PUB_UPL_DONE: u64 iv, u8 ok, u8 phase,
 * str error. */
static int
uploader_run(int sock, struct msg *m, struct buf *err)
{
	struct upload_opts	 o;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	struct buf		 e = BUF_INIT;
	enum upload_phase	 ph = UPLOAD_NONE;
	char			*local = NULL, *remote = NULL, *rc = NULL;
	char			**paths = NULL;
	uint64_t		 iv;
	uint16_t		 n = 0, i;
	uint8_t			 all;
	int			 ok, rv = -1;

	if (msg_get_u64(m, &iv) == -1 ||
	    msg_get_str(m, &local, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &remote, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &rc, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &all) == -1 || msg_get_u16(m, &n) == -1)
		goto out;
	paths = xcalloc((size_t)n + 1, sizeof(*paths));
	for (i = 0; i < n; i++)
		if (msg_get_str(m, &paths[i], PM_STR_MAX) == -1)
			goto out;
	if (msg_end(m) == -1)
		goto out;
	if (rc[0] != '\0')
		setenv("RCLONE_CONFIG", rc, 1);
	memset(&o, 0, sizeof(o));
	o.local = local;
	o.remote = remote;
	o.paths = all ? NULL : paths;
	o.npaths = all ? 0 : n;
	o.sync = 1;
	o.timeout = PUB_UPLOAD_TIMEOUT_S;
	ok = upload_run(&o, &ph, &e) == 0;
	msg_init(mb, PUB_UPL_DONE, 0);
	msg_put_u64(mb, iv);
	msg_put_u8(mb, (uint8_t)ok);
	msg_put_u8(mb, (uint8_t)ph);
	msg_put_bytes(mb, buf_str(&e), e.len > PM_ERR_MAX ? PM_ERR_MAX : e.len);
	rv = msg_send(sock, mb, -1, err);
out:
	for (i = 0; paths != NULL && i <= n; i++)
		free(paths[i]);
	free(paths);
	free(local);
	free(remote);
	free(rc);
	free(mb);
	buf_free(&e);
	return rv;
}

/* ---- the driver (publisher side) --------------------------------------- */

struct upl *
upl_spawn(struct role *r, const char *user, struct buf *err)
{
	struct upl	*u;
	int		 sv[2];
	pid_t		 pid, self = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		errf(err, "socketpair: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) == -1) {
		errf(err, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0)
		uploader_main(sv[1], user, self);
	close(sv[1]);
	u = xcalloc(1, sizeof(*u));
	u->u_role = r;
	u->u_pid = pid;
	u->u_sock = sv[0];
	u->u_msg = xmalloc(sizeof(*u->u_msg));
	u->u_ev = event_new(r->r_base, sv[0], EV_READ | EV_PERSIST, read_cb, u);
	u->u_timer = evtimer_new(r->r_base, retry_cb, u);
	if (u->u_ev == NULL || u->u_timer == NULL ||
	    event_add(u->u_ev, NULL) == -1)
		fatalx("cannot watch the uploader");
	return u;
}

void
upl_configure(struct upl *u, const struct upl_conf *c)
{
	if (c == NULL) {
		stop_uploader(u);
		return;
	}
	u->u_enabled = 1;
	u->u_repo = xstrdup(c->repo);
	u->u_parent = xstrdup(c->parent);
	u->u_base = xstrdup(c->base);
	u->u_remote = xstrdup(c->remote);
	u->u_rconf = xstrdup(c->rclone_config);
	u->u_snap = xasprintf(".%s.upload", c->base);
	u->u_retry_initial = u->u_delay = c->retry_initial;
	u->u_retry_max = c->retry_max;
	snapshot_remove(u);
}

static void
add_path(struct upl *u, const char *p)
{
	if (u->u_all)
		return;
	u->u_bytes += strlen(p) + 4;
	if (u->u_bytes > PUB_UPLOAD_PATHS_MAX) {
		clear_pending(u);
		u->u_all = 1;
		return;
	}
	u->u_paths = xreallocarray(u->u_paths, u->u_npaths + 1,
	    sizeof(*u->u_paths));
	u->u_paths[u->u_npaths++] = xstrdup(p);
}

static void
clear_pending(struct upl *u)
{
	size_t	 i;

	for (i = 0; i < u->u_npaths; i++)
		free(u->u_paths[i]);
	free(u->u_paths);
	u->u_paths = NULL;
	u->u_npaths = u->u_bytes = 0;
}

void
upl_published(struct upl *u, int64_t iv, char *const *paths, size_t n)
{
	size_t	 i;

	if (u == NULL || !u->u_enabled)
		return;
	u->u_target_iv = iv;
	if (paths == NULL) {
		clear_pending(u);
		u->u_all = 1;
	}
	for (i = 0; paths != NULL && i < n; i++)
		add_path(u, paths[i]);
	u->u_want = 1;
	/* A newer publish supersedes a pending retry. */
	if (u->u_state == UPLOAD_FAILED)
		evtimer_del(u->u_timer);
	upl_kick(u);
}

void
upl_full(struct upl *u, int64_t iv)
{
	upl_published(u, iv, NULL, 0);
}

void
upl_kick(struct upl *u)
{
	struct buf	 err = BUF_INIT;

	if (u == NULL || !u->u_enabled || !u->u_want ||
	    u->u_state == UPLOAD_RUNNING || pub_busy())
		return;
	u->u_want = 0;
	u->u_run_all = u->u_all;
	u->u_run_paths = u->u_paths;
	u->u_run_npaths = u->u_npaths;
	u->u_paths = NULL;
	u->u_npaths = u->u_bytes = 0;
	u->u_all = 0;
	u->u_run_iv = u->u_target_iv;
	if (snapshot(u, &err) == -1 || send_run(u, &err) == -1) {
		u->u_state = UPLOAD_RUNNING;
		finished(u, 0, buf_str(&err));
	} else {
		u->u_state = UPLOAD_RUNNING;
		log_event(LL_DEBUG, "upload started", LKV_I("index_version",
		    u->u_run_iv), LKV_S("remote", u->u_remote));
		send_state(u, UPLOAD_RUNNING, "", 0);
	}
	buf_free(&err);
}

static int
snapshot(struct upl *u, struct buf *err)
{
	struct fs_dir	 parent = { -1, NULL }, src = { -1, NULL };
	struct fs_dir	 dst = { -1, NULL };
	int		 rc = -1;

	if (fs_dir_open(&parent, AT_FDCWD, u->u_parent, u->u_parent,
	    err) == 0 && fs_remove_tree(&parent, u->u_snap, err) == 0 &&
	    fs_dir_open(&src, parent.fd, u->u_base, u->u_repo, err) == 0 &&
	    fs_dir_mkdir(&dst, &parent, u->u_snap, 0, err) == 0 &&
	    fs_link_tree(&src, &dst, NULL, NULL, NULL, err) == 0)
		rc = 0;
	fs_dir_close(&dst);
	fs_dir_close(&src);
	fs_dir_close(&parent);
	if (rc == -1)
		errf(err, "cannot snapshot %s for the upload", u->u_repo);
	return rc;
}

static void
snapshot_remove(struct upl *u)
{
	struct fs_dir	 parent = { -1, NULL };
	struct buf	 err = BUF_INIT;

	if (fs_dir_open(&parent, AT_FDCWD, u->u_parent, u->u_parent,
	    &err) == -1 || fs_remove_tree(&parent, u->u_snap, &err) == -1)
		log_event(LL_WARN, "cannot remove the upload snapshot",
		    LKV_S("err", buf_str(&err)));
	fs_dir_close(&parent);
	buf_free(&err);
}

static int
send_run(struct upl *u, struct buf *err)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	char		*local;
	size_t		 i;
	int		 rc;

	local = xasprintf("%s/%s", u->u_parent, u->u_snap);
	msg_init(mb, PUB_UPL_RUN, 0);
	msg_put_u64(mb, (uint64_t)u->u_run_iv);
	msg_put_str(mb, local);
	msg_put_str(mb, u->u_remote);
	msg_put_str(mb, u->u_rconf);
	msg_put_u8(mb, (uint8_t)u->u_run_all);
	msg_put_u16(mb, u->u_run_all ? 0 : (uint16_t)u->u_run_npaths);
	for (i = 0; !u->u_run_all && i < u->u_run_npaths; i++)
		msg_put_str(mb, u->u_run_paths[i]);
	rc = u->u_sock == -1 ? errf(err, "the uploader is not running") :
	    msg_send(u->u_sock, mb, -1, err);
	free(local);
	free(mb);
	return rc;
}

/* A failed run's paths go back to the pending set, for the retry. */
static void
give_back(struct upl *u)
{
	size_t	 i;

	if (u->u_run_all) {
		clear_pending(u);
		u->u_all = 1;
	}
	for (i = 0; i < u->u_run_npaths; i++)
		add_path(u, u->u_run_paths[i]);
}

static void
finished(struct upl *u, int ok, const char *err)
{
	struct timeval	 tv;
	size_t		 i;
	int64_t		 next;

	snapshot_remove(u);
	if (!ok)
		give_back(u);
	for (i = 0; i < u->u_run_npaths; i++)
		free(u->u_run_paths[i]);
	free(u->u_run_paths);
	u->u_run_paths = NULL;
	u->u_run_npaths = 0;
	if (ok) {
		u->u_state = UPLOAD_IDLE;
		u->u_done_iv = u->u_run_iv;
		u->u_delay = u->u_retry_initial;
		log_event(LL_INFO, "upload complete", LKV_I("index_version",
		    u->u_done_iv), LKV_S("remote", u->u_remote));
		send_state(u, UPLOAD_IDLE, "", 0);
		upl_kick(u);
		return;
	}
	u->u_state = UPLOAD_FAILED;
	next = (int64_t)time(NULL) + u->u_delay / 1000000000;
	log_event(LL_WARN, "upload failed", LKV_S("err", err),
	    LKV_S("next_retry_after", duration_str(u->u_delay)),
	    LKV_I("index_version", u->u_run_iv));
	send_state(u, UPLOAD_FAILED, err, next);
	tv.tv_sec = u->u_delay / 1000000000;
	tv.tv_usec = (u->u_delay % 1000000000) / 1000;
	u->u_delay = u->u_delay > u->u_retry_max / 2 ? u->u_retry_max :
	    u->u_delay * 2;
	if (u->u_want)
		upl_kick(u);	/* a publish came meanwhile: supersedes */
	else
		evtimer_add(u->u_timer, &tv);
}

/* PM_UPLOAD_STATE: u8 state, str error, i64 next_retry (unix s),
 * u64 index_version uploaded. */
static void
send_state(struct upl *u, int state, const char *err, int64_t next)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	size_t		 n = strlen(err);

	msg_init(mb, PM_UPLOAD_STATE, 0);
	msg_put_u8(mb, (uint8_t)state);
	msg_put_bytes(mb, err, n > PM_ERR_MAX ? PM_ERR_MAX : n);
	msg_put_i64(mb, next);
	msg_put_u64(mb, (uint64_t)u->u_done_iv);
	(void)role_send(u->u_role, mb, -1);
	free(mb);
}

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upl	*u = arg;

	u->u_want = 1;
	upl_kick(u);
}

static void
read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upl	*u = arg;
	struct msg	*m = u->u_msg;
	struct buf	 err = BUF_INIT;
	char		*e = NULL, *full;
	uint64_t	 iv;
	uint8_t		 ok, ph;
	int		 r;

	if ((r = msg_recv(fd, m, &err)) == 2)
		goto out;
	if (r != 1 || m->m_hdr.type != PUB_UPL_DONE ||
	    msg_get_u64(m, &iv) == -1 || msg_get_u8(m, &ok) == -1 ||
	    msg_get_u8(m, &ph) == -1 || msg_get_str(m, &e, PM_ERR_MAX) == -1 ||
	    msg_end(m) == -1 || u->u_state != UPLOAD_RUNNING) {
		log_event(LL_ERROR, "the uploader failed", LKV_S("err",
		    r == 0 ? "it exited" : r == -1 ? buf_str(&err) :
		    "unexpected message"));
		msg_release(m);
		role_exit(u->u_role, 1);
		goto out;
	}
	full = ok ? xstrdup("") : xasprintf("%s (upload stopped in the %s "
	    "phase)", e, upload_phase_name((enum upload_phase)ph));
	finished(u, ok, full);
	free(full);
out:
	free(e);
	buf_free(&err);
}

/* ---- teardown ---------------------------------------------------------- */

void
upl_close_in_child(struct upl *u)
{
	if (u != NULL && u->u_sock != -1)
		close(u->u_sock);
}

static void
stop_uploader(struct upl *u)
{
	int	 st;

	u->u_enabled = 0;
	if (u->u_ev != NULL)
		event_free(u->u_ev);
	u->u_ev = NULL;
	if (u->u_sock != -1)
		close(u->u_sock);
	u->u_sock = -1;
	if (u->u_pid > 0) {
		kill(-u->u_pid, SIGTERM);
		kill(u->u_pid, SIGTERM);
		while (waitpid(u->u_pid, &st, 0) == -1 && errno == EINTR)
			;
	}
	u->u_pid = 0;
}

void
upl_free(struct upl *u)
{
	if (u == NULL)
		return;
	stop_uploader(u);
	if (u->u_snap != NULL && u->u_state == UPLOAD_RUNNING)
		snapshot_remove(u);
	if (u->u_timer != NULL)
		event_free(u->u_timer);
	clear_pending(u);
	u->u_paths = u->u_run_paths;
	u->u_npaths = u->u_run_npaths;
	clear_pending(u);
	free(u->u_repo);
	free(u->u_parent);
	free(u->u_base);
	free(u->u_remote);
	free(u->u_rconf);
	free(u->u_snap);
	free(u->u_msg);
	free(u);
}
