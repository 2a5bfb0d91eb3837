#!/usr/bin/env python3
# Copyright (c) 2026 The peipkg-manager authors
# SPDX-License-Identifier: ISC
#
# fakeparent-worker.py: plays the parent of one build worker
# (sandbox/peipkg-buildd) for tests/integ/worker.sh and the benchmark.
# It makes the SOCK_SEQPACKET channel, execs the worker with the child
# end on fd 3 (0-2 on /dev/null, nothing else open, environment PATH
# only), sends PM_BUILD_JOB and PM_BUILD_LOG_FD (the log opened
# O_APPEND), answers every PM_SIGN_REQ by signing the digest with the
# given Ed25519 key through `openssl pkeyutl -sign -rawin`, and prints
# one line per event on stdout (flushed at once):
#
#   PID <pid>
#   LOG <level> <message> [key=value ...]
#   PHASE <n> <detail>
#   SIGN kind=<n> subject=<s> key=<name>
#   DONE ok=<0|1> ts=<unix s> err=<text> out=<name,name,...>
#   EXIT <exited N | killed N>
#
# Usage: fakeparent-worker.py --worker PATH --job-dir DIR --log FILE
#   --recipe-file FILE --git URL --tag TAG [options]; see parse().
# Exit status: 0 when the worker exited (whatever its status), 2 on a
# protocol error by the worker.  Trust: a test tool.
import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile

PM_LOG = 1
PM_SIGN_REQ = 400
PM_SIGN_ANS = 402
PM_BUILD_JOB = 500
PM_BUILD_LOG_FD = 501
PM_BUILD_PHASE = 502
PM_BUILD_DONE = 503
HDR = struct.Struct("=HBBIII")   # type, version, flags, len, id, reserved
PM_F_FD = 1


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Msg:
    def __init__(self, data):
        self.d = data
        self.o = 0

    def take(self, fmt):
        v = struct.unpack_from("=" + fmt, self.d, self.o)
        self.o += struct.calcsize("=" + fmt)
        return v[0]

    def str(self):
        n = self.take("I")
        s = self.d[self.o:self.o + n]
        if len(s) != n:
            raise ValueError("string past the end")
        self.o += n
        return s.decode("utf-8", "replace")

    def fixed(self, n):
        s = self.d[self.o:self.o + n]
        if len(s) != n:
            raise ValueError("fixed past the end")
        self.o += n
        return s

    def end(self):
        if self.o != len(self.d):
            raise ValueError("%d trailing bytes" % (len(self.d) - self.o))


def pstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("=I", len(b)) + b


def record(mtype, mid, payload, fd=False):
    return HDR.pack(mtype, 1, PM_F_FD if fd else 0, len(payload), mid,
                    0) + payload


def job_payload(a):
    p = pstr(a.recipe_id) + pstr(a.recipe_file) + pstr(a.version)
    p += pstr(a.upstream) + pstr(a.tag)
    p += struct.pack("=B", 1 if a.commit else 0)
    p += bytes.fromhex(a.commit) if a.commit else bytes(20)
    p += pstr(a.git)
    p += struct.pack("=B", a.submodules)
    p += pstr(a.farm_id) + pstr(a.source_ref or
                                 "git+%s#refs/tags/%s" % (a.git, a.tag))
    p += pstr(a.job_dir) + struct.pack("=II", a.uid, a.gid)
    p += struct.pack("=qqq", a.wall_ms * 1000000, a.idle_ms * 1000000,
                     a.grace_ms * 1000000)
    p += struct.pack("=QQQQ", a.log_max, a.nproc, a.nofile, a.fsize)
    p += struct.pack("=BI", a.ptrace, a.zstd)
    for lst in (a.hide, a.env, a.key):
        p += struct.pack("=H", len(lst)) + b"".join(pstr(x) for x in lst)
    return p


def sign(a, digest):
    with tempfile.NamedTemporaryFile() as f:
        f.write(digest)
        f.flush()
        r = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin",
                            "-inkey", a.sign_key, "-in", f.name],
                           capture_output=True, check=True)
    return r.stdout


def answer_sign(a, sock, mid, m):
    kind = m.take("B")
    subject = m.str()
    key = m.str()
    digest = m.fixed(32)
    m.end()
    out("SIGN kind=%d subject=%s key=%s" % (kind, subject, key))
    pub = open(a.pub, "rb").read()
    if a.refuse_sign:
        ans = struct.pack("=B", 0) + bytes(96) + pstr("refused by test")
    else:
        ans = struct.pack("=B", 1) + sign(a, digest) + pub + pstr("")
    sock.send(record(PM_SIGN_ANS, mid, ans))


