// The register-blocked GEMM microkernel family (Highway, dispatched at run time per ISA).
//
// One call computes C[mr x nr] += A^T . B[kc x nr] with A (kc x mr) given in one of three ways:
//   gemm_tile:       a packed panel, element (p, i) at a[p * mr + i];
//   gemm_tile_rows:  mr row pointers, element (p, i) at a[i][p] (indirect convolution with
//                    contiguous channels: each row is one output position's input samples);
//   gemm_tile_cols:  kc column pointers, element (p, i) at a[p][i] (each column is mr consecutive
//                    output positions, e.g. a stride-1 row of a channels-first input);
// its elements broadcast one at a time, and
//   b: kc rows of nr values (b[p * nr + j]), loaded as nr / lanes vectors;
//   c: mr rows of nr values, row i at c + i * ldc (ldc >= nr), read, added to, written back.
// mr and nr are fixed per ISA (tile_shape()): the callers pack partial tiles with zeros, so the
// hot loop has no tails. Alignment: b and c rows 64-byte aligned when ldc * sizeof(T) % 64 == 0.
//
// An algorithm takes a TileKernel when it plans: the tile shape and the three functions of one
// ISA, bound together, so that a plan keeps running the kernel its tiles were sized for (even
// if Highway's target changes later, as the per-target tests make it) and no call dispatches
// again. The three are entries of the GEMM kernel list (gemm_kernels.inc: gemm_tile,
// gemm_tile_rows, gemm_tile_cols); tests and benchmarks reach every entry through
// gemm_kernel(id) (gemm_kernels.h).
#pragma once

#include <cstddef>

#include "convnd/convnd.h"

namespace convnd::kernels {

struct TileShape {
  std::size_t mr = 0, nr = 0;
};

// The tile of the ISA that gemm_tile_* will run on this CPU.
TileShape tile_shape(DType dtype);

template <class T>
struct TileKernel {
  using Packed = void (*)(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc);
  using Pointers = void (*)(std::size_t kc, const T* const* a, const T* b, T* c, std::size_t ldc);
  using Seeded = void (*)(std::size_t kc, const T* const* a, const T* b, const T* seed, T* c,
                          std::size_t ldc);
  std::size_t mr = 0, nr = 0;
  Packed packed = nullptr;       // gemm_tile
  Pointers rows = nullptr;       // gemm_tile_rows
  Pointers cols = nullptr;       // gemm_tile_cols
  Seeded cols_seeded = nullptr;  // gemm_tile_cols_seeded: rows start at a seed per column
  Seeded rows_seeded = nullptr;  // gemm_tile_rows_seeded: likewise
};

// The kernels of the ISA Highway dispatches to now, with their tile.
TileKernel<float> tile_kernel_f32();
TileKernel<double> tile_kernel_f64();

template <class T>
TileKernel<T> tile_kernel() {
  if constexpr (sizeof(T) == 4)
    return tile_kernel_f32();
  else
    return tile_kernel_f64();
}
// Name of that ISA (e.g. "AVX3", "AVX2"), for tests and benchmarks.
const char* isa_name();

}  // namespace convnd::kernels
