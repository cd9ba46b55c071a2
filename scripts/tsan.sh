#!/usr/bin/env bash
# Builds the C++ tests with clang and ThreadSanitizer and runs the tests that use several
# threads. The library's threads are its own pool (src/runtime/threads.cc: std::thread, atomics,
# a mutex and a condition variable), all compiled with the sanitizer, so TSan sees every
# synchronisation itself. The one OpenMP parallel region (the ThreadSource::kOpenMP path, which
# the tests also run) orders its work through atomics of its own as well, so the uninstrumented
# OpenMP runtime needs no Archer annotations.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --sanitizers
cmake -S . -B build-tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVND_SANITIZE=thread -DCONVND_BUILD_PYTHON=OFF -DCONVND_BUILD_TOOLS=OFF \
  -DCONVND_BUILD_BENCH=OFF > /dev/null
cmake --build build-tsan -j "$(nproc)" --target convnd_tests
TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1" \
  build-tsan/tests/convnd_tests --gtest_filter='*Thread*:*thread*:AllAlgorithms.*'
