// # Depthwise weight gradient as channel-vector accumulation in a fixed order
//
// dw[c, t] = sum over images n and output positions o of x[n, c, sample(o, t)] * dy[n, c, o].
// The (image, position) pairs are cut into a fixed number of chunks (a function of the geometry
// only, never of the thread count). A task takes one chunk and accumulates every tap of every
// channel into the chunk's own partial sums; then each dw[c, t] adds the chunks' partials in
// chunk order. So every element is summed in one order whatever the thread count, and the work
// parallelises over positions, where depthwise layers have plenty (over channels a batch-16
// MobileNet layer has 12 vectors; over its 9 taps, 9 tasks).
//
// Inside a chunk, kernels::dw_weights holds 8 taps' accumulators of one channel vector in
// registers while it runs over a block of positions: one load of dy per position serves 8 FMAs
// (the per-tap loop of depthwise.cc loaded both operands for every FMA). The sample pointers of a
// block come from per-axis tables of input offsets (one entry per output index and tap, the
// padding mode already applied), a few adds per pointer, amortised over all channels.
//
// Channels-first views are transposed to channels-last in the workspace first (16 x 16 blocks),
// so the channel vectors are contiguous; pays() leaves few channels (a vector that short is
// mostly scalar tail) and channels-first plans of under 36 taps to depthwise's planes (measured
// faster).
#include "algo/depthwise_weights.h"

#include <algorithm>
#include <vector>

#include "algo/layout_copy.h"
#include "algo/odometer.h"
#include "api/checked.h"
#include "api/errors.h"
#include "kernels/dwconv.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxChunks = 32;
constexpr dim_t kMinChunkPositions = 256;
// Pointers per block of positions (positions x taps), bounding the per-thread pointer list.
constexpr dim_t kBlockPointers = 4096;
constexpr dim_t kMaxBlockPositions = 64;
// Partial sums of all chunks: taps x C x chunks elements at most.
constexpr dim_t kMaxPartials = dim_t{1} << 22;
constexpr dim_t kMaxTaps = 4096;
constexpr dim_t kMaxTable = dim_t{1} << 22;
constexpr dim_t kChannelVectorMin = 16;
// Fewest kernel taps for which a channels-first plan transposes x and dy (see pays()).
constexpr dim_t kTransposedTapsMin = 36;

// Chunks of the N * positions pairs: as many as keep each at >= kMinChunkPositions, at most
// kMaxChunks, and within the partial-sum budget. (Only for a problem that reject() accepted; the
// products are checked all the same, so a gap in reject() is an Error, not a wrapped size.)
dim_t chunk_count(const Geometry& g) {
  const dim_t pairs = checked_mul(g.N, checked_product(g.out, "output"), "output");
  const dim_t per_chunk_budget = std::max<dim_t>(
      1, kMaxPartials / checked_mul(checked_product(g.kernel, "kernel"), g.C, "kernel"));
  return std::clamp<dim_t>(pairs / kMinChunkPositions, 1, std::min(kMaxChunks, per_chunk_budget));
}

