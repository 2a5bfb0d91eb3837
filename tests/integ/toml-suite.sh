#!/bin/sh
# toml-suite.sh: run tests/toml-decode (the toml-test decoder protocol)
# over tests/data/toml.  valid/X.toml must decode to the tagged JSON in
# valid/X.json (compared as data: key order and spacing do not matter,
# types and values do); invalid/X.toml must be rejected with exit 1 and
# one "<stdin>:line:col: message" on stderr, equal to invalid/X.err when
# that file exists.  TAP.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
. "$top_srcdir/tests/lib.sh"

DEC="${top_builddir:-$top_srcdir}/tests/toml-decode"
DATA="$top_srcdir/tests/data/toml"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
if [ ! -x "$DEC" ]; then
	echo "1..1"
	echo "not ok 1 - decoder not built: $DEC"
	exit 0
fi

# Normalise tagged JSON: floats and integers compare by value (nan equals
# nan, -0.0 differs from 0.0), everything else by exact text.
cat >"$TAP_TMP/cmp.py" <<'PY'
import json, math, sys

def norm(x):
    if isinstance(x, list):
        return [norm(e) for e in x]
    if not isinstance(x, dict):
        raise ValueError("not tagged JSON: %r" % (x,))
    if set(x) == {"type", "value"} and isinstance(x["type"], str) \
            and isinstance(x["value"], str):
        t, v = x["type"], x["value"]
        if t == "float":
            f = float(v)
            return (t, "nan" if math.isnan(f) else (f, math.copysign(1, f)))
        if t == "integer":
            return (t, int(v))
        if t not in ("string", "bool", "datetime", "datetime-local",
                     "date-local", "time-local"):
            raise ValueError("unknown type %r" % t)
        return (t, v)
    return {k: norm(v) for k, v in x.items()}

with open(sys.argv[1], encoding="utf-8") as f:
    want = norm(json.load(f))
with open(sys.argv[2], encoding="utf-8") as f:
    got = norm(json.load(f))
if want != got:
    print("expected: %r" % (want,))
    print("got:      %r" % (got,))
    sys.exit(1)
PY

plan_n=0
for f in "$DATA"/valid/*.toml "$DATA"/invalid/*.toml; do
	[ -f "$f" ] && plan_n=$((plan_n + 1))
done
plan "$plan_n"

for f in "$DATA"/valid/*.toml; do
	[ -f "$f" ] || continue
	n=valid/$(basename "$f" .toml)
	if ! "$DEC" <"$f" >"$TAP_TMP/out.json" 2>"$TAP_TMP/err"; then
		notok "$n: rejected"
		diag "$(cat "$TAP_TMP/err")"
	elif ! python3 "$TAP_TMP/cmp.py" "${f%.toml}.json" "$TAP_TMP/out.json" \
	    >"$TAP_TMP/cmp.out" 2>&1; then
		notok "$n: wrong decoding"
		diag "$(cat "$TAP_TMP/cmp.out")"
	else
		ok "$n"
	fi
done

for f in "$DATA"/invalid/*.toml; do
	[ -f "$f" ] || continue
	n=invalid/$(basename "$f" .toml)
	"$DEC" <"$f" >"$TAP_TMP/out.json" 2>"$TAP_TMP/err"
	rc=$?
	lines=$(wc -l <"$TAP_TMP/err")
	if [ "$rc" -ne 1 ]; then
		notok "$n: exit status $rc, want 1"
		diag "$(head -c 2000 "$TAP_TMP/out.json" "$TAP_TMP/err")"
	elif [ "$lines" -ne 1 ] ||
	    ! grep -Eq '^<stdin>:[0-9]+:[0-9]+: .' "$TAP_TMP/err"; then
		notok "$n: want one \"<stdin>:line:col: message\" line"
		diag "$(cat "$TAP_TMP/err")"
	elif [ -f "${f%.toml}.err" ] && ! cmp -s "${f%.toml}.err" "$TAP_TMP/err"
	then
		notok "$n: wrong message"
		diag "want: $(cat "${f%.toml}.err")"
		diag "got:  $(cat "$TAP_TMP/err")"
	else
		# (lib.sh prints with echo, which would expand backslashes)
		ok "$n: $(sed 's/#/<hash>/g; s/\\/\\\\/g' "$TAP_TMP/err")"
	fi
done
