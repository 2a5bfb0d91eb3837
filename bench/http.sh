#!/bin/sh
# http.sh: throughput and tail latency of the daemon's http role, side by
# side in the same run with nginx serving a static file of the same size
# as each response body from 127.0.0.1 (the practical ceiling here).
#
#   bench/http.sh [BUILDDIR]       (default: the current directory)
#   RECIPES=20 ROUNDS=3 DURATION=10s NGINX_WORKERS=1 WORK=/tmp KEEP=DIR \
#       bench/http.sh BUILDDIR
#
# KEEP=DIR copies the raw results (wrk outputs, CPU ticks, the daemon's
# log) to DIR before the temporary directory is removed.
#
# A farm of RECIPES recipes (bench/once-farm.sh, one tag each) is served
# by the real daemon on a loopback port; once its start-up builds are
# published, `wrk -t2 -c50 -dDURATION --latency` runs against
#   /healthz                     (3 bytes)
#   /status                      (the roster of RECIPES recipes)
#   POST /webhooks/github        a validly signed webhook for a repository
#                                no recipe tracks (a wrk Lua script sets
#                                the body and the precomputed
#                                X-Hub-Signature-256): 200, empty body,
#                                no work but one INFO log line
# and against nginx (throwaway config under the temp dir, `nginx -c ...
# -g 'daemon off;'`, NGINX_WORKERS worker processes, access_log off)
# serving files with the same bodies (the POST is answered from the
# static file through `error_page 405 =200 $uri`).  CPU time (utime +
# stime from /proc/PID/stat) of the server processes is read around each
# wrk run.  ROUNDS rounds, the side that goes first alternating; medians.
# Prints Markdown tables (results in doc/performance.md, "Daemon: HTTP").
#
# Needs root, wrk (apt-get install -y wrk), nginx (nginx-light), git,
# openssl, curl, python3.  Not a test: not registered in TESTS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
RECIPES=${RECIPES:-20}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
NGINX_WORKERS=${NGINX_WORKERS:-1}
PM=$build/peipkg-manager
for c in wrk nginx curl openssl python3 git; do
	command -v $c >/dev/null 2>&1 || { echo "http.sh: needs $c" >&2; exit 1; }
done
. "$here/bench-lib.sh"
bench_setup http.sh peipkg-manager sandbox/peipkg-buildd
DPID=
NPID=
cleanup() {
	[ -z "$NPID" ] || stop "$NPID"
	[ -z "$DPID" ] || stop "$DPID"
	if [ -n "${KEEP:-}" ]; then
		mkdir -p "$KEEP" && cp -r "$W/res" "$W/daemon.log" "$KEEP/" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

published() {
	python3 -c 'import json, sys
a = json.load(open(sys.argv[1] + "/index/archive.json"))
sys.exit(len(a["packages"]) != int(sys.argv[2]))' \
	    "$F/state/repo" "$RECIPES"
}
# cpu PID...: utime + stime of those processes, in clock ticks.
cpu() { cat $(for _p in "$@"; do echo "/proc/$_p/stat"; done) |
	awk '{ t += $14 + $15 } END { print t }'; }
role_pid() {
	for _c in $(ps -o pid= --ppid "$DPID"); do
		tr '\0' ' ' <"/proc/$_c/cmdline" | grep -q -- "-P $1 " &&
		    echo "$_c"
	done | head -1
}

F=$W/farm
DP=$(free_port)
NP=$(free_port)
sh "$here/once-farm.sh" "$F" "$RECIPES" 1 "$DP"
"$PM" --config "$F/etc/config.toml" --log-target stderr 2>"$W/daemon.log" &
DPID=$!
DURL=http://127.0.0.1:$DP
wait_for 300 curl -fs "$DURL/healthz" || { echo "no /healthz" >&2; exit 1; }
wait_for 1200 published || { echo "start-up builds not published" >&2
	tail -20 "$W/daemon.log" >&2; exit 1; }
jobs_done() {
	[ "$(grep -c 'build + publish complete' "$W/daemon.log")" -ge "$RECIPES" ]
}
wait_for 300 jobs_done
sleep 2
HTTP_PID=$(role_pid http)

# The bodies, and the same bytes as nginx's static files.
mkdir -p "$W/ng/www/webhooks" "$W/ng/tmp"
curl -fs "$DURL/healthz" >"$W/ng/www/healthz"
curl -fs "$DURL/status" >"$W/ng/www/status"
BODY='{"repository":{"html_url":"https://example.invalid/unknown/repo"}}'
SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 \
    -hmac "$(cat "$F/etc/webhook-secret")" -r | cut -d' ' -f1)
