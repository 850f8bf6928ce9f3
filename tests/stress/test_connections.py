"""Many connections against `aerie serve --ws /echo=echo --workers 1`.

idle_10k    10,000 concurrent WebSocket connections held open, echo traffic on 100 of them
            while the rest stay idle; prints the server's RSS per idle connection (a
            benchmark figure, not asserted beyond a sanity bound) and the echo latency.
churn_soak  connect / handshake / echo / close handshake in a loop for
            AERIE_STRESS_SOAK_SECONDS (default 300); asserts that the server's RSS at the
            end is within 5% of its RSS after the warm-up (a tenth of the run, at least 5 s).
            Both are measured with no connection open (the churn pauses for a second).
            The connect rate is bounded (about 100/s) and the server ends each TCP
            connection first, so TIME_WAIT does not exhaust the ephemeral ports."""

import asyncio
import os
import time

from stress_common import (KIB, OP_BINARY, OP_TEXT, Client, SANITIZED, TestFailure, check,
                           fd_count, figure, main, percentile, raise_nofile, rss_kib)

HELD = 10_000
TALKERS = 100


def cli_server(ctx, *extra):
    # Heartbeats off: idle clients that never answer pings would be closed mid-test.
    return ctx.server("--ws", "/echo=echo", "--heartbeat-ms", 0, "--max-connections", HELD + 500,
                      "--connections-per-ip", HELD + 500, *extra, cli=True)


async def open_many(port, count, batch=250):
    clients = []
    for start in range(0, count, batch):
        opened = await asyncio.gather(
            *(Client.open(port, "/echo", timeout=30) for _ in range(min(batch, count - start))))
        clients.extend(opened)
    return clients


async def case_idle_10k(ctx):
    hard = raise_nofile()
    check(hard >= HELD + 1000, f"RLIMIT_NOFILE hard limit {hard} is too low for {HELD} sockets")
    server = cli_server(ctx)
    warm = await Client.open(server.port, "/echo")
    for size in (10, 1000, 100 * KIB):
        await warm.echo(os.urandom(size))
    await warm.close()
    await asyncio.sleep(0.5)
    base_rss, base_fds = rss_kib(server.pid), fd_count(server.pid)
    started = time.monotonic()
    clients = await open_many(server.port, HELD)
    took = time.monotonic() - started
    await asyncio.sleep(1)
    held_rss, held_fds = rss_kib(server.pid), fd_count(server.pid)
    check(held_fds - base_fds >= HELD, f"the server holds {held_fds - base_fds} more descriptors "
                                       f"than before, expected {HELD}")
    per_conn = (held_rss - base_rss) * 1024 / HELD
    figure("idle_10k.connect_seconds", f"{took:.2f} ({HELD / took:.0f} handshakes/s)")
    figure("idle_10k.rss_baseline_kib", base_rss)
    figure("idle_10k.rss_held_kib", held_rss)
    figure("idle_10k.rss_per_idle_connection_bytes", f"{per_conn:.0f}")

    # Echo traffic on 100 of them, the other 9,900 idle.
    latencies = []

    async def talk(client, index):
        for round_ in range(50):
            payload = f"{index}:{round_}:".encode() + os.urandom(1000)
            t0 = time.monotonic()
            await client.echo(payload, OP_BINARY, timeout=30)
            latencies.append(time.monotonic() - t0)

    step = HELD // TALKERS
    t0 = time.monotonic()
    await asyncio.gather(*(talk(clients[i * step], i) for i in range(TALKERS)))
    echo_took = time.monotonic() - t0
    figure("idle_10k.echo_round_trips", f"{len(latencies)} in {echo_took:.2f} s")
    figure("idle_10k.echo_latency_ms",
           f"p50 {percentile(latencies, 50) * 1000:.2f}, p99 {percentile(latencies, 99) * 1000:.2f}, "
           f"max {max(latencies) * 1000:.2f}")
    busy_rss = rss_kib(server.pid)
    figure("idle_10k.rss_after_echo_kib", busy_rss)
    # Still all there: an idle one answers too.
    await clients[1].echo(b"still here", OP_TEXT)
    check(fd_count(server.pid) - base_fds >= HELD, "connections were dropped during the echo")
    if not SANITIZED:
        # Sanity bound only (the figure above is the result): 64 KiB per idle connection
        # would mean a per-connection buffer is kept for idle clients.
        check(per_conn < 64 * KIB, f"{per_conn:.0f} bytes of RSS per idle connection")
    for client in clients:
        client.abort()
    deadline = time.monotonic() + 30
    while fd_count(server.pid) > base_fds + 10 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    figure("idle_10k.rss_after_all_closed_kib", rss_kib(server.pid))
    check(fd_count(server.pid) <= base_fds + 10,
          f"{fd_count(server.pid) - base_fds} descriptors still open 30 s after the clients left")
    server.stop()


