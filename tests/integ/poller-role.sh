#!/bin/sh
# poller-role.sh: the poller role (tests/poller-role, run exactly as
# `peipkg-manager -P poller`) driven by a fake parent written in python
# over a SOCK_SEQPACKET pair on fd 3.  Upstreams: file:// bare
# repositories made with git, and a fake git:// server (python) that
# advertises hostile ref names, never answers (tarpit), answers late or
# stalls mid-advertisement.  Checks triggers and PM_POLL_DONE for tag
# matching, min_version, named groups, peeled tags; errors and their
# WARN events; hostile tag names refused and never triggered; PM_POLL_NOW,
# coalescing, the schedule and reload; connect and total timeouts;
# bounded concurrency; 20 000 tags in bounded memory and the max_tags cap;
# the sandbox (forbidden calls after set-up, via the test hook
# PEIPKG_TEST_POLLER_PROBE honoured only by tests/poller-role).
. "$top_srcdir/tests/lib.sh"

PROG="$top_builddir/tests/poller-role"
[ -x "$PROG" ] || skip_all "tests/poller-role not built"
command -v git >/dev/null 2>&1 || skip_all "git not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

cat >"$TAP_TMP/poller-role.py" <<'PYEOF'
import os, sys, socket, struct, subprocess, time, threading, select, re

SEC = 10**9
PM_LOG, PM_READY, PM_SHUTDOWN, PM_PING, PM_PONG = 1, 2, 3, 4, 5
PM_CONF_BEGIN, PM_CONF_RECIPE, PM_CONF_END = 100, 101, 102
PM_CONF_POLL, PM_CONF_ROLE = 106, 111
PM_POLL_NOW, PM_POLL_TRIGGER, PM_POLL_DONE = 200, 201, 202
SRC_POLL, SRC_WEBHOOK, SRC_RELOAD, SRC_START = 1, 2, 3, 4
LEVELS = {'debug': 0, 'info': 1, 'warn': 2, 'error': 3}


class W:
    def __init__(self):
        self.b = b''

    def u8(self, v):
        self.b += struct.pack('=B', v)
        return self

    def u32(self, v):
        self.b += struct.pack('=I', v)
        return self

    def u64(self, v):
        self.b += struct.pack('=Q', v)
        return self

    def i64(self, v):
        self.b += struct.pack('=q', v)
        return self

    def s(self, v):
        if isinstance(v, str):
            v = v.encode()
        self.b += struct.pack('=I', len(v)) + v
        return self


class Rd:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        if self.o + n > len(self.b):
            raise ValueError('short payload')
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u8(self):
        return struct.unpack('=B', self.take(1))[0]

    def u16(self):
        return struct.unpack('=H', self.take(2))[0]

    def u32(self):
        return struct.unpack('=I', self.take(4))[0]

    def u64(self):
        return struct.unpack('=Q', self.take(8))[0]

    def i64(self):
        return struct.unpack('=q', self.take(8))[0]

    def s(self):
        return self.take(self.u32()).decode('utf-8', 'surrogateescape')

    def end(self):
        if self.o != len(self.b):
            raise ValueError('trailing bytes')


