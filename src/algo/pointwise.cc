// # 1x1 (pointwise) convolution as a direct GEMM, channels-first, nothing packed but weights
//
// With a 1x1 kernel, stride 1 and no padding, a channels-first image is already a matrix:
// X[C x P] with P = prod(S) positions, each channel a contiguous run; so is the output,
// Y[K x P]. Per image and group, Y = W[K x C] . X. The microkernel (kernels/gemm_bptr.h) takes
// mr output channels as rows (their weights broadcast from a packed panel) and nr consecutive
// positions as columns, loading each input channel's nr positions in place through a pointer,
// and accumulating straight into Y: no im2col, no input copy, no transposed store. Only the
// ends (P % nr positions, K % mr channels) go through small zero-padded scratch tiles.
//
// implicit_gemm serves the same layers with positions as rows, which for channels-first means
// a transposing store of every output. Channels-last inputs (channels contiguous) are handed to
// pointwise_channels_last.cc (positions as rows, summed in place in y), and inputs whose
// positions are not evenly spaced to implicit_gemm. An output whose positions are not
// dense (channels-last, or the every-s-th-element phases of a transposed convolution) is
// written from the scratch tiles, element by element.
//
// Determinism: each output element starts at the bias and adds the C/groups products in
// kc-slices in channel order, inside one task, whatever the thread count.
#include "algo/pointwise.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "algo/implicit_gemm.h"
#include "algo/pointwise_channels_last.h"
#include "algo/weight_cache.h"
#include "api/checked.h"
#include "kernels/gemm_bptr.h"
#include "kernels/gemm_tile.h"
#include "runtime/buffer.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

// Position tiles of nr per task: 4 rather than 8, so that even a batch-1 56x56 layer has
// enough tasks without splitting the output channels (measured: r50_res2_1x1_b1 about 10 %
// faster; each channel split re-reads the position tile's x from L3).
constexpr dim_t kTilesPerTask = 4;


// True when the spatial axes of a (canonical) view form one dense run of positions.
bool dense_positions(const std::vector<dim_t>& strides, const std::vector<dim_t>& extents) {
  dim_t expect = 1;
  for (int a = static_cast<int>(extents.size()) - 1; a >= 0; --a) {
    if (extents[a] != 1 && strides[2 + a] != expect) return false;
    expect *= extents[a];
  }
  return true;
}

