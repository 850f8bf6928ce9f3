"""Autobahn|Testsuite category 5 (fragmentation), both roles.

Each scenario is written three ways as Autobahn does: all frames in one write, frame by
frame with a pause between (a slow peer), and byte by byte.
  5.1-5.2    a fragmented ping / pong: fail (RFC 6455 5.5: control frames are not fragmented)
  5.3-5.5    a text message in two fragments: echoed
  5.6-5.8    ... with a ping between the fragments: the pong, then the echo (5.4)
  5.9-5.14   a continuation frame (FIN set, then not set) with no message started: fail
  5.15       a complete fragmented message (echoed), then a continuation without start: fail
  5.16-5.17  continuation, then a fragmented text message, twice: fail at the first frame
  5.18       a text frame where a continuation frame is due: fail
  5.19-5.20  a text message in five fragments with two pings between them, paused: pongs
             first, then the echo
"""

from .core import (OP_CONT, OP_PING, OP_PONG, OP_TEXT, Case, close_normally, expect,
                   expect_echo_then_failure, expect_failure, frame, send)

PAUSE = 0.05  # "frame by frame": long enough for the frames to arrive as separate segments
WAYS = (({}, "in one write"), ({"pause": PAUSE}, "frame by frame"),
        ({"chop": 1}, "byte by byte"))


def _fragmented_control_body(opcode):
    def body(s):
        send(s, frame(s, opcode, b"fragment1", fin=False), frame(s, OP_CONT, b"fragment2"))
        expect_failure(s, 1002, "a fragmented control frame")
    return body


def _two_fragments_body(ping, how):
    def body(s):
        wire = [frame(s, OP_TEXT, b"fragment1", fin=False)]
        if ping:
            wire.append(frame(s, OP_PING, b"ping between fragments"))
        wire.append(frame(s, OP_CONT, b"fragment2"))
        send(s, *wire, **how)
        expected = [("pong", b"ping between fragments")] if ping else []
        expect(s, *expected, ("message", OP_TEXT, b"fragment1fragment2"))
        close_normally(s)
    return body


def _continuation_without_start_body(fin, how):
    def body(s):
        send(s, frame(s, OP_CONT, b"non-continuation payload", fin=fin),
             frame(s, OP_TEXT, b"Hello, world!"), **how)
        expect_failure(s, 1002, f"a continuation frame (FIN={int(fin)}) without a message "
                                "started")
    return body


def _complete_then_orphan_body(s):
    send(s, frame(s, OP_TEXT, b"fragment1", fin=False), frame(s, OP_CONT, b"fragment2"),
         frame(s, OP_CONT, b"fragment3", fin=False), frame(s, OP_TEXT, b"fragment4"))
    expect_echo_then_failure(s, OP_TEXT, b"fragment1fragment2", 1002,
                             "a continuation frame after the message was complete")


def _orphan_twice_body(first_fin):
    def body(s):
        once = [frame(s, OP_CONT, b"fragment1", fin=first_fin),
                frame(s, OP_TEXT, b"fragment2", fin=False), frame(s, OP_CONT, b"fragment3")]
        send(s, *(once + once))
        expect_failure(s, 1002, "a continuation frame without a message started")
    return body


def _text_instead_of_continuation_body(s):
    send(s, frame(s, OP_TEXT, b"fragment1", fin=False), frame(s, OP_TEXT, b"fragment2"))
    expect_failure(s, 1002, "a text frame inside a fragmented message")


def _five_fragments_pings_body(sync):
    def body(s):
        f = [frame(s, OP_TEXT, b"fragment1", fin=False)] + \
            [frame(s, OP_CONT, f"fragment{i}".encode(), fin=i == 5) for i in range(2, 6)]
        ping1, ping2 = frame(s, OP_PING, b"pongme 1!"), frame(s, OP_PING, b"pongme 2!")
        message = b"".join(f"fragment{i}".encode() for i in range(1, 6))
        if sync:  # each pong awaited before the next fragment
            send(s, f[0], f[1], pause=PAUSE)
            send(s, ping1)
            expect(s, ("pong", b"pongme 1!"))
            send(s, f[2], f[3], pause=PAUSE)
            send(s, ping2)
            expect(s, ("pong", b"pongme 2!"))
            send(s, f[4])
            expect(s, ("message", OP_TEXT, message))
        else:
            send(s, f[0], f[1], ping1, f[2], f[3], ping2, f[4], pause=PAUSE)
            expect(s, ("pong", b"pongme 1!"), ("pong", b"pongme 2!"),
                   ("message", OP_TEXT, message))
        close_normally(s)
    return body


def build():
    cases = [
        Case("5.1", "ping in two fragments", "Send a ping as two frames (FIN=0 ping, then a "
             "continuation): fail with 1002.", _fragmented_control_body(OP_PING), fails=True),
        Case("5.2", "pong in two fragments", "Send a pong as two frames (FIN=0 pong, then a "
             "continuation): fail with 1002.", _fragmented_control_body(OP_PONG), fails=True),
    ]
    n = 3
    for ping in (False, True):
        for how, words in WAYS:
            title = "text message in two fragments" + (", a ping between them" if ping else "")
            cases.append(Case(f"5.{n}", f"{title}, {words}",
                              f"Send a {title}, {words}: " +
                              ("the pong, then " if ping else "") + "the echo of the message.",
                              _two_fragments_body(ping, how)))
            n += 1
    for fin in (True, False):
        for how, words in WAYS:
            title = f"continuation frame with FIN={int(fin)} and no message started"
            cases.append(Case(f"5.{n}", f"{title}, {words}",
                              f"Send a {title} (then a valid text message), {words}: fail with "
                              "1002; the text message must not be echoed.",
                              _continuation_without_start_body(fin, how), fails=True))
            n += 1
    cases += [
        Case("5.15", "complete fragmented message, then a continuation without start",
             "Send text FIN=0, continuation FIN=1 (a whole message: echoed), then a "
             "continuation FIN=0 and a text frame: fail with 1002 at the continuation.",
             _complete_then_orphan_body, fails=True),
        Case("5.16", "continuation FIN=0, then text FIN=0, continuation FIN=1, twice",
             "The first frame is a continuation with no message started: fail with 1002; "
             "nothing is echoed.", _orphan_twice_body(False), fails=True),
        Case("5.17", "continuation FIN=1, then text FIN=0, continuation FIN=1, twice",
             "The first frame is a continuation with no message started: fail with 1002; "
             "nothing is echoed.", _orphan_twice_body(True), fails=True),
        Case("5.18", "text FIN=0, then text FIN=1 (instead of a continuation)",
             "A new data frame while a message is unfinished: fail with 1002.",
             _text_instead_of_continuation_body, fails=True),
        Case("5.19", "text in five fragments, two pings between them, frame by frame",
             "Send 5 text fragments with a ping after the 2nd and after the 4th, pausing "
             "between frames: two pongs, then the echo.", _five_fragments_pings_body(False)),
        Case("5.20", "text in five fragments, two pings, each pong awaited",
             "As 5.19, but each pong is awaited before the next fragment is sent: the testee "
             "answers pings in the middle of a message.", _five_fragments_pings_body(True)),
    ]
    return cases


CASES = build()
