#!/bin/sh
# once.sh: `peipkg-manager --once` over RECIPES recipes x TAGS tags
# (default 20 x 3 = 60 builds) against local file:// upstreams with a
# trivial build.sh, side by side in the same run with the same 60 builds
# done by a plain shell loop (bench/once-loop.sh: git ls-remote, git
# clone, `peipkg-build build` in the same sandbox, `peipkg-repo publish`
# per build - what the daemon replaces).  Each run is measured by
# bench/once-mem.py: wall time, CPU time and memory over every process
# of the tree (exact per-process peak RSS and CPU from the kernel's
# taskstats exit records; concurrent RSS and PSS from a 20 ms /proc
# sampler).  Medians of RUNS runs (default 5), the sides interleaved,
# and the per-run wall-time ratios (the machine is shared: a pair run
# back to back sees about the same load).  With PAR2=1 (default) a third
# side: the daemon with max_parallel_builds = 2.  Prints Markdown tables
# (results in doc/performance.md, "Daemon: --once").
#
#   bench/once.sh [BUILDDIR]       (default: the current directory)
#   RECIPES=20 TAGS=3 RUNS=5 PAR2=1 WORK=/tmp KEEP=DIR bench/once.sh BUILDDIR
#
# KEEP=DIR copies the raw results (once-mem.py's JSON per run, the logs)
# to DIR before the temporary directory is removed.
#
# Needs root (the daemon's privilege separation, taskstats), user
# namespaces, git, openssl, python3; creates the users peipkg and
# peipkg-build when missing.  Not a test: not registered in TESTS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
RECIPES=${RECIPES:-20}
TAGS=${TAGS:-3}
RUNS=${RUNS:-5}
PAR2=${PAR2:-1}
PM=$build/peipkg-manager
. "$here/bench-lib.sh"
bench_setup once.sh peipkg-manager peipkg-build peipkg-repo \
    sandbox/peipkg-buildd
