#!/bin/sh
# tests/integ/http-limits.sh: the http role's limits (RELIABILITY.md
# §2.3 B1-B4, B12, B13, §2.8 R8, §4): head and body deadlines against
# slow clients, the keep-alive timeout, header and target sizes, strict
# framing, the connection cap and its recovery, memory under 20
# concurrent 20 MB uploads, and the seccomp filter's answer to a
# forbidden call.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/http-common.sh"

T=$TAP_TMP
printf 'gh-secret' >"$T/gh"
ZERO_SIG="sha256=$(printf %064d 0)"

# dribble INITIAL DRIBBLE INTERVAL MAXTIME: send INITIAL (Python bytes
# literal), then one byte of DRIBBLE every INTERVAL seconds until the
# server closes.  Prints "<seconds> <first status code or none>".
dribble() {
	"$PYTHON" - "$PORT" "$1" "$2" "$3" "$4" <<'EOF'
import select, socket, sys, time
port, first, drip = int(sys.argv[1]), eval(sys.argv[2], {"__builtins__": {}}), \
    eval(sys.argv[3], {"__builtins__": {}})
interval, maxtime = float(sys.argv[4]), float(sys.argv[5])
s = socket.create_connection(("127.0.0.1", port))
t0 = time.time()
got = b""
closed = False
if first:
    s.sendall(first)
i = 0
while not closed and time.time() - t0 < maxtime:
    r, _, _ = select.select([s], [], [], interval)
    if r:
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d:
            closed = True
        got += d
        continue
    if drip:
        try:
            s.send(drip[i % len(drip):i % len(drip) + 1])
        except OSError:
            closed = True
        i += 1
code = got.split(b" ")[1].decode() if got.startswith(b"HTTP/1.1 ") else "none"
print("%.2f %s" % (time.time() - t0, code if closed else "open"))
EOF
}

# raw REQUEST: send a Python bytes literal, print the status codes of
# every response until the server closes (or 3 s pass).
raw() {
	"$PYTHON" - "$PORT" "$1" <<'EOF'
import re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(3)
try:
    s.sendall(eval(sys.argv[2], {"__builtins__": {}}))
except OSError:
    pass
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
except OSError:
    pass
print(" ".join(c.decode() for c in re.findall(rb"HTTP/1.1 (\d+) ", got)))
EOF
}

# between LO HI VALUE
between() {
	"$PYTHON" -c "import sys; v = float(sys.argv[3]); \
sys.exit(0 if float(sys.argv[1]) <= v <= float(sys.argv[2]) else 1)" "$@"
}

check_dribble() {
	_d=$1 _lo=$2 _hi=$3 _code=$4
	shift 4
	_r=$(dribble "$@")
	if between "$_lo" "$_hi" "${_r% *}" && [ "${_r#* }" = "$_code" ]; then
		ok "$_d ($_r)"
	else
		notok "$_d"; diag "got \"$_r\", want $_lo-$_hi s and $_code"
	fi
}

check_raw() {
	_d=$1 _w=$2
	shift 2
	_r=$(raw "$@")
	if [ "$_r" = "$_w" ]; then ok "$_d"; else
		notok "$_d"; diag "got \"$_r\", want \"$_w\""; fi
}

# ---- deadlines (short ones, to keep the test quick) -------------------
start_role -m header_timeout=2000 -m body_idle_timeout=1500 \
    -m body_timeout=3000 -m keepalive_timeout=1500 -s github="$T/gh" ||
	{ echo "1..0 # SKIP the role did not start"; exit 1; }
check_dribble "silent connection closed at the header deadline" 1.8 3.0 none \
    "b''" "b''" 0.2 8
check_dribble "slow head (a byte every 0.3 s) cut at the header deadline" \
    1.8 3.0 408 "b'GET /healthz HTTP/1.1\\r\\n'" "b'X-Slow: aaaa\\r\\n'" 0.3 8
check_dribble "keep-alive connection closed when idle" 1.3 2.5 200 \
    "b'GET /healthz HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'" "b''" 0.2 8
check_dribble "stalled body cut at the body idle deadline" 1.3 2.5 408 \
    "b'POST /webhooks/github HTTP/1.1\\r\\nHost: a\\r\\nX-Hub-Signature-256: $ZERO_SIG\\r\\nContent-Length: 100\\r\\n\\r\\n{\"a\":'" \
    "b''" 0.2 8
check_dribble "slow body (a byte every 0.5 s) cut at the body deadline" \
    2.8 4.0 408 \
    "b'POST /webhooks/github HTTP/1.1\\r\\nHost: a\\r\\nX-Hub-Signature-256: $ZERO_SIG\\r\\nContent-Length: 100\\r\\n\\r\\n'" \
    "b'     '" 0.5 8
check "healthz after the slow clients" healthz_ok

# ---- sizes and framing -----------------------------------------------
check_raw "64 KiB header: 431" 431 \
    "b'GET /healthz HTTP/1.1\\r\\nHost: a\\r\\nX: ' + b'a' * 65536 + b'\\r\\n\\r\\n'"
check_raw "10000 tiny headers: 431" 431 \
    "b'GET /healthz HTTP/1.1\\r\\nHost: a\\r\\n' + b'X: y\\r\\n' * 10000 + b'\\r\\n'"
check_raw "101 headers: 431" 431 \
    "b'GET /healthz HTTP/1.1\\r\\nHost: a\\r\\n' + b'X: y\\r\\n' * 100 + b'\\r\\n'"
check_raw "3 KiB target: 414" 414 \
    "b'GET /' + b'a' * 3000 + b' HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'"
check_raw "8 KiB target: 431" 431 \
    "b'GET /' + b'a' * 8192 + b' HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'"
