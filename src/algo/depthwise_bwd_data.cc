// # Depthwise backward data (a depthwise transposed convolution) by gathering
//
// dx[n, c, i] = sum over (tap t, output o) whose padded sample o*s - lo + t*dil maps onto input
// sample i (by the padding mode) of w[c, t] * dy[n, c, o].
// Along one axis the pairs (t, o) that reach each input index are listed once per plan (a CSR
// table: with zero padding at most ceil(k / s) pairs, with reflect and the other modes also the
// padded samples that fold onto the index). Over d axes the pairs of a position are the product
// of its per-axis lists. So each input sample is one dot product over exactly the terms that
// reach it, in a fixed order, with no zero-inserted multiplies (a stride-2 3x3 layer reads 2.25
// terms per sample on average, not 9), no fold-back pass for the padding modes, and no split
// into per-group sub-problems (the generic bwd_data_phases runs C of them).
//
// The terms of a position are vectorised over channels (tap-major weights), so channels-last
// runs in place. The positions of one stride phase of a row (at stride 1: the row), away from
// the borders, gather the same taps from outputs one further each: kernels::dw_channels_taps at
// stride 1 (a kernel row's taps, reversed, read consecutive dy samples, each loaded once for all
// the pairs that read it) or kernels::dw_channels_run (8 positions per weight-vector load)
// computes them (a task is a fixed segment of a row; other positions are runs of 1); views whose
// channel stride is not 1 take the position-by-position kernels::dw_gather. Channels-first
// activations are transposed to channels-last in the workspace first (dy) and back at the end (dx)
// (kernels/transpose.h; at stride 1 pays() passes channels-first plans of under 36 taps to
// bwd_data_phases, measured faster, and at stride 2 depthwise.cc's planes come first in the
// registry and measured faster still); pays() also passes few channels (a vector that short is
// mostly scalar tail) to bwd_data_phases, whose forward planes vectorise along the rows instead.
//
// Tasks are fixed segments of rows (or chunks of positions) of one image: each dx element is
// written by one task, in one order, whatever the thread count.
#include "algo/depthwise_bwd_data.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "algo/layout_copy.h"
#include "algo/odometer.h"
#include "api/checked.h"
#include "api/errors.h"
#include "kernels/dwconv.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kPositionsPerTask = 64;
// Input positions along a row per task (channels-last runs).
constexpr dim_t kSegment = 256;
// Bounds the terms of one input position (the pointer lists of a task): reached only with
// padding modes that fold many padded samples onto one input sample (e.g. circular padding of
// an extent-1 axis by a long kernel).
constexpr dim_t kMaxTerms = 4096;
// Bounds the per-axis lists (kernel x output pairs of one axis), built by the first run.
constexpr dim_t kMaxPairs = dim_t{1} << 22;
// Outside pairs an axis's bound counts index by index (above: their total, a looser bound).
constexpr dim_t kMaxCountedOutside = dim_t{1} << 14;
// Fewest channels for which the gather pays over bwd_data_phases (see pays()).
constexpr dim_t kChannelVectorMin = 16;
// Fewest kernel taps for which a channels-first plan at stride 1 transposes dy and dx (pays()).
constexpr dim_t kTransposedTapsMin = 36;

std::size_t align64(std::size_t b) { return (b + 63) / 64 * 64; }

// Spare bytes of the shared workspace for placing the weights and the bias at an offset within
// a cache line: up to 63 each, and the bias's start rounded up past the weights.
constexpr std::size_t kAlignSlack = 192;

// Offset of a tensor within its cache line in bytes (0 if not a multiple of T).
template <class T>
std::size_t line_offset(const void* p) {
  const std::size_t b = reinterpret_cast<std::uintptr_t>(p) % 64;
  return b % sizeof(T) == 0 ? b : 0;
}

