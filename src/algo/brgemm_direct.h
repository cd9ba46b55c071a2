#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Forward convolution on channels-last input read in place, one batch-reduce kernel call per
// output tile over the (tap, channel block) pairs it needs (brgemm_direct.cc).
const Algorithm& brgemm_direct_algorithm();

}  // namespace convnd::detail
