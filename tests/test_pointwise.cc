// pointwise against the reference: position tails (P % nr: 1, 5, nr - 1, nr + 1 positions,
// with nr of the tile this CPU runs), channel
// tails (K % mr), reductions longer than one kc slice (C/groups = 300 > 256), several position
// blocks per image (P > 8 nr) and few (column split over tasks), groups, bias, 1-D to 4-D, f32
// and f64, channels-last and strided views (gathered tile by tile), threads 1 vs 2 bitwise.
#include <tuple>
#include <vector>

#include "conv_tester.h"
#include "kernels/gemm_tile.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "pointwise";

TEST(Pointwise, Tails) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester().input(1, 7, {1}).kernel(5, {1}).dtype(t).layout(l).bias().test(kAlgo, Pass::forward);
      ConvTester().input(2, 9, {5}).kernel(13, {1}).dtype(t).layout(l).test(kAlgo, Pass::forward);
      const auto nr = static_cast<dim_t>(kernels::tile_shape(t).nr);
      const auto mr = static_cast<dim_t>(kernels::tile_shape(t).mr);
      ConvTester().input(1, 16, {nr - 1}).kernel(mr + 1, {1}).dtype(t).layout(l).bias()
          .test(kAlgo, Pass::forward);
      ConvTester().input(1, 6, {nr + 1}).kernel(2 * mr - 1, {1}).dtype(t).layout(l)
          .test(kAlgo, Pass::forward);
      ConvTester().input(2, 3, {3, 11}).kernel(12, {1, 1}).dtype(t).layout(l).test(kAlgo, Pass::forward);
      // 300 channels: two kc slices; 7x7 = 49 positions: one full tile and a tail.
      ConvTester().input(1, 300, {7, 7}).kernel(40, {1, 1}).dtype(t).layout(l).bias().test(kAlgo, Pass::forward);
      // More than one position block (P = 20 * 20 = 400 > 8 tiles of 32).
      ConvTester().input(2, 10, {20, 20}).kernel(24, {1, 1}).dtype(t).layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 4, {3, 2, 5}).kernel(6, {1, 1, 1}).dtype(t).layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 5, {2, 3, 2, 3}).kernel(7, {1, 1, 1, 1}).dtype(t).layout(l).bias()
          .test(kAlgo, Pass::forward);
    }
}

TEST(Pointwise, GroupsViewsAndThreads) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (int threads : {1, 2, 3}) {
      ConvTester().input(2, 12, {9, 8}).kernel(30, {1, 1}).groups(3).layout(l).threads(threads).bias()
          .test(kAlgo, Pass::forward);
      // Rows with a gap: positions are not one dense run, so every tile is gathered.
      ConvTester().input(2, 8, {6, 6}).kernel(40, {1, 1}).layout(l).threads(threads).strided_views(3)
          .bias().test(kAlgo, Pass::forward);
    }
}

// Views whose positions are not one evenly spaced run are gathered tile by tile, in both
// layouts: position and channel tails, two kc slices (C = 300), groups, 1-D to 3-D, f32 and f64.
TEST(Pointwise, ScatteredViewsAreGathered) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      const auto nr = static_cast<dim_t>(kernels::tile_shape(t).nr);
      ConvTester().input(1, 300, {7, 7}).kernel(40, {1, 1}).dtype(t).layout(l).bias()
          .strided_views(2).test(kAlgo, Pass::forward);
      ConvTester().input(2, 9, {nr + 1, 2}).kernel(15, {1, 1}).groups(3).dtype(t).layout(l)
          .strided_views(1).test(kAlgo, Pass::forward);
      ConvTester().input(1, 5, {3, 4, 5}).kernel(7, {1, 1, 1}).dtype(t).layout(l).strided_views(4)
          .threads(2).test(kAlgo, Pass::forward);
      ConvTester().input(3, 4, {nr - 1}).kernel(3, {1}).dtype(t).layout(l).bias().strided_views(2)
          .test(kAlgo, Pass::forward);
    }
}

