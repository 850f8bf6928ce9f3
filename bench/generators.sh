#!/usr/bin/env bash
# aerie-bench against ../shared/bench/wsload, the requirement of issue 10 that aerie-bench
# "drives wsload's figures or better against the same server in one run": one `aerie serve
# --workers 1` pinned to core 0, the two generators taking turns on core 1 (the order
# alternating between rounds), workloads A (100 x 20 B, 1 in flight), B (16 in flight) and
# C (10 x 64 KiB binary). Per run: msgs/s, the generator's own CPU per message, the server's
# CPU per message; then medians and the median of the per-round msgs/s ratios.
#   bench/generators.sh [OUT]      ROUNDS=6 SECS=5 ROWS="A B C"
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED_BENCH:-$(cd .. && pwd)/shared/bench}
out=${1:-/tmp/aerie-generators-$(date +%s)}
rounds=${ROUNDS:-6}
secs=${SECS:-5}
rows=${ROWS:-A B C}
mkdir -p "$out"
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build
cmake --build --preset release -j "$(nproc)" --target aerie-bench >/dev/null
wsload=$out/wsload
g++ -O2 -std=c++20 -o "$wsload" "$shared/wsload.cpp" -lpthread

declare -A wsload_args=([A]="--conns 100 --size 20 --inflight 1"
  [B]="--conns 100 --size 20 --inflight 16" [C]="--conns 10 --size 65536 --inflight 1 --binary")
declare -A bench_args=([A]="-c 100 --size 20 --inflight 1" [B]="-c 100 --size 20 --inflight 16"
  [C]="-c 10 --size 65536 --inflight 1 --binary")

start_pinned_server "$out/server.log" 9061 "${aerie_server[@]}" --port 9061
trap stop_server EXIT

run_wsload() {  # run_wsload ROW ROUND
  # shellcheck disable=SC2086  # the arguments are words
  taskset -c 1 "$wsload" --port 9061 ${wsload_args[$1]} --seconds "$secs" --warmup 1 \
    --server-pid "$server_pid" 2>/dev/null |
    python3 bench/generator_result.py wsload "$1" "$2" | tee -a "$out/results.txt"
}

run_bench() {  # run_bench ROW ROUND
  # shellcheck disable=SC2086
  taskset -c 1 "$bin/aerie-bench" echo ws://127.0.0.1:9061/ ${bench_args[$1]} -d "$secs" -w 1 \
    -q --json --server-pid "$server_pid" |
    python3 bench/generator_result.py aerie-bench "$1" "$2" | tee -a "$out/results.txt"
}

for round in $(seq "$rounds"); do
  for row in $rows; do
    if ((round % 2)); then
      run_wsload "$row" "$round"
      run_bench "$row" "$round"
    else
      run_bench "$row" "$round"
      run_wsload "$row" "$round"
    fi
  done
done

PYTHONPATH=bench python3 - "$out/results.txt" "$rows" <<'PY' | tee "$out/summary.md"
import statistics, sys
from results import read, median
runs = read(sys.argv[1], "row", "gen", require="msgs_per_s")
print("| row | wsload msgs/s | aerie-bench msgs/s | ratio (median of rounds) | wsload µs/msg "
      "| aerie-bench µs/msg | server µs/msg (wsload / aerie-bench) |")
print("|---|---|---|---|---|---|---|")
for row in sys.argv[2].split():
    w, b = runs[(row, "wsload")], runs[(row, "aerie-bench")]
    by_round = {r["round"]: float(r["msgs_per_s"]) for r in w}
    ratios = [float(r["msgs_per_s"]) / by_round[r["round"]] for r in b
              if by_round.get(r["round"])]
    ratio = statistics.median(ratios) if ratios else float("nan")
    print(f"| {row} | {median(w, 'msgs_per_s'):,.0f} | {median(b, 'msgs_per_s'):,.0f} "
          f"| {ratio:.2f} | {median(w, 'client_us'):.3f} | {median(b, 'client_us'):.3f} "
          f"| {median(w, 'server_us'):.3f} / {median(b, 'server_us'):.3f} |")
PY
