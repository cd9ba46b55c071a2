// # Direct convolution on the batch-reduce kernel
//
// Channels-last input, per image and group: output position p, channel k is the sum over taps t
// and channels c of x[input pixel of (p, t)][c] * w[k][c][t]. A tile of mr consecutive (flattened)
// output positions and nr output channels is one call of kernels' gemm_batch_rows: for every tap
// that some of the tile's positions read inside the input, and every channel block of kc, a pair
// (A = the mr input rows that tap reads, in place, a row of zeros where a position's tap falls in
// padding; B = that tap's and block's packed weights). The accumulators stay in registers for the
// whole list and the tile is written once, bias included. No im2col, no padded copy: taps that
// fall wholly in the padding for the tile's positions are not listed at all (a 3x3 layer at
// dilation 6 on 33x33 skips them at its borders, as oneDNN does).
//
// Padding modes other than zeros fold into the row pointers (a reflected row is just another
// pixel), so every mode runs here. A plan for channels-first input copies it channels-last into
// the workspace first (layout_copy.h); input views whose channels are not adjacent at run time
// when the plan assumed they would be go to implicit_gemm's executor.
//
// Tasks: (image, group, block of position tiles, part of the column blocks), fixed
// by the problem (TaskGrid). A task lists its tiles' pairs once, then for each column block
// runs every tile, so a block's weights (taps x Cg x nr) are read from L2 by all its tiles.
// Weights are packed tap-major (d = tap * Cg + c) in nr-wide panels by the GEMM middle-end
// (gemm_driver.h), with the constant-weights cache; weights that change every run of a layer
// whose positions fit one task (batch 1) are packed by each task for its own column blocks.
//
// Determinism: every output is summed by one task in the order of its tile's pair list, which
// depends on the problem only.
//
// # Few channels: a kernel row per pair
// With few channels per group a pair has only Cg steps (3 on r50_conv1, 1 on w2v_conv0) and its
// mr pointer loads cost more than its FMAs. But channels-last, the KW taps of one kernel row read
// KW x Cg consecutive values when the last axis has dilation 1 (pixels o*s - lo .. + KW - 1, all
// their channels), and the tap-major packed weights hold that row's (kw, c) values in
// consecutive rows too (d = (row * KW + kw) * Cg + c). So one pair covers a whole kernel row:
// kc = KW x Cg (21 on r50_conv1, 48 on unet3d_c16), and a tile lists taps / KW pairs. A row
// that runs into the padding along the last axis cannot be read in place, so such a plan
// ("merged") first copies the input, per image and group, into a buffer padded along the last
// axis (every padding mode, by map_padded_index) with the group's Cg channels innermost; the
// other axes' padding stays in the row pointers. The copy reads any strides, so channels-first
// input needs no other copy. For these layers the input is small next to the work.
#include "algo/brgemm_direct.h"

#include <algorithm>
#include <vector>

#include "algo/gemm_driver.h"
#include "algo/implicit_gemm.h"
#include "algo/layout_copy.h"
#include "api/checked.h"
#include "kernels/gemm_kernels.h"

