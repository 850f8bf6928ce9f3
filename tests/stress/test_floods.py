"""Floods against aerie-stress-server's /echo: the rate limits throttle (docs/options.md:
"reading from the client pauses"; they do not close) and an absurd frame length is refused
from the header alone.

frames_per_second  --max-frames-per-second 10: 50 frames, one per read, are echoed over at
                   least 3 s (11 per one-second window), throttled, not closed; a second
                   client meanwhile echoes without waiting. Also checks that a burst of
                   40 frames in one write is held to the limit too (the parser stops at it)
bytes_per_minute   --max-bytes-per-minute 256 KiB: 16 KiB messages, one per read: the 16
                   within the budget are echoed at once, the 17th waits for the minute to
                   end (45-75 s), the rest follow at once, on the same connection; a second
                   client is not slowed meanwhile
huge_frame         a frame header announcing 2 GiB (then a few payload bytes) is answered at
                   once with close 1009, onClose(1009) runs, and the server's peak RSS does
                   not jump (nothing is allocated for the announced length)"""

import asyncio
import json
import struct
import time

from stress_common import (KIB, MIB, OP_BINARY, OP_CLOSE, OP_TEXT, Client, SANITIZED, check,
                           figure, frame, http_get, main, peak_rss_kib)


def stress_server(ctx, *limits):
    return ctx.server("--heartbeat-ms", 0, "--connections-per-ip", 100, *limits)


async def bystander(port, stop, what):
    """Echoes every 50 ms on its own connection; returns the worst round trip."""
    client = await Client.open(port, "/echo")
    worst, rounds = 0.0, 0
    while not stop.is_set():
        t0 = time.monotonic()
        await client.echo(f"bystander {rounds}".encode(), OP_TEXT, timeout=10)
        worst = max(worst, time.monotonic() - t0)
        rounds += 1
        await asyncio.sleep(0.05)
    await client.close()
    return worst, rounds


def check_bystander(worst, rounds, what):
    check(rounds >= 5, f"the other client did only {rounds} round trips during {what}")
    bound = 2.0  # starvation, not speed: generous for a loaded 2-core machine and ASan
    check(worst < bound, f"an echo to the other client took {worst:.2f} s during {what}")


async def case_frames_per_second(ctx):
    limit, count = 10, 50
    server = stress_server(ctx, "--max-frames-per-second", limit, "--max-bytes-per-minute", 0)
    stop = asyncio.Event()
    other = asyncio.create_task(bystander(server.port, stop, "the frame flood"))
    flooder = await Client.open(server.port, "/echo")
    # One frame per write, each sent as soon as the previous echo came back: every frame
    # arrives in a read of its own, so the count is exact. The read that takes the count
    # beyond the limit pauses reading until the second is over.
    started = time.monotonic()
    arrivals = []
    for i in range(count):
        await flooder.echo(f"m{i}".encode(), OP_TEXT, timeout=15)
        arrivals.append(time.monotonic() - started)
    took = arrivals[-1]
    first_second = sum(1 for t in arrivals if t < 1.0)
    await flooder.echo(b"after the flood", OP_TEXT)  # throttled, not closed
    await flooder.close()
    # A burst in one write arrives in one read: the limit holds within it (the parser stops
    # at the limit and keeps the rest until the window moves on), so 40 frames at 10 per
    # second take at least three more windows, however they were sent.
    burst = await Client.open(server.port, "/echo")
    burst_count = 4 * limit
    t0 = time.monotonic()
    burst.writer.write(b"".join(frame(OP_TEXT, f"b{i}") for i in range(burst_count)))
    burst_arrivals = []
    for i in range(burst_count):
        opcode, data = await burst.recv(15, f"echo #{i} of the burst")
        check((opcode, data) == (OP_TEXT, f"b{i}".encode()), f"burst echo #{i}: {data[:40]!r}")
        burst_arrivals.append(time.monotonic() - t0)
    burst_first_second = sum(1 for t in burst_arrivals if t < 1.0)
    burst_took = time.monotonic() - t0
    await burst.close()
    stop.set()
    worst, rounds = await other
    figure("floods.frames_per_second.limit", limit)
    figure("floods.frames_per_second.paced_flood", f"{count} frames (one per read) echoed in "
                                                    f"{took:.2f} s, {first_second} in the first second")
    figure("floods.frames_per_second.burst_in_one_write",
           f"{burst_count} frames sent in one write echoed in {burst_took:.2f} s, "
           f"{burst_first_second} in the first second")
    figure("floods.frames_per_second.bystander_worst_ms", f"{worst * 1000:.1f} ({rounds} echoes)")
    check_bystander(worst, rounds, "the frame flood")
    # The server's one-second windows start at its own ticks, not at our first frame: our
    # first second can span the end of one window and the start of the next, 11 frames
    # each (the read beyond the limit is processed, then reading pauses). 50 frames at 11
    # per window need at least 3 whole windows after the first; unthrottled they take a
    # fraction of a second.
    check(first_second <= 2 * (limit + 1), f"{first_second} frames echoed in the first second "
                                           f"(limit {limit} per window)")
    check(burst_first_second <= 2 * limit, f"{burst_first_second} frames of a burst echoed in the "
                                           f"first second (limit {limit} per window)")
    check(burst_took >= 2.0, f"a burst of {burst_count} frames took only {burst_took:.2f} s "
                             f"(limit {limit} per second)")
    check(took >= 3.0, f"{count} frames echoed in {took:.2f} s: not throttled")
    server.stop()


