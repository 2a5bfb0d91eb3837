#!/bin/sh
# daemon-cgroup.sh: per-build cgroups with the real daemon, real git
# upstreams and real sandboxed builds.  [build] memory_max (farm) and a
# recipe's own [build] memory_max: a build that allocates past its limit
# is killed by the kernel and fails with an "out of memory" reason naming
# the limit, one under the farm's limit is published; while a build runs
# its group holds its processes with the configured limits; the groups
# of a manager that died are swept at start, ours are gone at exit; bad
# values and a memory_max without cgroups are refused with the reason.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
farm_require python3 git
CG=/sys/fs/cgroup
if [ "$(stat -fc %T $CG 2>/dev/null)" = cgroup2fs ]; then
	[ "$(sed -n 's/^0:://p' /proc/self/cgroup)" = / ] ||
	    skip_all "cgroup v2 below the root needs a delegated group (systemd Delegate=yes)"
	MEMROOT=$CG PIDSROOT=$CG V2=1
	MAXFILE=memory.max
else
	for c in memory pids; do
		[ "$(stat -fc %T $CG/$c 2>/dev/null)" = cgroupfs ] ||
		    skip_all "no cgroup v1 $c hierarchy at $CG/$c"
	done
	own() { sed -n "s/^[0-9]*:\([^:]*,\)*$1\(,[^:]*\)*:\(.*\)/\3/p" /proc/self/cgroup; }
	MEMROOT=$CG/memory$(own memory | sed 's|^/$||')
	PIDSROOT=$CG/pids$(own pids | sed 's|^/$||')
	V2=0
	MAXFILE=memory.limit_in_bytes
fi
[ -w "$MEMROOT" ] && [ -w "$PIDSROOT" ] || skip_all "cannot write $MEMROOT"

farm_bin
LOG=$TAP_TMP/once.log
MARK="cg-$(basename "$TAP_TMP")"
MiB=1048576
OPID=""

