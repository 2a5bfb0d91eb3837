/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * log.c: logfmt lines on stderr and native journald entries.  Used by
 * every process; values come from anywhere (tags, paths, errors) and are
 * escaped here, so nothing logged can forge a line or a field.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_MAX_FIELDS	32

static const char	*log_role = "main";
static enum log_level	 log_level = LL_INFO;
static int		 log_journal;
static log_forward_fn	 log_forward;

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const int	 level_prio[] = { 7, 6, 4, 3 };

static int
journal_is_stderr(void)
{
	const char		*e;
	struct stat		 st;
	unsigned long long	 dev, ino;

	if ((e = getenv("JOURNAL_STREAM")) == NULL)
		return 0;
	if (sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *role, enum log_level lvl, enum log_target target)
{
	log_role = role;
	log_level = lvl;
	if (target == LOG_TARGET_AUTO)
		log_journal = journal_is_stderr();
	else
		log_journal = target == LOG_TARGET_JOURNAL;
}

void
log_set_role(const char *role)
{
	log_role = role;
}

void
log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

void
log_set_forward(log_forward_fn fn)
{
	log_forward = fn;
}

int
log_parse_level(const char *s, enum log_level *lvl)
{
	size_t	 i;

	for (i = 0; i < nitems(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_parse_target(const char *s, enum log_target *t)
{
	if (strcmp(s, "auto") == 0)
		*t = LOG_TARGET_AUTO;
	else if (strcmp(s, "stderr") == 0)
		*t = LOG_TARGET_STDERR;
	else if (strcmp(s, "journal") == 0)
		*t = LOG_TARGET_JOURNAL;
	else
		return -1;
	return 0;
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t	 len;

	if (p[0] < 0xc2)
		return 0;
	len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : p[0] < 0xf5 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	return utf8_valid((const char *)p, len) ? len : 0;
}

static int
needs_quote(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, k;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (p[i] <= ' ' || p[i] == '=' || p[i] == '"' || p[i] == 0x7f)
			return 1;
		if (p[i] >= 0x80) {
			if ((k = utf8_seq(p + i, n - i)) == 0)
				return 1;
			/* C1 controls, NBSP and the line separators. */
			if ((p[i] == 0xc2 && p[i + 1] <= 0xa0) ||
			    (p[i] == 0xe2 && p[i + 1] == 0x80 &&
			    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)))
				return 1;
			i += k - 1;
		}
	}
	return 0;
}

void
logfmt_value(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, k;

	if (!needs_quote(s)) {
		buf_add(b, s, n);
		return;
	}
	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '"':  buf_adds(b, "\\\""); continue;
		case '\\': buf_adds(b, "\\\\"); continue;
		case '\n': buf_adds(b, "\\n"); continue;
		case '\r': buf_adds(b, "\\r"); continue;
		case '\t': buf_adds(b, "\\t"); continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f) {
			buf_addf(b, "\\x%02x", p[i]);
		} else if (p[i] < 0x80) {
			buf_addc(b, p[i]);
		} else if ((k = utf8_seq(p + i, n - i)) == 0) {
			buf_addf(b, "\\x%02x", p[i]);
		} else if (p[i] == 0xc2 && p[i + 1] <= 0xa0) {
			buf_addf(b, "\\u%04x", p[i + 1]);
			i += k - 1;
		} else if (p[i] == 0xe2 && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			buf_addf(b, "\\u%04x", 0x2000 | (p[i + 2] & 0x3f));
			i += k - 1;
		} else {
			buf_add(b, p + i, k);
			i += k - 1;
		}
	}
	buf_addc(b, '"');
}

static void
kv_value(struct buf *b, const struct lkv *kv)
{
	if (kv->type == LKV_INT)
		buf_addf(b, "%lld", kv->i);
	else
		buf_adds(b, kv->s == NULL ? "" : kv->s);
}

