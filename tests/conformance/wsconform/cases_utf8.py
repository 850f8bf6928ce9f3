"""Autobahn|Testsuite category 6 (UTF-8 in text messages), both roles.

6.1       empty text messages, in one frame and as empty fragments
6.2       valid UTF-8 in one frame, split into two fragments at every byte position (inside
          code points too: validity is a property of the message, RFC 6455 8.1), and in
          1-byte fragments
6.3       invalid UTF-8 (a surrogate) in one frame and in 1-byte fragments: fail with 1007
6.4       fail fast: the invalid byte arrives in a fragment (6.4.1/2) or a TCP segment of one
          frame (6.4.3/4) while the rest of the message is still to come; the testee should
          fail the connection then (OK), failing only once the message is complete is
          NON-STRICT
6.5-6.23  Markus Kuhn's UTF-8 decoder test vectors (as Autobahn groups them), each in one
          text message: valid ones are echoed, invalid ones fail the connection with 1007
          (5/6-byte forms, code points above U+10FFFF, stray continuation bytes, lonely start
          bytes, truncated sequences, FE/FF, overlong forms, UTF-16 surrogates); the
          non-characters (U+FFFE, U+xFFFF ...) and specials are valid UTF-8
"""

from .core import (OP_CONT, OP_TEXT, Case, close_normally, expect, expect_failure, fragments,
                   frame, next_event, send)
from .report import NON_STRICT

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # κόσμε
HELLO = "Hello-µ@ßöäüàá-UTF-8!!".encode()
FAIL_FAST_WAIT = 0.5  # how long the testee has to fail after the invalid byte (Autobahn: 1 s)


