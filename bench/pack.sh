#!/bin/sh
# pack.sh: the packing benchmark.  Generates a staged tree with
# bench/pack-tree.sh, then for each zstd level packs it with
#
#   peipkg-build pack --manifest M --staged TREE --out F.peipkg \
#       --sign-key tests/vectors/keys/test-ed25519.seed \
#       --zstd-level L --zstd-workers W
#
# and, side by side in the same run, does the same work another way:
#
#   tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
#       -C TREE -cf - . | zstd -L -TW -q -o F.tar.zst; sync F.tar.zst DIR
#
# (the sync because the packer fsyncs its output and directory).  Wall
# time (MB/s of input, 1 MB = 10^6 bytes), peak RSS (GNU time %M: the
# packer's one process; the sum of tar's and zstd's, which run at once),
# CPU time (user + system) and compressed size.  The tree is read once
# before each level so both sides read from the page cache.  Levels up
# to 9 run RUNS_FAST times (default 2) and the others once; with several
# runs the best wall and CPU time and the highest RSS are reported,
# alternating packer and tar+zstd.  Levels in --subset-levels run on a
# smaller tree of --subset-mib MiB (the same generator: its files are
# the first ones of the big tree) when that is smaller than --size-mib.
# Prints one log line per run on stderr and a Markdown table on stdout,
# then the cost of the work both sides share, measured on the big tree
# alone: reading every file through SHA-256 (openssl dgst; the packer's
# first pass) and GNU tar into a pipe (reading plus tar framing, no
# compression).
#
#   bench/pack.sh [--levels "3 9 15 19"] [--size-mib 1024]
#       [--workdir /var/tmp/peipkg-bench] [--subset-mib 256]
#       [--subset-levels 19] [--workers 2] [--build BUILDDIR]
#
# BUILDDIR (default: the current directory) holds peipkg-build (make
# peipkg-build).  Not a test: not registered in TESTS.  Needs python3,
# zstd, GNU tar, /usr/bin/time (Debian package `time`) and twice
# --size-mib of free space in --workdir; removes everything it made.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
LEVELS="3 9 15 19"
SIZE=1024
WORKDIR=/var/tmp/peipkg-bench
SUBSET=256
SUBSET_LEVELS=19
WORKERS=2
BUILD=.
RUNS_FAST=${RUNS_FAST:-2}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "$0: $1 needs a value" >&2; exit 2; }
	case $1 in
	--levels) LEVELS=$2 ;;
	--size-mib) SIZE=$2 ;;
	--workdir) WORKDIR=$2 ;;
	--subset-mib) SUBSET=$2 ;;
	--subset-levels) SUBSET_LEVELS=$2 ;;
	--workers) WORKERS=$2 ;;
	--build) BUILD=$2 ;;
	*) echo "usage: $0 [--levels L] [--size-mib N] [--workdir DIR]" \
	    "[--subset-mib N] [--subset-levels L] [--workers N]" \
	    "[--build DIR]" >&2; exit 2 ;;
	esac
	shift 2
done
PB=$(cd "$BUILD" && pwd)/peipkg-build
KEY=$top/tests/vectors/keys/test-ed25519.seed
PUB=$top/tests/vectors/keys/test-ed25519.pub.raw
[ -x "$PB" ] || { echo "$0: no $PB (make peipkg-build)" >&2; exit 1; }
[ -x /usr/bin/time ] ||
    { echo "$0: no /usr/bin/time (apt-get install time)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "$0: no zstd" >&2; exit 1; }
[ "$SUBSET" -lt "$SIZE" ] || SUBSET_LEVELS=

mkdir -p "$WORKDIR"
W=$(mktemp -d "$WORKDIR/pack.XXXXXX")
trap 'rm -rf "$W"; rmdir "$WORKDIR" 2>/dev/null || :' EXIT
trap 'exit 130' INT TERM
mkdir "$W/out"
T0=$(date +%s)

cat >"$W/m.json" <<'EOF'
{
  "name": "bench",
  "version": "1.0-1",
  "architecture": "x86_64",
  "description": "Packing benchmark tree (bench/pack-tree.sh).",
  "license": "CC0-1.0",
  "homepage": "",
  "dependencies": [],
  "optional_dependencies": [],
  "conflicts": [],
  "provides": [],
  "replaces": [],
  "side_effects": [],
  "sd_overrides": [],
  "build": {
    "timestamp": "2026-05-06T12:00:00Z",
    "farm_id": "bench-farm",
    "source_ref": "bench://pack-tree"
  }
}
EOF

log() { echo "pack.sh: $*" >&2; }

now() { date +%s.%N; }

# input_bytes TREE: sum of regular file sizes (the tar pads and adds
# headers on top; MB/s is of this).
input_bytes() {
	find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }'
}

warm() {
	find "$1" -type f -print0 | xargs -0 cat >/dev/null
}

# tfield FILE N: field N of a GNU time "-f '%M %U %S'" file; fails (with
# the file on stderr) when the command failed.
tfield() {
	if [ "$(wc -l <"$1")" -ne 1 ]; then
		cat "$1" >&2
		return 1
	fi
	awk -v n="$2" '{ print $n }' "$1"
}

