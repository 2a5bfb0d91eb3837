#!/bin/sh
# pkg-negative.sh: every negative package vector (reason.json kind
# "package") is refused by `peipkg-build verify` with exit 1 and a
# message of the right failure class.  --allow-unsigned is given except
# where the case is about signing, so each case fails for its own reason.
. "$top_srcdir/tests/lib.sh"
PB="$top_builddir/peipkg-build"
KEY="$VECTORS/keys/test-ed25519.pub.pem"
[ -x "$PB" ] || skip_all "peipkg-build not built"
command -v python3 >/dev/null || skip_all "python3 missing"

# case | signing case (no --allow-unsigned) | keyword the message must hold
table='pkg-bad-name|n|name: package name "Hello_World"
pkg-bad-version|n|version: version "1.0": no -revision
pkg-description-control-char|n|description: description "tab\there": character U+0009
pkg-description-u0001|n|character U+0001
pkg-unsorted-deps|n|dependencies: not sorted by name ("zlib" before "libc"
pkg-duplicate-dep|n|dependencies: duplicate entry "libc"
pkg-dep-arch|n|dependency arch "x86_64": must be empty or "any"
pkg-bad-side-effect|n|side effect "systemd-reload": must be one of
pkg-duplicate-side-effect|n|side_effects: "ldconfig" appears more than once
pkg-bad-constraint|n|dependencies[0]: constraint "~> 1.2"
pkg-timestamp-offset|n|timestamp "2026-05-06T14:00:00+02:00" must be UTC
pkg-fractional-timestamp|y|the signature does not verify
pkg-non-nfc-path|n|not in Unicode NFC
pkg-control-char-path|n|control character
pkg-old-dir-order|n|payload entries are not sorted
pkg-tampered-content|n|hash mismatch
pkg-unsigned-policy-required|y|package is unsigned
pkg-signed-by-unknown-key|y|signing key 24f6ed6acbfe1009c030d7ca567c33ca4830911498236b5561a6c82abec5de28 is not in the trust set'

for d in "$VECTORS"/negative/*/; do
	d=${d%/}
	c=$(basename "$d")
	kind=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kind"])' \
	    "$d/reason.json")
	[ "$kind" = package ] || continue
	row=$(printf '%s\n' "$table" | grep "^$c|")
	if [ -z "$row" ]; then
		notok "$c: no expectation in the table"; continue; fi
	sig=$(printf '%s\n' "$row" | cut -d'|' -f2)
	want=$(printf '%s\n' "$row" | cut -d'|' -f3-)
	if [ "$sig" = y ]; then set -- --key "$KEY"
	else set -- --key "$KEY" --allow-unsigned; fi
	"$PB" verify "$d/package.peipkg" "$@" >"$TAP_TMP/out" 2>"$TAP_TMP/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok "$c: exit 1"; else notok "$c: exit 1"
		diag "exit $rc"; fi
	check "$c: nothing on stdout" test ! -s "$TAP_TMP/out"
	if grep -q "^peipkg-build: .*$(printf '%s' "$want" | sed 's/[][\.*^$]/\\&/g')" \
	    "$TAP_TMP/err"; then ok "$c: message says: $want"
	else notok "$c: message says: $want"; diag "$(cat "$TAP_TMP/err")"; fi
done
# The unsigned package passes format verification when allowed, and the
# package by the other key is refused even then (it is not trusted).
check "pkg-unsigned-policy-required: accepted with --allow-unsigned" \
    "$PB" verify "$VECTORS/negative/pkg-unsigned-policy-required/package.peipkg" \
    --allow-unsigned --key "$KEY"
check_fail "pkg-signed-by-unknown-key: refused with --allow-unsigned too" \
    "$PB" verify "$VECTORS/negative/pkg-signed-by-unknown-key/package.peipkg" \
    --allow-unsigned --key "$KEY"
done_testing
