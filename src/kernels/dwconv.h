// Depthwise-convolution kernels (Highway, dispatched per ISA): each output element is a short
// dot product over kernel taps, vectorised across independent outputs, accumulated in registers.
//
//   dw_channels: out[c] = bias[c] + sum_t w[t * w_stride + c] * in[t][c]     for c < count
//     (channels-last: `in[t]` is the channel vector of the input sample tap t reads)
//   dw_row:      out[j] = bias + sum_t w[t] * in[t][j]                         for j < count
//     (channels-first: `in[t]` is the run of input samples tap t reads for consecutive outputs)
//   dw_accumulate: acc[c] += sum_p a[p][c] * b[p][c]                          for c < count
//     (depthwise weight gradient, channels-last: sample times output gradient per position)
//   dot:         returns sum_j a[j] * b[j]                                     for j < count
//   dw_weights:  acc[t * count + c] += sum_p x[p * taps + t][c] * dy[p][c]    for t < taps, c <
//   count
//     (depthwise weight gradient over a block of positions: x[p * taps + t] is the channel vector
//     that tap t reads for position p, dy[p] the position's output gradient; each element sums
//     over p in order)
//   dw_channels_run: out[j * out_step + c] = bias[c] + sum_i w[i][c] * in[i][j * in_step + c]
//     for j < positions, c < count (channels-last, a run of outputs along a row whose taps all
//     read inside the input: each weight vector loaded once serves 8 positions)
//   dw_gather:   out[c] = bias[c] + sum_i w[i][c] * in[i][c]                   for c < count
//     (like dw_channels, with a weight pointer per term: the depthwise backward-data pass lists
//     only the (tap, output) pairs that reach an input sample, in a fixed order)
//   dw_rows:     out[r * out_pitch + j] = bias + sum_t w[t] * in[t][r * in_pitch + j]
//     for r < rows, j < count (channels-first: the rows of a plane's output straight into the
//     output tensor; up to 8 rows share each weight broadcast, and a row of 14-28 outputs is
//     one or two vectors, the last one masked, instead of a scalar tail)
//   dw_dots:     acc[t] += sum over r < rows, j < count of in[t][r * in_pitch + j] * g[r * g_pitch
//   + j]
//     for t < taps (channels-first weight gradient: tap t's rows of one plane against the
//     output-gradient rows; 8 taps per pass over g, one g load for 8 FMAs; per tap the lanes'
//     partial sums are added in a fixed order, so the result does not depend on the thread count)
//   dw_pair_rows: out[r * out_pitch + 2 k] = bias + sum_t wa[t] * a[t][r * in_pitch + k],
//     out[r * out_pitch + 2 k + 1] = bias + sum_t wb[t] * b[t][r * in_pitch + k]
//     for r < rows, 2 k (+ 1) < count (depthwise backward data at stride 2: a dx row's even and
//     odd columns, each a correlation of dy with its phase's taps, stored interleaved in one
//     pass; 4 rows x 2 phases of accumulators)
//   interleave_rows: out[out_off[r] + 2 j] = even[in_off[r] + j],
//     out[out_off[r] + 2 j + 1] = odd[in_off[r] + j]   for r < rows, 2 j (+ 1) < count
//     (the inverse of deinterleave_rows: stride-2 phase-split rows back in order)
//   deinterleave_rows: out_even[out_off[r] + j] = in[in_off[r] + 2 j],
//     out_odd[out_off[r] + j] = in[in_off[r] + 2 j + 1]   for r < rows, 2 j (+ 1) < count
//     (both stride-2 phases of each input row from one pass over it)
// bias may be null (0). Any count works; nothing outside [0, count) is read or written.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convnd::kernels {

void dw_channels_f32(std::size_t taps, const float* const* in, const float* w,
                     std::size_t w_stride, const float* bias, float* out, std::size_t count);
void dw_channels_f64(std::size_t taps, const double* const* in, const double* w,
                     std::size_t w_stride, const double* bias, double* out, std::size_t count);
void dw_row_f32(std::size_t taps, const float* const* in, const float* w, float bias, float* out,
                std::size_t count);
void dw_row_f64(std::size_t taps, const double* const* in, const double* w, double bias,
                double* out, std::size_t count);

void dw_accumulate_f32(std::size_t positions, const float* const* a, const float* const* b,
                      float* acc, std::size_t count);
