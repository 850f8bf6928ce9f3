#!/usr/bin/env bash
# TLS echo throughput and TLS handshakes per second: aerie against Node `ws`, each over TLS
# and over plain TCP, in one run (docs/BENCHMARKS.md, issue 7). Server pinned to core 0
# (one worker / one Node process), the load generator (aerie-client-echo, which checks every
# echo byte for byte and verifies the server's certificate against a throwaway CA) on core 1.
# Workloads:
#   small       100 connections x 20-byte text, 16 in flight per connection
#   large       10 connections x 64 KiB binary, 1 in flight
#   handshakes  20 workers, each: connect (TCP + TLS + WebSocket upgrade), close, again
# Prints medians: msgs/s (handshakes/s), server CPU us per message (per handshake), the ratio
# TLS / plain per server and the ratio of aerie's server CPU to ws's.
#   bench/tls_echo.sh [OUTDIR]      ROUNDS=3 SECS=10 HANDSHAKE_CONNS=20
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/aerie-tls-$(date +%s)}
rounds=${ROUNDS:-3}
secs=${SECS:-10}
handshake_conns=${HANDSHAKE_CONNS:-20}
mkdir -p "$out"

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build
certs=$out/certs
tests/support/make_test_certs.sh "$certs"  # a throwaway CA and a 127.0.0.1/localhost cert

start_server() {  # name transport -> $server_pid, $port
  local name=$1 transport=$2 log=$out/$1-$2.log tls=()
  [[ $transport == tls ]] && tls=(--tls-cert "$certs/server.pem" --tls-key "$certs/server.key")
  # Port 0: both servers print "listening on ...127.0.0.1:PORT".
  if [[ $name == aerie ]]; then
    start_pinned_server "$log" 0 "${aerie_server[@]}" --port 0 "${tls[@]}"
  else
    start_pinned_server "$log" 0 node bench/tls/ws_tls_echo.mjs 0 "$transport" \
      "$certs/server.pem" "$certs/server.key"
  fi
}

run_client() {  # label args... : one line of results
  local label=$1 line
  shift
  # A failed run (errors > 0) is recorded, not fatal: the table shows the error count.
  line=$(taskset -c 1 "$bin/aerie-client-echo" "$@" --warmup 2 --seconds "$secs" \
    --server-pid "$server_pid" --cacert "$certs/ca.pem" 2>>"$out/client-errors.log") ||
    echo "client failed: $label" >&2
  echo "$label $line" | tee -a "$out/results.txt"
}

for round in $(seq "$rounds"); do
  for transport in tls plain; do
    for name in aerie node-ws; do
      start_server "$name" "$transport"
      scheme=ws
      [[ $transport == tls ]] && scheme=wss
      url="$scheme://127.0.0.1:$port/"
      label="round=$round server=$name transport=$transport"
      run_client "$label workload=small" --url "$url" --conns 100 --inflight 16 --size 20
      run_client "$label workload=large" --url "$url" --conns 10 --inflight 1 --size 65536 --binary
      run_client "$label workload=handshakes" --url "$url" --mode handshakes \
        --conns "$handshake_conns"
      stop_server
    done
  done
done

# Medians per workload, server and transport.
PYTHONPATH=bench python3 - "$out/results.txt" <<'PY'
import sys
from results import median, read
runs = read(sys.argv[1], "workload", "server", "transport", require="server_cpu_pct")
for rows in runs.values():
    for f in rows:
        f["rate"] = f.get("msgs_per_s", f.get("handshakes_per_s"))
        f["srv_us"] = f.get("server_us_per_msg", f.get("server_us_per_handshake"))
med = lambda key, name: median(runs[key], name)
print(f"{'workload':10} {'server':8} {'transport':9} {'rate/s':>9} {'srv us':>8} {'srv %':>5} "
      f"{'cli %':>5} {'errors':>6} {'TLS/plain rate':>14} {'TLS/plain us':>12} {'vs ws CPU':>9}")
for workload in ("small", "large", "handshakes"):
    for server in ("aerie", "node-ws"):
        for transport in ("tls", "plain"):
            key = (workload, server, transport)
            rate, us = med(key, "rate"), med(key, "srv_us")
            errors = sum(int(r["errors"]) for r in runs[key])
            plain = (workload, server, "plain")
            ratios = (f"{rate / med(plain, 'rate'):14.2f} {us / med(plain, 'srv_us'):12.2f}"
                      if transport == "tls" else f"{'':14} {'':12}")
            versus = us / med((workload, "node-ws", transport), "srv_us")
            print(f"{workload:10} {server:8} {transport:9} {rate:9.0f} {us:8.2f} "
                  f"{med(key, 'server_cpu_pct'):5.0f} {med(key, 'client_cpu_pct'):5.0f} "
                  f"{errors:6d} {ratios} {versus:9.2f}")
print("rate/s: messages (small, large) or handshakes per second; srv us: server CPU per "
      "message or handshake; errors: summed over rounds")
PY
echo "raw results: $out/results.txt"
