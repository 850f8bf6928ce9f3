"""Autobahn|Testsuite categories 1-4, both roles: framing, pings, reserved bits and opcodes.

1.1.x / 1.2.x  text / binary echo of payload lengths 0, 125, 126, 127, 128, 65535, 65536
               (the 7-bit, 16-bit and 64-bit length encodings and their edges); .8: 65536
               bytes written in 997-byte TCP chops
1.3.x          (not in Autobahn) masking direction: an unmasked client frame (testee server)
               or a masked server frame (testee client) must fail with 1002 (RFC 6455 5.1)
2.x            pings (with payloads of 0..125 bytes, 126: fail), unsolicited pongs (ignored),
               10 pings in a row, written whole or byte by byte
3.x            RSV1-3 set without an extension: fail with 1002, also on control frames, after
               a valid message (which must still be echoed) and before a ping (no pong)
4.x            reserved opcodes 3-7 (4.1.x) and 11-15 (4.2.x): fail with 1002
"""

from . import frames
from .core import (OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Case, close_normally,
                   echo, expect, expect_close_answer, expect_echo_then_failure, expect_failure,
                   frame, send)

LENGTHS = (0, 125, 126, 127, 128, 65535, 65536)


def payload(opcode, n):
    """Deterministic, not constant (a swapped or shifted byte shows): ASCII for text."""
    if opcode == OP_TEXT:
        return bytes(0x21 + (i * 7) % 94 for i in range(n))
    return bytes((i * 31 + (i >> 8)) & 0xFF for i in range(n))


def echo_body(opcode, n, chop=None):
    def body(s):
        echo(s, opcode, payload(opcode, n), chop=chop)
        close_normally(s)
    return body


def unmasked_client_body(s):
    send(s, frame(s, OP_TEXT, b"not masked", mask=False))
    expect_failure(s, 1002, "an unmasked frame from the client")


def masked_server_body(s):
    send(s, frame(s, OP_TEXT, b"masked by the server", mask=True))
    expect_failure(s, 1002, "a masked frame from the server")


# --- 2: pings and pongs ----------------------------------------------------------------
def ping_body(data, chop=None):
    def body(s):
        send(s, frame(s, OP_PING, data), chop=chop)
        expect(s, ("pong", data))
        close_normally(s)
    return body


def ping_too_long_body(s):
    send(s, frame(s, OP_PING, b"\xfe" * 126))
    expect_failure(s, 1002, "a ping with a 126-byte payload")


def unsolicited_pong_body(data, then_ping=None):
    def body(s):
        wire = [frame(s, OP_PONG, data)]
        if then_ping is not None:
            wire.append(frame(s, OP_PING, then_ping))
        send(s, *wire)
        if then_ping is not None:
            expect(s, ("pong", then_ping))
        # Our close comes after the pong in order: anything before the testee's close
        # frame (a pong answering our pong) is FAILED.
        send(s, frame(s, OP_CLOSE, frames.close_payload(1000)))
        expect_close_answer(s, (1000, None), "an unsolicited pong and our close")
    return body


def ten_pings_body(chop=None):
    def body(s):
        datas = [f"payload-{i}".encode() for i in range(10)]
        send(s, *[frame(s, OP_PING, d) for d in datas], chop=chop)
        expect(s, *[("pong", d) for d in datas])
        close_normally(s)
    return body


# --- 3 and 4: reserved bits and opcodes ---------------------------------------------------
def violation_body(bad, what, first=None, ping_after=False, chop=None, pause=0.0):
    """Optionally a valid text message first (its echo must come), then the bad frame,
    then optionally a ping (no pong may come: the testee must not read past the bad frame)."""
    def body(s):
        wire = []
        if first is not None:
            wire.append(frame(s, OP_TEXT, first))
        wire.append(bad(s))
        if ping_after:
            wire.append(frame(s, OP_PING, b"ping after the bad frame"))
        send(s, *wire, chop=chop, pause=pause)  # a reset while writing is judged below
        if first is not None:
            expect_echo_then_failure(s, OP_TEXT, first, 1002, what)
        else:
            expect_failure(s, 1002, what)
    return body


