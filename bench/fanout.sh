#!/usr/bin/env bash
# Fan-out: 1 publisher, 1,000 subscribers (issue 10). aerie's built-in `broadcast` app (one
# serialised frame shared by all recipients) against a Node `ws` server that loops over its
# clients (bench/peers/ws_broadcast.cjs), each pinned to core 0 with one worker/process,
# aerie-bench on core 1 as publisher and subscribers (open loop at RATE messages/s, every
# delivery validated). Prints per server the medians over ROUNDS of delivered messages/s,
# p99 latency and the server's CPU per delivered message, and aerie's CPU ratio to Node.
#   bench/fanout.sh [OUTDIR]   ROUNDS=3 SECS=8 CONNS=1000 RATES="100 300" SIZE=64
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/aerie-fanout-$(date +%s)}
rounds=${ROUNDS:-3}
secs=${SECS:-8}
conns=${CONNS:-1000}
rates=${RATES:-100 300}
size=${SIZE:-64}
mkdir -p "$out"
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build
cmake --build --preset release -j "$(nproc)" --target aerie-bench >/dev/null
export NODE_PATH=$PWD/tests/interop/node/node_modules

: >"$out/results.txt"
for round in $(seq "$rounds"); do
  for rate in $rates; do
    for name in aerie node; do
      if [[ $name == aerie ]]; then
        start_pinned_server "$out/$name.log" 0 "${aerie_server[@]}" --port 0 --ws /bc=broadcast
      else
        start_pinned_server "$out/$name.log" 9561 node bench/peers/ws_broadcast.cjs 9561
      fi
      json="$out/$name-r$round-$rate.json"
      taskset -c 1 "$bin/aerie-bench" broadcast "ws://127.0.0.1:$port/bc" -c "$conns" \
        --publishers 1 --rate "$rate" --size "$size" --duration "$secs" \
        --server-pid "$server_pid" --json -q >"$json" || true
      stop_server
      python3 - "$json" "$name" "$rate" "$round" <<'PY' | tee -a "$out/results.txt"
import json, sys
path, name, rate, rnd = sys.argv[1:]
d = json.load(open(path))
print(f"round={rnd} rate={rate} server={name} deliveries_per_s={d['msgs_per_s']:.0f} "
      f"p99_us={d['latency_us']['p99']:.0f} srv_us={d['server']['cpu_us_per_msg']:.3f} "
      f"srv_pct={d['server']['cpu_pct']:.0f} errors={d['errors']}")
PY
    done
  done
done

PYTHONPATH=bench python3 - "$out/results.txt" <<'PY'
import sys
from results import median, read
runs = read(sys.argv[1], "rate", "server")
print(f"{'rate':>5} {'server':7} {'deliveries/s':>13} {'p99 ms':>8} {'srv us/delivery':>16} {'srv CPU %':>9} {'errors':>6}")
for rate in sorted({r for r, _ in runs}, key=int):
    for server in ("aerie", "node"):
        rows = runs[(rate, server)]
        print(f"{int(rate):5d} {server:7} {median(rows, 'deliveries_per_s'):13.0f} {median(rows, 'p99_us') / 1000:8.1f} "
              f"{median(rows, 'srv_us'):16.3f} {median(rows, 'srv_pct'):9.0f} {sum(int(r['errors']) for r in rows):6d}")
    ratio = median(runs[(rate, "aerie")], "srv_us") / median(runs[(rate, "node")], "srv_us")
    print(f"{int(rate):5d} aerie/node server CPU per delivery: {ratio:.2f} (target <= 0.20)")
PY
echo "raw results: $out"
