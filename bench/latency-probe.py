#!/usr/bin/env python3
# latency-probe.py: helper of bench/latency.sh.  Times are CLOCK_MONOTONIC
# nanoseconds (one clock for every process of the benchmark).
#
#   latency-probe.py stamp OUT
#       copy stdin (the daemon's log) to OUT, each line prefixed with the
#       time it was read
#   latency-probe.py hook URL SECRET_FILE DELIVERY UPSTREAM REPO NAME VERSION
#       POST to URL a signed GitHub push webhook naming the repository
#       UPSTREAM (repository.html_url), then
#       wait until NAME at VERSION is in REPO/index/archive.json; prints
#       "t0 t_answer t_visible http_code" (t0: just before the request)
#   latency-probe.py hup PID REPO NAME VERSION
#       send SIGHUP to PID, then wait likewise; prints "t0 t0 t_visible 0"
#   latency-probe.py run CMD [ARG...]
#       run a command (stdout to /dev/null); prints "t0 t_end"
#   latency-probe.py report DIR
#       the tables, from DIR/rounds (lines "MODE ROUND VERSION t0 t1 t2
#       code": hook, hup, floor and sandbox rounds, t2 - t0 the latency;
#       "clone|build|publish ROUND VERSION t0 t1" the floor's parts) and
#       DIR/daemon.log (stamped)
import hashlib, hmac, http.client, json, os, re, signal, statistics
import subprocess, sys, time

POLL_S = 0.005
TIMEOUT_S = 60
now = time.monotonic_ns


def visible(repo, name, version):
    path = os.path.join(repo, 'index', 'archive.json')
    last = None
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            if key != last:
                last = key
                with open(path) as f:
                    a = json.load(f)
                if any(p['name'] == name and p['version'] == version
                       for p in a['packages']):
                    return now()
        except (OSError, ValueError):
            last = None
        time.sleep(POLL_S)
    sys.exit('latency-probe.py: %s %s not published within %d s' % (
        name, version, TIMEOUT_S))


def hook(url, secret_file, delivery, upstream, repo, name, version):
    secret = open(secret_file, 'rb').read()
    m = re.match(r'http://([^/:]+):(\d+)(/.*)', url)
    body = json.dumps({'repository': {'html_url': upstream}}).encode()
    sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
    c = http.client.HTTPConnection(m.group(1), int(m.group(2)))
    t0 = now()
    c.request('POST', m.group(3), body, {
        'Content-Type': 'application/json', 'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': delivery,
        'X-Hub-Signature-256': 'sha256=' + sig})
    r = c.getresponse()
    r.read()
    t1 = now()
    t2 = visible(repo, name, version)
    print(t0, t1, t2, r.status)


def hup(pid, repo, name, version):
    t0 = now()
    os.kill(int(pid), signal.SIGHUP)
    t2 = visible(repo, name, version)
    print(t0, t0, t2, 0)


def run(cmd):
    t0 = now()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(t0, now())


def stamp(out):
    with open(out, 'w', buffering=1) as f:
        for line in sys.stdin.buffer:
            f.write('%d %s' % (now(), line.decode(errors='replace')))


