/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fakeparent.c: plays the parent of one role process for integration
 * tests.  It opens the listeners, spawns the role with proc_spawn() (its
 * channel on fd 3), sends the http configuration, and prints every
 * message it receives, one line each, on stdout:
 *
 *	PID <pid> | LISTEN tcp <addr> | LISTEN unix <path> | READY
 *	LOG <level> <message>[ <key>=<value>...]
 *	WEBHOOK id=<id> forge=<n> recipe=<id> delivery=<id>
 *	REJECTED forge=<n> reason=<n>
 *	PONG <nonce> | EXIT <how the role ended>
 *
 *	fakeparent [-a accept|reject|hold] [-c fifo] [-C chunk] [-e dir]
 *	    [-l level] [-m key=value]... [-r id,url,bits,watched]...
 *	    [-s forge=file]... [-t host:port]... [-u user] [-U path]...
 *	    -- program [arg...]
 *
 * The first message is PM_CONF_ROLE (-u user, -e empty dir, -l level),
 * as the real parent sends it.
 * -m keys: max_body (bytes), header_timeout, body_idle_timeout,
 * body_timeout, keepalive_timeout (milliseconds), max_connections,
 * max_pending.  Commands read from the fifo, one per line:
 *	status FILE | metrics FILE	push a document (in -C byte chunks)
 *	ack accept|reject|hold		how to answer PM_WEBHOOK
 *	release				accept every held PM_WEBHOOK
 *	secret FORGE FILE|-		send PM_CONF_SECRET (- = empty)
 *	reload				send the recipe table again
 *	ping | shutdown | garbage	PM_PING, PM_SHUTDOWN, a bad message
 * It exits when the role exits.
 *
 * Trust: a test tool.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "recipe.h"

#define MAXL	16
#define MAXR	64
#define MS	INT64_C(1000000)

enum ackmode { ACK_ACCEPT, ACK_REJECT, ACK_HOLD };

struct recipe_arg {
	char		*id;
	char		*url;
	unsigned	 bits;
	unsigned	 watched;
};

static struct {
	struct event_base	*base;
	struct peer		 child;
	pid_t			 pid;
	int			 lfd[MAXL];
	int			 lunix[MAXL];
	int			 nl;
	struct recipe_arg	 r[MAXR];
	int			 nr;
	char			*secret[FORGE_NUM];	/* file names */
	uint64_t		 max_body;
	int64_t			 to[4];		/* ns */
	uint32_t		 max_conns, max_pending;
	enum ackmode		 ack;
	uint32_t		 held[1024];
	int			 nheld;
	uint32_t		 gen;
	size_t			 chunk;
	const char		*user, *empty;
	int			 level;
	int			 fifo;
	struct buf		 line;
	struct msgbuf		 mb;
} F;

