#!/bin/sh
# pack-tree.sh: generate the staged tree of the packing benchmark
# (bench/pack.sh) under DIR/usr: about SIZE MiB (default 1024) of
#
#   - small text files, 1-20 KiB of compressible pseudo-text each (Zipf-
#     distributed words from a fixed random vocabulary, about 3.5-4.5x
#     with zstd), 40,000 per GiB, under usr/share/bench/...;
#   - large "binaries", 256 KiB to 48 MiB each, filling the rest (about
#     60%): bytes of the machine's own ELF files (/usr/lib/x86_64-linux-gnu
#     and /usr/bin, regular files with an ELF header, in a seeded shuffled
#     order, concatenated; about 3-4x with zstd), under
#     usr/lib/x86_64-linux-peios/...;
#   - 2,000 symlinks per GiB: libfoo.so -> libfoo.so.1 -> libfoo.so.1.0
#     chains for the libraries, the rest relative links to text files.
#
#   bench/pack-tree.sh [--size-mib N] DIR
#
# Every random choice comes from fixed seeds.  Text file i and binary j
# depend on i and j only, so the files of a smaller tree are the first
# files of a larger one (the last binary cut short); the symlinks are
# drawn the same way over the smaller tree's text files.  The text is
# identical on every machine; the binaries are identical on machines
# with the same Debian packages (the script prints a digest of the ELF
# file list it used).  DIR/usr must not exist yet.
# Prints the totals.  Not a test.
set -eu
size=1024
case ${1-} in
--size-mib) size=${2:?--size-mib needs a value}; shift 2 ;;
esac
[ $# -eq 1 ] || { echo "usage: $0 [--size-mib N] DIR" >&2; exit 2; }
case $size in
''|*[!0-9]*) echo "$0: --size-mib: not a number: $size" >&2; exit 2 ;;
esac
[ "$size" -ge 16 ] || { echo "$0: --size-mib: at least 16" >&2; exit 2; }
[ ! -e "$1/usr" ] || { echo "$0: $1/usr already exists" >&2; exit 1; }
mkdir -p "$1"

exec python3 - "$1" "$size" <<'PYEOF'
import hashlib, itertools, math, os, random, sys, time

ROOT, SIZE_MIB = sys.argv[1], int(sys.argv[2])
MIB = 1 << 20
TOTAL = SIZE_MIB * MIB
NTEXT = 40000 * SIZE_MIB // 1024
NLINK = 2000 * SIZE_MIB // 1024
SEED_VOCAB, SEED_TEXT, SEED_BIN, SEED_LINK = 1, 1000003, 2, 3
AREAS = ("doc", "help", "i18n", "data")
EXTS = (".txt", ".html", ".md", ".conf", ".xml")
LIBDIR = "usr/lib/x86_64-linux-peios"
ELF_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/bin")


def vocabulary():
    """30,000-ish pseudo-words and Zipf cumulative weights, fixed."""
    r = random.Random(SEED_VOCAB)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    freq = (12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8,
            2.8, 2.4, 2.4, 2.2, 2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.15, 0.15,
            0.1, 0.07)
    words = sorted({''.join(r.choices(letters, freq, k=r.randint(1, 12)))
                    for _ in range(30000)})
    r.shuffle(words)
    words += [".", ",", ";", "(see", "below)", "=", "0", "1", "--"]
    cum = list(itertools.accumulate(1.0 / (i + 1) ** 1.05
                                    for i in range(len(words))))
    return words, cum


def text_path(i):
    d = i // 100
    return "usr/share/bench/%s/p%04d/f%05d%s" % (
        AREAS[d % len(AREAS)], d, i, EXTS[i % len(EXTS)])


def write_text(i, words, cum):
    r = random.Random(SEED_TEXT * 7919 + i)
    size = r.randint(1024, 20 * 1024)
    parts, n = [], 0
    while n < size:
        ws = r.choices(words, cum_weights=cum, k=r.randint(4, 16))
        line = ("  " if r.random() < 0.2 else "") + " ".join(ws) + "\n"
        parts.append(line)
        n += len(line)
    data = "".join(parts).encode()[:size - 1] + b"\n"
    p = os.path.join(ROOT, text_path(i))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, 0o644)
    return size


