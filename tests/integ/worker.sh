#!/bin/sh
# worker.sh: the build worker (sandbox/peipkg-buildd) driven by a fake
# parent (tests/fakeparent-worker.py: the channel on fd 3, PM_BUILD_JOB +
# PM_BUILD_LOG_FD, PM_SIGN_REQ answered with the test key) against a
# file:// upstream made here with the git CLI.  Needs root (the worker
# drops to the build user peipkg-build, created when missing).
#
# Cases: a real build (packages peipkg-build verify accepts, the commit's
# committer time as the build timestamp, phases, the signature request,
# the worker not root during the build, a hidden key file unreadable while
# its neighbour is readable, the grant environment, no .git in the
# source); build.sh failing; a wall-clock timeout; the worker SIGKILLed
# mid-build leaving no process behind (removing the job directory is the
# parent's job, not checked here); a missing tag; an invalid job; a
# malformed record.
. "$top_srcdir/tests/lib.sh"

BUILDD="$top_builddir/sandbox/peipkg-buildd"
PB="$top_builddir/peipkg-build"
FP="$top_srcdir/tests/fakeparent-worker.py"
KEYS="$VECTORS/keys"
[ "$(id -u)" = 0 ] || skip_all "needs root (the worker demotes itself)"
[ -x "$BUILDD" ] || skip_all "peipkg-buildd is not built"
[ -x "$PB" ] || skip_all "peipkg-build is not built"
for c in git openssl python3 pgrep ps; do
	command -v $c >/dev/null 2>&1 || skip_all "no $c command"
done
BUSER=peipkg-build
getent passwd $BUSER >/dev/null || useradd --system --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin $BUSER ||
    skip_all "cannot create $BUSER"
BUID=$(id -u $BUSER)
BGID=$(id -g $BUSER)

# Everything the build user must traverse lives in a canonical 0755 tree.
W=$(mktemp -d /tmp/peipkg-worker.XXXXXX) || exit 1
W=$(cd "$W" && pwd -P)
chmod 755 "$W"
trap 'rm -rf "$W" "$TAP_TMP"' EXIT
MARK=$((7000000 + $$))		# unique sleep lengths for pgrep
STATE="$W/state"
mkdir -p "$STATE/jobs" "$STATE/logs" "$W/recipes"

# ---- the upstream: one commit (2001), annotated tag v1.0 dated 2030 ----
(
	export HOME="$W" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t \
	    GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t \
	    GIT_COMMITTER_EMAIL=t@example.org
	cd "$W" && git init -q -b main w && cd w &&
	echo "hello world" > hello.txt && git add . &&
	GIT_COMMITTER_DATE=2001-02-03T04:05:06Z git commit -qm one &&
	GIT_COMMITTER_DATE=2030-01-01T00:00:00Z git tag -a v1.0 -m rel &&
	echo later > later.txt && git add . && git commit -qm two &&
	cd .. && git clone -q --bare w up.git
) || { echo "Bail out! cannot make the upstream"; exit 1; }
URL="file://$W/up.git"
TS_COMMIT=981173106		# 2001-02-03T04:05:06Z

# recipe ID BODY: peipkg.toml (one package, ID, x86_64) and build.sh.
recipe() {
	mkdir -p "$W/recipes/$1"
	cat > "$W/recipes/$1/peipkg.toml" <<EOF
[meta]
license = "MIT"
build_script = "build.sh"

[[package]]
name = "$1"
architecture = "x86_64"
description = "worker test"
files = ["usr/share/$1/**"]
EOF
	printf '%s\n' "$2" > "$W/recipes/$1/build.sh"
	chmod -R a+rX "$W/recipes"
}

recipe hello 'set -eu
d=$(dirname "$0")
echo "hello-build started"
cat "$d/visible.txt"
if cat "$d/key.secret" 2>/dev/null; then echo SECRET-READ; else
	echo "secret hidden"; fi
