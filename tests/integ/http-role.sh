#!/bin/sh
# tests/integ/http-role.sh: the http role under a fake parent: every
# endpoint and status code, webhooks of the three forges, the Unix
# socket listener, the parent protocol.  The role must survive every
# case.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/http-common.sh"

T=$TAP_TMP
printf 'gh-secret' >"$T/gh"
printf 'gl-token' >"$T/gl"
printf 'gt-secret' >"$T/gt"
start_role -m max_pending=2 -s github="$T/gh" -s gitlab="$T/gl" \
    -s gitea="$T/gt" \
    -r gh,https://github.com/Example/Widget.git,1,1 \
    -r optout,https://github.com/example/optout,2,1 \
    -r hidden,https://github.com/example/hidden,7,0 \
    -r tie-old,https://github.com/example/tie,1,1 \
    -r tie-new,https://GITHUB.com/example/tie.git/,1,1 \
    -r gl,https://gitlab.com/group/proj,2,1 \
    -r gt,https://gitea.example/org/repo.git,4,1 ||
	{ echo "1..0 # SKIP the role did not start"; exit 1; }

# ---- the sandbox -----------------------------------------------------
st=/proc/$RPID/status
check "role runs as $RUSER" test "$(awk '/^Uid:/ { print $2 }' "$st")" = \
    "$(id -u "$RUSER")"
check "seccomp filter installed" grep -q '^Seccomp:[[:space:]]*2' "$st"
check "no_new_privs set" grep -q '^NoNewPrivs:[[:space:]]*1' "$st"
if [ "$(id -u)" = 0 ]; then
	check "chrooted to the empty directory" test \
	    "$(readlink /proc/$RPID/root)" = "$T/empty"
fi

# ---- plain endpoints -------------------------------------------------
check_code "GET /healthz 200" 200 "$URL/healthz"
check "healthz body is ok\\n" cmp -s "$T/body" - <<EOF
ok
EOF
check "healthz content type" grep -qx \
    'Content-Type: text/plain; charset=utf-8.' "$T/hdr"
check "nosniff header" grep -qx 'X-Content-Type-Options: nosniff.' "$T/hdr"
check_code "HEAD /healthz 200" 200 -I "$URL/healthz"
check "HEAD has the length and no body" grep -qx 'Content-Length: 3.' \
    "$T/hdr"
check_code "GET /status before the first push: 503" 503 "$URL/status"
check_code "GET /metrics before the first push: 503" 503 "$URL/metrics"

"$PYTHON" -c '
import json
print(json.dumps({"farm_id": "test-farm", "recipes": ["r%d" % i for i in
    range(600)], "builds_attempted": 3}, indent=2))' >"$T/status.json"
printf '# TYPE peipkg_builds_total counter\npeipkg_builds_total 3\n' \
    >"$T/metrics.txt"
echo "status $T/status.json" >"$FIFO"
echo "metrics $T/metrics.txt" >"$FIFO"
sleep 0.3
check_code "GET /status after the push: 200" 200 "$URL/status"
check "status body is the pushed document" cmp -s "$T/body" "$T/status.json"
check "status content type" grep -qx \
    'Content-Type: application/json; charset=utf-8.' "$T/hdr"
check_code "GET /metrics after the push: 200" 200 "$URL/metrics"
check "metrics body is the pushed document" cmp -s "$T/body" "$T/metrics.txt"
check "metrics content type" grep -qx \
    'Content-Type: text/plain; version=0.0.4; charset=utf-8.' "$T/hdr"
check_code "GET /status?x=1 ignores the query" 200 "$URL/status?x=1"
check_code "POST /status: 405" 405 -X POST -d x "$URL/status"
check "405 names GET and HEAD" grep -qx 'Allow: GET, HEAD.' "$T/hdr"
check_code "DELETE /metrics: 405" 405 -X DELETE "$URL/metrics"
check_code "GET /healthz with a body: 413" 413 -X GET -d x "$URL/healthz"
check_code "unknown path: 404" 404 "$URL/nope"
check "404 body" grep -qx '404 page not found' "$T/body"
check_code "//status: 404" 404 --path-as-is "$URL//status"
check_code "/status/../healthz: 404" 404 --path-as-is \
    "$URL/status/../healthz"