// Per-axis lists of the (tap, output) pairs that reach each input index, in CSR form:
// the pairs of index i are tap[start[i]..start[i+1]) and out[...] alike.
struct AxisTerms {
  std::vector<dim_t> start, tap, out;
  dim_t longest = 0;
};

AxisTerms axis_terms(const Geometry& g, int a) {
  AxisTerms at;
  const dim_t S = g.in[a];
  std::vector<dim_t> index;  // input index of each pair in (t, o) order, -1: none
  std::vector<dim_t> count(static_cast<std::size_t>(S) + 1, 0);
  for (dim_t t = 0; t < g.kernel[a]; ++t)
    for (dim_t o = 0; o < g.out[a]; ++o) {
      const dim_t i = map_padded_index(o * g.stride[a] - g.lo[a] + t * g.dil[a], S, g.mode);
      index.push_back(i);
      if (i >= 0) ++count[i + 1];
    }
  for (dim_t i = 0; i < S; ++i) at.longest = std::max(at.longest, count[i + 1]);
  for (dim_t i = 0; i < S; ++i) count[i + 1] += count[i];
  at.start = count;
  at.tap.resize(count[S]);
  at.out.resize(count[S]);
  std::vector<dim_t> fill(count.begin(), count.end() - 1);
  std::size_t p = 0;
  for (dim_t t = 0; t < g.kernel[a]; ++t)
    for (dim_t o = 0; o < g.out[a]; ++o, ++p)
      if (const dim_t i = index[p]; i >= 0) {
        at.tap[fill[i]] = t;
        at.out[fill[i]++] = o;
      }
  return at;
}

// Ceiling of a / b for b > 0 and any sign of a.
dim_t ceil_div(dim_t a, dim_t b) { return a / b + (a % b != 0 && a > 0); }

// An upper bound on the pairs of axis a that reach any one input index, computed without
// listing them (planning stays cheap: a 2^20-long axis of 3 taps took 0.67 s to list, twice).
// Index i gathers (t, o) with o * s + t * dil = q + lo, for the padded coordinates q that the
// mode maps onto i. The one inside coordinate (q = i) is reached by the taps t of one residue
// class modulo s / gcd(s, dil), each with its own o: at most ceil(k / (s / gcd)) and at most O.
// The coordinates outside the input (zero padding drops them) are the pairs whose o lies below
// ceil((lo - t dil) / s) or from ceil((S + lo - t dil) / s) on, per tap: those are counted
// exactly, index by index (few: about the padding over the stride per tap). reject() bounds the
// padded extent and k * O <= kMaxPairs first, so none of this overflows.
dim_t axis_longest_bound(const Geometry& g, int a) {
  const dim_t k = g.kernel[a], O = g.out[a], S = g.in[a], s = g.stride[a], dil = g.dil[a];
  const dim_t lo = g.lo[a];
  const dim_t period = s / std::gcd(s, dil);
  const dim_t inside = std::min({(k - 1) / period + 1, k, O});
  if (g.mode == PadMode::zeros) return inside;
  // Listing the outside pairs costs their number (a sort): past kMaxCountedOutside of them the
  // bound is their total instead, looser but free (a fuzzed spec with a padding of millions took
  // 1.2 s to plan under ASan).
  // Tap t reads outside the input for outputs [0, below) and [above, O).
  const auto outside_of = [&](dim_t t) {
    const dim_t below = std::clamp<dim_t>(ceil_div(lo - t * dil, s), 0, O);
    return std::pair{below, std::clamp<dim_t>(ceil_div(S + lo - t * dil, s), below, O)};
  };
  dim_t outside = 0;
  for (dim_t t = 0; t < k; ++t) {
    const auto [below, above] = outside_of(t);
    outside += below + (O - above);
  }
  if (outside > kMaxCountedOutside) return inside + outside;
  std::vector<dim_t> hit;  // input index of every pair that reads a coordinate outside
  const auto list = [&](dim_t t, dim_t o) {
    hit.push_back(map_padded_index(o * s - lo + t * dil, S, g.mode));
  };
  for (dim_t t = 0; t < k; ++t) {
    const auto [below, above] = outside_of(t);
    for (dim_t o = 0; o < below; ++o) list(t, o);
    for (dim_t o = above; o < O; ++o) list(t, o);
  }
  std::sort(hit.begin(), hit.end());
  dim_t most = 0;
  for (std::size_t b = 0, e = 0; b < hit.size(); b = e) {
    while (e < hit.size() && hit[e] == hit[b]) ++e;
    if (hit[b] >= 0) most = std::max<dim_t>(most, static_cast<dim_t>(e - b));
  }
  return inside + most;
}

