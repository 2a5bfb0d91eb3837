/*
 * fake.c: see fake.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "log.h"

const char		*fake_dir = ".";
volatile sig_atomic_t	 fake_usr1, fake_usr2;
static const char	*fake_name = "fake";

static void
on_sig(int sig)
{
	if (sig == SIGUSR1)
		fake_usr1 = 1;
	else
		fake_usr2 = 1;
}

void
fake_init(const char *name)
{
	struct sigaction	 sa;
	char			 b[32];
	const char		*d;

	fake_name = name;
	if ((d = getenv("PEIPKG_FAKE_DIR")) != NULL)
		fake_dir = d;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	snprintf(b, sizeof(b), "%ld\n", (long)getpid());
	{
		char *rel = xasprintf("%s.pid", name);

		fake_write(rel, b, strlen(b));
		free(rel);
	}
	fake_note("start pid=%ld", (long)getpid());
}

void
fake_note(const char *fmt, ...)
{
	va_list	 ap;
	char	*path;
	FILE	*f;

	path = xasprintf("%s/%s.log", fake_dir, fake_name);
	if ((f = fopen(path, "a")) != NULL) {
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
		fclose(f);
	}
	free(path);
}

char *
fake_file(const char *rel)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;
	char		*path = xasprintf("%s/%s", fake_dir, rel);

	if (read_file(path, 1 << 20, &b, &err) == -1) {
		free(path);
		buf_free(&err);
		return NULL;
	}
	free(path);
	buf_free(&err);
	buf_addc(&b, '\0');
	return buf_release(&b);
}

void
fake_write(const char *rel, const void *p, size_t n)
{
	char	*path = xasprintf("%s/%s", fake_dir, rel);
	char	*tmp = xasprintf("%s.tmp", path);
	int	 fd;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
		(void)write_full(fd, p, n);
		close(fd);
		rename(tmp, path);
	}
	free(tmp);
	free(path);
}

void
fake_send(struct msgbuf *mb, int fd)
{
	struct buf	 err = BUF_INIT;

	if (msg_send(PM_CHAN_FD_FAKE, mb, fd, &err) == -1) {
		fake_note("send failed: %s", buf_str(&err));
		exit(1);
	}
	buf_free(&err);
}

void
fake_event(int level, const char *msg, const char *key, const char *val)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));

	msg_init(mb, PM_LOG, 0);
	msg_put_u8(mb, (uint8_t)level);
	msg_put_str(mb, msg);
	msg_put_u16(mb, 1);
	msg_put_str(mb, key);
	msg_put_str(mb, val);
	fake_send(mb, -1);
	free(mb);
}

/* A record with a wrong protocol version. */
void
fake_garbage(void)
{
	uint8_t	 rec[16] = { 1, 0, 99, 0 };

	fake_note("sending garbage");
	(void)write(PM_CHAN_FD_FAKE, rec, sizeof(rec));
}

char *
fake_str(struct msg *m)
{
	char	*s;

	if (msg_get_str(m, &s, PM_STR_MAX) == -1) {
		fake_note("bad string in %u", m->m_hdr.type);
		exit(1);
	}
	return s;
}

int
fake_recv(struct msg *m, void (*on_usr2)(void))
{
	struct buf	 err = BUF_INIT;
	struct pollfd	 pfd = { PM_CHAN_FD_FAKE, POLLIN, 0 };
	struct msgbuf	 mb;
	uint64_t	 nonce;
	int		 r;

	for (;;) {
		if (fake_usr1) {
			fake_usr1 = 0;
			fake_garbage();
		}
		if (fake_usr2) {
			fake_usr2 = 0;
			if (on_usr2 != NULL)
				on_usr2();
		}
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			exit(1);
		}
		msg_release(m);
		if ((r = msg_recv(PM_CHAN_FD_FAKE, m, &err)) != 1) {
			if (r == -1)
				fake_note("recv error: %s", buf_str(&err));
			buf_free(&err);
			return 0;
		}
		if (m->m_hdr.type != PM_PING)
			return 1;
		if (msg_get_u64(m, &nonce) == -1)
			exit(1);
		{
			char	*rel = xasprintf("%s.nopong", fake_name);
			char	*np = fake_file(rel);

			free(rel);

			free(np);
			if (np != NULL)
				continue;
		}
		msg_init(&mb, PM_PONG, 0);
		msg_put_u64(&mb, nonce);
		fake_send(&mb, -1);
	}
}