static void
die(const char *what)
{
	fprintf(stderr, "fakeparent: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
send_mb(int fd)
{
	if (peer_send(&F.child, &F.mb, fd) == -1)
		fprintf(stderr, "fakeparent: peer_send failed\n");
}

static void
send_secret(int forge, const char *file)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;

	if (file != NULL && strcmp(file, "-") != 0 &&
	    read_file(file, 4096, &b, &err) == -1) {
		fprintf(stderr, "fakeparent: %s\n", buf_str(&err));
		exit(2);
	}
	msg_init(&F.mb, PM_CONF_SECRET, 0);
	msg_put_u8(&F.mb, (uint8_t)forge);
	msg_put_bytes(&F.mb, b.data != NULL ? b.data : "", b.len);
	send_mb(-1);
	buf_free(&b);
	buf_free(&err);
}

static void
send_table(void)
{
	int	 i;

	F.gen++;
	msg_init(&F.mb, PM_CONF_BEGIN, F.gen);
	msg_put_u32(&F.mb, (uint32_t)F.nr);
	send_mb(-1);
	for (i = 0; i < F.nr; i++) {
		msg_init(&F.mb, PM_CONF_RECIPE, 0);
		msg_put_str(&F.mb, F.r[i].id);
		msg_put_str(&F.mb, F.r[i].url);
		msg_put_str(&F.mb, "^v(.*)$");
		msg_put_i64(&F.mb, 1);
		msg_put_str(&F.mb, "");
		msg_put_i64(&F.mb, 3600 * INT64_C(1000000000));
		msg_put_u8(&F.mb, (uint8_t)F.r[i].bits);
		msg_put_u8(&F.mb, (uint8_t)F.r[i].watched);
		msg_put_u8(&F.mb, 0);
		send_mb(-1);
	}
	msg_init(&F.mb, PM_CONF_END, F.gen);
	send_mb(-1);
}

static void
send_config(void)
{
	int	 i;

	msg_init(&F.mb, PM_CONF_ROLE, 0);
	msg_put_str(&F.mb, F.user != NULL ? F.user : "");
	msg_put_str(&F.mb, F.empty != NULL ? F.empty : "");
	msg_put_u8(&F.mb, (uint8_t)F.level);
	send_mb(-1);
	msg_init(&F.mb, PM_CONF_HTTP, 0);
	msg_put_str(&F.mb, "test-farm");
	msg_put_u64(&F.mb, F.max_body);
	for (i = 0; i < 4; i++)
		msg_put_i64(&F.mb, F.to[i]);
	msg_put_u32(&F.mb, F.max_conns);
	msg_put_u32(&F.mb, F.max_pending);
	send_mb(-1);
	for (i = 0; i < FORGE_NUM; i++)
		send_secret(i, F.secret[i]);
	for (i = 0; i < F.nl; i++) {
		msg_init(&F.mb, PM_CONF_LISTENER, 0);
		msg_put_u8(&F.mb, (uint8_t)F.lunix[i]);
		send_mb(F.lfd[i]);
	}
	send_table();
}

static void
send_doc(int kind, const char *file)
{
	struct buf	 b = BUF_INIT, err = BUF_INIT;
	size_t		 off = 0, k;

	if (read_file(file, 16 << 20, &b, &err) == -1) {
		fprintf(stderr, "fakeparent: %s\n", buf_str(&err));
		return;
	}
	F.gen++;
	do {
		k = b.len - off < F.chunk ? b.len - off : F.chunk;
		msg_init(&F.mb, PM_STATUS_DOC, 0);
		msg_put_u8(&F.mb, (uint8_t)kind);
		msg_put_u32(&F.mb, F.gen);
		msg_put_u32(&F.mb, (uint32_t)b.len);
		msg_put_u32(&F.mb, (uint32_t)off);
		msg_put_bytes(&F.mb, b.data != NULL ? b.data + off : "", k);
		send_mb(-1);
		off += k;
	} while (off < b.len);
	buf_free(&b);
	buf_free(&err);
}

static void
send_ack(uint32_t id, int accepted)
{
	msg_init(&F.mb, PM_WEBHOOK_ACK, id);
	msg_put_u8(&F.mb, (uint8_t)accepted);
	send_mb(-1);
}

/* ---- messages from the role ---------------------------------------- */

static int
on_log(struct peer *p, struct msg *m)
{
	static const char *const lv[] = { "debug", "info", "warn", "error" };
	char		*s = NULL, *k = NULL, *v = NULL;
	uint8_t		 level;
	uint16_t	 n;

	if (msg_get_u8(m, &level) == -1 || level > 3 ||
	    msg_get_str(m, &s, PM_STR_MAX) == -1 ||
	    msg_get_u16(m, &n) == -1)
		return -1;
	printf("LOG %s %s", lv[level], s);
	free(s);
	while (n-- > 0) {
		if (msg_get_str(m, &k, PM_STR_MAX) == -1 ||
		    msg_get_str(m, &v, PM_STR_MAX) == -1)
			return -1;
		printf(" %s=%s", k, v);
		free(k);
		free(v);
		k = v = NULL;
	}
	printf("\n");
	return msg_end(m);
}

static int
on_ready(struct peer *p, struct msg *m)
{
	printf("READY\n");
	return msg_end(m);
}

static int
on_pong(struct peer *p, struct msg *m)
{
	uint64_t	 nonce;

	if (msg_get_u64(m, &nonce) == -1)
		return -1;
	printf("PONG %llu\n", (unsigned long long)nonce);
	return msg_end(m);
}

static int
on_webhook(struct peer *p, struct msg *m)
{
	char		*recipe = NULL, *delivery = NULL;
	uint8_t		 forge;

	if (msg_get_u8(m, &forge) == -1 ||
	    msg_get_str(m, &recipe, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &delivery, PM_STR_MAX) == -1 || msg_end(m) == -1)
		return -1;
	printf("WEBHOOK id=%u forge=%u recipe=%s delivery=%s\n",
	    m->m_hdr.id, forge, recipe, delivery);
	free(recipe);
	free(delivery);
	if (F.ack == ACK_HOLD && F.nheld < (int)nitems(F.held))
		F.held[F.nheld++] = m->m_hdr.id;
	else if (F.ack != ACK_HOLD)
		send_ack(m->m_hdr.id, F.ack == ACK_ACCEPT);
	return 0;
}

static int
on_rejected(struct peer *p, struct msg *m)
{
	uint8_t		 forge, reason;

	if (msg_get_u8(m, &forge) == -1 || msg_get_u8(m, &reason) == -1)
		return -1;
	printf("REJECTED forge=%u reason=%u\n", forge, reason);
	return msg_end(m);
}

static const struct msg_handler child_table[] = {
	{ PM_LOG, 7, PM_PAYLOAD_MAX, 0, on_log },
	{ PM_READY, 0, 0, MSG_ONCE, on_ready },
	{ PM_PONG, 8, 8, 0, on_pong },
	{ PM_WEBHOOK, 9, PM_PAYLOAD_MAX, 0, on_webhook },
	{ PM_WEBHOOK_REJECTED, 2, 2, 0, on_rejected },
	{ 0, 0, 0, 0, NULL }
};

static void
on_lost(struct peer *p, const char *why)
{
	printf("LOST %s\n", why);
}

static void
on_sigchld(evutil_socket_t fd, short ev, void *arg)
{
	char	 how[128];
	pid_t	 pid;
	int	 st;

	while (proc_reap(&pid, &st) == 1) {
		if (pid != F.pid)
			continue;
		printf("EXIT %s\n", proc_describe_status(st, how, sizeof(how)));
		fflush(stdout);
		exit(0);
	}
}

/* ---- control fifo -------------------------------------------------- */

static void
command(char *line)
{
	char	*arg = strchr(line, ' ');
	int	 i;

	if (arg != NULL)
		*arg++ = '\0';
	if (strcmp(line, "status") == 0 && arg != NULL)
		send_doc(0, arg);
	else if (strcmp(line, "metrics") == 0 && arg != NULL)
		send_doc(1, arg);
	else if (strcmp(line, "ack") == 0 && arg != NULL)
		F.ack = strcmp(arg, "hold") == 0 ? ACK_HOLD :
		    strcmp(arg, "reject") == 0 ? ACK_REJECT : ACK_ACCEPT;
	else if (strcmp(line, "release") == 0) {
		for (i = 0; i < F.nheld; i++)
			send_ack(F.held[i], 1);
		F.nheld = 0;
	} else if (strcmp(line, "secret") == 0 && arg != NULL &&
	    strchr(arg, ' ') != NULL) {
		*strchr(arg, ' ') = '\0';
		send_secret(atoi(arg), arg + strlen(arg) + 1);
	} else if (strcmp(line, "reload") == 0)
		send_table();
	else if (strcmp(line, "ping") == 0) {
		msg_init(&F.mb, PM_PING, 0);
		msg_put_u64(&F.mb, 4242);
		send_mb(-1);
	} else if (strcmp(line, "shutdown") == 0) {
		msg_init(&F.mb, PM_SHUTDOWN, 0);
		send_mb(-1);
	} else if (strcmp(line, "garbage") == 0) {
		msg_init(&F.mb, PM_CONF_END, 12345);
		msg_put_u8(&F.mb, 1);
		send_mb(-1);
	} else
		fprintf(stderr, "fakeparent: unknown command \"%s\"\n", line);
}

static void
on_fifo(evutil_socket_t fd, short ev, void *arg)
{
	char	 b[4096], *nl;
	ssize_t	 n;

	while ((n = read(fd, b, sizeof(b))) > 0)
		buf_add(&F.line, b, (size_t)n);
	while (F.line.len > 0 && (nl = memchr(F.line.data, '\n',
	    F.line.len)) != NULL) {
		*nl = '\0';
		command(F.line.data);
		memmove(F.line.data, nl + 1, F.line.len - (size_t)(nl + 1 -
		    F.line.data) + 1);
		F.line.len -= (size_t)(nl + 1 - F.line.data);
	}
	fflush(stdout);
}

/* ---- set-up -------------------------------------------------------- */

static void
listen_tcp(const char *spec)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			*host = xstrdup(spec), *port;
	int			 fd, one = 1;

	if ((port = strrchr(host, ':')) == NULL)
		die("-t wants host:port");
	*port++ = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		die("-t host");
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 512) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("tcp listener");
	printf("LISTEN tcp %s:%u\n", host, ntohs(sin.sin_port));
	F.lfd[F.nl] = fd;
	F.lunix[F.nl++] = 0;
	free(host);
}

