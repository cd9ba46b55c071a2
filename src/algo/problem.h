// What an algorithm sees: a forward-equivalent geometry, one of three operations on it, and
// canonical views.
//
// Every pass of every Spec reduces to one operation on a *forward* convolution geometry
//   x (N, C, in..) * w (K, C/groups, k..) -> y (N, K, out..):
//   fwd          y  = conv(x, w) (+ bias over K)
//   bwd_data     dx = conv^T(dy, w) (+ bias over C; used when a transposed spec has a bias)
//   bwd_weights  dw = grad_w <conv(x, w), dy>
// A transposed Spec maps onto the geometry of its matching forward convolution (src/api/plan.cc),
// so algorithms never see the word "transposed". `out` is given, not recomputed: for a transposed
// spec with output_padding the forward formula from `in` may give more than `out`, and the extra
// positions are simply not part of the problem.
//
// Views arrive canonical: logical channels-first order (N, C, spatial..) for activations and
// (K, C/groups, k..) for weights, strides in elements filled in and permuted to that order. A
// channels-last tensor is therefore just a view whose channel stride is 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::detail {

enum class Op { fwd, bwd_data, bwd_weights };

// An element offset that stands for "a zero-padding sample". Offsets themselves may be negative
// (views with negative strides), so no ordinary value can serve as the marker.
constexpr dim_t kNoSample = std::numeric_limits<dim_t>::min();

struct Geometry {
  dim_t N = 0, C = 0, K = 0, groups = 1;
  std::vector<dim_t> in, out, kernel, stride, dil, lo, hi;
  PadMode mode = PadMode::zeros;
  DType dtype = DType::f32;
  bool constant_weights = false;  // PlanOptions::constant_weights: packed weights may be kept
  Precision precision = Precision::standard;  // PlanOptions::precision
  // The spec's layout: a hint for dispatch only (the measured crossovers differ by layout);
  // the views are canonical whatever it is.
  Layout layout = Layout::channels_first;
  // Whether the input activation's channels are adjacent in memory (a channels-last spec): read
  // at plan time by algorithms whose speed depends on it. Views that differ at run time are
  // still computed correctly, only at another speed.
  bool in_channels_adjacent = false;
  // PlanOptions::workspace_limit: what dispatch lets an executor use; a composed algorithm
  // hands its sub-problems what it leaves of it.
  std::size_t workspace_limit = SIZE_MAX;

  int rank() const { return static_cast<int>(in.size()); }
  dim_t Cg() const { return C / groups; }
  dim_t Kg() const { return K / groups; }
};

// fwd: a = x, b = w, out = y, bias over K.  bwd_data: a = dy, b = w, out = dx, bias over C.
// bwd_weights: a = x, b = dy, out = dw, bias unused.
struct OpArgs {
  ConstTensorView a, b;
  TensorView out;
  std::optional<ConstTensorView> bias;
};

// Maps a padded coordinate i (may be negative or >= S) onto the input per the padding mode;
// -1 means "a zero sample" (PadMode::zeros outside the input).
inline dim_t map_padded_index(dim_t i, dim_t S, PadMode mode) {
  if (i >= 0 && i < S) return i;
  switch (mode) {
    case PadMode::zeros: return -1;
    case PadMode::replicate: return i < 0 ? 0 : S - 1;
    case PadMode::circular: return ((i % S) + S) % S;
    case PadMode::reflect: {  // period 2(S-1), edge not repeated
      if (S == 1) return 0;
      const dim_t period = 2 * (S - 1);
      dim_t m = ((i % period) + period) % period;
      return m < S ? m : period - m;
    }
    case PadMode::symmetric: {  // period 2S, edge repeated
      const dim_t period = 2 * S;
      dim_t m = ((i % period) + period) % period;
      return m < S ? m : period - 1 - m;
    }
  }
  return -1;
}

// Spatial offset (in elements) of every kernel tap, in row-major tap order, inside a canonical
// weight-shaped view with these strides.
inline std::vector<dim_t> tap_offsets(const Geometry& g, const std::vector<dim_t>& strides) {
  dim_t taps = 1;
  for (dim_t k : g.kernel) taps *= k;
  std::vector<dim_t> off(static_cast<std::size_t>(taps), 0), t(g.rank(), 0);
  for (dim_t i = 0; i < taps; ++i) {
    for (int a = 0; a < g.rank(); ++a) off[i] += t[a] * strides[2 + a];
    for (int a = g.rank() - 1; a >= 0 && ++t[a] == g.kernel[a]; --a) t[a] = 0;
  }
  return off;
}

}  // namespace convnd::detail
