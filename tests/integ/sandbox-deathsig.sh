#!/bin/sh
# sandbox-deathsig.sh: when the supervising process dies (SIGKILL, or a
# TERM/INT it does not survive), the whole sandbox dies with it: nothing
# of build.sh survives, reparented to pid 1.  (The namespace init must
# re-arm its parent-death signal after changing ids: the kernel clears it.)
. "$top_srcdir/tests/lib.sh"
SBX="$top_builddir/sandbox/sbx-run"
[ -x "$SBX" ] || skip_all "sandbox/sbx-run is not built"
[ "$(id -u)" = 0 ] || skip_all "needs root to pick the build uid"
unshare -U true 2>/dev/null || skip_all "user namespaces are not available"

D=$TAP_TMP/d
mkdir -p "$D/src" "$D/dest" "$D/work" "$D/recipe"
chmod 755 "$TAP_TMP" "$D" "$D/src" "$D/recipe"
chmod 777 "$D/dest" "$D/work"
MARK="peipkg-deathsig-$$"
# The marker is in the script's name, so in the running shell's command line.
SCRIPT="$D/recipe/$MARK.sh"
printf 'sleep 300\ntrue\n' >"$SCRIPT"
UID_=65534
GID_=65534

alive() { pgrep -f "$MARK" >/dev/null 2>&1; }
# wait_for COND SECONDS
wait_for() {
	_i=0
	while ! eval "$1"; do
		_i=$((_i + 1)); [ $_i -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

# A non-interactive sh starts `cmd &` with SIGINT ignored, and sbx-run
# would inherit that: restore the default so that INT can kill it.
for sig in KILL TERM INT; do
	env --default-signal=INT "$SBX" --script "$SCRIPT" --source "$D/src" \
	    --destdir "$D/dest" --workdir "$D/work" --uid $UID_ --gid $GID_ \
	    --env PATH=/usr/bin:/bin --log "$D/log" >/dev/null 2>&1 &
	pid=$!
	if wait_for alive 10; then ok "$sig: build.sh is running"
	else notok "$sig: build.sh is running"; fi
	kill -$sig $pid
	wait $pid 2>/dev/null
	if wait_for '! alive' 3; then ok "$sig: nothing of the build survives"
	else notok "$sig: nothing of the build survives"
		diag "$(ps -eo pid,ppid,user,args | grep "$MARK" | grep -v grep)"
		pkill -KILL -f "$MARK"
	fi
done
done_testing
