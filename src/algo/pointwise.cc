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
// Weights that change from call to call (no constant-weights plan) are not packed either when a
// weight row is contiguous over the input channels: the kernel then reads its mr output
// channels' rows in place (gemm_bptr_arows). Packing moves all K x C weights once per call,
// which on a batch-1 7x7 layer (r50_res5_1x1_b1: 4 MB of weights, 49 positions) took about as
// long as the GEMM itself.
//
// Channels-last views (channels contiguous, the input's positions evenly spaced) go to
// pointwise_channels_last.cc (positions as rows, summed in place in y), which packs the weights
// into panels: on every call when they are not constant. When such weights outweigh the input
// at least twice (r50_res5_1x1_b1 per call: 4 MB of weights, 400 KB of input) and their rows
// are contiguous, the input is transposed instead, into a channels-first copy in the workspace
// (a prep phase, in chunks of channels over the threads), and runs here with the weights read in
// place; the channels-last output goes through the scratch tiles' store. Every other view (a
// gap between rows, a channel stride of 1 with scattered positions, broadcast axes) runs here
// with every tile's B rows gathered element by element into the scratch tile: slower, but the
// plan runs the algorithm it names whatever views it is given. An output whose positions are
// not dense (channels-last, or the every-s-th-element phases of a transposed convolution) is
// written from the scratch tiles, element by element.
//
// Blocking, weight packing, bias seeds, the store of the partial tiles, the task list and the
// workspace layout come from the GEMM middle-end (gemm_driver.h).
//
// Determinism: each output element starts at the bias and adds the C/groups products in
// kc-slices in channel order, inside one task, whatever the thread count and the views.
#include "algo/pointwise.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "algo/gemm_driver.h"
#include "algo/pointwise_channels_last.h"
#include "algo/view_offsets.h"
#include "api/checked.h"
#include "kernels/gemm_bptr.h"
#include "kernels/gemm_tile.h"
#include "kernels/transpose.h"

namespace convnd::detail {
namespace {

// Position tiles of nr per task: 4 rather than 8, so that even a batch-1 56x56 layer has
// enough tasks without splitting the output channels (measured: r50_res2_1x1_b1 about 10 %
// faster; each channel split re-reads the position tile's x from L3).
constexpr dim_t kTilesPerTask = 4;

// Channels per prep task of the input's transpose (see the top): 32 tasks on r50_res5_1x1_b1.
constexpr dim_t kTransposeChannels = 64;

// True when the spatial axes of a (canonical) view form one dense run of positions.
bool dense_positions(const std::vector<dim_t>& strides, const std::vector<dim_t>& extents) {
  dim_t expect = 1;
  for (int a = static_cast<int>(extents.size()) - 1; a >= 0; --a) {
    if (extents[a] != 1 && strides[2 + a] != expect) return false;
    expect *= extents[a];
  }
  return true;
}

// dst[0..n) = src[0..n), in chunks of 4 whose fixed-size copies the compiler turns into vector
// moves (a libc memcpy call per 32-float row was 10 % of unet_t2x2s2's time).
template <class T>
void copy_row(const T* src, dim_t n, T* dst) {
  dim_t j = 0;
  for (; j + 4 <= n; j += 4) std::memcpy(dst + j, src + j, 4 * sizeof(T));
  for (; j < n; ++j) dst[j] = src[j];
}

template <class T>
class PointwiseExecutor final : public Executor {
 public:
  explicit PointwiseExecutor(const Geometry& g)
      : g_(g),
        channels_last_(make_pointwise_channels_last(g)),
        kernel_(kernels::bptr_kernel<T>(kernels::BptrTile::wide)) {
    // The weights' mr output channels are the tile's rows (broadcast), so they stay in L1.
    blk_ = gemm_blocking(static_cast<dim_t>(kernel_.mr), static_cast<dim_t>(kernel_.nr), g.Cg(),
                         sizeof(T), Resident::broadcast_panel);
    positions_ = checked_product(g.in, "input");
    // The transposed input (see the top) only when per-call weights outweigh it twice over:
    // measured (one thread, per call) 1.0x to 4.9x faster from a 1x1 image (C 2048, K 1000) to
    // that bound (C 256, K 512, 16x16), but 0.83x to 0.92x where the input is half to twice the
    // weights (C = K = 128 at 10x10, 256 at 14x14): its x copy and scratch-tile store cost more
    // than the packing they save there.
    const dim_t x_elems = checked_mul(checked_mul(g.N, g.C, "input"), positions_, "input");
    transpose_x_ = !g.constant_weights && x_elems <= checked_mul(g.K, g.Cg(), "weights") / 2;
    if (transpose_x_) xt_elems_ = x_elems;
    weights_.init(g, g.Cg(), blk_.mr);
    pos_blocks_ = (positions_ + blk_.nr * kTilesPerTask - 1) / (blk_.nr * kTilesPerTask);
    // Few position blocks (7x7 at batch 1: one): the channel tiles are split over tasks too.
    grid_ = TaskGrid(g.N, g.groups, pos_blocks_, weights_.blocks(), 8);
    ws_.size([&](Carve& c) { return carve_shared(c); }, [&](Carve& c) { return carve_slot(c); },
             thread_slots());
  }

