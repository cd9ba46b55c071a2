#pragma once

#include <memory>

#include "algo/composed.h"

namespace convnd::detail {

// The weight gradient as its own GEMM (direct_wgrad.cc): per kernel tap, dw is the sum over
// (image, output position) of the outer product of the input's channels read by that tap and
// the output gradient's channels there, both read in place channels-last. `forward` tells it
// where bwd_weights_as_fwd would run faster (its pays()).
std::unique_ptr<Algorithm> make_direct_wgrad(const SubProblems& forward);

}  // namespace convnd::detail
