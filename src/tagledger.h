/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tagledger.h: which upstream commit each published recipe@version was
 * built from, so that a tag moved upstream after its version was
 * published is noticed (and never silently rebuilt: the version is
 * published, so the scheduler skips it).  One line per publish,
 *
 *	<recipe> <version> <tag> <40 hex digits>\n
 *
 * appended and fsynced by the parent to state_dir/published-commits.
 * Versions published before the file existed, or by other tools, are
 * not in it and are not checked.
 *
 * Trust: privileged parent; the file is its own (root-owned, in
 * state_dir); a line that does not parse (a write torn by a crash) is
 * skipped with a warning naming it.
 */
#ifndef PM_TAGLEDGER_H
#define PM_TAGLEDGER_H

#include <stdint.h>

#include "util.h"

#define TAGLEDGER_OID_LEN	20

struct tagledger;

/* Load path (a missing file is an empty ledger); never NULL.  Problems
 * are appended to warn, one per line. */
struct tagledger *tagledger_open(const char *path, struct buf *warn);
void	 tagledger_free(struct tagledger *);

/*
 * 1 when recipe@version was published from a commit other than oid and
 * this oid was not reported before (the published commit's hex is then
 * in published[41]); else 0.
 */
int	 tagledger_moved(struct tagledger *, const char *recipe,
	    const char *version, const uint8_t oid[TAGLEDGER_OID_LEN],
	    char published[41]);

/* Record a publish (appended and fsynced); 0, or -1 and err. */
int	 tagledger_add(struct tagledger *, const char *recipe,
	    const char *version, const char *tag,
	    const uint8_t oid[TAGLEDGER_OID_LEN], struct buf *err);

#endif /* PM_TAGLEDGER_H */
