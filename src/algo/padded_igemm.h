#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Forward convolution as a GEMM over a padded, stride-phase-split copy of the input, read in
// place by the microkernel (padded_igemm.cc).
const Algorithm& padded_igemm_algorithm();

}  // namespace convnd::detail
