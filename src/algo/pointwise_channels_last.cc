// # 1x1 convolution on channels-last data: positions as rows, summed in place
//
// With a 1x1 kernel, stride 1 and no padding, a channels-last image is the matrix X[P x C] (row
// p: one position's C channels) and its output Y[P x K]; per image and group, Y = X . W^T. The
// row-pointer microkernel (kernels::gemm_tile_rows) takes mr positions as the rows, each read in
// place over a kc-slice of channels, and nr output channels as the columns, from weights packed
// once per run into nr-wide panels, and accumulates straight into y, whose rows (positions) are
// evenly spaced. There is no accumulator buffer and no store pass: implicit_gemm, which served
// these layers before, sums into a per-task buffer and copies it out.
//
// A task is a block of position tiles of one image and group, and a range of column blocks;
// for each column block and kc-slice its weight panel (kc x nr, 16 KiB for f32) stays in L1
// while the block's position tiles go by. The last, partial tiles (fewer than mr positions,
// fewer than nr channels) are summed in a scratch tile and copied out.
//
// Determinism: each output element starts at the bias and adds its C/groups products in
// kc-slices in channel order, inside one task, whatever the thread count.
#include "algo/pointwise_channels_last.h"

#include <algorithm>
#include <vector>

#include "algo/weight_cache.h"
#include "api/checked.h"
#include "kernels/gemm_tile.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kTilesPerTask = 8;  // position tiles of mr per task
// Reduction slice: kc x nr weights of 128 x 32 floats are 16 KiB, which stay in L1 (32 KiB on
// Zen 4) beside the rows of x.
constexpr dim_t kSlice = 128;
// Fewer position tasks than this and the column blocks are split over tasks too.
constexpr dim_t kTasksWanted = 8;

// The element step between consecutive positions when the spatial axes of a view flatten into
// one evenly spaced run (0 when they do not).
dim_t position_step(const std::vector<dim_t>& strides, const std::vector<dim_t>& extents) {
  const int d = static_cast<int>(extents.size());
  const dim_t step = strides[2 + d - 1];
  dim_t expect = step;
  for (int a = d - 1; a >= 0; --a) {
    if (extents[a] != 1 && strides[2 + a] != expect) return 0;
    expect *= extents[a];
  }
  return step;
}

