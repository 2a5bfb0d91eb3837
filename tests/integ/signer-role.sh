#!/bin/sh
# signer-role.sh: the signer role (src/signer.c) driven by a fake parent
# (python3, a SOCK_SEQPACKET socketpair on the role's fd 3), run as root
# exactly as `peipkg-manager -P signer` is: PM_CONF_ROLE, two keys passed
# as fds, PM_CONF_KEYS_END; then PM_SIGNER_KEYS, the sandbox (nobody,
# chroot, seccomp), PM_READY; then signing requests under the policy:
# a package signature for a running job verifies and equals the
# Ed25519 signature of the digest by the test key; a second one for the
# same package, an unknown job, an undeclared package, an ungranted
# binary path/key, an index request from a worker and anything after
# PM_SIGN_JOB_END are refused with their reason; the process cannot open
# files, is not dumpable, has NoNewPrivs and a seccomp filter, has the
# key pages locked, and no key byte in its environment or command line.
# TAP.
. "$top_srcdir/tests/lib.sh"

ROLE=$top_builddir/tests/signer-role
[ "$(id -u)" -eq 0 ] || skip_all "needs root (the signer demotes to nobody and chroots)"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v openssl >/dev/null || skip_all "openssl not installed"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
[ -x "$ROLE" ] || { echo "1..1"; echo "not ok 1 - not built: $ROLE"; exit 0; }
plan 37

T=$TAP_TMP
KEYS=$VECTORS/keys
chmod 755 "$T"
openssl genpkey -algorithm ed25519 -out "$T/vendor.pem" 2>/dev/null
openssl pkey -in "$T/vendor.pem" -pubout -outform DER 2>/dev/null |
    tail -c 32 | od -An -tx1 | tr -d ' \n' >"$T/vendor.pub.hex"
openssl pkey -in "$T/vendor.pem" -pubout -out "$T/vendor.pub.pem" 2>/dev/null
openssl pkey -in "$T/vendor.pem" -outform DER 2>/dev/null | tail -c 32 \
    >"$T/vendor.seed"

cat >"$T/fp.py" <<'EOF'
# A fake parent for one signer process.  Writes a transcript to stdout:
#   keys <name|-> <pubhex>       answers, logs, probe results, pids.
import os, socket, struct, subprocess, sys, time, array

role, tmp, seed, vendor = sys.argv[1:5]
mode = sys.argv[5] if len(sys.argv) > 5 else "full"
HDR = struct.Struct("<HBBIII")
PM = dict(LOG=1, READY=2, SHUTDOWN=3, PING=4, PONG=5, KEY=107, KEYS_END=108,
          SIGNER_KEYS=110, CONF_ROLE=111, REQ=400, RELAY=401, ANS=402,
          JOB=403, JOB_END=404)
NAMES = {v: k for k, v in PM.items()}

def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<I", len(b)) + b

def send(sock, typ, payload=b"", mid=0, fd=None):
    rec = HDR.pack(typ, 1, 1 if fd is not None else 0, len(payload), mid, 0) + payload
    if fd is None:
        sock.sendmsg([rec])
    else:
        sock.sendmsg([rec], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])

class Reader:
    def __init__(self, b): self.b, self.o = b, 0
    def take(self, n):
        v = self.b[self.o:self.o + n]; self.o += n
        assert len(v) == n, "truncated"
        return v
    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack("<H", self.take(2))[0]
    def u32(self): return struct.unpack("<I", self.take(4))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]
    def str(self): return self.take(self.u32()).decode()
    def end(self): assert self.o == len(self.b), "trailing bytes"