# Each run appends "wall rss_kb cpu_s size" to $W/<side>.<level>.
run_pack() {	# level tree
	_o=$W/out/p.peipkg
	rm -f "$_o"
	_t=$(now)
	/usr/bin/time -f '%M %U %S' -o "$W/tp" "$PB" pack \
	    --manifest "$W/m.json" --staged "$2" --out "$_o" \
	    --sign-key "$KEY" --zstd-level "$1" --zstd-workers "$WORKERS"
	_t=$(echo "$_t $(now)" | awk '{ printf "%.3f", $2 - $1 }')
	_r=$(tfield "$W/tp" 1)
	_c=$(awk '{ printf "%.2f", $2 + $3 }' "$W/tp")
	_s=$(stat -c %s "$_o")
	echo "$_t $_r $_c $_s" >>"$W/pack.$1"
	log "level $1 packer:   $_t s, $_r KB, cpu $_c s, $_s bytes"
}

run_tar() {	# level tree
	_o=$W/out/t.tar.zst
	rm -f "$_o"
	_t=$(now)
	/usr/bin/time -f '%M %U %S' -o "$W/ta" tar --sort=name --owner=0 \
	    --group=0 --numeric-owner --mtime=@0 -C "$2" -cf - . |
	    /usr/bin/time -f '%M %U %S' -o "$W/tz" zstd "-$1" \
	    "-T$WORKERS" -q -o "$_o"
	sync "$_o" "$W/out"
	_t=$(echo "$_t $(now)" | awk '{ printf "%.3f", $2 - $1 }')
	_r=$(( $(tfield "$W/ta" 1) + $(tfield "$W/tz" 1) ))
	_c=$(cat "$W/ta" "$W/tz" | awk '{ c += $2 + $3 }
	    END { printf "%.2f", c }')
	_s=$(stat -c %s "$_o")
	echo "$_t $_r $_c $_s" >>"$W/tar.$1"
	log "level $1 tar+zstd: $_t s, $_r KB (tar $(tfield "$W/ta" 1)," \
	    "zstd $(tfield "$W/tz" 1)), cpu $_c s, $_s bytes"
}

# best FILE: "min wall, max rss, min cpu, size" over the runs.
best() {
	awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $3 < c { c = $3 }
	    $2 > r { r = $2 } { s = $4 }
	    END { print w, r, c, s }' "$1"
}

gen() {	# dir size
	log "generating $2 MiB tree in $1"
	"$here/pack-tree.sh" --size-mib "$2" "$1" >&2
}

# probe TREE: seconds for one read + SHA-256 pass and one tar pass.
probe() {
	warm "$1"
	_t=$(now)
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 cat) |
	    openssl dgst -sha256 >/dev/null
	_h=$(echo "$_t $(now)" | awk '{ printf "%.2f", $2 - $1 }')
	_t=$(now)
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	    -C "$1" -cf - . | cat >/dev/null
	_a=$(echo "$_t $(now)" | awk '{ printf "%.2f", $2 - $1 }')
	echo "Shared work on the $SIZE MiB tree: read + SHA-256 of every" \
	    "file $_h s; tar to a pipe $_a s."
}

in_list() {	# word list
	for _x in $2; do [ "$_x" = "$1" ] && return 0; done
	return 1
}

zv=$(zstd -V | grep -o 'v[0-9][0-9.]*' | head -1)
log "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); zstd $zv;" \
    "$(tar --version | head -1)"
gen "$W/tree" "$SIZE"
[ -z "$SUBSET_LEVELS" ] || gen "$W/sub" "$SUBSET"

for l in $LEVELS; do
	tree=$W/tree
	mib=$SIZE
	if in_list "$l" "$SUBSET_LEVELS"; then
		tree=$W/sub
		mib=$SUBSET
	fi
	runs=1
	[ "$l" -gt 9 ] || runs=$RUNS_FAST
	warm "$tree"
	i=0
	while [ $i -lt "$runs" ]; do
		run_pack "$l" "$tree"
		run_tar "$l" "$tree"
		i=$((i + 1))
	done
	"$PB" verify --key "$PUB" "$W/out/p.peipkg" >/dev/null
	rm -f "$W/out/p.peipkg" "$W/out/t.tar.zst"
	echo "$l $mib $(input_bytes "$tree") $(best "$W/pack.$l")" \
	    "$(best "$W/tar.$l")" >>"$W/results"
done

probe "$W/tree" >"$W/probe"
log "$(cat "$W/probe")"
log "done in $(( $(date +%s) - T0 )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| zstd level | tree MiB | packer MB/s | tar+zstd MB/s | time ratio" \
    "| packer peak RSS MiB | tar+zstd peak RSS MiB | RSS ratio" \
    "| packer MB | tar+zstd MB | size ratio | CPU s packer / tar+zstd |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
awk '{
	# level mib bytes  pw pr pc ps  tw tr tc ts
	printf "| %s | %s | %.1f | %.1f | %.2f | %.0f | %.0f | %.2f |" \
	    " %.1f | %.1f | %.3f | %.1f / %.1f = %.2f |\n",
	    $1, $2, $3 / $4 / 1e6, $3 / $8 / 1e6, $4 / $8,
	    $5 / 1024, $9 / 1024, $5 / $9, $7 / 1e6, $11 / 1e6, $7 / $11,
	    $6, $10, $6 / $10
}' "$W/results"
echo
cat "$W/probe"
