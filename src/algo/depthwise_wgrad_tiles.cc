// Depthwise weight gradient, channels-first with 16 or more channels: per block of channels,
// image by image, x and dy are transposed channels-last into tiles in the thread's slot
// (kernels::transpose: 16 x 16 register blocks) and accumulated there as channel vectors by
// kernels::dw_weights_taps, a kernel row's tap sums in registers along each output row's
// interior. The planes (weights_plane) dot rows of 14-28 outputs, mostly scalar tails at a
// stride of 2; depthwise_wgrad's transposes of the whole x and dy stream them through memory
// (docs/measurements.md), where a block's tiles stay in L2.
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

// dw[c, t] for channels [c0, c0 + cn): per (tap, channel), the sum runs over the images in
// order, within one over the output rows in order, within a row over the interior columns
// (whose taps all read inside the input along the last axis) and then the border columns in
// order; taps in zero padding are skipped. A fixed order, whatever the thread count.
template <class T>
void DepthwiseExecutor<T>::weights_tiles(const OpArgs& args, dim_t block, dim_t group, T* acc,
                                         char* slot) const {
  const int d = g_.rank(), last = d - 1;
  const dim_t cb = tile_channels_, c0 = block * cb, cn = std::min(cb, g_.C - c0);
  const auto &xs = args.a.strides, &ys = args.b.strides;
  char* tiles = slot + (slot_bytes_ - tile_bytes_);
  tiles += (kTileBytes - reinterpret_cast<std::uintptr_t>(tiles) % kTileBytes) % kTileBytes;
  T* xt = reinterpret_cast<T*>(tiles);
  T* yt = xt + tile_in_elems_ + (cb - tile_in_elems_ % cb) % cb;
  std::fill_n(acc, taps_ * cb, T(0));
  const dim_t pin = tile_in_elems_ / cb;
  const dim_t W = g_.out[last], KW = g_.kernel[last], kernel_rows = taps_ / KW;
  const dim_t s = g_.stride[last], lo = g_.lo[last], dil = g_.dil[last];
  const dim_t xl = tile_in_strides_[2 + last];  // == cb
  // Output columns [jl, jr) read only inside the input along the last axis (as
  // run_channels_last's runs).
  const dim_t jl = std::clamp<dim_t>((lo + s - 1) / s, 0, W);
  const dim_t right = g_.in[last] - 1 + lo - (KW - 1) * dil;
  const dim_t jr = right < 0 ? 0 : std::min(W, right / s + 1);
  const auto C = static_cast<std::size_t>(cn);
  const auto step = static_cast<std::size_t>(cb);
  SmallIndex o_buf(d), t_buf(d);
  dim_t *o = o_buf.data(), *t = t_buf.data();
  const dim_t n0 = g_.N * group / wgrad_groups_, n1 = g_.N * (group + 1) / wgrad_groups_;
  for (dim_t n = n0; n < n1; ++n) {
    kernels::transpose<T>(C, static_cast<std::size_t>(pin),
                          static_cast<const T*>(args.a.data) + n * xs[0] + c0 * xs[1], xs[1], xt,
                          cb);
    kernels::transpose<T>(C, static_cast<std::size_t>(positions_),
                          static_cast<const T*>(args.b.data) + n * ys[0] + c0 * ys[1], ys[1], yt,
                          cb);
    std::fill_n(o, d, dim_t{0});
    for (dim_t row = 0; row < positions_ / W; ++row, next_index(o, g_.out, last)) {
      const T* dy = yt + row * W * cb;
      std::fill_n(t, d, dim_t{0});
      for (dim_t r = 0; r < kernel_rows; ++r, next_index(t, g_.kernel, last)) {
        dim_t off = 0;
        for (int a = 0; a < last && off != kNoSample; ++a) {
          const dim_t m = pad_index(a, o[a] * g_.stride[a] + t[a] * g_.dil[a]);
          off = m < 0 ? kNoSample : off + m * tile_in_strides_[2 + a];
        }
        if (off == kNoSample) continue;
        T* acc_row = acc + r * KW * cb;
        const T* x = xt + off;
        if (jr > jl)
          dw_.dw_weights_taps(static_cast<std::size_t>(KW), x + (jl * s - lo) * xl,
                              static_cast<std::ptrdiff_t>(dil * xl),
                              static_cast<std::ptrdiff_t>(s * xl), dy + jl * cb,
                              static_cast<std::ptrdiff_t>(cb), static_cast<std::size_t>(jr - jl),
                              acc_row, step, C);
        for (dim_t j = 0; j < W; ++j) {
          if (j >= jl && j < jr) continue;
          // A border column's taps inside the input, [ka, kb), are consecutive samples dil
          // apart: one call for them (a call per tap was most of a 5x5 layer's border time);
          // the others one by one where the mode maps them inside. Each tap's sum still adds
          // the columns in order.
          const dim_t q0 = j * s - lo, in = g_.in[last];
          const dim_t ka = q0 >= 0 ? 0 : std::min(KW, (-q0 + dil - 1) / dil);
          const dim_t kb = q0 >= in ? ka : std::max(ka, std::min(KW, (in - 1 - q0) / dil + 1));
          if (kb > ka)
            dw_.dw_weights_taps(static_cast<std::size_t>(kb - ka), x + (q0 + ka * dil) * xl,
                                static_cast<std::ptrdiff_t>(dil * xl), 0, dy + j * cb, 0, 1,
                                acc_row + ka * cb, step, C);
          for (dim_t k = 0; k < KW; ++k) {
            if (k >= ka && k < kb) continue;
            const dim_t m = pad_index(last, j * s + k * dil);
            if (m < 0) continue;
            dw_.dw_weights_taps(1, x + m * xl, 0, 0, dy + j * cb, 0, 1, acc_row + k * cb, step, C);
          }
        }
      }
    }
  }
}

// The member above for both element types (the class is declared in depthwise_executor.h).
template void DepthwiseExecutor<float>::weights_tiles(const OpArgs& args, dim_t block, dim_t group,
                                                      float* acc, char* slot) const;
template void DepthwiseExecutor<double>::weights_tiles(const OpArgs& args, dim_t block, dim_t group,
                                                       double* acc, char* slot) const;

}  // namespace convnd::detail::depthwise
