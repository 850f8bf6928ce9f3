#!/usr/bin/env bash
# Side-by-side echo benchmark: aerie against Boost.Beast, websocketpp and Node ws, with the
# load generator and scripts of ../shared/bench (workloads A-D, server pinned to core 0
# with one worker, wsload on core 1). Prints medians and ratios vs Beast.
#   bench/peers.sh [OUTDIR]          ROUNDS=3 SECS=10 IDLE=10000 (see peers_round.sh)
#   BASELINE=/path/to/aerie          adds "aerie-base" for that build (A/B of a change)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED_BENCH:-$(cd .. && pwd)/shared/bench}
out=${1:-/tmp/aerie-peers-$(date +%s)}
peers=${PEERS_DIR:-/tmp/peers}

scripts/deps.sh build bench
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target aerie-cli
[[ -x $peers/beast_echo && -x $peers/wsload ]] || "$shared/peers/build.sh" "$peers"
export WSLOAD=$peers/wsload

# The load generator is one very busy client address: lift the per-IP and rate limits.
options="serve --ws /=echo --workers 1 --port {port}"
options+=" --max-frames-per-second 0 --max-bytes-per-minute 0"
options+=" --connections-per-ip 100000 --max-connections 100000"
aerie="$PWD/build/release/bin/aerie $options"
baseline=()
[[ -n ${BASELINE:-} ]] && baseline=("aerie-base|$BASELINE $options|9015")

"$shared/peers_round.sh" "$out" \
  "beast|$peers/beast_echo {port}|9011" \
  "wspp|$peers/wspp_echo {port}|9012" \
  "node-ws|node $peers/node/ws_echo.js {port}|9013" \
  "aerie|$aerie|9014" "${baseline[@]}"
echo "raw results: $out"