  // The packed weights and the transposed input; then one thread's scratch.
  struct Shared {
    T* packed;
    T* xt;  // N x C x positions, when the channels-last input is transposed (see the top)
  };
  Shared carve_shared(Carve& c) const {
    Shared sh;
    sh.packed = c.take<T>(weights_.elems());
    sh.xt = c.take<T>(static_cast<std::size_t>(xt_elems_));
    return sh;
  }
  struct Slot {
    const T** bptr;   // kc B row pointers
    const T** arows;  // mr A row pointers, when the weights are read in place
    T* bpanel;        // kc x nr: B rows of a partial position tile, zero-padded
    T* ctile;         // per_part tiles of mr x nr: the partial output tiles
    dim_t* xoff;      // nr input offsets, when the positions are gathered
    dim_t* yoff;      // nr output offsets, when the positions are not dense
    OutputRun* runs;  // nr runs of them
    T* seeds;         // per_part x mr: the task's channels' bias
  };
  Slot carve_slot(Carve& c) const {
    const auto kc = static_cast<std::size_t>(blk_.kc), nr = static_cast<std::size_t>(blk_.nr);
    const auto rows = static_cast<std::size_t>(grid_.per_part() * blk_.mr);
    Slot sl;
    sl.bptr = c.take<const T*>(kc);
    sl.arows = c.take<const T*>(static_cast<std::size_t>(blk_.mr));
    sl.bpanel = c.take<T>(kc * nr);
    sl.ctile = c.take<T>(rows * nr);
    sl.xoff = c.take<dim_t>(nr);
    sl.yoff = c.take<dim_t>(nr);
    sl.runs = c.take<OutputRun>(nr);
    sl.seeds = c.take<T>(rows);
    return sl;
  }

