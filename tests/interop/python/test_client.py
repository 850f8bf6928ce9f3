"""The aerie CLIENT against Python's websockets server (Debian python3-websockets).

Each case starts a websockets server on 127.0.0.1 port 0 in this process and runs the
aerie-interop-client driver (tests/interop/client_driver.cpp) against it: the driver echoes
every message with its type until the connection closes, then prints how it closed. The
server decides what happens and checks what comes back.

    /usr/bin/python3 test_client.py --driver PATH --case NAME [--timeout S]
"""

import argparse
import asyncio
import base64
import http
import os
import signal
import sys
import time

import websockets

MIB = 1024 * 1024


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Driver:
    """The aerie client process."""

    def __init__(self, path, url, *args):
        self.path, self.url, self.args = path, url, args

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            self.path, self.url, *self.args, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        return self

    async def finish(self, timeout=10):
        out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")
        return self.proc.returncode

    async def __aexit__(self, *exc):
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def serve(handler, **kwargs):
    server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None, **kwargs)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/client"


async def run_echo_case(driver_path, script, *driver_args, **serve_args):
    """Runs `script(ws)` in the server's handler; the driver must end with exit 0."""
    done = asyncio.get_running_loop().create_future()

    async def handler(ws, path=None):
        try:
            await script(ws)
            done.set_result(None)
        except Exception as e:  # reported below
            done.set_exception(e)

    server, url = await serve(handler, **serve_args)
    try:
        async with Driver(driver_path, url, *driver_args) as driver:
            await asyncio.wait_for(asyncio.shield(done), 30)
            code = await driver.finish()
            check(code == 0, f"driver exit {code}: {driver.stdout} {driver.stderr}")
            return driver.stdout
    finally:
        server.close()
        await server.wait_closed()


async def case_echo(args):
    sizes = [0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB]

    async def script(ws):
        for size in sizes:
            text = ("aerie-" * (size // 6 + 1))[:size]
            binary = bytes((i * 7) % 256 for i in range(size)) if size <= MIB else os.urandom(size)
            for payload in (text, binary):
                await ws.send(payload)
                echo = await asyncio.wait_for(ws.recv(), 20)
                check(type(echo) is type(payload), f"size {size}: echo type {type(echo).__name__}")
                check(echo == payload, f"size {size}: echo differs ({len(echo)} bytes)")
        await ws.close(1000, "done")

    out = await run_echo_case(args.driver, script)
    check("closed code=1000 reason=done" in out, f"driver output: {out!r}")


async def case_fragmented(args):
    async def script(ws):
        await ws.send(["frag", "men", "ted"])  # one text message in three frames
        check(await asyncio.wait_for(ws.recv(), 5) == "fragmented", "fragmented text echo")
        await ws.send([b"\x00\x01", b"\x02"])
        check(await asyncio.wait_for(ws.recv(), 5) == b"\x00\x01\x02", "fragmented binary echo")
        await ws.close()

    await run_echo_case(args.driver, script)


async def case_ping(args):
    async def script(ws):
        pong = await ws.ping(b"are you there")  # resolves when the matching pong arrives
        await asyncio.wait_for(pong, 5)
        await ws.close()

    await run_echo_case(args.driver, script)


async def case_server_close(args):
    async def script(ws):
        await ws.send("one")
        check(await asyncio.wait_for(ws.recv(), 5) == "one", "echo before the close")
        await ws.close(4001, "bye")
        check(ws.close_code == 4001, f"the client answered the close with {ws.close_code}")

    out = await run_echo_case(args.driver, script)
    check("closed code=4001 reason=bye" in out, f"driver output: {out!r}")


async def case_deny(args):
    def refuse(path, headers):
        return http.HTTPStatus.FORBIDDEN, [("X-Reason", "test")], b"go away\n"

    async def handler(ws, path=None):
        await ws.close()

    server, url = await serve(handler, process_request=refuse)
    try:
        async with Driver(args.driver, url) as driver:
            code = await driver.finish()
    finally:
        server.close()
        await server.wait_closed()
    check(code == 1, f"driver exit {code}")
    check("HandshakeError status=403" in driver.stdout, f"driver output: {driver.stdout!r}")


async def case_bad_accept(args):
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
        async with Driver(args.driver, f"ws://127.0.0.1:{port}/") as driver:
            code = await driver.finish()
    finally:
        server.close()
    check(code == 1, f"driver exit {code}")
    check("Sec-WebSocket-Accept" in driver.stdout, f"driver output: {driver.stdout!r}")


async def case_headers(args):
    seen = {}

    async def handler(ws, path=None):
        seen["token"] = ws.request_headers.get("X-Token")
        seen["origin"] = ws.request_headers.get("Origin")
        seen["subprotocol"] = ws.subprotocol
        await ws.close()

    server, url = await serve(handler, subprotocols=["chat"])
    try:
        async with Driver(args.driver, url, "--header", "X-Token: t1", "--subprotocol",
                          "superchat", "--subprotocol", "chat") as driver:
            code = await driver.finish()
    finally:
        server.close()
        await server.wait_closed()
    check(code == 0, f"driver exit {code}: {driver.stdout} {driver.stderr}")
    check(seen.get("token") == "t1", f"X-Token seen by the server: {seen.get('token')!r}")
    check(seen.get("subprotocol") == "chat", f"subprotocol: {seen.get('subprotocol')!r}")
    check("open subprotocol=chat" in driver.stdout, f"driver output: {driver.stdout!r}")


async def case_deflate(args):
    """permessage-deflate offered by the client, accepted by websockets (its default)."""
    seen = {}

    async def script(ws):
        seen["extensions"] = [e.name for e in ws.extensions]
        for payload in ["hello", "x" * 100_000, b"\x00\x01" * 50_000, os.urandom(100_000),
                        "caf\u00e9 " * 3000]:
            for _ in range(2):  # twice: the contexts kept on both sides must agree
                await ws.send(payload)
                echo = await asyncio.wait_for(ws.recv(), 10)
                check(echo == payload, f"echo of {len(payload)} bytes differs")
        await ws.close()

    out = await run_echo_case(args.driver, script, "--deflate")
    check(seen.get("extensions") == ["permessage-deflate"], f"server side: {seen}")
    check("extensions=permessage-deflate" in out, f"driver output: {out!r}")


CASES = {
    "deflate": case_deflate,
    "echo": case_echo,
    "fragmented": case_fragmented,
    "ping": case_ping,
    "server_close": case_server_close,
    "deny": case_deny,
    "bad_accept": case_bad_accept,
    "headers": case_headers,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    def watchdog(*_):
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
    print(f"PASS: client {args.case} in {time.monotonic() - started:.2f} s", flush=True)


if __name__ == "__main__":
    main()
