#!/bin/sh
# daemon-worker-kill.sh: the real daemon (every real role, real git
# upstream, real sandboxed builds) loses a build worker.  A recipe whose
# build.sh sleeps: once the build runs, its peipkg-buildd is SIGKILLed;
# the build fails with the 1m back-off and its log, /status shows it,
# every process of the build is gone, the job directory is removed and
# the daemon stays healthy.  A worker that sends garbage on its channel
# (PEIPKG_BUILDD_PATH points at a wrapper that execs the real worker,
# or misbehaves when told to) is killed and its build failed; the parent
# stays up.  Afterwards a new tag of another recipe is built and
# published.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
farm_require curl python3 git

farm_bin
BUILDD=$PEIPKG_BUILDD_PATH
GARBAGE=$TAP_TMP/garbage
# The worker: the real one, unless $GARBAGE exists: then a process that
# behaves like a worker's start (setsid) and writes junk records.
cat >"$TAP_TMP/bin/worker" <<EOS
#!/bin/sh
[ -e "$GARBAGE" ] || exec "$BUILDD" "\$@"
exec python3 -c '
import os, sys, time
os.setsid()
os.write(3, b"this is not a message")
os.write(3, os.urandom(4096))
time.sleep(60)' "$TAP_TMP/garbage-worker"
EOS
chmod 755 "$TAP_TMP/bin/worker"
export PEIPKG_BUILDD_PATH="$TAP_TMP/bin/worker"
export PEIPKG_TEST_STOP_TIMEOUT=3
CLOCK=$TAP_TMP/clock
T0=1800000000			# 2027-01-15T08:00:00Z
echo $T0 >"$CLOCK"
LOG=$TAP_TMP/daemon.log
MARK="wkill-$(basename "$TAP_TMP")"
DPID=""

# descendants PID: every process below PID.
descendants() {
	for _c in $(pgrep -P "$1"); do echo "$_c"; descendants "$_c"; done
}
worker_pid() {	# the daemon's child running the given program
	for _p in $(pgrep -P "$DPID"); do
		tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null |
		    grep -q "^$1 " && echo "$_p"
	done
}
alive() { for _p in "$@"; do kill -0 "$_p" 2>/dev/null && echo "$_p"; done; }
status_ok() { curl -fs "$URL/status" | python3 -c "$1"; }
ours() { pgrep -f "$TAP_TMP"; }
cleanup() {
	[ -z "$DPID" ] || farm_stop "$DPID"
	for _p in $(ours) $(pgrep -f "$MARK"); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
farm_fixture "$PORT"
PEIPKG_TEST_CLOCK_FILE=$CLOCK "$PM" --once --config "$CFG" \
    --log-target stderr >"$TAP_TMP/once.log" 2>&1
check "--once publishes the demo first" test $? = 0

# ---- a worker killed mid-build -----------------------------------------------
farm_recipe sleeper
cat >"$F/recipes/sleeper/build.sh" <<EOS
#!/bin/sh
echo "sleeper: going to sleep"
sh -c 'sleep 300; true' $MARK-bg &
exec sh -c 'sleep 301; true' $MARK-fg
EOS
PEIPKG_TEST_CLOCK_FILE=$CLOCK "$PM" --config "$CFG" --log-target stderr \
    --log-level debug >"$LOG" 2>&1 &
DPID=$!
check "daemon answers /healthz" wait_for "curl -fs $URL/healthz | grep -qx ok" 100
check "the sleeper build starts" wait_for \
    "grep -q 'msg=\"starting build\" recipe=sleeper tag=v1.2.0 version=1.2.0-1 ' $LOG" 150
check "build.sh runs in the sandbox" wait_for \
    "test \$(pgrep -fc -- '$MARK-') = 2" 150
W=$(worker_pid "$BUILDD")
JOB=$(ls "$F/state/jobs")
check "one worker, one job directory ($JOB)" sh -c \
    "test \$(echo '$W' | wc -w) = 1 && test -d '$F/state/jobs/$JOB' &&
     case '$JOB' in sleeper-1.2.0-1-*) ;; *) exit 1;; esac"