echo "GREETING=${GREETING-unset}"
sleep 2
mkdir -p "$DESTDIR/usr/share/hello" "$DESTDIR/usr/bin"
cp "$SOURCE_DIR/hello.txt" "$DESTDIR/usr/share/hello/"
cp /bin/true "$DESTDIR/usr/bin/hello-true"'
sed -i 's|^files = .*|files = ["usr/share/hello/**", "usr/bin/*"]|' \
    "$W/recipes/hello/peipkg.toml"
printf '\n[[sign]]\npath = "usr/bin/hello-true"\nkey = "bin-key"\n' \
    >> "$W/recipes/hello/peipkg.toml"
echo TOPSECRET-KEY-BYTES > "$W/recipes/hello/key.secret"
echo VISIBLE-NEIGHBOUR > "$W/recipes/hello/visible.txt"
chmod 644 "$W/recipes/hello/key.secret" "$W/recipes/hello/visible.txt"

recipe failing 'echo FAIL-STDOUT-LINE
echo FAIL-STDERR-LINE >&2
exit 2'

recipe sleepy "echo sleepy-started; sleep $((MARK + 1))"

recipe killme "echo killme-started; sleep $MARK; echo never"

# job NAME: a fresh job directory as the parent makes it.
job() {
	mkdir -p "$STATE/jobs/$1/out"
	chown -R "$BUID:$BGID" "$STATE/jobs/$1"
	chmod 700 "$STATE/jobs/$1"
}

# run NAME RECIPE [fakeparent args...]: the worker in the foreground;
# events in $TAP_TMP/NAME.out, the build log in $STATE/logs/NAME.log.
run() {
	_n=$1 _r=$2; shift 2
	job "$_n"
	timeout 120 python3 "$FP" --worker "$BUILDD" --recipe-id "$_r" \
	    --recipe-file "$W/recipes/$_r/peipkg.toml" --git "$URL" \
	    --tag v1.0 --job-dir "$STATE/jobs/$_n" --uid "$BUID" \
	    --gid "$BGID" --log "$STATE/logs/$_n.log" \
	    --sign-key "$KEYS/test-ed25519.pem" \
	    --pub "$KEYS/test-ed25519.pub.raw" \
	    --hide "$STATE" --hide "$W/recipes/hello/key.secret" \
	    --hide /root "$@" > "$TAP_TMP/$_n.out" 2>&1
}

# has NAME TEXT: the event stream holds this exact line.
has() { grep -qxF -- "$2" "$TAP_TMP/$1.out"; }
last_log() { tail -n 1 "$STATE/logs/$1.log"; }
show() { diag "$(cat "$TAP_TMP/$1.out")"; diag "$(cat "$STATE/logs/$1.log")"; }

