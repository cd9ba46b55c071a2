// # The GEMM middle-end shared by implicit_gemm, padded_igemm and pointwise
//
// Each of those algorithms is one product per (image, group): Y = W . X over a reduction of
// depth D = (C/groups) x taps. What differs between them is only how the microkernel reaches
// its "activation" operand: im2col gathers (implicit_gemm.cc), pointers into a padded,
// phase-split copy (padded_igemm.cc), or the input read in place (pointwise*.cc). Everything
// else lives here, once, after ruy's TrMul (front end -> pack -> kernel):
//
//   GemmBlocking     the reduction slice kc, from the bound kernel's tile and the L1 size read
//                    at run time (runtime/cache_sizes.h), not a constant tuned on one machine;
//   PackedWeights    weights packed into panels of `width` output channels, one task per
//                    panel, kept across runs for constant-weights plans (weight_cache.h);
//   bias_values, seed_*, store_*
//                    bias-seeded accumulators and the stores of an accumulator block into a
//                    channels-first or channels-last output, with positions or channels as the
//                    accumulator's rows;
//   TaskGrid         the sweep's task list: (image, group, row block, part of the column
//                    blocks), its boundaries fixed by the problem, never by the thread count;
//   run_gemm_job     a run as one job: weight panels and the algorithm's copies, then the sweep;
//   WorkspaceLayout  (workspace_layout.h) the run's workspace: shared regions, then one scratch
//                    slot per thread, sized and laid out by the same Carve sequence.
//
// Determinism is the algorithms' to keep (each output summed by one task, in an order fixed by
// the problem); nothing here depends on the thread count either.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <vector>

#include "algo/problem.h"
#include "algo/weight_cache.h"
#include "algo/workspace_layout.h"
#include "api/checked.h"
#include "kernels/transpose.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {

// ---------------------------------------------------------------------------------------------
// Blocking

// Which operand of a kernel call stays in L1 while a slice of the reduction is swept: the mr x kc
// panel whose elements are broadcast (implicit_gemm's packed A rows, pointwise's weights), or
// the kc x nr panel loaded as vectors (a strip of B rows, a weight panel).
enum class Resident { broadcast_panel, vector_panel };

struct GemmBlocking {
  dim_t mr = 0, nr = 0;  // the tile of the kernel that will run
  dim_t kc = 0;          // reduction slice: kernel calls run kc steps (the last one too)
};

// The blocking for a reduction of `depth` with a kernel of tile mr x nr. The resident panel takes
// a fixed share of L1d (3/8 for a broadcast panel, which leaves room for the vector panels that
// stream past it; 1/2 for a vector panel): on a 32 KiB L1d that is kc = 256 floats for a 12-row
// tile, the figure measured best on Zen 4. The depth is cut into equal slices, so no call runs a
// short remainder; kc stays within [16, kMaxSlice].
GemmBlocking gemm_blocking(dim_t mr, dim_t nr, dim_t depth, std::size_t elem_bytes,
                           Resident resident);
constexpr dim_t kMaxSlice = 512;

// ---------------------------------------------------------------------------------------------
// The task list

// Tasks of the sweep over rows (positions) and column blocks (output channels), image slowest,
// then group, row block, part of the column blocks. When the row tasks are fewer than `wanted`
// (a 7x7 layer at batch 1 has one per group), the column blocks are split into parts as well,
// so that both cores get work; every part re-reads its rows, hence only then.
struct GemmTask {
  dim_t n = 0, grp = 0, block = 0;  // image, group, row block
  dim_t b0 = 0, b1 = 0;             // column blocks [b0, b1)
};

class TaskGrid {
 public:
  TaskGrid() = default;
  TaskGrid(dim_t images, dim_t groups, dim_t row_blocks, dim_t col_blocks, dim_t wanted);
  dim_t tasks() const { return tasks_; }
  dim_t per_part() const { return per_part_; }  // the most column blocks of one task
  GemmTask operator()(dim_t task) const;

