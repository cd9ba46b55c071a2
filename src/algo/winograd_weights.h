#pragma once

#include <string>

#include "algo/algorithm.h"

namespace convnd::detail {

// The weight gradient of 3-tap stride-1 convolutions by Winograd F(3, m), 1-D to 3-D
// (winograd_weights.cc): m = 2 and 4.
const Algorithm& winograd_weights_f2_algorithm();
const Algorithm& winograd_weights_f4_algorithm();

// Empty when F(3, m) is measured faster than the direct weight gradient here
// (winograd_crossover.cc); otherwise why not.
std::string winograd_weights_pays(const Geometry& g, Op op, int m);

}  // namespace convnd::detail