template <class T>
class PointwiseExecutor final : public Executor {
 public:
  PointwiseExecutor(const Geometry& g, std::unique_ptr<Executor> fallback)
      : g_(g),
        fallback_(std::move(fallback)),
        kernel_(kernels::bptr_kernel<T>(kernels::BptrTile::wide)) {
    mr_ = static_cast<dim_t>(kernel_.mr);
    nr_ = static_cast<dim_t>(kernel_.nr);
    // Sizes checked although reject() bounds them: a wrapped size would under-allocate.
    const char* ws = "workspace";
    positions_ = checked_product(g.in, "input");
    k_tiles_ = (g.Kg() + mr_ - 1) / mr_;
    kc_max_ = std::min<dim_t>(g.Cg(), sizeof(T) == 4 ? 256 : 128);
    pos_blocks_ = (positions_ + nr_ * kTilesPerTask - 1) / (nr_ * kTilesPerTask);
    const dim_t row_tasks = g.N * g.groups * pos_blocks_;
    // Few position blocks (7x7 at batch 1: one): split the channel tiles over tasks as well,
    // by the problem only, so both cores work and results stay thread-count independent; only
    // below 8 tasks, as every part reads the position tile's x again.
    parts_ = row_tasks >= 8 ? 1 : std::min(k_tiles_, (8 + row_tasks - 1) / row_tasks);
    per_part_ = (k_tiles_ + parts_ - 1) / parts_;
    slots_ = thread_slots();
    weights_bytes_ = checked_bytes64(
        checked_mul(checked_mul(checked_mul(g.groups, k_tiles_, ws), g.Cg(), ws), mr_, ws),
        sizeof(T), ws);
    Carve sizing;
    carve_slot(sizing);
    if (!sizing.ok()) throw_overflow(ws);
    slot_bytes_ = sizing.bytes();
    own_bytes_ = checked_size_add(
        weights_bytes_, checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  // One thread's scratch, laid out by the same sequence that sizes it.
  struct Slot {
    const T** bptr;  // kc_max B row pointers
    T* bpanel;       // kc_max x nr: B rows of a partial position tile, zero-padded
    T* ctile;        // per_part tiles of mr x nr: the partial output tiles
    dim_t* yoff;     // nr output offsets, when the positions are not dense
  };
  Slot carve_slot(Carve& c) const {
    Slot sl;
    sl.bptr = c.take<const T*>(static_cast<std::size_t>(kc_max_));
    sl.bpanel = c.take<T>(static_cast<std::size_t>(kc_max_ * nr_));
    sl.ctile = c.take<T>(static_cast<std::size_t>(per_part_) * static_cast<std::size_t>(mr_ * nr_));
    sl.yoff = c.take<dim_t>(static_cast<std::size_t>(nr_));
    return sl;
  }

  std::size_t workspace_bytes() const override {
    return fallback_ ? std::max(own_bytes_, fallback_->workspace_bytes()) : own_bytes_;
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // The input must be read in place (channels-first, dense positions); the output is written
    // in place when its positions are dense too, else through the scratch tiles (e.g. the
    // every-other-element outputs of a transposed convolution's stride phases, or a
    // channels-last output).
    const bool direct = args.a.strides[1] != 1 && dense_positions(args.a.strides, g_.in);
    if (!direct) return fallback_->run(args, workspace, threads);
    const bool y_in_place = dense_positions(args.out.strides, g_.out);
    auto* ws = static_cast<char*>(workspace);
    const int th = std::min(threads, slots_);
    // One job (runtime/threads.h): phase 0 packs the weights (unless a constant-weights plan
    // keeps them), phase 1 is the GEMM sweep.
    const bool pack_here = !g_.constant_weights;
    T* own = reinterpret_cast<T*>(ws);
    const T* a = pack_here ? own : packed_weights(args.b, own, th);
    parallel_phases({pack_here ? g_.groups * k_tiles_ : 0, g_.N * g_.groups * pos_blocks_ * parts_},
                    th, [&](int phase, dim_t task) {
      if (phase == 0) return pack_tile(args.b, own, task);
      char* slot = ws + weights_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
      const dim_t part = task % parts_;
      const dim_t block = (task / parts_) % pos_blocks_;
      const dim_t grp = (task / (parts_ * pos_blocks_)) % g_.groups;
      const dim_t n = task / (parts_ * pos_blocks_ * g_.groups);
      run_task(args, a, n, grp, block, part * per_part_,
               std::min(k_tiles_, (part + 1) * per_part_), y_in_place, slot);
    });
  }

 private:
  const T* packed_weights(const ConstTensorView& w, T* workspace, int threads) const {
    return weights_cache_.get<T>(g_.constant_weights, w, 0, weights_bytes_, workspace,
                                 [&](T* out) { pack_weights(w, out, threads); });
  }

  // A[group][k tile][c][mr]: the mr output channels of a tile side by side for every input
  // channel; rows past Kg are zero.
  void pack_weights(const ConstTensorView& w, T* out, int threads) const {
    parallel_tasks(g_.groups * k_tiles_, threads, [&](dim_t task) { pack_tile(w, out, task); });
  }

  void pack_tile(const ConstTensorView& w, T* out, dim_t task) const {
    const T* src = static_cast<const T*>(w.data);
    const dim_t grp = task / k_tiles_, kt = task % k_tiles_;
    T* panel = out + task * g_.Cg() * mr_;
    for (dim_t i = 0; i < mr_; ++i) {
      const dim_t k = kt * mr_ + i;
      if (k >= g_.Kg()) {
        for (dim_t c = 0; c < g_.Cg(); ++c) panel[c * mr_ + i] = T(0);
        continue;
      }
      const T* wk = src + (grp * g_.Kg() + k) * w.strides[0];
      for (dim_t c = 0; c < g_.Cg(); ++c) panel[c * mr_ + i] = wk[c * w.strides[1]];
    }
  }

  // Positions of block `block`, k tiles [kt0, kt1) of image n, group grp.
  void run_task(const OpArgs& args, const T* a, dim_t n, dim_t grp, dim_t block, dim_t kt0,
                dim_t kt1, bool y_in_place, char* slot) const {
    const auto full = [&](dim_t kt, dim_t np) {
      return y_in_place && np == nr_ && (kt + 1) * mr_ <= g_.Kg();
    };
    Carve carve(slot);
    const Slot sl = carve_slot(carve);
    const T** bptr = sl.bptr;
    T* bpanel = sl.bpanel;
    T* ctile = sl.ctile;
    dim_t* yoff = sl.yoff;
    const T* x = static_cast<const T*>(args.a.data) + n * args.a.strides[0] +
                 grp * g_.Cg() * args.a.strides[1];
    const dim_t xs1 = args.a.strides[1];
    T* y = static_cast<T*>(args.out.data) + n * args.out.strides[0] +
           grp * g_.Kg() * args.out.strides[1];
    const dim_t ys1 = args.out.strides[1];
    const T* bias = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    const dim_t bs = args.bias ? args.bias->strides[0] : 0;
    const dim_t p_begin = block * nr_ * kTilesPerTask;
    const dim_t p_end = std::min(positions_, p_begin + nr_ * kTilesPerTask);

    for (dim_t p0 = p_begin; p0 < p_end; p0 += nr_) {
      const dim_t np = std::min(nr_, p_end - p0);
      // 1. Every output tile of this position tile starts at the bias, in place in y (the
      //    full ones) or in ctile (those with fewer than mr channels or nr positions, which
      //    then take the whole c loop one at a time below).
      for (dim_t kt = kt0; kt < kt1; ++kt) {
        if (!full(kt, np)) continue;
        for (dim_t i = 0; i < mr_; ++i) {
          const T v = bias ? bias[(grp * g_.Kg() + kt * mr_ + i) * bs] : T(0);
          std::fill(y + (kt * mr_ + i) * ys1 + p0, y + (kt * mr_ + i) * ys1 + p0 + nr_, v);
        }
      }
      // 2. The reduction in kc-slices: nr positions of kc channels, read in place, times each
      //    full k tile's weights.
      for (dim_t c0 = 0; c0 < g_.Cg() && np == nr_; c0 += kc_max_) {
        const dim_t kc = std::min(kc_max_, g_.Cg() - c0);
        for (dim_t c = 0; c < kc; ++c) bptr[c] = x + (c0 + c) * xs1 + p0;
        for (dim_t kt = kt0; kt < kt1; ++kt) {
          if (!full(kt, np)) continue;
          kernel_(static_cast<std::size_t>(kc), a + ((grp * k_tiles_ + kt) * g_.Cg() + c0) * mr_,
                  bptr, y + kt * mr_ * ys1 + p0, static_cast<std::size_t>(ys1));
        }
      }
      // 3. Partial tiles (fewer than mr channels or nr positions): accumulated in ctile, one
      //    mr x nr scratch tile per k tile, with each slice's B rows copied (zero-padded) once
      //    and shared by all of them; then the valid part copied out.
      bool any_partial = false;
      for (dim_t kt = kt0; kt < kt1; ++kt) any_partial = any_partial || !full(kt, np);
      if (!any_partial) continue;
      for (dim_t kt = kt0; kt < kt1; ++kt) {
        if (full(kt, np)) continue;
        T* ct = ctile + (kt - kt0) * mr_ * nr_;
        const dim_t nk = std::min(mr_, g_.Kg() - kt * mr_);
        for (dim_t i = 0; i < mr_; ++i) {
          const T v = bias && i < nk ? bias[(grp * g_.Kg() + kt * mr_ + i) * bs] : T(0);
          std::fill(ct + i * nr_, ct + (i + 1) * nr_, v);
        }
      }
      for (dim_t c0 = 0; c0 < g_.Cg(); c0 += kc_max_) {
        const dim_t kc = std::min(kc_max_, g_.Cg() - c0);
        for (dim_t c = 0; c < kc; ++c) {
          const T* row = x + (c0 + c) * xs1 + p0;
          if (np == nr_) {
            bptr[c] = row;
            continue;
          }
          T* dst = bpanel + c * nr_;
          std::memcpy(dst, row, sizeof(T) * np);
          std::fill(dst + np, dst + nr_, T(0));
          bptr[c] = dst;
        }
        for (dim_t kt = kt0; kt < kt1; ++kt) {
          if (full(kt, np)) continue;
          kernel_(static_cast<std::size_t>(kc), a + ((grp * k_tiles_ + kt) * g_.Cg() + c0) * mr_,
                  bptr, ctile + (kt - kt0) * mr_ * nr_, static_cast<std::size_t>(nr_));
        }
      }
      // Output offsets of the tile's positions, when they are not one dense run.
      if (!y_in_place) {
        const int d = g_.rank();
        for (dim_t j = 0; j < np; ++j) {
          dim_t p = p0 + j, off = 0;
          for (int ax = d - 1; ax >= 0; --ax) {
            off += (p % g_.out[ax]) * args.out.strides[2 + ax];
            p /= g_.out[ax];
          }
          yoff[j] = off;
        }
      }
      for (dim_t kt = kt0; kt < kt1; ++kt) {
        if (full(kt, np)) continue;
        const dim_t nk = std::min(mr_, g_.Kg() - kt * mr_);
        for (dim_t i = 0; i < nk; ++i) {
          const T* src = ctile + ((kt - kt0) * mr_ + i) * nr_;
          T* yk = y + (kt * mr_ + i) * ys1;
          if (y_in_place) {
            std::memcpy(yk + p0, src, sizeof(T) * np);
          } else {
            for (dim_t j = 0; j < np; ++j) yk[yoff[j]] = src[j];
          }
        }
      }
    }
  }

  Geometry g_;
  std::unique_ptr<Executor> fallback_;  // channels-last, then implicit_gemm for scattered views
  kernels::BptrKernel<T> kernel_;       // the wide tile, bound once: mr_ x nr_
  dim_t mr_ = 0, nr_ = 0, positions_ = 0, k_tiles_ = 0, kc_max_ = 0, pos_blocks_ = 0;
  dim_t parts_ = 1, per_part_ = 1;
  int slots_ = 1;
  std::size_t weights_bytes_ = 0, slot_bytes_ = 0, own_bytes_ = 0;
  PackedWeightsCache weights_cache_;
};

class Pointwise final : public Algorithm {
 public:
  const char* name() const override { return "pointwise"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward pass only";
    if (g.N == 0) return "empty batch";
    for (int a = 0; a < g.rank(); ++a)
      if (g.kernel[a] != 1 || g.stride[a] != 1 || g.lo[a] != 0 || g.hi[a] != 0 ||
          g.out[a] != g.in[a])
        return "not a 1x1 stride-1 unpadded convolution";
    // Layouts it cannot read in place go to implicit_gemm, which must accept the problem.
    std::string why = implicit_gemm_algorithm().reject(g, op);
    if (!why.empty()) return "implicit_gemm (its fallback) rejects it: " + why;
    Fits f;
    const dim_t bytes = f.mul(f.mul(g.groups, f.add(g.Kg(), 16)), g.Cg());
    if (!f || bytes > (dim_t{1} << 30)) return "packed weights over 2^30 elements";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op op) const override {
    // Channels-last views go to pointwise_channels_last.cc, and what neither reads in place
    // (scattered positions) to implicit_gemm.
    auto fallback = make_pointwise_channels_last(g, implicit_gemm_algorithm().make_executor(g, op));
    return make_for_dtype<PointwiseExecutor>(g, std::move(fallback));
  }
};

}  // namespace

const Algorithm& pointwise_algorithm() {
  static const Pointwise instance;
  return instance;
}

}  // namespace convnd::detail
