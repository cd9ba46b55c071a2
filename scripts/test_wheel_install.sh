#!/usr/bin/env bash
# The Python package as a user installs it: a fresh venv (with Debian's site-packages, for
# NumPy), `pip install .` through the in-tree backend (python/build_backend; offline, so
# --no-index --no-build-isolation), then, from a folder outside the source tree, `import convnd`
# must come from the venv and one small convolution must match a NumPy loop exactly.
# The backend builds the extension from scratch (CMAKE_BUILD_PARALLEL_LEVEL jobs, default nproc).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/convnd-wheel-XXXXXX")
trap 'rm -rf "$work"' EXIT
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
unset PYTHONPATH

/usr/bin/python3 -m venv --system-site-packages "$work/venv"
py=$work/venv/bin/python
start=$(date +%s)
"$py" -m pip install -q --no-index --no-build-isolation --no-cache-dir \
  --disable-pip-version-check --root-user-action=ignore "$src"
echo "test_wheel_install: pip install took $(( $(date +%s) - start )) s"

cd "$work"
"$py" - "$work/venv" <<'PY'
import os
import sys

import numpy as np

import convnd

venv = os.path.realpath(sys.argv[1])
where = os.path.realpath(convnd.__file__)
if not where.startswith(venv + os.sep):
    sys.exit(f"test_wheel_install: convnd imported from {where}, not from the venv {venv}")

# 2-D, stride (2, 1), padding 1, dilation (1, 2), two groups; integer-valued data, so the
# float64 result must equal the loop's exactly.
n, c, k, groups, s, ks = 2, 4, 6, 2, (7, 9), (3, 2)
stride, pad, dil = (2, 1), (1, 1), (1, 2)
x = (np.arange(n * c * s[0] * s[1]) % 17 - 8).astype(np.float64).reshape(n, c, *s)
w = (np.arange(k * (c // groups) * ks[0] * ks[1]) % 7 - 3).astype(np.float64)
w = w.reshape(k, c // groups, *ks)
y = convnd.conv(x, w, stride=stride, padding=pad, dilation=dil, groups=groups)

xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
out = [(xp.shape[2 + a] - dil[a] * (ks[a] - 1) - 1) // stride[a] + 1 for a in range(2)]
ref = np.zeros((n, k, *out))
cg, kg = c // groups, k // groups
for b in range(n):
    for o in range(k):
        g = o // kg
        for i in range(out[0]):
            for j in range(out[1]):
                for ci in range(cg):
                    for u in range(ks[0]):
                        for v in range(ks[1]):
                            ref[b, o, i, j] += (xp[b, g * cg + ci, i * stride[0] + u * dil[0],
                                                   j * stride[1] + v * dil[1]] * w[o, ci, u, v])
if y.shape != ref.shape or not np.array_equal(y, ref):
    sys.exit(f"test_wheel_install: conv differs from the NumPy loop: shape {y.shape} vs "
             f"{ref.shape}, max |diff| {np.max(np.abs(y - ref)) if y.shape == ref.shape else '-'}")
print(f"test_wheel_install: convnd {convnd.__version__} from {os.path.dirname(where)}: "
      f"conv {x.shape} * {w.shape} -> {y.shape} matches the NumPy loop")
PY
