#!/usr/bin/env bash
# Builds the C++ tests with clang and ThreadSanitizer and runs the tests that use several
# threads. OpenMP's runtime is not instrumented, so LLVM's Archer tool (shipped with libomp)
# tells TSan about OpenMP's own synchronisation; without it every parallel region is a report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --sanitizers
cmake -S . -B build-tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVND_SANITIZE=thread -DCONVND_BUILD_PYTHON=OFF -DCONVND_BUILD_TOOLS=OFF \
  -DCONVND_BUILD_BENCH=OFF > /dev/null
cmake --build build-tsan -j "$(nproc)" --target convnd_tests
archer=/usr/lib/llvm-14/lib/libarcher.so
OMP_TOOL_LIBRARIES=$archer TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1" \
  build-tsan/tests/convnd_tests --gtest_filter='*Thread*:*thread*:AllAlgorithms.*'
