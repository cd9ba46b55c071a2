// Depthwise backward data on channels-first planes (1-D and 2-D): each stride phase of the
// padded input gradient a dense correlation of dy, then folded onto dx by the padding mode.
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

// Backward data on planes: the dy layout behind its margin, each stride phase's taps, and the
// fold's tables (called by the constructor, after the planes' layout).
template <class T>
void DepthwiseExecutor<T>::plan_bwd_data(const Geometry& g) {
  const int d = g.rank(), last = d - 1;
  const char* ws = "workspace";
  // run_bwd_data: dy behind a margin of max off'_t, Jr rows of J_ (zero past dy's), then a
  // padded row and a dx row; the fold's lists of padded rows per input row.
  const dim_t sc = g.stride[last], sr = d == 2 ? g.stride[0] : 1;
  const dim_t Jr = d == 2 ? stored_[0] / sr : 1;
  bwd_margin_ =
      checked_add(checked_mul(d == 2 ? checked_mul(g.kernel[0] - 1, g.dil[0], ws) / sr : 0, J_, ws),
                  checked_mul(g.kernel[last] - 1, g.dil[last], ws) / sc, ws);
  bwd_dy_elems_ = checked_add(bwd_margin_, checked_mul(Jr, J_, ws), ws);
  const dim_t fold_rows = checked_add(checked_mul(sc, J_, ws), g.in[last], ws);
  wide_elems_ = std::max(wide_elems_, checked_add(bwd_dy_elems_, fold_rows, ws));
  // Taps of each phase (pc * sr + pr): (off'_t, tap), in tap order.
  for (dim_t pc = 0; pc < sc; ++pc)
    for (dim_t pr = 0; pr < sr; ++pr) {
      bwd_phase_start_.push_back(static_cast<dim_t>(bwd_phase_taps_.size() / 2));
      for (dim_t tap = 0; tap < taps_; ++tap) {
        const dim_t qc = checked_mul(tap % g.kernel[last], g.dil[last], ws);
        const dim_t qr = d == 2 ? checked_mul(tap / g.kernel[last], g.dil[0], ws) : 0;
        if (qc % sc != pc || qr % sr != pr) continue;
        bwd_phase_taps_.push_back(checked_add(checked_mul(qr / sr, J_, ws), qc / sc, ws));
        bwd_phase_taps_.push_back(tap);
      }
    }
  bwd_phase_start_.push_back(static_cast<dim_t>(bwd_phase_taps_.size() / 2));
  // Padded columns outside the input that the mode folds onto one: (q, input index).
  for (dim_t q = 0; q < E_[last]; ++q) {
    if (q - g.lo[last] >= 0 && q - g.lo[last] < g.in[last]) continue;
    const dim_t m = map_padded_index(q - g.lo[last], g.in[last], g.mode);
    if (m >= 0) fold_cols_.insert(fold_cols_.end(), {q, m});
  }
  if (d == 2) {
    std::vector<std::vector<dim_t>> lists(static_cast<std::size_t>(g.in[0]));
    for (dim_t q = 0; q < E_[0]; ++q) {
      const dim_t m = map_padded_index(q - g.lo[0], g.in[0], g.mode);
      if (m >= 0) lists[m].push_back(q);
    }
    fold_row_start_.push_back(0);
    for (const auto& l : lists) {
      fold_rows_.insert(fold_rows_.end(), l.begin(), l.end());
      fold_row_start_.push_back(static_cast<dim_t>(fold_rows_.size()));
    }
  }
  // Zero padding: input rows [0, bwd_rows_) get one padded row each, the rest none.
  fold_single_ = g.mode == PadMode::zeros;
  bwd_rows_ = d == 2 ? std::clamp<dim_t>(E_[0] - g.lo[0], 0, g.in[0]) : 1;
  const dim_t tables =
      checked_add(checked_mul(2, d == 2 ? g.out[0] : 1, ws), checked_mul(2, bwd_rows_, ws), ws);
  row_bytes_ = std::max(row_bytes_, checked_bytes64(tables, sizeof(dim_t), ws));
}

