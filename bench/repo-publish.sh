#!/bin/sh
# repo-publish.sh: cost of one `peipkg-repo publish` (one new package) into
# archives of 100, 1,000, 10,000 and 100,000 entries, next to a baseline
# doing only the index work another way (python3 json + `openssl pkeyutl`:
# read both indexes, add an entry, sort, re-encode, write, sign three
# documents).  Wall time and peak RSS from /usr/bin/time; the median of
# RUNS runs (RUNS_BIG for 100,000).  Prints a Markdown table.
#
#   bench/repo-publish.sh [BUILDDIR]     (default: the current directory)
#   SIZES="100 1000" RUNS=3 RUNS_BIG=1 WORK=/var/tmp bench/repo-publish.sh
#
# Not a test: not registered in TESTS.  Needs python3, openssl,
# /usr/bin/time and about 1 GB of free inodes/space in WORK for 100,000.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=$(cd "${1:-.}" && pwd)
REPO=$build/peipkg-repo
VEC=$top/tests/vectors
KEY=$VEC/keys/test-ed25519.seed
SIZES=${SIZES:-"100 1000 10000 100000"}
RUNS=${RUNS:-3}
RUNS_BIG=${RUNS_BIG:-1}
W=$(mktemp -d "${WORK:-${TMPDIR:-/tmp}}/repo-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
[ -x "$REPO" ] || { echo "no $REPO (build it first)" >&2; exit 1; }

# New packages for successive runs (distinct name/version, all valid).
PKGS="hello_0.1-1_noarch.peipkg hello_0.1-2_noarch.peipkg
hello_0.10-1_noarch.peipkg hello_0.2-1_noarch.peipkg
hello_0.2~rc1-1_noarch.peipkg"
find_pkg() {
	find "$VEC/repos" -path '*/new/*' -name "$1" | head -1
}

# measure OUT CMD...: append "seconds kilobytes" of one run to OUT.
measure() {
	_out=$1; shift
	/usr/bin/time -f "%e %M" -o "$W/t" "$@" >/dev/null
	cat "$W/t" >>"$_out"
}

median() {	# column $2 of file $1
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
	    END { print v[int((NR + 1) / 2)] }'
}

echo "| archive entries | publish wall s | publish peak RSS MB | baseline wall s | baseline peak RSS MB | wall ratio | RSS ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
	runs=$RUNS
	[ "$n" -ge 100000 ] && runs=$RUNS_BIG
	rm -rf "$W/s" "$W/pool" "$W/base" "$W/new"
	python3 "$here/repo-gen.py" state "$VEC" "$W/s/S" "$n"
	mkdir -p "$W/base/index" "$W/new"
	cp "$W/s/S/repo.json" "$W/base/"
	cp "$W/s/S/index/"*.json "$W/base/index/"
	"$REPO" verify --repo "$W/s/S" --mode metadata >/dev/null
	: >"$W/pub"
	: >"$W/bas"
	i=0
	for p in $PKGS; do
		[ "$i" -lt "$runs" ] || break
		i=$((i + 1))
		rm -f "$W/new/"*
		cp "$(find_pkg "$p")" "$W/new/"
		measure "$W/pub" "$REPO" publish --in "$W/s/S" --out "$W/s/S" \
		    --new "$W/new" --timestamp "2026-06-0${i}T00:00:00Z" \
		    --sign-key "$KEY"
		cp -r "$W/base" "$W/b"
		measure "$W/bas" python3 "$here/repo-gen.py" baseline "$VEC" \
		    "$W/b"
		rm -rf "$W/b"
	done
	"$REPO" verify --repo "$W/s/S" --mode metadata >/dev/null
	pw=$(median "$W/pub" 1); pm=$(median "$W/pub" 2)
	bw=$(median "$W/bas" 1); bm=$(median "$W/bas" 2)
	awk -v n="$n" -v pw="$pw" -v pm="$pm" -v bw="$bw" -v bm="$bm" \
	    -v r="$runs" 'BEGIN {
		printf "| %d (%d run%s) | %.2f | %.1f | %.2f | %.1f | %.1fx | %.1fx |\n",
		    n, r, (r > 1 ? "s" : ""), pw, pm / 1024, bw, bm / 1024,
		    (bw > 0 ? pw / bw : 0), (bm > 0 ? pm / bm : 0) }'
done
