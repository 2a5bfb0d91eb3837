/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent.h: the privileged parent (daemon and --once): shared state of
 * parent.c (loop, boot, signals, reload, stop, status pushes),
 * parent_setup.c (users, directories, listener, secrets, keys),
 * parent_role.c (role processes: spawn, supervision, heartbeats),
 * parent_conf.c (what is shipped to the roles), parent_dispatch.c
 * (the roles' messages), parent_job.c (builds: workers, publishing),
 * parent_jobdir.c (job directories and build logs) and parent_sign.c
 * (the signing relay).
 *
 * Trust: the parent reads its command line, the config and the recipes
 * (operator files) and framed messages from its children, which it
 * validates strictly; a child that breaks the protocol is killed (and a
 * role restarted), never the parent.
 *
 * Test hooks (environment, for tests/integ only):
 *   PEIPKG_ROLE_<HTTP|POLLER|SIGNER|PUBLISHER>_PATH  exec this program
 *			instead of `peipkg-manager -P <role>` (same argv)
 *   PEIPKG_BUILDD_PATH	the build worker (default: sandbox/peipkg-buildd
 *			next to a build-tree peipkg-manager, else
 *			LIBEXECDIR/peipkg-buildd)
 *   PEIPKG_TEST_CLOCK_FILE	wall clock (clock.h)
 *   PEIPKG_TEST_PING_MS	heartbeat interval (default 10000)
 *   PEIPKG_TEST_STOP_TIMEOUT	drain timeout at SIGTERM, seconds (90)
 *   PEIPKG_TEST_CGROUP_ROOT	cgroup file system root (/sys/fs/cgroup);
 *			empty: behave as if there were no cgroups
 */
#ifndef PM_PARENT_H
#define PM_PARENT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include "msg.h"
#include "msgtypes.h"
#include "pmsched.h"
#include "status.h"

struct config;
struct roster;
struct event;
struct event_base;
struct sched;
struct sched_job;

#define PARENT_BOOT_TIMEOUT_MS	10000
#define PARENT_PING_MS		10000
#define PARENT_PING_MISSES	3
#define PARENT_SHUTDOWN_MS	5000
#define PARENT_STOP_TIMEOUT_S	90
#define PARENT_BACKOFF_MIN_MS	100
#define PARENT_BACKOFF_MAX_MS	30000
#define PARENT_STABLE_MS	60000	/* up this long: back-off reset */
#define PARENT_EXIT_GRACE_MS	10000	/* worker exit after BUILD_DONE */
#define PARENT_CGROUP_WAIT_MS	2000	/* for build groups at exit */
#define PARENT_CGROUP_PIDS_EXTRA 64	/* the worker's own tasks */
#define PARENT_RELAYS_MAX	32	/* outstanding signatures/requester */
#define PARENT_WORKER_LOGS_MAX	1000
#define PARENT_DOC_CHUNK	60000

struct parent;

struct child {
	struct parent	*r_parent;
	enum pm_role	 r_role;
	const char	*r_name;
	int		 r_enabled;	/* part of this run */
	pid_t		 r_pid;		/* 0: not running */
	struct peer	 r_peer;
	int		 r_peer_up;
	int		 r_ready;
	int		 r_keys_sent;	/* signer: keys shipped */
	int		 r_pubset_done;	/* publisher: a final PM_PUB_SET */
	int64_t		 r_started;	/* monotonic ns */
	int64_t		 r_backoff_ms;
	struct event	*r_restart_ev;
	uint64_t	 r_nonce;	/* last ping sent */
	int		 r_missed;
	char		 r_why[256];	/* why it was killed */
	int		 r_relays;	/* outstanding sign requests */
	uint32_t	 r_conf_gen;	/* generation being received */
};

enum job_state {
	JOB_BUILDING = 1,	/* worker running */
	JOB_EXITING,		/* BUILD_DONE ok, waiting for the exit */
	JOB_PUBLISHING,		/* PM_PUB_REQ sent */
	JOB_ENDED
};

struct job {
	TAILQ_ENTRY(job) j_entry;
	struct parent	*j_parent;
	int		 j_status;	/* wait status once reaped */
	int		 j_reaped;
	uint32_t	 j_id;
	char		*j_recipe;
	char		*j_version;
	char		*j_tag;
	enum job_state	 j_state;
	pid_t		 j_pid;
	struct peer	 j_peer;
	int		 j_peer_up;
	char		*j_name;	/* <recipe>-<version>-<id> */
	char		*j_dir;		/* state_dir/jobs/<name> */
	int		 j_log_fd;
	char		*j_log;		/* path */
	char		**j_expect;	/* expected output file names */
	size_t		 j_nexpect;
	int		 j_done;	/* BUILD_DONE received */
	int		 j_ok;
	char		*j_err;		/* failure text */
	int64_t		 j_build_ts;	/* commit time, unix s */
	int64_t		 j_mono;	/* start, monotonic ns */
	int64_t		 j_pub_mono;
	int64_t		 j_seen;	/* trigger first seen, wall ns */
	struct event	*j_watchdog;
	struct event	*j_exit_timer;
	int		 j_nlogs;
	int		 j_relays;
	int		 j_killed;
	int		 j_cg;		/* has a cgroup (parent->p_cg) */
	int		 j_has_oid;
	uint8_t		 j_oid[SCHED_OID_LEN];	/* the commit to build */
	uint64_t	 j_memory_max;	/* its limit; 0: none */
};
TAILQ_HEAD(jobq, job);

struct relay {
	TAILQ_ENTRY(relay) rl_entry;
	uint32_t	 rl_id;		/* to the signer */
	uint32_t	 rl_req;	/* the requester's id */
	enum pm_role	 rl_origin;
	uint32_t	 rl_job;	/* 0: the publisher */
};
TAILQ_HEAD(relayq, relay);

struct pubkey {
	char		*k_name;
	uint8_t		 k_pub[32];
};

struct parent {
	struct config	*p_cfg;
	struct roster	*p_ros;
	int		 p_once;
	const char	*p_config_path;
	enum log_level	 p_level;
	struct event_base *p_base;
	struct sched	*p_sched;
	struct status	 p_st;
	struct child	 p_roles[ROLE_NUM];
	uint32_t	 p_gen;		/* recipe table generation */
	int		 p_listen_fd;	/* -1: no HTTP */
	int		 p_listen_unix;
	int		 p_root;
	uid_t		 p_role_uid, p_build_uid;
	gid_t		 p_role_gid, p_build_gid;
	const char	*p_role_user;
	const char	*p_build_user;
	char		*p_self;	/* our executable */
	char		*p_buildd;	/* the worker */
	char		*p_empty;	/* state_dir/empty */
	struct cgroups	*p_cg;		/* per-build groups; NULL: none */
	struct tagledger *p_tags;	/* state_dir/published-commits */
	int64_t		 p_index_hwm;	/* state_dir/index-version */
	char		 p_status_line[512];	/* last STATUS= sent */
	char		*p_cg_why;	/* why there are none */
	struct pubkey	*p_keys;	/* from PM_SIGNER_KEYS */
	size_t		 p_nkeys;
	int		 p_have_keys;
	struct jobq	 p_jobs;
	struct relayq	 p_relays;
	uint32_t	 p_next_relay;
	int		 p_booted;	/* READY=1 sent */
	int		 p_stopping;
	int		 p_exit;	/* loop may end */
	int		 p_rc;
	int64_t		 p_ping_ms;
	int64_t		 p_stop_timeout_s;
	int		 p_once_polls;	/* --once: polls not finished */
	int		 p_once_started;
	uint32_t	 p_doc_gen;
	int		 p_cleanups;	/* job-dir removers running */
	struct event	*p_ev_sig[5];
	struct event	*p_ev_ping;
	struct event	*p_ev_wd;
	struct event	*p_ev_boot;
	struct event	*p_ev_status;
	struct event	*p_ev_stop;
	struct event	*p_ev_kill;
	struct event	*p_ev_sched;
	pid_t		 p_cleanup_pids[64];
	struct buf	 p_secret[FORGE_NUM];
	char		*p_once_pending;	/* per roster recipe */
	uint32_t	 p_last_job;
};

int	 parent_main(struct config *, struct roster *, int once,
	    const char *config_path, enum log_level);

/* parent.c */
void	 parent_changed(struct parent *);	/* status documents stale */
void	 parent_kick(struct parent *);		/* try to start builds */
void	 parent_notify(const char *);		/* sd_notify */
void	 parent_check_done(struct parent *);
void	 parent_child_ready(struct parent *, struct child *);

/* parent_setup.c */
int	 parent_setup(struct parent *);

/* parent_state.c */
void	 parent_hwm_load(struct parent *);
void	 parent_hwm_note(struct parent *, int64_t index_version);

/* parent_role.c */
void	 child_setup(struct parent *);
int	 child_spawn(struct parent *, struct child *);
void	 child_kill(struct parent *, struct child *, const char *why,
	    int proto);
void	 child_reaped(struct parent *, pid_t, int status);
struct child *child_by_pid(struct parent *, pid_t);
void	 child_ping(struct parent *);
void	 child_shutdown(struct parent *);
int	 child_send(struct child *, struct msgbuf *, int fd);
int	 child_all_ready(const struct parent *, struct buf *missing);
int	 child_running(const struct parent *);

/* parent_conf.c */
void	 child_configure(struct parent *, struct child *);
void	 child_send_table(struct parent *, struct child *);
void	 child_send_publisher_conf(struct parent *, struct child *);
void	 child_poll_all(struct parent *, int source);
void	 child_push_docs(struct parent *, const struct buf *,
	    const struct buf *);

/* parent_dispatch.c */
const struct msg_handler *child_table(enum pm_role);
int	 parent_log_msg(struct msg *, const char *role, pid_t, uint32_t job);

/* parent_job.c */
void	 job_start(struct parent *, struct sched_job *);
void	 job_reaped(struct parent *, struct job *, int status);
struct job *job_by_pid(struct parent *, pid_t);
struct job *job_by_id(struct parent *, uint32_t);
void	 job_pub_done(struct parent *, uint32_t id, int ok, const char *err);
void	 job_publisher_lost(struct parent *);
void	 job_kill_all(struct parent *, const char *why);

/* parent_jobdir.c */
int	 job_log_open(struct parent *, struct job *, struct buf *);
int	 job_dirs(struct parent *, struct job *, struct buf *);
void	 job_remove_dir(struct parent *, struct job *);
int	 job_cleanup_reaped(struct parent *, pid_t);
void	 job_prepare_dirs_clean(struct parent *);
void	 job_prune_logs(struct parent *, const char *recipe);

/* parent_sign.c */
int	 job_relay(struct parent *, enum pm_role, uint32_t job,
	    struct child *, struct job *, struct msg *);
int	 job_sign_ans(struct parent *, struct msg *);
void	 child_signer_lost(struct parent *);
void	 job_sign_job(struct parent *, struct job *);
void	 job_resend_sign_jobs(struct parent *);

#endif /* PM_PARENT_H */
