"""WebSocket frames (RFC 6455 section 5), opening handshakes and a strict raw-socket peer.

The peer reads incrementally with deadlines: every read is bounded, so a testee that
stops answering turns into a verdict, never a hang. Everything the testee sends is checked
here against the framing rules that do not depend on the case (masking direction, reserved
bits, control frame sizes, fragmentation order); the cases judge the rest.
"""

import base64
import hashlib
import os
import socket
import struct
import time

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DATA_OPCODES = (OP_TEXT, OP_BINARY)
CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class ProtocolViolation(Exception):
    """The testee broke a framing rule (always a FAILED verdict)."""


class PeerClosed(Exception):
    """The TCP connection ended (EOF or reset) while we expected more."""


class Timeout(Exception):
    """The testee did not send what we waited for in time."""


class Frame:
    __slots__ = ("fin", "rsv1", "rsv2", "rsv3", "opcode", "masked", "payload")

    def __init__(self, fin, rsv1, rsv2, rsv3, opcode, masked, payload):
        self.fin, self.rsv1, self.rsv2, self.rsv3 = fin, rsv1, rsv2, rsv3
        self.opcode, self.masked, self.payload = opcode, masked, payload

    def __repr__(self):
        return (f"Frame(op={self.opcode:#x} fin={int(self.fin)} rsv1={int(self.rsv1)} "
                f"masked={int(self.masked)} len={len(self.payload)})")


class Message:
    """A reassembled data message as it was on the wire (payload still compressed if rsv1)."""

    def __init__(self, opcode, rsv1, payload, frames):
        self.opcode, self.rsv1, self.payload, self.frames = opcode, rsv1, payload, frames


class Close:
    def __init__(self, code, reason, raw):
        self.code, self.reason, self.raw = code, reason, raw

    def __repr__(self):
        return f"close {self.code if self.code is not None else '(no code)'} {self.reason!r}"


def mask_bytes(data, key):
    """XOR with the 4-byte key, as one big integer operation (fast enough for MiBs)."""
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload, fin=True, rsv1=False, rsv2=False, rsv3=False, mask=False,
                 mask_key=None):
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | \
         (0x10 if rsv3 else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_payload(code, reason=b""):
    return b"" if code is None else struct.pack("!H", code) + reason


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + WS_GUID).digest()).decode("ascii")


