#!/bin/sh
# latency.sh: how long a new upstream tag takes to be published by the
# running daemon, for a trivial recipe (bench/once-farm.sh, 1 recipe),
# ROUNDS rounds (default 15), each round in this order:
#
#   hook     tag 2.R.0 pushed upstream; t0; a signed GitHub webhook POSTed;
#            t1 when the version is in state_dir/repo/index/archive.json
#            (checked every 5 ms)
#   hup      tag 3.R.0 pushed; t0; SIGHUP (a reload polls every watched
#            recipe at once: the poll interval cannot go below 1m); t1 the
#            same way
#   floor    the same build without the daemon and without the sandbox:
#            `git clone --branch v2.R.0` (timed apart, not counted), then
#            `peipkg-build build --no-sandbox` + `peipkg-repo publish` into
#            a repository of its own, timed together
#   sandbox  the same with `peipkg-build build` in the build sandbox
#
# The daemon's log is stamped line by line with the same monotonic clock
# (bench/latency-probe.py stamp), which gives the median time of each
# stage after t0.  Prints Markdown tables (results in doc/performance.md,
# "Daemon: latency").
#
#   bench/latency.sh [BUILDDIR]      (default: the current directory)
#   ROUNDS=15 WORK=/tmp KEEP=DIR bench/latency.sh BUILDDIR
#
# KEEP=DIR copies the raw results (rounds, the stamped daemon log) to DIR
# before the temporary directory is removed.
#
# Needs root, user namespaces, git, openssl, curl, python3.  Not a test:
# not registered in TESTS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
ROUNDS=${ROUNDS:-15}
PM=$build/peipkg-manager
PB=$build/peipkg-build
REPO=$build/peipkg-repo
PROBE="python3 $here/latency-probe.py"
. "$here/bench-lib.sh"
bench_setup latency.sh peipkg-manager peipkg-build peipkg-repo \
    sandbox/peipkg-buildd
WAIT_STEP=0.05
DPID=
STPID=
cleanup() {
	[ -z "$DPID" ] || stop "$DPID"
	[ -z "$STPID" ] || stop "$STPID"
	if [ -n "${KEEP:-}" ]; then
		mkdir -p "$KEEP" && cp -r "$W/rounds" "$W/daemon.log" "$KEEP/" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

PORT=$(free_port)
F=$W/farm
sh "$here/once-farm.sh" "$F" 1 1 "$PORT"
ID=pkg01
UP=file://$F/upstream/$ID.git
KEY=$F/etc/farm.ed25519
STATE=$F/state/repo
LOG=$W/daemon.log
# tag VERSION: a release upstream (commit, annotated tag, push).
tag() {
	(cd "$F/upstream/$ID.work" && echo "$1" >VERSION &&
	    git commit -qam "$1" && git tag -a "v$1" -m "v$1" &&
	    git push -q "$F/upstream/$ID.git" "v$1")
}
# done_job VERSION: the daemon finished the job (cleanup included).
done_job() { grep -q "build + publish complete.*version=$1-1" "$LOG"; }

mkfifo "$W/log.fifo"
$PROBE stamp "$LOG" <"$W/log.fifo" &
STPID=$!
"$PM" --config "$F/etc/config.toml" --log-target stderr 2>"$W/log.fifo" &
DPID=$!
wait_for 1200 done_job 1.0.0 || { echo "start-up build not published" >&2
	tail -20 "$LOG" >&2; exit 1; }
sleep 1

mkdir -p "$W/fl" "$W/sb"
"$REPO" init --name floor --sign-key "$KEY" --timestamp "$(now)" \
    --out "$W/fl/repo" >/dev/null
"$REPO" init --name sandboxed --sign-key "$KEY" --timestamp "$(now)" \
    --out "$W/sb/repo" >/dev/null
# direct SIDE ROUND VERSION [--no-sandbox]: clone, build, publish by hand.
direct() {
	_d=$W/$1 _r=$2 _v=$3; shift 3
	rm -rf "$_d/src" "$_d/out"
	_c=$($PROBE run git -c advice.detachedHead=false clone -q \
	    --branch "v$_v" "$UP" "$_d/src")
	_ts=$(TZ=UTC git -C "$_d/src" log -1 --format=%cd \
	    --date=format-local:%Y-%m-%dT%H:%M:%SZ)
	rm -rf "$_d/src/.git"
	_b=$($PROBE run "$PB" build "$@" --recipe "$F/recipes/$ID/peipkg.toml" \
	    --source "$_d/src" --out "$_d/out" --version "$_v-1" \
	    --sign-key "$KEY" --build-user peipkg-build --farm-id bench-farm \
	    --source-ref "v$_v" --timestamp "$_ts")
	_t=$(now)
	_p=$($PROBE run "$REPO" publish --in "$_d/repo" --out "$_d/repo" \
	    --new "$_d/out" --sign-key "$KEY" --timestamp "$_t")
	# build + publish, without the start-up of the probes between them
	_bt=$(( ${_b#* } - ${_b% *} ))
	_sum="0 $_bt $((_bt + ${_p#* } - ${_p% *})) 0"
	if [ "${1:-}" = --no-sandbox ]; then
		echo "clone $_r $_v $_c" >>"$W/rounds"
		echo "build $_r $_v $_b" >>"$W/rounds"
		echo "publish $_r $_v $_p" >>"$W/rounds"
		echo "floor $_r $_v $_sum" >>"$W/rounds"
	else
		echo "sandbox $_r $_v $_sum" >>"$W/rounds"
	fi
}

echo "kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$ROUNDS rounds" >&2
: >"$W/rounds"
r=1
while [ $r -le "$ROUNDS" ]; do
	v=2.$r.0
	tag $v
	echo "hook $r $v $($PROBE hook "http://127.0.0.1:$PORT/webhooks/github" \
	    "$F/etc/webhook-secret" "lat-$r" "$UP" "$STATE" "$ID" "$v-1")" \
	    >>"$W/rounds"
	wait_for 600 done_job $v || { echo "job $v not done" >&2; exit 1; }
	sleep 0.3
	v=3.$r.0
	tag $v
	echo "hup $r $v $($PROBE hup "$DPID" "$STATE" "$ID" "$v-1")" >>"$W/rounds"
	wait_for 600 done_job $v || { echo "job $v not done" >&2; exit 1; }
	sleep 0.3
	direct fl $r 2.$r.0 --no-sandbox
	direct sb $r 2.$r.0
	awk -v r=$r '$2 == r && NF == 7 { printf "%s %.0f ms  ", $1, ($6 - $4) / 1e6 }
	    $2 == r && NF == 5 { printf "(%s %.0f ms)  ", $1, ($5 - $4) / 1e6 }' \
	    "$W/rounds" >&2
	echo >&2
	r=$((r + 1))
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
grep 'level=error' "$LOG" >&2 || true
stop "$DPID"
DPID=
wait "$STPID" 2>/dev/null || true
STPID=
$PROBE report "$W"
