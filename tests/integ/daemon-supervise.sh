#!/bin/sh
# daemon-supervise.sh: the parent's supervision with fake roles
# (tests/fake): READY=1 only once every role answered PM_READY; a killed
# poller or http role is restarted and re-configured; a role sending a
# malformed frame or missing heartbeats is killed, logged and restarted
# while the parent stays up; SIGHUP reload (RELOADING=1/READY=1, new
# table generation, every watched recipe polled, a bad recipe rejected
# without touching the good ones, an unreadable roster keeps the old
# one); SIGTERM (STOPPING=1, exit 0, no process left); a Unix listener;
# start-up failures (missing user, every recipe invalid, a role that never
# gets ready).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/daemon-lib.sh"

farm
recipe hello hello:x86_64
recipe foo-recipe foo:noarch foo-doc:noarch
echo "v1.0 1.0" >"$FK/tags/hello"
notify_start
start_daemon

# --- start-up -----------------------------------------------------------
expect_in "READY=1 notified" "$NOTIFY" "READY=1|STATUS=2 recipes (2 watched)"
for r in http poller signer publisher; do
	check "role $r started" test -s "$FK/$r.pid"
done
# Everything a role needs came before READY=1 (each fake answered
# PM_READY only after it); and the order of spawning: signer last.
check "ready after every role" grep -q "all roles ready" "$LOG"
check "signer spawned last" sh -c "grep 'role started' '$LOG' | tail -1 |
    grep -q role=signer"
expect_in "http got a TCP listener" "$FK/http.log" "listener family=inet"
expect_in "http got the github secret, trimmed" "$FK/http.log" \
    "secret forge=0 len=6"
expect_in "signer got the key as an fd" "$FK/signer.log" "key name= size=4"
expect_in "roles told the role user and empty dir" "$FK/poller.log" \
    "empty=$FARM/state/empty"
expect_in "initial polls (source start)" "$FK/poller.log" "pollnow hello 4"
expect_log "initial build done" \
    'msg="build + publish complete" recipe=hello version=1.0-1 outputs=1'
expect_in "/status pushed to http" "$FK/status.json" '"farm_id": "test-farm"'
expect_in "/metrics pushed to http" "$FK/metrics.txt" \
    "peipkg_builds_succeeded_total 1"

# --- a killed poller is restarted and polls again -------------------------
OLD=$(pidof_role poller)
kill -KILL "$OLD"
expect_log "poller death logged with the signal" \
    "role=poller pid=$OLD status=\"killed by signal 9 (SIGKILL)\""
check "poller restarted" wait_for "new poller" sh -c \
    "test \"\$(cat '$FK/poller.pid')\" != '$OLD'"
expect_in "restarted poller polls every watched recipe" "$FK/poller.log" \
    "pollnow foo-recipe 4"
expect_in "restart counted in /status" "$FK/status.json" '"poller": 1'

# --- a killed http role is restarted and gets the documents again --------
OLD=$(pidof_role http)
rm -f "$FK/status.json"
kill -KILL "$OLD"
check "http restarted" wait_for "new http" sh -c \
    "test \"\$(cat '$FK/http.pid')\" != '$OLD'"
expect_in "new http gets the listener" "$FK/http.log" "listener family=inet"
expect_in "new http gets /status" "$FK/status.json" '"http": 1'

# --- garbage from a child: killed, logged, restarted; parent stays ------
OLD=$(pidof_role poller)
kill -USR1 "$OLD"
expect_log "protocol error logged" "protocol error; killing role\" role=poller pid=$OLD"
check "poller replaced after garbage" wait_for "new poller" sh -c \
    "test \"\$(cat '$FK/poller.pid')\" != '$OLD'"
check "parent still running" kill -0 "$PM_PID"
expect_in "ipc error counted" "$FK/metrics.txt" \
    "peipkg_ipc_protocol_errors_total 1"

# --- a hung child (no heartbeat answers) ---------------------------------
OLD=$(pidof_role publisher)
touch "$FK/publisher.nopong"
expect_log "missed heartbeats kill the role" \
    "msg=\"killing role\" role=publisher pid=$OLD reason=\"missed 3 heartbeats\""
rm -f "$FK/publisher.nopong"
check "publisher replaced" wait_for "new publisher" sh -c \
    "test \"\$(cat '$FK/publisher.pid')\" != '$OLD'"

# --- SIGHUP: reload --------------------------------------------------------
recipe newone newone:noarch
mkdir -p "$FARM/recipes/broken"
printf '[meta]\nlicense = 7\n' >"$FARM/recipes/broken/peipkg.toml"
: >"$NOTIFY.hup"
N0=$(wc -l <"$NOTIFY")
kill -HUP "$PM_PID"
expect_log "reload logged" 'msg="recipes reloaded" count=3'
expect_log "bad recipe rejected" 'msg="recipe rejected" recipe=broken'
expect_in "poller got generation 1" "$FK/poller.log" "table begin gen=1 n=3"
expect_in "http got generation 1" "$FK/http.log" "table begin gen=1 n=3"
expect_in "every watched recipe polled again" "$FK/poller.log" \
    "pollnow newone 3"
check "RELOADING=1 then READY=1" wait_for "notify" sh -c \
    "tail -n +$((N0 + 1)) '$NOTIFY' | head -2 | tr '\n' ' ' |
    grep -q '^RELOADING=1 READY=1'"
expect_in "/status lists the new roster" "$FK/status.json" '"newone"'
check "the listener was not touched" sh -c \
    "test \$(grep -c 'listener family' '$FK/http.log') -eq 2"
