"""Argument normalisation shared by the public functions: arrays, per-axis values, padding.

Everything here turns Python conveniences (ints for all axes, tuples, strings, array-likes)
into the plain lists and arrays that convnd._core takes. Rules about values (stride >= 1,
padding >= 0, output size >= 1, ...) are left to the C++ core so that there is one set of
rules and one wording of the messages.
"""

import numbers

import numpy as np

_LAYOUTS = ("channels_first", "channels_last")


def dtype_name(dtype):
    return "float32" if np.dtype(dtype).itemsize == 4 else "float64"


def check_dtype(dtype, name):
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"convnd: argument '{name}': must be float32 or float64, got "
                        f"{dtype!r}") from None
    # Compare kind and size, not the dtype: '>f8' is a float64 too (converted later).
    if dtype.kind != "f" or dtype.itemsize not in (4, 8):
        raise TypeError(
            f"convnd: argument '{name}': dtype must be float32 or float64, got {dtype}")
    return dtype.newbyteorder("=")


def as_input(a, name):
    """An array the core can read in place; a copy only where the core could not.

    A copy is made for a non-native byte order, and for byte strides or a start address
    that are not a multiple of the item size (fields of packed records); any other strides,
    negative ones included, are passed as they are.
    """
    if not isinstance(a, np.ndarray):
        try:
            a = np.asarray(a)
        except (ValueError, TypeError) as e:  # ragged nesting, undecodable bytes, ...
            raise TypeError(f"convnd: argument '{name}': cannot be read as an array of "
                            f"numbers ({e})") from None
        if a.dtype.kind in "iub":
            # A list of ints (e.g. [[1, 2]]) means numbers, not an integer tensor.
            a = a.astype(np.float64)
    check_dtype(a.dtype, name)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if not a.flags.aligned or any(s % a.itemsize for s in a.strides):
        a = np.ascontiguousarray(a)  # a fresh array is aligned with whole-element strides
    return a


