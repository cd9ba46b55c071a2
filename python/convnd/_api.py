"""The NumPy API: torch.nn.functional's names and meanings, any number of spatial axes.

Every function describes one convolution by (input shape, weight shape, keywords), builds a
`Plan` for it and runs it once. `Plan` is the same thing made explicit, for callers that run
one geometry many times. Shapes, padding forms and all value checks come from the C++ core;
this file only converts arguments and allocates results (in the input's dtype).
"""

import collections
import re
import threading

import numpy as np

from . import _core
from ._docs import shared_doc
from ._args import (PAD_MODES, as_input, as_output, check_dtype, dtype_name, int64, is_int,
                    layout_arg, padding_arg, per_axis, same_policy_arg, split_shape, str_arg)

_OPS = {"forward": "forward", "backward_data": "backward_data",
        "backward_weight": "backward_weights", "backward_weights": "backward_weights"}


def _output_size_arg(output_size, d, layout):
    if output_size is None:
        return []
    if is_int(output_size) or isinstance(output_size, (str, bytes)):
        raise TypeError(f"convnd: argument 'output_size': must be a sequence of {d} ints (or "
                        f"the full output shape), got {output_size!r}")
    try:
        sizes = list(output_size)
    except TypeError:
        raise TypeError(f"convnd: argument 'output_size': must be a sequence of {d} ints (or "
                        f"the full output shape), got {output_size!r}") from None
    if len(sizes) == d + 2:  # a full shape, as torch also accepts
        sizes = sizes[1:-1] if layout == "channels_last" else sizes[2:]
    return per_axis(sizes, d, "output_size")


class _Names:
    """The words the caller used for each array or shape, so that errors speak them: the core
    says 'input'/'kernel'/'dy'/'y', a caller of conv_backward_data wrote 'input_shape'/'w'/
    'grad_out'/'out'."""

    def __init__(self, x="input_shape", w="weight_shape", w_is_array=False, **core_to_user):
        self.x, self.w, self.w_is_array = x, w, w_is_array
        self.core_to_user = {"input": x, "kernel": w, **core_to_user}


_SHAPE_NAMES = _Names()
_ARRAY_NAMES = _Names(x="x", w="w", w_is_array=True)
_BACKWARD_DATA_NAMES = _Names(x="input_shape", w="w", w_is_array=True)
_BACKWARD_WEIGHT_NAMES = _Names(x="x", w="weight_shape")
# Plan's run methods: the core's names of the arrays -> the method parameters'.
_RUN_NAMES = _Names(x="x", w="w", y="out", dy="grad_out", dx="out", dw="out",
                    dbias="bias_out")


def _shape_tuple(shape, name):
    if isinstance(shape, (str, bytes)) or is_int(shape):
        raise TypeError(f"convnd: argument '{name}': must be a sequence of ints (a shape), got "
                        f"{shape!r}")
    try:
        items = list(shape)
    except TypeError:
        raise TypeError(f"convnd: argument '{name}': must be a sequence of ints (a shape), "
                        f"got {shape!r}") from None
    if not all(is_int(v) for v in items):
        raise TypeError(f"convnd: argument '{name}': must be a sequence of ints, got "
                        f"{tuple(shape)!r}")
    return tuple(int64(v, name, axis) for axis, v in enumerate(items))


def _check_input_rank(shape, layout, name):
    if len(shape) >= 3:
        return
    hint = "img[None, None]" if layout == "channels_first" else "img[None, ..., None]"
    raise ValueError(f"convnd: argument '{name}': needs at least 3 dimensions (N, C and one "
                     f"spatial axis), got shape {shape}; for a single image or signal without "
                     f"batch and channel axes pass {hint}")


