#!/bin/sh
# binary-sign.sh: embedded binary signatures (BEHAVIOUR.md §3.5) end to
# end.  A C program compiled here is installed by a recipe's build.sh and
# signed through a [[sign]] stanza with --binary-sign-key NAME=PATH; the
# packaged ELF must carry a .peios.sig section whose signature we check
# independently (zero the 65 bytes, SHA-256 the file, byte 0x01, then
# `openssl pkeyutl -verify -rawin` with the public key), and it must still
# run.  Then the refusals: signing twice, the key not supplied (fail
# closed), a [[sign]] path that is a symlink; and `peipkg-build
# binary-sign --in F --key K` on its own.
. "$top_srcdir/tests/lib.sh"

PB="$top_builddir/peipkg-build"
[ -x "$PB" ] || skip_all "peipkg-build is not built"
for t in gcc readelf openssl zstd; do
	command -v $t >/dev/null 2>&1 || skip_all "no $t"
done
NOSBX=
if [ "$(id -u)" != 0 ] && ! unshare -U true 2>/dev/null; then
	NOSBX=--no-sandbox
	diag "user namespaces unavailable: building without the sandbox"
fi
case $(uname -m) in
x86_64) ARCH=x86_64 ;;
aarch64|arm64) ARCH=aarch64 ;;
*) skip_all "no Peios architecture for $(uname -m)" ;;
esac

W=$(mktemp -d /tmp/peipkg-bsign.XXXXXX) || exit 1
chmod 755 "$W"
trap 'rm -rf "$W" "$TAP_TMP"' EXIT
mkdir "$W/src" "$W/recipe" "$W/linkrecipe"
cat >"$W/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("hello from a signed binary"); return 0; }
EOF
gcc -O1 -o "$W/src/hello" "$W/hello.c" || skip_all "gcc cannot link"
chmod -R a+rX "$W/src"
openssl genpkey -algorithm ed25519 -out "$W/tcb.pem" 2>/dev/null &&
    openssl pkey -in "$W/tcb.pem" -pubout -out "$W/tcb.pub" 2>/dev/null ||
	skip_all "openssl cannot make an Ed25519 key"
openssl genpkey -algorithm ed25519 -out "$W/other.pem" 2>/dev/null

cat >"$W/recipe/peipkg.toml" <<EOF
[meta]
license = "MIT"
build_script = "build.sh"

[[package]]
name = "signed-hello"
architecture = "$ARCH"
description = "A signed test binary"
files = ["usr/bin/*"]

[[sign]]
path = "usr/bin/hello"
key = "tcb"
EOF
cat >"$W/recipe/build.sh" <<'EOF'
set -eu
mkdir -p "$DESTDIR/usr/bin"
cp "$SOURCE_DIR/hello" "$DESTDIR/usr/bin/hello"
echo "installed hello"
EOF
sed 's|^path = .*|path = "./usr//bin/hello"|' "$W/recipe/peipkg.toml" \
    >"$W/linkrecipe/peipkg.toml"
cat >"$W/linkrecipe/build.sh" <<'EOF'
set -eu
mkdir -p "$DESTDIR/usr/bin"
cp "$SOURCE_DIR/hello" "$DESTDIR/usr/bin/real-hello"
ln -s real-hello "$DESTDIR/usr/bin/hello"
EOF

# build RECIPE OUT [flags...]: stdout/stderr in OUT.stdout, OUT.stderr
build() {
	_r=$1 _o=$2
	shift 2
	env -i PATH=/usr/local/bin:/usr/bin:/bin "$PB" build \
	    --recipe "$W/$_r/peipkg.toml" --source "$W/src" --version 1.0-1 \
	    --source-ref test://signed-hello --farm-id bsign \
	    --timestamp 2026-05-01T00:00:00Z --out "$_o" $NOSBX "$@" \
	    >"$_o.stdout" 2>"$_o.stderr"
}

