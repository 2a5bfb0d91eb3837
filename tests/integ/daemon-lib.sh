# daemon-lib.sh: shared set-up for tests/integ/daemon-*.sh (sourced after
# tests/lib.sh).  A farm under $TAP_TMP with fake roles and a fake worker
# (tests/fake/, selected through the parent's test hooks), a test clock,
# a fake NOTIFY_SOCKET, and helpers to wait for log lines and files.
#
# Running as root the parent needs its users: they are created here when
# missing (the same ones etc/peipkg-manager.sysusers defines).

PM="$top_builddir/peipkg-manager"
FAKE_ROLE="$top_builddir/tests/fake/fake-role"
FAKE_BUILDD="$top_builddir/tests/fake/fake-buildd"
[ -x "$PM" ] || skip_all "peipkg-manager not built"
[ -x "$FAKE_ROLE" ] && [ -x "$FAKE_BUILDD" ] || skip_all "fakes not built"
command -v python3 >/dev/null || skip_all "python3 needed for NOTIFY_SOCKET"

if [ "$(id -u)" = 0 ]; then
	for u in peipkg peipkg-build; do
		getent passwd "$u" >/dev/null || useradd --system \
		    --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$u" || skip_all "cannot create $u"
	done
fi

FARM="$TAP_TMP/farm"
FK="$TAP_TMP/fake"
LOG="$TAP_TMP/daemon.log"
NOTIFY="$TAP_TMP/notify.log"
CLOCK="$TAP_TMP/clock"
T0=1778164331		# 2026-05-07T14:32:11Z

# recipe ID PKG:ARCH...: a watched recipe with those packages.
recipe() {
	_id=$1; shift
	mkdir -p "$FARM/recipes/$_id"
	{
		printf '[meta]\nlicense = "MIT"\nbuild_script = "build.sh"\n'
		for _p in "$@"; do
			printf '\n[[package]]\nname = "%s"\narchitecture = "%s"\n' \
			    "${_p%%:*}" "${_p#*:}"
			printf 'description = "test"\nfiles = ["usr/%s/**"]\n' \
			    "${_p%%:*}"
			echo "${_p%%:*} ${_p#*:}" >>"$FK/pkgs/$_id"
		done
		printf '\n[upstream]\ngit = "https://example.invalid/%s.git"\n' "$_id"
		printf 'tag_pattern = "^v([0-9.]+)$"\n'
		printf '\n[watch]\ngithub_webhook = true\n'
	} >"$FARM/recipes/$_id/peipkg.toml"
	: >"$FARM/recipes/$_id/build.sh"
}

# farm [extra config]: config.toml with HTTP on a free loopback port.
farm() {
	mkdir -p "$FARM/recipes" "$FK/tags" "$FK/pkgs" "$FK/build"
	echo key >"$FARM/farm.key"
	echo "s3cret  " >"$FARM/hook.secret"
	echo "$T0" >"$CLOCK"
	cat >"$FARM/config.toml" <<EOC
[manager]
id = "test-farm"
recipes_dir = "recipes"
state_dir = "state"

[repo]
name = "test"

[signing]
key_file = "farm.key"

[http]
addr = "${HTTP_ADDR:-127.0.0.1:0}"
webhook_secret_file = "hook.secret"

[poll]
default_interval = "1h"
$1
EOC
}

# Private copies, so pgrep -f "$TAP_TMP" finds exactly this test's processes.
mkdir -p "$TAP_TMP/bin"
cp "$FAKE_ROLE" "$FAKE_BUILDD" "$TAP_TMP/bin/"
FAKE_ROLE="$TAP_TMP/bin/fake-role"
FAKE_BUILDD="$TAP_TMP/bin/fake-buildd"
export PEIPKG_FAKE_DIR="$FK" PEIPKG_TEST_CLOCK_FILE="$CLOCK"
export PEIPKG_ROLE_HTTP_PATH="$FAKE_ROLE" PEIPKG_ROLE_POLLER_PATH="$FAKE_ROLE"
export PEIPKG_ROLE_SIGNER_PATH="$FAKE_ROLE"
export PEIPKG_ROLE_PUBLISHER_PATH="$FAKE_ROLE"
export PEIPKG_BUILDD_PATH="$FAKE_BUILDD"
export PEIPKG_TEST_PING_MS=300 PEIPKG_TEST_STOP_TIMEOUT=3

# role_built ROLE: peipkg-manager has the real role compiled in.
role_built() {
	! "$PM" -P "$1" </dev/null 3</dev/null 2>&1 |
	    grep -q 'not built into this program'
}

# free_port: an unused loopback TCP port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A datagram socket printing every notification on its own line.
notify_start() {
	NOTIFY_SOCKET="$TAP_TMP/notify.sock"
	export NOTIFY_SOCKET
	python3 - "$NOTIFY_SOCKET" "$NOTIFY" <<'EOP' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        d = s.recv(4096).decode()
        f.write(d.replace("\n", "|") + "\n")
EOP
	NOTIFY_PID=$!
	wait_for "notify socket" test -S "$NOTIFY_SOCKET"
}

# wait_for DESC CMD...: up to 10 s (WAIT_S), polling every 50 ms.
wait_for() {
	_d=$1; shift
	_n=$(( ${WAIT_S:-10} * 20 ))
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	diag "timed out waiting for: $_d"
	return 1
}

# logged STRING: the daemon log contains it.
logged() { grep -qF -- "$1" "$LOG"; }
# nlogged STRING: how many lines contain it.
nlogged() { grep -cF -- "$1" "$LOG"; }

# expect DESC STRING: wait until the daemon logged STRING.
expect_log() {
	if wait_for "$2" logged "$2"; then ok "$1"; else notok "$1"
		diag "missing in log: $2"; diag "$(tail -15 "$LOG")"; fi
}

# expect_file DESC FILE STRING
expect_in() {
	if wait_for "$3" grep -qF -- "$3" "$2"; then ok "$1"; else notok "$1"
		diag "missing in $2: $3"; diag "$(tail -15 "$2" 2>/dev/null)"; fi
}

start_daemon() {
	(cd "$FARM" && exec "$PM" --config "$FARM/config.toml" --log-level debug \
	    --log-target stderr "$@") 2>>"$LOG" &
	PM_PID=$!
}

# stop_daemon: SIGTERM, wait for the exit; RC gets the status.
stop_daemon() {
	kill -TERM "$PM_PID" 2>/dev/null
	wait "$PM_PID"
	RC=$?
}

pidof_role() { cat "$FK/$1.pid" 2>/dev/null; }

# ours: this test's processes (the notifier excepted).
ours() { pgrep -f "$TAP_TMP" | grep -vx "${NOTIFY_PID:-x}"; }
# no_leftovers: none (run in this shell: a sh -c would match itself).
no_leftovers() {
	_left=$(ours)
	[ -z "$_left" ] && return 0
	diag "left: $(for _p in $_left; do tr '\0' ' ' </proc/$_p/cmdline; echo; done)"
	return 1
}

advance() { echo $(( $(cat "$CLOCK") + $1 )) >"$CLOCK"; }

cleanup_all() {
	[ -n "$PM_PID" ] && kill -KILL "$PM_PID" 2>/dev/null
	[ -n "$NOTIFY_PID" ] && kill "$NOTIFY_PID" 2>/dev/null
	for _p in $(ours); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup_all EXIT