// # Backward data on planes (1-D and 2-D)
// dx[i] = sum over the padded coordinates q that the mode maps onto i of dxp[q], and
// dxp[q] = sum over (tap t, output o) with o * s + t * dil = q of w[t] * dy[o]. dxp is kept
// in the forward plane's stored layout (phase-split rows and columns), where each stride
// phase (pr, pc) is a dense correlation of dy with the taps of that phase: stored position P'
// of the phase reads dy at P' - off'_t, off'_t = floor(t_r dil_r / s_r) J + floor(t_c dil_c /
// s_c). So dy is laid out with the plane's row pitch J (zero columns past its rows) behind a
// zero margin of max off'_t, and each phase is one kernels::dw_row run over it: no
// zero-inserted multiplies, every dxp a sum over its own taps in tap order. Then each dx row
// folds its padded rows and columns (zeros: one each), in ascending q: a fixed order.
template <class T>
void DepthwiseExecutor<T>::run_bwd_data(const OpArgs& args, void* workspace, int threads) const {
  auto* ws = static_cast<char*>(workspace);
  T* wc = reinterpret_cast<T*>(ws);
  T* bias = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_));
  const T* w = static_cast<const T*>(args.b.data);
  const std::vector<dim_t> tap_off = tap_offsets(g_, args.b.strides);
  for (dim_t c = 0; c < g_.C; ++c)
    for (dim_t t = 0; t < taps_; ++t) wc[c * taps_ + t] = w[c * args.b.strides[0] + tap_off[t]];
  const T* b = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
  for (dim_t c = 0; c < g_.C; ++c) bias[c] = b ? b[c * args.bias->strides[0]] : T(0);
  const int n_threads = std::min(threads, slots_);
  auto slot = [&] {
    return ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
  };
  // Each thread zeroes its dy layout (margin and gaps stay zero) and fills its row offsets
  // once per run (its own entry of `filled`).
  std::vector<char> filled(static_cast<std::size_t>(slots_), 0);
  const dim_t planes = g_.N * g_.C, per = planes_per_task_;  // see the constructor
  parallel_tasks((planes + per - 1) / per, n_threads, [&](dim_t task) {
    char* sl = slot();
    char& mine = filled[static_cast<std::size_t>(thread_index())];
    if (!mine) prepare_bwd_data(args.a.strides, args.out.strides, sl);
    mine = 1;
    for (dim_t p = task * per; p < std::min(planes, (task + 1) * per); ++p)
      bwd_data_plane(args, wc, bias, p / g_.C, p % g_.C, sl);
  });
}

template <class T>
void DepthwiseExecutor<T>::prepare_bwd_data(const std::vector<dim_t>& ys,
                                            const std::vector<dim_t>& xs, char* slot) const {
  const int d = g_.rank();
  auto* off = reinterpret_cast<dim_t*>(slot + ptr_bytes());
  const dim_t rows = d == 2 ? g_.out[0] : 1;
  for (dim_t r = 0; r < rows; ++r) {
    off[r] = d == 2 ? r * ys[2] : 0;
    off[rows + r] = bwd_margin_ + r * J_;
  }
  // Input rows [0, bwd_rows_) each reached by one padded row (fold_single_): its stored row
  // and the dx row.
  dim_t* io = off + 2 * rows;
  for (dim_t i = 0; i < bwd_rows_; ++i) {
    io[i] = d == 2 ? stored_row(0, fold_rows_[fold_row_start_[i]]) * J_ : 0;
    io[bwd_rows_ + i] = d == 2 ? i * xs[2] : 0;
  }
  std::fill_n(bwd_dy(slot), bwd_dy_elems_, T(0));
}

