#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Depthwise weight gradient (groups == C == K): fixed chunks of positions, channel vectors of
// 8 taps accumulated in registers, partials added in chunk order (depthwise_weights.cc).
const Algorithm& depthwise_weights_algorithm();

}  // namespace convnd::detail
