// Depthwise weight gradient: channel-vector accumulation per tap for channels-last views,
// otherwise per block of channels over planes built as for the forward pass (kernels::dw_dots).
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

// dw[c, t] = sum over images and output positions of dy[n, c, o] * x[n, c, sample(o, t)].
template <class T>
void DepthwiseExecutor<T>::run_weights(const OpArgs& args, void* workspace, int threads) const {
  auto* ws = static_cast<char*>(workspace);
  T* zeros = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_));
  std::fill(zeros, zeros + g_.C, T(0));
  const int n_threads = std::min(threads, slots_);
  auto slot = [&] {
    return ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
  };
  if (args.a.strides[1] == 1 && args.b.strides[1] == 1 && g_.C >= kChannelVectorMin) {
    // Channels-last: one task per tap, vectorised over channels.
    parallel_tasks(taps_, n_threads,
                   [&](dim_t tap) { weights_channels_last(args, zeros, tap, slot()); });
  } else if (tile_bytes_ > 0 && dense_planes(args.a.shape, args.a.strides) &&
             dense_planes(args.b.shape, args.b.strides)) {
    // Channels-first by tiles of channels (depthwise_wgrad_tiles.cc): a task per (group of
    // images, block of channels), each into its own partial sums; then dw[c, t] adds the
    // groups' partials in group order.
    const dim_t cb = tile_channels_, blocks = (g_.C + cb - 1) / cb;
    T* partial = reinterpret_cast<T*>(ws + wgrad_partials_);
    parallel_tasks(wgrad_groups_ * blocks, n_threads, [&](dim_t task) {
      weights_tiles(args, task % blocks, task / blocks, partial + task * taps_ * cb, slot());
    });
    T* dw = static_cast<T*>(args.out.data);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.out.strides);
    for (dim_t c = 0; c < g_.C; ++c)
      for (dim_t t = 0; t < taps_; ++t) {
        const T* p = partial + ((c / cb) * taps_ + t) * cb + c % cb;
        T sum = p[0];
        for (dim_t k = 1; k < wgrad_groups_; ++k) sum += p[k * blocks * taps_ * cb];
        dw[c * args.out.strides[0] + tap_off[t]] = sum;
      }
  } else {
    // Blocks of consecutive channels, image by image: a thread streams the block's planes in
    // order (see channels_per_task_); each channel's sums still run over images in order.
    const dim_t per = channels_per_task_;
    parallel_tasks((g_.C + per - 1) / per, n_threads, [&](dim_t task) {
      weights_plane(args, task * per, std::min(g_.C, (task + 1) * per), slot());
    });
  }
}

template <class T>
void DepthwiseExecutor<T>::weights_channels_last(const OpArgs& args, const T* zeros, dim_t tap,
                                                 char* slot) const {
  const int d = g_.rank();
  const T** a_ptr = reinterpret_cast<const T**>(slot);
  const T** b_ptr = a_ptr + kPositionsPerTask;
  T* acc = reinterpret_cast<T*>(slot + ptr_bytes());  // the row area: C elements
  std::fill(acc, acc + g_.C, T(0));
  std::vector<dim_t> t(d), o(d);
  dim_t rem = tap;
  for (int a = d - 1; a >= 0; --a) t[a] = rem % g_.kernel[a], rem /= g_.kernel[a];
  const auto &xs = args.a.strides, &ys = args.b.strides;
  for (dim_t n = 0; n < g_.N; ++n) {
    const T* x = static_cast<const T*>(args.a.data) + n * xs[0];
    const T* dy = static_cast<const T*>(args.b.data) + n * ys[0];
    std::fill(o.begin(), o.end(), 0);
    for (dim_t p0 = 0; p0 < positions_; p0 += kPositionsPerTask) {
      const dim_t count = std::min(kPositionsPerTask, positions_ - p0);
      for (dim_t i = 0; i < count; ++i) {
        dim_t xo = 0, yo = 0;
        for (int a = 0; a < d; ++a) {
          const dim_t m = xo == kNoSample
                              ? -1
                              : map_padded_index(o[a] * g_.stride[a] - g_.lo[a] + t[a] * g_.dil[a],
                                                 g_.in[a], g_.mode);
          xo = m < 0 ? kNoSample : xo + m * xs[2 + a];
          yo += o[a] * ys[2 + a];
        }
        a_ptr[i] = xo == kNoSample ? zeros : x + xo;
        b_ptr[i] = dy + yo;
        next_index(o, g_.out, d);
      }
      dw_.dw_accumulate(static_cast<std::size_t>(count), a_ptr, b_ptr, acc,
                        static_cast<std::size_t>(g_.C));
    }
  }
  T* dw = static_cast<T*>(args.out.data);
  dim_t wo = 0;
  for (int a = 0; a < d; ++a) wo += t[a] * args.out.strides[2 + a];
  for (dim_t c = 0; c < g_.C; ++c) dw[c * args.out.strides[0] + wo] = acc[c];
}

