"""Graceful stop (SIGTERM) seen by Python websockets clients: onStop runs first and its
broadcasts arrive, no onData after onStop, clients are closed with 1001 only once onStop's
task completed, the server exits 0 (within the shutdown timeout even if a client never
answers)."""

import asyncio
import signal
import time

import websockets

from aerie_interop import (OP_CLOSE, RawClient, TestFailure, check, check_eq, connect, main,
                           parse_close, recv)

STOP_DELAY = 0.5


async def case_onstop(ctx):
    events_file = ctx.path("events.log")
    server = ctx.server("--heartbeat-ms", 0, "--stop-delay-ms", int(STOP_DELAY * 1000),
                        events_file=events_file)
    events_clients = [await connect(server.url("/events")).__aenter__() for _ in range(3)]
    welcome = await connect(server.url("/welcome")).__aenter__()
    echo = await connect(server.url("/echo")).__aenter__()
    ids = []
    for ws in events_clients:
        ids.append(int((await recv(ws, what="id:N"))[3:]))
    check_eq(await recv(welcome, what="the welcome"), "Heyho!", "seed 002: onOpen's welcome")
    await echo.send("before stop")
    check_eq(await recv(echo), "before stop", "echo before the stop")

    await asyncio.sleep(0.1)  # the listening line precedes the signal handler's installation
    server.proc.send_signal(signal.SIGTERM)

    async def events_client(ws, i):
        check_eq(await recv(ws, what=f"the onStop broadcast at events client #{i}"), "stopping",
                 f"events client #{i}: first message after SIGTERM")
        started = time.monotonic()
        # Sent while onStop runs: the server must not call onData for it (seed 002).
        try:
            await ws.send(f"late message {i}")
        except websockets.exceptions.ConnectionClosed:
            raise TestFailure(f"events client #{i} was closed before onStop's task completed")
        check_eq(await recv(ws, what=f"'Byebye!' at events client #{i}"), "Byebye!",
                 f"events client #{i}: the message onStop sends after its pause")
        try:
            extra = await asyncio.wait_for(ws.recv(), 10)
            raise TestFailure(f"events client #{i} got {extra!r} after 'Byebye!', expected the close")
        except websockets.exceptions.ConnectionClosed:
            pass
        took = time.monotonic() - started
        check_eq(ws.close_code, 1001, f"events client #{i}: close code on server stop")
        check(took >= STOP_DELAY * 0.8, f"events client #{i} was closed {took:.2f} s after onStop "
                                        f"began, before onStop's {STOP_DELAY} s task completed")

    async def other_client(ws, name, first):
        if first is not None:
            check_eq(await recv(ws, what=f"{first!r} at the {name} client"), first,
                     f"{name} client: onStop broadcast")
        try:
            extra = await asyncio.wait_for(ws.recv(), 10)
            raise TestFailure(f"{name} client got {extra!r}, expected the close")
        except websockets.exceptions.ConnectionClosed:
            pass
        check_eq(ws.close_code, 1001, f"{name} client: close code on server stop")

    async def newcomer():
        # While onStop runs, new clients are not accepted (refused or 503).
        await asyncio.sleep(STOP_DELAY / 3)
        try:
            async with connect(server.url("/echo"), open_timeout=3) as ws:
                await ws.send("hi")
                raise TestFailure("a client connected after SIGTERM and was served")
        except (OSError, websockets.exceptions.InvalidStatusCode,
                websockets.exceptions.InvalidHandshake, asyncio.TimeoutError,
                websockets.exceptions.ConnectionClosed):
            pass

    await asyncio.gather(*(events_client(ws, i) for i, ws in enumerate(events_clients)),
                         other_client(welcome, "welcome", "Byebye!"),
                         other_client(echo, "echo", None), newcomer())
    code = await server.terminate_async(timeout=10)
    check_eq(code, 0, "exit code after SIGTERM")

    with open(events_file) as f:
        lines = f.read().splitlines()
    stops = [i for i, line in enumerate(lines) if line.startswith("stop ")]
    check(stops, f"no onStop recorded; events {lines[-20:]!r}")
    first_stop = stops[0]
    check(not [line for line in lines[first_stop:] if line.startswith(("data ", "open "))],
          f"onData/onOpen ran after onStop: {[l for l in lines[first_stop:] if l.startswith(('data ', 'open '))]!r}")
    last_done = max(i for i, line in enumerate(lines) if line.startswith("stop-done "))
    check(lines.index("stop-done events") > lines.index("stop events"), "onStop of /events completed")
    closes = [(i, line) for i, line in enumerate(lines) if line.startswith("close ")]
    check_eq(len(closes), 5, f"onClose calls (3 events, 1 welcome, 1 echo): {closes!r}")
    for i, line in closes:
        check(i > last_done, f"onClose before every onStop completed: {line!r} at line {i}, "
                             f"last stop-done at {last_done}")
        check(line.split(" ")[3] == "1001", f"onClose code on stop: {line!r}, expected 1001")
    for cid in ids:
        check(any(line.startswith(f"close events {cid} 1001") for _, line in closes),
              f"no onClose(1001) for events client {cid}")
    check_eq(lines[-1], "exit 0", "last event: Server::run() returned 0")


async def case_shutdown_timeout(ctx):
    """A client that never answers the close: the server still exits 0, within the shutdown
    timeout."""
    server = ctx.server("--heartbeat-ms", 0, "--shutdown-timeout-ms", 1000,
                        "--close-period-ms", 10000)
    raw = await RawClient.open(server.port, "/echo")
    await asyncio.sleep(0.1)
    started = time.monotonic()
    code = await server.terminate_async(timeout=8)
    took = time.monotonic() - started
    check_eq(code, 0, "exit code after SIGTERM with an unresponsive client")
    check(took < 3.0, f"the server took {took:.2f} s to stop with shutdownTimeout 1 s")
    _, op, payload = await raw.recv_frame(what="the close frame of the stop")
    check_eq((op, parse_close(payload)[0]), (OP_CLOSE, 1001), "close frame on stop (opcode, code)")
    await raw.wait_eof(timeout=2, what="TCP close once the server stopped")
    await raw.close()


async def case_early_sigterm(ctx):
    """SIGTERM right after the listening line must still be a graceful stop (exit 0), for
    aerie-test-server and for `aerie serve`. (A race: each attempt hits it only sometimes.)"""
    servers = []
    for attempt in range(15):
        for kind in ("aerie-test-server", "aerie serve"):
            server = ctx.server("--heartbeat-ms", 0) if kind == "aerie-test-server" \
                else ctx.cli("--ws", "/echo=echo")
            server.proc.send_signal(signal.SIGTERM)  # at once, as a supervisor might
            servers.append((kind, server))
    codes = await asyncio.gather(*(server.terminate_async(timeout=10) for _, server in servers))
    killed = [f"{kind}: exit {code}" for (kind, _), code in zip(servers, codes) if code != 0]
    check(not killed, f"{len(killed)} of {len(servers)} servers did not stop gracefully when "
                      f"SIGTERM came right after the listening line: {killed[:4]!r} "
                      "(-15: killed by the signal)")


KNOWN_BUGS = {}

CASES = {
    "onstop": case_onstop,
    "shutdown_timeout": case_shutdown_timeout,
    "early_sigterm": case_early_sigterm,
}

if __name__ == "__main__":
    main(CASES, KNOWN_BUGS)
