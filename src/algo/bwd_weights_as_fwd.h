#pragma once

#include <memory>

#include "algo/composed.h"

namespace convnd::detail {

// The weight gradient as one forward convolution (see bwd_weights_as_fwd.cc), whose algorithm
// `forward` chooses.
std::unique_ptr<Algorithm> make_bwd_weights_as_fwd(const SubProblems& forward);

// The forward algorithm that bwd_weights_as_fwd would run the weight gradient of g on (null if
// none): direct_wgrad steps aside when that is the FFT (large output extents become the
// sub-problem's kernel, where transforms beat direct summation by an order of magnitude).
const Algorithm* weight_gradient_forward_algorithm(const Geometry& g, const SubProblems& forward);

}  // namespace convnd::detail