// dw[c, t] for one channel: per image, the plane is built as for the forward pass, and each
// 2-D slice's taps are dotted with its output-gradient rows (kernels::dw_dots: a tap's rows
// read the plane J_ apart, as run_plane's; 8 taps per pass over dy), adding into acc[t] in
// image and slice order.
template <class T>
void DepthwiseExecutor<T>::weights_plane(const OpArgs& args, dim_t c0, dim_t c1, char* slot) const {
  const int d = g_.rank(), last = d - 1;
  const T** shifted = reinterpret_cast<const T**>(slot);
  auto* tables = reinterpret_cast<dim_t*>(slot + ptr_bytes());
  T* plane = reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_);
  T* dense = plane + plane_bytes_ / sizeof(T);  // dy rows when the view's rows are strided
  T* accs = dense + wide_elems_;                // taps_ sums per channel of the block
  std::fill_n(accs, (c1 - c0) * taps_, T(0));
  const auto &xs = args.a.strides, &ys = args.b.strides;
  const int ra = d >= 2 ? d - 2 : last;
  const dim_t rows = d >= 2 ? g_.out[ra] : 1, cols = g_.out[last];
  const dim_t group = std::min(rows, std::max<dim_t>(1, wide_elems_ / cols));
  const int outer_axes = d >= 2 ? d - 2 : 0;
  const dim_t slices = positions_ / (rows * cols);
  SmallIndex o_buf(d);
  dim_t* o = o_buf.data();
  prepare_slot(xs, ys, tables, plane);
  for (dim_t nc = 0; nc < g_.N * (c1 - c0); ++nc) {  // image by image, channels in order
    const dim_t n = nc / (c1 - c0), c = c0 + nc % (c1 - c0);
    T* acc = accs + (c - c0) * taps_;
    build_plane(static_cast<const T*>(args.a.data) + n * xs[0] + c * xs[1], xs[2 + last], tables,
                plane);
    const T* dy = static_cast<const T*>(args.b.data) + n * ys[0] + c * ys[1];
    for (int a = 0; a < d; ++a) o[a] = 0;
    for (dim_t sl = 0; sl < slices; ++sl) {
      const auto [R, yo] = slice_start(o, outer_axes, ys);
      for (dim_t r0 = 0; r0 < rows; r0 += group) {
        const dim_t nr = std::min(group, rows - r0);
        const T* base = plane + (R + r0) * J_;
        for (dim_t tap = 0; tap < taps_; ++tap) shifted[tap] = base + tap_off_[tap];
        const T* g = dy + yo + (d >= 2 ? r0 * ys[2 + ra] : 0);
        dim_t g_pitch = d >= 2 ? ys[2 + ra] : 0;
        if (ys[2 + last] != 1) {  // gather the rows densely first
          for (dim_t r = 0; r < nr; ++r)
            for (dim_t j = 0; j < cols; ++j)
              dense[r * cols + j] = g[r * g_pitch + j * ys[2 + last]];
          g = dense;
          g_pitch = cols;
        }
        dw_.dw_dots(static_cast<std::size_t>(taps_), shifted, static_cast<std::ptrdiff_t>(J_), g,
                    static_cast<std::ptrdiff_t>(g_pitch), static_cast<std::size_t>(nr),
                    static_cast<std::size_t>(cols), acc);
      }
      next_index(o, g_.out, outer_axes);
    }
  }
  SmallIndex t_buf(d);
  dim_t* t = t_buf.data();
  for (dim_t c = c0; c < c1; ++c) {
    T* dw = static_cast<T*>(args.out.data) + c * args.out.strides[0];
    for (int a = 0; a < d; ++a) t[a] = 0;
    for (dim_t tap = 0; tap < taps_; ++tap) {
      dim_t wo = 0;
      for (int a = 0; a < d; ++a) wo += t[a] * args.out.strides[2 + a];
      dw[wo] = accs[(c - c0) * taps_ + tap];
      next_index(t, g_.kernel, d);
    }
  }
}

// The members above for both element types (the class is declared in depthwise_executor.h).
template void DepthwiseExecutor<float>::run_weights(const OpArgs& args, void* workspace,
                                                    int threads) const;
template void DepthwiseExecutor<double>::run_weights(const OpArgs& args, void* workspace,
                                                     int threads) const;
template void DepthwiseExecutor<float>::weights_channels_last(const OpArgs& args,
                                                              const float* zeros, dim_t tap,
                                                              char* slot) const;
template void DepthwiseExecutor<double>::weights_channels_last(const OpArgs& args,
                                                               const double* zeros, dim_t tap,
                                                               char* slot) const;
template void DepthwiseExecutor<float>::weights_plane(const OpArgs& args, dim_t c0, dim_t c1,
                                                      char* slot) const;
template void DepthwiseExecutor<double>::weights_plane(const OpArgs& args, dim_t c0, dim_t c1,
                                                       char* slot) const;

}  // namespace convnd::detail::depthwise
