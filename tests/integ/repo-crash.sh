#!/bin/sh
# repo-crash.sh: kill `peipkg-repo publish` with SIGKILL at every step of
# the atomic switch, many times over.  Rounds of: init a state, then for
# each of 23 valid packages from tests/vectors/repos (signed by the test
# key) one publish attempt killed either at a PEIPKG_CRASH_AT site
# (cycling through all of them) or by `kill -9` after a random delay,
# followed by:
#   - the visible state is exactly the previous state or exactly one
#     publish further (same bytes, or index_version + 1 with the package);
#   - `peipkg-repo verify --mode both` passes on it, and no temporary
#     name exists inside it;
#   - a normal publish of the same package succeeds, leaves no stale
#     tree next to the state, and index_version went strictly up.
# At the end of each round the archive lists every package exactly once.
# During the first two rounds a reader thread keeps resolving the state:
# the two indexes read through one directory handle always carry the
# same index_version (one tree, never a mix), and every package the
# archive names exists.
# CRASH_ROUNDS (default 10) sets the number of rounds (23 attempts each).
# TAP.
. "$top_srcdir/tests/lib.sh"

REPO=${PEIPKG_REPO:-$top_builddir/peipkg-repo}
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
[ -x "$REPO" ] || { echo "1..1"; echo "not ok 1 - not built: $REPO"; exit 0; }

python3 - "$REPO" "$VECTORS" "$TAP_TMP" "${CRASH_ROUNDS:-10}" <<'PY'
import json, os, random, shutil, signal, subprocess, sys, threading, time

repo, vectors, tmp, rounds = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4])
key = os.path.join(vectors, "keys", "test-ed25519.seed")
random.seed(20260507)
n = failed = 0

SITES = [
    "stale.removed", "tree.made", "pkg.written", "pkg.fsynced",
    "pkg.renamed", "tree.linked", "pkg.placed", "sidecar.partial",
    "sidecar.written", "sidecar.fsynced", "sidecar.renamed:2",
    "desc.partial", "desc.written", "desc.fsynced", "desc.renamed",
    "sig.partial", "sig.written", "sig.fsynced:2", "sig.renamed:2",
    "idx.partial", "idx.written", "idx.fsynced", "idx.renamed",
    "idx.partial:2", "sig.renamed:3", "tree.built", "tree.fsynced",
    "swap.done", "parent.fsynced", "old.renamed", "old.removing",
    "switch.done",
]


