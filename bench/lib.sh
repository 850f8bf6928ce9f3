# shellcheck shell=bash disable=SC2034  # sets variables for the script that sources it
# Shared by the bench scripts (sourced, not run): the build, and the server under test
# pinned to core 0 (the load generator goes on core 1).

# Installs what is missing, builds aerie-cli and aerie-client-echo (release) and Node ws;
# sets $bin and $aerie_server, the aerie server as the benchmarks run it (one worker, no
# rate or per-IP limits; add --port and the flags under test).
bench_build() {
  scripts/deps.sh build bench
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target aerie-cli aerie-client-echo >/dev/null
  [[ -f tests/interop/node/node_modules/ws/package.json ]] ||
    (cd tests/interop/node && npm ci --no-audit --no-fund >/dev/null)
  bin=build/release/bin
  aerie_server=("$bin/aerie" serve --ws /=echo --workers 1 --host 127.0.0.1
    --max-frames-per-second 0 --max-bytes-per-minute 0 --connections-per-ip 100000
    --max-connections 100000)
}

# start_pinned_server LOG PORT COMMAND... : runs COMMAND on core 0, output to LOG, and waits
# (10 s) until it serves. PORT > 0: until 127.0.0.1:PORT accepts a connection; PORT 0: until
# LOG shows "listening on ...127.0.0.1:N". Sets $server_pid and $port; exits on failure.
start_pinned_server() {
  local log=$1
  port=$2
  shift 2
  taskset -c 0 "$@" >"$log" 2>&1 &
  server_pid=$!
  local wanted=$port
  for _ in $(seq 100); do
    if ((wanted > 0)); then
      (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    else
      port=$(grep -o 'listening on [a-z:/]*127\.0\.0\.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
      [[ -n $port ]] && return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start: $*" >&2
  cat "$log" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
}