def recv(sock, want, timeout=10):
    """Next message of type `want`; PM_LOG lines are printed on the way."""
    sock.settimeout(timeout)
    while True:
        try:
            data, anc, flags, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16))
        except ConnectionResetError:
            data = b""
        if not data:
            print("eof"); sys.stdout.flush(); return None
        typ, ver, fl, ln, mid, res = HDR.unpack(data[:16])
        r = Reader(data[16:16 + ln])
        if typ == PM["LOG"]:
            lvl, msg, n = r.u8(), r.str(), None
            n = r.u16()
            kv = " ".join("%s=%s" % (r.str(), r.str()) for _ in range(n))
            print("log %d %s | %s" % (lvl, msg, kv))
            continue
        if typ != want:
            print("unexpected %s" % NAMES.get(typ, typ)); continue
        return mid, r

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
pid = os.fork()
if pid == 0:
    os.dup2(b.fileno(), 3)
    os.closerange(4, 256)
    env = dict(os.environ, PEIPKG_TEST_PROBE_OPEN="/etc/passwd")
    os.execve(role, [role], env)
b.close()
print("pid %d" % pid)
send(a, PM["CONF_ROLE"], s("nobody") + s(tmp + "/empty") + bytes([0]))
for name, path in (("", seed), ("vendor", vendor)):
    fd = os.open(path, os.O_RDONLY)
    send(a, PM["KEY"], s(name), fd=fd)
    os.close(fd)
if mode == "badkey":
    # Nothing left unread when the signer gives up (no reset).
    recv(a, PM["SIGNER_KEYS"])		# prints the logs, then eof
    _, st = os.waitpid(pid, 0)
    print("exit %d" % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)))
    sys.exit(0)
send(a, PM["KEYS_END"])
mid, r = recv(a, PM["SIGNER_KEYS"])
for _ in range(r.u16()):
    name = r.str()
    print("keys %s %s" % (name or "-", r.take(32).hex()))
r.end()
recv(a, PM["READY"])
print("ready")
sys.stdout.flush()
with open("/proc/%d/status" % pid) as f:
    for line in f:
        k = line.split(":")[0]
        if k in ("Uid", "NoNewPrivs", "Seccomp", "VmLck", "CapEff", "CapBnd"):
            print("status %s %s" % (k, line.split(":", 1)[1].split()[0]))
print("owner %d" % os.stat("/proc/%d/status" % pid).st_uid)
print("root %s" % os.readlink("/proc/%d/root" % pid))
fds = [os.readlink("/proc/%d/fd/%s" % (pid, x)) for x in os.listdir("/proc/%d/fd" % pid)]
print("fds %s" % " ".join(sorted(fds)))
for what in ("environ", "cmdline"):
    with open("/proc/%d/%s" % (pid, what), "rb") as f:
        print("%s %s" % (what, f.read().hex()))

send(a, PM["PING"], struct.pack("<Q", 77), mid=5)
mid, r = recv(a, PM["PONG"])
print("pong %d %d" % (mid, r.u64()))

def job(jid, recipe, version, pkgs, grants):
    p = s(recipe) + s(version) + struct.pack("<H", len(pkgs))
    p += b"".join(s(x) for x in pkgs) + struct.pack("<H", len(grants))
    p += b"".join(s(x) + s(y) for x, y in grants)
    send(a, PM["JOB"], p, mid=jid)

relay_id = 0
def sign(label, origin, jid, kind, subject, key, digest):
    global relay_id
    relay_id += 1
    p = bytes([origin]) + struct.pack("<I", jid) + bytes([kind]) + s(subject) + s(key) + digest
    send(a, PM["RELAY"], p, mid=relay_id)
    mid, r = recv(a, PM["ANS"])
    ok, sig, pub, err = r.u8(), r.take(64), r.take(32), r.str()
    r.end()
    assert mid == relay_id, "answer id %d for relay %d" % (mid, relay_id)
    print("ans %s ok=%d sig=%s pub=%s err=%s" % (label, ok, sig.hex(), pub.hex(), err))
    sys.stdout.flush()

