// brgemm_direct against the reference (channels-last input read in place, channels-first
// through a copy): 1-D to 3-D, odd
// sizes, stride > kernel, dilation, groups, padding larger than the kernel's reach (taps wholly
// in padding left out of a tile's list, whole tiles of bias only), every padding mode, K and the
// positions not multiples of the tile, channel blocks with a shorter last one (C/groups > 512),
// f32 and f64, strided views, channels-first output, 1 vs 2 threads bit for bit, constant
// weights, and the workspace it reports.
#include "conv_tester.h"
#include "kernels/gemm_tile.h"
#include "runtime/buffer.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "brgemm_direct";

// The workspace a plan reports is what its run uses (test_workspace.cc's measure), and a limit
// one byte below it refuses the plan.
void expect_workspace_covers_run(const Spec& s, int threads) {
  SCOPED_TRACE(s.to_string());
  const PassShapes sh = pass_shapes(s, Pass::forward);
  Tensor x(s.dtype, sh.a), w(s.dtype, sh.b), bias(s.dtype, {s.K}), y(s.dtype, sh.out);
  x.fill_integers(1);
  w.fill_integers(2);
  bias.fill_integers(3);
  PlanOptions o;
  o.algorithm = kAlgo;
  o.threads = threads;
  const Plan plan(s, Pass::forward, o);
  ASSERT_GT(plan.workspace_bytes(), 0u);
  detail::BufferStats::reset_peak();
  const std::size_t before = detail::BufferStats::live();
  plan.forward(x.view(), w.view(), bias.view(), y.view());
  EXPECT_LE(detail::BufferStats::peak() - before, plan.workspace_bytes());
  o.workspace_limit = plan.workspace_bytes() - 1;
  EXPECT_THROW(Plan(s, Pass::forward, o), Error);
}

TEST(BrgemmDirect, TilingEdges) {
  for (DType t : {DType::f32, DType::f64}) {
    const auto nr = static_cast<dim_t>(kernels::tile_shape(t).nr);
    SCOPED_TRACE(std::string("tile of ") + kernels::isa_name() + ", nr = " + std::to_string(nr));
    // K = nr + 1, 2 nr + 1: column-block tails; 13 x 11 positions: a partial last tile.
    ConvTester().input(2, 8, {13, 11}).kernel(nr + 1, {3, 3}).padding(Padding::uniform(1))
        .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 40, {9, 7}).kernel(2 * nr + 1, {2, 3}).stride({2, 1})
        .layout(Layout::channels_last).dtype(t).test(kAlgo, Pass::forward);
    // More positions than one task holds (8 tiles), tiles straddling rows of 28.
    ConvTester().input(3, 9, {28, 28}).kernel(7, {5, 5}).padding(Padding::uniform(2))
        .layout(Layout::channels_last).dtype(t).test(kAlgo, Pass::forward);
    // 7x7 outputs: the narrow tile (7 rows x 3 vectors) fills them, K = 96 and 47 (a tail).
    for (dim_t k : {dim_t{96}, dim_t{47}})
      ConvTester().input(2, 24, {7, 7}).kernel(k, {3, 3}).padding(Padding::uniform(1))
          .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
    // Channel blocks: 700 = 350 + 350, 1100 = 367 + 367 + 366 (a shorter last block).
    ConvTester().input(1, 700, {5, 4}).kernel(nr, {3, 1}).padding(Padding::uniform(1))
        .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 1100, {4, 4}).kernel(5, {2, 2}).padding(Padding::uniform(1))
        .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
  }
}

TEST(BrgemmDirect, GeometryClasses) {
  for (DType t : {DType::f32, DType::f64})
    for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                      PadMode::circular}) {
      // Groups, stride > kernel, dilation, uneven padding.
      ConvTester().input(2, 24, {10, 9}).kernel(6, {3, 4}).groups(3).stride({3, 2})
          .dilation({2, 1}).padding(Padding::lo_hi({{4, 1}, {0, 5}})).mode(m)
          .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
      // 1-D, stride 5 > kernel 4, padding 6 > the kernel: taps wholly in padding.
      ConvTester().input(1, 9, {17}).kernel(5, {4}).stride({5}).padding(Padding::uniform(6))
          .mode(m).layout(Layout::channels_last).dtype(t).test(kAlgo, Pass::forward);
      // 3-D, 'same' padding.
      ConvTester().input(1, 10, {5, 4, 3}).kernel(3, {3, 2, 3})
          .padding(Padding::same(SamePolicy::tf)).mode(m).layout(Layout::channels_last)
          .dtype(t).test(kAlgo, Pass::forward);
    }
}

