"""scipy.ndimage's argument conventions, turned into what convnd's core takes.

Shared by convnd.ndimage (in memory) and convnd.dask_ndimage (lazy). Nothing here computes a
convolution: it names modes, places the kernel (origin), chooses the arithmetic dtype and casts
results back the way scipy.ndimage does.

# Modes: scipy.ndimage's names -> the core's padding modes

For filters, scipy.ndimage treats the grid-* names as synonyms of the plain ones (its docs:
'grid-constant' = 'constant', 'grid-mirror' = 'reflect', 'grid-wrap' = 'wrap'), so every name
has one core mode. scipy's 'reflect' repeats the edge sample (numpy's 'symmetric'); its
'mirror' does not (numpy's 'reflect', the core's 'reflect').

# Kernel placement (origin)

For a kernel of k taps along an axis, scipy extends the line by lo = k // 2 + origin samples
before and hi = k - 1 - lo after, and output[i] = sum_j w[j] * extended[i + j]: exactly the
core's forward convolution with padding (lo, hi). origin must keep both >= 0.
"""

import numbers

import numpy as np

# scipy.ndimage mode -> core padding mode.
CORE_MODE = {
    "reflect": "symmetric", "grid-mirror": "symmetric",
    "mirror": "reflect",
    "nearest": "replicate",
    "wrap": "circular", "grid-wrap": "circular",
    "constant": "zeros", "grid-constant": "zeros",
}

# core padding mode -> numpy.pad mode (for the axes padded in NumPy; see pad_plan).
NUMPY_PAD = {"symmetric": "symmetric", "reflect": "reflect", "replicate": "edge",
             "circular": "wrap", "zeros": "constant"}


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def per_axis(value, n, name, check):
    """scipy's _normalize_sequence: one value for every axis, or a sequence of exactly n."""
    if isinstance(value, str) or not hasattr(value, "__len__"):
        values = [value] * n
    else:
        values = list(value)
        if len(values) != n:
            raise ValueError(f"convnd.ndimage: argument '{name}': needs one entry per filtered "
                             f"axis ({n}), got {len(values)}: {value!r}")
    for axis, v in enumerate(values):
        check(v, axis)
    return values


def modes_arg(mode, n):
    def check(m, axis):
        if m not in CORE_MODE:
            raise ValueError(f"convnd.ndimage: argument 'mode', axis {axis}: must be one of "
                             f"{', '.join(sorted(CORE_MODE))}, got {m!r}")
    return per_axis(mode, n, "mode", check)


def origins_arg(origin, n):
    def check(o, axis):
        if not _is_int(o):
            raise TypeError(f"convnd.ndimage: argument 'origin', axis {axis}: must be an int, "
                            f"got {o!r}")
    return [int(o) for o in per_axis(origin, n, "origin", check)]