// The product of the per-axis counts longest(a) for a < rank, capped at kMaxTerms + 1 (each
// count is at most k * O <= kMaxPairs, so the product before the cap fits).
template <class Longest>
dim_t capped_terms(int rank, Longest&& longest) {
  dim_t terms = 1;
  for (int a = 0; a < rank; ++a)
    terms = std::min<dim_t>(terms * std::max<dim_t>(longest(a), 1), kMaxTerms + 1);
  return terms;
}

// Most terms any input position gathers, bounded without listing them.
dim_t max_terms(const Geometry& g) {
  return capped_terms(g.rank(), [&](int a) { return axis_longest_bound(g, a); });
}

// The workspace of a channels-first plan holds dy and dx channels-last: their bytes must be
// representable (the element counts alone fit, but times 8 bytes they may not).
bool copies_fit(const Geometry& g) {
  Fits f;
  const dim_t images = f.mul(g.N, g.C);
  const dim_t sum = f.add(f.mul(images, f.product(g.in)), f.mul(images, f.product(g.out)));
  return f && sum <= (dim_t{1} << 56);
}

template <class T>
class GatherExecutor final : public Executor {
 public:
  GatherExecutor(const Geometry& g) : g_(g), slots_(thread_slots()) {
    const int d = g.rank();
    // Checked although reject() bounds them: a size that wrapped would under-allocate.
    const char* ws = "workspace";
    taps_ = checked_product(g.kernel, "kernel");
    in_positions_ = checked_product(g.in, "input");
    out_positions_ = checked_product(g.out, "output");
    terms_ = max_terms(g);
    tap_stride_.assign(d, 1);
    for (int a = d - 2; a >= 0; --a) tap_stride_[a] = tap_stride_[a + 1] * g.kernel[a + 1];
    // (+ kAlignSlack: the weights and the bias may sit at dy's offset within a cache line, see
    // run())
    // Then the weights flipped along the last axis (flipped_weights()).
    const std::size_t wbytes = checked_bytes64(checked_mul(g.C, taps_, ws), sizeof(T), ws);
    shared_bytes_ = checked_size_add(
        checked_size_add(checked_size_mul(2, wbytes, ws), checked_bytes64(g.C, sizeof(T), ws), ws),
        2 * kAlignSlack, ws);
    // Runs through kernels::dw_channels_taps (see gather_segment): at stride 1 only. At stride
    // 2 a phase's 2-3 taps per kernel row are too few to pay for the per-row weight loads: it
    // measured 0.69x (mbv2_dw3x3s2_b16) and 0.77x (effnet_dw5s2_b8) of dw_channels_run
    // (1 thread, Zen 5, median of 5, against a build of the same tree without it).
    taps_rows_ = g.stride[d - 1] == 1 && g.dil[d - 1] == 1 && g.kernel[d - 1] >= 2;
    // Channels-first: dy and dx of all images, channels-last and dense.
    const dim_t images = checked_mul(g.N, g.C, ws);
    copies_bytes_ = checked_size_add(
        checked_bytes64(checked_mul(images, out_positions_, ws), sizeof(T), ws),
        checked_bytes64(checked_mul(images, in_positions_, ws), sizeof(T), ws), ws);
    slot_bytes_ = checked_size_add(checked_size_mul(2, checked_bytes64(terms_, sizeof(T*), ws), ws),
                                   checked_bytes64(g.C, sizeof(T), ws), ws);
    // Only channels-first views use the copies; the plan does not know the layout of the views
    // it will run on, so the workspace covers both (the spec's layout says which is likely).
    const std::size_t copies = g.layout == Layout::channels_last ? 0 : copies_bytes_;
    workspace_bytes_ =
        checked_size_add(checked_size_add(shared_bytes_, copies, ws),
                         checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // The per-axis lists are built by the first run, not by the plan (planning stays cheap;
    // they hold k * O pairs per axis); call_once because runs of one plan may be concurrent.
    std::call_once(lists_once_, [this] { build_lists(); });
    auto* ws = static_cast<char*>(workspace);
    // The channel-vector kernels align their loads to dy (kernels/dwconv.cc: a caller's tensor
    // is rarely 64-byte aligned); the weight and bias vectors of the same channels are aligned
    // too when they sit at dy's offset within a line. (The channels-first copies are aligned.)
    const bool in_place = args.a.strides[1] == 1 && args.out.strides[1] == 1;
    const std::size_t shift = in_place ? line_offset<T>(args.a.data) : 0;
    T* wt = reinterpret_cast<T*>(ws + shift);
    T* bias = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_) + 64 + shift);
    // Weights tap-major: wt[t * C + c].
    const T* w = static_cast<const T*>(args.b.data);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.b.strides);
    for (dim_t c = 0; c < g_.C; ++c)
      for (dim_t t = 0; t < taps_; ++t) wt[t * g_.C + c] = w[c * args.b.strides[0] + tap_off[t]];
    const T* b = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    for (dim_t c = 0; c < g_.C; ++c) bias[c] = b ? b[c * args.bias->strides[0]] : T(0);
    // Tap-major weights with the last axis reversed: wf[(r * KW + k) * C + c] =
    // wt[(r * KW + KW - 1 - k) * C + c], so that a row's taps read dy forwards.
    T* wf = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_) + 64 +
                                 align64(sizeof(T) * g_.C) + 64 + shift);
    if (taps_rows_) {
      const dim_t kw = g_.kernel.back();
      for (dim_t t = 0; t < taps_; ++t)
        std::copy_n(wt + (t / kw * kw + kw - 1 - t % kw) * g_.C, g_.C, wf + t * g_.C);
    }
    const int n_threads = std::min(threads, slots_);
    char* slots = ws + workspace_bytes() - static_cast<std::size_t>(slots_) * slot_bytes_;
    auto slot = [&] { return slots + static_cast<std::size_t>(thread_index()) * slot_bytes_; };
    const dim_t chunks = (in_positions_ + kPositionsPerTask - 1) / kPositionsPerTask;
    const dim_t S = g_.in.back(), segments = (S + kSegment - 1) / kSegment;
    const dim_t row_tasks = g_.N * (in_positions_ / S) * segments;
    // Phase runs at every stride: a stride-2 row's runs are half as long, and with
    // dw_channels_run's 8 x 2 registers and its tails in blocks of 4, 2, 1 they measured 0.62x
    // (effnet_dw5s2_b8) and 0.70x (mbv2_dw3x3s2_b16) of the position-by-position gather, which
    // had been the faster one at stride 2 (one thread, Zen 5).
    if (in_place) {
      parallel_tasks(row_tasks, n_threads, [&](dim_t task) {
        gather_segment(args.a, args.out, wt, wf, bias, task, slot());
      });
      return;
    }
    if (g_.layout == Layout::channels_last) {
      // A channels-last plan may meet channels-first views: then they are gathered through
      // their strides (slow, but correct, and within the workspace it sized).
      parallel_tasks(g_.N * chunks, n_threads, [&](dim_t task) {
        gather_chunk(args.a, args.out, wt, bias, task / chunks, (task % chunks) * kPositionsPerTask,
                     slot());
      });
      return;
    }
    T* dy_cl = reinterpret_cast<T*>(ws + shared_bytes_);
    T* dx_cl = reinterpret_cast<T*>(ws + shared_bytes_ +
                                    align64(sizeof(T) * g_.N * g_.C * out_positions_));
    const ConstTensorView dy_view(dy_cl, args.a.dtype, args.a.shape,
                                  dense_channels_last_strides(args.a.shape));
    const TensorView dx_view(dx_cl, args.out.dtype, args.out.shape,
                             dense_channels_last_strides(args.out.shape));
    copy_to_channels_last<T>(args.a, dy_cl, dy_view.strides, n_threads);
    parallel_tasks(row_tasks, n_threads, [&](dim_t task) {
      gather_segment(dy_view, dx_view, wt, wf, bias, task, slot());
    });
    copy_from_channels_last<T>(dx_cl, dx_view.strides, args.out, n_threads);
  }

 private:
  void build_lists() const {
    const int d = g_.rank();
    std::vector<AxisTerms> axes;  // assigned whole: a throw leaves none
    for (int a = 0; a < d; ++a) axes.push_back(axis_terms(g_, a));
    // regular[i]: input index i (last axis) gathers the (tap, output) pairs of i - stride, in
    // the same order, each output one further.
    const AxisTerms& L = axes.back();
    const dim_t s = g_.stride.back();
    std::vector<char> regular(static_cast<std::size_t>(g_.in.back()), 0);
    for (dim_t i = s; i < g_.in.back(); ++i) {
      const dim_t a = L.start[i - s], b = L.start[i], len = L.start[i + 1] - b;
      bool same = len == L.start[i - s + 1] - a;
      for (dim_t k = 0; same && k < len; ++k)
        same = L.tap[b + k] == L.tap[a + k] && L.out[b + k] == L.out[a + k] + 1;
      regular[i] = same;
    }
    // The slots were sized by max_terms' bound: a list longer than it would overrun them.
    const dim_t terms = capped_terms(d, [&](int a) { return axes[a].longest; });
    if (terms > terms_)
      throw std::logic_error("depthwise_bwd_data: an input sample gathers more terms than bounded");
    // row_taps[i]: the pairs of input index i (last axis) are taps t, t + s, ... reading
    // outputs o, o - 1, ... (at dilation 1: every index away from the borders), so that in
    // reverse they read consecutive outputs: a correlation of dy with every s-th flipped tap.
    std::vector<char> row_taps(static_cast<std::size_t>(g_.in.back()), 0);
    for (dim_t i = 0; i < g_.in.back(); ++i) {
      const dim_t b = L.start[i], e = L.start[i + 1];
      bool ok = e - b >= 2;
      for (dim_t k = b; ok && k + 1 < e; ++k)
        ok = L.tap[k + 1] - L.tap[k] == s && L.out[k + 1] - L.out[k] == -1;
      row_taps[i] = ok;
    }
    regular_ = std::move(regular);
    row_taps_ = std::move(row_taps);
    axes_ = std::move(axes);
  }

  // One segment of kSegment input positions along a row of dx (task = (image, row, segment)),
  // channel stride 1 in dy and dx. Positions of one stride phase whose last-axis terms are
  // those of the previous position of the phase moved by one output (regular_) form a run:
  // one kernels::dw_channels_run call, each weight vector loaded once for 8 positions, dy
  // stepping one output and dx one stride per position.
  // At stride 1 and dilation 1, a run whose positions each gather 2, 3, 5 or 7 taps of the last
  // axis reading consecutive outputs (row_taps_; the code allows taps s apart, but taps_rows_
  // keeps it to stride 1, see the constructor) is one kernels::dw_channels_taps
  // call instead (a depthwise transposed convolution is a correlation with the taps reversed:
  // per kernel row one dy pointer, its taps one output apart, with the flipped weights wf every
  // s taps; each dy vector loaded once for every (position, tap) pair that reads it). Its sum
  // runs over the rows, then the taps in reverse: a fixed order.
  void gather_segment(const ConstTensorView& dyv, const TensorView& dxv, const T* wt, const T* wf,
                      const T* bias, dim_t task, char* slot) const {
    const int d = g_.rank(), last = d - 1;
    const T** in = reinterpret_cast<const T**>(slot);
    const T** wp = in + align64(sizeof(T*) * terms_) / sizeof(T*);
    const dim_t S = g_.in[last], segments = (S + kSegment - 1) / kSegment;
    const dim_t rows = in_positions_ / S;
    const dim_t seg = task % segments, row = (task / segments) % rows, n = task / segments / rows;
    const auto &ys = dyv.strides, &xs = dxv.strides;
    const T* dy = static_cast<const T*>(dyv.data) + n * ys[0];
    T* dx = static_cast<T*>(dxv.data) + n * xs[0];
    // The terms of the outer axes (the product of their lists at this row's coordinates).
    std::vector<dim_t> otap{0}, ooff{0};
    dim_t rem = row;
    std::vector<dim_t> coord(d, 0);
    for (int a = last - 1; a >= 0; --a) coord[a] = rem % g_.in[a], rem /= g_.in[a];
    for (int a = 0; a < last; ++a) {
      const AxisTerms& L = axes_[a];
      std::vector<dim_t> tap, off;
      for (std::size_t q = 0; q < otap.size(); ++q)
        for (dim_t k = L.start[coord[a]]; k < L.start[coord[a] + 1]; ++k) {
          tap.push_back(otap[q] + L.tap[k] * tap_stride_[a]);
          off.push_back(ooff[q] + L.out[k] * ys[2 + a]);
        }
      otap.swap(tap);
      ooff.swap(off);
      dx += coord[a] * xs[2 + a];
    }
    const AxisTerms& L = axes_[last];
    const dim_t s = g_.stride[last], i0 = seg * kSegment, i1 = std::min(S, i0 + kSegment);
    for (dim_t r = 0; r < s && i0 + r < i1; ++r)
      for (dim_t p = i0 + r; p < i1;) {
        dim_t len = 1;
        while (p + len * s < i1 && regular_[p + len * s]) ++len;
        const dim_t kw = g_.kernel[last], nk = L.start[p + 1] - L.start[p];
        if (taps_rows_ && len > 1 && row_taps_[p] && (nk == 2 || nk == 3 || nk == 5 || nk == 7)) {
          // The list of p is taps t, t + s, ... (tap order), outputs descending: row q's dy
          // pointer is the last one's (tap t_last), and its weights run from t_last's flipped
          // tap every s taps.
          const dim_t o_first = L.out[L.start[p + 1] - 1];
          const dim_t t_flipped = kw - 1 - L.tap[L.start[p + 1] - 1];
          for (std::size_t q = 0; q < otap.size(); ++q) {
            in[q] = dy + ooff[q] + o_first * ys[2 + last];
            wp[q] = wf + (otap[q] + t_flipped) * g_.C;
          }
          dw_.dw_channels_taps(
              otap.size(), in, wp, static_cast<std::size_t>(nk), static_cast<std::size_t>(s * g_.C),
              static_cast<std::ptrdiff_t>(ys[2 + last]), static_cast<std::ptrdiff_t>(ys[2 + last]),
              bias, dx + p * xs[2 + last], static_cast<std::ptrdiff_t>(s * xs[2 + last]),
              static_cast<std::size_t>(len), static_cast<std::size_t>(g_.C));
          p += len * s;
          continue;
        }
        std::size_t nt = 0;
        for (std::size_t q = 0; q < otap.size(); ++q)
          for (dim_t k = L.start[p]; k < L.start[p + 1]; ++k) {
            in[nt] = dy + ooff[q] + L.out[k] * ys[2 + last];
            wp[nt++] = wt + (otap[q] + L.tap[k]) * g_.C;
          }
        dw_.dw_channels_run(nt, in, wp, static_cast<std::ptrdiff_t>(ys[2 + last]), bias,
                            dx + p * xs[2 + last], static_cast<std::ptrdiff_t>(s * xs[2 + last]),
                            static_cast<std::size_t>(len), static_cast<std::size_t>(g_.C));
        p += len * s;
      }
  }

  // dx positions [p0, p0 + kPositionsPerTask) of image n; dy and dx are any views (channels-last
  // ones make the channel vectors contiguous).
  void gather_chunk(const ConstTensorView& dyv, const TensorView& dxv, const T* wt, const T* bias,
                    dim_t n, dim_t p0, char* slot) const {
    const int d = g_.rank();
    const T** in = reinterpret_cast<const T**>(slot);
    const T** wp = in + align64(sizeof(T*) * terms_) / sizeof(T*);
    T* row = reinterpret_cast<T*>(slot + 2 * align64(sizeof(T*) * terms_));
    const auto &ys = dyv.strides, &xs = dxv.strides;
    const T* dy = static_cast<const T*>(dyv.data) + n * ys[0];
    T* dx = static_cast<T*>(dxv.data) + n * xs[0];
    const bool contiguous_in = ys[1] == 1, contiguous_out = xs[1] == 1;
    std::vector<dim_t> i(d), k(d), lo(d), hi(d);
    dim_t rem = p0;
    for (int a = d - 1; a >= 0; --a) i[a] = rem % g_.in[a], rem /= g_.in[a];
    const dim_t p1 = std::min(in_positions_, p0 + kPositionsPerTask);
    std::vector<T> gathered;  // channel vectors of dy when its channel stride is not 1
    if (!contiguous_in) gathered.resize(static_cast<std::size_t>(terms_ * g_.C));
    for (dim_t p = p0; p < p1; ++p) {
      // The product of the axes' lists: an odometer over k[a] in [lo[a], hi[a]).
      std::size_t terms = 1;
      for (int a = 0; a < d; ++a) {
        lo[a] = k[a] = axes_[a].start[i[a]];
        hi[a] = axes_[a].start[i[a] + 1];
        terms *= static_cast<std::size_t>(hi[a] - lo[a]);
      }
      for (std::size_t q = 0; q < terms; ++q) {
        dim_t tap = 0, off = 0;
        for (int a = 0; a < d; ++a) {
          tap += axes_[a].tap[k[a]] * tap_stride_[a];
          off += axes_[a].out[k[a]] * ys[2 + a];
        }
        wp[q] = wt + tap * g_.C;
        if (contiguous_in) {
          in[q] = dy + off;
        } else {
          T* v = gathered.data() + q * g_.C;
          for (dim_t c = 0; c < g_.C; ++c) v[c] = dy[off + c * ys[1]];
          in[q] = v;
        }
        for (int a = d - 1; a >= 0 && ++k[a] == hi[a]; --a) k[a] = lo[a];
      }
      dim_t xo = 0;
      for (int a = 0; a < d; ++a) xo += i[a] * xs[2 + a];
      T* out = contiguous_out ? dx + xo : row;
      dw_.dw_gather(terms, in, wp, bias, out, static_cast<std::size_t>(g_.C));
      if (!contiguous_out)
        for (dim_t c = 0; c < g_.C; ++c) dx[xo + c * xs[1]] = row[c];
      next_index(i, g_.in, d);
    }
  }

  Geometry g_;
  // The depthwise kernels of the ISA dispatched to when the plan was made, bound once.
  const kernels::DwKernels<T>& dw_ = kernels::dw_kernels<T>();
  int slots_ = 1;
  dim_t taps_ = 1, in_positions_ = 1, out_positions_ = 1, terms_ = 1;
  // Built by the first run (build_lists).
  mutable std::once_flag lists_once_;
  mutable std::vector<AxisTerms> axes_;
  mutable std::vector<char> regular_, row_taps_;
  std::vector<dim_t> tap_stride_;
  bool taps_rows_ = false;  // runs through dw_channels_taps (see gather_segment)
  std::size_t shared_bytes_ = 0, copies_bytes_ = 0, slot_bytes_ = 0, workspace_bytes_ = 0;
};

