#!/bin/sh
# publisher-role.sh: the publisher role (src/publisher.c,
# src/publisher_upload.c, src/signer_remote.c) driven by a fake parent
# (python3 on the role's fd 3) that answers its index-signature
# requests with the test key (openssl), run as root exactly as
# `peipkg-manager -P publisher` is, demoting to nobody.
#  - first start: the repository is initialised (peipkg-repo verify
#    --mode both passes), PM_PUB_SET is empty, PM_READY, and a full
#    upload to a local rclone remote makes the remote equal the state;
#  - a job's four packages are published in one switch (index 2), only
#    the expected names are read (an extra file in out/ is ignored),
#    PM_PUB_SET lists them, the upload runs in order (packages, keys,
#    indexes, descriptor) and the remote equals the state again;
#  - a package with a wrong version, another package under an expected
#    name, a tampered package, a missing file and a symlink are refused
#    naming the file, and the state is unchanged byte for byte;
#  - an rclone failure is reported (PM_UPLOAD_STATE failed, WARN
#    "upload failed" with next_retry_after), retried with backoff, a
#    later publish still succeeds and supersedes the retry, and once
#    rclone works again the remote catches up;
#  - a second start on an existing state announces its archive in
#    PM_PUB_SET and clamps generated_at when the clock is behind it.
# TAP.
. "$top_srcdir/tests/lib.sh"

ROLE=$top_builddir/tests/publisher-role
REPO=$top_builddir/peipkg-repo
[ "$(id -u)" -eq 0 ] || skip_all "needs root (the publisher demotes to nobody)"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v openssl >/dev/null || skip_all "openssl not installed"
RCLONE=$(command -v rclone) || skip_all "rclone not installed"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
for p in "$ROLE" "$REPO"; do
	[ -x "$p" ] || { echo "1..1"; echo "not ok 1 - not built: $p"; exit 0; }
done
plan 47

T=$TAP_TMP
KEYS=$VECTORS/keys
V1=$VECTORS/repos/multi-package/01-publish-libfoo-set/new
V2=$VECTORS/repos/multi-package/02-publish-globs-and-hello/new
chmod 755 "$T"
mkdir -p "$T/state" "$T/remote" "$T/bin" "$T/job1/out" "$T/bad/out" \
    "$T/job3/out" "$T/job4/out"
