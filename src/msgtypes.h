/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * msgtypes.h: every message exchanged between peipkg-manager processes,
 * with its payload.  Numbers are explicit and grouped in blocks per area;
 * doc/PROTOCOL lists the same catalogue with the direction of each
 * message and who may send it.  Payload notation (msg.h put/get):
 *   u8 u16 u32 u64 i64	integers, host order
 *   str			u32 length + bytes, no NUL (msg_put_str)
 *   bytes		u32 length + bytes (msg_put_bytes)
 *   fixed[N]		N raw bytes (msg_put_fixed)
 *   +fd			exactly one passed descriptor
 * The header's id carries the request or job id where noted.
 *
 * Trust: the parent receives these from unprivileged children (http,
 * poller, publisher, signer) and from build workers running hostile
 * code; every handler bounds and validates its payload and consumes it
 * exactly (msg_end).  A violation kills and restarts the sender.
 */
#ifndef PM_MSGTYPES_H
#define PM_MSGTYPES_H

/* Limits on strings carried in payloads. */
#define PM_ID_MAX	128		/* recipe ids, package names */
#define PM_STR_MAX	4096		/* paths, URLs, tag names */
#define PM_ERR_MAX	8192		/* error texts */
#define PM_STATUS_DOC_MAX (16 * 1024 * 1024)	/* one PM_STATUS_DOC document */

enum pm_role {
	ROLE_PARENT = 0,
	ROLE_HTTP = 1,
	ROLE_POLLER = 2,
	ROLE_SIGNER = 3,
	ROLE_PUBLISHER = 4,
	ROLE_WORKER = 5,
	ROLE_NUM = 6
};

enum pm_trigger_source {
	SRC_POLL = 1,		/* scheduled poll */
	SRC_WEBHOOK = 2,	/* poll requested by a webhook */
	SRC_RELOAD = 3,		/* poll after SIGHUP */
	SRC_START = 4		/* initial poll at start / --once */
};

/* PM_WEBHOOK_REJECTED reasons. */
enum pm_hook_reject {
	HOOK_BAD_SIGNATURE = 1,	/* missing or wrong HMAC/token */
	HOOK_BAD_REQUEST = 2,	/* method, content type, JSON */
	HOOK_TOO_LARGE = 3,	/* body over [http].max_body */
	HOOK_DUPLICATE = 4,	/* delivery id seen recently */
	HOOK_NUM = 5
};

/* PM_UPLOAD_STATE states. */
enum pm_upload_state {
	UPLOAD_IDLE = 0,
	UPLOAD_RUNNING = 1,
	UPLOAD_FAILED = 2
};

enum pm_msgtype {
	/* ---- 1-99: every channel ------------------------------------ */
	/* child -> parent: u8 level, str msg, u16 n, n x (str key, str value).
	 * The parent re-emits it with the child's role and pid. */
	PM_LOG = 1,
	/* child -> parent: empty; the child finished set-up (config
	 * received, privileges dropped, filter installed).  Once. */
	PM_READY = 2,
	/* parent -> child: empty; finish current work and exit. */
	PM_SHUTDOWN = 3,
	/* parent -> child: u64 nonce; child -> parent PM_PONG u64 nonce.
	 * Missing three pongs in a row gets a child killed (hang). */
	PM_PING = 4,
	PM_PONG = 5,

	/* ---- 100: configuration, parent -> child --------------------- */
	/* -> http, poller: id = generation.  u32 nrecipes.  Starts a new
	 * recipe table; the child switches to it at PM_CONF_END. */
	PM_CONF_BEGIN = 100,
	/* -> http, poller: str recipe id, str git url, str tag_pattern,
	 * i64 peios_revision, str min_version, i64 poll interval ns
	 * (0: never on a schedule, only on PM_POLL_NOW; used by --once),
	 * u8 webhook bits (1 << enum forge), u8 watched, u8 submodules */
	PM_CONF_RECIPE = 101,
	/* -> http, poller: id = generation; the table is complete. */
	PM_CONF_END = 102,
	/* -> http: u8 forge, bytes secret (may be empty: forge disabled) */
	PM_CONF_SECRET = 103,
	/* -> http: str farm_id, u64 max_body, i64 header_timeout ns,
	 * i64 body_idle_timeout, i64 body_timeout, i64 keepalive_timeout,
	 * u32 max_connections, u32 max_pending.  Once. */
	PM_CONF_HTTP = 104,
	/* -> http: +fd listening socket (TCP or Unix), u8 is_unix */
	PM_CONF_LISTENER = 105,
	/* -> poller: i64 connect_timeout ns, i64 timeout ns,
	 * u32 concurrency, u32 max_tags.  Once. */
	PM_CONF_POLL = 106,
	/* -> signer: str key name ("" = the package/repository key),
	 * +fd the key file opened read-only by the parent.  The signer
	 * reads and closes it; the parent never reads key bytes. */
	PM_CONF_KEY = 107,
	/* -> signer: empty; all keys were sent.  Once. */
	PM_CONF_KEYS_END = 108,
	/* -> publisher: str repo dir, str repo name, str description,
	 * str farm_id, u8 upload backend, str remote, i64 retry_initial,
	 * i64 retry_max, fixed[32] package public key, then optionally
	 * str rclone config path ([upload].rclone_config; absent or "" =
	 * inherit RCLONE_CONFIG), then optionally i64 the highest
	 * index_version published before (state_dir/index-version; absent
	 * or 0 = unknown).  Once. */
	PM_CONF_PUBLISHER = 109,
	/* signer -> parent: u16 n, n x (str key name, fixed[32] public
	 * key).  The parent uses them for inject_pubkey and sends the
	 * package key to the publisher.  Once, before PM_READY. */
	PM_SIGNER_KEYS = 110,
	/* -> every role (http, poller, signer, publisher): the first
	 * message, once.  str user (account to switch to; "" when the
	 * parent is not root: keep the ids), str empty_dir (an empty,
	 * root-owned directory the role may chroot to), u8 log level
	 * (enum log_level: events below it need not be forwarded). */
	PM_CONF_ROLE = 111,

