// Copying an activation view channels-last, for the algorithms whose inner loops want a
// position's channels adjacent (the weight gradients of via_forward.cc and winograd_weights.cc,
// depthwise_bwd_data.cc), and back.
#pragma once

#include <algorithm>
#include <vector>

#include "algo/problem.h"
#include "runtime/threads.h"

namespace convnd::detail {

// Copies x (N, C, S..) into `dst` laid out channels-last and dense. When each (n, c) plane of x
// is one dense run of P samples this is N transposes of C x P matrices, done in 16 x 16 blocks
// so that reads and writes both stay within a few cache lines (a plane-by-plane copy writes
// with a stride of C elements and was slower than the GEMM it prepares); otherwise plane by
// plane through the strides.
template <class T>
inline void copy_to_channels_last(const ConstTensorView& x, T* dst, const std::vector<dim_t>& dst_strides,
                           int threads) {
  const int d = static_cast<int>(x.shape.size()) - 2;
  const T* src = static_cast<const T*>(x.data);
  const dim_t N = x.shape[0], C = x.shape[1];
  dim_t P = 1;
  bool dense = true;
  for (int a = d - 1; a >= 0; --a) {
    dense = dense && x.strides[2 + a] == P;
    P *= x.shape[2 + a];
  }
  if (dense) {
    constexpr dim_t kB = 16;
    const dim_t p_blocks = (P + kB - 1) / kB;
    parallel_tasks(N * p_blocks, threads, [&](dim_t task) {
      const dim_t n = task / p_blocks, p0 = (task % p_blocks) * kB, p1 = std::min(P, p0 + kB);
      const T* s = src + n * x.strides[0];
      T* t = dst + n * dst_strides[0];
      for (dim_t c0 = 0; c0 < C; c0 += kB)
        for (dim_t c = c0; c < std::min(C, c0 + kB); ++c)
          for (dim_t p = p0; p < p1; ++p) t[p * C + c] = s[c * x.strides[1] + p];
    });
    return;
  }
  parallel_tasks(N * C, threads, [&](dim_t task) {
    const dim_t n = task / C, c = task % C;
    std::vector<dim_t> i(d, 0);
    for (dim_t p = 0; p < P; ++p) {
      dim_t so = n * x.strides[0] + c * x.strides[1], to = n * dst_strides[0] + c;
      for (int a = 0; a < d; ++a) so += i[a] * x.strides[2 + a], to += i[a] * dst_strides[2 + a];
      dst[to] = src[so];
      for (int a = d - 1; a >= 0 && ++i[a] == x.shape[2 + a]; --a) i[a] = 0;
    }
  });
}

// The inverse: writes `src` (channels-last and dense, strides `src_strides`) into the view y of
// any strides, in 16 x 16 blocks when each (n, c) plane of y is one dense run.
template <class T>
inline void copy_from_channels_last(const T* src, const std::vector<dim_t>& src_strides,
                                    const TensorView& y, int threads) {
  const int d = static_cast<int>(y.shape.size()) - 2;
  T* dst = static_cast<T*>(y.data);
  const dim_t N = y.shape[0], C = y.shape[1];
  dim_t P = 1;
  bool dense = true;
  for (int a = d - 1; a >= 0; --a) {
    dense = dense && y.strides[2 + a] == P;
    P *= y.shape[2 + a];
  }
  if (dense) {
    constexpr dim_t kB = 16;
    const dim_t p_blocks = (P + kB - 1) / kB;
    parallel_tasks(N * p_blocks, threads, [&](dim_t task) {
      const dim_t n = task / p_blocks, p0 = (task % p_blocks) * kB, p1 = std::min(P, p0 + kB);
      const T* s = src + n * src_strides[0];
      T* t = dst + n * y.strides[0];
      for (dim_t c0 = 0; c0 < C; c0 += kB)
        for (dim_t c = c0; c < std::min(C, c0 + kB); ++c)
          for (dim_t p = p0; p < p1; ++p) t[c * y.strides[1] + p] = s[p * C + c];
    });
    return;
  }
  parallel_tasks(N * C, threads, [&](dim_t task) {
    const dim_t n = task / C, c = task % C;
    std::vector<dim_t> i(d, 0);
    for (dim_t p = 0; p < P; ++p) {
      dim_t so = n * src_strides[0] + c, to = n * y.strides[0] + c * y.strides[1];
      for (int a = 0; a < d; ++a) so += i[a] * src_strides[2 + a], to += i[a] * y.strides[2 + a];
      dst[to] = src[so];
      for (int a = d - 1; a >= 0 && ++i[a] == y.shape[2 + a]; --a) i[a] = 0;
    }
  });
}

}  // namespace convnd::detail
