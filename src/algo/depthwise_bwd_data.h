#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Depthwise backward data (groups == C == K): each input sample gathers exactly the
// (tap, output) terms that reach it, vectorised over channels (depthwise_bwd_data.cc).
const Algorithm& depthwise_bwd_data_algorithm();

}  // namespace convnd::detail
