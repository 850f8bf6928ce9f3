"""Shared harness of the Python interop tests (not a test itself).

Each test script defines CASES (name -> async function taking a Context) and calls
main(CASES). A run executes one case (--case NAME) against servers it starts itself:

    /usr/bin/python3 test_echo.py --server build/bin/aerie-test-server \
        --cli build/bin/aerie --workers 2 --case text_sizes

Exit codes: 0 pass, 1 failure (with a message saying what the peer saw and what was
expected), 77 skip: a known server bug (KNOWN_BUGS of the script; set
AERIE_INTEROP_STRICT=1 to make those fail instead).

Must run with Debian's /usr/bin/python3 (python3-websockets); the legacy asyncio API of
websockets 10.x is used because that is what Debian ships.
"""

import argparse
import asyncio
import base64
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import websockets
    import websockets.exceptions
except ImportError:  # pragma: no cover - environment problem, say so clearly
    print("FAIL: python3-websockets is not installed for " + sys.executable +
          " (scripts/deps.sh test installs it; run with /usr/bin/python3)")
    sys.exit(1)

SKIP = 77
LISTENING = re.compile(r"aerie listening on http://([0-9.]+):(\d+) \((\d+) workers\)")

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class TestFailure(Exception):
    """A check failed: the message says what the peer saw and what was expected."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def check_eq(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: got {short(actual)}, expected {short(expected)}")


def short(value, limit=200):
    text = repr(value)
    if len(text) <= limit:
        return text
    extra = f" ({len(value)} long)" if hasattr(value, "__len__") else ""
    return text[:limit] + "..." + extra


def die_with_parent():
    """In the child: SIGKILL when the test process dies, even by SIGKILL (a CTest timeout),
    so no server outlives its test."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    """A server process started for one case; stderr goes to a file shown on failure."""

    def __init__(self, binary, args, workers, name="server"):
        self.name = name
        self.workers = workers
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="aerie-interop-", suffix=".log",
                                                       delete=False)
        cmd = [binary] + list(args)
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                     stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.port = self._wait_listening(10.0)
        self.exit_code = None

    def _wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        buffered = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buffered += chunk
                match = LISTENING.search(buffered.decode(errors="replace"))
                if match:
                    if int(match.group(3)) != self.workers:
                        self.kill()
                        raise TestFailure(f"{self.name} reports {match.group(3)} workers, "
                                          f"expected {self.workers}")
                    return int(match.group(2))
            if self.proc.poll() is not None:
                break
        self.kill()
        raise TestFailure(f"{self.name} did not print its listening line within {timeout} s "
                          f"(exit {self.proc.poll()}, stdout {buffered!r}): {' '.join(self.cmd)}\n"
                          + self.stderr_tail())

    def url(self, path):
        return f"ws://127.0.0.1:{self.port}{path}"

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout=10.0):
        """SIGTERM; returns the exit code (raises if the server does not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise TestFailure(f"{self.name} did not exit within {timeout} s of SIGTERM")
        self.exit_code = self.proc.returncode
        return self.exit_code

    async def terminate_async(self, timeout=10.0):
        """SIGTERM without blocking the event loop (clients keep running meanwhile)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise TestFailure(f"{self.name} did not exit within {timeout} s of SIGTERM")
            await asyncio.sleep(0.02)
        self.exit_code = self.proc.returncode
        return self.exit_code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_tail(self, lines=40):
        try:
            with open(self.stderr_file.name, "rb") as f:
                text = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        tail = text[-lines:]
        return f"--- {self.name} stderr (last {len(tail)} lines) ---\n" + "\n".join(tail)

    def cleanup(self):
        self.kill()
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        try:
            os.unlink(self.stderr_file.name)
        except OSError:
            pass


class Context:
    def __init__(self, args):
        self.args = args
        self.workers = args.workers
        self.servers = []
        self.tmpdir = tempfile.mkdtemp(prefix="aerie-interop-")

    def server(self, *extra, events_file=None):
        """Starts aerie-test-server with --workers N plus `extra` flags."""
        args = ["--port", "0", "--host", "127.0.0.1", "--workers", str(self.workers)]
        if events_file:
            args += ["--events-file", events_file]
        server = Server(self.args.server, args + [str(a) for a in extra], self.workers,
                        "aerie-test-server")
        self.servers.append(server)
        return server

    def cli(self, *extra):
        """Starts `aerie serve` (the command-line tool) with --workers N plus `extra` flags."""
        check(self.args.cli, "this case needs --cli PATH (the aerie binary)")
        args = ["serve", "--port", "0", "--host", "127.0.0.1", "--workers", str(self.workers)]
        server = Server(self.args.cli, args + [str(a) for a in extra], self.workers, "aerie serve")
        self.servers.append(server)
        return server

    def path(self, name):
        return os.path.join(self.tmpdir, name)


def connect(url, **kwargs):
    """websockets.connect with test defaults: no keepalive pings, bounded timeouts."""
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("open_timeout", 5)
    kwargs.setdefault("close_timeout", 5)
    return websockets.connect(url, **kwargs)


async def recv(ws, timeout=5.0, what="a message"):
    try:
        return await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        raise TestFailure(f"timed out after {timeout} s waiting for {what}")
    except websockets.exceptions.ConnectionClosed as e:
        raise TestFailure(f"connection closed ({e.code} {e.reason!r}) while waiting for {what}")


async def expect_closed(ws, code, reason=None, timeout=5.0, what="the close"):
    """Reads until the connection closes; checks the close code (and reason) the peer saw.
    Returns the data messages received meanwhile."""
    received = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise asyncio.TimeoutError
            received.append(await asyncio.wait_for(ws.recv(), remaining))
    except asyncio.TimeoutError:
        raise TestFailure(f"{what}: connection still open after {timeout} s, expected close "
                          f"{code}; received {short(received)}")
    except websockets.exceptions.ConnectionClosed:
        pass
    check_eq(ws.close_code, code, f"{what}: close code seen by the client")
    if reason is not None:
        check_eq(ws.close_reason, reason, f"{what}: close reason seen by the client")
    return received


async def wait_until(predicate, timeout, what, interval=0.05):
    """Polls an async predicate until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TestFailure(f"timed out after {timeout} s waiting for {what}; last value {short(last)}")


# --- A raw client over asyncio streams, for what websockets will not do (ignore pings,
# never read, send invalid frames, look at individual frames).

class RawClient:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.status = None
        self.headers = {}
        self.body = b""

    @classmethod
    async def open(cls, port, path, extra_headers=(), rcvbuf=None, handshake=True, timeout=5.0,
                   limit=2 ** 26):
        """`rcvbuf` shrinks the socket's receive buffer and `limit` the stream's, for a
        client that reads slowly (asyncio stops reading the socket beyond 2 * limit)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), timeout)
        reader, writer = await asyncio.open_connection(sock=sock, limit=limit)
        client = cls(reader, writer)
        if handshake:
            await client.handshake(path, extra_headers, timeout)
        return client

    async def handshake(self, path, extra_headers=(), timeout=5.0, early=b""):
        """`early`: bytes (frames) sent in the same write as the request."""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"] + list(extra_headers)
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + early)
        await self.writer.drain()
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            raise TestFailure(f"no complete handshake response to GET {path}: {e!r}")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers[name.strip().lower()] = value.strip()
        if self.status != 101 and "content-length" in self.headers:
            length = int(self.headers["content-length"])
            self.body = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        return self.status

    @staticmethod
    def frame(opcode, payload=b"", fin=True, rsv=0, mask=True):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
        length = len(payload)
        mask_bit = 0x80 if mask else 0
        if length < 126:
            head.append(mask_bit | length)
        elif length < 65536:
            head.append(mask_bit | 126)
            head += struct.pack("!H", length)
        else:
            head.append(mask_bit | 127)
            head += struct.pack("!Q", length)
        if not mask:
            return bytes(head) + payload
        key = os.urandom(4)
        return bytes(head) + key + mask_bytes(payload, key)

    @staticmethod
    def close_payload(code, reason=b""):
        if isinstance(reason, str):
            reason = reason.encode()
        return struct.pack("!H", code) + reason

    async def send_raw(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def send_frame(self, opcode, payload=b"", fin=True, rsv=0):
        await self.send_raw(self.frame(opcode, payload, fin, rsv))

    async def recv_frame(self, timeout=5.0, what="a frame"):
        """(fin, opcode, payload); raises TestFailure on timeout or EOF."""
        try:
            b0, b1 = await asyncio.wait_for(self.reader.readexactly(2), timeout)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            check(not (b1 & 0x80), f"{what}: the server sent a masked frame")
            payload = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        except asyncio.TimeoutError:
            raise TestFailure(f"timed out after {timeout} s waiting for {what}")
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            raise TestFailure(f"connection ended while waiting for {what}: {e!r}")
        return bool(b0 & 0x80), b0 & 0x0F, payload

    async def recv_message(self, timeout=5.0, what="a message", answer_pings=True):
        """Reassembles a data message: (opcode, payload, frame_count)."""
        opcode, data, frames = None, b"", 0
        while True:
            fin, op, payload = await self.recv_frame(timeout, what)
            if op == OP_PING:
                if answer_pings:
                    await self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                raise TestFailure(f"got a close frame {parse_close(payload)} while waiting for {what}")
            frames += 1
            if opcode is None:
                check(op in (OP_TEXT, OP_BINARY), f"{what}: first frame has opcode {op}")
                opcode = op
            else:
                check_eq(op, OP_CONT, f"{what}: opcode of a continuation frame")
            data += payload
            if fin:
                return opcode, data, frames

    async def expect_close(self, timeout=5.0, what="the close frame", skip_data=True):
        """Reads frames until a close frame; returns (code, reason, data frames skipped)."""
        skipped = 0
        while True:
            fin, op, payload = await self.recv_frame(timeout, what)
            if op == OP_CLOSE:
                code, reason = parse_close(payload)
                return code, reason, skipped
            check(skip_data, f"{what}: got opcode {op} ({short(payload)}) before the close")
            skipped += 1

    async def wait_eof(self, timeout=5.0, what="the server to close TCP"):
        """Reads and discards until EOF; returns the seconds it took."""
        start = time.monotonic()
        try:
            while True:
                remaining = timeout - (time.monotonic() - start)
                if remaining <= 0:
                    raise asyncio.TimeoutError
                chunk = await asyncio.wait_for(self.reader.read(65536), remaining)
                if not chunk:
                    return time.monotonic() - start
        except asyncio.TimeoutError:
            raise TestFailure(f"timed out after {timeout} s waiting for {what}")
        except ConnectionError:
            return time.monotonic() - start

    def abort(self):
        """Drops TCP without a close frame (RST)."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.close()

    async def close(self):
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (asyncio.TimeoutError, ConnectionError):
            pass


def mask_bytes(payload, key):
    if not payload:
        return b""
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(n, "little")


def parse_close(payload):
    if len(payload) < 2:
        return 1005, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


async def http_get(port, path, timeout=5.0):
    """A plain HTTP/1.1 GET with WebSocket upgrade headers: (status, headers, body)."""
    client = await RawClient.open(port, path, handshake=False)
    try:
        await client.handshake(path, timeout=timeout)
        return client.status, client.headers, client.body
    finally:
        await client.close()


async def events_dump(server):
    """The test server's event log (through /events' "dump" command), as a list of lines."""
    async with connect(server.url("/events")) as ws:
        await recv(ws, what="the id of the /events client")
        await ws.send("dump")
        return (await recv(ws, what="the event dump")).split("\n")


def known_bug(case, bugs):
    return bugs.get(case) if os.environ.get("AERIE_INTEROP_STRICT") != "1" else None


def main(cases, known_bugs=None):
    known_bugs = known_bugs or {}
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="aerie-test-server binary")
    parser.add_argument("--cli", help="aerie binary (aerie serve)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--case", required=True, choices=sorted(cases))
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds before the watchdog fails the case (keep below CTest's)")
    args = parser.parse_args()
    timeout = max(int(args.timeout), 10)

    ctx = Context(args)

    def watchdog(*_):  # a hard bound: nothing may hang a CI run
        print(f"FAIL: {args.case}: watchdog: still running after {timeout} s", flush=True)
        for server in ctx.servers:
            server.kill()
            print(server.stderr_tail(), flush=True)
        shutil.rmtree(ctx.tmpdir, ignore_errors=True)
        os._exit(1)
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(timeout)
    started = time.monotonic()
    failure = None
    try:
        asyncio.run(asyncio.wait_for(cases[args.case](ctx), timeout - 5))
        # Every server a case leaves running must still be alive and stop cleanly (exit 0).
        for server in ctx.servers:
            if server.exit_code is None:
                check(server.alive(), f"{server.name} died during the case "
                                      f"(exit {server.proc.poll()})")
                code = server.terminate()
                check_eq(code, 0, f"{server.name} exit code after SIGTERM")
    except TestFailure as e:
        failure = str(e)
    except asyncio.TimeoutError:
        failure = f"case timed out after {timeout - 5} s"
    except Exception:  # an unexpected client-side error is a failure too, with its trace
        failure = "unexpected exception:\n" + traceback.format_exc()
    finally:
        for server in ctx.servers:
            server.kill()
        shutil.rmtree(ctx.tmpdir, ignore_errors=True)  # CI runs thousands of cases
    elapsed = time.monotonic() - started
    name = f"{os.path.basename(sys.argv[0])} {args.case} (workers {args.workers})"
    bug = known_bug(args.case, known_bugs)
    if failure is None:
        for server in ctx.servers:
            server.cleanup()
        if bug:
            print(f"PASS: {name} in {elapsed:.2f} s -- note: listed as known bug ({bug}) but "
                  "passed: remove it from KNOWN_BUGS")
        else:
            print(f"PASS: {name} in {elapsed:.2f} s")
        sys.exit(0)
    for server in ctx.servers[-3:]:  # the last ones: a case may start many
        print(server.stderr_tail())
    for server in ctx.servers:
        server.cleanup()
    if bug:
        print(f"SKIP: bug {bug}\n  ({name}: {failure})")
        sys.exit(SKIP)
    print(f"FAIL: {name}: {failure}")
    sys.exit(1)
