// # Winograd convolution F(m, 3) for 3-tap, stride-1 kernels in 1-D, 2-D and 3-D
//
// A tile of m^d outputs needs alpha^d inputs (alpha = m + 2). Transformed, the tile's
// convolution is an element-wise product over alpha^d "frequencies" xi, summed over the input
// channels, so per xi it is one GEMM:
//     M[xi](tiles x K) = V[xi](tiles x C) . U[xi](C x K)
// with V = BT d B (input transform), U = G g GT (weight transform, once per Plan when the
// weights are promised constant) and y = AT M A (output transform). Direct convolution spends
// 3^d multiplies per output and channel pair; this spends alpha^d / m^d: 2.25x fewer for
// F(2x2, 3x3), 4x for F(4x4), 5.06x for F(6x6), 3.38x for F(2x2x2, 3x3x3).
//
// The work runs in super blocks of tiles, small enough that V and M stay in the caches, each in
// three parallel sweeps:
//   1. input transform: up to kBlockTiles tiles at once (the lanes of the transform), each sample
//      gathered through per-axis coordinate tables that already hold the padding mode;
//   2. per (xi, group, column block of K) the GEMM on the existing microkernel (kernels/
//      gemm_tile.h): rows are tiles (V packed as the A panel), columns output channels;
//   3. output transform over nr output channels at once, plus bias, written through the
//      output view's strides (either layout).
// Dilation needs no phase copies: an axis is tiled per dilation phase (outputs p, p + dil, ..),
// and a tile's inputs are then dil apart; the coordinate tables take care of it.
//
// Precision: the transforms multiply by constants up to 21/4 (F(6, 3)) and cancel, so the
// result is less accurate than direct summation; the bounds are measured, documented in
// docs/winograd.md and reported by the Plan. PlanOptions::precision = highest never uses it.
// Determinism: every output element is computed by one task in a fixed order, the super blocks
// and tasks are fixed by the problem, not by the thread count.
#include "algo/winograd.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "algo/weight_cache.h"
#include "algo/winograd_matrices.h"
#include "algo/winograd_tiles.h"
#include "api/checked.h"
#include "api/errors.h"
#include "kernels/gemm_tile.h"
#include "kernels/winograd_transform.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kBlockTiles = 48;    // most tiles per input transform (a multiple of every mr)
constexpr dim_t kChannelChunk = 32;  // input channels per input-transform task
constexpr dim_t kOutputTiles = 16;   // tiles per output-transform task
constexpr std::size_t kSuperBytes = 3 << 20;  // V + M of one super block, about L2 + some L3

std::size_t align64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

