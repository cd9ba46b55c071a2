#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Depthwise forward convolution (groups == C == K), vectorised over outputs (depthwise.cc).
const Algorithm& depthwise_algorithm();

}  // namespace convnd::detail