class DepthwiseBwdData final : public Algorithm {
 public:
  const char* name() const override { return "depthwise_bwd_data"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_data) return "only the backward-data pass";
    if (g.Cg() != 1 || g.Kg() != 1) return "not depthwise (needs groups == C == K)";
    if (g.N == 0 || g.C == 0) return "empty batch or no channels";
    Fits f;
    for (int a = 0; a < g.rank(); ++a) {
      // The lists compute every padded coordinate o * stride - lo + t * dil: their extent,
      // (out-1)*stride + (k-1)*dil + 1, must fit in int64.
      f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.kernel[a] - 1, g.dil[a])), 1);
      if (!f) return rule("axis ", a, ": the padded extent overflows int64");
      if (g.kernel[a] > kMaxPairs / std::max<dim_t>(g.out[a], 1))
        return rule("axis ", a, ": more than 2^22 (tap, output) pairs to list (kernel ",
                    g.kernel[a], " x output ", g.out[a], ")");
      if (g.in[a] > kMaxPairs)
        return rule("axis ", a, ": input extent above 2^22 (the lists' index)");
    }
    if (!copies_fit(g)) return "the channels-last copies of dy and dx would not fit in memory";
    dim_t taps = 1;
    for (dim_t k : g.kernel) taps = std::min<dim_t>(f.mul(taps, k), kMaxTerms + 1);
    if (taps > kMaxTerms) return "more than 4096 kernel taps";
    if (max_terms(g) > kMaxTerms)
      return "an input sample gathers more than 4096 terms (padding folds many samples onto it)";
    return {};
  }

  std::string pays(const Geometry& g, Op) const override {
    if (g.C < kChannelVectorMin) return "fewer than 16 channels: the phases' planes vectorise rows";
    // Channels-first pays the transposes of dy and dx (kernels/transpose.h). Measured with
    // both forced (`convnd bench --pass bwd_data --layout channels_first`, Xeon AVX-512, 2
    // threads, ms, this / bwd_data_phases): mbv2_dw3x3s2_b16 1.79 / 4.18, effnet_dw5s2_b8
    // 1.19 / 2.78, convnext_dw7_b1 (stride 1) 0.59 / 0.41: at stride 1 the phases are one
    // dense forward plane and win.
    // With stride-1 rows through dw_channels_taps (gather_segment), at 7x7 this wins at stride
    // 1 too (1 thread, Zen 5, ms): convnext_dw7_b1 0.30 / 0.36; at 3x3 not: n1c144 56x56 3x3
    // 0.21 / 0.16; 5x5 unmeasured, left to the phases as depthwise_wgrad leaves it to the planes.
    bool strided = false;
    for (dim_t s : g.stride) strided = strided || s > 1;
    dim_t taps = 1;
    for (dim_t k : g.kernel) taps = std::min<dim_t>(taps * k, kMaxTerms);
    if (g.layout != Layout::channels_last && !strided && taps < kTransposedTapsMin)
      return "channels-first at stride 1 with under 36 taps: bwd_data_phases' one dense plane is "
             "faster than the transposes of dy and dx";
    return {};
  }

  // Each dx element sums at most max_terms(g) products (more than the taps where the padding
  // mode folds several padded samples onto one input sample).
  double error_bound(const Geometry& g, Op) const override {
    const double u = g.dtype == DType::f32 ? 0x1p-24 : 0x1p-53;
    return static_cast<double>(max_terms(g)) * u;
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<GatherExecutor>(g);
  }
};

}  // namespace

const Algorithm& depthwise_bwd_data_algorithm() {
  static const DepthwiseBwdData instance;
  return instance;
}

}  // namespace convnd::detail
