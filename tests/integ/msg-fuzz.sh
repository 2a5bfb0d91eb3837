#!/bin/sh
# msg-fuzz.sh: build the libFuzzer harness for the IPC decoder (src/msg.c)
# with ASan and UBSan straight from the sources and run it for a bounded
# time from a few seed records.  TAP.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/fuzz-lib.sh"
plan 2

fuzz_build fuzz_msg "libevent libsystemd" tests/fuzz/fuzz_msg.c src/msg.c \
    src/util.c src/log.c

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

fuzz_run fuzz_msg 20 "$c" -max_len=65600
