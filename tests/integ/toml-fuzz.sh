#!/bin/sh
# toml-fuzz.sh: build the libFuzzer harness for src/toml*.c with ASan and
# UBSan straight from the sources and run it for a bounded time, seeded
# with the valid test cases.  TAP.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
. "$top_srcdir/tests/lib.sh"

command -v clang >/dev/null 2>&1 || skip_all "clang not installed"
plan 2

S=$top_srcdir
B=${top_builddir:-$top_srcdir}
# config.h lives in the build tree (VPATH builds) or the source tree.
inc="-I$S/src"
[ -f "$B/config.h" ] && inc="-I$B $inc"
[ -f "$S/config.h" ] && inc="$inc -I$S"
sd_cflags=$(pkg-config --cflags libsystemd 2>/dev/null)
sd_libs=$(pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)

# shellcheck disable=SC2086
check "harness builds with -fsanitize=fuzzer,address,undefined" \
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $inc $sd_cflags \
	-o "$TAP_TMP/fuzz_toml" "$S/tests/fuzz/fuzz_toml.c" \
	"$S/src/toml.c" "$S/src/toml_scalar.c" "$S/src/toml_tree.c" \
	"$S/src/util.c" "$S/src/log.c" $sd_libs

mkdir -p "$TAP_TMP/corpus"
cp "$S"/tests/data/toml/valid/*.toml "$TAP_TMP/corpus/" 2>/dev/null
# A dictionary of TOML tokens speeds the fuzzer up considerably.
cat >"$TAP_TMP/toml.dict" <<'DICT'
"["
"]"
"[["
"]]"
"{"
"}"
"="
","
"."
"\""
"'"
"\"\"\""
"'''"
"#"
"\\u"
"\\U"
"true"
"false"
"inf"
"nan"
"0x"
"0o"
"0b"
"e+"
"1979-05-27T07:32:00Z"
"07:32:00"
"-08:00"
"\x0d\x0a"
DICT

d="fuzz_toml runs 20 s without a crash, leak or error"
if [ ! -x "$TAP_TMP/fuzz_toml" ]; then
	notok "$d (harness did not build)"
elif "$TAP_TMP/fuzz_toml" -max_total_time=20 -rss_limit_mb=512 \
    -timeout=10 -max_len=4096 -dict="$TAP_TMP/toml.dict" \
    -artifact_prefix="$TAP_TMP/" "$TAP_TMP/corpus" >"$TAP_TMP/fuzz.out" 2>&1
then
	ok "$d"
else
	notok "$d"
	# Keep the crashing input; show the report, not just its tail.
	mkdir -p "$B/toml-fuzz-artifacts" &&
	    cp "$TAP_TMP"/crash-* "$TAP_TMP"/leak-* "$TAP_TMP"/timeout-* \
	    "$TAP_TMP"/oom-* "$B/toml-fuzz-artifacts/" 2>/dev/null
	diag "$(grep -A30 -m1 -E 'ERROR|WARNING|runtime error' \
	    "$TAP_TMP/fuzz.out")"
	diag "$(grep -E '^(Base64|artifact_prefix)' "$TAP_TMP/fuzz.out")"
	diag "artifacts kept in $B/toml-fuzz-artifacts"
fi
