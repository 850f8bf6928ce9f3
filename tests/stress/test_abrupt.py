"""Abrupt disconnects against aerie-stress-server: clients that vanish in the middle of a
handshake or of a frame, by RST (SO_LINGER 0 then close) or by half-close
(shutdown(SHUT_WR), then waiting for the server to end the connection).

Each round opens 30 victims of each kind on /abrupt (an echo app that counts onOpen and
onClose per client) while a bystander echoes on /echo. After every round: /abrupt's
onClose ran exactly once per opened client, always with 1006, never for a client whose
handshake was cut; the server holds no more descriptors than before the round; the
bystander never waited. Over the rounds the server's live heap (malloc's bytes in use, from
/stats) must not keep growing (release builds) and, under ASan, LeakSanitizer checks the
server at its graceful exit. RSS is reported but not checked: it keeps the high-water mark
of freed memory an arena holds on to, and that depends on how many victims overlapped."""

import asyncio
import json
import os
import socket
import time

from stress_common import (MIB, OP_BINARY, OP_TEXT, SANITIZED, Client, TestFailure, check,
                           fd_count, figure, frame, handshake_request, http_get, main,
                           rss_kib, set_linger_zero)

PER_KIND = 30
ROUNDS = 5

# kind: (completes the handshake, how it ends)
KINDS = {
    "handshake_half_rst": (False, "rst"),
    "handshake_half_shutdown": (False, "shutdown"),
    "handshake_done_rst": (True, "rst"),
    "frame_header_rst": (True, "rst"),
    "frame_payload_rst": (True, "rst"),
    "frame_payload_shutdown": (True, "shutdown"),
    "fragmented_message_rst": (True, "rst"),
    "fragmented_message_shutdown": (True, "shutdown"),
}


async def victim(port, kind):
    """Connects, gets as far as `kind` says, then vanishes. Returns (whether it had opened,
    for a half-close: how long the server took to end the connection)."""
    opens, ending = KINDS[kind]
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), 10)
        request = handshake_request("/abrupt", port)
        if not opens:
            await loop.sock_sendall(sock, request[: len(request) // 2])
        else:
            await loop.sock_sendall(sock, request)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 1), 10)
                check(chunk, f"{kind}: connection closed during the handshake")
                head += chunk
            check(head.startswith(b"HTTP/1.1 101"), f"{kind}: handshake answered {head[:60]!r}")
            if kind == "frame_header_rst":
                await loop.sock_sendall(sock, frame(OP_BINARY, bytes(1000))[:3])
            elif kind.startswith("frame_payload"):
                await loop.sock_sendall(sock, frame(OP_BINARY, os.urandom(100_000))[:50_000])
            elif kind.startswith("fragmented_message"):
                await loop.sock_sendall(sock, frame(OP_TEXT, "first part ", fin=False) +
                                        frame(0, "second part", fin=False))
            # Give the server time to take what was sent (and to run onOpen) first.
            await asyncio.sleep(0.05)
        if ending == "rst":
            set_linger_zero(sock)
        else:
            sock.shutdown(socket.SHUT_WR)
            # The server must end the connection by itself (it may answer first).
            shut_at = time.monotonic()
            deadline = shut_at + 15
            while True:
                check(time.monotonic() < deadline,
                      f"{kind}: the server kept a half-closed connection open for 15 s")
                try:
                    data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 15)
                except ConnectionError:
                    break
                if not data:
                    break
            return opens, time.monotonic() - shut_at
        return opens, None
    finally:
        sock.close()


async def abrupt_stats(port):
    return json.loads(await http_get(port, "/stats"))


async def settle(port, expected_closes, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        stats = (await abrupt_stats(port))["abrupt"]
        if (stats["closes"] >= expected_closes and stats["live"] == 0) or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.1)


async def bystander(port, stop):
    client = await Client.open(port, "/echo")
    worst, rounds = 0.0, 0
    while not stop.is_set():
        t0 = time.monotonic()
        payload = f"bystander {rounds} ".encode() + os.urandom(2000)
        await client.echo(payload, OP_BINARY, timeout=10)
        worst = max(worst, time.monotonic() - t0)
        rounds += 1
        await asyncio.sleep(0.02)
    await client.echo(b"still open", OP_TEXT)
    await client.close()
    return worst, rounds


