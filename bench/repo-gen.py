#!/usr/bin/env python3
# repo-gen.py: helper of bench/repo-publish.sh.
#
#   repo-gen.py state VECTORS DIR N    write a signed repository state of N
#                                      archive entries (N/10 names x 10
#                                      versions) into DIR; every package
#                                      file and sidecar is a hard link of
#                                      one small package
#   repo-gen.py baseline VECTORS DIR   the same index work done another
#                                      way: read and parse both indexes,
#                                      add one entry, sort, re-encode,
#                                      write, and sign the three documents
#                                      with `openssl pkeyutl` (no tree, no
#                                      package verification, no fsync)
#
# Signatures are pure Ed25519 over SHA-256(file) in the JSON envelope
# (BEHAVIOUR.md §2.4), made with the test key of tests/vectors/keys.
import base64, hashlib, json, os, shutil, subprocess, sys, tempfile

FPR = "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"


def canon(v):
    return (json.dumps(v, separators=(",", ":"), ensure_ascii=False) +
            "\n").encode()


def sign(vectors, data):
    pem = os.path.join(vectors, "keys", "test-ed25519.pem")
    with tempfile.NamedTemporaryFile() as f:
        f.write(hashlib.sha256(data).digest())
        f.flush()
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", pem,
                              "-rawin", "-in", f.name], check=True,
                             stdout=subprocess.PIPE).stdout
    b64 = base64.b64encode(sig).decode().rstrip("=")
    return canon({"schema_version": 1, "algorithm": "ed25519",
                  "key_fingerprint": FPR, "signature": b64})


def write_signed(vectors, path, data):
    with open(path, "wb") as f:
        f.write(data)
    with open(path + ".sig", "wb") as f:
        f.write(sign(vectors, data))


def entry(name, version, size, digest):
    return {"name": name, "version": version, "architecture": "noarch",
            "description": "Synthetic benchmark entry.", "license": "CC0-1.0",
            "homepage": "https://peios.org", "dependencies": [],
            "optional_dependencies": [], "conflicts": [], "provides": [],
            "replaces": [], "side_effects": [], "size_compressed": size,
            "size_installed": 14,
            "hash": {"algorithm": "sha256", "value": digest},
            "url": "/p/%s/%s/%s_%s_noarch.peipkg" % (name, version, name,
                                                     version),
            "build": {"timestamp": "2026-05-06T12:00:00Z",
                      "farm_id": "bench"}}


def make_state(vectors, out, n):
    src = os.path.join(vectors, "repos/basic/01-publish-hello/state")
    pkg = os.path.join(src, "p/hello/0.1-1/hello_0.1-1_noarch.peipkg")
    side = os.path.join(src, "p/hello/0.1-1")
    data = open(pkg, "rb").read()
    size, digest = len(data), hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, "index"))
    os.makedirs(os.path.join(out, "keys"))
    kf = "keys/%s.pub" % FPR
    shutil.copy(os.path.join(src, kf), os.path.join(out, kf))
    # Link sources outside the state, a fresh inode every 20000 entries:
    # a publish links every file once more, and ext4 allows 65000 links.
    pool = os.path.join(os.path.dirname(os.path.abspath(out)), "pool")
    os.makedirs(pool, exist_ok=True)
    names = max(1, n // 10)
    ents = []
    for i in range(names):
        name = "pkg%06d" % i
        for v in range(10 if n >= 10 else n):
            if len(ents) == n:
                break
            ver = "1.%d-1" % (9 - v)   # descending, as the archive sorts
            if len(ents) % 20000 == 0:
                gen = os.path.join(pool, str(len(ents)))
                os.makedirs(gen)
                for f in (pkg, os.path.join(side, "manifest.json"),
                          os.path.join(side, "files.json")):
                    shutil.copy(f, gen)
            ents.append(entry(name, ver, size, digest))
            d = os.path.join(out, "p", name, ver)
            os.makedirs(d)
            os.link(os.path.join(gen, os.path.basename(pkg)),
                    os.path.join(d, "%s_%s_noarch.peipkg" % (name, ver)))
            for f in ("manifest.json", "files.json"):
                os.link(os.path.join(gen, f), os.path.join(d, f))
    active = [e for i, e in enumerate(ents)
              if i == 0 or e["name"] != ents[i - 1]["name"]]
    desc = open(os.path.join(src, "repo.json"), "rb").read()
    write_signed(vectors, os.path.join(out, "repo.json"), desc)
    for kind, lst in (("active", active), ("archive", ents)):
        doc = {"schema_version": 1, "repo": "test-repo", "kind": kind,
               "index_version": 2, "generated_at": "2026-05-02T00:00:00Z",
               "packages": lst}
        write_signed(vectors, os.path.join(out, "index", kind + ".json"),
                     canon(doc))


def vkey(v):
    # Good enough for the synthetic versions "1.<d>-1" (descending order).
    return v


def baseline(vectors, state):
    ix = {}
    for kind in ("active", "archive"):
        with open(os.path.join(state, "index", kind + ".json"), "rb") as f:
            ix[kind] = json.loads(f.read())
    new = entry("zzbase", "1.0-1", 773, "0" * 64)
    arch = ix["archive"]["packages"] + [new]
    arch.sort(key=lambda e: e["name"])          # stable: versions kept
    act = ix["active"]["packages"] + [new]
    act.sort(key=lambda e: e["name"])
    for kind, lst in (("active", act), ("archive", arch)):
        doc = dict(ix[kind])
        doc["index_version"] += 1
        doc["packages"] = lst
        write_signed(vectors, os.path.join(state, "index", kind + ".json"),
                     canon(doc))
    desc = open(os.path.join(state, "repo.json"), "rb").read()
    write_signed(vectors, os.path.join(state, "repo.json"), desc)


if __name__ == "__main__":
    if sys.argv[1] == "state":
        make_state(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "baseline":
        baseline(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: repo-gen.py state|baseline ...")
