#!/usr/bin/env bash
# HTTP keep-alive throughput: aerie (1 worker) against nginx (1 worker process), both pinned
# to core 0, wrk on core 1, in one run (docs/BENCHMARKS.md). Rows: a 13-byte route response
# ("Hello, World!") and a 4 KiB static file. Prints requests/s and p99 latency (medians).
#   bench/http_vs_nginx.sh [OUTDIR]      ROUNDS=3 SECS=10 CONNS=50
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

taskset -c 0 build/release/bin/aerie-http-bench "$aerie_port" "$out/www" 1 >"$out/aerie.log" 2>&1 &
aerie_pid=$!
taskset -c 0 nginx -c "$out/nginx.conf" -p "$out" >"$out/nginx.log" 2>&1 &
nginx_pid=$!
trap 'kill $aerie_pid $nginx_pid 2>/dev/null || true' EXIT
for port in $aerie_port $nginx_port; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
done
for path in /hello /file.txt; do  # check both answer the same bytes
  cmp <(curl -s "http://127.0.0.1:$aerie_port$path") <(curl -s "http://127.0.0.1:$nginx_port$path")
done

: > "$out/results.txt"
for round in $(seq "$rounds"); do
  for row in hello:/hello file:/file.txt; do
    for server in aerie:$aerie_port nginx:$nginx_port; do
      name=${server%%:*}
      port=${server##*:}
      result=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port${row#*:}")
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
      p99=$(awk '$1 == "99%" {print $2}' <<<"$result")
      errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$result" | tr '\n' ' ')
      echo "round=$round row=${row%%:*} server=$name rps=$rps p99=$p99 $errors" | tee -a "$out/results.txt"
    done
  done
done

python3 - "$out/results.txt" <<'PY'
import collections, statistics, sys
def ms(text):  # wrk prints 1.23ms / 456.00us / 1.02s
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    runs[(f["row"], f["server"])].append((float(f["rps"]), ms(f["p99"])))
print(f"{'row':8} {'server':7} {'requests/s':>11} {'p99 ms':>8} {'vs nginx':>9}")
for row in ("hello", "file"):
    base = statistics.median(r for r, _ in runs[(row, "nginx")])
    for server in ("aerie", "nginx"):
        rps = statistics.median(r for r, _ in runs[(row, server)])
        p99 = statistics.median(p for _, p in runs[(row, server)])
        print(f"{row:8} {server:7} {rps:11.0f} {p99:8.3f} {rps / base:9.2f}")
PY
echo "raw results: $out/results.txt"
