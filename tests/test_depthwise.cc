// depthwise (forward and weight gradient) against the reference: channel counts and row lengths around the vector widths
// (full 4-vector steps, single vectors, scalar tails), strides 1-3 (phase-split planes),
// dilation, every padding mode with padding larger than the kernel, 1-D to 3-D, both layouts,
// strided views, bias, f32 and f64.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "depthwise";

TEST(Depthwise, WidthsAndTails) {
  for (dim_t C : {1, 7, 16, 17, 64, 67, 144})
    for (Layout l : {Layout::channels_first, Layout::channels_last})
      ConvTester().input(2, C, {9, 70}).kernel(C, {3, 3}).groups(C).padding(Padding::uniform(1))
          .layout(l).bias().test(kAlgo, Pass::forward, Pass::backward_weights, Pass::backward_data);
}

TEST(Depthwise, StridesDilationModes) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (Layout l : {Layout::channels_first, Layout::channels_last})
      for (dim_t s : {1, 2, 3}) {
        ConvTester().input(1, 5, {11, 13}).kernel(5, {3, 5}).groups(5).stride({s}).dilation({1, 2})
            .padding(Padding::lo_hi({{4, 2}, {1, 6}})).mode(m).layout(l)
            .test(kAlgo, Pass::forward, Pass::backward_weights, Pass::backward_data);
        ConvTester().input(2, 3, {23}).kernel(3, {4}).groups(3).stride({s}).padding(Padding::same(SamePolicy::tf))
            .mode(m).layout(l).dtype(DType::f64)
            .test(kAlgo, Pass::forward, Pass::backward_weights, Pass::backward_data);
        ConvTester().input(1, 4, {5, 6, 7}).kernel(4, {3, 2, 3}).groups(4).stride({s, 1, s})
            .padding(Padding::uniform(2)).mode(m).layout(l).test(kAlgo, Pass::forward, Pass::backward_weights);
      }
}

