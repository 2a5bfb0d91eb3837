#!/bin/sh
# msg-fuzz.sh: build the libFuzzer harness for the IPC decoder (src/msg.c)
# with ASan and UBSan straight from the sources and run it for a bounded
# time from a few seed records.  TAP.
. "$top_srcdir/tests/lib.sh"

command -v clang >/dev/null 2>&1 || skip_all "clang not installed"
plan 2

S=$top_srcdir
B=$top_builddir
# config.h lives in the build tree (VPATH builds) or the source tree.
inc="-I$S/src"
[ -f "$B/config.h" ] && inc="-I$B $inc"
[ -f "$S/config.h" ] && inc="$inc -I$S"
dep_cflags=$(pkg-config --cflags libevent libsystemd 2>/dev/null)
dep_libs=$(pkg-config --libs libevent libsystemd 2>/dev/null ||
	echo -levent -lsystemd)

# shellcheck disable=SC2086
check "harness builds with -fsanitize=fuzzer,address,undefined" \
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $inc $dep_cflags \
	-o "$TAP_TMP/fuzz_msg" "$S/tests/fuzz/fuzz_msg.c" \
	"$S/src/msg.c" "$S/src/util.c" "$S/src/log.c" $dep_libs

# Seeds: byte 0 = control (bit 2 repairs the header), then a 16-byte
# header (type first) and a payload for each sample handler.
c=$TAP_TMP/corpus
mkdir -p "$c"
hdr() { printf "$1"'\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000'; }
{ printf '\004'; hdr '\001'; printf '\001\002\000\003\000\000\000'
  printf '\004\000\000\000\000\000\000\000\005\000\000\000\000\000\000\000'; } >"$c/ints"
{ printf '\005'; hdr '\002'; printf '\003\000\000\000abc\002\000\000\000xy'; } >"$c/strs"
{ printf '\004'; hdr '\003'; printf '%032d' 0; printf '\000\000\000\000'; } >"$c/once"
{ printf '\004'; hdr '\004'; printf '\000\001\000\000\000\001\002\000\000\000hi'
  printf '\002\001\000\000\000z\00312345678'; } >"$c/tagged"
{ printf '\000'; hdr '\001'; } >"$c/raw"

if [ -x "$TAP_TMP/fuzz_msg" ]; then
	check "fuzz_msg runs 20 s without a crash, leak or error" \
		"$TAP_TMP/fuzz_msg" -max_total_time=20 -rss_limit_mb=512 \
		-timeout=10 -max_len=65600 -artifact_prefix="$TAP_TMP/" "$c"
else
	notok "fuzz_msg runs (harness did not build)"
fi
