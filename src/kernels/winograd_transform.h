// The transform step of Winograd convolution (Highway, dispatched at run time per ISA).
//
// A tile is a tensor of `cols` samples along each of `rank` axes, times `lanes` independent
// tiles stored innermost (element (i0, .., i_{rank-1}, l) at ((i0 * cols + i1) * cols ..) * lanes
// + l). winograd_apply multiplies every axis in turn by the rows x cols matrix `coef` (row-major),
// giving `rows` samples per axis: the input (BT), weight (G) and output (AT) transforms are all
// this one operation. The lanes make it vector work: many tiles (input transform) or many
// output channels (output transform) at once. Zero coefficients are skipped, so the sparse
// transform matrices cost only their non-zeros.
//
// `dst` and `tmp` each hold max(rows, cols)^rank * lanes values (both carry intermediate axes);
// src, dst and tmp must not overlap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/winograd_tables.h"

namespace convnd::kernels {

void winograd_apply_f32(int rank, int rows, int cols, const float* coef, std::size_t lanes,
                        const float* src, float* dst, float* tmp);
void winograd_apply_f64(int rank, int rows, int cols, const double* coef, std::size_t lanes,
                        const double* src, double* dst, double* tmp);

// dst[i] = idx[i] < 0 ? 0 : base[idx[i]] for i < n: the samples of a block of tiles, with zero
// padding, by vector gathers (indices of the dtype's width: int32 for f32, int64 for f64).
void winograd_gather_f32(std::size_t n, const float* base, const std::int32_t* idx, float* dst);
void winograd_gather_f64(std::size_t n, const double* base, const std::int64_t* idx, double* dst);

// dst[i] = base[i * stride] for i < n: one sample of n channels `stride` apart (channels-first
// planes), by vector gathers when n * |stride| < 2^31, else one by one.
void winograd_gather_strided_f32(std::size_t n, const float* base, std::int64_t stride, float* dst);
void winograd_gather_strided_f64(std::size_t n, const double* base, std::int64_t stride,
                                 double* dst);

template <class T>
inline void winograd_gather_strided(std::size_t n, const T* base, std::int64_t stride, T* dst) {
  if constexpr (sizeof(T) == 4)
    winograd_gather_strided_f32(n, base, stride, dst);
  else
    winograd_gather_strided_f64(n, base, stride, dst);
}

// winograd_apply for the matrices of winograd_tables.h, with their entries compiled in (zeros
// skipped, +-1 as adds): the same results, bitwise, in fewer instructions.
void winograd_apply_known_f32(WinogradMatrix which, int rank, std::size_t lanes, const float* src,
                              float* dst, float* tmp);
void winograd_apply_known_f64(WinogradMatrix which, int rank, std::size_t lanes,
                              const double* src, double* dst, double* tmp);

template <class T>
inline void winograd_apply_known(WinogradMatrix which, int rank, std::size_t lanes, const T* src,
                                 T* dst, T* tmp) {
  if constexpr (sizeof(T) == 4)
    winograd_apply_known_f32(which, rank, lanes, src, dst, tmp);
  else
    winograd_apply_known_f64(which, rank, lanes, src, dst, tmp);
}

// A compiled-in matrix, row-major, for the tests that compare it with the construction.
struct FixedView {
  const double* v = nullptr;
  int rows = 0, cols = 0;
};
FixedView winograd_fixed_matrix(WinogradMatrix which);

template <class T>
inline void winograd_apply(int rank, int rows, int cols, const T* coef, std::size_t lanes,
                           const T* src, T* dst, T* tmp) {
  if constexpr (sizeof(T) == 4)
    winograd_apply_f32(rank, rows, cols, coef, lanes, src, dst, tmp);
  else
    winograd_apply_f64(rank, rows, cols, coef, lanes, src, dst, tmp);
}

inline void winograd_gather(std::size_t n, const float* base, const std::int32_t* idx, float* dst) {
  winograd_gather_f32(n, base, idx, dst);
}
inline void winograd_gather(std::size_t n, const double* base, const std::int64_t* idx,
                            double* dst) {
  winograd_gather_f64(n, base, idx, dst);
}

}  // namespace convnd::kernels