# ---- 1. a real build --------------------------------------------------
run ok hello --env GREETING=hi-there --key bin-key &
RUNPID=$!
i=0
while ! grep -q '^hello-build started' "$STATE/logs/ok.log" 2>/dev/null &&
    [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
WPID=$(sed -n 's/^PID //p' "$TAP_TMP/ok.out")
WUID=$(ps -o uid= -p "$WPID" | tr -d ' ')
wait $RUNPID
if has ok "DONE ok=1 ts=$TS_COMMIT err= out=hello_1.0-1_x86_64.peipkg"
then ok "build: PM_BUILD_DONE ok with the package and the commit time"
else notok "build: PM_BUILD_DONE ok with the package and the commit time"
	show ok; fi
check "build: the worker exited 0" has ok "EXIT exited 0"
check "build: peipkg-build verify accepts the package" "$PB" verify \
    "$STATE/jobs/ok/out/hello_1.0-1_x86_64.peipkg" \
    --key "$KEYS/test-ed25519.pub.pem"
check "build: one package signature asked for" has ok \
    "SIGN kind=1 subject=hello key="
check "build: the [[sign]] binary signed with the granted key" has ok \
    "SIGN kind=2 subject=usr/bin/hello-true key=bin-key"
check "build: phases fetch, build, pack in order" test \
    "$(sed -n 's/^PHASE \([0-9]\).*/\1/p' "$TAP_TMP/ok.out" | tr -d '\n')" \
    = 123
check "build: source-fetched event names the commit time" grep -q \
    '^LOG 1 source fetched recipe=hello tag=v1.0 commit=[0-9a-f]\{40\} build_timestamp=2001-02-03T04:05:06Z$' \
    "$TAP_TMP/ok.out"
if [ -n "$WUID" ] && [ "$WUID" = "$BUID" ]; then
	ok "build: the worker runs as the build user ($WUID), not root"
else notok "build: the worker runs as the build user, not root"
	diag "worker $WPID uid '$WUID'"; fi
check "build: a hidden key file cannot be read" sh -c \
    "grep -qx 'secret hidden' '$STATE/logs/ok.log' &&
    ! grep -q TOPSECRET '$STATE/logs/ok.log'"
check "build: its non-hidden neighbour can (control)" grep -qx \
    VISIBLE-NEIGHBOUR "$STATE/logs/ok.log"
check "build: the grant environment reaches build.sh" grep -qx \
    GREETING=hi-there "$STATE/logs/ok.log"
check "build: the source is the tag's tree without .git" sh -c \
    "[ -f '$STATE/jobs/ok/src/hello.txt' ] &&
    [ ! -e '$STATE/jobs/ok/src/.git' ] &&
    [ ! -e '$STATE/jobs/ok/src/later.txt' ]"
check "build: the log ends with how the build ended" test \
    "$(last_log ok)" = "peipkg-buildd: build succeeded: 1 package"

# ---- 2. build.sh fails ------------------------------------------------
run fail failing
check "failure: PM_BUILD_DONE with the exit status" has fail \
    "DONE ok=0 ts=$TS_COMMIT err=run build script: exit status 2 out="
check "failure: an ordinary end (exit 0)" has fail "EXIT exited 0"
check "failure: the log holds build.sh's stdout and stderr" sh -c \
    "grep -qx FAIL-STDOUT-LINE '$STATE/logs/fail.log' &&
    grep -qx FAIL-STDERR-LINE '$STATE/logs/fail.log'"
check "failure: the log's last line says why" test "$(last_log fail)" = \
    "peipkg-buildd: build failed: run build script: exit status 2"
check "failure: nothing in out/" test -z "$(ls -A "$STATE/jobs/fail/out")"

# ---- 3. wall-clock timeout ---------------------------------------------
T0=$(date +%s)
run slow sleepy --wall-ms 3000 --grace-ms 500
T1=$(date +%s)
check "timeout: PM_BUILD_DONE says wall-clock timeout" grep -q \
    '^DONE ok=0 .*err=run build script: wall-clock timeout after [0-9]* ms' \
    "$TAP_TMP/slow.out"
check "timeout: ended within the timeout plus grace (took $((T1 - T0))s)" \
    test $((T1 - T0)) -lt 15
check "timeout: nothing of the build is left" sh -c \
    "! pgrep -f '[s]leep $((MARK + 1))'"
check "timeout: the log's last line names it" grep -q \
    '^peipkg-buildd: build failed: run build script: wall-clock timeout' \
    "$STATE/logs/slow.log"

# ---- 4. the worker killed mid-build ------------------------------------
run kill killme &
RUNPID=$!
i=0
while ! grep -q '^killme-started' "$STATE/logs/kill.log" 2>/dev/null &&
    [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "kill: build.sh is running (marker process present)" pgrep -f \
    "sleep $MARK"
WPID=$(sed -n 's/^PID //p' "$TAP_TMP/kill.out")
kill -9 "$WPID"
wait $RUNPID
i=0
while pgrep -f "[s]leep $MARK" >/dev/null && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1)); done
check "kill: no process of the build survives the worker" sh -c \
    "! pgrep -f '[s]leep $MARK'"