TEST(BrgemmDirect, TapsWhollyInPadding) {
  for (DType t : {DType::f32, DType::f64}) {
    // aspp-like: dilation 6 on 13 x 13, padding 6: the border tiles skip taps.
    ConvTester().input(1, 16, {13, 13}).kernel(20, {3, 3}).dilation({6, 6})
        .padding(Padding::uniform(6)).layout(Layout::channels_last).dtype(t).bias()
        .test(kAlgo, Pass::forward);
    // Padding far beyond the kernel: whole tiles read only padding and hold the bias.
    ConvTester().input(2, 8, {3, 2}).kernel(7, {2, 2}).padding(Padding::uniform(9))
        .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 12, {5}).kernel(3, {3}).dilation({4}).padding(Padding::lo_hi({{20, 15}}))
        .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
  }
}

// A channels-first plan: the input copied channels-last, the output stored channels-first.
TEST(BrgemmDirect, ChannelsFirstThroughACopy) {
  for (DType t : {DType::f32, DType::f64}) {
    ConvTester().input(2, 24, {7, 7}).kernel(47, {3, 3}).padding(Padding::uniform(1))
        .layout(Layout::channels_first).dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(2, 33, {13, 11}).kernel(40, {3, 2}).stride({2, 3}).dilation({2, 1})
        .padding(Padding::uniform(4)).layout(Layout::channels_first).dtype(t)
        .test(kAlgo, Pass::forward);
    ConvTester().input(1, 9, {17}).kernel(5, {4}).stride({5}).padding(Padding::uniform(6))
        .mode(PadMode::reflect).layout(Layout::channels_first).dtype(t).test(kAlgo, Pass::forward);
    ConvTester().input(1, 20, {5, 4, 3}).kernel(6, {3, 2, 3}).groups(2)
        .padding(Padding::same(SamePolicy::tf)).layout(Layout::channels_first).dtype(t)
        .strided_views(2).test(kAlgo, Pass::forward);
  }
}

TEST(BrgemmDirect, ViewsAndThreads) {
  for (int threads : {1, 2, 3})
    ConvTester().input(2, 8, {12, 12}).kernel(40, {3, 3}).padding(Padding::uniform(1))
        .layout(Layout::channels_last).threads(threads).strided_views(3).bias()
        .test(kAlgo, Pass::forward);
}

// Views the plan did not assume: a plan for a channels-last spec handed channels-first
// tensors as (N, H, W, C)-shaped views with permuted strides. Channels-first input runs on
// implicit_gemm's executor; channels-last input into a channels-first output is stored channel by
// channel.
ConstTensorView as_channels_last(const Tensor& t) {
  const ConstTensorView v = t.view();
  std::vector<dim_t> shape(v.shape.begin(), v.shape.end()), strides(v.strides.begin(), v.strides.end());
  std::rotate(shape.begin() + 1, shape.begin() + 2, shape.end());
  std::rotate(strides.begin() + 1, strides.begin() + 2, strides.end());
  return ConstTensorView(v.data, v.dtype, shape, strides, t.size());
}

