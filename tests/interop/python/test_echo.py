"""Echo of text and binary from 0 B to 16 MiB and fragmented input, with Python websockets
as the client (against aerie-test-server's /echo and against `aerie serve --ws /echo=echo`)."""

import asyncio
import os
import random

from aerie_interop import (OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawClient, TestFailure,
                           check, check_eq, connect, events_dump, main, recv, wait_until)

SIZES = [0, 1, 2, 125, 126, 127, 128, 1000, 65535, 65536, 65537, 100_000, 1 << 20]
MIB16 = 16 * 1024 * 1024
# The default maxBytesPerMinute (8 MiB) would pause reading for a minute after 8 MiB, and
# the default maxBackpressure (16 MiB) closes a client as soon as one 16 MiB echo is queued.
BIG_FLAGS = ["--max-frame-size", MIB16, "--max-message-size", MIB16, "--max-bytes-per-minute", 0,
             "--max-backpressure", 4 * MIB16]


def text_of(size, seed):
    """Valid text of exactly `size` UTF-8 bytes, with multi-byte characters when it can."""
    rng = random.Random(seed)
    alphabet = ["a", "Z", "0", " ", "é", "€", "😀"]
    block = "".join(rng.choice(alphabet) for _ in range(min(size, 4096)))
    encoded = block.encode()
    text = block * (size // max(len(encoded), 1))  # whole blocks: still valid UTF-8
    missing = size - len(encoded) * (size // max(len(encoded), 1))
    # Fill up with characters from the block while they fit, then with ASCII.
    tail, used = [], 0
    for ch in block:
        n = len(ch.encode())
        if used + n > missing:
            break
        tail.append(ch)
        used += n
    return text + "".join(tail) + "x" * (missing - used)


async def echo_roundtrip(ws, message, what):
    await ws.send(message)
    reply = await recv(ws, timeout=30, what=f"the echo of {what}")
    check_eq(type(reply), type(message), f"{what}: type of the echo (text stays text)")
    if reply != message:
        raise TestFailure(f"{what}: echo differs (len {len(reply)} vs {len(message)})")


async def sizes_against(url):
    async with connect(url, max_size=None) as ws:
        for size in SIZES:
            await echo_roundtrip(ws, text_of(size, size), f"{size}-byte text")
            await echo_roundtrip(ws, os.urandom(size), f"{size}-byte binary")
        # Pipelined: everything sent before anything is read; echoes come back in order.
        messages = [text_of(s, s) if i % 2 else os.urandom(s)
                    for i, s in enumerate(SIZES * 4)]
        for message in messages:
            await ws.send(message)
        for i, message in enumerate(messages):
            reply = await recv(ws, timeout=30, what=f"pipelined echo #{i}")
            check(reply == message, f"pipelined echo #{i} ({len(message)} bytes, "
                                    f"{type(message).__name__}) differs or is out of order: "
                                    f"got {len(reply)} bytes {type(reply).__name__}")


async def case_sizes(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-bytes-per-minute", 0)
    await sizes_against(server.url("/echo"))


async def big_against(url):
    async with connect(url, max_size=None) as ws:
        text = text_of(MIB16, 16)
        await echo_roundtrip(ws, text, "16 MiB text")
        data = os.urandom(MIB16)
        await echo_roundtrip(ws, data, "16 MiB binary")


async def case_big(ctx):
    server = ctx.server("--heartbeat-ms", 0, *BIG_FLAGS)
    await big_against(server.url("/echo"))


async def fragmented_against(server, path):
    async with connect(server.url(path), max_size=None) as ws:
        # websockets sends an iterable as one fragmented message: first frame + continuations.
        await ws.send(["Hello, ", "", "fragmented ", "wörld ", "€😀", "!"])
        check_eq(await recv(ws, what="echo of text fragments"),
                 "Hello, fragmented wörld €😀!", "reassembled text fragments")
        chunks = [os.urandom(1000) for _ in range(200)]
        await ws.send(chunks)
        check(await recv(ws, timeout=10, what="echo of 200 binary fragments") == b"".join(chunks),
              "200 binary fragments: echo differs from their concatenation")

        async def agen():
            for i in range(10):
                await asyncio.sleep(0.01)  # fragments trickle in: onData starts before the end
                yield f"part{i};"
        await ws.send(agen())
        check_eq(await recv(ws, what="echo of async-iterated fragments"),
                 "".join(f"part{i};" for i in range(10)), "async fragments")
        big = [os.urandom(300_000) for _ in range(4)]
        await ws.send(big)
        check(await recv(ws, timeout=10, what="echo of 4 x 300 kB fragments") == b"".join(big),
              "4 x 300 kB binary fragments: echo differs")

    # What websockets will not produce: a UTF-8 character split across fragments, control
    # frames between fragments, an empty final continuation.
    raw = await RawClient.open(server.port, path)
    try:
        euro = "€".encode()
        await raw.send_frame(OP_TEXT, b"price: " + euro[:1], fin=False)
        await raw.send_frame(OP_PING, b"between fragments")
        await raw.send_frame(OP_CONT, euro[1:2], fin=False)
        await raw.send_frame(OP_CONT, euro[2:] + b" 5", fin=False)
        await raw.send_frame(OP_CONT, b"", fin=True)
        fin, op, payload = await raw.recv_frame(what="the pong to a ping between fragments")
        check_eq((op, payload), (OP_PONG, b"between fragments"), "pong (opcode, payload)")
        opcode, data, _ = await raw.recv_message(what="echo of a text split inside a character")
        check_eq((opcode, data.decode()), (OP_TEXT, "price: € 5"), "echo of split UTF-8")
        await raw.send_frame(OP_BINARY, b"", fin=False)
        await raw.send_frame(OP_CONT, b"\x00\xff", fin=False)
        await raw.send_frame(OP_CONT, b"\x01", fin=True)
        opcode, data, _ = await raw.recv_message(what="echo of binary fragments")
        check_eq((opcode, data), (OP_BINARY, b"\x00\xff\x01"), "echo of raw binary fragments")
    finally:
        await raw.close()


async def case_fragmented(ctx):
    server = ctx.server("--heartbeat-ms", 0)
    await fragmented_against(server, "/echo")


async def case_cli(ctx):
    """The same through the command-line tool: `aerie serve --ws /echo=echo --ws /b=broadcast`."""
    server = ctx.cli("--ws", "/echo=echo", "--ws", "/b=broadcast", "--heartbeat-ms", 0, *BIG_FLAGS)
    await sizes_against(server.url("/echo"))
    async with connect(server.url("/echo"), max_size=None) as ws:
        await echo_roundtrip(ws, os.urandom(MIB16), "16 MiB binary (aerie serve)")
    await fragmented_against(server, "/echo")
    async with connect(server.url("/b")) as a, connect(server.url("/b")) as b, \
            connect(server.url("/b")) as c:
        await asyncio.sleep(0.1)  # all three registered before the broadcast
        await a.send("from a")
        check_eq(await recv(b, what="broadcast at b"), "from a", "broadcast seen by b")
        check_eq(await recv(c, what="broadcast at c"), "from a", "broadcast seen by c")
        await b.send(b"\x01\x02")
        check_eq(await recv(a, what="binary broadcast at a"), b"\x01\x02", "binary at a")
        check_eq(await recv(c, what="binary broadcast at c"), b"\x01\x02", "binary at c")
        try:
            extra = await asyncio.wait_for(a.recv(), 0.3)
            raise TestFailure(f"the sender got its own broadcast back: {extra!r}")
        except asyncio.TimeoutError:
            pass


async def case_streaming(ctx):
    """onData runs at a message's first frame; Message::read() yields chunks as frames
    arrive; a client gone mid-message makes read() fail (MessageError)."""
    server = ctx.server("--heartbeat-ms", 0)
    raw = await RawClient.open(server.port, "/stream")
    # Each reply arrives before the next fragment is even sent.
    await raw.send_frame(OP_TEXT, b"abc", fin=False)
    _, data, _ = await raw.recv_message(what="chunk:3 before the message's next fragment")
    check_eq(data, b"chunk:3", "first chunk of a streamed message")
    await raw.send_frame(OP_CONT, b"defg", fin=False)
    _, data, _ = await raw.recv_message(what="chunk:4")
    check_eq(data, b"chunk:4", "second chunk, delivered as it arrived")
    await raw.send_frame(OP_CONT, b"h", fin=True)
    _, data, _ = await raw.recv_message(what="chunk:1")
    check_eq(data, b"chunk:1", "last chunk")
    _, data, _ = await raw.recv_message(what="end of the streamed message")
    check_eq(data, b"end:3:8", "end of the streamed message (chunks:bytes)")
    # A second message on the same connection: onData again, once.
    await raw.send_frame(OP_BINARY, b"0123456789")
    _, data, _ = await raw.recv_message(what="chunk:10")
    check_eq(data, b"chunk:10", "a single-frame message is one chunk")
    _, data, _ = await raw.recv_message(what="end:1:10")
    check_eq(data, b"end:1:10", "end of the single-frame message")
    # The client vanishes mid-message: read() fails, then onClose runs.
    await raw.send_frame(OP_TEXT, b"part", fin=False)
    _, data, _ = await raw.recv_message(what="chunk:4 of the unfinished message")
    raw.abort()

    async def failed():
        lines = await events_dump(server)
        errors = [line for line in lines if line.startswith("stream-error stream ")]
        closes = [line for line in lines if line.startswith("close stream ")]
        return (errors, closes) if errors and closes else None
    errors, closes = await wait_until(failed, 5, "MessageError in read() and onClose")
    check_eq(len(errors), 1, f"read() failures: {errors!r}")
    check(closes[0].split(" ")[3] == "1006", f"onClose after the drop: {closes[0]!r}, expected 1006")
    lines = await events_dump(server)
    check_eq([line.split(" ")[0] for line in lines if " stream " in line],
             ["open", "data", "data", "data", "stream-error", "close"],
             "stream callbacks in order (3 messages, each onData once)")


CASES = {
    "sizes": case_sizes,
    "streaming": case_streaming,
    "big": case_big,
    "fragmented": case_fragmented,
    "cli": case_cli,
}

if __name__ == "__main__":
    main(CASES)
