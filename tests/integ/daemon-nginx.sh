#!/bin/sh
# daemon-nginx.sh: the real daemon (every real role, real git upstream)
# listening on a Unix socket ([http].addr = "unix:/path") behind a real
# nginx running the site of etc/nginx-peipkg.conf (TLS and the port-80
# redirect taken out, plain HTTP on a free loopback port).  The socket is
# created 0660 root:<[http].socket_group>; nobody outside that group can
# connect (without socket_group the group is root's).  Through
# nginx: /healthz, /status and /metrics behind auth_basic, a signed
# GitHub webhook publishes the new tag, an unsigned one is a 401, a 2 MB
# body nginx's 413, a 1 MB one reaches the daemon, a GET is a 405.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed (Debian nginx-light)"
getent passwd www-data >/dev/null || skip_all "no www-data user for nginx"
getent passwd nobody >/dev/null || skip_all "no nobody user"
farm_require curl openssl python3 runuser git

farm_bin
mkdir -p "$TAP_TMP/run" "$TAP_TMP/nginx"
REPO="$top_builddir/peipkg-repo"
export PEIPKG_TEST_STOP_TIMEOUT=3
LOG=$TAP_TMP/daemon.log
SOCK=$TAP_TMP/run/http.sock
N=$TAP_TMP/nginx
DPID=""
NGPID=""

# post BODYFILE [curl args...]: a GitHub webhook signed over the body
# file, through nginx; prints the status code.
post() {
	_f=$1; shift
	_s=$(openssl dgst -sha256 -hmac "$(cat "$F/etc/webhook-secret")" \
	    -r "$_f" | cut -d' ' -f1)
	curl -s -o "$TAP_TMP/post.out" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -H "X-Hub-Signature-256: sha256=$_s" --data-binary "@$_f" "$@" \
	    "$URL/webhooks/github"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
ours() { pgrep -f "$TAP_TMP"; }
no_leftovers() {
	_left=$(ours)
	[ -z "$_left" ] && return 0
	for _p in $_left; do
		diag "left: $(tr '\0' ' ' </proc/$_p/cmdline 2>/dev/null)"
	done
	return 1
}
stop_nginx() {
	[ -n "$NGPID" ] || return 0
	_w=$(pgrep -P "$NGPID")
	kill -TERM "$NGPID" 2>/dev/null
	wait "$NGPID" 2>/dev/null
	for _p in $_w; do kill -KILL "$_p" 2>/dev/null; done
	NGPID=""
}
cleanup() {
	stop_nginx
	[ -z "$DPID" ] || farm_stop "$DPID"
	for _p in $(ours); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

farm_fixture 1
sed -i "s|^addr = .*|addr = \"unix:$SOCK\"|" "$CFG"
check "config uses the Unix socket" grep -qx "addr = \"unix:$SOCK\"" "$CFG"
# First without socket_group: the socket is root's only.
"$PM" --config "$CFG" --log-target stderr >"$LOG.0" 2>&1 &
DPID=$!
check "without socket_group: mode 0660, group root" \
    wait_for "test \"\$(stat -c '%a %U %G' $SOCK 2>/dev/null)\" = '660 root root'" 100
kill -TERM "$DPID"; wait "$DPID"; DPID=""
sed -i "s|^addr = .*|&\nsocket_group = \"www-data\"|" "$CFG"

# ---- the daemon on its Unix socket ------------------------------------------
"$PM" --config "$CFG" --log-target stderr --log-level debug >"$LOG" 2>&1 &
DPID=$!
check "the daemon creates its socket" wait_for "test -S $SOCK" 100
check "listening on the socket is logged" wait_for \
    "grep -qF 'msg=\"webhook server listening\" addr=unix:$SOCK' $LOG" 100
check "socket mode 0660, group www-data ([http].socket_group)" \
    test "$(stat -c '%a %U %G' "$SOCK")" = "660 root www-data"
# connect_as USER: python connect(2) on the socket as USER: prints OK or
# the errno name.
connect_as() {
	runuser -u "$1" -- python3 -c '
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1]); print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$SOCK"
}
check "www-data in the socket's group connects" \
    test "$(connect_as www-data)" = OK