template <class T>
void DepthwiseExecutor<T>::bwd_data_plane(const OpArgs& args, const T* wc, const T* bias, dim_t n,
                                          dim_t c, char* slot) const {
  const int d = g_.rank(), last = d - 1;
  const auto &ys = args.a.strides, &xs = args.out.strides;
  const T* dy = static_cast<const T*>(args.a.data) + n * ys[0] + c * ys[1];
  T* dx = static_cast<T*>(args.out.data) + n * xs[0] + c * xs[1];
  const auto* off = reinterpret_cast<const dim_t*>(slot + ptr_bytes());
  T* plane = reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_);
  T* dyl = bwd_dy(slot);
  T* padded = dyl + bwd_dy_elems_;  // one padded row in order: s * J_ samples
  T* acc = padded + g_.stride[last] * J_;
  const T** ptrs = reinterpret_cast<const T**>(slot);
  T* wl = reinterpret_cast<T*>(ptrs + taps_);
  const dim_t rows = d == 2 ? g_.out[0] : 1, cols = g_.out[last];
  kernels::strided_copy_rows<T>(dy, off, static_cast<std::ptrdiff_t>(ys[2 + last]), dyl, off + rows,
                                static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
  const dim_t sc = g_.stride[last], sr = d == 2 ? g_.stride[0] : 1;
  const dim_t Jr = d == 2 ? stored_[0] / sr : 1;
  const T* wch = wc + c * taps_;
  const dim_t S = g_.in[last], lo = g_.lo[last], Ec = E_[last];
  const dim_t i0 = std::min(S, std::max<dim_t>(0, -lo)), i1 = std::max(i0, std::min(S, Ec - lo));
  const bool dense = xs[2 + last] == 1;
  dim_t first_row = 0;
  if (dense && sc == 2 && fold_cols_.empty() && fold_single_) {
    // Zero padding at stride 2 over dense rows: each dx row that a padded row reaches is that
    // row's two column phases interleaved, computed from dy straight into dx
    // (kernels::dw_pair_rows), the rows of one row phase per call; no dxp plane.
    const T** pa = reinterpret_cast<const T**>(slot);
    const T** pb = pa + taps_;
    T* wa = reinterpret_cast<T*>(pb + taps_);
    T* wb = wa + taps_;
    const dim_t lr = d == 2 ? g_.lo[0] : 0;
    const dim_t q0 = i0 + lo;  // padded column of dx column i0: phase q0 % 2, index q0 / 2
    const dim_t pA = q0 % 2, pB = 1 - pA;
    for (dim_t pr = 0; pr < sr; ++pr) {
      const dim_t i_first = ((pr - lr) % sr + sr) % sr;  // first dx row of this row phase
      if (i_first >= bwd_rows_) continue;
      const dim_t n_rows = (bwd_rows_ - 1 - i_first) / sr + 1;
      const dim_t base = bwd_margin_ + (i_first + lr) / sr * J_;
      std::size_t na = 0, nb = 0;
      for (dim_t k = bwd_phase_start_[pA * sr + pr]; k < bwd_phase_start_[pA * sr + pr + 1]; ++k) {
        pa[na] = dyl + base + q0 / 2 - bwd_phase_taps_[2 * k];
        wa[na++] = wch[bwd_phase_taps_[2 * k + 1]];
      }
      for (dim_t k = bwd_phase_start_[pB * sr + pr]; k < bwd_phase_start_[pB * sr + pr + 1]; ++k) {
        pb[nb] = dyl + base + (q0 + 1) / 2 - bwd_phase_taps_[2 * k];
        wb[nb++] = wch[bwd_phase_taps_[2 * k + 1]];
      }
      const dim_t row_pitch = d == 2 ? xs[2] : 0;
      dw_.dw_pair_rows(na, pa, wa, nb, pb, wb, bias[c], static_cast<std::size_t>(n_rows),
                       static_cast<std::ptrdiff_t>(J_), dx + i_first * row_pitch + i0,
                       static_cast<std::ptrdiff_t>(sr * row_pitch),
                       static_cast<std::size_t>(i1 - i0));
    }
    const T bc = bias[c];
    for (dim_t i = 0; i < bwd_rows_; ++i) {
      T* out = dx + (d == 2 ? i * xs[2] : 0);
      for (dim_t m = 0; m < i0; ++m) out[m] = bc;
      for (dim_t m = i1; m < S; ++m) out[m] = bc;
    }
    first_row = bwd_rows_;
  }
  // dxp, phase by phase.
  for (dim_t pc = 0; pc < sc && first_row == 0; ++pc)
    for (dim_t pr = 0; pr < sr; ++pr) {
      const dim_t ph = pc * sr + pr;
      std::size_t nt = 0;
      for (dim_t k = bwd_phase_start_[ph]; k < bwd_phase_start_[ph + 1]; ++k, ++nt) {
        ptrs[nt] = dyl + bwd_margin_ - bwd_phase_taps_[2 * k];
        wl[nt] = wch[bwd_phase_taps_[2 * k + 1]];
      }
      T* region = plane + pc * phase_size_ + pr * Jr * J_;
      if (nt == 0)
        std::fill_n(region, Jr * J_, T(0));
      else
        dw_.dw_row(nt, ptrs, wl, T(0), region, static_cast<std::size_t>(Jr * J_));
    }
  // The fold, one dx row at a time: the padded rows that fold onto it in ascending order;
  // of each, the sample at i + lo, then the padded columns the mode folds (fold_cols_).
  const dim_t in_rows = d == 2 ? g_.in[0] : 1;
  for (dim_t i = first_row; i < in_rows; ++i) {
    const dim_t k0 = d == 2 ? fold_row_start_[i] : 0, k1 = d == 2 ? fold_row_start_[i + 1] : 1;
    T* out = dx + (d == 2 ? i * xs[2] : 0);
    // One padded row and no folded columns (zero padding): written straight to dx.
    const bool straight = dense && k1 - k0 == 1 && fold_cols_.empty();
    T* sum = straight ? out : acc;
    for (dim_t k = k0; k < k1; ++k) {
      const dim_t R = d == 2 ? stored_row(0, fold_rows_[k]) : 0;
      // The padded row in order (phases interleaved back).
      const T* row;
      if (sc == 1) {
        row = plane + R * J_;
      } else if (sc == 2) {
        const std::int64_t from = R * J_, to = 0;
        kernels::interleave_rows<T>(plane, plane + phase_size_, &from, padded, &to, 1,
                                    static_cast<std::size_t>(Ec));
        row = padded;
      } else {
        for (dim_t q = 0; q < Ec; ++q) padded[q] = plane[(q % sc) * phase_size_ + R * J_ + q / sc];
        row = padded;
      }
      const T* src = row + lo;
      if (k == k0) {
        const T bc = bias[c];
        for (dim_t m = 0; m < i0; ++m) sum[m] = bc;
        for (dim_t m = i0; m < i1; ++m) sum[m] = bc + src[m];
        for (dim_t m = i1; m < S; ++m) sum[m] = bc;
      } else {
        for (dim_t m = i0; m < i1; ++m) sum[m] += src[m];
      }
      for (std::size_t f = 0; f < fold_cols_.size(); f += 2)
        sum[fold_cols_[f + 1]] += row[fold_cols_[f]];
    }
    if (k1 == k0)  // no padded row reaches this input row
      for (dim_t m = 0; m < S; ++m) sum[m] = bias[c];
    if (sum == out) continue;
    if (dense)
      std::copy(acc, acc + S, out);
    else
      for (dim_t m = 0; m < S; ++m) out[m * xs[2 + last]] = acc[m];
  }
}