class Poller:
    def __init__(self, prog, conf_poll, level='debug', env=None, user='',
                 stderr_path=None):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        bfd = b.fileno()
        e = dict(os.environ)
        if env:
            e.update(env)
        self.errpath = stderr_path
        self.errf = open(stderr_path, 'wb') if stderr_path else None
        self.proc = subprocess.Popen(
            ['sh', '-c', 'exec "$0" "$@" 3<&%d %d<&-' % (bfd, bfd), prog,
             '-P', 'poller', '--log-level', level],
            pass_fds=(bfd,), env=e, stderr=self.errf)
        b.close()
        self.sock = a
        self.t0 = time.monotonic()
        self.ready = None
        self.triggers, self.dones, self.logs, self.pongs = [], [], [], []
        self.bad = []
        self.send(PM_CONF_ROLE, W().s(user).s('/nonexistent/empty')
                  .u8(LEVELS[level]).b)
        ct, t, conc, mx = conf_poll
        self.send(PM_CONF_POLL, W().i64(ct).i64(t).u32(conc).u32(mx).b)

    def now(self):
        return time.monotonic() - self.t0

    def send(self, typ, payload, mid=0):
        self.sock.send(struct.pack('=HBBIII', typ, 1, 0, len(payload), mid,
                                   0) + payload)

    def table(self, gen, recipes):
        self.send(PM_CONF_BEGIN, W().u32(len(recipes)).b, gen)
        for r in recipes:
            self.send(PM_CONF_RECIPE, W().s(r['id']).s(r.get('git', ''))
                      .s(r.get('pattern', '')).i64(r.get('rev', 1))
                      .s(r.get('min', '')).i64(r.get('interval', 0))
                      .u8(0).u8(r.get('watched', 1)).u8(0).b, gen)
        self.send(PM_CONF_END, b'', gen)

    def poll_now(self, rid, src=SRC_START):
        self.send(PM_POLL_NOW, W().s(rid).u8(src).b)

    def handle(self, rec):
        typ, ver, flags, ln, mid, res = struct.unpack('=HBBIII', rec[:16])
        r = Rd(rec[16:])
        t = self.now()
        if typ == PM_LOG:
            lvl, msg, n = r.u8(), r.s(), r.u16()
            kv = {}
            for _ in range(n):
                k = r.s()
                kv[k] = r.s()
            self.logs.append((t, lvl, msg, kv))
        elif typ == PM_READY:
            self.ready = t
        elif typ == PM_PONG:
            self.pongs.append(r.u64())
        elif typ == PM_POLL_TRIGGER:
            self.triggers.append(dict(t=t, recipe=r.s(), tag=r.s(),
                                      up=r.s(), oid=r.take(20).hex(),
                                      src=r.u8()))
        elif typ == PM_POLL_DONE:
            self.dones.append(dict(t=t, recipe=r.s(), ok=r.u8(), err=r.s(),
                                   seen=r.u32(), emitted=r.u32(),
                                   below=r.u32(), at=r.i64(), src=r.u8()))
        else:
            self.bad.append(typ)
        r.end()

    def pump(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return True
            rl, _, _ = select.select([self.sock], [], [], left)
            if not rl:
                return True
            try:
                rec = self.sock.recv(70000)
            except OSError:
                return False
            if not rec:
                return False
            self.handle(rec)

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while not pred():
            left = end - time.monotonic()
            if left <= 0:
                return False
            rl, _, _ = select.select([self.sock], [], [], min(left, 0.05))
            if rl:
                rec = self.sock.recv(70000)
                if not rec:
                    return pred()
                self.handle(rec)
        return True

    def done_for(self, rid):
        return [d for d in self.dones if d['recipe'] == rid]

    def trig_for(self, rid):
        return [x for x in self.triggers if x['recipe'] == rid]

    def log(self, msg, **kv):
        out = []
        for t, lvl, m, k in self.logs:
            if m == msg and all(k.get(a) == str(b) for a, b in kv.items()):
                out.append((t, lvl, m, k))
        return out

    def stop(self, timeout=5):
        try:
            self.send(PM_SHUTDOWN, b'')
        except OSError:
            pass
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            try:
                self.pump(0.05)
            except OSError:
                time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            return None
        return self.proc.returncode

    def stderr(self):
        if self.errf:
            self.errf.flush()
            return open(self.errpath, 'rb').read().decode('utf-8', 'replace')
        return ''


def pkt(data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    return b'%04x' % (len(data) + 4) + data


class FakeGit(threading.Thread):
    """A git:// server.  repos maps a path to a list of (oid hex, ref name
    bytes); special paths: /tarpit* accept and never answer, /slow* answer
    after a second, /loris* send one line and stall."""

    def __init__(self, repos):
        super().__init__(daemon=True)
        self.repos = repos
        self.ls = socket.socket()
        self.ls.bind(('127.0.0.1', 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.lock = threading.Lock()
        self.open = {}        # path -> number of connections open now
        self.accepted = []    # (time, path)
        self.closed = []      # (time, path)
        self.held = []

    def run(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    def read_req(self, c):
        buf = b''
        while len(buf) < 4:
            d = c.recv(4 - len(buf))
            if not d:
                return None
            buf += d
        n = int(buf, 16) - 4
        data = b''
        while len(data) < n:
            d = c.recv(n - len(data))
            if not d:
                return None
            data += d
        return data

    def serve(self, c):
        req = self.read_req(c) or b''
        path = req.split(b'\0')[0].split(b' ', 1)[-1].decode()
        with self.lock:
            self.accepted.append((time.monotonic(), path))
            self.open[path] = self.open.get(path, 0) + 1
        try:
            if path.startswith('/slow'):
                time.sleep(1)
            if path.startswith('/loris'):
                c.sendall(pkt(b'0' * 40 + b' refs/tags/v1\0agent=x\n'))
            if not (path.startswith('/tarpit') or path.startswith('/loris')):
                refs = self.repos.get(path.rstrip('/'), [])
                out = []
                for i, (oid, name) in enumerate(refs):
                    line = oid.encode() + b' ' + name
                    if i == 0:
                        line += b'\0multi_ack ofs-delta agent=fake'
                    out.append(pkt(line + b'\n'))
                if not refs:
                    out.append(pkt(b'0' * 40 + b' capabilities^{}\0agent=x\n'))
                out.append(b'0000')
                c.sendall(b''.join(out))
            while c.recv(65536):
                pass
        except OSError:
            pass
        finally:
            with self.lock:
                self.open[path] -= 1
                self.closed.append((time.monotonic(), path))
            c.close()


# ---------------------------------------------------------------------
PROG, TMP = sys.argv[1], sys.argv[2]
ROOT = os.geteuid() == 0
USER = 'nobody' if ROOT else ''
N = 0
FAILED = 0


def check(desc, cond, diag=None):
    global N, FAILED
    N += 1
    if cond:
        print('ok %d - %s' % (N, desc))
    else:
        FAILED += 1
        print('not ok %d - %s' % (N, desc))
        if diag is not None:
            for line in str(diag).splitlines()[:40]:
                print('# ' + line)
    sys.stdout.flush()
    return cond


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def rev(repo, what):
    return subprocess.run(['git', '-C', repo, 'rev-parse', what],
                          check=True, capture_output=True,
                          text=True).stdout.strip()


GIT = 'git -c user.name=t -c user.email=t@example.org'
R = os.path.join(TMP, 'r')
os.makedirs(R)
# a: v1.0.0 (c1), v1.1.0 annotated (c2), v2.0.0-rc1 (c2), not-a-tag (c1)
sh('cd %s && git init -q -b main wa && cd wa && '
   '%s commit -q --allow-empty -m one && git tag v1.0.0 && '
   'git tag not-a-tag && %s commit -q --allow-empty -m two && '
   '%s tag -a -m ann v1.1.0 && git tag v2.0.0-rc1 && '
   'git clone -q --bare . ../a.git' % (R, GIT, GIT, GIT))
A = os.path.join(R, 'a.git')
C1, C2 = rev(A, 'v1.0.0'), rev(A, 'v1.1.0^{commit}')
sh('cd %s && git init -q -b main wn && cd wn && '
   '%s commit -q --allow-empty -m one && git tag 1_31_0 && git tag 2_0 && '
   '%s tag -a -m ann v0.20.0-alpha1 && git tag v0.21.0 && '
   'git clone -q --bare . ../n.git' % (R, GIT, GIT))
NC = rev(os.path.join(R, 'n.git'), 'v0.20.0-alpha1^{commit}')
HOSTILE_GIT = ['v1.0;id', 'v1.1$(id)', 'v1.2`id`', 'v1.3|x',
               'v1.4' + 'a' * 246]
sh('cd %s && git init -q -b main wh && cd wh && '
   '%s commit -q --allow-empty -m one && git tag v1.0 && git tag v1.5 && '
   'git clone -q --bare . ../h.git' % (R, GIT))
for t in HOSTILE_GIT:
    subprocess.run(['git', '-C', os.path.join(R, 'h.git'), 'update-ref',
                    'refs/tags/' + t, 'HEAD'], check=True)
# big: 20 000 lightweight tags in packed-refs
sh('cd %s && git clone -q --bare wa big.git && rm -f big.git/packed-refs' % R)
with open(os.path.join(R, 'big.git', 'packed-refs'), 'w') as f:
    f.write('# pack-refs with: peeled fully-peeled sorted \n')
    lines = ['%s refs/heads/main' % C2]
    lines += ['%s refs/tags/v%d.%d.%d' % (C1, i // 1000, (i // 10) % 100,
              i % 10) for i in range(20000)]
    f.write('\n'.join(sorted(lines, key=lambda x: x.split()[1])) + '\n')
sh('chmod -R a+rX %s && chmod a+rx %s' % (R, TMP))

OID2 = '2' * 40
FREFS = [(C1, b'HEAD'), (C1, b'refs/heads/main'),
         (OID2, b'refs/tags/v2.0/../../x'), (C1, b'refs/tags/v2.1;id'),
         (C1, b'refs/tags/v2.2' + b'a' * 5000), (OID2, b'refs/tags/v2.4'),
         (C2, b'refs/tags/v2.4^{}'), (C1, 'refs/tags/v2.5\u2215x'.encode()),
         (C1, b'refs/tags/v2.6\x1b[31m'), (C1, b'refs/tags/v2.7^{}')]
fake = FakeGit({'/h.git': FREFS, '/slow.git': [(C1, b'refs/tags/v9.9')]})
fake.start()
FG = 'git://127.0.0.1:%d' % fake.port
closed = socket.socket()
closed.bind(('127.0.0.1', 0))
CLOSED = 'git://127.0.0.1:%d/x.git' % closed.getsockname()[1]
closed.close()

PAT = r'^v(\d+\.\d+\.\d+(?:-rc\d+)?)$'
NAMED1 = r'^(?P<major>\d+)_(?P<minor>\d+)_(?P<patch>\d+)$'
NAMED2 = (r'^v(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)'
          r'(?:-(?P<prerelease>[a-z]+\d+))?$')
LOOSE = r'^v(\d+\.\d+)'


def url(name):
    return 'file://' + os.path.join(R, name)


def tags(p, rid):
    return [(t['tag'], t['up'], t['oid'], t['src']) for t in p.trig_for(rid)]


def starts(p, rid):
    return [t for t, l, m, k in p.logs
            if m == 'polling upstream' and k.get('recipe') == rid]


def refused(p, rid):
    return {k['tag']: k['err'] for t, l, m, k in p.logs
            if m == 'tag refused' and k.get('recipe') == rid}


def wait_closed(path, timeout=2.0):
    """The fake server saw every connection to path end (the listing
    child is gone: nothing else holds the socket)."""
    end = time.monotonic() + timeout
    while fake.open.get(path) != 0 and time.monotonic() < end:
        time.sleep(0.02)
    return fake.open.get(path) == 0


def newpoller(conf, env=None, name='p'):
    return Poller(PROG, conf, env=env, user=USER,
                  stderr_path=os.path.join(TMP, name + '.err'))


# ---- P1: matching, errors, hostile tags, schedule, reload ------------
p = newpoller((2 * SEC, 10 * SEC, 4, 10000), name='p1')
r1 = [dict(id='a', git=url('a.git'), pattern=PAT, min='1.1.0'),
      dict(id='n1', git=url('n.git'), pattern=NAMED1),
      dict(id='n2', git=url('n.git'), pattern=NAMED2),
      dict(id='u1', git=url('nonexistent.git'), pattern=PAT),
      dict(id='u2', git=CLOSED, pattern=PAT),
      dict(id='h', git=url('h.git'), pattern=LOOSE),
      dict(id='f', git=FG + '/h.git', pattern=LOOSE),
      dict(id='sch', git=FG + '/slow-sched.git', pattern=LOOSE,
           interval=SEC),
      dict(id='x', watched=0),
      dict(id='slow', git=FG + '/slow.git', pattern=LOOSE)]
p.table(1, r1)
check('PM_READY after the first table', p.wait(lambda: p.ready is not None, 5))
p.wait(lambda: starts(p, 'sch'), 2)
check('scheduled recipe polled at start after a short jitter',
      starts(p, 'sch') and starts(p, 'sch')[0] - p.ready < 1.0,
      starts(p, 'sch'))
check('interval-0 recipes are not polled on their own',
      not any(starts(p, r) for r in ('a', 'n1', 'u1', 'h', 'slow')))
for rid in ('a', 'n1', 'n2', 'u1', 'u2', 'h', 'f'):
    p.poll_now(rid, SRC_START)
p.wait(lambda: all(p.done_for(r) for r in
                   ('a', 'n1', 'n2', 'u1', 'u2', 'h', 'f')), 15)
check('a: triggers for v1.1.0 (peeled) and v2.0.0-rc1 only',
      tags(p, 'a') == [('v1.1.0', '1.1.0', C2, 4),
                       ('v2.0.0-rc1', '2.0.0-rc1', C2, 4)], tags(p, 'a'))
d = p.done_for('a')
check('a: PM_POLL_DONE ok, 4 seen, 2 emitted, 1 below min_version',
      len(d) == 1 and (d[0]['ok'], d[0]['err'], d[0]['seen'],
                       d[0]['emitted'], d[0]['below'], d[0]['src']) ==
      (1, '', 4, 2, 1, 4) and abs(d[0]['at'] - time.time()) < 3600 * 24 *
      365 * 10, d)
check('a: "polling upstream" and "poll complete" events',
      p.log('polling upstream', recipe='a', git=url('a.git')) and
      p.log('poll complete', recipe='a', tags_seen=4, matches_emitted=2,
            skipped_below_min_version=1), p.logs)
check('n1: named groups major_minor_patch compose 1.31.0',
      tags(p, 'n1') == [('1_31_0', '1.31.0', C1.replace(C1, rev(
          os.path.join(R, 'n.git'), '1_31_0')), 4)], tags(p, 'n1'))
check('n2: named prerelease group composes 0.20.0-alpha1',
      [(t, u) for t, u, o, s in tags(p, 'n2')] ==
      [('v0.20.0-alpha1', '0.20.0-alpha1'), ('v0.21.0', '0.21.0')] and
      tags(p, 'n2')[0][2] == NC, tags(p, 'n2'))
e = 'ls-remote %s: ' % url('nonexistent.git')
d = p.done_for('u1')
check('missing repository: PM_POLL_DONE ok=0 with the libgit2 error',
      len(d) == 1 and d[0]['ok'] == 0 and d[0]['err'].startswith(e) and
      len(d[0]['err']) > len(e), d)
check('missing repository: WARN "ls-remote failed" with the same err',
      d and p.log('ls-remote failed', recipe='u1', err=d[0]['err']))
d = p.done_for('u2')
check('refused connection: PM_POLL_DONE ok=0',
      len(d) == 1 and d[0]['ok'] == 0 and
      d[0]['err'].startswith('ls-remote %s: ' % CLOSED), d)
check('hostile tags in a file:// upstream: only v1.0 and v1.5 trigger',
      [t[0] for t in tags(p, 'h')] == ['v1.0', 'v1.5'], tags(p, 'h'))
check('hostile tags in a file:// upstream: each refused with a warning',
      sorted(refused(p, 'h')) == sorted(x if len(x) <= 200 else
                                        x[:200] + '...' for x in HOSTILE_GIT),
      refused(p, 'h'))
check('hostile server: only v2.4 triggers, with its peeled commit',
      tags(p, 'f') == [('v2.4', '2.4', C2, 4)], tags(p, 'f'))
rf = refused(p, 'f')
check('hostile server: traversal, ;, look-alike, ESC and 5000-byte '
      'names refused', sorted(rf) == sorted(
          ['v2.0/../../x', 'v2.1;id', 'v2.5\u2215x', 'v2.6\x1b[31m',
           'v2.2' + 'a' * 196 + '...']) and
      rf['v2.2' + 'a' * 196 + '...'] == 'tag name is longer than 4096 bytes',
      rf)
bad = [t for t in p.triggers if re.search(r'[^A-Za-z0-9._+~@/-]|\.\.',
                                          t['tag'])]
check('no trigger carries an unsafe tag name', not bad, bad)
sh('cd %s/wa && git tag v3.0.0 && git push -q ../a.git v3.0.0' % R)
p.poll_now('a', SRC_WEBHOOK)
p.wait(lambda: len(p.done_for('a')) == 2, 10)
d = p.done_for('a')
check('PM_POLL_NOW re-polls and finds the new tag (source webhook)',
      ('v3.0.0', '3.0.0', C2, 2) in tags(p, 'a') and len(d) == 2 and
      d[1]['src'] == 2 and d[1]['emitted'] == 3, (tags(p, 'a'), d))
for i in range(3):
    p.poll_now('slow', SRC_WEBHOOK)
p.wait(lambda: len(p.done_for('slow')) == 2, 6)
p.pump(0.5)
check('requests for a running poll coalesce into one re-poll',
      len(starts(p, 'slow')) == 2 and len(p.done_for('slow')) == 2 and
      len([a for a in fake.accepted if a[1] == '/slow.git']) == 2,
      (starts(p, 'slow'), p.done_for('slow')))
ss, sd = starts(p, 'sch'), [x['t'] for x in p.done_for('sch')]
gaps = [ss[i + 1] - sd[i] for i in range(min(len(ss) - 1, len(sd)))]
check('schedule: each poll (1 s long) starts an interval (1 s) after the '
      'previous one ended', len(ss) >= 2 and all(0.8 <= g <= 1.8
                                                for g in gaps) and
      all(ss[i + 1] - ss[i] >= 1.8 for i in range(len(ss) - 1)) and
      all(x['src'] == SRC_POLL and x['ok'] == 1 for x in p.done_for('sch')),
      (ss, sd))
p.poll_now('x', SRC_START)
p.poll_now('nope', SRC_WEBHOOK)
p.wait(lambda: p.done_for('x') and p.done_for('nope'), 5)
check('unwatched recipe: PM_POLL_DONE ok=0 "recipe is not watched"',
      [(x['ok'], x['err']) for x in p.done_for('x')] ==
      [(0, 'recipe is not watched')], p.done_for('x'))
check('unknown recipe: PM_POLL_DONE ok=0 "unknown recipe" and a warning',
      [(x['ok'], x['err'], x['src']) for x in p.done_for('nope')] ==
      [(0, 'unknown recipe', 2)] and
      p.log('poll request for an unknown recipe', recipe='nope'))
p.send(PM_PING, W().u64(0x1122334455667788).b)
p.wait(lambda: p.pongs, 5)
check('PM_PING answered', p.pongs == [0x1122334455667788], p.pongs)
r2 = [r for r in r1 if r['id'] not in ('u1', 'u2', 'sch')]
r2 += [dict(id='sch', git=FG + '/slow-sched.git', pattern=LOOSE,
            interval=0),
       dict(id='a2', git=url('a.git'), pattern=PAT, interval=SEC)]
nsch = len(starts(p, 'sch'))
p.pump(0.05)
treload = p.now()
p.table(2, r2)
p.wait(lambda: starts(p, 'a2'), 3)
check('reload: an added recipe gets its first poll',
      starts(p, 'a2') and starts(p, 'a2')[0] - treload < 1.0,
      starts(p, 'a2'))
p.pump(1.5)
check('reload: a recipe whose interval became 0 is no longer scheduled',
      len([t for t in starts(p, 'sch') if t > treload + 0.1]) == 0,
      (nsch, starts(p, 'sch'), treload))
p.poll_now('u1', SRC_RELOAD)
p.wait(lambda: len(p.done_for('u1')) == 2, 5)
check('reload: a removed recipe is unknown',
      p.done_for('u1')[-1]['err'] == 'unknown recipe', p.done_for('u1'))
ns, nd = len(starts(p, 'slow')), len(p.done_for('slow'))
p.poll_now('slow', SRC_WEBHOOK)
p.wait(lambda: len(starts(p, 'slow')) > ns, 3)
p.table(3, [r for r in r2 if r['id'] != 'slow'])
p.table(4, r2)
p.poll_now('slow', SRC_RELOAD)
p.wait(lambda: len(p.done_for('slow')) == nd + 2, 8)
ss, sd = starts(p, 'slow')[ns:], [x['t'] for x in p.done_for('slow')][nd:]
check('reload: a recipe dropped and re-added while polling never has '
      'two listings at once', len(ss) == 2 and len(sd) == 2 and
      ss[1] >= sd[0], (ss, sd))
rc = p.stop()
check('PM_SHUTDOWN: exit status 0', rc == 0, rc)
check('no unexpected messages and nothing on stderr',
      not p.bad and p.stderr() == '', (p.bad, p.stderr()))

# ---- P2: connect timeout, bounded concurrency -------------------------
p = newpoller((1 * SEC, 30 * SEC, 2, 10000), name='p2')
tp = ['t1', 't2', 't3', 't4']
p.table(1, [dict(id=t, git=FG + '/tarpit%s.git' % t, pattern=LOOSE)
            for t in tp] + [dict(id='a', git=url('a.git'), pattern=PAT)])
p.wait(lambda: p.ready is not None, 5)
for rid in tp + ['a']:
    p.poll_now(rid)
t0 = p.now()
p.pump(0.6)
check('concurrency 2: two listings in progress, the others wait',
      len([1 for t, l, m, k in p.logs if m == 'polling upstream']) == 2 and
      sum(fake.open.values()) == 2, (p.logs, fake.open))
p.wait(lambda: all(p.done_for(r) for r in tp + ['a']), 8)
ev = sorted([(t, 1) for t, l, m, k in p.logs if m == 'polling upstream'] +
            [(x['t'], -1) for x in p.dones])
level, peak = 0, 0
for t, dlt in ev:
    level += dlt
    peak = max(peak, level)
acc = sorted(t for t, pa in fake.accepted if pa.startswith('/tarpitt'))
check('concurrency 2: never more than 2 listings at once',
      peak == 2 and len(acc) == 4 and acc[2] - acc[1] >= 0.9, (peak, acc))
d = p.done_for('t1')
check('tarpit: "connect timeout after 1s" about 1 s after the start',
      len(d) == 1 and d[0]['ok'] == 0 and d[0]['err'] ==
      'ls-remote %s/tarpitt1.git: connect timeout after 1s' % FG and
      0.9 <= d[0]['t'] - starts(p, 't1')[0] <= 2.0, d)
check('tarpit: a WARN "ls-remote failed" per timed-out poll',
      all(p.log('ls-remote failed', recipe=t) for t in tp))
d = p.done_for('a')
check('other recipes keep being polled', len(d) == 1 and d[0]['ok'] == 1,
      d)
check('timed-out listing children were killed (connections closed)',
      all(wait_closed('/tarpit%s.git' % t) for t in tp), fake.closed)
check('shutdown: exit status 0', p.stop() == 0)

# ---- P3: total timeout; shutdown during a listing ---------------------
p = newpoller((5 * SEC, 1500 * 1000 * 1000, 4, 10000), name='p3')
p.table(1, [dict(id='l', git=FG + '/loris.git', pattern=LOOSE),
            dict(id='t', git=FG + '/tarpit-s.git', pattern=LOOSE)])
p.wait(lambda: p.ready is not None, 5)
p.poll_now('l')
p.wait(lambda: p.done_for('l'), 5)
d = p.done_for('l')
check('slow server: "timeout after 1.5s" (whole-listing deadline)',
      len(d) == 1 and d[0]['err'] == 'ls-remote %s/loris.git: timeout '
      'after 1.5s' % FG and 1.4 <= d[0]['t'] - starts(p, 'l')[0] <= 2.5, d)
p.poll_now('t')
p.wait(lambda: starts(p, 't'), 3)
p.pump(0.3)
t0 = time.monotonic()
rc = p.stop()
t1 = time.monotonic() - t0
check('PM_SHUTDOWN during a listing: exit 0 at once, listing killed',
      rc == 0 and t1 < 2.0 and wait_closed('/tarpit-s.git'),
      (rc, t1, fake.open))

p = newpoller((5 * SEC, 30 * SEC, 4, 10000), name='p3k')
p.table(1, [dict(id='t', git=FG + '/tarpit-k.git', pattern=LOOSE)])
p.wait(lambda: p.ready is not None, 5)
p.poll_now('t')
p.wait(lambda: fake.open.get('/tarpit-k.git') == 1, 3)
os.kill(p.proc.pid, 9)
p.proc.wait()
check('poller killed mid-listing: its listing child dies with it',
      wait_closed('/tarpit-k.git'), fake.open)

# ---- P4/P5: 20 000 tags ------------------------------------------------
p = newpoller((10 * SEC, 60 * SEC, 1, 20000), name='p4')
p.table(1, [dict(id='big', git=url('big.git'), pattern=PAT)])
p.wait(lambda: p.ready is not None, 5)
p.poll_now('big')
p.wait(lambda: p.done_for('big'), 60)
d = p.done_for('big')
check('20 000 tags: every one matched and sent',
      len(d) == 1 and (d[0]['ok'], d[0]['seen'], d[0]['emitted']) ==
      (1, 20000, 20000) and len(set(t['tag'] for t in
                                    p.trig_for('big'))) == 20000, d)
lf = p.log('listing finished', recipe='big')
check('20 000 tags: listing child RSS < 64 MiB',
      lf and int(lf[0][3]['max_rss_kib']) < 64 * 1024, lf)
hwm = None
for line in open('/proc/%d/status' % p.proc.pid):
    if line.startswith('VmHWM:'):
        hwm = int(line.split()[1])
check('20 000 tags: poller peak RSS < 64 MiB', hwm is not None and
      hwm < 64 * 1024, hwm)
check('shutdown: exit status 0', p.stop() == 0)
p = newpoller((10 * SEC, 60 * SEC, 1, 10000), name='p5')
p.table(1, [dict(id='big', git=url('big.git'), pattern=PAT)])
p.wait(lambda: p.ready is not None, 5)
p.poll_now('big')
p.wait(lambda: p.done_for('big'), 60)
d = p.done_for('big')
check('max_tags 10 000: list cut with a warning',
      len(d) == 1 and (d[0]['ok'], d[0]['seen'], d[0]['emitted']) ==
      (1, 20000, 10000) and p.log('tag list truncated', recipe='big',
                                  tags=20000, max_tags=10000), d)
p.stop()

# ---- P6: the sandbox ---------------------------------------------------
p = newpoller((10 * SEC, 60 * SEC, 4, 10000),
              env={'PEIPKG_TEST_POLLER_PROBE': '1'}, name='p6')
p.table(1, [dict(id='a', git=url('a.git'), pattern=PAT)])
p.wait(lambda: p.ready is not None, 5)
p.poll_now('a')
p.wait(lambda: p.done_for('a'), 10)
check('sandboxed poller still lists (file://)',
      [x['ok'] for x in p.done_for('a')] == [1], p.done_for('a'))
p.stop()
err = p.stderr()
want = ['probe open-write: Operation not permitted',
        'probe mkdir: Operation not permitted',
        'probe socket-packet: Operation not permitted',
        'probe open-read: allowed',
        'probe exec: killed by signal 31',
        'probe ptrace: killed by signal 31']
for w in want:
    check('sandbox: ' + w[6:], w in err.splitlines(), err)
st = dict(re.findall(r'probe status (\w+):\s+(.*)', err))
check('sandbox: no_new_privs, seccomp filter, no capabilities',
      st.get('NoNewPrivs') == '1' and st.get('Seccomp') == '2' and
      st.get('CapEff') == '0' * 16, st)
if ROOT:
    nob = subprocess.run(['id', '-u', 'nobody'], capture_output=True,
                         text=True).stdout.strip()
    check('sandbox: runs as nobody, no capability bounding set',
          st.get('Uid', '').split()[:1] == [nob] and
          st.get('CapBnd') == '0' * 16, st)
print('1..%d' % N)
sys.exit(0)
PYEOF
python3 "$TAP_TMP/poller-role.py" "$PROG" "$TAP_TMP"
