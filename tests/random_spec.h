// A seeded generator of valid random specs over ranks 1-4, both layouts, groups, stride,
// dilation, every padding form and mode, transposed and not. Extents stay small so the
// reference runs in microseconds; invalid draws are retried, so every returned spec resolves.
#pragma once

#include <random>

#include "convnd/convnd.h"

namespace convnd::testing {

class RandomSpecs {
 public:
  explicit RandomSpecs(std::uint32_t seed) : rng_(seed) {}

  Spec next(DType dtype = DType::f64) {
    for (;;) {
      Spec s = draw(dtype);
      try {
        output_extents(s);
        return s;
      } catch (const Error&) {
        // e.g. a kernel larger than the padded input: draw again
      }
    }
  }

 private:
  dim_t uniform(dim_t lo, dim_t hi) { return std::uniform_int_distribution<dim_t>(lo, hi)(rng_); }
  bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng_); }

  Spec draw(DType dtype) {
    Spec s;
    const int d = static_cast<int>(uniform(1, 4));
    const dim_t max_extent = d <= 2 ? 9 : (d == 3 ? 5 : 4);
    s.dtype = dtype;
    s.groups = uniform(1, 3);
    s.N = uniform(1, 2);
    s.C = s.groups * uniform(1, 3);
    s.K = s.groups * uniform(1, 3);
    s.layout = coin() ? Layout::channels_first : Layout::channels_last;
    s.pad_mode = static_cast<PadMode>(uniform(0, 4));
    s.bias = coin();
    s.transposed = coin(0.3);
    for (int a = 0; a < d; ++a) {
      s.input.push_back(uniform(1, max_extent));
      s.kernel.push_back(uniform(1, d <= 2 ? 4 : 3));
      s.stride.push_back(uniform(1, 3));
      s.dilation.push_back(uniform(1, 2));
    }
    const int form = static_cast<int>(uniform(0, s.transposed ? 2 : 6));
    switch (form) {
      case 0: s.padding = Padding::uniform(uniform(0, 3)); break;
      case 1: {
        std::vector<std::pair<dim_t, dim_t>> pairs;
        for (int a = 0; a < d; ++a) pairs.emplace_back(uniform(0, 4), uniform(0, 4));
        s.padding = Padding::lo_hi(pairs);
        break;
      }
      case 2: s.padding = Padding::valid(); break;
      case 3: s.padding = Padding::full(); break;
      case 4: s.padding = Padding::causal(); break;
      default: {
        const auto p = static_cast<SamePolicy>(uniform(0, 4));
        s.padding = Padding::same(p);
        if (p == SamePolicy::torch) s.stride = {1};
      }
    }
    if (s.transposed) {
      std::vector<dim_t> op;
      for (int a = 0; a < d; ++a)
        op.push_back(uniform(0, std::max(s.stride[a], s.dilation[a]) - 1));
      s.output_padding = op;
    }
    return s;
  }

  std::mt19937 rng_;
};

}  // namespace convnd::testing
