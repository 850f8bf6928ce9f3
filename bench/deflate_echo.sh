#!/usr/bin/env bash
# Echo throughput of 1 KiB JSON-like text with permessage-deflate: aerie against Node `ws`
# in one run (docs/BENCHMARKS.md). Server pinned to core 0 (one worker), the load generator
# (aerie-client-echo, which offers and checks compression) to core 1. Per mode (off, shared =
# no context takeover, dedicated = context takeover) and workload (100 connections with 1
# and 16 messages in flight): messages/s, server CPU per message, wire bytes per payload byte.
#   bench/deflate_echo.sh [OUTDIR]      ROUNDS=3 SECS=10
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/aerie-deflate-$(date +%s)}
rounds=${ROUNDS:-3}
secs=${SECS:-10}
mkdir -p "$out"

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build

start_server() {  # name mode port -> $server_pid
  local name=$1 mode=$2 port=$3 flags=()
  case $mode in
    off) flags=(--no-per-message-deflate) ;;
    dedicated) flags=(--deflate-context-takeover) ;;
  esac
  if [[ $name == aerie ]]; then
    start_pinned_server "$out/$name-$mode.log" "$port" "${aerie_server[@]}" --port "$port" "${flags[@]}"
  else
    start_pinned_server "$out/$name-$mode.log" "$port" node bench/deflate/ws_deflate_echo.mjs "$port" "$mode"
  fi
}

port=9300
for round in $(seq "$rounds"); do
  for mode in off shared dedicated; do
    for name in aerie node-ws; do
      port=$((port + 1))
      start_server "$name" "$mode" "$port"
      for inflight in 1 16; do
        line=$(taskset -c 1 "$bin/aerie-client-echo" --url "ws://127.0.0.1:$port/" --conns 100 \
          --inflight "$inflight" --size 1024 --payload json --deflate "$mode" --warmup 2 \
          --seconds "$secs" --server-pid "$server_pid")
        echo "round=$round server=$name mode=$mode inflight=$inflight $line" | tee -a "$out/results.txt"
      done
      stop_server
    done
  done
done

# Medians per server, mode and workload; ratio of server CPU per message to Node ws's.
PYTHONPATH=bench python3 - "$out/results.txt" <<'PY'
import sys
from results import median, read
runs = read(sys.argv[1], "mode", "inflight", "server")
med = lambda key, name: median(runs[key], name)
print(f"{'mode':10} {'inflight':>8} {'server':8} {'msgs/s':>9} {'srv us/msg':>10} {'wire ratio':>10} {'vs ws CPU':>9}")
for mode in ("off", "shared", "dedicated"):
    for inflight in ("1", "16"):
        base = med((mode, inflight, "node-ws"), "server_us_per_msg")
        for server in ("aerie", "node-ws"):
            key = (mode, inflight, server)
            us = med(key, "server_us_per_msg")
            print(f"{mode:10} {inflight:>8} {server:8} {med(key, 'msgs_per_s'):9.0f} {us:10.2f} "
                  f"{med(key, 'wire_ratio'):10.3f} {us / base:9.2f}")
PY
echo "raw results: $out/results.txt"
