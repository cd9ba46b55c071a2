#include "algo/gemm_driver.h"

#include <algorithm>

#include "runtime/cache_sizes.h"

namespace convnd::detail {

GemmBlocking gemm_blocking(dim_t mr, dim_t nr, dim_t depth, std::size_t elem_bytes,
                           Resident resident) {
  GemmBlocking b;
  b.mr = mr, b.nr = nr;
  const std::size_t l1 = cache_sizes().l1d;
  const std::size_t share = resident == Resident::broadcast_panel ? l1 * 3 / 8 : l1 / 2;
  const dim_t width = resident == Resident::broadcast_panel ? mr : nr;
  const dim_t fit = std::clamp<dim_t>(
      static_cast<dim_t>(share / (elem_bytes * static_cast<std::size_t>(width))), 16, kMaxSlice);
  const dim_t slices = std::max<dim_t>(1, (depth + fit - 1) / fit);
  b.kc = std::max<dim_t>(1, (depth + slices - 1) / slices);
  return b;
}

TaskGrid::TaskGrid(dim_t images, dim_t groups, dim_t row_blocks, dim_t col_blocks, dim_t wanted)
    : groups_(groups), row_blocks_(row_blocks), col_blocks_(col_blocks) {
  const char* ws = "task list";
  const dim_t row_tasks = checked_mul(checked_mul(images, groups, ws), row_blocks, ws);
  parts_ = row_tasks >= wanted || col_blocks < 1
               ? 1
               : std::min(col_blocks, (wanted + row_tasks - 1) / std::max<dim_t>(1, row_tasks));
  per_part_ = std::max<dim_t>(1, (col_blocks + parts_ - 1) / parts_);
  // Parts of per_part_ blocks, none empty: 4 blocks wanted in 3 parts are 2 parts of 2 (a third
  // part of no blocks stored a negative count of channels).
  if (col_blocks >= 1) parts_ = (col_blocks + per_part_ - 1) / per_part_;
  tasks_ = checked_mul(row_tasks, parts_, ws);
}

GemmTask TaskGrid::operator()(dim_t task) const {
  GemmTask t;
  const dim_t part = task % parts_;
  t.block = (task / parts_) % row_blocks_;
  t.grp = (task / (parts_ * row_blocks_)) % groups_;
  t.n = task / (parts_ * row_blocks_ * groups_);
  t.b0 = part * per_part_;
  t.b1 = std::min(col_blocks_, (part + 1) * per_part_);
  return t;
}

std::vector<dim_t> reduction_offsets(const Geometry& g, const std::vector<dim_t>& ws,
                                     bool tap_major) {
  const std::vector<dim_t> tap_off = tap_offsets(g, ws);
  const dim_t taps = static_cast<dim_t>(tap_off.size()), cg = g.Cg();
  std::vector<dim_t> off(static_cast<std::size_t>(cg * taps));
  for (dim_t c = 0; c < cg; ++c)
    for (dim_t t = 0; t < taps; ++t)
      off[tap_major ? t * cg + c : c * taps + t] = c * ws[1] + tap_off[t];
  return off;
}

std::vector<dim_t> source_order(const Geometry& g, const std::vector<dim_t>& src_off,
                                bool tap_major) {
  const dim_t cg = g.Cg(), depth = static_cast<dim_t>(src_off.size());
  const dim_t taps = cg > 0 ? depth / cg : 0;
  std::vector<dim_t> order(static_cast<std::size_t>(depth));
  for (dim_t i = 0; i < depth; ++i) order[i] = i;
  if (!tap_major) return order;
  // Channels then taps in memory?
  for (dim_t c = 0, prev = 0; c < cg; ++c)
    for (dim_t t = 0; t < taps; ++t) {
      const dim_t off = src_off[t * cg + c];
      if ((c > 0 || t > 0) && off <= prev) return order;
      prev = off;
    }
  // Blocks of 16 channels x 4 taps, taps outer: a block reads 16 x 4 weights of one output
  // channel within a few cache lines, and writes 4 runs of 16 consecutive packed rows. (Its 9
  // taps in one block wrote 9 rows 64 KiB apart on r50_res5_3x3: one L1 set, 8 ways.)
  constexpr dim_t kChannels = 16, kTaps = 4;
  dim_t i = 0;
  for (dim_t c0 = 0; c0 < cg; c0 += kChannels)
    for (dim_t t0 = 0; t0 < taps; t0 += kTaps)
      for (dim_t t = t0; t < std::min(taps, t0 + kTaps); ++t)
        for (dim_t c = c0; c < std::min(cg, c0 + kChannels); ++c) order[i++] = t * cg + c;
  return order;
}

dim_t merge_runs(const dim_t* row_off, dim_t rows, dim_t step, OutputRun* runs) {
  dim_t n = 0;
  for (dim_t r = 0; r < rows; ++r) {
    if (n > 0 && row_off[r] == runs[n - 1].off + runs[n - 1].len * step) {
      ++runs[n - 1].len;
      continue;
    }
    runs[n++] = OutputRun{r, row_off[r], 1};
  }
  return n;
}

}  // namespace convnd::detail
