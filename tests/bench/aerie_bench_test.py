"""aerie-bench against real servers, one scenario per run (CTest label `bench`).

    aerie_bench_test.py AERIE AERIE_BENCH SCENARIO

Scenarios echo, open_loop, broadcast, connect and idle run aerie-bench for 2 s against
`aerie serve --workers 1` (echo and broadcast apps) and check its --json output: work was
done (messages > 0, or every idle connection open) and no errors. `corrupt` runs it against
a Python websockets echo server: on / it must pass (so the peer itself is fine), on /corrupt,
where the server flips one byte of the 50th echo of every connection (in its pattern; on
/corrupt-sequence in its sequence number), aerie-bench must count errors, name the bad echo
and exit 1. Timing is never asserted (shared, loaded machine).
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading

AERIE, BENCH, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3]
RUN = ["-d", "2", "-w", "0.5", "--json", "-q"]


def start_aerie():
    """`aerie serve` on a free port (port 0; the port is read back from its first line)."""
    server = subprocess.Popen(
        [AERIE, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1",
         "--connections-per-ip", "5000", "--max-connections", "5000",
         "--max-frames-per-second", "0", "--max-bytes-per-minute", "0",
         "--ws", "/echo=echo", "--ws", "/bc=broadcast"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = server.stdout.readline()
    match = re.search(r":(\d+)", line)
    if not match:
        server.kill()
        sys.exit(f"FAIL: aerie serve did not say its port: {line!r}")
    # Keep draining its log so it never blocks on a full pipe.
    threading.Thread(target=lambda: server.stdout.read(), daemon=True).start()
    return server, int(match.group(1))


def bench(*args, expect_rc=0):
    proc = subprocess.run([BENCH, *args, *RUN], capture_output=True, text=True, timeout=90)
    sys.stderr.write(proc.stderr[-3000:])
    bench.stderr = proc.stderr
    if proc.returncode != expect_rc:
        sys.exit(f"FAIL: aerie-bench {' '.join(args)} exited {proc.returncode}, expected "
                 f"{expect_rc}\nstdout: {proc.stdout[-2000:]}")
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        sys.exit(f"FAIL: aerie-bench printed no JSON: {proc.stdout[-2000:]!r}")
    print(json.dumps({k: result[k] for k in ("mode", "messages", "msgs_per_s", "errors",
                                             "connected")}))
    return result


def check(condition, what, result):
    if not condition:
        sys.exit(f"FAIL: {what}: {json.dumps(result)[:2000]}")
    print(f"ok: {what}")


def run_against_aerie():
    server, port = start_aerie()
    url = f"ws://127.0.0.1:{port}"
    pid = str(server.pid)
    try:
        if SCENARIO == "echo":
            r = bench("echo", url + "/echo", "-c", "20", "--inflight", "4", "--server-pid", pid)
            check(r["messages"] > 0 and r["errors"] == 0, "closed-loop echo, no errors", r)
            check(r["latency_us"]["count"] == r["messages"], "one latency per echo", r)
            check(r["server"]["cpu_us_per_msg"] is not None, "server CPU per message", r)
            r = bench("echo", url + "/echo", "-c", "4", "--size", "70000", "--binary",
                      "--threads", "2")
            check(r["messages"] > 0 and r["errors"] == 0, "64 KiB+ binary echo, 2 threads", r)
            # Either side of the small-frame path (payloads of up to 125 bytes are built on
            # the stack), and a payload shorter than the 8-character sequence number.
            for size in ("5", "125", "126"):
                r = bench("echo", url + "/echo", "-c", "4", "--inflight", "8", "--size", size)
                check(r["messages"] > 0 and r["errors"] == 0, f"{size} B text echo", r)
        elif SCENARIO == "open_loop":
            r = bench("echo", url + "/echo", "-c", "10", "--rate", "2000")
            check(r["messages"] > 0 and r["errors"] == 0, "open-loop echo, no errors", r)
            check(r["sent"] > 0 and r["sent"] <= 2000 * r["duration_s"] * 1.05 + 10,
                  "sends follow the schedule, never faster", r)
        elif SCENARIO == "broadcast":
            r = bench("broadcast", url + "/bc", "-c", "10", "--publishers", "2", "--rate",
                      "200", "--size", "40", "--threads", "2")
            check(r["messages"] > 0 and r["errors"] == 0, "broadcast deliveries, no errors", r)
            # 12 connections; every message reaches the 11 that did not send it.
            check(r["messages"] >= r["sent"] * 11 * 0.9, "every receiver gets the messages", r)
        elif SCENARIO == "connect":
            r = bench("connect", url + "/echo", "-c", "4", "--server-pid", pid)
            check(r["messages"] > 0 and r["errors"] == 0, "handshakes, no errors", r)
        elif SCENARIO == "idle":
            r = bench("idle", url + "/echo", "-c", "500", "--server-pid", pid)
            check(r["connected"] == 500 and r["errors"] == 0, "500 idle connections held", r)
            check(r["server"]["rss_bytes_per_conn"] is not None, "server RSS per connection", r)
        else:
            sys.exit(f"unknown scenario {SCENARIO}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def run_against_corrupting_server():
    import websockets

    async def corrupt_50th(ws):  # on /corrupt; an honest echo on any other path
        count = 0
        async for message in ws:
            count += 1
            if count == 50 and ws.path in ("/corrupt", "/corrupt-sequence"):
                message = bytearray(message.encode() if isinstance(message, str) else message)
                # The pattern (mid-payload) or the sequence number (its first characters).
                at = len(message) // 2 if ws.path == "/corrupt" else 1
                message[at] ^= 0x01  # stays ASCII, so still valid UTF-8
                message = message.decode()
            await ws.send(message)

    ready = threading.Event()
    port_box = []

    def serve():
        async def main():
            async with websockets.serve(corrupt_50th, "127.0.0.1", 0) as server:
                port_box.append(server.sockets[0].getsockname()[1])
                ready.set()
                await asyncio.Future()
        asyncio.run(main())

    threading.Thread(target=serve, daemon=True).start()
    if not ready.wait(10):
        sys.exit("FAIL: the corrupting server did not start")
    url = f"ws://127.0.0.1:{port_box[0]}"
    # First the same server without the corruption: it must pass, so the errors below come
    # from the flipped byte and not from anything else about this peer.
    r = bench("echo", url + "/", "-c", "4")
    check(r["messages"] > 0 and r["errors"] == 0, "the honest Python echo passes", r)
    for path in ("/corrupt", "/corrupt-sequence"):
        r = bench("echo", url + path, "-c", "4", expect_rc=1)
        check(r["errors"] > 0, f"a corrupted echo ({path}) is counted as an error", r)
        check("echo 49 differs from what was sent" in bench.stderr,
              "the error names the bad echo", r)


if SCENARIO == "corrupt":
    run_against_corrupting_server()
else:
    run_against_aerie()
print("PASS")
