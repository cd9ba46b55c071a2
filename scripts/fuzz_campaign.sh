#!/usr/bin/env bash
# A long fuzzing campaign: every libFuzzer target that scripts/fuzz.sh builds (ASan + UBSan) runs
# for SECONDS of wall time, one after another, niced and on one core (the machine is shared). A
# crash, hang or out-of-memory input does not end a target's turn: it is kept and the target
# restarts on the grown corpus for the rest of its time. At the end the inputs that add coverage
# are merged back into tests/fuzz/corpus/<name> (libFuzzer -merge=1, so the checked-in corpus
# stays minimal), and one line per target is appended to build-fuzz/campaign/log.tsv:
#   date  target  seconds  executions  edges(cov)  features(ft)  corpus  crashes
# Sum the executions of several runs from that file for the figures of docs/testing.md.
#   scripts/fuzz_campaign.sh 3600              # an hour per target
#   scripts/fuzz_campaign.sh 600 fuzz_spec     # only the named targets
# Crash inputs are left in build-fuzz/campaign/<target>/ (crash-*, timeout-*, oom-*); the script
# exits non-zero when there is one. Turn each into a regression test (tests/test_fuzz_regressions.cc).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3600}
shift || true
scripts/install-deps.sh --sanitizers > /dev/null
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVND_BUILD_FUZZ=ON -DCONVND_SANITIZE=address,undefined -DCONVND_BUILD_PYTHON=OFF \
  -DCONVND_BUILD_TESTS=OFF -DCONVND_BUILD_TOOLS=OFF -DCONVND_BUILD_BENCH=OFF > /dev/null
nice cmake --build build-fuzz -j "$(nproc)" > /dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in build-fuzz/tests/fuzz/fuzz_*; do [ -x "$t" ] && [ -f "$t" ] && targets+=("$(basename "$t")"); done
fi
mkdir -p build-fuzz/campaign
log=build-fuzz/campaign/log.tsv
[ -f "$log" ] || printf "date\ttarget\tseconds\texecutions\tedges\tfeatures\tcorpus\tcrashes\n" > "$log"
found=0
for target in "${targets[@]}"; do
  bin=$PWD/build-fuzz/tests/fuzz/$target
  corpus=$PWD/tests/fuzz/corpus/${target#fuzz_}
  work=$PWD/build-fuzz/campaign/$target
  mkdir -p "$corpus" "$work/corpus"
  cp -n "$corpus"/* "$work/corpus/" 2> /dev/null || true
  execs=0 crashes=0 cov=0 ft=0
  end=$(( $(date +%s) + seconds ))
  while [ "$(date +%s)" -lt "$end" ]; do
    left=$(( end - $(date +%s) ))
    before=$(ls "$work" | grep -cE '^(crash|timeout|oom|leak)-' || true)
    out=$(cd "$work" && ASAN_OPTIONS=detect_leaks=1 nice -n 10 "$bin" -max_total_time="$left" \
          -max_len=256 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
          corpus 2>&1 | grep -E "^#[0-9]+[[:space:]]|^stat::number_of_executed_units" || true)
    n=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
    # After a crash libFuzzer prints no final stats: take the last status line's count.
    [ -n "$n" ] || n=$(echo "$out" | sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' | tail -1)
    execs=$(( execs + ${n:-0} ))
    last=$(echo "$out" | grep -E "^#[0-9]+[[:space:]]" | tail -1 || true)
    c=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p'); [ -n "$c" ] && cov=$c
    f=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p'); [ -n "$f" ] && ft=$f
    after=$(ls "$work" | grep -cE '^(crash|timeout|oom|leak)-' || true)
    crashes=$(( crashes + after - before ))
    [ "$after" -gt "$before" ] || break  # ended by the time limit, not by a crash
  done
  # Keep only what adds coverage to the checked-in corpus.
  (cd "$work" && nice "$bin" -merge=1 -max_len=256 -timeout=10 -rss_limit_mb=2048 "$corpus" corpus \
     > merge.log 2>&1) || echo "fuzz_campaign: merge of $target failed, see $work/merge.log" >&2
  size=$(ls "$corpus" | wc -l)
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$(date -u +%FT%TZ)" "$target" "$seconds" "$execs" \
    "$cov" "$ft" "$size" "$crashes" >> "$log"
  echo "== $target: $execs executions, cov $cov, ft $ft, corpus $size, crashes $crashes"
  found=$(( found + crashes ))
done
if [ "$found" -gt 0 ]; then
  echo "fuzz_campaign: $found crash/hang/oom inputs in build-fuzz/campaign/*/" >&2
  exit 1
fi