def _check_channels(x_shape, w_shape, expected_w, layout, groups, transposed, names):
    """The channel extent of the weights against the input's, in the caller's words. The
    core derives K and the kernel extents from the weight shape, so the channel axis is the
    only place the two shapes can disagree."""
    axis = 0 if transposed else 1
    if w_shape[axis] == expected_w[axis]:
        return
    c_axis = len(x_shape) - 1 if layout == "channels_last" else 1
    C = x_shape[c_axis]
    per = "w.shape[0] (conv_transpose weights are (C, K/groups, k..))" if transposed else \
        f"{w_shape[1]} input channels per group x {groups} groups"
    need = w_shape[0] if transposed else w_shape[1] * groups
    if names.w_is_array:
        msg = (f"convnd: argument '{names.x}', axis {c_axis}: expected {need} channels "
               f"({names.w} has {per}), got {C}")
        other = len(x_shape) - 1 if layout == "channels_first" else 1
        if x_shape[other] == need:
            alt = "channels_last" if layout == "channels_first" else "channels_first"
            msg += f"; '{names.x}' looks {alt}: pass layout={alt!r}"
    else:
        rule = "C" if transposed else "C/groups"
        msg = (f"convnd: argument '{names.w}', axis {axis}: must be {rule} = "
               f"{expected_w[axis]} (from {names.x}'s {C} channels and groups={groups}), got "
               f"{w_shape[axis]}")
    raise ValueError(msg)


def _translated(call, names, layout=None, ndim=0):
    """Runs a core call; its errors name the arguments as this caller wrote them. With the
    layout, the core's spatial axis numbers ('input', axis 0) become the caller's array axes
    ('x', axis 2), and its N, C, K become axes of the shapes."""
    try:
        return call()
    except (ValueError, TypeError) as e:
        msg = str(e)
        changed = msg
        if layout is not None:
            x_off = 1 if layout == "channels_last" else 2
            c_axis = ndim - 1 if layout == "channels_last" else 1
            changed = re.sub(r"argument 'input', axis (\d+)",
                             lambda m: f"argument '{names.x}', axis {int(m[1]) + x_off}", changed)
            changed = re.sub(r"argument 'kernel', axis (\d+)",
                             lambda m: f"argument '{names.w}', axis {int(m[1]) + 2}", changed)
            changed = changed.replace("argument 'N'", f"argument '{names.x}', axis 0")
            changed = changed.replace("argument 'C'", f"argument '{names.x}', axis {c_axis}")
            changed = changed.replace("argument 'K'", f"argument '{names.w}', axis 0")
        for core, user in names.core_to_user.items():
            changed = changed.replace(f"argument '{core}'", f"argument '{user}'")
            changed = changed.replace(f"input '{core}'", f"input '{user}'")
        if changed == msg:
            raise
        raise type(e)(changed) from None


def _make_spec(input_shape, weight_shape, *, dtype="float32", bias=False, transposed=False,
               stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
               same_policy=None, layout="channels_first", output_padding=0,
               output_size=None, strict=False, names=_SHAPE_NAMES):
    layout = layout_arg(layout)
    x_shape = _shape_tuple(input_shape, names.x)
    _check_input_rank(x_shape, layout, names.x)
    n, c, spatial = split_shape(x_shape, layout, names.x)
    d = len(spatial)
    w = _shape_tuple(weight_shape, names.w)
    if len(w) != d + 2:
        raise ValueError(f"convnd: argument '{names.w}': must have {d + 2} dimensions like "
                         f"'{names.x}' ({d} spatial axes), got shape {w}")
    if not is_int(groups):
        raise TypeError(f"convnd: argument 'groups': must be an int, got {groups!r}")
    groups = int64(groups, "groups")
    policy = same_policy_arg(padding, same_policy)
    if isinstance(padding, str) and padding.startswith("same:"):
        padding = "same"
    # Transposed weights are (C, K/groups, k..): K is not the first extent there.
    k = w[1] * groups if transposed else w[0]
    if output_size is not None and is_int(output_padding) and output_padding == 0:
        output_padding = None  # the core takes one of the two
    spec = _translated(lambda: _core.Spec(
        N=n, C=c, K=int64(k, names.w, 1 if transposed else 0), groups=groups, input=spatial,
        kernel=list(w[2:]), stride=per_axis(stride, d, "stride"),
        dilation=per_axis(dilation, d, "dilation"), padding=padding_arg(padding, d),
        same_policy=policy, pad_mode=str_arg(padding_mode, "padding_mode", PAD_MODES),
        layout=layout, dtype=dtype_name(check_dtype(dtype, "dtype")), bias=bool(bias),
        transposed=bool(transposed),
        output_padding=(per_axis(output_padding, d, "output_padding", allow_empty=True)
                        if transposed else []),
        output_size=_output_size_arg(output_size, d, layout), strict=bool(strict)), names)
    shapes = _translated(spec.shapes, names, layout, len(x_shape))  # validates every value, in the core's words
    _check_channels(x_shape, w, tuple(shapes["w"]), layout, groups, transposed, names)
    return spec, shapes


