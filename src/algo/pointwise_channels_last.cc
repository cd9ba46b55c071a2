// # 1x1 convolution on channels-last data: positions as rows, summed in place
//
// With a 1x1 kernel, stride 1 and no padding, a channels-last image is the matrix X[P x C] (row
// p: one position's C channels) and its output Y[P x K]; per image and group, Y = X . W^T. The
// row-pointer microkernel (kernels::gemm_tile_rows_seeded) takes mr positions as the rows, each
// read in place over a kc-slice of channels, and nr output channels as the columns, from weights
// packed once per run into nr-wide panels, and accumulates straight into y (a tile's rows,
// positions, evenly spaced), starting at the bias on the first kc-slice (no pass that fills y
// first). There is no accumulator buffer and no store pass: implicit_gemm, which served these
// layers before, sums into a per-task buffer and copies it out.
//
// The tile is the wide one (12 positions x 32 channels on AVX-512, float32) unless the batch-reduce
// list's narrow one (7 x 48, run with a batch of one) fills clearly more of its rows and
// columns: a 7x7 layer's 49 positions are 7 narrow tiles, but 5 wide ones of which the last
// holds one position (r50_res5_1x1_b1).
//
// The output's positions need not be evenly spaced (the every-other-element phases of a
// transposed 2x2 stride-2 layer, through bwd_data_phases.cc): each tile whose positions are
// evenly spaced is still summed in place (its rows that far apart); the others, a tile that
// straddles the end of an image row, go through the scratch tile.
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
#include "algo/view_offsets.h"
#include "api/checked.h"
#include "kernels/gemm_kernels.h"
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

// The share of a tile of mr x nr that holds outputs, over `positions` rows and `channels` columns.
double tile_fill(dim_t positions, dim_t channels, dim_t mr, dim_t nr) {
  const auto part = [](dim_t n, dim_t side) {
    return static_cast<double>(n) / static_cast<double>((n + side - 1) / side * side);
  };
  return part(positions, mr) * part(channels, nr);
}

template <class T>
class ChannelsLastExecutor final : public Executor {
 public:
  explicit ChannelsLastExecutor(const Geometry& g) : g_(g), tk_(kernels::tile_kernel<T>()) {
    positions_ = checked_product(g.in, "input");
    const kernels::GemmKernel narrow =
        kernels::gemm_kernel(CONVND_GEMM_ID(T, gemm_batch_rows_narrow));
    const auto nmr = static_cast<dim_t>(narrow.mr), nnr = static_cast<dim_t>(narrow.nr);
    dim_t mr = static_cast<dim_t>(tk_.mr), nr = static_cast<dim_t>(tk_.nr);
    if (tile_fill(positions_, g.Kg(), nmr, nnr) > tile_fill(positions_, g.Kg(), mr, nr) + 0.03) {
      batch_ = narrow.fn<kernels::GemmForm::batch_a_rows, T>();
      mr = nmr, nr = nnr;
    }
    // A kc-slice of one column block's weight panel (kc x nr) stays in L1 while the block's
    // position tiles go by.
    blk_ = gemm_blocking(mr, nr, g.Cg(), sizeof(T), Resident::vector_panel);
    weights_.init(g, g.Cg(), blk_.nr);
    pos_blocks_ = (positions_ + blk_.mr * kTilesPerTask - 1) / (blk_.mr * kTilesPerTask);
    grid_ = TaskGrid(g.N, g.groups, pos_blocks_, weights_.blocks(), kTasksWanted);
    ws_.size([&](Carve& c) { return carve_shared(c); }, [&](Carve& c) { return carve_slot(c); },
             thread_slots());
  }

