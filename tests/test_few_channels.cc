// Few input channels (C 1..8: first layers of image and audio networks) and grouped layers with
// few channels per group (Cg 1..16), against the reference, on padded_igemm, whose two tile
// orientations serve both (issue 16 items 2 and 3).
//
// Positions as rows with a channels-last output (more than 16 output channels per group) sums
// a tile straight in y when its rows are consecutive outputs; the other tiles and a group's
// last, partial block of output channels go through the accumulators. The shapes below make
// both kinds meet in one task: lines whose length is not a multiple of the tile's rows (a tile
// straddling two lines, or a line and the grid's discarded positions), K/groups not a multiple
// of the tile's columns, one depth slice and several, taps skipped in zero padding (tap by tap,
// C/groups >= 64), long 1-D axes, 2-D and 3-D, stride > kernel, dilation, padding wider than
// the kernel in every mode, bias, f32 and f64, both layouts, and 1 vs 2 threads bitwise.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "padded_igemm";

TEST(FewChannels, LongOneDimensionalAxes) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (DType t : {DType::f32, DType::f64})
      for (dim_t C : {1, 2, 3, 5, 8}) {
        // wav2vec's first layer in miniature: k 10, stride 5; K 40 leaves a block of 8.
        ConvTester().input(2, C, {1003}).kernel(40, {10}).stride({5}).layout(l).dtype(t).bias()
            .test(kAlgo, Pass::forward);
        // Stride larger than the kernel, padding wider than it, dilation.
        ConvTester().input(1, C, {517}).kernel(64, {3}).stride({4}).dilation({2})
            .padding(Padding::lo_hi({{7, 5}})).layout(l).dtype(t).test(kAlgo, Pass::forward);
        // Stride 2 with padding, K 33: a one-channel tail block.
        ConvTester().input(1, C, {301}).kernel(33, {5}).stride({2}).padding(Padding::uniform(6))
            .layout(l).dtype(t).bias().test(kAlgo, Pass::forward);
      }
}

TEST(FewChannels, ImagesAndVolumes) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (DType t : {DType::f32, DType::f64})
      for (dim_t C : {1, 3, 4, 7}) {
        // The r50 stem: 7x7 stride 2 pad 3, K 64 (whole blocks) and 50 (a partial one; in
        // float64, 4 column blocks over 6 row tasks once made an empty third part of the task
        // grid, whose store wrote garbage).
        for (dim_t K : {64, 50})
          ConvTester().input(1, C, {45, 38}).kernel(K, {7, 7}).stride({2, 2})
              .padding(Padding::uniform(3)).layout(l).dtype(t).bias().test(kAlgo, Pass::forward);
        // Rows shorter than the tile (O 5), stride 3 > kernel 2, padding 4 > kernel.
        ConvTester().input(2, C, {13, 9}).kernel(36, {2, 2}).stride({3, 2})
            .padding(Padding::uniform(4)).layout(l).dtype(t).test(kAlgo, Pass::forward);
        // 3-D with dilation, a long last axis.
        ConvTester().input(1, C, {5, 6, 40}).kernel(48, {3, 2, 3}).dilation({1, 2, 3})
            .padding(Padding::uniform(2)).layout(l).dtype(t).bias().test(kAlgo, Pass::forward);
      }
}

TEST(FewChannels, EveryPaddingMode) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::replicate, PadMode::circular})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester().input(1, 3, {29, 31}).kernel(40, {5, 5}).stride({2, 2})
          .padding(Padding::uniform(2)).mode(m).layout(l).bias().test(kAlgo, Pass::forward);
      ConvTester().input(2, 2, {157}).kernel(70, {7}).stride({3}).padding(Padding::uniform(5))
          .mode(m).layout(l).test(kAlgo, Pass::forward);
    }
}

// Groups 2..64 with 1..16 channels per group (channels as rows), and more output channels per
// group than 16 (positions as rows channels-last, in y), K/groups not a multiple of the tile.
TEST(FewChannels, GroupsWithFewChannelsEach) {
  struct Case {
    dim_t groups, cg, kg;
  };
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (DType t : {DType::f32, DType::f64})
      for (Case c : {Case{2, 1, 3}, Case{3, 16, 16}, Case{4, 8, 8}, Case{32, 8, 8}, Case{64, 1, 2},
                     Case{5, 4, 12}, Case{6, 3, 40}, Case{2, 16, 33}, Case{3, 5, 64}}) {
        ConvTester().input(2, c.groups * c.cg, {14, 11}).kernel(c.groups * c.kg, {3, 3})
            .groups(c.groups).padding(Padding::uniform(1)).layout(l).dtype(t).bias()
            .test(kAlgo, Pass::forward);
        ConvTester().input(1, c.groups * c.cg, {9, 8, 7}).kernel(c.groups * c.kg, {3, 3, 3})
            .groups(c.groups).stride({2, 1, 3}).padding(Padding::uniform(2)).layout(l).dtype(t)
            .test(kAlgo, Pass::forward);
      }
}