check "nobody (not in the group) is refused: EACCES" \
    test "$(connect_as nobody)" = EACCES
runuser -u nobody -- curl -sS -m 5 --unix-socket "$SOCK" \
    http://localhost/healthz >"$TAP_TMP/nobody.out" 2>&1
rc=$?
if [ $rc = 7 ] && grep -q "Couldn't connect" "$TAP_TMP/nobody.out"; then
	ok "nobody: curl --unix-socket cannot connect (exit 7)"
else
	notok "nobody: curl --unix-socket cannot connect (exit 7)"
	diag "curl exit $rc: $(cat "$TAP_TMP/nobody.out")"
fi
check "root reaches /healthz on the socket directly" sh -c \
    "curl -fsS -m 5 --unix-socket '$SOCK' http://localhost/healthz | grep -qx ok"

# ---- nginx with the shipped site --------------------------------------------
NPORT=$(free_port)
URL="http://127.0.0.1:$NPORT"
printf 'monitor:%s\n' "$(openssl passwd -apr1 'pa55 word')" >"$N/htpasswd"
chmod 644 "$N/htpasswd"
# The site of etc/nginx-peipkg.conf: every directive kept, except the
# port-80 redirect server, TLS (placeholder certificates) and the paths.
python3 - "$top_srcdir/etc/nginx-peipkg.conf" "$SOCK" "$NPORT" \
    "$N/htpasswd" >"$N/site.conf" 2>"$N/derive.err" <<'EOP'
import re, sys
src, sock, port, htpasswd = sys.argv[1:5]
t = open(src).read()
def sub(pat, rep, want):
    global t
    t, n = re.subn(pat, rep, t)
    if n != want:
        sys.exit("%r: %d substitutions, want %d" % (pat, n, want))
sub(r"\nserver \{[^{}]*return 301[^{}]*\}\n", "\n", 1)
sub(r"\n\tlisten 443 ssl http2;", "\n\tlisten 127.0.0.1:%s;" % port, 1)
sub(r"\n\tlisten \[::\]:443 ssl http2;", "", 1)
sub(r"\n\tssl_[a-z_]+ [^\n]*;", "", 4)
sub(r"unix:/run/peipkg-manager/http\.sock", "unix:" + sock, 1)
sub(r"auth_basic_user_file /etc/nginx/peipkg-manager\.htpasswd;",
    "auth_basic_user_file %s;" % htpasswd, 2)
for bad in ("ssl", "443", "/run/peipkg-manager", "/etc/"):
    if bad in re.sub(r"#[^\n]*", "", t):
        sys.exit("left in the site: " + bad)
sys.stdout.write(t)
EOP
check "site derived from etc/nginx-peipkg.conf" test -s "$N/site.conf"
[ -s "$N/derive.err" ] && diag "$(cat "$N/derive.err")"
cat >"$N/nginx.conf" <<EOC
user www-data;
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log info;
events { worker_connections 64; }
http {
	access_log $N/access.log;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	default_type application/octet-stream;
	include $N/site.conf;
}
EOC
check "nginx -t accepts the configuration" \
    "$NGINX" -t -q -c "$N/nginx.conf" -e "$N/error.log"
"$NGINX" -c "$N/nginx.conf" -e "$N/error.log" -g 'daemon off;' \
    >"$N/stdout" 2>&1 &
NGPID=$!
if ! wait_for "curl -s -o /dev/null $URL/" 100; then
	notok "nginx answers"; diag "$(tail -5 "$N/error.log" "$N/stdout")"
	done_testing
fi
ok "nginx answers"

check "/healthz through nginx: 200 ok" sh -c \
    "test \"\$(curl -s -w ' %{http_code}' $URL/healthz)\" = 'ok
 200'"