  std::size_t workspace_bytes() const override {
    return std::max(ws_.bytes(), channels_last_->workspace_bytes());
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // The input is read in place when it is channels-first with dense positions; channels-last
    // views go to the channels-last executor; anything else is gathered tile by tile. The
    // output is written in place when its positions are dense too, else through the scratch
    // tiles (e.g. the every-other-element outputs of a transposed convolution's stride phases,
    // or a channels-last output).
    bool x_in_place = args.a.strides[1] != 1 && dense_positions(args.a.strides, g_.in);
    const bool w_in_place = !g_.constant_weights && args.b.strides[1] == 1;
    const bool channels_last = !x_in_place && pointwise_channels_last_reads(g_, args);
    if (channels_last && !(transpose_x_ && w_in_place))
      return channels_last_->run(args, workspace, threads);
    const bool y_in_place = dense_positions(args.out.strides, g_.out);
    const int th = std::min(threads, thread_slots());
    const Shared sh = ws_.shared(workspace, [&](Carve& c) { return carve_shared(c); });
    // A channels-last input read through its transposed copy, channels-first and dense.
    std::optional<OpArgs> transposed;
    dim_t prep_tasks = 0;
    const dim_t chunks = (g_.Cg() + kTransposeChannels - 1) / kTransposeChannels;
    if (channels_last) {
      transposed = args;
      ConstTensorView& a = transposed->a;
      a.data = sh.xt;
      a.strides[a.strides.size() - 1] = 1;
      for (std::size_t i = a.strides.size() - 1; i > 2; --i)
        a.strides[i - 1] = a.strides[i] * g_.in[i - 2];
      a.strides[1] = positions_;
      a.strides[0] = g_.C * positions_;
      x_in_place = true;
      prep_tasks = g_.N * g_.groups * chunks;
    }
    const OpArgs& run_args = transposed ? *transposed : args;
    run_gemm_job(
        g_, weights_, args.b, false, sh.packed, grid_, th, prep_tasks,
        [&](dim_t task) { transpose_chunk(args, chunks, task, sh.xt); },
        [&](const T* a, const GemmTask& t) {
          const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
          run_task(run_args, a, t, x_in_place, y_in_place, sl);
        },
        w_in_place);
  }