// Depths of several slices and tap by tap (zero padding, C/groups >= 64, forced: unforced a
// channels-last input with so many channels goes to implicit_gemm), summed in y across calls.
TEST(FewChannels, SeveralSlicesAndSkippedTaps) {
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    ConvTester().input(1, 40, {17, 15}).kernel(35, {3, 3}).padding(Padding::uniform(1)).layout(l)
        .bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 70, {9, 26}).kernel(66, {3, 3}).dilation({3, 2})
        .padding(Padding::uniform(4)).layout(l).bias().test(kAlgo, Pass::forward);
    ConvTester().input(2, 128, {6, 30}).kernel(64, {3, 3}).groups(2).padding(Padding::uniform(3))
        .layout(l).dtype(DType::f64).test(kAlgo, Pass::forward);
  }
}

// Strided views (channels not adjacent in y: the accumulators only) and 1, 2, 3 threads.
TEST(FewChannels, StridedViewsAndThreads) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (int threads : {1, 2, 3})
      for (dim_t gap : {0, 2})
        ConvTester().input(2, 3, {27, 25}).kernel(40, {3, 3}).stride({2, 1})
            .padding(Padding::uniform(1)).threads(threads).strided_views(gap).layout(l).bias()
            .test(kAlgo, Pass::forward);
}

// A channels-first input is copied several planes per task (N * C / 16 of them, up to 16, so
// here 3 of 25 channels: a last block of one), line by line across the block's planes: every
// padding mode, stride 2 (two phases per axis), dilation, strided views (planes not adjacent),
// 1 to 3 threads.
TEST(FewChannels, ChannelsFirstPlanesCopiedInBlocks) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (int threads : {1, 2, 3})
      for (dim_t gap : {0, 2}) {
        ConvTester().input(2, 25, {11, 13}).kernel(15, {3, 3}).groups(5).stride({2, 1})
            .dilation({1, 2}).padding(Padding::uniform(3)).mode(m).threads(threads)
            .strided_views(gap).layout(Layout::channels_first).bias().test(kAlgo, Pass::forward);
        ConvTester().input(3, 16, {6, 5, 7}).kernel(32, {2, 3, 3}).groups(16).stride({1, 2, 2})
            .padding(Padding::uniform(2)).mode(m).threads(threads).strided_views(gap)
            .layout(Layout::channels_first).dtype(DType::f64).test(kAlgo, Pass::forward);
      }
}

// A channels-last input is copied in blocks of N * C / (2 * threads) channels, 16 to 64 of
// them (here 50, 25 and 16 + 16 + 16 + 2 for 1, 2, 3 threads), one transpose per line of a
// block: every padding mode, stride and dilation, strided views, f32 and f64.
TEST(FewChannels, ChannelsLastChannelsCopiedInBlocks) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (int threads : {1, 2, 3})
      for (dim_t gap : {0, 2}) {
        ConvTester().input(2, 50, {9, 14}).kernel(20, {3, 3}).groups(5).stride({1, 2})
            .dilation({2, 1}).padding(Padding::uniform(3)).mode(m).threads(threads)
            .strided_views(gap).layout(Layout::channels_last).bias().test(kAlgo, Pass::forward);
        ConvTester().input(2, 50, {4, 5, 6}).kernel(25, {3, 2, 3}).groups(25).stride({2, 1, 2})
            .padding(Padding::uniform(2)).mode(m).threads(threads).strided_views(gap)
            .layout(Layout::channels_last).dtype(DType::f64).test(kAlgo, Pass::forward);
      }
}

// Same inputs, 1 and 2 threads, non-integer data: identical bits.
TEST(FewChannels, ThreadCountDoesNotChangeBits) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (dim_t groups : {1, 4}) {
      Spec s;
      s.N = 2;
      s.C = 4 * groups;
      s.K = 40 * groups;
      s.groups = groups;
      s.input = {23, 57};
      s.kernel = {5, 5};
      s.stride = {2, 2};
      s.padding = Padding::uniform(2);
      s.layout = l;
      s.bias = true;
      expect_threads_bitwise_equal(s, kAlgo);
    }
}

}  // namespace
}  // namespace convnd::testing