STAGES = (('trigger seen', ('webhook accepted, triggering immediate poll',
                            'recipes reloaded')),
          ('build started', ('msg="starting build"',)),
          ('poll complete', ('msg="poll complete"',)),
          ('source fetched', ('msg="source fetched"',)),
          ('build succeeded', ('msg="build succeeded"',)),
          ('published (publisher)', (' msg=published ',)),
          ('job done (parent)', ('msg="build + publish complete"',)))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def report(d):
    rows = [l.split() for l in open(os.path.join(d, 'rounds'))]
    log = []
    for l in open(os.path.join(d, 'daemon.log'), errors='replace'):
        t, _, rest = l.partition(' ')
        log.append((int(t), rest))
    modes = (('hook', 'webhook -> published'),
             ('hup', 'tag + SIGHUP -> published'),
             ('floor', '`peipkg-build build --no-sandbox` + '
                       '`peipkg-repo publish` (floor)'),
             ('sandbox', '`peipkg-build build` (sandboxed) + '
                         '`peipkg-repo publish`'))
    modes = modes[:3] + (('clone', '`git clone` + the floor (the fetch '
                          'too, as the daemon does)'),) + modes[3:]
    res = {}
    for mode, _ in modes:
        res[mode] = [(int(r[5]) - int(r[3])) / 1e6 for r in rows
                     if r[0] == mode and len(r) == 7]
    clone = {r[1]: (int(r[4]) - int(r[3])) / 1e6 for r in rows
             if r[0] == 'clone'}
    res['clone'] = [(int(r[5]) - int(r[3])) / 1e6 + clone[r[1]]
                    for r in rows if r[0] == 'floor' and r[1] in clone]
    n = len(res['hook'])
    fl = statistics.median(res['floor']) if res['floor'] else None
    print('| trivial recipe, %d rounds | min ms | median ms | p90 ms | '
          'median / floor |' % n)
    print('|---|---:|---:|---:|---:|')
    for mode, name in modes:
        xs = res[mode]
        if xs:
            print('| %s | %.0f | %.0f | %.0f | %s |' % (
                name, min(xs), statistics.median(xs), pct(xs, 90),
                '%.1fx' % (statistics.median(xs) / fl) if fl else ''))
    print()
    parts = [(r[0], (int(r[4]) - int(r[3])) / 1e6) for r in rows
             if r[0] in ('build', 'publish', 'clone')]
    if parts:
        print('Floor components (median ms): ' + ', '.join(
            '%s %.0f' % (k, statistics.median(v for m, v in parts if m == k))
            for k in ('clone', 'build', 'publish')
            if any(m == k for m, _ in parts)))
        print()
    # Where the daemon's time goes: the first log line of each stage after
    # t0 of a round (median offsets; webhook and SIGHUP rounds).
    print('| stage (first log line after t0), median ms after t0 | '
          'webhook | SIGHUP |')
    print('|---|---:|---:|')
    offs = {}
    for mode in ('hook', 'hup'):
        for r in rows:
            if r[0] != mode:
                continue
            t0, tv, ver = int(r[3]), int(r[5]), r[2]
            for stage, pats in STAGES:
                for t, line in log:
                    if t < t0 or t > tv + 2 * 10**9:
                        continue
                    if stage in ('build started', 'build succeeded',
                                 'published (publisher)',
                                 'job done (parent)') and \
                            'version=%s-1' % ver not in line:
                        continue
                    if stage == 'source fetched' and \
                            'tag=v%s' % ver not in line:
                        continue
                    if any(p in line for p in pats):
                        offs.setdefault((mode, stage), []).append(
                            (t - t0) / 1e6)
                        break
            offs.setdefault((mode, 'answer'), []).append(
                (int(r[4]) - t0) / 1e6)
            offs.setdefault((mode, 'visible'), []).append((tv - t0) / 1e6)

    def cell(mode, stage):
        xs = offs.get((mode, stage))
        return '%.0f' % statistics.median(xs) if xs else '-'
    print('| HTTP 200 received by the client | %s | - |' % cell('hook',
                                                              'answer'))
    for stage, _ in STAGES:
        print('| %s | %s | %s |' % (stage, cell('hook', stage),
                                    cell('hup', stage)))
    print('| version in index/archive.json | %s | %s |' % (
        cell('hook', 'visible'), cell('hup', 'visible')))


def main():
    a = sys.argv[1:]
    {'stamp': lambda: stamp(a[1]), 'hook': lambda: hook(*a[1:8]),
     'hup': lambda: hup(*a[1:5]), 'run': lambda: run(a[1:]),
     'report': lambda: report(a[1])}[a[0]]()


main()