// A transposed 2x2/2 convolution is four 1x1 stride phases (bwd_data_phases), each writing
// every other output element: a dense input with a scattered output, written from pointwise's
// scratch tiles. Tails in positions (5 x 6 = 30 < 32) and channels (K/groups = 10, 13).
TEST(Pointwise, ScatteredOutputOfTransposedPhases) {
  for (int threads : {1, 2}) {
    ConvTester().input(1, 12, {5, 6}).kernel(10, {2, 2}).stride({2, 2}).transposed().bias()
        .threads(threads).test("bwd_data_phases", Pass::forward);
    ConvTester().input(2, 40, {9, 7}).kernel(26, {2, 2}).groups(2).stride({2, 2}).transposed()
        .threads(threads).test("bwd_data_phases", Pass::forward);
    ConvTester().input(1, 8, {37}).kernel(13, {3}).stride({3}).transposed().bias().threads(threads)
        .test("bwd_data_phases", Pass::forward);
  }
}

// The same phases channels-last: pointwise_channels_last sums a tile in place when its positions
// are evenly spaced in the output (12 positions inside one 20-wide row, 32 or more channels),
// else in its scratch tile (positions 12..23 cross a row's end; channel tails). Rows of 5, 6, 7
// and 20 positions, 1-D and 2-D, groups, f32 and f64, 1 and 2 threads.
TEST(Pointwise, ScatteredChannelsLastOutputOfTransposedPhases) {
  for (DType t : {DType::f32, DType::f64})
    for (int threads : {1, 2}) {
      ConvTester().input(1, 12, {5, 6}).kernel(10, {2, 2}).stride({2, 2}).transposed().bias()
          .dtype(t).layout(Layout::channels_last).threads(threads).test("bwd_data_phases", Pass::forward);
      ConvTester().input(2, 40, {9, 7}).kernel(26, {2, 2}).groups(2).stride({2, 2}).transposed()
          .dtype(t).layout(Layout::channels_last).threads(threads).test("bwd_data_phases", Pass::forward);
      ConvTester().input(1, 8, {37}).kernel(13, {3}).stride({3}).transposed().bias().dtype(t)
          .layout(Layout::channels_last).threads(threads).test("bwd_data_phases", Pass::forward);
      ConvTester().input(1, 70, {13, 20}).kernel(64, {2, 2}).stride({2, 2}).transposed().bias()
          .dtype(t).layout(Layout::channels_last).threads(threads).test("bwd_data_phases", Pass::forward);
      // Directly: an output view with a gap after every row (strided views), C in two slices.
      ConvTester().input(1, 300, {5, 26}).kernel(70, {1, 1}).dtype(t).layout(Layout::channels_last)
          .strided_views(2).threads(threads).bias().test(kAlgo, Pass::forward);
    }
}

// 7x7 (49 positions) channels-last takes the narrow tile (7 positions x 3 vectors) where it
// fills more than the wide one: full and partial column blocks (K = 100, 40), two kc slices
// (C = 300), two position blocks (14 x 7), groups, f32 and f64, 1 and 2 threads.
TEST(Pointwise, ChannelsLastNarrowTile) {
  for (DType t : {DType::f32, DType::f64})
    for (int threads : {1, 2}) {
      const Layout cl = Layout::channels_last;
      // Batch 2: at batch 1 these weights outweigh the input twice, and the input would be
      // transposed instead (ChannelsLastTransposedInput).
      ConvTester().input(2, 300, {7, 7}).kernel(100, {1, 1}).dtype(t).layout(cl).bias()
          .threads(threads).test(kAlgo, Pass::forward);
      ConvTester().input(2, 33, {14, 7}).kernel(40, {1, 1}).dtype(t).layout(cl).threads(threads)
          .test(kAlgo, Pass::forward);
      ConvTester().input(1, 64, {7, 7}).kernel(192, {1, 1}).groups(2).dtype(t).layout(cl).bias()
          .threads(threads).test(kAlgo, Pass::forward);
    }
}

