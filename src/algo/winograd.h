#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Winograd F(m, 3) for 3-tap stride-1 forward convolutions (winograd.cc): m = 2 and 4 in 1-D
// to 3-D, m = 6 in 1-D and 2-D.
const Algorithm& winograd_f2_algorithm();
const Algorithm& winograd_f4_algorithm();
const Algorithm& winograd_f6_algorithm();

// Empty when Winograd F(m, 3) is measured faster than the direct algorithms on this problem
// (winograd_crossover.cc); otherwise why not.
std::string winograd_pays(const Geometry& g, Op op, int m);

// Empty when the Winograd F(m, 3) forward pass still pays once the per-run transform of the
// weights is counted (only when g.constant_weights is false); otherwise why not.
std::string winograd_weight_transform_pays(const Geometry& g, int m);

// The factor over direct summation's n u of the error bound of F(m, 3) and of the weight
// gradient's F(3, m) in this rank (docs/winograd.md).
double winograd_bound_factor(int m, int rank);

}  // namespace convnd::detail
