#!/bin/sh
# poll-cycle.sh: one poll cycle of the poller role over RECIPES recipes
# (default 200), each a local file:// bare repository with TAGS tags
# (default 20), concurrency CONC (default 4), next to the same listings
# done by `git ls-remote --tags` (one process per recipe, the same
# concurrency through xargs -P).  The poller (tests/poller-role, run as
# `peipkg-manager -P poller` would be) is driven by a small python fake
# parent: the table is sent, then one PM_POLL_NOW per recipe; the cycle
# ends with the last PM_POLL_DONE.  Wall time of the cycle and CPU time
# (user + system of the process tree, from getrusage) are the median of
# RUNS runs (default 3).  Prints a Markdown table.
#
#   bench/poll-cycle.sh [BUILDDIR]        (default: the current directory)
#   RECIPES=200 TAGS=20 CONC=4 RUNS=3 WORK=/var/tmp bench/poll-cycle.sh
#
# Not a test: not registered in TESTS.  Needs git and python3.  As root
# the poller runs as `nobody`, so the repositories are made world-readable.
set -eu
build=$(cd "${1:-.}" && pwd)
PROG=$build/tests/poller-role
[ -x "$PROG" ] || { echo "no $PROG (make tests/poller-role)" >&2; exit 1; }
W=$(mktemp -d "${WORK:-${TMPDIR:-/tmp}}/poll-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"

cat >"$W/bench.py" <<'PYEOF'
import os, resource, select, socket, statistics, struct, subprocess, sys
import time

PROG, W = sys.argv[1], sys.argv[2]
NREC, NTAGS = int(os.environ.get('RECIPES', 200)), int(os.environ.get(
    'TAGS', 20))
CONC, RUNS = int(os.environ.get('CONC', 4)), int(os.environ.get('RUNS', 3))
USER = 'nobody' if os.geteuid() == 0 else ''
SEC = 10**9


def s(v):
    v = v.encode()
    return struct.pack('=I', len(v)) + v


def frame(t, p, i=0):
    return struct.pack('=HBBIII', t, 1, 0, len(p), i, 0) + p


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_poller(urls):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    c0 = cpu()
    p = subprocess.Popen(['sh', '-c', 'exec "$0" "$@" 3<&%d %d<&-' % (
        b.fileno(), b.fileno()), PROG, '-P', 'poller', '--log-level',
        'warn'], pass_fds=(b.fileno(),))
    b.close()
    a.send(frame(111, s(USER) + s('/nonexistent') + b'\x02'))
    a.send(frame(106, struct.pack('=qqII', 10 * SEC, 120 * SEC, CONC,
                                  10000)))
    a.send(frame(100, struct.pack('=I', len(urls)), 1))
    pat = r'^v(\d+\.\d+\.\d+)$'
    for i, u in enumerate(urls):
        a.send(frame(101, s('r%d' % i) + s(u) + s(pat) +
                     struct.pack('=q', 1) + s('') + struct.pack('=q', 0) +
                     b'\x00\x01\x00', 1))
    a.send(frame(102, b'', 1))
    while struct.unpack('=H', a.recv(70000)[:2])[0] != 2:
        pass
    t0 = time.monotonic()
    for i in range(len(urls)):
        a.send(frame(200, s('r%d' % i) + b'\x04'))
    done = trig = 0
    while done < len(urls):
        rec = a.recv(70000)
        typ = struct.unpack('=H', rec[:2])[0]
        if typ == 202:
            done += 1
            n = struct.unpack('=I', rec[16:20])[0]
            assert rec[20 + n] == 1, rec        # ok
        elif typ == 201:
            trig += 1
    wall = time.monotonic() - t0
    a.send(frame(3, b''))
    p.wait()
    a.close()
    return wall, cpu() - c0, trig


def run_git(urls):
    c0 = cpu()
    t0 = time.monotonic()
    subprocess.run(['xargs', '-P%d' % CONC, '-n1', 'git', 'ls-remote',
                    '--tags'], input='\n'.join(urls).encode(),
                   stdout=subprocess.DEVNULL, check=True)
    return time.monotonic() - t0, cpu() - c0


base = os.path.join(W, 'base.git')
GIT = ['git', '-c', 'user.name=b', '-c', 'user.email=b@example.org']
subprocess.run('git init -q -b main %s/w && cd %s/w && %s commit -q '
               '--allow-empty -m x' % (W, W, ' '.join(GIT)), shell=True,
               check=True)
for t in range(NTAGS):
    subprocess.run(['git', '-C', W + '/w', 'tag', 'v1.%d.0' % t],
                   check=True)
subprocess.run(['git', 'clone', '-q', '--bare', W + '/w', base],
               check=True)
urls = []
for i in range(NREC):
    d = os.path.join(W, 'r%03d.git' % i)
    subprocess.run(['cp', '-r', base, d], check=True)
    urls.append('file://' + d)
subprocess.run(['chmod', '-R', 'a+rX', W], check=True)
pw, pc, gw, gc = [], [], [], []
for _ in range(RUNS):
    w, c, trig = run_poller(urls)
    assert trig == NREC * NTAGS, trig
    pw.append(w)
    pc.append(c)
    w, c = run_git(urls)
    gw.append(w)
    gc.append(c)
med = statistics.median
print('| %d recipes x %d tags, concurrency %d | wall (ms) | CPU (ms) |' %
      (NREC, NTAGS, CONC))
print('|---|---:|---:|')
print('| poller (libgit2, a child per listing) | %.0f | %.0f |' %
      (med(pw) * 1000, med(pc) * 1000))
print('| `git ls-remote --tags` via xargs -P%d | %.0f | %.0f |' %
      (CONC, med(gw) * 1000, med(gc) * 1000))
print('| ratio poller / git | %.2f | %.2f |' % (med(pw) / med(gw),
                                               med(pc) / med(gc)))
PYEOF
python3 "$W/bench.py" "$PROG" "$W"