namespace convnd::detail {
namespace {

constexpr dim_t kTilesPerTask = 8;
// Fused packing (see the constructor): at most this many tiles in the one row block, and a
// column block's packed weights within L2.
constexpr dim_t kMaxFusedTiles = 32;
constexpr dim_t kMaxFusedPanelBytes = dim_t{1} << 20;
constexpr dim_t kTasksWanted = 16;
// Pairs of one tile (taps x channel blocks) at most: bounds the per-thread pointer lists.
constexpr dim_t kMaxPairs = 4096;
// Channels per group below this and a pair's few steps do not pay for its pointer loads.
constexpr dim_t kMinChannels = 8;
// Channels per group below this run "merged" (a kernel row per pair) when they can. Measured
// (one thread, CPU time): mnist_5x5_b64 (32 channels) 22.7 -> 20.9 ms channels-last, 24.4 ->
// 23.4 channels-first; unet3d_b2 (32, 3-D) 17.8 -> 16.2; r50_res2_3x3_b1 (64) 0.97 -> 0.95,
// within the noise, so 64 and more keep a tap per pair (and no padded copy of a large input).
constexpr dim_t kMergeBelow = 64;

// Whether a plan runs a kernel row per pair: few channels, and the last axis dense.
bool merges_rows(const Geometry& g) { return g.Cg() < kMergeBelow && g.dil.back() == 1; }

// Output channels of the single-vector batch kernel's tile on this CPU (16 floats on AVX-512).
dim_t single_tile_columns(DType t) {
  const auto id = t == DType::f32 ? CONVND_GEMM_ID(float, gemm_batch_rows_single)
                                  : CONVND_GEMM_ID(double, gemm_batch_rows_single);
  return static_cast<dim_t>(kernels::gemm_kernel(id).nr);
}

// Channel blocks: one per kMaxSlice channels at most, equal but for the last.
struct Slices {
  dim_t kc = 0, count = 0, last = 0;  // block length, number of blocks, the last one's length
};
Slices channel_slices(dim_t cg) {
  Slices s;
  const dim_t n = (cg + kMaxSlice - 1) / kMaxSlice;
  s.kc = (cg + n - 1) / n;
  s.count = (cg + s.kc - 1) / s.kc;
  s.last = cg - (s.count - 1) * s.kc;
  return s;
}

template <class T>
class BrgemmExecutor final : public Executor {
 public:
  BrgemmExecutor(const Geometry& g, std::unique_ptr<Executor> fallback)
      : g_(g), fallback_(std::move(fallback)) {
    const dim_t all_taps = checked_product(g.kernel, "kernel");
    positions_ = checked_product(g.out, "output");
    merged_ = merges_rows(g);
    // The listed taps' window and the input they read: a merged plan lists one tap per kernel
    // row and reads its padded copy (last axis in + lo + hi, no padding left along it).
    list_kernel_ = g.kernel, list_in_ = g.in, list_lo_ = g.lo;
    unit_ = g.Cg();
    const int last = g.rank() - 1;
    if (merged_) {
      unit_ = checked_mul(g.kernel[last], g.Cg(), "kernel");
      list_kernel_[last] = 1, list_lo_[last] = 0;
      list_in_[last] = checked_add(checked_add(g.in[last], g.lo[last], "input"), g.hi[last],
                                   "input");
      // The copy's strides: channels innermost, then the last axis, .. (one image and group).
      pad_strides_.assign(static_cast<std::size_t>(g.rank() + 2), 0);
      dim_t run = g.Cg();
      pad_strides_[1] = 1;
      for (int ax = last; ax >= 0; --ax)
        pad_strides_[2 + ax] = run, run = checked_mul(run, list_in_[ax], "workspace");
      pad_image_elems_ = run;
      pad_row_elems_ = pad_strides_[2 + last] * list_in_[last];
      pad_rows_ = run / pad_row_elems_;
      input_elems_ = checked_mul(checked_mul(g.N, g.groups, "workspace"), run, "workspace");
      copy_tasks_ = checked_mul(checked_mul(g.N, g.groups, "workspace"), pad_rows_, "workspace");
    }
    taps_ = merged_ ? all_taps / g.kernel[last] : all_taps;
    copy_input_ = !merged_ && !g.in_channels_adjacent;
    if (copy_input_)
      input_elems_ = checked_mul(checked_mul(g.N, g.C, "workspace"),
                                 checked_product(g.in, "input"), "workspace");
    // The tile that leaves the least of its rows and columns empty: the wide one (12 x 32 on
    // AVX-512, float32) unless the narrow one (7 x 48) fills clearly more, as on a 7x7 output
    // (49 positions: 5 wide tiles hold 60 rows, 7 narrow ones exactly 49). Both kernels run at
    // the same speed in L1 (kernel_bench).
    const kernels::GemmKernel wide = kernels::gemm_kernel(CONVND_GEMM_ID(T, gemm_batch_rows));
    const kernels::GemmKernel narrow =
        kernels::gemm_kernel(CONVND_GEMM_ID(T, gemm_batch_rows_narrow));
    // A group of at most one vector of output channels (16 on AVX-512, float32) takes the
    // single-vector tile (24 x 16), which leaves none of its lanes empty where the wide one
    // leaves half (unet3d_c16) or three quarters.
    const kernels::GemmKernel single =
        kernels::gemm_kernel(CONVND_GEMM_ID(T, gemm_batch_rows_single));
    const kernels::GemmKernel& two = fill(narrow) > fill(wide) + 0.03 ? narrow : wide;
    const kernels::GemmKernel& k =
        g.Kg() <= static_cast<dim_t>(single.nr) && fill(single) > fill(two) + 0.03 ? single : two;
    kernel_ = k.fn<kernels::GemmForm::batch_a_rows, T>();
    mr_ = static_cast<dim_t>(k.mr);
    nr_ = static_cast<dim_t>(k.nr);
    slices_ = channel_slices(unit_);
    max_pairs_ = checked_mul(taps_, slices_.count, "kernel");
    const dim_t depth = checked_mul(g.Cg(), all_taps, "kernel");
    weights_.init(g, depth, nr_);
    // Weights that change from run to run, of a layer whose positions are one row block (batch
    // 1, one group, a small image): each task packs its column blocks itself, into an L2-sized
    // panel of its slot, and uses it at once. Each block is still packed once, and the packed
    // weights never go out to memory and back (9.4 MB on r50_res5_3x3).
    const dim_t tiles = (positions_ + mr_ - 1) / mr_;
    fuse_packing_ = !merged_ && !g.constant_weights && g.N == 1 && g.groups == 1 &&
                    tiles <= kMaxFusedTiles && tiles * max_pairs_ <= kTilesPerTask * kMaxPairs &&
                    depth * nr_ * static_cast<dim_t>(sizeof(T)) <= kMaxFusedPanelBytes;
    tiles_per_task_ = fuse_packing_ ? tiles : kTilesPerTask;
    const dim_t rows_per_task = mr_ * tiles_per_task_;
    grid_ = TaskGrid(g.N, g.groups, (positions_ + rows_per_task - 1) / rows_per_task,
                     weights_.blocks(), kTasksWanted);
    ws_.size([&](Carve& c) { return carve_shared(c); }, [&](Carve& c) { return carve_slot(c); },
             thread_slots());
  }