template <class T>
class WeightsExecutor final : public Executor {
 public:
  explicit WeightsExecutor(const Geometry& g) : g_(g), slots_(thread_slots()) {
    // Checked although reject() bounds them: a size that wrapped would under-allocate.
    const char* ws = "workspace";
    taps_ = checked_product(g.kernel, "kernel");
    positions_ = checked_product(g.out, "output");
    in_positions_ = checked_product(g.in, "input");
    chunks_ = chunk_count(g);
    block_ = std::clamp<dim_t>(kBlockPointers / taps_, 1, kMaxBlockPositions);
    partial_bytes_ =
        checked_bytes64(checked_mul(checked_mul(chunks_, taps_, ws), g.C, ws), sizeof(T), ws);
    zeros_bytes_ = checked_bytes64(g.C, sizeof(T), ws);
    const dim_t images = checked_mul(g.N, g.C, ws);
    x_copy_bytes_ = checked_bytes64(checked_mul(images, in_positions_, ws), sizeof(T), ws);
    copies_bytes_ = checked_size_add(
        x_copy_bytes_, checked_bytes64(checked_mul(images, positions_, ws), sizeof(T), ws), ws);
    slot_bytes_ =
        checked_bytes64(checked_mul(block_, checked_add(taps_, 1, ws), ws), sizeof(T*), ws);
    // The channels-last copies only for a channels-first plan (the layout hint); a
    // channels-last plan that meets channels-first views reads them through their strides.
    const std::size_t copies = g.layout == Layout::channels_last ? 0 : copies_bytes_;
    workspace_bytes_ = checked_size_add(
        checked_size_add(checked_size_add(partial_bytes_, zeros_bytes_, ws), copies, ws),
        checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    auto* ws = static_cast<char*>(workspace);
    T* partial = reinterpret_cast<T*>(ws);
    T* zeros = reinterpret_cast<T*>(ws + partial_bytes_);
    std::fill(zeros, zeros + g_.C, T(0));
    const int n_threads = std::min(threads, slots_);
    char* slots = ws + workspace_bytes() - static_cast<std::size_t>(slots_) * slot_bytes_;
    ConstTensorView x = args.a, dy = args.b;
    if (g_.layout != Layout::channels_last && (x.strides[1] != 1 || dy.strides[1] != 1)) {
      char* copies = ws + partial_bytes_ + zeros_bytes_;
      T* x_cl = reinterpret_cast<T*>(copies);
      T* dy_cl = reinterpret_cast<T*>(copies + x_copy_bytes_);
      x = ConstTensorView(x_cl, x.dtype, x.shape, dense_channels_last_strides(x.shape));
      dy = ConstTensorView(dy_cl, dy.dtype, dy.shape, dense_channels_last_strides(dy.shape));
      copy_to_channels_last<T>(args.a, x_cl, x.strides, n_threads);
      copy_to_channels_last<T>(args.b, dy_cl, dy.strides, n_threads);
    }
    const std::vector<std::vector<dim_t>> table = offset_tables(x.strides);
    parallel_tasks(chunks_, n_threads, [&](dim_t chunk) {
      accumulate_chunk(x, dy, table, zeros, chunk, partial + chunk * taps_ * g_.C,
                       slots + static_cast<std::size_t>(thread_index()) * slot_bytes_);
    });
    // dw[c, t] = the chunks' partials added in chunk order; one task per tap.
    T* dw = static_cast<T*>(args.out.data);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.out.strides);
    parallel_tasks(taps_, n_threads, [&](dim_t t) {
      for (dim_t c = 0; c < g_.C; ++c) {
        T s = partial[t * g_.C + c];
        for (dim_t k = 1; k < chunks_; ++k) s += partial[(k * taps_ + t) * g_.C + c];
        dw[c * args.out.strides[0] + tap_off[t]] = s;
      }
    });
  }

 private:
  // Per axis a: table[a][o * k_a + t] = the input offset (index * stride) that output index o's
  // tap t reads, or kNoSample in zero padding.
  std::vector<std::vector<dim_t>> offset_tables(const std::vector<dim_t>& xs) const {
    std::vector<std::vector<dim_t>> table(g_.rank());
    for (int a = 0; a < g_.rank(); ++a)
      for (dim_t o = 0; o < g_.out[a]; ++o)
        for (dim_t t = 0; t < g_.kernel[a]; ++t) {
          const dim_t m =
              map_padded_index(o * g_.stride[a] - g_.lo[a] + t * g_.dil[a], g_.in[a], g_.mode);
          table[a].push_back(m < 0 ? kNoSample : m * xs[2 + a]);
        }
    return table;
  }

  void accumulate_chunk(const ConstTensorView& xv, const ConstTensorView& dyv,
                        const std::vector<std::vector<dim_t>>& table, const T* zeros, dim_t chunk,
                        T* acc, char* slot) const {
    const int d = g_.rank();
    std::fill(acc, acc + taps_ * g_.C, T(0));
    const T** xp = reinterpret_cast<const T**>(slot);
    const T** gp = xp + block_ * taps_;
    const dim_t pairs = g_.N * positions_;
    const dim_t q0 = pairs * chunk / chunks_, q1 = pairs * (chunk + 1) / chunks_;
    const bool channel_vectors = xv.strides[1] == 1 && dyv.strides[1] == 1;
    if (channel_vectors) return accumulate_rows(xv, dyv, table, q0, q1, acc);
    std::vector<T> gathered;  // channel vectors of views whose channel stride is not 1
    if (!channel_vectors) gathered.resize(static_cast<std::size_t>(block_ * (taps_ + 1) * g_.C));
    std::vector<dim_t> o(d), t(d);
    for (dim_t q = q0; q < q1; q += block_) {
      const dim_t count = std::min(block_, q1 - q);
      for (dim_t i = 0; i < count; ++i) {
        const dim_t n = (q + i) / positions_;
        dim_t rem = (q + i) % positions_;
        for (int a = d - 1; a >= 0; --a) o[a] = rem % g_.out[a], rem /= g_.out[a];
        const T* x = static_cast<const T*>(xv.data) + n * xv.strides[0];
        dim_t yo = n * dyv.strides[0];
        for (int a = 0; a < d; ++a) yo += o[a] * dyv.strides[2 + a];
        gp[i] = static_cast<const T*>(dyv.data) + yo;
        std::fill(t.begin(), t.end(), 0);
        for (dim_t tap = 0; tap < taps_; ++tap) {
          dim_t off = 0;
          for (int a = 0; a < d; ++a) {
            const dim_t e = table[a][o[a] * g_.kernel[a] + t[a]];
            if (e == kNoSample) {
              off = kNoSample;
              break;
            }
            off += e;
          }
          xp[i * taps_ + tap] = off == kNoSample ? zeros : x + off;
          next_index(t, g_.kernel, d);
        }
      }
      if (!channel_vectors) gather(xv, dyv, count, xp, gp, zeros, gathered.data());
      dw_.dw_weights(static_cast<std::size_t>(count), static_cast<std::size_t>(taps_), xp, gp, acc,
                     static_cast<std::size_t>(g_.C));
    }
  }

