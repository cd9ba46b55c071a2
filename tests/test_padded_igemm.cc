// padded_igemm against the reference, on shapes chosen from how it lays out its copy: grid rows
// that are thrown away (L > O on every axis but the first), stride phases (stride 2, 3, 5 and
// stride > kernel: phases no tap reads), dilation not a multiple of the stride, padding wider
// than the kernel in every mode, column-block tails (K % nr), reductions longer than one kc
// slice, groups (buffer offsets per group), tiles running past the last image into the slack,
// 1-D to 4-D, both layouts (channels-last with C/groups >= 64 goes to implicit_gemm's in-place
// path, below 64 through the copy), strided views, bias, and 1 vs 2 vs 3 threads bitwise.
// Both tile orientations: output channels as rows (channels-first, or at most 16 output
// channels per group) and positions as rows (channels-last with more).
#include "conv_tester.h"
#include "kernels/gemm_bptr.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "padded_igemm";

TEST(PaddedIgemm, GridAndPhases) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (DType t : {DType::f32, DType::f64}) {
      // 3x3 pad 1 on odd sizes: L = O + 2 per row; K = 33 leaves a one-channel column tail.
      ConvTester().input(2, 5, {13, 11}).kernel(33, {3, 3}).padding(Padding::uniform(1)).layout(l)
          .dtype(t).bias().test(kAlgo, Pass::forward);
      // The r50 stem in miniature: C = 3, 7x7, stride 2, pad 3.
      ConvTester().input(1, 3, {23, 19}).kernel(16, {7, 7}).stride({2, 2}).padding(Padding::uniform(3))
          .layout(l).dtype(t).test(kAlgo, Pass::forward);
      // Stride 3 and 2 with dilation 2 (taps land in different phases), uneven padding.
      ConvTester().input(2, 4, {17, 14}).kernel(7, {3, 2}).stride({3, 2}).dilation({2, 3})
          .padding(Padding::lo_hi({{2, 0}, {1, 3}})).layout(l).dtype(t).test(kAlgo, Pass::forward);
      // Stride larger than the kernel: phases that no tap reads.
      ConvTester().input(1, 3, {16, 15}).kernel(5, {2, 1}).stride({5, 4}).padding(Padding::uniform(1))
          .layout(l).dtype(t).test(kAlgo, Pass::forward);
      // Reduction longer than one kc slice (40 * 9 = 360 > 256) and several row chunks.
      ConvTester().input(2, 40, {11, 10}).kernel(20, {3, 3}).padding(Padding::uniform(1)).layout(l)
          .dtype(t).bias().test(kAlgo, Pass::forward);
      // 1-D, a wav2vec-like first layer: C = 1, k = 10, stride 5.
      ConvTester().input(2, 1, {103}).kernel(9, {10}).stride({5}).layout(l).dtype(t)
          .test(kAlgo, Pass::forward);
      // 1x1 stride 2 (accepted: only stride-1 unpadded 1x1 is left to implicit_gemm).
      ConvTester().input(1, 6, {9, 8}).kernel(5, {1, 1}).stride({2, 2}).layout(l).dtype(t)
          .test(kAlgo, Pass::forward);
    }
}

// The channel-rows tile (8 channels x 48 positions on AVX-512): output channels per group
// around the tile's rows (mr - 1, mr, mr + 1, 2 mr, 2 mr + 1: a partial last block, exact
// blocks, one channel over), in channels-last too where at most 16 channels take this
// orientation (17 there runs positions as rows); groups of 8
// (resnext); a depth cut into several equal slices (24 channels x 27 taps); few row tasks, so
// the channel blocks are split between tasks; positions strips running past the grid.
TEST(PaddedIgemm, ChannelRowsTile) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (DType t : {DType::f32, DType::f64}) {
      // The tile's rows on this CPU (8 with AVX-512, 4 with AVX2), from the kernel itself.
      const auto mr = static_cast<dim_t>(
          t == DType::f32 ? kernels::bptr_kernel<float>(kernels::BptrTile::narrow).mr
                          : kernels::bptr_kernel<double>(kernels::BptrTile::narrow).mr);
      for (dim_t k : {mr - 1, mr, mr + 1, 2 * mr, 2 * mr + 1})
        ConvTester()
            .input(2, 5, {13, 11})
            .kernel(k, {3, 3})
            .padding(Padding::uniform(1))
            .layout(l)
            .dtype(t)
            .bias()
            .test(kAlgo, Pass::forward);
      ConvTester()
          .input(1, 32, {9, 10})
          .kernel(32, {3, 3})
          .groups(4)
          .padding(Padding::uniform(1))
          .layout(l)
          .dtype(t)
          .bias()
          .test(kAlgo, Pass::forward);
      ConvTester()
          .input(2, 24, {6, 5, 7})
          .kernel(16, {3, 3, 3})
          .padding(Padding::uniform(1))
          .mode(PadMode::reflect)
          .layout(l)
          .dtype(t)
          .test(kAlgo, Pass::forward);
      ConvTester()
          .input(1, 9, {4, 5})
          .kernel(80, {2, 3})
          .stride({2, 1})
          .layout(l)
          .dtype(t)
          .bias()
          .test(kAlgo, Pass::forward);
      // 1-D channels-first writes whole tiles straight into y: strips inside the outputs and a
      // tail strip (296 outputs), whole channel blocks and a partial one (20 channels), one
      // depth slice seeded by the bias, and several (40 channels x 5 taps), stride 1 and 3.
      // (Channels-last 1-D at stride 1 with over 16 channels is implicit_gemm's.)
      ConvTester()
          .input(1, 40, {150})
          .kernel(16, {5})
          .padding(Padding::uniform(2))
          .stride({3})
          .layout(l)
          .dtype(t)
          .bias()
          .test(kAlgo, Pass::forward);
      if (l == Layout::channels_first) {
        ConvTester()
            .input(2, 3, {300})
            .kernel(20, {5})
            .layout(l)
            .dtype(t)
            .bias()
            .test(kAlgo, Pass::forward);
        ConvTester()
            .input(1, 40, {130})
            .kernel(24, {5})
            .dilation({2})
            .layout(l)
            .dtype(t)
            .test(kAlgo, Pass::forward);
      }
    }
}

