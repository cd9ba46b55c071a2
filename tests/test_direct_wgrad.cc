// direct_wgrad against the reference: channel tails on both sides of the tile (Kg % mr and
// Cg % nr, with mr x nr of the tile this CPU runs), units of columns spanning several taps, several parts of rows (reductions longer than
// 1024 rows per part, summed in part order), several blocks of taps (3-D kernels with 64
// channels), groups, every padding mode with strides, dilations and padding wider than the
// kernel, 1-D to 4-D, f32 and f64, both layouts, strided views, and threads 1 vs 2 vs 3 bitwise.
#include "conv_tester.h"
#include "kernels/gemm_tile.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "direct_wgrad";
constexpr Pass kPass = Pass::backward_weights;

TEST(DirectWgrad, ChannelTails) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      const auto mr = static_cast<dim_t>(kernels::tile_shape(t).mr);
      const auto nr = static_cast<dim_t>(kernels::tile_shape(t).nr);
      for (dim_t c : {dim_t{1}, mr - 1, mr + 1, 2 * mr})
        for (dim_t k : {dim_t{1}, nr - 1, nr + 1, 2 * nr}) {
          ConvTester().input(2, c, {9}).kernel(k, {3}).dtype(t).layout(l).bias().test(kAlgo, kPass);
        }
      ConvTester().input(1, mr + 3, {5, 6}).kernel(nr + 5, {2, 3}).dtype(t).layout(l)
          .test(kAlgo, kPass);
      // Units of nr (tap, channel) columns that span taps: 16 channels (two taps per unit of
      // 32), 48 (a unit straddles two taps), 3 (ten taps per unit, the last one cut).
      ConvTester().input(2, 16, {6, 5, 6}).kernel(16, {3, 3, 3}).padding(Padding::uniform(1))
          .dtype(t).layout(l).test(kAlgo, kPass);
      ConvTester().input(1, 48, {7, 6}).kernel(20, {3, 3}).dtype(t).layout(l).test(kAlgo, kPass);
      ConvTester().input(3, 3, {9, 8}).kernel(5, {5, 3}).padding(Padding::uniform(2)).dtype(t)
          .layout(l).test(kAlgo, kPass);
    }
}

TEST(DirectWgrad, RanksStridesDilationsAndPadding) {
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    ConvTester().input(3, 5, {17}).kernel(7, {4}).stride({3}).dilation({2}).padding(Padding::uniform(6))
        .layout(l).test(kAlgo, kPass);
    // Stride larger than the kernel: some input samples are never read.
    ConvTester().input(2, 4, {11, 13}).kernel(6, {2, 2}).stride({3, 4}).layout(l).test(kAlgo, kPass);
    ConvTester().input(1, 3, {6, 5, 7}).kernel(5, {3, 2, 3}).padding(Padding::uniform(1))
        .layout(l).bias().test(kAlgo, kPass);
    ConvTester().input(1, 2, {4, 3, 5, 3}).kernel(3, {2, 2, 3, 1}).padding(Padding::uniform(1))
        .layout(l).test(kAlgo, kPass);
    for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::replicate, PadMode::circular,
                      PadMode::symmetric}) {
      ConvTester().input(2, 6, {7, 8}).kernel(9, {3, 3}).stride({2, 1}).dilation({1, 2})
          .padding(Padding::uniform(2)).mode(m).layout(l).test(kAlgo, kPass);
    }
    ConvTester().input(2, 8, {12, 10}).kernel(12, {3, 3}).groups(4).padding(Padding::uniform(1))
        .layout(l).bias().test(kAlgo, kPass);
  }
}

// 3 x 900 rows: two parts. 4 x 64 x 64 rows: the most parts. 64 x 64 channels with 27 taps:
// more accumulators than one block holds (so dy is packed once and shared by the blocks).
// 2 groups of 131 output channels (not whole tiles) and 30 taps over 3 x 960 rows: two parts
// whose chunks end short, two blocks per group, on 2 threads.
TEST(DirectWgrad, PartsAndBlocks) {
  for (DType t : {DType::f32, DType::f64})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester().input(3, 5, {30, 30}).kernel(6, {3, 3}).padding(Padding::uniform(1)).dtype(t)
          .layout(l).test(kAlgo, kPass);
      ConvTester().input(4, 3, {64, 64}).kernel(4, {2, 2}).dtype(t).layout(l).test(kAlgo, kPass);
      ConvTester().input(1, 64, {5, 6, 7}).kernel(64, {3, 3, 3}).padding(Padding::uniform(1))
          .dtype(t).layout(l).test(kAlgo, kPass);
      ConvTester().input(3, 16, {36, 35}).kernel(262, {5, 6}).groups(2).dtype(t).layout(l)
          .threads(2).bias().test(kAlgo, kPass);
    }
}

