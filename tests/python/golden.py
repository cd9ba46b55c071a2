"""Loading the golden vectors (tests/python/data, copied from the originals' runs)."""

import json
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def cases(name):
    """(case index, case dict with arrays loaded) for every case of one original function."""
    with open(os.path.join(DATA, "index.json")) as f:
        index = json.load(f)[name]
    arrays = np.load(os.path.join(DATA, name + ".npz"))
    out = []
    for i, case in enumerate(index["cases"]):
        loaded = {}
        for key, value in case.items():
            if isinstance(value, str) and value.startswith("array:"):
                loaded[key] = arrays[value[len("array:"):]]
            else:
                loaded[key] = value
        out.append((i, loaded))
    return out


def pad_arg(value):
    """JSON stores numpy-ml's tuples as lists; the original needs tuples."""
    return tuple(value) if isinstance(value, list) else value


def assert_close(got, want, rtol=1e-12):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(np.max(np.abs(want)), 1e-300) if want.size else 1.0
    err = np.max(np.abs(got - want)) / scale if want.size else 0.0
    assert err <= rtol, f"relative error {err:.3g} > {rtol:g}"
