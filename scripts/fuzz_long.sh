#!/usr/bin/env bash
# Long local fuzzing: runs the libFuzzer targets round-robin for HOURS (decimals allowed),
# ROUND seconds per target per turn, on a growing corpus kept outside the repository, then
# prints per-target totals and the coverage (libFuzzer's cov:/ft: over the whole grown
# corpus). Crashes, leaks and sanitizer reports stop the run; reproducers are kept.
#   scripts/fuzz_long.sh HOURS [TARGET...]
# Environment:
#   FUZZ_WORK=DIR    corpus, logs and artifacts (default ${XDG_CACHE_HOME:-~/.cache}/aerie-fuzz)
#   FUZZ_ROUND=SECS  time per target per turn (default 900)
#   FUZZ_JOBS=N      parallel workers per target (libFuzzer -fork=N; default 1)
#   FUZZ_MERGE=1     afterwards, add the inputs that bring new coverage to fuzz/corpus/NAME
#                    (libFuzzer -merge=1: only inputs with new features, minimal set)
# Example (a night on 4 cores, niced, results merged back):
#   FUZZ_JOBS=4 FUZZ_MERGE=1 nice -n 19 scripts/fuzz_long.sh 8
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
hours=${1:?usage: scripts/fuzz_long.sh HOURS [TARGET...]}
shift
work=${FUZZ_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/aerie-fuzz}
round=${FUZZ_ROUND:-900}
jobs=${FUZZ_JOBS:-1}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
bin=$repo/build/fuzz/bin
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

mkdir -p "$work"/artifacts "$work"/logs
declare -A seconds_run executions
for target in "${targets[@]}"; do
  name=${target%_fuzz}
  mkdir -p "$work/corpus/$name"
  [[ -d fuzz/corpus/$name ]] && cp -n fuzz/corpus/"$name"/* "$work/corpus/$name"/ 2>/dev/null || true
  seconds_run[$name]=0
  executions[$name]=0
done

# Options shared by fuzzing and the coverage pass.
options() {
  local name=$1
  local dict=()
  [[ -f $repo/fuzz/$name.dict ]] && dict=(-dict="$repo/fuzz/$name.dict")
  echo "${dict[@]}" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/$name-"
}

# The executions of one run: -print_final_stats in a plain run; in fork mode the last
# progress line's #N.
executions_in() {
  local log=$1 n
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [[ -z $n ]] && n=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  echo "${n:-0}"
}

deadline=$(($(date +%s) + $(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')))
turn=0
while (($(date +%s) < deadline)); do
  turn=$((turn + 1))
  for target in "${targets[@]}"; do
    name=${target%_fuzz}
    left=$((deadline - $(date +%s)))
    ((left <= 0)) && break
    slice=$((left < round ? left : round))
    log=$work/logs/$name.turn$turn.log
    parallel=()
    ((jobs > 1)) && parallel=(-fork="$jobs" -ignore_crashes=0)
    echo "turn $turn: $target for ${slice}s"
    start=$(date +%s)
    # shellcheck disable=SC2046  # options() is a list of flags
    if ! "$bin/$target" $(options "$name") "${parallel[@]}" -max_total_time="$slice" \
        -print_final_stats=1 "$work/corpus/$name" >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz target $target failed (log: $log, artifacts: $work/artifacts)" >&2
      exit 1
    fi
    seconds_run[$name]=$((seconds_run[$name] + $(date +%s) - start))
    executions[$name]=$((executions[$name] + $(executions_in "$log")))
  done
done

if [[ ${FUZZ_MERGE:-0} == 1 ]]; then
  for target in "${targets[@]}"; do
    name=${target%_fuzz}
    mkdir -p fuzz/corpus/"$name"
    before=$(find fuzz/corpus/"$name" -type f | wc -l)
    # shellcheck disable=SC2046
    "$bin/$target" $(options "$name") -merge=1 fuzz/corpus/"$name" "$work/corpus/$name" \
      >"$work/logs/$name.merge.log" 2>&1
    after=$(find fuzz/corpus/"$name" -type f | wc -l)
    echo "merged $target: fuzz/corpus/$name $before -> $after inputs"
  done
fi

# Coverage of the whole grown corpus: one pass over it, no mutation (-runs=0).
printf '%-16s %9s %14s %7s %7s %9s\n' target seconds executions cov ft corpus
for target in "${targets[@]}"; do
  name=${target%_fuzz}
  # shellcheck disable=SC2046
  "$bin/$target" $(options "$name") -runs=0 "$work/corpus/$name" >"$work/logs/$name.cov.log" 2>&1
  line=$(grep -E 'INITED|DONE' "$work/logs/$name.cov.log" | tail -n 1)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$line")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$line")
  corpus=$(find "$work/corpus/$name" -type f | wc -l)
  printf '%-16s %9s %14s %7s %7s %9s\n' "$name" "${seconds_run[$name]}" "${executions[$name]}" \
    "${cov:-?}" "${ft:-?}" "$corpus"
done
