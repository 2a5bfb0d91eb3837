/*
 * fake.h: helpers shared by the fake roles and the fake build worker
 * used by tests/integ/daemon-*.sh (selected through the parent's test
 * hooks PEIPKG_ROLE_<ROLE>_PATH and PEIPKG_BUILDD_PATH).
 *
 * A fake speaks the real protocol on fd 3 (blocking msg_send/msg_recv)
 * and is steered by files under $PEIPKG_FAKE_DIR; it records what it
 * saw in $PEIPKG_FAKE_DIR/<name>.log, one line per event.  SIGUSR1
 * makes it send a malformed record (the parent must kill it).
 */
#ifndef PM_FAKE_H
#define PM_FAKE_H

#include <signal.h>
#include <stdint.h>

#include "msg.h"
#include "msgtypes.h"

#define PM_CHAN_FD_FAKE	3

extern const char		*fake_dir;
extern volatile sig_atomic_t	 fake_usr1, fake_usr2;

void	 fake_init(const char *name);
/* 1 message, 0 EOF; answers PM_PING itself, acts on SIGUSR1 and calls
 * on_usr2 (may be NULL) for SIGUSR2. */
int	 fake_recv(struct msg *, void (*on_usr2)(void));
void	 fake_send(struct msgbuf *, int fd);
void	 fake_note(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Contents of $PEIPKG_FAKE_DIR/<rel> (NUL-terminated) or NULL. */
char	*fake_file(const char *rel);
void	 fake_write(const char *rel, const void *, size_t);
void	 fake_event(int level, const char *msg, const char *key,
	    const char *val);
char	*fake_str(struct msg *);
void	 fake_garbage(void);

#endif /* PM_FAKE_H */