template <class T>
class WinogradExecutor final : public Executor {
 public:
  WinogradExecutor(const Geometry& g, int m) : g_(g), m_(m), grid_(g, m) {
    const WinogradMatrices& w = winograd_matrices(m);
    alpha_ = w.alpha;
    rank_ = g.rank();
    E_ = ipow(alpha_, rank_);
    outs_per_tile_ = ipow(m_, rank_);
    using kernels::WinogradMatrix;
    bt_id_ = m == 2 ? WinogradMatrix::bt2 : m == 4 ? WinogradMatrix::bt4 : WinogradMatrix::bt6;
    at_id_ = m == 2 ? WinogradMatrix::at2 : m == 4 ? WinogradMatrix::at4 : WinogradMatrix::at6;
    g_coef_ = w.g;
    tk_ = kernels::tile_kernel<T>();
    wk_ = &kernels::winograd_kernels<T>();
    mr_ = static_cast<dim_t>(tk_.mr);
    nr_ = static_cast<dim_t>(tk_.nr);
    // Sizes checked although reject() bounds them: a wrapped size would under-allocate.
    const char* ws = "workspace";
    kblocks_ = (g.Kg() + nr_ - 1) / nr_;
    kpad_ = kblocks_ * nr_;
    total_tiles_ = grid_.total();
    // Few tiles (small images at batch 1): a narrower block wastes fewer transform lanes.
    block_tiles_ = std::min(kBlockTiles, (total_tiles_ + mr_ - 1) / mr_ * mr_);
    const dim_t blocks = (total_tiles_ + block_tiles_ - 1) / block_tiles_;
    const dim_t lanes = checked_mul(E_, g.groups, ws);  // transform lanes of one tile, all groups
    const std::size_t per_block = checked_bytes64(
        checked_mul(checked_mul(lanes, block_tiles_, ws), checked_add(g.Cg(), kpad_, ws), ws),
        sizeof(T), ws);
    // At most a quarter of the blocks per super block, so that even small problems have
    // several super blocks for the threads to take whole (see run()).
    sb_blocks_ = std::clamp<dim_t>(
        std::min(static_cast<dim_t>(kSuperBytes / per_block), blocks / 4), 1, blocks);
    sb_tiles_ = sb_blocks_ * block_tiles_;
    supers_ = (blocks + sb_blocks_ - 1) / sb_blocks_;
    u_bytes_ =
        checked_bytes64(checked_mul(checked_mul(lanes, kpad_, ws), g.Cg(), ws), sizeof(T), ws);
    v_bytes_ =
        checked_bytes64(checked_mul(checked_mul(lanes, sb_tiles_, ws), g.Cg(), ws), sizeof(T), ws);
    m_bytes_ =
        checked_bytes64(checked_mul(checked_mul(lanes, sb_tiles_, ws), kpad_, ws), sizeof(T), ws);
    slots_ = thread_slots();
    scratch_bytes_ = align64(2 * sizeof(dim_t) * static_cast<std::size_t>(kBlockTiles * E_)) +
                     3 * align64(sizeof(T) * static_cast<std::size_t>(E_ * kBlockTiles));
    slot_bytes_ = checked_size_add(checked_size_add(scratch_bytes_, v_bytes_, ws), m_bytes_, ws);
    workspace_bytes_ = checked_size_add(
        u_bytes_, checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    char* ws = static_cast<char*>(workspace);
    const int th = std::min(threads, slots_);
    const T* u =
        weights_cache_.get<T>(g_.constant_weights, args.b, 0, u_bytes_, reinterpret_cast<T*>(ws),
                              [&](T* out) { transform_weights(args.b, out, th); });
    char* per_thread = ws + u_bytes_;  // slots: scratch, V, M
    // One job of up to four phases. Phase 0: whole super blocks, each taken by one thread with
    // its own V and M, no barriers and nothing shared; as many as divide evenly among the
    // threads (5 super blocks on 2 threads left one thread idle for a fifth of the run). The
    // remaining ones (fewer than the threads; at batch 1 often the only one) are shared by all
    // threads: phase 1 their input transforms, phase 2 their GEMMs, phase 3 their output
    // transforms, super block j in the V and M of slot j. Either way every output is computed by
    // the same instructions (super blocks are fixed by the problem), so the split may follow the
    // thread count without changing a bit.
    const dim_t rest = th > 1 ? supers_ % th : 0, whole = supers_ - rest;
    const SuperTasks st = super_tasks();
    parallel_phases({whole, rest * st.inputs, rest * st.gemms, rest * st.outputs}, th,
                    [&](int phase, dim_t task) {
                      if (phase == 0) {
                        run_super(args, u, task, per_thread, thread_index());
                        return;
                      }
                      const dim_t per = phase == 1 ? st.inputs : phase == 2 ? st.gemms : st.outputs;
                      const dim_t j = task / per;
                      run_super_task(args, u, whole + j, per_thread, static_cast<int>(j), phase,
                                     task % per);
                    });
  }

 private:
  // Tasks of each sweep of a full super block (a last, shorter one has fewer real ones; its
  // surplus tasks return at once).
  struct SuperTasks {
    dim_t inputs, gemms, outputs;
  };
  SuperTasks super_tasks() const {
    const dim_t cchunks = (g_.Cg() + kChannelChunk - 1) / kChannelChunk;
    const dim_t blocks = sb_blocks_;
    const dim_t ochunks = (sb_tiles_ + kOutputTiles - 1) / kOutputTiles;
    return {g_.groups * blocks * cchunks, E_ * g_.groups * kblocks_,
            g_.groups * ochunks * kblocks_};
  }
  std::size_t slot_offset(dim_t slot) const { return static_cast<std::size_t>(slot) * slot_bytes_; }

  // The three sweeps over super block s, one after the other on the calling thread, in the V
  // and M of slot `owner`.
  void run_super(const OpArgs& args, const T* u, dim_t s, char* slots, int owner) const {
    const SuperTasks st = super_tasks();
    for (int sweep = 1; sweep <= 3; ++sweep) {
      const dim_t n = sweep == 1 ? st.inputs : sweep == 2 ? st.gemms : st.outputs;
      for (dim_t t = 0; t < n; ++t) run_super_task(args, u, s, slots, owner, sweep, t);
    }
  }

  // Task t of sweep 1 (input transform), 2 (GEMM) or 3 (output transform) of super block s,
  // in the V and M of slot `owner`; the transforms' scratch is the running thread's slot.
  void run_super_task(const OpArgs& args, const T* u, dim_t s, char* slots, int owner, int sweep,
                      dim_t task) const {
    char* own = slots + slot_offset(owner);
    T* v = reinterpret_cast<T*>(own + scratch_bytes_);
    T* mm = reinterpret_cast<T*>(own + scratch_bytes_ + v_bytes_);
    char* scratch = slot(slots);
    const dim_t t0 = s * sb_tiles_;
    const dim_t tiles = std::min(sb_tiles_, total_tiles_ - t0);
    if (sweep == 1) {
      const dim_t cchunks = (g_.Cg() + kChannelChunk - 1) / kChannelChunk;
      const dim_t blocks = (tiles + block_tiles_ - 1) / block_tiles_;
      const dim_t cc = task % cchunks, b = (task / cchunks) % sb_blocks_;
      const dim_t grp = task / (cchunks * sb_blocks_);
      if (b >= blocks) return;
      transform_inputs(args.a, grp, t0, b, cc * kChannelChunk,
                       std::min(g_.Cg(), (cc + 1) * kChannelChunk), v, scratch);
    } else if (sweep == 2) {
      const dim_t panels = (tiles + mr_ - 1) / mr_;
      const dim_t kb = task % kblocks_, eg = task / kblocks_;  // eg = xi * groups + group
      const T* ub = u + (eg * kblocks_ + kb) * g_.Cg() * nr_;
      for (dim_t p = 0; p < panels; ++p) {
        T* c = mm + (eg * sb_tiles_ + p * mr_) * kpad_ + kb * nr_;
        for (dim_t i = 0; i < mr_; ++i) std::fill(c + i * kpad_, c + i * kpad_ + nr_, T(0));
        tk_.packed(static_cast<std::size_t>(g_.Cg()),
                   v + (eg * (sb_tiles_ / mr_) + p) * g_.Cg() * mr_, ub, c,
                   static_cast<std::size_t>(kpad_));
      }
    } else {
      const dim_t ochunks = (tiles + kOutputTiles - 1) / kOutputTiles;
      const dim_t full_ochunks = (sb_tiles_ + kOutputTiles - 1) / kOutputTiles;
      const dim_t kb = task % kblocks_, oc = (task / kblocks_) % full_ochunks;
      const dim_t grp = task / (kblocks_ * full_ochunks);
      if (oc >= ochunks) return;
      transform_outputs(args, grp, t0, oc * kOutputTiles,
                        std::min(tiles, (oc + 1) * kOutputTiles), kb, mm, scratch);
    }
  }

  char* slot(char* slots) const {
    return slots + static_cast<std::size_t>(thread_index()) * slot_bytes_;
  }
  T* slot_values(char* s, int which) const {
    return reinterpret_cast<T*>(
        s + align64(2 * sizeof(dim_t) * static_cast<std::size_t>(kBlockTiles * E_)) +
        which * align64(sizeof(T) * static_cast<std::size_t>(E_ * kBlockTiles)));
  }

  // U[xi][group][k block][c][nr] = (G g GT)[xi] of the 3^d taps of (k, c); zero for k >= Kg.
  // In double, all input channels of an output channel at once (they are the vector lanes),
  // rounded once.
  void transform_weights(const ConstTensorView& w, T* out, int threads) const {
    const T* src = static_cast<const T*>(w.data);
    const std::vector<dim_t> taps = tap_offsets(g_, w.strides);
    const dim_t slab = g_.Cg() * nr_;  // one (xi, group, k block)
    const std::size_t lanes = static_cast<std::size_t>(g_.Cg());
    parallel_tasks(g_.groups * kblocks_, threads, [&](dim_t task) {
      const dim_t grp = task / kblocks_, kb = task % kblocks_;
      std::vector<double> tile(static_cast<std::size_t>(E_) * lanes), res(tile.size()),
          tmp(tile.size());
      for (dim_t xi = 0; xi < E_; ++xi) {
        T* dst = out + ((xi * g_.groups + grp) * kblocks_ + kb) * slab;
        std::fill(dst, dst + slab, T(0));
      }
      for (dim_t j = 0; j < nr_ && kb * nr_ + j < g_.Kg(); ++j) {
        const T* wk = src + (grp * g_.Kg() + kb * nr_ + j) * w.strides[0];
        for (std::size_t i = 0; i < taps.size(); ++i)
          for (dim_t c = 0; c < g_.Cg(); ++c)
            tile[i * lanes + c] = static_cast<double>(wk[c * w.strides[1] + taps[i]]);
        kernels::winograd_apply<double>(rank_, alpha_, 3, g_coef_.data(), lanes, tile.data(),
                                        res.data(), tmp.data());
        for (dim_t xi = 0; xi < E_; ++xi) {
          T* dst = out + ((xi * g_.groups + grp) * kblocks_ + kb) * slab + j;
          for (dim_t c = 0; c < g_.Cg(); ++c) dst[c * nr_] = static_cast<T>(res[xi * lanes + c]);
        }
      }
    });
  }

  // Input transform of block b of the super block starting at tile t0, channels [c0, c1) of a
  // group: V[xi][group][panel][c][mr].
  void transform_inputs(const ConstTensorView& x, dim_t grp, dim_t t0, dim_t b, dim_t c0, dim_t c1,
                        T* v, char* s) const {
    dim_t* offs = reinterpret_cast<dim_t*>(s);  // [e][tile], then the gather's scratch
    T* gathered = slot_values(s, 0);
    T* transformed = slot_values(s, 1);
    T* tmp = slot_values(s, 2);
    const T* xd = static_cast<const T*>(x.data);
    const dim_t n = E_ * block_tiles_;
    grid_.input_offsets(x.strides, t0 + b * block_tiles_, block_tiles_, offs);
    const SampleGather<T> gather(*wk_, offs, n, x.strides[1], alpha_, block_tiles_, offs + n);
    const dim_t panels_sb = sb_tiles_ / mr_, panels_b = block_tiles_ / mr_;
    for (dim_t c = c0; c < c1; ++c) {
      const dim_t coff = (grp * g_.Cg() + c) * x.strides[1];
      gather.gather(xd, coff, coff + x.strides[1], c + 1 < c1, gathered);
      wk_->winograd_apply_known(bt_id_, rank_, static_cast<std::size_t>(block_tiles_), gathered,
                                transformed, tmp);
      for (dim_t xi = 0; xi < E_; ++xi)
        for (dim_t p = 0; p < panels_b; ++p) {
          T* dst =
              v + ((xi * g_.groups + grp) * panels_sb + b * panels_b + p) * g_.Cg() * mr_ + c * mr_;
          const T* src = transformed + xi * block_tiles_ + p * mr_;
          for (dim_t i = 0; i < mr_; ++i) dst[i] = src[i];
        }
    }
  }

  // Output transform of super-block tiles [l0, l1), output channels of column block kb of a
  // group, plus bias, into y.
  void transform_outputs(const OpArgs& args, dim_t grp, dim_t t0, dim_t l0, dim_t l1, dim_t kb,
                         const T* mm, char* s) const {
    T* gathered = slot_values(s, 0);
    T* result = slot_values(s, 1);
    T* tmp = slot_values(s, 2);
    dim_t* yoff = reinterpret_cast<dim_t*>(s);  // [output of the tile]; the input tables' room
    dim_t* place = yoff + outs_per_tile_;
    dim_t* all = place + outs_per_tile_;
    T* y = static_cast<T*>(args.out.data);
    const auto& ys = args.out.strides;
    const T* bias = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    const dim_t bs = args.bias ? args.bias->strides[0] : 0;
    for (dim_t l = l0; l < l1; ++l) {
      for (dim_t xi = 0; xi < E_; ++xi) {
        const T* src = mm + ((xi * g_.groups + grp) * sb_tiles_ + l) * kpad_ + kb * nr_;
        for (dim_t j = 0; j < nr_; ++j) gathered[xi * nr_ + j] = src[j];
      }
      wk_->winograd_apply_known(at_id_, rank_, static_cast<std::size_t>(nr_), gathered, result,
                                tmp);
      const dim_t k0 = grp * g_.Kg() + kb * nr_;
      const dim_t nk = std::min(nr_, g_.Kg() - kb * nr_);
      grid_.output_offsets(ys, t0 + l, 1, all);
      dim_t outs = 0;  // the tile's outputs inside y: offsets and places in `result`
      for (dim_t e = 0; e < outs_per_tile_; ++e)
        if (all[e] != kNoSample) {
          yoff[outs] = all[e];
          place[outs++] = e;
        }
      // Channels-last: a tile position's channels are adjacent, so channels innermost;
      // otherwise one channel plane at a time, whose positions of a tile row are adjacent.
      if (ys[1] == 1 || ys[1] == -1) {
        for (dim_t q = 0; q < outs; ++q) {
          const T* r = result + place[q] * nr_;
          T* yq = y + yoff[q] + k0 * ys[1];
          for (dim_t j = 0; j < nk; ++j) yq[j * ys[1]] = r[j] + (bias ? bias[(k0 + j) * bs] : T(0));
        }
      } else {
        for (dim_t j = 0; j < nk; ++j) {
          const T bj = bias ? bias[(k0 + j) * bs] : T(0);
          T* yj = y + (k0 + j) * ys[1];
          for (dim_t q = 0; q < outs; ++q) yj[yoff[q]] = result[place[q] * nr_ + j] + bj;
        }
      }
    }
  }

  Geometry g_;
  kernels::TileKernel<T> tk_;  // bound once: its tile is mr_ x nr_
  // The transforms and gathers, bound with tk_ so that one plan runs one ISA's kernels.
  const kernels::WinogradKernels<T>* wk_ = nullptr;
  int m_ = 0, alpha_ = 0, rank_ = 0;
  dim_t E_ = 0, outs_per_tile_ = 0, mr_ = 0, nr_ = 0, kblocks_ = 0, kpad_ = 0;
  TileGrid grid_;
  dim_t total_tiles_ = 0, block_tiles_ = 0, sb_blocks_ = 0, sb_tiles_ = 0;
  dim_t supers_ = 0;
  kernels::WinogradMatrix bt_id_{}, at_id_{};  // the input and output transforms, compiled in
  std::vector<double> g_coef_;                 // G, for the weight transform (in double)
  std::size_t u_bytes_ = 0, v_bytes_ = 0, m_bytes_ = 0, scratch_bytes_ = 0, slot_bytes_ = 0;
  std::size_t workspace_bytes_ = 0;
  int slots_ = 1;
  PackedWeightsCache weights_cache_;
};

}  // namespace

