#!/usr/bin/env python3
"""Generates the cargo-fuzz seed corpora in corpus/<target>/ from scenarios/ (the manuals'
examples, one file each) and the manuals' data-mode rules (000 §1.3, 002).

Deterministic: running it twice gives the same files. Run from the repository root:
    python3 corpus/gen.py
Each target's input layout is the one its entry point documents (crates/wire/src/fuzzing.rs:
control bytes first, then the stream).
"""
import hashlib
import os
import random
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "corpus")
TARGETS = [
    "decoder", "assembler", "command_line", "command_roundtrip", "quectel_framer",
    "multitech_framer", "scenario_loader", "sink_session", "emulator",
]

ESC = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\"}


def unescape(text):
    """Scenario text escapes (scenarios/README.md) to bytes; patterns are kept as written."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x" and i + 3 < len(text) + 1:
                out += bytes([int(text[i + 2:i + 4], 16)])
                i += 4
                continue
            out += ESC.get(n, n.encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def strip_comment(line):
    m = re.search(r"\s//", line)
    return line[: m.start()] if m else line


def scenarios():
    for d, _, files in sorted(os.walk(os.path.join(ROOT, "scenarios"))):
        for f in sorted(files):
            if f.endswith(".scn"):
                p = os.path.join(d, f)
                with open(p, encoding="utf-8") as fh:
                    yield os.path.relpath(p, ROOT), fh.read()


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, f"{name}-{h}"), "wb") as fh:
        fh.write(data)


def main():
    for t in TARGETS:
        shutil.rmtree(os.path.join(OUT, t), ignore_errors=True)
    rng = random.Random(8)
    for path, text in scenarios():
        base = re.sub(r"[^a-z0-9.-]+", "_", path.lower().replace("scenarios/", ""))
        sends, expects, datas = [], [], []
        for raw in text.splitlines():
            line = raw.lstrip()
            if line.startswith("[") and "]" in line:
                line = line[line.index("]") + 1:].lstrip()
            if line.startswith(">> "):
                sends.append(unescape(strip_comment(line[3:]).rstrip()))
            elif line.startswith("> "):
                sends.append(unescape(strip_comment(line[2:]).rstrip()) + b"\r")
            elif line.startswith("< ") or line.startswith("~ "):
                expects.append(unescape(strip_comment(line[2:]).rstrip()))
            elif line.startswith("@data \""):
                m = re.match(r'@data "((?:[^"\\]|\\.)*)"', line)
                if m:
                    datas.append(unescape(m.group(1)))
        # Scenario loader: the file itself.
        write("scenario_loader", base, text.encode())
        if sends:
            # Command-line parser: each line; assembler: the host stream (max line 80, cuts).
            for s in sends:
                write("command_line", base, s.rstrip(b"\r"))
            write("assembler", base, bytes([80, rng.randrange(256)]) + b"".join(sends))
        if expects:
            # Decoder: the module's W1-framed answer (ERRATA W1), echo of the sent lines first.
            stream = b"".join(sends[:1]) + b"".join(b"\r\n" + e + b"\r\n" for e in expects)
            for flags in (0, 1, 2, 0x12, 0x20):
                write("decoder", f"{base}-f{flags}", bytes([120, flags, rng.randrange(256)]) + stream)
        for d in datas:
            write("multitech_framer", base, bytes([200, rng.randrange(256)]) + d)
    # Quectel data mode (000 §1.3): (delay in 16 ms units, byte) pairs; 0xFF delay = DTR.
    for name, declared, ops in [
        ("length", 10, [(0, b) for b in b"0123456789"]),
        ("escape", 100, [(0, b) for b in b"hello"] + [(70, ord("+")), (0, ord("+")), (0, ord("+")), (70, ord("x"))]),
        ("escape-too-early", 100, [(0, b) for b in b"hi"] + [(5, ord("+")), (0, ord("+")), (0, ord("+")), (70, ord("y"))]),
        ("escape-then-data", 100, [(70, ord("+")), (0, ord("+")), (0, ord("+")), (10, ord("z"))]),
        ("dtr", 100, [(0, ord("a")), (0xFF, 0), (0, ord("b"))]),
        ("input-time", 100, [(0, ord("a")), (250, ord("b"))]),
    ]:
        write("quectel_framer", name, bytes([declared]) + b"".join(bytes(p) for p in ops))
    # Multi-Tech bodies (002): dot-stuffing and the CRLF.CRLF end.
    for name, body in [
        ("end", b"hello\r\n.\r\n"),
        ("dot-line", b"a\r\n..b\r\n.\r\n"),
        ("no-end", b"abc\r\n.x\r\n"),
        ("bare", b".\r\n"),
    ]:
        write("multitech_framer", name, bytes([64, 3]) + body)
    # Structure-aware targets read `arbitrary` input: seed them with deterministic bytes.
    for t in ("command_roundtrip", "sink_session", "emulator"):
        for i in range(16):
            n = 16 << (i % 5)
            write(t, f"random{i}", bytes(rng.randrange(256) for _ in range(n)))
    # SMTP session as raw client bytes for the sink (Op::Input is variant 0 of `arbitrary`).
    for t in TARGETS:
        assert os.listdir(os.path.join(OUT, t)), t


if __name__ == "__main__":
    main()
