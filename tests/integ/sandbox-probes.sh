#!/bin/sh
# Copyright (c) 2026 The peipkg-manager authors
# SPDX-License-Identifier: ISC
#
# sandbox-probes.sh: escape probes and resource limits for the build
# sandbox (RELIABILITY.md §2.6 S1-S17, §2.8 R1 R4-R7), run through
# sandbox/sbx-run with tests/sandbox/probe.c as (part of) build.sh.
#
# As root (CI) everything runs in two modes: "root" (sbx-run as root,
# mapping a throw-away system user) and "user" (sbx-run run as that user,
# on user namespaces alone).  As a plain user only "user" mode runs, as
# oneself.  Each probe is one test point; several points have a control
# run proving they could fail (the secret is readable without --hide, the
# listener answers on the host, the setuid copy does give euid 0 there).
. "$top_srcdir/tests/lib.sh"

SBX_BIN="$top_builddir/sandbox/sbx-run"
[ -x "$SBX_BIN" ] || skip_all "sandbox/sbx-run is not built"
command -v gcc >/dev/null 2>&1 || skip_all "no gcc to build the probe"

BASE=$(mktemp -d /tmp/peipkg-sbx.XXXXXX) || exit 1
BASE=$(cd "$BASE" && pwd -P)
chmod 755 "$BASE"
PIDS=
HOSTFILE=
SBXUSER=
CREATED=
ETCDIR=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$ETCDIR" ] && rm -rf "$ETCDIR"
	rm -rf "$BASE" "$TAP_TMP" "$HOSTFILE" "$HOSTFILE.inside"
	[ -n "$CREATED" ] && userdel "$SBXUSER" 2>/dev/null
}
trap cleanup EXIT

if [ "$(id -u)" = 0 ]; then
	# A throw-away build user; nobody if useradd is not there.
	SBXUSER=pmsbx$$ CREATED=1
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group "$SBXUSER" >/dev/null 2>&1 ||
		SBXUSER=nobody CREATED=
	MODES="root user"
else
	MODES=user
fi
XUID=$(id -u ${SBXUSER:-})
XGID=$(id -g ${SBXUSER:-})


mkdir "$BASE/bin"
cp "$SBX_BIN" "$BASE/bin/sbx-run"
gcc -O1 -pthread -o "$BASE/bin/probe" "$top_srcdir/tests/sandbox/probe.c" ||
	skip_all "cannot compile tests/sandbox/probe.c"
chmod -R a+rX "$BASE/bin"
PROBE=$BASE/bin/probe

# Host-side fixtures: a TCP listener, long sleepers of root and of the
# build user that kill(-1, SIGKILL) inside must not reach, a world-
# readable file in the host's /tmp.
"$PROBE" "listen:$BASE/port" & PIDS="$PIDS $!"
sleep 77771 & HOSTSLEEP=$!
if [ -n "$SBXUSER" ]; then
	setpriv --reuid "$XUID" --regid "$XGID" --clear-groups sleep 77772 &
else
	sleep 77772 &
fi
XSLEEP=$!
PIDS="$PIDS $HOSTSLEEP $XSLEEP"
HOSTFILE=$(cd /tmp && pwd -P)/peipkg-sbx-hostfile.$$
echo host > "$HOSTFILE"; chmod 644 "$HOSTFILE"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$BASE/port" ] && break; sleep 0.1; done
PORT=$(cat "$BASE/port" 2>/dev/null)
if [ "$(id -u)" = 0 ]; then
	ETCDIR=/etc/peipkg-sbxtest.$$
	mkdir -m 755 "$ETCDIR"
	echo "secret = 1" > "$ETCDIR/manager.conf"
	chmod 644 "$ETCDIR/manager.conf"
