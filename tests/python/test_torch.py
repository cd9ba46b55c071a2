"""convnd.torch: autograd functions and nn modules.

Values are checked against torch's own convolutions (ranks 1-3, padding modes through F.pad),
against 4-D convolutions summed from torch's conv3d, and against convnd's reference algorithm;
gradients by torch.autograd.gradcheck and gradgradcheck in float64 (finite differences of the
wrapper's own forward), which together make the gradients right.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch.autograd import gradcheck, gradgradcheck  # noqa: E402

import convnd  # noqa: E402
import convnd.torch as ct  # noqa: E402

MODES = ["zeros", "reflect", "symmetric", "replicate", "circular"]


def rand(*shape, dtype=torch.float64, seed=None, requires_grad=False):
    g = torch.Generator().manual_seed(seed if seed is not None else sum(shape) * 7919)
    t = torch.rand(shape, generator=g, dtype=dtype) * 2 - 1
    return t.requires_grad_(requires_grad)


# ---------------------------------------------------------------------------------------
# gradcheck / gradgradcheck matrix (float64): ranks 1-4, every padding mode and 'same'
# policy, groups, dilation, stride, transposed

def _cases():
    cases = []
    spatial = {1: (7,), 2: (5, 4), 3: (4, 3, 3), 4: (3, 3, 2, 3)}
    kernel = {1: (3,), 2: (3, 2), 3: (2, 3, 2), 4: (2, 2, 2, 2)}
    for d in (1, 2, 3, 4):
        s, k = spatial[d], kernel[d]
        for mode in MODES:
            # forward: asymmetric explicit padding, stride 2, groups 2, bias
            cases.append((f"fwd-{d}d-{mode}", dict(
                transposed=False, n=2, c=2, kout=4, s=s, k=k,
                kw=dict(stride=2, padding=[(1, 2)] + [1] * (d - 1), groups=2,
                        padding_mode=mode))))
            # transposed: stride 2, output_padding 1, dilation 2 on the last axis, groups 2
            cases.append((f"tr-{d}d-{mode}", dict(
                transposed=True, n=1, c=2, kout=4, s=s[:-1] + (2,), k=k,
                kw=dict(stride=2, padding=1, output_padding=1,
                        dilation=[1] * (d - 1) + [2], groups=2, padding_mode=mode))))
        cases.append((f"fwd-{d}d-dilated", dict(
            transposed=False, n=1, c=3, kout=2, s=tuple(e + 1 for e in s), k=k,
            kw=dict(dilation=2, padding=1, padding_mode="reflect"))))
    for policy in ("torch", "tf", "tf_lower", "numpy_ml", "scipy"):
        for d in (1, 2, 4):
            stride = 1 if policy == "torch" else 2
            cases.append((f"same-{policy}-{d}d", dict(
                transposed=False, n=1, c=2, kout=2, s=spatial[d], k=kernel[d],
                kw=dict(padding="same", same_policy=policy, stride=stride,
                        padding_mode="replicate"))))
    cases.append(("full-2d", dict(transposed=False, n=1, c=1, kout=2, s=(4, 3), k=(2, 3),
                                  kw=dict(padding="full", padding_mode="circular"))))
    cases.append(("causal-1d", dict(transposed=False, n=2, c=2, kout=2, s=(6,), k=(3,),
                                    kw=dict(padding="causal", dilation=2))))
    cases.append(("depthwise-2d", dict(transposed=False, n=1, c=3, kout=3, s=(5, 5), k=(3, 3),
                                       kw=dict(groups=3, padding=1, padding_mode="reflect"))))
    for name, case in cases:
        # Full Jacobians for ranks 1-2; random projections of them (gradcheck's fast_mode,
        # which still fails on any wrong gradient) for ranks 3-4, whose full Jacobians cost
        # thousands of calls.
        case["fast"] = len(case["s"]) >= 3
    return cases


CASES = _cases()


def _tensors(case, dtype=torch.float64, seed=0):
    n, c, kout, s, k = case["n"], case["c"], case["kout"], case["s"], case["k"]
    g = case["kw"].get("groups", 1)
    wshape = (c, kout // g, *k) if case["transposed"] else (kout, c // g, *k)
    return (rand(n, c, *s, dtype=dtype, seed=seed + 1, requires_grad=True),
            rand(*wshape, dtype=dtype, seed=seed + 2, requires_grad=True),
            rand(kout, dtype=dtype, seed=seed + 3, requires_grad=True))


def _fn(case):
    f = ct.conv_transpose if case["transposed"] else ct.conv
    kw = case["kw"]
    return lambda x, w, b: f(x, w, b, **kw)


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, case):
    x, w, b = _tensors(case)
    assert gradcheck(_fn(case), (x, w, b), eps=1e-6, atol=1e-8, rtol=1e-6,
                     fast_mode=case["fast"])


# gradgradcheck on a subset that still covers ranks 1-4, transposed, every mode, 'same'.
GG = [c for c in CASES if c[0].endswith(("-reflect", "-circular", "dilated"))
      or c[0] in ("fwd-2d-zeros", "tr-3d-symmetric", "same-tf-2d", "same-scipy-4d",
                  "fwd-1d-replicate", "tr-2d-replicate", "depthwise-2d")]


@pytest.mark.parametrize("name,case", GG, ids=[c[0] for c in GG])
def test_gradgradcheck(name, case):
    x, w, b = _tensors(case)
    assert gradgradcheck(_fn(case), (x, w, b), eps=1e-6, atol=1e-7, rtol=1e-5,
                         fast_mode=case["fast"] or case["transposed"])


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
def test_values_match_reference(name, case):
    """The wrapper's result is the NumPy API's with the reference algorithm (float32 too)."""
    for dtype in (torch.float32, torch.float64):
        x, w, b = _tensors(case, dtype)
        got = _fn(case)(x, w, b)
        f = convnd.conv_transpose if case["transposed"] else convnd.conv
        want = f(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(),
                 algorithm="reference", **case["kw"])
        tol = 1e-5 if dtype == torch.float32 else 1e-12
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=tol, atol=tol)
        assert got.dtype == dtype and not got.requires_grad is False


# ---------------------------------------------------------------------------------------
# Against torch's own convolutions (ranks 1-3) and conv3d sums (rank 4)

TORCH_CASES = [
    (1, dict(stride=2, padding=2, dilation=1, groups=1), "zeros"),
    (1, dict(stride=1, padding=3, dilation=2, groups=2), "circular"),
    (2, dict(stride=1, padding=1, dilation=1, groups=1), "reflect"),
    (2, dict(stride=2, padding=(1, 2), dilation=(2, 1), groups=2), "replicate"),
    (2, dict(stride=1, padding="same", dilation=1, groups=1), "zeros"),
    (3, dict(stride=(1, 2, 1), padding=1, dilation=1, groups=1), "zeros"),
    (3, dict(stride=1, padding=(1, 0, 2), dilation=1, groups=2), "reflect"),
]


def _torch_reference(x, w, b, d, kw, mode):
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    if mode == "zeros":
        return fn(x, w, b, **kw)
    pad = kw["padding"]
    pad = (pad,) * d if isinstance(pad, int) else pad
    flat = [p for p in reversed(pad) for _ in range(2)]
    return fn(F.pad(x, flat, mode=mode), w, b, **dict(kw, padding=0))


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels
@pytest.mark.parametrize("d,kw,mode", TORCH_CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_forward_and_gradients_match_torch(d, kw, mode, dtype):
    s = (9, 8, 7)[:d]
    x = rand(2, 4, *s, dtype=dtype, requires_grad=True)
    w = rand(6, 4 // kw["groups"], *(3, 2, 3)[:d], dtype=dtype, requires_grad=True)
    b = rand(6, dtype=dtype, requires_grad=True)
    y = ct.conv(x, w, b, padding_mode=mode, **kw)
    x2, w2, b2 = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
    want = _torch_reference(x2, w2, b2, d, kw, mode)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-11, atol=1e-11)
    torch.testing.assert_close(y, want, **tol)
    gy = rand(*y.shape, dtype=dtype, seed=5)
    y.backward(gy)
    want.backward(gy)
    for got, ref in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        torch.testing.assert_close(got, ref, **tol)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_conv_transpose_matches_torch(d):
    x = rand(2, 4, *(5, 4, 3)[:d], requires_grad=True)
    w = rand(4, 3, *(3, 2, 3)[:d], requires_grad=True)
    b = rand(6, requires_grad=True)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    y = ct.conv_transpose(x, w, b, **kw)
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[d]
    x2, w2, b2 = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
    want = fn(x2, w2, b2, **kw)
    torch.testing.assert_close(y, want, rtol=1e-11, atol=1e-11)
    gy = rand(*y.shape, seed=9)
    y.backward(gy)
    want.backward(gy)
    for got, ref in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        torch.testing.assert_close(got, ref, rtol=1e-11, atol=1e-11)


def _conv4d_from_conv3d(x, w, b, stride, padding, dilation, groups):
    """A 4-D convolution as sums of torch conv3d over the first kernel axis (zero padding)."""
    p0 = padding[0]
    x = F.pad(x, (0, 0, 0, 0, 0, 0, p0, p0))
    s0, k0 = x.shape[2], w.shape[2]
    o0 = (s0 - dilation[0] * (k0 - 1) - 1) // stride[0] + 1
    out = []
    for t in range(o0):
        acc = 0
        for j in range(k0):
            acc = acc + F.conv3d(x[:, :, t * stride[0] + j * dilation[0]], w[:, :, j], None,
                                 stride[1:], padding[1:], dilation[1:], groups)
        out.append(acc + b.reshape(1, -1, 1, 1, 1))
    return torch.stack(out, dim=2)


def test_conv4d_matches_conv3d_sums():
    x = rand(2, 4, 5, 6, 5, 4, requires_grad=True)
    w = rand(6, 2, 3, 2, 3, 2, requires_grad=True)
    b = rand(6, requires_grad=True)
    kw = dict(stride=(2, 1, 2, 1), padding=(1, 1, 0, 1), dilation=(1, 2, 1, 1), groups=2)
    y = ct.conv4d(x, w, b, **kw)
    x2, w2, b2 = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
    want = _conv4d_from_conv3d(x2, w2, b2, **kw)
    torch.testing.assert_close(y, want, rtol=1e-11, atol=1e-11)
    gy = rand(*y.shape, seed=3)
    y.backward(gy)
    want.backward(gy)
    for got, ref in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        torch.testing.assert_close(got, ref, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("frozen_weight", [False, True])
def test_double_backward_matches_torch(transposed, frozen_weight):
    """A gradient penalty on all the gradients at once (create_graph=True) gives torch's own
    second-order gradients. (gradgradcheck seeds one output at a time, so this is where the
    weight and bias gradients meet in one backward.) A frozen weight takes the bias-only path."""
    def penalty(conv_fn, x, w, b):
        y = conv_fn(x, w, b, stride=2, padding=1, groups=2)
        inputs = [t for t in (x, w, b) if t.requires_grad]
        grads = torch.autograd.grad((y.tanh() ** 2).sum(), inputs, create_graph=True)
        return sum((g ** 2).sum() + (g ** 3).sum() for g in grads)

    x = rand(2, 4, 7, 6, requires_grad=True)
    w = rand(4, 2, 3, 3, requires_grad=not frozen_weight)
    b = rand(4, requires_grad=True)
    x2, w2, b2 = (t.detach().clone().requires_grad_(t.requires_grad) for t in (x, w, b))
    ours, theirs = ((ct.conv_transpose2d, F.conv_transpose2d) if transposed
                    else (ct.conv2d, F.conv2d))
    penalty(ours, x, w, b).backward()
    penalty(theirs, x2, w2, b2).backward()
    for got, ref in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        assert (got is None) == (ref is None)
        if got is not None:
            torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------
# Modules: same state_dict as torch.nn, swapped both ways

SWAP = [
    (1, False, dict(stride=2, padding=1, dilation=1, groups=1, bias=True)),
    (2, False, dict(stride=1, padding=2, dilation=2, groups=2, bias=False,
                    padding_mode="reflect")),
    (2, False, dict(stride=1, padding="same", dilation=1, groups=1, bias=True,
                    padding_mode="circular")),
    (3, False, dict(stride=(1, 2, 1), padding=(1, 0, 1), dilation=1, groups=1, bias=True,
                    padding_mode="replicate")),
    (1, True, dict(stride=3, padding=1, output_padding=2, groups=2, bias=True, dilation=1)),
    (2, True, dict(stride=2, padding=(1, 0), output_padding=(1, 0), groups=1, bias=False,
                   dilation=(1, 2))),
    (3, True, dict(stride=2, padding=1, output_padding=0, groups=1, bias=True, dilation=1)),
]


def _torch_module(d, transposed, kw):
    cls = getattr(torch.nn, f"ConvTranspose{d}d" if transposed else f"Conv{d}d")
    return cls(4, 6, (3, 2, 3)[:d], dtype=torch.float64, **kw)


def _convnd_module(d, transposed, kw):
    cls = ct.ConvTransposeNd if transposed else ct.ConvNd
    return cls(4, 6, (3, 2, 3)[:d], dtype=torch.float64, **kw)


def _same_outputs_and_grads(a, b, x):
    a.zero_grad(set_to_none=True)
    b.zero_grad(set_to_none=True)
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = a(xa), b(xb)
    torch.testing.assert_close(ya, yb, rtol=1e-11, atol=1e-11)
    (ya ** 2).sum().backward()
    (yb ** 2).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-10)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        torch.testing.assert_close(pa.grad, pb.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("d,transposed,kw", SWAP)
def test_state_dict_swap_both_ways(d, transposed, kw):
    x = rand(2, 4, *(7, 6, 5)[:d])
    torch.manual_seed(1)
    theirs = _torch_module(d, transposed, kw)
    torch.manual_seed(1)
    ours = _convnd_module(d, transposed, kw)
    # same keys, shapes and (from the same seed) the same initial values
    assert list(theirs.state_dict()) == list(ours.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == value.shape
        assert torch.equal(ours.state_dict()[key], value), key
    # torch -> convnd
    torch.manual_seed(2)
    theirs = _torch_module(d, transposed, kw)
    ours.load_state_dict(theirs.state_dict())
    _same_outputs_and_grads(theirs, ours, x)
    # convnd -> torch
    torch.manual_seed(3)
    ours = _convnd_module(d, transposed, kw)
    theirs = _torch_module(d, transposed, kw)
    theirs.load_state_dict(ours.state_dict())
    _same_outputs_and_grads(theirs, ours, x)
    # and the layer converters
    _same_outputs_and_grads(theirs, ct.from_torch(theirs), x)
    _same_outputs_and_grads(ours.to_torch(), ours, x)


def test_transposed_module_output_size():
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype=torch.float64)
    ours = ct.from_torch(theirs)
    x = rand(1, 3, 4, 5)
    for size in [(8, 10), (1, 2, 8, 9), torch.Size([7, 10])]:
        torch.testing.assert_close(ours(x, output_size=size), theirs(x, output_size=size),
                                   rtol=1e-12, atol=1e-12)


def test_fixed_rank_classes_and_repr():
    m = ct.Conv4d(2, 4, 3, padding=1, padding_mode="reflect")
    assert m.kernel_size == (3, 3, 3, 3) and m.weight.shape == (4, 2, 3, 3, 3, 3)
    assert m(torch.randn(1, 2, 4, 5, 4, 3)).shape == (1, 4, 4, 5, 4, 3)
    assert "padding_mode='reflect'" in repr(m)
    t = ct.ConvTranspose3d(4, 2, 2, stride=2, bias=False)
    assert t.weight.shape == (4, 2, 2, 2, 2) and t.bias is None
    assert t(torch.randn(1, 4, 2, 3, 2)).shape == (1, 2, 4, 6, 4)
    assert isinstance(m, torch.nn.Module) and isinstance(m, ct.ConvNd)


def test_module_argument_errors():
    with pytest.raises(TypeError, match="kernel_size"):
        ct.ConvNd(2, 4, 3)
    with pytest.raises(ValueError, match="in_channels.*divisible by groups"):
        ct.ConvNd(3, 4, (3, 3), groups=2)
    with pytest.raises(ValueError, match="stride.*one value per spatial axis"):
        ct.ConvNd(2, 4, (3, 3), stride=(1, 2, 1))
    with pytest.raises(ValueError, match="padding_mode|mode"):
        ct.ConvNd(2, 4, (3, 3), padding_mode="mirrored")
    with pytest.raises(ValueError, match="same_policy|policy"):
        ct.ConvNd(2, 4, (3, 3), same_policy="keras")
    with pytest.raises(ValueError, match="kernel_size.*3 extents"):
        ct.Conv3d(2, 4, (3, 3))
    with pytest.raises(ValueError, match="4-D"):
        ct.Conv4d(1, 1, 3).to_torch()
    with pytest.raises(TypeError, match="module"):
        ct.from_torch(torch.nn.Linear(2, 3))


# ---------------------------------------------------------------------------------------
# Tensors as users have them

def test_requires_grad_noncontiguous_and_expanded_gradient():
    base = rand(2, 6, 9, 8, requires_grad=True)
    x = base[:, ::2, 1:, :].transpose(2, 3)            # strided, permuted view
    assert not x.is_contiguous()
    w = rand(8, 3, 3, 3, requires_grad=True)[:, :, :, :]
    y = ct.conv2d(x, w, padding=1)
    want = F.conv2d(x.detach().contiguous(), w.detach(), padding=1)
    torch.testing.assert_close(y, want, rtol=1e-12, atol=1e-12)
    y.sum().backward()                                 # grad_output is an expanded (stride 0) view
    x2 = base.detach().clone().requires_grad_(True)
    w2 = w.detach().clone().requires_grad_(True)
    F.conv2d(x2[:, ::2, 1:, :].transpose(2, 3), w2, padding=1).sum().backward()
    torch.testing.assert_close(base.grad, x2.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_channels_last_stays_channels_last(d):
    x = rand(2, 5, *(6, 5, 4, 3)[:d], requires_grad=True)
    w = rand(4, 5, *(3,) * d, requires_grad=True)
    b = rand(4, requires_grad=True)
    perm = (0, *range(2, d + 2), 1)
    inverse = (0, d + 1, *range(1, d + 1))
    x_cl = x.detach().permute(perm).contiguous().permute(inverse).requires_grad_(True)
    if d == 2:
        assert x_cl.is_contiguous(memory_format=torch.channels_last)
    if d == 3:
        assert x_cl.is_contiguous(memory_format=torch.channels_last_3d)
    y = ct.conv(x, w, b, padding=1, stride=2)
    y_cl = ct.conv(x_cl, w, b, padding=1, stride=2)
    assert y_cl.permute(perm).is_contiguous()          # channels_last result
    torch.testing.assert_close(y_cl, y, rtol=1e-12, atol=1e-12)
    gy = rand(*y.shape, seed=4)
    y.backward(gy)
    gw = w.grad.clone()
    w.grad = None
    y_cl.backward(gy.permute(perm).contiguous().permute(inverse))
    assert x_cl.grad.permute(perm).is_contiguous()     # the input's gradient too
    torch.testing.assert_close(x_cl.grad, x.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w.grad, gw, rtol=1e-12, atol=1e-12)


def test_channels_last_model_like_torch():
    """model.to(memory_format=channels_last): weights channels_last, outputs too, gradients of
    the weights laid out like the weights (no copy in AccumulateGrad)."""
    m = ct.Conv2d(3, 8, 3, padding=1).to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 8, 8).to(memory_format=torch.channels_last)
    y = m(x)
    assert y.is_contiguous(memory_format=torch.channels_last)
    y.sum().backward()
    assert m.weight.grad.is_contiguous(memory_format=torch.channels_last)
    ref = torch.nn.Conv2d(3, 8, 3, padding=1)
    ref.load_state_dict(m.state_dict())
    y_ref = ref(x.contiguous())
    y_ref.sum().backward()
    torch.testing.assert_close(y, y_ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(m.weight.grad, ref.weight.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(m.bias.grad, ref.bias.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("transposed", [False, True])
def test_unbatched(transposed):
    x = rand(4, 5, 6, requires_grad=True)
    w = rand(*((4, 2) if transposed else (2, 4)), 3, 3, requires_grad=True)
    f = ct.conv_transpose2d if transposed else ct.conv2d
    g = F.conv_transpose2d if transposed else F.conv2d
    y = f(x, w, None, 1, 1)
    x2, w2 = x.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True)
    want = g(x2, w2, None, 1, 1)
    assert y.shape == want.shape and y.dim() == 3
    torch.testing.assert_close(y, want, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    want.sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w.grad, w2.grad, rtol=1e-12, atol=1e-12)


def test_no_copies_of_contiguous_tensors(monkeypatch):
    """The arrays that reach the core are views of the tensors' own memory."""
    seen = {}
    real_forward = convnd._api.Plan.forward

    def spy(self, x, w, bias=None, out=None):
        seen.update(x=x, w=w, bias=bias, out=out)
        return real_forward(self, x, w, bias, out)

    monkeypatch.setattr(convnd._api.Plan, "forward", spy)
    for fmt in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(2, 3, 8, 8).to(memory_format=fmt).requires_grad_(True)
        w, b = torch.randn(4, 3, 3, 3), torch.randn(4)
        y = ct.conv2d(x, w, b, padding=1)
        assert seen["x"].ctypes.data == x.data_ptr()
        assert seen["w"].ctypes.data == w.data_ptr()
        assert seen["bias"].ctypes.data == b.data_ptr()
        assert seen["out"].ctypes.data == y.data_ptr()


