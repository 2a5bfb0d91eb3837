#!/bin/sh
# cgroup-overhead.sh: what per-build cgroups cost.  `peipkg-manager
# --once` over RECIPES recipes x TAGS tags (default 10 x 3 = 30 builds,
# bench/once-farm.sh, trivial build.sh), three sides interleaved in one
# run: without cgroups (PEIPKG_TEST_CGROUP_ROOT=""), with per-build
# cgroups and no memory limit (the default), and with [build] memory_max.
# Prints the median wall time of each side over RUNS runs (default 5) and
# the median of the per-run ratios to the side without cgroups (results
# in doc/performance.md, "Per-build cgroups").
#
#   bench/cgroup-overhead.sh [BUILDDIR]
#   RECIPES=10 TAGS=3 RUNS=5 WORK=/tmp bench/cgroup-overhead.sh BUILDDIR
#
# Needs root, user namespaces, writable cgroups (v1 memory and pids, or
# v2), git, openssl, python3.  Not a test: not registered in TESTS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
RECIPES=${RECIPES:-10}
TAGS=${TAGS:-3}
RUNS=${RUNS:-5}
PM=$build/peipkg-manager
. "$here/bench-lib.sh"
bench_setup cgroup-overhead.sh peipkg-manager sandbox/peipkg-buildd
trap 'rm -rf "$W"' EXIT
F=$W/farm
sh "$here/once-farm.sh" "$F" "$RECIPES" "$TAGS"
CFG=$F/etc/config.toml
{ cat "$CFG"; printf '\n[build]\nmemory_max = 1073741824\n'; } \
    >"$F/etc/limited.toml"
grep -q '^\[build\]' "$CFG" && { echo "config has [build] already" >&2; exit 1; }

# side NAME: one --once run from an empty state; prints its wall seconds.
side() {
	rm -rf "$F/state"; mkdir -p "$F/state"
	_t0=$(date +%s.%N)
	case $1 in
	none)	PEIPKG_TEST_CGROUP_ROOT= "$PM" --once --config "$CFG" \
		    --log-target stderr 2>"$W/$1.log" ;;
	groups)	"$PM" --once --config "$CFG" --log-target stderr \
		    2>"$W/$1.log" ;;
	limited) "$PM" --once --config "$F/etc/limited.toml" \
		    --log-target stderr 2>"$W/$1.log" ;;
	esac
	_t1=$(date +%s.%N)
	_n=$(grep -c 'msg="build + publish complete"' "$W/$1.log" || true)
	[ "$_n" = $((RECIPES * TAGS)) ] || { echo "$1: $_n builds" >&2; exit 1; }
	[ "$1" = none ] || grep -q 'msg="build cgroups"' "$W/$1.log" ||
	    { echo "$1: no build cgroups" >&2; exit 1; }
	python3 -c "print(round($_t1 - $_t0, 3))"
}

echo "kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$RECIPES recipes x $TAGS tags, $RUNS runs" >&2
r=1
: >"$W/times"
while [ "$r" -le "$RUNS" ]; do
	for s in none groups limited; do
		t=$(side $s)
		echo "$r $s $t" >>"$W/times"
		echo "run $r $s: $t s" >&2
	done
	r=$((r + 1))
done
python3 - "$W/times" "$((RECIPES * TAGS))" <<'EOF'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    r, s, v = line.split()
    t.setdefault(s, {})[int(r)] = float(v)
n = sys.argv[2]
print("| side (%s builds) | median wall s | median ratio to no cgroups |" % n)
print("|---|---|---|")
for s, label in (("none", "no cgroups"), ("groups", "per-build cgroups"),
                 ("limited", "cgroups + memory_max 1 GiB")):
    ratio = statistics.median(t[s][r] / t["none"][r] for r in t[s])
    print("| %s | %.2f | %.3f |" % (label, statistics.median(t[s].values()),
                                   ratio))
EOF
