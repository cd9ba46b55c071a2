// A GEMM microkernel whose B rows are read in place through pointers (Highway, dispatched per
// ISA): C[mr x nr] += A^T . B with
//   a: a packed panel, element (p, i) at a[p * mr + i] (mr weights of one reduction index);
//   b: kc row pointers, row p = nr contiguous values at b[p] (e.g. nr consecutive positions of
//      one input channel in a channels-first tensor: read in place, never packed);
//   c: mr rows of nr values, row i at c + i * ldc, read, added to, written back.
// The tile (mr, nr) is the one of gemm_tile.h on the same ISA (tile_shape()). The roles are the
// transpose of gemm_tile's: rows are output channels, columns output positions, so a channels-
// first output is written in place too.
#pragma once

#include <cstddef>

namespace convnd::kernels {

void gemm_bptr_f32(std::size_t kc, const float* a, const float* const* b, float* c,
                   std::size_t ldc);
void gemm_bptr_f64(std::size_t kc, const double* a, const double* const* b, double* c,
                   std::size_t ldc);

template <class T>
inline void gemm_bptr(std::size_t kc, const T* a, const T* const* b, T* c, std::size_t ldc) {
  if constexpr (sizeof(T) == 4)
    gemm_bptr_f32(kc, a, b, c, ldc);
  else
    gemm_bptr_f64(kc, a, b, c, ldc);
}

}  // namespace convnd::kernels
