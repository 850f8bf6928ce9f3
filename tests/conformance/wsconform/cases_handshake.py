"""Category hs (not in Autobahn): the opening handshake (RFC 6455 4.2), testee = server only.

Each case writes its own HTTP request on a raw socket:
  hs.1       a correct request: 101 with the right Sec-WebSocket-Accept, then an echo
  hs.2-hs.10 requests the server must refuse with a 4xx (RFC 6455 4.2.1/4.2.2: missing or
             malformed Sec-WebSocket-Key, no Host, not GET, HTTP/1.0, no Upgrade, a
             Connection header without the upgrade token, no version); a 101 is FAILED, a
             TCP close without any response NON-STRICT (a 101 to HTTP/1.0 or without
             Host too: HTTP-level rules that Node ws leaves unchecked)
  hs.11      Sec-WebSocket-Version: 25: 426 with Sec-WebSocket-Version listing 13 (4.4);
             another 4xx with the header is NON-STRICT, no header FAILED
  hs.12      the request written one byte at a time
  hs.13      the request and a first frame in the same write: the frame must not be lost
  hs.14      header names and values as clients really write them (case, token lists)
  hs.15      64 KiB of extra headers: accepted (then echoed) or refused with a 4xx (431)
             are both OK, a TCP close without response NON-STRICT; either way the server
             must then accept a normal connection
"""

import base64
import os

from . import frames
from .core import OP_TEXT, Case, close_normally, expect, frame
from .report import FAILED, NON_STRICT
from .session import CaseFailed, Session


def _key():
    return base64.b64encode(os.urandom(16)).decode("ascii")


def request(ctx, method="GET", version="HTTP/1.1", key=None, drop=(), replace=None, extra=()):
    """The request as lines: the standard headers minus `drop` (lower-case names), with
    `replace` {lower name: 'Name: value'} applied, plus `extra` lines."""
    key = key if key is not None else _key()
    headers = [("host", f"Host: {ctx.host}:{ctx.port}"), ("upgrade", "Upgrade: websocket"),
               ("connection", "Connection: Upgrade"), ("sec-websocket-key",
                                                      f"Sec-WebSocket-Key: {key}"),
               ("sec-websocket-version", "Sec-WebSocket-Version: 13")]
    replace = replace or {}
    lines = [f"{method} {ctx.path} {version}"]
    lines += [replace.get(n, line) for n, line in headers if n not in drop]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), key


def read_response(ctx):
    """(status, headers), or (None, why) when the server closed or said nothing."""
    try:
        start, headers = frames.parse_http_head(ctx.peer.read_http_head())
    except frames.PeerClosed:
        return None, "the server closed the connection without an HTTP response"
    except frames.Timeout:
        return None, "no HTTP response"
    parts = start.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        ctx.result.mark(FAILED, f"bad status line {start!r}")
        raise CaseFailed(start)
    return int(parts[1]), headers


def _session(ctx):
    return Session(ctx.peer, None, ctx.result, 0)


def accepted(ctx, key, first=None):
    """The response must be a 101 with the right accept; then an echo (of `first` if we
    already sent it with the request) and a normal close."""
    status, headers = read_response(ctx)
    if status != 101:
        ctx.result.mark(FAILED, f"a valid request was answered with {status or headers}")
        return
    got = frames.header_value(headers, "sec-websocket-accept")
    if got != frames.accept_key(key):
        ctx.result.mark(FAILED, f"Sec-WebSocket-Accept {got!r}, expected "
                                f"{frames.accept_key(key)!r}")
        return
    s = _session(ctx)
    try:
        if first is None:
            first = b"echo after the handshake"
            ctx.peer.send(frame(s, OP_TEXT, first))
        expect(s, ("message", OP_TEXT, first))
        close_normally(s)
    except CaseFailed:
        pass


def refused(ctx, what, lenient=False):
    """lenient: accepting is NON-STRICT, not FAILED (an HTTP-level rule that HTTP stacks
    commonly leave to the application: Node ws accepts these)."""
    status, headers = read_response(ctx)
    if status is None:
        ctx.result.mark(NON_STRICT if "closed" in headers else FAILED, f"{what}: {headers}")
    elif status == 101:
        ctx.result.mark(NON_STRICT if lenient else FAILED, f"{what} was accepted (101)")
    elif not 400 <= status < 500:
        ctx.result.mark(FAILED, f"{what} was answered with {status}, expected a 4xx")
    else:
        ctx.result.info.append(f"refused with {status}")
    return status, headers


# --- bodies -------------------------------------------------------------------------------
def valid_body(ctx):
    data, key = request(ctx)
    ctx.peer.send(data)
    accepted(ctx, key)


def refusal_body(what, lenient=False, **kw):
    def body(ctx):
        data, _ = request(ctx, **kw)
        ctx.peer.send(data)
        refused(ctx, what, lenient)
    return body


def wrong_version_body(ctx):
    # 25 as in RFC 6455 4.4's example: 8 (hybi-08) is still spoken by some servers (ws).
    data, _ = request(ctx, replace={"sec-websocket-version": "Sec-WebSocket-Version: 25"})
    ctx.peer.send(data)
    status, headers = refused(ctx, "Sec-WebSocket-Version: 25")
    if status is None or status == 101:
        return
    versions = frames.header_value(headers, "sec-websocket-version")
    if not versions or "13" not in [v.strip() for v in versions.split(",")]:
        ctx.result.mark(FAILED, f"{status} without Sec-WebSocket-Version: 13 (RFC 6455 4.4), "
                                f"got {versions!r}")
    elif status != 426:
        ctx.result.mark(NON_STRICT, f"refused with {status}, 426 Upgrade Required expected")


