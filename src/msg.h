/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * msg.h: the framed IPC protocol between peipkg-manager processes.
 *
 * Trust: a received record is untrusted (it may come from the HTTP child
 * or a build worker running hostile code).  Nothing in msg.c calls fatal
 * for anything a peer sent; every peer-caused problem is a -1 with a
 * reason, and the owner drops (kills and restarts) that peer.
 *
 * Transport: socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC), so one
 * record is one message and a passed fd travels with its own message.
 * A record is a 16-byte host-order header followed by `len` payload
 * bytes; the whole record is at most PM_MSG_MAX bytes.  doc/PROTOCOL
 * states the rules.
 *
 * Sending: fill a struct msgbuf with msg_init() and msg_put_*().  A put
 * that does not fit (or gets a NULL string) does not abort: it returns -1
 * and leaves a sticky error in mb_error, every later put is ignored, and
 * msg_send()/peer_send() refuse the message.  So a caller may chain puts
 * and check once at send time; nothing an attacker controls (e.g. the
 * length of forwarded data) can make building fatal.
 *
 * Receiving: msg_recv() reads one record into a struct msg and checks the
 * framing; msg_get_*() read typed values and never read past the record;
 * msg_end() requires that every payload byte was consumed.
 */
#ifndef PM_MSG_H
#define PM_MSG_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PM_PROTO_VERSION	1
#define PM_HDR_SIZE		16
#define PM_MSG_MAX		(64 * 1024)	/* header + payload */
#define PM_PAYLOAD_MAX		(PM_MSG_MAX - PM_HDR_SIZE)

#define PM_F_FD			0x01	/* exactly one SCM_RIGHTS fd attached */
#define PM_F_KNOWN		(PM_F_FD)

struct pm_hdr {
	uint16_t	 type;
	uint8_t		 version;	/* PM_PROTO_VERSION */
	uint8_t		 flags;		/* PM_F_* */
	uint32_t	 len;		/* payload bytes after the header */
	uint32_t	 id;		/* job/request id */
	uint32_t	 reserved;	/* must be 0 */
};

/* A message being built.  Large (64 KiB): keep it static or on the heap
 * in deep call chains; it needs no cleanup. */
struct msgbuf {
	uint16_t	 mb_type;
	uint32_t	 mb_id;
	size_t		 mb_len;	/* payload bytes so far */
	const char	*mb_error;	/* sticky build error, NULL if fine */
	uint8_t		 mb_data[PM_PAYLOAD_MAX];
};

/* A received message.  m_data points into m_rec and stays valid until the
 * next msg_recv() into the same struct. */
struct msg {
	struct pm_hdr	 m_hdr;
	const uint8_t	*m_data;	/* payload */
	size_t		 m_len;		/* payload bytes (== m_hdr.len) */
	size_t		 m_off;		/* bytes consumed by the getters */
	int		 m_fd;		/* passed fd, -1 if none or taken */
	const char	*m_bad;		/* why the last getter failed */
	size_t		 m_bad_off;	/* payload offset of that failure */
	union {
		uint8_t		 b[PM_MSG_MAX];
		uint64_t	 align;
	}		 m_rec;
};

void	 msg_init(struct msgbuf *, uint16_t type, uint32_t id);
int	 msg_put_u8(struct msgbuf *, uint8_t);
int	 msg_put_u16(struct msgbuf *, uint16_t);
int	 msg_put_u32(struct msgbuf *, uint32_t);
int	 msg_put_u64(struct msgbuf *, uint64_t);
int	 msg_put_i64(struct msgbuf *, int64_t);
int	 msg_put_str(struct msgbuf *, const char *);	/* u32 len + bytes */
int	 msg_put_bytes(struct msgbuf *, const void *, size_t); /* u32 len + */
int	 msg_put_fixed(struct msgbuf *, const void *, size_t);	/* raw */

/*
 * Send one message on a blocking socket; fd >= 0 is passed with
 * SCM_RIGHTS (PM_F_FD set).  The caller keeps its fd.  Returns 0, or -1
 * with a reason (including EAGAIN on a non-blocking socket: event-driven
 * code uses peer_send()).
 */
int	 msg_send(int sock, struct msgbuf *, int fd, struct buf *err);

/*
 * Receive one record.  Returns
 *   1  a well-framed message is in *m (release it with msg_release());
 *   0  end of file (a zero-length record, which SOCK_SEQPACKET cannot tell
 *      apart from EOF, is reported the same way: it also ends the peer);
 *  -1  error: a socket error or a framing violation (errno EPROTO), reason
 *      in err; every fd that arrived with the record has been closed;
 *   2  non-blocking socket with nothing to read (EAGAIN).
 * *m is always reinitialised (m_fd == -1 unless 1 is returned with an fd),
 * so release the previous message first.  Nothing is allocated.
 */
int	 msg_recv(int sock, struct msg *m, struct buf *err);

/* Getters: 0, or -1 (offset unchanged, m_bad set) when the value is not
 * entirely inside the payload or breaks its bound. */