# hog MiB ID: a build.sh for ID that holds MiB of touched memory, then
# installs a file.
hog() {
	cat >"$F/recipes/$2/build.sh" <<EOS
#!/bin/sh
set -e
python3 -c 'b = b"x" * ($1 << 20); print("holding", len(b) >> 20, "MiB")'
mkdir -p "\$DESTDIR/usr/share/$2"
echo done >"\$DESTDIR/usr/share/$2/done"
EOS
}
ours() { pgrep -f "$TAP_TMP"; }
cleanup() {
	[ -n "$OPID" ] && kill -KILL "$OPID" 2>/dev/null
	for _p in $(ours) $(pgrep -f "$MARK"); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

farm_fixture 0
# No HTTP: --once only.
python3 - "$CFG" <<'EOP'
import re, sys
p = sys.argv[1]; s = open(p).read()
s = re.sub(r"\[http\]\n(.*\n)*?\n", "", s + "\n")
open(p, "w").write(s + "[build]\nmemory_max = 268435456\nzstd_level = 3\n")
EOP

# ---- refusals -----------------------------------------------------------------
cp "$CFG" "$TAP_TMP/bad.toml"
sed -i 's/^memory_max = .*/memory_max = 1000/' "$TAP_TMP/bad.toml"
out=$("$PM" --check-config --config "$TAP_TMP/bad.toml" 2>&1)
check "memory_max below 16 MiB refused, with file:line:col" sh -c \
    "echo '$out' | grep -q 'bad.toml:[0-9]*:[0-9]*: .*memory_max.*1000 bytes is too little'"
farm_recipe tiny '[build]
memory_max = 4096'
out=$("$PM" --check-config --config "$CFG" 2>&1)
check "a recipe's memory_max below 16 MiB refused" sh -c \
    "echo '$out' | grep -q 'tiny/peipkg.toml:[0-9]*:[0-9]*: .*memory_max'"
rm -rf "$F/recipes/tiny"
PEIPKG_TEST_CGROUP_ROOT= "$PM" --once --config "$CFG" --log-target stderr \
    >"$TAP_TMP/nocg.log" 2>&1
check "memory_max without cgroups: exit 1" test $? = 1
check "with the reason" grep -q 'msg="construct manager" err="\[build\] memory_max needs per-build cgroups" reason="disabled by PEIPKG_TEST_CGROUP_ROOT"' \
    "$TAP_TMP/nocg.log"

# ---- a dead manager's groups ------------------------------------------------------
DEAD=4000000
while kill -0 $DEAD 2>/dev/null; do DEAD=$((DEAD + 1)); done
for r in "$MEMROOT" "$PIDSROOT"; do
	mkdir -p "$r/peipkg-manager.$DEAD/build-7"
done

# ---- builds under limits ------------------------------------------------------------
farm_recipe sleeper
cat >"$F/recipes/sleeper/build.sh" <<EOS
#!/bin/sh
sh -c 'sleep 300; true' $MARK-bg &
sleep 4
mkdir -p "\$DESTDIR/usr/share/sleeper"
echo slept >"\$DESTDIR/usr/share/sleeper/done"
EOS
farm_recipe overeater '[build]
memory_max = 67108864'
hog 200 overeater
farm_recipe eater
hog 150 eater
"$PM" --once --config "$CFG" --log-target stderr --log-level debug \
    >"$LOG" 2>&1 &
OPID=$!
check "the manager reports its build cgroups" wait_for \
    "grep -q 'msg=\"build cgroups\" path=\"v' $LOG" 100
BASE=$MEMROOT/peipkg-manager.$OPID
PBASE=$PIDSROOT/peipkg-manager.$OPID
check "its group directory exists ($BASE)" test -d "$BASE"
check "the dead manager's groups are swept" sh -c \
    "! test -e '$MEMROOT/peipkg-manager.$DEAD' && ! test -e '$PIDSROOT/peipkg-manager.$DEAD'"
check "the sleeper runs" wait_for "pgrep -f -- '$MARK-bg'" 600
B=$(ls -d "$BASE"/build-* 2>/dev/null | head -1)
PB=$PBASE/$(basename "$B")
BG=$(pgrep -f -- "$MARK-bg" | head -1)
check "one build group ($B)" test -n "$B" -a -d "$B"
check "$MAXFILE is the farm's 256 MiB" sh -c "test \$(cat '$B/$MAXFILE') = $((256 * MiB))"
check "pids.max is max_processes + 64" sh -c "test \$(cat '$PB/pids.max') = 1088"
check "build.sh's background process is in the group" sh -c \
    "grep -qx '$BG' '$B/cgroup.procs' && grep -qx '$BG' '$PB/cgroup.procs'"
check "so is the worker" sh -c "for p in \$(cat '$B/cgroup.procs'); do
	tr '\\0' ' ' </proc/\$p/cmdline; echo; done | grep -q '^$TAP_TMP/bin/peipkg-buildd '"
wait "$OPID"
check "--once exits 0" test $? = 0
OPID=""
check "the overeater failed: out of memory at its own 64 MiB" grep -q \
    'msg="build failed" recipe=overeater version=1.2.0-1 err="out of memory: the build reached memory_max (64 MiB) and the kernel killed [1-9][0-9]* process(es); ' "$LOG"
diag "archive: $(archive)"
check "the eater (150 MiB under the farm's 256 MiB) is published" \
    archived eater@1.2.0-1
check "so is the sleeper" archived sleeper@1.2.0-1
check "and the demo" archived greeter@1.2.0-1
check_fail "the overeater is not in the archive" archived overeater@1.2.0-1
check "the repository verifies" "$top_builddir/peipkg-repo" verify \
    --repo "$F/state/repo" --mode both
check "no group left after exit" sh -c "! test -e '$BASE' && ! test -e '$PBASE'"
# [c]g-...: a pattern that does not match the checking shell itself
check "the background process died with its build" sh -c \
    "! pgrep -f -- '[c]${MARK#c}-bg'"
check "no process left behind" sh -c "test -z \"\$(ours)\""
done_testing
