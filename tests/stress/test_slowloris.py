"""Slowloris against `aerie serve --ws /echo=echo --header-timeout-ms 5000`: 1,000
connections each send the upgrade request one byte per second. Meanwhile a normal client
connects, completes its handshake and gets an echo, again and again: its latency is the
figure (target 100 ms; asserted < 1 s, because on a loaded 2-core machine with the driver
itself juggling 1,000 sockets a 100 ms bound would fail for reasons that are not the
server's). The slow connections must then be dropped at the header timeout: none before
it (they are not idle), all within a few seconds after it.

--connections-per-ip and --max-connections are raised on purpose: with the defaults (30
per IP) the limit alone would refuse this attack from one address, and the test is about
the header timeout."""

import asyncio
import os
import time

from stress_common import (OP_BINARY, SANITIZED, Client, check, fd_count, figure, main,
                           percentile, rss_kib)

SLOW = 1000
HEADER_TIMEOUT = 5.0
REQUEST = (b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


async def slow_client(port, connected, results):
    """Sends one byte of the request per second until the server ends the connection;
    records (seconds from connect to the end, bytes sent, what the server answered)."""
    started = time.monotonic()  # before connect(): the server cannot have seen it earlier
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
    connected.append(time.monotonic())
    answer = b""
    sent = 0

    async def drip():
        nonlocal sent
        for byte in REQUEST:
            writer.write(bytes([byte]))
            sent += 1
            await asyncio.sleep(1)

    dripping = asyncio.create_task(drip())
    try:
        while True:
            chunk = await reader.read(4096)
            if not chunk:
                break
            answer += chunk
    except ConnectionError:
        pass
    ended = time.monotonic() - started
    dripping.cancel()
    writer.transport.abort()
    results.append((ended, sent, answer.split(b"\r\n", 1)[0]))


async def normal_client(port):
    t0 = time.monotonic()
    client = await Client.open(port, "/echo", timeout=10)
    await client.echo(os.urandom(100), OP_BINARY, timeout=10)
    took = time.monotonic() - t0
    await client.close()
    return took


async def case_slowloris(ctx):
    server = ctx.server("--ws", "/echo=echo", "--heartbeat-ms", 0,
                        "--header-timeout-ms", int(HEADER_TIMEOUT * 1000),
                        "--max-connections", SLOW + 500, "--connections-per-ip", SLOW + 500,
                        cli=True)
    quiet = [await normal_client(server.port) for _ in range(10)]
    base_rss, base_fds = rss_kib(server.pid), fd_count(server.pid)
    connected, results = [], []
    attack_started = time.monotonic()
    slow = [asyncio.create_task(slow_client(server.port, connected, results))
            for _ in range(SLOW)]
    while len(connected) < SLOW:
        check(not any(t.done() and t.exception() for t in slow), "a slow client failed to connect")
        await asyncio.sleep(0.05)
    spread = max(connected) - attack_started
    attack_fds = fd_count(server.pid) - base_fds
    # Under attack: one normal client every 100 ms while the slow ones are all pending
    # (stop well before the first of them reaches the header timeout).
    loaded = []
    while time.monotonic() < min(connected) + HEADER_TIMEOUT - 1.0 or len(loaded) < 5:
        loaded.append(await normal_client(server.port))
        await asyncio.sleep(0.1)
    attack_rss = rss_kib(server.pid)
    await asyncio.wait_for(asyncio.gather(*slow), HEADER_TIMEOUT + 30)
    after = await normal_client(server.port)
    ends = [ended for ended, _, _ in results]
    answers = {}
    for _, _, status in results:
        answers[status.decode(errors="replace") or "(closed without an answer)"] = \
            answers.get(status.decode(errors="replace") or "(closed without an answer)", 0) + 1
    figure("slowloris.slow_connections", f"{SLOW} (connected within {spread:.2f} s, "
                                         f"{attack_fds} server descriptors)")
    figure("slowloris.normal_client_ms_quiet",
           f"p50 {percentile(quiet, 50) * 1000:.1f}, max {max(quiet) * 1000:.1f}")
    figure("slowloris.normal_client_ms_under_attack",
           f"p50 {percentile(loaded, 50) * 1000:.1f}, p90 {percentile(loaded, 90) * 1000:.1f}, "
           f"max {max(loaded) * 1000:.1f} ({len(loaded)} connect+handshake+echo, target 100)")
    figure("slowloris.dropped_after_s", f"min {min(ends):.2f}, max {max(ends):.2f} "
                                        f"(header timeout {HEADER_TIMEOUT:.0f} s)")
    figure("slowloris.answers", answers)
    figure("slowloris.rss_kib", f"{base_rss} before, {attack_rss} under attack "
                                f"({(attack_rss - base_rss) * 1024 / SLOW:.0f} bytes per slow connection)")
    figure("slowloris.normal_client_ms_after", f"{after * 1000:.1f}")
    check(max(loaded) < 1.0, f"a normal client took {max(loaded) * 1000:.0f} ms to connect, "
                             "handshake and get an echo during the attack (bound 1 s)")
    check(min(ends) >= HEADER_TIMEOUT * 0.9,
          f"a slow connection was dropped after {min(ends):.2f} s, before the header timeout")
    check(max(ends) <= HEADER_TIMEOUT + 5, f"a slow connection lasted {max(ends):.2f} s "
                                           f"(header timeout {HEADER_TIMEOUT} s)")
    check(max(sent for _, sent, _ in results) < len(REQUEST),
          "a slow client sent its whole request before the timeout")
    deadline = time.monotonic() + 10
    while fd_count(server.pid) > base_fds and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    check(fd_count(server.pid) <= base_fds,
          f"{fd_count(server.pid) - base_fds} descriptors still open after the attack")
    server.stop()


CASES = {"slowloris": case_slowloris}

if __name__ == "__main__":
    main(CASES)