  // The share of a kernel's tiles that holds outputs, over one image's positions and one
  // group's output channels.
  double fill(const kernels::GemmKernel& k) const {
    const auto part = [](dim_t n, std::size_t side) {
      const auto s = static_cast<dim_t>(side);
      return static_cast<double>(n) / static_cast<double>((n + s - 1) / s * s);
    };
    return part(positions_, k.mr) * part(g_.Kg(), k.nr);
  }

  std::size_t workspace_bytes() const override {
    return std::max(ws_.bytes(), fallback_->workspace_bytes());
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    const int th = std::min(threads, thread_slots());
    if (merged_) return run_merged(args, workspace, th);
    if (args.a.strides[1] != 1 && !copy_input_) return fallback_->run(args, workspace, threads);
    const Shared sh = ws_.shared(workspace, [&](Carve& c) { return carve_shared(c); });
    OpArgs in_place = args;
    // A plan for channels-first input reads a channels-last copy (layout_copy.h).
    if (copy_input_) in_place.a = channels_last_view<T>(args.a, sh.input, th);
    if (fuse_packing_) {
      const std::vector<dim_t> src_off = reduction_offsets(g_, args.b.strides, true);
      const std::vector<dim_t> order = source_order(g_, src_off, true);
      const Packing packing{&args.b, src_off.data(), order.data()};
      parallel_tasks(grid_.tasks(), th, [&](dim_t task) {
        const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
        run_task(in_place, image_of(in_place.a, grid_(task)), in_place.a.strides, nullptr,
                 grid_(task), sl, &packing);
      });
      return;
    }
    run_gemm_job(g_, weights_, args.b, true, sh.weights, grid_, th, 0, [](dim_t) {},
                 [&](const T* w, const GemmTask& t) {
                   const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
                   run_task(in_place, image_of(in_place.a, t), in_place.a.strides, w, t, sl);
                 });
  }

  // A merged plan's run: the padded copy (one task per (image, group, row of the outer axes))
  // beside the weight packing, then the sweep over the copy.
  void run_merged(const OpArgs& args, void* workspace, int th) const {
    const Shared sh = ws_.shared(workspace, [&](Carve& c) { return carve_shared(c); });
    run_gemm_job(g_, weights_, args.b, true, sh.weights, grid_, th, copy_tasks_,
                 [&](dim_t task) { copy_padded_row(args.a, task, sh.input); },
                 [&](const T* w, const GemmTask& t) {
                   const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
                   const T* x = sh.input + (t.n * g_.groups + t.grp) * pad_image_elems_;
                   run_task(args, x, pad_strides_, w, t, sl);
                 });
  }