def show(a, sock, mtype, mid, data):
    m = Msg(data)
    if mtype == PM_LOG:
        lvl = m.take("B")
        text = m.str()
        n = m.take("H")
        kv = ["%s=%s" % (m.str(), m.str()) for _ in range(n)]
        m.end()
        out(" ".join(["LOG", str(lvl), text] + kv))
    elif mtype == PM_BUILD_PHASE:
        ph = m.take("B")
        detail = m.str()
        m.end()
        out("PHASE %d %s" % (ph, detail))
    elif mtype == PM_SIGN_REQ:
        answer_sign(a, sock, mid, m)
    elif mtype == PM_BUILD_DONE:
        ok = m.take("B")
        err = m.str()
        ts = m.take("q")
        n = m.take("H")
        names = [m.str() for _ in range(n)]
        m.end()
        if mid != a.job_id:
            raise ValueError("PM_BUILD_DONE for job %d" % mid)
        out("DONE ok=%d ts=%d err=%s out=%s" % (ok, ts, err,
                                                 ",".join(names)))
    else:
        raise ValueError("unexpected message type %d" % mtype)


def spawn(a, child):
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(child.fileno(), 3)
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.closerange(4, 65536)
            os.execve(a.worker, [a.worker],
                      {"PATH": "/usr/local/bin:/usr/bin:/bin"})
        finally:
            os._exit(127)
    return pid


def run(a):
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = spawn(a, child)
    child.close()
    out("PID %d" % pid)
    logfd = os.open(a.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    if a.garbage:
        parent.send(b"\x01\x02\x03")
    else:
        parent.send(record(PM_BUILD_JOB, a.job_id, job_payload(a)))
    socket.send_fds(parent, [record(PM_BUILD_LOG_FD, a.job_id, b"",
                                    fd=True)], [logfd])
    os.close(logfd)
    rc = 0
    while True:
        try:
            rec = parent.recv(65536)
        except ConnectionResetError:
            rec = b""
        if not rec:
            break
        try:
            mtype, ver, flags, ln, mid, res = HDR.unpack_from(rec)
            if ver != 1 or flags != 0 or res != 0 or ln != len(rec) - 16:
                raise ValueError("bad header")
            show(a, parent, mtype, mid, rec[16:])
        except (ValueError, struct.error) as e:
            out("PROTOCOL %s" % e)
            rc = 2
            os.kill(pid, 9)
            break
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        out("EXIT killed %d" % os.WTERMSIG(st))
    else:
        out("EXIT exited %d" % os.WEXITSTATUS(st))
    return rc


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--worker", required=True)
    p.add_argument("--job-id", type=int, default=7)
    p.add_argument("--recipe-id", default="hello")
    p.add_argument("--recipe-file", required=True)
    p.add_argument("--version", default="1.0-1")
    p.add_argument("--upstream", default="1.0")
    p.add_argument("--tag", required=True)
    p.add_argument("--git", required=True)
    p.add_argument("--submodules", type=int, default=0)
    p.add_argument("--farm-id", default="test-farm")
    p.add_argument("--source-ref", default="")
    p.add_argument("--job-dir", required=True)
    p.add_argument("--uid", type=int, default=os.getuid())
    p.add_argument("--gid", type=int, default=os.getgid())
    p.add_argument("--wall-ms", type=int, default=600000)
    p.add_argument("--idle-ms", type=int, default=300000)
    p.add_argument("--grace-ms", type=int, default=1000)
    p.add_argument("--log-max", type=int, default=0)
    p.add_argument("--nproc", type=int, default=0)
    p.add_argument("--nofile", type=int, default=0)
    p.add_argument("--fsize", type=int, default=0)
    p.add_argument("--ptrace", type=int, default=0)
    p.add_argument("--zstd", type=int, default=3)
    p.add_argument("--commit", default="",
                   help="hex commit the worker must find at the tag")
    p.add_argument("--hide", action="append", default=[])
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--key", action="append", default=[])
    p.add_argument("--log", required=True)
    p.add_argument("--sign-key", help="Ed25519 private key (PEM)")
    p.add_argument("--pub", help="the raw 32-byte public key")
    p.add_argument("--refuse-sign", action="store_true")
    p.add_argument("--garbage", action="store_true",
                   help="send a malformed record instead of the job")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(run(parse()))
