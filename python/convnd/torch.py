"""convnd.torch: PyTorch functions with autograd and nn modules, any number of dimensions.

    import torch, convnd.torch
    conv = convnd.torch.ConvNd(2, 8, kernel_size=(3, 3, 3, 3), padding="same",
                               padding_mode="reflect")          # a 4-D convolution layer
    y = conv(torch.randn(1, 2, 8, 8, 8, 8))                      # (1, 8, 8, 8, 8, 8)
    y.square().mean().backward()                                 # gradients by convnd

Functions (torch.nn.functional's names, arguments and positional order):
    conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
         padding_mode="zeros", same_policy="torch", precision="standard", threads=None,
         algorithm=None)
    conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                   dilation=1, *, output_size=None, padding_mode="zeros", ...)
    conv1d .. conv4d, conv_transpose1d .. conv_transpose4d: the same with the rank checked.
Modules (torch.nn's arguments, parameter names, shapes and initialisation):
    ConvNd(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
           bias=True, padding_mode="zeros", device=None, dtype=None, *, same_policy="torch",
           precision="standard", threads=None, algorithm=None)    rank = len(kernel_size)
    ConvTransposeNd(in_channels, out_channels, kernel_size, stride=1, padding=0,
                    output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                    device=None, dtype=None, *, ...);  forward(input, output_size=None)
    Conv1d .. Conv4d, ConvTranspose1d .. ConvTranspose4d: fixed rank, an int kernel_size.
    For 1-3 dimensions the state_dict has torch.nn.Conv{1,2,3}d's (ConvTranspose{1,2,3}d's)
    keys and shapes, so weights move between the two both ways; `from_torch(module)` and
    `.to_torch()` convert a layer.

What convnd adds to torch's own convolutions: any number of spatial dimensions; every padding
mode (zeros, reflect, symmetric, replicate, circular) at any padding size, in forward and
transposed convolutions; padding='same' with stride > 1 (same_policy="tf", "tf_lower",
"numpy_ml", "scipy"), "full" and "causal"; per-side (lo, hi) padding; results bitwise
independent of the thread count.

Tensors: CPU, float32 or float64 (input, weight and bias of one dtype; anything else raises
TypeError / ValueError naming the argument), with or without requires_grad, of any strides.
Unbatched input (C, S0, ..) is accepted as torch accepts it. A channels_last input or weight
(torch.channels_last, channels_last_3d, or for any rank the memory order (N, S0.., C)) runs
convnd's channels-last layout and gives a channels_last result, as torch's CPU convolutions do.
`threads` defaults to torch.get_num_threads(), so torch.set_num_threads governs convnd too.
Importing this module switches convnd to the OpenMP team for its threads
(convnd.set_thread_source("openmp")): torch's own OpenMP threads busy-wait after each of its
parallel regions, and convnd's separate helpers would compete with them for the cores between
torch's operations; on the team the same threads serve both libraries.
`precision="standard"` lets float32 3x3 stride-1 layers use Winograd within its documented
error bound; "highest" keeps direct summation.

# How tensors reach the core: views, no copies

`tensor.detach().numpy()` is a NumPy array over the tensor's own memory (its strides, its
storage offset), and convnd reads arrays of any strides in place; results are allocated as
torch tensors and written through NumPy views of them (`out=`). A channels_last tensor is handed
to the core as its permuted view (N, S.., C), which is contiguous, with layout="channels_last".
So the wrapper copies nothing; the core copies only what an algorithm packs anyway.

# Gradients: three passes that differentiate one another

A convolution y = F(x, w) + b is bilinear in (x, w), and convnd has its two adjoints:
D(g, w) = dF/dx^T g (backward data) and W(x, g) = dF/dw^T g (backward weight). Each of the three
is an autograd Function whose backward is made of the other two, on the same geometry:

    y  = F(x, w) + b    grad x = D(gy, w)          grad w = W(x, gy)     grad b = sum(gy)
    dx = D(g, w)        grad g = F(ggx, w)         grad w = W(ggx, g)
    dw, db = W(x, g)    grad x = D(g, ggw)         grad g = F(x, ggw) + ggb

(from <D(g, w), h> = <g, F(h, w)> = <w, W(h, g)>). So gradients of gradients (create_graph=True,
gradient penalties, Hessian-vector products) are exact to any order and run on convnd's passes.
For a transposed convolution the three are the transposed spec's forward, backward_data and
backward_weight passes, which obey the same identities. Plans come from convnd's plan cache (an
LRU of the last 256 geometries, shared with convnd.conv), so a training loop plans each layer
once.
"""

