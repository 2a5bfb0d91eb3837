/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * log.h: structured logging for every process.
 *
 * One event is a message plus ordered key/value pairs.  On stderr it is
 * one logfmt line:
 *   time=2026-05-07T14:32:11Z level=info msg="poll complete" recipe=libz
 * Under journald each event is a native entry whose MESSAGE is the same
 * logfmt text, with PRIORITY, SYSLOG_IDENTIFIER, PEIPKG_ROLE and one
 * PEIPKG_<KEY> field per pair.  Sandboxed children install a forwarder
 * that ships events to the parent, which re-emits them.
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include "util.h"

enum log_level {
	LL_DEBUG = 0,
	LL_INFO = 1,
	LL_WARN = 2,
	LL_ERROR = 3
};

enum log_target {
	LOG_TARGET_AUTO = 0,	/* journal if JOURNAL_STREAM is stderr */
	LOG_TARGET_STDERR = 1,
	LOG_TARGET_JOURNAL = 2
};

enum lkv_type {
	LKV_NONE = 0,
	LKV_STR = 1,
	LKV_INT = 2
};

struct lkv {
	const char	*key;
	enum lkv_type	 type;
	const char	*s;
	long long	 i;
};

#define LKV_S(k, v)	((struct lkv){ (k), LKV_STR, (v), 0 })
#define LKV_I(k, v)	((struct lkv){ (k), LKV_INT, NULL, (long long)(v) })
#define LKV_END		((struct lkv){ NULL, LKV_NONE, NULL, 0 })

/* log_event(LL_INFO, "poll complete", LKV_S("recipe", id), LKV_END); */
#define log_event(lvl, msg, ...) \
	log_eventv((lvl), (msg), (const struct lkv []){ __VA_ARGS__, LKV_END })

typedef void (*log_forward_fn)(enum log_level, const char *,
    const struct lkv *);

void	 log_init(const char *role, enum log_level, enum log_target);
void	 log_set_role(const char *);
void	 log_set_level(enum log_level);
enum log_level log_get_level(void);
void	 log_set_forward(log_forward_fn);
int	 log_parse_level(const char *, enum log_level *);
int	 log_parse_target(const char *, enum log_target *);

void	 log_eventv(enum log_level, const char *, const struct lkv *);
/* Emit as `role` (used by the parent for events forwarded by children). */
void	 log_emit_as(const char *, enum log_level, const char *,
	    const struct lkv *);

void	 log_debug(const char *, ...) PM_PRINTF(1, 2);
void	 log_info(const char *, ...) PM_PRINTF(1, 2);
void	 log_warnx(const char *, ...) PM_PRINTF(1, 2);
void	 log_warn(const char *, ...) PM_PRINTF(1, 2);	/* adds strerror */
void	 fatal(const char *, ...) PM_PRINTF(1, 2) PM_NORETURN;
void	 fatalx(const char *, ...) PM_PRINTF(1, 2) PM_NORETURN;

/* logfmt value encoding, exposed for tests and for /status. */
void	 logfmt_value(struct buf *, const char *);
void	 logfmt_line(struct buf *, int64_t, enum log_level, const char *,
	    const struct lkv *, const char *role);

#endif /* PM_LOG_H */
