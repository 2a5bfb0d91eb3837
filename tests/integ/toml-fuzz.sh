#!/bin/sh
# toml-fuzz.sh: build the libFuzzer harness for src/toml*.c with ASan and
# UBSan straight from the sources and run it for a bounded time, seeded
# with the valid test cases.  TAP.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
. "$top_srcdir/tests/lib.sh"

. "$top_srcdir/tests/integ/fuzz-lib.sh"
plan 2

fuzz_build fuzz_toml libsystemd tests/fuzz/fuzz_toml.c src/toml.c \
    src/toml_scalar.c src/toml_tree.c src/util.c src/log.c

mkdir -p "$TAP_TMP/corpus"
cp "$FZ_S"/tests/data/toml/valid/*.toml "$TAP_TMP/corpus/" 2>/dev/null
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

fuzz_run fuzz_toml 20 "$TAP_TMP/corpus" -max_len=4096 \
    -dict="$TAP_TMP/toml.dict"