  std::size_t workspace_bytes() const override { return ws_.bytes(); }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    const dim_t xstep = position_step(args.a.strides, g_.in);
    const dim_t ystep = position_step(args.out.strides, g_.out);  // 0: not evenly spaced
    // pointwise.cc hands over only views that pointwise_channels_last_reads() accepts.
    assert(args.a.strides[1] == 1 && args.out.strides[1] == 1 && xstep != 0);
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
    const T** rows;   // mr row pointers
    T* tile;          // mr x nr scratch tile
    T* seeds;         // per_part x nr: the task's channels' bias
    dim_t* yoff;      // kTilesPerTask x mr: each position's output offset
    dim_t* pitch;     // kTilesPerTask: a tile's row pitch in y, 0 when it is not written in place
    OutputRun* runs;  // mr runs of one tile's positions
  };
  Slot carve_slot(Carve& c) const {
    Slot sl;
    const auto mr = static_cast<std::size_t>(blk_.mr);
    sl.rows = c.take<const T*>(mr);
    sl.tile = c.take<T>(static_cast<std::size_t>(blk_.mr * blk_.nr));
    sl.seeds = c.take<T>(static_cast<std::size_t>(grid_.per_part() * blk_.nr));
    sl.yoff = c.take<dim_t>(static_cast<std::size_t>(kTilesPerTask) * mr);
    sl.pitch = c.take<dim_t>(static_cast<std::size_t>(kTilesPerTask));
    sl.runs = c.take<OutputRun>(mr);
    return sl;
  }

  // One kernel call: the mr rows times a kc-slice of a weight panel, into c (rows ldc apart),
  // starting at seed when it is given.
  void kernel(dim_t kc, const T* const* rows, const T* panel, const T* seed, T* c,
              std::size_t ldc) const {
    const auto kcs = static_cast<std::size_t>(kc);
    if (batch_) return batch_(1, kcs, rows, &panel, seed, c, ldc);
    tk_.rows_seeded(kcs, rows, panel, seed, c, ldc);
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
    const dim_t tiles = (p_end - p_begin + mr - 1) / mr;
    // Each tile's output offsets, and its row pitch when it is full and its positions are
    // evenly spaced in y (then it is summed in place).
    const dim_t last_step = args.out.strides[2 + g_.rank() - 1];
    for (dim_t i = 0; i < tiles && ystep == 0; ++i) {
      const dim_t p0 = p_begin + i * mr, np = std::min(mr, p_end - p0);
      dim_t* off = sl.yoff + i * mr;
      view_offsets(p0, np, g_.out, args.out.strides, off);
      dim_t pitch = np == mr ? off[1] - off[0] : 0;
      for (dim_t j = 2; j < np && pitch > 0; ++j)
        if (off[j] - off[j - 1] != pitch) pitch = 0;
      sl.pitch[i] = pitch > 0 ? pitch : 0;
    }

    // (Evenly spaced outputs need no tables: they cost a few % on shuffle_g3_b1.)
    const auto tile_off = [&](dim_t i) {
      return ystep != 0 ? (p_begin + i * mr) * ystep : sl.yoff[i * mr];
    };
    const auto tile_pitch = [&](dim_t i) {
      if (ystep == 0) return sl.pitch[i];
      return p_begin + (i + 1) * mr <= p_end ? ystep : dim_t{0};
    };
    for (dim_t b = t.b0; b < t.b1; ++b) {
      const dim_t k0 = b * nr, nk = std::min(nr, g_.Kg() - k0);
      const T* seeds = sl.seeds + (b - t.b0) * nr;
      if (nk == nr) {
        // Full tiles, in place: y starts at the bias (the kernel's seed on the first slice; a
        // fill pass only when there is no slice), then each kc-slice's panel serves every
        // position tile of the block.
        for (dim_t i = 0; i < tiles && g_.Cg() == 0; ++i)
          if (tile_pitch(i) != 0)
            seed_position_rows(y + tile_off(i) + k0, tile_pitch(i), mr, nr, seeds);
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += blk_.kc) {
          const dim_t kc = std::min(blk_.kc, g_.Cg() - c0);
          for (dim_t i = 0; i < tiles; ++i) {
            const dim_t pitch = tile_pitch(i);
            if (pitch == 0) continue;
            const dim_t p0 = p_begin + i * mr;
            for (dim_t r = 0; r < mr; ++r) sl.rows[r] = x + (p0 + r) * xstep + c0;
            kernel(kc, sl.rows, weights_.panel(w, grp, b, c0), c0 == 0 ? seeds : nullptr,
                   y + tile_off(i) + k0, static_cast<std::size_t>(pitch));
          }
        }
      }
      // The other tiles (the block's last positions, a tile whose positions are not evenly
      // spaced in y, or the last column block's channels) in the scratch tile; rows past the
      // valid ones repeat the first (their sums are dropped).
      for (dim_t i = 0; i < tiles; ++i) {
        if (nk == nr && tile_pitch(i) != 0) continue;
        const dim_t p0 = p_begin + i * mr, np = std::min(mr, p_end - p0);
        if (g_.Cg() == 0) seed_position_rows(sl.tile, nr, mr, nr, seeds);
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += blk_.kc) {
          const dim_t kc = std::min(blk_.kc, g_.Cg() - c0);
          for (dim_t r = 0; r < mr; ++r) sl.rows[r] = x + (p0 + (r < np ? r : 0)) * xstep + c0;
          kernel(kc, sl.rows, weights_.panel(w, grp, b, c0), c0 == 0 ? seeds : nullptr, sl.tile,
                 static_cast<std::size_t>(nr));
        }
        if (ystep != 0) {
          const OutputRun run{0, p0 * ystep, np};
          store_position_rows(sl.tile, nr, nk, &run, 1, ystep, y + k0, dim_t{1});
          continue;
        }
        const dim_t nruns = merge_runs(sl.yoff + i * mr, np, last_step, sl.runs);
        store_position_rows(sl.tile, nr, nk, sl.runs, nruns, last_step, y + k0, dim_t{1});
      }
    }
  }

  Geometry g_;
  kernels::TileKernel<T> tk_;  // the wide tile, bound once
  // The narrow tile instead (blk_ is its tile), when it fills more (see the top).
  kernels::GemmFn<kernels::GemmForm::batch_a_rows, T> batch_ = nullptr;
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
         position_step(args.a.strides, g.in) != 0;
}

}  // namespace convnd::detail