def _rsv_cases():
    hello = b"Hello, world!"
    specs = [  # (rsv, opcode, payload, first message, ping after, chop, pause, how)
        (1, OP_TEXT, hello, None, False, None, 0, "a text frame"),
        (2, OP_TEXT, hello, hello, True, None, 0, "a text frame after a valid one, then a ping"),
        (3, OP_TEXT, hello, hello, True, None, 0.05,
         "a text frame after a valid one, then a ping, frame by frame"),
        (4, OP_TEXT, hello, hello, True, 1, 0,
         "a text frame after a valid one, then a ping, byte by byte"),
        (5, OP_BINARY, bytes(range(8)), None, False, None, 0, "a binary frame"),
        (6, OP_PING, hello, None, False, None, 0, "a ping"),
        (7, OP_CLOSE, frames.close_payload(1000), None, False, None, 0, "a close frame"),
    ]
    out = []
    for i, (rsv, op, data, first, ping, chop, pause, how) in enumerate(specs, 1):
        bits = "+".join(f"RSV{b}" for b, m in ((1, 4), (2, 2), (3, 1)) if rsv & m)
        what = f"{how} with {bits} set"

        def bad(s, op=op, data=data, rsv=rsv):
            return frame(s, op, data, rsv=rsv)
        out.append(Case(f"3.{i}", f"{bits} on {how}",
                        f"Send {what}. No extension is negotiated, so the testee must fail the "
                        "connection with 1002 (RFC 6455 5.2); a message sent before must be "
                        "echoed, nothing after it answered.",
                        violation_body(bad, what, first, ping, chop, pause), fails=True))
    return out


def _opcode_cases():
    out = []
    for group, opcodes in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
        kind = "non-control" if group == 1 else "control"
        for i, op in enumerate(opcodes, 1):
            data = b"" if i == 1 else b"reserved opcode payload"
            first = b"Hello, world!" if i >= 3 else None
            chop = 1 if i == 5 else None
            how = (f"a frame with reserved {kind} opcode {op}" +
                   (" and a payload" if data else "") +
                   (" after a valid text message, then a ping" if first else "") +
                   (", byte by byte" if chop else ""))

            def bad(s, op=op, data=data):
                return frame(s, op, data)
            out.append(Case(f"4.{group}.{i}", how[0].upper() + how[1:],
                            f"Send {how}: the testee must fail the connection with 1002 "
                            "(RFC 6455 5.2: an unknown opcode).",
                            violation_body(bad, how, first, first is not None, chop),
                            fails=True))
    return out


def build():
    cases = []
    for group, (opcode, kind) in enumerate(((OP_TEXT, "text"), (OP_BINARY, "binary")), 1):
        for i, n in enumerate(LENGTHS, 1):
            cases.append(Case(f"1.{group}.{i}", f"{kind} message, payload length {n}",
                              f"Send a {kind} message of {n} bytes in one frame; the echo must "
                              "come back byte-exact (any fragmentation).",
                              echo_body(opcode, n)))
        cases.append(Case(f"1.{group}.8", f"{kind} message, payload length 65536, written in "
                                          "997-byte chops",
                          f"Send a {kind} message of 65536 bytes in one frame, written to the "
                          "socket 997 bytes at a time; the echo must come back byte-exact.",
                          echo_body(opcode, 65536, chop=997)))
    cases.append(Case("1.3.1", "unmasked frame from the client",
                      "Send an unmasked text frame as the client: the server must fail the "
                      "connection with 1002 (RFC 6455 5.1).", unmasked_client_body,
                      roles=("server",), fails=True))
    cases.append(Case("1.3.2", "masked frame from the server",
                      "Send a masked text frame as the server: the client must fail the "
                      "connection with 1002 (RFC 6455 5.1).", masked_server_body,
                      roles=("client",), fails=True))

    hello = b"Hello, world!"
    binary = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
    pings = [
        ("ping without payload", "pong without payload", ping_body(b"")),
        ("ping with a small text payload", "pong with the same payload", ping_body(hello)),
        ("ping with a small binary payload", "pong with the same payload", ping_body(binary)),
        ("ping with a 125-byte binary payload", "pong with the same payload",
         ping_body(b"\xfe" * 125)),
        ("ping with a 126-byte payload", "failing with 1002 (control frames carry at most 125 "
         "bytes, RFC 6455 5.5)", ping_too_long_body),
        ("ping with a 125-byte payload written byte by byte", "pong with the same payload",
         ping_body(b"\xfe" * 125, chop=1)),
        ("unsolicited pong without payload", "nothing (RFC 6455 5.5.3)",
         unsolicited_pong_body(b"")),
        ("unsolicited pong with payload", "nothing", unsolicited_pong_body(b"unsolicited pong")),
        ("unsolicited pong, then a ping", "only the pong for the ping",
         unsolicited_pong_body(b"unsolicited pong", then_ping=b"ping payload")),
        ("10 pings in a row", "10 pongs in the same order", ten_pings_body()),
        ("10 pings in a row, written byte by byte", "10 pongs in the same order",
         ten_pings_body(chop=1)),
    ]
    for i, (title, expected, body) in enumerate(pings, 1):
        cases.append(Case(f"2.{i}", title, f"Send a {title}; expected: {expected}.", body,
                          fails=i == 5))
    cases += _rsv_cases()
    cases += _opcode_cases()
    return cases


CASES = build()
