// The register-blocked GEMM microkernel family (Highway, dispatched at run time per ISA).
//
// One call computes C[mr x nr] += A[kc x mr]^T . B[kc x nr] over packed panels:
//   a: kc rows of mr values (a[p * mr + i]), broadcast one at a time;
//   b: kc rows of nr values (b[p * nr + j]), loaded as nr / lanes vectors;
//   c: mr rows of nr values, row i at c + i * ldc (ldc >= nr), read, added to, written back.
// mr and nr are fixed per ISA (tile_shape()): the callers pack partial tiles with zeros, so the
// hot loop has no tails. Alignment: b and c rows 64-byte aligned when ldc * sizeof(T) % 64 == 0.
#pragma once

#include <cstddef>

#include "convnd/convnd.h"

namespace convnd::kernels {

struct TileShape {
  std::size_t mr = 0, nr = 0;
};

// The tile of the ISA that gemm_tile_* will run on this CPU.
TileShape tile_shape(DType dtype);
// Name of that ISA (e.g. "AVX3", "AVX2"), for tests and benchmarks.
const char* isa_name();

void gemm_tile_f32(std::size_t kc, const float* a, const float* b, float* c, std::size_t ldc);
void gemm_tile_f64(std::size_t kc, const double* a, const double* b, double* c, std::size_t ldc);

template <class T>
inline void gemm_tile(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc) {
  if constexpr (sizeof(T) == 4)
    gemm_tile_f32(kc, a, b, c, ldc);
  else
    gemm_tile_f64(kc, a, b, c, ldc);
}

}  // namespace convnd::kernels
