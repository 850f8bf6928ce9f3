#!/usr/bin/python3
"""Server RSS per idle connection with permessage-deflate negotiated vs not (issue 6).

Starts `aerie serve` (one worker), opens N connections with Python's websockets client
(which offers permessage-deflate) and reports the server's RSS growth per connection:
  off      --no-per-message-deflate: nothing negotiated
  shared   the default (shared mode): negotiated, nothing sent
  off-used nothing negotiated, every connection exchanged one 1.2 KB message first
  used     shared mode, every connection exchanged one compressible message first (its
           inflater is created), measured after the 5 s idle release
Run with Debian's interpreter:  /usr/bin/python3 bench/idle_deflate.py build/release/bin/aerie 2000
"""

import asyncio
import re
import subprocess
import sys

import websockets


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


async def measure(aerie, count, mode):
    flags = ["--no-per-message-deflate"] if mode.startswith("off") else []
    proc = subprocess.Popen(
        [aerie, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1", "--ws", "/=echo",
         "--heartbeat-ms", "0", "--max-connections", "100000", "--connections-per-ip", "100000",
         "--max-frames-per-second", "0", "--max-bytes-per-minute", "0", *flags],
        stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
    await asyncio.sleep(0.5)
    before = rss_kib(proc.pid)
    conns = []
    for _ in range(count):
        conns.append(await websockets.connect(f"ws://127.0.0.1:{port}/", ping_interval=None,
                                              max_size=None))
    negotiated = sum(1 for c in conns if c.extensions)
    if mode.endswith("used"):
        for c in conns:
            await c.send("compress me " * 100)
            await c.recv()
        await asyncio.sleep(7)  # the server releases idle inflaters after 5 s
    await asyncio.sleep(1)
    after = rss_kib(proc.pid)
    for c in conns:
        await c.close()
    proc.terminate()
    proc.wait()
    per = (after - before) * 1024 / count
    print(f"{mode:8s} connections={count} negotiated={negotiated} "
          f"rss_growth_kib={after - before} bytes_per_conn={per:.0f}", flush=True)
    return per


async def main():
    aerie = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    results = {mode: await measure(aerie, count, mode)
               for mode in ("off", "shared", "off-used", "used")}
    print(f"shared - off = {results['shared'] - results['off']:.0f} bytes per connection; "
          f"used - off-used = {results['used'] - results['off-used']:.0f}")


asyncio.run(main())
