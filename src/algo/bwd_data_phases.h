#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Backward data as forward convolutions, one per stride phase (see bwd_data_phases.cc).
const Algorithm& bwd_data_phases_algorithm();

}  // namespace convnd::detail
