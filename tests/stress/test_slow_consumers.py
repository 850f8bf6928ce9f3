"""Slow consumers against aerie-stress-server's /fanout (each message goes to every other
/fanout client, the sends NOT awaited, so nothing but maxBackpressure bounds what waits
for a client that does not read).

100 clients complete their handshake with a 4 KiB receive buffer and never read again;
5 good clients read everything; a publisher sends 2,048 messages of 32 KiB (64 MiB per
recipient), never more than 8 messages ahead of the slowest good client (so the good
ones never hold more than maxBackpressure, 1 MiB). Asserts:
  - the server's peak RSS grows by at most 100 x maxBackpressure + 32 MiB of slack (the
    good clients' buffers, one in-flight message per slow client, the allocator); without
    the limit 100 x 64 MiB would wait;
  - every slow client is closed with 1008 (onClose counts) and its connection dropped
    (closePeriod: the close handshake cannot end, it does not read);
  - every good client receives all 2,048 messages, in order, and stays open."""

import asyncio
import json
import struct
import time

from stress_common import (KIB, MIB, OP_BINARY, SANITIZED, Client, TestFailure,
                           blocking_handshake, check,
                           fd_count, figure, http_get, main, peak_rss_kib, rss_kib)

SLOW, GOOD = 100, 5
COUNT, SIZE = 2048, 32 * KIB
MAX_BACKPRESSURE = 1 * MIB
SLACK = 32 * MIB
AHEAD = 8  # messages the publisher may be ahead of the slowest good client


def drain_until_end(sock):
    """Reads a slow client's socket to its end; fails if the server left it open."""
    total = 0
    sock.settimeout(10)
    try:
        while True:
            chunk = sock.recv(256 * KIB)
            if not chunk:
                break
            total += len(chunk)
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise TestFailure(f"a slow client's connection is still open ({total} bytes read)")
    finally:
        sock.close()
    return total


async def fanout_stats(port):
    return json.loads(await http_get(port, "/stats"))["fanout"]


async def case_slow_consumers(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--max-backpressure", MAX_BACKPRESSURE,
                        "--high-water-mark", 256 * KIB, "--low-water-mark", 64 * KIB,
                        "--close-period-ms", 1000, "--max-frames-per-second", 0,
                        "--max-bytes-per-minute", 0, "--max-connections", 500,
                        "--connections-per-ip", 500)
    slow = [blocking_handshake(server.port, "/fanout", rcvbuf=4 * KIB) for _ in range(SLOW)]
    good = [await Client.open(server.port, "/fanout") for _ in range(GOOD)]
    publisher = await Client.open(server.port, "/fanout")
    await asyncio.sleep(0.5)
    base_rss, base_fds = rss_kib(server.pid), fd_count(server.pid)
    received = [0] * GOOD
    progress = asyncio.Event()

    async def read_all(index):
        client = good[index]
        for seq in range(COUNT):
            opcode, data = await client.recv(30, f"message #{seq} at good client {index}")
            check(opcode == OP_BINARY and len(data) == SIZE,
                  f"good client {index}, message #{seq}: opcode {opcode}, {len(data)} bytes")
            got = struct.unpack("!I", data[:4])[0]
            check(got == seq, f"good client {index} got message #{got} where #{seq} was due")
            received[index] += 1
            progress.set()

    readers = [asyncio.create_task(read_all(i)) for i in range(GOOD)]
    started = time.monotonic()
    filler = bytes(SIZE - 4)
    for seq in range(COUNT):
        while seq - min(received) > AHEAD:
            progress.clear()
            await asyncio.wait_for(progress.wait(), 30)
            for task in readers:
                if task.done() and task.exception():
                    raise task.exception()
        await publisher.send(OP_BINARY, struct.pack("!I", seq) + filler)
    await asyncio.gather(*readers)
    took = time.monotonic() - started
    peak = peak_rss_kib(server.pid)
    # The slow ones: 1008, then dropped once the close period is over.
    deadline = time.monotonic() + 15
    while True:
        stats = await fanout_stats(server.port)
        if stats["closes"] >= SLOW or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    while fd_count(server.pid) > base_fds - SLOW and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    end_fds = fd_count(server.pid)
    growth_kib = peak - base_rss
    bound_kib = (SLOW * MAX_BACKPRESSURE + SLACK) // KIB
    figure("slow_consumers.flood", f"{COUNT} x {SIZE // KIB} KiB to {GOOD} good + {SLOW} slow "
                                   f"clients in {took:.2f} s "
                                   f"({COUNT * SIZE * GOOD / took / MIB:.0f} MiB/s delivered)")
    figure("slow_consumers.rss_kib", f"{base_rss} before, peak {peak} (+{growth_kib} KiB, "
                                     f"{growth_kib * 1024 // SLOW} bytes per slow client)")
    figure("slow_consumers.rss_bound_kib", f"{bound_kib} = {SLOW} x maxBackpressure "
                                           f"{MAX_BACKPRESSURE // KIB} KiB + {SLACK // MIB} MiB slack")
    figure("slow_consumers.onclose_codes", stats["codes"])
    check(all(r == COUNT for r in received), f"good clients received {received} of {COUNT}")
    check(stats["codes"].get("1008") == SLOW and stats["closes"] == SLOW,
          f"onClose of /fanout clients: {stats} (expected {SLOW} x 1008)")
    check(stats["live"] == GOOD + 1, f"{stats['live']} /fanout clients open, expected {GOOD + 1}")
    check(end_fds <= base_fds - SLOW, f"the server holds {end_fds} descriptors, expected at most "
                                      f"{base_fds - SLOW} once the slow clients were dropped")
    if not SANITIZED:
        check(growth_kib <= bound_kib, f"peak RSS grew by {growth_kib} KiB, more than {SLOW} x "
                                       f"maxBackpressure + slack ({bound_kib} KiB)")
    # The slow clients' side: what the server had written for them, then the end of the
    # connection (EOF or reset), not a connection left open.
    unread = [drain_until_end(sock) for sock in slow]
    figure("slow_consumers.slow_client_received_kib",
           f"min {min(unread) // KIB}, max {max(unread) // KIB} (of {COUNT * SIZE // KIB})")
    for client in good:
        await client.close()
    await publisher.close()
    server.stop()


CASES = {"slow_consumers": case_slow_consumers}

if __name__ == "__main__":
    main(CASES)
