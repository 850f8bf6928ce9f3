#!/usr/bin/env bash
# Seed 004's demo (examples/client_demo.cpp) against `aerie serve --ws /ws=echo`: the
# exact conversation, then a clean exit.
#   client_demo_test.sh AERIE_CLI CLIENT_DEMO
set -euo pipefail
log=$(mktemp)
"$1" serve --host 127.0.0.1 --port 0 --workers 1 --ws /ws=echo >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
port=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f3)
[[ -n $port ]] || { echo "FAIL: server did not start"; cat "$log"; exit 1; }
output=$("$2" "ws://127.0.0.1:$port/ws" 20)
expected=$'Received: Hello!\nReceived: Ping: 1\nReceived: Ping: 2\nReceived: Ping: 3\nReceived: Goodbye!'
if [[ $output != "$expected" ]]; then
  printf 'FAIL: the demo printed:\n%s\n' "$output"
  exit 1
fi
echo "ok"