// The error bound: direct summation's n * u (n = the reduction length) times a factor per
// tile size and rank, twice the largest ratio of Winograd's error to direct summation's on the
// same data measured by scripts/winograd_error.py (docs/winograd.md), as a power of two.
// Forward F(m, 3): F(2) up to 1.33x -> 4; F(4) 8.1x, 13x, 24x in 1-D, 2-D, 3-D -> 16, 32, 64;
// F(6) 5.6x, 28x in 1-D, 2-D -> 16, 64. The weight gradient's F(3, m) measured within the
// same factors: F(3, 2) up to 1.33x; F(3, 4) 3.2x, 9.7x, 24x. PlanOptions::precision standard
// admits factors <= 64.
double winograd_bound_factor(int m, int rank) {
  if (m == 2) return 4;
  if (m == 4) return rank == 1 ? 16 : rank == 2 ? 32 : 64;
  return rank == 1 ? 16 : 64;
}

namespace {

class Winograd final : public Algorithm {
 public:
  Winograd(int m, const char* name, int max_rank) : m_(m), name_(name), max_rank_(max_rank) {}
  const char* name() const override { return name_; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward pass only (backward-data reaches it via bwd_data_phases)";
    if (g.rank() > max_rank_)
      return rule("rank ", g.rank(), " over ", max_rank_, " (tiles of ", m_ + 2, "^rank samples)");
    if (std::string why = winograd_shape_rejection(g, m_); !why.empty()) return why;
    // Bound the transformed sizes (saturating: N x tiles x ... need not fit in int64).
    Fits f;
    dim_t tiles = g.N, weights = f.mul(g.K, g.Cg());
    for (int a = 0; a < g.rank(); ++a) {
      tiles = f.mul(tiles, g.out[a] / m_ + std::min(g.dil[a], g.out[a]));
      weights = f.mul(weights, m_ + 2);
    }
    if (!f || tiles > dim_t{1} << 50 || f.mul(weights, 8) > dim_t{1} << 40)
      return "transformed sizes over 2^40 bytes";
    return {};
  }

  std::string pays(const Geometry& g, Op op) const override { return winograd_pays(g, op, m_); }

  double error_bound(const Geometry& g, Op op) const override {
    return winograd_bound_factor(m_, g.rank()) * Algorithm::error_bound(g, op);
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<WinogradExecutor>(g, m_);
  }

 private:
  int m_;
  const char* name_;
  int max_rank_;
};

}  // namespace

const Algorithm& winograd_f2_algorithm() {
  static const Winograd instance(2, "winograd_f2", 3);
  return instance;
}
const Algorithm& winograd_f4_algorithm() {
  static const Winograd instance(4, "winograd_f4", 3);
  return instance;
}
const Algorithm& winograd_f6_algorithm() {
  static const Winograd instance(6, "winograd_f6", 2);
  return instance;
}

}  // namespace convnd::detail
