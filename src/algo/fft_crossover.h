#pragma once

#include <string>

#include "algo/problem.h"

namespace convnd::detail {

// Empty when the FFT convolution is the one to choose unforced here (fft_crossover.cc says by
// which rule); otherwise why not.
std::string fft_pays(const Geometry& g, Op op);

// The rule's two estimates, in seconds on the benchmark machine (2 threads): exposed for the
// tests and `convnd explain`.
struct FftCosts {
  double fft = 0, direct = 0;
};
FftCosts fft_costs(const Geometry& g);

}  // namespace convnd::detail
