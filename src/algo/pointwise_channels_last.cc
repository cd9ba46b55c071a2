// # 1x1 convolution on channels-last data: positions as rows, summed in place
//
// With a 1x1 kernel, stride 1 and no padding, a channels-last image is the matrix X[P x C] (row
// p: one position's C channels) and its output Y[P x K]; per image and group, Y = X . W^T. The
// row-pointer microkernel (kernels::gemm_tile_rows_seeded) takes mr positions as the rows, each read in
// place over a kc-slice of channels, and nr output channels as the columns, from weights packed
// once per run into nr-wide panels, and accumulates straight into y, whose rows (positions) are
// evenly spaced, starting at the bias on the first kc-slice (no pass that fills y first). There
// is no accumulator buffer and no store pass: implicit_gemm, which served these layers before,
// sums into a per-task buffer and copies it out.
//
// A task is a block of position tiles of one image and group, and a range of column blocks;
// for each column block and kc-slice its weight panel (kc x nr, half of L1: gemm_driver.h)
// stays in L1 while the block's position tiles go by. The last, partial tiles (fewer than mr
// positions, fewer than nr channels) are summed in a scratch tile and copied out.
//
// Blocking, weight packing, bias seeds, the partial tiles' store, the task list and the
// workspace layout come from the GEMM middle-end (gemm_driver.h).
//
// Determinism: each output element starts at the bias and adds its C/groups products in
// kc-slices in channel order, inside one task, whatever the thread count.
#include "algo/pointwise_channels_last.h"

#include <algorithm>
#include <cassert>
#include <vector>

#include "algo/gemm_driver.h"
#include "api/checked.h"
#include "kernels/gemm_tile.h"

namespace convnd::detail {
namespace {

constexpr dim_t kTilesPerTask = 8;  // position tiles of mr per task
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
  explicit ChannelsLastExecutor(const Geometry& g) : g_(g), tk_(kernels::tile_kernel<T>()) {
    // A kc-slice of one column block's weight panel (kc x nr) stays in L1 while the block's
    // position tiles go by.
    blk_ = gemm_blocking(static_cast<dim_t>(tk_.mr), static_cast<dim_t>(tk_.nr), g.Cg(), sizeof(T),
                         Resident::vector_panel);
    positions_ = checked_product(g.in, "input");
    weights_.init(g, g.Cg(), blk_.nr);
    pos_blocks_ = (positions_ + blk_.mr * kTilesPerTask - 1) / (blk_.mr * kTilesPerTask);
    grid_ = TaskGrid(g.N, g.groups, pos_blocks_, weights_.blocks(), kTasksWanted);
    ws_.size([&](Carve& c) { return carve_shared(c); }, [&](Carve& c) { return carve_slot(c); },
             thread_slots());
  }

  std::size_t workspace_bytes() const override { return ws_.bytes(); }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    const dim_t xstep = position_step(args.a.strides, g_.in);
    const dim_t ystep = position_step(args.out.strides, g_.out);
    // pointwise.cc hands over only views that pointwise_channels_last_reads() accepts.
    assert(args.a.strides[1] == 1 && args.out.strides[1] == 1 && xstep != 0 && ystep != 0);
    const int th = std::min(threads, thread_slots());
    T* own = ws_.shared(workspace, [&](Carve& c) { return carve_shared(c); });
    run_gemm_job(
        g_, weights_, args.b, false, own, grid_, th, 0, [](dim_t) {},
        [&](const T* w, const GemmTask& t) {
          const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
          run_task(args, w, xstep, ystep, t, sl);
        });
  }

 private:
  // The packed weights; then one thread's scratch.
  T* carve_shared(Carve& c) const { return c.take<T>(weights_.elems()); }
  struct Slot {
    const T** rows;  // mr row pointers
    T* tile;         // mr x nr scratch tile
    T* seeds;        // per_part x nr: the task's channels' bias
  };
  Slot carve_slot(Carve& c) const {
    Slot sl;
    sl.rows = c.take<const T*>(static_cast<std::size_t>(blk_.mr));
    sl.tile = c.take<T>(static_cast<std::size_t>(blk_.mr * blk_.nr));
    sl.seeds = c.take<T>(static_cast<std::size_t>(grid_.per_part() * blk_.nr));
    return sl;
  }