 private:
  // The task's positions (one block of position tiles) for k tiles [t.b0, t.b1).
  void run_task(const OpArgs& args, const T* a, const GemmTask& t, bool x_in_place, bool y_in_place,
                const Slot& sl) const {
    const dim_t mr = blk_.mr, nr = blk_.nr, kt0 = t.b0, kt1 = t.b1, grp = t.grp;
    const auto full = [&](dim_t kt, dim_t np) {
      return x_in_place && y_in_place && np == nr && (kt + 1) * mr <= g_.Kg();
    };
    const T* x = static_cast<const T*>(args.a.data) + t.n * args.a.strides[0] +
                 grp * g_.Cg() * args.a.strides[1];
    const dim_t xs1 = args.a.strides[1];
    T* y = static_cast<T*>(args.out.data) + t.n * args.out.strides[0] +
           grp * g_.Kg() * args.out.strides[1];
    const dim_t ys1 = args.out.strides[1];
    const dim_t ys_last = args.out.strides[2 + g_.rank() - 1];
    bias_values(args.bias, grp, g_.Kg(), kt0 * mr, kt1 * mr, sl.seeds);
    // One kernel call: k tile kt's weights from c0 on, packed (a) or read in place (a null),
    // where rows past Kg repeat the last channel's (their sums are dropped); rows start at
    // `seed` (the first slice) or at c.
    const T* w = static_cast<const T*>(args.b.data) + grp * g_.Kg() * args.b.strides[0];
    const auto tile = [&](dim_t kt, dim_t c0, dim_t kc, const T* seed, T* c, dim_t ldc) {
      const auto kcs = static_cast<std::size_t>(kc), ldcs = static_cast<std::size_t>(ldc);
      if (a) return kernel_(kcs, weights_.panel(a, grp, kt, c0), sl.bptr, seed, c, ldcs);
      const dim_t last = std::min(mr, g_.Kg() - kt * mr) - 1;
      for (dim_t i = 0; i < mr; ++i)
        sl.arows[i] = w + (kt * mr + std::min(i, last)) * args.b.strides[0] + c0;
      kernel_(kcs, sl.arows, sl.bptr, seed, c, ldcs);
    };
    // Channel rows a multiple of 1 KiB apart (a 64x64 or 32x32 image) share a few L1 sets, so a
    // slice's kc rows would evict each other between the k tiles that read them: they are
    // copied into the contiguous panel first (once per slice, for all the task's k tiles).
    const bool copy_rows = (xs1 * static_cast<dim_t>(sizeof(T))) % 1024 == 0 && kt1 - kt0 > 1;
    const dim_t p_begin = t.block * nr * kTilesPerTask;
    const dim_t p_end = std::min(positions_, p_begin + nr * kTilesPerTask);

    for (dim_t p0 = p_begin; p0 < p_end; p0 += nr) {
      const dim_t np = std::min(nr, p_end - p0);
      // 1. Every full output tile of this position tile starts at the bias, in place in y: the
      //    kernel's seed on the first slice (a fill pass only when there is no slice); those
      //    with fewer than mr channels or nr positions take the c loop in 3.
      for (dim_t kt = kt0; kt < kt1 && g_.Cg() == 0; ++kt)
        if (full(kt, np))
          seed_channel_rows(y + kt * mr * ys1 + p0, ys1, mr, nr, sl.seeds + (kt - kt0) * mr);
      // 2. The reduction in kc-slices: nr positions of kc channels, read in place, times each
      //    full k tile's weights.
      for (dim_t c0 = 0; c0 < g_.Cg() && x_in_place && np == nr; c0 += blk_.kc) {
        const dim_t kc = std::min(blk_.kc, g_.Cg() - c0);
        for (dim_t c = 0; c < kc; ++c) {
          sl.bptr[c] = x + (c0 + c) * xs1 + p0;
          if (!copy_rows) continue;
          copy_row(sl.bptr[c], nr, sl.bpanel + c * nr);
          sl.bptr[c] = sl.bpanel + c * nr;
        }
        for (dim_t kt = kt0; kt < kt1; ++kt) {
          if (!full(kt, np)) continue;
          tile(kt, c0, kc, c0 == 0 ? sl.seeds + (kt - kt0) * mr : nullptr, y + kt * mr * ys1 + p0,
               ys1);
        }
      }
      // 3. Partial tiles (fewer than mr channels or nr positions): accumulated in ctile, one
      //    mr x nr scratch tile per k tile, with each slice's B rows copied (zero-padded) once
      //    and shared by all of them; then the valid part stored.
      bool any_partial = false;
      for (dim_t kt = kt0; kt < kt1; ++kt) any_partial = any_partial || !full(kt, np);
      if (!any_partial) continue;
      for (dim_t kt = kt0; kt < kt1 && g_.Cg() == 0; ++kt)
        if (!full(kt, np))
          seed_channel_rows(sl.ctile + (kt - kt0) * mr * nr, nr, mr, nr,
                            sl.seeds + (kt - kt0) * mr);
      if (!x_in_place) view_offsets(p0, np, g_.in, args.a.strides, sl.xoff);
      for (dim_t c0 = 0; c0 < g_.Cg(); c0 += blk_.kc) {
        const dim_t kc = std::min(blk_.kc, g_.Cg() - c0);
        for (dim_t c = 0; c < kc; ++c) {
          if (!x_in_place) {
            const T* xc = x + (c0 + c) * xs1;
            T* dst = sl.bpanel + c * nr;
            for (dim_t j = 0; j < np; ++j) dst[j] = xc[sl.xoff[j]];
            std::fill(dst + np, dst + nr, T(0));
            sl.bptr[c] = dst;
            continue;
          }
          const T* row = x + (c0 + c) * xs1 + p0;
          if (np == nr && !copy_rows) {
            sl.bptr[c] = row;
            continue;
          }
          T* dst = sl.bpanel + c * nr;
          std::memcpy(dst, row, sizeof(T) * np);
          std::fill(dst + np, dst + nr, T(0));
          sl.bptr[c] = dst;
        }
        for (dim_t kt = kt0; kt < kt1; ++kt) {
          if (full(kt, np)) continue;
          tile(kt, c0, kc, c0 == 0 ? sl.seeds + (kt - kt0) * mr : nullptr,
               sl.ctile + (kt - kt0) * mr * nr, nr);
        }
      }
      // The tile's positions as runs in y: one dense run, or merged from each one's offset.
      dim_t nruns = 1;
      sl.runs[0] = OutputRun{0, p0, np};
      if (!y_in_place) {
        view_offsets(p0, np, g_.out, args.out.strides, sl.yoff);
        nruns = merge_runs(sl.yoff, np, ys_last, sl.runs);
      }
      for (dim_t kt = kt0; kt < kt1; ++kt) {
        if (full(kt, np)) continue;
        store_channel_rows(sl.ctile + (kt - kt0) * mr * nr, nr, std::min(mr, g_.Kg() - kt * mr),
                           sl.runs, nruns, y_in_place ? 1 : ys_last, y + kt * mr * ys1, ys1);
      }
    }
  }

