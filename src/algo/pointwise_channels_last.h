#pragma once

#include <memory>

#include "algo/algorithm.h"

namespace convnd::detail {

// The channels-last half of `pointwise` (pointwise_channels_last.cc): a 1x1 stride-1 unpadded
// forward convolution whose input and output are channels-last, the input's positions evenly
// spaced, computed in place with positions as GEMM rows. It runs only views for which
// `pointwise_channels_last_reads(g, args)` holds; pointwise.cc asks first and serves the others,
// and also those whose per-call weights outweigh the input twice (it transposes the input and
// reads the weights in place rather than have them packed here on every call).
std::unique_ptr<Executor> make_pointwise_channels_last(const Geometry& g);

// True when x and y of `args` are channels-last (channel stride 1) and x's positions are evenly
// spaced (y's may lie anywhere: the phases of a transposed convolution).
bool pointwise_channels_last_reads(const Geometry& g, const OpArgs& args);

}  // namespace convnd::detail