 private:
  dim_t groups_ = 1, row_blocks_ = 1, col_blocks_ = 1, parts_ = 1, per_part_ = 1, tasks_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Weights

// Offset in a canonical weight view (strides `ws`) of each reduction index d, for output channel
// 0: d = c * taps + tap (tap_major false) or tap * Cg + c (true).
std::vector<dim_t> reduction_offsets(const Geometry& g, const std::vector<dim_t>& ws,
                                     bool tap_major);

// The order in which packing visits the reduction indices: d itself, but for a tap-major
// packing of a view whose weights lie channels then taps (a dense (K, C/groups, k..) tensor),
// blocks of 16 channels x 4 taps, so that a block's reads stay within a few cache lines and its
// writes within a few runs of rows. Packed d by d, r50_res5_3x3_b1's tap-major weights (9.4 MB)
// took ~2 ms a run, its reads 9 floats apart (docs/measurements.md).
std::vector<dim_t> source_order(const Geometry& g, const std::vector<dim_t>& src_off,
                                bool tap_major);

// Weights packed as W[group][block][d][width]: column j of block b is output channel
// b * width + j of the group (zero past Kg), row d the reduction index d. `width` is the tile
// side that spans output channels: nr when positions are the tile's rows, mr when channels are.
template <class T>
class PackedWeights {
 public:
  // Sized once, when the executor plans (sizes checked: a wrapped one would under-allocate).
  void init(const Geometry& g, dim_t depth, dim_t width) {
    const char* ws = "workspace";
    groups_ = g.groups, Kg_ = g.Kg(), depth_ = depth, width_ = width;
    blocks_ = (g.Kg() + width - 1) / width;
    elems_ = checked_mul(checked_mul(checked_mul(g.groups, blocks_, ws), depth, ws), width, ws);
  }

  dim_t blocks() const { return blocks_; }            // per group
  dim_t panels() const { return groups_ * blocks_; }  // pack tasks
  std::size_t elems() const { return static_cast<std::size_t>(elems_); }
  // The panel of (group, block), starting at reduction index d0.
  const T* panel(const T* packed, dim_t grp, dim_t block, dim_t d0 = 0) const {
    return packed + ((grp * blocks_ + block) * depth_ + d0) * width_;
  }

  // Panel `index` (group-major) of w, its rows read at src_off[d] (reduction_offsets), visited
  // in the order of source_order. In blocks of 64 rows: the width output channels are read one
  // after the other, and the 64 x width block written (8 KiB for f32 at width 32) stays in L1.
  void pack_panel(const ConstTensorView& w, const dim_t* src_off, const dim_t* order, T* out,
                  dim_t index) const {
    pack_panel_at(w, src_off, order, out + index * depth_ * width_, index);
  }
  // The same, written at `panel` (depth x width values) instead of its place in the packing.
  void pack_panel_at(const ConstTensorView& w, const dim_t* src_off, const dim_t* order,
                     T* panel, dim_t index) const {
    constexpr dim_t kBlock = 64;
    const T* src = static_cast<const T*>(w.data);
    const dim_t grp = index / blocks_, b = index % blocks_;
    for (dim_t d0 = 0; d0 < depth_; d0 += kBlock) {
      const dim_t d1 = std::min(depth_, d0 + kBlock);
      for (dim_t j = 0; j < width_; ++j) {
        const dim_t k = b * width_ + j;
        if (k >= Kg_) {
          for (dim_t i = d0; i < d1; ++i) panel[order[i] * width_ + j] = T(0);
          continue;
        }
        const T* wk = src + (grp * Kg_ + k) * w.strides[0];
        for (dim_t i = d0; i < d1; ++i) {
          const dim_t r = order[i];
          panel[r * width_ + j] = wk[src_off[r]];
        }
      }
    }
  }