void
logfmt_line(struct buf *b, int64_t now, enum log_level lvl, const char *msg,
    const struct lkv *kv, const char *role)
{
	struct buf	 v = BUF_INIT;
	char		 ts[32];

	fmt_rfc3339(now, ts);
	buf_addf(b, "time=%s level=%s msg=", ts, level_names[lvl]);
	logfmt_value(b, msg);
	for (; kv != NULL && kv->key != NULL; kv++) {
		buf_reset(&v);
		kv_value(&v, kv);
		buf_addf(b, " %s=", kv->key);
		logfmt_value(b, buf_str(&v));
	}
	if (role != NULL) {
		buf_adds(b, " role=");
		logfmt_value(b, role);
	}
	buf_free(&v);
}

/* PEIPKG_<KEY>: upper case, anything not [A-Z0-9] becomes '_'. */
static char *
journal_field(const char *key, const struct lkv *kv)
{
	struct buf	 b = BUF_INIT;
	const char	*p;

	buf_adds(&b, "PEIPKG_");
	for (p = key; *p != '\0' && b.len < 64; p++)
		buf_addc(&b, isalnum((unsigned char)*p) ?
		    toupper((unsigned char)*p) : '_');
	buf_addc(&b, '=');
	if (kv != NULL)
		kv_value(&b, kv);
	return buf_release(&b);
}

static void
emit_journal(const char *role, enum log_level lvl, const char *line,
    const struct lkv *kv)
{
	struct iovec	 iov[LOG_MAX_FIELDS + 5];
	char		*f[LOG_MAX_FIELDS + 5];
	int		 n = 0, i;

	f[n++] = xasprintf("MESSAGE=%s", line);
	f[n++] = xasprintf("PRIORITY=%d", level_prio[lvl]);
	f[n++] = xstrdup("SYSLOG_IDENTIFIER=peipkg-manager");
	f[n++] = xasprintf("PEIPKG_ROLE=%s", role);
	for (; kv != NULL && kv->key != NULL && n < (int)nitems(f); kv++)
		f[n++] = journal_field(kv->key, kv);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = f[i];
		iov[i].iov_len = strlen(f[i]);
	}
	sd_journal_sendv(iov, n);
	for (i = 0; i < n; i++)
		free(f[i]);
}

void
log_emit_as(const char *role, enum log_level lvl, const char *msg,
    const struct lkv *kv)
{
	struct buf	 line = BUF_INIT;
	int		 saved = errno;

	if (lvl < log_level)
		return;
	logfmt_line(&line, (int64_t)time(NULL), lvl, msg, kv,
	    strcmp(role, "main") == 0 ? NULL : role);
	if (log_journal)
		emit_journal(role, lvl, buf_str(&line), kv);
	else {
		buf_addc(&line, '\n');
		(void)write_full(STDERR_FILENO, line.data, line.len);
	}
	buf_free(&line);
	errno = saved;
}

void
log_eventv(enum log_level lvl, const char *msg, const struct lkv *kv)
{
	if (lvl < log_level)
		return;
	if (log_forward != NULL)
		log_forward(lvl, msg, kv);
	else
		log_emit_as(log_role, lvl, msg, kv);
}

static void
vlog_msg(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	struct buf	 m = BUF_INIT;
	int		 saved = errno;

	if (lvl < log_level)
		return;
	buf_vaddf(&m, fmt, ap);
	if (with_errno)
		buf_addf(&m, ": %s", strerror(saved));
	log_eventv(lvl, buf_str(&m), NULL);
	buf_free(&m);
	errno = saved;
}

#define LOG_FN(name, lvl, e)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	 ap;					\
							\
	va_start(ap, fmt);				\
	vlog_msg((lvl), (e), fmt, ap);			\
	va_end(ap);					\
}
LOG_FN(log_debug, LL_DEBUG, 0)
LOG_FN(log_info, LL_INFO, 0)
LOG_FN(log_warnx, LL_WARN, 0)
LOG_FN(log_warn, LL_WARN, 1)

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_msg(LL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_msg(LL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