def _precision_arg(precision):
    if not isinstance(precision, str):
        raise TypeError(f"convnd: argument 'precision': must be a string ('standard' or "
                        f"'highest'), got {type(precision).__name__}")
    return precision


def _plan_options(algorithm, threads, workspace_limit):
    if algorithm is not None and not isinstance(algorithm, str):
        raise TypeError(f"convnd: argument 'algorithm': must be a string (one of "
                        f"convnd.algorithms()) or None, got {algorithm!r}")
    if not is_int(threads):
        raise TypeError(f"convnd: argument 'threads': must be an int (0: all cores), got "
                        f"{threads!r}")
    if workspace_limit is not None:
        if not is_int(workspace_limit):
            raise TypeError(f"convnd: argument 'workspace_limit': must be an int (bytes) or "
                            f"None, got {workspace_limit!r}")
        if not 0 <= workspace_limit < 2**64:
            raise ValueError(f"convnd: argument 'workspace_limit': must be >= 0 bytes, got "
                             f"{workspace_limit}")
    if not -(2**31) <= threads < 2**31:
        raise ValueError(f"convnd: argument 'threads': must be >= 0 (0: all cores) and fit "
                         f"in 32 bits, got {threads}")
    return algorithm or "", int(threads), workspace_limit


@shared_doc
class Plan:
    """One convolution geometry, validated and planned once, run many times.

    Plan(input_shape, weight_shape, *, op="forward", dtype="float32", bias=False,
         transposed=False, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
         same_policy=None, layout="channels_first", output_padding=0, output_size=None,
         strict=False, algorithm=None, threads=0, workspace_limit=None,
         constant_weights=False, precision="standard")

    `.algorithm` says which algorithm was chosen and `.rejections` why the better-ranked
    ones were not. Safe to run from several threads.

    Parameters
    ----------
    input_shape, weight_shape : sequence of ints
        Shapes of x and w as conv (or conv_transpose, transposed=True) takes them.
    op : {"forward", "backward_data", "backward_weight"}, optional
        The pass this plan runs: `forward` (also callable as plan(x, w)), `backward_data`
        or `backward_weight`.
    dtype : {"float32", "float64"}, optional
    bias : bool, optional
        Whether forward runs take a bias.
    transposed, output_padding, output_size
        As for conv_transpose.
    {GEOMETRY}
    {RUN}
    strict : bool, optional
    workspace_limit : int, optional
        Bytes of scratch memory the chosen algorithm may use.
    constant_weights : bool, optional
        A promise that every run gets the same weights (inference): the packed or transformed
        weights are kept between runs instead of being prepared on every call.

    {RAISES}

    Examples
    --------
    >>> import numpy as np, convnd
    >>> plan = convnd.Plan((1, 3, 8, 8), (4, 3, 3, 3), padding=1, constant_weights=True)
    >>> plan.output_shape
    (1, 4, 8, 8)
    >>> x = np.ones((1, 3, 8, 8), np.float32); w = np.ones((4, 3, 3, 3), np.float32)
    >>> float(plan(x, w)[0, 0, 4, 4])
    27.0
    """

    def __init__(self, input_shape, weight_shape, *, op="forward", dtype="float32",
                 bias=False, transposed=False, stride=1, padding=0, dilation=1, groups=1,
                 padding_mode="zeros", same_policy=None, layout="channels_first",
                 output_padding=0, output_size=None, strict=False, algorithm=None, threads=0,
                 workspace_limit=None, constant_weights=False, precision="standard",
                 _names=_SHAPE_NAMES):
        if not isinstance(op, str) or op not in _OPS:
            raise ValueError(f"convnd: argument 'op': must be one of 'forward', "
                             f"'backward_data', 'backward_weight', got {op!r}")
        self._op = "backward_weight" if op == "backward_weights" else op
        self._dtype = check_dtype(dtype, "dtype")
        self._layout = layout_arg(layout)
        self._spec, self._shapes = _make_spec(
            input_shape, weight_shape, dtype=self._dtype, bias=bias, transposed=transposed,
            stride=stride, padding=padding, dilation=dilation, groups=groups,
            padding_mode=padding_mode, same_policy=same_policy, layout=layout,
            output_padding=output_padding, output_size=output_size, strict=strict,
            names=_names)
        algorithm, threads, workspace_limit = _plan_options(algorithm, threads,
                                                            workspace_limit)
        self._plan = _translated(lambda: _core.Plan(
            self._spec, _OPS[op], algorithm=algorithm, threads=threads,
            workspace_limit=workspace_limit, constant_weights=bool(constant_weights),
            precision=_precision_arg(precision)), _names)

    algorithm = property(lambda self: self._plan.algorithm, doc="the algorithm chosen")
    workspace_bytes = property(lambda self: self._plan.workspace_bytes,
                               doc="scratch memory one run needs")
    rejections = property(lambda self: list(self._plan.rejections))
    error_bound = property(
        lambda self: self._plan.error_bound,
        doc="bound on max|result - exact| / max(sum of |products|) of the chosen algorithm")
    op = property(lambda self: self._op)
    dtype = property(lambda self: self._dtype)
    input_shape = property(lambda self: self._shapes["x"])
    weight_shape = property(lambda self: self._shapes["w"])
    output_shape = property(lambda self: self._shapes["y"])

    @property
    def spec(self):
        """The problem string, e.g. 'n1c3k8s32x32k3x3p1' (the CLI and benchmarks use it too)."""
        return str(self._spec)

    def padding(self):
        """Resolved (lo, hi) padding per spatial axis."""
        return [tuple(p) for p in self._spec.resolve_padding()]

    def explain(self):
        return self._spec.explain()

    def __repr__(self):
        return f"<convnd.Plan {self._op} {self.spec} algorithm={self.algorithm}>"

    def _require(self, op):
        if self._op != op:
            raise ValueError(f"convnd: this Plan was made for op={self._op!r}, not {op!r}")

    def forward(self, x, w, bias=None, out=None):
        """y = conv(x, w) (+ bias), or the transposed convolution for a transposed Plan."""
        self._require("forward")
        x, w = as_input(x, "x"), as_input(w, "w")
        b = None if bias is None else as_input(bias, "bias")
        y = as_output(out, self.output_shape, self._dtype)
        _translated(lambda: self._plan.forward(x, w, b, y), _RUN_NAMES)
        return y

    __call__ = forward

    def backward_data(self, grad_out, w, out=None):
        """Gradient of <conv(x, w), grad_out> with respect to x."""
        self._require("backward_data")
        dy, w = as_input(grad_out, "grad_out"), as_input(w, "w")
        dx = as_output(out, self.input_shape, self._dtype)
        _translated(lambda: self._plan.backward_data(dy, w, dx), _RUN_NAMES)
        return dx

    def backward_weight(self, x, grad_out, out=None, bias_out=None):
        """Gradient of <conv(x, w), grad_out> with respect to w (and to the bias, written to
        `bias_out` when given)."""
        self._require("backward_weight")
        x, dy = as_input(x, "x"), as_input(grad_out, "grad_out")
        dw = as_output(out, self.weight_shape, self._dtype)
        db = None
        if bias_out is not None:
            db = as_output(bias_out, (self._out_channels(),), self._dtype, "bias_out")
        _translated(lambda: self._plan.backward_weights(x, dy, dw, db), _RUN_NAMES)
        return dw

    def _out_channels(self):
        shape = self.output_shape
        return shape[-1] if self._layout == "channels_last" else shape[1]