def axes_arg(axes, ndim):
    """None -> every axis; an int or ints (negative allowed) -> [0, ndim), in the order
    given, without repeats."""
    if axes is None:
        return list(range(ndim))
    if _is_int(axes):
        axes = [axes]
    out = []
    for a in axes:
        if not _is_int(a):
            raise TypeError(f"convnd.ndimage: argument 'axes': must be ints, got {a!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"convnd.ndimage: argument 'axes': axis {a} is out of range for "
                             f"an array of {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"convnd.ndimage: argument 'axes': must be unique, got {list(axes)!r}")
    return out


def pads(k, origin, axis):
    """(lo, hi) of a k-tap kernel placed by scipy's origin; the error names the rule."""
    lo = k // 2 + origin
    if not 0 <= lo <= k - 1:
        raise ValueError(f"convnd.ndimage: argument 'origin', axis {axis}: must satisfy "
                         f"-(k // 2) <= origin <= (k - 1) // 2 for a kernel of k = {k} taps, "
                         f"got {origin}")
    return lo, k - 1 - lo


def check_input(a, name="input"):
    a = np.asarray(a)
    if a.dtype.kind not in "iufc" or (a.dtype.kind in "fc" and a.dtype.itemsize < 4):
        raise TypeError(f"convnd.ndimage: argument '{name}': dtype must be an integer, "
                        f"float32, float64, complex64 or complex128 type, got {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"convnd.ndimage: argument '{name}': needs at least one dimension")
    return a


def output_dtype(output, input_dtype, complex_output=False):
    """The dtype of the result: scipy's _get_output (None -> the input's dtype)."""
    if output is None:
        dt = np.dtype(input_dtype)
        if complex_output:
            dt = np.promote_types(dt, np.complex64)
        return dt
    dt = output.dtype if isinstance(output, np.ndarray) else np.dtype(output)
    if complex_output and dt.kind != "c":
        raise TypeError(f"convnd.ndimage: argument 'output': must have a complex dtype for a "
                        f"complex input or kernel, got {dt}")
    if dt.kind not in "iufc" or (dt.kind in "fc" and dt.itemsize < 4):
        raise TypeError(f"convnd.ndimage: argument 'output': dtype must be an integer, float32, "
                        f"float64, complex64 or complex128 type, got {dt}")
    return dt


def check_output_array(output, shape):
    if isinstance(output, np.ndarray):
        if tuple(output.shape) != tuple(shape):
            raise ValueError(f"convnd.ndimage: argument 'output': shape must be {tuple(shape)} "
                             f"(the input's), got {tuple(output.shape)}")
        if not output.flags.writeable:
            raise ValueError("convnd.ndimage: argument 'output': array is read-only")


def compute_dtype(in_dtype, out_dtype):
    """float32 arithmetic only where both ends are single precision; otherwise float64, which
    is what scipy.ndimage uses for everything."""
    single = {np.dtype(np.float32), np.dtype(np.complex64)}
    if np.dtype(in_dtype) in single and np.dtype(out_dtype) in single:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def cast_result(y, dtype):
    """Convert a floating result to `dtype` as scipy.ndimage's C code does: a C cast, which for
    integers truncates toward zero and, for a value out of range, keeps the low bits on x86-64
    (so -1 stored as uint8 is 255). Emulated by truncation, int64, then a wrapping astype."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return y.astype(dtype, copy=False)
    t = np.trunc(y)
    with np.errstate(invalid="ignore"):
        return t.astype(np.int64).astype(dtype)


def store(result, output, out_dtype):
    """The value a filter returns: the cast result, written into `output` when it is an array."""
    result = cast_result(result, out_dtype)
    if isinstance(output, np.ndarray):
        if result is not output:
            output[...] = result
        return output
    return result


def pad_plan(modes, pad_pairs, cval):
    """Which axes the core pads, and with which single mode; the rest are padded in NumPy.

    The core takes one padding mode for all axes, scipy one per axis. The most common core
    mode among the axes that need padding goes to the core; an axis with another mode is
    padded with numpy.pad first (its core padding is then 0). 'constant' with cval != 0 is not
    a core mode (the core pads with zeros), so those axes are always padded in NumPy with cval:
    exact, where the identity correlate(x - cval) + cval * sum(w) would round differently.
    Padding axis by axis composes like scipy's per-axis index mapping: a sample outside the
    box in a 'constant' axis is cval whatever the other axes do.

    Returns (core_mode, core_pads, numpy_pads) with numpy_pads a list of
    (axis, (lo, hi), numpy mode).
    """
    need = [i for i, p in enumerate(pad_pairs) if p != (0, 0)]
    core_of = [CORE_MODE[m] for m in modes]
    candidates = [core_of[i] for i in need
                  if not (core_of[i] == "zeros" and cval != 0)]
    if candidates:
        core_mode = max(sorted(set(candidates)), key=candidates.count)
    else:
        core_mode = "zeros"
    core_pads, numpy_pads = [], []
    for i, p in enumerate(pad_pairs):
        if p == (0, 0) or (core_of[i] == core_mode
                           and not (core_mode == "zeros" and cval != 0)):
            core_pads.append(tuple(p))
        else:
            core_pads.append((0, 0))
            numpy_pads.append((i, tuple(p), NUMPY_PAD[core_of[i]]))
    return core_mode, core_pads, numpy_pads