def tap(ok, desc, diag=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
        print("not ok %d - %s" % (n, desc))
        for line in diag.splitlines()[:20]:
            print("# " + line)
    else:
        print("ok %d - %s" % (n, desc))


# One file per (name, version, arch), skipping the refusal fixtures.
pkgs = {}
for case in sorted(os.listdir(os.path.join(vectors, "repos"))):
    base = os.path.join(vectors, "repos", case)
    for step in sorted(os.listdir(base)):
        new = os.path.join(base, step, "new")
        if not os.path.isdir(new) or case == "rejections":
            continue
        for f in sorted(os.listdir(new)):
            if f.endswith(".peipkg") and f not in pkgs:
                pkgs[f] = os.path.join(new, f)
pkgs["archtest_3.0-1_noarch.peipkg"] = os.path.join(
    vectors, "repos/rejections/03-arch-conflict/new/"
    "archtest_3.0-1_noarch.peipkg")
names = sorted(pkgs)


def run(argv, env=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def archive(state):
    return json.loads(read(os.path.join(state, "index", "archive.json")))


def hidden(state):
    out = []
    for dirpath, dirs, files in os.walk(state):
        out += [os.path.join(dirpath, e) for e in dirs + files
                if e.startswith(".")]
    return out


def publish_argv(state, newdir, ts):
    return [repo, "publish", "--in", state, "--out", state, "--new", newdir,
            "--timestamp", ts, "--sign-key", key]


ts_n = 0


def stamp():
    global ts_n
    ts_n += 1
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(1780000000 + ts_n * 60))


def read_at(dfd, rel):
    fd = os.open(rel, os.O_RDONLY, dir_fd=dfd)
    try:
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def reader(state, stop, st):
    while not stop.is_set():
        try:
            dfd = os.open(state, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            a = read_at(dfd, "index/active.json")
            b = read_at(dfd, "index/archive.json")
        except OSError:
            st["vanished"] += 1     # a previous tree being removed
            continue
        finally:
            os.close(dfd)
        try:
            ia, ib = json.loads(a), json.loads(b)
        except ValueError:
            st["bad"].append("torn index")
            continue
        if ia["index_version"] != ib["index_version"]:
            st["bad"].append("mixed trees: %d/%d" % (ia["index_version"],
                                                    ib["index_version"]))
        for e in ib["packages"]:
            if not os.path.exists(state + e["url"]):
                st["bad"].append("missing " + e["url"])
        st["checks"] += 1


site_i = 0
attempts = kills = site_attempts = site_kills = 0
for r in range(rounds):
    rdir = os.path.join(tmp, "r%d" % r)
    state = os.path.join(rdir, "S")
    os.makedirs(rdir)
    rc, out, err = run([repo, "init", "--name", "crash-repo", "--timestamp",
                        stamp(), "--sign-key", key, "--out", state])
    if rc != 0:
        tap(False, "round %d: init" % r, err)
        continue
    last_ver = 1
    rs = {"checks": 0, "vanished": 0, "bad": []}
    stop = threading.Event()
    th = threading.Thread(target=reader, args=(state, stop, rs))
    if r < 2:
        th.start()
    for f in names:
        newdir = os.path.join(rdir, "new-" + f)
        os.makedirs(newdir)
        shutil.copy(pkgs[f], newdir)
        before = read(os.path.join(state, "index", "archive.json"))
        env = dict(os.environ)
        if attempts % 4 == 3:
            how = "kill -9"
            p = subprocess.Popen(publish_argv(state, newdir, stamp()),
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(random.uniform(0.0, 0.06))
            p.send_signal(signal.SIGKILL)
            p.wait()
        else:
            site = SITES[site_i % len(SITES)]
            site_i += 1
            how = "PEIPKG_CRASH_AT=" + site
            env["PEIPKG_CRASH_AT"] = site
            p = subprocess.run(publish_argv(state, newdir, stamp()),
                               env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        attempts += 1
        if p.returncode == -signal.SIGKILL:
            kills += 1
        if how != "kill -9":
            site_attempts += 1
            site_kills += p.returncode == -signal.SIGKILL
        what = "round %d %s (%s)" % (r, f, how)
        after = read(os.path.join(state, "index", "archive.json"))
        ar = json.loads(after)
        entries = ["%s_%s_%s.peipkg" % (e["name"], e["version"],
                   e["architecture"]) for e in ar["packages"]]
        tap(after == before or (ar["index_version"] == last_ver + 1 and
                                f in entries),
            what + ": old or new state, nothing in between",
            "index_version %d (was %d)" % (ar["index_version"], last_ver))
        rc, out, err = run([repo, "verify", "--repo", state, "--mode",
                            "both"])
        tap(rc == 0 and out == "OK\n" and not hidden(state),
            what + ": visible state verifies, no temporary names",
            out + err + " ".join(hidden(state)))
        seen = ar["index_version"]
        rc, out, err = run(publish_argv(state, newdir, stamp()))
        ver = archive(state)["index_version"]
        left = [e for e in os.listdir(rdir) if e.startswith(".S.")
                and e != ".S.lock"]
        tap(rc == 0 and ver > seen and ver > last_ver and not left,
            what + ": next publish succeeds, index_version %d" % ver,
            err + " ".join(left))
        last_ver = ver
    if r < 2:
        stop.set()
        th.join()
        tap(rs["checks"] > 50 and not rs["bad"],
            "round %d: a concurrent reader saw one whole tree at a time "
            "(%d reads)" % (r, rs["checks"]), "\n".join(rs["bad"][:10]))
    ar = archive(state)
    entries = sorted("%s_%s_%s.peipkg" % (e["name"], e["version"],
                     e["architecture"]) for e in ar["packages"])
    tap(entries == names, "round %d: the archive lists every package "
        "exactly once" % r, "\n".join(entries))
    shutil.rmtree(rdir)

tap(attempts >= min(200, 23 * rounds) and site_kills == site_attempts,
    "%d attempts, %d ended by SIGKILL; every one of the %d crash-site "
    "runs reached its site" % (attempts, kills, site_attempts),
    "%d of %d crash-site runs were not killed" % (
        site_attempts - site_kills, site_attempts))
print("1..%d" % n)
PY
rc=$?
exit $rc
