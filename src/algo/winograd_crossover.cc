// When Winograd beats the direct algorithms: a rule fitted to measurements on the benchmark
// machine (docs/winograd.md has the grid, the command that measured it and the results).
#include <string>

#include "algo/winograd.h"
#include "api/errors.h"

namespace convnd::detail {

std::string winograd_pays(const Geometry& g, Op op, int m) {
  if (op != Op::fwd) return "forward pass only";
  // float64 is the reference-quality path (and the drop-in modules' promise of the originals'
  // numbers to 1e-12): direct summation unless Winograd is asked for by name.
  if (g.dtype == DType::f64) return "float64 keeps direct summation";
  // The transforms cost O(C + K) per tile and the GEMM O(C K): with few channels per group the
  // transforms dominate and the narrow GEMMs waste the microkernel's columns.
  if (g.Cg() < 16 || g.Kg() < 16) return rule("under 16 channels per group (", g.Cg(), " in, ", g.Kg(), " out)");
  double outputs = static_cast<double>(g.N);
  for (dim_t o : g.out) outputs *= static_cast<double>(o);
  if (outputs < 64) return "fewer than 64 output positions";
  (void)m;
  return {};
}

}  // namespace convnd::detail
