#pragma once

#include <memory>

#include "algo/algorithm.h"

namespace convnd::detail {

// The channels-last half of `pointwise` (pointwise_channels_last.cc): a 1x1 stride-1 unpadded
// forward convolution whose input and output are channels-last with evenly spaced positions,
// computed in place with positions as GEMM rows. Views that do not qualify go to `fallback`.
std::unique_ptr<Executor> make_pointwise_channels_last(const Geometry& g,
                                                       std::unique_ptr<Executor> fallback);

}  // namespace convnd::detail
