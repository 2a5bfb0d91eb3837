#!/bin/sh
# pack-vectors.sh: `peipkg-build pack` reproduces every golden package
# vector byte for byte (decompressed tar and each metadata member), the
# result verifies, and the CLI conventions and refusals of pack hold.
. "$top_srcdir/tests/lib.sh"
PB="$top_builddir/peipkg-build"
KEYS="$VECTORS/keys"
[ -x "$PB" ] || skip_all "peipkg-build not built"
command -v zstd >/dev/null || skip_all "zstd CLI missing"
command -v python3 >/dev/null || skip_all "python3 missing"

# member TAR NAME OUT: extract one member's exact bytes
member() { tar -xOf "$1" "$2" >"$3" 2>/dev/null; }

for d in "$VECTORS"/packages/*/; do
	c=$(basename "$d")
	w="$TAP_TMP/$c"
	mkdir -p "$w/staged"
	tar -xf "$d/input.tar" -C "$w/staged"
	set -- --manifest "$d/manifest-input.json" --staged "$w/staged" \
	    --out "$w/out.peipkg"
	for x in $(python3 -c 'import json,sys
print(" ".join(json.load(open(sys.argv[1]))["explicit_dirs"]))' "$d/case.json"); do
		set -- "$@" --dir "$x"
	done
	signed=$(cat "$d/signed")
	[ "$signed" = yes ] && set -- "$@" --sign-key "$KEYS/test-ed25519.seed"
	if "$PB" pack "$@" 2>"$w/err"; then ok "$c: pack"; else
		notok "$c: pack"; diag "$(cat "$w/err")"; continue; fi
	zstd -dq -c "$w/out.peipkg" >"$w/out.tar"
	check "$c: tar identical to expected.tar" cmp "$w/out.tar" "$d/expected.tar"
	member "$w/out.tar" .peipkg/manifest.json "$w/m.json"
	check "$c: manifest.json member" cmp "$w/m.json" "$d/expected-manifest.json"
	member "$w/out.tar" .peipkg/files.json "$w/f.json"
	check "$c: files.json member" cmp "$w/f.json" "$d/expected-files.json"
	if [ "$signed" = yes ]; then
		member "$w/out.tar" .peipkg/signature "$w/s.json"
		check "$c: signature member" cmp "$w/s.json" \
		    "$d/expected-signature.json"
		check "$c: verify" sh -c '[ "$("$1" verify "$2" --key "$3")" = OK ]' \
		    sh "$PB" "$w/out.peipkg" "$KEYS/test-ed25519.pub.raw"
	else
		check_fail "$c: verify refuses unsigned" "$PB" verify \
		    "$w/out.peipkg" --key "$KEYS/test-ed25519.pub.raw"
		check "$c: verify --allow-unsigned" sh -c \
		    '[ "$("$1" verify --allow-unsigned --key "$3" "$2")" = OK ]' \
		    sh "$PB" "$w/out.peipkg" "$KEYS/test-ed25519.pub.pem"
	fi
done

# ---- CLI conventions (BEHAVIOUR.md §2.5) ----------------------------------
w="$TAP_TMP/cli"
mkdir -p "$w"
# expect DESC EXIT STDOUT-PATTERN STDERR-PATTERN -- args ("-": empty)
has() { if [ "$1" = - ]; then test ! -s "$2"; else grep -q -e "$1" "$2"; fi; }
expect() {
	_d=$1 _x=$2 _o=$3 _e=$4; shift 5
	"$PB" "$@" >"$w/out" 2>"$w/err"; _r=$?
	if [ $_r -eq "$_x" ] && has "$_o" "$w/out" && has "$_e" "$w/err"; then
		ok "$_d"; else
		notok "$_d"; diag "exit $_r"; diag "$(cat "$w/out" "$w/err")"; fi
}
expect "no arguments: usage on stderr, exit 2" 2 - '^Usage: peipkg-build' --
expect "help: usage on stdout, exit 0" 0 '^Usage: peipkg-build' - -- help
expect "-h: usage on stdout, exit 0" 0 '^Usage: peipkg-build' - -- -h
expect "--help: usage on stdout, exit 0" 0 '^Usage: peipkg-build' - -- --help
expect "unknown subcommand: exit 2" 2 - \
    '^peipkg-build: unknown subcommand "frob"$' -- frob
check "unknown subcommand: blank line, then usage" sh -c \
    '"$1" frob 2>&1 | sed -n 2,3p | tr "\n" "|" | grep -q "^|Usage: "' sh "$PB"
expect "unknown flag: Go's message, exit 1" 1 - \
    '^peipkg-build: flag provided but not defined: -bogus$' -- pack --bogus
expect "unknown flag: subcommand usage" 1 - '^Usage of pack:' -- pack -bogus=1
expect "pack -h: exit 1" 1 - '^peipkg-build: flag: help requested$' -- pack -h
expect "flag needs an argument" 1 - \
    '^peipkg-build: flag needs an argument: -out$' -- pack --out
expect "missing --manifest" 1 - '^peipkg-build: --manifest is required$' \
    -- pack --staged x --out y
expect "-flag=value syntax" 1 - '^peipkg-build: --staged is required$' \
    -- pack -manifest=x --out=y
expect "bad --zstd-level" 1 - \
    '^peipkg-build: invalid value "high" for flag -zstd-level: parse error$' \
    -- pack --zstd-level high
expect "verify without a file" 1 - \
    '^peipkg-build: verify: a package file is required$' -- verify --key x
expect "verify without --key" 1 - '^peipkg-build: --key is required$' \
    -- verify x.peipkg
expect "verify with a bad key file" 1 - \
    "^peipkg-build: --key $KEYS/test-ed25519.pem: " \
    -- verify "$VECTORS/packages/tiny-noarch/expected.tar" \
    --key "$KEYS/test-ed25519.pem"
expect "verify a tar that is not zstd" 1 - \
    "^peipkg-build: .*expected.tar: zstd: Unknown frame descriptor (at tar offset 0)$" \
    -- verify "$VECTORS/packages/tiny-noarch/expected.tar" \
    --key "$KEYS/test-ed25519.pub.pem"

# ---- pack refusals: consumer rules, nothing left behind -------------------
mkdir -p "$w/st/usr/share/x" "$w/o"
echo hi >"$w/st/usr/share/x/f"
py() { python3 -c "import json,sys
m=json.load(open(sys.argv[1])); $1
json.dump(m, open(sys.argv[2],'w'))" "$VECTORS/packages/tiny-noarch/manifest-input.json" "$w/m.json"; }
refuse() {	# DESC PATTERN
	"$PB" pack --manifest "$w/m.json" --staged "$w/st" --out "$w/o/p.peipkg" \
	    2>"$w/err"; _r=$?
	if [ $_r -eq 1 ] && grep -q -e "$2" "$w/err" &&
	    [ -z "$(ls -A "$w/o")" ]; then ok "$1"; else
		notok "$1"; diag "exit $_r, left: $(ls -A "$w/o")"
		diag "$(cat "$w/err")"; fi
}
py 'm["build"]["timestamp"]="2026-05-06T12:00:00.25Z"'
refuse "fractional timestamp refused" '"2026-05-06T12:00:00.25Z" has fractional seconds'
py 'm["build"]["timestamp"]="2026-05-06T14:00:00+02:00"'
refuse "offset timestamp refused" "\"2026-05-06T14:00:00+02:00\" must be UTC and end with 'Z'"
py 'm["version"]="1.0"; m["dependencies"]=[{"name":"libc","arch":"x86_64"}]; m["side_effects"]=["systemd-reload"]'
refuse "version named" 'version: version "1.0": no -revision'
refuse "dependency arch named" '^  dependencies\[0\]: dependency arch "x86_64"'
refuse "side effect named" 'side_effects: side effect "systemd-reload"'
py 'm["dependencies"]=[{"name":"libc"},{"name":"libc","constraint":">= 1"}]'
refuse "duplicate dependency named" '^  dependencies: duplicate name "libc"$'
py 'pass'
printf 'x' >"$w/st/usr/share/x/a	b"
refuse "control character in a payload path named" 'control character'
rm -f "$w/st/usr/share/x/a	b"
mkfifo "$w/st/usr/fifo"
refuse "FIFO in the staged tree named" '^peipkg-build: walk staged tree: usr/fifo: a FIFO cannot be packaged$'
rm -f "$w/st/usr/fifo"
check "valid input packs" "$PB" pack --manifest "$w/m.json" --staged "$w/st" \
    --out "$w/o/p.peipkg" --zstd-level 3
check "only the output file is left" test "$(ls -A "$w/o")" = p.peipkg
done_testing
