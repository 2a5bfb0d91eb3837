/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_conf.c: what the parent ships to the role processes
 * (doc/PROTOCOL 2.2): each role's configuration after a spawn, the
 * recipe table (again after each reload), the signing keys as file
 * descriptors (the parent never reads them), poll requests and the
 * status documents served by the http role.
 *
 * Trust: privileged; sends only, from the operator's files and the
 * parent's own state.  Nothing here parses a child's input.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "recipe.h"
#include "pmsched.h"
#include "tagpattern.h"

static void	 send_conf_role(struct parent *, struct child *);
static void	 send_http_conf(struct parent *, struct child *);
static void	 send_poll_conf(struct parent *, struct child *);
static void	 send_keys(struct parent *, struct child *);

/* A role just started: what it needs before it can answer PM_READY. */
void
child_configure(struct parent *p, struct child *r)
{
	send_conf_role(p, r);
	switch (r->r_role) {
	case ROLE_HTTP:
		send_http_conf(p, r);
		child_send_table(p, r);
		parent_changed(p);
		break;
	case ROLE_POLLER:
		send_poll_conf(p, r);
		child_send_table(p, r);
		if (p->p_booted && !p->p_stopping)
			child_poll_all(p, SRC_START);
		break;
	case ROLE_SIGNER:
		send_keys(p, r);
		break;
	case ROLE_PUBLISHER:
		sched_pub_invalidate(p->p_sched);
		if (p->p_have_keys)
			child_send_publisher_conf(p, r);
		break;
	default:
		break;
	}
}

static void
send_conf_role(struct parent *p, struct child *r)
{
	struct msgbuf	 mb;

	msg_init(&mb, PM_CONF_ROLE, 0);
	msg_put_str(&mb, p->p_root ? p->p_role_user : "");
	msg_put_str(&mb, p->p_empty);
	msg_put_u8(&mb, (uint8_t)p->p_level);
	child_send(r, &mb, -1);
}

static void
send_http_conf(struct parent *p, struct child *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	int			 f;

	msg_init(mb, PM_CONF_HTTP, 0);
	msg_put_str(mb, c->manager.id);
	msg_put_u64(mb, c->http.max_body);
	msg_put_i64(mb, c->http.header_timeout);
	msg_put_i64(mb, c->http.body_idle_timeout);
	msg_put_i64(mb, c->http.body_timeout);
	msg_put_i64(mb, c->http.keepalive_timeout);
	msg_put_u32(mb, (uint32_t)c->http.max_connections);
	msg_put_u32(mb, (uint32_t)c->http.max_pending);
	child_send(r, mb, -1);
	msg_init(mb, PM_CONF_LISTENER, 0);
	msg_put_u8(mb, (uint8_t)p->p_listen_unix);
	child_send(r, mb, p->p_listen_fd);
	for (f = 0; f < FORGE_NUM; f++) {
		msg_init(mb, PM_CONF_SECRET, 0);
		msg_put_u8(mb, (uint8_t)f);
		msg_put_bytes(mb, p->p_secret[f].data, p->p_secret[f].len);
		child_send(r, mb, -1);
	}
	free(mb);
}

static void
send_poll_conf(struct parent *p, struct child *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		 mb;

	msg_init(&mb, PM_CONF_POLL, 0);
	msg_put_i64(&mb, c->poll.connect_timeout);
	msg_put_i64(&mb, c->poll.timeout);
	msg_put_u32(&mb, (uint32_t)c->poll.concurrency);
	msg_put_u32(&mb, (uint32_t)c->poll.max_tags);
	child_send(r, &mb, -1);
}

/* One key file as an fd; the parent never reads it. */
static void
send_key(struct child *r, const char *name, const char *path)
{
	struct msgbuf	 mb;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_event(LL_ERROR, "cannot open signing key",
		    LKV_S("key", name[0] ? name : "[signing]"),
		    LKV_S("path", path), LKV_S("err", strerror(errno)));
		return;
	}
	msg_init(&mb, PM_CONF_KEY, 0);
	msg_put_str(&mb, name);
	child_send(r, &mb, fd);
	close(fd);
}

static void
send_keys(struct parent *p, struct child *r)
{
	struct msgbuf	 mb;
	size_t		 i;

	send_key(r, "", p->p_cfg->signing.key_file);
	for (i = 0; i < p->p_cfg->nkeys; i++)
		send_key(r, p->p_cfg->keys[i].name,
		    p->p_cfg->keys[i].private_path);
	msg_init(&mb, PM_CONF_KEYS_END, 0);
	child_send(r, &mb, -1);
}

