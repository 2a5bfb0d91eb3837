#!/usr/bin/env python3
# once-mem.py: helper of bench/once.sh.  Runs a command and measures the
# memory of its whole process tree.
#
#   once-mem.py OUT.json CMD [ARG...]        (root: taskstats needs it)
#   once-mem.py --line OUT.json              one line of its figures
#
# Two sources, combined:
#
# - Exit records (the kernel's taskstats netlink interface, registered for
#   every CPU before the command starts): when any task exits the kernel
#   sends its pid, parent pid, thread-group id, command name and
#   hiwater_rss - the peak RSS of its address space, the VmHWM of
#   /proc/PID/status, taken at exit, so it is exact and no process is
#   missed however short it lived.  Records of thread-group leaders whose
#   parent chain leads to the command make up the tree.
# - A sampler: every 20 ms (INTERVAL_MS) /proc is listed and every live
#   process of the tree is read (VmRSS, and Pss from smaps_rollup), for
#   the figures of what was resident at the same time, and the role of
#   each peipkg-manager -P ROLE from its command line.  The sampler is a
#   child subreaper, so orphans are re-parented to it and reaped here.
#
# Reported (JSON in OUT):
#
#   wall_s        command start to command exit
#   sum_hwm_kb    sum over every process of its peak RSS (shared pages -
#                 libraries, copy-on-write memory after fork - count once
#                 per process that maps them); a process that exec'd
#                 counts with the program it ended as (the exit record)
#   peak_rss_kb   the largest sum of VmRSS over the tree in one sample
#   peak_pss_kb   the same with Pss (shared pages divided among the
#                 processes sharing them): the closest figure to the RAM
#                 the tree needed at one time
#   max_hwm_kb    the largest single peak RSS
#   cpu_s         user + system CPU time of the tree (exit records of
#                 every thread)
#   procs         processes; by_label: the same per program (command
#                 name, with the role of peipkg-manager -P ROLE; a process
#                 forked from one of the same label gets " (fork)", the
#                 command itself " (the command)")
#   lost          exit records the kernel dropped (socket overrun; then
#                 the sums are low by those processes)
import ctypes, json, os, signal, socket, struct, sys, time

INTERVAL = int(os.environ.get('INTERVAL_MS', '20')) / 1000.0
PR_SET_CHILD_SUBREAPER = 36
NETLINK_GENERIC, GENL_ID_CTRL, SO_RCVBUFFORCE = 16, 0x10, 33
# struct taskstats offsets (linux/taskstats.h, version >= 12)
TS_COMM, TS_PID, TS_UTIME, TS_HIWATER, TS_TGID = 80, 128, 152, 200, 368


def nla(t, data):
    a = struct.pack('HH', 4 + len(data), t) + data
    return a + b'\0' * (-len(a) % 4)


def attrs(buf):
    o = 0
    while o + 4 <= len(buf):
        ln, t = struct.unpack_from('HH', buf, o)
        if ln < 4:
            break
        yield t, buf[o + 4:o + ln]
        o += (ln + 3) & ~3


class Exits:
    """Exit records of every task on the machine, from taskstats."""

    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        self.s.bind((0, 0))
        fam = None
        for t, a in attrs(self.ask(GENL_ID_CTRL, 3,
                                   nla(2, b'TASKSTATS\0'))[20:]):
            if t == 1:
                fam = struct.unpack_from('H', a)[0]
        if fam is None:
            sys.exit('once-mem.py: no TASKSTATS netlink family')
        mask = '0-%d\0' % (os.cpu_count() - 1)
        r = self.ask(fam, 1, nla(3, mask.encode()))
        if struct.unpack_from('i', r, 16)[0] != 0:
            sys.exit('once-mem.py: taskstats registration refused')
        self.s.setblocking(False)
        self.recs = {}
        self.cpu = {}
        self.lost = 0

    def ask(self, fam, cmd, payload):
        p = struct.pack('BBH', cmd, 1, 0) + payload
        self.s.send(struct.pack('IHHII', 16 + len(p), fam, 1 | 4, 1, 0) + p)
        return self.s.recv(65536)

    def drain(self):
        while True:
            try:
                r = self.s.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:		# ENOBUFS: the kernel dropped some
                self.lost += 1
                continue
            o = 0
            while o + 16 <= len(r):
                ln = struct.unpack_from('I', r, o)[0]
                for t, a in attrs(r[o + 20:o + ln]):
                    if t == 4:		# TASKSTATS_TYPE_AGGR_PID
                        for u, st in attrs(a):
                            if u == 3 and len(st) >= TS_TGID + 4:
                                self.add(st)
                o += (ln + 3) & ~3

    def add(self, st):
        pid, ppid = struct.unpack_from('II', st, TS_PID)
        tgid = struct.unpack_from('I', st, TS_TGID)[0]
        # CPU time is per thread: add every thread's to its process.
        ut, st_ = struct.unpack_from('QQ', st, TS_UTIME)
        self.cpu[tgid] = self.cpu.get(tgid, 0) + ut + st_
        if tgid != pid:
            return		# a thread other than the leader
        self.recs[pid] = {
            'ppid': ppid,
            'name': st[TS_COMM:TS_COMM + 32].split(b'\0')[0].decode(
                errors='replace'),
            'hwm': struct.unpack_from('Q', st, TS_HIWATER)[0]}