async def case_disconnects(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--connections-per-ip", 1000, "--max-connections",
                        2000, "--header-timeout-ms", 10000, "--close-period-ms", 1000)
    stop = asyncio.Event()
    other = asyncio.create_task(bystander(server.port, stop))
    await asyncio.sleep(0.2)
    base_fds = fd_count(server.pid)
    opened_total = 0
    half_close_worst = 0.0
    rss_after = []
    heap_after = []
    for round_ in range(ROUNDS):
        kinds = [kind for kind in KINDS for _ in range(PER_KIND)]
        results = await asyncio.gather(*(victim(server.port, kind) for kind in kinds))
        opened_total += sum(opens for opens, _ in results)
        ended = [took for _, took in results if took is not None]
        half_close_worst = max(half_close_worst, max(ended))
        stats = await settle(server.port, opened_total)
        check(stats["opens"] == opened_total,
              f"round {round_}: {stats['opens']} onOpen for {opened_total} completed handshakes")
        check(stats["closes"] == opened_total and stats["live"] == 0,
              f"round {round_}: onClose ran {stats['closes']} times for {opened_total} opened "
              f"clients ({stats['live']} still open)")
        check(stats["duplicateCloses"] == 0, f"round {round_}: onClose twice for a client: {stats}")
        check(stats["closesWithoutOpen"] == 0,
              f"round {round_}: onClose for a client that never opened: {stats}")
        check(stats["codes"] == {"1006": opened_total},
              f"round {round_}: onClose codes {stats['codes']}, expected only 1006")
        deadline = time.monotonic() + 15
        while fd_count(server.pid) > base_fds and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # half-closed ones may still be ending
        check(fd_count(server.pid) <= base_fds,
              f"round {round_}: the server holds {fd_count(server.pid) - base_fds} more "
              "descriptors than before the round")
        check(not other.done(), "the bystander stopped during the disconnects")
        rss_after.append(rss_kib(server.pid))
        heap_after.append((await abrupt_stats(server.port))["heapInUse"] // 1024)
        print(f"round {round_}: {len(kinds)} victims, {opened_total} opened so far, "
              f"codes {stats['codes']}, fds {fd_count(server.pid)}, rss {rss_after[-1]} KiB, "
              f"heap in use {heap_after[-1]} KiB", flush=True)
    stop.set()
    worst, rounds = await other
    figure("abrupt.victims", f"{ROUNDS * len(KINDS) * PER_KIND} ({len(KINDS)} kinds x {PER_KIND} "
                             f"x {ROUNDS} rounds), {opened_total} past the handshake")
    figure("abrupt.onclose", f"exactly once per opened client, all 1006")
    figure("abrupt.rss_after_rounds_kib", " ".join(str(r) for r in rss_after))
    figure("abrupt.heap_in_use_after_rounds_kib", " ".join(str(h) for h in heap_after))
    figure("abrupt.half_close_ended_worst_ms", f"{half_close_worst * 1000:.1f}")
    figure("abrupt.bystander_worst_ms", f"{worst * 1000:.1f} ({rounds} echoes)")
    check(rounds >= 10, f"the bystander did only {rounds} echoes")
    # Starvation, not speed (the driver itself is busy with 240 victims at once): waiting
    # for a victim's timeout (10 s header timeout) would exceed this.
    check(worst < 5.0, f"a bystander echo took {worst:.2f} s during the disconnects")
    # A half-close is an EOF the server sees at once: it must not wait for the header
    # timeout (10 s) or another timer to end the connection.
    check(half_close_worst < 5.0,
          f"the server took {half_close_worst:.2f} s to end a half-closed connection")
    if not SANITIZED:
        # 720 clients open and close between round 1 and the last: a leak of even 200 bytes
        # each would exceed this; containers that keep their grown capacity stay well under.
        growth = heap_after[-1] - heap_after[0]
        check(growth < 128, f"the live heap grew by {growth} KiB from round 1 to round {ROUNDS}")
    out = server.stop()
    final = [line for line in out.splitlines() if line.startswith("stats ")]
    check(final, f"the server printed no final stats: {out!r}")
    print(f"server's final counters: {final[0][6:]}", flush=True)


CASES = {"disconnects": case_disconnects}

if __name__ == "__main__":
    main(CASES)
