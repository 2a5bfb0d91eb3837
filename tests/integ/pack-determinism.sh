#!/bin/sh
# pack-determinism.sh: the same input packed again, and with 1, 2 and 4
# zstd workers, gives byte-identical COMPRESSED files (libzstd's
# multi-threaded mode depends on its parameters only), at the default
# level and at another one.
. "$top_srcdir/tests/lib.sh"
PB="$top_builddir/peipkg-build"
KEYS="$VECTORS/keys"
[ -x "$PB" ] || skip_all "peipkg-build not built"
command -v zstd >/dev/null || skip_all "zstd CLI missing"

for c in tiny-noarch many-files large-file; do
	d="$VECTORS/packages/$c"
	w="$TAP_TMP/$c"
	mkdir -p "$w/st"
	tar -xf "$d/input.tar" -C "$w/st"
	for lvl in 19 3; do
		for n in 1 1 2 4; do
			"$PB" pack --manifest "$d/manifest-input.json" \
			    --staged "$w/st" --out "$w/$lvl-$n.peipkg" \
			    --sign-key "$KEYS/test-ed25519.seed" \
			    --zstd-level $lvl --zstd-workers $n 2>"$w/err" ||
			    diag "$(cat "$w/err")"
			[ -e "$w/$lvl-1.first" ] ||
			    cp "$w/$lvl-1.peipkg" "$w/$lvl-1.first"
		done
		check "$c level $lvl: packed twice, identical" \
		    cmp "$w/$lvl-1.first" "$w/$lvl-1.peipkg"
		check "$c level $lvl: 2 workers identical to 1" \
		    cmp "$w/$lvl-1.peipkg" "$w/$lvl-2.peipkg"
		check "$c level $lvl: 4 workers identical to 1" \
		    cmp "$w/$lvl-1.peipkg" "$w/$lvl-4.peipkg"
		check "$c level $lvl: decompresses to expected.tar" sh -c \
		    'zstd -dq -c "$1" | cmp - "$2"' sh "$w/$lvl-4.peipkg" \
		    "$d/expected.tar"
	done
	check_fail "$c: levels 19 and 3 differ (the level is applied)" \
	    cmp -s "$w/19-1.peipkg" "$w/3-1.peipkg"
done
# A tar of ~24 MiB spans several zstd jobs at level 3, so the workers
# really run in parallel.
w="$TAP_TMP/big"
mkdir -p "$w/st/usr/share/big"
python3 -c 'import random, sys
r = random.Random(7)
words = [bytes(r.choice(b"abcdefghij") for _ in range(r.randint(2, 9)))
         for _ in range(5000)]
for i in range(3):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f:
        n = 0
        while n < 8 << 20:
            line = b" ".join(r.choice(words) for _ in range(12)) + b"\n"
            f.write(line); n += len(line)' "$w/st/usr/share/big"
sed 's/"tiny"/"big"/' "$VECTORS/packages/tiny-noarch/manifest-input.json" \
    >"$w/m.json"
for n in 1 2 4; do
	"$PB" pack --manifest "$w/m.json" --staged "$w/st" --out "$w/$n.peipkg" \
	    --zstd-level 3 --zstd-workers $n 2>"$w/err" || diag "$(cat "$w/err")"
done
check "24 MiB, level 3: 2 workers identical to 1" cmp "$w/1.peipkg" "$w/2.peipkg"
check "24 MiB, level 3: 4 workers identical to 1" cmp "$w/1.peipkg" "$w/4.peipkg"
check "24 MiB: verifies" "$PB" verify --allow-unsigned --key \
    "$KEYS/test-ed25519.pub.raw" "$w/4.peipkg"
check_fail "--zstd-workers 0 refused" "$PB" pack --manifest x --staged y \
    --out z --zstd-workers 0
done_testing