def read_status(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            text = f.read()
    except OSError:
        return None
    d = {}
    for line in text.splitlines():
        k, _, v = line.partition(':')
        if k == 'Name':
            d['name'] = v.strip()
        elif k == 'PPid':
            d['ppid'] = int(v)
        elif k in ('VmHWM', 'VmRSS'):
            d[k] = int(v.split()[0])
    return d


def read_pss(pid):
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def read_role(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = f.read().split(b'\0')
    except OSError:
        return None
    if b'-P' in argv[:-1]:
        return argv[argv.index(b'-P') + 1].decode(errors='replace')
    return ''


class Sampler:
    def __init__(self, root):
        self.me = os.getpid()
        self.tree = {root}		# live members
        self.foreign = set()
        self.procs = {}			# every member seen: pid -> info
        self.peak_rss = self.peak_pss = self.samples = 0

    def record(self, pid, st):
        p = self.procs.setdefault(pid, {'hwm': 0, 'name': '?',
                                        'role': None,
                                        'ppid': st.get('ppid', 0)})
        p['name'] = st.get('name', p['name'])
        p['hwm'] = st.get('VmHWM', p['hwm'])
        if p['name'] == 'peipkg-manager':
            r = read_role(pid)
            if r:
                p['role'] = r
        return st.get('VmRSS', 0)

    def scan(self):
        listing = {int(x) for x in os.listdir('/proc') if x.isdigit()}
        self.tree &= listing
        self.foreign &= listing
        fresh = {}
        for pid in listing - self.tree - self.foreign - {self.me}:
            st = read_status(pid)
            if st is not None:
                fresh[pid] = st
        grew = True
        while grew:
            grew = False
            for pid, st in list(fresh.items()):
                if st.get('ppid') in self.tree or st.get('ppid') == self.me:
                    self.tree.add(pid)
                    del fresh[pid]
                    grew = True
        self.foreign |= set(fresh)
        rss = pss = 0
        for pid in self.tree:
            st = read_status(pid)
            if st is not None:
                r = self.record(pid, st)
                p = read_pss(pid)
                rss += r
                pss += r if p is None else p
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.samples += 1


def merge(smp, exits, root):
    """The tree: sampled processes plus exit records whose parent chain
    reaches the command (or the sampler, for re-parented orphans)."""
    procs = {pid: dict(p) for pid, p in smp.procs.items()}
    ours = set(procs) | {root, smp.me}
    recs = exits.recs
    grew = True
    while grew:
        grew = False
        for pid, r in recs.items():
            if pid not in ours and r['ppid'] in ours:
                ours.add(pid)
                grew = True
    for pid, r in recs.items():
        if pid == smp.me or pid not in ours:
            continue
        p = procs.setdefault(pid, {'hwm': 0, 'name': r['name'],
                                   'role': None, 'ppid': r['ppid']})
        # The exit record is exact and describes the program the process
        # ended as; a sample may have caught it between fork and exec.
        p['hwm'], p['name'] = r['hwm'], r['name']
        p['cpu_us'] = exits.cpu.get(pid, 0)
    return procs


def report(procs, root):
    # A fork never seen after it started (a role's short-lived child) has
    # its parent's role.
    for pid in sorted(procs):
        p, q = procs[pid], procs.get(procs[pid]['ppid'])
        while q is not None and not p['role'] and q['name'] == p['name']:
            p['role'] = q['role']
            q = procs.get(q['ppid']) if not q['role'] else None

    def label(pid):
        p = procs[pid]
        return p['name'] + (' -P ' + p['role'] if p['role'] else '')
    by = {}
    for pid, p in procs.items():
        lab = label(pid)
        if pid == root:
            lab += ' (the command)'
        elif p['ppid'] in procs and label(p['ppid']) == lab:
            lab += ' (fork)'
        b = by.setdefault(lab, {'n': 0, 'sum_hwm_kb': 0, 'max_hwm_kb': 0,
                                'cpu_s': 0})
        b['n'] += 1
        b['cpu_s'] += p.get('cpu_us', 0) / 1e6
        b['sum_hwm_kb'] += p['hwm']
        b['max_hwm_kb'] = max(b['max_hwm_kb'], p['hwm'])
    hw = [p['hwm'] for p in procs.values()]
    return {'sum_hwm_kb': sum(hw), 'max_hwm_kb': max(hw or [0]),
            'cpu_s': sum(p.get('cpu_us', 0) for p in procs.values()) / 1e6,
            'procs': len(procs), 'by_label': by}


def line(path):
    d = json.load(open(path))
    print('%6.2f s  CPU %5.2f s  sum %7.1f MiB  peak RSS %5.1f MiB  peak PSS '
          '%5.1f MiB  %d processes' % (
              d['wall_s'], d['cpu_s'], d['sum_hwm_kb'] / 1024,
              d['peak_rss_kb'] / 1024, d['peak_pss_kb'] / 1024, d['procs']))


def main():
    if sys.argv[1] == '--line':
        return line(sys.argv[2])
    out, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit('once-mem.py: prctl(PR_SET_CHILD_SUBREAPER) failed')
    exits = Exits()
    t0 = time.monotonic()
    root = os.fork()
    if root == 0:
        os.execvp(cmd[0], cmd)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda n, f: os.kill(root, signal.SIGTERM))
    smp = Sampler(root)
    rc = t_end = None
    while True:
        smp.scan()
        exits.drain()
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
            if pid == root:
                rc = os.waitstatus_to_exitcode(st)
                t_end = time.monotonic()
        if rc is not None and (not smp.tree or
                               time.monotonic() - t_end > 5):
            break
        time.sleep(INTERVAL)
    time.sleep(0.1)
    exits.drain()
    r = report(merge(smp, exits, root), root)
    r.update({'wall_s': t_end - t0, 'rc': rc, 'lost': exits.lost,
              'peak_rss_kb': smp.peak_rss, 'peak_pss_kb': smp.peak_pss,
              'samples': smp.samples})
    with open(out, 'w') as f:
        json.dump(r, f, indent=1, sort_keys=True)
    sys.exit(0 if rc == 0 else 1)


main()
