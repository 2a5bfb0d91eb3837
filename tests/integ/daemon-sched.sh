#!/bin/sh
# daemon-sched.sh: scheduling through the whole parent with the fake
# poller, worker and publisher: --once builds and exits, and a second
# --once run rebuilds nothing, including a recipe whose directory name
# is none of its package names (BEHAVIOUR.md §8 item 1); a failing build
# backs off 1m, 5m, 15m on the test clock (log lines, /status failures
# entry, log retention) until it succeeds; webhooks; worker failures
# (crash, malformed frame, undeclared outputs, a repeated signature,
# hang past the watchdog); a stop with a build still running.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/daemon-lib.sh"
export PEIPKG_TEST_STOP_TIMEOUT=1	# shorter than the 3 s build watchdog

farm '
[build]
wall_timeout = "1s"
kill_grace = "1s"
log_retention = 2'
recipe hello hello:x86_64
recipe foo-recipe foo:noarch foo-doc:noarch
echo "v1.0 1.0" >"$FK/tags/hello"
echo "v1.1.0 1.1.0" >"$FK/tags/foo-recipe"

once() {
	(cd "$FARM" && "$PM" --once --config "$FARM/config.toml" \
	    --log-level debug --log-target stderr) 2>"$LOG"
	RC=$?
}

# --- --once, twice ---------------------------------------------------------
once
check "once: exit 0" test "$RC" = 0
check "once: foo-recipe built" grep -q \
    'msg="build + publish complete" recipe=foo-recipe version=1.1.0-1 outputs=2' "$LOG"
check "once: hello built" grep -q \
    'msg="build + publish complete" recipe=hello version=1.0-1 outputs=1' "$LOG"
check "once: source=poll" grep -q \
    'msg="starting build" recipe=hello tag=v1.0 version=1.0-1 source=poll' "$LOG"
check "once: job dirs removed" sh -c "test -z \"\$(ls '$FARM/state/jobs')\""
check "once: log kept" test -s "$FARM/state/logs/hello/1.0-1/1.log"
check "once: packages signed through the relay" grep -q \
    'relay origin=5 job=1 kind=1 subject=foo ok=1' "$FK/signer.log"
check "once: index signed for the publisher" grep -q \
    'relay origin=4 job=0 kind=3 subject=index/active.json ok=1' "$FK/signer.log"
check "once: no roles left" no_leftovers
once
check "second once: exit 0" test "$RC" = 0
check "second once: foo-recipe not rebuilt (package names)" grep -q \
    'msg="trigger skipped (already published)" recipe=foo-recipe version=1.1.0-1 source=poll' "$LOG"
check "second once: hello not rebuilt" grep -q \
    'msg="trigger skipped (already published)" recipe=hello version=1.0-1' "$LOG"
check "second once: nothing started" sh -c "! grep -q 'starting build' '$LOG'"
check "second once: two builds in all" test "$(grep -c '^job ' "$FK/buildd.log")" = 2

# --- daemon: back-off on the test clock ----------------------------------
: >"$LOG"
echo "v2.0 2.0" >"$FK/tags/hello"
: >"$FK/tags/foo-recipe"
echo fail >"$FK/build/hello"
notify_start
start_daemon
expect_log "1st failure: 1m0s" \
    'msg="build failed" recipe=hello version=2.0-1 err="build.sh exited 1" next_retry_after=1m0s log='"$FARM"'/state/logs/hello/2.0-1/1.log'
expect_in "/status failures entry" "$FK/status.json" \
    '"hello@2.0-1": {
      "failures": 1,
      "next_retry": "2026-05-07T14:33:11Z",
      "log": "'"$FARM"'/state/logs/hello/2.0-1/1.log"'
expect_in "/metrics: one failure, one in back-off" "$FK/metrics.txt" \
    'peipkg_builds_in_backoff 1'
# Not after next_retry yet: skipped.
advance 60
kill -HUP "$PM_PID"
expect_log "inside the window: skipped" \
    'msg="trigger skipped (in failure backoff window)" recipe=hello version=2.0-1 source=poll'