import collections
import math
import numbers

import torch

from . import _api

_api.set_thread_source("openmp")

__all__ = ["conv", "conv_transpose", "conv1d", "conv2d", "conv3d", "conv4d",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_transpose4d",
           "ConvNd", "ConvTransposeNd", "Conv1d", "Conv2d", "Conv3d", "Conv4d",
           "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "ConvTranspose4d",
           "from_torch"]

_DTYPES = {torch.float32: "float32", torch.float64: "float64"}
_CHANNELS_LAST = "channels_last"
_CHANNELS_FIRST = "channels_first"

# Everything about a convolution but its tensors' shapes and dtype: what a Plan is made from,
# shared by the three passes of one call and by all its gradients.
_Geometry = collections.namedtuple(
    "_Geometry", "transposed stride padding dilation groups padding_mode same_policy "
                 "output_padding output_size precision threads algorithm layout")


# ---------------------------------------------------------------------------------------
# Plans, from the LRU that convnd.conv and the gradient functions share (_api.cached_plan)


def _freeze(v):
    """Lists inside arguments as tuples, so that a geometry can be a dictionary key."""
    if type(v) in (int, str):
        return v
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(i) for i in v)
    return v


def _plan(geo, op, x_shape, w_shape, dtype, bias=False):
    return _api.cached_plan(x_shape, w_shape, op=op, dtype=dtype, bias=bias,
                            transposed=geo.transposed, stride=geo.stride, padding=geo.padding,
                            dilation=geo.dilation, groups=geo.groups,
                            padding_mode=geo.padding_mode, same_policy=geo.same_policy,
                            layout=geo.layout, output_padding=geo.output_padding,
                            output_size=geo.output_size, algorithm=geo.algorithm,
                            threads=geo.threads, precision=geo.precision)


# ---------------------------------------------------------------------------------------
# Tensors <-> NumPy views in convnd's layout

def _is_channels_last(t):
    """True when t (N, C, S..) lies in memory as (N, S.., C) and not also as (N, C, S..)."""
    if t.dim() < 3 or t.is_contiguous():
        return False
    return t.permute(0, *range(2, t.dim()), 1).is_contiguous()


def _to_last(a):
    """An ndarray (N, C, S..) -> its (N, S.., C) view."""
    return a.transpose(0, *range(2, a.ndim), 1)


def _array(t):
    # detach: numpy() refuses tensors that require grad; resolve_neg: and negated views.
    return t.detach().resolve_neg().numpy()


def _activation(t, layout):
    a = _array(t)
    return _to_last(a) if layout == _CHANNELS_LAST else a


def _new_activation(shape, layout, dtype):
    """A tensor for a result of convnd shape `shape` (in `layout` order), and its NumPy view.

    The tensor is returned in torch's (N, C, S..) order; channels_last ones are laid out as
    (N, S.., C) in memory, as torch.empty(..., memory_format=torch.channels_last) would.
    """
    t = torch.empty(shape, dtype=dtype)
    a = t.numpy()
    if layout == _CHANNELS_LAST:
        d = t.dim()
        t = t.permute(0, d - 1, *range(1, d - 1))
    return t, a


def _new_weight(shape, channels_last, dtype):
    """A weight-shaped result (O, I, k..) laid out like the weight it is the gradient of."""
    if not channels_last:
        t = torch.empty(shape, dtype=dtype)
        return t, t.numpy()
    d = len(shape)
    t = torch.empty((shape[0], *shape[2:], shape[1]), dtype=dtype)
    a = t.numpy()
    return t.permute(0, d - 1, *range(1, d - 1)), a.transpose(0, d - 1, *range(1, d - 1))


