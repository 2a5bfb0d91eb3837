#!/bin/sh
# build-vectors.sh: every `peipkg-build build` case of tests/vectors/recipes
# (README.md "recipes/"), run exactly as the vectors were generated:
# source.tar extracted to a fresh directory, the case's argv with
# <recipe-dir>, <source> and <out> substituted, keys relative to
# tests/vectors, PATH=/usr/local/bin:/usr/bin:/bin and no TMPDIR.
#
# ok cases: exit 0, the output files (set and order), every output
# decompressed equal to expected/<stem>.tar byte for byte, stdout and
# stderr equal to the recorded ones.  error cases: exit 1, no .peipkg
# (nor a temporary) left in OUT, stdout as recorded, stderr naming every
# `message_must_name` string (consumer-error cases: what
# `message_must_identify` asks for, listed below).
#
# build.sh runs in the build sandbox (as root: as "nobody"); the ok cases
# are then built again with --no-sandbox and must give identical files.
. "$top_srcdir/tests/lib.sh"

PB="$top_builddir/peipkg-build"
[ -x "$PB" ] || skip_all "peipkg-build is not built"
command -v zstd >/dev/null 2>&1 || skip_all "no zstd command"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
RECIPES="$VECTORS/recipes"
PATH_BUILD=/usr/local/bin:/usr/bin:/bin

# Without root, the sandbox needs unprivileged user namespaces.
SANDBOX_FLAG=
if [ "$(id -u)" != 0 ] && ! unshare -U true 2>/dev/null; then
	SANDBOX_FLAG=--no-sandbox
	diag "user namespaces unavailable: building without the sandbox"
fi

# Source trees and staging must be readable by the build user.
WORK=$(mktemp -d /tmp/peipkg-bv.XXXXXX) || exit 1
chmod 755 "$WORK"
trap 'rm -rf "$WORK" "$TAP_TMP"' EXIT

# json FILE EXPR: print a field of a JSON file (lists one item a line).
json() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k] if isinstance(v, dict) else v[int(k)]
for x in (v if isinstance(v, list) else [v]):
    print(x)' "$1" "$2"
}

# run_case CASE OUT SRC [extra flag]: run the case's argv; sets RC and
# leaves stdout/stderr in $OUT.stdout / $OUT.stderr.
run_case() {
	_case=$1 _out=$2 _src=$3 _extra=${4-}
	set --
	while IFS= read -r _a; do
		case $_a in
		"<recipe-dir>"*) _a="$RECIPES/$_case/recipe${_a#<recipe-dir>}" ;;
		"<source>") _a=$_src ;;
		"<out>") _a=$_out ;;
		esac
		set -- "$@" "$_a"
	done <<EOF
$(json "$RECIPES/$_case/flags.json" argv | tail -n +2)
EOF
	[ -n "$_extra" ] && set -- "$@" "$_extra"
	[ -n "$SANDBOX_FLAG" ] && [ "$_extra" != "$SANDBOX_FLAG" ] &&
	    set -- "$@" "$SANDBOX_FLAG"
	(cd "$VECTORS" && exec env -i PATH="$PATH_BUILD" \
	    ${RUN_TMPDIR:+"TMPDIR=$RUN_TMPDIR"} "$PB" "$@") \
	    >"$_out.stdout" 2>"$_out.stderr"
	RC=$?
}

# new_source CASE: a fresh extraction of the case's source.tar.
new_source() {
	_s=$(mktemp -d "$WORK/src.XXXXXX") && chmod 755 "$_s" &&
	    tar -xf "$RECIPES/$1/source.tar" -C "$_s" && echo "$_s"
}

# What the consumer-error cases must identify (message_must_identify).
identify() {
	case $1 in
	err-fractional-timestamp) echo '2026-05-12T00:00:00.25Z' ;;
	err-consumer-manifest-rules)
		echo '"1.0"'; echo 'libc'; echo '"x86_64"'
		echo '"systemd-reload"' ;;
	*) echo "<no identify list for $1>" ;;
	esac
}

no_packages_left() {
	[ ! -d "$1" ] || [ -z "$(ls -A "$1" | grep peipkg)" ]
}

check_ok() {
	_c=$1 _o=$2 _exp="$RECIPES/$1/expected"
	if [ "$RC" -ne 0 ]; then
		notok "$_c: exit 0 (got $RC)"
		diag "$(cat "$_o.stderr")"
		return
	fi
	ok "$_c: exit 0"
	if [ "$(ls -A "$_o" | sort)" = "$(sort "$_exp/outputs.txt")" ]; then
		ok "$_c: output files"
	else
		notok "$_c: output files"; diag "$(ls -A "$_o")"
	fi
	while IFS= read -r _f; do
		if zstd -qdc "$_o/$_f" 2>/dev/null |
		    cmp -s - "$_exp/${_f%.peipkg}.tar"; then
			ok "$_c: $_f decompresses to expected tar"
		else
			notok "$_c: $_f decompresses to expected tar"
		fi
	done <"$_exp/outputs.txt"
	sed "s|<out>|$_o|g" "$_exp/stdout.txt" >"$_o.want"
	if cmp -s "$_o.want" "$_o.stdout"; then
		ok "$_c: stdout (script output, then the paths in order)"
	else
		notok "$_c: stdout"; diag "$(diff "$_o.want" "$_o.stdout")"
	fi
	if cmp -s "$_exp/stderr.txt" "$_o.stderr"; then
		ok "$_c: stderr"
	else
		notok "$_c: stderr"; diag "$(diff "$_exp/stderr.txt" "$_o.stderr")"
	fi
}

