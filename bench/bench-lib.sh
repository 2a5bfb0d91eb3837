# bench-lib.sh: set-up shared by the daemon benchmarks (once.sh, http.sh,
# latency.sh, cgroup-overhead.sh).  Sourced with $build (the build
# directory) set, under `set -eu`.

# bench_setup NAME PROGRAM...: stop with a message unless every PROGRAM
# is built in $build and we are root with user namespaces; make sure the
# role and build users exist; export PEIPKG_BUILDD_PATH; make the work
# directory $W (under $WORK, $TMPDIR or /tmp; its physical path, 755).
bench_setup() {
	_name=$1; shift
	for _p in "$@"; do
		[ -x "$build/$_p" ] ||
		    { echo "no $build/$_p (make $_p)" >&2; exit 1; }
	done
	[ "$(id -u)" = 0 ] || { echo "$_name: needs root" >&2; exit 1; }
	unshare -U true 2>/dev/null ||
	    { echo "$_name: no user namespaces" >&2; exit 1; }
	for _u in peipkg peipkg-build; do
		getent passwd "$_u" >/dev/null || useradd --system \
		    --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$_u"
	done
	PEIPKG_BUILDD_PATH=$build/sandbox/peipkg-buildd
	export PEIPKG_BUILDD_PATH
	W=$(mktemp -d "${WORK:-${TMPDIR:-/tmp}}/${_name%.sh}-bench.XXXXXX")
	W=$(cd "$W" && pwd -P)
	chmod 755 "$W"
}

# kill_tree PID: PID and every descendant, by id.
kill_tree() {
	for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$_c"; done
	kill -KILL "$1" 2>/dev/null || true
}

# stop PID: SIGTERM, up to 10 s for the exit, then SIGKILL to its tree.
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	kill_tree "$1"
	wait "$1" 2>/dev/null || true
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for TRIES CMD...: run CMD until it succeeds, at most TRIES times,
# $WAIT_STEP seconds apart (default 0.1).
wait_for() {
	_n=$1; shift
	while ! "$@" >/dev/null 2>&1; do
		_n=$((_n - 1)); [ "$_n" -gt 0 ] || return 1
		sleep "${WAIT_STEP:-0.1}"
	done
}
