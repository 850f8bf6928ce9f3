#!/usr/bin/env bash
# The side-by-side echo benchmark of issue 10, with the project's own tools: aerie-bench as
# the load generator and peer echo servers written for the project (bench/peers: Boost.Beast,
# websocketpp, Node ws). Every server runs pinned to core 0 with one thread/worker, aerie-bench
# on core 1; servers take turns within each round, ROUNDS rounds, medians reported.
#   A  100 connections x 20 B text, 1 in flight      B  the same, 16 in flight
#   C  10 connections x 64 KiB binary, 1 in flight   D  IDLE idle connections: server RSS/conn
# Prints the medians, the ratios to Beast against issue 10's targets, and writes
# OUT/summary.md, OUT/results.txt (one line per run), the JSON of every run and, from the
# last round, one SVG chart per server and workload (throughput over time, latency).
#   bench/suite.sh [OUT]    ROUNDS=3 SECS=8 IDLE=10000 HOLD=5 SERVERS="aerie beast wspp node"
# IDLE=0 skips D. SERVERS may also name uring-trial-epoll and uring-trial-uring (the io_uring trial); the
# ratio table is to Beast when it ran, else to the first server named.
# Cross-check with the load generator of ../shared/bench: bench/peers.sh (wsload, same rows).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/aerie-suite-$(date +%s)}
rounds=${ROUNDS:-3}
secs=${SECS:-8}
idle=${IDLE:-10000}
hold=${HOLD:-5}
servers=${SERVERS:-aerie beast wspp node}
mkdir -p "$out"
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build
cmake --build --preset release -j "$(nproc)" \
  --target aerie-bench aerie-peer-beast aerie-peer-wspp >/dev/null
[[ $servers != *uring-trial* ]] ||
  cmake --build --preset release -j "$(nproc)" --target aerie-uring-echo >/dev/null
export NODE_PATH=$PWD/tests/interop/node/node_modules
ulimit -n "$(ulimit -Hn)"  # D opens IDLE connections to the server, inherited from here

declare -A workload=(
  [A]="--conns 100 --size 20 --inflight 1"
  [B]="--conns 100 --size 20 --inflight 16"
  [C]="--conns 10 --size 65536 --inflight 1 --binary"
)

start() {  # start NAME: the server NAME pinned to core 0
  case $1 in
    aerie) start_pinned_server "$out/aerie.log" 9041 "${aerie_server[@]}" --port 9041 ;;
    beast) start_pinned_server "$out/beast.log" 9042 "$bin/aerie-peer-beast" 9042 ;;
    wspp) start_pinned_server "$out/wspp.log" 9043 "$bin/aerie-peer-wspp" 9043 ;;
    node) start_pinned_server "$out/node.log" 9044 node bench/peers/ws_echo.cjs 9044 ;;
    # The io_uring trial (bench/uring/uring_echo.cpp): one minimal echo, two I/O back ends.
    uring-trial-epoll | uring-trial-uring)
      start_pinned_server "$out/$1.log" 9045 "$bin/aerie-uring-echo" --port 9045 \
        --backend "${1#uring-trial-}" ;;
    *) echo "unknown server $1" >&2 && exit 2 ;;
  esac
}

# record NAME ROUND ROW JSON: one results.txt line from aerie-bench's JSON.
record() {
  python3 - "$@" <<'PY' | tee -a "$out/results.txt"
import json, sys
name, rnd, row, path = sys.argv[1:]
try:
    d = json.load(open(path))
except (OSError, ValueError):
    print(f"round={rnd} server={name} row={row} failed=1")
    sys.exit()
s = d["server"]
if row == "D":
    print(f"round={rnd} server={name} row=D conns={d['connected']} "
          f"bytes={s['rss_bytes_per_conn']:.0f} errors={d['errors']}")
else:
    lat = d["latency_us"]
    print(f"round={rnd} server={name} row={row} msgs={d['msgs_per_s']:.0f} us={s['cpu_us_per_msg']:.3f} "
          f"p50={lat['p50']:.0f} p99={lat['p99']:.0f} srv_pct={s['cpu_pct']:.0f} "
          f"cli_pct={d['client_cpu_pct']:.0f} busy={d['machine_busy_pct']:.0f} errors={d['errors']}")
PY
}