def _bias_grad_into(dy, db):
    """db (K,) = dy summed over every axis but the channels, accumulated in float64.

    A fixed order (NumPy's, on one thread) keeps the result independent of torch's thread
    count, as the convnd passes are.
    """
    a = _array(dy)
    axes = (0, *range(2, a.ndim))
    db.numpy()[...] = a.sum(axis=axes, dtype="float64")
    return db


# ---------------------------------------------------------------------------------------
# The three passes (one Plan run each) and their autograd Functions

def _run_forward(geo, x, w, b):
    xa = _activation(x, geo.layout)
    wa = _array(w)
    plan = _plan(geo, "forward", xa.shape, wa.shape, _DTYPES[x.dtype], b is not None)
    y, ya = _new_activation(plan.output_shape, geo.layout, x.dtype)
    plan.forward(xa, wa, None if b is None else _array(b), out=ya)
    return y


def _run_backward_data(geo, gy, w, x_shape):
    ga = _activation(gy, geo.layout)
    wa = _array(w)
    if geo.layout == _CHANNELS_LAST:
        x_shape = (x_shape[0], *x_shape[2:], x_shape[1])
    plan = _plan(geo, "backward_data", x_shape, wa.shape, _DTYPES[gy.dtype])
    gx, gxa = _new_activation(plan.input_shape, geo.layout, gy.dtype)
    plan.backward_data(ga, wa, out=gxa)
    return gx


def _run_backward_weight(geo, x, gy, w_shape, w_channels_last, with_bias):
    xa = _activation(x, geo.layout)
    ga = _activation(gy, geo.layout)
    plan = _plan(geo, "backward_weight", xa.shape, w_shape, _DTYPES[x.dtype])
    gw, gwa = _new_weight(w_shape, w_channels_last, x.dtype)
    if not with_bias:
        plan.backward_weight(xa, ga, out=gwa)
        return gw
    gb = torch.empty(gy.shape[1], dtype=x.dtype)
    plan.backward_weight(xa, ga, out=gwa, bias_out=gb.numpy())
    return gw, gb


def _broadcast_bias(gb, like):
    """(K,) -> a (N, K, O..) view of it: the adjoint of summing over all but the channels."""
    return gb.reshape(1, -1, *([1] * (like.dim() - 2))).expand(like.shape)


class _Forward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, geo, x, w, b):
        ctx.set_materialize_grads(False)
        ctx.geo = geo
        ctx.save_for_backward(x, w)
        return _run_forward(geo, x, w, b)

    @staticmethod
    def backward(ctx, gy):
        if gy is None:
            return None, None, None, None
        x, w = ctx.saved_tensors
        _, need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = _BackwardData.apply(ctx.geo, gy, w, tuple(x.shape))
        if need_w:
            out = _BackwardWeight.apply(ctx.geo, x, gy, tuple(w.shape), _is_channels_last(w),
                                        need_b)
            gw, gb = out if need_b else (out, None)
        elif need_b:
            gb = _BiasGrad.apply(gy)
        return None, gx, gw, gb


class _BackwardData(torch.autograd.Function):
    @staticmethod
    def forward(ctx, geo, gy, w, x_shape):
        ctx.set_materialize_grads(False)
        ctx.geo = geo
        ctx.save_for_backward(gy, w)
        return _run_backward_data(geo, gy, w, x_shape)

    @staticmethod
    def backward(ctx, ggx):
        if ggx is None:
            return None, None, None, None
        gy, w = ctx.saved_tensors
        _, need_gy, need_w, _ = ctx.needs_input_grad
        g_gy = _Forward.apply(ctx.geo, ggx, w, None) if need_gy else None
        g_w = (_BackwardWeight.apply(ctx.geo, ggx, gy, tuple(w.shape), _is_channels_last(w),
                                     False) if need_w else None)
        return None, g_gy, g_w, None


