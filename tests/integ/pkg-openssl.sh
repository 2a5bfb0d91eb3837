#!/bin/sh
# pkg-openssl.sh: the inline signature of a package made by
# `peipkg-build pack` checks out with the openssl CLI alone: Ed25519 over
# the SHA-256 of every tar byte before the signature's header.
. "$top_srcdir/tests/lib.sh"
PB="$top_builddir/peipkg-build"
KEYS="$VECTORS/keys"
d="$VECTORS/packages/x86_64-triplet"
w="$TAP_TMP"
[ -x "$PB" ] || skip_all "peipkg-build not built"
for t in zstd openssl python3; do
	command -v $t >/dev/null || skip_all "$t missing"
done
openssl pkeyutl -help 2>&1 | grep -q -- -rawin ||
    skip_all "openssl pkeyutl has no -rawin"

mkdir -p "$w/st"
tar -xf "$d/input.tar" -C "$w/st"
check "pack (signed with the PEM key)" "$PB" pack --manifest \
    "$d/manifest-input.json" --staged "$w/st" --out "$w/p.peipkg" \
    --sign-key "$KEYS/test-ed25519.pem" --zstd-level 5
zstd -dq -c "$w/p.peipkg" >"$w/p.tar"
# Offset of the .peipkg/signature header and the envelope's signature.
python3 - "$w/p.tar" "$w" <<'PY'
import base64, json, sys, tarfile
t = tarfile.open(sys.argv[1])
m = [x for x in t.getmembers() if x.name == ".peipkg/signature"][0]
open(sys.argv[2] + "/offset", "w").write(str(m.offset))
env = json.loads(t.extractfile(m).read())
open(sys.argv[2] + "/sig.bin", "wb").write(base64.b64decode(env["signature"] + "=="))
open(sys.argv[2] + "/fpr", "w").write(env["key_fingerprint"])
PY
off=$(cat "$w/offset")
check "signature entry found after the payload" test "$off" -gt 2048
check "signature is 64 bytes" test "$(wc -c <"$w/sig.bin")" -eq 64
check "fingerprint is the test key's" test "$(cat "$w/fpr")" = \
    "$(cat "$KEYS/fingerprint.txt")"
head -c "$off" "$w/p.tar" >"$w/signed.bin"
openssl dgst -sha256 -binary "$w/signed.bin" >"$w/digest.bin"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signed_digest_sha256"])' "$d/case.json")
check "signed digest matches the vector" test \
    "$(od -An -tx1 "$w/digest.bin" | tr -d ' \n')" = "$want"
verify() {
	openssl pkeyutl -verify -pubin -inkey "$KEYS/test-ed25519.pub.pem" \
	    -rawin -in "$1" -sigfile "$2" 2>&1
}
out=$(verify "$w/digest.bin" "$w/sig.bin"); rc=$?
if [ $rc -eq 0 ] && [ "$out" = "Signature Verified Successfully" ]; then
	ok "openssl: Signature Verified Successfully"
else notok "openssl: Signature Verified Successfully"; diag "$out"; fi
# One flipped byte in the signed range: openssl must refuse.
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[1000] ^= 1
open(sys.argv[2], "wb").write(b)' "$w/signed.bin" "$w/signed2.bin"
openssl dgst -sha256 -binary "$w/signed2.bin" >"$w/digest2.bin"
out=$(verify "$w/digest2.bin" "$w/sig.bin"); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'Signature Verification Failure'
then ok "openssl: a flipped byte fails"; else notok "openssl: a flipped byte fails"
	diag "$out"; fi
# A flipped signature byte too.
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[10] ^= 0x40
open(sys.argv[2], "wb").write(b)' "$w/sig.bin" "$w/sig2.bin"
out=$(verify "$w/digest.bin" "$w/sig2.bin"); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'Signature Verification Failure'
then ok "openssl: a flipped signature byte fails"
else notok "openssl: a flipped signature byte fails"; diag "$out"; fi
done_testing