TEST(BrgemmDirect, OtherViewsAtRunTime) {
  Spec s;
  s.N = 2;
  s.C = 16;
  s.K = 37;
  s.input = {7, 6};
  s.kernel = {3, 3};
  s.padding = Padding::uniform(1);
  s.layout = Layout::channels_last;
  s.bias = true;
  Spec cf = s;
  cf.layout = Layout::channels_first;
  const PassShapes sh_cf = pass_shapes(cf, Pass::forward), sh = pass_shapes(s, Pass::forward);
  Tensor x_cf(s.dtype, sh_cf.a), x(s.dtype, sh.a), w(s.dtype, sh.b), bias(s.dtype, {s.K});
  x_cf.fill_integers(1);
  w.fill_integers(2);
  bias.fill_integers(3);
  // The same input channels-last.
  const ConstTensorView xv = as_channels_last(x_cf);
  for (dim_t i = 0; i < x.size(); ++i) {
    dim_t r = i, off = 0;
    for (int a = 3; a >= 0; --a) {
      off += (r % xv.shape[a]) * xv.strides[a];
      r /= xv.shape[a];
    }
    x.set(i, static_cast<const float*>(xv.data)[off]);
  }
  PlanOptions o, ref;
  o.algorithm = kAlgo;
  ref.algorithm = "reference";
  const Plan plan(s, Pass::forward, o);
  ASSERT_EQ(plan.algorithm(), std::string(kAlgo));
  const PassResult want = run_pass(cf, Pass::forward, x_cf, w, &bias, ref);
  for (bool cf_input : {true, false}) {
    SCOPED_TRACE(cf_input ? "channels-first input" : "channels-first output");
    Tensor y_cf(s.dtype, sh_cf.out);
    y_cf.fill(1e30);
    const ConstTensorView yc = as_channels_last(y_cf);
    const TensorView yv(const_cast<void*>(yc.data), yc.dtype, yc.shape, yc.strides, y_cf.size());
    plan.forward(cf_input ? xv : static_cast<const Tensor&>(x).view(), w.view(), bias.view(), yv);
    EXPECT_TRUE(all_near(y_cf, want.out, 0, 0, "output"));
  }
}

// Same inputs, 1 and 2 threads: identical bits (fractions, so that another summation order
// would show), with taps dropped at the borders, a shorter last channel block, and packing
// fused into the tasks (batch 1).
TEST(BrgemmDirect, ThreadCountDoesNotChangeBits) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_last, Layout::channels_first})
    for (dim_t C : {24, 600})
    for (dim_t N : {1, 2}) {  // batch 1: each task packs its own weights
      Spec s;
      s.N = N;
      s.C = C;
      s.K = C == 24 ? 45 : 96;  // 96 on 7 x 7 outputs: the narrow tile
      s.input = C == 24 ? std::vector<dim_t>{15, 13} : std::vector<dim_t>{9, 7};
      s.kernel = {3, 3};
      s.stride = {2, 1};
      s.dilation = {1, 3};
      s.padding = Padding::uniform(3);
      s.layout = l;
      s.dtype = t;
      s.bias = true;
      EXPECT_EQ(expect_threads_bitwise_equal(s, kAlgo).algorithm, std::string(kAlgo));
    }
}

TEST(BrgemmDirect, ConstantWeightsAreCachedAndRepackedForNewPointers) {
  Spec s;
  s.N = 2;
  s.C = 12;
  s.K = 35;
  s.input = {9, 8};
  s.kernel = {3, 3};
  s.padding = Padding::uniform(1);
  s.layout = Layout::channels_last;
  expect_constant_weights_cached(s, kAlgo);
}

// The workspace reported is what a run uses (test_workspace.cc's measure), and a limit below it
// refuses the plan.
TEST(BrgemmDirect, WorkspaceCoversTheRun) {
  for (int threads : {1, 2}) {
    Spec s;
    s.N = 2;
    s.C = 600;
    s.K = 50;
    s.input = {11, 9};
    s.kernel = {3, 3};
    s.padding = Padding::uniform(2);
    s.layout = Layout::channels_last;
    s.bias = true;
    expect_workspace_covers_run(s, threads);
  }
}

