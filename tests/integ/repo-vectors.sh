#!/bin/sh
# repo-vectors.sh: run every tests/vectors/repos/*/sequence.json through
# peipkg-repo.  init must produce 00-init/state exactly (every file and
# the file list, byte for byte) and the recorded stdout; each later step
# starts from a copy of the previous step's expected state and must give
# that step's state/ and stdout, or, for a refused step, exit 1 with
# every message_must_name string on stderr and the state unchanged byte
# for byte.  The one refused step that this publisher handles by
# clamping (monotonic 03, an earlier --timestamp) must give
# state-if-clamped/ and a warning instead.  Every state produced must
# pass `peipkg-repo verify --mode both`.  TAP.
. "$top_srcdir/tests/lib.sh"

REPO=${PEIPKG_REPO:-$top_builddir/peipkg-repo}
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
[ -x "$REPO" ] || { echo "1..1"; echo "not ok 1 - not built: $REPO"; exit 0; }

python3 - "$REPO" "$VECTORS" "$TAP_TMP" <<'PY'
import json, os, shutil, subprocess, sys

repo, vectors, tmp = sys.argv[1:4]
key = os.path.join(vectors, "keys", "test-ed25519.seed")
n = 0
failed = 0


def tap(ok, desc, diag=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok:
        for line in diag.splitlines()[:30]:
            print("# " + line)


def tree(root):
    """Every entry below root (hidden ones too): path -> bytes or 'dir'."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def tree_diff(got, want):
    a, b = tree(got), tree(want)
    lines = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            lines.append("missing: " + k)
        elif k not in b:
            lines.append("unexpected: " + k)
        elif a[k] != b[k]:
            lines.append("differs: " + k)
    return "\n".join(lines)


def argv_of(step, seqdir, state):
    out = []
    for a in step["argv"][1:]:
        if a == "<state>":
            a = state
        elif a == "keys/test-ed25519.seed":
            a = key
        elif a.endswith("/new") and os.path.isdir(os.path.join(seqdir, a)):
            a = os.path.join(seqdir, a)
        out.append(a)
    return [repo] + out


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def verify(state, what):
    rc, out, err = run([repo, "verify", "--repo", state, "--mode", "both"])
    tap(rc == 0 and out == "OK\n", what + ": verify --mode both", out + err)


for case in sorted(os.listdir(os.path.join(vectors, "repos"))):
    seqdir = os.path.join(vectors, "repos", case)
    seq = json.load(open(os.path.join(seqdir, "sequence.json")))
    prev = None
    for step in seq["steps"]:
        name = "%s/%s" % (case, step["step"])
        work = os.path.join(tmp, case, step["step"])
        os.makedirs(work)
        state = os.path.join(work, "state")
        if prev is not None:
            # copy2 keeps modes: make distcheck's source tree is
            # read-only, and the copy must be writable.
            shutil.copytree(prev, state, symlinks=True,
                            copy_function=shutil.copyfile)
            for d, dirs, files in os.walk(state):
                os.chmod(d, 0o755)
        rc, out, err = run(argv_of(step, seqdir, state))
        if step["command"] == "init":
            want_out = step["stdout"].replace("<state>", state)
        else:
            want_out = step.get("stdout")
        if step["expect"] == "ok":
            want = os.path.join(seqdir, step["state"])
            tap(rc == 0, name + ": exit 0", err)
            tap(out == want_out, name + ": stdout", "got: %r\nwant: %r" %
                (out, want_out))
            d = tree_diff(state, want)
            tap(d == "", name + ": state byte for byte", d)
            verify(state, name)
            prev = want
        elif step["error_class"] == "generated_at-backwards":
            want = os.path.join(seqdir, step["step"], "state-if-clamped")
            inputs = "".join("  + %s\n" % f for f in sorted(step["inputs"]))
            want_out = "published index_version 4 (%d new packages)\n%s" % (
                len(step["inputs"]), inputs)
            tap(rc == 0, name + ": clamped publish exits 0", err)
            tap(out == want_out, name + ": clamped stdout", "got: %r" % out)
            tap("warning" in err and step["timestamp"] in err and
                "2026-07-03T00:00:00Z" in err,
                name + ": warning names both timestamps", err)
            d = tree_diff(state, want)
            tap(d == "", name + ": state-if-clamped byte for byte", d)
            verify(state, name)
            # the sequence itself continues from the unchanged state
        else:
            tap(rc == step["expected_exit_code"], name + ": exit %d" %
                step["expected_exit_code"], "rc=%d\n%s" % (rc, err))
            missing = [s for s in step["message_must_name"] if s not in err]
            tap(not missing and err.startswith("peipkg-repo: "),
                name + ": message names " + ", ".join(
                    step["message_must_name"]),
                "missing %r in:\n%s" % (missing, err))
            tap(out == "", name + ": nothing on stdout", out)
            d = tree_diff(state, prev)
            tap(d == "", name + ": state unchanged byte for byte", d)
        leftovers = [e for e in os.listdir(work)
                     if e not in ("state", ".state.lock")]
        tap(not leftovers, name + ": no temporary trees left",
            " ".join(leftovers))

print("1..%d" % n)
PY
rc=$?
exit $rc
