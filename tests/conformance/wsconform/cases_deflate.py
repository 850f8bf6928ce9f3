"""Autobahn|Testsuite categories 12 and 13 (permessage-deflate), both roles.

12.x  echo of different payloads over the default negotiation
        12.1 JSON-like text, 12.2 bitmap-like binary, 12.3 human text (UTF-8, non-ASCII),
        12.4 HTML text, 12.5 random bytes (incompressible, binary)
13.x  echo under different parameters (JSON-like text)
        13.1 default offer / plain accept
        13.2 client_no_context_takeover
        13.3 client_max_window_bits=9 (Autobahn: 8; zlib cannot deflate raw with 8)
        13.4 client_max_window_bits=15
        13.5 server_no_context_takeover + client_no_context_takeover
        13.6 server_max_window_bits=N, N = 9..15
        13.7 several offers, the first one invalid (must be declined): testee = server only
        13.8 client_max_window_bits=N, N = 9..15 (not in Autobahn: 13.3/13.4 for each N)
        13.9 violations under compression (not in Autobahn): RSV1 on a control frame,
             RSV1 on a continuation frame, corrupt deflate data, a decompression bomb,
             a message inflating to invalid UTF-8

Sizes are Autobahn's (16 B to 128 KiB); message counts are smaller than its 1000 so a
role runs in well under a minute, but always several messages per case, consecutive
slices of one corpus, so that context takeover has something to refer back to.

A case names its negotiation for both roles: `offers` is what the suite offers when the
testee is a server, `answer` the parameters it answers a testee client's offer with.
"""

import random

from . import deflate, frames
from .report import NON_STRICT

SIZES = (16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072)
WINDOW_SIZES = (64, 1024, 16384, 131072)  # 13.6/13.8: per window, small to large
CORPUS_BYTES = 512 * 1024


def _count(size, budget, lo, hi):
    return max(lo, min(hi, budget // size))


# --- payloads: deterministic corpora, messages are consecutive slices ---------------------
_WORDS = ("habe nun ach philosophie juristerei und medizin und leider auch theologie "
          "durchaus studiert mit heißem bemühn da steh ich nun ich armer tor und bin so klug "
          "als wie zuvor heiße magister heiße doktor gar und ziehe schon an die zehen jahr "
          "herauf herab und quer und krumm meine schüler an der nase herum und sehe dass wir "
          "nichts wissen können das will mir schier das herz verbrennen größer übermut").split()


def _json_corpus(rng):
    out, n, total = [], 0, 0
    names = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
    while total < CORPUS_BYTES:
        name = rng.choice(names)
        out.append('{"id":%d,"name":"%s","email":"%s%d@example.org","score":%.3f,'
                   '"active":%s,"tags":["%s","%s"],"parent":%s},\n' % (
                       n, name, name, rng.randrange(1000), rng.random() * 100,
                       rng.choice(("true", "false")), rng.choice(_WORDS), rng.choice(_WORDS),
                       rng.choice(("null", str(rng.randrange(n + 1))))))
        total += len(out[-1])
        n += 1
    return ("[" + "".join(out)).encode("utf-8")


def _text_corpus(rng):
    out, total = [], 0
    while total < CORPUS_BYTES:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(5, 16)))
        out.append(sentence.capitalize() + rng.choice((". ", "! ", "? ", ".\n")))
        total += len(out[-1])
    return "".join(out).encode("utf-8")


def _html_corpus(rng):
    out = ["<!DOCTYPE html><html><head><title>Report</title></head><body>\n"]
    total = 0
    while total < CORPUS_BYTES:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(3, 12)))
        words = words.encode("ascii", "replace").decode()
        out.append(f'<div class="row r{rng.randrange(9)}"><a href="/item/{rng.randrange(10**5)}">'
                   f"{words}</a><span>{rng.randrange(1000)}</span></div>\n")
        total += len(out[-1])
    return "".join(out).encode("ascii")