// C/groups >= 64 with zero padding: the reduction runs tap by tap and taps that read only
// padding for a whole tile are skipped; dilated, padded wider than the kernel, two kc slices
// (260 channels), 3-D, groups.
TEST(PaddedIgemm, TapsInZeroPaddingSkipped) {
  for (DType t : {DType::f32, DType::f64}) {
    ConvTester().input(1, 70, {9, 8}).kernel(20, {3, 3}).dilation({3, 2}).padding(Padding::uniform(4))
        .dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 260, {5, 4}).kernel(13, {3, 3}).padding(Padding::uniform(2)).dtype(t)
        .test(kAlgo, Pass::forward);
    ConvTester().input(2, 64, {4, 6, 8}).kernel(9, {3, 3, 3}).padding(Padding::uniform(1))
        .stride({1, 2, 1}).dtype(t).bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 128, {6, 7}).kernel(10, {3, 3}).groups(2).padding(Padding::uniform(3))
        .dtype(t).test(kAlgo, Pass::forward);
    // Every other mode reads real samples in the padding: no skipping, (c, tap) order.
    ConvTester().input(1, 64, {5, 6}).kernel(7, {3, 3}).padding(Padding::uniform(2))
        .mode(PadMode::reflect).dtype(t).test(kAlgo, Pass::forward);
  }
}

TEST(PaddedIgemm, EveryModeRankAndGroups) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester().input(2, 6, {10, 9}).kernel(6, {3, 4}).groups(3).stride({3, 2}).dilation({2, 1})
          .padding(Padding::lo_hi({{4, 1}, {0, 5}})).mode(m).layout(l).bias().test(kAlgo, Pass::forward);
      // Padding wider than the kernel (6 > 4) on a 1-D signal.
      ConvTester().input(1, 3, {17}).kernel(5, {4}).stride({5}).padding(Padding::uniform(6)).mode(m)
          .layout(l).test(kAlgo, Pass::forward);
      // Causal 1-D with dilation, strided (1-D stride 1 is left to implicit_gemm).
      ConvTester().input(2, 4, {21}).kernel(3, {3}).dilation({4}).stride({2}).padding(Padding::causal())
          .mode(m).layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 2, {5, 4, 6}).kernel(3, {3, 2, 3}).padding(Padding::same(SamePolicy::tf))
          .stride({2, 1, 2}).mode(m).layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 2, {3, 4, 3, 4}).kernel(2, {2, 2, 2, 2}).padding(Padding::full()).mode(m)
          .layout(l).test(kAlgo, Pass::forward);
    }
}

TEST(PaddedIgemm, ChannelsLastHandOverAt64AndCopyBelow) {
  // C/groups = 64: channels-last goes to implicit_gemm's in-place rows; C/groups = 32 and
  // channels-first go through the copy. All must agree with the reference.
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    ConvTester().input(2, 64, {6, 5}).kernel(16, {3, 3}).padding(Padding::uniform(2)).layout(l)
        .bias().test(kAlgo, Pass::forward);
    ConvTester().input(1, 64, {7, 7}).kernel(8, {3, 3}).groups(2).padding(Padding::uniform(1))
        .layout(l).test(kAlgo, Pass::forward);
  }
}

TEST(PaddedIgemm, StridedViewsAndThreads) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (int threads : {1, 2, 3})
      ConvTester().input(2, 8, {12, 12}).kernel(40, {3, 3}).stride({2, 1}).padding(Padding::uniform(1))
          .threads(threads).strided_views(3).layout(l).bias().test(kAlgo, Pass::forward);
}

// Same inputs, 1 and 2 threads: the outputs must be identical bit for bit (non-integer data, so
// that a different summation order would show).
TEST(PaddedIgemm, ThreadCountDoesNotChangeBits) {
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    Spec s;
    s.N = 3;
    s.C = 7;
    s.K = 45;
    s.input = {15, 13};
    s.kernel = {3, 3};
    s.stride = {2, 1};
    s.padding = Padding::uniform(1);
    s.layout = l;
    s.bias = true;
    expect_threads_bitwise_equal(s, kAlgo);
  }
}

// constant_weights: packed once, packed again when the weights move (w1, w1, w2, w1), in both
// layouts, and with C = 64 channels-last (implicit_gemm's problem unforced; forced, the copy path).
TEST(PaddedIgemm, ConstantWeightsAreCachedAndRepackedForNewPointers) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (dim_t C : {6, 64}) {
      Spec s;
      s.N = 2;
      s.C = C;
      s.K = 35;
      s.input = {9, 8};
      s.kernel = {3, 3};
      s.padding = Padding::uniform(1);
      s.layout = l;
      expect_constant_weights_cached(s, kAlgo);
    }
}

}  // namespace
}  // namespace convnd::testing