TEST(Depthwise, StridedViewsAndThreads) {
  for (int threads : {1, 2})
    for (Layout l : {Layout::channels_first, Layout::channels_last})
      ConvTester().input(3, 20, {14, 15}).kernel(20, {3, 3}).groups(20).stride({2}).padding(Padding::uniform(1))
          .layout(l).strided_views(3).threads(threads).bias()
          .test(kAlgo, Pass::forward, Pass::backward_weights, Pass::backward_data);
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// Many channels over a one-sample plane: the channels-last weight gradient's per-channel
// accumulator once lived in the plane area, which holds max(plane, taps) elements (overflowed
// for C > 2 of them). Also a long plane: the wide run split into groups of rows.
TEST(Depthwise, ManyChannelsTinyPlaneAndLongRows) {
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    ConvTester().input(2, 64, {1, 1}).kernel(64, {1, 1}).groups(64).layout(l).bias()
        .test("depthwise", Pass::forward, Pass::backward_weights);
    ConvTester().input(1, 2, {9, 5000}).kernel(2, {3, 2}).groups(2).stride({2, 1})
        .padding(Padding::uniform(1)).mode(PadMode::reflect).layout(l)
        .test("depthwise", Pass::forward, Pass::backward_weights);
  }
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// Channels-last with 16 or more channels (the channel-vector path: interior runs of 8 positions
// and their tails, border positions one by one) in every mode, stride (3 > kernel 2 included),
// dilation, padding larger than the kernel, 1-D to 3-D.
TEST(Depthwise, ChannelVectorsModesStridesRanks) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (dim_t s : {1, 2, 3}) {
      ConvTester().input(1, 18, {11, 29}).kernel(18, {3, 5}).groups(18).stride({s}).dilation({1, 2})
          .padding(Padding::lo_hi({{4, 2}, {1, 6}})).mode(m).layout(Layout::channels_last).bias()
          .test(kAlgo, Pass::forward, Pass::backward_weights);
      ConvTester().input(2, 33, {40}).kernel(33, {2}).groups(33).stride({s})
          .padding(Padding::same(SamePolicy::tf)).mode(m).layout(Layout::channels_last)
          .dtype(DType::f64).test(kAlgo, Pass::forward, Pass::backward_weights);
      ConvTester().input(1, 16, {5, 6, 21}).kernel(16, {3, 2, 3}).groups(16).stride({s, 1, s})
          .padding(Padding::uniform(2)).mode(m).layout(Layout::channels_last)
          .test(kAlgo, Pass::forward, Pass::backward_weights);
    }
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// Channels-first planes (depthwise.cc's run_plane): output rows of 15-17 and 31-33 (one wide
// run and a copy-out up to 16, kernels::dw_rows straight into the output above), 1-11 output
// rows (dw_rows' 8-, 4-, 2- and 1-row blocks), stride 2 over even and odd input widths with
// even and odd low padding (kernels::deinterleave_rows: which phase gets the even samples, and
// an odd sample count), stride 3 (strided_copy_rows' scalar step), dilation, padding larger
// than the kernel, every mode, strided views (a last-axis stride of 3: the copies step 2 * 3).
TEST(Depthwise, ChannelsFirstRowsAndSplits) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::replicate, PadMode::circular})
    for (dim_t width : {15, 16, 17, 31, 33})
      for (dim_t rows : {1, 3, 11}) {
        ConvTester().input(2, 3, {rows, width}).kernel(3, {3, 3}).groups(3)
            .padding(Padding::uniform(1)).mode(m).bias().test(kAlgo, Pass::forward);
        for (dim_t lo : {1, 2})
          ConvTester().input(1, 2, {2 * rows + 1, 2 * width + lo % 2}).kernel(2, {5, 3}).groups(2)
              .stride({2}).dilation({1, lo}).padding(Padding::lo_hi({{lo, 1}, {lo, 3}})).mode(m)
              .bias().test(kAlgo, Pass::forward, Pass::backward_weights, Pass::backward_data);
      }
  for (dim_t s : {2, 3})
    ConvTester().input(2, 5, {4, 9, 34}).kernel(5, {2, 3, 3}).groups(5).stride({1, s, s})
        .padding(Padding::uniform(4)).strided_views(3).bias().test(kAlgo, Pass::forward, Pass::backward_weights);
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// Channels-first forward with 16 or more channels (depthwise.cc's run_tiles: blocks of 16 f32 /
// 8 f64 channels transposed into channels-last tiles): channel counts around the block (a last
// block of 1..15 channels; under 16 the planes), kernels 1 to 7 (dw_channels_taps at 3, 5 and 7,
// dw_channels_run otherwise), strides 1-3 (3 beyond a kernel of 2), dilation, padding larger
// than the kernel in every mode, 1-D to 3-D, f32 and f64, strided views (not dense: planes);
// some axis always strided (stride 1 throughout keeps the planes).
TEST(Depthwise, ChannelsFirstTiles) {
  for (dim_t C : {1, 15, 16, 17, 24, 31, 33, 40})
    ConvTester().input(2, C, {9, 14}).kernel(C, {3, 3}).groups(C).stride({2})
        .padding(Padding::uniform(1)).bias().test(kAlgo, Pass::forward);
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (dim_t s : {1, 2, 3})
      for (dim_t k : {1, 2, 3, 5, 7}) {
        const dim_t pad = std::min<dim_t>(k + 1, 5);  // larger than the kernel, inside reflect's reach
        ConvTester().input(1, 19, {12, 13}).kernel(19, {k, k}).groups(19).stride({s, s == 1 ? 2 : s})
            .padding(Padding::uniform(pad)).mode(m).bias().test(kAlgo, Pass::forward);
        ConvTester().input(2, 17, {29}).kernel(17, {k}).groups(17).stride({s == 1 ? 2 : s}).dilation({2})
            .padding(Padding::lo_hi({{pad, 1}})).mode(m).dtype(DType::f64).test(kAlgo, Pass::forward);
      }
  for (dim_t s : {1, 2})
    ConvTester().input(1, 20, {5, 6, 9}).kernel(20, {3, 2, 3}).groups(20).stride({s, 1, 2})
        .padding(Padding::uniform(2)).mode(PadMode::reflect).test(kAlgo, Pass::forward);
  ConvTester().input(2, 36, {11, 10}).kernel(36, {5, 5}).groups(36).stride({2}).padding(Padding::uniform(2))
      .strided_views(3).bias().test(kAlgo, Pass::forward);
  ConvTester().input(2, 36, {11, 10}).kernel(36, {7, 7}).groups(36).stride({1, 2}).padding(Padding::uniform(3))
      .dtype(DType::f64).bias().test(kAlgo, Pass::forward);
  // Enough tasks for tiles of 2 and 4 lines of channels (a last tile of 6, 22 or 38).
  for (dim_t C : {70, 86, 102})
    for (DType t : {DType::f32, DType::f64})
      ConvTester().input(8, C, {7, 9}).kernel(C, {3, 5}).groups(C).stride({2}).padding(Padding::uniform(2))
          .mode(PadMode::symmetric).dtype(t).bias().test(kAlgo, Pass::forward);
}