// Channels-first channel rows a multiple of 1 KiB apart (16x16 f32, 8x16 f64, 32x32) are copied
// into a contiguous panel before the k tiles read them: full and partial position tiles, two kc
// slices (C = 300), channel tails, the transposed phases' scattered output, 1 and 2 threads.
TEST(Pointwise, ChannelRowsAKibApartAreCopied) {
  for (int threads : {1, 2}) {
    ConvTester().input(1, 300, {16, 16}).kernel(40, {1, 1}).bias().threads(threads)
        .test(kAlgo, Pass::forward);
    ConvTester().input(2, 30, {8, 16}).kernel(29, {1, 1}).dtype(DType::f64).threads(threads)
        .test(kAlgo, Pass::forward);
    ConvTester().input(1, 20, {32, 32}).kernel(50, {1, 1}).groups(2).bias().threads(threads)
        .test(kAlgo, Pass::forward);
    ConvTester().input(1, 33, {16, 16}).kernel(40, {2, 2}).stride({2, 2}).transposed().bias()
        .threads(threads).test("bwd_data_phases", Pass::forward);
    ConvTester().input(1, 33, {8, 16}).kernel(27, {2, 2}).stride({2, 2}).transposed()
        .dtype(DType::f64).threads(threads).test("bwd_data_phases", Pass::forward);
  }
}

// Dispatch: a channels-first 7x7 layer with constant weights goes to brgemm_direct (pointwise's
// pays()); weights that change per call, channels-last, 14x14 and few channels stay here.
TEST(Pointwise, FewPositionsChannelsFirstGoToBrgemmDirect) {
  Spec s;
  s.C = 128;
  s.K = 64;
  s.input = {7, 7};
  s.kernel = {1, 1};
  PlanOptions constant;
  constant.constant_weights = true;
  EXPECT_EQ(Plan(s, Pass::forward, constant).algorithm(), std::string("brgemm_direct"));
  EXPECT_EQ(Plan(s, Pass::forward).algorithm(), std::string(kAlgo));
  s.layout = Layout::channels_last;
  EXPECT_EQ(Plan(s, Pass::forward, constant).algorithm(), std::string(kAlgo));
  s.layout = Layout::channels_first;
  s.input = {14, 14};
  EXPECT_EQ(Plan(s, Pass::forward, constant).algorithm(), std::string(kAlgo));
  s.input = {7, 7};
  s.C = 32;
  EXPECT_EQ(Plan(s, Pass::forward, constant).algorithm(), std::string(kAlgo));
}

TEST(Pointwise, RejectsWhatIsNotOneByOne) {
  Spec s;
  s.C = 4;
  s.K = 4;
  s.input = {8, 8};
  s.kernel = {1, 1};
  s.stride = {2, 2};
  PlanOptions o;
  o.algorithm = kAlgo;
  EXPECT_THROW(Plan(s, Pass::forward, o), Error);
  s.stride = {1, 1};
  s.padding = Padding::uniform(1);
  EXPECT_THROW(Plan(s, Pass::forward, o), Error);
  s.padding = Padding::uniform(0);
  EXPECT_NO_THROW(Plan(s, Pass::forward, o));
  EXPECT_THROW(Plan(s, Pass::backward_data, o), Error);
}

// Non-integer data, 1 vs 2 threads: bitwise identical outputs.
TEST(Pointwise, ThreadCountDoesNotChangeBits) {
  Spec s;
  s.N = 1;
  s.C = 70;
  s.K = 50;
  s.input = {7, 9};
  s.kernel = {1, 1};
  s.bias = true;
  expect_threads_bitwise_equal(s, kAlgo);
}

// A 1x1 layer of 2 images of S x 3 positions with bias: the in-place-vs-packed comparisons' case.
Spec two_image_spec(DType t, dim_t C, dim_t K, dim_t groups, dim_t S, Layout layout) {
  Spec s;
  s.dtype = t;
  s.N = 2;
  s.C = C;
  s.K = K;
  s.groups = groups;
  s.input = {S, 3};
  s.kernel = {1, 1};
  s.bias = true;
  s.layout = layout;
  return s;
}

