"""What the core categories (1-10, hs) share: the plain Case, raw frame building, and an
event reader that sees every frame the testee sends (pongs included), so that cases can
check exact sequences like "pong, then the echo, then nothing".

A plain case negotiates no extension (the runner accepts a testee client's deflate offer
without it). Case bodies get the runner's Session `s`; they send raw frames with frame()
and send(), and judge with expect() / expect_failure() / expect_close_answer().
"""

import time

from . import frames
from .frames import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT  # noqa: F401
from .report import FAILED, NON_STRICT


class Case:
    def __init__(self, id, title, description, body, roles=("server", "client"), fails=False,
                 raw=None):
        self.id, self.title, self.description, self.body = id, title, description, body
        self.roles = roles
        self.offers = []       # no extension offered (testee = server)
        self.answer = None     # no extension accepted (testee = client)
        self.plain = True
        self.refusal = None
        # The body breaks a rule on purpose: the testee client may exit non-zero.
        self.violation = fails
        self.raw = raw         # testee = server: raw(ctx) runs instead of handshake + body


# --- sending ----------------------------------------------------------------------------
def frame(s, opcode, payload=b"", fin=True, rsv=0, mask=None):
    """One frame as our role sends it; rsv is Autobahn's 3-bit value (4 = RSV1, 1 = RSV3).
    mask=None masks exactly when we are the client (RFC 6455 5.1)."""
    if mask is None:
        mask = s.peer.role == "client"
    return frames.encode_frame(opcode, payload, fin, bool(rsv & 4), bool(rsv & 2), bool(rsv & 1),
                               mask=mask)


def send(s, *wire, chop=None, pause=0.0):
    """Sends the frames given; chop=N writes the bytes N at a time (TCP segmentation must not
    matter); pause>0 writes frame by frame with that pause between (a slow peer).

    A reset while writing ends the writing, not the case: written in pieces, the rest of
    the wire may still be on its way when the testee, having seen a violation's first
    bytes, fails the connection and drops TCP (a client may: only a server must wait for
    the peer). Every case judges afterwards what the testee answered, so one that should
    not have closed fails there (its expected echo or close never came)."""
    try:
        _send(s, wire, chop, pause)
    except frames.PeerClosed:
        pass


def _send(s, wire, chop, pause):
    if pause:
        for i, w in enumerate(wire):
            if i:
                time.sleep(pause)
            _send(s, [w], chop, 0.0)
        return
    data = b"".join(wire)
    if not chop:
        s.peer.send(data)
        return
    for i in range(0, len(data), chop):
        s.peer.send(data[i:i + chop])


def fragments(s, opcode, data, size, rsv=0):
    """data as one message in frames of at most `size` bytes (at least one frame)."""
    chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    return [frame(s, opcode if i == 0 else OP_CONT, c, fin=i == len(chunks) - 1,
                  rsv=rsv if i == 0 else 0) for i, c in enumerate(chunks)]


# --- receiving --------------------------------------------------------------------------
class Event:
    """kind: 'message' (opcode, data), 'pong' (data), 'close' (close), 'eof', 'timeout'."""

    def __init__(self, kind, opcode=None, data=b"", close=None, frames_count=0):
        self.kind, self.opcode, self.data, self.close = kind, opcode, data, close
        self.frames_count = frames_count

    def __repr__(self):
        if self.kind == "message":
            kind = {OP_TEXT: "text", OP_BINARY: "binary"}[self.opcode]
            return f"a {kind} message of {len(self.data)} bytes"
        if self.kind == "pong":
            return f"a pong with {len(self.data)} bytes"
        if self.kind == "close":
            return f"a close frame ({self.close})"
        return "TCP closed" if self.kind == "eof" else "nothing (timeout)"


def next_event(s, timeout=None):
    """The testee's next message, pong or close; its pings are answered. A framing rule
    broken by the testee fails the case; a message is returned whole (its frames counted)."""
    deadline = time.monotonic() + (timeout or s.peer.timeout)
    parts = []
    while True:
        try:
            f = s.peer.read_frame(max(0.001, deadline - time.monotonic()))
        except frames.PeerClosed:
            s.closed = True
            return Event("eof")
        except frames.Timeout:
            return Event("timeout")
        except frames.ProtocolViolation as e:
            s.fail(f"protocol violation by the testee: {e}")
        if f.rsv1 or f.rsv2 or f.rsv3:
            s.fail(f"the testee set a reserved bit without an extension: {f}")
        if f.opcode == OP_PING:
            s.peer.send_frame(OP_PONG, f.payload)
            continue
        if f.opcode == OP_PONG:
            return Event("pong", data=f.payload)
        if f.opcode == OP_CLOSE:
            try:
                return Event("close", close=frames.parse_close(f.payload))
            except frames.ProtocolViolation as e:
                s.fail(f"the testee's close frame is invalid: {e}")
        if f.opcode == OP_CONT and not parts:
            s.fail("the testee sent a continuation frame without a message started")
        if f.opcode != OP_CONT and parts:
            s.fail(f"the testee started a new message inside a fragmented one: {f}")
        parts.append(f)
        if f.fin:
            return Event("message", parts[0].opcode, b"".join(p.payload for p in parts),
                         frames_count=len(parts))