TEST(DirectWgrad, StridedViewsAndThreads) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (int threads : {1, 2, 3}) {
      ConvTester().input(2, 14, {9, 8}).kernel(20, {3, 3}).groups(2).padding(Padding::uniform(1))
          .layout(l).threads(threads).strided_views(3).bias().test(kAlgo, kPass);
      ConvTester().input(3, 5, {40, 30}).kernel(7, {3, 3}).layout(l).threads(threads)
          .strided_views(2).test(kAlgo, kPass);
    }
}

// Non-integer data on a problem with several parts and blocks: 1, 2 and 3 threads give the same
// bits (the parts are added in a fixed order).
TEST(DirectWgrad, ThreadCountDoesNotChangeBits) {
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    Spec s;
    s.N = 3;
    s.C = 40;
    s.K = 36;
    s.input = {6, 30, 20};
    s.kernel = {3, 3, 3};
    s.padding = Padding::uniform(1);
    s.layout = l;
    const PassShapes sh = pass_shapes(s, kPass);
    Tensor x(s.dtype, sh.a), dy(s.dtype, sh.b);
    x.fill_fractions(5);
    dy.fill_fractions(6);
    PlanOptions one, two, three;
    one.algorithm = two.algorithm = three.algorithm = kAlgo;
    one.threads = 1;
    two.threads = 2;
    three.threads = 3;
    const Tensor want = run_pass(s, kPass, x, dy, nullptr, one).out;
    EXPECT_TRUE(bitwise_equal(want, run_pass(s, kPass, x, dy, nullptr, two).out));
    EXPECT_TRUE(bitwise_equal(want, run_pass(s, kPass, x, dy, nullptr, three).out));
  }
}

// A dilation of 2^60: the padded box the outputs read passes int64. direct_wgrad declines with
// its reason (nothing overflows on the way: UBSan in CI watches the arithmetic), and the
// backward-weights pass still runs, through the next algorithm, equal to the reference.
TEST(DirectWgrad, DilationsBeyondInt64Offsets) {
  const dim_t huge = dim_t{1} << 60;
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    const ConvTester t = ConvTester()
                             .input(1, 16, {3})
                             .kernel(2, {2})
                             .dilation({huge})
                             .stride({huge})
                             .padding(Padding::uniform(huge))
                             .layout(l);
    EXPECT_FALSE(accepts(t.spec(), kPass, kAlgo));
    t.test("bwd_weights_as_fwd", kPass);
  }
}

// A box much larger than x and y (dilation 400 on 20 x 20 samples: a 420 x 420 box, 440 times
// the input) is declined with the reason; a moderately padded one is accepted.
TEST(DirectWgrad, DeclinesAPaddedCopyMuchLargerThanTheTensors) {
  Spec s;
  s.C = 16;
  s.K = 16;
  s.input = {20, 20};
  s.kernel = {2, 2};
  s.dilation = {400, 400};
  s.padding = Padding::uniform(200);
  PlanOptions o;
  o.algorithm = kAlgo;
  try {
    Plan(s, kPass, o);
    ADD_FAILURE() << "direct_wgrad accepted " << s.to_string();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("padded copy"), std::string::npos) << e.what();
  }
  s.dilation = {2, 2};
  s.padding = Padding::uniform(2);
  EXPECT_NO_THROW(Plan(s, kPass, o));
}

TEST(DirectWgrad, OnlyTheWeightGradient) {
  Spec s;
  s.C = 4;
  s.K = 4;
  s.input = {8, 8};
  s.kernel = {3, 3};
  PlanOptions o;
  o.algorithm = kAlgo;
  EXPECT_THROW(Plan(s, Pass::forward, o), Error);
  EXPECT_THROW(Plan(s, Pass::backward_data, o), Error);
  EXPECT_NO_THROW(Plan(s, Pass::backward_weights, o));
}

}  // namespace
}  // namespace convnd::testing
