#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS seconds
# (default 30) on the corpus in tests/fuzz/corpus, adding what it finds there. A crash leaves a
# crash-* (or timeout-*, oom-*: 10 s or 2 GB for one input) file in build-fuzz/ and fails the
# script; turn it into a regression test.
# READER_SECONDS (default SECONDS) is the time of the three parser targets (problem string,
# .npy, images): they explore quickly, so CI gives them less.
#   scripts/fuzz.sh            # 30 s per target
#   scripts/fuzz.sh 30 20      # the CI smoke: 30 s for fuzz_spec and fuzz_passes, 20 s the others
#   scripts/fuzz.sh 3600       # an hour per target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
reader_seconds=${2:-$seconds}
scripts/install-deps.sh --sanitizers
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVND_BUILD_FUZZ=ON -DCONVND_SANITIZE=address,undefined -DCONVND_BUILD_PYTHON=OFF \
  -DCONVND_BUILD_TESTS=OFF -DCONVND_BUILD_TOOLS=OFF -DCONVND_BUILD_BENCH=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)"
# target:longest input in bytes (a PNG or JPEG needs more than a spec).
for entry in fuzz_spec:256 fuzz_passes:256 fuzz_spec_string:256 fuzz_npy:1024 fuzz_image:4096; do
  target=${entry%%:*}
  max_len=${entry##*:}
  time=$seconds
  case $target in fuzz_spec_string|fuzz_npy|fuzz_image) time=$reader_seconds ;; esac
  corpus=tests/fuzz/corpus/${target#fuzz_}
  dict=()
  [ -f "tests/fuzz/${target#fuzz_}.dict" ] && dict=(-dict="../tests/fuzz/${target#fuzz_}.dict")
  mkdir -p "$corpus"
  echo "== $target: $time s"
  (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/$target -max_total_time="$time" \
      -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
      ../"$corpus" 2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR)" || true)
  if ls build-fuzz/crash-* build-fuzz/timeout-* build-fuzz/oom-* > /dev/null 2>&1; then
    echo "fuzz: $target crashed, hung or ran out of memory; inputs in build-fuzz/" >&2
    exit 1
  fi
done
