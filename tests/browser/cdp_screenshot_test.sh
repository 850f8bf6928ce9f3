#!/usr/bin/env bash
# Runs examples/cdp_screenshot (aerie client -> Chromium DevTools -> page served by aerie)
# and checks what it reports and the PNG it writes.
#   cdp_screenshot_test.sh CDP_SCREENSHOT CHROMIUM
set -euo pipefail
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
output=$("$1" "$out/shot.png" "$2")
echo "$output"
grep -qx 'evaluated: aerie CDP demo: 42' <<<"$output" || { echo "FAIL: evaluated value" >&2; exit 1; }
# A PNG: the 8-byte signature, and more than a blank pixel's worth of data.
[[ $(head -c 8 "$out/shot.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
  { echo "FAIL: not a PNG" >&2; exit 1; }
size=$(stat -c %s "$out/shot.png")
(( size > 2000 )) || { echo "FAIL: PNG of $size bytes" >&2; exit 1; }
echo "ok: PNG of $size bytes"