D = lambda c: bytes([c]) * 32
WORKER, PUBLISHER, PACKAGE, BINARY, INDEX = 5, 4, 1, 2, 3
job(7, "libfoo", "1.2.3-1", ["libfoo", "libfoo-dev"], [("usr/bin/foo", "vendor")])
sign("pkg1", WORKER, 7, PACKAGE, "libfoo", "", D(0xa1))
sign("pkg1-again", WORKER, 7, PACKAGE, "libfoo", "", D(0xa1))
sign("nojob", WORKER, 99, PACKAGE, "libfoo", "", D(0xa2))
sign("undeclared", WORKER, 7, PACKAGE, "evil", "", D(0xa3))
sign("ungranted-path", WORKER, 7, BINARY, "usr/bin/bar", "vendor", D(0xa4))
sign("ungranted-key", WORKER, 7, BINARY, "usr/bin/foo", "secureboot", D(0xa5))
sign("bin", WORKER, 7, BINARY, "usr/bin/foo", "vendor", D(0xa6))
sign("index-worker", WORKER, 7, INDEX, "repo.json", "", D(0xa7))
sign("index", PUBLISHER, 0, INDEX, "index/active.json", "", D(0xa8))
send(a, PM["JOB_END"], mid=7)
sign("after-end", WORKER, 7, PACKAGE, "libfoo-dev", "", D(0xa9))
send(a, PM["PING"], struct.pack("<Q", 78), mid=6)
recv(a, PM["PONG"])
print("alive")
send(a, PM["SHUTDOWN"])
a.settimeout(5)
try:
    while a.recv(65536):
        pass
except Exception:
    pass
_, st = os.waitpid(pid, 0)
print("exit %d" % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)))
EOF

python3 "$T/fp.py" "$ROLE" "$T" "$KEYS/test-ed25519.seed" "$T/vendor.pem" \
    >"$T/out" 2>"$T/err"
rc=$?
check "fake parent ran to the end" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag "$(tail -20 "$T/err")"

field() { sed -n "s/^ans $1 .*$2=\([^ ]*\).*/\1/p" "$T/out"; }
ans_err() { sed -n "s/^ans $1 .*err=//p" "$T/out"; }
verify() {	# label, public key PEM, digest byte
	field "$1" sig | xxd -r -p >"$T/$1.sig"
	python3 -c "import sys; sys.stdout.buffer.write(bytes([0x$3]) * 32)" >"$T/$1.dig"
	openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$T/$1.dig" \
	    -sigfile "$T/$1.sig"
}

check "PM_SIGNER_KEYS carries the package key" \
    grep -qx "keys - $(cat "$KEYS/public-key.hex")" "$T/out"
check "PM_SIGNER_KEYS carries the named key" \
    grep -qx "keys vendor $(cat "$T/vendor.pub.hex")" "$T/out"
check "PM_READY after the keys" grep -qx ready "$T/out"
check "keys loaded are logged with their fingerprints" \
    grep -q "^log 1 signing key loaded | key= fingerprint=$(cat "$KEYS/fingerprint.txt")" "$T/out"

check "package signature for a running job granted" \
    test "$(field pkg1 ok)" = 1
check "it verifies with the package public key" \
    verify pkg1 "$KEYS/test-ed25519.pub.pem" a1
python3 -c "import sys; sys.stdout.buffer.write(bytes([0xa1]) * 32)" >"$T/d1"
openssl pkeyutl -sign -inkey "$KEYS/test-ed25519.pem" -rawin -in "$T/d1" |
    od -An -tx1 | tr -d ' \n' >"$T/want.sig"
check "it is exactly the Ed25519 signature of the digest" \
    test "$(field pkg1 sig)" = "$(cat "$T/want.sig")"
check "the answer names the package public key" \
    test "$(field pkg1 pub)" = "$(cat "$KEYS/public-key.hex")"
check "a second signature of the same package is refused" \
    test "$(ans_err pkg1-again)" = 'package "libfoo" already signed for job 7'
check "an unknown job is refused" test "$(ans_err nojob)" = "no such job 99"
check "an undeclared package is refused" \
    test "$(ans_err undeclared)" = 'package "evil" not declared by the job'
check "an ungranted binary path is refused" \
    test "$(ans_err ungranted-path)" = 'key "vendor" not granted for path usr/bin/bar'
