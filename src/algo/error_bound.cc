// The default error bound of an algorithm: direct summation of n products in the dtype's
// precision, |computed - exact| <= n * u * sum |products| (the classic bound, to first order).
#include <cmath>

#include "algo/algorithm.h"

namespace convnd::detail {

double Algorithm::error_bound(const Geometry& g, Op op) const {
  const double u = g.dtype == DType::f32 ? 0x1p-24 : 0x1p-53;
  double n = 1;
  if (op == Op::bwd_weights) {
    n = static_cast<double>(g.N);
    for (dim_t o : g.out) n *= static_cast<double>(o);
  } else {
    n = static_cast<double>(op == Op::fwd ? g.Cg() : g.Kg());
    for (dim_t k : g.kernel) n *= static_cast<double>(k);
  }
  return n * u;
}

}  // namespace convnd::detail