# sig_offset FILE: offset (decimal) of the .peios.sig section, or nothing.
sig_offset() {
	readelf -SW "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9]*\] *//p' |
	    awk '$1 == ".peios.sig" { print $4 }' | while read -r h; do
		printf '%d\n' "0x$h"; done
}

# verify FILE PUBKEY: the independent check of the embedded signature.
verify() {
	_off=$(sig_offset "$1")
	[ -n "$_off" ] || return 1
	cp "$1" "$W/zeroed"
	dd if=/dev/zero of="$W/zeroed" bs=1 seek="$_off" count=65 \
	    conv=notrunc 2>/dev/null
	openssl dgst -sha256 -binary "$W/zeroed" >"$W/digest"
	_v=$(dd if="$1" bs=1 skip="$_off" count=1 2>/dev/null | od -An -tx1 |
	    tr -d ' \n')
	[ "$_v" = 01 ] || return 1
	dd if="$1" of="$W/sig" bs=1 skip=$((_off + 1)) count=64 2>/dev/null
	openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$W/digest" \
	    -sigfile "$W/sig" >/dev/null 2>&1
}

# --- a build signs the [[sign]] path ---------------------------------------
OUT="$W/out"
build recipe "$OUT" --binary-sign-key "tcb=$W/tcb.pem"
rc=$?
PKG="$OUT/signed-hello_1.0-1_$ARCH.peipkg"
if [ $rc -eq 0 ] && [ -f "$PKG" ]; then ok "build with --binary-sign-key"
else notok "build with --binary-sign-key"; diag "$(cat "$OUT.stderr")"; fi
printf 'installed hello\n%s\n' "$PKG" | cmp -s - "$OUT.stdout" &&
    ok "stdout: script output then the package path" ||
    { notok "stdout"; diag "$(cat "$OUT.stdout")"; }
mkdir "$W/x"
zstd -qdc "$PKG" | tar -xf - -C "$W/x" 2>/dev/null
BIN="$W/x/usr/bin/hello"
if readelf -SW "$BIN" | grep -q ' \.peios\.sig '; then
	ok "packaged ELF has a .peios.sig section"
else
	notok "packaged ELF has a .peios.sig section"
fi
[ "$(sig_offset "$BIN")" = "$(stat -c %s "$W/src/hello")" ] &&
    ok "the blob is appended right after the original bytes" ||
    notok "the blob is appended right after the original bytes"
cmp -s -n 40 "$BIN" "$W/src/hello" && ok "ELF header start unchanged" ||
    notok "ELF header start unchanged"
verify "$BIN" "$W/tcb.pub" && ok "signature verifies (openssl, blob zeroed)" ||
    notok "signature verifies (openssl, blob zeroed)"
openssl pkey -in "$W/other.pem" -pubout -out "$W/other.pub" 2>/dev/null
verify "$BIN" "$W/other.pub" && notok "another key does not verify" ||
    ok "another key does not verify"
cp "$BIN" "$W/tampered"
printf 'X' | dd of="$W/tampered" bs=1 seek=200 conv=notrunc 2>/dev/null
verify "$W/tampered" "$W/tcb.pub" && notok "a changed byte fails to verify" ||
    ok "a changed byte fails to verify"
chmod 755 "$BIN"
[ "$("$BIN")" = "hello from a signed binary" ] &&
    ok "the signed binary still runs" || notok "the signed binary still runs"

# --- signing twice, no key, wrong key, symlink ------------------------------
"$PB" binary-sign --in "$BIN" --key "$W/tcb.pem" 2>"$W/twice.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'already has a .peios.sig section' "$W/twice.err" &&
    ok "signing twice is refused" ||
    { notok "signing twice is refused (rc $rc)"; diag "$(cat "$W/twice.err")"; }
verify "$BIN" "$W/tcb.pub" && ok "the refused file is unchanged" ||
    notok "the refused file is unchanged"