fi

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# setup_mode MODE: fresh source, destdir, workdir and recipe dirs.
setup_mode() {
	M=$BASE/$1
	SRC=$M/src DEST=$M/dest WORK=$M/work RECIPE=$M/recipe
	mkdir -p "$M" "$RECIPE" "$DEST" "$WORK" "$M/logs"
	cp -a "$top_srcdir/tests/sandbox/cproj" "$SRC"
	chmod -R u+w "$SRC"	# make distcheck's source tree is read-only
	chmod 755 "$SRC/configure"
	cp "$PROBE" "$SRC/probe"
	mkdir "$SRC/keys" "$SRC/conf"
	echo "PRIVATE KEY" > "$SRC/keys/signing.key"
	echo "token = x" > "$SRC/conf/peipkg.conf"
	cp /usr/bin/id "$SRC/suid-id"
	chown 0:0 "$SRC/suid-id" 2>/dev/null && chmod 4755 "$SRC/suid-id"
	chmod -R a+rX "$M"
	chown "$XUID:$XGID" "$DEST" "$WORK" "$M/logs"
	# root mode: carry supplementary groups, which must not get inside
	RUNAS=
	[ "$1" = root ] && RUNAS="setpriv --groups 0,4"
	[ "$1" = user ] && [ -n "$SBXUSER" ] &&
		RUNAS="setpriv --reuid $XUID --regid $XGID --clear-groups"
	PATHV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
}

