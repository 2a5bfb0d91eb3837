# tests/lib.sh: TAP helpers for shell tests.  Source it, call plan N (or
# plan_auto and done_testing at the end), then ok/notok/check per point.
# Environment from `make check`: top_srcdir, top_builddir.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TAP_N=0
TAP_FAILED=0
VECTORS="$top_srcdir/tests/vectors"

plan() { echo "1..$1"; }
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
notok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { echo "$*" | sed 's/^/# /'; }
# check "description" command...: one test point from a command's status.
check() {
	_d=$1; shift
	if "$@" >"$TAP_TMP/check.out" 2>&1; then ok "$_d"; else
		notok "$_d"; diag "$(tail -20 "$TAP_TMP/check.out")"; fi
}
# check_fail "description" command...: passes when the command fails.
check_fail() {
	_d=$1; shift
	if "$@" >"$TAP_TMP/check.out" 2>&1; then notok "$_d"
		diag "$(tail -20 "$TAP_TMP/check.out")"; else ok "$_d"; fi
}
done_testing() { echo "1..$TAP_N"; exit 0; }
TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/peipkg-test.XXXXXX")
trap 'rm -rf "$TAP_TMP"' EXIT