check "an ungranted binary key is refused" \
    test "$(ans_err ungranted-key)" = 'key "secureboot" not granted for path usr/bin/foo'
check "a granted binary path is signed with its named key" \
    test "$(field bin pub)" = "$(cat "$T/vendor.pub.hex")"
check "the binary signature verifies" verify bin "$T/vendor.pub.pem" a6
check "an index signature requested by a worker is refused" \
    test "$(ans_err index-worker)" = "index signing requested by a worker"
check "an index signature for the publisher is granted" \
    verify index "$KEYS/test-ed25519.pub.pem" a8
check "after PM_SIGN_JOB_END the job's requests are refused" \
    test "$(ans_err after-end)" = "no such job 7"
check "refused answers carry ok=0 and no signature" \
    test "$(field nojob ok)/$(field nojob sig | tr -d 0)" = "0/"

check "every signature is logged with digest and fingerprint" \
    grep -q "^log 1 signature issued | job=7 kind=package subject=libfoo key= digest=$(printf 'a1%.0s' $(seq 32)) fingerprint=$(cat "$KEYS/fingerprint.txt") signatures=1$" "$T/out"
check "three signatures issued in all" \
    grep -q "^log 1 signature issued | job=0 kind=index subject=index/active.json .* signatures=3$" "$T/out"
check "refusals are logged as warnings with the reason" \
    grep -q '^log 2 signature refused | job=7 kind=package subject=libfoo key= digest=.* reason=package "libfoo" already signed for job 7 refused=1$' "$T/out"
check "open() fails inside the sandbox (EPERM)" \
    grep -q "^log 1 test probe open | path=/etc/passwd errno=1$" "$T/out"
check "runs as nobody" grep -qx "status Uid $(id -u nobody)" "$T/out"
check "NoNewPrivs 1" grep -qx "status NoNewPrivs 1" "$T/out"
check "Seccomp 2 (filter)" grep -qx "status Seccomp 2" "$T/out"
check "no capabilities" grep -qx "status CapEff 0000000000000000" "$T/out"
check "not dumpable (/proc files stay root's)" grep -qx "owner 0" "$T/out"
check "key pages locked (VmLck > 0)" grep -q "^status VmLck [1-9]" "$T/out"
check "chrooted to the empty directory" grep -qx "root $T/empty" "$T/out"
check "no key file descriptor left open" \
    sh -c "grep '^fds ' '$T/out' | grep -vq -e ed25519 -e vendor.pem"
seedhex=$(od -An -tx1 "$KEYS/test-ed25519.seed" | tr -d ' \n')
vseedhex=$(od -An -tx1 "$T/vendor.seed" | tr -d ' \n')
check "no key bytes in /proc/<pid>/environ or cmdline" \
    sh -c "! grep -e '^environ .*\\($seedhex\\|$vseedhex\\)' -e '^cmdline .*\\($seedhex\\|$vseedhex\\)' '$T/out'"
check "still alive after every refusal; exits 0 on PM_SHUTDOWN" \
    sh -c "grep -qx alive '$T/out' && grep -qx 'exit 0' '$T/out'"

# A key file that is not a key: the signer says which and exits 1.
printf 'not a key' >"$T/bad.key"
python3 "$T/fp.py" "$ROLE" "$T" "$KEYS/test-ed25519.seed" "$T/bad.key" badkey \
    >"$T/out2" 2>"$T/err2"
check "an unusable key is reported by name" \
    grep -q '^log 3 cannot load signing key | key=vendor err=vendor: neither a 32-byte raw Ed25519 seed nor PEM$' "$T/out2"
check "the failure reaches the parent as PM_LOG" \
    grep -q '^log 3 signer configuration failed | err=.*a signing key cannot be loaded' "$T/out2"
check "and the signer exits 1 without announcing keys" \
    sh -c "grep -qx 'exit 1' '$T/out2' && ! grep -q '^keys ' '$T/out2'"