def parse_http_head(head):
    """'HTTP/1.1 101 ...' or 'GET / HTTP/1.1' plus headers -> (start line, {lower name: [values]})."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], headers


def header_value(headers, name):
    """All field lines of a header joined as one list (RFC 9110 5.3), or None."""
    values = headers.get(name.lower())
    return ", ".join(values) if values else None


class Peer:
    """Our end of one WebSocket connection over a blocking socket with deadlines.

    role is OUR role: 'client' masks what it sends and requires unmasked frames from the
    testee (a server); 'server' the reverse.
    """

    def __init__(self, sock, role, timeout=10.0):
        self.sock = sock
        self.role = role
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.pings_answered = 0
        self.frames_received = 0
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- raw reading --------------------------------------------------------------------
    def _recv_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout("timed out waiting for the testee")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 18)
        except socket.timeout:
            raise Timeout("timed out waiting for the testee") from None
        except (ConnectionResetError, BrokenPipeError) as e:
            self.eof = True
            raise PeerClosed(f"connection reset ({e})") from None
        if not chunk:
            self.eof = True
            raise PeerClosed("the testee closed the TCP connection")
        self.buf += chunk

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._recv_some(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_http_head(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buf[:end])
                del self.buf[:end + 4]
                return head
            if len(self.buf) > 65536:
                raise ProtocolViolation("HTTP head larger than 64 KiB")
            self._recv_some(deadline)

    def wait_eof(self, timeout):
        """True if the testee closes the TCP connection within timeout (data is discarded)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._recv_some(deadline)
                self.buf.clear()
        except PeerClosed:
            return True
        except Timeout:
            return False

    # --- frames -------------------------------------------------------------------------
    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        b0, b1 = self._take(2, deadline)
        fin, rsv1, rsv2, rsv3 = bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10)
        opcode, masked, n = b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._take(2, deadline))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._take(8, deadline))
            if n >> 63:
                raise ProtocolViolation("64-bit payload length with the most significant bit set")
        if opcode not in DATA_OPCODES + CONTROL_OPCODES + (OP_CONT,):
            raise ProtocolViolation(f"reserved opcode {opcode:#x}")
        if opcode in CONTROL_OPCODES and (n > 125 or not fin):
            raise ProtocolViolation(f"control frame {opcode:#x} fragmented or longer than 125")
        want_masked = self.role == "server"
        if masked != want_masked:
            who = "client" if want_masked else "server"
            raise ProtocolViolation(f"{who} frame {'not ' if want_masked else ''}masked")
        key = self._take(4, deadline) if masked else None
        payload = self._take(n, deadline)
        if masked:
            payload = mask_bytes(payload, key)
        self.frames_received += 1
        return Frame(fin, rsv1, rsv2, rsv3, opcode, masked, payload)

    def send(self, data):
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise Timeout("timed out sending (the testee stopped reading)") from None
        except (ConnectionResetError, BrokenPipeError) as e:
            raise PeerClosed(f"connection reset while sending ({e})") from None

    def frame(self, opcode, payload, fin=True, rsv1=False, rsv2=False, rsv3=False):
        """A frame as our role sends it (masked from a client)."""
        return encode_frame(opcode, payload, fin, rsv1, rsv2, rsv3, mask=self.role == "client")

    def send_frame(self, opcode, payload, **kw):
        self.send(self.frame(opcode, payload, **kw))

    def send_close(self, code=1000, reason=b""):
        self.send_frame(OP_CLOSE, close_payload(code, reason))

    def read_message(self, rsv1_allowed, timeout=None):
        """The next data message or Close. Pings are answered, pongs skipped.

        Checks the rules every message obeys: RSV2/RSV3 never set (no extension here
        defines them), RSV1 only when permessage-deflate is agreed and then only on the
        first frame of a data message (RFC 7692 6), continuation frames in order.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        frames = []
        while True:
            f = self.read_frame(max(0.001, deadline - time.monotonic()))
            if f.rsv2 or f.rsv3:
                raise ProtocolViolation(f"RSV2/RSV3 set without an extension defining them: {f}")
            if f.rsv1:
                if not rsv1_allowed:
                    raise ProtocolViolation(f"RSV1 set without permessage-deflate agreed: {f}")
                if f.opcode in CONTROL_OPCODES:
                    raise ProtocolViolation(f"RSV1 set on a control frame: {f}")
                if f.opcode == OP_CONT:
                    raise ProtocolViolation(f"RSV1 set on a continuation frame: {f}")
            if f.opcode == OP_PING:
                self.pings_answered += 1
                self.send_frame(OP_PONG, f.payload)
                continue
            if f.opcode == OP_PONG:
                continue
            if f.opcode == OP_CLOSE:
                return parse_close(f.payload)
            if f.opcode == OP_CONT and not frames:
                raise ProtocolViolation("continuation frame without a message started")
            if f.opcode != OP_CONT and frames:
                raise ProtocolViolation(f"new data frame inside a fragmented message: {f}")
            frames.append(f)
            if f.fin:
                payload = b"".join(x.payload for x in frames)
                return Message(frames[0].opcode, frames[0].rsv1, payload, frames)


def parse_close(payload):
    if len(payload) == 0:
        return Close(None, "", payload)
    if len(payload) == 1:
        raise ProtocolViolation("close frame with a 1-byte payload")
    (code,) = struct.unpack("!H", payload[:2])
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolViolation("close reason is not valid UTF-8") from None
    return Close(code, reason, payload)


def valid_close_code(code):
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) or \
        3000 <= code <= 4999


# --- opening handshakes ------------------------------------------------------------------
def client_handshake(peer, host, port, path, extensions=None, timeout=None):
    """Sends a GET upgrade; returns (status code, headers). Checks Sec-WebSocket-Accept on 101."""
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if extensions is not None:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    peer.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    start, headers = parse_http_head(peer.read_http_head(timeout))
    parts = start.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ProtocolViolation(f"bad status line {start!r}")
    status = int(parts[1])
    if status == 101 and header_value(headers, "sec-websocket-accept") != accept_key(key):
        raise ProtocolViolation("wrong Sec-WebSocket-Accept")
    return status, headers


def server_read_request(peer, timeout=None):
    """Reads the client's upgrade request; returns (request line, headers)."""
    start, headers = parse_http_head(peer.read_http_head(timeout))
    if not start.startswith("GET "):
        raise ProtocolViolation(f"not a GET upgrade: {start!r}")
    if header_value(headers, "sec-websocket-version") != "13":
        raise ProtocolViolation("Sec-WebSocket-Version is not 13")
    if not header_value(headers, "sec-websocket-key"):
        raise ProtocolViolation("no Sec-WebSocket-Key")
    return start, headers


def server_accept(peer, headers, extensions=None):
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_key(header_value(headers, 'sec-websocket-key'))}"]
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    peer.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
