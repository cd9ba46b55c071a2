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
//   dw_weights_taps: acc[k * acc_step + c] += sum_j in[j * in_step + k * tap_step + c] *
//     dy[j * dy_step + c]   for k < taps, c < count, j < positions
//     (channels-last weight gradient of one kernel row along a run of output positions whose
//     taps all read inside the input: the row's tap accumulators stay in registers for the run;
//     per (tap, channel) the positions are summed in order)
//   dw_channels_run: out[j * out_step + c] = bias[c] + sum_i w[i][c] * in[i][j * in_step + c]
//     for j < positions, c < count (channels-last, a run of outputs along a row whose taps all
//     read inside the input: each weight vector loaded once serves 8 positions; `out` must
//     not overlap `in`)
//   dw_channels_taps: out[j * out_step + c] = bias[c] + sum_i sum_k w[i][k * w_step + c] *
//     in[i][j * in_step + k * tap_step + c]   for j < positions, c < count, k < taps
//     (channels-last runs by kernel rows: row i's taps read samples tap_step apart; with 3, 5 or
//     7 taps and in_step = 1 or 2 times tap_step, or 2 taps and in_step = tap_step, the row's
//     input vectors are loaded once for
//     all (position, tap) pairs that read them; other shapes run scalar, so callers use
//     dw_channels_run for them; the sum runs over i, then k, as dw_channels_run's over terms)
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
//   strided_copy_rows: out[out_off[r] + j] = in[in_off[r] + j * step]  for r < rows, j < count
//     (builds depthwise.cc's phase-split planes, one stride phase of all rows per call: a
//     stride-2 plane's rows are ~14 samples, and a call per row cost more than its copy; steps 1
//     and 2 are vector copies with a masked tail on AVX2 / AVX-512, other steps scalar)
// bias may be null (0). Any count works; nothing outside [0, count) is read or written.
// The kernels are listed in dwconv_kernels.inc, with their parameters.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convnd::kernels {

// One ISA's depthwise kernels for dtype T, a member per line of dwconv_kernels.inc.
template <class T>
struct DwKernels {
#define CONVND_DW_KERNEL(name, body, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
#include "kernels/dwconv_kernels.inc"
#undef CONVND_DW_KERNEL
};

// The table of the ISA that Highway dispatches to now.
const DwKernels<float>& dw_kernels_f32();
const DwKernels<double>& dw_kernels_f64();

template <class T>
const DwKernels<T>& dw_kernels() {
  if constexpr (sizeof(T) == 4)
    return dw_kernels_f32();
  else
    return dw_kernels_f64();
}

// kernels::dw_rows<T>(...) and the others: the kernel of the ISA dispatched to now, called with
// the arguments of its line in dwconv_kernels.inc (the per-target tests call these). The
// algorithms instead keep dw_kernels<T>() from when their plan was made and call through it, so
// that a plan runs the kernels of one ISA whatever Highway's target is later.
#define CONVND_DW_KERNEL(name, body, ret, ...) \
  template <class T, class... Args>            \
  inline ret name(Args... args) {              \
    return dw_kernels<T>().name(args...);      \
  }
#include "kernels/dwconv_kernels.inc"
#undef CONVND_DW_KERNEL

}  // namespace convnd::kernels