// run_tiles band by band (depthwise_fwd_tiles.cc): rows of 70 and 45 inputs are wide enough
// that a band is one or a few output rows, so the input is transposed in over several bands
// (from positions that are no multiple of a block), the reflected, symmetric and circular rows
// of a band reach back or ahead of it (circular's first band reads the last rows), and the
// outputs go out across bands (rows of 35, 23, 15 positions: blocks straddle bands). Channel
// counts with tails for the 1-, 2- and 4-line blocks, strides 2-3 (3 beyond a kernel of 1 and 2),
// kernels 1-7, dilation, padding beyond the kernel, f32 and f64, 3-D (bands of planes), strided
// views.
TEST(Depthwise, ChannelsFirstTilesBands) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (dim_t s : {2, 3})
      for (dim_t k : {1, 2, 3, 5, 7}) {
        const dim_t pad = std::min<dim_t>(k + 1, 5);
        ConvTester().input(1, 21, {17, 70}).kernel(21, {k, k}).groups(21).stride({s})
            .padding(Padding::uniform(pad)).mode(m).bias().test(kAlgo, Pass::forward);
        ConvTester().input(1, 18, {19, 45}).kernel(18, {k, 3}).groups(18).stride({s, 2}).dilation({2, 1})
            .padding(Padding::lo_hi({{pad, 1}, {1, pad}})).mode(m).dtype(DType::f64).test(kAlgo, Pass::forward);
      }
  for (dim_t C : {16, 33, 70})
    for (DType t : {DType::f32, DType::f64})
      ConvTester().input(8, C, {28, 28}).kernel(C, {3, 3}).groups(C).stride({2}).padding(Padding::uniform(1))
          .dtype(t).bias().test(kAlgo, Pass::forward);
  ConvTester().input(2, 20, {9, 8, 40}).kernel(20, {3, 3, 3}).groups(20).stride({2})
      .padding(Padding::uniform(2)).mode(PadMode::circular).test(kAlgo, Pass::forward);
  ConvTester().input(2, 36, {21, 50}).kernel(36, {5, 5}).groups(36).stride({2}).padding(Padding::uniform(2))
      .strided_views(3).bias().threads(2).test(kAlgo, Pass::forward);
}

// 1 and 2 threads agree bit for bit on `pass` of a channels-first layer that runs on tiles.
void expect_tiles_threads_agree(Pass pass, std::vector<dim_t> input = {17, 19}) {
  Spec s;
  s.N = 3;
  s.C = s.K = s.groups = 40;
  s.input = std::move(input);
  s.kernel = {5, 5};
  s.stride = {2, 2};
  s.padding = Padding::uniform(2);
  s.pad_mode = PadMode::reflect;
  const PassShapes sh = pass_shapes(s, pass);
  Tensor a(s.dtype, sh.a), b(s.dtype, sh.b);
  for (dim_t i = 0; i < a.size(); ++i) a.set(i, 0.37 * static_cast<double>(i % 101) - 11.1);
  for (dim_t i = 0; i < b.size(); ++i) b.set(i, 0.13 * static_cast<double>(i % 89) - 5.3);
  PlanOptions one, two;
  one.algorithm = two.algorithm = kAlgo;
  one.threads = 1;
  two.threads = 2;
  const PassResult r1 = run_pass(s, pass, a, b, nullptr, one);
  const PassResult r2 = run_pass(s, pass, a, b, nullptr, two);
  EXPECT_TRUE(bitwise_equal(r1.out, r2.out));
}