TREE=$(descendants "$W")
diag "worker $W, below it: $(echo $TREE)"
check "the build's processes are below the worker" sh -c \
    "test \$(echo '$TREE' | wc -w) -ge 4"
kill -KILL "$W"
check "build failed with the 1m back-off and the log path" wait_for \
    "grep -q 'msg=\"build failed\" recipe=sleeper version=1.2.0-1 err=\"worker killed by signal 9 (SIGKILL) before reporting a result\" next_retry_after=1m0s log=$F/state/logs/sleeper/1.2.0-1/1.log job=' $LOG" 100
check "the log holds build.sh's output" \
    grep -q 'sleeper: going to sleep' "$F/state/logs/sleeper/1.2.0-1/1.log"
check "/status shows the failure" wait_for "status_ok '
import json, sys
f = json.load(sys.stdin)[\"failures\"][\"sleeper@1.2.0-1\"]
assert f[\"failures\"] == 1 and f[\"next_retry\"] == \"2027-01-15T08:01:00Z\"
assert f[\"log\"] == \"$F/state/logs/sleeper/1.2.0-1/1.log\"'" 50
check "no process of the build remains" wait_for \
    "test -z \"\$(alive $W $TREE)\" && ! pgrep -f -- '$MARK-'" 50
only_daemon() {
	test "$(ours | wc -l)" = 5 && test "$(pgrep -P "$DPID" | wc -l)" = 4
}
if wait_for only_daemon 50; then ok "only the daemon and its four roles remain"
else notok "only the daemon and its four roles remain"
	for _p in $(ours); do diag "$(tr '\0' ' ' <"/proc/$_p/cmdline")"; done
fi
check "the job directory is removed" wait_for \
    "test -z \"\$(ls -A $F/state/jobs)\"" 50
check "/healthz still 200" sh -c "curl -fs $URL/healthz | grep -qx ok"
check "/metrics counts the failed build" wait_for \
    "curl -fs $URL/metrics | grep -qx 'peipkg_builds_failed_total 1'" 50

# ---- a worker sending garbage -------------------------------------------------
touch "$GARBAGE"
farm_recipe junk
printf 'exit 0\n' >"$F/recipes/junk/build.sh"
kill -HUP "$DPID"
check "the junk build starts" wait_for \
    "grep -q 'msg=\"starting build\" recipe=junk ' $LOG" 100
check "garbage from the worker: protocol error, worker killed" wait_for \
    "grep -q 'msg=\"protocol error; killing worker\" recipe=junk ' $LOG" 100
check "the build failed with the 1m back-off" wait_for \
    "grep -q 'msg=\"build failed\" recipe=junk version=1.2.0-1 err=\"worker: protocol error: .*next_retry_after=1m0s' $LOG" 100
rm -f "$GARBAGE"
check "the garbage worker is gone" wait_for "! pgrep -f '$TAP_TMP/garbage-worker'" 50
check "the parent is up: /healthz 200" sh -c "curl -fs $URL/healthz | grep -qx ok"
check "IPC errors counted" wait_for \
    "curl -fs $URL/status | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"ipc_protocol_errors\"] >= 1'" 50
check "the sleeper is not retried within its back-off" wait_for \
    "grep -q 'trigger skipped (in failure backoff window).*recipe=sleeper' $LOG" 50

# ---- and a later build still succeeds ------------------------------------------
tag 1.3.0 >/dev/null 2>&1
kill -HUP "$DPID"
check "a new tag of greeter is built and published" wait_for \
    "archive | grep -q 'greeter@1.3.0-1' &&
     grep -q 'msg=\"build + publish complete\" recipe=greeter version=1.3.0-1 ' $LOG" 600
check "the repository verifies" "$top_builddir/peipkg-repo" verify \
    --repo "$STATE" --mode both
check "no job directory left" wait_for "test -z \"\$(ls -A $F/state/jobs)\"" 50
check "the daemon never restarted a role" sh -c "! grep -q 'restarting role' $LOG"
kill -TERM "$DPID"
wait "$DPID"
check "SIGTERM: exit 0" test $? = 0
DPID=""
check "no process left behind" wait_for \
    "test -z \"\$(ours)\" && ! pgrep -f -- '$MARK-'" 50
done_testing
