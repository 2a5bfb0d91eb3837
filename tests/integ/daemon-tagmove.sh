#!/bin/sh
# daemon-tagmove.sh: a tag moved upstream after its version was
# published.  The real daemon on the demo farm records the commit of
# every published build in state_dir/published-commits; when v1.2.0 is
# then force-moved to another commit, the next poll logs "upstream tag
# moved after publish; not rebuilt" naming both commits, counts it in
# /status and /metrics, and neither rebuilds nor touches the published
# package or the indexes.  A ledger whose last line was torn by a crash
# is read with a warning and keeps working.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
farm_require curl python3 git
farm_bin
export PEIPKG_TEST_STOP_TIMEOUT=3
LOG=$TAP_TMP/daemon.log
LEDGER=$F/state/published-commits
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	for _p in $(pgrep -f "$TAP_TMP"); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
farm_fixture "$PORT"
"$PM" --once --config "$CFG" --log-target stderr >"$TAP_TMP/once.log" 2>&1
check "--once publishes the demo" test $? = 0
OLD=$(git -C "$F/upstream/greeter.git" rev-parse 'v1.2.0^{commit}')
check "the ledger names greeter 1.2.0-1's commit" \
    grep -qx "greeter 1.2.0-1 v1.2.0 $OLD" "$LEDGER"
check "one line per published build" sh -c \
    "test \$(wc -l <'$LEDGER') = \$(grep -c 'msg=\"build + publish complete\"' '$TAP_TMP/once.log')"

# ---- the tag moves -------------------------------------------------------------
(cd "$F/upstream/work" && echo "moved" >>share/MESSAGE &&
    git commit -qam "not 1.2.0" && git tag -f -a v1.2.0 -m moved >/dev/null &&
    git push -q -f "$F/upstream/greeter.git" v1.2.0) >/dev/null 2>&1
NEW=$(git -C "$F/upstream/greeter.git" rev-parse 'v1.2.0^{commit}')
check "upstream v1.2.0 now names another commit" test "$NEW" != "$OLD"
cp "$STATE/index/archive.json" "$TAP_TMP/archive.before"
cp "$LEDGER" "$TAP_TMP/ledger.before"
# A torn last line, as a crash mid-append leaves it.
printf 'greeter 9.9.9-1 v9.9.9 0123' >>"$LEDGER"

"$PM" --config "$CFG" --log-target stderr >"$LOG" 2>&1 &
DPID=$!
check "daemon answers /healthz" wait_for "curl -fs $URL/healthz | grep -qx ok" 100
check "the torn line is reported with its number" grep -q \
    "msg=\"published-commits ledger\" warning=\"$LEDGER:$(($(wc -l <"$TAP_TMP/ledger.before") + 1)): not <recipe> <version> <tag> <commit>; line skipped\"" "$LOG"
check "the move is logged with both commits" wait_for \
    "grep -q 'level=warn msg=\"upstream tag moved after publish; not rebuilt\" recipe=greeter tag=v1.2.0 version=1.2.0-1 published_commit=$OLD commit=$NEW' $LOG" 150
check "/status counts it" wait_for "curl -fs $URL/status | python3 -c '
import json, sys
assert json.load(sys.stdin)[\"upstream_tags_moved\"] >= 1'" 50
check "/metrics counts it" wait_for \
    "curl -fs $URL/metrics | grep -q '^peipkg_upstream_tags_moved_total [1-9]'" 50
NPOLL=$(grep -c 'msg="poll complete"' "$TAP_TMP/once.log")
check "all $NPOLL start polls done" wait_for \
    "test \$(grep -c 'msg=\"poll complete\"' $LOG) -ge $NPOLL" 150
check "nothing was rebuilt" sh -c "! grep -q 'msg=\"starting build\"' '$LOG'"
check "the archive index is unchanged" cmp "$STATE/index/archive.json" \
    "$TAP_TMP/archive.before"
check "the repository verifies" "$top_builddir/peipkg-repo" verify \
    --repo "$STATE" --mode both
# A second poll of the same move: no second warning.
N1=$(grep -c 'msg="upstream tag moved' "$LOG")
kill -HUP "$DPID"
check "the reload polls again" wait_for \
    "test \$(grep -c 'msg=\"poll complete\"' $LOG) -ge $((2 * NPOLL))" 150
check "the same move is not reported twice" test \
    "$(grep -c 'msg="upstream tag moved' "$LOG")" = "$N1"
kill -TERM "$DPID"
wait "$DPID"
check "SIGTERM: exit 0" test $? = 0
DPID=""
done_testing
