#!/usr/bin/env python3
"""Builds the Airlock initramfs: a gzip-compressed cpio (newc) archive, byte-for-byte reproducible.

Contents: /init (the static airlock binary), /dev/console (a device node written straight into the
archive: no mknod, no root), the empty mount points, the kernel modules named in modules.list plus
their dependencies from the kernel package's modules.dep (built-in ones skipped), and
/etc/airlock/modules.load listing them dependencies-first for init to finit_module() in order.

Reproducibility: entries sorted by name, every mtime = SOURCE_DATE_EPOCH, uid/gid 0, inode numbers
assigned in order, device numbers 0, gzip header mtime 0 and no file name.

usage: mkinitramfs.py --kernel-root DIR --kver VER --modules FILE --init BIN --info TEXT
                      --epoch N --out FILE [--list FILE]
"""

import argparse
import gzip
import os
import stat
import sys


def fail(msg):
    print(f"mkinitramfs: {msg}", file=sys.stderr)
    sys.exit(1)


def norm(name):
    """Module names compare with '-' and '_' equal (as modprobe does)."""
    return name.replace("-", "_")


def resolve_modules(root, kver, wanted):
    moddir = os.path.join(root, "lib/modules", kver)
    deps = {}
    paths = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            name = norm(os.path.basename(mod).split(".ko")[0])
            paths[name] = mod
            deps[name] = [norm(os.path.basename(d).split(".ko")[0]) for d in rest.split()]
    builtin = set()
    with open(os.path.join(moddir, "modules.builtin")) as f:
        for line in f:
            builtin.add(norm(os.path.basename(line.strip()).split(".ko")[0]))

    order = []
    seen = set()
    skipped = []

    def visit(name, chain):
        if name in seen:
            return
        if name in chain:
            fail(f"dependency cycle: {' -> '.join(chain + [name])}")
        if name not in paths:
            if name in builtin:
                skipped.append(name)
                seen.add(name)
                return
            fail(f"module {name} is neither in modules.dep nor built in (kernel {kver})")
        for d in deps[name]:
            visit(d, chain + [name])
        seen.add(name)
        order.append(name)

    for w in wanted:
        visit(norm(w), [])
    return [(n, paths[n]) for n in order], skipped


class Cpio:
    def __init__(self, epoch):
        self.epoch = epoch
        self.entries = {}

    def add(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.strip("/")
        if name in self.entries:
            fail(f"duplicate archive entry {name}")
        self.entries[name] = (mode, data, rdev)

    def add_dirs_for(self, name):
        parts = name.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.entries:
                self.add(d, stat.S_IFDIR | 0o755)

    @staticmethod
    def _pad(n):
        return b"\0" * ((4 - n % 4) % 4)

    def _header(self, ino, name, mode, nlink, size, rdev):
        fields = [ino, mode, 0, 0, nlink, self.epoch, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        h = b"070701" + b"".join(b"%08X" % f for f in fields)
        return h + name.encode() + b"\0" + self._pad(110 + len(name) + 1)

    def bytes(self):
        out = bytearray()
        for ino, name in enumerate(sorted(self.entries), start=1):
            mode, data, rdev = self.entries[name]
            nlink = 2 if stat.S_ISDIR(mode) else 1
            out += self._header(ino, name, mode, nlink, len(data), rdev)
            out += data + self._pad(len(data))
        out += self._header(0, "TRAILER!!!", 0, 1, 0, (0, 0))
        out += b"\0" * ((512 - len(out) % 512) % 512)
        return bytes(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel-root", required=True)
    ap.add_argument("--kver", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--info", required=True)
    ap.add_argument("--epoch", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--list", help="write the archive's file list here")
    a = ap.parse_args()

    with open(a.modules) as f:
        wanted = [l.split("#")[0].strip() for l in f]
    wanted = [w for w in wanted if w]
    mods, skipped = resolve_modules(a.kernel_root, a.kver, wanted)

    c = Cpio(a.epoch)
    for d in ["dev", "proc", "sys", "mnt", "mnt/media", "mnt/state", "etc", "etc/airlock", "tmp"]:
        c.add(d, stat.S_IFDIR | (0o1777 if d == "tmp" else 0o755))
    c.add("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    with open(a.init, "rb") as f:
        c.add("init", stat.S_IFREG | 0o755, f.read())

    load = []
    for name, rel in mods:
        src = os.path.join(a.kernel_root, "lib/modules", a.kver, rel)
        if rel.endswith((".ko.xz", ".ko.zst", ".ko.gz")):
            fail(f"{rel}: compressed modules are not handled (this kernel ships them uncompressed)")
        dst = f"lib/modules/{a.kver}/{rel}"
        c.add_dirs_for(dst)
        with open(src, "rb") as f:
            c.add(dst, stat.S_IFREG | 0o644, f.read())
        load.append("/" + dst)
    c.add(
        "etc/airlock/modules.load",
        stat.S_IFREG | 0o644,
        ("# dependencies first; loaded by /init with finit_module(2)\n" + "\n".join(load) + "\n").encode(),
    )
    c.add("etc/airlock/image-info", stat.S_IFREG | 0o644, (a.info.strip() + "\n").encode())

    data = c.bytes()
    with open(a.out, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    if a.list:
        with open(a.list, "w") as f:
            for n in sorted(c.entries):
                f.write(f"{oct(c.entries[n][0])} {len(c.entries[n][1]):>9} /{n}\n")
            for s in skipped:
                f.write(f"# built in, no module: {s}\n")
    print(
        f"mkinitramfs: {len(mods)} modules ({len(skipped)} built in), "
        f"cpio {len(data)} bytes, gzip {os.path.getsize(a.out)} bytes",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