for how in none wrong; do
	o="$W/out-$how"
	if [ $how = none ]; then build recipe "$o"; else
		build recipe "$o" --binary-sign-key "other=$W/other.pem"; fi
	rc=$?
	if [ $rc -eq 1 ] && grep -qF 'sign[0] usr/bin/hello: no signing key named "tcb" supplied (need --binary-sign-key tcb=PATH)' "$o.stderr"; then
		ok "key not supplied ($how): fails closed naming path and key"
	else
		notok "key not supplied ($how): fails closed (rc $rc)"
		diag "$(cat "$o.stderr")"
	fi
	[ ! -s "$o.stdout" ] && ok "key not supplied ($how): build.sh never ran" ||
	    notok "key not supplied ($how): build.sh never ran"
	[ -z "$(ls -A "$o" 2>/dev/null)" ] &&
	    ok "key not supplied ($how): no package" ||
	    notok "key not supplied ($how): no package"
done

o="$W/out-link"
build linkrecipe "$o" --binary-sign-key "tcb=$W/tcb.pem"
rc=$?
[ $rc -eq 1 ] && grep -q 'sign\[0\] usr/bin/hello: is a symlink' "$o.stderr" &&
    ok "a [[sign]] path that is a symlink is refused" ||
    { notok "a [[sign]] symlink is refused (rc $rc)"; diag "$(cat "$o.stderr")"; }
[ -z "$(ls -A "$o" 2>/dev/null | grep peipkg)" ] &&
    ok "symlink case: no package" || notok "symlink case: no package"

# --- binary-sign on its own ---------------------------------------------------
cp "$W/src/hello" "$W/direct"
chmod 750 "$W/direct"
"$PB" binary-sign --in "$W/direct" --key "$W/tcb.pem" >"$W/d.out" 2>"$W/d.err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$W/d.out" ] && ok "binary-sign --in --key: exit 0" ||
    { notok "binary-sign: exit 0 (rc $rc)"; diag "$(cat "$W/d.err")"; }
verify "$W/direct" "$W/tcb.pub" && ok "binary-sign: signature verifies" ||
    notok "binary-sign: signature verifies"
[ "$(stat -c %a "$W/direct")" = 750 ] && ok "binary-sign keeps the mode" ||
    notok "binary-sign keeps the mode ($(stat -c %a "$W/direct"))"
[ "$("$W/direct")" = "hello from a signed binary" ] &&
    ok "binary-sign: still runs" || notok "binary-sign: still runs"
[ -z "$(ls "$W" | grep peios-sig.tmp)" ] && ok "no temporary file left" ||
    notok "no temporary file left"
cp "$VECTORS/keys/test-ed25519.seed" "$W/seed"
cp "$W/src/hello" "$W/direct2"
"$PB" binary-sign --in "$W/direct2" --key "$W/seed" 2>"$W/d2.err" &&
    [ -n "$(sig_offset "$W/direct2")" ] &&
    ok "binary-sign with a raw 32-byte seed key" ||
    { notok "binary-sign with a raw seed key"; diag "$(cat "$W/d2.err")"; }
printf 'not an elf at all\n' >"$W/text"
"$PB" binary-sign --in "$W/text" --key "$W/tcb.pem" 2>"$W/t.err"
rc=$?
[ $rc -eq 1 ] && grep -qF "peipkg-build: sign $W/text: not an ELF file" "$W/t.err" &&
    ok "binary-sign refuses a non-ELF file" ||
    { notok "binary-sign refuses a non-ELF file"; diag "$(cat "$W/t.err")"; }
"$PB" binary-sign --key "$W/tcb.pem" 2>"$W/r.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'peipkg-build: --in is required' "$W/r.err" &&
    ok "binary-sign: --in is required" || notok "binary-sign: --in is required"
"$PB" binary-sign --in "$W/direct" --key "$W/missing.pem" 2>"$W/k.err"
[ $? -eq 1 ] && grep -q 'peipkg-build: --key: ' "$W/k.err" &&
    ok "binary-sign: a missing key file is an error" ||
    notok "binary-sign: a missing key file is an error"
done_testing