check_code "GET /webhooks/github: 405" 405 "$URL/webhooks/github"
check "405 names POST" grep -qx 'Allow: POST.' "$T/hdr"
check_code "HTTP/1.0 request" 200 -0 "$URL/healthz"
check_code "Unix socket: /healthz" 200 --unix-socket "$SOCK" http://x/healthz
check_code "Unix socket: /status" 200 --unix-socket "$SOCK" http://x/status
check "Unix socket is mode 0660" test "$(stat -c %a "$SOCK")" = 660

# ---- GitHub ----------------------------------------------------------
# gh_post NAME JSON [curl args]: sign JSON with the GitHub secret.
gh_post() {
	printf '%s' "$2" >"$T/$1.json"
	_sig=$(hmac gh-secret "$T/$1.json")
	_f=$1
	shift 2
	req -X POST -H "X-Hub-Signature-256: sha256=$_sig" \
	    --data-binary @"$T/$_f.json" "$@" "$URL/webhooks/github"
}
repo() { printf '{"repository":{"html_url":"%s","clone_url":"%s"}}' "$1" "$2"; }

check_code "unsigned github webhook: 401" 401 -X POST -d '{}' \
    "$URL/webhooks/github"
check "401 body" grep -qx 'invalid signature' "$T/body"
check "parent told: bad signature" wait_line '^REJECTED forge=0 reason=1$' 2
check "signature warning logged" wait_line \
    '^LOG warn webhook signature invalid remote=127.0.0.1:[0-9]+ forge=github' 2
check_code "sha1 signature: 401" 401 -X POST -d '{}' \
    -H "X-Hub-Signature: sha1=$(printf %040d 0)" "$URL/webhooks/github"
check_code "wrong signature: 401" 401 -X POST -d '{}' \
    -H "X-Hub-Signature-256: sha256=$(printf %064d 0)" "$URL/webhooks/github"
n=$(count_lines 'webhook signature invalid')
for i in 1 2 3 4 5; do req -X POST -d '{}' "$URL/webhooks/github" >/dev/null; done
sleep 0.2
check "signature warnings are rate-limited" test \
    "$(count_lines 'webhook signature invalid')" -le $((n + 1))

