// When the FFT convolution beats direct summation: PLACEHOLDER, fitted below.
#include "algo/fft_crossover.h"

#include <cmath>

#include "algo/fft_shape.h"
#include "api/errors.h"

namespace convnd::detail {

FftCosts fft_costs(const Geometry& g) {
  FftCosts c;
  const fft::Shape s = fft::shape_for(g);
  double macs = static_cast<double>(g.N) * static_cast<double>(g.K) * static_cast<double>(g.Cg());
  for (int a = 0; a < g.rank(); ++a)
    macs *= static_cast<double>(g.out[a]) * static_cast<double>(g.kernel[a]);
  const double direct_rate = g.Cg() == 1 ? 30e9 : 100e9;  // MAC/s
  c.direct = macs / direct_rate;
  const double transforms = static_cast<double>(g.K) * static_cast<double>(g.Cg()) +
                            static_cast<double>(g.N) * static_cast<double>(s.tiles) *
                                static_cast<double>(g.C + g.K);
  const double per_transform = s.total * std::log2(std::max(2.0, s.total)) * 0.5e-9 / 2;
  const double products = static_cast<double>(g.N) * static_cast<double>(s.tiles) *
                          static_cast<double>(g.K) * static_cast<double>(g.Cg()) *
                          static_cast<double>(s.spectrum) * 2 * 0.3e-9 / 2;
  c.fft = transforms * per_transform + products;
  return c;
}

std::string fft_pays(const Geometry& g, Op op) {
  if (op != Op::fwd) return "forward pass only";
  if (g.precision == Precision::highest) return "precision 'highest' keeps direct summation";
  if (g.dtype == DType::f64) return "float64 keeps direct summation";
  const FftCosts c = fft_costs(g);
  if (c.fft < c.direct) return {};
  return rule("estimated ", c.fft * 1e3, " ms against ", c.direct * 1e3,
              " ms for direct summation");
}

}  // namespace convnd::detail