  // Row `task` (image, group, index over the axes before the last) of the padded copy: the
  // last axis's lo + in + hi pixels, each the group's Cg channels, padding by the plan's mode.
  void copy_padded_row(const ConstTensorView& x, dim_t task, T* buf) const {
    const int d = g_.rank(), last = d - 1;
    const dim_t ng = task / pad_rows_, row = task % pad_rows_;
    const dim_t n = ng / g_.groups, grp = ng % g_.groups, cg = g_.Cg();
    const T* src = static_cast<const T*>(x.data) + n * x.strides[0] + grp * cg * x.strides[1];
    for (dim_t r = row, ax = last - 1; ax >= 0; --ax)
      src += (r % g_.in[ax]) * x.strides[2 + ax], r /= g_.in[ax];
    T* dst = buf + ng * pad_image_elems_ + row * pad_row_elems_;
    const dim_t xs1 = x.strides[1], xsl = x.strides[2 + last];
    const dim_t lo = g_.lo[last], in = g_.in[last];
    // The pixels inside the input: one copy when dense, else channel by channel (each a strided
    // read along the row, as from a channels-first tensor).
    if (xs1 == 1 && xsl == cg) {
      std::copy(src, src + in * cg, dst + lo * cg);
    } else {
      for (dim_t c = 0; c < cg; ++c) {
        const T* sc = src + c * xs1;
        T* dc = dst + lo * cg + c;
        for (dim_t m = 0; m < in; ++m) dc[m * cg] = sc[m * xsl];
      }
    }
    // The padding on either side, by the plan's mode.
    for (dim_t j = 0; j < list_in_[last]; ++j) {
      if (j == lo) j += in;
      if (j >= list_in_[last]) break;
      T* dj = dst + j * cg;
      const dim_t m = map_padded_index(j - lo, in, g_.mode);
      if (m < 0) {
        std::fill(dj, dj + cg, T(0));
        continue;
      }
      const T* sm = src + m * xsl;
      for (dim_t c = 0; c < cg; ++c) dj[c] = sm[c * xs1];
    }
  }

  // The input of a task's image and group (at its first channel), channels-last in place.
  const T* image_of(const ConstTensorView& a, const GemmTask& t) const {
    return static_cast<const T*>(a.data) + t.n * a.strides[0] + t.grp * g_.Cg();
  }

 private:
  // The packed weights and, for a channels-first plan, the input's channels-last copy; then one
  // thread's scratch.
  struct Shared {
    T* weights;
    T* input;
  };
  Shared carve_shared(Carve& c) const {
    Shared sh;
    sh.weights = fuse_packing_ ? nullptr : c.take<T>(weights_.elems());
    sh.input = copy_input_ || merged_ ? c.take<T>(static_cast<std::size_t>(input_elems_)) : nullptr;
    return sh;
  }
  struct Slot {
    const T** a;      // tiles x max_pairs x mr row pointers: each tile's A lists
    dim_t* d0;        // tiles x max_pairs: each pair's first reduction index
    dim_t* counts;    // tiles x 3: pairs of full blocks, of the last block, output runs
    OutputRun* runs;  // tiles x mr: each tile's output rows as evenly spaced runs
    const T** b;      // max_pairs: one call's B list
    dim_t* coords;    // mr x rank: the tile's positions' first input coordinates
    dim_t* out_coords;  // rank: a position's output coordinates
    dim_t* tap;       // rank: a tap's coordinates
    dim_t* first;     // taps: the first pair of each kept tap
    dim_t* tap_off;   // taps: each tap's input offset from the window's first pixel
    dim_t* base_off;  // mr: input offset of each position's window's first pixel
    dim_t* interior;  // mr: whether each position's whole window lies inside the input
    dim_t* row_off;   // mr: output offsets of a tile's rows
    const T** tap_rows;  // mr: one tap's rows
    T* tile;          // mr x nr: partial tiles
    T* panel;         // depth x nr: a column block's weights, packed by the task (fused packing)
    T* seeds;         // per_part x nr: the task's channels' bias
  };
  Slot carve_slot(Carve& c) const {
    const auto z = [](dim_t v) { return static_cast<std::size_t>(v); };
    Slot sl;
    sl.a = c.take<const T*>(z(tiles_per_task_ * max_pairs_ * mr_));
    sl.d0 = c.take<dim_t>(z(tiles_per_task_ * max_pairs_));
    sl.counts = c.take<dim_t>(z(tiles_per_task_ * 3));
    sl.runs = c.take<OutputRun>(z(tiles_per_task_ * mr_));
    sl.b = c.take<const T*>(z(max_pairs_));
    sl.coords = c.take<dim_t>(z(mr_ * g_.rank()));
    sl.out_coords = c.take<dim_t>(z(g_.rank()));
    sl.tap = c.take<dim_t>(z(g_.rank()));
    sl.first = c.take<dim_t>(z(taps_));
    sl.tap_off = c.take<dim_t>(z(taps_));
    sl.base_off = c.take<dim_t>(z(mr_));
    sl.interior = c.take<dim_t>(z(mr_));
    sl.row_off = c.take<dim_t>(z(mr_));
    sl.tap_rows = c.take<const T*>(z(mr_));
    sl.tile = c.take<T>(z(mr_ * nr_));
    sl.panel = fuse_packing_ ? c.take<T>(z(g_.Cg() * taps_ * nr_)) : nullptr;
    sl.seeds = c.take<T>(z(grid_.per_part() * nr_));
    return sl;
  }