check "unknown repo: 200" test "$(gh_post u "$(repo https://github.com/nobody/else '')")" = 200
check "unknown repo logged" wait_line \
    '^LOG info webhook for unrecognised or opted-out repo html_url=https://github.com/nobody/else' 2
nw=$(count_lines WEBHOOK)
check "known repo: 200" test "$(gh_post k "$(repo https://github.com/example/widget '')" -H 'X-GitHub-Delivery: gh-1')" = 200
check "parent asked with recipe, forge and delivery" grep -qx \
    'WEBHOOK id=[0-9]* forge=0 recipe=gh delivery=gh-1' "$OUT"
check "acceptance logged" grep -qx \
    'LOG info webhook accepted, triggering immediate poll recipe=gh forge=github' "$OUT"
check "repeated delivery: 200" test "$(gh_post k "$(repo https://github.com/example/widget '')" -H 'X-GitHub-Delivery: gh-1')" = 200
check "repeated delivery not forwarded" test "$(count_lines WEBHOOK)" = $((nw + 1))
check "repeated delivery logged" grep -q \
    'webhook delivery already seen recipe=gh delivery=gh-1' "$OUT"
check "parent told: duplicate" wait_line '^REJECTED forge=0 reason=4$' 2
check "opted-out repo: 200" test "$(gh_post o "$(repo https://github.com/example/optout '')")" = 200
check "unwatched repo: 200" test "$(gh_post h "$(repo https://github.com/example/hidden '')")" = 200
check "opted-out and unwatched not forwarded" test \
    "$(count_lines WEBHOOK)" = $((nw + 1))
check "opted-out logged" grep -q \
    'unrecognised or opted-out repo html_url=https://github.com/example/optout' "$OUT"
gh_post t "$(repo https://github.com/example/tie '')" >/dev/null
check "a tie names the first opted-in recipe (the parent polls all)" \
    wait_line 'recipe=tie-old delivery=$' 2
gh_post c '{"REPOSITORY":{"Html_Url":"","clone_url":"https://github.com/example/widget.git"}}' \
    -H 'X-GitHub-Delivery: gh-2' >/dev/null
check "case-insensitive members, empty html_url falls to clone_url" \
    wait_line 'recipe=gh delivery=gh-2$' 2
check "malformed JSON: 400" test "$(gh_post m '{"repository":')" = 400
check "400 body" grep -qx 'parse json' "$T/body"
check "parent told: bad request" wait_line '^REJECTED forge=0 reason=2$' 2
check "wrong JSON type: 400" test "$(gh_post w '{"repository":"x"}')" = 400

head -c 2097152 /dev/zero >"$T/big"
check_code "2 MiB by Content-Length: 413" 413 -X POST -H 'Expect:' \
    -H "X-Hub-Signature-256: sha256=$(printf %064d 0)" \
    --data-binary @"$T/big" "$URL/webhooks/github"
check "413 closes the connection" grep -qx 'Connection: close.' "$T/hdr"
check "parent told: too large" wait_line '^REJECTED forge=0 reason=3$' 2
check_code "2 MiB with Expect: 100-continue: 413" 413 -X POST \
    -H 'Expect: 100-continue' \
    -H "X-Hub-Signature-256: sha256=$(printf %064d 0)" \
    --data-binary @"$T/big" "$URL/webhooks/github"
check_code "2 MiB chunked stream: 413" 413 -X POST \
    -H 'Transfer-Encoding: chunked' \
    -H "X-Hub-Signature-256: sha256=$(printf %064d 0)" \
    --data-binary @"$T/big" "$URL/webhooks/github"
check "small chunked body accepted" test "$(gh_post ch "$(repo https://github.com/example/widget '')" -H 'Transfer-Encoding: chunked' -H 'X-GitHub-Delivery: gh-3')" = 200
check "chunked webhook forwarded" wait_line 'recipe=gh delivery=gh-3$' 2
check "Expect: 100-continue accepted" test "$(gh_post ex "$(repo https://github.com/example/widget '')" -H 'Expect: 100-continue' -H 'X-GitHub-Delivery: gh-4')" = 200
check "100-continue webhook forwarded" wait_line 'recipe=gh delivery=gh-4$' 2

echo "ack reject" >"$FIFO"
sleep 0.1
na=$(count_lines 'webhook accepted')
check "parent refusal: 200" test "$(gh_post r "$(repo https://github.com/example/widget '')" -H 'X-GitHub-Delivery: gh-5')" = 200
check "parent refusal: not logged as accepted" test \
    "$(count_lines 'webhook accepted')" = "$na"
check "refused delivery can be redelivered" test "$(gh_post r "$(repo https://github.com/example/widget '')" -H 'X-GitHub-Delivery: gh-5')" = 200
check "redelivery forwarded again" test "$(grep -c '^WEBHOOK.*delivery=gh-5$' "$OUT")" = 2

# max_pending=2: two waiting, the third gets 503
echo "ack hold" >"$FIFO"
sleep 0.1
nw=$(count_lines WEBHOOK)
(gh_post p1 "$(repo https://github.com/example/widget '')" >"$T/p1.code") &
p1=$!
(gh_post p2 "$(repo https://github.com/example/widget '')" >"$T/p2.code") &
p2=$!
wait_line "recipe=gh delivery=\$" 3
sleep 0.3
check "two requests wait for the parent" test "$(count_lines WEBHOOK)" = $((nw + 2))
check "third while two wait: 503" test "$(gh_post p3 "$(repo https://github.com/example/widget '')")" = 503
check "healthz answers while webhooks wait" healthz_ok
echo release >"$FIFO"
echo "ack accept" >"$FIFO"
wait $p1 $p2
check "held requests answered 200 once released" test \
    "$(cat "$T/p1.code" "$T/p2.code")" = 200200

# ---- GitLab ----------------------------------------------------------
glj='{"object_kind":"tag_push","project":{"web_url":"https://gitlab.com/group/proj","git_http_url":"https://gitlab.com/group/proj.git"}}'
printf '%s' "$glj" >"$T/gl.json"
check_code "gitlab without token: 401" 401 -X POST \
    --data-binary @"$T/gl.json" "$URL/webhooks/gitlab"
check_code "gitlab wrong token: 401" 401 -X POST -H 'X-Gitlab-Token: gl-tokex' \
    --data-binary @"$T/gl.json" "$URL/webhooks/gitlab"
check "parent told: gitlab bad token" wait_line '^REJECTED forge=1 reason=1$' 2
check_code "gitlab token: 200" 200 -X POST -H 'X-Gitlab-Token: gl-token' \
    -H 'Idempotency-Key: gl-1' --data-binary @"$T/gl.json" \
    "$URL/webhooks/gitlab"
check "gitlab forwarded" wait_line '^WEBHOOK id=[0-9]+ forge=1 recipe=gl delivery=gl-1$' 2
req -X POST -H 'X-Gitlab-Token: gl-token' -H 'Idempotency-Key: gl-1' \
    --data-binary @"$T/gl.json" "$URL/webhooks/gitlab" >/dev/null
check "gitlab repeated delivery not forwarded" test \
    "$(grep -c '^WEBHOOK.*delivery=gl-1$' "$OUT")" = 1
check_code "gitlab malformed JSON: 400" 400 -X POST \
    -H 'X-Gitlab-Token: gl-token' -d '{' "$URL/webhooks/gitlab"

# ---- Gitea / Forgejo -------------------------------------------------
printf '{"repository":{"html_url":"https://gitea.example/org/repo","clone_url":"x"}}' \
    >"$T/gt.json"
gts=$(hmac gt-secret "$T/gt.json")
check_code "gitea signature: 200" 200 -X POST -H "X-Gitea-Signature: $gts" \
    -H 'X-Gitea-Delivery: gt-1' --data-binary @"$T/gt.json" \
    "$URL/webhooks/gitea"
check "gitea forwarded" wait_line '^WEBHOOK id=[0-9]+ forge=2 recipe=gt delivery=gt-1$' 2
check_code "forgejo signature: 200" 200 -X POST \
    -H "X-Forgejo-Signature: $gts" -H "X-Gitea-Signature: $gts" \
    -H 'X-Forgejo-Delivery: gt-2' --data-binary @"$T/gt.json" \
    "$URL/webhooks/gitea"
check "forgejo forwarded" wait_line 'forge=2 recipe=gt delivery=gt-2$' 2
check_code "gitea signature with sha256= prefix: 401" 401 -X POST \
    -H "X-Gitea-Signature: sha256=$gts" --data-binary @"$T/gt.json" \
    "$URL/webhooks/gitea"
check_code "gitea and forgejo signatures differ: 401" 401 -X POST \
    -H "X-Gitea-Signature: $gts" -H "X-Forgejo-Signature: $(printf %064d 0)" \
    --data-binary @"$T/gt.json" "$URL/webhooks/gitea"
check_code "gitea signature of another body: 401" 401 -X POST \
    -H "X-Gitea-Signature: $gts" -d '{}' "$URL/webhooks/gitea"
echo "secret 2 -" >"$FIFO"
sleep 0.2
check_code "gitea without a configured secret: 401 (fail closed)" 401 \
    -X POST -H "X-Gitea-Signature: $gts" --data-binary @"$T/gt.json" \
    "$URL/webhooks/gitea"
echo "secret 2 $T/gt" >"$FIFO"
sleep 0.2
check_code "gitea secret restored: 200" 200 -X POST \
    -H "X-Gitea-Signature: $gts" --data-binary @"$T/gt.json" \
    "$URL/webhooks/gitea"
check_code "unknown forge: 404" 404 -X POST -d '{}' "$URL/webhooks/bitbucket"

# ---- the parent protocol ---------------------------------------------
echo reload >"$FIFO"
sleep 0.2
check "after a table reload: 200" test "$(gh_post k "$(repo https://github.com/example/widget '')" -H 'X-GitHub-Delivery: gh-9')" = 200
check "after a table reload: forwarded" wait_line 'delivery=gh-9$' 2
echo ping >"$FIFO"
check "PM_PING answered" wait_line '^PONG 4242$' 2
check "role alive after every case" role_alive
check "healthz after every case" healthz_ok
check "no role error logged" test "$(grep -c '^LOG error' "$OUT")" = 0
stop_role
check "PM_SHUTDOWN: the role exits 0" grep -qx 'EXIT exited 0' "$OUT"

start_role -s github="$T/gh" || exit 1
echo garbage >"$FIFO"
check "a protocol error from the parent ends the role" wait_line \
    '^EXIT exited 1$' 5
check "and the role says why" grep -q 'parent channel failed' "$OUT.err"
wait "$FPID" 2>/dev/null
done_testing
