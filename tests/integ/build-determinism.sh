#!/bin/sh
# build-determinism.sh: the libfoo-multi recipe vector built twice, from
# two different source and output directories, with different TMPDIRs and
# zstd thread counts, must give byte-identical *compressed* packages
# (and a different --timestamp must not).
. "$top_srcdir/tests/lib.sh"

PB="$top_builddir/peipkg-build"
[ -x "$PB" ] || skip_all "peipkg-build is not built"
CASE="$VECTORS/recipes/libfoo-multi"
NOSBX=
if [ "$(id -u)" != 0 ] && ! unshare -U true 2>/dev/null; then
	NOSBX=--no-sandbox
	diag "user namespaces unavailable: building without the sandbox"
fi
W=$(mktemp -d /tmp/peipkg-det.XXXXXX) || exit 1
chmod 755 "$W"
trap 'rm -rf "$W" "$TAP_TMP"' EXIT

# build N WORKERS TIMESTAMP: one build into $W/out-N
build() {
	mkdir -p "$W/src-$1" "$W/tmp-$1"
	chmod 755 "$W/src-$1" "$W/tmp-$1"
	tar -xf "$CASE/source.tar" -C "$W/src-$1"
	(cd "$VECTORS" && env -i PATH=/usr/local/bin:/usr/bin:/bin \
	    TMPDIR="$W/tmp-$1" "$PB" build \
	    --recipe "$CASE/recipe/peipkg.toml" --source "$W/src-$1" \
	    --version 1.2.3-1 --source-ref git+https://example.org/libfoo.git@v1.2.3 \
	    --farm-id farm-a --timestamp "$3" --out "$W/out-$1" \
	    --sign-key keys/test-ed25519.seed --zstd-workers "$2" $NOSBX) \
	    >"$W/out-$1.log" 2>&1
}

build 1 1 2026-05-08T10:00:00Z && ok "first build" ||
    { notok "first build"; diag "$(cat "$W/out-1.log")"; }
build 2 3 2026-05-08T10:00:00Z && ok "second build" ||
    { notok "second build"; diag "$(cat "$W/out-2.log")"; }
build 3 1 2026-05-08T10:00:01Z && ok "build with another timestamp" ||
    { notok "build with another timestamp"; diag "$(cat "$W/out-3.log")"; }
n=0
for f in libfoo_1.2.3-1_x86_64.peipkg libfoo-dev_1.2.3-1_x86_64.peipkg \
    libfoo-doc_1.2.3-1_noarch.peipkg libfoo-tools_1.2.3-1_x86_64.peipkg; do
	if [ -s "$W/out-1/$f" ] && cmp -s "$W/out-1/$f" "$W/out-2/$f"; then
		ok "$f: byte-identical compressed package"
	else
		notok "$f: byte-identical compressed package"
	fi
	cmp -s "$W/out-1/$f" "$W/out-3/$f" || n=$((n + 1))
done
[ "$n" -eq 4 ] && ok "a different timestamp changes every package" ||
    notok "a different timestamp changes every package ($n of 4)"
[ "$(ls "$W/out-1")" = "$(ls "$W/out-2")" ] && ok "same file list" ||
    notok "same file list"
done_testing
