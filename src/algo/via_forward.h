#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Backward passes expressed as forward convolutions over re-strided views, so that every fast
// forward algorithm serves them too (see via_forward.cc).
const Algorithm& bwd_data_phases_algorithm();
const Algorithm& bwd_weights_as_fwd_algorithm();

}  // namespace convnd::detail