static void
listen_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, 512) == -1)
		die("unix listener");
	printf("LISTEN unix %s\n", path);
	F.lfd[F.nl] = fd;
	F.lunix[F.nl++] = 1;
}

static void
set_conf(const char *kv)
{
	static const char *const keys[] = { "header_timeout",
	    "body_idle_timeout", "body_timeout", "keepalive_timeout" };
	const char	*v = strchr(kv, '=');
	size_t		 i;

	if (v == NULL)
		die("-m wants key=value");
	v++;
	for (i = 0; i < nitems(keys); i++)
		if (strncmp(kv, keys[i], strlen(keys[i])) == 0 &&
		    kv[strlen(keys[i])] == '=')
			F.to[i] = strtoll(v, NULL, 10) * MS;
	if (strncmp(kv, "max_body=", 9) == 0)
		F.max_body = strtoull(v, NULL, 10);
	else if (strncmp(kv, "max_connections=", 16) == 0)
		F.max_conns = (uint32_t)strtoul(v, NULL, 10);
	else if (strncmp(kv, "max_pending=", 12) == 0)
		F.max_pending = (uint32_t)strtoul(v, NULL, 10);
}

static void
add_recipe(char *spec)
{
	char	*f[4];
	int	 i;

	if (F.nr == MAXR)
		die("too many recipes");
	for (i = 0; i < 4; i++)
		if ((f[i] = strsep(&spec, ",")) == NULL)
			die("-r wants id,url,bits,watched");
	F.r[F.nr].id = f[0];
	F.r[F.nr].url = f[1];
	F.r[F.nr].bits = (unsigned)atoi(f[2]);
	F.r[F.nr++].watched = (unsigned)atoi(f[3]);
}

