#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Plain N-D loops with double accumulation: the oracle every other algorithm is tested against.
const Algorithm& reference_algorithm();

}  // namespace convnd::detail