int	 msg_get_u8(struct msg *, uint8_t *);
int	 msg_get_u16(struct msg *, uint16_t *);
int	 msg_get_u32(struct msg *, uint32_t *);
int	 msg_get_u64(struct msg *, uint64_t *);
int	 msg_get_i64(struct msg *, int64_t *);
/* Allocates *out (free it); rejects an embedded NUL and length > maxlen. */
int	 msg_get_str(struct msg *, char **out, size_t maxlen);
/* *p points into the record; rejects length > maxlen. */
int	 msg_get_bytes(struct msg *, const void **p, size_t *n, size_t maxlen);
int	 msg_get_fixed(struct msg *, void *, size_t);
int	 msg_end(struct msg *);		/* -1 unless all bytes consumed */
/* For handlers: record a static reason and return -1. */
int	 msg_reject(struct msg *, const char *why);
int	 msg_take_fd(struct msg *);	/* caller owns the fd; -1 if none */
void	 msg_release(struct msg *);	/* closes an fd not taken */

/* Names for logs.  Role code registers its tables at startup. */
struct msg_typename {
	uint16_t	 type;
	const char	*name;
};
void	 msg_register_names(const struct msg_typename *, size_t);
const char *msg_type_name(uint16_t);	/* "unknown" if not registered */

/*
 * Dispatch tables, one per peer, ending with an entry whose fn is NULL.
 * min_len/max_len bound the payload.  An fd on a type without
 * MSG_ALLOW_FD is a protocol error; a MSG_ONCE type may arrive once per
 * peer.  fn returns 0, or -1 for a protocol error (bad payload, request
 * not allowed now).  fn must not free the peer; it may take the fd.
 */
#define MSG_ALLOW_FD	0x01
#define MSG_ONCE	0x02

struct peer;
struct msg_handler {
	uint16_t	 type;
	uint32_t	 min_len;
	uint32_t	 max_len;
	unsigned	 flags;
	int		(*fn)(struct peer *, struct msg *);
};

/* 0 if handled; -1 on a protocol error with the reason in err (the
 * message's fd, unless fn took it, is then closed).  p may be NULL for a
 * table without MSG_ONCE entries. */
int	 msg_dispatch(struct peer *, const struct msg_handler *,
	    struct msg *, struct buf *err);

/*
 * A peer: one end of a channel driven by a libevent loop.  Received
 * messages go through the peer's table; output is queued and written when
 * the socket is writable (EV_WRITE armed only while the queue is
 * non-empty).  p_table may be replaced at any time to change what the peer
 * may send.  When the peer ends (EOF, socket error, protocol error,
 * output queue over p_out_max bytes or PEER_OUT_FDS_MAX fds, or
 * peer_drop()), it goes inert (p_dead; p_proto_error set when the cause
 * was a framing or dispatch violation) and p_lost(p, why) runs once, from
 * the event loop: never inside a peer_* call or a handler.  p_lost may
 * call peer_free().  A successful peer_init() takes ownership of the
 * socket (peer_free() closes it); on failure the caller still owns it.
 *
 * With a NULL event_base the peer is passive: no events, no queue
 * (peer_send() fails), only the dispatch state; a blocking user (the build
 * worker) pairs it with msg_recv()/msg_dispatch()/msg_send().
 */
#define PEER_OUT_MAX		(4 * 1024 * 1024)
#define PEER_OUT_FDS_MAX	64
#define PEER_READ_BATCH		64	/* messages per wakeup */

struct event_base;
struct event;
struct peer;
typedef void (*peer_lost_fn)(struct peer *, const char *why);

struct peer_out {
	TAILQ_ENTRY(peer_out)	 po_entry;
	int			 po_fd;		/* our dup, -1 if none */
	size_t			 po_len;
	uint8_t			 po_data[];	/* header + payload */
};

struct peer {
	int			 p_sock;
	char			 p_role[32];
	pid_t			 p_pid;
	void			*p_arg;		/* owner's context */
	const struct msg_handler *p_table;
	peer_lost_fn		 p_lost;
	struct event_base	*p_base;
	struct event		*p_ev_read;
	struct event		*p_ev_write;
	struct event		*p_ev_lost;
	TAILQ_HEAD(, peer_out)	 p_outq;
	size_t			 p_out_bytes;
	size_t			 p_out_fds;
	size_t			 p_out_max;	/* PEER_OUT_MAX by default */
	int			 p_dead;
	int			 p_proto_error;	/* lost by a violation */
	char			 p_why[256];
	struct msg		*p_msg;		/* receive buffer */
	uint8_t			 p_once[65536 / 8];	/* MSG_ONCE seen */
};

int	 peer_init(struct peer *, struct event_base *, int sock,
	    const char *role, pid_t pid, const struct msg_handler *table,
	    peer_lost_fn lost, void *arg, struct buf *err);
/* Queue a message (fd >= 0: a dup is queued, the caller keeps its fd).
 * -1 if mb has a build error, the peer is dead or passive, the fd cannot
 * be duplicated, or the queue overflowed (the peer is then dropped). */
int	 peer_send(struct peer *, struct msgbuf *, int fd);
void	 peer_drop(struct peer *, const char *why);
/* Release everything the peer holds (events, queue, socket, fds); the
 * struct itself belongs to the caller. */
void	 peer_free(struct peer *);

#endif /* PM_MSG_H */
