# farm-lib.sh: shared set-up for the tests that run the real daemon
# (every real role, real sandboxed builds) on the demo farm of
# scripts/demo-fixture: daemon-nginx, daemon-socket, daemon-worker-kill,
# daemon-journal and daemon-cgroup.  Sourced after tests/lib.sh.

# farm_require CMD...: skip unless the programs are built, we are root,
# user namespaces work and every CMD is installed; make sure the role
# and build users exist.
farm_require() {
	[ -x "$top_builddir/peipkg-manager" ] &&
	    [ -x "$top_builddir/sandbox/peipkg-buildd" ] ||
	    skip_all "programs not built"
	[ "$(id -u)" = 0 ] ||
	    skip_all "the daemon's privilege separation needs root"
	unshare -U true 2>/dev/null ||
	    skip_all "user namespaces are not available"
	for _c in "$@"; do
		command -v "$_c" >/dev/null || skip_all "$_c is not installed"
	done
	for _u in peipkg peipkg-build; do
		getent passwd "$_u" >/dev/null || useradd --system \
		    --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$_u" ||
		    skip_all "cannot create user $_u"
	done
}

# farm_bin: private copies of the daemon and the worker.  Every process
# of the test then has $TAP_TMP in its command line (the roles re-exec
# the parent's binary), so `pgrep -f "$TAP_TMP"` finds them all.  Sets
# PM, PEIPKG_BUILDD_PATH, F (the farm) and STATE (its repository).
farm_bin() {
	chmod 755 "$TAP_TMP"
	mkdir -p "$TAP_TMP/bin"
	cp "$top_builddir/peipkg-manager" \
	    "$top_builddir/sandbox/peipkg-buildd" "$TAP_TMP/bin/"
	PM=$TAP_TMP/bin/peipkg-manager
	PEIPKG_BUILDD_PATH=$TAP_TMP/bin/peipkg-buildd
	export PEIPKG_BUILDD_PATH
	F=$TAP_TMP/farm
	STATE=$F/state/repo
}

# farm_fixture PORT: the demo farm (scripts/demo-fixture) in $F with
# [http] on 127.0.0.1:PORT; CFG is its config.  A failure ends the test.
farm_fixture() {
	sh "$top_srcdir/scripts/demo-fixture" "$F" "$1" >/dev/null 2>&1 ||
	    { notok "demo fixture"; done_testing; exit; }
	CFG=$F/etc/config.toml
}

# farm_stop PID: SIGTERM, then up to 10 s for the process to go.
farm_stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for COND TENTHS: eval COND until it holds, at most TENTHS x 0.1 s.
wait_for() {
	_i=0
	while ! eval "$1" >/dev/null 2>&1; do
		_i=$((_i + 1)); [ $_i -le "$2" ] || return 1
		sleep 0.1
	done
}

# archive: "name@version ..." of $STATE's archive index, sorted.
archive() { python3 -c '
import json, sys
a = json.load(open(sys.argv[1] + "/index/archive.json"))
print(" ".join(sorted("%s@%s" % (p["name"], p["version"]) for p in a["packages"])))
' "$STATE"; }

# archived NAME@VERSION: the archive index lists it.
archived() { archive | tr ' ' '\n' | grep -qx -- "$1"; }

# tag VERSION: commit and tag a release of the demo upstream.
tag() {
	(cd "$F/upstream/work" && printf 'Hello %s\n' "$1" >share/MESSAGE &&
	    printf 'greeter %s\n' "$1" >share/VERSION &&
	    git commit -qam "release $1" && git tag -a "v$1" -m "v$1" &&
	    git push -q "$F/upstream/greeter.git" "v$1")
}

# farm_recipe ID [TOML]: a watched recipe on the demo upstream building
# v1.2.0 only, one noarch package ID of usr/share/ID/*, TOML appended;
# the caller writes its build.sh.
farm_recipe() {
	mkdir -p "$F/recipes/$1"
	cat >"$F/recipes/$1/peipkg.toml" <<EOT
[meta]
license = "MIT"
build_script = "build.sh"

[[package]]
name = "$1"
architecture = "noarch"
files = ["usr/share/$1/*"]

[upstream]
git = "file://$F/upstream/greeter.git"
tag_pattern = "^v(1\\\\.2\\\\.0)\$"
${2:-}
EOT
}