void dw_accumulate_f64(std::size_t positions, const double* const* a, const double* const* b,
                      double* acc, std::size_t count);
void dw_weights_f32(std::size_t positions, std::size_t taps, const float* const* x,
                    const float* const* dy, float* acc, std::size_t count);
void dw_weights_f64(std::size_t positions, std::size_t taps, const double* const* x,
                    const double* const* dy, double* acc, std::size_t count);
void dw_channels_run_f32(std::size_t terms, const float* const* in, const float* const* w,
                         std::ptrdiff_t in_step, const float* bias, float* out, std::ptrdiff_t out_step,
                         std::size_t positions, std::size_t count);
void dw_channels_run_f64(std::size_t terms, const double* const* in, const double* const* w,
                         std::ptrdiff_t in_step, const double* bias, double* out,
                         std::ptrdiff_t out_step, std::size_t positions, std::size_t count);
void dw_gather_f32(std::size_t terms, const float* const* in, const float* const* w,
                   const float* bias, float* out, std::size_t count);
void dw_gather_f64(std::size_t terms, const double* const* in, const double* const* w,
                   const double* bias, double* out, std::size_t count);
// strided_copy_rows: out[out_off[r] + j] = in[in_off[r] + j * step]  for r < rows, j < count
//   (builds depthwise.cc's phase-split planes, one stride phase of all rows per call: a
//   stride-2 plane's rows are ~14 samples, and a call per row cost more than its copy; steps 1
//   and 2 are vector copies with a masked tail on AVX2 / AVX-512, other steps scalar)
void strided_copy_rows_f32(const float* in, const std::int64_t* in_off, std::ptrdiff_t step,
                           float* out, const std::int64_t* out_off, std::size_t rows,
                           std::size_t count);
void strided_copy_rows_f64(const double* in, const std::int64_t* in_off, std::ptrdiff_t step,
                           double* out, const std::int64_t* out_off, std::size_t rows,
                           std::size_t count);
void dw_rows_f32(std::size_t taps, const float* const* in, const float* w, float bias,
                 std::size_t rows, std::ptrdiff_t in_pitch, float* out, std::ptrdiff_t out_pitch,
                 std::size_t count);
void dw_rows_f64(std::size_t taps, const double* const* in, const double* w, double bias,
                 std::size_t rows, std::ptrdiff_t in_pitch, double* out, std::ptrdiff_t out_pitch,
                 std::size_t count);
void dw_dots_f32(std::size_t taps, const float* const* in, std::ptrdiff_t in_pitch, const float* g,
                 std::ptrdiff_t g_pitch, std::size_t rows, std::size_t count, float* acc);
void dw_dots_f64(std::size_t taps, const double* const* in, std::ptrdiff_t in_pitch,
                 const double* g, std::ptrdiff_t g_pitch, std::size_t rows, std::size_t count,
                 double* acc);
void dw_pair_rows_f32(std::size_t na, const float* const* a, const float* wa, std::size_t nb,
                      const float* const* b, const float* wb, float bias, std::size_t rows,
                      std::ptrdiff_t in_pitch, float* out, std::ptrdiff_t out_pitch,
                      std::size_t count);
void dw_pair_rows_f64(std::size_t na, const double* const* a, const double* wa, std::size_t nb,
                      const double* const* b, const double* wb, double bias, std::size_t rows,
                      std::ptrdiff_t in_pitch, double* out, std::ptrdiff_t out_pitch,
                      std::size_t count);
void interleave_rows_f32(const float* even, const float* odd, const std::int64_t* in_off,
                         float* out, const std::int64_t* out_off, std::size_t rows,
                         std::size_t count);
void interleave_rows_f64(const double* even, const double* odd, const std::int64_t* in_off,
                         double* out, const std::int64_t* out_off, std::size_t rows,
                         std::size_t count);
void deinterleave_rows_f32(const float* in, const std::int64_t* in_off, float* out_even,
                           float* out_odd, const std::int64_t* out_off, std::size_t rows,
                           std::size_t count);
void deinterleave_rows_f64(const double* in, const std::int64_t* in_off, double* out_even,
                           double* out_odd, const std::int64_t* out_off, std::size_t rows,
                           std::size_t count);
float dot_f32(const float* a, const float* b, std::size_t count);
double dot_f64(const double* a, const double* b, std::size_t count);