rm -rf "$FARM/recipes/broken"

mv "$FARM/recipes" "$FARM/recipes.away"
kill -HUP "$PM_PID"
expect_log "unreadable roster keeps the old one" \
    'reload: load roster failed; continuing with existing recipes'
mv "$FARM/recipes.away" "$FARM/recipes"
check "old roster still served" grep -q '"newone"' "$FK/status.json"

# --- SIGTERM ------------------------------------------------------------
stop_daemon
check "SIGTERM: exit 0" test "$RC" = 0
check "STOPPING=1 notified" grep -q '^STOPPING=1' "$NOTIFY"
check "stopped logged" grep -q 'msg="peipkg-manager stopped"' "$LOG"
check "roles got PM_SHUTDOWN" grep -q '^shutdown' "$FK/signer.log"
check "no process left" no_leftovers

# --- socket activation: a Unix listener from systemd ---------------------
if command -v systemd-socket-activate >/dev/null; then
	: >"$FK/http.log"
	(cd "$FARM" && exec systemd-socket-activate -l "$TAP_TMP/http.sock" \
	    $(for v in PEIPKG_FAKE_DIR PEIPKG_TEST_CLOCK_FILE \
	    PEIPKG_ROLE_HTTP_PATH PEIPKG_ROLE_POLLER_PATH \
	    PEIPKG_ROLE_SIGNER_PATH PEIPKG_ROLE_PUBLISHER_PATH \
	    PEIPKG_BUILDD_PATH PEIPKG_TEST_PING_MS PEIPKG_TEST_STOP_TIMEOUT \
	    NOTIFY_SOCKET; do echo "-E $v"; done) \
	    "$PM" --config "$FARM/config.toml" --log-target stderr) \
	    2>>"$LOG" &
	PM_PID=$!
	wait_for "activation socket" test -S "$TAP_TMP/http.sock"
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
	    "$TAP_TMP/http.sock"
	expect_in "activated: unix listener handed over" "$FK/http.log" \
	    "listener family=unix"
	expect_log "activated: systemd socket used" \
	    'msg="webhook server listening" addr="systemd socket"'
	stop_daemon
	check "activated: exit 0" test "$RC" = 0
else
	for i in 1 2 3; do ok "# SKIP systemd-socket-activate not installed"; done
fi

# --- the real http role, when built in ----------------------------------
if role_built http && command -v curl >/dev/null; then
	PORT=$(free_port)
	HTTP_ADDR="127.0.0.1:$PORT" farm
	: >"$LOG"
	healthz() { curl -sf -m 2 "http://127.0.0.1:$PORT/healthz" | grep -qx ok; }
	PEIPKG_ROLE_HTTP_PATH= start_daemon
	check "real http: /healthz" wait_for "healthz" healthz
	check "real http: /status from the parent's document" wait_for "status" \
	    sh -c "curl -sf -m 2 http://127.0.0.1:$PORT/status |
	    grep -q '\"farm_id\": \"test-farm\"'"
	check "real http: /metrics" wait_for "metrics" sh -c \
	    "curl -sf -m 2 http://127.0.0.1:$PORT/metrics |
	    grep -q '^peipkg_builds_attempted_total '"
	OLD=$(sed -n 's/.*msg="role started" role=http pid=\([0-9]*\).*/\1/p' \
	    "$LOG" | tail -1)
	kill -KILL $OLD
	expect_log "real http: death logged" "role=http pid=$OLD status=\"killed by signal 9"
	check "real http: /healthz again after the restart" wait_for "healthz" healthz
	check "real http: restart in /status" wait_for "restart" sh -c \
	    "curl -sf -m 2 http://127.0.0.1:$PORT/status | grep -q '\"http\": 1'"
	stop_daemon
	check "real http: exit 0" test "$RC" = 0
	check "real http: no process left" no_leftovers
else
	for i in 1 2 3 4 5 6 7 8; do ok "# SKIP the http role is not built in"; done
fi

# --- start-up failures ----------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	farm '' && sed -i 's/^id = "test-farm"/id = "test-farm"\nuser = "no-such-user-pm"/' \
	    "$FARM/config.toml"
	(cd "$FARM" && "$PM" --once --config config.toml --log-target stderr) \
	    >/dev/null 2>"$TAP_TMP/err"
	check "missing user: exit 1" test $? = 1
	check "missing user named" grep -q 'user \\"no-such-user-pm\\" does not exist' \
	    "$TAP_TMP/err"
else
	ok "# SKIP missing user (not root)"
	ok "# SKIP missing user named (not root)"
fi
farm
mv "$FARM/recipes" "$FARM/recipes.good"
mkdir -p "$FARM/recipes/bad"
printf '[meta]\nlicense = 7\n' >"$FARM/recipes/bad/peipkg.toml"
(cd "$FARM" && "$PM" --once --config config.toml --log-target stderr) \
    >/dev/null 2>"$TAP_TMP/err"
check "every recipe invalid: exit 1" test $? = 1
check "every recipe invalid: said so" grep -q 'no valid recipe' "$TAP_TMP/err"
rm -rf "$FARM/recipes"
mv "$FARM/recipes.good" "$FARM/recipes"

# A signer that never answers PM_READY: no READY=1, exit 1 after 10 s.
: >"$LOG"
PEIPKG_ROLE_SIGNER_PATH=/bin/cat start_daemon
WAIT_S=15 expect_log "roles not ready: logged" \
    'msg="start-up timed out waiting for roles" roles=signer'
wait "$PM_PID"
check "roles not ready: exit 1" test $? = 1
check "no process left after the failed start" no_leftovers

done_testing