def _bitmap_corpus(rng):
    width, rows = 1024, CORPUS_BYTES // 1024
    noise = rng.randbytes(width * rows)
    return bytes(((x * 3 + y * 5) // 4 + (noise[y * width + x] & 3)) & 255
                 for y in range(rows) for x in range(width))


PAYLOADS = {  # kind: (opcode, corpus factory, compressible, description)
    "json": (frames.OP_TEXT, _json_corpus, True, "JSON-like text"),
    "bitmap": (frames.OP_BINARY, _bitmap_corpus, True, "bitmap-like binary"),
    "text": (frames.OP_TEXT, _text_corpus, True, "human readable text (UTF-8, non-ASCII)"),
    "html": (frames.OP_TEXT, _html_corpus, True, "HTML text"),
    "random": (frames.OP_BINARY, lambda rng: rng.randbytes(CORPUS_BYTES), False,
               "random bytes (incompressible)"),
}
_corpora = {}


def corpus(kind):
    if kind not in _corpora:
        _corpora[kind] = PAYLOADS[kind][1](random.Random(f"wsconform-{kind}"))
    return _corpora[kind]


def messages(kind, size, count):
    """count consecutive slices of the corpus, each exactly size bytes (valid UTF-8 for text)."""
    data, text = corpus(kind), PAYLOADS[kind][0] == frames.OP_TEXT
    out, offset = [], 0
    for _ in range(count):
        if offset + size > len(data):
            offset = 0
        while text and 0x80 <= data[offset] < 0xC0:  # start on a character boundary
            offset += 1
        piece = data[offset:offset + size]
        if text:  # drop a split character at the end and pad to the size
            piece = piece.decode("utf-8", "ignore").encode("utf-8")
            piece += b" " * (size - len(piece))
        out.append(piece)
        offset += size
    return out


# --- case bodies ---------------------------------------------------------------------------
def echo_body(kind, size, count):
    opcode, _, compressible, _ = PAYLOADS[kind]

    def body(s):
        for i, data in enumerate(messages(kind, size, count)):
            s.send_message(opcode, data)
            got_opcode, got = s.read_message(f"echo {i + 1}/{count}", max_size=size)
            if got_opcode != opcode:
                s.fail(f"echo {i + 1}: opcode {got_opcode:#x}, sent {opcode:#x}")
            if got != data:
                at = next((j for j, (a, b) in enumerate(zip(got, data)) if a != b),
                          min(len(got), len(data)))
                s.fail(f"echo {i + 1}/{count} differs: {len(got)} bytes back for {len(data)} "
                       f"sent, first difference at byte {at}")
        s.note_compression(compressible and size >= 64)
        s.result.info.append(f"{count} messages of {size} bytes echoed byte-exactly; "
                             f"{s.agreement.describe() if s.agreement else 'not negotiated'}")
    return body


def _warm_up(s):
    """One compressed echo first: the violation then hits an established compressed stream."""
    data = messages("json", 256, 1)[0]
    s.send_message(frames.OP_TEXT, data)
    if s.read_message("the warm-up echo", 256) != (frames.OP_TEXT, data):
        s.fail("the warm-up echo differs")


def rsv1_control_body(s):
    _warm_up(s)
    s.peer.send_frame(frames.OP_PING, b"ping with RSV1", rsv1=True)
    s.expect_failure(1002, "a ping with RSV1 set")


def rsv1_continuation_body(s):
    _warm_up(s)
    payload, _ = s.encode(frames.OP_TEXT, messages("json", 1024, 1)[0])
    half = len(payload) // 2
    s.peer.send(s.peer.frame(frames.OP_TEXT, payload[:half], fin=False, rsv1=True) +
                s.peer.frame(frames.OP_CONT, payload[half:], fin=True, rsv1=True))
    s.expect_failure(1002, "RSV1 on a continuation frame")


def corrupt_body(s):
    _warm_up(s)
    # 0xff: BFINAL=1, BTYPE=11, a reserved block type: invalid from the first byte.
    s.peer.send_frame(frames.OP_BINARY, b"\xff\xff\xff\xff" + b"\x00" * 32, rsv1=True)
    s.expect_failure(1007, "corrupt deflate data", strict_codes=(1007,))


def bomb_body(s):
    _warm_up(s)
    inflated = 4 * s.limit
    payload, _ = s.encode(frames.OP_BINARY, bytes(inflated))
    s.result.info.append(f"{len(payload)} compressed bytes inflating to {inflated} "
                         f"(testee limit {s.limit})")
    s.peer.send_frame(frames.OP_BINARY, payload, rsv1=True)
    s.expect_failure(1009, f"a {len(payload)}-byte message inflating to {inflated} bytes")


def invalid_utf8_body(s):
    _warm_up(s)
    payload, _ = s.encode(frames.OP_TEXT, "grüße ".encode() * 20 + b"\xc3\x28 invalid" + b"x" * 64)
    s.peer.send_frame(frames.OP_TEXT, payload, rsv1=True)
    s.expect_failure(1007, "a text message inflating to invalid UTF-8")


# --- the case list ---------------------------------------------------------------------------
class Case:
    def __init__(self, id, title, description, body, offers, answer, roles=("server", "client"),
                 refusal=None):
        self.id, self.title, self.description, self.body = id, title, description, body
        self.offers = offers      # testee = server: our Sec-WebSocket-Extensions offers
        self.answer = answer      # testee = client: deflate.answer_offer keyword arguments
        self.roles = roles        # the testee roles this case applies to
        self.refusal = refusal    # verdict if a testee server refuses the handshake (else FAILED)
        self.violation = False    # the body breaks a rule: needs compression agreed


DEFAULT_OFFER = [deflate.make_offer(client_max_window_bits=True)]  # what browsers send


def _echo_cases(prefix, kind, sizes, budget, lo, hi, params, title_extra, offers, answer, **kw):
    out = []
    for i, size in enumerate(sizes, 1):
        count = _count(size, budget, lo, hi)
        title = f"{count} x {size} B {PAYLOADS[kind][3]}{title_extra}"
        desc = (f"Echo {count} messages of {size} bytes of {PAYLOADS[kind][3]} with {params}; "
                "every echo must come back byte-exact and inflate with the agreed window "
                "and context mode.")
        o = offers(i) if callable(offers) else offers
        out.append(Case(f"{prefix}.{i}", title, desc, echo_body(kind, size, count), o, answer,
                        **kw))
    return out


def build():
    cases = []
    for n, kind in enumerate(("json", "bitmap", "text", "html", "random"), 1):
        cases += _echo_cases(f"12.{n}", kind, SIZES, 2 << 20, 16, 200,
                             "the default negotiation", "", DEFAULT_OFFER, {})

    def c13(n, params, offer, answer, sizes=SIZES, suffix="", **kw):
        return _echo_cases(f"13.{n}", "json", sizes, 256 << 10, 4, 50, params, suffix, offer,
                           answer, **kw)

    cases += c13(1, "the default offer (client_max_window_bits) / a plain accept", DEFAULT_OFFER,
                 {})
    cases += c13(2, "client_no_context_takeover",
                 [deflate.make_offer(client_no_context_takeover=True)],
                 {"client_no_context_takeover": True}, suffix=", client_no_context_takeover")
    for n, bits in ((3, 9), (4, 15)):
        cases += c13(n, f"client_max_window_bits={bits}",
                     [deflate.make_offer(client_max_window_bits=bits)],
                     {"client_max_window_bits": bits}, suffix=f", client_max_window_bits={bits}")
    cases += c13(5, "server_no_context_takeover and client_no_context_takeover",
                 [deflate.make_offer(True, True)],
                 {"server_no_context_takeover": True, "client_no_context_takeover": True},
                 suffix=", no context takeover both ways")
    for n, param in ((6, "server_max_window_bits"), (8, "client_max_window_bits")):
        group = []
        for bits in range(9, 16):
            group += c13(n, f"{param}={bits}", [deflate.make_offer(**{param: bits})],
                         {param: bits}, sizes=WINDOW_SIZES, suffix=f", {param}={bits}")
        for i, case in enumerate(group, 1):  # one flat numbering per group, as Autobahn's
            case.id = f"13.{n}.{i}"
        cases += group

    # 13.7: the first offer must be declined (RFC 7692 5); the server may take the second.
    invalid_first = [
        ("an unknown parameter", (deflate.NAME, [("x_unknown_param", None)])),
        ("server_max_window_bits=7", (deflate.NAME, [("server_max_window_bits", "7")])),
        ("a duplicate parameter", (deflate.NAME, [("server_no_context_takeover", None),
                                                  ("server_no_context_takeover", None)])),
        ("a value on client_no_context_takeover",
         (deflate.NAME, [("client_no_context_takeover", "1")])),
    ]

    def offers_13_7(i):
        return [invalid_first[(i - 1) % len(invalid_first)][1],
                deflate.make_offer(client_max_window_bits=True)]
    group = c13(7, "two offers, the first invalid, the second the default", offers_13_7, None,
                roles=("server",), refusal=NON_STRICT)
    for i, case in enumerate(group, 1):
        what = invalid_first[(i - 1) % len(invalid_first)][0]
        case.title += f", first offer with {what}"
        case.description += (f" The first offer has {what}: the server must decline it and may "
                             "accept the second or decline both (INFORMATIONAL); refusing the "
                             "whole handshake instead is NON-STRICT.")
    cases += group

    negatives = [
        ("RSV1 on a ping", "A ping with RSV1 set (RFC 7692 6: RSV1 only on data messages' "
         "first frames) must fail the connection: 1002.", rsv1_control_body),
        ("RSV1 on a continuation frame", "A compressed message in two frames, RSV1 on both "
         "(RFC 7692 6.1: only the first) must fail the connection: 1002.", rsv1_continuation_body),
        ("corrupt deflate data", "A message whose compressed data is invalid must fail the "
         "connection; RFC 7692 names no code, 1007 is expected, another error code is "
         "NON-STRICT.", corrupt_body),
        ("decompression bomb", "A small message inflating to 4x the testee's message size "
         "limit must fail the connection with 1009 without echoing.", bomb_body),
        ("inflates to invalid UTF-8", "A compressed text message inflating to invalid UTF-8 "
         "must fail the connection with 1007 (RFC 6455 8.1).", invalid_utf8_body),
    ]
    for i, (title, desc, body) in enumerate(negatives, 1):
        case = Case(f"13.9.{i}", title, desc, body, DEFAULT_OFFER, {})
        case.violation = True
        cases.append(case)
    return cases


CASES = build()