template <class T>
void dw_accumulate(std::size_t positions, const T* const* a, const T* const* b, T* acc,
                   std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_accumulate_f32(positions, a, b, acc, count);
  else
    dw_accumulate_f64(positions, a, b, acc, count);
}
template <class T>
void dw_weights(std::size_t positions, std::size_t taps, const T* const* x, const T* const* dy,
                T* acc, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_weights_f32(positions, taps, x, dy, acc, count);
  else
    dw_weights_f64(positions, taps, x, dy, acc, count);
}
template <class T>
void dw_channels_run(std::size_t terms, const T* const* in, const T* const* w, std::ptrdiff_t in_step,
                     const T* bias, T* out, std::ptrdiff_t out_step, std::size_t positions,
                     std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_channels_run_f32(terms, in, w, in_step, bias, out, out_step, positions, count);
  else
    dw_channels_run_f64(terms, in, w, in_step, bias, out, out_step, positions, count);
}
template <class T>
void dw_gather(std::size_t terms, const T* const* in, const T* const* w, const T* bias, T* out,
               std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_gather_f32(terms, in, w, bias, out, count);
  else
    dw_gather_f64(terms, in, w, bias, out, count);
}
template <class T>
void strided_copy_rows(const T* in, const std::int64_t* in_off, std::ptrdiff_t step, T* out,
                       const std::int64_t* out_off, std::size_t rows, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    strided_copy_rows_f32(in, in_off, step, out, out_off, rows, count);
  else
    strided_copy_rows_f64(in, in_off, step, out, out_off, rows, count);
}
template <class T>
void dw_rows(std::size_t taps, const T* const* in, const T* w, T bias, std::size_t rows,
             std::ptrdiff_t in_pitch, T* out, std::ptrdiff_t out_pitch, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_rows_f32(taps, in, w, bias, rows, in_pitch, out, out_pitch, count);
  else
    dw_rows_f64(taps, in, w, bias, rows, in_pitch, out, out_pitch, count);
}
template <class T>
void dw_dots(std::size_t taps, const T* const* in, std::ptrdiff_t in_pitch, const T* g,
             std::ptrdiff_t g_pitch, std::size_t rows, std::size_t count, T* acc) {
  if constexpr (sizeof(T) == 4)
    dw_dots_f32(taps, in, in_pitch, g, g_pitch, rows, count, acc);
  else
    dw_dots_f64(taps, in, in_pitch, g, g_pitch, rows, count, acc);
}
template <class T>
void dw_pair_rows(std::size_t na, const T* const* a, const T* wa, std::size_t nb, const T* const* b,
                  const T* wb, T bias, std::size_t rows, std::ptrdiff_t in_pitch, T* out,
                  std::ptrdiff_t out_pitch, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_pair_rows_f32(na, a, wa, nb, b, wb, bias, rows, in_pitch, out, out_pitch, count);
  else
    dw_pair_rows_f64(na, a, wa, nb, b, wb, bias, rows, in_pitch, out, out_pitch, count);
}
template <class T>
void interleave_rows(const T* even, const T* odd, const std::int64_t* in_off, T* out,
                     const std::int64_t* out_off, std::size_t rows, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    interleave_rows_f32(even, odd, in_off, out, out_off, rows, count);
  else
    interleave_rows_f64(even, odd, in_off, out, out_off, rows, count);
}
template <class T>
void deinterleave_rows(const T* in, const std::int64_t* in_off, T* out_even, T* out_odd,
                       const std::int64_t* out_off, std::size_t rows, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    deinterleave_rows_f32(in, in_off, out_even, out_odd, out_off, rows, count);
  else
    deinterleave_rows_f64(in, in_off, out_even, out_odd, out_off, rows, count);
}
template <class T>
T dot(const T* a, const T* b, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    return dot_f32(a, b, count);
  else
    return dot_f64(a, b, count);
}

template <class T>
void dw_channels(std::size_t taps, const T* const* in, const T* w, std::size_t w_stride,
                 const T* bias, T* out, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_channels_f32(taps, in, w, w_stride, bias, out, count);
  else
    dw_channels_f64(taps, in, w, w_stride, bias, out, count);
}
template <class T>
void dw_row(std::size_t taps, const T* const* in, const T* w, T bias, T* out, std::size_t count) {
  if constexpr (sizeof(T) == 4)
    dw_row_f32(taps, in, w, bias, out, count);
  else
    dw_row_f64(taps, in, w, bias, out, count);
}

}  // namespace convnd::kernels
