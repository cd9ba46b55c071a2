// The bias gradient: one pass over dy, double accumulators, an order fixed by the shape.
//
// Positions (n, then the spatial axes in order) are walked by an odometer that carries
// offsets instead of recomputing them (an earlier version multiplied out every index and took
// a fifth of a 3-D U-Net layer's weight gradient: docs/measurements.md).
//   - Channels contiguous (channels-last): each position adds its K values into K double
//     sums, which vectorises across channels; every sum still runs over the positions in order.
//   - Otherwise (channels-first): channel by channel, each run along the last axis is summed
//     into four interleaved partial sums, added in a fixed order, so the additions are not one
//     chain of dependent latencies.
// Neither depends on the thread count (there is one thread).
#include "algo/bias_grad.h"

#include <vector>

namespace convnd::detail {
namespace {

// Visits the offsets of every index of `shape` but axis `skip` and `last` (the two axes the
// caller loops over itself; last < 0: none), in row-major order.
template <class F>
void for_each_line(const std::vector<dim_t>& shape, const std::vector<dim_t>& strides, int skip,
                   int last, F&& f) {
  const int nd = static_cast<int>(shape.size());
  for (int a = 0; a < nd; ++a)
    if (a != skip && a != last && shape[a] == 0) return;
  std::vector<dim_t> idx(static_cast<std::size_t>(nd), 0);
  dim_t off = 0;
  for (;;) {
    f(off);
    int a = nd - 1;
    for (; a >= 0; --a) {
      if (a == skip || a == last) continue;
      off += strides[a];
      if (++idx[a] < shape[a]) break;
      off -= idx[a] * strides[a];
      idx[a] = 0;
    }
    if (a < 0) return;
  }
}

template <class T>
void bias_gradient_typed(const ConstTensorView& dy, const TensorView& dbias) {
  const T* g = static_cast<const T*>(dy.data);
  T* db = static_cast<T*>(dbias.data);
  const int nd = static_cast<int>(dy.shape.size());
  const dim_t K = dy.shape[1];
  // The innermost axis, looped over directly (none when dy has no spatial axis).
  const int last = nd >= 3 ? nd - 1 : -1;
  const dim_t len = last >= 0 ? dy.shape[last] : 1, step = last >= 0 ? dy.strides[last] : 0;
  std::vector<double> sum(static_cast<std::size_t>(K), 0.0);
  if (dy.strides[1] == 1) {
    for_each_line(dy.shape, dy.strides, 1, last, [&](dim_t off) {
      for (dim_t j = 0; j < len; ++j) {
        const T* row = g + off + j * step;
        for (dim_t k = 0; k < K; ++k) sum[k] += static_cast<double>(row[k]);
      }
    });
  } else {
    for (dim_t k = 0; k < K; ++k) {
      const T* gk = g + k * dy.strides[1];
      double total = 0;
      for_each_line(dy.shape, dy.strides, 1, last, [&](dim_t off) {
        double part[4] = {0, 0, 0, 0};
        const T* line = gk + off;
        dim_t j = 0;
        for (; j + 4 <= len; j += 4)
          for (int q = 0; q < 4; ++q) part[q] += static_cast<double>(line[(j + q) * step]);
        for (; j < len; ++j) part[0] += static_cast<double>(line[j * step]);
        total += (part[0] + part[1]) + (part[2] + part[3]);
      });
      sum[k] = total;
    }
  }
  for (dim_t k = 0; k < K; ++k) db[k * dbias.strides[0]] = static_cast<T>(sum[k]);
}

}  // namespace

void bias_gradient(const ConstTensorView& dy, const TensorView& dbias) {
  if (dy.dtype == DType::f32)
    bias_gradient_typed<float>(dy, dbias);
  else
    bias_gradient_typed<double>(dy, dbias);
}

}  // namespace convnd::detail
