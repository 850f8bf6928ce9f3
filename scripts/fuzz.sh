#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang-14, ASan+UBSan) and runs each for
# SECONDS (default 60) on a copy of its committed seed corpus. Any crash, leak or
# sanitizer report fails the run; the reproducer is left in build/fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
mkdir -p build/fuzz/artifacts
for target in "${targets[@]}"; do
  name=${target%_fuzz}
  work=build/fuzz/corpus/$name
  mkdir -p "$work"
  [[ -d fuzz/corpus/$name ]] && cp -n fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  dict=(); [[ -f fuzz/$name.dict ]] && dict=(-dict="fuzz/$name.dict")
  echo "fuzzing $target for ${seconds}s"
  if ! build/fuzz/bin/"$target" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/"$name"- -timeout=10 -rss_limit_mb=2048 "$work" \
      >build/fuzz/"$name".log 2>&1; then
    tail -n 60 build/fuzz/"$name".log
    echo "fuzz target $target failed (log: build/fuzz/$name.log)" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' build/fuzz/"$name".log || true
done