check "kill: the parent sees the worker killed without a result" sh -c \
    "grep -qx 'EXIT killed 9' '$TAP_TMP/kill.out' &&
    ! grep -q '^DONE' '$TAP_TMP/kill.out'"

# ---- 5. a [[sign]] key the grant does not give: fail closed ---------
run nogrant hello
check "ungranted key: refused before build.sh runs" sh -c \
    "grep -q '^DONE ok=0 .*no signing key named \"bin-key\" supplied' \
    '$TAP_TMP/nogrant.out' &&
    ! grep -q 'hello-build started' '$STATE/logs/nogrant.log' &&
    ! grep -q '^SIGN' '$TAP_TMP/nogrant.out'"

run refused hello --key bin-key --refuse-sign
check "signer refusal: the build fails with the signer's reason" sh -c \
    "grep -q '^DONE ok=0 .*refused by the signer: refused by test' \
    '$TAP_TMP/refused.out' && [ -z \"\$(ls -A '$STATE/jobs/refused/out')\" ]"

# ---- 6. a tag the upstream does not have ------------------------------
run notag hello --tag v9.9
check "missing tag: the error names URL and tag" has notag \
    "DONE ok=0 ts=0 err=fetch source: $URL tag v9.9: the upstream has no tag \"v9.9\" out="
check "missing tag: an ordinary end (exit 0)" has notag "EXIT exited 0"
check "missing tag: the log's last line says why" test \
    "$(last_log notag)" = "peipkg-buildd: build failed: fetch source: $URL tag v9.9: the upstream has no tag \"v9.9\""

# ---- 6b. the commit the poll saw ---------------------------------------
C=$(git -C "$W/up.git" rev-parse 'v1.0^{commit}')
run pinned hello --env GREETING=hi-there --key bin-key --commit "$C"
check "pinned commit: the tag's commit builds" sh -c \
    "grep -q '^DONE ok=1 ' '$TAP_TMP/pinned.out'"
run moved hello --commit 00000000000000000000000000000000000000ff
check "moved tag: refused, naming both commits" has moved \
    "DONE ok=0 ts=0 err=tag v1.0 moved between the poll and the fetch: polled commit 00000000000000000000000000000000000000ff, fetched $C out="
check "moved tag: nothing in out/" test -z "$(ls -A "$STATE/jobs/moved/out")"

# ---- 6c. an http upstream (fetched shallow with libgit2 >= 1.7) -----------
HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$top_srcdir/tests/git-http.py" "$W" "$HPORT" &
HPID=$!
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$HPORT/" && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1)); done
run http hello --env GREETING=hi-there --key bin-key \
    --git "http://127.0.0.1:$HPORT/up.git" --commit "$C"
kill "$HPID" 2>/dev/null
check "http upstream: the tag's commit builds" sh -c \
    "grep -q '^DONE ok=1 ' '$TAP_TMP/http.out'"
check "http upstream: the log names the fetched commit" grep -q \
    "fetched commit $C " "$STATE/logs/http.log"

# ---- 7. invalid jobs ----------------------------------------------------
run badjob hello --job-dir state/rel --wall-ms 0
check "bad job: refused with every reason, before any work" grep -q \
    '^DONE ok=0 ts=0 err=job directory "state/rel" is not absolute; wall timeout 0 ns out of range out=$' \
    "$TAP_TMP/badjob.out"
check "bad job: set-up failure (exit 1)" has badjob "EXIT exited 1"
check "bad job: no phase started" sh -c "! grep -q '^PHASE' '$TAP_TMP/badjob.out'"
run garbage hello --garbage
check "malformed record: exit 1 without a result" sh -c \
    "grep -qx 'EXIT exited 1' '$TAP_TMP/garbage.out' &&
    ! grep -q '^DONE' '$TAP_TMP/garbage.out'"
run rootjob hello --uid 0 --gid 0
check "bad job: uid 0 refused" grep -q \
    '^DONE ok=0 ts=0 err=build user 0:0: refusing uid/gid 0 out=$' \
    "$TAP_TMP/rootjob.out"

done_testing
