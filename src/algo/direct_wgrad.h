#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// The weight gradient as its own GEMM (direct_wgrad.cc): per kernel tap, dw is the sum over
// (image, output position) of the outer product of the input's channels read by that tap and
// the output gradient's channels there, both read in place channels-last.
const Algorithm& direct_wgrad_algorithm();

}  // namespace convnd::detail
