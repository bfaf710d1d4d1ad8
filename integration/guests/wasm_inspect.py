#!/usr/bin/env python3
"""Tiny dependency-free inspector for the guest artifacts (no wasm-tools needed).

Reads only the top level of a wasm binary:
  * kind: `component` (header \\0asm 0d 00 01 00) or `core` (header \\0asm 01 00 00 00)
  * component: top-level import and export names
  * core module: import module names, export names, custom section names
    (a `component-type:*` custom section means wit-bindgen metadata is embedded)

Usage:
  wasm_inspect.py show FILE
  wasm_inspect.py check FILE --kind component|core [--export NAME]... [--no-export NAME]...
                                [--import NAME]... [--custom-prefix PREFIX]...
`check` exits 1 with a message when an expectation does not hold. A NAME with
`@version` must match exactly; a NAME without one matches any version.
For a core module, import names are `module#field`.
"""

import argparse
import sys

COMPONENT_HEADER = b"\x00asm\x0d\x00\x01\x00"
CORE_HEADER = b"\x00asm\x01\x00\x00\x00"


class Reader:
    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def u8(self):
        if self.pos >= self.end:
            raise ValueError("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self):
        return self.data[self.pos]

    def uleb(self):
        result, shift = 0, 0
        while True:
            b = self.u8()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def sleb(self):
        result, shift = 0, 0
        while True:
            b = self.u8()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result

    def string(self):
        n = self.uleb()
        s = self.data[self.pos : self.pos + n].decode("utf-8")
        self.pos += n
        return s


def sections(data):
    r = Reader(data, 8)
    while r.pos < r.end:
        sid = r.u8()
        size = r.uleb()
        yield sid, r.pos, r.pos + size
        r.pos += size


# ---------------------------------------------------------------- components
def read_sort(r):
    kind = r.u8()
    if kind == 0x00:
        r.u8()  # core sort (0x11 = core module)
    return kind


def read_externdesc(r):
    kind = read_sort(r)
    if kind in (0x00, 0x01, 0x04, 0x05):  # core module, func, component, instance
        r.uleb()
    elif kind == 0x02:  # value
        b = r.peek()
        if 0x64 <= b <= 0x7F:
            r.u8()
        else:
            r.sleb()
    elif kind == 0x03:  # type bound
        if r.u8() == 0x00:
            r.uleb()
    else:
        raise ValueError(f"unknown externdesc kind {kind:#x}")


def read_name(r):
    disc = r.u8()
    if disc not in (0x00, 0x01):
        raise ValueError(f"bad import/export name discriminator {disc:#x}")
    return r.string()


def component_info(data):
    imports, exports, customs = [], [], []
    for sid, start, end in sections(data):
        r = Reader(data, start, end)
        if sid == 0:
            customs.append(r.string())
        elif sid == 10:
            for _ in range(r.uleb()):
                imports.append(read_name(r))
                read_externdesc(r)
        elif sid == 11:
            for _ in range(r.uleb()):
                exports.append(read_name(r))
                read_sort(r)
                r.uleb()
                if r.u8() == 0x01:
                    read_externdesc(r)
    return imports, exports, customs


# ---------------------------------------------------------------- core modules
def read_limits(r):
    flags = r.u8()
    r.uleb()
    if flags & 0x01:
        r.uleb()
    if flags & 0x08:  # custom page size
        r.uleb()


def read_reftype(r):
    b = r.u8()
    if b in (0x63, 0x64):
        r.sleb()


def core_info(data):
    imports, exports, customs = [], [], []
    for sid, start, end in sections(data):
        r = Reader(data, start, end)
        if sid == 0:
            customs.append(r.string())
        elif sid == 2:
            for _ in range(r.uleb()):
                module, name = r.string(), r.string()
                kind = r.u8()
                if kind == 0x00:
                    r.uleb()
                elif kind == 0x01:
                    read_reftype(r)
                    read_limits(r)
                elif kind == 0x02:
                    read_limits(r)
                elif kind == 0x03:
                    read_reftype(r)
                    r.u8()
                elif kind == 0x04:
                    r.u8()
                    r.uleb()
                imports.append(f"{module}#{name}")
        elif sid == 7:
            for _ in range(r.uleb()):
                exports.append(r.string())
                r.u8()
                r.uleb()
    return imports, exports, customs


def inspect(path):
    with open(path, "rb") as f:
        data = f.read()
    header = data[:8]
    if header == COMPONENT_HEADER:
        return ("component",) + component_info(data)
    if header == CORE_HEADER:
        return ("core",) + core_info(data)
    raise ValueError(f"{path}: not a wasm binary (header {header.hex()})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["show", "check"])
    ap.add_argument("file")
    ap.add_argument("--kind", choices=["component", "core"])
    ap.add_argument("--export", action="append", default=[])
    ap.add_argument("--no-export", action="append", default=[])
    ap.add_argument("--import", dest="imports", action="append", default=[])
    ap.add_argument("--custom-prefix", action="append", default=[])
    a = ap.parse_args()

    kind, imports, exports, customs = inspect(a.file)
    if a.mode == "show":
        print(f"kind: {kind}")
        if kind == "core":
            modules = sorted({i.split("#", 1)[0] for i in imports})
            print("import modules:", *modules, sep="\n  ")
        else:
            print("imports:", *imports, sep="\n  ")
        print("exports:", *exports, sep="\n  ")
        print("custom sections:", *customs, sep="\n  ")
        return 0

    def has(names, want):
        # `want` with a version must match exactly; without one, any version matches.
        if "@" in want:
            return want in names
        return any(n == want or n.split("@", 1)[0] == want for n in names)

    problems = []
    if a.kind and kind != a.kind:
        problems.append(f"is a {kind}, expected a {a.kind}")
    for e in a.export:
        if not has(exports, e):
            problems.append(f"does not export {e} (exports: {', '.join(exports) or 'none'})")
    for e in a.no_export:
        if has(exports, e):
            problems.append(f"unexpectedly exports {e}")
    for i in a.imports:
        if not has(imports, i):
            problems.append(f"does not import {i}")
    for p in a.custom_prefix:
        if not any(c.startswith(p) for c in customs):
            problems.append(f"has no custom section starting with {p!r}")
    if problems:
        for p in problems:
            print(f"{a.file}: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
