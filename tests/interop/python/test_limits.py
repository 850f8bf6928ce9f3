"""Every limit option, seen from the client: maxFrameSize / maxMessageSize (1009, fail
fast), textOnly (1003), validateUtf8 (1007, fail fast across fragments; off: delivered),
maxFramesPerSecond and maxBytesPerMinute (reading pauses, no close), autoFrameSize
(outgoing fragmentation), handshake timeout, maxConnections / connectionsPerIp (503)."""

import asyncio
import time

import websockets

from aerie_interop import (OP_BINARY, OP_CLOSE, OP_CONT, OP_TEXT, RawClient, TestFailure,
                           check, check_eq, connect, events_dump, expect_closed, main, recv,
                           wait_until)


async def raw_close_code(raw, what):
    code, reason, _ = await raw.expect_close(what=what)
    return code


async def case_max_frame_size(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-frame-size", 1024, "--max-message-size", 1 << 20)
    # Frame sizes are wire sizes: uncompressed frames (compression would shrink them).
    async with connect(server.url("/echo"), compression=None) as ws:
        await ws.send("a" * 1024)
        check_eq(await recv(ws), "a" * 1024, "echo of a frame of exactly maxFrameSize")
        await ws.send(["b" * 1024, "c" * 1024, "d" * 1024])  # a larger message in allowed frames
        check_eq(await recv(ws), "b" * 1024 + "c" * 1024 + "d" * 1024, "3 frames of 1024")
        await ws.send(b"x" * 1025)
        await expect_closed(ws, 1009, what="a 1025-byte frame with maxFrameSize 1024")
    # Fail fast: a header announcing a huge frame is refused before any payload arrives.
    raw = await RawClient.open(server.port, "/echo")
    await raw.send_raw(bytes([0x82, 0xFF]) + (1 << 40).to_bytes(8, "big") + b"\x00\x00\x00\x00")
    check_eq(await raw_close_code(raw, "close after a 1 TiB frame header"), 1009,
             "close code after a frame header announcing 1 TiB")
    await raw.close()


async def case_max_message_size(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-frame-size", 1 << 20, "--max-message-size", 4096)
    async with connect(server.url("/echo")) as ws:
        await ws.send(["x" * 1000] * 4 + ["y" * 96])
        check_eq(await recv(ws), "x" * 4000 + "y" * 96, "a fragmented message of exactly 4096 bytes")
        await ws.send("z" * 4096)
        check_eq(await recv(ws), "z" * 4096, "one frame of exactly maxMessageSize")
        await ws.send("z" * 4097)
        await expect_closed(ws, 1009, what="a 4097-byte message with maxMessageSize 4096")
    async with connect(server.url("/echo")) as ws:
        await ws.send([b"x" * 1000] * 5)
        await expect_closed(ws, 1009, what="5 x 1000-byte fragments with maxMessageSize 4096")
    # Fail fast: the fragment that crosses the limit is enough, no final fragment needed.
    raw = await RawClient.open(server.port, "/echo")
    await raw.send_frame(OP_BINARY, b"x" * 3000, fin=False)
    await raw.send_frame(OP_CONT, b"x" * 2000, fin=False)
    check_eq(await raw_close_code(raw, "close while the message is still open"), 1009,
             "close code once a message in progress crosses maxMessageSize")
    await raw.close()


async def case_text_only(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--text-only")
    async with connect(server.url("/echo")) as ws:
        await ws.send("text is fine")
        check_eq(await recv(ws), "text is fine", "text echo with textOnly")
        await ws.send(b"\x01\x02")
        await expect_closed(ws, 1003, what="a binary message with textOnly")
    raw = await RawClient.open(server.port, "/echo")
    await raw.send_frame(OP_BINARY, b"first fragment", fin=False)
    check_eq(await raw_close_code(raw, "close after a binary first fragment"), 1003,
             "textOnly: close code after the first fragment of a binary message")
    await raw.close()


async def case_utf8(ctx):
    server = ctx.server("--heartbeat-ms", 0)
    for what, frames in [
        ("invalid UTF-8 text", [(OP_TEXT, b"ab\xff", True)]),
        ("an overlong encoding", [(OP_TEXT, b"\xc0\xaf", True)]),
        ("a surrogate", [(OP_TEXT, b"\xed\xa0\x80", True)]),
        ("a code point above U+10FFFF", [(OP_TEXT, b"\xf4\x90\x80\x80", True)]),
        ("a character truncated at the end of the message", [(OP_TEXT, b"ok \xe2\x82", True)]),
    ]:
        raw = await RawClient.open(server.port, "/echo")
        for op, payload, fin in frames:
            await raw.send_frame(op, payload, fin=fin)
        check_eq(await raw_close_code(raw, what), 1007, f"close code after {what}")
        await raw.close()
    # Fail fast across fragments: invalid in the first fragment, no final fragment sent.
    raw = await RawClient.open(server.port, "/echo")
    await raw.send_frame(OP_TEXT, b"valid start ", fin=False)
    await raw.send_frame(OP_CONT, b"\xe2\x28\xa1", fin=False)
    check_eq(await raw_close_code(raw, "close while the invalid message is still open"), 1007,
             "close code after an invalid fragment (before the message ends)")
    await raw.close()
    # An invalid close reason: 1007 too.
    raw = await RawClient.open(server.port, "/echo")
    await raw.send_frame(OP_CLOSE, RawClient.close_payload(1000, b"\xff"))
    code = await raw_close_code(raw, "answer to a close with an invalid reason")
    check(code in (1007, 1002), f"close with an invalid UTF-8 reason answered with {code}, "
                                "expected 1007 (or 1002)")
    await raw.close()
    # validateUtf8 off: the invalid text reaches onData (and echoing it is refused by send()).
    lax = ctx.server("--heartbeat-ms", 0, "--no-validate-utf8")
    raw = await RawClient.open(lax.port, "/events")
    _, _, hello = await raw.recv_frame(what="id greeting")
    cid = int(hello.decode()[3:])
    await raw.send_frame(OP_TEXT, b"ab\xff")

    async def delivered():
        return [line for line in await events_dump(lax) if line.startswith(f"data events {cid} T 3")]
    await wait_until(delivered, 5, "onData of invalid UTF-8 with validateUtf8 off")
    await raw.close()


async def case_frames_per_second(ctx):
    async def seventh_echo_after(server):
        raw = await RawClient.open(server.port, "/echo")
        connected = time.monotonic()

        async def sender():
            for i in range(10):
                await raw.send_frame(OP_TEXT, f"m{i}")
                await asyncio.sleep(0.05)
        sending = asyncio.create_task(sender())
        times = []
        for i in range(10):
            opcode, data, _ = await raw.recv_message(timeout=5, what=f"echo of m{i}")
            check_eq(data, f"m{i}".encode(), f"echo #{i} (order, no loss)")
            times.append(time.monotonic() - connected)
        await sending
        await raw.close()
        return times
    baseline = await seventh_echo_after(ctx.server("--heartbeat-ms", 0, "--max-frames-per-second", 0))
    check(baseline[6] < 0.7, f"without a limit the 7th echo came {baseline[6]:.2f} s after connecting")
    limited = await seventh_echo_after(ctx.server("--heartbeat-ms", 0, "--max-frames-per-second", 5))
    check(limited[4] < 0.7, f"with 5 frames/s the 5th echo came only {limited[4]:.2f} s after "
                            "connecting (within the allowance)")
    check(limited[6] >= 0.8, f"with 5 frames/s the 7th echo came {limited[6]:.2f} s after "
                             "connecting: reading did not pause until the next second")


async def case_bytes_per_minute(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-bytes-per-minute", 20000)
    raw = await RawClient.open(server.port, "/echo")
    payload = b"x" * 994  # 1000 bytes per frame on the wire (6-byte masked header)
    echoed = 0
    for i in range(30):
        await raw.send_frame(OP_BINARY, payload)
        await asyncio.sleep(0.01)
    try:
        while True:
            _, data, _ = await raw.recv_message(timeout=1.5, what="echoes")
            echoed += 1
    except TestFailure as e:
        check("timed out" in str(e), f"while reading echoes: {e}")
    check(18 <= echoed < 30, f"{echoed} of 30 x 1000-byte messages echoed with maxBytesPerMinute "
                             "20000 (expected reading to pause after about 20)")
    # Paused, not closed: nothing arrived, and the TCP connection is still open.
    check(not raw.reader.at_eof(), "the connection was closed; maxBytesPerMinute must only pause")
    raw.abort()


async def case_auto_frame_size(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--auto-frame-size", 1000)
    raw = await RawClient.open(server.port, "/echo")
    await raw.send_frame(OP_TEXT, "é" * 1250)  # 2500 bytes
    frames = [await raw.recv_frame(what=f"echo frame #{i}") for i in range(3)]
    check_eq([(fin, op, len(p)) for fin, op, p in frames],
             [(False, OP_TEXT, 1000), (False, OP_CONT, 1000), (True, OP_CONT, 500)],
             "echo of 2500 bytes with autoFrameSize 1000: (fin, opcode, size) per frame")
    check_eq(b"".join(p for _, _, p in frames).decode(), "é" * 1250, "reassembled echo")
    await raw.close()
    # The broadcast path (frames serialised once for all) splits the same way.
    a = await RawClient.open(server.port, "/broadcast")
    b = await RawClient.open(server.port, "/broadcast")
    await asyncio.sleep(0.05)
    await a.send_frame(OP_BINARY, bytes(2001))
    frames = [await b.recv_frame(what=f"broadcast frame #{i}") for i in range(3)]
    check_eq([(fin, op, len(p)) for fin, op, p in frames],
             [(False, OP_BINARY, 1000), (False, OP_CONT, 1000), (True, OP_CONT, 1)],
             "broadcast of 2001 bytes with autoFrameSize 1000")
    await a.close()
    await b.close()
    # 0: never split.
    whole = ctx.server("--heartbeat-ms", 0, "--auto-frame-size", 0)
    raw = await RawClient.open(whole.port, "/echo")
    await raw.send_frame(OP_BINARY, bytes(100000))
    fin, op, payload = await raw.recv_frame(what="the echo with autoFrameSize 0")
    check_eq((fin, op, len(payload)), (True, OP_BINARY, 100000), "echo with autoFrameSize 0")
    await raw.close()


async def case_handshake_timeout(ctx):
    """ws::Options::handshakeTimeout bounds onHandshake: a slower one is answered with 503 for
    it, and its client never opens. A stalled request head is ServerOptions::headerTimeout's."""
    server = ctx.server("--heartbeat-ms", 0, "--handshake-timeout-ms", 400,
                        "--header-timeout-ms", 500)
    async with connect(server.url("/slowhandshake?ms=100")) as ws:
        await ws.send("in time")
        check_eq(await recv(ws), "in time", "echo after a 100 ms onHandshake (timeout 400 ms)")
    started = time.monotonic()
    try:
        async with connect(server.url("/slowhandshake?ms=1500")):
            raise TestFailure("a 1.5 s onHandshake completed with handshakeTimeout 0.4 s")
    except websockets.exceptions.InvalidStatusCode as e:
        took = time.monotonic() - started
        check(e.status_code >= 400, f"status after the handshake timeout: {e.status_code}")
        check(took < 1.2, f"the handshake timeout (0.4 s) answered after {took:.2f} s")
    except (websockets.exceptions.InvalidMessage, ConnectionError, EOFError) as e:
        took = time.monotonic() - started
        check(took < 1.2, f"the handshake timeout (0.4 s) dropped the connection after {took:.2f} s "
                          f"({e!r})")

    async def finished():
        lines = [line for line in await events_dump(server) if " slowhs " in line]
        return lines if "handshake-done slowhs 1500" in lines else None
    lines = await wait_until(finished, 5, "the late onHandshake to finish")
    await asyncio.sleep(0.2)
    lines = [line for line in await events_dump(server) if " slowhs " in line]
    check_eq([line for line in lines if line.startswith("open ")][1:], [],
             "onOpen after an onHandshake that timed out (only the in-time client may open)")
    # A request head that stalls: dropped after headerTimeout (408 or a plain close).
    raw = await RawClient.open(server.port, "/echo", handshake=False)
    await raw.send_raw(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
    took = await raw.wait_eof(timeout=4, what="the server to drop a stalled request head "
                                                "(header timeout 0.5 s)")
    await raw.close()
    check(took < 2.0, f"a stalled request head was dropped after {took:.2f} s; header timeout 0.5 s")


async def case_connection_limits(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-connections", 3)
    sockets = [await connect(server.url("/echo")).__aenter__() for _ in range(3)]
    try:
        async with connect(server.url("/echo")):
            raise TestFailure("a 4th connection was accepted with maxConnections 3")
    except websockets.exceptions.InvalidStatusCode as e:
        check_eq(e.status_code, 503, "status for a connection beyond maxConnections")
    except (websockets.exceptions.InvalidMessage, ConnectionError, EOFError) as e:
        raise TestFailure(f"a connection beyond maxConnections: {e!r}, expected a 503 response")
    for ws in sockets:
        await ws.send("still served")
        check_eq(await recv(ws), "still served", "clients within maxConnections")
    await sockets[0].close()

    async def accepted():
        try:
            async with connect(server.url("/echo")) as ws:
                await ws.send("in")
                return await recv(ws) == "in"
        except websockets.exceptions.InvalidStatusCode:
            return False
    await wait_until(accepted, 5, "a new connection once one of 3 closed")
    for ws in sockets[1:]:
        await ws.close()

    per_ip = ctx.server("--heartbeat-ms", 0, "--connections-per-ip", 2)
    sockets = [await connect(per_ip.url("/echo")).__aenter__() for _ in range(2)]
    try:
        async with connect(per_ip.url("/echo")):
            raise TestFailure("a 3rd connection from 127.0.0.1 was accepted with connectionsPerIp 2")
    except websockets.exceptions.InvalidStatusCode as e:
        check_eq(e.status_code, 503, "status for a connection beyond connectionsPerIp")
    for ws in sockets:
        await ws.close()


KNOWN_BUGS = {}

CASES = {
    "max_frame_size": case_max_frame_size,
    "max_message_size": case_max_message_size,
    "text_only": case_text_only,
    "utf8": case_utf8,
    "frames_per_second": case_frames_per_second,
    "bytes_per_minute": case_bytes_per_minute,
    "auto_frame_size": case_auto_frame_size,
    "handshake_timeout": case_handshake_timeout,
    "connection_limits": case_connection_limits,
}

if __name__ == "__main__":
    main(CASES, KNOWN_BUGS)