// Weights that change per call are read in place (their rows are contiguous over C), constant
// ones packed: the same products in the same order, so bitwise the same outputs. Channel tails
// (K/groups % mr), two kc slices, position tails, groups, f32 and f64.
TEST(Pointwise, WeightsInPlaceEqualPacked) {
  for (DType t : {DType::f32, DType::f64}) {
    const auto mr = static_cast<dim_t>(kernels::tile_shape(t).mr);
    for (const auto& [C, K, groups, S] : std::vector<std::tuple<dim_t, dim_t, dim_t, dim_t>>{
             {300, mr + 1, 1, 7}, {2 * 23, 2 * (2 * mr + 3), 2, 40}, {5, 1, 1, 33}}) {
      const Spec s = two_image_spec(t, C, K, groups, S, Layout::channels_first);
      SCOPED_TRACE(s.to_string());
      const PassShapes sh = pass_shapes(s, Pass::forward);
      Tensor x(s.dtype, sh.a), w(s.dtype, sh.b), bias(s.dtype, {s.K});
      x.fill_fractions(5);
      w.fill_fractions(6);
      bias.fill_fractions(7);
      PlanOptions in_place, packed;
      in_place.algorithm = packed.algorithm = kAlgo;
      packed.constant_weights = true;
      EXPECT_TRUE(bitwise_equal(run_pass(s, Pass::forward, x, w, &bias, in_place).out,
                                run_pass(s, Pass::forward, x, w, &bias, packed).out));
    }
  }
}

// Channels-last, weights that change per call and outweigh the input at least twice: the input
// is transposed into a channels-first copy and the weights read in place (pointwise.cc), instead
// of pointwise_channels_last packing them. Against the reference: position and channel tails,
// two kc slices (C = 300), groups, 1-D to 3-D, one position, bias, f32 and f64, 1 to 3 threads.
TEST(Pointwise, ChannelsLastTransposedInput) {
  const Layout cl = Layout::channels_last;
  for (DType t : {DType::f32, DType::f64})
    for (int threads : {1, 2, 3}) {
      ConvTester().input(1, 300, {7}).kernel(101, {1}).dtype(t).layout(cl).threads(threads).bias()
          .test(kAlgo, Pass::forward);
      ConvTester().input(1, 130, {7, 7}).kernel(143, {1, 1}).dtype(t).layout(cl).threads(threads)
          .test(kAlgo, Pass::forward);
      ConvTester().input(2, 24, {3, 3}).kernel(150, {1, 1}).groups(3).dtype(t).layout(cl)
          .threads(threads).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 70, {2, 3, 2}).kernel(50, {1, 1, 1}).dtype(t).layout(cl)
          .threads(threads).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 9, {1}).kernel(13, {1}).dtype(t).layout(cl).threads(threads).bias()
          .test(kAlgo, Pass::forward);
    }
}

// The transposed input (weights read in place, per call) and the channels-last executor
// (weights packed, constant) add the same products in the same order: bitwise the same outputs,
// and the same again from an input whose positions are a gap apart, with 1 and 2 threads.
TEST(Pointwise, ChannelsLastTransposedEqualsPacked) {
  for (DType t : {DType::f32, DType::f64}) {
    for (const auto& [C, K, groups, S] : std::vector<std::tuple<dim_t, dim_t, dim_t, dim_t>>{
             {300, 101, 1, 7}, {2 * 23, 2 * 99, 2, 5}, {64, 300, 1, 1}}) {
      const Spec s = two_image_spec(t, C, K, groups, S, Layout::channels_last);
      SCOPED_TRACE(s.to_string());
      const PassShapes sh = pass_shapes(s, Pass::forward);
      Tensor x(s.dtype, sh.a), gapped(s.dtype, sh.a, 3), w(s.dtype, sh.b), bias(s.dtype, {s.K});
      x.fill_fractions(5);
      gapped.fill_fractions(5);
      w.fill_fractions(6);
      bias.fill_fractions(7);
      PlanOptions in_place, packed;
      in_place.algorithm = packed.algorithm = kAlgo;
      packed.constant_weights = true;
      const Tensor want = run_pass(s, Pass::forward, x, w, &bias, packed).out;
      for (int threads : {1, 2}) {
        in_place.threads = threads;
        EXPECT_TRUE(bitwise_equal(run_pass(s, Pass::forward, x, w, &bias, in_place).out, want));
        EXPECT_TRUE(bitwise_equal(run_pass(s, Pass::forward, gapped, w, &bias, in_place).out, want));
      }
    }
  }
}

// constant_weights: packed once, packed again when the weights move.
TEST(Pointwise, ConstantWeightsRepackForNewPointers) {
  Spec s;
  s.N = 2;
  s.C = 20;
  s.K = 35;
  s.input = {6, 7};
  s.kernel = {1, 1};
  expect_constant_weights_cached(s, kAlgo);
}

}  // namespace
}  // namespace convnd::testing
