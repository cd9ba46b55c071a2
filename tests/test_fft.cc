// The FFT algorithm: its transform against a plain DFT (every fast length up to 128, and N-D),
// and the forward convolution against the reference: every padding mode with padding wider
// than the input, stride, dilation, groups and channels, 1-D to 3-D, both layouts, strided
// views, bias, f32 and f64, 1 and 2 threads; within the algorithm's stated error bound
// (conv_tester.h integer_data_tolerance); and that dispatch leaves it to be named.
#include <complex>
#include <random>

#include "algo/fft_transform.h"
#include "conv_tester.h"

namespace convnd::testing {
namespace {

const char* kAlgo = "fft";

std::vector<std::complex<double>> naive_dft(const std::vector<std::complex<double>>& x, bool inverse) {
  const std::size_t n = x.size();
  std::vector<std::complex<double>> y(n);
  for (std::size_t k = 0; k < n; ++k) {
    std::complex<double> acc = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double a = (inverse ? 2.0 : -2.0) * M_PI * static_cast<double>((j * k) % n) / static_cast<double>(n);
      acc += x[j] * std::complex<double>(std::cos(a), std::sin(a));
    }
    y[k] = acc;
  }
  return y;
}

TEST(FftTransform, FastLengths) {
  EXPECT_TRUE(detail::fft::is_fast_length(1));
  EXPECT_TRUE(detail::fft::is_fast_length(960));
  EXPECT_FALSE(detail::fft::is_fast_length(7));
  EXPECT_FALSE(detail::fft::is_fast_length(0));
  EXPECT_EQ(detail::fft::next_fast_length(97), 100);
  EXPECT_EQ(detail::fft::next_fast_length(542), 576);
  EXPECT_EQ(detail::fft::next_fast_length(1), 1);
}

TEST(FftTransform, AgainstDft) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  for (dim_t n = 1; n <= 128; ++n) {
    if (!detail::fft::is_fast_length(n)) continue;
    detail::fft::Fft1d<double> f(n);
    std::vector<std::complex<double>> x(static_cast<std::size_t>(2 * n)), y(static_cast<std::size_t>(n));
    for (auto& v : x) v = {u(rng), u(rng)};
    std::vector<std::complex<double>> every_other(static_cast<std::size_t>(n));
    for (dim_t j = 0; j < n; ++j) every_other[j] = x[2 * j];
    for (bool inverse : {false, true}) {
      f.run(x.data(), 2, y.data(), inverse);  // strided input
      const auto want = naive_dft(every_other, inverse);
      for (dim_t k = 0; k < n; ++k) ASSERT_LT(std::abs(y[k] - want[k]), 1e-12 * n) << "n=" << n << " k=" << k;
    }
  }
}

TEST(FftTransform, NdIsSeparableDft) {
  const std::vector<dim_t> ext{6, 5, 8};
  detail::fft::FftNd<double> f(ext);
  std::vector<std::complex<double>> x(240), scratch(static_cast<std::size_t>(f.scratch_elems()));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = {static_cast<double>(i % 7) - 3, static_cast<double>(i % 5)};
  auto y = x;
  f.run(y.data(), false, scratch.data());
  // Direct 3-D DFT of a few entries.
  for (int k0 : {0, 1, 5})
    for (int k1 : {0, 3})
      for (int k2 : {0, 2, 7}) {
        std::complex<double> acc = 0;
        for (int a = 0; a < 6; ++a)
          for (int b = 0; b < 5; ++b)
            for (int c = 0; c < 8; ++c) {
              const double ang = -2 * M_PI * (k0 * a / 6.0 + k1 * b / 5.0 + k2 * c / 8.0);
              acc += x[(a * 5 + b) * 8 + c] * std::complex<double>(std::cos(ang), std::sin(ang));
            }
        EXPECT_LT(std::abs(y[(k0 * 5 + k1) * 8 + k2] - acc), 1e-9);
      }
  f.run(y.data(), true, scratch.data());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_LT(std::abs(y[i] / 240.0 - x[i]), 1e-12);
}

TEST(FftConv, ModesStridesDilation) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (Layout l : {Layout::channels_first, Layout::channels_last})
      for (dim_t s : {1, 2, 3}) {
        ConvTester().input(1, 1, {11, 13}).kernel(1, {7, 5}).stride({s}).dilation({1, 2})
            .padding(Padding::lo_hi({{14, 2}, {1, 16}})).mode(m).layout(l).test(kAlgo, Pass::forward);
        ConvTester().input(2, 3, {23}).kernel(2, {9}).stride({s}).padding(Padding::same(SamePolicy::tf))
            .mode(m).layout(l).dtype(DType::f64).bias().test(kAlgo, Pass::forward);
        ConvTester().input(1, 2, {5, 6, 7}).kernel(3, {3, 2, 4}).stride({s, 1, s})
            .padding(Padding::uniform(2)).mode(m).layout(l).test(kAlgo, Pass::forward);
      }
}

TEST(FftConv, GroupsViewsThreads) {
  for (int threads : {1, 2})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester().input(2, 6, {14, 15}).kernel(4, {5, 5}).groups(2).padding(Padding::uniform(2))
          .layout(l).strided_views(3).threads(threads).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 4, {30}).kernel(4, {31}).groups(4).padding(Padding::full())
          .layout(l).threads(threads).dtype(DType::f64).test(kAlgo, Pass::forward);
    }
}

TEST(FftConv, RejectsOtherOperationsWithAReason) {
  Spec s;
  s.input = {16, 16};
  s.kernel = {5, 5};
  PlanOptions o;
  o.algorithm = kAlgo;
  EXPECT_THROW(Plan(s, Pass::backward_data, o), Error);
  Plan p(s, Pass::forward, o);
  EXPECT_EQ(p.algorithm(), kAlgo);
  EXPECT_GT(p.error_bound(), 0.0);
}

TEST(FftConv, NamedOnlyUntilItPays) {
  // Measured slower than direct summation everywhere so far (fft_conv.cc): never chosen
  // unforced, and the rejection says why.
  Spec big;
  big.input = {128, 128};
  big.kernel = {31, 31};
  big.padding = Padding::same(SamePolicy::torch);
  Plan p(big, Pass::forward);
  EXPECT_NE(p.algorithm(), kAlgo);
  bool named = false;
  for (const std::string& r : p.rejections()) named |= r.rfind("fft: ", 0) == 0;
  EXPECT_TRUE(named);
}

}  // namespace
}  // namespace convnd::testing