def _describe_diff(got, want):
    at = next((j for j, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return f"{len(got)} bytes back for {len(want)} sent, first difference at byte {at}"


def expect(s, *expected, timeout=None):
    """The testee must send exactly these, in order: ('message', opcode, data) or
    ('pong', data). Returns the events (for frame counts)."""
    got = []
    for i, want in enumerate(expected, 1):
        what = f"{want[0]} {i}/{len(expected)}"
        ev = next_event(s, timeout)
        got.append(ev)
        if ev.kind != want[0]:
            s.fail(f"expected {what}, got {ev}")
        if ev.kind == "message":
            if ev.opcode != want[1]:
                s.fail(f"{what}: {ev} where opcode {want[1]:#x} was sent")
            if ev.data != want[2]:
                s.fail(f"{what} differs: {_describe_diff(ev.data, want[2])}")
        elif ev.data != want[1]:
            s.fail(f"{what}: payload differs: {_describe_diff(ev.data, want[1])}")
    return got


def echo(s, opcode, data, **send_kw):
    """Sends data as one frame, expects it back."""
    send(s, frame(s, opcode, data), **send_kw)
    expect(s, ("message", opcode, data))


def expect_echo_then_failure(s, opcode, data, code, violation):
    """A valid message went before the violation: its echo should come first (Autobahn:
    NON-STRICT if the testee fails the connection before echoing it), then the failure."""
    ev = next_event(s)
    if ev.kind == "message" and ev.opcode == opcode and ev.data == data:
        expect_failure(s, code, violation)
        return
    if ev.kind in ("close", "eof"):
        s.result.mark(NON_STRICT, "the testee failed the connection without echoing the "
                                  "valid message that preceded the violation")
        expect_failure(s, code, violation, ev=ev)
        return
    s.fail(f"expected the echo of the message sent before {violation}, got {ev}")


def _answer_close(s, code):
    try:
        s.peer.send_close(code if code is not None else 1000)
    except (frames.PeerClosed, frames.Timeout):
        pass  # the testee may drop TCP right after its close frame


def after_close(s):
    """After the closing handshake: the testee sends nothing more; a server closes TCP
    first (RFC 6455 7.1.1: NON-STRICT if it does not within 3 s)."""
    s.closed = True
    if s.peer.role != "client":
        return
    deadline = time.monotonic() + 3.0
    try:
        while True:
            s.peer._recv_some(deadline)
            if s.peer.buf:
                s.fail(f"the testee sent {len(s.peer.buf)} bytes after its close frame")
    except frames.PeerClosed:
        return
    except frames.Timeout:
        s.result.mark(NON_STRICT, "the server did not close TCP within 3 s after the closing "
                                  "handshake")


def expect_failure(s, code, violation, strict_codes=None, timeout=None, ev=None):
    """After we sent `violation`: the testee must fail the connection, sending nothing
    else first. A close with `code` (or one of strict_codes) is OK; another error code, no
    code, or a TCP drop without a close frame is NON-STRICT; going on (echo, pong) or
    closing with 1000 or an invalid code is FAILED."""
    strict_codes = strict_codes or (code,)
    ev = ev or next_event(s, timeout)
    if ev.kind == "eof":
        s.result.mark(NON_STRICT, f"after {violation}: TCP closed without a close frame "
                                  f"(expected {code})")
        return
    if ev.kind == "timeout":
        s.fail(f"after {violation}: the testee did not fail the connection (no close within "
               f"{timeout or s.peer.timeout:.0f} s)")
    if ev.kind != "close":
        s.fail(f"after {violation}: the testee went on ({ev}) instead of failing the "
               "connection")
    m = ev.close
    if m.code in strict_codes:
        s.result.info.append(f"closed with {m}")
    elif m.code is None or (frames.valid_close_code(m.code) and m.code != 1000):
        s.result.mark(NON_STRICT, f"after {violation}: closed with {m}, expected {code}")
    else:
        s.fail(f"after {violation}: closed with {m}, expected {code}")
    _answer_close(s, m.code)
    after_close(s)


def expect_close_answer(s, codes, what, allow_pongs=False, in_flight=True, ev=None):
    """After our close frame: the testee answers with a close frame whose code is in
    `codes` (None: no code) and sends no data message first. in_flight: a message may
    have been in flight when our close arrived (NON-STRICT, Autobahn allows it); without,
    a message can only be the answer to data sent after our close (FAILED)."""
    while True:
        ev = ev or next_event(s)
        if ev.kind == "close":
            break
        if ev.kind == "eof":
            s.result.mark(NON_STRICT, f"after {what}: TCP closed without a close frame")
            return
        if ev.kind == "timeout":
            s.fail(f"after {what}: no close frame within {s.peer.timeout:.0f} s")
        if ev.kind == "pong" and allow_pongs:
            ev = None
            continue
        s.result.mark(NON_STRICT if ev.kind == "message" and in_flight else FAILED,
                      f"after {what}: the testee sent {ev} before its close frame")
        ev = None
    if ev.close.code in codes:
        s.result.info.append(f"closed with {ev.close}")
    else:
        s.result.mark(NON_STRICT, f"after {what}: answered with {ev.close}, expected "
                                  f"{' or '.join(str(c) for c in codes)}")
    after_close(s)


def close_normally(s):
    send(s, frame(s, OP_CLOSE, frames.close_payload(1000)))
    expect_close_answer(s, (1000, None), "our close 1000")