def test_inference_mode_and_no_grad():
    m = ct.Conv3d(2, 3, 3, padding=1)
    x = torch.randn(1, 2, 4, 4, 4)
    with torch.no_grad():
        a = m(x)
    with torch.inference_mode():
        b = m(x)
    assert not a.requires_grad and not b.requires_grad
    assert torch.equal(a, b)


def test_threads_do_not_change_results():
    """Outputs and all gradients bitwise equal for 1, 2 and 3 threads (torch.set_num_threads,
    which convnd.torch follows, and the threads= keyword)."""
    torch.manual_seed(0)
    x = torch.randn(2, 8, 9, 9, 9, requires_grad=True)
    w = torch.randn(8, 8, 3, 3, 3, requires_grad=True)
    b = torch.randn(8, requires_grad=True)
    results = []
    saved = torch.get_num_threads()
    try:
        for t in (1, 2, 3):
            torch.set_num_threads(t)
            for kw in ({}, {"threads": t}):
                y = ct.conv3d(x, w, b, padding=1, **kw)
                grads = torch.autograd.grad(y, (x, w, b), torch.cos(y.detach()))
                results.append((y.detach(), *grads))
    finally:
        torch.set_num_threads(saved)
    for r in results[1:]:
        assert all(torch.equal(a, b) for a, b in zip(results[0], r))