TEST(BrgemmDirect, RejectsWhatItDoesNotRun) {
  Spec s;
  s.N = 1;
  s.C = 16;
  s.K = 8;
  s.input = {8, 8};
  s.kernel = {3, 3};
  EXPECT_TRUE(accepts(s, Pass::forward, kAlgo));  // channels-first, through a copy
  s.layout = Layout::channels_last;
  EXPECT_TRUE(accepts(s, Pass::forward, kAlgo));
  EXPECT_FALSE(accepts(s, Pass::backward_data, kAlgo));
  s.C = 4;  // few channels: a kernel row per pair (the last axis dense)
  EXPECT_TRUE(accepts(s, Pass::forward, kAlgo));
  s.dilation = {1, 2};  // too few channels per group to run a tap per pair
  EXPECT_FALSE(accepts(s, Pass::forward, kAlgo));
}

// Few channels per group (below 32) with the last axis dense: one pair per kernel row (KW x Cg
// consecutive values) on a copy of the input padded along the last axis.
TEST(BrgemmDirect, MergedRowsChannelsAndWidths) {
  for (DType t : {DType::f32, DType::f64})
    for (dim_t C : {1, 2, 3, 5, 8, 16})
      for (dim_t kw : {1, 2, 3, 7, 11}) {
        // Padding kw / 2 + 1 on the last axis: border rows run into it on both sides.
        ConvTester().input(2, C, {6, 13}).kernel(kw == 7 ? 33 : 9, {2, kw})
            .stride({1, kw == 11 ? 1 : 2}).padding(Padding::lo_hi({{1, 0}, {kw / 2 + 1, kw / 2}}))
            .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
      }
}

TEST(BrgemmDirect, MergedRowsGeometryClasses) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_last, Layout::channels_first})
      for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                        PadMode::circular}) {
        // 1-D, stride 5 > kernel 3, padding 7 > the kernel on both sides (w2v-like, C 1).
        ConvTester().input(2, 1, {23}).kernel(12, {3}).stride({5}).padding(Padding::uniform(7))
            .mode(m).layout(l).dtype(t).bias().test(kAlgo, Pass::forward);
        // 2-D r50_conv1-like: C 3, 7x7 stride 2 pad 3; and padding 9 beyond the kernel, uneven.
        ConvTester().input(1, 3, {11, 10}).kernel(20, {7, 7}).stride({2, 2})
            .padding(Padding::uniform(3)).mode(m).layout(l).dtype(t).test(kAlgo, Pass::forward);
        ConvTester().input(2, 4, {5, 6}).kernel(7, {3, 4}).stride({3, 2}).dilation({2, 1})
            .padding(Padding::lo_hi({{9, 2}, {1, 9}})).mode(m).layout(l).dtype(t).bias()
            .test(kAlgo, Pass::forward);
        // Groups: 3 groups of 5 channels (the copy splits them), and 3-D with groups of 8.
        ConvTester().input(2, 15, {7, 9}).kernel(9, {3, 3}).groups(3).padding(Padding::uniform(2))
            .mode(m).layout(l).dtype(t).strided_views(2).test(kAlgo, Pass::forward);
        ConvTester().input(2, 16, {4, 5, 6}).kernel(6, {3, 2, 3}).groups(2)
            .padding(Padding::same(SamePolicy::tf)).mode(m).layout(l).dtype(t).bias()
            .test(kAlgo, Pass::forward);
      }
}

// 64 or more channels per group, or a dilated last axis: still a tap per pair (no padded copy),
// in every padding mode.
TEST(BrgemmDirect, TapPerPairGeometryClasses) {
  for (DType t : {DType::f32, DType::f64})
    for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::replicate, PadMode::circular}) {
      ConvTester().input(2, 64, {7, 6}).kernel(9, {3, 3}).stride({2, 1})
          .padding(Padding::lo_hi({{4, 1}, {0, 5}})).mode(m).layout(Layout::channels_last)
          .dtype(t).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 24, {9, 11}).kernel(6, {2, 3}).groups(3).dilation({1, 2})
          .padding(Padding::uniform(3)).mode(m).layout(Layout::channels_last).dtype(t)
          .test(kAlgo, Pass::forward);
    }
}