async def case_bytes_per_minute(ctx):
    budget, size, count = 256 * KIB, 16 * KIB, 24
    server = stress_server(ctx, "--max-bytes-per-minute", budget, "--max-frames-per-second", 0)
    stop = asyncio.Event()
    other = asyncio.create_task(bystander(server.port, stop, "the byte flood"))
    flooder = await Client.open(server.port, "/echo")
    started = time.monotonic()
    # One message per read (the next is sent once the previous echo came back): the read
    # that takes the minute's count beyond the budget (the 16th: 16 x (16 KiB + 8) bytes)
    # pauses reading until the minute is over.
    arrivals = []
    for i in range(count):
        payload = struct.pack("!I", i) + bytes(size - 4)
        t0 = time.monotonic()
        await flooder.echo(payload, OP_BINARY, timeout=90)
        arrivals.append((time.monotonic() - started, time.monotonic() - t0))
        if i == budget // size:
            stop.set()  # the bystander ran during the pause
    took = arrivals[-1][0]
    worst, rounds = await other
    fast = budget // size  # echoed before the pause
    waited = arrivals[fast][1]
    figure("floods.bytes_per_minute.limit_bytes", budget)
    figure("floods.bytes_per_minute.flood",
           f"{count} x {size} bytes: #1-#{fast} echoed in {arrivals[fast - 1][0]:.2f} s, #{fast + 1} "
           f"waited {waited:.1f} s, all after {took:.1f} s")
    figure("floods.bytes_per_minute.bystander_worst_ms", f"{worst * 1000:.1f} ({rounds} echoes)")
    check_bystander(worst, rounds, "the byte flood")
    check(arrivals[fast - 1][0] < 10, f"the first {fast} messages took {arrivals[fast - 1][0]:.1f} s")
    check(45 <= waited <= 75, f"message #{fast + 1} (beyond the budget) waited {waited:.1f} s, "
                              "expected the rest of the minute")
    check(max(a[1] for a in arrivals[fast + 1:]) < 10, "messages after the pause were slow")
    await flooder.echo(b"after the flood", OP_TEXT)  # throttled, not closed
    await flooder.close()
    server.stop()


async def case_huge_frame(ctx):
    server = stress_server(ctx)
    warm = await Client.open(server.port, "/echo")
    await warm.echo(bytes(64 * KIB))
    await warm.close()
    await asyncio.sleep(0.3)
    before = peak_rss_kib(server.pid)
    results = []
    for length in (2 * 1024 ** 3, 2 ** 63 - 1):
        client = await Client.open(server.port, "/echo")
        t0 = time.monotonic()
        header = frame(OP_BINARY, b"", length=length)
        client.writer.write(header + b"\x00" * 16)  # a few payload bytes follow the header
        opcode, data = await client.recv(10, f"the close frame after a {length}-byte header")
        took = time.monotonic() - t0
        check(opcode == OP_CLOSE and len(data) >= 2,
              f"a {length}-byte frame header got opcode {opcode} {data[:40]!r}, not a close frame")
        code = struct.unpack("!H", data[:2])[0]
        check(code == 1009, f"a {length}-byte frame header was answered with close {code}, not 1009")
        results.append((length, took))
        client.abort()
    # onClose ran with 1009 for both.
    deadline = time.monotonic() + 10
    while True:
        stats = json.loads(await http_get(server.port, "/stats"))["echo"]
        if stats["closes"] >= 3 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    check(stats["codes"].get("1009") == 2, f"onClose codes of /echo: {stats['codes']}")
    check(stats["duplicateCloses"] == 0 and stats["live"] == 0, f"/echo counters: {stats}")
    after = peak_rss_kib(server.pid)
    for length, took in results:
        figure(f"floods.huge_frame.close_1009_ms[{length}]", f"{took * 1000:.1f}")
    figure("floods.huge_frame.peak_rss_kib", f"{before} before, {after} after")
    check(max(t for _, t in results) < 2.0, "close 1009 was not sent at once")
    if not SANITIZED:
        check(after - before < 8 * 1024, f"peak RSS grew by {after - before} KiB after a 2 GiB "
                                         "frame header: something was allocated for it")
    # The server still serves.
    client = await Client.open(server.port, "/echo")
    await client.echo(bytes(MIB))
    await client.close()
    server.stop()


CASES = {
    "frames_per_second": case_frames_per_second,
    "bytes_per_minute": case_bytes_per_minute,
    "huge_frame": case_huge_frame,
}

if __name__ == "__main__":
    main(CASES)
