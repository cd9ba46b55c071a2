"""Independent NumPy implementations used as test oracles (no convnd code involved).

Written from the formulas of the README's Semantics section, channels-first, in float64:
  y[n, k, o..] = sum_{c in group, t..} xpad[n, c, o*stride + t*dil] * w[k, c - group start, t..]
with xpad padded by numpy.pad in the requested mode. Transposed convolution and the two
gradients are computed by scattering (the adjoint written out), not by reusing the forward.
"""

import itertools

import numpy as np

NP_MODES = {"zeros": "constant", "reflect": "reflect", "symmetric": "symmetric",
            "replicate": "edge", "circular": "wrap"}


def _pairs(padding, d):
    if isinstance(padding, int):
        return [(padding, padding)] * d
    return [(p, p) if isinstance(p, int) else tuple(p) for p in padding]


def _per_axis(v, d):
    return [v] * d if isinstance(v, int) else list(v)


def _windows(xp, kernel, stride, dil, out):
    """For every kernel tap t: the slice of xp it reads for all outputs."""
    for t in itertools.product(*[range(k) for k in kernel]):
        sl = tuple(slice(ti * di, ti * di + si * (oi - 1) + 1, si)
                   for ti, di, si, oi in zip(t, dil, stride, out))
        yield t, sl


def out_extents(spatial, kernel, stride, dil, pairs):
    return [(s + lo + hi - d * (k - 1) - 1) // st + 1
            for s, k, st, d, (lo, hi) in zip(spatial, kernel, stride, dil, pairs)]


def conv(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, mode="zeros"):
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    d = x.ndim - 2
    stride, dil, pairs = _per_axis(stride, d), _per_axis(dilation, d), _pairs(padding, d)
    xp = np.pad(x, [(0, 0), (0, 0)] + pairs, mode=NP_MODES[mode])
    n, c = x.shape[:2]
    k = w.shape[0]
    cg, kg = c // groups, k // groups
    out = out_extents(x.shape[2:], w.shape[2:], stride, dil, pairs)
    y = np.zeros((n, k, *out))
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * kg:(g + 1) * kg]
        for t, sl in _windows(xs, w.shape[2:], stride, dil, out):
            patch = xs[(slice(None), slice(None)) + sl]          # (n, cg, out..)
            tap = ws[(slice(None), slice(None)) + t]             # (kg, cg)
            y[:, g * kg:(g + 1) * kg] += np.einsum("nc...,kc->nk...", patch, tap)
    if bias is not None:
        y += np.asarray(bias, np.float64).reshape((1, k) + (1,) * d)
    return y


def _unpad(gp, pairs, spatial, mode):
    """Adjoint of numpy.pad for the zero mode: crop. Other modes fold the border back."""
    d = len(spatial)
    if mode == "zeros":
        sl = tuple(slice(lo, lo + s) for (lo, _), s in zip(pairs, spatial))
        return gp[(slice(None), slice(None)) + sl]
    # Fold every padded index onto the input index numpy.pad copied it from.
    idx = [np.pad(np.arange(s), p, mode=NP_MODES[mode]) for s, p in zip(spatial, pairs)]
    g = gp
    for axis in range(d):
        moved = np.moveaxis(g, axis + 2, 0)
        folded = np.zeros((spatial[axis],) + moved.shape[1:])
        np.add.at(folded, idx[axis], moved)
        g = np.moveaxis(folded, 0, axis + 2)
    return g


def backward_data(dy, w, input_shape, stride=1, padding=0, dilation=1, groups=1,
                  mode="zeros"):
    dy = np.asarray(dy, np.float64)
    w = np.asarray(w, np.float64)
    d = dy.ndim - 2
    stride, dil, pairs = _per_axis(stride, d), _per_axis(dilation, d), _pairs(padding, d)
    spatial = list(input_shape[2:])
    n, c = input_shape[:2]
    k = w.shape[0]
    cg, kg = c // groups, k // groups
    padded = [s + lo + hi for s, (lo, hi) in zip(spatial, pairs)]
    gp = np.zeros((n, c, *padded))
    out = dy.shape[2:]
    for g in range(groups):
        ws = w[g * kg:(g + 1) * kg]
        dys = dy[:, g * kg:(g + 1) * kg]
        for t, sl in _windows(None, w.shape[2:], stride, dil, out):
            tap = ws[(slice(None), slice(None)) + t]             # (kg, cg)
            gp[(slice(None), slice(g * cg, (g + 1) * cg)) + sl] += np.einsum(
                "nk...,kc->nc...", dys, tap)
    return _unpad(gp, pairs, spatial, mode)


def backward_weight(x, dy, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                    mode="zeros"):
    x = np.asarray(x, np.float64)
    dy = np.asarray(dy, np.float64)
    d = x.ndim - 2
    stride, dil, pairs = _per_axis(stride, d), _per_axis(dilation, d), _pairs(padding, d)
    xp = np.pad(x, [(0, 0), (0, 0)] + pairs, mode=NP_MODES[mode])
    c, k = x.shape[1], weight_shape[0]
    cg, kg = c // groups, k // groups
    dw = np.zeros(weight_shape)
    out = dy.shape[2:]
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        dys = dy[:, g * kg:(g + 1) * kg]
        for t, sl in _windows(xs, weight_shape[2:], stride, dil, out):
            patch = xs[(slice(None), slice(None)) + sl]
            dw[(slice(g * kg, (g + 1) * kg), slice(None)) + t] = np.tensordot(
                dys, patch, axes=([0] + list(range(2, dys.ndim)),) * 2)
    return dw


def conv_transpose(x, w, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                   groups=1):
    """Scatter form: every input element adds w * x to a window of the output."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    d = x.ndim - 2
    stride, dil = _per_axis(stride, d), _per_axis(dilation, d)
    pairs, op = _pairs(padding, d), _per_axis(output_padding, d)
    n, c = x.shape[:2]
    cg = c // groups
    kg = w.shape[1]
    k = kg * groups
    full = [(s - 1) * st + di * (kk - 1) + 1 + o
            for s, st, di, kk, o in zip(x.shape[2:], stride, dil, w.shape[2:], op)]
    y = np.zeros((n, k, *full))
    for g in range(groups):
        xs = x[:, g * cg:(g + 1) * cg]
        ws = w[g * cg:(g + 1) * cg]                              # (cg, kg, k..)
        for t, sl in _windows(None, w.shape[2:], stride, dil, x.shape[2:]):
            tap = ws[(slice(None), slice(None)) + t]             # (cg, kg)
            y[(slice(None), slice(g * kg, (g + 1) * kg)) + sl] += np.einsum(
                "nc...,ck->nk...", xs, tap)
    crop = tuple(slice(lo, f - hi) for (lo, hi), f in zip(pairs, full))
    y = y[(slice(None), slice(None)) + crop]
    if bias is not None:
        y = y + np.asarray(bias, np.float64).reshape((1, k) + (1,) * d)
    return y
