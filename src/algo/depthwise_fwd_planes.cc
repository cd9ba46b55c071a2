// Depthwise forward on planes: one (image, channel) plane at a time, padded and phase-split by
// build_plane, its rows through kernels::dw_rows or one wide kernels::dw_row run per slice.
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

template <class T>
void DepthwiseExecutor<T>::run_plane(const OpArgs& args, const T* wc, const T* bias, dim_t n,
                                     dim_t c, char* slot) const {
  const int d = g_.rank(), last = d - 1;
  const T** shifted = reinterpret_cast<const T**>(slot);
  const auto* tables = reinterpret_cast<const dim_t*>(slot + ptr_bytes());
  T* plane = reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_);
  const auto &xs = args.a.strides, &ys = args.out.strides;
  const T* x = static_cast<const T*>(args.a.data) + n * xs[0] + c * xs[1];
  build_plane(x, xs[2 + last], tables, plane);
  SmallIndex o_buf(d);
  dim_t* o = o_buf.data();
  T* y = static_cast<T*>(args.out.data) + n * ys[0] + c * ys[1];
  // With two or more axes, all output rows of a 2-D slice are one dw_row call over a "wide"
  // output: tap t reads output (r, j) at plane + tap_off_[t] + r * J + j (consecutive output
  // rows read consecutive stored rows of the tap's phases), so one contiguous run covers the
  // slice, computing J - cols throw-away values between the rows' ends instead of one short
  // call, mostly a scalar tail, per row. Then the valid columns are copied out. One axis: one
  // row.
  const int ra = d >= 2 ? d - 2 : last;  // the axis whose rows a call covers
  const dim_t rows = d >= 2 ? g_.out[ra] : 1, cols = g_.out[last];
  const dim_t pitch = J_;
  const dim_t group = std::min(rows, 1 + (wide_elems_ - cols) / pitch);  // rows per dw_row call
  T* wide = plane + plane_bytes_ / sizeof(T);
  const dim_t* wide_off = tables + g_.stride[last] * J_ + 2 * outer_rows_;
  const dim_t* y_off = wide_off + rows;
  const dim_t slices = positions_ / (rows * cols);
  const int outer_axes = d >= 2 ? d - 2 : 0;
  for (int a = 0; a < d; ++a) o[a] = 0;
  for (dim_t sl = 0; sl < slices; ++sl) {
    // The slice's first stored row, for output rows o of the outer axes: tap_off_ is linear in
    // the stored row (run_start), so the slice only shifts every tap's run.
    const auto [R, yo] = slice_start(o, outer_axes, ys);
    if (direct_rows_ && ys[2 + last] == 1) {
      // Straight into the output, row by row (see direct_rows_).
      for (dim_t tap = 0; tap < taps_; ++tap) shifted[tap] = plane + R * pitch + tap_off_[tap];
      dw_.dw_rows(static_cast<std::size_t>(taps_), shifted, wc + c * taps_, bias[c],
                  static_cast<std::size_t>(rows), static_cast<std::ptrdiff_t>(pitch), y + yo,
                  static_cast<std::ptrdiff_t>(d >= 2 ? ys[2 + ra] : 0),
                  static_cast<std::size_t>(cols));
      next_index(o, g_.out, outer_axes);
      continue;
    }
    for (dim_t r0 = 0; r0 < rows; r0 += group) {
      const dim_t nr = std::min(group, rows - r0);
      const T* base = plane + (R + r0) * pitch;
      for (dim_t tap = 0; tap < taps_; ++tap) shifted[tap] = base + tap_off_[tap];
      dw_.dw_row(static_cast<std::size_t>(taps_), shifted, wc + c * taps_, bias[c], wide,
                 static_cast<std::size_t>((nr - 1) * pitch + cols));
      T* y0 = y + yo + (d >= 2 ? r0 * ys[2 + ra] : 0);
      if (ys[2 + last] == 1) {
        kernels::strided_copy_rows<T>(wide, wide_off, 1, y0, y_off, static_cast<std::size_t>(nr),
                                      static_cast<std::size_t>(cols));
      } else {
        for (dim_t r = 0; r < nr; ++r)
          for (dim_t j = 0; j < cols; ++j) y0[y_off[r] + j * ys[2 + last]] = wide[r * pitch + j];
      }
    }
    next_index(o, g_.out, outer_axes);
  }
}

// The members above for both element types (the class is declared in depthwise_executor.h).
template void DepthwiseExecutor<float>::run_plane(const OpArgs& args, const float* wc,
                                                  const float* bias, dim_t n, dim_t c,
                                                  char* slot) const;
template void DepthwiseExecutor<double>::run_plane(const OpArgs& args, const double* wc,
                                                   const double* bias, dim_t n, dim_t c,
                                                   char* slot) const;

}  // namespace convnd::detail::depthwise
