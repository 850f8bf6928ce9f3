#!/usr/bin/env bash
# Installs the Debian packages a task needs, only those missing (dpkg -s), with one
# `apt-get update` at most. Usage: scripts/deps.sh GROUP...
#   build   compiler, CMake, Ninja and the libraries aerie links
#   test    the real peers the integration tests talk to
#   fuzz    clang-14 with libFuzzer and the sanitizer runtimes
#   bench   the peer servers of ../shared/bench and the profilers
set -euo pipefail

declare -A groups=(
  [build]="g++ cmake ninja-build pkg-config libasio-dev libfmt-dev libcli11-dev libssl-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev"
  [test]="python3-websockets curl procps iproute2 chromium tinyproxy"
  [fuzz]="clang-14 libfuzzer-14-dev libclang-rt-14-dev"
  [bench]="libboost-dev libwebsocketpp-dev liburing-dev util-linux iproute2 procps wrk nginx"
)

missing=()
for group in "$@"; do
  [[ -n ${groups[$group]+x} ]] || { echo "deps.sh: unknown group '$group'" >&2; exit 2; }
  for pkg in ${groups[$group]}; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
done
# Node.js and npm may come from Debian or from NodeSource (which bundles npm): check commands.
for group in "$@"; do
  if [[ $group == test || $group == bench ]]; then
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

readarray -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps.sh: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
