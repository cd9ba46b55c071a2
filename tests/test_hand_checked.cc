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

}  // namespace
}  // namespace convnd::testing
