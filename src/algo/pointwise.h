#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// 1x1 stride-1 forward convolution as a direct GEMM, read and written in place: channels-first
// (pointwise.cc) and channels-last (pointwise_channels_last.cc); scattered views are gathered
// tile by tile (pointwise.cc), so a pointwise plan runs pointwise for every view.
const Algorithm& pointwise_algorithm();

}  // namespace convnd::detail
