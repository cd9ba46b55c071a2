// Hand-checked results: documented examples and small cases worked out on paper.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

TEST(HandChecked, MyGradSquareWave) {
  Spec s;
  s.input = {16};
  s.kernel = {5};
  s.dtype = DType::f64;
  Tensor x(DType::f64, {1, 1, 16}), w(DType::f64, {1, 1, 5}), g(DType::f64, {1, 1, 12});
  for (int i = 5; i < 11; ++i) x.set(i, 1);
  w.fill(1);
  g.fill(1);
  const PlanOptions opts;
  const auto y = run_pass(s, Pass::forward, x, w, nullptr, opts).out;
  const auto dx = run_pass(s, Pass::backward_data, g, w, nullptr, opts).out;
  const auto dw = run_pass(s, Pass::backward_weights, x, g, nullptr, opts).out;
  const std::vector<double> want_y{0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0};
  const std::vector<double> want_dx{1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 2, 1};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y.get(i), want_y[i]) << i;
  for (int i = 0; i < 16; ++i) EXPECT_EQ(dx.get(i), want_dx[i]) << i;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(dw.get(i), 6.0) << i;
}

// Reflect padding of 'a b c' by 4 on each side is numpy.pad's 'reflect': b c b | a b c | b a b c.
TEST(HandChecked, ReflectPaddingLargerThanInput) {
  Spec s;
  s.input = {3};
  s.kernel = {1};
  s.padding = Padding::uniform(4);
  s.pad_mode = PadMode::reflect;
  s.dtype = DType::f64;
  Tensor x(DType::f64, {1, 1, 3}), w(DType::f64, {1, 1, 1});
  x.set(0, 1);
  x.set(1, 2);
  x.set(2, 3);
  w.fill(1);
  const auto y = run_pass(s, Pass::forward, x, w, nullptr, {}).out;
  const std::vector<double> want{1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3};  // numpy.pad([1,2,3], 4, 'reflect')
  ASSERT_EQ(y.size(), 11);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(y.get(i), want[i]) << i;
}

TEST(HandChecked, EveryModeMatchesNumpyPad) {
  // numpy.pad(np.arange(1, 5), 5, mode) for each mode, read through a 1-tap kernel.
  const std::vector<std::pair<PadMode, std::vector<double>>> cases{
      {PadMode::zeros, {0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0}},
      {PadMode::reflect, {2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3}},
      {PadMode::symmetric, {4, 4, 3, 2, 1, 1, 2, 3, 4, 4, 3, 2, 1, 1}},
      {PadMode::replicate, {1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4}},
      {PadMode::circular, {4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1}},
  };
  for (const auto& [mode, want] : cases) {
    Spec s;
    s.input = {4};
    s.kernel = {1};
    s.padding = Padding::uniform(5);
    s.pad_mode = mode;
    s.dtype = DType::f64;
    Tensor x(DType::f64, {1, 1, 4}), w(DType::f64, {1, 1, 1});
    for (int i = 0; i < 4; ++i) x.set(i, i + 1);
    w.fill(1);
    const auto y = run_pass(s, Pass::forward, x, w, nullptr, {}).out;
    ASSERT_EQ(y.size(), 14);
    for (int i = 0; i < 14; ++i) EXPECT_EQ(y.get(i), want[i]) << to_string(mode) << " " << i;
  }
}

// Depthwise with a channel multiplier of 2: output channel k reads only input channel k / 2.
TEST(HandChecked, DepthwiseChannelMultiplier) {
  Spec s;
  s.C = 2;
  s.K = 4;
  s.groups = 2;
  s.input = {3};
  s.kernel = {1};
  s.dtype = DType::f64;
  Tensor x(DType::f64, {1, 2, 3}), w(DType::f64, {4, 1, 1});
  for (int i = 0; i < 6; ++i) x.set(i, i + 1);  // channel 0: 1 2 3, channel 1: 4 5 6
  for (int k = 0; k < 4; ++k) w.set(k, k + 1);  // weights 1 2 3 4
  const auto y = run_pass(s, Pass::forward, x, w, nullptr, {}).out;
  const std::vector<double> want{1, 2, 3, 2, 4, 6, 12, 15, 18, 16, 20, 24};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y.get(i), want[i]) << i;
}

// Stride 3 with a 2-tap kernel skips input samples; dilation 2 spreads the taps.
TEST(HandChecked, StrideLargerThanKernelAndDilation) {
  Spec s;
  s.input = {9};
  s.kernel = {2};
  s.stride = {3};
  s.dilation = {2};
  s.dtype = DType::f64;
  Tensor x(DType::f64, {1, 1, 9}), w(DType::f64, {1, 1, 2});
  for (int i = 0; i < 9; ++i) x.set(i, i);
  w.set(0, 1);
  w.set(1, 10);
  // y[o] = x[3o] + 10 x[3o + 2], o < floor((9 - 2 - 1) / 3) + 1 = 3
  const auto y = run_pass(s, Pass::forward, x, w, nullptr, {}).out;
  ASSERT_EQ(y.size(), 3);
  EXPECT_EQ(y.get(0), 0 + 10 * 2);
  EXPECT_EQ(y.get(1), 3 + 10 * 5);
  EXPECT_EQ(y.get(2), 6 + 10 * 8);
}

// Transposed, stride 2, k 3, padding 1, output_padding 1: in 2 -> out 4. Each input sample
// scatters w into the output at 2i - 1 + t.
TEST(HandChecked, TransposedScatter) {
  Spec s;
  s.input = {2};
  s.kernel = {3};
  s.stride = {2};
  s.padding = Padding::uniform(1);
  s.transposed = true;
  s.output_padding = {1};
  s.dtype = DType::f64;
  Tensor x(DType::f64, {1, 1, 2}), w(DType::f64, {1, 1, 3});
  x.set(0, 1);
  x.set(1, 10);
  w.set(0, 1);
  w.set(1, 2);
  w.set(2, 3);
  // full scatter positions -1..3: x0 -> [-1]1 [0]2 [1]3, x1 -> [1]10 [2]20 [3]30; crop [0, 4).
  const auto y = run_pass(s, Pass::forward, x, w, nullptr, {}).out;
  const std::vector<double> want{2, 13, 20, 30};
  ASSERT_EQ(y.size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.get(i), want[i]) << i;
}

// An empty batch is a valid call that writes nothing and reads nothing.
TEST(HandChecked, EmptyBatch) {
  Spec s;
  s.N = 0;
  s.C = 3;
  s.K = 2;
  s.input = {5, 5};
  s.kernel = {3, 3};
  s.bias = true;
  for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
    const PassShapes sh = pass_shapes(s, p);
    Tensor a(s.dtype, sh.a), b(s.dtype, sh.b), bias(s.dtype, {2});
    const auto r = run_pass(s, p, a, b, &bias, {});
    if (p == Pass::backward_weights) {
      for (dim_t i = 0; i < r.out.size(); ++i) EXPECT_EQ(r.out.get(i), 0.0);
      for (dim_t i = 0; i < 2; ++i) EXPECT_EQ(r.dbias.get(i), 0.0);
    }
  }
}

}  // namespace
}  // namespace convnd::testing
