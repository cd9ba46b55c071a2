// Copying an activation view channels-last, for the algorithms whose inner loops want a
// position's channels adjacent (the weight gradients of bwd_weights_as_fwd.cc and
// winograd_weights.cc, depthwise_bwd_data.cc), and back.
#pragma once

#include <algorithm>
#include <vector>

#include "algo/problem.h"
#include "kernels/transpose.h"
#include "runtime/threads.h"

namespace convnd::detail {

// Positions per task of the dense copies: a task transposes (C x 64 positions), whose 64
// destination rows of C channels stay in L1/L2 while the band of source rows goes by.
constexpr dim_t kTransposeBlock = 64;

// Strides of a dense channels-last tensor of canonical shape (N, C, S..): channels innermost,
// then the spatial axes, the image outermost.
inline std::vector<dim_t> dense_channels_last_strides(const std::vector<dim_t>& shape) {
  std::vector<dim_t> st(shape.size());
  st[1] = 1;
  dim_t run = shape[1];
  for (std::size_t a = shape.size() - 1; a >= 2; --a) st[a] = run, run *= shape[a];
  st[0] = run;
  return st;
}

// Copies x (N, C, S..) into `dst` laid out channels-last and dense. When each (n, c) plane of x
// is one dense run of P samples this is N transposes of C x P matrices (kernels/transpose.h,
// in 4 x 4 register blocks; a plane-by-plane copy writes with a stride of C elements and was
// slower than the GEMM it prepares); otherwise plane by plane through the strides.
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
    const dim_t p_blocks = (P + kTransposeBlock - 1) / kTransposeBlock;
    parallel_tasks(N * p_blocks, threads, [&](dim_t task) {
      const dim_t n = task / p_blocks, p0 = (task % p_blocks) * kTransposeBlock;
      const dim_t p1 = std::min(P, p0 + kTransposeBlock);
      // (C x positions [p0, p1)) of image n into (positions x C).
      kernels::transpose<T>(static_cast<std::size_t>(C), static_cast<std::size_t>(p1 - p0),
                            src + n * x.strides[0] + p0, x.strides[1],
                            dst + n * dst_strides[0] + p0 * C, C);
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

// v itself when its channels are already contiguous, else a dense channels-last copy of it in
// `buf` (dense_channels_last_strides(v.shape)).
template <class T>
inline ConstTensorView channels_last_view(const ConstTensorView& v, T* buf, int threads) {
  if (v.strides[1] == 1) return v;
  const std::vector<dim_t> st = dense_channels_last_strides(v.shape);
  copy_to_channels_last(v, buf, st, threads);
  return ConstTensorView(buf, v.dtype, v.shape, st);
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
    const dim_t p_blocks = (P + kTransposeBlock - 1) / kTransposeBlock;
    parallel_tasks(N * p_blocks, threads, [&](dim_t task) {
      const dim_t n = task / p_blocks, p0 = (task % p_blocks) * kTransposeBlock;
      const dim_t p1 = std::min(P, p0 + kTransposeBlock);
      // (positions [p0, p1) x C) of image n into (C x positions).
      kernels::transpose<T>(static_cast<std::size_t>(p1 - p0), static_cast<std::size_t>(C),
                            src + n * src_strides[0] + p0 * C, C,
                            dst + n * y.strides[0] + p0, y.strides[1]);
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