def test_import_selects_the_openmp_team_and_both_sources_agree():
    """Importing convnd.torch runs convnd on the OpenMP team (shared with torch's threads); the
    pool gives bitwise the same outputs and gradients."""
    assert convnd.thread_source() == "openmp"
    torch.manual_seed(1)
    x = torch.randn(2, 8, 9, 9, 9, requires_grad=True)
    w = torch.randn(8, 4, 3, 3, 3, requires_grad=True)
    b = torch.randn(8, requires_grad=True)
    results = []
    try:
        for source in ("openmp", "pool", "openmp"):
            convnd.set_thread_source(source)
            y = ct.conv3d(x, w, b, padding=1, groups=2, threads=2)
            grads = torch.autograd.grad(y, (x, w, b), torch.sin(y.detach()))
            results.append((y.detach(), *grads))
    finally:
        convnd.set_thread_source("openmp")
    for r in results[1:]:
        assert all(torch.equal(a, b) for a, b in zip(results[0], r))


def test_openmp_source_starts_no_pool_threads():
    """A process that only ever runs on OpenMP teams gets the team's threads and no idle pool
    helpers beside them (run in a child, so that no earlier test has started the pool)."""
    code = """
import os
import numpy as np
import convnd
before = len(os.listdir("/proc/self/task"))
convnd.set_thread_source("openmp")
x = np.ones((1, 16, 40, 40), np.float32)
w = np.ones((16, 16, 3, 3), np.float32)
for _ in range(3):
    convnd.conv(x, w, padding=1, threads=2)
print(len(os.listdir("/proc/self/task")) - before)
"""
    env = dict(os.environ, OMP_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    # The team of two is the caller plus one OpenMP thread; a started pool would add its own.
    assert int(out.stdout) == 1


def test_thread_source_rejects_unknown_names():
    with pytest.raises(ValueError, match="thread source: expected 'pool' or 'openmp'"):
        convnd.set_thread_source("tbb")
    with pytest.raises(TypeError, match="argument 'source'"):
        convnd.set_thread_source(2)
    assert convnd.thread_source() == "openmp"


def test_empty_batch():
    x = torch.zeros(0, 2, 5, 5, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, requires_grad=True)
    y = ct.conv2d(x, w, padding=1)
    assert y.shape == (0, 3, 5, 5)
    y.sum().backward()
    assert x.grad.shape == x.shape and torch.equal(w.grad, torch.zeros_like(w))


def test_tensor_errors():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    with pytest.raises(TypeError, match="'input'.*float32 or torch.float64.*torch.int64"):
        ct.conv2d(torch.ones(1, 2, 5, 5, dtype=torch.int64), w)
    with pytest.raises(TypeError, match="'weight'.*torch.float16"):
        ct.conv2d(x, w.half())
    with pytest.raises(TypeError, match="'input' and 'weight'.*same dtype"):
        ct.conv2d(x.double(), w)
    with pytest.raises(TypeError, match="'input' and 'bias'"):
        ct.conv2d(x, w, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="'input'.*CPU.*meta"):
        ct.conv2d(x.to("meta"), w)
    with pytest.raises(ValueError, match="'input'.*dense"):
        ct.conv2d(x.to_sparse(), w)
    with pytest.raises(TypeError, match="'input'.*torch.Tensor.*ndarray"):
        ct.conv2d(x.numpy(), w)
    with pytest.raises(ValueError, match="'input'.*4 dimensions"):
        ct.conv2d(torch.randn(5, 5), w)
    with pytest.raises(ValueError, match="conv3d.*'weight'.*5 dimensions"):
        ct.conv3d(x, w)
    with pytest.raises(ValueError, match="stride"):          # the core's message
        ct.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="same"):            # torch's 'same' is stride 1 only
        ct.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="output_size"):
        ct.conv_transpose2d(x, torch.randn(2, 3, 3, 3), output_size=(1, 2, 3))