code=$(curl -s -o "$W/ng/www/webhooks/github" -w '%{http_code}' -X POST \
    -H "X-Hub-Signature-256: sha256=$SIG" -H 'Content-Type: application/json' \
    -H 'X-GitHub-Delivery: bench-1' --data-binary "$BODY" "$DURL/webhooks/github")
[ "$code" = 200 ] || { echo "webhook answered $code" >&2; exit 1; }
cat >"$W/webhook.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Delivery"] = "bench-1"
wrk.headers["X-Hub-Signature-256"] = "sha256=$SIG"
EOF

cat >"$W/ng/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $W/ng/nginx.pid;
error_log $W/ng/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $W/ng/tmp/body;
	proxy_temp_path $W/ng/tmp/proxy;
	fastcgi_temp_path $W/ng/tmp/fastcgi;
	uwsgi_temp_path $W/ng/tmp/uwsgi;
	scgi_temp_path $W/ng/tmp/scgi;
	server {
		listen 127.0.0.1:$NP;
		root $W/ng/www;
		default_type text/plain;
		location = /webhooks/github { error_page 405 =200 \$uri; }
	}
}
EOF
nginx -c "$W/ng/nginx.conf" -g 'daemon off;' &
NPID=$!
NURL=http://127.0.0.1:$NP
wait_for 100 curl -fs "$NURL/healthz" || { echo "nginx did not start" >&2
	cat "$W/ng/error.log" >&2; exit 1; }
n=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -X POST \
    --data-binary "$BODY" "$NURL/webhooks/github")
[ "$n" = "200 $(wc -c <"$W/ng/www/webhooks/github" | tr -d ' ')" ] ||
    { echo "nginx POST answered $n" >&2; exit 1; }
NG_WORKERS=$(ps -o pid= --ppid "$NPID" | tr '\n' ' ')

# bench SIDE EP ROUND: one wrk run, its output and the servers' CPU ticks.
bench() {
	_o=$W/res/$1.$2.$3
	case $1 in
	daemon) _u=$DURL; _pids=$HTTP_PID; _pids2=$DPID ;;
	*) _u=$NURL; _pids=$NG_WORKERS; _pids2=$NPID ;;
	esac
	case $2 in
	webhook) _a="-s $W/webhook.lua $_u/webhooks/github" ;;
	*) _a="$_u/$2" ;;
	esac
	_c0=$(cpu $_pids) _d0=$(cpu $_pids2)
	wrk -t2 -c50 -d"$DURATION" --latency $_a >"$_o.wrk" 2>&1
	echo $(( $(cpu $_pids) - _c0 )) $(( $(cpu $_pids2) - _d0 )) >"$_o.cpu"
	sleep 1
}
mkdir -p "$W/res"
echo "kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$RECIPES recipes, $ROUNDS rounds of wrk -t2 -c50 -d$DURATION" >&2
r=1
while [ $r -le "$ROUNDS" ]; do
	for ep in healthz status webhook; do
		if [ $((r % 2)) = 1 ]; then
			bench daemon $ep $r; bench nginx $ep $r
		else
			bench nginx $ep $r; bench daemon $ep $r
		fi
		echo "round $r $ep: daemon $(grep Requests/sec "$W/res/daemon.$ep.$r.wrk")," \
		    "nginx $(grep Requests/sec "$W/res/nginx.$ep.$r.wrk")" >&2
	done
	r=$((r + 1))
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
curl -fs "$DURL/healthz" >/dev/null ||
    { echo "daemon gone after the run" >&2; exit 1; }