advance 1
kill -HUP "$PM_PID"
expect_log "2nd failure: 5m0s" 'next_retry_after=5m0s log='"$FARM"'/state/logs/hello/2.0-1/2.log'
advance 301
kill -HUP "$PM_PID"
expect_log "3rd failure: 15m0s" 'next_retry_after=15m0s log='"$FARM"'/state/logs/hello/2.0-1/3.log'
expect_in "/status counts 3" "$FK/status.json" '"failures": 3,'
check "log retention 2: oldest failed log pruned" sh -c \
    "test ! -e '$FARM/state/logs/hello/2.0-1/1.log' &&
    test -e '$FARM/state/logs/hello/2.0-1/2.log' &&
    test -e '$FARM/state/logs/hello/2.0-1/3.log'"
check "published version logs kept" test -e "$FARM/state/logs/hello/1.0-1/1.log"
rm "$FK/build/hello"
advance 901
kill -HUP "$PM_PID"
expect_log "then success" \
    'msg="build + publish complete" recipe=hello version=2.0-1 outputs=1'
expect_in "/status: failures back to null" "$FK/status.json" '"failures": null,'
expect_in "/status: succeeded" "$FK/status.json" '"builds_succeeded": 1,'
expect_in "/status: attempted" "$FK/status.json" '"builds_attempted": 4,'

# --- webhooks --------------------------------------------------------------
echo hello >"$FK/webhook"
kill -USR2 "$(pidof_role http)"
expect_in "webhook for a watched recipe accepted" "$FK/http.log" "ack 1 1"
expect_in "webhook polls (source webhook)" "$FK/poller.log" "pollnow hello 2"
expect_log "webhook poll logged by the parent" \
    'msg="poll requested by webhook" recipe=hello'
echo nosuch >"$FK/webhook"
kill -USR2 "$(pidof_role http)"
expect_in "webhook for an unknown recipe refused" "$FK/http.log" "ack 2 0"
expect_in "webhook results in /metrics" "$FK/metrics.txt" \
    'peipkg_webhooks_total{endpoint="github",result="ignored"} 1'

# --- worker failures ------------------------------------------------------
# case MODE VERSION ERR: tag v<VERSION> of hello fails with ERR.
wcase() {
	echo "$1" >"$FK/build/hello"
	echo "v$2 $2" >"$FK/tags/hello"
	kill -HUP "$PM_PID"
	expect_log "worker $1" \
	    "msg=\"build failed\" recipe=hello version=$2-1 err=\"$3\" next_retry_after=1m0s"
}
wcase crash 3.0 "worker exited 3 before reporting a result"
wcase garbage 3.1 "worker: protocol error: protocol version 99, expected 1"
wcase badout 3.2 "the worker's output files are not the recipe's packages"
wcase signtwice 3.3 "second signature refused"
check "second signature refused by the signer" grep -q \
    'kind=1 subject=hello ok=0' "$FK/signer.log"
wcase hang 3.4 "the build outlived the parent's watchdog (2 x wall_timeout + kill_grace)"
no_worker() { ! pgrep -f "$TAP_TMP/bin/fake-buildd" >/dev/null; }
check "no worker left" no_worker
check "parent alive after worker failures" kill -0 "$PM_PID"
check "job dirs removed after failures" wait_for "jobs empty" sh -c \
    "test -z \"\$(ls '$FARM/state/jobs')\""
expect_in "ipc error counted" "$FK/metrics.txt" 'peipkg_ipc_protocol_errors_total 1'
if command -v promtool >/dev/null; then
	check "promtool accepts /metrics" promtool check metrics <"$FK/metrics.txt"
else
	ok "# SKIP promtool not installed (Debian package prometheus)"
fi

# --- stop with a build running --------------------------------------------
echo hang >"$FK/build/hello"
echo "v4.0 4.0" >"$FK/tags/hello"
kill -HUP "$PM_PID"
expect_log "hanging build started" 'msg="starting build" recipe=hello tag=v4.0'
stop_daemon
check "stop: exit 0" test "$RC" = 0
check "stop: timeout reached, build killed" grep -q \
    'msg="build failed" recipe=hello version=4.0-1 err="killed at shutdown (stop timeout)"' "$LOG"
check "stop: stopped logged" grep -q 'msg="peipkg-manager stopped"' "$LOG"
check "stop: no process left" no_leftovers

done_testing