  // Prep task `task` of the input's transpose: kTransposeChannels channels of one image and
  // group, all positions (evenly spaced: pointwise_channels_last_reads), into xt[n][c][p].
  void transpose_chunk(const OpArgs& args, dim_t chunks, dim_t task, T* xt) const {
    const dim_t chunk = task % chunks, ng = task / chunks;
    const dim_t n = ng / g_.groups, c0 = ng % g_.groups * g_.Cg() + chunk * kTransposeChannels;
    const dim_t nc = std::min(kTransposeChannels, (ng % g_.groups + 1) * g_.Cg() - c0);
    const T* x = static_cast<const T*>(args.a.data) + n * args.a.strides[0] + c0;
    kernels::transpose(static_cast<std::size_t>(positions_), static_cast<std::size_t>(nc), x,
                       args.a.strides.back(), xt + (n * g_.C + c0) * positions_, positions_);
  }

  Geometry g_;
  std::unique_ptr<Executor> channels_last_;  // for channels-last views (see run())
  kernels::BptrKernel<T> kernel_;            // the wide tile, bound once: blk_.mr x blk_.nr
  GemmBlocking blk_;
  PackedWeights<T> weights_;  // A[group][k tile][c][mr]
  TaskGrid grid_;
  WorkspaceLayout ws_;
  dim_t positions_ = 0, pos_blocks_ = 0;
  bool transpose_x_ = false;  // channels-last input transposed when weights are not packed
  dim_t xt_elems_ = 0;        // its size, else 0
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
    Fits f;
    const dim_t bytes = f.mul(f.mul(g.groups, f.add(g.Kg(), 16)), g.Cg());
    if (!f || bytes > (dim_t{1} << 30)) return "packed weights over 2^30 elements";
    return {};
  }

  // Constant weights, channels-first, 2-D, 64 or more channels per group, and so few positions
  // that the last tile of nr leaves much of its width empty (a 7x7 image: 49 positions in two
  // tiles of 32, 77 % filled): brgemm_direct, next in the list, takes positions as the rows of
  // its 7-row tile and sums all C in registers; measured (one thread, --clock cpu) on
  // r50_res5_1x1_b1 0.47 ms against 0.64. With weights that change per call it packs them on
  // every call (4 MB there: 1.8 ms against 0.69), and at 14x14 (88 % filled) it is a tie.
  std::string pays(const Geometry& g, Op) const override {
    if (!g.constant_weights || g.in_channels_adjacent || g.rank() != 2 || g.Cg() < 64) return {};
    const auto nr = static_cast<dim_t>(kernels::tile_shape(g.dtype).nr);
    const dim_t positions = checked_product(g.in, "input");
    const double fill =
        static_cast<double>(positions) / static_cast<double>((positions + nr - 1) / nr * nr);
    if (fill < 0.8) return "few positions, channels-first: brgemm_direct measured faster";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op /*op*/) const override {
    return make_for_dtype<PointwiseExecutor>(g);
  }
};

}  // namespace

const Algorithm& pointwise_algorithm() {
  static const Pointwise instance;
  return instance;
}

}  // namespace convnd::detail
