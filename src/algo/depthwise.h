#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Depthwise convolution (groups == C == K) in every pass, vectorised over outputs (depthwise.cc;
// the executor in depthwise_executor.h, its paths one per depthwise_*.cc file).
const Algorithm& depthwise_algorithm();

}  // namespace convnd::detail
