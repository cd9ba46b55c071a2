#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// 1x1 stride-1 forward convolution as a direct GEMM on channels-first tensors, read and written
// in place (pointwise.cc); other layouts go to implicit_gemm.
const Algorithm& pointwise_algorithm();

}  // namespace convnd::detail
