#!/usr/bin/env bash
# The README's test command: install what is missing, build everything, run the C++ tests
# (CTest) and the Python tests (pytest) against the build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
if [ -d tests/python ]; then
  PYTHONPATH="$PWD/$build/python" /usr/bin/python3 -m pytest -q tests/python
fi