template <class T>
class ChannelsLastExecutor final : public Executor {
 public:
  ChannelsLastExecutor(const Geometry& g, std::unique_ptr<Executor> fallback)
      : g_(g), fallback_(std::move(fallback)), tk_(kernels::tile_kernel<T>()) {
    mr_ = static_cast<dim_t>(tk_.mr);
    nr_ = static_cast<dim_t>(tk_.nr);
    const char* ws = "workspace";
    positions_ = checked_product(g.in, "input");
    col_blocks_ = (g.Kg() + nr_ - 1) / nr_;
    kc_max_ = std::min(g.Cg(), kSlice);
    pos_blocks_ = (positions_ + mr_ * kTilesPerTask - 1) / (mr_ * kTilesPerTask);
    const dim_t row_tasks = checked_mul(checked_mul(g.N, g.groups, ws), pos_blocks_, ws);
    parts_ = row_tasks >= kTasksWanted
                 ? 1
                 : std::min(col_blocks_, (kTasksWanted + row_tasks - 1) / row_tasks);
    per_part_ = (col_blocks_ + parts_ - 1) / parts_;
    weights_bytes_ = checked_bytes64(
        checked_mul(checked_mul(checked_mul(g.groups, col_blocks_, ws), g.Cg(), ws), nr_, ws),
        sizeof(T), ws);
    Carve sizing;
    carve_slot(sizing);
    if (!sizing.ok()) throw_overflow(ws);
    slot_bytes_ = sizing.bytes();
    slots_ = thread_slots();
    own_bytes_ = checked_size_add(
        weights_bytes_, checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  std::size_t workspace_bytes() const override {
    return std::max(own_bytes_, fallback_->workspace_bytes());
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    const dim_t xstep = position_step(args.a.strides, g_.in);
    const dim_t ystep = position_step(args.out.strides, g_.out);
    if (args.a.strides[1] != 1 || args.out.strides[1] != 1 || xstep == 0 || ystep == 0)
      return fallback_->run(args, workspace, threads);
    auto* ws = static_cast<char*>(workspace);
    const int th = std::min(threads, slots_);
    // One job: phase 0 packs the weights (unless a constant-weights plan keeps them), phase 1
    // is the sweep.
    const bool pack_here = !g_.constant_weights;
    T* own = reinterpret_cast<T*>(ws);
    const T* w = pack_here ? own : weights_cache_.get<T>(true, args.b, 1, weights_bytes_, own,
                                                         [&](T* out) {
                                                           for (dim_t p = 0; p < g_.groups * col_blocks_; ++p)
                                                             pack_panel(args.b, out, p);
                                                         });
    parallel_phases({pack_here ? g_.groups * col_blocks_ : 0, g_.N * g_.groups * pos_blocks_ * parts_},
                    th, [&](int phase, dim_t task) {
      if (phase == 0) return pack_panel(args.b, own, task);
      Carve carve(ws + weights_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_);
      const Slot sl = carve_slot(carve);
      const dim_t part = task % parts_;
      const dim_t block = (task / parts_) % pos_blocks_;
      const dim_t grp = (task / (parts_ * pos_blocks_)) % g_.groups;
      const dim_t n = task / (parts_ * pos_blocks_ * g_.groups);
      run_task(args, w, xstep, ystep, n, grp, block, part * per_part_,
               std::min(col_blocks_, (part + 1) * per_part_), sl);
    });
  }

 private:
  struct Slot {
    const T** rows;  // mr row pointers
    T* tile;         // mr x nr scratch tile
  };
  Slot carve_slot(Carve& c) const {
    Slot sl;
    sl.rows = c.take<const T*>(static_cast<std::size_t>(mr_));
    sl.tile = c.take<T>(static_cast<std::size_t>(mr_ * nr_));
    return sl;
  }

  // W[group][column block][c][nr]: output channel b * nr + j of the group in column j, zero past
  // Kg. One task per panel.
  void pack_panel(const ConstTensorView& w, T* out, dim_t panel_index) const {
    const T* src = static_cast<const T*>(w.data);
    const dim_t grp = panel_index / col_blocks_, b = panel_index % col_blocks_;
    T* panel = out + panel_index * g_.Cg() * nr_;
    for (dim_t j = 0; j < nr_; ++j) {
      const dim_t k = b * nr_ + j;
      const T* wk = k < g_.Kg() ? src + (grp * g_.Kg() + k) * w.strides[0] : nullptr;
      for (dim_t c = 0; c < g_.Cg(); ++c) panel[c * nr_ + j] = wk ? wk[c * w.strides[1]] : T(0);
    }
  }

  // Position tiles of block `block` of image n, group grp, column blocks [b0, b1).
  void run_task(const OpArgs& args, const T* w, dim_t xstep, dim_t ystep, dim_t n, dim_t grp,
                dim_t block, dim_t b0, dim_t b1, const Slot& sl) const {
    const T* x = static_cast<const T*>(args.a.data) + n * args.a.strides[0] + grp * g_.Cg();
    T* y = static_cast<T*>(args.out.data) + n * args.out.strides[0] + grp * g_.Kg();
    const T* bias = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    const dim_t bs = args.bias ? args.bias->strides[0] : 0;
    const auto bias_of = [&](dim_t k) { return bias ? bias[(grp * g_.Kg() + k) * bs] : T(0); };
    const dim_t p_begin = block * mr_ * kTilesPerTask;
    const dim_t p_end = std::min(positions_, p_begin + mr_ * kTilesPerTask);
    const dim_t full_end = p_begin + (p_end - p_begin) / mr_ * mr_;  // end of the full tiles
    const auto ldy = static_cast<std::size_t>(ystep);

    for (dim_t b = b0; b < b1; ++b) {
      const dim_t k0 = b * nr_, nk = std::min(nr_, g_.Kg() - k0);
      const T* panel = w + (grp * col_blocks_ + b) * g_.Cg() * nr_;
      if (nk == nr_) {
        // Full tiles, in place: y starts at the bias, then each kc-slice's panel serves every
        // position tile of the block.
        for (dim_t p = p_begin; p < full_end; ++p)
          for (dim_t j = 0; j < nr_; ++j) y[p * ystep + k0 + j] = bias_of(k0 + j);
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += kc_max_) {
          const dim_t kc = std::min(kc_max_, g_.Cg() - c0);
          for (dim_t p0 = p_begin; p0 < full_end; p0 += mr_) {
            for (dim_t i = 0; i < mr_; ++i) sl.rows[i] = x + (p0 + i) * xstep + c0;
            tk_.rows(static_cast<std::size_t>(kc), sl.rows, panel + c0 * nr_, y + p0 * ystep + k0,
                     ldy);
          }
        }
      }
      // Partial tiles (the block's last positions, or the last column block's channels) in
      // the scratch tile; rows past the valid ones repeat the first (their sums are dropped).
      for (dim_t p0 = nk == nr_ ? full_end : p_begin; p0 < p_end; p0 += mr_) {
        const dim_t np = std::min(mr_, p_end - p0);
        for (dim_t i = 0; i < mr_; ++i)
          for (dim_t j = 0; j < nr_; ++j) sl.tile[i * nr_ + j] = j < nk ? bias_of(k0 + j) : T(0);
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += kc_max_) {
          const dim_t kc = std::min(kc_max_, g_.Cg() - c0);
          for (dim_t i = 0; i < mr_; ++i) sl.rows[i] = x + (p0 + (i < np ? i : 0)) * xstep + c0;
          tk_.rows(static_cast<std::size_t>(kc), sl.rows, panel + c0 * nr_, sl.tile,
                   static_cast<std::size_t>(nr_));
        }
        for (dim_t i = 0; i < np; ++i)
          std::copy(sl.tile + i * nr_, sl.tile + i * nr_ + nk, y + (p0 + i) * ystep + k0);
      }
    }
  }

  Geometry g_;
  std::unique_ptr<Executor> fallback_;  // implicit_gemm, for views that do not qualify
  kernels::TileKernel<T> tk_;           // bound once: its tile is mr_ x nr_
  dim_t mr_ = 0, nr_ = 0, positions_ = 0, col_blocks_ = 0, kc_max_ = 0, pos_blocks_ = 0;
  dim_t parts_ = 1, per_part_ = 1;
  int slots_ = 1;
  std::size_t weights_bytes_ = 0, slot_bytes_ = 0, own_bytes_ = 0;
  PackedWeightsCache weights_cache_;
};

}  // namespace

std::unique_ptr<Executor> make_pointwise_channels_last(const Geometry& g,
                                                       std::unique_ptr<Executor> fallback) {
  return make_for_dtype<ChannelsLastExecutor>(g, std::move(fallback));
}

}  // namespace convnd::detail