  // Pairs [q0, q1) of channel-vector views by segments of output rows: per kernel row (the taps
  // of the outer axes) whose samples lie inside the input, the columns whose taps all read
  // inside the input along the last axis are one kernels::dw_weights_taps run (the row's tap
  // accumulators in registers, each dy vector loaded once per kernel row, no pointer lists),
  // and the border columns tap by tap; taps in zero padding are skipped. Per (tap, channel) the
  // sum runs over the segments in order, within one over the interior columns, then the border.
  void accumulate_rows(const ConstTensorView& xv, const ConstTensorView& dyv,
                       const std::vector<std::vector<dim_t>>& table, dim_t q0, dim_t q1,
                       T* acc) const {
    const int d = g_.rank(), last = d - 1;
    const auto &xs = xv.strides, &ys = dyv.strides;
    const dim_t W = g_.out[last], KW = g_.kernel[last], kernel_rows = taps_ / KW;
    const dim_t s = g_.stride[last], lo = g_.lo[last], dil = g_.dil[last], xl = xs[2 + last];
    const dim_t jl = (lo + s - 1) / s;
    const dim_t right = g_.in[last] - 1 + lo - (KW - 1) * dil;
    const dim_t jr = right < 0 ? 0 : std::min(W, right / s + 1);
    const std::vector<dim_t>& last_table = table[last];
    std::vector<dim_t> o(d), t(d);
    const auto C = static_cast<std::size_t>(g_.C);
    for (dim_t q = q0; q < q1;) {
      const dim_t n = q / positions_;
      dim_t rem = q % positions_;
      const dim_t j0 = rem % W, j1 = std::min(W, j0 + (q1 - q));
      rem /= W;
      for (int a = last - 1; a >= 0; --a) o[a] = rem % g_.out[a], rem /= g_.out[a];
      const T* x = static_cast<const T*>(xv.data) + n * xs[0];
      const T* dy = static_cast<const T*>(dyv.data) + n * ys[0];
      for (int a = 0; a < last; ++a) dy += o[a] * ys[2 + a];
      const dim_t ja = std::max(j0, jl), jb = std::min(j1, jr);
      std::fill(t.begin(), t.end(), 0);
      for (dim_t r = 0; r < kernel_rows; ++r, next_index(t, g_.kernel, last)) {
        dim_t off = 0;
        for (int a = 0; a < last && off != kNoSample; ++a) {
          const dim_t e = table[a][o[a] * g_.kernel[a] + t[a]];
          off = e == kNoSample ? kNoSample : off + e;
        }
        if (off == kNoSample) continue;
        T* acc_row = acc + r * KW * g_.C;
        if (jb > ja)
          dw_.dw_weights_taps(static_cast<std::size_t>(KW), x + off + (ja * s - lo) * xl,
                              static_cast<std::ptrdiff_t>(dil * xl),
                              static_cast<std::ptrdiff_t>(s * xl), dy + ja * ys[2 + last],
                              static_cast<std::ptrdiff_t>(ys[2 + last]),
                              static_cast<std::size_t>(jb - ja), acc_row, C, C);
        // A border column's taps in runs whose samples lie dil apart (with zero padding, all
        // its taps inside the input are one run): one call per run, not per tap.
        const dim_t tap_step = dil * xl;
        for (dim_t j = j0; j < j1; ++j) {
          if (j >= ja && j < jb) continue;
          const dim_t* e = &last_table[j * KW];
          for (dim_t k = 0; k < KW;) {
            if (e[k] == kNoSample) {
              ++k;
              continue;
            }
            dim_t len = 1;
            while (k + len < KW && e[k + len] != kNoSample &&
                   e[k + len] - e[k + len - 1] == tap_step)
              ++len;
            dw_.dw_weights_taps(static_cast<std::size_t>(len), x + off + e[k],
                                static_cast<std::ptrdiff_t>(tap_step), 0, dy + j * ys[2 + last], 0,
                                1, acc_row + k * g_.C, C, C);
            k += len;
          }
        }
      }
      q += j1 - j0;
    }
  }