async def churn_once(port, index, sizes):
    client = await Client.open(port, "/echo", timeout=30)
    try:
        for size in sizes:
            payload = os.urandom(size)
            await client.echo(payload, OP_BINARY, timeout=30)
        await client.echo(f"text {index}".encode(), OP_TEXT, timeout=30)
        await client.close(timeout=30)
    finally:
        client.abort()


async def case_churn_soak(ctx):
    duration = float(os.environ.get("AERIE_STRESS_SOAK_SECONDS", "300"))
    warmup = max(5.0, duration / 10)
    server = cli_server(ctx)
    workers, rate = 16, 100.0  # concurrent loops; connections per second overall
    # 70,000 bytes: more than --auto-frame-size, so echoes come back fragmented.
    size_sets = [(10,), (1000, 20), (16 * KIB,), (70_000, 5)]
    done = 0
    samples = []
    started = time.monotonic()

    async def loop(worker, until):
        nonlocal done
        period = workers / rate
        while time.monotonic() < until:
            t0 = time.monotonic()
            await churn_once(server.port, done, size_sets[(done + worker) % len(size_sets)])
            done += 1
            await asyncio.sleep(max(0.0, period - (time.monotonic() - t0)))

    async def sample(until):
        while time.monotonic() < until:
            await asyncio.sleep(min(5.0, max(0.1, until - time.monotonic())))
            elapsed = time.monotonic() - started
            rss = rss_kib(server.pid)
            samples.append((elapsed, rss))
            print(f"soak t={elapsed:6.1f}s connections={done:6d} rss={rss} KiB "
                  f"fds={fd_count(server.pid)}", flush=True)

    async def run(seconds):
        """Churns for `seconds`, then lets the last close handshakes end: the RSS that
        follows is measured with no connection open, so the warm-up figure and the final
        one compare like with like (mid-traffic, in-flight 70 KB echoes move RSS by
        several percent of a 9 MB process)."""
        until = time.monotonic() + seconds
        await asyncio.gather(sample(until), *(loop(w, until) for w in range(workers)))
        await asyncio.sleep(1)
        return rss_kib(server.pid)

    warm_rss = await run(warmup)
    print(f"soak: warm-up over, rss={warm_rss} KiB, fds={fd_count(server.pid)}", flush=True)
    end_rss = await run(duration - warmup)
    took = time.monotonic() - started
    check(warm_rss is not None, "no RSS sample after the warm-up")
    figure("churn_soak.duration_seconds", f"{took:.0f} (warm-up {warmup:.0f})")
    figure("churn_soak.connections", f"{done} ({done / took:.0f}/s, 4 echoes + close each)")
    figure("churn_soak.rss_after_warmup_kib", warm_rss)
    figure("churn_soak.rss_end_kib", end_rss)
    figure("churn_soak.rss_min_max_kib",
           f"{min(r for _, r in samples)} / {max(r for _, r in samples)}")
    change = (end_rss - warm_rss) / warm_rss * 100
    figure("churn_soak.rss_change_percent", f"{change:+.2f}")
    check(done >= duration * rate / 4, f"only {done} connections in {took:.0f} s")
    if not SANITIZED:
        check(abs(change) <= 5.0, f"RSS went from {warm_rss} KiB after the warm-up to {end_rss} "
                                  f"KiB at the end ({change:+.2f}%, bound 5%)")
    server.stop()


CASES = {"idle_10k": case_idle_10k, "churn_soak": case_churn_soak}

if __name__ == "__main__":
    main(CASES)