static void
parse_args(int argc, char *argv[], const char **fifo)
{
	char	*eq;
	int	 ch;

	while ((ch = getopt(argc, argv, "a:c:C:e:l:m:r:s:t:u:U:")) != -1) {
		switch (ch) {
		case 'a':
			F.ack = strcmp(optarg, "hold") == 0 ? ACK_HOLD :
			    strcmp(optarg, "reject") == 0 ? ACK_REJECT :
			    ACK_ACCEPT;
			break;
		case 'c':
			*fifo = optarg;
			break;
		case 'C':
			F.chunk = (size_t)atoi(optarg);
			break;
		case 'e':
			F.empty = optarg;
			break;
		case 'l':
			F.level = atoi(optarg);
			break;
		case 'm':
			set_conf(optarg);
			break;
		case 'r':
			add_recipe(optarg);
			break;
		case 's':
			if ((eq = strchr(optarg, '=')) == NULL)
				die("-s wants forge=file");
			*eq = '\0';
			F.secret[strcmp(optarg, "github") == 0 ? FORGE_GITHUB :
			    strcmp(optarg, "gitlab") == 0 ? FORGE_GITLAB :
			    FORGE_GITEA] = eq[1] != '\0' ? eq + 1 : NULL;
			break;
		case 't':
			listen_tcp(optarg);
			break;
		case 'u':
			F.user = optarg;
			break;
		case 'U':
			listen_unix(optarg);
			break;
		default:
			exit(2);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct buf	 err = BUF_INIT;
	struct event	*sig, *fev = NULL;
	const char	*fifo = NULL;
	int		 sv[2];

	setvbuf(stdout, NULL, _IOLBF, 0);
	F.max_body = 1 << 20;
	F.to[0] = F.to[1] = 10000 * MS;
	F.to[2] = F.to[3] = 15000 * MS;
	F.max_conns = 256;
	F.max_pending = 64;
	F.chunk = 1000;
	F.level = 1;		/* info */
	parse_args(argc, argv, &fifo);
	if (optind >= argc)
		die("no program");
	signal(SIGPIPE, SIG_IGN);
	if ((F.base = event_base_new()) == NULL)
		die("event_base_new");
	sig = evsignal_new(F.base, SIGCHLD, on_sigchld, NULL);
	evsignal_add(sig, NULL);
	if (proc_socketpair(sv, &err) == -1 ||
	    (F.pid = proc_spawn(argv[optind], argv + optind, sv[1], NULL, 0,
	    &err)) == -1) {
		fprintf(stderr, "fakeparent: %s\n", buf_str(&err));
		return 2;
	}
	close(sv[1]);
	printf("PID %ld\n", (long)F.pid);
	if (peer_init(&F.child, F.base, sv[0], "http", F.pid, child_table,
	    on_lost, NULL, &err) == -1)
		die(buf_str(&err));
	if (fifo != NULL) {
		(void)unlink(fifo);
		if (mkfifo(fifo, 0600) == -1 ||
		    (F.fifo = open(fifo, O_RDWR | O_NONBLOCK |
		    O_CLOEXEC)) == -1)
			die(fifo);
		fev = event_new(F.base, F.fifo, EV_READ | EV_PERSIST, on_fifo,
		    NULL);
		event_add(fev, NULL);
	}
	send_config();
	event_base_dispatch(F.base);
	return 0;
}
