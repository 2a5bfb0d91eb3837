#!/bin/sh
# daemon-journal.sh: the real daemon (every real role, real git upstream)
# logging to journald with --log-target journal: every event is a native
# journal entry whose MESSAGE is the logfmt line, with PRIORITY (from the
# level), SYSLOG_IDENTIFIER=peipkg-manager, PEIPKG_ROLE and one
# PEIPKG_<KEY> field per key; a value holding a newline travels in the
# binary-safe form.  With a running journald the entries are read back
# with journalctl; without one (containers) a fake journald is bound at
# /run/systemd/journal/socket for the duration of the test (sd_journal_
# sendv() always sends there) and parses the datagrams itself.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integ/farm-lib.sh"
farm_require python3 git
JSOCK=/run/systemd/journal/socket
if [ -S $JSOCK ] && command -v journalctl >/dev/null &&
    journalctl -q -n 0 >/dev/null 2>&1 && pgrep -x systemd-journal >/dev/null
then
	MODE=journald
elif [ -e $JSOCK ] || [ -L $JSOCK ]; then
	skip_all "$JSOCK exists but no journald reads it; not replacing it"
else
	MODE=fake
fi

farm_bin
ENTRIES=$TAP_TMP/entries.jsonl
FPID=""
MADE=""		# directories this test created under /run

cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null
	if [ "$MODE" = fake ]; then
		# Only our own listener: it recorded the socket's inode.
		[ -S $JSOCK ] && [ -s "$TAP_TMP/jsock.ino" ] &&
		    [ "$(stat -c %i $JSOCK)" = "$(cat "$TAP_TMP/jsock.ino")" ] &&
		    rm -f $JSOCK
		for _d in $MADE; do rmdir "$_d" 2>/dev/null; done
	fi
	for _p in $(pgrep -f "$TAP_TMP"); do kill -KILL "$_p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

farm_fixture 1
# The configuration in a directory whose name holds a newline: the
# "peipkg-manager starting" event's config value then has one, which
# sd_journal_sendv() sends in the binary-safe form.
CDIR="$TAP_TMP/conf
dir"
mkdir -p "$CDIR"
sed '/^addr = /d' "$F/etc/config.toml" >"$CDIR/config.toml"

if [ "$MODE" = fake ]; then
	[ -d /run/systemd ] || MADE="/run/systemd"
	[ -d /run/systemd/journal ] || MADE="/run/systemd/journal $MADE"
	mkdir -p /run/systemd/journal
	# Each datagram (or memfd passed with it, for large entries) is one
	# entry: KEY=VALUE\n, or KEY\n<u64 le length><bytes>\n.  Written as
	# one JSON object per line, with the sender's pid as _PID.
	python3 - "$JSOCK" "$ENTRIES" "$TAP_TMP/jsock.ino" <<'EOP' &
import array, json, os, socket, struct, sys
path, out, ino = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(path)
os.chmod(path, 0o666)
open(ino, "w").write("%d\n" % os.stat(path).st_ino)

def parse(d):
    e, i = {}, 0
    while i < len(d):
        nl = d.index(b"\n", i)
        eq = d.find(b"=", i, nl)
        if eq != -1:
            k, v, i = d[i:eq], d[eq + 1:nl], nl + 1
        else:
            k = d[i:nl]
            n = struct.unpack("<Q", d[nl + 1:nl + 9])[0]
            v = d[nl + 9:nl + 9 + n]
            if d[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field %r not closed" % k)
            i = nl + 10 + n
            e.setdefault("_BINARY", []).append(k.decode())
        k = k.decode()
        v = v.decode("utf-8", "surrogateescape")
        e[k] = v if k not in e else (e[k] if isinstance(e[k], list)
                                     else [e[k]]) + [v]
    return e

with open(out, "a", buffering=1) as f:
    while True:
        d, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(12) +
                                 socket.CMSG_SPACE(4 * 4))
        pid = None
        for lvl, typ, data in anc:
            if typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
            elif typ == socket.SCM_RIGHTS:
                fds = array.array("i", data[:len(data) - len(data) % 4])
                for fd in fds:
                    d = os.pread(fd, 64 << 20, 0)
                    os.close(fd)
        try:
            e = parse(d)
        except Exception as x:
            e = {"_PARSE_ERROR": str(x)}
        e["_PID"] = str(pid)
        f.write(json.dumps(e) + "\n")
