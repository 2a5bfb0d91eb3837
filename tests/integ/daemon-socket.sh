#!/bin/sh
# daemon-socket.sh: the real daemon (every real role, real git upstream)
# and systemd's interfaces.  sd_notify to a fake NOTIFY_SOCKET: READY=1
# once every role is up (/healthz answers at once), STATUS=, RELOADING=1
# then READY=1 around SIGHUP, WATCHDOG=1 every WATCHDOG_USEC/2,
# STOPPING=1 at SIGTERM, all from the main pid.  Socket activation by
# systemd-socket-activate: a TCP and a Unix socket are used instead of
# [http].addr (even an empty one) and logged; addr = "" without a passed
# socket disables HTTP while the daemon still builds and publishes.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
SSA=$(command -v systemd-socket-activate) ||
    skip_all "systemd-socket-activate is not installed (Debian systemd)"
farm_require curl python3 git ss

farm_bin
export PEIPKG_TEST_STOP_TIMEOUT=3
NOTIFY=$TAP_TMP/notify.log
DPID=""
NPID=""

set_addr() { sed -i "s|^addr = .*|addr = \"$1\"|" "$CFG"; }
ours() { pgrep -f "$TAP_TMP" | grep -vx "${NPID:-x}"; }
no_leftovers() {
	_left=$(ours)
	[ -z "$_left" ] && return 0
	for _p in $_left; do
		diag "left: $(tr '\0' ' ' </proc/$_p/cmdline 2>/dev/null)"
	done
	return 1
}
# pids: the daemon and its children.
pids() { echo "$DPID"; pgrep -P "$DPID"; }
# listening: ss lines of a listening socket held by the daemon or a child.
listening() {
	ss -lnpH >"$TAP_TMP/ss.out" 2>/dev/null
	for _p in $(pids); do grep "pid=$_p," "$TAP_TMP/ss.out"; done
}
role_pid() {	# role_pid ROLE: the daemon's child running that role
	for _p in $(pgrep -P "$DPID"); do
		tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null |
		    grep -q -- "-P $1 " && echo "$_p"
	done
}
# stop_daemon: SIGTERM, wait; RC gets the exit status.
stop_daemon() {
	kill -TERM "$DPID"
	wait "$DPID"
	RC=$?
	DPID=""
}
cleanup() {
	[ -z "$DPID" ] || farm_stop "$DPID"
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null
	for _p in $(ours); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

farm_fixture 1

# ---- sd_notify and the watchdog ----------------------------------------------
# Each datagram on one line: arrival time (ns), sender pid, the payload
# with newlines as '|'.
python3 - "$TAP_TMP/notify.sock" "$NOTIFY" <<'EOP' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        d, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = "?"
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        f.write("%d %s %s\n" % (time.time_ns(), pid,
                d.decode(errors="replace").replace("\n", "|")))
EOP
NPID=$!
wait_for "test -S $TAP_TMP/notify.sock" 50 || { notok "notify socket"; done_testing; }
: >>"$NOTIFY"
P0=$(free_port)
set_addr "127.0.0.1:$P0"
URL="http://127.0.0.1:$P0"
LOG=$TAP_TMP/notify-daemon.log
# A wrapper that execs, so WATCHDOG_PID is the daemon's own pid.
NOTIFY_SOCKET=$TAP_TMP/notify.sock WATCHDOG_USEC=2000000 sh -c \
    'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' sh \
    "$PM" --config "$CFG" --log-target stderr --log-level debug >"$LOG" 2>&1 &
DPID=$!
if wait_for "grep -q ' READY=1' $NOTIFY" 150; then
	# The very first request after READY=1 must succeed.
	H=$(curl -s -m 5 -w ' %{http_code}' "$URL/healthz")
	R=""
	for r in http poller signer publisher; do
		[ -n "$(role_pid $r)" ] && R="$R $r"
	done
	ok "READY=1 notified"
	check "the first /healthz after READY=1 answers 200 ok" \
	    test "$H" = "ok
 200"
	check "every role was running at READY=1" \
	    test "$R" = " http poller signer publisher"
else
	notok "READY=1 notified"; diag "$(tail -5 "$LOG")"
	done_testing
fi
# The parent logs "all roles ready" right after READY=1: every role's
# PM_READY (logged as "role ready") came before it.
check "every role reported ready before READY=1" awk '
    /msg="role ready" role=(http|poller|signer|publisher) / {
	sub(/.* role=/, ""); sub(/ .*/, ""); seen[$0] = 1; next }
    /msg="all roles ready" recipes=3 watched=2/ {
	exit !(seen["http"] && seen["poller"] && seen["signer"] &&
	    seen["publisher"]) }
    END { if (!NR) exit 1 }' "$LOG"
check "READY=1 came with STATUS=" grep -q \
    ' READY=1|STATUS=3 recipes (2 watched), 0 builds running, 0 queued$' \
    "$NOTIFY"
check "the first notification is READY=1 with STATUS=" \
    test "$(head -1 "$NOTIFY" | cut -d' ' -f3-)" = \
    "READY=1|STATUS=3 recipes (2 watched), 0 builds running, 0 queued"
L=$(listening)
check "control: ss sees the daemon's TCP listener" \
    sh -c "echo '$L' | grep -q '127.0.0.1:$P0 '"
WANT="greeter-banner@1.2.0-2 greeter-doc@1.1.0-1 greeter-doc@1.2.0-1 greeter@1.1.0-1 greeter@1.2.0-1"
check "the initial polls publish the demo versions" wait_for \
    "test \"\$(archive)\" = '$WANT'" 600

# WATCHDOG=1 every second (WATCHDOG_USEC/2) while the daemon runs:
# never sooner, and always well within the 2 s systemd allows.
n0=$(grep -c ' WATCHDOG=1$' "$NOTIFY")
sleep 4
n1=$(grep -c ' WATCHDOG=1$' "$NOTIFY")
check "WATCHDOG=1 sent repeatedly (3 to 5 in 4 s, got $((n1 - n0)))" \
    test $((n1 - n0)) -ge 3 -a $((n1 - n0)) -le 5
check "WATCHDOG=1 about every second" python3 -c '
import sys
t = [int(l.split()[0]) for l in open(sys.argv[1]) if l.rstrip().endswith(" WATCHDOG=1")]
gaps = [(b - a) / 1e9 for a, b in zip(t, t[1:])]
print(gaps)
assert len(gaps) >= 3 and all(0.9 <= g <= 1.8 for g in gaps)' "$NOTIFY"

# A role that dies: STATUS= says so until it is back.
mark=$(wc -l <"$NOTIFY")
kill -KILL "$(role_pid poller)"
check "a dead role: STATUS= says degraded" wait_for "
    tail -n +$((mark + 1)) $NOTIFY | grep -q ' STATUS=3 recipes (2 watched), [0-9]* builds running, [0-9]* queued; degraded: poller restarting$'" 100
check "and no longer once it is back" wait_for "
    tail -n +$((mark + 1)) $NOTIFY | grep -v ' WATCHDOG=1$' | tail -1 |
    grep -q ' STATUS=3 recipes (2 watched), 0 builds running, 0 queued$'" 150

mark=$(wc -l <"$NOTIFY")
kill -HUP "$DPID"
check "SIGHUP: RELOADING=1 then READY=1 with STATUS=" wait_for "
    tail -n +$((mark + 1)) $NOTIFY | grep -v ' WATCHDOG=1$' | cut -d' ' -f3- |
    head -2 | tr '\n' '/' | grep -qx 'RELOADING=1/READY=1|STATUS=3 recipes (2 watched), [0-9]* builds running, [0-9]* queued/'" 50
check "reload logged" grep -q 'msg="recipes reloaded" count=3' "$LOG"
mark=$(wc -l <"$NOTIFY")
MAINPID=$DPID
stop_daemon
check "SIGTERM: exit 0" test "$RC" = 0
check "SIGTERM: STOPPING=1" sh -c \
    "tail -n +$((mark + 1)) $NOTIFY | grep -q ' STOPPING=1$'"
check "every notification came from the main pid" \
    test "$(cut -d' ' -f2 "$NOTIFY" | sort -u)" = "$MAINPID"
check "no process left behind" no_leftovers

# ---- socket activation: TCP -------------------------------------------------
# systemd-socket-activate passes only what -E names and execs the daemon
# (same pid) at the first connection.
activate() {	# activate LISTEN LOG: the daemon under systemd-socket-activate
	"$SSA" -l "$1" -E PEIPKG_BUILDD_PATH -E PEIPKG_TEST_STOP_TIMEOUT \
	    "$PM" --config "$CFG" --log-target stderr --log-level debug \
	    >"$2" 2>&1 &
	DPID=$!
}
P1=$(free_port)
P2=$(free_port)
set_addr "127.0.0.1:$P2"
LOG=$TAP_TMP/tcp-daemon.log
activate "127.0.0.1:$P1" "$LOG"
wait_for "grep -q 'Listening on 127.0.0.1:$P1' $LOG" 50
# The first connection starts the daemon; it waits in the backlog.
H=$(curl -s -m 20 -w ' %{http_code}' "http://127.0.0.1:$P1/healthz")
check "TCP activation: the first request is answered (200 ok)" \
    test "$H" = "ok
 200"
check "TCP activation: the activator became the daemon (same pid)" \
    test "$(readlink "/proc/$DPID/exe")" = "$PM"
check "TCP activation: logs the passed socket" grep -q \
    "msg=\"webhook server listening\" addr=\"systemd socket\" socket=127.0.0.1:$P1\$" \
    "$LOG"
check "TCP activation: /status over it" wait_for \
    "curl -fs http://127.0.0.1:$P1/status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"farm_id\"]==\"demo-farm\" and d[\"recipes\"]==[\"greeter\",\"greeter-named\",\"manual-only\"]'" 50
check "TCP activation: [http].addr is not bound" sh -c \
    "curl -s -m 2 http://127.0.0.1:$P2/healthz; test \$? = 7"
check "TCP activation: addr not logged" sh -c \
    "! grep -q 'addr=127.0.0.1:$P2' '$LOG'"
stop_daemon
check "TCP activation: SIGTERM exits 0" test "$RC" = 0

# ---- socket activation: Unix, with addr = "" ----------------------------------
ASOCK=$TAP_TMP/act.sock
set_addr ""
LOG=$TAP_TMP/unix-daemon.log
activate "$ASOCK" "$LOG"
wait_for "test -S $ASOCK" 50
H=$(curl -s -m 20 -w ' %{http_code}' --unix-socket "$ASOCK" http://localhost/healthz)
check "Unix activation: the first request is answered (200 ok)" \
    test "$H" = "ok
 200"
check "Unix activation: logs the passed socket" grep -q \
    "msg=\"webhook server listening\" addr=\"systemd socket\" socket=unix:$ASOCK\$" \
    "$LOG"
check "Unix activation: /status over it although addr = \"\"" wait_for \
    "curl -fs --unix-socket $ASOCK http://localhost/status | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"farm_id\"]==\"demo-farm\"'" 50
check "Unix activation: the http role runs" test -n "$(role_pid http)"
stop_daemon
check "Unix activation: SIGTERM exits 0" test "$RC" = 0

# ---- addr = "" and no passed socket: no HTTP ---------------------------------
LOG=$TAP_TMP/nohttp-daemon.log
"$PM" --config "$CFG" --log-target stderr --log-level debug >"$LOG" 2>&1 &
DPID=$!
check "no HTTP: the other roles get ready" wait_for \
    "grep -q 'msg=\"all roles ready\" recipes=3 watched=2' $LOG" 150
check "no HTTP: no listener logged" sh -c \
    "! grep -q 'webhook server listening' '$LOG'"
check "no HTTP: no http role started" sh -c \
    "! grep -q 'msg=\"role started\" role=http' '$LOG' && test -z \"\$(role_pid http)\""
check "no HTTP: no listening socket in the daemon or its children" \
    test -z "$(listening)"
check "no HTTP: /status unavailable on the old port" sh -c \
    "curl -s -m 2 http://127.0.0.1:$P0/status; test \$? = 7"
check "no HTTP: polls run" wait_for \
    "grep -q 'msg=\"poll complete\" recipe=greeter ' $LOG" 100
tag 1.3.0 >/dev/null 2>&1
kill -HUP "$DPID"
check "no HTTP: a new tag + SIGHUP is built and published" wait_for \
    "archive | grep -q 'greeter@1.3.0-1'" 600
stop_daemon
check "no HTTP: SIGTERM exits 0" test "$RC" = 0
check "no process left behind" no_leftovers
check "the repository verifies" "$top_builddir/peipkg-repo" verify \
    --repo "$STATE" --mode both
done_testing
