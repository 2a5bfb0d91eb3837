#!/bin/sh
# http-fuzz.sh: build the libFuzzer harness for the http role's parsers
# (request heads, chunked bodies, webhook JSON: tests/fuzz/fuzz_http.c)
# with ASan and UBSan straight from the sources and run it for a bounded
# time from seed requests and payloads.  TAP.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/fuzz-lib.sh"
plan 2

fuzz_build fuzz_http "yajl libcrypto libsystemd" tests/fuzz/fuzz_http.c \
    src/httpmsg.c src/webhook.c src/crypto.c src/util.c src/log.c

# Seeds: byte 0 = target (0 head, 1 chunked, 2/5/8 JSON for each forge),
# byte 1 = piece size - 1.
c=$TAP_TMP/corpus
mkdir -p "$c"
printf '\000\007POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Hub-Signature-256: sha256=00\r\nExpect: 100-continue\r\n\r\n' >"$c/head"
printf '\000\377GET /status?x=1 HTTP/1.0\r\nConnection: close\r\n\r\n' >"$c/head10"
printf '\001\003a;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n' >"$c/chunked"
printf '\002\017{"repository":{"html_url":"https://github.com/a/b","clone_url":"https://github.com/a/b.git"},"x":[1,2.5e3,null,true]}' >"$c/github"
printf '\005\001{"project":{"web_url":"https://gitlab.com/a/b","git_http_url":"https://gitlab.com/a/b.git"}}' >"$c/gitlab"
printf '\010\000{"REPOSITORY":{"Html_Url":"https://codeberg.org/a/b"},"s":"\\u00e9\\ud83d\\ude00"}' >"$c/gitea"

fuzz_run fuzz_http 20 "$c" -max_len=16384
