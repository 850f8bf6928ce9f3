"""Autobahn|Testsuite categories 9 (limits and performance) and 10 (auto-fragmentation),
both roles. The testee's message size limit must be at least 16 MiB (run_suite.py --limit).

9.1.x / 9.2.x  one text / binary message of 64 KiB, 256 KiB, 1, 4, 8, 16 MiB in one frame
9.3.x / 9.4.x  a 4 MiB text / binary message in fragments of 64 B .. 4 MiB
9.5.x / 9.6.x  a 1 MiB text / binary message in one frame, written in TCP chops of 64 .. 2048
9.7.x / 9.8.x  1000 text / binary messages of 0 .. 4096 bytes, each echo awaited
10.1.1         a 64 KiB text message in 1300-byte fragments: echoed whole, however the
               testee fragments its echo

A correct echo is INFORMATIONAL with the round-trip time (Autobahn reports 9.x timings);
a wrong or missing echo is FAILED.
"""

import random
import time

from .core import OP_BINARY, OP_TEXT, Case, close_normally, expect, fragments, frame, send
from .report import INFORMATIONAL

KIB, MIB = 1024, 1024 * 1024
BIG_TIMEOUT = 60.0  # per message: 16 MiB through a sanitizer build is slow, not wrong
_cache = {}


def payload(opcode, n):
    """Text: Autobahn's repeated ASCII pattern; binary: deterministic pseudo-random bytes."""
    key = (opcode, n)
    if key not in _cache:
        if opcode == OP_TEXT:
            _cache[key] = (b"BAsd7&jh23" * (n // 10 + 1))[:n]
        else:
            _cache[key] = random.Random(n).randbytes(n)
    return _cache[key]


def _timed(s, what, send_it, expected, timed=True):
    t0 = time.monotonic()
    send_it()
    events = expect(s, *expected, timeout=BIG_TIMEOUT)
    dt = time.monotonic() - t0
    frames_back = sum(e.frames_count for e in events)
    note = f"{what}: {dt * 1000:.0f} ms round trip ({frames_back} frames back)"
    if timed:
        s.result.mark(INFORMATIONAL, note)
    else:
        s.result.info.append(note)
    close_normally(s)


def one_message_body(opcode, n, frame_size=None, chop=None, timed=True):
    def body(s):
        data = payload(opcode, n)
        wire = fragments(s, opcode, data, frame_size) if frame_size else [frame(s, opcode, data)]
        how = f" in {len(wire)} frames" if frame_size else ""
        how += f", written in {chop}-byte chops" if chop else ""
        _timed(s, f"{n} bytes{how}", lambda: send(s, *wire, chop=chop),
               [("message", opcode, data)], timed)
    return body


def many_messages_body(opcode, n, count=1000):
    def body(s):
        data = payload(opcode, n)
        wire = frame(s, opcode, data)
        t0 = time.monotonic()
        for _ in range(count):
            send(s, wire)
            expect(s, ("message", opcode, data))
        dt = time.monotonic() - t0
        s.result.mark(INFORMATIONAL, f"{count} round trips of {n} bytes: {dt * 1000:.0f} ms "
                                     f"({dt / count * 1e6:.0f} us each)")
        close_normally(s)
    return body


def _size(n):
    return f"{n // MIB} MiB" if n >= MIB else f"{n // KIB} KiB" if n >= KIB else f"{n} B"


def build():
    cases = []
    kinds = ((OP_TEXT, "text"), (OP_BINARY, "binary"))
    for g, (op, kind) in enumerate(kinds, 1):
        for i, n in enumerate((64 * KIB, 256 * KIB, MIB, 4 * MIB, 8 * MIB, 16 * MIB), 1):
            cases.append(Case(f"9.{g}.{i}", f"{kind} message of {_size(n)} in one frame",
                              f"Send a {kind} message of {n} bytes in one frame: echoed "
                              "byte-exact; the round trip is timed.", one_message_body(op, n)))
    for g, (op, kind) in enumerate(kinds, 3):
        sizes = (64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB)
        for i, fs in enumerate(sizes, 1):
            cases.append(Case(f"9.{g}.{i}", f"4 MiB {kind} message in {_size(fs)} fragments",
                              f"Send a {kind} message of 4 MiB in frames of {fs} bytes: "
                              "echoed byte-exact; the round trip is timed.",
                              one_message_body(op, 4 * MIB, frame_size=fs)))
    for g, (op, kind) in enumerate(kinds, 5):
        for i, chop in enumerate((64, 128, 256, 512, 1024, 2048), 1):
            cases.append(Case(f"9.{g}.{i}", f"1 MiB {kind} message written in {chop}-byte "
                                            "chops",
                              f"Send a {kind} message of 1 MiB in one frame, writing {chop} "
                              "bytes at a time: echoed byte-exact; timed.",
                              one_message_body(op, MIB, chop=chop)))
    for g, (op, kind) in enumerate(kinds, 7):
        for i, n in enumerate((0, 16, 64, 256, 1024, 4096), 1):
            cases.append(Case(f"9.{g}.{i}", f"1000 {kind} messages of {n} bytes, one at a time",
                              f"Send 1000 {kind} messages of {n} bytes, each after the echo of "
                              "the previous: all echoed; the total is timed.",
                              many_messages_body(op, n)))
    cases.append(Case("10.1.1", "64 KiB text message in 1300-byte fragments",
                      "Send a text message of 65536 bytes in 1300-byte fragments: it must come "
                      "back whole, whatever fragmentation the testee chooses for its echo.",
                      one_message_body(OP_TEXT, 64 * KIB, frame_size=1300, timed=False)))
    return cases


CASES = build()
