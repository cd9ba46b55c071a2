// depthwise_bwd_data (gathered backward data) and depthwise_wgrad (chunked weight gradient)
// against the reference: channel counts around the vector widths (scalar tails, single
// vectors, four-vector steps), strides 1-3 with stride > kernel, dilation, padding larger than
// the kernel, every padding mode, 1-D to 3-D, both layouts, strided views, f32 and f64, the
// transposed convolution (its forward pass is the backward-data operation, with bias), and
// bitwise equality of 1 and 2 threads.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

const char* kData = "depthwise_bwd_data";
const char* kWeights = "depthwise_wgrad";

const PadMode kModes[] = {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                          PadMode::circular};
const Layout kLayouts[] = {Layout::channels_first, Layout::channels_last};

TEST(DepthwisePasses, ChannelTails) {
  for (dim_t C : {1, 3, 7, 16, 17, 33, 67})
    for (Layout l : kLayouts) {
      ConvTester().input(2, C, {9, 10}).kernel(C, {3, 3}).groups(C).stride({2})
          .padding(Padding::uniform(1)).layout(l).test(kData, Pass::backward_data);
      ConvTester().input(2, C, {9, 10}).kernel(C, {3, 3}).groups(C).stride({2})
          .padding(Padding::uniform(1)).layout(l).bias().test(kWeights, Pass::backward_weights);
    }
}

TEST(DepthwisePasses, StridesDilationModesRanks) {
  for (PadMode m : kModes)
    for (Layout l : kLayouts)
      for (dim_t s : {1, 2, 3}) {
        SCOPED_TRACE(::testing::Message() << "stride " << s);
        // 2-D: padding larger than the kernel on some sides, dilation 2 along the last axis.
        const auto t2 = ConvTester().input(1, 18, {11, 13}).kernel(18, {3, 5}).groups(18).stride({s})
            .dilation({1, 2}).padding(Padding::lo_hi({{4, 2}, {1, 6}})).mode(m).layout(l);
        t2.test(kData, Pass::backward_data);
        t2.test(kWeights, Pass::backward_weights);
        // 1-D, even kernel, stride up to 3 > kernel 2 (samples no tap reads), f64.
        const auto t1 = ConvTester().input(2, 17, {23}).kernel(17, {2}).groups(17).stride({s + 1})
            .padding(Padding::same(SamePolicy::tf)).mode(m).layout(l).dtype(DType::f64);
        t1.test(kData, Pass::backward_data);
        t1.test(kWeights, Pass::backward_weights);
        // 3-D, mixed strides.
        const auto t3 = ConvTester().input(1, 20, {5, 6, 7}).kernel(20, {3, 2, 3}).groups(20)
            .stride({s, 1, s}).padding(Padding::uniform(2)).mode(m).layout(l);
        t3.test(kData, Pass::backward_data);
        t3.test(kWeights, Pass::backward_weights);
      }
}

// Rows longer than one task's segment (256 positions), odd strides, a phase run crossing it.
TEST(DepthwisePasses, LongRows) {
  for (Layout l : kLayouts)
    for (dim_t s : {1, 3})
      ConvTester().input(1, 17, {2, 700}).kernel(17, {2, 5}).groups(17).stride({1, s})
          .padding(Padding::uniform(2)).mode(PadMode::reflect).layout(l)
          .test(kData, Pass::backward_data);
}

// Rows wide enough for whole blocks of positions: the weight gradient's blocks of 4 positions
// sharing samples (3 taps at stride 1 and 2), backward data's rows through dw_channels_taps
// (stride 1) and its phase runs through dw_channels_run (strides 2 and 3), each run's head and
// tail blocks, zero and reflect padding.
TEST(DepthwisePasses, WideRowsByPhase) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect})
    for (dim_t k : {3, 5, 7})
      for (dim_t s : {1, 2, 3})
        for (DType t : {DType::f32, DType::f64}) {
          SCOPED_TRACE(::testing::Message() << "kernel " << k << " stride " << s);
          const auto tc = ConvTester().input(2, 32, {4, 45}).kernel(32, {2, k}).groups(32)
              .stride({1, s}).padding(Padding::uniform(k / 2)).mode(m)
              .layout(Layout::channels_last).dtype(t);
          tc.test(kData, Pass::backward_data);
          tc.test(kWeights, Pass::backward_weights);
        }
}

TEST(DepthwisePasses, TransposedWithBias) {
  for (Layout l : kLayouts)
    for (dim_t s : {1, 2})
      ConvTester().input(2, 24, {7, 8}).kernel(24, {3, 3}).groups(24).stride({s})
          .padding(Padding::uniform(1)).transposed().bias().layout(l).test(kData, Pass::forward);
}

TEST(DepthwisePasses, StridedViews) {
  for (Layout l : kLayouts) {
    const auto t = ConvTester().input(3, 20, {14, 15}).kernel(20, {3, 3}).groups(20).stride({2})
        .padding(Padding::uniform(1)).mode(PadMode::reflect).layout(l).strided_views(3);
    t.test(kData, Pass::backward_data);
    t.test(kWeights, Pass::backward_weights);
  }
}

