// Packing rows read through pointers into a panel (Highway, dispatched per ISA):
//   dst[i * dst_stride + m] = rows[i] ? rows[i][offset + m] : 0   for i < count, m < len,
// with len a multiple of the vector length (lanes(): nr of tile_shape() is 2 vectors). Full
// vectors only: each row must have `len` readable values from `offset` (a caller copies other
// lengths itself). Used for the per-tap panels of the weight gradient, where a baseline-ISA
// copy (16-byte moves) took a quarter of the run.
#pragma once

#include <cstddef>

namespace convnd::kernels {

void pack_rows_f32(std::size_t count, const float* const* rows, std::size_t offset,
                   std::size_t len, float* dst, std::size_t dst_stride);
void pack_rows_f64(std::size_t count, const double* const* rows, std::size_t offset,
                   std::size_t len, double* dst, std::size_t dst_stride);
// Vector length of the ISA these run on, in elements of the dtype's size (4 or 8 bytes).
std::size_t pack_lanes(std::size_t elem_bytes);

template <class T>
inline void pack_rows(std::size_t count, const T* const* rows, std::size_t offset,
                      std::size_t len, T* dst, std::size_t dst_stride) {
  if constexpr (sizeof(T) == 4)
    pack_rows_f32(count, rows, offset, len, dst, dst_stride);
  else
    pack_rows_f64(count, rows, offset, len, dst, dst_stride);
}

}  // namespace convnd::kernels