def test_import_convnd_does_not_import_torch():
    code = "import sys, convnd; assert 'torch' not in sys.modules; print('ok')"
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(convnd.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_parent, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


# ---------------------------------------------------------------------------------------
# Training: a small 4-D network learns a known kernel

def test_training_learns_a_known_4d_kernel():
    """Synthetic data made by a known 4-D layer (reflect padding); a fresh layer trained on it
    by L-BFGS (35 or so forward + backward passes) recovers the kernel. The problem is linear
    least squares with 2*3*81 + 3 unknowns and 4*3*625 equations, so the loss can go to 0."""
    torch.manual_seed(0)
    true = ct.Conv4d(2, 3, 3, padding=1, padding_mode="reflect")
    x = torch.randn(4, 2, 5, 5, 5, 5)
    with torch.no_grad():
        target = true(x)
    model = ct.Conv4d(2, 3, 3, padding=1, padding_mode="reflect")
    opt = torch.optim.LBFGS(model.parameters(), max_iter=40, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.mse_loss(model(x), target)
        loss.backward()
        return loss

    first = closure().item()
    opt.step(closure)
    with torch.no_grad():
        loss = F.mse_loss(model(x), target).item()
    assert first > 0.1 and loss < 1e-6, (first, loss)
    torch.testing.assert_close(model.weight, true.weight, rtol=0, atol=1e-3)
    torch.testing.assert_close(model.bias, true.bias, rtol=0, atol=1e-3)
