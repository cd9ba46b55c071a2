// implicit_gemm against the reference on shapes chosen from its tiling: column-block tails
// (K not a multiple of nr), several row chunks and tiles straddling output rows, channels-last
// runs read in place (C/groups >= 32), strides, dilation, groups, every mode, 1-D to 4-D, f32
// and f64, strided views, and constant (cached) weights.
#include "conv_tester.h"
#include "kernels/gemm_tile.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "implicit_gemm";

TEST(ImplicitGemm, TilingEdges) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (DType t : {DType::f32, DType::f64}) {
      // K = nr + 1, 2 nr + 1: one and two full column blocks of the tile this CPU runs, plus a
      // tail of one channel (33 and 65 for float32 on AVX-512).
      const auto nr = static_cast<dim_t>(kernels::tile_shape(t).nr);
      SCOPED_TRACE(std::string("tile of ") + kernels::isa_name() + ", nr = " + std::to_string(nr));
      ConvTester().input(2, 5, {13, 11}).kernel(nr + 1, {3, 3}).padding(Padding::uniform(1))
          .layout(l).dtype(t).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 40, {9, 7}).kernel(2 * nr + 1, {2, 3}).stride({2, 1}).layout(l)
          .dtype(t).test(kAlgo, Pass::forward);
      // More rows than one task holds, tiles straddling rows of 28.
      ConvTester().input(3, 4, {28, 28}).kernel(7, {5, 5}).padding(Padding::uniform(2)).layout(l)
          .dtype(t).test(kAlgo, Pass::forward);
      // Channels-last with long channel runs (rows read in place), padding rows pointing at zeros.
      ConvTester().input(2, 64, {6, 5}).kernel(16, {3, 3}).padding(Padding::uniform(2)).layout(l)
          .dtype(t).bias().test(kAlgo, Pass::forward);
      // kc-slices: reduction longer than one slice (C * taps = 300 * 1 > 256).
      ConvTester().input(1, 300, {4, 4}).kernel(8, {1, 1}).layout(l).dtype(t).test(kAlgo, Pass::forward);
    }
}

TEST(ImplicitGemm, GeometryClasses) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester().input(2, 6, {10, 9}).kernel(6, {3, 4}).groups(3).stride({3, 2}).dilation({2, 1})
          .padding(Padding::lo_hi({{4, 1}, {0, 5}})).mode(m).layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 3, {17}).kernel(5, {4}).stride({5}).padding(Padding::uniform(6)).mode(m)
          .layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 2, {5, 4, 6}).kernel(3, {3, 2, 3}).padding(Padding::same(SamePolicy::tf))
          .mode(m).layout(l).test(kAlgo, Pass::forward);
      ConvTester().input(1, 2, {3, 4, 3, 4}).kernel(2, {2, 2, 2, 2}).padding(Padding::full()).mode(m)
          .layout(l).test(kAlgo, Pass::forward);
    }
}

TEST(ImplicitGemm, StridedViewsAndThreads) {
  for (int threads : {1, 2, 3})
    ConvTester().input(2, 8, {12, 12}).kernel(40, {3, 3}).padding(Padding::uniform(1)).threads(threads)
        .strided_views(3).bias().test(kAlgo, Pass::forward);
}

TEST(ImplicitGemm, ConstantWeightsAreCachedAndRepackedForNewPointers) {
  Spec s;
  s.N = 2;
  s.C = 6;
  s.K = 35;
  s.input = {9, 8};
  s.kernel = {3, 3};
  s.padding = Padding::uniform(1);
  expect_constant_weights_cached(s, kAlgo);
}

}  // namespace
}  // namespace convnd::testing