: >"$out/results.txt"
for round in $(seq "$rounds"); do
  for name in $servers; do
    echo "== round $round: $name ($(date -u +%T))"
    start "$name"
    for row in A B C; do
      json="$out/$name-r$round-$row.json"
      svg=()
      ((round == rounds)) && svg=(--svg "$out/$name-$row.svg")
      # shellcheck disable=SC2086  # the workload's flags are words
      taskset -c 1 "$bin/aerie-bench" echo "ws://127.0.0.1:$port/" ${workload[$row]} \
        --duration "$secs" --warmup 1 --server-pid "$server_pid" --json -q "${svg[@]}" \
        >"$json" || true
      record "$name" "$round" "$row" "$json"
    done
    stop_server
    ((idle > 0)) || continue
    # D on a fresh server: its RSS before the connections is the baseline.
    start "$name"
    sleep 1
    json="$out/$name-r$round-D.json"
    taskset -c 1 "$bin/aerie-bench" idle "ws://127.0.0.1:$port/" --conns "$idle" \
      --duration "$hold" --server-pid "$server_pid" --json -q >"$json" || true
    record "$name" "$round" D "$json"
    stop_server
  done
done

PYTHONPATH=bench python3 - "$out/results.txt" "$servers" <<'PY' | tee "$out/summary.md"
import sys
from results import median, read
runs = read(sys.argv[1], "server", "row")
servers = sys.argv[2].split()
def m(server, row, field):
    return median([r for r in runs[(server, row)] if "failed" not in r], field)
print("| server | A msgs/s | A srv µs/msg | A p99 µs | B msgs/s | B srv µs/msg | B p99 µs "
      "| C msgs/s | C srv µs/msg | C p99 µs | D bytes/conn | errors |")
print("|---|" + "---|" * 11)
for s in servers:
    errors = sum(int(r.get("errors", 0)) + int(r.get("failed", 0))
                 for row in "ABCD" for r in runs[(s, row)])
    cells = []
    for row in "ABC":
        cells += [f"{m(s, row, 'msgs'):,.0f}", f"{m(s, row, 'us'):.3f}", f"{m(s, row, 'p99'):,.0f}"]
    d = m(s, "D", "bytes")
    print(f"| {s} | " + " | ".join(cells) + f" | {'—' if d != d else f'{d:,.0f}'} | {errors} |")
base = "beast" if "beast" in servers else servers[0]
print()
print(f"| server | A CPU/{base} | B CPU/{base} | C CPU/{base} | A msgs/{base} | B msgs/{base} "
      f"| C msgs/{base} |")
print("|---|---|---|---|---|---|---|")
for s in servers:
    cpu = [m(s, r, "us") / m(base, r, "us") for r in "ABC"]
    rate = [m(s, r, "msgs") / m(base, r, "msgs") for r in "ABC"]
    print(f"| {s} | " + " | ".join(f"{x:.3f}" for x in cpu) + " | "
          + " | ".join(f"{x:.2f}" for x in rate) + " |")
if base == "beast":
    targets = {"A": 0.44, "B": 0.037, "C": 0.61}
    if "aerie" in servers:
        print()
        for r in "ABC":
            ratio = m("aerie", r, "us") / m("beast", r, "us")
            verdict = "met" if ratio <= targets[r] else "NOT met"
            print(f"- {r}: aerie's CPU per message {ratio:.3f}x Beast's (target <= {targets[r]}): {verdict}")
            rate = m("aerie", r, "msgs") / m("beast", r, "msgs")
            print(f"- {r}: aerie's msgs/s {rate:.2f}x Beast's (target >= 1): {'met' if rate >= 1 else 'NOT met'}")
        d = m("aerie", "D", "bytes")
        if d == d:  # not NaN: D ran
            print(f"- D: {d:,.0f} bytes per idle connection (target <= 256): "
                  f"{'met' if d <= 256 else 'NOT met'}")
PY
echo "raw results: $out"
