#!/bin/sh
# daemon-rollback.sh: a repository restored from an old backup.  The real
# daemon records the highest index_version it published in
# state_dir/index-version; when state_dir/repo is replaced by an older
# copy, the publisher logs "repository rolled back; publishing refused"
# and every publish fails with the reason (clients have seen higher
# index versions with other contents), nothing is written; removing
# index-version accepts the restored state and publishing resumes above
# it.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
farm_require python3 git
farm_bin
HWM=$F/state/index-version
cleanup() {
	for _p in $(pgrep -f "$TAP_TMP"); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT
iv() { python3 -c 'import json, sys
print(json.load(open(sys.argv[1] + "/index/archive.json"))["index_version"])' "$STATE"; }
once() { "$PM" --once --config "$CFG" --log-target stderr >"$TAP_TMP/$1.log" 2>&1; }

farm_fixture 0
once first
check "--once publishes the demo" test $? = 0
check "index-version holds the archive's index_version ($(iv))" \
    test "$(cat "$HWM")" = "$(iv)"
cp -a "$STATE" "$TAP_TMP/backup"
OLD=$(iv)

tag 1.3.0 >/dev/null 2>&1
once second
check "a new tag is published" archived greeter@1.3.0-1
HIGH=$(iv)
check "index-version follows ($HIGH)" test "$(cat "$HWM")" = "$HIGH"

# ---- the old backup comes back -----------------------------------------------
rm -rf "$STATE"
cp -a "$TAP_TMP/backup" "$STATE"
tag 1.4.0 >/dev/null 2>&1
once third
check "--once still exits 0" test $? = 0
check "the roll-back is reported at start" grep -q \
    "level=error msg=\"repository rolled back; publishing refused\" repo=$STATE index_version=$OLD published_before=$HIGH " \
    "$TAP_TMP/third.log"
check "the publish fails with the reason" grep -q \
    "msg=\"publish failed\" recipe=greeter version=1.4.0-1 err=\".*holds index_version $OLD, below $HIGH published before: the state was rolled back" \
    "$TAP_TMP/third.log"
check "nothing was written to the restored repository" sh -c \
    "test \$(python3 -c 'import json; print(json.load(open(\"$STATE/index/archive.json\"))[\"index_version\"])') = $OLD &&
     diff -r '$STATE' '$TAP_TMP/backup' >/dev/null"
check "index-version is unchanged" test "$(cat "$HWM")" = "$HIGH"

# ---- the operator accepts the restored state -----------------------------------
rm -f "$HWM"
once fourth
check "without index-version the restored state is accepted" \
    archived greeter@1.4.0-1
check "and index-version is written again" test "$(cat "$HWM")" = "$(iv)"
check "the repository verifies" "$top_builddir/peipkg-repo" verify \
    --repo "$STATE" --mode both

# ---- a file that is not a number is reported and ignored -------------------------
echo garbage >"$HWM"
# and a temporary file of a write the parent did not finish
echo 7 >"$F/state/.tmp.999.1"
tag 1.5.0 >/dev/null 2>&1
once fifth
check "an unfinished write's temporary file is removed at start" \
    test ! -e "$F/state/.tmp.999.1"
check "a bad index-version is reported" grep -q \
    'msg="cannot read the last index_version" err="not a number"' \
    "$TAP_TMP/fifth.log"
check "and publishing goes on" archived greeter@1.5.0-1
check "index-version is a number again" test "$(cat "$HWM")" = "$(iv)"
done_testing
