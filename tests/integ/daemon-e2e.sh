#!/bin/sh
# daemon-e2e.sh: the real daemon, every real role, real git upstreams and
# real files: --once publishes exactly the expected versions and a second
# --once publishes nothing; in daemon mode a new tag + SIGHUP and a signed
# webhook are published; a failing build follows the back-off through the
# test clock; a reload that adds a bad recipe keeps the good ones; killed
# roles are restarted; no key bytes in the unprivileged processes; SIGTERM
# during a build exits 0 leaving nothing behind.
. "$top_srcdir/tests/lib.sh"
PM="$top_builddir/peipkg-manager"
REPO="$top_builddir/peipkg-repo"
PB="$top_builddir/peipkg-build"
[ -x "$PM" ] && [ -x "$REPO" ] && [ -x "$PB" ] ||
    skip_all "programs not built"
[ "$(id -u)" = 0 ] || skip_all "the daemon's privilege separation needs root"
unshare -U true 2>/dev/null || skip_all "user namespaces are not available"
for u in peipkg peipkg-build; do
	getent passwd "$u" >/dev/null || useradd --system --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
	    skip_all "cannot create user $u"
done
export PEIPKG_BUILDD_PATH="$top_builddir/sandbox/peipkg-buildd"

chmod 755 "$TAP_TMP"
F=$TAP_TMP/farm
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sh "$top_srcdir/scripts/demo-fixture" "$F" "$PORT" >/dev/null 2>&1 ||
    { notok "fixture"; done_testing; }
CFG=$F/etc/config.toml
STATE=$F/state/repo
URL="http://127.0.0.1:$PORT"
LOG=$TAP_TMP/daemon.log
CLOCK=$TAP_TMP/clock

archive() { python3 -c '
import json, sys
a = json.load(open(sys.argv[1] + "/index/archive.json"))
print(" ".join(sorted("%s@%s" % (p["name"], p["version"]) for p in a["packages"])))
' "$STATE"; }
index_version() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index/archive.json"))["index_version"])' "$STATE"; }
# wait_for COND TENTHS
wait_for() {
	_i=0
	while ! eval "$1" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -le "$2" ] || return 1
		sleep 0.1
	done
}
tag() {	# tag VERSION: commit and tag a release upstream
	(cd "$F/upstream/work" && printf 'Hello %s\n' "$1" >share/MESSAGE &&
	    printf 'greeter %s\n' "$1" >share/VERSION &&
	    git commit -qam "release $1" && git tag -a "v$1" -m "v$1" &&
	    git push -q "$F/upstream/greeter.git" "v$1")
}
hook() {	# hook: a signed GitHub push webhook for the upstream
	_b='{"repository":{"html_url":"file://'$F'/upstream/greeter.git"}}'
	_s=$(printf '%s' "$_b" | openssl dgst -sha256 \
	    -hmac "$(cat "$F/etc/webhook-secret")" -r | cut -d' ' -f1)
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "X-Hub-Signature-256: sha256=$_s" \
	    -H "X-GitHub-Delivery: $1" --data-binary "$_b" "$URL/webhooks/github"
}
role_pid() {	# role_pid ROLE: pid of a role child of the daemon
	pgrep -f -- "-P $1" | while read -r _p; do
		[ "$(ps -o ppid= -p "$_p" | tr -d ' ')" = "$DPID" ] && echo "$_p"
	done | head -1
}

# ---- --once ------------------------------------------------------------
"$PM" --once --config "$CFG" --log-target stderr >"$TAP_TMP/once1" 2>&1
check "--once exits 0" test $? = 0
WANT="greeter-banner@1.2.0-2 greeter-doc@1.1.0-1 greeter-doc@1.2.0-1 greeter@1.1.0-1 greeter@1.2.0-1"
check "--once published exactly the expected versions" test "$(archive)" = "$WANT"
check "the published repository verifies (metadata and hashes)" \
    "$REPO" verify --repo "$STATE" --mode both