def byte_by_byte_body(ctx):
    data, key = request(ctx)
    for i in range(len(data)):
        ctx.peer.send(data[i:i + 1])
    accepted(ctx, key)


def frame_with_request_body(ctx):
    data, key = request(ctx)
    first = b"a frame in the same segment as the handshake"
    ctx.peer.send(data + frames.encode_frame(OP_TEXT, first, mask=True))
    accepted(ctx, key, first)


def spelling_body(ctx):
    key = _key()
    lines = [f"GET {ctx.path} HTTP/1.1", f"host: {ctx.host}:{ctx.port}", "upgrade: WebSocket",
             "connection: keep-alive, Upgrade", f"sec-websocket-key: {key}",
             "SEC-WEBSOCKET-VERSION: 13", "User-Agent: wsconform"]
    ctx.peer.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    accepted(ctx, key)


def big_headers_body(ctx):
    extra = [f"X-Filler-{i:04d}: {'x' * 100}" for i in range(64 * 1024 // 116 + 1)]
    data, key = request(ctx, extra=extra)
    try:
        ctx.peer.send(data)
    except (frames.PeerClosed, frames.Timeout) as e:
        ctx.result.info.append(f"sending {len(data)} bytes of request failed: {e}")
    status, headers = read_response(ctx)
    if status is None:
        ctx.result.mark(NON_STRICT if "closed" in headers else FAILED,
                        f"a {len(data)}-byte request: {headers}")
    elif status == 101:
        ctx.result.info.append(f"a {len(data)}-byte request was accepted")
        s = _session(ctx)
        try:
            ctx.peer.send(frame(s, OP_TEXT, b"after 64 KiB of headers"))
            expect(s, ("message", OP_TEXT, b"after 64 KiB of headers"))
            close_normally(s)
        except CaseFailed:
            return
    elif 400 <= status < 500:
        ctx.result.info.append(f"a {len(data)}-byte request was refused with {status}")
    else:
        ctx.result.mark(FAILED, f"a {len(data)}-byte request was answered with {status}")
    # The server must still serve: a normal connection next.
    ctx.peer.sock.close()
    ctx.peer = ctx.connect()
    try:
        data, key = request(ctx)
        ctx.peer.send(data)
        accepted(ctx, key)
    finally:
        ctx.peer.sock.close()


def build():
    cases = [Case("hs.1", "a correct opening handshake",
                  "GET with Host, Upgrade, Connection, a fresh Sec-WebSocket-Key and version "
                  "13: 101 with the matching Sec-WebSocket-Accept, then an echo.", None,
                  raw=valid_body)]
    refusals = [
        ("no Sec-WebSocket-Key", {"drop": ("sec-websocket-key",)}),
        ("a Sec-WebSocket-Key of 8 bytes", {"key": base64.b64encode(b"12345678").decode()}),
        ("a Sec-WebSocket-Key that is not base64", {"key": "not a base64 key!!!!!!=="}),
        ("no Host", {"drop": ("host",), "lenient": True}),
        ("POST instead of GET", {"method": "POST"}),
        ("HTTP/1.0", {"version": "HTTP/1.0", "lenient": True}),
        ("no Upgrade header", {"drop": ("upgrade",)}),
        ("Connection: keep-alive (no upgrade token)",
         {"replace": {"connection": "Connection: keep-alive"}}),
        ("no Sec-WebSocket-Version", {"drop": ("sec-websocket-version",)}),
    ]
    for i, (what, kw) in enumerate(refusals, 2):
        cases.append(Case(f"hs.{i}", f"request with {what}",
                          f"An upgrade request with {what} is not a valid opening handshake "
                          "(RFC 6455 4.2.1): refused with a 4xx; a 101 is " +
                          ("NON-STRICT (an HTTP-level rule)." if kw.get("lenient") else
                           "FAILED."), None,
                          raw=refusal_body(f"a request with {what}", **kw)))
    n = len(cases) + 1
    for i, (title, desc, body) in enumerate([
        ("Sec-WebSocket-Version: 25", "An unsupported version: 426 Upgrade Required with "
         "Sec-WebSocket-Version: 13 (RFC 6455 4.2.2, 4.4).", wrong_version_body),
        ("request written one byte at a time", "The whole request in 1-byte writes: 101, "
         "then an echo.", byte_by_byte_body),
        ("a frame in the same segment as the request", "The request and a masked text frame "
         "in one write: 101, then the echo of that frame (it must not be lost).",
         frame_with_request_body),
        ("header names and values spelled differently", "Lower/upper case header names, "
         "'Upgrade: WebSocket', 'Connection: keep-alive, Upgrade': 101, then an echo.",
         spelling_body),
        ("64 KiB of headers", "A request with 64 KiB of extra headers: accepted (then an "
         "echo) or refused with a 4xx; afterwards a normal connection must succeed.",
         big_headers_body),
    ], n):
        cases.append(Case(f"hs.{i}", title, desc, None, raw=body))
    for c in cases:
        c.roles = ("server",)
    return cases


CASES = build()
