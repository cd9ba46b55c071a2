"""convnd from Python: a convolution, its gradients, a reusable Plan and a drop-in.

Run after building (the tests run it too):
    PYTHONPATH=build/python /usr/bin/python3 examples/python_example.py
"""

import numpy as np

import convnd
from convnd.numpy_ml import conv2D

# 1-D: a square wave through a box filter gives a ramp up, a plateau and a ramp down.
x = np.zeros((1, 1, 16))           # (N, C, S)
x[..., 5:11] = 1
w = np.ones((1, 1, 5))             # (K, C, k)
y = convnd.conv(x, w)
print("conv:", y[0, 0])            # 0 1 2 3 4 5 5 4 3 2 1 0
assert y[0, 0].tolist() == [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0]

# Gradients of sum(y * dy): with dy = 1, dx counts the windows that cover each input.
dy = np.ones_like(y)
dx = convnd.conv_backward_data(dy, w, x.shape)
dw = convnd.conv_backward_weight(x, dy, w.shape)
print("dx:", dx[0, 0])             # 1 2 3 4 5 5 5 5 5 5 5 5 4 3 2 1
print("dw:", dw[0, 0])             # 6 6 6 6 6

# 2-D, float32, channels-last, reflect padding with the TensorFlow 'same' rule, stride 2.
rng = np.random.default_rng(0)
img = rng.random((2, 32, 32, 3), dtype=np.float32)       # (N, H, W, C)
kernels = rng.random((8, 3, 3, 3), dtype=np.float32)     # (K, C, kh, kw)
print(convnd.explain(img.shape, kernels.shape, stride=2, padding="same", same_policy="tf",
                     padding_mode="reflect",
                     layout="channels_last"))
plan = convnd.Plan(img.shape, kernels.shape, dtype=np.float32, stride=2, padding="same",
                   same_policy="tf", padding_mode="reflect", layout="channels_last")
out = plan(img, kernels)                                  # made once, run many times
print("plan:", plan.spec, "algorithm:", plan.algorithm, "output", out.shape, out.dtype)
assert out.shape == (2, 16, 16, 8) and out.dtype == np.float32

# Transposed convolution undoes the shape change (DCGAN style).
up = convnd.conv_transpose(out.transpose(0, 3, 1, 2).copy(), rng.random((8, 3, 4, 4),
                           dtype=np.float32), stride=2, padding=1)
print("conv_transpose:", up.shape)
assert up.shape == (2, 3, 32, 32)

# Drop-in: numpy-ml's conv2D, same call, NHWC input and HWIO weights.
W_hwio = np.ascontiguousarray(kernels.transpose(2, 3, 1, 0))   # (kh, kw, C, K)
Z = conv2D(img, W_hwio, 1, "same")
print("numpy_ml.conv2D:", Z.shape)
assert np.allclose(Z, convnd.conv(img, kernels, padding=1, layout="channels_last"),
                   rtol=1e-5, atol=1e-5)