def _same_dtype(a, b, what):
    if a.dtype != b.dtype:
        raise TypeError(f"convnd: {what} must have the same dtype (float32 or float64), got "
                        f"{a.dtype} and {b.dtype}")


def _prepare(x, w, bias, x_name="x"):
    x, w = as_input(x, x_name), as_input(w, "w")
    _same_dtype(x, w, f"'{x_name}' and 'w'")
    if x.ndim != w.ndim:
        raise ValueError(f"convnd: arguments '{x_name}' and 'w': must have the same number of "
                         f"dimensions, got {x.ndim} ({x.shape}) and {w.ndim} ({w.shape})")
    if bias is not None:
        bias = as_input(bias, "bias")
        _same_dtype(x, bias, f"'{x_name}' and 'bias'")
    return x, w, bias


# ---------------------------------------------------------------------------------------
# Plans of the one-off entry points (conv, conv_transpose, the gradients, convnd.torch)

_PLAN_CACHE_SIZE = 256
_plan_cache = collections.OrderedDict()
_plan_cache_lock = threading.Lock()


def _frozen(v):
    """v as a dictionary key that keeps its type: stride=1 and stride=1.0 (a TypeError) or
    True must not find each other's plan."""
    if isinstance(v, (list, tuple)):
        return (type(v).__name__,) + tuple(_frozen(i) for i in v)
    if isinstance(v, np.ndarray):
        raise TypeError("an array argument is not cached")
    return (type(v).__name__, v)


