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
    "rfc2217_decode", "rfc2217_roundtrip",
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
    # RFC 2217 (Telnet COM port control): what clients and servers open with, and answers.
    IAC, SB, SE, WILL, WONT, DO, DONT = 255, 250, 240, 251, 252, 253, 254
    sub = lambda *b: bytes([IAC, SB, 44, *b, IAC, SE])
    streams = {
        # Our client's opening, then SET-BAUDRATE 115200 (0x0001c200), DTR off, data with IAC.
        "client-open": bytes([IAC, WILL, 44, IAC, WILL, 0, IAC, DO, 0, IAC, WILL, 3, IAC, DO, 3])
        + sub(1, 0, 1, 0xC2, 0) + sub(5, 9) + b"AT\r" + bytes([IAC, IAC]) + b"\r\0",
        # pyserial's client: WILL/DO COM-PORT, purge, settings, modem-state poll.
        "pyserial-client": bytes([IAC, DO, 1, IAC, WILL, 3, IAC, DO, 3, IAC, DO, 44, IAC, WILL, 44])
        + sub(1, 0, 0, 0x25, 0x80) + sub(2, 8) + sub(3, 1) + sub(4, 1) + sub(12, 1) + sub(7),
        # An access server's answers and notifications (server codes are +100).
        "server-answers": bytes([IAC, WILL, 0, IAC, DO, 0, IAC, WILL, 3, IAC, DO, 44])
        + sub(107, 0x30) + sub(101, 0, 1, 0xC2, 0) + sub(105, 8) + sub(100) + b"OK\r\n",
        # Hostile: an unterminated subnegotiation, a cut one, unknown options, stray SE.
        "hostile": bytes([IAC, SB, 44, 0]) + b"x" * 300 + bytes([IAC, SE, IAC, SB, 44, 5, IAC, WILL, 99])
        + bytes([IAC, SE, IAC, 200, IAC, DONT, 0, IAC, WONT, 44]),
    }
    for name, stream in streams.items():
        for seed in (0, 1, 23, 200):
            write("rfc2217_decode", f"{name}-c{seed}", bytes([seed]) + stream)
    # Roundtrip ops: 0/1 DTR off/on, 2 baud (4 bytes), 3..7 data of 3*n bytes.
    for name, ops in [
        ("dtr-body", bytes([1, 7]) + b"AT&D1\r\xff\xff\r\0\n++++" + b"x" * 10 + bytes([0, 1])),
        ("baud", bytes([2, 0, 0, 0x25, 0x80, 3]) + b"abcdefghi" + bytes([2, 0xFF, 0xFF, 0xFF, 0xFF])),
        ("early", bytes([0, 4, 3]) + b"\xff\xff\xff\r\r\r" + bytes([0, 5]) + b"\0" * 15),
    ]:
        for ctl in ((0, 0), (5, 1), (77, 3)):
            write("rfc2217_roundtrip", f"{name}-{ctl[0]}-{ctl[1]}", bytes(ctl) + ops)
    # SMTP session as raw client bytes for the sink (Op::Input is variant 0 of `arbitrary`).
    for t in TARGETS:
        assert os.listdir(os.path.join(OUT, t)), t


if __name__ == "__main__":
    main()
