#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Forward convolution by N-D FFTs of each padded input plane and kernel, the channel sum per
// frequency, one inverse transform per output channel (fft_conv.cc); for large kernels.
const Algorithm& fft_algorithm();

}  // namespace convnd::detail