  // The packed weights of a run. Weights that may change from run to run are packed into `own`
  // (the workspace) by the job's first phase: pack_tasks() panels, each pack_panel(). A
  // constant-weights plan takes them from the cache, packed by its first run (packing a
  // 512x512x3x3 layer moves 9.4 MB, about as long as its batch-1 GEMM). `layout` tells
  // packings of one executor apart (e.g. the reduction order).
  const T* for_run(bool constant, const ConstTensorView& w, int layout,
                   const std::vector<dim_t>& src_off, const std::vector<dim_t>& order, T* own,
                   int threads) const {
    if (!constant) return own;
    return cache_.get<T>(true, w, layout, elems() * sizeof(T), own, [&](T* out) {
      parallel_tasks(panels(), threads,
                     [&](dim_t p) { pack_panel(w, src_off.data(), order.data(), out, p); });
    });
  }
  dim_t pack_tasks(bool constant) const { return constant ? 0 : panels(); }

 private:
  dim_t groups_ = 1, Kg_ = 0, depth_ = 0, width_ = 1, blocks_ = 0, elems_ = 0;
  PackedWeightsCache cache_;
};

// ---------------------------------------------------------------------------------------------
// The run

// One run as one job over the thread pool (runtime/threads.h): the weights packed into `own`
// (the workspace) by the first phase, one task per panel, or taken from the cache of a
// constant-weights plan; then the algorithm's `prep_tasks` tasks of that phase, `prep(task)`
// (copying input planes); then the sweep, `sweep(packed weights, GemmTask)` for every task of
// the grid. `tap_major` picks the reduction order of the packed rows (reduction_offsets).
// `weights_unpacked`: the sweep reads w in place, nothing is packed (the sweep gets nullptr).
template <class T, class Prep, class Sweep>
void run_gemm_job(const Geometry& g, const PackedWeights<T>& weights, const ConstTensorView& w,
                  bool tap_major, T* own, const TaskGrid& grid, int threads, dim_t prep_tasks,
                  Prep&& prep, Sweep&& sweep, bool weights_unpacked = false) {
  std::vector<dim_t> src_off, order;
  if (!weights_unpacked) {
    src_off = reduction_offsets(g, w.strides, tap_major);
    order = source_order(g, src_off, tap_major);
  }
  const T* packed =
      weights_unpacked
          ? nullptr
          : weights.for_run(g.constant_weights, w, tap_major, src_off, order, own, threads);
  const dim_t panels = weights_unpacked ? 0 : weights.pack_tasks(g.constant_weights);
  parallel_phases({panels + prep_tasks, grid.tasks()}, threads, [&](int phase, dim_t task) {
    if (phase == 1) return sweep(packed, grid(task));
    if (task < panels) return weights.pack_panel(w, src_off.data(), order.data(), own, task);
    prep(task - panels);
  });
}

// ---------------------------------------------------------------------------------------------
// Accumulators and stores

// The starting values of output channels [k0, k1) of group grp: their bias (zero past Kg, or
// without a bias), into seeds[0 .. k1 - k0).
template <class T>
void bias_values(const std::optional<ConstTensorView>& bias, dim_t grp, dim_t Kg, dim_t k0,
                 dim_t k1, T* seeds) {
  const T* b = bias ? static_cast<const T*>(bias->data) : nullptr;
  for (dim_t k = k0; k < k1; ++k)
    seeds[k - k0] = b && k < Kg ? b[(grp * Kg + k) * bias->strides[0]] : T(0);
}

// Positions as rows, acc[r * ldc + k]: `rows` rows of `count` channels start at seeds[0..count).
// One row written, then copied (a per-element loop with a bias test cost 40 % of
// padded_igemm's task time on r50_res2_3x3).
template <class T>
void seed_position_rows(T* acc, dim_t ldc, dim_t rows, dim_t count, const T* seeds) {
  for (dim_t r = 0; r < rows; ++r) std::memcpy(acc + r * ldc, seeds, sizeof(T) * count);
}

// Channels as rows, acc[k * ldc + r]: `count` rows of `width` positions, row k at seeds[k].
template <class T>
void seed_channel_rows(T* acc, dim_t ldc, dim_t count, dim_t width, const T* seeds) {
  for (dim_t k = 0; k < count; ++k) std::fill(acc + k * ldc, acc + k * ldc + width, seeds[k]);
}

// A run of consecutive accumulator positions r .. r + len - 1 that go to output offsets
// off, off + step, .. (step: the store's, the same for every run).
struct OutputRun {
  dim_t r = 0, off = 0, len = 0;
};

// Runs from one output offset per accumulator position (row_off[0..rows)), merged where
// consecutive positions are `step` apart in the output. Returns their number; runs[] must hold
// `rows` entries.
dim_t merge_runs(const dim_t* row_off, dim_t rows, dim_t step, OutputRun* runs);

// Stores `count` channels of positions-as-rows accumulators (acc at the first channel's column)
// into y (at the first channel; channel stride ys1): channels-last (ys1 == 1) a row at a time,
// otherwise channel by channel, so that each channel's positions are written in order.
template <class T>
void store_position_rows(const T* acc, dim_t ldc, dim_t count, const OutputRun* runs, dim_t nruns,
                         dim_t step, T* y, dim_t ys1) {
  if (ys1 == 1) {
    for (dim_t i = 0; i < nruns; ++i)
      for (dim_t j = 0; j < runs[i].len; ++j)
        std::memcpy(y + runs[i].off + j * step, acc + (runs[i].r + j) * ldc, sizeof(T) * count);
    return;
  }
  for (dim_t k = 0; k < count; ++k) {
    T* yk = y + k * ys1;
    for (dim_t i = 0; i < nruns; ++i) {
      const T* ak = acc + runs[i].r * ldc + k;
      T* yr = yk + runs[i].off;
      for (dim_t j = 0; j < runs[i].len; ++j) yr[j * step] = ak[j * ldc];
    }
  }
}

// Stores `count` channels of channels-as-rows accumulators (acc at the first channel's row) into
// y, as store_position_rows. Channels-last: each run's (channels x positions) block transposed;
// a dense run of a channels-first output: one copy per channel. Positions [0, done_r) of the
// first done_count channels were already written in place by the caller and are skipped.
template <class T>
void store_channel_rows(const T* acc, dim_t ldc, dim_t count, const OutputRun* runs, dim_t nruns,
                        dim_t step, T* y, dim_t ys1, dim_t done_count = 0, dim_t done_r = 0) {
  if (ys1 == 1) {
    for (dim_t i = 0; i < nruns; ++i)
      kernels::transpose<T>(static_cast<std::size_t>(count), static_cast<std::size_t>(runs[i].len),
                            acc + runs[i].r, ldc, y + runs[i].off, step);
    return;
  }
  // Run by run: a run's accumulator columns (at most a few hundred values per channel) stay in
  // L1 while its channels are written.
  for (dim_t i = 0; i < nruns; ++i) {
    const OutputRun& run = runs[i];
    const dim_t done = std::clamp(done_r - run.r, dim_t{0}, run.len);
    // (A 1-D layer written in place leaves whole runs done for all but its last channels.)
    for (dim_t k = done == run.len ? std::min(done_count, count) : 0; k < count; ++k) {
      T* yk = y + run.off + k * ys1;
      const T* ak = acc + k * ldc + run.r;
      const dim_t from = k < done_count ? done : 0;
      if (step == 1) {
        std::memcpy(yk + from, ak + from, sizeof(T) * (run.len - from));
      } else {
        for (dim_t j = from; j < run.len; ++j) yk[j * step] = ak[j];
      }
    }
  }
}

}  // namespace convnd::detail