cp "$V1"/*.peipkg "$T/job1/out/"	# hello_0.1-1 is not expected
cp "$V2"/hello_0.2-1_noarch.peipkg "$T/job3/out/"
cp "$V2"/globs*.peipkg "$T/job4/out/"
# Bad outputs: wrong version, another package under a right name,
# tampered bytes, a symlink.
cp "$V1/hello_0.1-1_noarch.peipkg" "$T/bad/out/hello_0.3-1_noarch.peipkg"
cp "$V2/globs_0.9-3_x86_64.peipkg" \
    "$T/bad/out/globs-conf_0.9-3_noarch.peipkg"
cp "$V2/hello_0.2-1_noarch.peipkg" "$T/bad/out/hello_0.4-1_noarch.peipkg"
python3 - "$T/bad/out/hello_0.4-1_noarch.peipkg" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x55
open(p, "wb").write(bytes(b))
EOF
ln -s "$V2/hello_0.2-1_noarch.peipkg" "$T/bad/out/hello_0.5-1_noarch.peipkg"
chown nobody "$T/state" "$T/remote"
: >"$T/calls.log"
chmod 666 "$T/calls.log"
cat >"$T/bin/rclone" <<EOF
#!/bin/sh
echo "\$*" >>"$T/calls.log"
echo "RCLONE_CONFIG=\$RCLONE_CONFIG" >>"$T/env.log"
case "\$*" in
copyto*index/*) [ -e "$T/fail" ] && { echo "simulated outage" >&2; exit 5; } ;;
esac
exec "$RCLONE" "\$@"
EOF
chmod 755 "$T/bin/rclone"
: >"$T/env.log"
chmod 666 "$T/env.log"

cat >"$T/fp.py" <<'EOF'
# A fake parent for one publisher process; scenario in argv[1].
import os, socket, struct, subprocess, sys, time, array

scenario, role, tmp, keypem, pubhex = sys.argv[1:6]
HDR = struct.Struct("<HBBIII")
LOG, READY, SHUTDOWN = 1, 2, 3
CONF_PUBLISHER, CONF_ROLE = 109, 111
SIGN_REQ, SIGN_ANS = 400, 402
PUB_REQ, PUB_DONE, PUB_SET, UPLOAD_STATE = 600, 601, 602, 603

def out(*a):
    print(*a); sys.stdout.flush()

def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<I", len(b)) + b

def send(sock, typ, payload=b"", mid=0, fd=None):
    rec = HDR.pack(typ, 1, 1 if fd is not None else 0, len(payload), mid, 0) + payload
    anc = [] if fd is None else [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
    sock.sendmsg([rec], anc)

class R:
    def __init__(self, b): self.b, self.o = b, 0
    def take(self, n):
        v = self.b[self.o:self.o + n]; self.o += n
        assert len(v) == n, "truncated"
        return v
    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack("<H", self.take(2))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]
    def i64(self): return struct.unpack("<q", self.take(8))[0]
    def str(self): return self.take(struct.unpack("<I", self.take(4))[0]).decode()
    def end(self): assert self.o == len(self.b), "trailing bytes"

def sign(digest):
    with open(tmp + "/digest", "wb") as f:
        f.write(digest)
    return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", keypem, "-rawin",
                           "-in", tmp + "/digest"], capture_output=True, check=True).stdout

uploads = []
def recv(sock, want, timeout=20):
    """Next message of a type in `want`; logs, signature requests and
    upload states are handled on the way."""
    deadline = time.time() + timeout
    while True:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if want:
                out("timeout waiting for %s" % (want,))
            return None, None, None
        if not data:
            out("eof"); return None, None, None
        typ, ver, fl, ln, mid, res = HDR.unpack(data[:16])
        r = R(data[16:16 + ln])
        if typ == LOG:
            lvl, msg = r.u8(), r.str()
            kv = " ".join("%s=%s" % (r.str(), r.str()) for _ in range(r.u16()))
            out("log %d %s | %s" % (lvl, msg, kv))
        elif typ == SIGN_REQ:
            kind, subject, key, digest = r.u8(), r.str(), r.str(), r.take(32)
            r.end()
            out("signreq %d %s key=%s" % (kind, subject, key))
            send(sock, SIGN_ANS, bytes([1]) + sign(digest) + bytes.fromhex(pubhex) + s(""), mid)
        elif typ == UPLOAD_STATE:
            st, err, nxt, iv = r.u8(), r.str(), r.i64(), r.u64()
            r.end()
            uploads.append((st, err, nxt, iv))
            out("upload state=%d iv=%d next_in=%d err=%s" %
                (st, iv, nxt - int(time.time()) if nxt else -1, err.replace("\n", " ")))
        if typ in want:
            return typ, mid, r

def wait_upload(sock, state, iv=None, since=0, timeout=30):
    """Index after the first upload state at or after `since` that
    matches; waits for it to arrive."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for i in range(since, len(uploads)):
            if uploads[i][0] == state and (iv is None or uploads[i][3] == iv):
                return i + 1
        recv(sock, (), timeout=0.5)
    out("no upload state %d" % state)
    return len(uploads)

def pubset(sock):
    """One complete PM_PUB_SET sequence (until final)."""
    pairs, first = [], None
    while True:
        typ, mid, r = recv(sock, (PUB_SET,))
        if typ is None:
            return None, pairs
        final, reset, n = r.u8(), r.u8(), r.u16()
        pairs += ["%s=%s" % (r.str(), r.str()) for _ in range(n)]
        r.end()
        if first is None:
            first = reset
        if final:
            return first, pairs

def publish(sock, job, recipe, version, files, outdir):
    fd = os.open(outdir, os.O_RDONLY | os.O_DIRECTORY)
    p = s(recipe) + s(version) + struct.pack("<H", len(files)) + b"".join(s(f) for f in files)
    send(sock, PUB_REQ, p, job, fd)
    os.close(fd)
    typ, mid, r = recv(sock, (PUB_DONE,), timeout=60)
    if typ is None:
        return
    ok, err, iv, clamped = r.u8(), r.str(), r.u64(), r.u8()
    r.end()
    out("done job=%d ok=%d iv=%d clamped=%d err=%s" % (mid, ok, iv, clamped, err))
    if ok:
        reset, pairs = pubset(sock)
        out("set job=%d reset=%d %s" % (job, reset, " ".join(pairs)))

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
pid = os.fork()
if pid == 0:
    os.dup2(b.fileno(), 3)
    os.closerange(4, 256)
    os.execve(role, [role], dict(os.environ, PEIPKG_TEST_PROBE="1"))
b.close()
send(a, CONF_ROLE, s("nobody") + s("") + bytes([0]))
repo = tmp + "/state/repo" if scenario == "main" else tmp + "/state2/repo"
conf = s(repo) + s("multi-repo") + s("Multi-package publishes") + s("test-farm")
conf += bytes([1 if scenario == "main" else 0]) + s(tmp + "/remote" if scenario == "main" else "")
conf += struct.pack("<qq", 1000000000, 2000000000) + bytes.fromhex(pubhex)
conf += s(tmp + "/rclone.conf")
send(a, CONF_PUBLISHER, conf)
reset, pairs = pubset(a)
out("set start reset=%s %s" % (reset, " ".join(pairs)))
typ, _, _ = recv(a, (READY,))
out("ready" if typ == READY else "not ready")
with open("/proc/%d/status" % pid) as f:
    for line in f:
        k = line.split(":")[0]
        if k in ("Uid", "NoNewPrivs", "Seccomp", "CapEff"):
            out("status %s %s" % (k, line.split(":", 1)[1].split()[0]))
kids = [int(x) for x in open("/proc/%d/task/%d/children" % (pid, pid)).read().split()]
for k in kids:
    with open("/proc/%d/status" % k) as f:
        for line in f:
            if line.split(":")[0] in ("Uid", "NoNewPrivs", "Seccomp"):
                out("uploader %s %s" % (line.split(":")[0], line.split(":", 1)[1].split()[0]))

if scenario == "main":
    wait_upload(a, 0, 1)
    out("mark initial-upload")
    job1 = ["libfoo_1.2.3-1_x86_64.peipkg", "libfoo-dev_1.2.3-1_x86_64.peipkg",
            "libfoo-doc_1.2.3-1_noarch.peipkg", "libfoo-tools_1.2.3-1_x86_64.peipkg"]
    publish(a, 11, "libfoo", "1.2.3-1", job1, tmp + "/job1/out")
    wait_upload(a, 0, 2)
    out("mark upload-2")
    subprocess.run(["cp", "-a", repo, tmp + "/before"], check=True)
    bad = tmp + "/bad/out"
    publish(a, 21, "hello", "0.3-1", ["hello_0.3-1_noarch.peipkg"], bad)
    publish(a, 22, "globs", "0.9-3", ["globs-conf_0.9-3_noarch.peipkg"], bad)
    publish(a, 23, "hello", "0.4-1", ["hello_0.4-1_noarch.peipkg"], bad)
    publish(a, 24, "hello", "0.5-1", ["hello_0.5-1_noarch.peipkg"], bad)
    publish(a, 25, "hello", "0.6-1", ["hello_0.6-1_noarch.peipkg"], bad)
    publish(a, 26, "globs", "0.9-3", ["../job4/out/globs_0.9-3_x86_64.peipkg"], bad)
    subprocess.run(["cp", "-a", repo, tmp + "/afterbad"], check=True)
    out("mark bad-done")
    open(tmp + "/fail", "w").close()
    n = len(uploads)
    publish(a, 13, "hello", "0.2-1", ["hello_0.2-1_noarch.peipkg"], tmp + "/job3/out")
    n = wait_upload(a, 2, since=n)
    out("mark failed-once")
    n = wait_upload(a, 1, since=n)	# the retry starts on its own
    n = wait_upload(a, 2, since=n)
    out("mark retried")
    job4 = ["globs_0.9-3_x86_64.peipkg", "globs-conf_0.9-3_noarch.peipkg",
            "globs-extra_0.9-3_x86_64.peipkg", "globs-l10n_0.9-3_noarch.peipkg"]
    publish(a, 14, "globs", "0.9-3", job4, tmp + "/job4/out")
    os.unlink(tmp + "/fail")
    wait_upload(a, 0, 4, since=n)
    out("mark upload-4")
else:
    publish(a, 31, "hello", "0.2-1", ["hello_0.2-1_noarch.peipkg"], tmp + "/job3/out")

send(a, SHUTDOWN)
a.settimeout(10)
try:
    while a.recv(65536):
        pass
except Exception:
    pass
_, st = os.waitpid(pid, 0)
out("exit %d" % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)))
EOF

PUBHEX=$(cat "$KEYS/public-key.hex")
PATH="$T/bin:$PATH" python3 "$T/fp.py" main "$ROLE" "$T" \
    "$KEYS/test-ed25519.pem" "$PUBHEX" >"$T/out" 2>"$T/err"
rc=$?
check "fake parent ran to the end" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag "$(tail -20 "$T/err")"
S=$T/state/repo
upto() { sed -n "1,/^mark $1/p" "$T/out"; }
after() { sed -n "/^mark $1/,\$p" "$T/out"; }

# ---- first start: init, empty set, ready, full upload
check "the three index documents were signed through the parent" \
    test "$(upto initial | grep -c '^signreq 3 ')" -eq 3
check "signature subjects are the repository documents" \
    sh -c "upto() { sed -n '1,/^mark initial/p' '$T/out'; }; upto | grep '^signreq' | sort | tr '\n' ' ' | grep -qx 'signreq 3 index/active.json key= signreq 3 index/archive.json key= signreq 3 repo.json key= '"
check "PM_PUB_SET at start: reset, empty" grep -qx "set start reset=1 " "$T/out"
check "PM_READY" grep -qx ready "$T/out"
check "the publisher runs as nobody" grep -qx "status Uid $(id -u nobody)" "$T/out"
check "NoNewPrivs 1, no capabilities" \
    sh -c "grep -qx 'status NoNewPrivs 1' '$T/out' && grep -qx 'status CapEff 0000000000000000' '$T/out'"
check "the publisher has a seccomp filter" grep -qx "status Seccomp 2" "$T/out"
# Forbidden calls fail under the filter: EPERM, or SIGSYS (31) for the
# ones it kills outright.
for call in socket ptrace mount; do
	check "a forbidden call fails in the publisher: $call" \
	    grep -Eq "^log [0-9] test probe \| call=$call result=(errno:1|signal:31)\$" "$T/out"
done
check "the uploader runs as nobody with NoNewPrivs and a filter" \
    sh -c "grep -qx 'uploader Uid $(id -u nobody)' '$T/out' && grep -qx 'uploader NoNewPrivs 1' '$T/out' && grep -qx 'uploader Seccomp 2' '$T/out'"
check "repository initialised (logged)" \
    grep -q "^log 1 repository initialised | repo=$S name=multi-repo generated_at=" "$T/out"
check "initial full upload completes (index 1)" \
    sh -c "upto() { sed -n '1,/^mark initial/p' '$T/out'; }; upto | grep -q '^upload state=0 iv=1 '"
check "rclone got the configured RCLONE_CONFIG" \
    grep -qx "RCLONE_CONFIG=$T/rclone.conf" "$T/env.log"

# ---- a publish of four packages
check "the job is published in one switch (index 2)" \
    grep -qx "done job=11 ok=1 iv=2 clamped=0 err=" "$T/out"
check "PM_PUB_SET adds exactly the four packages" \
    grep -qx "set job=11 reset=0 libfoo=1.2.3-1 libfoo-dev=1.2.3-1 libfoo-doc=1.2.3-1 libfoo-tools=1.2.3-1" "$T/out"
check "the extra file in out/ was not published" \
    sh -c "grep -q '\"libfoo-dev\"' '$T/before/index/archive.json' && ! grep -q '\"hello\"' '$T/before/index/archive.json'"
check "logged INFO published" \
    grep -q "^log 1 published | job=11 recipe=libfoo version=1.2.3-1 index_version=2 packages=4 generated_at=" "$T/out"
check "the state verifies (peipkg-repo verify --mode both)" \
    "$REPO" verify --repo "$S" --mode both
check "the upload after the publish completes (index 2)" \
    grep -q "^log 1 upload complete | index_version=2 remote=$T/remote" "$T/out"
sed -n '/^mark initial/,/^mark upload-2/p' "$T/out" >/dev/null
sed "s|$T/state/.repo.upload|S|g; s|$T/remote|R|g; s|--files-from-raw=[^ ]*|FILES|; s|--exclude=[^ ]* ||g" \
    "$T/calls.log" | sed -n '/^sync/,$p' | sed '1d' | sed -n '1,9p' >"$T/order"
cat >"$T/order.want" <<'EOF'
copy FILES S R
copy S/keys R/keys
copyto S/index/archive.json R/index/archive.json
copyto S/index/archive.json.sig R/index/archive.json.sig
copyto S/index/active.json R/index/active.json
copyto S/index/active.json.sig R/index/active.json.sig
copyto S/repo.json R/repo.json
copyto S/repo.json.sig R/repo.json.sig
sync S R
EOF
check "the second upload ran in order: packages, keys, indexes, descriptor, sync" \
    diff "$T/order.want" "$T/order"
check "the snapshot is gone after the upload" test ! -e "$T/state/.repo.upload"

# ---- refusals
refused() {	# job, expected error text
	grep -qxF "done job=$1 ok=0 iv=0 clamped=0 err=$2" "$T/out"
}
check "a package with the wrong version is refused, naming the file" \
    refused 21 "hello_0.3-1_noarch.peipkg: the package is hello 0.1-1 for noarch, not what the job was expected to produce (version 0.3-1)"
check "another package under an expected name is refused" \
    refused 22 "globs-conf_0.9-3_noarch.peipkg: the package is globs 0.9-3 for x86_64, not what the job was expected to produce (version 0.9-3)"
check "a tampered package is refused by the verifier" \
    sh -c "grep -q '^done job=23 ok=0 iv=0 clamped=0 err=hello_0.4-1_noarch.peipkg: rejected by the package verifier: ' '$T/out'"
check "a symlink is refused" \
    refused 24 "hello_0.5-1_noarch.peipkg: Too many levels of symbolic links"
check "a missing file is refused" \
    refused 25 "hello_0.6-1_noarch.peipkg: No such file or directory"
check "a name with a path is refused" \
    refused 26 "not a package file name"
check "refusals are logged as WARN publish failed" \
    grep -q "^log 2 publish failed | job=21 recipe=hello version=0.3-1 err=hello_0.3-1_noarch.peipkg: " "$T/out"
check "the refusals left the state unchanged byte for byte" \
    diff -r "$T/before" "$T/afterbad"
check "and left nothing beside it" \
    sh -c "test \"\$(ls -A '$T/state' | tr '\n' ' ')\" = '.repo.lock repo '"

# ---- upload failure, retry, a later publish
check "a publish while rclone fails still succeeds (index 3)" \
    grep -qx "done job=13 ok=1 iv=3 clamped=0 err=" "$T/out"
check "the failure is reported in PM_UPLOAD_STATE with the error" \
    sh -c "sed -n '/^mark bad-done/,/^mark failed-once/p' '$T/out' | grep -q '^upload state=2 iv=2 next_in=[01] err=.*simulated outage'"
check "logged WARN upload failed with next_retry_after=1s" \
    grep -q '^log 2 upload failed | err=.*simulated outage.* next_retry_after=1s index_version=3$' "$T/out"
check "retried on its own with a doubled delay (2s)" \
    grep -q '^log 2 upload failed | err=.*simulated outage.* next_retry_after=2s index_version=3$' "$T/out"
check "the retry ran again by itself (running, then failed)" \
    sh -c "sed -n '/^mark failed-once/,/^mark retried/p' '$T/out' | grep -c '^upload state=[12] ' | grep -qx 2"
check "a later publish succeeds while uploads fail (index 4)" \
    grep -qx "done job=14 ok=1 iv=4 clamped=0 err=" "$T/out"
check "once rclone works the upload catches up (index 4)" \
    grep -q "^upload state=0 iv=4 " "$T/out"
check "the remote equals the state" diff -r "$S" "$T/remote"
check "the final state verifies" "$REPO" verify --repo "$S" --mode both
check "exits 0 on PM_SHUTDOWN" grep -qx "exit 0" "$T/out"

# ---- second start on an existing state, clock behind it
mkdir "$T/state2"
"$REPO" init --name multi-repo --timestamp 2099-01-01T00:00:00Z \
    --sign-key "$KEYS/test-ed25519.seed" --out "$T/state2/repo" >/dev/null
"$REPO" publish --in "$T/state2/repo" --out "$T/state2/repo" --new "$V1" \
    --timestamp 2099-01-02T00:00:00Z --sign-key "$KEYS/test-ed25519.seed" \
    >/dev/null
chown -R nobody "$T/state2"
python3 "$T/fp.py" clamp "$ROLE" "$T" "$KEYS/test-ed25519.pem" "$PUBHEX" \
    >"$T/out2" 2>"$T/err2"
check "second run ran to the end" test "$?" -eq 0
check "PM_PUB_SET at start lists the existing archive" \
    grep -qx "set start reset=1 hello=0.1-1 libfoo=1.2.3-1 libfoo-dev=1.2.3-1 libfoo-doc=1.2.3-1 libfoo-tools=1.2.3-1" "$T/out2"
check "no init on an existing state" sh -c "! grep -q '^signreq' '$T/out2' || grep -q '^done job=31' '$T/out2'"
check "a publish behind the previous generated_at is clamped" \
    grep -qx "done job=31 ok=1 iv=3 clamped=1 err=" "$T/out2"
check "logged WARN generated_at clamped" \
    grep -q "^log 2 generated_at clamped | job=31 requested=.* generated_at=2099-01-02T00:00:00Z$" "$T/out2"