check_raw "Content-Length and Transfer-Encoding: 400" 400 \
    "b'POST /webhooks/github HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n'"
check_raw "two Content-Length: 400" 400 \
    "b'POST /webhooks/github HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 2\\r\\nContent-Length: 2\\r\\n\\r\\n{}'"
check_raw "Transfer-Encoding: chunked, identity: 400" 400 \
    "b'POST /webhooks/github HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked, identity\\r\\n\\r\\n0\\r\\n\\r\\n'"
check_raw "obs-fold: 400" 400 \
    "b'GET /healthz HTTP/1.1\\r\\nHost: a\\r\\nX: a\\r\\n b\\r\\n\\r\\n'"
check_raw "bare LF: 400" 400 "b'GET /healthz HTTP/1.1\\nHost: a\\n\\n'"
check_raw "malformed chunk size: 400" 400 \
    "b'POST /webhooks/github HTTP/1.1\\r\\nHost: a\\r\\nX-Hub-Signature-256: $ZERO_SIG\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n'"
check_raw "absolute-form target: 400" 400 \
    "b'GET http://x/status HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'"
check_raw "HTTP/2 preface: 400" 400 \
    "b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'"
check_raw "HTTP/0.9: 400" 400 "b'GET /healthz\\r\\n\\r\\n'"
check_raw "TRACE: 405" 405 "b'TRACE /healthz HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'"
check_raw "NUL in the target: 400" 400 \
    "b'GET /healthz\\x00 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'"
check_raw "pipelined requests answered in order" "200 404 200" \
    "b'GET /healthz HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nGET /x HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nGET /healthz HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n'"
check "Unix socket client without a bound name" "$PYTHON" - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
d = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    d += x
sys.exit(0 if d.startswith(b"HTTP/1.1 200 ") and d.endswith(b"\r\n\r\nok\n")
    else 1)
EOF
check "role alive after the bad requests" role_alive
check "healthz after the bad requests" healthz_ok
stop_role

# ---- the connection cap ----------------------------------------------
start_role -s github="$T/gh" || exit 1
nsock() { ls -l /proc/"$RPID"/fd 2>/dev/null | grep -c socket; }
base=$(nsock)
"$PYTHON" - "$PORT" "$T/hold" <<'EOF' &
import os, socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    for _ in range(300)]
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.05)
EOF
hold=$!
i=0
while [ ! -e "$T/hold" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
held=$(($(nsock) - base))
check "300 idle connections: 256 held ($held)" test "$held" -eq 256
check_fail "no new connection is served at the cap" curl -s --max-time 1 \
    "$URL/healthz"
rm -f "$T/hold"
wait $hold
i=0
until healthz_ok || [ $i -ge 20 ]; do sleep 0.1; i=$((i + 1)); done
check "listener resumes once they close" healthz_ok
check "all connections released" test "$(($(nsock) - base))" -le 1
stop_role

# ---- memory under 20 concurrent 20 MB uploads ------------------------
start_role -m max_body=26214400 -s github="$T/gh" || exit 1
"$PYTHON" -c '
import sys
sys.stdout.write("{\"pad\":\"" + "a" * (20 << 20) + "\",\"repository\":{\"html_url\":\"x\"}}")' \
    >"$T/20m.json"
i=0
pids=
while [ $i -lt 20 ]; do
	if [ $((i % 2)) = 0 ]; then te='Expect:'; else te='Transfer-Encoding: chunked'; fi
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST -H "$te" \
	    -H "X-Hub-Signature-256: $ZERO_SIG" --data-binary @"$T/20m.json" \
	    "$URL/webhooks/github" >"$T/up.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
slow=0
n=0
while [ $n -lt 20 ]; do
	healthz_ok || slow=$((slow + 1))
	n=$((n + 1))
	sleep 0.05
done
wait $pids
check "healthz kept answering during the uploads" test "$slow" = 0
check "all 20 uploads streamed and refused with 401" test \
    "$(cat "$T"/up.* | sort | uniq -c | awk '{ print $1 " " $2 }')" = "20 401"
hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$RPID"/status)
diag "http role peak RSS (VmHWM): $hwm kB"
check "peak RSS under 32 MB ($hwm kB)" test "$hwm" -lt 32768
check_code "over max_body by Content-Length: 413 before the body" 413 \
    -X POST -H "X-Hub-Signature-256: $ZERO_SIG" \
    -H 'Content-Length: 26214401' -H 'Expect: 100-continue' \
    "$URL/webhooks/github"
stop_role

# ---- the seccomp filter ----------------------------------------------
probe() {
	OUT="$T/probe.$1"
	PEIPKG_TEST_FORBIDDEN_SYSCALL=$1 "$FAKEPARENT" -t 127.0.0.1:0 $ROLE_ARGS -- \
	    "$HTTPROLE" >"$OUT" 2>&1 &
	FPID=$!
	wait_line "$2" 5
	_rc=$?
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
	return $_rc
}
check "socket() fails with EPERM" probe socket \
    '^LOG warn test probe syscall=socket rc=-1 errno=EPERM$'
check "open() fails with EPERM" probe open \
    '^LOG warn test probe syscall=open rc=-1 errno=EPERM$'
check "ptrace() kills the role (SIGSYS)" probe ptrace \
    '^EXIT killed by signal 31 \(SIGSYS\)$'
check "mount() kills the role (SIGSYS)" probe mount \
    '^EXIT killed by signal 31 \(SIGSYS\)$'
check "execve() kills the role (SIGSYS)" probe execve \
    '^EXIT killed by signal 31 \(SIGSYS\)$'
done_testing