// KW x Cg above kMaxSlice: the merged row is cut into blocks, the last one shorter
// (31 x 17 = 527 = 264 + 263; 63 x 9 = 567 = 284 + 283).
TEST(BrgemmDirect, MergedRowsLongerThanABlock) {
  for (DType t : {DType::f32, DType::f64})
  {
    ConvTester().input(1, 31, {3, 20}).kernel(5, {2, 17}).padding(Padding::uniform(4))
        .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(2, 63, {5, 7}).kernel(33, {3, 9}).padding(Padding::uniform(4))
        .mode(PadMode::reflect).layout(Layout::channels_last).dtype(t).test(kAlgo, Pass::forward);
  }
}

// At most one vector of output channels per group: the single-vector tile (24 x 1 vector on
// AVX-512). Output channels 1..17 around one vector of either dtype, positions not a multiple
// of its rows, 1-D to 3-D, merged rows and a tap per pair (a dilated last axis), groups, both
// layouts, every padding mode, and 1 vs 2 threads bit for bit (unet3d_c16-like).
TEST(BrgemmDirect, SingleVectorTile) {
  for (DType t : {DType::f32, DType::f64})
    for (dim_t Kg : {1, 5, 7, 8, 9, 15, 16, 17}) {
      ConvTester().input(2, 16, {5, 6, 7}).kernel(Kg, {3, 3, 3}).padding(Padding::uniform(1))
          .layout(Layout::channels_last).dtype(t).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 2 * 8, {25}).kernel(2 * Kg, {4}).groups(2).stride({5})
          .padding(Padding::uniform(6)).layout(Layout::channels_first).dtype(t)
          .test(kAlgo, Pass::forward);
    }
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_last, Layout::channels_first})
      for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::replicate, PadMode::circular}) {
        ConvTester().input(2, 32, {6, 5, 7}).kernel(32, {3, 3, 3}).groups(2)
            .padding(Padding::uniform(1)).mode(m).layout(l).dtype(t).bias()
            .test(kAlgo, Pass::forward);
        ConvTester().input(1, 24, {9, 11}).kernel(12, {2, 3}).groups(3).dilation({1, 2})
            .stride({1, 3}).padding(Padding::uniform(4)).mode(m).layout(l).dtype(t)
            .strided_views(2).test(kAlgo, Pass::forward);
      }
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_last, Layout::channels_first}) {
      Spec s;
      s.N = 2;
      s.C = 16;
      s.K = 16;
      s.input = {7, 6, 9};
      s.kernel = {3, 3, 3};
      s.padding = Padding::uniform(1);
      s.layout = l;
      s.dtype = t;
      s.bias = true;
      EXPECT_EQ(expect_threads_bitwise_equal(s, kAlgo).algorithm, std::string(kAlgo));
    }
}

TEST(BrgemmDirect, MergedRowsThreadCountDoesNotChangeBits) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_last, Layout::channels_first})
      for (dim_t N : {1, 3}) {
        Spec s;
        s.N = N;
        s.C = 3;
        s.K = 40;
        s.input = {19, 17};
        s.kernel = {5, 5};
        s.stride = {2, 2};
        s.padding = Padding::uniform(2);
        s.pad_mode = PadMode::reflect;
        s.layout = l;
        s.dtype = t;
        s.bias = true;
        EXPECT_EQ(expect_threads_bitwise_equal(s, kAlgo).algorithm, std::string(kAlgo));
      }
}

TEST(BrgemmDirect, MergedRowsWorkspaceCoversTheRun) {
  for (int threads : {1, 2})
    for (Layout l : {Layout::channels_last, Layout::channels_first}) {
      Spec s;
      s.N = 2;
      s.C = 3;
      s.K = 50;
      s.input = {21, 19};
      s.kernel = {7, 7};
      s.stride = {2, 2};
      s.padding = Padding::uniform(3);
      s.layout = l;
      s.bias = true;
      expect_workspace_covers_run(s, threads);
    }
}

TEST(BrgemmDirect, MergedRowsConstantWeightsAreCached) {
  Spec s;
  s.N = 2;
  s.C = 3;
  s.K = 35;
  s.input = {9, 8};
  s.kernel = {3, 5};
  s.padding = Padding::uniform(2);
  s.layout = Layout::channels_last;
  expect_constant_weights_cached(s, kAlgo);
}

}  // namespace
}  // namespace convnd::testing