def cached_plan(input_shape, weight_shape, **kwargs):
    """Plan(input_shape, weight_shape, **kwargs) from an LRU of the last _PLAN_CACHE_SIZE
    geometries: planning (validation, dispatch, sizing) costs about 20 us, as much as running
    a small layer, and a training loop or a filter applied to many images asks for the same
    few plans again and again. Plans are immutable and may run concurrently; one that fails to
    be made raises and is not cached. Arguments that cannot be a key are planned uncached."""
    try:
        key = (_frozen(input_shape), _frozen(weight_shape),
               tuple((k, _frozen(v)) for k, v in sorted(kwargs.items())))
        hash(key)
    except TypeError:
        return Plan(input_shape, weight_shape, **kwargs)
    with _plan_cache_lock:
        plan = _plan_cache.get(key)
        if plan is not None:
            _plan_cache.move_to_end(key)
            return plan
    plan = Plan(input_shape, weight_shape, **kwargs)
    with _plan_cache_lock:
        _plan_cache[key] = plan
        while len(_plan_cache) > _PLAN_CACHE_SIZE:
            _plan_cache.popitem(last=False)
    return plan


@shared_doc
def conv(x, w, bias=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
         same_policy=None, layout="channels_first", out=None, strict=False, algorithm=None,
         threads=0, precision="standard"):
    """N-dimensional convolution (cross-correlation), as torch.nn.functional.conv{1,2,3}d.

    Parameters
    ----------
    x : array_like, (N, C, S0, ..) or channels-last (N, S0, .., C)
        Input, float32 or float64, any strides.
    w : array_like, (K, C/groups, k0, ..)
        Weights, same dtype as x.
    bias : array_like, (K,), optional
    {GEOMETRY}
    {RUN}
    out : numpy.ndarray, optional
        Written in place when given (shape and dtype of the result).
    strict : bool, optional
        MyGrad's rule: the stride must fit the padded input exactly.

    Returns
    -------
    numpy.ndarray
        y, (N, K, O0, ..) (or channels-last), in x's dtype.

    {RAISES}

    Examples
    --------
    >>> import numpy as np, convnd
    >>> x = np.zeros((1, 1, 16)); x[..., 5:11] = 1
    >>> convnd.conv(x, np.ones((1, 1, 5)))
    array([[[0., 1., 2., 3., 4., 5., 5., 4., 3., 2., 1., 0.]]])
    >>> convnd.conv(np.ones((1, 1, 5)), np.ones((1, 1, 4)), padding="same:scipy").shape
    (1, 1, 5)
    """
    x, w, bias = _prepare(x, w, bias)
    plan = cached_plan(x.shape, w.shape, op="forward", dtype=x.dtype, bias=bias is not None,
                       stride=stride, padding=padding, dilation=dilation, groups=groups,
                       padding_mode=padding_mode, same_policy=same_policy, layout=layout,
                       strict=strict, algorithm=algorithm, threads=threads, precision=precision,
                       _names=_ARRAY_NAMES)
    return plan.forward(x, w, bias, out)