  // Position tiles of the task's block, column blocks [t.b0, t.b1).
  void run_task(const OpArgs& args, const T* w, dim_t xstep, dim_t ystep, const GemmTask& t,
                const Slot& sl) const {
    const dim_t mr = blk_.mr, nr = blk_.nr, grp = t.grp;
    const T* x = static_cast<const T*>(args.a.data) + t.n * args.a.strides[0] + grp * g_.Cg();
    T* y = static_cast<T*>(args.out.data) + t.n * args.out.strides[0] + grp * g_.Kg();
    bias_values(args.bias, grp, g_.Kg(), t.b0 * nr, t.b1 * nr, sl.seeds);
    const dim_t p_begin = t.block * mr * kTilesPerTask;
    const dim_t p_end = std::min(positions_, p_begin + mr * kTilesPerTask);
    const dim_t full_end = p_begin + (p_end - p_begin) / mr * mr;  // end of the full tiles
    const auto ldy = static_cast<std::size_t>(ystep);

    for (dim_t b = t.b0; b < t.b1; ++b) {
      const dim_t k0 = b * nr, nk = std::min(nr, g_.Kg() - k0);
      const T* seeds = sl.seeds + (b - t.b0) * nr;
      if (nk == nr) {
        // Full tiles, in place: y starts at the bias (the kernel's seed on the first slice; a
        // fill pass only when there is no slice), then each kc-slice's panel serves every
        // position tile of the block.
        if (g_.Cg() == 0)
          seed_position_rows(y + p_begin * ystep + k0, ystep, full_end - p_begin, nr, seeds);
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += blk_.kc) {
          const dim_t kc = std::min(blk_.kc, g_.Cg() - c0);
          for (dim_t p0 = p_begin; p0 < full_end; p0 += mr) {
            for (dim_t i = 0; i < mr; ++i) sl.rows[i] = x + (p0 + i) * xstep + c0;
            tk_.rows_seeded(static_cast<std::size_t>(kc), sl.rows, weights_.panel(w, grp, b, c0),
                            c0 == 0 ? seeds : nullptr, y + p0 * ystep + k0, ldy);
          }
        }
      }
      // Partial tiles (the block's last positions, or the last column block's channels) in
      // the scratch tile; rows past the valid ones repeat the first (their sums are dropped).
      for (dim_t p0 = nk == nr ? full_end : p_begin; p0 < p_end; p0 += mr) {
        const dim_t np = std::min(mr, p_end - p0);
        if (g_.Cg() == 0) seed_position_rows(sl.tile, nr, mr, nr, seeds);
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += blk_.kc) {
          const dim_t kc = std::min(blk_.kc, g_.Cg() - c0);
          for (dim_t i = 0; i < mr; ++i) sl.rows[i] = x + (p0 + (i < np ? i : 0)) * xstep + c0;
          tk_.rows_seeded(static_cast<std::size_t>(kc), sl.rows, weights_.panel(w, grp, b, c0),
                          c0 == 0 ? seeds : nullptr, sl.tile, static_cast<std::size_t>(nr));
        }
        const OutputRun run{0, p0 * ystep, np};
        store_position_rows(sl.tile, nr, nk, &run, 1, ystep, y + k0, dim_t{1});
      }
    }
  }

  Geometry g_;
  kernels::TileKernel<T> tk_;  // bound once: its tile is blk_.mr x blk_.nr
  GemmBlocking blk_;
  PackedWeights<T> weights_;  // W[group][column block][c][nr]
  TaskGrid grid_;
  WorkspaceLayout ws_;
  dim_t positions_ = 0, pos_blocks_ = 0;
};

}  // namespace

std::unique_ptr<Executor> make_pointwise_channels_last(const Geometry& g) {
  return make_for_dtype<ChannelsLastExecutor>(g);
}

bool pointwise_channels_last_reads(const Geometry& g, const OpArgs& args) {
  return args.a.strides[1] == 1 && args.out.strides[1] == 1 &&
         position_step(args.a.strides, g.in) != 0 && position_step(args.out.strides, g.out) != 0;
}

}  // namespace convnd::detail