	/* ---- 200: polling --------------------------------------------- */
	/* parent -> poller: str recipe id, u8 source (pm_trigger_source) */
	PM_POLL_NOW = 200,
	/* poller -> parent: str recipe id, str tag, str upstream version
	 * (validated capture), fixed[20] commit oid, u8 source */
	PM_POLL_TRIGGER = 201,
	/* poller -> parent: str recipe id, u8 ok, str error ("" if ok),
	 * u32 tags_seen, u32 matches_emitted, u32 skipped_below_min,
	 * i64 finished_at (unix seconds), u8 source */
	PM_POLL_DONE = 202,

	/* ---- 250: webhooks -------------------------------------------- */
	/* http -> parent: id = request id.  u8 forge, str recipe id,
	 * str delivery id.  Signature already verified by http. */
	PM_WEBHOOK = 250,
	/* parent -> http: id = request id.  u8 accepted (1: poll started,
	 * 0: recipe unknown or opted out). */
	PM_WEBHOOK_ACK = 251,
	/* http -> parent: u8 forge, u8 reason (enum pm_hook_reject).  A
	 * webhook request http refused by itself; counted in /metrics
	 * (peipkg_webhooks_total) only. */
	PM_WEBHOOK_REJECTED = 252,

	/* ---- 300: status, parent -> http ------------------------------ */
	/* u8 kind (0 = /status JSON, 1 = /metrics text), u32 generation,
	 * u32 total bytes, u32 offset, bytes chunk.  The document is
	 * complete when offset + chunk == total; http then serves it.
	 * Chunks of one document are sent in order; a new generation
	 * abandons an incomplete one.  total <= PM_STATUS_DOC_MAX. */
	PM_STATUS_DOC = 300,

	/* ---- 400: signing --------------------------------------------- */
	/* worker or publisher -> parent: id = request id.  u8 kind
	 * (enum sign_kind), str subject, str key name ("" = package key),
	 * fixed[32] SHA-256 digest. */
	PM_SIGN_REQ = 400,
	/* parent -> signer: id = relay id.  u8 origin (pm_role), u32 job id
	 * (0 for the publisher), u8 kind, str subject, str key name,
	 * fixed[32] digest.  The parent sets origin and job from the
	 * channel the request came in on; the requester cannot forge them. */
	PM_SIGN_RELAY = 401,
	/* signer -> parent (id = relay id), parent -> requester (id =
	 * request id): u8 ok, fixed[64] signature, fixed[32] public key,
	 * str error ("" if ok). */
	PM_SIGN_ANS = 402,
	/* parent -> signer: id = job id.  str recipe id, str version,
	 * u16 npkgs, npkgs x str package name, u16 nsign,
	 * nsign x (str path, str key name): what the job may have signed
	 * (each package once; each granted [[sign]] path once). */
	PM_SIGN_JOB = 403,
	/* parent -> signer: id = job id; the job ended, revoke it. */
	PM_SIGN_JOB_END = 404,

	/* ---- 500: builds, parent <-> worker --------------------------- */
	/* parent -> worker: id = job id.  The job description: str recipe
	 * id, str recipe file, str version, str upstream version, str tag,
	 * u8 have_commit, fixed[20] commit (the one the poll saw; the
	 * worker refuses to build another; zeros when unknown), str git url, u8 submodules, str farm_id, str source_ref,
	 * str job dir, u32 uid, u32 gid (build user), i64 wall_timeout ns,
	 * i64 idle_timeout ns, i64 kill_grace ns, u64 log_max,
	 * u64 max_processes, u64 max_open_files, u64 max_file_size,
	 * u8 allow_ptrace, u32 zstd_level, u16 nhide, nhide x str path,
	 * u16 nenv, nenv x str NAME=VALUE (grant injections),
	 * u16 nkeys, nkeys x str granted binary-signing key name. */
	PM_BUILD_JOB = 500,
	/* parent -> worker: +fd the build log file (append-only). */
	PM_BUILD_LOG_FD = 501,
	/* worker -> parent: u8 phase (1 fetch, 2 build, 3 pack), str detail */
	PM_BUILD_PHASE = 502,
	/* worker -> parent: id = job id.  u8 ok, str error,
	 * i64 build timestamp (commit time, unix seconds),
	 * u16 n, n x str output file name (in <job dir>/out). */
	PM_BUILD_DONE = 503,

	/* ---- 600: publishing ------------------------------------------ */
	/* parent -> publisher: id = job id.  str recipe id, str version,
	 * u16 n, n x str expected package file name, +fd the job's output
	 * directory (O_DIRECTORY, opened by the parent). */
	PM_PUB_REQ = 600,
	/* publisher -> parent: id = job id.  u8 ok, str error,
	 * u64 index_version, u8 clamped (generated_at clamped forward). */
	PM_PUB_DONE = 601,
	/* publisher -> parent: u8 final (1 = this completes the set),
	 * u8 reset (1 = replace the set), u16 n, n x (str name, str version).
	 * What the archive holds, for dedup; sent at start (reset) and
	 * after each publish (additions). */
	PM_PUB_SET = 602,
	/* publisher -> parent: u8 state (0 idle/ok, 1 uploading,
	 * 2 failed, retry pending), str error, i64 next_retry (unix s),
	 * u64 index_version uploaded. */
	PM_UPLOAD_STATE = 603
};

#endif /* PM_MSGTYPES_H */