@shared_doc
def conv_transpose(x, w, bias=None, *, stride=1, padding=0, output_padding=0, dilation=1,
                   groups=1, output_size=None, padding_mode="zeros", layout="channels_first",
                   out=None, algorithm=None, threads=0, precision="standard"):
    """Transposed convolution, as torch.nn.functional.conv_transpose{1,2,3}d.

    Output extent per axis: (S-1)*stride - lo - hi + dilation*(k-1) + output_padding + 1, or
    `output_size`. Padding is explicit (ints or (lo, hi) pairs); every padding mode works.

    Parameters
    ----------
    x : array_like, (N, C, S0, ..)
    w : array_like, (C, K/groups, k0, ..)
    bias : array_like, (K,), optional
    output_padding : int or sequence of ints, optional
        Extra extent on the high side, < max(stride, dilation) per axis.
    output_size : sequence of ints, optional
        The output's spatial extents (or its full shape); solves for output_padding.
    {STRIDE_DILATION}
    {PADDING}
    {GROUPS}
    {PADDING_MODE}
    {LAYOUT}
    {RUN}
    out : numpy.ndarray, optional

    Returns
    -------
    numpy.ndarray
        (N, K, O0, ..) in x's dtype.

    {RAISES}

    Examples
    --------
    >>> import numpy as np, convnd
    >>> convnd.conv_transpose(np.ones((1, 1, 3)), np.ones((1, 1, 2)), stride=2)
    array([[[1., 1., 1., 1., 1., 1.]]])
    """
    x, w, bias = _prepare(x, w, bias)
    plan = cached_plan(x.shape, w.shape, op="forward", dtype=x.dtype, bias=bias is not None,
                       transposed=True, stride=stride, padding=padding, dilation=dilation,
                       groups=groups, padding_mode=padding_mode, layout=layout,
                       output_padding=output_padding, output_size=output_size, algorithm=algorithm,
                       threads=threads, precision=precision, _names=_ARRAY_NAMES)
    return plan.forward(x, w, bias, out)


@shared_doc
def conv_backward_data(grad_out, w, input_shape, *, stride=1, padding=0, dilation=1, groups=1,
                       padding_mode="zeros", same_policy=None, layout="channels_first",
                       out=None, algorithm=None, threads=0, precision="standard"):
    """Gradient of sum(conv(x, w) * grad_out) with respect to x.

    Parameters
    ----------
    grad_out : array_like
        The gradient of the loss with respect to conv's output (its shape).
    w : array_like, (K, C/groups, k0, ..)
    input_shape : sequence of ints
        The shape of x.
    {GEOMETRY}
    {RUN}
    out : numpy.ndarray, optional

    Returns
    -------
    numpy.ndarray
        dx, of shape `input_shape`, in grad_out's dtype.

    {RAISES}

    Examples
    --------
    >>> import numpy as np, convnd
    >>> convnd.conv_backward_data(np.ones((1, 1, 12)), np.ones((1, 1, 5)), (1, 1, 16))
    array([[[1., 2., 3., 4., 5., 5., 5., 5., 5., 5., 5., 5., 4., 3., 2., 1.]]])
    """
    dy, w, _ = _prepare(grad_out, w, None, "grad_out")
    plan = cached_plan(input_shape, w.shape, op="backward_data", dtype=dy.dtype, stride=stride,
                       padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode,
                       same_policy=same_policy, layout=layout, algorithm=algorithm, threads=threads,
                       precision=precision, _names=_BACKWARD_DATA_NAMES)
    return plan.backward_data(dy, w, out)


