// Packing rows read through pointers into a panel (Highway, dispatched per ISA):
//   dst[i * width + m] = rows[i] ? rows[i][offset + m] : 0   for i < count, m < width,
// with width a multiple of the vector length (nr of tile_shape(): 2 vectors). Full vectors
// only: each row must have `width` readable values from `offset` (a caller copies a shorter,
// last tile itself). Used for the per-tap panels of the weight gradient, where a baseline-ISA
// copy (16-byte moves) took a quarter of the run.
#pragma once

#include <cstddef>

namespace convnd::kernels {

void pack_rows_f32(std::size_t count, const float* const* rows, std::size_t offset,
                   std::size_t width, float* dst);
void pack_rows_f64(std::size_t count, const double* const* rows, std::size_t offset,
                   std::size_t width, double* dst);

template <class T>
inline void pack_rows(std::size_t count, const T* const* rows, std::size_t offset,
                      std::size_t width, T* dst) {
  if constexpr (sizeof(T) == 4)
    pack_rows_f32(count, rows, offset, width, dst);
  else
    pack_rows_f64(count, rows, offset, width, dst);
}

}  // namespace convnd::kernels
