# fuzz-lib.sh: shared by the libFuzzer tests (toml-fuzz.sh, msg-fuzz.sh,
# http-fuzz.sh), sourced after tests/lib.sh: each builds one harness with
# clang, ASan and UBSan straight from the sources and runs it for a
# bounded time.  Skips the whole test without clang.

command -v clang >/dev/null 2>&1 || skip_all "clang not installed"
FZ_S=$top_srcdir
FZ_B=${top_builddir:-$top_srcdir}
# config.h lives in the build tree (VPATH builds) or the source tree.
FZ_INC="-I$FZ_S/src"
[ -f "$FZ_B/config.h" ] && FZ_INC="-I$FZ_B $FZ_INC"
[ -f "$FZ_S/config.h" ] && FZ_INC="$FZ_INC -I$FZ_S"

# fuzz_build NAME "PKG..." SOURCE...: the check "harness builds"; the
# program is $TAP_TMP/NAME.  Sources are relative to the source tree.
fuzz_build() {
	_n=$1 _pk=$2; shift 2
	_src=""
	for _f in "$@"; do _src="$_src $FZ_S/$_f"; done
	_cf=$(pkg-config --cflags $_pk 2>/dev/null)
	_lb=$(pkg-config --libs $_pk 2>/dev/null ||
	    for _p in $_pk; do printf ' -l%s' "${_p#lib}"; done)
	# shellcheck disable=SC2086
	check "harness builds with -fsanitize=fuzzer,address,undefined" \
		clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $FZ_INC $_cf \
		-o "$TAP_TMP/$_n" $_src $_lb
}

# fuzz_run NAME SECONDS CORPUS [libFuzzer option...]: the check "runs
# without a crash"; on a failure the report is shown and the artifacts
# are kept in $top_builddir/NAME-artifacts.
fuzz_run() {
	_n=$1 _t=$2 _c=$3; shift 3
	_d="$_n runs $_t s without a crash, leak or error"
	if [ ! -x "$TAP_TMP/$_n" ]; then
		notok "$_d (harness did not build)"
	elif "$TAP_TMP/$_n" -max_total_time="$_t" -rss_limit_mb=1024 \
	    -timeout=10 -artifact_prefix="$TAP_TMP/" "$@" "$_c" \
	    >"$TAP_TMP/$_n.out" 2>&1; then
		ok "$_d"
	else
		notok "$_d"
		mkdir -p "$FZ_B/$_n-artifacts" &&
		    cp "$TAP_TMP"/crash-* "$TAP_TMP"/leak-* \
		    "$TAP_TMP"/timeout-* "$TAP_TMP"/oom-* \
		    "$FZ_B/$_n-artifacts/" 2>/dev/null
		diag "$(grep -A30 -m1 -E 'ERROR|WARNING|runtime error' \
		    "$TAP_TMP/$_n.out")"
		diag "$(grep -E '^(Base64|artifact_prefix)' "$TAP_TMP/$_n.out")"
		diag "artifacts kept in $FZ_B/$_n-artifacts"
	fi
}