@shared_doc
def conv_backward_weight(x, grad_out, weight_shape, *, stride=1, padding=0, dilation=1,
                         groups=1, padding_mode="zeros", same_policy=None,
                         layout="channels_first", out=None, algorithm=None, threads=0,
                         precision="standard"):
    """Gradient of sum(conv(x, w) * grad_out) with respect to w.

    Parameters
    ----------
    x : array_like, (N, C, S0, ..)
    grad_out : array_like
        The gradient of the loss with respect to conv's output.
    weight_shape : sequence of ints
        The shape of w, (K, C/groups, k0, ..); checked against x's channels.
    {GEOMETRY}
    {RUN}
    out : numpy.ndarray, optional

    Returns
    -------
    numpy.ndarray
        dw, of shape `weight_shape`, in x's dtype.

    {RAISES}

    Examples
    --------
    >>> import numpy as np, convnd
    >>> x = np.zeros((1, 1, 16)); x[..., 5:11] = 1
    >>> convnd.conv_backward_weight(x, np.ones((1, 1, 12)), (1, 1, 5))
    array([[[6., 6., 6., 6., 6.]]])
    """
    x, dy = as_input(x, "x"), as_input(grad_out, "grad_out")
    _same_dtype(x, dy, "'x' and 'grad_out'")
    plan = cached_plan(x.shape, weight_shape, op="backward_weight", dtype=x.dtype, stride=stride,
                       padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode,
                       same_policy=same_policy, layout=layout, algorithm=algorithm, threads=threads,
                       precision=precision, _names=_BACKWARD_WEIGHT_NAMES)
    return plan.backward_weight(x, dy, out)


def conv_backward_bias(grad_out, *, layout="channels_first"):
    """Gradient with respect to the bias: grad_out summed over every axis but the channels.

    Parameters
    ----------
    grad_out : array_like, (N, K, O0, ..) or channels-last
    layout : {"channels_first", "channels_last"}, optional

    Returns
    -------
    numpy.ndarray
        (K,), summed in float64 and rounded once to grad_out's dtype.

    Raises
    ------
    ValueError
        grad_out has fewer than 3 dimensions, or the layout is unknown.

    Examples
    --------
    >>> import numpy as np, convnd
    >>> convnd.conv_backward_bias(np.ones((2, 3, 4)))
    array([8., 8., 8.])
    """
    dy = as_input(grad_out, "grad_out")
    layout = layout_arg(layout)
    if dy.ndim < 3:
        raise ValueError(f"convnd: argument 'grad_out': needs at least 3 dimensions, got "
                         f"shape {dy.shape}")
    channel_axis = dy.ndim - 1 if layout == "channels_last" else 1
    axes = tuple(a for a in range(dy.ndim) if a != channel_axis)
    # Accumulate in float64 as the core's reference does, then round once.
    return np.sum(dy, axis=axes, dtype=np.float64).astype(dy.dtype)


def _geometry(input_shape, weight_shape, stride, padding, dilation, groups, same_policy,
              layout, transposed, output_padding, output_size, padding_mode="zeros"):
    spec, _ = _make_spec(input_shape, weight_shape, transposed=transposed, stride=stride,
                         padding=padding, dilation=dilation, groups=groups,
                         padding_mode=padding_mode, same_policy=same_policy, layout=layout,
                         output_padding=output_padding, output_size=output_size)
    return spec


@shared_doc
def output_shape(input_shape, weight_shape, *, stride=1, padding=0, dilation=1, groups=1,
                 same_policy=None, layout="channels_first", transposed=False,
                 output_padding=0, output_size=None):
    """Full shape of the result of conv (or conv_transpose with transposed=True).

    Parameters
    ----------
    {SHAPES}

    Returns
    -------
    tuple of int

    {RAISES}

    Examples
    --------
    >>> import convnd
    >>> convnd.output_shape((1, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3)
    (1, 64, 112, 112)
    """
    spec = _geometry(input_shape, weight_shape, stride, padding, dilation, groups, same_policy,
                     layout, transposed, output_padding, output_size)
    return tuple(spec.shapes()["y"])


