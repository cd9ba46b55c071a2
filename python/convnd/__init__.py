"""convnd: N-dimensional convolution on the CPU, NumPy API over the convnd C++ core.

Main API (names and meanings of torch.nn.functional, any number of spatial axes):
    conv, conv_transpose, conv_backward_data, conv_backward_weight, conv_backward_bias,
    output_shape, resolve_padding, explain, Plan, algorithms.

Front ends (imported on demand; `import convnd` imports neither torch nor dask):
    convnd.torch         autograd functions and nn modules for PyTorch, any number of dimensions
    convnd.dask          lazy, block-by-block convolutions of dask arrays

Drop-in replacements for NumPy convolution codes (change the import, keep the call):
    convnd.numpy_ml      numpy-ml's conv2D, conv1D, deconv2D_naive, im2col, ... (NHWC, HWIO)
    convnd.mygrad        MyGrad's conv_nd (returns an ndarray) and its gradients
    convnd.conv2d_numpy  Conv2D-NumPy's conv2d (HWC image)
    convnd.convolution   convolve_2d, fast_convolve_2d and the backprop functions (NCHW)

scipy's conventions on plain N-D arrays (change the import, keep the call):
    convnd.ndimage       correlate, convolve, correlate1d, convolve1d, gaussian_filter,
                         uniform_filter, sobel, prewitt, laplace, gaussian_laplace, ...
    convnd.signal        convolve, correlate, fftconvolve, oaconvolve, choose_conv_method
    convnd.dask.ndimage  correlate, convolve, gaussian_filter of dask arrays
"""

from ._api import (Plan, algorithms, conv, conv_backward_bias, conv_backward_data,
                   conv_backward_weight, conv_transpose, explain, output_shape,
                   resolve_padding, set_thread_source, thread_source)
from ._core import version as _version

__version__ = _version()

__all__ = ["Plan", "algorithms", "conv", "conv_backward_bias", "conv_backward_data",
           "conv_backward_weight", "conv_transpose", "explain", "output_shape",
           "resolve_padding", "set_thread_source", "thread_source"]