  // The pair list of a tile of `valid` positions whose first input coordinates are in
  // sl.coords, in image data x (at the group's first channel): A row pointers into a (pairs x
  // mr), first reduction indices into d0; the full blocks' pairs first, then the last block's
  // when it is shorter. Returns both counts.
  std::pair<dim_t, dim_t> list_pairs(const T* x, const std::vector<dim_t>& xs, dim_t valid,
                                     const T** a, dim_t* d0, const Slot& sl) const {
    const int d = g_.rank();
    const T* zeros = reinterpret_cast<const T*>(zeros_);
    const bool short_last = slices_.last != slices_.kc;
    const dim_t full_blocks = short_last ? slices_.count - 1 : slices_.count;
    // The full blocks' pairs of every kept tap first; the last block's pairs after them, from
    // the rows saved at each kept tap's first pair.
    dim_t* t = sl.tap;
    std::fill(t, t + d, dim_t{0});
    const T** rows = sl.tap_rows;
    dim_t n = 0, kept = 0;
    // A whole tile of positions whose windows lie inside the input (most tiles): every tap is
    // kept and its rows are base + tap offset, no tests (the tests cost ~20 % of r50_conv1's
    // merged time, whose pairs are only 21 steps).
    bool all_interior = valid == mr_;
    for (dim_t i = 0; i < valid && all_interior; ++i) all_interior = sl.interior[i] != 0;
    if (all_interior) {
      // (Pair order as below: every tap's full blocks, then every tap's shorter last block.)
      const auto put = [&](dim_t tap, dim_t c) {
        const T* base = x + sl.tap_off[tap] + c;
        const T** an = a + n * mr_;
        for (dim_t i = 0; i < mr_; ++i) an[i] = base + sl.base_off[i];
        d0[n++] = tap * unit_ + c;
      };
      for (dim_t tap = 0; tap < taps_; ++tap)
        for (dim_t s = 0; s < full_blocks; ++s) put(tap, s * slices_.kc);
      const dim_t main = n;
      if (short_last)
        for (dim_t tap = 0; tap < taps_; ++tap) put(tap, (slices_.count - 1) * slices_.kc);
      return {main, n - main};
    }
    for (dim_t tap = 0; tap < taps_; ++tap, next_tap(t)) {
      bool any = false;
      for (dim_t i = 0; i < mr_; ++i) {
        rows[i] = zeros;
        if (i >= valid) continue;
        if (sl.interior[i]) {  // (the window of most positions: no bounds to check)
          rows[i] = x + sl.base_off[i] + sl.tap_off[tap], any = true;
          continue;
        }
        dim_t off = 0;
        bool inside = true;
        for (int ax = 0; ax < d && inside; ++ax) {
          dim_t m = sl.coords[i * d + ax] + t[ax] * g_.dil[ax];
          if (m < 0 || m >= list_in_[ax]) m = map_padded_index(m, list_in_[ax], g_.mode);
          if (m < 0) inside = false;
          off += m * xs[2 + ax];
        }
        if (inside) rows[i] = x + off, any = true;
      }
      if (!any) continue;  // wholly in the padding for these positions
      sl.first[kept++] = n;
      for (dim_t s = 0; s < full_blocks; ++s, ++n) {
        for (dim_t i = 0; i < mr_; ++i)
          a[n * mr_ + i] = rows[i] == zeros ? zeros : rows[i] + s * slices_.kc;
        d0[n] = tap * unit_ + s * slices_.kc;
      }
    }
    const dim_t main = n;
    if (short_last) {
      const dim_t c0 = (slices_.count - 1) * slices_.kc;
      for (dim_t k = 0; k < kept; ++k, ++n) {
        // The tap's rows at block 0 are a[first * mr ..]: the last block starts c0 further.
        const dim_t first = sl.first[k];
        for (dim_t i = 0; i < mr_; ++i) {
          const T* r0 = a[first * mr_ + i];
          a[n * mr_ + i] = r0 == zeros ? zeros : r0 + c0;
        }
        d0[n] = d0[first] + c0;
      }
    }
    return {main, n - main};
  }