check_error() {
	_c=$1 _o=$2 _x=$3 _e="$RECIPES/$1/expected-error.json"
	if [ "$RC" -eq 1 ]; then ok "$_c: exit 1"; else
		notok "$_c: exit 1 (got $RC)"; fi
	if no_packages_left "$_o"; then ok "$_c: no package left in OUT"
	else notok "$_c: no package left in OUT"; diag "$(ls -A "$_o")"; fi
	if grep -q '^peipkg-build: ' "$_o.stderr"; then
		ok "$_c: error printed as peipkg-build: <message>"
	else
		notok "$_c: error printed as peipkg-build: <message>"
	fi
	if [ "$_x" = consumer-error ]; then
		_want=$(identify "$_c")
	else
		_want=$(json "$_e" message_must_name)
		# the build script's own stdout still passes through
		python3 -c 'import json,sys
sys.stdout.write(json.load(open(sys.argv[1]))["reference_stdout"])' \
		    "$_e" >"$_o.wantout"
		if cmp -s "$_o.wantout" "$_o.stdout"; then
			ok "$_c: stdout is the script's own output only"
		else
			notok "$_c: stdout"; diag "$(cat "$_o.stdout")"
		fi
	fi
	while IFS= read -r _s; do
		if grep -qF -- "$_s" "$_o.stderr"; then
			ok "$_c: message names $_s"
		else
			notok "$_c: message names $_s"
			diag "$(cat "$_o.stderr")"
		fi
	done <<EOF
$_want
EOF
}

NCASES=0
OKCASES=
for d in "$RECIPES"/*/; do
	c=$(basename "$d")
	NCASES=$((NCASES + 1))
	src=$(new_source "$c") || { notok "$c: extract source.tar"; continue; }
	out="$WORK/out-$c"
	run_case "$c" "$out" "$src"
	x=$(json "$d/flags.json" expect)
	case $x in
	ok) check_ok "$c" "$out"; OKCASES="$OKCASES $c" ;;
	error|consumer-error) check_error "$c" "$out" "$x" ;;
	*) notok "$c: unknown expect" ;;
	esac
done
if [ "$NCASES" -eq 14 ]; then ok "all 14 recipe cases ran"; else
	notok "all 14 recipe cases ran (found $NCASES)"; fi

# The same builds without the sandbox give the same files.
for c in $OKCASES; do
	src=$(new_source "$c") || { notok "$c: extract source.tar"; continue; }
	out="$WORK/plain-$c"
	run_case "$c" "$out" "$src" --no-sandbox
	same=yes
	[ "$RC" -eq 0 ] || same="exit $RC: $(cat "$out.stderr")"
	while IFS= read -r f; do
		cmp -s "$WORK/out-$c/$f" "$out/$f" || same="$f differs"
	done <"$RECIPES/$c/expected/outputs.txt"
	[ "$(ls -A "$out")" = "$(ls -A "$WORK/out-$c")" ] || same="file list"
	if [ "$same" = yes ]; then
		ok "$c: --no-sandbox gives identical packages"
	else
		notok "$c: --no-sandbox gives identical packages"; diag "$same"
	fi
done

# Flag and environment checks happen before build.sh runs (the hello
# recipe would otherwise succeed): each must exit 1 naming the problem
# and create no output directory.
flagcheck() {
	_want=$1
	shift
	_o="$WORK/flags-$TAP_N"
	src=$(new_source hello-noarch)
	(cd "$VECTORS" && exec env -i PATH="$PATH_BUILD" "$PB" build \
	    --recipe "$RECIPES/hello-noarch/recipe/peipkg.toml" \
	    --source "$src" --version 0.1-1 --source-ref test://hello \
	    --farm-id test-farm --timestamp 2026-05-06T12:00:00Z --out "$_o" \
	    "$@") >"$_o.stdout" 2>"$_o.stderr"
	RC=$?
	if [ $RC -eq 1 ] && grep -qF -- "$_want" "$_o.stderr" &&
	    [ ! -e "$_o" ]; then
		ok "refused before the build: $_want"
	else
		notok "refused before the build: $_want (rc $RC)"
		diag "$(cat "$_o.stderr")"
	fi
}
flagcheck 'build-env: "PATH" is reserved and cannot be overridden' \
    --build-env PATH=/evil
flagcheck 'build-env: invalid variable name "1X"' --build-env 1X=y
flagcheck '--build-env "A": duplicate name' --build-env A=1 --build-env A=2
flagcheck '--build-env "NOVALUE": expected NAME=VALUE' --build-env NOVALUE
flagcheck '--binary-sign-key "tcb": expected NAME=PATH' --binary-sign-key tcb
flagcheck 'peipkg-build: --recipe is required' --recipe ''
flagcheck '--zstd-level 0: must be 1-22' --zstd-level 0
flagcheck 'invalid --version: version "0.1"' --version 0.1
flagcheck 'timestamp "2026-05-06T12:00:00.5Z" has fractional seconds' \
    --timestamp 2026-05-06T12:00:00.5Z
flagcheck '--sign-key: ' --sign-key /nonexistent/key

# The staging directory is removed, on success and on failure.
TD=$(mktemp -d "$WORK/tmpdir.XXXXXX") && chmod 755 "$TD"
for c in hello-noarch err-orphan err-build-fails; do
	src=$(new_source "$c")
	RUN_TMPDIR=$TD run_case "$c" "$WORK/td-$c" "$src"
	[ -z "$(ls -A "$TD")" ] && ok "$c: staging directory removed" ||
	    { notok "$c: staging directory removed"; diag "$(ls -lA "$TD")"; }
done
done_testing
