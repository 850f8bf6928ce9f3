"""Timers seen from the client: heartbeat pings and the queued-ping limit (1008), the idle
timeout (1001) and the close period (TCP dropped when the close handshake stalls). A raw
client plays the peer that ignores pings or close frames; websockets plays the good one."""

import asyncio
import time

from aerie_interop import (OP_CLOSE, OP_PING, RawClient, check, check_eq, connect,
                           events_dump, expect_closed, main, parse_close, recv, wait_until)


async def case_unanswered_pings(ctx):
    period, limit = 0.2, 2
    server = ctx.server("--heartbeat-ms", int(period * 1000), "--queued-ping-limit", limit)
    good = await connect(server.url("/echo")).__aenter__()  # websockets answers pings itself
    raw = await RawClient.open(server.port, "/echo")
    started = time.monotonic()
    pings = 0
    while True:
        _, op, payload = await raw.recv_frame(timeout=3, what="heartbeat pings, then a close")
        if op == OP_PING:
            pings += 1
            continue
        check_eq(op, OP_CLOSE, f"frame after {pings} unanswered pings (opcode)")
        code, reason = parse_close(payload)
        break
    took = time.monotonic() - started
    check_eq(code, 1008, f"close code after {pings} unanswered pings (reason {reason!r})")
    check(limit <= pings <= limit + 1, f"{pings} pings before the close, queuedPingLimit {limit}")
    check(period * limit * 0.8 <= took <= period * (limit + 2) + 1.0,
          f"closed {took:.2f} s after connecting; heartbeat {period} s, limit {limit}")
    await raw.send_frame(OP_CLOSE, RawClient.close_payload(1008))
    await raw.wait_eof(timeout=2, what="TCP close after the 1008 close handshake")
    await raw.close()
    # The client that answers the pings was pinged too, and is still served.
    await asyncio.sleep(period * (limit + 2) - took + 0.2)
    await good.send("still alive")
    check_eq(await recv(good), "still alive", "echo to the client that answers pings")
    await good.close()


async def case_idle_timeout(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--idle-timeout-ms", 600)
    idle = await connect(server.url("/echo")).__aenter__()
    busy = await connect(server.url("/echo")).__aenter__()
    started = time.monotonic()
    closed_at = None

    async def chat():
        while time.monotonic() - started < 1.5:
            await busy.send("tick")
            check_eq(await recv(busy, what="echo of tick"), "tick", "busy client echo")
            await asyncio.sleep(0.1)

    async def watch_idle():
        nonlocal closed_at
        await expect_closed(idle, 1001, timeout=3, what="idle timeout")
        closed_at = time.monotonic() - started
    await asyncio.gather(chat(), watch_idle())
    check(0.5 <= closed_at <= 1.4, f"idle client closed after {closed_at:.2f} s, idle timeout 0.6 s")
    await busy.send("after")
    check_eq(await recv(busy), "after", "the busy client outlived the idle timeout")
    await busy.close()


async def case_close_period(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--close-period-ms", 500)
    # The server closes; the client never answers with its close frame.
    raw = await RawClient.open(server.port, "/close")
    await raw.send_frame(0x1, b"4000 bye")
    _, op, payload = await raw.recv_frame(what="the server's close frame")
    check_eq((op, parse_close(payload)), (OP_CLOSE, (4000, "bye")), "close frame")
    took = await raw.wait_eof(timeout=3, what="the server to drop TCP after the close period")
    check(0.3 <= took <= 1.5, f"TCP dropped {took:.2f} s after the unanswered close; "
                              "close period 0.5 s")
    await raw.close()
    # The client closes; after the server's answer it never closes TCP: the server does,
    # and onClose runs, within the close period.
    raw = await RawClient.open(server.port, "/events")
    _, _, hello = await raw.recv_frame(what="id greeting")
    cid = int(hello.decode()[3:])
    started = time.monotonic()
    await raw.send_frame(OP_CLOSE, RawClient.close_payload(4001, "client"))
    _, op, payload = await raw.recv_frame(what="the close answer")
    check_eq((op, parse_close(payload)[0]), (OP_CLOSE, 4001), "close echoed")

    async def closed():
        return [line for line in await events_dump(server) if line.startswith(f"close events {cid} ")]
    lines = await wait_until(closed, 3, f"onClose of client {cid}")
    took = time.monotonic() - started
    check(took <= 1.5, f"onClose ran {took:.2f} s after the close handshake; close period 0.5 s")
    check_eq(lines, [f"close events {cid} 4001 client"], "onClose after the client's close")
    await raw.close()


KNOWN_BUGS = {}

CASES = {
    "unanswered_pings": case_unanswered_pings,
    "idle_timeout": case_idle_timeout,
    "close_period": case_close_period,
}

if __name__ == "__main__":
    main(CASES, KNOWN_BUGS)