class _BackwardWeight(torch.autograd.Function):
    @staticmethod
    def forward(ctx, geo, x, gy, w_shape, w_channels_last, with_bias):
        ctx.set_materialize_grads(False)
        ctx.geo = geo
        ctx.save_for_backward(x, gy)
        return _run_backward_weight(geo, x, gy, w_shape, w_channels_last, with_bias)

    @staticmethod
    def backward(ctx, ggw, ggb=None):
        x, gy = ctx.saved_tensors
        _, need_x, need_gy, _, _, _ = ctx.needs_input_grad
        g_x = g_gy = None
        if need_x and ggw is not None:
            g_x = _BackwardData.apply(ctx.geo, gy, ggw, tuple(x.shape))
        if need_gy:
            if ggw is not None:
                g_gy = _Forward.apply(ctx.geo, x, ggw, ggb)
            elif ggb is not None:
                g_gy = _broadcast_bias(ggb, gy)
        return None, g_x, g_gy, None, None, None


class _BiasGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gy):
        ctx.shape = gy.shape
        return _bias_grad_into(gy, torch.empty(gy.shape[1], dtype=gy.dtype))

    @staticmethod
    def backward(ctx, ggb):
        return ggb.reshape(1, -1, *([1] * (len(ctx.shape) - 2))).expand(ctx.shape)


# ---------------------------------------------------------------------------------------
# Argument checks (before anything reaches autograd, so errors name the user's argument)

def _check_tensor(t, name, optional=False):
    if t is None and optional:
        return
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"convnd.torch: argument '{name}': must be a torch.Tensor, got "
                        f"{type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"convnd.torch: argument '{name}': must be on the CPU (convnd computes "
                         f"on the CPU), got a tensor on {t.device}; move it with .cpu()")
    if t.layout != torch.strided:
        raise ValueError(f"convnd.torch: argument '{name}': must be a dense (strided) tensor, "
                         f"got layout {t.layout}; convert it with .to_dense()")
    if t.dtype not in _DTYPES:
        raise TypeError(f"convnd.torch: argument '{name}': dtype must be torch.float32 or "
                        f"torch.float64, got {t.dtype}")


def _check_tensors(input, weight, bias):
    _check_tensor(input, "input")
    _check_tensor(weight, "weight")
    _check_tensor(bias, "bias", optional=True)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"convnd.torch: arguments 'input' and '{name}': must have the same "
                            f"dtype, got {input.dtype} and {t.dtype}")
    if weight.dim() < 3:
        raise ValueError(f"convnd.torch: argument 'weight': needs at least 3 dimensions "
                         f"(out, in/groups and one kernel axis), got shape {tuple(weight.shape)}")
    d = weight.dim() - 2
    if input.dim() not in (d + 1, d + 2):
        raise ValueError(f"convnd.torch: argument 'input': a weight of {d} kernel axes needs an "
                         f"input of {d + 2} dimensions (N, C, {d} spatial), or {d + 1} "
                         f"unbatched, got shape {tuple(input.shape)}")
    return d, input.dim() == d + 1


def _threads(threads):
    if threads is None:
        return torch.get_num_threads()
    return threads


def _geometry(transposed, input, weight, stride, padding, dilation, groups, padding_mode,
              same_policy, output_padding, output_size, precision, threads, algorithm):
    layout = (_CHANNELS_LAST if _is_channels_last(input) or _is_channels_last(weight)
              else _CHANNELS_FIRST)
    return _Geometry(transposed, _freeze(stride), _freeze(padding), _freeze(dilation), groups,
                     padding_mode, same_policy, _freeze(output_padding), output_size,
                     precision, _threads(threads), algorithm, layout)


def _spatial_output_size(output_size, d, leading):
    """torch's output_size: d spatial extents, or the whole shape (batch and channels first)."""
    if output_size is None:
        return None
    sizes = tuple(output_size)
    if len(sizes) == d + leading:
        sizes = sizes[leading:]
    if len(sizes) != d:
        raise ValueError(f"convnd.torch: argument 'output_size': needs {d} spatial extents "
                         f"(or {d + leading} with the leading axes), got {output_size!r}")
    return sizes