check "/status without credentials: 401 with a Basic challenge" sh -c \
    "curl -s -D - -o /dev/null $URL/status | tr -d '\r' | grep -q '^HTTP/1.1 401' &&
     curl -s -D - -o /dev/null $URL/status | tr -d '\r' |
     grep -qx 'WWW-Authenticate: Basic realm=\"peipkg-manager\"'"
check "/status with a wrong password: 401" \
    test "$(code -u 'monitor:wrong' "$URL/status")" = 401
check "/status with credentials: 200, JSON with farm_id" wait_for \
    "curl -fs -u 'monitor:pa55 word' $URL/status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"farm_id\"]==\"demo-farm\"'" 100
check "/metrics without credentials: 401" \
    test "$(code "$URL/metrics")" = 401
check "/metrics with credentials: 200, Prometheus text" sh -c \
    "curl -fs -u 'monitor:pa55 word' $URL/metrics | grep -q '^peipkg_builds_attempted_total '"
check "any other path: 404" test "$(code "$URL/")" = 404

WANT="greeter-banner@1.2.0-2 greeter-doc@1.1.0-1 greeter-doc@1.2.0-1 greeter@1.1.0-1 greeter@1.2.0-1"
check "the initial polls publish the demo versions" wait_for \
    "test \"\$(archive)\" = '$WANT'" 600

# ---- webhooks through nginx ----------------------------------------------
tag 1.3.0 >/dev/null 2>&1
printf '{"repository":{"html_url":"file://%s/upstream/greeter.git"}}' "$F" \
    >"$TAP_TMP/hook.json"
check "signed GitHub webhook through nginx: 200" \
    test "$(post "$TAP_TMP/hook.json" -H 'X-GitHub-Delivery: n-1')" = 200
check "the daemon accepted it" wait_for \
    "grep -q 'msg=\"webhook accepted, triggering immediate poll\" recipe=greeter ' $LOG" 50
check "the new tag is published" wait_for \
    "archive | grep -q 'greeter@1.3.0-1'" 600
check "unsigned webhook: 401" test "$(code -X POST \
    -H 'Content-Type: application/json' --data-binary "@$TAP_TMP/hook.json" \
    "$URL/webhooks/github")" = 401
check "the daemon saw the client's address (X-Real-IP)" wait_for \
    "grep -q 'msg=\"webhook signature invalid\" remote=127.0.0.1 ' $LOG" 50
head -c 2000000 /dev/zero | tr '\0' x >"$TAP_TMP/big.json"
check "a 2 MB body: nginx's 413" test "$(code -X POST \
    --data-binary "@$TAP_TMP/big.json" "$URL/webhooks/github")" = 413
python3 -c 'import sys; p = "x" * 1000000
print("{\"repository\":{\"html_url\":\"https://example.invalid/none\"},\"pad\":\"%s\"}" % p, end="")' \
    >"$TAP_TMP/mb.json"
check "a signed 1 MB body passes nginx and is MACed by the daemon: 200" \
    test "$(post "$TAP_TMP/mb.json" -H 'X-GitHub-Delivery: n-2')" = 200
check "the daemon parsed all of it (unrecognised repository)" wait_for \
    "grep -q 'webhook for unrecognised or opted-out repo.*html_url=https://example.invalid/none' $LOG" 50
check "GET on a webhook: the daemon's 405 with Allow: POST" sh -c \
    "curl -s -D - -o /dev/null $URL/webhooks/github | tr -d '\\r' >$TAP_TMP/get.h &&
     head -1 $TAP_TMP/get.h | grep -q '^HTTP/1.1 405 ' && grep -qx 'Allow: POST' $TAP_TMP/get.h"
check "the repository verifies" "$REPO" verify --repo "$STATE" --mode both

# ---- stop --------------------------------------------------------------------
stop_nginx
kill -TERM "$DPID"
wait "$DPID"
check "SIGTERM: exit 0" test $? = 0
DPID=""
check "stopped logged" grep -q 'msg="peipkg-manager stopped"' "$LOG"
if wait_for no_leftovers 50; then ok "no process left behind"
else notok "no process left behind"; no_leftovers; fi
done_testing
