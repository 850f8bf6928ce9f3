"""Backpressure: a client that does not read is closed (1008) once more than maxBackpressure
bytes wait for it, without the server's memory growing and while other clients keep being
served; a send() that is awaited suspends while the client is saturated and resumes when
it drained, so a slow but steady reader gets everything.

The /slow app: "flood N SIZE await|nowait" sends N binary messages of SIZE bytes (first 4
bytes: the index, big-endian), awaiting each send() or not, then "flood-done"."""

import asyncio
import os
import struct
import time

from aerie_interop import (OP_BINARY, OP_TEXT, RawClient, TestFailure, check, check_eq, connect,
                           events_dump, main, recv, wait_until)

KIB, MIB = 1024, 1024 * 1024


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


async def keep_serving(server, stop, what):
    """A second client that keeps echoing on the same server: every round trip must stay fast."""
    worst = 0.0
    rounds = 0
    async with connect(server.url("/slow")) as ws:
        while not stop.is_set():
            started = time.monotonic()
            await ws.send(f"ping {rounds}")
            check_eq(await recv(ws, timeout=2, what=f"echo to the other client during {what}"),
                     f"ping {rounds}", f"echo to the other client during {what}")
            worst = max(worst, time.monotonic() - started)
            rounds += 1
            await asyncio.sleep(0.02)
    check(rounds >= 3, f"the other client did only {rounds} round trips during {what}")
    # Starvation, not speed, is what this catches (a flood that blocks the loop stalls the
    # other client for the whole flood): the bound leaves room for a loaded CI machine and
    # for sanitizers, which slow everything several times.
    bound = 4.0 if os.environ.get("AERIE_INTEROP_SANITIZED") == "1" else 2.0
    check(worst < bound, f"an echo to the other client took {worst:.2f} s during {what}")
    return rounds


async def case_slow_consumer(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-backpressure", 4 * MIB,
                        "--high-water-mark", 1 * MIB, "--low-water-mark", 256 * KIB)
    baseline = peak_rss_kib(server.proc.pid)
    stop = asyncio.Event()
    serving = asyncio.create_task(keep_serving(server, stop, "the flood"))
    # A client that never reads, with a small receive window.
    slow = await RawClient.open(server.port, "/slow", rcvbuf=32 * KIB, limit=32 * KIB)
    total = 128 * 512 * KIB  # 64 MiB, queued without awaiting
    await slow.send_frame(OP_TEXT, f"flood 128 {512 * KIB} nowait")

    async def slow_closed():
        lines = await events_dump(server)
        return [line for line in lines if line.startswith("close slow ") and " 1008" in line]
    lines = await wait_until(slow_closed, 10, "onClose(1008) of the client that does not read")
    check_eq(len(lines), 1, f"clients closed with 1008: {lines!r}")
    await asyncio.sleep(0.3)
    stop.set()
    await serving
    # Its connection is gone: reading now ends (EOF or reset) within a few seconds.
    try:
        received = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = await asyncio.wait_for(slow.reader.read(1 * MIB), 5)
            if not chunk:
                break
            received += len(chunk)
        else:
            raise TestFailure("the slow consumer's connection stayed open after its 1008")
    except ConnectionError:
        pass
    check(received < total, f"the slow consumer received all {received} bytes of the flood")
    await slow.close()
    if os.environ.get("AERIE_INTEROP_SANITIZED") == "1":
        return  # ASan's quarantine and TSan's shadow memory make RSS meaningless here
    grown = peak_rss_kib(server.proc.pid) - baseline
    check(grown < 40 * 1024, f"peak RSS grew by {grown} KiB for a 64 MiB flood to a client that "
                             "does not read (maxBackpressure 4 MiB): memory was not bounded")


async def case_send_awaits_drain(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-backpressure", 2 * MIB,
                        "--high-water-mark", 512 * KIB, "--low-water-mark", 128 * KIB)
    count, size = 64, 128 * KIB  # 8 MiB: more than the kernel buffers + maxBackpressure
    stop = asyncio.Event()
    serving = asyncio.create_task(keep_serving(server, stop, "the paced flood"))
    slow = await RawClient.open(server.port, "/slow", rcvbuf=32 * KIB, limit=64 * KIB)
    await slow.send_frame(OP_TEXT, f"flood {count} {size} await")
    started = time.monotonic()
    for i in range(count):
        opcode, data, _ = await slow.recv_message(timeout=10, what=f"flood message #{i}")
        check_eq((opcode, len(data)), (OP_BINARY, size), f"flood message #{i} (opcode, size)")
        check_eq(struct.unpack("!I", data[:4])[0], i, f"index in flood message #{i} (order)")
        await asyncio.sleep(0.02)  # a slow but steady reader: ~6 MB/s
    opcode, data, _ = await slow.recv_message(timeout=10, what="flood-done")
    check_eq((opcode, data), (OP_TEXT, b"flood-done"), "message after the flood")
    took = time.monotonic() - started
    stop.set()
    await serving
    await slow.close()
    lines = await events_dump(server)
    closed = [line for line in lines if line.startswith("close slow ") and " 1008" in line]
    check(not closed, f"a client was closed as a slow consumer although its sends were awaited: {closed!r}")
    check(took >= count * 0.02, f"the paced flood took {took:.2f} s")


KNOWN_BUGS = {}

CASES = {
    "slow_consumer": case_slow_consumer,
    "send_awaits_drain": case_send_awaits_drain,
}

if __name__ == "__main__":
    main(CASES, KNOWN_BUGS)
