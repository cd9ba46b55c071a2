// Depthwise forward over channel vectors (channels-last input, or a channels-first tile
// transposed channels-last by run_tiles): runs along each output row, borders one at a time.
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

// Positions [p0, p1) of image n, channels-last. Along each output row,
// the run of positions whose taps all read inside the input along the last axis goes to
// kernels::dw_channels_taps or dw_channels_run (taps in zero-padded rows dropped, the others
// stepping by stride * channel stride); the border positions, one at a time, to dw_gather
// with only the taps inside the input. Which path a position takes depends on the geometry
// and the fixed task only, never on the thread count.
// x, y: image n's input and output, channels-last (xs[1] == 1; ys[1] == 1 or not) with
// strides xs, ys; channels [c0, c0 + cn) of wt and bias (the tiles of run_tiles pass a block
// of channels, the others all of them).
template <class T>
void DepthwiseExecutor<T>::run_channels_last(const T* x, const std::vector<dim_t>& xs, T* y,
                                             const std::vector<dim_t>& ys, const T* wt,
                                             const T* bias, dim_t c0, dim_t cn, dim_t p0, dim_t p1,
                                             char* slot) const {
  const int d = g_.rank(), last = d - 1;
  const T** ptrs = reinterpret_cast<const T**>(slot);
  const T** wptrs = ptrs + taps_;
  // Per kernel row (every tap of the outer axes): the input offset of its samples' outer
  // coordinates for the current output row, kNoSample where they fall in zero padding. Built
  // once per output row: building every tap's offset over every axis for each border
  // position was a quarter of a 7x7 layer's time.
  dim_t* row_off = reinterpret_cast<dim_t*>(ptrs + 2 * taps_);
  T* row = reinterpret_cast<T*>(slot + ptr_bytes());
  wt += c0;
  bias += c0;
  const dim_t s = g_.stride[last], lo = g_.lo[last], dil = g_.dil[last];
  const dim_t KW = g_.kernel[last], kernel_rows = taps_ / KW, xl = xs[2 + last];
  // Output columns [jl, jr) read only inside the input along the last axis.
  const dim_t jl = (lo + s - 1) / s;
  const dim_t right = g_.in[last] - 1 + lo - (KW - 1) * dil;
  const dim_t jr = right < 0 ? 0 : std::min(g_.out[last], right / s + 1);
  SmallIndex o_buf(d), t_buf(d);  // no heap allocation per task
  dim_t *o = o_buf.data(), *t = t_buf.data();
  dim_t rem = p0;
  for (int a = d - 1; a >= 0; --a) o[a] = rem % g_.out[a], rem /= g_.out[a];
  auto fill_rows = [&] {
    std::fill_n(t, d, dim_t{0});
    for (dim_t r = 0; r < kernel_rows; ++r) {
      dim_t off = 0;
      for (int a = 0; a < last && off != kNoSample; ++a) {
        const dim_t m =
            map_padded_index(o[a] * g_.stride[a] - g_.lo[a] + t[a] * g_.dil[a], g_.in[a], g_.mode);
        off = m < 0 ? kNoSample : off + m * xs[2 + a];
      }
      row_off[r] = off;
      next_index(t, g_.kernel, last);
    }
  };
  fill_rows();
  for (dim_t p = p0; p < p1;) {
    dim_t yo = 0;
    for (int a = 0; a < d; ++a) yo += o[a] * ys[2 + a];
    const dim_t run =
        ys[1] == 1 && o[last] >= jl && o[last] < jr ? std::min(jr - o[last], p1 - p) : 0;
    const dim_t q0 = o[last] * s - lo;  // padded coordinate of the position's first tap
    if (run > 1) {
      // Every tap of a kept kernel row reads inside the input along the last axis; taps in
      // zero-padded rows are dropped (the sums run over the kept taps in tap order).
      std::size_t terms = 0;
      for (dim_t r = 0; r < kernel_rows; ++r) {
        if (row_off[r] == kNoSample) continue;
        const T* base = x + row_off[r] + q0 * xl;
        if (taps_rows_) {
          // One pointer per kernel row, its taps dil * channel stride apart
          // (kernels::dw_channels_taps).
          ptrs[terms] = base;
          wptrs[terms++] = wt + r * KW * g_.C;
          continue;
        }
        for (dim_t k = 0; k < KW; ++k) {
          ptrs[terms] = base + k * dil * xl;
          wptrs[terms++] = wt + (r * KW + k) * g_.C;
        }
      }
      if (taps_rows_) {
        dw_.dw_channels_taps(terms, ptrs, wptrs, static_cast<std::size_t>(KW),
                             static_cast<std::size_t>(g_.C), static_cast<std::ptrdiff_t>(dil * xl),
                             static_cast<std::ptrdiff_t>(s * xl), bias, y + yo,
                             static_cast<std::ptrdiff_t>(ys[2 + last]),
                             static_cast<std::size_t>(run), static_cast<std::size_t>(cn));
      } else {
        dw_.dw_channels_run(terms, ptrs, wptrs, static_cast<std::ptrdiff_t>(s * xl), bias, y + yo,
                            static_cast<std::ptrdiff_t>(ys[2 + last]),
                            static_cast<std::size_t>(run), static_cast<std::size_t>(cn));
      }
      p += run;
      o[last] += run;
      if (o[last] == g_.out[last]) {
        o[last] = 0;
        next_index(o, g_.out, last);
        fill_rows();
      }
      continue;
    }
    // One position: only the taps that read inside the input, each with its weight vector
    // (taps in zero padding contribute nothing; multiplying a zero vector for them was up to
    // 40 % of a border position's FMAs at 5x5).
    std::size_t terms = 0;
    for (dim_t r = 0; r < kernel_rows; ++r) {
      if (row_off[r] == kNoSample) continue;
      for (dim_t k = 0; k < KW; ++k) {
        const dim_t m = map_padded_index(q0 + k * dil, g_.in[last], g_.mode);
        if (m < 0) continue;
        ptrs[terms] = x + row_off[r] + m * xl;
        wptrs[terms++] = wt + (r * KW + k) * g_.C;
      }
    }
    T* out = ys[1] == 1 ? y + yo : row;
    dw_.dw_gather(terms, ptrs, wptrs, bias, out, static_cast<std::size_t>(cn));
    if (out == row)
      for (dim_t c = 0; c < cn; ++c) y[yo + c * ys[1]] = row[c];
    ++p;
    if (++o[last] == g_.out[last]) {
      o[last] = 0;
      next_index(o, g_.out, last);
      fill_rows();
    }
  }
}

// The members above for both element types (the class is declared in depthwise_executor.h).
template void DepthwiseExecutor<float>::run_channels_last(
    const float* x, const std::vector<dim_t>& xs, float* y, const std::vector<dim_t>& ys,
    const float* wt, const float* bias, dim_t c0, dim_t cn, dim_t p0, dim_t p1, char* slot) const;
template void DepthwiseExecutor<double>::run_channels_last(
    const double* x, const std::vector<dim_t>& xs, double* y, const std::vector<dim_t>& ys,
    const double* wt, const double* bias, dim_t c0, dim_t cn, dim_t p0, dim_t p1, char* slot) const;

}  // namespace convnd::detail::depthwise