EOP
	FPID=$!
	_i=0
	while [ ! -s "$TAP_TMP/jsock.ino" ] && [ $_i -lt 50 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	[ -S $JSOCK ] || { notok "fake journald listening"; done_testing; }
	diag "no journald here: a fake one listens on $JSOCK"
fi

# ---- --once to the journal ----------------------------------------------
"$PM" --once --config "$CDIR/config.toml" --log-target journal \
    --log-level debug >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
OPID=$!
wait $OPID
check "--once --log-target journal exits 0" test $? = 0
check "nothing on stdout or stderr" test ! -s "$TAP_TMP/out" -a ! -s "$TAP_TMP/err"
check "it published the demo" test -s "$F/state/repo/index/archive.json"

if [ "$MODE" = journald ]; then
	journalctl --sync 2>/dev/null
	journalctl -o json --no-pager _PID=$OPID \
	    SYSLOG_IDENTIFIER=peipkg-manager >"$TAP_TMP/journal.json" 2>&1
	check "journalctl returns the entries" test -s "$TAP_TMP/journal.json"
	# journalctl shows a binary value as an array of byte values.
	python3 - "$TAP_TMP/journal.json" >"$ENTRIES" <<'EOP'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    for k, v in list(e.items()):
        if isinstance(v, list) and v and isinstance(v[0], int):
            e[k] = bytes(v).decode("utf-8", "surrogateescape")
            e.setdefault("_BINARY", []).append(k)
    print(json.dumps(e))
EOP
else
	# Every datagram was sent before the exit; let the reader catch up
	# with the last one.
	_i=0
	while ! grep -q 'msg=\\"peipkg-manager stopped\\"' "$ENTRIES" &&
	    [ $_i -lt 50 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
fi

# jcheck DESC PYTHON: PYTHON sees E, this run's entries (dicts), and
# logfmt(line), the line's (key, value) pairs with the values unescaped.
cat >"$TAP_TMP/jcheck.py" <<'EOP'
import json, re, sys

def logfmt(line):
    out, i, n = [], 0, len(line)
    esc = {"n": b"\n", "r": b"\r", "t": b"\t", '"': b'"', "\\": b"\\"}
    while i < n:
        j = line.index("=", i)
        k, i = line[i:j], j + 1
        if line[i:i + 1] == '"':
            b, i = bytearray(), i + 1
            while line[i] != '"':
                c = line[i]
                if c != "\\":
                    b += c.encode("utf-8", "surrogateescape")
                    i += 1
                elif line[i + 1] in esc:
                    b += esc[line[i + 1]]
                    i += 2
                elif line[i + 1] == "x":
                    b.append(int(line[i + 2:i + 4], 16))
                    i += 4
                elif line[i + 1] == "u":
                    b += chr(int(line[i + 2:i + 6], 16)).encode()
                    i += 6
                else:
                    raise ValueError("bad escape in " + line)
            v, i = b.decode("utf-8", "surrogateescape"), i + 1
        else:
            j = line.find(" ", i)
            j = n if j == -1 else j
            v, i = line[i:j], j
        out.append((k, v))
        if i < n:
            assert line[i] == " ", line
            i += 1
    return out

def emitter(e):
    r = e["PEIPKG_ROLE"]
    return r[0] if isinstance(r, list) else r

E = [json.loads(l) for l in open(sys.argv[1])]
E = [e for e in E if e.get("_PID") == sys.argv[2] and
     e.get("SYSLOG_IDENTIFIER") == "peipkg-manager"]
MODE = sys.argv[4]
exec(sys.argv[3])
EOP
jcheck() {
	check "$1" python3 "$TAP_TMP/jcheck.py" "$ENTRIES" "$OPID" "$2" "$MODE"
}
jcheck "entries from the --once process, up to the last one" '
assert len(E) >= 20, len(E)
assert E[-1]["MESSAGE"].endswith(" msg=\"peipkg-manager stopped\""), E[-1]'
# The parent's events about a role (role started, role ready, ...) have
# a key "role" too: PEIPKG_ROLE then has two values, "main" (who logs)
# and the role the event is about.
jcheck "every datagram parsed, one value per field but PEIPKG_ROLE" '
for e in E:
    assert "_PARSE_ERROR" not in e, e
    for k, v in e.items():
        if k == "PEIPKG_ROLE" and isinstance(v, list):
            assert len(v) == 2 and v[0] == "main" and \
                " role=" + v[1] + " " in e["MESSAGE"], e
        else:
            assert not isinstance(v, list) or k == "_BINARY", e
assert any(isinstance(e["PEIPKG_ROLE"], list) for e in E)'
jcheck "every entry: MESSAGE a logfmt line, PRIORITY from its level" '
prio = {"debug": "7", "info": "6", "warn": "4", "error": "3"}
for e in E:
    m = re.match(r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ level=(\w+) msg=", e["MESSAGE"])
    assert m and "\n" not in e["MESSAGE"], e
    assert e["PRIORITY"] == prio[m.group(1)], e
levels = {e["PRIORITY"] for e in E}
assert {"6", "7"} <= levels, levels'
jcheck "every entry names its role" '
roles = {emitter(e) for e in E}
assert {"main", "poller", "worker", "publisher", "signer"} <= roles, roles
for e in E:
    r = emitter(e)
    assert r == "main" or e["MESSAGE"].endswith(" role=" + r), e'
jcheck "poll complete: MESSAGE, PRIORITY 6, PEIPKG_ROLE, PEIPKG_RECIPE" '
p = [e for e in E if " msg=\"poll complete\" " in e["MESSAGE"]]
assert sorted(e["PEIPKG_RECIPE"] for e in p) == ["greeter", "greeter-named"], p
for e in p:
    assert e["PRIORITY"] == "6" and e["PEIPKG_ROLE"] == "poller", e
    assert re.fullmatch(r"time=\S+ level=info msg=\"poll complete\" recipe="
        + re.escape(e["PEIPKG_RECIPE"]) + r" tags_seen=4 matches_emitted=\d+ "
        r"skipped_below_min_version=\d+ pid=\d+ role=poller", e["MESSAGE"]), e
    assert e["PEIPKG_TAGS_SEEN"] == "4", e
    assert e["PEIPKG_PID"] == re.search(r" pid=(\d+) ", e["MESSAGE"]).group(1)'
jcheck "PEIPKG_<KEY> fields are exactly the line's keys and values" '
for e in E:
    kv = logfmt(e["MESSAGE"])
    assert [k for k, v in kv[:3]] == ["time", "level", "msg"], kv
    r = emitter(e)
    want = {"PEIPKG_ROLE": r}
    for k, v in kv[3:]:
        f = "PEIPKG_" + re.sub(r"[^A-Z0-9]", "_", k.upper())
        if k != "role":
            want[f] = v
        elif r == "main":
            want[f] = [r, v]
        else:
            assert v == r and (k, v) == kv[-1], kv
    got = {k: v for k, v in e.items() if k.startswith("PEIPKG_")}
    assert got == want, (got, want)'
jcheck "build events carry recipe, version and job" '
b = [e for e in E if " msg=\"build + publish complete\" " in e["MESSAGE"]]
assert len(b) == 3, len(b)
for e in b:
    assert e["PRIORITY"] == "6" and e["PEIPKG_ROLE"] == "main", e
    assert e["PEIPKG_RECIPE"] in ("greeter", "greeter-named"), e
    assert re.fullmatch(r"\d+\.\d+\.\d+-\d", e["PEIPKG_VERSION"]), e
    assert " job=" + e["PEIPKG_JOB"] in e["MESSAGE"], e'
jcheck "a value with a newline: binary-safe field, escaped in MESSAGE" '
s = [e for e in E if " msg=\"peipkg-manager starting\" " in e["MESSAGE"]]
assert len(s) == 1, s
e = s[0]
path = sys.argv[1].rsplit("/", 1)[0] + "/conf\ndir/config.toml"
assert e["PEIPKG_CONFIG"] == path, e
# journalctl may show it as a string: the wire form is seen by the fake.
assert MODE == "journald" or "PEIPKG_CONFIG" in e["_BINARY"], e
assert " config=\"" + path.replace("\n", "\\n") + "\" " in e["MESSAGE"], e'
done_testing