def as_output(out, shape, dtype, name="out"):
    """The array results are written to: `out` when given (checked), else a new one."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"convnd: argument '{name}': must be a numpy.ndarray")
    if out.dtype != dtype:
        raise TypeError(f"convnd: argument '{name}': dtype must be {dtype_name(dtype)} "
                        f"(the input's), got {out.dtype}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"convnd: argument '{name}': shape must be {tuple(shape)}, "
                         f"got {tuple(out.shape)}")
    if not out.flags.writeable:
        raise ValueError(f"convnd: argument '{name}': array is read-only")
    if (not out.dtype.isnative or not out.flags.aligned
            or any(s % out.itemsize for s in out.strides)):
        raise ValueError(f"convnd: argument '{name}': needs native byte order and strides "
                         f"that are whole elements")
    return out


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
PAD_MODES = ("zeros", "reflect", "replicate", "circular", "symmetric")
SAME_POLICIES = ("torch", "tf", "tf_lower", "numpy_ml", "scipy")


def is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def int64(v, name, axis=None):
    """An int that the core can hold (int64), or a ValueError naming the argument and axis."""
    v = int(v)
    if not _INT64_MIN <= v <= _INT64_MAX:
        where = f"'{name}'" if axis is None else f"'{name}', axis {axis}"
        raise ValueError(f"convnd: argument {where}: {v} is out of range (the core takes "
                         f"64-bit integers, |value| < 2**63)")
    return v


def per_axis(value, d, name, allow_empty=False):
    """An int (same for every axis) or a sequence of d ints -> list of d ints."""
    if value is None and allow_empty:
        return []
    if is_int(value):
        return [int64(value, name)] * d
    if isinstance(value, (str, bytes)):
        raise TypeError(f"convnd: argument '{name}': must be an int or a sequence of {d} ints, "
                        f"got {value!r}")
    try:
        values = [v for v in value]
    except TypeError:
        raise TypeError(f"convnd: argument '{name}': must be an int or a sequence of {d} ints, "
                        f"got {value!r}") from None
    if len(values) != d or not all(is_int(v) for v in values):
        raise ValueError(f"convnd: argument '{name}': must be an int or a sequence of {d} ints "
                         f"(one per spatial axis), got {value!r}")
    return [int64(v, name, axis) for axis, v in enumerate(values)]


def padding_arg(padding, d):
    """int | str | (p0, ..) | ((lo, hi), ..) -> what _core.Spec takes: a str or (lo, hi) pairs."""
    if isinstance(padding, str):
        return padding
    if is_int(padding):
        p = int64(padding, "padding")
        return [(p, p)] * d
    if isinstance(padding, bytes):
        raise TypeError(f"convnd: argument 'padding': must be an int, a string, a sequence of "
                        f"{d} ints or of {d} (lo, hi) pairs, got {padding!r}")
    try:
        items = list(padding)
    except TypeError:
        raise TypeError(f"convnd: argument 'padding': must be an int, a string, a sequence of "
                        f"{d} ints or of {d} (lo, hi) pairs, got {padding!r}") from None
    if len(items) != d:
        raise ValueError(f"convnd: argument 'padding': needs one entry per spatial axis "
                         f"({d}), got {len(items)}: {padding!r}")
    pairs = []
    for axis, item in enumerate(items):
        if is_int(item):
            p = int64(item, "padding", axis)
            pairs.append((p, p))
            continue
        try:
            lo, hi = item
        except (TypeError, ValueError):
            raise ValueError(f"convnd: argument 'padding': each entry must be an int or a "
                             f"(lo, hi) pair, got {item!r}") from None
        if not (is_int(lo) and is_int(hi)):
            raise ValueError(f"convnd: argument 'padding': (lo, hi) must be ints, got {item!r}")
        pairs.append((int64(lo, "padding", axis), int64(hi, "padding", axis)))
    return pairs


def same_policy_arg(padding, same_policy):
    """The 'same' policy in force: named in the padding string ('same:tf'), by `same_policy`,
    or torch's by default. When both name one they must agree: silently preferring either
    would compute a different padding than the caller wrote."""
    if same_policy is not None and not isinstance(same_policy, str):
        raise TypeError(f"convnd: argument 'same_policy': must be a string, one of "
                        f"{', '.join(SAME_POLICIES)}, got {type(same_policy).__name__}")
    named = None
    if isinstance(padding, str) and padding.startswith("same:"):
        named = padding[len("same:"):]
    if named is not None and same_policy is not None and named != same_policy:
        raise ValueError(f"convnd: arguments 'padding' and 'same_policy': padding={padding!r} "
                         f"names the policy {named!r} but same_policy={same_policy!r}; give "
                         f"the policy once (padding='same', same_policy={same_policy!r}, or "
                         f"padding={padding!r} alone)")
    return named or same_policy or "torch"


def str_arg(value, name, choices):
    """A string keyword (padding_mode, precision, ...): one string, else a TypeError that says
    what is accepted. The core checks the name itself and lists the valid ones."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and name == "padding_mode":
        raise ValueError(f"convnd: argument 'padding_mode': one mode applies to every axis; "
                         f"per-axis modes ({value!r}) are not supported by convnd.conv "
                         f"(pad each axis with numpy.pad first, then convolve with padding=0)")
    raise TypeError(f"convnd: argument '{name}': must be a string, one of "
                    f"{', '.join(choices)}, got {value!r}")


def layout_arg(layout):
    if layout not in _LAYOUTS:
        raise ValueError(f"convnd: argument 'layout': must be 'channels_first' or "
                         f"'channels_last', got {layout!r}")
    return layout


def split_shape(shape, layout, name):
    """(N, C, spatial) of a full activation shape in the given layout."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 3:
        raise ValueError(f"convnd: argument '{name}': needs at least 3 dimensions "
                         f"(N, C and one spatial axis), got shape {shape}")
    if layout == "channels_last":
        return shape[0], shape[-1], list(shape[1:-1])
    return shape[0], shape[1], list(shape[2:])

