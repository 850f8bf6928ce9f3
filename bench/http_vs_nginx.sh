#!/usr/bin/env bash
# HTTP keep-alive throughput: aerie (1 worker) against nginx (1 worker process), both pinned
# to core 0, wrk on core 1, in one run (docs/BENCHMARKS.md). Rows: a 13-byte route response
# ("Hello, World!") and a 4 KiB static file. Prints requests/s, p99 latency and the server's
# CPU time per request (utime+stime from /proc; on 2 cores the CPU figure is the steadier
# one), medians of the rounds.
#   bench/http_vs_nginx.sh [OUTDIR]      ROUNDS=3 SECS=10 CONNS=50
#   BASELINE=/path/to/aerie-http-bench   adds a row "base" for that build (A/B of a change)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/aerie-http-$(date +%s)}
rounds=${ROUNDS:-3}
secs=${SECS:-10}
conns=${CONNS:-50}
mkdir -p "$out/www"

scripts/deps.sh build bench
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target aerie-http-bench >/dev/null
head -c 4096 /dev/urandom | base64 -w 76 | head -c 4096 > "$out/www/file.txt"
printf 'Hello, World!' > "$out/www/hello"

aerie_port=9510
nginx_port=9511
cat > "$out/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $out/nginx.pid;
error_log $out/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  types { text/plain txt; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $out/www;
    location = /hello { default_type text/plain; return 200 "Hello, World!"; }
  }
}
CONF

base_port=9512
taskset -c 0 build/release/bin/aerie-http-bench "$aerie_port" "$out/www" 1 >"$out/aerie.log" 2>&1 &
aerie_pid=$!
taskset -c 0 nginx -c "$out/nginx.conf" -p "$out" >"$out/nginx.log" 2>&1 &
nginx_pid=$!
servers="aerie:$aerie_port nginx:$nginx_port"
base_pid=
if [[ -n ${BASELINE:-} ]]; then
  taskset -c 0 "$BASELINE" "$base_port" "$out/www" 1 >"$out/base.log" 2>&1 &
  base_pid=$!
  servers="$servers base:$base_port"
fi
trap 'kill $aerie_pid $nginx_pid $base_pid 2>/dev/null || true' EXIT
for port in $aerie_port $nginx_port ${base_pid:+$base_port}; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
done
for path in /hello /file.txt; do  # check both answer the same bytes
  cmp <(curl -s "http://127.0.0.1:$aerie_port$path") <(curl -s "http://127.0.0.1:$nginx_port$path")
done
# The process that serves: nginx's single worker (a child of the master).
nginx_worker=$(pgrep -P "$nginx_pid" | head -n 1)
declare -A serving=([aerie]=$aerie_pid [nginx]=$nginx_worker [base]=$base_pid)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

: > "$out/results.txt"
for round in $(seq "$rounds"); do
  for row in hello:/hello file:/file.txt; do
    for server in $servers; do
      name=${server%%:*}
      port=${server##*:}
      before=$(cpu_ticks "${serving[$name]}")
      result=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port${row#*:}")
      ticks=$(($(cpu_ticks "${serving[$name]}") - before))
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
      requests=$(awk '/requests in/ {print $1}' <<<"$result")
      p99=$(awk '$1 == "99%" {print $2}' <<<"$result")
      errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$result" | tr '\n' ' ')
      cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
      echo "round=$round row=${row%%:*} server=$name rps=$rps p99=$p99 cpu_us=$cpu_us $errors" | tee -a "$out/results.txt"
    done
  done
done

PYTHONPATH=bench python3 - "$out/results.txt" <<'PY'
import sys
from results import median, ms, read
runs = read(sys.argv[1], "row", "server")
servers = sorted({s for _, s in runs}, key=lambda s: ("aerie", "nginx", "base").index(s))
print(f"{'row':8} {'server':7} {'requests/s':>11} {'p99 ms':>8} {'CPU us/req':>11} {'rps vs nginx':>13} {'CPU vs nginx':>13}")
for row in ("hello", "file"):
    base = median(runs[(row, "nginx")], "rps")
    base_cpu = median(runs[(row, "nginx")], "cpu_us")
    for server in servers:
        rows = runs[(row, server)]
        rps, p99, cpu = median(rows, "rps"), median(rows, "p99", ms), median(rows, "cpu_us")
        print(f"{row:8} {server:7} {rps:11.0f} {p99:8.3f} {cpu:11.2f} {rps / base:13.2f} {cpu / base_cpu:13.2f}")
# This VM's speed drifts between rounds; within a round the servers run back to back, so the
# per-round ratios to nginx are the steadier comparison.
print("\nper round, against nginx in the same round (rps ratio / CPU ratio):")
for row in ("hello", "file"):
    nginx = {r["round"]: r for r in runs[(row, "nginx")]}
    for server in servers:
        if server == "nginx":
            continue
        pairs = [(float(r["rps"]) / float(nginx[r["round"]]["rps"]),
                  float(r["cpu_us"]) / float(nginx[r["round"]]["cpu_us"]))
                 for r in runs[(row, server)] if r["round"] in nginx]
        text = "  ".join(f"{a:.2f}/{c:.2f}" for a, c in pairs)
        ahead = sum(1 for a, c in pairs if a > 1 and c < 1)
        print(f"{row:8} {server:7} {text}   ahead on both in {ahead} of {len(pairs)}")
PY
echo "raw results: $out/results.txt"
