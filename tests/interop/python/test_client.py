"""The aerie CLIENT against Python's websockets server (Debian python3-websockets).

Each case starts a websockets server on 127.0.0.1 port 0 in this process and runs one of two
programs built on the client against it, as a subprocess:

- the aerie-interop-client driver (tests/interop/client_driver.cpp), cases without a prefix:
  it echoes every message with its type until the connection closes, then prints how it
  closed on stdout;
- the aerie-cat tool (tools/aerie-cat, docs/client-cli.md), cases "cat.*": `--echo` for the
  echo cases, stdin lines out and messages printed for "cat.interactive".

The server decides what happens and checks what comes back.

    /usr/bin/python3 test_client.py --driver PATH --case echo [--timeout S]
    /usr/bin/python3 test_client.py --cat PATH --case cat.echo [--timeout S]
"""

import argparse
import asyncio
import base64
import http
import os
import signal
import sys
import time
import traceback

import websockets

from aerie_interop import die_with_parent

MIB = 1024 * 1024


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Client:
    """A client program run as a subprocess; stdout and stderr are collected as they come."""

    def __init__(self, argv, stdin=False):
        self.argv, self.stdin = argv, stdin
        self.out, self.err = bytearray(), bytearray()

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE if self.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent)
        self.readers = [asyncio.ensure_future(self._collect(self.proc.stdout, self.out)),
                        asyncio.ensure_future(self._collect(self.proc.stderr, self.err))]
        self.exited = asyncio.ensure_future(self.proc.wait())
        return self

    @staticmethod
    async def _collect(stream, into):
        while chunk := await stream.read(65536):
            into += chunk

    @property
    def stdout(self):
        return self.out.decode(errors="replace")

    @property
    def stderr(self):
        return self.err.decode(errors="replace")

    def describe(self):
        code = self.proc.returncode
        return (f"{os.path.basename(self.argv[0])} {'running' if code is None else f'exit {code}'}"
                f"; stdout {self.stdout[-2000:]!r}; stderr {self.stderr[-2000:]!r}")

    async def wait_stdout(self, text, timeout=5):
        """Waits until stdout holds `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.stdout:
            check(time.monotonic() < deadline, f"no {text!r} on stdout within {timeout} s")
            await asyncio.sleep(0.02)

    async def write(self, data, close=False):
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()
        if close:
            self.proc.stdin.close()

    async def finish(self, timeout=10):
        """Waits for the exit and the end of its output; returns the exit code."""
        try:
            await asyncio.wait_for(asyncio.shield(self.exited), timeout)
        except asyncio.TimeoutError:
            raise Failure(f"still running {timeout} s after the case ended: {self.describe()}")
        await asyncio.wait_for(asyncio.gather(*self.readers), 5)
        return self.proc.returncode

    async def __aexit__(self, *exc):
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for reader in self.readers:
            reader.cancel()


def driver_argv(args, url, *flags):
    check(args.driver, "this case needs --driver PATH (aerie-interop-client)")
    return [args.driver, url, *flags]


def cat_argv(args, url, *flags):
    """aerie-cat [options] URL, the order docs/client-cli.md shows."""
    check(args.cat, "this case needs --cat PATH (aerie-cat)")
    return [args.cat, *flags, url]


def cat_echo_argv(args, url):
    return cat_argv(args, url, "--echo", "--show-close")


async def serve(handler, **kwargs):
    server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None, **kwargs)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/client"


async def run_script(make_argv, script, stdin=False, **serve_args):
    """Serves one connection: `script(ws, client)` runs in the server's handler while the
    program `make_argv(url)` runs as `client`. Returns the finished Client (exit code,
    stdout, stderr)."""
    done = asyncio.get_running_loop().create_future()

    async def handler(ws, path=None):
        try:
            await script(ws, client)
            done.set_result(None)
        except Exception as e:  # reported below
            done.set_exception(e)

    server, url = await serve(handler, **serve_args)
    client = Client(make_argv(url), stdin=stdin)
    try:
        async with client:
            # Below the watchdog (CTest passes --timeout 25), so a hang is reported with the
            # client's output.
            await asyncio.wait({done, client.exited}, timeout=15,
                               return_when=asyncio.FIRST_COMPLETED)
            if not done.done():
                # Exited first: the script may still be reading the close; give it a moment.
                await asyncio.wait({done}, timeout=5)
            check(done.done(), f"the server's script did not finish: {client.describe()}")
            try:
                done.result()
            except Failure as e:
                raise Failure(f"{e}; {client.describe()}")
            except Exception as e:  # e.g. ConnectionClosed: the client's side says why
                raise Failure(f"the server's script raised {e!r}; {client.describe()}")
            await client.finish()
            return client
    finally:
        server.close()
        await server.wait_closed()


async def closed_within(ws, timeout):
    """Waits for the closing handshake to end; returns the code the client sent."""
    try:
        await asyncio.wait_for(ws.wait_closed(), timeout)
    except asyncio.TimeoutError:
        raise Failure(f"the client did not close within {timeout} s")
    return ws.close_code


async def recv_within(ws, timeout, what):
    try:
        return await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        raise Failure(f"no {what} within {timeout} s")
    except websockets.exceptions.ConnectionClosed as e:
        raise Failure(f"connection closed ({e.code} {e.reason!r}) while waiting for {what}")


def ascii_text(size):
    """Printable ASCII without a period, so a moved or repeated chunk changes the content."""
    return base64.b64encode(os.urandom(size * 3 // 4 + 3))[:size].decode()


def echo_payloads():
    """Text and binary messages of every length-encoding boundary, 0 B to 16 MiB, and one
    text with multi-byte UTF-8 (a character of each length)."""
    payloads = []
    for size in [0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB]:
        payloads += [ascii_text(size), os.urandom(size)]
    payloads.append("aerie \u00e9\u2713\U0001d11e " * 1000)
    return payloads


async def echo_script(ws, client=None):
    """Sends every payload before reading any echo, so order is checked, not just content."""
    payloads = echo_payloads()
    for payload in payloads:
        await ws.send(payload)
    for i, payload in enumerate(payloads):
        echo = await recv_within(ws, 20, f"echo #{i} ({len(payload)} B)")
        check(type(echo) is type(payload),
              f"echo #{i} ({len(payload)} B {type(payload).__name__}) came back as "
              f"{type(echo).__name__} ({len(echo)} B)")
        check(echo == payload, f"echo #{i} ({len(payload)} B {type(payload).__name__}) differs: "
                               f"{len(echo)} B, starting {echo[:40]!r}")
    await ws.close(1000, "done")
    check(ws.close_code == 1000, f"the client answered the close with {ws.close_code}")


async def fragmented_script(ws, client=None):
    async def text_with_ping_inside():
        yield "frag"
        # A control frame between fragments of a message, as RFC 6455 5.4 allows.
        pongs.append(await ws.ping(b"between fragments"))
        yield ""  # an empty continuation frame
        yield "men"
        yield "ted \u2713"

    pongs = []
    await ws.send(text_with_ping_inside())
    check(await recv_within(ws, 5, "the fragmented text's echo") == "fragmented \u2713",
          "fragmented text echo")
    await asyncio.wait_for(pongs[0], 5)
    await ws.send([b"\x00\x01", b"\x02"])
    check(await recv_within(ws, 5, "the fragmented binary's echo") == b"\x00\x01\x02",
          "fragmented binary echo")
    big = [os.urandom(MIB) for _ in range(3)]
    await ws.send(big)
    check(await recv_within(ws, 10, "the 3 MiB fragmented echo") == b"".join(big),
          "3 MiB fragmented binary echo")
    await ws.close()


async def ping_script(ws, client=None):
    # One ping at a time: websockets settles a pong waiter only for a pong with its payload
    # (or a later ping's), so each await proves the pong carried the same payload.
    for payload in [b"data", b"", bytes(range(125))]:
        pong = await ws.ping(payload)
        try:
            await asyncio.wait_for(pong, 5)
        except asyncio.TimeoutError:
            raise Failure(f"no pong with the payload {payload[:20]!r} ({len(payload)} B) "
                          "within 5 s")
    await ws.send("after the pings")
    check(await recv_within(ws, 5, "an echo after the pings") == "after the pings",
          "echo after the pings")
    await ws.close()


async def server_close_script(ws, client=None):
    await ws.send("one")
    check(await recv_within(ws, 5, "the echo before the close") == "one",
          "echo before the close")
    await ws.close(4001, "bye")
    check(ws.close_code == 4001, f"the client answered the close with {ws.close_code}")


def refuse_403(path, headers):
    return http.HTTPStatus.FORBIDDEN, [("X-Reason", "test")], b"go away\n"


async def close_at_once(ws, path=None):
    await ws.close()


async def run_denied(make_argv):
    server, url = await serve(close_at_once, process_request=refuse_403)
    try:
        async with Client(make_argv(url)) as client:
            await client.finish()
            return client
    finally:
        server.close()
        await server.wait_closed()


async def run_bad_accept(make_argv):
    """A raw server that answers the upgrade with a wrong Sec-WebSocket-Accept."""
    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        wrong = base64.b64encode(b"not the right hash!!").decode()
        writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {wrong}\r\n\r\n").encode())
        await writer.drain()
        await asyncio.sleep(1)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Client(make_argv(f"ws://127.0.0.1:{port}/")) as client:
            await client.finish()
            return client
    finally:
        server.close()


# --- The driver --------------------------------------------------------------------------

async def case_echo(args):
    client = await run_script(lambda url: driver_argv(args, url), echo_script)
    check(client.proc.returncode == 0, client.describe())
    check("closed code=1000 reason=done" in client.stdout, client.describe())


async def case_fragmented(args):
    client = await run_script(lambda url: driver_argv(args, url), fragmented_script)
    check(client.proc.returncode == 0, client.describe())


async def case_ping(args):
    client = await run_script(lambda url: driver_argv(args, url), ping_script)
    check(client.proc.returncode == 0, client.describe())


async def case_server_close(args):
    client = await run_script(lambda url: driver_argv(args, url), server_close_script)
    check(client.proc.returncode == 0, client.describe())
    check("closed code=4001 reason=bye" in client.stdout, client.describe())


async def case_deny(args):
    client = await run_denied(lambda url: driver_argv(args, url))
    check(client.proc.returncode == 1, client.describe())
    check("HandshakeError status=403" in client.stdout, client.describe())


async def case_bad_accept(args):
    client = await run_bad_accept(lambda url: driver_argv(args, url))
    check(client.proc.returncode == 1, client.describe())
    check("Sec-WebSocket-Accept" in client.stdout, client.describe())


async def case_headers(args):
    seen = {}

    async def handler(ws, path=None):
        seen["token"] = ws.request_headers.get("X-Token")
        seen["subprotocol"] = ws.subprotocol
        await ws.close()

    server, url = await serve(handler, subprotocols=["chat"])
    try:
        async with Client(driver_argv(args, url, "--header", "X-Token: t1", "--subprotocol",
                                      "superchat", "--subprotocol", "chat")) as client:
            code = await client.finish()
    finally:
        server.close()
        await server.wait_closed()
    check(code == 0, client.describe())
    check(seen.get("token") == "t1", f"X-Token seen by the server: {seen.get('token')!r}")
    check(seen.get("subprotocol") == "chat", f"subprotocol: {seen.get('subprotocol')!r}")
    check("open subprotocol=chat" in client.stdout, client.describe())


async def case_deflate(args):
    """permessage-deflate offered by the client, accepted by websockets (its default)."""
    seen = {}

    async def script(ws, client):
        seen["extensions"] = [e.name for e in ws.extensions]
        for payload in ["hello", "x" * 100_000, b"\x00\x01" * 50_000, os.urandom(100_000),
                        "caf\u00e9 " * 3000]:
            for _ in range(2):  # twice: the contexts kept on both sides must agree
                await ws.send(payload)
                echo = await recv_within(ws, 10, f"the echo of {len(payload)} bytes")
                check(echo == payload, f"echo of {len(payload)} bytes differs")
        await ws.close()

    client = await run_script(lambda url: driver_argv(args, url, "--deflate"), script)
    check(client.proc.returncode == 0, client.describe())
    check(seen.get("extensions") == ["permessage-deflate"], f"server side: {seen}")
    check("extensions=permessage-deflate" in client.stdout, client.describe())


# --- aerie-cat ---------------------------------------------------------------------------

async def case_cat_echo(args):
    client = await run_script(lambda url: cat_echo_argv(args, url), echo_script)
    check(client.proc.returncode == 0, f"expected exit 0: {client.describe()}")
    check("closed: 1000 done" in client.stderr.splitlines(),
          f"expected the line 'closed: 1000 done' on stderr: {client.describe()}")


async def case_cat_fragmented(args):
    client = await run_script(lambda url: cat_echo_argv(args, url), fragmented_script)
    check(client.proc.returncode == 0, f"expected exit 0: {client.describe()}")


async def case_cat_ping(args):
    client = await run_script(lambda url: cat_echo_argv(args, url), ping_script)
    check(client.proc.returncode == 0, f"expected exit 0: {client.describe()}")


async def case_cat_server_close(args):
    client = await run_script(lambda url: cat_echo_argv(args, url), server_close_script)
    check(client.proc.returncode == 0, f"--echo exits 0 whatever the code: {client.describe()}")
    check("closed: 4001 bye" in client.stderr.splitlines(),
          f"expected the line 'closed: 4001 bye' on stderr: {client.describe()}")


async def case_cat_deny(args):
    client = await run_denied(lambda url: cat_argv(args, url, "--echo"))
    check(client.proc.returncode == 1, f"expected exit 1: {client.describe()}")
    check("403" in client.stderr, f"expected 403 on stderr: {client.describe()}")


async def case_cat_bad_accept(args):
    client = await run_bad_accept(lambda url: cat_argv(args, url, "--echo"))
    check(client.proc.returncode == 1, f"expected exit 1: {client.describe()}")
    check("Sec-WebSocket-Accept" in client.stderr,
          f"expected Sec-WebSocket-Accept on stderr: {client.describe()}")


async def case_cat_headers(args):
    """Without --echo and with stdin at its end at once: aerie-cat connects, then closes
    with 1000; the handshake is what the server checks."""
    seen = {}

    async def script(ws, client):
        seen["token"] = ws.request_headers.get_all("X-Token")
        seen["offered"] = ws.request_headers.get_all("Sec-WebSocket-Protocol")
        seen["subprotocol"] = ws.subprotocol
        seen["close_code"] = await closed_within(ws, 5)

    client = await run_script(
        lambda url: cat_argv(args, url, "-v", "-H", "X-Token: t1", "--subprotocol", "chat"),
        script, subprotocols=["chat"])
    check(client.proc.returncode == 0, f"expected exit 0: {client.describe()}")
    check(seen["token"] == ["t1"], f"X-Token seen by the server: {seen['token']!r}")
    check(seen["offered"] == ["chat"], f"subprotocols offered: {seen['offered']!r}")
    check(seen["subprotocol"] == "chat", f"subprotocol selected: {seen['subprotocol']!r}")
    check(seen["close_code"] == 1000, f"close code seen by the server: {seen['close_code']}")
    check("subprotocol chat" in client.stderr,
          f"-v should report the selected subprotocol: {client.describe()}")


async def case_cat_interactive(args):
    """Messages from the server printed one per line; stdin's lines sent as text; at the end
    of stdin a close with 1000 and exit 0."""
    received = []

    async def script(ws, client):
        await ws.send("welcome")
        await ws.send(b"\x01\x02\x03")
        # stdin is written only once both are printed, so the order on stdout is known.
        await client.wait_stdout("welcome\n<binary 3 bytes>\n")
        await client.write(b"hello\nworld\n", close=True)
        for what in ("the first line", "the second line"):
            received.append(await recv_within(ws, 5, what))
        code = await closed_within(ws, 5)
        check(code == 1000, f"close code seen by the server: {code}")

    client = await run_script(lambda url: cat_argv(args, url), script, stdin=True)
    check(received == ["hello", "world"], f"the server received {received!r}")
    check(client.proc.returncode == 0, f"expected exit 0: {client.describe()}")
    check(client.stdout == "welcome\n<binary 3 bytes>\n", f"stdout: {client.stdout!r}")


CASES = {
    "deflate": case_deflate,
    "echo": case_echo,
    "fragmented": case_fragmented,
    "ping": case_ping,
    "server_close": case_server_close,
    "deny": case_deny,
    "bad_accept": case_bad_accept,
    "headers": case_headers,
    "cat.echo": case_cat_echo,
    "cat.fragmented": case_cat_fragmented,
    "cat.ping": case_cat_ping,
    "cat.server_close": case_cat_server_close,
    "cat.deny": case_cat_deny,
    "cat.bad_accept": case_cat_bad_accept,
    "cat.headers": case_cat_headers,
    "cat.interactive": case_cat_interactive,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", help="aerie-interop-client binary (cases without a prefix)")
    parser.add_argument("--cat", help="aerie-cat binary (cases cat.*)")
    parser.add_argument("--cli", help="aerie binary (accepted for symmetry with the server "
                                      "tests; no case needs it yet)")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    def watchdog(*_):  # the client processes die with us (PR_SET_PDEATHSIG)
        print(f"FAIL: client {args.case}: watchdog after {args.timeout} s", flush=True)
        os._exit(1)
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(int(args.timeout))
    started = time.monotonic()
    try:
        asyncio.run(CASES[args.case](args))
    except Failure as e:
        print(f"FAIL: client {args.case}: {e}", flush=True)
        sys.exit(1)
    except Exception:
        print(f"FAIL: client {args.case}: unexpected exception:\n{traceback.format_exc()}",
              flush=True)
        sys.exit(1)
    print(f"PASS: client {args.case} in {time.monotonic() - started:.2f} s", flush=True)


if __name__ == "__main__":
    main()
