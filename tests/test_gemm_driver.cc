// The GEMM middle-end (algo/gemm_driver.h) on its own: blocking derived from the bound kernel's
// tile and the cache sizes, weight packing read back element by element, the stores into both
// layouts, the task list covering every (image, group, row block, column block) once, and the
// workspace layout's slots. The algorithms built on it are checked against the reference by
// their own suites; these tests name the component when one of them breaks.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <tuple>
#include <vector>

#include "algo/gemm_driver.h"
#include "kernels/gemm_bptr.h"
#include "kernels/gemm_tile.h"
#include "runtime/cache_sizes.h"

namespace convnd::detail {
namespace {

// Every depth from 1 to past a few slices, for both resident panels, with the tiles of the
// kernels that run on this CPU: kc fits its share of L1 (unless at the floor of 16), never
// exceeds the depth, and cuts it into equal slices (the last one at most one shorter per slice).
TEST(GemmDriver, BlockingFollowsTheKernelTileAndTheL1Size) {
  const auto tk = kernels::tile_kernel<float>();
  const auto bk = kernels::bptr_kernel<float>(kernels::BptrTile::narrow);
  const std::size_t l1 = cache_sizes().l1d;
  for (auto [mr, nr] : {std::pair<dim_t, dim_t>(tk.mr, tk.nr), {bk.mr, bk.nr}})
    for (Resident res : {Resident::broadcast_panel, Resident::vector_panel})
      for (dim_t depth = 1; depth <= 2000; depth += depth < 40 ? 1 : 37) {
        const GemmBlocking b = gemm_blocking(mr, nr, depth, sizeof(float), res);
        SCOPED_TRACE(testing::Message() << "mr " << mr << " nr " << nr << " depth " << depth);
        EXPECT_EQ(b.mr, mr);
        EXPECT_EQ(b.nr, nr);
        ASSERT_GE(b.kc, 1);
        EXPECT_LE(b.kc, depth);
        EXPECT_LE(b.kc, kMaxSlice);
        const dim_t width = res == Resident::broadcast_panel ? mr : nr;
        const std::size_t share = res == Resident::broadcast_panel ? l1 * 3 / 8 : l1 / 2;
        if (b.kc > 16) {
          EXPECT_LE(static_cast<std::size_t>(b.kc * width) * sizeof(float), share);
        }
        const dim_t slices = (depth + b.kc - 1) / b.kc;
        EXPECT_GE(b.kc * slices, depth);
        EXPECT_LT((b.kc - 1) * slices, depth) << "slices are not equal";
      }
}

// Packed panels read back: W[group][block][d][width] holds output channel block * width + j of
// the group at reduction index d, zero past Kg, in both reduction orders, visited in source
// order or d by d.
TEST(GemmDriver, PackedWeightsHoldEveryWeightOnce) {
  Geometry g;
  g.N = 1, g.C = 6, g.K = 2 * 37, g.groups = 2;
  g.kernel = {3, 2};
  g.in = g.out = {5, 5};
  const dim_t taps = 6, Cg = 3, Kg = 37, depth = Cg * taps;
  // Strided (non-dense) weight views, every weight at its own integer value: channels then taps
  // in memory (packed in source order), and channels innermost (packed d by d).
  for (const std::vector<dim_t>& strides :
       {std::vector<dim_t>{200, 50, 9, 2}, std::vector<dim_t>{200, 1, 60, 20}})
  for (bool tap_major : {false, true})
    for (dim_t width : {dim_t{4}, dim_t{16}}) {
      std::vector<double> w(static_cast<std::size_t>(g.K * 200), -1.0);
      auto at = [&](dim_t k, dim_t c, dim_t t0, dim_t t1) {
        return k * 200 + c * strides[1] + t0 * strides[2] + t1 * strides[3];
      };
      for (dim_t k = 0; k < g.K; ++k)
        for (dim_t c = 0; c < Cg; ++c)
          for (dim_t t0 = 0; t0 < 3; ++t0)
            for (dim_t t1 = 0; t1 < 2; ++t1)
              w[at(k, c, t0, t1)] = static_cast<double>(((k * 7 + c) * 3 + t0) * 2 + t1);
      ConstTensorView view;
      view.data = w.data();
      view.strides = strides;
      PackedWeights<double> pw;
      pw.init(g, depth, width);
      const std::vector<dim_t> src_off = reduction_offsets(g, strides, tap_major);
      const std::vector<dim_t> order = source_order(g, src_off, tap_major);
      std::vector<double> out(pw.elems(), -2.0);
      for (dim_t p = 0; p < pw.panels(); ++p)
        pw.pack_panel(view, src_off.data(), order.data(), out.data(), p);
      for (dim_t grp = 0; grp < 2; ++grp)
        for (dim_t b = 0; b < pw.blocks(); ++b)
          for (dim_t d = 0; d < depth; ++d)
            for (dim_t j = 0; j < width; ++j) {
              const dim_t k = b * width + j;
              const dim_t c = tap_major ? d % Cg : d / taps, t = tap_major ? d / Cg : d % taps;
              const double want = k < Kg ? w[at(grp * Kg + k, c, t / 2, t % 2)] : 0.0;
              ASSERT_EQ(pw.panel(out.data(), grp, b, d)[j], want)
                  << "tap_major " << tap_major << " width " << width << " group " << grp
                  << " k " << k << " d " << d;
            }
    }
}

// The task list: each (image, group, row block, column block) exactly once; the column blocks
// are split into parts only when the row tasks are fewer than wanted.
TEST(GemmDriver, TaskGridCoversEveryBlockOnce) {
  for (auto [images, groups, rows, cols] :
       {std::tuple<dim_t, dim_t, dim_t, dim_t>{1, 1, 1, 7}, {2, 3, 5, 4}, {1, 1, 20, 3},
        {1, 2, 1, 1}, {3, 1, 2, 16}, {1, 1, 6, 4}}) {  // (the last: no empty part)
    const TaskGrid grid(images, groups, rows, cols, 16);
    std::set<std::tuple<dim_t, dim_t, dim_t, dim_t>> seen;
    for (dim_t i = 0; i < grid.tasks(); ++i) {
      const GemmTask t = grid(i);
      ASSERT_LT(t.b0, t.b1);
      ASSERT_LE(t.b1 - t.b0, grid.per_part());
      for (dim_t b = t.b0; b < t.b1; ++b)
        ASSERT_TRUE(seen.insert({t.n, t.grp, t.block, b}).second) << "block done twice";
    }
    EXPECT_EQ(static_cast<dim_t>(seen.size()), images * groups * rows * cols);
    if (images * groups * rows >= 16) {
      EXPECT_EQ(grid.tasks(), images * groups * rows);
    }
  }
}

// Stores of a 5-channel x 7-position accumulator block into y, both accumulator orientations,
// channels-first and channels-last, positions in two runs with a gap between them.
TEST(GemmDriver, StoresReachBothLayouts) {
  const dim_t K = 5, P = 7, ldc = 11, step_cl = K;
  std::vector<float> pos_rows(P * ldc), ch_rows(K * ldc);
  for (dim_t p = 0; p < P; ++p)
    for (dim_t k = 0; k < K; ++k)
      pos_rows[p * ldc + k] = ch_rows[k * ldc + p] = static_cast<float>(100 * k + p);
  // Positions 0..2 go to outputs 1..3, positions 3..6 to outputs 6..9.
  const OutputRun runs[2] = {{0, 1, 3}, {3, 6, 4}};
  const auto out_pos = [](dim_t p) { return p < 3 ? p + 1 : p + 3; };
  for (bool channels_last : {false, true})
    for (bool channel_rows : {false, true}) {
      const dim_t O = 10, ys1 = channels_last ? 1 : O, step = channels_last ? step_cl : 1;
      std::vector<float> y(static_cast<std::size_t>(K * O), -1.f);
      std::vector<OutputRun> r(runs, runs + 2);
      for (auto& run : r) run.off *= step;
      if (channel_rows)
        store_channel_rows(ch_rows.data(), ldc, K, r.data(), 2, step, y.data(), ys1);
      else
        store_position_rows(pos_rows.data(), ldc, K, r.data(), 2, step, y.data(), ys1);
      for (dim_t k = 0; k < K; ++k)
        for (dim_t p = 0; p < P; ++p)
          ASSERT_EQ(y[k * ys1 + out_pos(p) * step], static_cast<float>(100 * k + p))
              << "channels_last " << channels_last << " channel_rows " << channel_rows;
      dim_t untouched = 0;
      for (float v : y) untouched += v == -1.f;
      EXPECT_EQ(untouched, K * (O - P));
    }
  // Positions already written in place (the first 2 of the first 3 channels) are left alone.
  std::vector<float> y(static_cast<std::size_t>(K * 10), -1.f);
  store_channel_rows(ch_rows.data(), ldc, K, runs, 2, 1, y.data(), 10, 3, 2);
  for (dim_t k = 0; k < K; ++k)
    for (dim_t p = 0; p < P; ++p)
      EXPECT_EQ(y[k * 10 + out_pos(p)], k < 3 && p < 2 ? -1.f : static_cast<float>(100 * k + p));
}

TEST(GemmDriver, SeedsAndRuns) {
  std::optional<ConstTensorView> bias;
  std::vector<float> b = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  ConstTensorView bv;
  bv.data = b.data();
  bv.strides = {2};
  bias = bv;
  float seeds[4];
  bias_values(bias, 1, 3, 1, 5, seeds);  // group 1 of 3 channels, stride 2: b[8], b[10], 0, 0
  EXPECT_EQ(std::vector<float>(seeds, seeds + 4), (std::vector<float>{9, 11, 0, 0}));
  bias_values(std::optional<ConstTensorView>{}, 0, 3, 0, 2, seeds);
  EXPECT_EQ(seeds[0], 0.f);
  EXPECT_EQ(seeds[1], 0.f);

  const dim_t offs[6] = {10, 13, 16, 30, 33, 5};
  OutputRun runs[6];
  ASSERT_EQ(merge_runs(offs, 6, 3, runs), 3);
  EXPECT_EQ(runs[0].len, 3);
  EXPECT_EQ(runs[1].r, 3);
  EXPECT_EQ(runs[1].off, 30);
  EXPECT_EQ(runs[2].off, 5);
  EXPECT_EQ(runs[2].len, 1);
}

// The workspace: the same carve sizes it and lays it out; slots of different threads are
// disjoint, and everything lies inside bytes().
TEST(GemmDriver, WorkspaceSlotsLieInsideAndApart) {
  WorkspaceLayout layout;
  const auto shared = [](Carve& c) { return c.take<double>(100); };
  const auto slot = [](Carve& c) {
    c.take<float>(3);
    return c.take<char>(70);
  };
  layout.size(shared, slot, 2);
  EXPECT_EQ(layout.bytes(), 832u + 2 * (64u + 128u));
  std::vector<char> ws(layout.bytes() + 64);
  char* base = ws.data() + (64 - reinterpret_cast<std::uintptr_t>(ws.data()) % 64) % 64;
  EXPECT_EQ(reinterpret_cast<char*>(layout.shared(base, shared)), base);
  char* s0 = layout.slot(base, slot);  // thread_index() is 0 outside a job
  EXPECT_EQ(s0, base + 832 + 64);
  EXPECT_LE(s0 + 70, base + layout.bytes());
  WorkspaceLayout huge;
  EXPECT_ANY_THROW(huge.size([](Carve& c) { return c.take<double>(SIZE_MAX / 4); }, slot, 2));
}

}  // namespace
}  // namespace convnd::detail