def kuhn_vectors():
    """[(group title, [(valid, bytes)])], Autobahn's 6.5-6.23 in its order."""
    def valid(b):
        try:
            b.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    groups = [("Some valid UTF-8 sequences",
               [(True, b"hello\x24world"), (True, b"hello\xc2\xa2world"),
                (True, b"hello\xe2\x82\xacworld"), (True, b"hello\xf0\xa4\xad\xa2world"),
                (True, KOSME)]),
              ("All prefixes of a valid UTF-8 string with multi-byte code points",
               [(valid(KOSME[:i]), KOSME[:i]) for i in range(1, len(KOSME) + 1)]),
              ("First possible sequence of a certain length",
               [(True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"),
                (True, b"\xf0\x90\x80\x80")]),
              ("First possible sequence of length 5/6 (invalid code points)",
               [(False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]),
              ("Last possible sequence of a certain length",
               [(True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"),
                (True, b"\xf4\x8f\xbf\xbf")]),
              ("Last possible sequence of length 4/5/6 (invalid code points)",
               [(False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"),
                (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]),
              ("Other boundary conditions",
               [(True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"),
                (True, b"\xf4\x8f\xbf\xbf"), (False, b"\xf4\x90\x80\x80")]),
              ("Unexpected continuation bytes",
               [(False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"),
                (False, b"\x80\xbf\x80"), (False, b"\x80\xbf\x80\xbf"),
                (False, b"\x80\xbf\x80\xbf\x80"), (False, b"\x80\xbf\x80\xbf\x80\xbf"),
                (False, bytes(range(0x80, 0xbf)))]),
              ("Lonely start characters",
               [(False, b"".join(bytes((i, 0x20)) for i in range(lo, hi)))
                for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb),
                               (0xfc, 0xfd))])]
    truncated = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80",
                 b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf",
                 b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    groups += [("Sequences with the last continuation byte missing",
                [(False, t) for t in truncated]),
               ("Concatenation of incomplete sequences", [(False, b"".join(truncated))]),
               ("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"),
                                     (False, b"\xfe\xfe\xff\xff")]),
               ("Overlong forms of an ASCII character",
                [(False, b"\xc0\xaf"), (False, b"\xe0\x80\xaf"), (False, b"\xf0\x80\x80\xaf"),
                 (False, b"\xf8\x80\x80\x80\xaf"), (False, b"\xfc\x80\x80\x80\x80\xaf")]),
               ("Maximum overlong sequences",
                [(False, b"\xc1\xbf"), (False, b"\xe0\x9f\xbf"), (False, b"\xf0\x8f\xbf\xbf"),
                 (False, b"\xf8\x87\xbf\xbf\xbf"), (False, b"\xfc\x83\xbf\xbf\xbf\xbf")]),
               ("Overlong forms of NUL",
                [(False, b"\xc0\x80"), (False, b"\xe0\x80\x80"), (False, b"\xf0\x80\x80\x80"),
                 (False, b"\xf8\x80\x80\x80\x80"), (False, b"\xfc\x80\x80\x80\x80\x80")]),
               ("Single UTF-16 surrogates",
                [(False, s) for s in (b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80",
                                      b"\xed\xaf\xbf", b"\xed\xb0\x80", b"\xed\xbe\x80",
                                      b"\xed\xbf\xbf")]),
               ("Paired UTF-16 surrogates",
                [(False, h + lo) for h in (b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80",
                                           b"\xed\xaf\xbf")
                 for lo in (b"\xed\xb0\x80", b"\xed\xbf\xbf")])]
    nonchars = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"]
    for z1 in b"\xf0\xf1\xf2\xf3\xf4":
        for z2 in b"\x8f\x9f\xaf\xbf":
            if z1 == 0xf4 and z2 != 0x8f:
                continue  # above U+10FFFF
            for z3 in b"\xbe\xbf":
                nc = bytes((z1, z2, 0xbf, z3))
                if nc not in (b"\xf0\x8f\xbf\xbe", b"\xf0\x8f\xbf\xbf"):  # overlong
                    nonchars.append(nc)
    groups += [("Non-character code points (valid UTF-8)", [(True, n) for n in nonchars]),
               ("Unicode specials (valid UTF-8)",
                [(True, bytes((0xef, 0xbf, b))) for b in range(0xb9, 0xc0)])]
    for title, vectors in groups:  # the table must agree with Python's strict decoder
        for ok, data in vectors:
            assert ok == valid(data), (title, data)
    return groups


# --- bodies ---------------------------------------------------------------------------
def message_body(data, valid, frame_size=None):
    def body(s):
        wire = fragments(s, OP_TEXT, data, frame_size) if frame_size else [frame(s, OP_TEXT, data)]
        send(s, *wire)
        if valid:
            expect(s, ("message", OP_TEXT, data))
            close_normally(s)
        else:
            expect_failure(s, 1007, f"a text message that is not UTF-8 ({data.hex()})")
    return body


def empty_fragments_body(middle):
    def body(s):
        send(s, frame(s, OP_TEXT, b"", fin=False), frame(s, OP_CONT, middle, fin=False),
             frame(s, OP_CONT, b""))
        expect(s, ("message", OP_TEXT, middle))
        close_normally(s)
    return body


def every_split_body(data):
    def body(s):
        for i in range(1, len(data)):
            send(s, frame(s, OP_TEXT, data[:i], fin=False), frame(s, OP_CONT, data[i:]))
            expect(s, ("message", OP_TEXT, data))
        s.result.info.append(f"{len(data) - 1} split positions echoed")
        close_normally(s)
    return body


def fail_fast_body(parts, in_frames):
    """parts = (valid start, the invalid byte(s), the rest): the rest is sent only if the
    testee has not failed the connection FAIL_FAST_WAIT after the invalid part."""
    def body(s):
        first, bad, rest = parts
        if in_frames:
            wire = [frame(s, OP_TEXT, first, fin=False), frame(s, OP_CONT, bad, fin=False),
                    frame(s, OP_CONT, rest)]
        else:  # one frame, written in three TCP segments
            whole = frame(s, OP_TEXT, first + bad + rest)
            head = len(whole) - len(first + bad + rest)
            wire = [whole[:head + len(first)], whole[head + len(first):-len(rest)],
                    whole[-len(rest):]]
        send(s, wire[0], wire[1], pause=0.05)
        ev = next_event(s, FAIL_FAST_WAIT)
        if ev.kind == "timeout":
            s.result.mark(NON_STRICT, f"not failed within {FAIL_FAST_WAIT} s of the invalid "
                                      "byte: the testee waited for the end of the message")
            send(s, wire[2])
            ev = None
        expect_failure(s, 1007, "invalid UTF-8 in the middle of a text message", ev=ev)
    return body


def build():
    invalid = KOSME + b"\xed\xa0\x80edited"
    cases = [
        Case("6.1.1", "empty text message", "Send a text message of 0 bytes: echoed.",
             message_body(b"", True)),
        Case("6.1.2", "text message in three empty fragments",
             "Send text FIN=0, continuation FIN=0, continuation FIN=1, all empty: an empty "
             "message is echoed.", empty_fragments_body(b"")),
        Case("6.1.3", "text message in three fragments, only the middle one not empty",
             "Send text FIN=0 empty, continuation FIN=0 'middle frame payload', continuation "
             "FIN=1 empty: echoed.", empty_fragments_body(b"middle frame payload")),
        Case("6.2.1", "valid UTF-8 text message in one frame",
             f"Send {HELLO.decode()!r} in one frame: echoed.", message_body(HELLO, True)),
        Case("6.2.2", "valid UTF-8 split into two fragments at every byte position",
             f"Send {HELLO.decode()!r} as two fragments, once for every split position (also "
             "inside multi-byte code points), on one connection: each echoed whole.",
             every_split_body(HELLO)),
        Case("6.2.3", "valid UTF-8 text message in 1-byte fragments",
             f"Send {HELLO.decode()!r} one byte per frame: echoed.",
             message_body(HELLO, True, frame_size=1)),
        Case("6.2.4", "valid UTF-8 (κόσμε) in 1-byte fragments",
             "Send κόσμε one byte per frame (no frame ends on a code point boundary inside a "
             "character): echoed.", message_body(KOSME, True, frame_size=1)),
        Case("6.3.1", "invalid UTF-8 (a surrogate) in one frame",
             f"Send {invalid.hex()} (κόσμε, U+D800, 'edited') in one frame: fail with 1007.",
             message_body(invalid, False), fails=True),
        Case("6.3.2", "invalid UTF-8 (a surrogate) in 1-byte fragments",
             f"Send {invalid.hex()} one byte per frame: fail with 1007.",
             message_body(invalid, False, frame_size=1), fails=True),
    ]
    fast = [((KOSME, b"\xf4\x90\x80\x80", b"edited"), True,
             "fail fast: the invalid code point in its own fragment"),
            ((KOSME + b"\xf4", b"\x90", b"\x80\x80edited"), True,
             "fail fast: the first invalid byte in its own fragment"),
            ((KOSME, b"\xf4\x90\x80\x80", b"edited"), False,
             "fail fast: one frame, the invalid code point in its own TCP segment"),
            ((KOSME + b"\xf4", b"\x90", b"\x80\x80edited"), False,
             "fail fast: one frame, the first invalid byte in its own TCP segment")]
    for i, (parts, in_frames, title) in enumerate(fast, 1):
        cases.append(Case(f"6.4.{i}", title,
                          f"Send {parts[0].hex()}, then {parts[1].hex()} (invalid), and "
                          f"{parts[2].hex()} only if the testee has not failed the connection "
                          f"{FAIL_FAST_WAIT} s later: 1007 right after the invalid part is OK, "
                          "only after the whole message NON-STRICT.",
                          fail_fast_body(parts, in_frames), fails=True))
    for g, (title, vectors) in enumerate(kuhn_vectors(), 5):
        for j, (ok, data) in enumerate(vectors, 1):
            cases.append(Case(f"6.{g}.{j}", f"{title}: {data.hex()[:40]}",
                              f"{title}: send the text message {data.hex()} in one frame: " +
                              ("valid UTF-8, echoed." if ok else "not UTF-8, fail with 1007."),
                              message_body(data, ok), fails=not ok))
    return cases


CASES = build()