void
child_send_publisher_conf(struct parent *p, struct child *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	char			*repo;
	size_t			 i;

	repo = xasprintf("%s/repo", c->manager.state_dir);
	msg_init(mb, PM_CONF_PUBLISHER, 0);
	msg_put_str(mb, repo);
	msg_put_str(mb, c->repo.name);
	msg_put_str(mb, c->repo.description);
	msg_put_str(mb, c->manager.id);
	msg_put_u8(mb, (uint8_t)c->upload.backend);
	msg_put_str(mb, c->upload.remote);
	msg_put_i64(mb, c->upload.retry_initial);
	msg_put_i64(mb, c->upload.retry_max);
	for (i = 0; i < p->p_nkeys; i++)
		if (p->p_keys[i].k_name[0] == '\0')
			msg_put_fixed(mb, p->p_keys[i].k_pub, 32);
	msg_put_str(mb, c->upload.rclone_config);
	msg_put_i64(mb, p->p_index_hwm);
	if (child_send(r, mb, -1) == 0)
		r->r_keys_sent = 1;
	free(repo);
	free(mb);
}

void
child_send_table(struct parent *p, struct child *r)
{
	const struct roster	*ros = p->p_ros;
	const struct recipe	*rc;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	size_t			 i;
	uint8_t			 bits;
	int			 f;

	msg_init(mb, PM_CONF_BEGIN, p->p_gen);
	msg_put_u32(mb, (uint32_t)ros->n);
	child_send(r, mb, -1);
	for (i = 0; i < ros->n; i++) {
		rc = ros->r[i];
		for (bits = 0, f = 0; f < FORGE_NUM; f++)
			if (rc->webhook[f])
				bits |= 1U << f;
		msg_init(mb, PM_CONF_RECIPE, p->p_gen);
		msg_put_str(mb, rc->id);
		msg_put_str(mb, rc->git);
		msg_put_str(mb, rc->tag_pattern != NULL ?
		    tagpattern_source(rc->tag_pattern) : "");
		msg_put_i64(mb, rc->peios_revision);
		msg_put_str(mb, rc->min_version);
		msg_put_i64(mb, p->p_once ? 0 : rc->poll_interval != 0 ?
		    rc->poll_interval : p->p_cfg->poll.default_interval);
		msg_put_u8(mb, bits);
		msg_put_u8(mb, (uint8_t)rc->watched);
		msg_put_u8(mb, (uint8_t)rc->submodules);
		if (child_send(r, mb, -1) == -1 && mb->mb_error != NULL)
			log_event(LL_ERROR, "recipe does not fit a message",
			    LKV_S("recipe", rc->id));
	}
	msg_init(mb, PM_CONF_END, p->p_gen);
	child_send(r, mb, -1);
	free(mb);
}

void
child_poll_all(struct parent *p, int source)
{
	struct child	*r = &p->p_roles[ROLE_POLLER];
	struct msgbuf	 mb;
	size_t		 i;

	for (i = 0; i < p->p_ros->n; i++) {
		if (!p->p_ros->r[i]->watched)
			continue;
		if (p->p_once && !p->p_once_pending[i])
			continue;
		msg_init(&mb, PM_POLL_NOW, 0);
		msg_put_str(&mb, p->p_ros->r[i]->id);
		msg_put_u8(&mb, (uint8_t)source);
		child_send(r, &mb, -1);
	}
}

void
child_push_docs(struct parent *p, const struct buf *json,
    const struct buf *metrics)
{
	struct child	*r = &p->p_roles[ROLE_HTTP];
	struct msgbuf	*mb;
	const struct buf *d;
	size_t		 off, n;
	int		 kind;

	if (!r->r_peer_up)
		return;
	mb = xmalloc(sizeof(*mb));
	for (kind = 0; kind < 2; kind++) {
		d = kind == 0 ? json : metrics;
		p->p_doc_gen++;
		off = 0;
		do {
			n = d->len - off;
			if (n > PARENT_DOC_CHUNK)
				n = PARENT_DOC_CHUNK;
			msg_init(mb, PM_STATUS_DOC, 0);
			msg_put_u8(mb, (uint8_t)kind);
			msg_put_u32(mb, p->p_doc_gen);
			msg_put_u32(mb, (uint32_t)d->len);
			msg_put_u32(mb, (uint32_t)off);
			msg_put_bytes(mb, d->data + off, n);
			child_send(r, mb, -1);
			off += n;
		} while (off < d->len);
	}
	free(mb);
}