  // What a task needs to pack its own column blocks (fused packing).
  struct Packing {
    const ConstTensorView* w;
    const dim_t* src_off;
    const dim_t* order;
  };

  // x: the task's image and group at its first channel, channels adjacent; xs: its strides
  // (only the spatial ones are read).
  void run_task(const OpArgs& args, const T* x, const std::vector<dim_t>& xs, const T* w,
                const GemmTask& t, const Slot& sl, const Packing* packing = nullptr) const {
    const dim_t mr = mr_, nr = nr_, grp = t.grp;
    const auto& ys = args.out.strides;
    const int d = g_.rank();
    T* y = static_cast<T*>(args.out.data) + t.n * ys[0] + grp * g_.Kg() * ys[1];
    const dim_t p_begin = t.block * mr * tiles_per_task_;
    const dim_t p_end = std::min(positions_, p_begin + mr * tiles_per_task_);
    const dim_t tiles = (p_end - p_begin + mr - 1) / mr;

    // 1. Every tile's pair list and output runs (they do not depend on the column block).
    const std::size_t a_stride = static_cast<std::size_t>(max_pairs_ * mr);
    const dim_t step = ys[2 + d - 1];
    // Each tap's input offset from its window's first pixel.
    dim_t* tc = sl.tap;
    std::fill(tc, tc + d, dim_t{0});
    for (dim_t tap = 0; tap < taps_; ++tap, next_tap(tc)) {
      dim_t off = 0;
      for (int ax = 0; ax < d; ++ax) off += tc[ax] * g_.dil[ax] * xs[2 + ax];
      sl.tap_off[tap] = off;
    }
    // Output coordinates o of the position at hand, stepped (divisions per position cost
    // 16 % of a 1-D layer's time, measured on tcn_dil8_b8 with perf).
    dim_t* o = sl.out_coords;
    for (dim_t p = p_begin, ax = d - 1; ax >= 0; --ax) o[ax] = p % g_.out[ax], p /= g_.out[ax];
    for (dim_t tile = 0; tile < tiles; ++tile) {
      const dim_t p0 = p_begin + tile * mr, valid = std::min(mr, p_end - p0);
      for (dim_t i = 0; i < valid; ++i) {
        dim_t off = 0, in_off = 0;
        bool interior = true;
        for (int ax = 0; ax < d; ++ax) {
          const dim_t first = o[ax] * g_.stride[ax] - list_lo_[ax];
          sl.coords[i * d + ax] = first;
          interior = interior && first >= 0 &&
                     first + (list_kernel_[ax] - 1) * g_.dil[ax] < list_in_[ax];
          in_off += first * xs[2 + ax];
          off += o[ax] * ys[2 + ax];
        }
        sl.row_off[i] = off;
        sl.base_off[i] = in_off;
        sl.interior[i] = interior;
        for (int ax = d - 1; ax >= 0 && ++o[ax] == g_.out[ax]; --ax) o[ax] = 0;
      }
      const auto [main, rest] =
          list_pairs(x, xs, valid, sl.a + tile * a_stride, sl.d0 + tile * max_pairs_, sl);
      sl.counts[3 * tile] = main;
      sl.counts[3 * tile + 1] = rest;
      sl.counts[3 * tile + 2] = merge_runs(sl.row_off, valid, step, sl.runs + tile * mr);
    }

    // 2. Per column block, every tile: one call over the full blocks' pairs (from the bias),
    //    one more over the last, shorter block's; into y where the tile is whole and its rows
    //    evenly spaced channels-last rows, else into the scratch tile and stored from there.
    bias_values(args.bias, grp, g_.Kg(), t.b0 * nr, t.b1 * nr, sl.seeds);
    for (dim_t b = t.b0; b < t.b1; ++b) {
      const dim_t k0 = b * nr, nk = std::min(nr, g_.Kg() - k0);
      const T* seeds = sl.seeds + (b - t.b0) * nr;
      const T* panel = sl.panel;
      if (packing)
        weights_.pack_panel_at(*packing->w, packing->src_off, packing->order, sl.panel,
                               grp * weights_.blocks() + b);
      else
        panel = weights_.panel(w, grp, b);
      for (dim_t tile = 0; tile < tiles; ++tile) {
        const dim_t p0 = p_begin + tile * mr, valid = std::min(mr, p_end - p0);
        const dim_t main = sl.counts[3 * tile], rest = sl.counts[3 * tile + 1];
        const dim_t nruns = sl.counts[3 * tile + 2];
        const OutputRun* runs = sl.runs + tile * mr;
        const dim_t* d0 = sl.d0 + tile * max_pairs_;
        const T* const* a = sl.a + tile * a_stride;
        for (dim_t q = 0; q < main + rest; ++q) sl.b[q] = panel + d0[q] * nr;
        const bool in_place = ys[1] == 1 && nk == nr && valid == mr && nruns == 1;
        T* c = in_place ? y + runs[0].off + k0 : sl.tile;
        const auto ldc = static_cast<std::size_t>(in_place ? step : nr);
        kernel_(static_cast<std::size_t>(main), static_cast<std::size_t>(slices_.kc), a, sl.b,
                seeds, c, ldc);
        if (rest > 0)
          kernel_(static_cast<std::size_t>(rest), static_cast<std::size_t>(slices_.last),
                  a + main * mr, sl.b + main, nullptr, c, ldc);
        if (!in_place)
          store_position_rows(sl.tile, nr, nk, runs, nruns, step, y + k0 * ys[1], ys[1]);
      }
    }
  }