@shared_doc
def resolve_padding(input_shape, weight_shape, *, stride=1, padding=0, dilation=1, groups=1,
                    same_policy=None, layout="channels_first", transposed=False,
                    output_padding=0, output_size=None):
    """The (lo, hi) padding per spatial axis that `padding` means for this geometry.

    Parameters
    ----------
    {SHAPES}

    Returns
    -------
    list of (int, int)

    {RAISES}

    Examples
    --------
    >>> import convnd
    >>> convnd.resolve_padding((1, 1, 5), (1, 1, 4), padding="same:scipy")
    [(2, 1)]
    >>> convnd.resolve_padding((1, 1, 5), (1, 1, 3), stride=2, padding="same:numpy_ml")
    [(3, 3)]
    """
    spec = _geometry(input_shape, weight_shape, stride, padding, dilation, groups, same_policy,
                     layout, transposed, output_padding, output_size)
    return [tuple(p) for p in spec.resolve_padding()]


@shared_doc
def explain(input_shape, weight_shape, *, stride=1, padding=0, dilation=1, groups=1,
            same_policy=None, layout="channels_first", transposed=False, output_padding=0,
            output_size=None, padding_mode="zeros"):
    """A few lines showing, per axis, the output-size formula with the numbers filled in.

    Parameters
    ----------
    {SHAPES}
    padding_mode : str, optional

    Returns
    -------
    str

    {RAISES}

    Examples
    --------
    >>> import convnd
    >>> print(convnd.explain((1, 1, 5), (1, 1, 3), stride=2, padding="same:tf"))
    convolution, rank 1, channels_first, float32, groups 1, padding 'same:tf' mode zeros
      x (1, 1, 5)  w (1, 1, 3)  ->  y (1, 1, 3)
      O = floor((S + lo + hi - dil*(k-1) - 1) / stride) + 1
      axis 0: S=5 k=3 stride=2 dil=1 pad=(1, 1)  O = floor((5 + 1 + 1 - 1*(3-1) - 1) / 2) + 1 = 3
    <BLANKLINE>
    """
    spec = _geometry(input_shape, weight_shape, stride, padding, dilation, groups, same_policy,
                     layout, transposed, output_padding, output_size, padding_mode)
    return spec.explain()


def set_thread_source(source):
    """Where multi-threaded runs find their threads, for the whole process.

    Parameters
    ----------
    source : {"pool", "openmp"}
        "pool" (the default): convnd's own helper threads, which sleep between runs; on a busy
        machine a helper the OS has descheduled is not waited for. "openmp": the OpenMP team of
        the calling thread, shared with any other library in the process that uses OpenMP.
        Choose it where such a library runs parallel work between convnd's calls (PyTorch,
        whose threads busy-wait after each of their regions and would otherwise compete with
        convnd's for the cores); importing convnd.torch selects it. Results are bitwise the
        same with either.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        For any other name.
    TypeError
        When `source` is not a string.

    Examples
    --------
    >>> import convnd
    >>> previous = convnd.thread_source()
    >>> convnd.set_thread_source("pool")
    >>> convnd.thread_source()
    'pool'
    >>> convnd.set_thread_source(previous)
    """
    if not isinstance(source, str):
        raise TypeError(f"argument 'source': expected 'pool' or 'openmp', got {source!r}")
    _core.set_thread_source(source)


def thread_source():
    """The current thread source (see set_thread_source).

    Parameters
    ----------
    None

    Returns
    -------
    str
        "pool" or "openmp".

    Raises
    ------
    Nothing.

    Examples
    --------
    >>> import convnd
    >>> convnd.thread_source() in ("pool", "openmp")
    True
    """
    return _core.thread_source()


def algorithms():
    """Names of the algorithms of this build, best first ("reference" is the oracle).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import convnd
    >>> "reference" in convnd.algorithms()
    True
    """
    return list(_core.algorithms())