// The members above for both element types (the class is declared in depthwise_executor.h).
template void DepthwiseExecutor<float>::plan_bwd_data(const Geometry& g);
template void DepthwiseExecutor<double>::plan_bwd_data(const Geometry& g);
template void DepthwiseExecutor<float>::run_bwd_data(const OpArgs& args, void* workspace,
                                                     int threads) const;
template void DepthwiseExecutor<double>::run_bwd_data(const OpArgs& args, void* workspace,
                                                      int threads) const;
template void DepthwiseExecutor<float>::prepare_bwd_data(const std::vector<dim_t>& ys,
                                                         const std::vector<dim_t>& xs,
                                                         char* slot) const;
template void DepthwiseExecutor<double>::prepare_bwd_data(const std::vector<dim_t>& ys,
                                                          const std::vector<dim_t>& xs,
                                                          char* slot) const;
template void DepthwiseExecutor<float>::bwd_data_plane(const OpArgs& args, const float* wc,
                                                       const float* bias, dim_t n, dim_t c,
                                                       char* slot) const;
template void DepthwiseExecutor<double>::bwd_data_plane(const OpArgs& args, const double* wc,
                                                        const double* bias, dim_t n, dim_t c,
                                                        char* slot) const;

}  // namespace convnd::detail::depthwise
