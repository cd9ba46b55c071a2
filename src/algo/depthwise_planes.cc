// The planes' layout shared by the plane paths of the depthwise executor: the constructor
// (stored layout, per-tap run starts, slot sizes), the padding table, and each thread's
// tables and the padded, phase-split copy of one (image, channel) plane (build_plane).
// See depthwise_executor.h for the design.
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

template <class T>
DepthwiseExecutor<T>::DepthwiseExecutor(const Geometry& g, Op op)
    : g_(g), op_(op), slots_(thread_slots()) {
  const int d = g.rank();
  // Sizes checked although reject() bounds them: a size that wrapped would under-allocate.
  const char* ws = "workspace";
  taps_ = checked_product(g.kernel, "kernel");
  positions_ = checked_product(g.out, "output");
  // Stored layout of a plane: [last-axis phase][outer rows][J], the outer rows in padded order
  // except the row axis (d - 2), stored phase by phase (Jr rows each).
  const int last = d - 1;
  ra_ = d >= 2 ? d - 2 : -1;
  const dim_t e_last = padded_extent(g, last);  // ceil(e / s) without e + s - 1 overflowing
  J_ = e_last / g.stride[last] + (e_last % g.stride[last] != 0);
  stored_.resize(d);
  for (int a = 0; a < last; ++a) {
    const dim_t e = padded_extent(g, a);
    stored_[a] =
        a == ra_ ? checked_mul(g.stride[a], e / g.stride[a] + (e % g.stride[a] != 0), ws) : e;
  }
  row_stride_.assign(d, 0);
  dim_t rows = 1;
  for (int a = last - 1; a >= 0; --a) {
    row_stride_[a] = rows;
    rows = checked_mul(rows, stored_[a], ws);
  }
  phase_size_ = checked_mul(rows, J_, ws);
  // Per last-axis phase p, the stored columns [jl, jr) whose padded coordinate p + s * j lies
  // inside the input, [max(lo, 0), min(E, lo + S)): identity-mapped whatever the mode.
  {
    const dim_t s = g.stride[last], lo = g.lo[last], S = g.in[last];
    const dim_t q0 = std::max<dim_t>(lo, 0);
    const dim_t q1 = lo >= e_last ? q0 : (S >= e_last - lo ? e_last : lo + S);
    interior_q0_ = q0;
    interior_count_ = q1 - q0;
    for (dim_t p = 0; p < s; ++p) {
      const dim_t jl = q0 <= p ? 0 : (q0 - p + s - 1) / s;
      const dim_t jr = q1 <= p ? 0 : std::min(J_, (q1 - p + s - 1) / s);
      interior_.push_back(jl);
      interior_.push_back(std::max(jl, jr));
    }
  }
  plane_ = checked_mul(phase_size_, g.stride[last], ws);
  for (int a = 0; a < d; ++a) E_.push_back(padded_extent(g, a));
  // Stored rows that no padded coordinate fills: row-axis phase p holds ceil((E - p) / sr)
  // rows of its Jr, for every combination of the axes before the row axis.
  if (ra_ >= 0 && E_[ra_] != stored_[ra_]) {
    const dim_t sr = g.stride[ra_], Jr = stored_[ra_] / sr;
    dim_t combos = 1;
    for (int a = 0; a < ra_; ++a) combos *= E_[a];
    for (dim_t k = 0; k < combos; ++k) {
      dim_t base = 0, rem = k;
      for (int a = ra_ - 1; a >= 0; --a) base += (rem % E_[a]) * row_stride_[a], rem /= E_[a];
      for (dim_t p = 0; p < sr; ++p)
        for (dim_t idx = (E_[ra_] - p + sr - 1) / sr; idx < Jr; ++idx)
          tail_rows_.push_back(base + p * Jr + idx);
    }
  }
  // Where each tap's run starts in the plane for the first output of a slice (see run_plane).
  {
    std::vector<dim_t> t(d, 0);
    for (dim_t tap = 0; tap < taps_; ++tap) {
      dim_t R = 0;
      for (int a = 0; a < last; ++a)
        R = checked_add(
            R, checked_mul(stored_row(a, checked_mul(t[a], g.dil[a], ws)), row_stride_[a], ws), ws);
      tap_off_.push_back(run_start(R, checked_mul(t[last], g.dil[last], ws)));
      next_index(t, g.kernel, d);
    }
  }
  // (+ kAlignSlack: channels-last places the weights and the bias at the input's offset within
  // a cache line, see run())
  shared_bytes_ = checked_size_add(
      checked_size_add(checked_bytes64(checked_mul(g.C, taps_, ws), sizeof(T), ws),
                       checked_size_mul(2, checked_bytes64(g.C, sizeof(T), ws), ws), ws),
      kAlignSlack, ws);
  // The row buffer doubles as build_plane's tables (prepare_slot): a padded row of last-axis
  // offsets and two entries per padded outer row (at most `rows`, the stored ones).
  const dim_t last_row = checked_mul(g.stride.back(), J_, ws);
  outer_rows_ = 1;
  for (int a = 0; a < last; ++a) outer_rows_ = checked_mul(outer_rows_, E_[a], ws);
  row_bytes_ = std::max(
      checked_bytes64(std::max(g.C, g.out.back()), sizeof(T), ws),
      checked_bytes64(checked_add(checked_add(last_row, checked_mul(2, outer_rows_, ws), ws),
                                  checked_mul(2, d >= 2 ? g.out[d - 2] : 1, ws), ws),
                      sizeof(dim_t), ws));
  valid_rows_ = 0;
  {
    std::vector<dim_t> e(d, 0);
    for (dim_t r = 0; r < outer_rows_; ++r) {
      bool inside = true;
      for (int a = 0; a < last; ++a)
        inside = inside && map_padded_index(e[a] - g.lo[a], g.in[a], g.mode) >= 0;
      valid_rows_ += inside;
      next_index(e, E_, last);
    }
  }
  plane_bytes_ = checked_bytes64(std::max(plane_, taps_), sizeof(T), ws);
  // The plane, then the wide output of a group of a slice's rows: a few L1-sized runs rather
  // than the whole slice, so the copy-out reads from cache and a large image's workspace is
  // one plane, not two (fresh pages cost a fault each).
  wide_elems_ = std::max(kWideElems, g.out.back());
  // Rows longer than one AVX-512 vector go straight to the output (kernels::dw_rows); shorter
  // ones (a stride-2 layer's 14) are one wide run and a copy-out, measured a little faster
  // there (docs/measurements.md), where a row is one masked vector with 2 of 16 lanes idle.
  direct_rows_ = g.out.back() > 16;
  // Channels-last runs whose kernel rows share input vectors between taps and positions
  // (kernels::dw_channels_taps: 3, 5 or 7 taps along the row, stride 1 or 2 times the
  // dilation); other rows list every tap for dw_channels_run.
  {
    const dim_t kw = g.kernel[last], s = g.stride[last], dil = g.dil[last];
    taps_rows_ = (kw == 3 || kw == 5 || kw == 7) && (s == dil || s == 2 * dil);
  }
  // Consecutive planes per task: a thread then streams ~32K samples of input and output in
  // order, where one plane per task had two threads taking every other plane (nearly 2x on a
  // stride-2 layer: docs/measurements.md); at least 16 tasks remain
  // for the threads to balance. A function of the problem only, never of the thread count.
  {
    dim_t in_plane = 1;
    for (dim_t e : g.in) in_plane = std::min<dim_t>(checked_mul(in_plane, e, ws), dim_t{1} << 20);
    const dim_t planes = checked_mul(g.N, g.C, ws);
    planes_per_task_ = std::clamp<dim_t>(dim_t{32768} / std::max<dim_t>(in_plane, 1), 1, 64);
    planes_per_task_ = std::max<dim_t>(1, std::min(planes_per_task_, planes / 16));
    // The weight gradient's tasks are channels (each summing over every image): blocks of
    // as many, keeping 16 tasks.
    channels_per_task_ = std::clamp<dim_t>(std::min(planes_per_task_, g.C / 16), 1, 64);
  }
  // Backward data on planes: its dy layout and fold tables (depthwise_bwd_data_planes.cc).
  if (op == Op::bwd_data) plan_bwd_data(g);
  // Then weights_plane's per-tap sums of a block of channels.
  slot_bytes_ = checked_size_add(
      checked_size_add(checked_size_add(ptr_bytes(), row_bytes_, ws), plane_bytes_, ws),
      checked_bytes64(checked_add(wide_elems_, checked_mul(taps_, channels_per_task_, ws), ws),
                      sizeof(T), ws),
      ws);
  plan_tiles(g, op);
  slot_bytes_ = checked_size_add(slot_bytes_, tile_bytes_, ws);
  workspace_bytes_ = checked_size_add(
      shared_bytes_, checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
}

template <class T>
void DepthwiseExecutor<T>::build_table() const {
  std::vector<std::vector<dim_t>> table(g_.rank());  // assigned whole: a throw leaves none
  for (int a = 0; a < g_.rank(); ++a) {
    const dim_t e = padded_extent(g_, a);
    table[a].reserve(static_cast<std::size_t>(e));
    for (dim_t q = 0; q < e; ++q)
      table[a].push_back(map_padded_index(q - g_.lo[a], g_.in[a], g_.mode));
  }
  pad_table_ = std::move(table);
}

// The tables build_plane and run_plane read, in a slot's row area; they depend on the
// geometry and the views' strides only, so a thread fills them once per run (a stride-2
// plane is ~900 samples, and per-plane index arithmetic was most of its build):
//  - last_src[s * J_]: the source offset of every padded coordinate along the last axis
//    (kNoSample: zero), in the phase-split order;
//  - row_src[outer_rows_], row_dst[outer_rows_]: the padded outer rows that read the input
//    first (valid_rows_ of them: source offset, stored row times J_), then the zero rows
//    (row_dst only);
//  - wide_off[out rows], y_off[out rows]: row r of a wide run and of the output.
// With zero padding every sample outside the input is a zero in every plane, so the plane is
// zeroed here once and build_plane copies only the samples inside the input.
template <class T>
void DepthwiseExecutor<T>::prepare_slot(const std::vector<dim_t>& xs, const std::vector<dim_t>& ys,
                                        dim_t* tables, T* plane) const {
  const int d = g_.rank(), last = d - 1;
  const dim_t s = g_.stride[last];
  dim_t* last_src = tables;
  for (dim_t q = 0; q < E_[last]; ++q) {
    const dim_t m = pad_index(last, q);
    last_src[(q % s) * J_ + q / s] = m < 0 ? kNoSample : m * xs[2 + last];
  }
  for (dim_t j = E_[last]; j < s * J_; ++j) last_src[(j % s) * J_ + j / s] = kNoSample;
  dim_t* row_src = tables + s * J_;
  dim_t* row_dst = row_src + outer_rows_;
  SmallIndex e_buf(d);
  dim_t* e = e_buf.data();
  for (int a = 0; a < d; ++a) e[a] = 0;
  dim_t valid = 0, zero = valid_rows_;
  for (dim_t r = 0; r < outer_rows_; ++r) {
    dim_t base = 0, R = 0;
    for (int a = 0; a < last && base != kNoSample; ++a) {
      const dim_t m = pad_index(a, e[a]);
      base = m < 0 ? kNoSample : base + m * xs[2 + a];
    }
    for (int a = 0; a < last; ++a) R += stored_row(a, e[a]) * row_stride_[a];
    const dim_t k = base == kNoSample ? zero++ : valid++;
    row_src[k] = base;
    row_dst[k] = R * J_;
    next_index(e, E_, last);
  }
  const int ra = d >= 2 ? d - 2 : last;
  const dim_t out_rows = d >= 2 ? g_.out[ra] : 1;
  dim_t* wide_off = row_dst + outer_rows_;
  dim_t* y_off = wide_off + out_rows;
  for (dim_t r = 0; r < out_rows; ++r) {
    wide_off[r] = r * J_;
    y_off[r] = d >= 2 ? r * ys[2 + ra] : 0;
  }
  if (g_.mode == PadMode::zeros) std::fill_n(plane, plane_, T(0));
}

// Copies plane x (one image and channel) into `plane`, padded by the mode to the extents the
// taps read, in the stored layout (see the constructor): last-axis phases as sub-planes of
// phase_size_ samples, the row axis's phases as blocks of rows. `tables` and `plane` were
// prepared by prepare_slot() in this run.
template <class T>
void DepthwiseExecutor<T>::build_plane(const T* x, dim_t last_stride, const dim_t* tables,
                                       T* plane) const {
  const int last = g_.rank() - 1;
  const dim_t s = g_.stride[last];
  const dim_t* last_src = tables;
  const dim_t* row_src = tables + s * J_;
  const dim_t* row_dst = row_src + outer_rows_;
  const bool zeros = g_.mode == PadMode::zeros;  // then only the inside changes
  if (!zeros) {
    // Stored rows that no padded coordinate fills (the row axis's last phases may be shorter)
    // are zeroed, so the throw-away outputs of a wide run read defined values.
    for (dim_t R : tail_rows_)
      for (dim_t q = 0; q < s; ++q) std::fill_n(plane + q * phase_size_ + R * J_, J_, T(0));
  }
  const auto step = static_cast<std::ptrdiff_t>(s * last_stride);
  // Stride 2 over dense rows: both phases from one pass over each row (the samples from
  // padded coordinate q0 on: even ones to phase q0 % 2, odd ones to the other).
  const bool pairs = s == 2 && last_stride == 1 && interior_count_ > 0;
  if (pairs) {
    const dim_t p0 = interior_q0_ % 2, p1 = 1 - p0;
    kernels::deinterleave_rows<T>(
        x + last_src[p0 * J_ + interior_[2 * p0]], row_src,
        plane + p0 * phase_size_ + interior_[2 * p0], plane + p1 * phase_size_ + interior_[2 * p1],
        row_dst, static_cast<std::size_t>(valid_rows_), static_cast<std::size_t>(interior_count_));
  }
  for (dim_t p = 0; p < s; ++p) {
    // The samples inside the input are every s-th of each source row: one strided copy per
    // phase over all rows (vector copies at s = 1 and 2); with a padding mode other than
    // zeros the padded ends of each row come from the offset table.
    const dim_t* off = last_src + p * J_;
    const dim_t jl = interior_[2 * p], jr = interior_[2 * p + 1];
    T* phase = plane + p * phase_size_;
    if (jr > jl && !pairs)
      kernels::strided_copy_rows<T>(x + off[jl], row_src, step, phase + jl, row_dst,
                                    static_cast<std::size_t>(valid_rows_),
                                    static_cast<std::size_t>(jr - jl));
    if (zeros) continue;
    for (dim_t r = 0; r < valid_rows_; ++r) {
      const T* src = x + row_src[r];
      T* dst = phase + row_dst[r];
      for (dim_t j = 0; j < jl; ++j) dst[j] = off[j] == kNoSample ? T(0) : src[off[j]];
      for (dim_t j = jr; j < J_; ++j) dst[j] = off[j] == kNoSample ? T(0) : src[off[j]];
    }
    for (dim_t r = valid_rows_; r < outer_rows_; ++r) std::fill_n(phase + row_dst[r], J_, T(0));
  }
}

// The members above for both element types (the class is declared in depthwise_executor.h).
template DepthwiseExecutor<float>::DepthwiseExecutor(const Geometry& g, Op op);
template DepthwiseExecutor<double>::DepthwiseExecutor(const Geometry& g, Op op);
template void DepthwiseExecutor<float>::build_table() const;
template void DepthwiseExecutor<double>::build_table() const;
template void DepthwiseExecutor<float>::prepare_slot(const std::vector<dim_t>& xs,
                                                     const std::vector<dim_t>& ys, dim_t* tables,
                                                     float* plane) const;
template void DepthwiseExecutor<double>::prepare_slot(const std::vector<dim_t>& xs,
                                                      const std::vector<dim_t>& ys, dim_t* tables,
                                                      double* plane) const;
template void DepthwiseExecutor<float>::build_plane(const float* x, dim_t last_stride,
                                                    const dim_t* tables, float* plane) const;
template void DepthwiseExecutor<double>::build_plane(const double* x, dim_t last_stride,
                                                     const dim_t* tables, double* plane) const;

}  // namespace convnd::detail::depthwise