// Larger than one chunk and one block of positions (the weight gradient's partial sums), so the
// chunk order matters: 1 and 2 threads must agree bit for bit on non-integer data.
TEST(DepthwisePasses, ThreadCountIndependent) {
  for (Layout l : kLayouts)
    for (Pass p : {Pass::backward_data, Pass::backward_weights}) {
      Spec s;
      s.N = 4;
      s.C = s.K = s.groups = 40;
      s.input = {33, 35};
      s.kernel = {5, 5};
      s.stride = {2, 2};
      s.padding = Padding::uniform(2);
      s.pad_mode = PadMode::reflect;
      s.layout = l;
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a), b(s.dtype, sh.b);
      for (dim_t i = 0; i < a.size(); ++i) a.set(i, 0.37 * static_cast<double>(i % 101) - 11.1);
      for (dim_t i = 0; i < b.size(); ++i) b.set(i, 0.13 * static_cast<double>(i % 89) - 5.3);
      PlanOptions one, two;
      one.algorithm = two.algorithm = p == Pass::backward_data ? kData : kWeights;
      one.threads = 1;
      two.threads = 2;
      const PassResult r1 = run_pass(s, p, a, b, nullptr, one);
      const PassResult r2 = run_pass(s, p, a, b, nullptr, two);
      EXPECT_TRUE(bitwise_equal(r1.out, r2.out)) << s.to_string() << " " << to_string(p);
    }
}

// Dispatch picks them for the suite's depthwise layers (channels-last; channels-first weight
// gradients go to depthwise's planes), and says why not for few channels.
TEST(DepthwisePasses, ChosenForManyChannels) {
  Spec s;
  s.N = 2;
  s.C = s.K = s.groups = 32;
  s.input = {12, 12};
  s.kernel = {3, 3};
  s.stride = {2, 2};
  s.padding = Padding::uniform(1);
  // Channels-first weight gradient: depthwise's planes, which read the views in place.
  EXPECT_EQ(Plan(s, Pass::backward_weights).algorithm(), std::string("depthwise"));
  // Channels-first: depthwise's planes at stride 2, the phases' dense plane at 1.
  EXPECT_EQ(Plan(s, Pass::backward_data).algorithm(), std::string("depthwise"));
  s.stride = {1, 1};
  EXPECT_EQ(Plan(s, Pass::backward_data).algorithm(), std::string("bwd_data_phases"));
  s.stride = {2, 2};
  s.layout = Layout::channels_last;
  EXPECT_EQ(Plan(s, Pass::backward_data).algorithm(), kData);
  EXPECT_EQ(Plan(s, Pass::backward_weights).algorithm(), kWeights);
  s.C = s.K = s.groups = 3;
  const Plan few(s, Pass::backward_data);
  EXPECT_NE(few.algorithm(), kData);
  bool said = false;
  for (const std::string& r : few.rejections())
    said = said || r.find("depthwise_bwd_data: fewer than 16 channels") == 0;
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// depthwise's planes in every pass (forward, backward data at stride 2, weight gradient),
// channels-first, zero and reflect padding: 1, 2 and 3 threads agree bit for bit on
// non-integer data (one task per plane or channel, each summed in one order).
TEST(DepthwisePasses, PlanesThreadCountIndependent) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect})
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
      Spec s;
      s.N = 3;
      s.C = s.K = s.groups = 20;
      s.input = {29, 30};
      s.kernel = {5, 3};
      s.stride = {2, 2};
      s.padding = Padding::uniform(2);
      s.pad_mode = m;
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a), b(s.dtype, sh.b);
      for (dim_t i = 0; i < a.size(); ++i) a.set(i, 0.37 * static_cast<double>(i % 101) - 11.1);
      for (dim_t i = 0; i < b.size(); ++i) b.set(i, 0.13 * static_cast<double>(i % 89) - 5.3);
      PlanOptions opts[3];
      for (int t = 0; t < 3; ++t) {
        opts[t].algorithm = "depthwise";
        opts[t].threads = t + 1;
      }
      const PassResult r1 = run_pass(s, p, a, b, nullptr, opts[0]);
      for (int t = 1; t < 3; ++t)
        EXPECT_TRUE(bitwise_equal(r1.out, run_pass(s, p, a, b, nullptr, opts[t]).out))
            << s.to_string() << " " << to_string(p) << " threads " << t + 1;
    }
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// depthwise_bwd_data sizes its pointer lists at planning from an arithmetic bound on the terms
// of an input sample, and builds the exact lists at the first run, which throws if they exceed
// the bound. Padding wider than the input in every mode (many padded samples fold onto one),
// strides that share a factor with the dilation, stride > kernel, long kernels on short axes.
TEST(DepthwisePasses, TermBoundCoversTheLists) {
  struct Case {
    std::vector<dim_t> in, k, stride, dil;
    dim_t pad;
  };
  const Case cases[] = {
      {{1}, {7}, {1}, {1}, 6},       {{2}, {9}, {2}, {1}, 8},      {{3, 1}, {5, 4}, {1, 1}, {1, 1}, 4},
      {{5}, {3}, {4}, {2}, 7},       {{6}, {4}, {2}, {2}, 5},      {{4, 5}, {3, 3}, {3, 2}, {2, 3}, 6},
      {{2, 3, 2}, {3, 2, 3}, {1, 2, 1}, {1, 1, 2}, 3}};
  for (const Case& c : cases)
    for (PadMode m : kModes)
      for (Layout l : kLayouts) {
        ConvTester().input(2, 16, c.in).kernel(16, c.k).groups(16).stride(c.stride)
            .dilation(c.dil).padding(Padding::uniform(c.pad)).mode(m).layout(l)
            .test(kData, Pass::backward_data);
      }
}

}  // namespace
}  // namespace convnd::testing
