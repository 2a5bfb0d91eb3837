#!/bin/sh
# repo-faults.sh: storage failures during a publish.  tests/faultinject.c
# (built here as an LD_PRELOAD shim) makes the N-th call of write, fsync,
# syncfs, rename(at), renameat2, link(at) or mkdir(at) fail with EIO or
# ENOSPC or EROFS; N sweeps every call the publish makes.  After each
# attempt:
#   - either exit 1 with a message naming the operation and the errno
#     text, and the state byte for byte as before; or (a failure after
#     the switch, which is only a warning) exit 0 with the new state;
#   - `peipkg-repo verify --mode both` passes, nothing temporary is left
#     inside the state or next to it;
#   - the same publish without the shim succeeds.
# Also: a second publisher while the lock is held is refused at once.
# TAP.
. "$top_srcdir/tests/lib.sh"

REPO=${PEIPKG_REPO:-$top_builddir/peipkg-repo}
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
command -v gcc >/dev/null 2>&1 || skip_all "gcc not installed"
[ -x "$REPO" ] || { echo "1..1"; echo "not ok 1 - not built: $REPO"; exit 0; }
gcc -shared -fPIC -o "$TAP_TMP/faultinject.so" \
    "$top_srcdir/tests/faultinject.c" -ldl ||
    { echo "1..1"; echo "not ok 1 - cannot build the shim"; exit 0; }

python3 - "$REPO" "$VECTORS" "$TAP_TMP" <<'PY'
import errno, json, os, shutil, subprocess, sys

repo, vectors, tmp = sys.argv[1:4]
shim = os.path.join(tmp, "faultinject.so")
key = os.path.join(vectors, "keys", "test-ed25519.seed")
base = os.path.join(vectors, "repos/multi-package/01-publish-libfoo-set/state")
new = os.path.join(vectors, "repos/multi-package/02-publish-globs-and-hello/new")
n = failed = 0
CALLS = {"write": "write", "fsync": "fsync", "syncfs": "syncfs",
         "rename": "rename", "renameat2": "renameat2", "link": "link",
         "mkdir": "mkdir"}


def tap(ok, desc, diag=""):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok:
        failed += 1
        for line in diag.splitlines()[:20]:
            print("# " + line)


def tree(root):
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for e in dirs:
            out[os.path.relpath(os.path.join(dirpath, e), root)] = "dir"
        for e in files:
            with open(os.path.join(dirpath, e), "rb") as f:
                out[os.path.relpath(os.path.join(dirpath, e), root)] = f.read()
    return out


def run(argv, env=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def publish(state, fault=None):
    env = dict(os.environ)
    if fault is not None:
        env.update(fault)
        env["LD_PRELOAD"] = shim
    return run([repo, "publish", "--in", state, "--out", state, "--new", new,
                "--timestamp", "2026-06-03T00:00:00Z", "--sign-key", key],
               env)


def fresh(name):
    d = os.path.join(tmp, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    state = os.path.join(d, "S")
    shutil.copytree(base, state)
    return d, state


def published(state):
    with open(os.path.join(state, "index", "archive.json")) as f:
        ar = json.load(f)
    return ar["index_version"] == 3 and len(ar["packages"]) == 10


want_before = tree(base)
total = 0
for i, call in enumerate(sorted(CALLS)):
    d, state = fresh("count")
    cnt = os.path.join(tmp, "count.txt")
    rc, out, err = publish(state, {"FAULT_CALL": call, "FAULT_N": "0",
                                   "FAULT_COUNT": cnt})
    calls = int(open(cnt).read())
    tap(rc == 0 and calls > 0 and published(state),
        "%s: a clean publish makes %d call(s)" % (call, calls), err)
    for k in range(1, calls + 1):
        code = ("EIO", "ENOSPC", "EROFS")[(k + i) % 3]
        text = os.strerror(getattr(errno, code))
        d, state = fresh("f")
        what = "%s #%d fails with %s" % (call, k, code)
        rc, out, err = publish(state, {"FAULT_CALL": call, "FAULT_N": str(k),
                                       "FAULT_ERRNO": code})
        total += 1
        if rc == 1:
            line = err.strip().splitlines()[-1] if err.strip() else ""
            tap(CALLS[call] in err and text in err and
                err.startswith("peipkg-repo: "),
                what + ": exit 1 naming the operation and errno", err)
            tap(tree(state) == want_before,
                what + ": state unchanged byte for byte")
        else:
            tap(rc == 0 and published(state),
                what + ": failure after the switch only warns", err)
        rc2, out2, err2 = run([repo, "verify", "--repo", state, "--mode",
                               "both"])
        stray = [p for p in tree(state) if os.path.basename(p)[0] == "."]
        left = [e for e in os.listdir(d) if e not in ("S", ".S.lock")]
        tap(rc2 == 0 and out2 == "OK\n" and not stray and not left,
            what + ": verify passes, nothing temporary left",
            out2 + err2 + " ".join(stray + left))
        if rc == 1:
            rc3, out3, err3 = publish(state)
            tap(rc3 == 0 and published(state),
                what + ": the next publish succeeds", err3)

tap(total >= 40, "%d faulty publishes in all" % total)

# A second publisher while one holds the lock fails at once, harmlessly.
import fcntl
d, state = fresh("lock")
lk = os.open(os.path.join(d, ".S.lock"), os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lk, fcntl.LOCK_EX)
rc, out, err = publish(state)
tap(rc == 1 and "locked by another publish in progress" in err,
    "a concurrent publish is refused while the lock is held", err)
tap(tree(state) == want_before, "the refused publish changed nothing")
os.close(lk)
rc, out, err = publish(state)
tap(rc == 0 and published(state), "the lock released, the publish works",
    err)
print("1..%d" % n)
PY
rc=$?
exit $rc