# ---------------------------------------------------------------------------------------
# Functions

def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
         padding_mode="zeros", same_policy="torch", precision="standard", threads=None,
         algorithm=None):
    """N-dimensional convolution with autograd, torch.nn.functional.conv{1,2,3}d's arguments.

    input (N, C, S0..) or unbatched (C, S0..), weight (K, C/groups, k0..), bias (K,) or None:
    CPU tensors of one dtype (float32 or float64), any strides; the rank is the weight's.
    padding: int, per-axis ints, per-axis (lo, hi) pairs, "valid", "same" (split by
    same_policy: torch (stride 1), tf, tf_lower, numpy_ml, scipy), "full" or "causal".
    padding_mode: zeros, reflect, symmetric, replicate, circular (any padding size).
    Returns (N, K, O0..), channels_last when the input or the weight is.
    """
    d, unbatched = _check_tensors(input, weight, bias)
    geo = _geometry(False, input, weight, stride, padding, dilation, groups, padding_mode,
                    same_policy, 0, None, precision, threads, algorithm)
    x = input.unsqueeze(0) if unbatched else input
    y = _Forward.apply(geo, x, weight, bias)
    return y.squeeze(0) if unbatched else y


def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                   dilation=1, *, output_size=None, padding_mode="zeros", precision="standard",
                   threads=None, algorithm=None):
    """N-dimensional transposed convolution with autograd, torch's conv_transpose{1,2,3}d.

    input (N, C, S0..) or (C, S0..), weight (C, K/groups, k0..). Output extent per axis
    (S-1)*stride - lo - hi + dilation*(k-1) + output_padding + 1, or `output_size` (the spatial
    extents, or the whole shape as nn.ConvTranspose2d takes it). padding: int, per-axis ints or
    (lo, hi) pairs, "valid". padding_mode: every mode of `conv`, as the adjoint of the padded
    forward convolution (torch allows only zeros here).
    """
    d, unbatched = _check_tensors(input, weight, bias)
    size = _spatial_output_size(output_size, d, 1 if unbatched else 2)
    if size is not None and isinstance(output_padding, numbers.Integral) and output_padding == 0:
        output_padding = None  # the core takes one of the two
    geo = _geometry(True, input, weight, stride, padding, dilation, groups, padding_mode,
                    "torch", output_padding, size, precision, threads, algorithm)
    x = input.unsqueeze(0) if unbatched else input
    y = _Forward.apply(geo, x, weight, bias)
    return y.squeeze(0) if unbatched else y


def _fixed_rank(fn, d, name):
    def call(input, weight, *args, **kwargs):
        if isinstance(weight, torch.Tensor) and weight.dim() != d + 2:
            raise ValueError(f"convnd.torch.{name}: argument 'weight': must have {d + 2} "
                             f"dimensions for {d} spatial axes, got shape "
                             f"{tuple(weight.shape)} (convnd.torch.{fn.__name__} takes any rank)")
        return fn(input, weight, *args, **kwargs)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"convnd.torch.{fn.__name__} for {d} spatial axes (the weight's rank checked)."
    return call


conv1d, conv2d, conv3d, conv4d = (_fixed_rank(conv, d, f"conv{d}d") for d in range(1, 5))
conv_transpose1d, conv_transpose2d, conv_transpose3d, conv_transpose4d = (
    _fixed_rank(conv_transpose, d, f"conv_transpose{d}d") for d in range(1, 5))


# ---------------------------------------------------------------------------------------
# Modules