# sbx NAME SCRIPT-TEXT [sbx-run flags...]: write recipe/NAME.sh, run it;
# the result line lands in $OUT, the build log in $LOG.
sbx() {
	_n=$1 _s=$2; shift 2
	printf '%s\n' "$_s" > "$RECIPE/$_n.sh"
	OUT=$M/$_n.out LOG=$M/logs/$_n.log
	rm -rf "$WORK"/* "$WORK"/.[!.]* 2>/dev/null
	$RUNAS "$BASE/bin/sbx-run" --script "$RECIPE/$_n.sh" --source "$SRC" \
	    --destdir "$DEST" --workdir "$WORK" --uid "$XUID" --gid "$XGID" \
	    --env SOURCE_DIR="$SRC" --env DESTDIR="$DEST" \
	    --env SOURCE_DATE_EPOCH=1700000000 --env LC_ALL=C --env TZ=UTC \
	    --env PATH=$PATHV --log "$LOG" "$@" >"$OUT" 2>"$OUT.err"
	SBX_RC=$?
}

# end_is DESC WANT: the sbx-run line starts with WANT
end_is() {
	if [ "$SBX_RC" = 0 ] && grep -q "^$2\( \|\$\)" "$OUT"; then ok "$1"
	else notok "$1"; diag "want: $2"; diag "got: $(cat "$OUT" "$OUT.err")"
		diag "log: $(tail -5 "$LOG" 2>/dev/null)"; fi
}

# probe_is MODE LABEL ERE: the probe's line in $LOG, as
# "rc=N errno=E sig=S", matches ERE in full
probe_is() {
	_got=$(sed -n "s/^{\"probe\":\"$2\",\"rc\":\(-\{0,1\}[0-9]*\),\"errno\":\"\([A-Z0-9?]*\)\",\"signal\":\([0-9]*\)}\$/rc=\1 errno=\2 sig=\3/p" "$LOG" | head -n 1)
	if printf '%s\n' "$_got" | grep -Eq "^($3)\$"; then
		ok "$1: $2: $_got"
	else
		notok "$1: $2: got '${_got:-nothing}', want $3"
	fi
}

# table MODE: expectations "LABEL ERE" on stdin
table() {
	while read -r _l _e; do
		[ -n "$_l" ] && probe_is "$1" "$_l" "$_e"
	done
}

E='rc=-1 errno=EPERM sig=0'
N='rc=-1 errno=ENOSYS sig=0'
GONE='rc=-1 errno=(ENOENT|EACCES) sig=0'
OK0='rc=0 errno=0 sig=0'

static_probes() {
	MODE=$1
	sbx static '"$SOURCE_DIR/probe" ifaces lo_up ptrace_parent ptrace_init \
ptrace_child process_vm_readv kcmp pidfd_getfd fork thread unshare_user \
unshare_mnt clone_newuser clone3 setns mount umount2 pivot_root chroot \
open_tree open_tree_attr move_mount fsopen fsmount fspick fsconfig \
mount_setattr keyctl add_key request_key tiocsti tiocsti_hi tioclinux \
isatty bpf perf_event_open userfaultfd io_uring_setup kexec_load \
init_module finit_module delete_module swapon reboot acct syslog quotactl \
open_by_handle_at settimeofday clock_settime sethostname personality_bsd \
personality_query personality_linux32 mbind modify_ldt socket_packet \
socket_vsock socket_inet socket_netlink int80 x32 nnp seccomp caps uid_map \
setuid0 getuid groups fds proc_pids \
r:devtty:/dev/tty r:shadow:/etc/shadow r:gshadow:/etc/gshadow \
r:root:/root r:home:/home r:varlib:/var/lib r:run:/run \
r:proc1env:/proc/1/environ wo:proc1exe:/proc/1/exe r:kcore:/proc/kcore \
r:syskernel:/sys/kernel/notes w:cgroup:/sys/fs/cgroup/pids.max \
r:kmsg:/dev/kmsg r:devmem:/dev/mem \
w:wroot:/peipkg-x w:wusr:/usr/peipkg-x w:wetc:/etc/peipkg-x \
w:wsrc:$SOURCE_DIR/peipkg-x w:wdest:$DESTDIR/peipkg-x w:wwork:peipkg-x \
w:wproc:/proc/sys/kernel/hostname \
r:hosttmp:'"$HOSTFILE"' w:tmp:'"$HOSTFILE"'.inside \
r:key:$SOURCE_DIR/keys/signing.key r:conf:$SOURCE_DIR/conf/peipkg.conf \
r:srcfile:$SOURCE_DIR/hello.c r:etcconf:'"${ETCDIR:-/nonexistent}"'/manager.conf \
tcp:lo:127.0.0.1:'"$PORT"' tcp:ext:1.1.1.1:80 \
unix:notify:/run/systemd/notify unix:journal:/run/systemd/journal/stdout \
uid:suid:$SOURCE_DIR/suid-id env:$DESTDIR/env.txt' \
	    --hide "$SRC/keys" --hide "$SRC/conf/peipkg.conf" \
	    ${ETCDIR:+--hide "$ETCDIR"}
	end_is "$MODE: static probes ran" "end=exited status=0"
	table "$MODE" <<EOF
ifaces $OK0
lo_up rc=1 errno=0 sig=0
ptrace_parent $E
ptrace_init $E
ptrace_child $E
process_vm_readv $E
kcmp $E
pidfd_getfd $E
fork $OK0
thread $OK0
unshare_user $E
unshare_mnt $E
clone_newuser $E
clone3 $N
setns $E
mount $E
umount2 $E
pivot_root $E
chroot $E
open_tree $N
open_tree_attr $N
move_mount $N
fsopen $N
fsmount $N
fspick $N
fsconfig $N
mount_setattr $N
keyctl $E
add_key $E
request_key $E
tiocsti $E
tiocsti_hi $E
tioclinux $E
isatty $OK0
devtty rc=-1 errno=(ENXIO|ENOENT) sig=0
bpf $E
perf_event_open $E
userfaultfd $E
io_uring_setup $N
kexec_load $E
init_module $E
finit_module $E
delete_module $E
swapon $E
reboot $E
acct $E
syslog $E
quotactl $E
open_by_handle_at $E
settimeofday $E
clock_settime $E
sethostname $E
personality_bsd $E
personality_query rc=[0-9]+ errno=0 sig=0
personality_linux32 rc=[0-9]+ errno=0 sig=0
mbind $E
modify_ldt $E
socket_packet rc=-1 errno=EAFNOSUPPORT sig=0
socket_vsock rc=-1 errno=EAFNOSUPPORT sig=0
socket_inet $OK0
socket_netlink $OK0
int80 rc=-1 errno=0 sig=31
x32 rc=-1 errno=0 sig=31
nnp rc=1 errno=0 sig=0
seccomp rc=2 errno=0 sig=0
caps $OK0
uid_map rc=1 errno=0 sig=0
setuid0 rc=-1 errno=(EPERM|EINVAL) sig=0
getuid rc=1000 errno=0 sig=0
groups $OK0
fds $OK0
proc_pids rc=[1-9] errno=0 sig=0
shadow $GONE
gshadow $GONE
root $GONE
home $GONE
varlib $GONE
run $GONE
proc1env rc=-1 errno=EACCES sig=0
proc1exe rc=-1 errno=(EACCES|ETXTBSY|EROFS) sig=0
kcore $GONE
syskernel $GONE
cgroup rc=-1 errno=(ENOENT|EROFS|EACCES) sig=0
kmsg $GONE
devmem $GONE
wroot rc=-1 errno=EROFS sig=0
wusr rc=-1 errno=EROFS sig=0
wetc rc=-1 errno=EROFS sig=0
wsrc rc=-1 errno=EROFS sig=0
wdest $OK0
wwork $OK0
wproc rc=-1 errno=(EROFS|EACCES|EPERM) sig=0
hosttmp $GONE
tmp $OK0
key $GONE
conf $GONE
srcfile $OK0
lo rc=-1 errno=ECONNREFUSED sig=0
ext rc=-1 errno=ENETUNREACH sig=0
notify rc=-1 errno=ENOENT sig=0
journal rc=-1 errno=ENOENT sig=0
suid rc=1000 errno=0 sig=0
env $OK0
EOF
	if [ -n "$ETCDIR" ]; then
		probe_is "$MODE" etcconf "$GONE"
	else
		ok "$MODE: etcconf # SKIP needs root to write /etc"
	fi
	# The private /tmp write went nowhere near the host's /tmp.
	if [ ! -e "$HOSTFILE.inside" ]; then ok "$MODE: host /tmp untouched"
	else notok "$MODE: host /tmp untouched"; fi
	# Exactly the given environment, plus PWD from sh.
	printf '%s\n' "SOURCE_DIR=$SRC" "DESTDIR=$DEST" \
	    SOURCE_DATE_EPOCH=1700000000 LC_ALL=C TZ=UTC "PATH=$PATHV" \
	    "PWD=$WORK" | sort > "$M/env.want"
	sort "$DEST/env.txt" > "$M/env.got" 2>/dev/null
	check "$MODE: environ is exactly the given one" cmp "$M/env.want" \
	    "$M/env.got"
	rm -f "$DEST/env.txt" "$DEST/peipkg-x" "$WORK/peipkg-x"
}

# Without --hide the same secrets are readable: the hide probes can fail.
controls() {
	MODE=$1
	sbx control '"$SOURCE_DIR/probe" r:key:$SOURCE_DIR/keys/signing.key \
r:conf:$SOURCE_DIR/conf/peipkg.conf r:etcconf:'"${ETCDIR:-/nonexistent}"'/manager.conf'
	probe_is "$MODE, no --hide" key "$OK0"
	probe_is "$MODE, no --hide" conf "$OK0"
	[ -n "$ETCDIR" ] && probe_is "$MODE, no --hide" etcconf "$OK0"
	sbx ptrace '"$SOURCE_DIR/probe" ptrace_child ptrace_init \
process_vm_readv seccomp' --allow-ptrace
	end_is "$MODE: --allow-ptrace run" "end=exited status=0"
	table "$MODE allow-ptrace" <<EOF
ptrace_child $OK0
ptrace_init $E
process_vm_readv $E
seccomp rc=2 errno=0 sig=0
EOF
}

# R1, R4, R5, R6, R7, S12, S16: limits, timeouts, leftovers.
limits() {
	MODE=$1
	sbx limits '"$SOURCE_DIR/probe" forkloop \
fsize:fsz:$DESTDIR/big:2097152 fsizeign:fszign:$DESTDIR/big2:2097152 \
sparse:sparse:$DESTDIR/sparse:1099511627776' --nproc 40 --fsize 1048576
	end_is "$MODE: limits run" "end=exited status=0"
	probe_is "$MODE" forkloop 'rc=([1-9]|[1-3][0-9]) errno=EAGAIN sig=0'
	probe_is "$MODE" fsz 'rc=-1 errno=0 sig=25'
	probe_is "$MODE" fszign 'rc=-1 errno=EFBIG sig=0'
	probe_is "$MODE" sparse 'rc=-1 errno=EFBIG sig=0'
	check "$MODE: file stopped at RLIMIT_FSIZE" test \
	    "$(stat -c %s "$DEST/big")" = 1048576
	rm -f "$DEST/big" "$DEST/big2" "$DEST/sparse"

	sbx bomb 'bomb() { bomb | bomb & }; bomb; wait; sleep 60' \
	    --nproc 64 --wall-ms 2500 --grace-ms 500
	# Whether the top shell itself fails to fork first is a race: the
	# build fails either way.
	check "$MODE: fork bomb fails the build" grep -Eq \
	    "^end=(wall-timeout|exited status=[1-9][0-9]*) " "$OUT"
	check "$MODE: fork bomb hit the process limit" grep -q "Cannot fork" \
	    "$LOG"
	sleep 0.3
	check_fail "$MODE: nothing of the fork bomb is left" pgrep -f \
	    "$RECIPE/bomb.sh"

	t0=$(now_ms)
	sbx wall 'sleep 30' --wall-ms 1000 --grace-ms 1000
	t=$(( $(now_ms) - t0 ))
	end_is "$MODE: sleep ends at the wall clock" \
	    "end=wall-timeout status=15"
	check "$MODE: wall timeout took ${t} ms (1000..2500)" \
	    test "$t" -ge 1000 -a "$t" -lt 2500

	t0=$(now_ms)
	sbx spin 'trap "" TERM; while :; do :; done' --wall-ms 1000 \
	    --grace-ms 700
	t=$(( $(now_ms) - t0 ))
	end_is "$MODE: TERM-proof spin killed after the grace" \
	    "end=wall-timeout status=9"
	check "$MODE: wall+grace took ${t} ms (1700..3200)" \
	    test "$t" -ge 1700 -a "$t" -lt 3200

	t0=$(now_ms)
	sbx idle 'echo started; sleep 30' --idle-ms 800 --grace-ms 500
	t=$(( $(now_ms) - t0 ))
	end_is "$MODE: silence ends at the idle timeout" \
	    "end=idle-timeout status=15"
	check "$MODE: idle timeout took ${t} ms (800..2300)" \
	    test "$t" -ge 800 -a "$t" -lt 2300
	sbx tick 'for i in 1 2 3 4 5 6 7; do echo $i; sleep 0.3; done' \
	    --idle-ms 800
	end_is "$MODE: output keeps the idle timer back" \
	    "end=exited status=0 log_bytes=14"

	sbx flood 'yes | head -c 5M' --log-max 1048576
	end_is "$MODE: log flood" \
	    "end=exited status=0 log_bytes=5242880 truncated=1"
	yes | head -c 1048576 > "$M/flood.want"
	echo "[peipkg: build log truncated at 1048576 bytes]" >> "$M/flood.want"
	check "$MODE: log is 1 MiB of output plus the marker" cmp "$LOG" \
	    "$M/flood.want"

	t0=$(now_ms)
	sbx daemon 'setsid sleep 98765 & (sleep 98766 </dev/null >/dev/null 2>&1 &)
sleep 98767 &
echo spawned'
	t=$(( $(now_ms) - t0 ))
	end_is "$MODE: daemonising build ends" "end=exited status=0"
	check "$MODE: it returned at once (${t} ms)" test "$t" -lt 3000
	sleep 0.2
	check_fail "$MODE: no daemonised process survives" pgrep -f \
	    "sleep 9876[567]"

	sbx killall 'sleep 555 &
"$SOURCE_DIR/probe" kill_all
echo survived'
	end_is "$MODE: kill(-1, SIGKILL) kills build.sh" \
	    "end=signaled status=9"
	check "$MODE: host root process survived kill(-1)" kill -0 "$HOSTSLEEP"
	check "$MODE: host build-user process survived kill(-1)" \
	    kill -0 "$XSLEEP"

	sbx persist1 '"$SOURCE_DIR/probe" w:t1:/tmp/persist w:t2:/var/tmp/persist \
w:t3:/dev/shm/persist'
	probe_is "$MODE, build A writes" t1 "$OK0"
	probe_is "$MODE, build A writes" t2 "$OK0"
	probe_is "$MODE, build A writes" t3 "$OK0"
	sbx persist2 '"$SOURCE_DIR/probe" r:t1:/tmp/persist \
r:t2:/var/tmp/persist r:t3:/dev/shm/persist'
	probe_is "$MODE, build B sees nothing" t1 'rc=-1 errno=ENOENT sig=0'
	probe_is "$MODE, build B sees nothing" t2 'rc=-1 errno=ENOENT sig=0'
	probe_is "$MODE, build B sees nothing" t3 'rc=-1 errno=ENOENT sig=0'
}

# Two real builds with the host toolchain.
builds() {
	MODE=$1
	rm -rf "$DEST"/*
	sbx make 'set -e
make -f "$SOURCE_DIR/Makefile" SRCDIR="$SOURCE_DIR" PREFIX=/usr
make -f "$SOURCE_DIR/Makefile" SRCDIR="$SOURCE_DIR" PREFIX=/usr DESTDIR="$DESTDIR" install'
	end_is "$MODE: gcc+make out-of-tree build" "end=exited status=0"
	check "$MODE: the program runs" test \
	    "$("$DEST/usr/bin/cproj-hello" 2>&1)" = \
	    "cproj (plain make): built inside the peipkg sandbox"
	rm -rf "$DEST"/*
	sbx autotools 'set -e
cp -a "$SOURCE_DIR/." ./tree
cd tree
./configure --prefix=/usr
make
make install DESTDIR="$DESTDIR"'
	end_is "$MODE: cp -a, configure, make install DESTDIR=" \
	    "end=exited status=0"
	(cd "$DEST" && find . | sort) > "$M/files.got"
	printf '%s\n' . ./usr ./usr/bin ./usr/bin/cproj-hello ./usr/share \
	    ./usr/share/doc ./usr/share/doc/cproj ./usr/share/doc/cproj/README \
	    > "$M/files.want"
	check "$MODE: DESTDIR holds exactly the installed files" cmp \
	    "$M/files.want" "$M/files.got"
	check "$MODE: the configured program runs" test \
	    "$("$DEST/usr/bin/cproj-hello" 2>&1)" = \
	    "cproj 1.0: built inside the peipkg sandbox"
	rm -rf "$DEST"/*
}

# Set-up errors come back as errors, not as a build result.
setup_errors() {
	MODE=$1
	sbx badsrc 'true' --source "$SRC/../src"
	check "$MODE: non-canonical source refused" test "$SBX_RC" = 1
	check "$MODE: with a reason" grep -q "not canonical" "$OUT.err"
	sbx badhide 'true' --hide "$SRC"
	check "$MODE: hiding SOURCE_DIR refused" grep -q "would hide" \
	    "$OUT.err"
}

for mode in $MODES; do
	setup_mode "$mode"
	sbx preflight 'echo ready'
	if [ "$SBX_RC" != 0 ]; then
		if [ "$TAP_N" = 0 ] &&
		    grep -q "clone with new namespaces" "$OUT.err"; then
			skip_all "no namespaces here: $(cat "$OUT.err")"
		fi
		notok "$mode: sandbox set-up"; diag "$(cat "$OUT.err")"
		continue
	fi
	ok "$mode: sandbox set-up"
	static_probes "$mode"
	controls "$mode"
	limits "$mode"
	builds "$mode"
	setup_errors "$mode"
done

# Controls on the host for the probes above.
check "host: the listener answers outside the sandbox" sh -c \
    "'$PROBE' tcp:lo:127.0.0.1:$PORT | grep -q '\"rc\":0,'"
if [ -n "$SBXUSER" ] && findmnt -no OPTIONS -T "$BASE" | grep -q nosuid
then
	ok "host: setuid control # SKIP $BASE is on a nosuid mount"
elif [ -n "$SBXUSER" ]; then
	check "host: the setuid copy of id does give euid 0 outside" sh -c \
	    "test \"\$(setpriv --reuid $XUID --regid $XGID --clear-groups \
$BASE/root/src/suid-id -u)\" = 0"
fi
if [ -n "$SBXUSER" ]; then
	RUNAS=
	sbx rootuid 'true' --uid 0 --gid 0
	check "root: refuses to run a build as host root" grep -q \
	    "refusing to run a build as host uid/gid 0" "$OUT.err"
fi
done_testing