PUB=$TAP_TMP/pub.pem
cp "$STATE"/keys/*.pub "$PUB"
for f in "$STATE"/p/*/*/*.peipkg; do
	"$PB" verify "$f" --key "$PUB" >/dev/null 2>&1 || { notok "package $f verifies"; continue; }
done
ok "every package verifies against the repository key"
check "build logs kept" test -s "$F/state/logs/greeter/1.1.0-1/1.log"
check "no job directories left" test -z "$(ls -A "$F/state/jobs")"
V1=$(index_version)
"$PM" --once --config "$CFG" --log-target stderr >"$TAP_TMP/once2" 2>&1
check "second --once exits 0" test $? = 0
check "second --once builds nothing" sh -c "! grep -q 'starting build' $TAP_TMP/once2"
check "second --once publishes nothing" test "$(index_version)" = "$V1"
check "a recipe named unlike its package (greeter-named) is not rebuilt" \
    sh -c "! grep -q 'recipe=greeter-named' $TAP_TMP/once2 || ! grep 'starting build' $TAP_TMP/once2 | grep -q greeter-named"

# ---- daemon ---------------------------------------------------------------
# A recipe whose build always fails, to watch the back-off on a test clock.
mkdir -p "$F/recipes/broken"
cat >"$F/recipes/broken/peipkg.toml" <<EOT
[meta]
license = "MIT"
build_script = "build.sh"

[[package]]
name = "broken"
architecture = "noarch"
files = ["usr/share/broken/*"]

[upstream]
git = "file://$F/upstream/greeter.git"
tag_pattern = "^v(1\\\\.2\\\\.0)\$"
EOT
printf 'echo "compiling broken"\nexit 3\n' >"$F/recipes/broken/build.sh"
T0=1800000000
echo $T0 >"$CLOCK"
PEIPKG_TEST_CLOCK_FILE=$CLOCK PEIPKG_TEST_STOP_TIMEOUT=3 \
    "$PM" --config "$CFG" --log-target stderr --log-level debug >"$LOG" 2>&1 &
DPID=$!
check "daemon answers /healthz" wait_for "curl -fs $URL/healthz | grep -qx ok" 100
check "/status has the farm and its recipes" wait_for \
    "curl -fs $URL/status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"farm_id\"]==\"demo-farm\" and d[\"recipes\"]==[\"broken\",\"greeter\",\"greeter-named\",\"manual-only\"]'" 50
check "failing build logged with 1m back-off" wait_for \
    "grep -q 'msg=\"build failed\" recipe=broken version=1.2.0-1.*next_retry_after=1m0s' $LOG" 100
check "/status shows the failure with its next retry" wait_for \
    "curl -fs $URL/status | python3 -c 'import json,sys; f=json.load(sys.stdin)[\"failures\"][\"broken@1.2.0-1\"]; assert f[\"failures\"]==1 and f[\"next_retry\"]==\"2027-01-15T08:01:00Z\"'" 50
check "the build log holds the script's output" \
    grep -q 'compiling broken' "$F/state/logs/broken/1.2.0-1/1.log"
echo $((T0 + 30)) >"$CLOCK"; kill -HUP $DPID
check "within the back-off window the retry is skipped" wait_for \
    "grep -q 'trigger skipped (in failure backoff window)' $LOG" 100
echo $((T0 + 61)) >"$CLOCK"; kill -HUP $DPID
check "after 1m the build is retried and backs off 5m" wait_for \
    "grep -q 'msg=\"build failed\" recipe=broken version=1.2.0-1.*next_retry_after=5m0s' $LOG" 100
echo $((T0 + 61 + 301)) >"$CLOCK"; kill -HUP $DPID
check "then 15m" wait_for \
    "grep -q 'msg=\"build failed\" recipe=broken.*next_retry_after=15m0s' $LOG" 100

# A new tag and a reload publish it.
tag 1.3.0
kill -HUP $DPID
check "new tag + SIGHUP is published" wait_for \
    "archive | grep -q 'greeter@1.3.0-1'" 300
# A signed webhook gets a new tag published within a second: the median
# of three rounds (absolute times on a shared machine are noisy).
times=""
for v in 1.4.0 1.4.1 1.4.2; do
	tag $v
	t0=$(date +%s%N)
	code=$(hook "d-$v")
	[ "$code" = 200 ] || diag "webhook for $v: HTTP $code"
	if wait_for "archive | grep -q 'greeter@$v-1'" 100; then
		times="$times $(( ($(date +%s%N) - t0) / 1000000 ))"
	else times="$times 99999"; fi
	# greeter-named tracks the same repository: its build follows.
	wait_for "archive | grep -q 'greeter-banner@$v-2'" 100
done
med=$(echo $times | tr ' ' '\n' | sort -n | sed -n 2p)
diag "webhook to published (ms):$times; median $med"
if [ "$med" -le 1000 ]; then ok "webhook: published within 1 s (median $med ms)"
else notok "webhook: published within 1 s (median $med ms)"; fi
check "every recipe on the repository polled (greeter-named too)" \
    sh -c "archive() { python3 -c 'import json,sys; print(\" \".join(\"%s@%s\" % (p[\"name\"], p[\"version\"]) for p in json.load(open(sys.argv[1]+\"/index/archive.json\"))[\"packages\"]))' $STATE; }; archive | grep -q greeter-banner@1.4.2-2"
check "unsigned webhook refused (401)" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{}' $URL/webhooks/github)" = 401
check "the repository still verifies" "$REPO" verify --repo "$STATE" --mode both

# A reload that adds a bad recipe keeps every good one.
mkdir -p "$F/recipes/bad"
printf '[meta]\nbuild_script = "build.sh"\nbogus = 1\n' >"$F/recipes/bad/peipkg.toml"
kill -HUP $DPID
check "bad recipe reported with file:line" wait_for \
    "grep -q 'recipes/bad/peipkg.toml:3:1' $LOG" 100
check "good recipes still served after the bad reload" wait_for \
    "curl -fs $URL/status | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"recipes\"]; assert \"greeter\" in r and \"bad\" not in r'" 50

# Killed roles are restarted and the service continues.
hp=$(role_pid http); pp=$(role_pid poller)
kill -9 "$hp" "$pp"
check "killed http is restarted" wait_for "[ -n \"\$(role_pid http)\" ] && [ \"\$(role_pid http)\" != $hp ]" 100
check "killed poller is restarted" wait_for "[ -n \"\$(role_pid poller)\" ] && [ \"\$(role_pid poller)\" != $pp ]" 100
check "/healthz answers again" wait_for "curl -fs $URL/healthz | grep -qx ok" 100
check "restarts counted in /status" wait_for \
    "curl -fs $URL/status | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"child_restarts\"]; assert c[\"http\"]>=1 and c[\"poller\"]>=1'" 50

# No key bytes in the unprivileged roles (the signer alone holds them).
if command -v gcore >/dev/null 2>&1; then
	SEED=$TAP_TMP/seed.bin
	openssl pkey -in "$F/etc/farm.ed25519" -outform DER 2>/dev/null |
	    tail -c 32 >"$SEED"
	for r in http poller publisher; do
		p=$(role_pid $r)
		gcore -o "$TAP_TMP/core.$r" "$p" >/dev/null 2>&1
		if [ -s "$TAP_TMP/core.$r.$p" ] && python3 -c '
import sys
seed = open(sys.argv[1], "rb").read()
sys.exit(1 if seed in open(sys.argv[2], "rb").read() else 0)' "$SEED" "$TAP_TMP/core.$r.$p"
		then ok "no key bytes in the $r process"
		else notok "no key bytes in the $r process"; fi
		rm -f "$TAP_TMP/core.$r.$p"
	done
	# The signer (the one process holding the key) never dumps core:
	# not dumpable (its /proc files then belong to root although it runs
	# as the role user) and a zero core size limit.
	p=$(role_pid signer)
	check "the signer runs as the role user" test \
	    "$(ps -o user= -p "$p" | tr -d ' ')" = peipkg
	check "the signer is not dumpable" test \
	    "$(stat -c %U "/proc/$p/environ")" = root
	check "the signer has no core size" grep -Eq \
	    '^Max core file size +0 +0 ' "/proc/$p/limits"
else
	echo "ok $((TAP_N + 1)) # SKIP gdb's gcore is not installed"; TAP_N=$((TAP_N + 1))
fi

# SIGTERM during a build: drained up to the stop timeout, then killed.
cat >"$F/recipes/greeter/build.sh" <<'EOT'
#!/bin/sh
sleep 120
EOT
tag 1.5.0
kill -HUP $DPID
check "a slow build is running" wait_for \
    "grep -q 'starting build.*version=1.5.0-1' $LOG" 150
sleep 1
# The build worker never holds key bytes either.
if command -v gcore >/dev/null 2>&1; then
	wp=$(pgrep -f peipkg-buildd | while read -r _p; do
		[ "$(ps -o ppid= -p "$_p" | tr -d ' ')" = "$DPID" ] && echo "$_p"
	done | head -1)
	gcore -o "$TAP_TMP/core.worker" "$wp" >/dev/null 2>&1
	if [ -n "$wp" ] && [ -s "$TAP_TMP/core.worker.$wp" ] && python3 -c '
import sys
seed = open(sys.argv[1], "rb").read()
sys.exit(1 if seed in open(sys.argv[2], "rb").read() else 0)' "$SEED" "$TAP_TMP/core.worker.$wp"
	then ok "no key bytes in the build worker"
	else notok "no key bytes in the build worker (pid ${wp:-none})"; fi
	rm -f "$TAP_TMP/core.worker.$wp"
fi
t0=$(date +%s)
kill -TERM $DPID
wait $DPID
rc=$?
t1=$(date +%s)
check "SIGTERM: exit 0" test "$rc" = 0
check "SIGTERM: within the stop timeout" test $((t1 - t0)) -le 8
check "SIGTERM: no process left behind" wait_for "! pgrep -f '$TAP_TMP' >/dev/null" 30
check "stopped logged" grep -q 'msg="peipkg-manager stopped"' "$LOG"
check "the repository still verifies after the stop" \
    "$REPO" verify --repo "$STATE" --mode both
pkill -KILL -f "$TAP_TMP" 2>/dev/null
done_testing