[ "$(role_pid http)" = "$HTTP_PID" ] ||
    { echo "the http role was restarted" >&2; exit 1; }

python3 - "$W/res" "$ROUNDS" "$W/ng/www" "$(getconf CLK_TCK)" <<'EOF'
import os, re, statistics, sys
res, rounds, www = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hz = int(sys.argv[4])
U = {'us': 1e-3, 'ms': 1.0, 's': 1e3}


def wrk(p):
    t = open(p).read()
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))
    v, u = re.search(r'\n\s+99%\s+([\d.]+)(us|ms|s)\b', t).groups()
    n = int(re.search(r'(\d+) requests in', t).group(1))
    bad = re.search(r'Non-2xx or 3xx responses: (\d+)', t)
    err = re.search(r'Socket errors: (.*)', t)
    return {'rps': rps, 'p99': float(v) * U[u], 'n': n,
            'bad': int(bad.group(1)) if bad else 0,
            'err': err.group(1) if err else ''}


def side(s, ep):
    rs = []
    for r in range(1, rounds + 1):
        x = wrk(os.path.join(res, '%s.%s.%d.wrk' % (s, ep, r)))
        c = open(os.path.join(res, '%s.%s.%d.cpu' % (s, ep, r))).read().split()
        x['cpu'], x['cpu2'] = int(c[0]) / hz, int(c[1]) / hz
        rs.append(x)
    return {'rps': statistics.median(x['rps'] for x in rs),
            'p99': statistics.median(x['p99'] for x in rs),
            'us_req': statistics.median(x['cpu'] / x['n'] * 1e6 for x in rs),
            'us_req2': statistics.median(x['cpu2'] / x['n'] * 1e6
                                         for x in rs),
            'all_p99': ', '.join('%.1f' % x['p99'] for x in rs),
            'bad': sum(x['bad'] for x in rs),
            'err': '; '.join(x['err'] for x in rs if x['err']),
            'all': ', '.join('%.0f' % x['rps'] for x in rs)}


names = {'healthz': 'GET /healthz', 'status': 'GET /status',
         'webhook': 'POST /webhooks/github (signed, unknown repo)'}
size = {'healthz': 'healthz', 'status': 'status',
        'webhook': 'webhooks/github'}
print('| wrk -t2 -c50, median of %d | body bytes | daemon req/s | nginx '
      'req/s | req/s daemon / nginx | daemon p99 ms | nginx p99 ms | p99 '
      'daemon / nginx | CPU us/req: daemon (http role + parent) | nginx '
      '(workers + master) |' % rounds)
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
notes = []
for ep in ('healthz', 'status', 'webhook'):
    d, n = side('daemon', ep), side('nginx', ep)
    print('| %s | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f + %.0f '
          '| %.0f + %.0f |'
          % (names[ep], os.path.getsize(os.path.join(www, size[ep])),
             d['rps'], n['rps'], d['rps'] / n['rps'], d['p99'], n['p99'],
             d['p99'] / n['p99'], d['us_req'], d['us_req2'], n['us_req'],
             n['us_req2']))
    notes.append('%s: req/s per round daemon %s, nginx %s; p99 ms per round '
                 'daemon %s, nginx %s' % (ep, d['all'], n['all'],
                                          d['all_p99'], n['all_p99']))
    for s, x in (('daemon', d), ('nginx', n)):
        if x['bad'] or x['err']:
            notes.append('%s %s: %d non-2xx answers; socket errors: %s' % (
                s, ep, x['bad'], x['err'] or 'none'))
print()
for line in notes:
    print('- ' + line)
EOF
