# tests/integ/http-common.sh: helpers for the http role tests (sourced
# after tests/lib.sh).  The role runs under tests/fakeparent, as user
# peipkg (or nobody) when we are root, in an empty chroot, with its
# seccomp filter.

FAKEPARENT="$top_builddir/tests/fakeparent"
HTTPROLE="$top_builddir/tests/http-role"
[ -x "$FAKEPARENT" ] && [ -x "$HTTPROLE" ] ||
	skip_all "tests/fakeparent or tests/http-role not built"
command -v curl >/dev/null || skip_all "curl not installed"
command -v openssl >/dev/null || skip_all "openssl not installed"
PYTHON=/usr/bin/python3	# not a pyenv shim: faster to start
[ -x "$PYTHON" ] || PYTHON=$(command -v python3) ||
	skip_all "python3 not installed"

ROLE_ARGS=
if [ "$(id -u)" = 0 ]; then
	if getent passwd peipkg >/dev/null; then RUSER=peipkg; else RUSER=nobody; fi
	mkdir -m 0755 "$TAP_TMP/empty"
	ROLE_ARGS="-u $RUSER -e $TAP_TMP/empty"
else
	RUSER=$(id -un)
	diag "not root: the role keeps uid $RUSER and is not chrooted"
fi

# start_role [fakeparent options...]: sets OUT, FIFO, PORT, SOCK, RPID, FPID
start_role() {
	_NSTART=$((${_NSTART:-0} + 1))
	OUT="$TAP_TMP/out.$_NSTART"
	FIFO="$TAP_TMP/fifo"
	SOCK="$TAP_TMP/http.sock"
	"$FAKEPARENT" -c "$FIFO" -t 127.0.0.1:0 -U "$SOCK" $ROLE_ARGS "$@" \
	    -- "$HTTPROLE" ${HTTPROLE_ARGS:-} >"$OUT" 2>"$OUT.err" &
	FPID=$!
	wait_line READY 5 || { diag "$(cat "$OUT" "$OUT.err")"; return 1; }
	PORT=$(awk '/^LISTEN tcp/ { n = split($3, a, ":"); print a[n] }' "$OUT")
	RPID=$(awk '/^PID/ { print $2 }' "$OUT")
	URL="http://127.0.0.1:$PORT"
}

stop_role() {
	echo shutdown >"$FIFO"
	wait_line '^EXIT' 5 || kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
}

# wait_line REGEX SECONDS: wait until the fake parent printed a match.
wait_line() {
	_i=0
	while [ $_i -lt $(($2 * 20)) ]; do
		grep -Eq -- "$1" "$OUT" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

count_lines() { grep -Fc -- "$1" "$OUT" || true; }

# hmac SECRET FILE: lowercase hex HMAC-SHA256 of the file.
hmac() { openssl dgst -sha256 -hmac "$1" -r <"$2" | cut -d' ' -f1; }

# req [curl args...]: prints the status code; body in $TAP_TMP/body,
# headers in $TAP_TMP/hdr.
req() {
	curl -s -o "$TAP_TMP/body" -D "$TAP_TMP/hdr" -w '%{http_code}' \
	    --max-time 10 "$@"
}

healthz_ok() {
	[ "$(curl -s --max-time 5 "$URL/healthz")" = ok ]
}

role_alive() { kill -0 "$RPID" 2>/dev/null; }

# check_code DESCRIPTION WANT curl-args...: one test point.
check_code() {
	_d=$1 _w=$2
	shift 2
	_got=$(req "$@")
	if [ "$_got" = "$_w" ]; then ok "$_d"; else
		notok "$_d"; diag "status $_got, want $_w"
		diag "$(cat "$TAP_TMP/hdr" "$TAP_TMP/body" 2>/dev/null)"; fi
}