def _per_axis(value, d, name):
    """torch's _ntuple with the length checked: an int for every axis, or d values."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * d
    if isinstance(value, str):
        return value
    try:
        values = tuple(_freeze(v) for v in value)
    except TypeError:
        raise TypeError(f"convnd.torch: argument '{name}': must be an int or a sequence of "
                        f"{d} values, got {value!r}") from None
    if len(values) != d:
        raise ValueError(f"convnd.torch: argument '{name}': needs one value per spatial axis "
                         f"({d}, the length of kernel_size), got {value!r}")
    return values


def _check_names(padding_mode, same_policy):
    """Unknown names fail when the layer is made, with the core's message, not at first use."""
    _api.explain((1, 1, 4), (1, 1, 3), padding=1, padding_mode=padding_mode)
    _api.explain((1, 1, 4), (1, 1, 3), padding="same", same_policy=same_policy)


class _ConvBase(torch.nn.Module):
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding, device, dtype, same_policy,
                 precision, threads, algorithm, rank=None):
        super().__init__()
        if rank is not None and isinstance(kernel_size, numbers.Integral):
            kernel_size = (kernel_size,) * rank
        if isinstance(kernel_size, numbers.Integral) or isinstance(kernel_size, str):
            raise TypeError(f"convnd.torch: argument 'kernel_size': an int does not say the "
                            f"number of dimensions; give one extent per spatial axis, e.g. "
                            f"{(kernel_size,) * 4!r}, or use Conv4d-style classes")
        kernel_size = _per_axis(kernel_size, len(tuple(kernel_size)), "kernel_size")
        d = len(kernel_size)
        if rank is not None and d != rank:
            raise ValueError(f"convnd.torch: argument 'kernel_size': needs {rank} extents for "
                             f"a {rank}-D layer, got {kernel_size!r}")
        if d < 1:
            raise ValueError("convnd.torch: argument 'kernel_size': needs at least one extent")
        if not (isinstance(groups, numbers.Integral) and groups >= 1):
            raise ValueError(f"convnd.torch: argument 'groups': must be an int >= 1, got "
                             f"{groups!r}")
        for name, c in (("in_channels", in_channels), ("out_channels", out_channels)):
            if c % groups:
                raise ValueError(f"convnd.torch: argument '{name}': must be divisible by "
                                 f"groups ({groups}), got {c}")
        _check_names(padding_mode, same_policy)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = kernel_size
        self.stride = _per_axis(stride, d, "stride")
        self.padding = _per_axis(padding, d, "padding")
        self.dilation = _per_axis(dilation, d, "dilation")
        self.transposed = self._transposed
        self.output_padding = _per_axis(output_padding, d, "output_padding")
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.same_policy = same_policy
        self.precision = precision
        self.threads = threads
        self.algorithm = algorithm
        factory = {"device": device, "dtype": dtype}
        lead = ((in_channels, out_channels // groups) if self.transposed
                else (out_channels, in_channels // groups))
        # Parameters made and initialised in torch.nn.Conv*'s order, so a seeded layer draws
        # the same numbers as the torch layer it replaces.
        self.weight = torch.nn.Parameter(torch.empty((*lead, *kernel_size), **factory))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """torch.nn.Conv*'s initialisation: Kaiming-uniform weight with a = sqrt(5), bias
        uniform in +-1/sqrt(fan_in)."""
        torch.nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                torch.nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        d = len(self.kernel_size)
        defaults = (("padding", (0,) * d), ("dilation", (1,) * d),
                    ("output_padding", (0,) * d), ("groups", 1), ("padding_mode", "zeros"),
                    ("same_policy", "torch"), ("precision", "standard"), ("threads", None),
                    ("algorithm", None))
        for name, default in defaults:
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)!r}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def _options(self):
        return {"padding_mode": self.padding_mode, "precision": self.precision,
                "threads": self.threads, "algorithm": self.algorithm}

    def to_torch(self):
        """The torch.nn layer with the same geometry and the same parameters (1-3 dimensions,
        settings torch has: padding forms and modes it knows, torch's 'same')."""
        d = len(self.kernel_size)
        if d > 3:
            raise ValueError(f"convnd.torch: to_torch: torch.nn has no {d}-D convolution")
        if self.same_policy != "torch" and self.padding == "same":
            raise ValueError(f"convnd.torch: to_torch: torch has no 'same' policy "
                             f"{self.same_policy!r}")
        device, dtype = self.weight.device, self.weight.dtype
        if self.transposed:
            cls = getattr(torch.nn, f"ConvTranspose{d}d")
            m = cls(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                    self.padding, self.output_padding, self.groups, self.bias is not None,
                    self.dilation, self.padding_mode, device=device, dtype=dtype)
        else:
            cls = getattr(torch.nn, f"Conv{d}d")
            m = cls(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                    self.padding, self.dilation, self.groups, self.bias is not None,
                    self.padding_mode, device=device, dtype=dtype)
        m.load_state_dict(self.state_dict())
        return m


class ConvNd(_ConvBase):
    """Convolution layer of any rank (len(kernel_size)), torch.nn.Conv{1,2,3}d's arguments.

    Parameters `weight` (out_channels, in_channels/groups, *kernel_size) and `bias`
    (out_channels,), initialised as torch does. Beyond torch: padding_mode in zeros, reflect,
    symmetric, replicate, circular at any padding size; padding "same" with any stride under
    `same_policy` ("tf", "tf_lower", "numpy_ml", "scipy"), "full", "causal", (lo, hi) pairs.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None, *,
                 same_policy="torch", precision="standard", threads=None, algorithm=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype, same_policy, precision,
                         threads, algorithm, rank=getattr(self, "_rank", None))

    def forward(self, input):
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups, same_policy=self.same_policy, **self._options())


class ConvTransposeNd(_ConvBase):
    """Transposed convolution layer of any rank, torch.nn.ConvTranspose{1,2,3}d's arguments.

    Parameters `weight` (in_channels, out_channels/groups, *kernel_size) and `bias`
    (out_channels,). forward(input, output_size=None) as torch's. padding_mode: every mode of
    ConvNd (torch allows only zeros), as the adjoint of the padded convolution.
    """

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None, *, precision="standard", threads=None,
                 algorithm=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype, "torch",
                         precision, threads, algorithm, rank=getattr(self, "_rank", None))

    def forward(self, input, output_size=None):
        output_padding = self.output_padding if output_size is None else 0
        return conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation,
                              output_size=output_size, **self._options())


def _fixed_rank_class(base, d, name):
    doc = (f"{base.__name__} with {d} spatial axes; kernel_size may be an int "
           f"(torch.nn.{name}'s signature{'' if d < 4 else ', one more axis'}).")
    return type(name, (base,), {"_rank": d, "__doc__": doc, "__module__": __name__})


Conv1d, Conv2d, Conv3d, Conv4d = (_fixed_rank_class(ConvNd, d, f"Conv{d}d")
                                  for d in range(1, 5))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, ConvTranspose4d = (
    _fixed_rank_class(ConvTransposeNd, d, f"ConvTranspose{d}d") for d in range(1, 5))


def from_torch(module, **options):
    """The convnd layer equal to a torch.nn.Conv{1,2,3}d or ConvTranspose{1,2,3}d, with its
    parameters (copied into the new layer's own). `options`: precision, threads, algorithm."""
    conv_types = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
    transposed_types = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d,
                        torch.nn.ConvTranspose3d)
    factory = {"device": module.weight.device, "dtype": module.weight.dtype}
    has_bias = module.bias is not None
    if isinstance(module, conv_types):
        m = ConvNd(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                   module.padding, module.dilation, module.groups, has_bias,
                   module.padding_mode, **factory, **options)
    elif isinstance(module, transposed_types):
        m = ConvTransposeNd(module.in_channels, module.out_channels, module.kernel_size,
                            module.stride, module.padding, module.output_padding,
                            module.groups, has_bias, module.dilation, module.padding_mode,
                            **factory, **options)
    else:
        raise TypeError(f"convnd.torch.from_torch: argument 'module': must be a torch.nn "
                        f"Conv1d-3d or ConvTranspose1d-3d, got {type(module).__name__}")
    with torch.no_grad():
        m.load_state_dict(module.state_dict())
    return m