SPID=
cleanup() {
	if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
		kill -TERM "$SPID" 2>/dev/null; sleep 1; kill_tree "$SPID"
	fi
	if [ -n "${KEEP:-}" ]; then
		mkdir -p "$KEEP" && cp -r "$W/res" "$KEEP/" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

F=$W/farm
sh "$here/once-farm.sh" "$F" "$RECIPES" "$TAGS"
CFG=$F/etc/config.toml
sed 's/^max_parallel_builds = .*/max_parallel_builds = 2/' "$CFG" \
    >"$F/etc/par2.toml"
mkdir -p "$W/res"
WANT=$((RECIPES * TAGS))

count() {
	python3 -c 'import json, sys
print(len(json.load(open(sys.argv[1] + "/index/archive.json"))["packages"]))' \
	    "$1"
}
# measure NAME RUN REPO CMD...: one measured run; REPO must then hold WANT
# packages.
measure() {
	_n=$1 _r=$2 _repo=$3; shift 3
	python3 "$here/once-mem.py" "$W/res/$_n.$_r.json" "$@" \
	    2>"$W/res/$_n.$_r.log" &
	SPID=$!
	wait "$SPID" || { echo "$_n run $_r failed:" >&2
		tail -20 "$W/res/$_n.$_r.log" >&2; exit 1; }
	SPID=
	_c=$(count "$_repo")
	[ "$_c" = "$WANT" ] || { echo "$_n run $_r: $_c packages, want $WANT" >&2
		tail -20 "$W/res/$_n.$_r.log" >&2; exit 1; }
	printf '%-7s run %s: ' "$_n" "$_r" >&2
	python3 "$here/once-mem.py" --line "$W/res/$_n.$_r.json" >&2
}
fresh_state() { rm -rf "$F/state" "$W/loop"; mkdir -p "$F/state" "$W/loop"; }

echo "kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$RECIPES recipes x $TAGS tags, $RUNS runs" >&2
r=1
while [ $r -le "$RUNS" ]; do
	fresh_state
	measure daemon $r "$F/state/repo" \
	    "$PM" --once --config "$CFG" --log-target stderr
	fresh_state
	measure loop $r "$W/loop/repo" \
	    sh "$here/once-loop.sh" "$F" "$W/loop/repo" "$build" "$W/loop"
	if [ "$PAR2" = 1 ]; then
		fresh_state
		measure par2 $r "$F/state/repo" \
		    "$PM" --once --config "$F/etc/par2.toml" --log-target stderr
	fi
	r=$((r + 1))
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$W/res" "$RUNS" "$RECIPES" "$TAGS" <<'EOF'
import json, os, statistics, sys
res, runs, nrec, ntag = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
K = ('wall_s', 'cpu_s', 'sum_hwm_kb', 'peak_rss_kb', 'peak_pss_kb',
     'max_hwm_kb', 'procs')


def load(side):
    rs = []
    for r in range(1, runs + 1):
        p = os.path.join(res, '%s.%d.json' % (side, r))
        if os.path.exists(p):
            rs.append(json.load(open(p)))
    return rs


def med(rs):
    return {k: statistics.median(x[k] for x in rs) for k in K}


def row(name, m):
    return '| %s | %.2f | %.2f | %.0f | %.1f | %.1f | %.1f | %d |' % (
        name, m['wall_s'], m['cpu_s'], m['sum_hwm_kb'] / 1024,
        m['peak_rss_kb'] / 1024,
        m['peak_pss_kb'] / 1024, m['max_hwm_kb'] / 1024, m['procs'])


sides = {s: load(s) for s in ('daemon', 'loop', 'par2')}
d, l = med(sides['daemon']), med(sides['loop'])
print('| %s recipes x %s tags (%d builds), median of %d | wall s | CPU s | '
      'sum of per-process peak RSS MiB | peak concurrent RSS MiB | '
      'peak concurrent PSS MiB | largest process MiB | processes |'
      % (nrec, ntag, int(nrec) * int(ntag), runs))
print('|---|---:|---:|---:|---:|---:|---:|---:|')
print(row('`peipkg-manager --once`', d))
print(row('shell loop (`once-loop.sh`)', l))
print('| ratio daemon / loop | %s |' % ' | '.join(
    '%.2f' % (d[k] / l[k]) for k in K))
if sides['par2']:
    print(row('`--once`, max_parallel_builds = 2', med(sides['par2'])))
print()
pairs = [a['wall_s'] / b['wall_s'] for a, b in zip(sides['daemon'],
                                                   sides['loop'])]
print('Wall time per run (s): daemon %s; loop %s%s.  Per-run ratio daemon '
      '/ loop: %s (median %.2f).' % (
          ', '.join('%.1f' % x['wall_s'] for x in sides['daemon']),
          ', '.join('%.1f' % x['wall_s'] for x in sides['loop']),
          '; max_parallel_builds = 2: ' + ', '.join(
              '%.1f' % x['wall_s'] for x in sides['par2'])
          if sides['par2'] else '',
          ', '.join('%.2f' % x for x in pairs), statistics.median(pairs)))
print()
for side in ('daemon', 'loop'):
    rs = sorted(sides[side], key=lambda x: x['wall_s'])
    m = rs[len(rs) // 2]
    print('| %s (median run): program | processes | sum of peak RSS MiB '
          '| largest MiB | CPU s |' % side)
    print('|---|---:|---:|---:|---:|')
    for lab, b in sorted(m['by_label'].items(),
                         key=lambda kv: -kv[1]['sum_hwm_kb']):
        print('| %s | %d | %.1f | %.1f | %.2f |' % (
            lab, b['n'], b['sum_hwm_kb'] / 1024, b['max_hwm_kb'] / 1024,
            b['cpu_s']))
    if m['lost']:
        print('| (exit records lost: %d) | | | | |' % m['lost'])
    print()
EOF