  // The next tap of the kernel window, last axis fastest.
  void next_tap(dim_t* t) const {
    for (int ax = g_.rank() - 1; ax >= 0; --ax) {
      if (++t[ax] < list_kernel_[ax]) return;
      t[ax] = 0;
    }
  }

  // What padding rows point at: kMaxSlice zeros (a block is at most kMaxSlice, in doubles).
  alignas(64) static inline const double zeros_[kMaxSlice] = {};

  Geometry g_;
  std::unique_ptr<Executor> fallback_;  // implicit_gemm, for inputs whose channels are apart
  kernels::GemmFn<kernels::GemmForm::batch_a_rows, T> kernel_ = nullptr;  // tile mr_ x nr_
  PackedWeights<T> weights_;  // W[group][column block][tap * Cg + c][nr]
  TaskGrid grid_;
  WorkspaceLayout ws_;
  Slices slices_;
  dim_t mr_ = 0, nr_ = 0, positions_ = 0, max_pairs_ = 0, input_elems_ = 0;
  dim_t taps_ = 0;  // listed taps: the kernel's, or its rows when merged
  dim_t unit_ = 0;  // reduction values per listed tap: Cg, or KW x Cg when merged
  // The listed taps' window, and the extents and low padding of the input they read.
  std::vector<dim_t> list_kernel_, list_in_, list_lo_;
  bool copy_input_ = false;  // planned for channels-first input: run on a channels-last copy
  bool merged_ = false;      // a kernel row per pair, on the input's padded copy
  std::vector<dim_t> pad_strides_;  // the padded copy's strides (canonical order, one image)
  dim_t pad_image_elems_ = 0, pad_row_elems_ = 0, pad_rows_ = 0, copy_tasks_ = 0;
  bool fuse_packing_ = false;  // each task packs the column blocks it uses
  dim_t tiles_per_task_ = kTilesPerTask;
};

class BrgemmDirect final : public Algorithm {
 public:
  const char* name() const override { return "brgemm_direct"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward pass only";
    if (g.N == 0) return "empty batch";
    const bool merged = merges_rows(g);
    if (g.Cg() < kMinChannels && !merged)
      return "fewer than 8 channels per group and the last axis dilated";
    Fits f;
    dim_t taps = 1;
    for (dim_t k : g.kernel) taps = f.mul(taps, k);
    const dim_t kw = g.kernel.back();
    const dim_t unit = merged ? f.mul(kw, g.Cg()) : g.Cg();
    const dim_t pairs = f.mul(merged ? taps / kw : taps, (unit + kMaxSlice - 1) / kMaxSlice);
    if (!f || pairs > kMaxPairs) return "more than 4096 (tap, channel block) pairs per tile";
    const dim_t bytes =
        f.mul(f.mul(f.mul(g.groups, f.add(g.Kg(), 64)), f.mul(g.Cg(), taps)), 64);
    if (!f || bytes > (dim_t{1} << 40)) return "packed weights would exceed 1 TiB";
    dim_t input = f.mul(g.N, g.C);
    for (dim_t e : g.in) input = f.mul(input, e);
    if (merged) input = f.mul(f.add(f.add(g.in.back(), g.lo.back()), g.hi.back()),
                              input / std::max<dim_t>(g.in.back(), 1));
    if (merged && (!f || input > (dim_t{1} << 28)))
      return "its padded copy of the input would exceed 2^28 elements";
    if (!g.in_channels_adjacent && (!f || input > (dim_t{1} << 28)))
      return "channels-first input: its channels-last copy would exceed 2^28 elements";
    return implicit_gemm_algorithm().reject(g, op);  // its executor runs the views it cannot
  }