def elf_files():
    found = []
    for top in ELF_DIRS:
        for dirpath, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(dirpath, name)
                try:
                    if os.path.islink(p) or not os.path.isfile(p):
                        continue
                    st = os.stat(p)
                    if st.st_size < 16384:
                        continue
                    with open(p, "rb") as f:
                        if f.read(4) != b"\x7fELF":
                            continue
                except OSError:
                    continue
                found.append((p, st.st_size))
    if not found:
        sys.exit("pack-tree: no ELF files under %s" % " ".join(ELF_DIRS))
    random.Random(SEED_BIN).shuffle(found)
    return found


class Corpus:
    """The shuffled ELF files as one endless byte stream."""

    def __init__(self, files):
        self.files, self.k, self.f = files, 0, None

    def read(self, n):
        while True:
            if self.f is None:
                self.f = open(self.files[self.k % len(self.files)][0], "rb")
                self.k += 1
            b = self.f.read(n)
            if b:
                return b
            self.f.close()
            self.f = None


def bin_path(j):
    if j % 2 == 0:
        return "%s/libbench%03d.so.1.0" % (LIBDIR, j)
    return "%s/bench/libexec/tool%03d" % (LIBDIR, j)


def write_binaries(budget):
    files = elf_files()
    corpus = Corpus(files)
    r = random.Random(SEED_BIN)
    j, total, paths = 0, 0, []
    lo, hi = math.log(256 * 1024), math.log(48 * MIB)
    while total < budget:
        size = min(int(math.exp(r.uniform(lo, hi))), budget - total)
        p = os.path.join(ROOT, bin_path(j))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            left = size
            while left > 0:
                b = corpus.read(min(left, MIB))
                f.write(b)
                left -= len(b)
        os.chmod(p, 0o755)
        paths.append(bin_path(j))
        total += size
        j += 1
    if corpus.f is not None:
        corpus.f.close()
    listing = "".join("%s %d\n" % f for f in sorted(files)).encode()
    return paths, total, files, hashlib.sha256(listing).hexdigest()[:16]


def write_links(bins, ntext):
    n = 0
    for b in bins:
        if b.endswith(".so.1.0") and n + 2 <= NLINK:
            base = os.path.basename(b)[:-len(".1.0")]
            os.symlink(base + ".1.0", os.path.join(ROOT, LIBDIR, base + ".1"))
            os.symlink(base + ".1", os.path.join(ROOT, LIBDIR, base))
            n += 2
    r = random.Random(SEED_LINK)
    d = os.path.join(ROOT, "usr/share/bench/links")
    os.makedirs(d, exist_ok=True)
    for k in range(NLINK - n):
        os.symlink("../" + text_path(r.randrange(ntext))[len("usr/share/"
                   "bench/"):], os.path.join(d, "l%05d" % k))
        n += 1
    return n


def main():
    t0 = time.time()
    os.umask(0o022)
    words, cum = vocabulary()
    text = sum(write_text(i, words, cum) for i in range(NTEXT))
    bins, binbytes, files, digest = write_binaries(TOTAL - text)
    nlinks = write_links(bins, NTEXT)
    ndirs = sum(len(d) for _, d, _ in os.walk(os.path.join(ROOT, "usr"))) + 1
    print("pack-tree: %s: %d bytes (%.1f MiB) in %d files: %d text files "
          "(%d bytes), %d binaries (%d bytes), %d symlinks, %d directories"
          % (ROOT, text + binbytes, (text + binbytes) / MIB,
             NTEXT + len(bins), NTEXT, text, len(bins), binbytes, nlinks,
             ndirs))
    print("pack-tree: binaries from %d ELF files (%d MiB; list digest %s); "
          "generated in %.0f s" % (len(files), sum(s for _, s in files) //
                                   MIB, digest, time.time() - t0))


main()
PYEOF
