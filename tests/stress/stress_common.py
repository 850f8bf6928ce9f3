"""What the hostile-load drivers share: starting and stopping a server under test, reading
its memory and open descriptors from /proc, and a minimal WebSocket client over raw asyncio
streams (or plain sockets), so a test controls every byte and every close itself.

No third-party package: a hostile client must be able to send what a library refuses to
(half a frame, a 2 GiB length, a handshake cut in two), and thousands of them must stay
cheap enough that the driver is not the bottleneck."""

import argparse
import asyncio
import base64
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
KIB, MIB = 1024, 1024 * 1024
LISTENING = re.compile(r"aerie listening on http://([0-9.]+):(\d+) \((\d+) workers\)")
# What a sanitizer or a crash writes on stderr; any of it fails the test.
SANITIZER_REPORT = re.compile(r"Sanitizer|runtime error:|==\d+==ERROR|terminate called")
SANITIZED = os.environ.get("AERIE_STRESS_SANITIZED") == "1"


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def figure(name, value):
    """A measured figure, in one greppable format (README.md quotes these lines)."""
    print(f"FIGURE {name}: {value}", flush=True)


def raise_nofile():
    """Soft RLIMIT_NOFILE up to the hard limit; the server, started afterwards, inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib(pid):
    return _status_field(pid, "VmRSS:")


def peak_rss_kib(pid):
    return _status_field(pid, "VmHWM:")


def _status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    raise TestFailure(f"no {name} in /proc/{pid}/status")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Server:
    """A server process on 127.0.0.1, port 0: the port comes from its "listening" line."""

    def __init__(self, binary, *args, cli=False):
        argv = [binary]
        if cli:
            argv.append("serve")
        argv += ["--host", "127.0.0.1", "--port", "0", "--workers", "1"]
        argv += [str(a) for a in args]
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                     text=True)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            match = LISTENING.search(line)
            if match:
                self.port = int(match.group(2))
                print(f"server: {' '.join(argv)} -> port {self.port}, pid {self.pid}", flush=True)
                return
        self.proc.kill()
        raise TestFailure(f"server did not report its port (last line {line!r}): {self.stderr()}")

    def stderr(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM -> graceful stop. Fails on a non-zero exit status or a sanitizer report on
        stderr (under ASan, LeakSanitizer reports leaks at this exit). Returns stdout's rest."""
        check(self.alive(), f"the server died during the test (status {self.proc.returncode}): "
                            f"{self.stderr()[-3000:]}")
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure(f"the server did not stop within {timeout} s of SIGTERM")
        err = self.stderr()
        check(self.proc.returncode == 0,
              f"the server exited with status {self.proc.returncode}: {err[-3000:]}")
        check(not SANITIZER_REPORT.search(err), f"sanitizer report from the server:\n{err[-6000:]}")
        print(f"server stopped: status 0{', no sanitizer report' if SANITIZED else ''}",
              flush=True)
        return out

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


# --- WebSocket framing -----------------------------------------------------------------


def mask_bytes(payload, key):
    if not payload:
        return b""
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def frame(opcode, payload=b"", fin=True, length=None):
    """A masked client frame; `length` announces a different payload length than sent."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_frame(code=1000, reason=b""):
    return frame(OP_CLOSE, struct.pack("!H", code) + reason)


def handshake_request(path, port):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n\r\n").encode()


class Client:
    """One WebSocket client over asyncio streams (server frames are never masked)."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port, path, timeout=10, rcvbuf=None):
        sock = None
        if rcvbuf is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), timeout)
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(handshake_request(path, port))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        check(head.startswith(b"HTTP/1.1 101"), f"handshake to {path} answered {head[:80]!r}")
        return cls(reader, writer)

    async def send(self, opcode, payload):
        self.writer.write(frame(opcode, payload))
        await self.writer.drain()

    async def read_frame(self):
        b0, b1 = await self.reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        check(not b1 & 0x80, "the server sent a masked frame")
        return bool(b0 & 0x80), b0 & 0x0F, await self.reader.readexactly(n)

    async def recv(self, timeout=10, what="a message"):
        """The next data message (opcode, payload), answering pings; a close frame returns
        (OP_CLOSE, payload)."""
        async def receive():
            opcode, parts = None, []
            while True:
                fin, op, data = await self.read_frame()
                if op == OP_PING:
                    self.writer.write(frame(OP_PONG, data))
                    continue
                if op == OP_PONG:
                    continue
                if op == OP_CLOSE:
                    return OP_CLOSE, data
                if op != OP_CONT:
                    opcode = op
                parts.append(data)
                if fin:
                    return opcode, b"".join(parts)
        try:
            return await asyncio.wait_for(receive(), timeout)
        except asyncio.TimeoutError:
            raise TestFailure(f"no {what} within {timeout} s") from None
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            raise TestFailure(f"connection lost while waiting for {what}: {e!r}") from None

    async def echo(self, payload, opcode=OP_BINARY, timeout=10):
        await self.send(opcode, payload)
        got_opcode, got = await self.recv(timeout, "an echo")
        check(got_opcode == opcode and got == payload,
              f"echo mismatch: sent {len(payload)} bytes opcode {opcode}, got {len(got)} bytes "
              f"opcode {got_opcode}")

    async def close(self, timeout=10):
        """Client-initiated close handshake; then waits for the server to end the TCP
        connection (it closes first, so TIME_WAIT stays on the server's side)."""
        try:
            self.writer.write(close_frame(1000))
            opcode, _ = await self.recv(timeout, "the close frame")
            check(opcode == OP_CLOSE, f"got opcode {opcode} instead of the close frame")
            rest = await asyncio.wait_for(self.reader.read(), timeout)
            check(rest == b"", f"{len(rest)} bytes after the close frame")
        finally:
            self.abort()

    def abort(self):
        self.writer.transport.abort()


def blocking_handshake(port, path, rcvbuf=None, timeout=10):
    """A plain blocking socket after a completed handshake: nothing reads it unless the test
    does (an asyncio stream would keep reading into its buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    sock.sendall(handshake_request(path, port))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: nothing after the head may be consumed
        check(chunk, "connection closed during the handshake")
        head += chunk
    check(head.startswith(b"HTTP/1.1 101"), f"handshake to {path} answered {head[:80]!r}")
    return sock


def set_linger_zero(sock):
    """close() then sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def http_get(port, path, timeout=10):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), f"GET {path} answered {head[:80]!r}")
    return body


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(cases):
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="the server binary under test")
    parser.add_argument("--case", required=True, choices=sorted(cases))
    parser.add_argument("--timeout", type=float, default=120, help="watchdog, seconds")
    args = parser.parse_args()
    raise_nofile()
    ctx = Context(args.server)

    async def run():
        await asyncio.wait_for(cases[args.case](ctx), args.timeout)

    started = time.monotonic()
    try:
        asyncio.run(run())
    except asyncio.TimeoutError:
        print(f"FAIL: {args.case}: watchdog: not done within {args.timeout} s", flush=True)
        ctx.kill_all()
        sys.exit(1)
    except TestFailure as e:
        print(f"FAIL: {args.case}: {e}", flush=True)
        ctx.kill_all()
        sys.exit(1)
    except BaseException:
        ctx.kill_all()
        raise
    ctx.kill_all()
    print(f"PASS: {args.case} ({time.monotonic() - started:.1f} s)", flush=True)


class Context:
    def __init__(self, binary):
        self.binary = binary
        self.servers = []

    def server(self, *args, cli=False):
        server = Server(self.binary, *args, cli=cli)
        self.servers.append(server)
        return server

    def kill_all(self):
        for server in self.servers:
            server.kill()
