// Matrix transpose (Highway, dispatched per ISA): dst[j * dst_stride + i] = src[i * src_stride + j]
// for i < rows, j < cols; strides in elements, either sign. 4 x 4 blocks of f32 (2 x 2 of f64)
// go through 128-bit registers (four loads, eight shuffles, four stores, where a scalar copy
// does sixteen loads and sixteen stores); the edges are copied one element at a time. The
// layout copies between channels-first and channels-last (algo/layout_copy.h) are made of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convnd::kernels {

void transpose_f32(std::size_t rows, std::size_t cols, const float* src, std::int64_t src_stride,
                   float* dst, std::int64_t dst_stride);
void transpose_f64(std::size_t rows, std::size_t cols, const double* src, std::int64_t src_stride,
                   double* dst, std::int64_t dst_stride);

template <class T>
inline void transpose(std::size_t rows, std::size_t cols, const T* src, std::int64_t src_stride,
                      T* dst, std::int64_t dst_stride) {
  if constexpr (sizeof(T) == 4)
    transpose_f32(rows, cols, src, src_stride, dst, dst_stride);
  else
    transpose_f64(rows, cols, src, src_stride, dst, dst_stride);
}

}  // namespace convnd::kernels
