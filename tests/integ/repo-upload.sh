#!/bin/sh
# repo-upload.sh: the ordered rclone upload (src/upload.c) through
# `peipkg-repo upload`, with the real rclone and a local directory as the
# remote.  A publish + upload makes the remote equal the state (diff -r);
# the calls come in the documented order (packages, keys, indexes,
# descriptor); an upload failing in the index phase (an rclone wrapper
# first on PATH) reports a clear error, leaves the remote on its previous,
# still consistent state with the new packages already there, and a
# retry completes; --sync removes remote files the state does not have;
# --timeout stops a hung rclone.  TAP.
. "$top_srcdir/tests/lib.sh"

REPO=${PEIPKG_REPO:-$top_builddir/peipkg-repo}
RCLONE=$(command -v rclone) || skip_all "rclone not installed (scripts/setup-deps)"
[ -x "$REPO" ] || { echo "1..1"; echo "not ok 1 - not built: $REPO"; exit 0; }
plan 24

T=$TAP_TMP
KEY=$VECTORS/keys/test-ed25519.seed
SEQ=$VECTORS/repos/multi-package
S=$T/S
R=$T/remote
export RCLONE_CONFIG="$T/rclone.conf"	# none: local paths need no config

"$REPO" init --name multi-repo --description "Multi-package publishes" \
    --timestamp 2026-06-01T00:00:00Z --sign-key "$KEY" --out "$S" >/dev/null
"$REPO" publish --in "$S" --out "$S" --new "$SEQ/01-publish-libfoo-set/new" \
    --timestamp 2026-06-02T00:00:00Z --sign-key "$KEY" >/dev/null
check "first state published" diff -r "$S" "$SEQ/01-publish-libfoo-set/state"

# A logging wrapper around the real rclone records the order of calls.
mkdir "$T/bin"
cat >"$T/bin/rclone" <<EOF
#!/bin/sh
echo "\$*" >>"$T/calls.log"
case "\$*" in
copyto*index/*) [ -e "$T/fail-index" ] && { echo "simulated outage" >&2; exit 5; } ;;
esac
[ -e "$T/hang" ] && exec sleep 30
exec "$RCLONE" "\$@"
EOF
chmod +x "$T/bin/rclone"

PATH="$T/bin:$PATH" "$REPO" upload --repo "$S" --remote "$R" >"$T/out" 2>"$T/err"
rc=$?
check "upload exits 0" test "$rc" -eq 0
check "upload prints what it did" grep -qx "uploaded $S to $R" "$T/out"
check "remote equals the state" diff -r "$S" "$R"
sed "s|$S|S|g; s|$R|R|g; s|--files-from-raw=[^ ]*|FILES|; s|--exclude=[^ ]* ||g" \
    "$T/calls.log" >"$T/order"
cat >"$T/order.want" <<'EOF'
copy S R
copy S/keys R/keys
copyto S/index/archive.json R/index/archive.json
copyto S/index/archive.json.sig R/index/archive.json.sig
copyto S/index/active.json R/index/active.json
copyto S/index/active.json.sig R/index/active.json.sig
copyto S/repo.json R/repo.json
copyto S/repo.json.sig R/repo.json.sig
EOF
check "rclone calls in order: packages, keys, indexes, descriptor" \
    diff "$T/order.want" "$T/order"
check "the packages phase leaves the metadata out" \
    grep -q -- "--exclude=/index/active.json.sig" "$T/calls.log"

# Second publish; the upload fails when it reaches the indexes.
cp "$R/index/archive.json" "$T/old-archive.json"
"$REPO" publish --in "$S" --out "$S" --new "$SEQ/02-publish-globs-and-hello/new" \
    --timestamp 2026-06-03T00:00:00Z --sign-key "$KEY" >/dev/null
check "second state published" diff -r "$S" "$SEQ/02-publish-globs-and-hello/state"
touch "$T/fail-index"
: >"$T/calls.log"
PATH="$T/bin:$PATH" "$REPO" upload --repo "$S" --remote "$R" >"$T/out" 2>"$T/err"
rc=$?
check "failed upload exits 1" test "$rc" -eq 1
check "error names the command, the status and rclone's words" \
    grep -q "rclone copyto index/archive.json: exit status 5: simulated outage" "$T/err"
check "error names the phase" grep -q "upload stopped in the indexes phase" "$T/err"
check "local state is still the published one" \
    diff -r "$S" "$SEQ/02-publish-globs-and-hello/state"
check "remote keeps the previous archive index" cmp "$T/old-archive.json" "$R/index/archive.json"
check "remote already has the new packages" \
    test -f "$R/p/hello/0.2-1/hello_0.2-1_noarch.peipkg" -a -f "$R/p/globs/0.9-3/manifest.json"
check "remote is a consistent (previous) state" "$REPO" verify --repo "$R" --mode both
check "no upload after the failed phase" sh -c "! grep -q '^copyto.*repo.json' '$T/calls.log'"
rm "$T/fail-index"
PATH="$T/bin:$PATH" "$REPO" upload --repo "$S" --remote "$R" >/dev/null 2>"$T/err"
check "retry exits 0" test $? -eq 0
check "after the retry the remote equals the state" diff -r "$S" "$R"

# Deletions converge only with --sync.
echo stray >"$R/stray.txt"
"$REPO" upload --repo "$S" --remote "$R" >/dev/null 2>&1
check "without --sync a remote-only file stays" test -f "$R/stray.txt"
"$REPO" upload --repo "$S" --remote "$R" --sync >/dev/null 2>"$T/err"
check "upload --sync exits 0" test $? -eq 0
check "with --sync the remote equals the state" diff -r "$S" "$R"

# A hung rclone is stopped by --timeout.
touch "$T/hang"
start=$(date +%s)
PATH="$T/bin:$PATH" "$REPO" upload --repo "$S" --remote "$R" --timeout 1 \
    >/dev/null 2>"$T/err"
rc=$?
end=$(date +%s)
rm "$T/hang"
check "timed-out upload exits 1" test "$rc" -eq 1
check "it is stopped within seconds" test $((end - start)) -le 10
check "error says it was killed" grep -q "killed by signal 15" "$T/err"
"$REPO" upload --repo "$S" --remote "$R" --rclone "$T/no-such-rclone" \
    >/dev/null 2>"$T/err"
check "a missing rclone is an error naming exit status 127" \
    grep -q "exit status 127" "$T/err"