  // Measured (one thread, CPU time, median of 3-5): faster than implicit_gemm and padded_igemm
  // on the dense layers of the suite with 32 or more channels per group in 1-D and 2-D
  // channels-last (r50_res3_3x3s2_b1, tcn_dil8_b8, mnist_5x5_b64 with 32, aspp_dil6_b1), and in
  // 2-D channels-first too, the input's transposing copy included (r50_res3_3x3s2_b1 1.01 ms
  // against padded_igemm's 1.19, mnist_5x5_b64 24.4 against 25.9); slower on a 1-D
  // channels-first layer (tcn_dil8_b8: 5.1 against padded_igemm's 4.0) and on 3-D layers of few
  // channels: unet3d_b2 (32 channels, 27 taps, channels-last) 22.9 against 20.0, unet3d_c16_b2
  // (16) 7.1 against 2.3 (a pair's few steps do not pay for its pointers, and there half of each
  // 32-channel tile is padding).
  // With the single-vector tile (at most a vector of output channels per group), unet3d_c16_b2
  // channels-last: one thread, CPU time, A/B median of 5: 2.21 ms against padded_igemm's 2.20
  // (a tie; the kernel runs at ~90 % of the peak, the pair lists, padded copy and stores take
  // the rest); two threads, wall clock, median of 5 under load: 2.27 against 2.57. So
  // channels-last 3-D layers from 16 channels per group come here; channels-first stays with
  // padded_igemm (2.74 against 2.54: the copy gathers 16 planes).
  // Merged (fewer than 64 channels per group, see kMergeBelow), measured against the present
  // choice, channels-last, not faster below 32 channels per group: r50_conv1_b1 1.10 ms against
  // padded_igemm's 1.11 (a tie; channels-first 1.41 against 1.20, its copy gathers 3 planes),
  // w2v_conv0_b1 0.23 against 0.19 (10 steps per tile), unet3d_c16_b2 3.8 against 2.2
  // and resnext_g32_b1 0.92 against 0.25 (16 and 8 output channels per group fill half and a
  // quarter of the 32-channel tile); so the thresholds below stay.
  std::string pays(const Geometry& g, Op) const override {
    if (!g.in_channels_adjacent && g.rank() != 2)
      return "channels-first input outside 2-D: padded_igemm measured faster";
    if (g.Cg() >= 64 || (g.Cg() >= 32 && g.rank() <= 2)) return {};
    if (g.rank() == 3 && g.in_channels_adjacent && g.Cg() >= 16 && merges_rows(g) &&
        g.Kg() <= single_tile_columns(g.dtype))
      return {};
    return "fewer than 32 channels per group (64 in 3-D; 16 in 3-D channels-last with at most "
           "a vector of output channels): padded_igemm measured faster";
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op op) const override {
    auto fallback = implicit_gemm_algorithm().make_executor(g, op);
    return make_for_dtype<BrgemmExecutor>(g, std::move(fallback));
  }
};

}  // namespace

const Algorithm& brgemm_direct_algorithm() {
  static const BrgemmDirect instance;
  return instance;
}

}  // namespace convnd::detail
