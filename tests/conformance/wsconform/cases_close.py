"""Autobahn|Testsuite category 7 (the closing handshake), both roles.

7.1.x   data after our close frame: a second close, a ping, a text message, the rest of a
        fragmented message: all ignored (no pong, no echo, one close frame); 7.1.6 a 256 KiB
        message, close, ping: INFORMATIONAL (the echo may or may not come before the close)
7.3.x   close payloads: empty (answered without a code or 1000), 1 byte (1002), a code,
        a code and a reason, a 123-byte reason (the most a control frame holds), a 124-byte
        reason (126 bytes: 1002)
7.5.1   a reason that is not UTF-8: 1007
7.7.x   valid codes 1000-1003, 1007-1011, 3000, 3999, 4000, 4999: answered with the same
        code (or 1000; anything else is NON-STRICT)
7.9.x   codes that must never be sent (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999;
        7.9.10, not in Autobahn: 1015): fail with 1002
7.13.x  codes above 4999 (5000, 65535): not in RFC 6455's ranges, fail with 1002
"""

from .core import (OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, Case, close_normally, expect,
                   expect_close_answer, expect_failure, frame, next_event, send)
from .frames import close_payload
from .report import INFORMATIONAL

VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999)
INVALID_CODES = (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015)


def _close(s, code=1000, reason=b""):
    return frame(s, OP_CLOSE, close_payload(code, reason))


def echo_then_close_body(s):
    send(s, frame(s, OP_TEXT, b"Hello World!"))
    expect(s, ("message", OP_TEXT, b"Hello World!"))
    close_normally(s)


def after_close_body(extra, what):
    def body(s):
        send(s, _close(s), *extra(s))
        expect_close_answer(s, (1000, None), f"our close, then {what}", in_flight=False)
    return body


def fragment_close_fragment_body(s):
    send(s, frame(s, OP_TEXT, b"fragment1", fin=False), _close(s),
         frame(s, OP_CONT, b"fragment2"))
    expect_close_answer(s, (1000, None), "half a message, our close, the other half",
                        in_flight=False)


def big_close_ping_body(s):
    data = b"BAsd7&jh23" * (256 * 1024 // 10)
    send(s, frame(s, OP_TEXT, data), _close(s), frame(s, OP_PING, b"ping after close"))
    ev = next_event(s)
    if ev.kind == "message":
        if ev.data != data:
            s.fail(f"the echo of the {len(data)}-byte message differs")
        s.result.mark(INFORMATIONAL, "the message was echoed before the close frame")
        ev = None
    else:
        s.result.mark(INFORMATIONAL, f"the message was not echoed: {ev} came first")
    expect_close_answer(s, (1000, None), "a 256 KiB message, our close and a ping",
                        in_flight=False, ev=ev)


def close_answer_body(payload, codes, what):
    def body(s):
        send(s, frame(s, OP_CLOSE, payload))
        expect_close_answer(s, codes, what)
    return body


def close_failure_body(payload, code, what):
    def body(s):
        send(s, frame(s, OP_CLOSE, payload))
        expect_failure(s, code, what)
    return body


def build():
    cases = [
        Case("7.1.1", "echo, then a normal close", "Send a text message, get its echo, close "
             "with 1000: the testee answers with 1000.", echo_then_close_body),
        Case("7.1.2", "two close frames", "Send two close frames (1000) in a row: one close "
             "frame back, the second one ignored.",
             after_close_body(lambda s: [_close(s)], "a second close")),
        Case("7.1.3", "a ping after our close", "Send a close frame, then a ping: the close "
             "is answered, the ping is not (no pong).",
             after_close_body(lambda s: [frame(s, OP_PING, b"ping after close")], "a ping")),
        Case("7.1.4", "a text message after our close", "Send a close frame, then a text "
             "message: the close is answered, the message not echoed.",
             after_close_body(lambda s: [frame(s, OP_TEXT, b"text after close")],
                              "a text message")),
        Case("7.1.5", "half a message, close, the other half", "Send the first fragment of "
             "a text message, a close frame, then the last fragment: the close is answered, "
             "nothing echoed.", fragment_close_fragment_body),
        Case("7.1.6", "256 KiB message, close, ping", "Send a 256 KiB text message, a close "
             "frame and a ping at once: the echo may come before the close frame "
             "(INFORMATIONAL either way), no pong.", big_close_ping_body),
        Case("7.3.1", "close with an empty payload", "Send a close frame without a code: "
             "answered with a close without a code or with 1000.",
             close_answer_body(b"", (None, 1000), "our close without a code")),
        Case("7.3.2", "close with a 1-byte payload", "A close payload of 1 byte cannot hold "
             "a code (RFC 6455 5.5.1): fail with 1002.",
             close_failure_body(b"\x03", 1002, "a close frame with a 1-byte payload"),
             fails=True),
        Case("7.3.3", "close with code 1000", "Answered with 1000.",
             close_answer_body(close_payload(1000), (1000,), "our close 1000")),
        Case("7.3.4", "close with code 1000 and a reason", "Close 1000 'Hello World!': "
             "answered with 1000.",
             close_answer_body(close_payload(1000, b"Hello World!"), (1000,),
                               "our close 1000 with a reason")),
        Case("7.3.5", "close with code 1000 and a 123-byte reason", "A 125-byte close "
             "payload (the control frame maximum): answered with 1000.",
             close_answer_body(close_payload(1000, b"*" * 123), (1000,),
                               "our close with a 123-byte reason")),
        Case("7.3.6", "close with code 1000 and a 124-byte reason", "A 126-byte close "
             "payload is longer than a control frame may be (RFC 6455 5.5): fail with 1002.",
             close_failure_body(close_payload(1000, b"*" * 124), 1002,
                                "a close frame with a 126-byte payload"), fails=True),
        Case("7.5.1", "close reason that is not UTF-8", "Close 1000 with the reason "
             "κόσμε + U+D800 + 'edited' (invalid UTF-8, RFC 6455 5.5.1): fail with 1007.",
             close_failure_body(close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"
                                                    b"\xce\xb5\xed\xa0\x80edited"), 1007,
                                "a close reason that is not UTF-8"), fails=True),
    ]
    for i, code in enumerate(VALID_CODES, 1):
        cases.append(Case(f"7.7.{i}", f"close with valid code {code}",
                          f"Close with {code} and no reason: answered with {code} (1000 is "
                          "allowed too; another code is NON-STRICT).",
                          close_answer_body(close_payload(code), (code, 1000),
                                            f"our close {code}")))
    for i, code in enumerate(INVALID_CODES, 1):
        cases.append(Case(f"7.9.{i}", f"close with invalid code {code}",
                          f"{code} must not appear in a close frame (RFC 6455 7.4): fail with "
                          "1002.", close_failure_body(close_payload(code), 1002,
                                                      f"a close frame with code {code}"),
                          fails=True))
    for i, code in enumerate((5000, 65535), 1):
        cases.append(Case(f"7.13.{i}", f"close with code {code}",
                          f"{code} is outside RFC 6455's code ranges (0-4999): fail with 1002.",
                          close_failure_body(close_payload(code), 1002,
                                             f"a close frame with code {code}"), fails=True))
    return cases


CASES = build()