// Tasks are (image, channel block) tiles: 1 and 2 threads agree bit for bit.
TEST(Depthwise, ChannelsFirstTilesThreadCountIndependent) {
  expect_tiles_threads_agree(Pass::forward);
  expect_tiles_threads_agree(Pass::forward, {31, 70});  // bands of one or two output rows
}

// Channels-first weight gradient with 16 or more channels (depthwise_wgrad_tiles.cc: x and dy
// of a block of channels transposed into channels-last tiles, image by image): channel counts
// around the block (C 16-40 not multiples of the vector: last blocks of 1..15), kernels 1 to 7
// (interior runs and border taps), strides 1-3, dilation, padding larger than the kernel in
// every mode, 1-D to 3-D, f32 and f64, strided views (not dense: planes), 1 to 4 lines of
// channels, images split into groups (N 2 and 3 over one block); some axis always strided
// (stride 1 throughout keeps the planes).
TEST(Depthwise, ChannelsFirstWeightTiles) {
  for (dim_t C : {16, 17, 24, 31, 33, 40})
    ConvTester().input(2, C, {9, 14}).kernel(C, {3, 3}).groups(C).stride({2})
        .padding(Padding::uniform(1)).test(kAlgo, Pass::backward_weights);
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (dim_t s : {1, 2, 3})
      for (dim_t k : {1, 2, 3, 5, 7}) {
        const dim_t pad = std::min<dim_t>(k + 1, 5);  // larger than the kernel, inside reflect's reach
        ConvTester().input(2, 19, {12, 13}).kernel(19, {k, k}).groups(19).stride({s, s == 1 ? 2 : s})
            .padding(Padding::uniform(pad)).mode(m).test(kAlgo, Pass::backward_weights);
        ConvTester().input(2, 17, {29}).kernel(17, {k}).groups(17).stride({s == 1 ? 2 : s}).dilation({2})
            .padding(Padding::lo_hi({{pad, 1}})).mode(m).dtype(DType::f64).test(kAlgo, Pass::backward_weights);
      }
  for (dim_t s : {1, 2})
    ConvTester().input(2, 20, {5, 6, 9}).kernel(20, {3, 2, 3}).groups(20).stride({s, 1, 2})
        .padding(Padding::uniform(2)).mode(PadMode::reflect).test(kAlgo, Pass::backward_weights);
  // Stride 1 throughout: tiles of 4 lines of channels (small planes), planes otherwise.
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::circular})
    for (dim_t k : {1, 3, 5, 7}) {
      ConvTester().input(3, 21, {10, 9}).kernel(21, {k, k}).groups(21).padding(Padding::uniform(k / 2 + 1))
          .mode(m).test(kAlgo, Pass::backward_weights);
      ConvTester().input(2, 18, {23}).kernel(18, {k}).groups(18).dilation({2}).padding(Padding::lo_hi({{k, 1}}))
          .mode(m).dtype(DType::f64).test(kAlgo, Pass::backward_weights);
    }
  ConvTester().input(1, 16, {40, 40}).kernel(16, {3, 3}).groups(16).padding(Padding::uniform(1))
      .test(kAlgo, Pass::backward_weights);
  ConvTester().input(2, 36, {11, 10}).kernel(36, {5, 5}).groups(36).stride({2}).padding(Padding::uniform(2))
      .strided_views(3).test(kAlgo, Pass::backward_weights);
  ConvTester().input(1, 36, {11, 10}).kernel(36, {7, 7}).groups(36).stride({1, 2}).padding(Padding::uniform(3))
      .dtype(DType::f64).test(kAlgo, Pass::backward_weights);
  // Enough blocks for tiles of 2 lines of f32 channels and 4 of f64 (a last tile of 6).
  for (DType t : {DType::f32, DType::f64})
    ConvTester().input(2, 262, {5, 6}).kernel(262, {3, 3}).groups(262).stride({2}).padding(Padding::uniform(1))
        .mode(PadMode::symmetric).dtype(t).test(kAlgo, Pass::backward_weights);
}

// The weight gradient's tasks are (group of images, channel block), their partials added in group
// order: 1 and 2 threads agree bit for bit.
TEST(Depthwise, ChannelsFirstWeightTilesThreadCountIndependent) {
  expect_tiles_threads_agree(Pass::backward_weights);
}

}  // namespace
}  // namespace convnd::testing