  // Replaces the block's pointers by pointers to contiguous copies of the channel vectors they
  // name (views whose channel stride is not 1, met only by a plan made channels-last).
  void gather(const ConstTensorView& xv, const ConstTensorView& dyv, dim_t count, const T** xp,
              const T** gp, const T* zeros, T* buf) const {
    for (dim_t i = 0; i < count * (taps_ + 1); ++i) {
      const T*& p = i < count * taps_ ? xp[i] : gp[i - count * taps_];
      if (p == zeros) continue;
      const dim_t cs = i < count * taps_ ? xv.strides[1] : dyv.strides[1];
      T* v = buf + i * g_.C;
      for (dim_t c = 0; c < g_.C; ++c) v[c] = p[c * cs];
      p = v;
    }
  }

  Geometry g_;
  // The depthwise kernels of the ISA dispatched to when the plan was made, bound once.
  const kernels::DwKernels<T>& dw_ = kernels::dw_kernels<T>();
  int slots_ = 1;
  dim_t taps_ = 1, positions_ = 1, in_positions_ = 1, chunks_ = 1, block_ = 1;
  std::size_t partial_bytes_ = 0, zeros_bytes_ = 0, copies_bytes_ = 0, slot_bytes_ = 0;
  std::size_t x_copy_bytes_ = 0, workspace_bytes_ = 0;
};

class DepthwiseWeights final : public Algorithm {
 public:
  const char* name() const override { return "depthwise_wgrad"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_weights) return "only the weight-gradient pass";
    if (g.Cg() != 1 || g.Kg() != 1) return "not depthwise (needs groups == C == K)";
    if (g.N == 0 || g.C == 0) return "empty batch or no channels";
    // Saturating arithmetic throughout: a geometry's extents each fit in int64, but their
    // products need not (kernel x kernel, N x C x extents), and a wrapped product can pass a bound.
    Fits f;
    dim_t taps = 1;
    for (dim_t k : g.kernel) taps = std::min<dim_t>(f.mul(taps, k), kMaxTaps + 1);
    if (taps > kMaxTaps) return "more than 4096 kernel taps";
    if (taps > kMaxPartials / g.C) return "taps x channels above 2^22 (the partial sums)";
    for (int a = 0; a < g.rank(); ++a)
      if (g.kernel[a] > kMaxTable / std::max<dim_t>(g.out[a], 1))
        return rule("axis ", a, ": offset table of kernel x output above 2^22 entries (kernel ",
                    g.kernel[a], " x output ", g.out[a], ")");
    // The workspace of a channels-first plan holds x and dy channels-last.
    const dim_t images = f.mul(g.N, g.C);
    const dim_t sum = f.add(f.mul(images, f.product(g.in)), f.mul(images, f.product(g.out)));
    if (!f || sum > (dim_t{1} << 56))
      return "the channels-last copies of x and dy would not fit in memory";
    return {};
  }

  std::string pays(const Geometry& g, Op) const override {
    if (g.C < kChannelVectorMin) return "fewer than 16 channels: depthwise's planes vectorise rows";
    // Channels-first pays the transposes of x and dy; depthwise's planes read the views in
    // place. Measured with both forced (1 thread, Xeon AVX-512, ms, planes / this):
    // mbv2_dw3x3s2_b16 0.93 / 2.50, effnet_dw5s2_b8 0.96 / 1.29, convnext_dw7_b1 0.63 / 1.32,
    // mbv2_dw3x3_b1 0.35 / 0.66.
    // With dw_weights_taps the channels-last accumulation is fast enough that at 7x7 it pays
    // for the transposes too (1 thread, Zen 5, ms, planes / this, both forced, median of 7 on a
    // busy machine): convnext_dw7_b1 0.46 / 0.38. At 5x5 it is a toss-up that the machine's
    // load decides (effnet_dw5s2_b8 0.55 / 0.44 when quiet, 0.82 / 0.92 busy: the transposes
    // stream x and dy through memory), and at 3x3 the transposes dominate (mbv2_dw3x3s2_b16
    // 0.54 / 0.87, mbv2_dw3x3 N 1 0.17 / 0.19).
    dim_t taps = 1;
    for (dim_t k : g.kernel) taps = std::min<dim_t>(taps * k, kMaxTaps);
    if (g.layout != Layout::channels_last && taps < kTransposedTapsMin)
      return "channels-first with under 36 taps: depthwise's planes (no transposes of x and dy) "
             "measured faster";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<WeightsExecutor>(g);
  }
};

}  // namespace

const Algorithm& depthwise_weights_algorithm() {
  static const DepthwiseWeights instance;
  return instance;
}

}  // namespace convnd::detail
