#!/bin/sh
# sandbox-overhead.sh: what the build sandbox costs per build.  Runs a
# trivial build.sh (`true`) side by side, in the same run, through the
# sandbox (sandbox/sbx-run: namespaces, mounts, seccomp, rlimits, the
# supervisor) and as a plain `sh build.sh`, and prints the mean time per
# build of each, the difference (the set-up overhead) and the ratio.
#
#   bench/sandbox-overhead.sh [RUNS]	(default 50; needs a built tree)
#
# Environment: top_builddir (default .), BUILD_USER (as root: the uid the
# script runs as, default peipkg-build, else nobody).  Uses hyperfine when
# installed (apt-get install hyperfine), else a shell loop timed with
# date +%s%N.  Results go to doc/performance.md, section "Sandbox".
set -eu
RUNS=${1:-50}
: "${top_builddir:=.}"
SBX="$top_builddir/sandbox/sbx-run"
[ -x "$SBX" ] || { echo "build sandbox/sbx-run first" >&2; exit 1; }

D=$(mktemp -d /tmp/peipkg-sbxbench.XXXXXX)
D=$(cd "$D" && pwd -P)
trap 'rm -rf "$D"' EXIT
chmod 755 "$D"
mkdir -p "$D/src" "$D/dest" "$D/work"
echo true > "$D/build.sh"
chmod 644 "$D/build.sh"
IDS=
if [ "$(id -u)" = 0 ]; then
	U=${BUILD_USER:-peipkg-build}
	getent passwd "$U" >/dev/null || U=nobody
	chown "$U" "$D/dest" "$D/work"
	IDS="--uid $(id -u "$U") --gid $(id -g "$U")"
fi
SANDBOXED="$SBX --script $D/build.sh --source $D/src --destdir $D/dest \
--workdir $D/work $IDS --log /dev/null"
PLAIN="sh $D/build.sh"

echo "kernel $(uname -r), $(nproc) cpus, $RUNS runs each"
if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$D/h.json" \
	    -n sandboxed "$SANDBOXED" -n plain "$PLAIN" >&2
	python3 - "$D/h.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
s, p = r["sandboxed"], r["plain"]
print("tool hyperfine")
for n, x in (("sandboxed", s), ("plain", p)):
    print("%-9s mean %.2f ms  stddev %.2f ms  min %.2f ms  max %.2f ms"
          % (n, x["mean"] * 1e3, x["stddev"] * 1e3, x["min"] * 1e3,
             x["max"] * 1e3))
print("overhead  %.2f ms per build" % ((s["mean"] - p["mean"]) * 1e3))
print("ratio     %.1fx" % (s["mean"] / p["mean"]))
EOF
	exit 0
fi

# loop CMD: mean nanoseconds of RUNS runs.
loop() {
	_t0=$(date +%s%N)
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		$1 >/dev/null 2>&1
		_i=$((_i + 1))
	done
	echo $(( ($(date +%s%N) - _t0) / RUNS ))
}
loop "$SANDBOXED" >/dev/null	# warm-up
S=$(loop "$SANDBOXED")
P=$(loop "$PLAIN")
echo "tool shell loop (date +%s%N)"
awk -v s="$S" -v p="$P" 'BEGIN {
	printf "sandboxed mean %.2f ms\nplain     mean %.2f ms\n", s / 1e6, p / 1e6
	printf "overhead  %.2f ms per build\nratio     %.1fx\n", (s - p) / 1e6, s / p
}'
