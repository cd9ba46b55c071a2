// The FFT algorithm: its transform against a plain DFT (every fast length up to 128, and N-D),
// and the forward convolution against the reference: every padding mode with padding wider
// than the input, stride, dilation, groups and channels, 1-D to 3-D, both layouts, strided
// views, bias, f32 and f64, 1 and 2 threads; within the algorithm's stated error bound
// (conv_tester.h integer_data_tolerance); and that dispatch leaves it to be named.
#include <complex>
#include <random>

#include "algo/fft_batch.h"
#include "algo/fft_shape.h"
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

// Every fast length up to 128 (and a few long ones), 1 to 19 interleaved sequences (tails
// shorter than a vector), both directions, against the plain DFT.
TEST(FftTransform, BatchAgainstDft) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<dim_t> lengths;
  for (dim_t n = 1; n <= 128; ++n)
    if (detail::fft::is_fast_length(n)) lengths.push_back(n);
  for (dim_t n : {250, 384, 405, 1000}) lengths.push_back(n);
  for (dim_t n : lengths)
    for (std::size_t s : {std::size_t{1}, std::size_t{3}, std::size_t{16}, std::size_t{19}}) {
      detail::fft::BatchFft<double> f(n);
      const std::size_t count = static_cast<std::size_t>(n) * s;
      std::vector<double> re(count), im(count), scratch(2 * count);
      for (std::size_t i = 0; i < count; ++i) re[i] = u(rng), im[i] = u(rng);
      for (bool inverse : {false, true}) {
        auto r2 = re, i2 = im;
        f.run(r2.data(), i2.data(), s, scratch.data(), inverse);
        for (std::size_t q = 0; q < s; ++q) {
          std::vector<std::complex<double>> seq(static_cast<std::size_t>(n));
          for (dim_t j = 0; j < n; ++j) seq[j] = {re[q + s * j], im[q + s * j]};
          const auto want = naive_dft(seq, inverse);
          for (dim_t k = 0; k < n; ++k)
            ASSERT_LT(std::abs(std::complex<double>(r2[q + s * k], i2[q + s * k]) - want[k]),
                      1e-12 * n)
                << "n=" << n << " s=" << s << " q=" << q << " k=" << k << " inverse=" << inverse;
        }
      }
    }
}

// The real transform's half spectrum against the DFT of the real sequence, and the inverse
// giving back L x.
TEST(FftTransform, RealHalfSpectrum) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1, 1);
  for (dim_t L : {2, 4, 6, 10, 12, 18, 30, 48, 90, 128, 250, 486}) {
    const dim_t n = L / 2;
    const std::size_t s = 5;
    detail::fft::RealFft<double> f(L);
    ASSERT_EQ(f.bins(), n + 1);
    std::vector<double> x(static_cast<std::size_t>(L) * s);
    for (double& v : x) v = u(rng);
    std::vector<double> z_re(n * s), z_im(n * s), X_re((n + 1) * s), X_im((n + 1) * s),
        scratch(2 * n * s);
    for (dim_t j = 0; j < n; ++j)
      for (std::size_t q = 0; q < s; ++q) {
        z_re[j * s + q] = x[q * L + 2 * j];
        z_im[j * s + q] = x[q * L + 2 * j + 1];
      }
    f.forward(z_re.data(), z_im.data(), s, X_re.data(), X_im.data(), scratch.data());
    for (std::size_t q = 0; q < s; ++q) {
      std::vector<std::complex<double>> seq(static_cast<std::size_t>(L));
      for (dim_t j = 0; j < L; ++j) seq[j] = x[q * L + j];
      const auto want = naive_dft(seq, false);
      for (dim_t k = 0; k <= n; ++k)
        ASSERT_LT(std::abs(std::complex<double>(X_re[k * s + q], X_im[k * s + q]) - want[k]),
                  1e-12 * L)
            << "L=" << L << " k=" << k;
    }
    f.inverse(X_re.data(), X_im.data(), s, z_re.data(), z_im.data(), scratch.data());
    for (dim_t j = 0; j < n; ++j)
      for (std::size_t q = 0; q < s; ++q) {
        ASSERT_NEAR(z_re[j * s + q] / L, x[q * L + 2 * j], 1e-13 * L) << "L=" << L;
        ASSERT_NEAR(z_im[j * s + q] / L, x[q * L + 2 * j + 1], 1e-13 * L) << "L=" << L;
      }
  }
}

// The float32 kernels (another instantiation of the passes) to float accuracy.
TEST(FftTransform, BatchFloat) {
  for (dim_t n : {60, 64, 75, 96}) {
    detail::fft::BatchFft<float> f(n);
    const std::size_t s = 17;
    std::vector<float> re(n * s), im(n * s, 0.f), scratch(2 * n * s);
    for (std::size_t i = 0; i < re.size(); ++i) re[i] = static_cast<float>(i % 7) - 3;
    auto r2 = re, i2 = im;
    f.run(r2.data(), i2.data(), s, scratch.data(), false);
    f.run(r2.data(), i2.data(), s, scratch.data(), true);
    for (std::size_t i = 0; i < re.size(); ++i) {
      ASSERT_NEAR(r2[i] / n, re[i], 1e-5f) << "n=" << n;
      ASSERT_NEAR(i2[i] / n, 0.f, 1e-5f) << "n=" << n;
    }
  }
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

// Overlap-save tiles (fft_shape.h): long axes cut into many tiles, 1-D tiles batched kRowLanes
// per task, the last tile short; with stride, dilation and every padding mode.
TEST(FftConv, TilesAlongAxisZero) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::circular})
    for (dim_t s : {1, 3}) {
      ConvTester().input(1, 2, {6007}).kernel(3, {301}).stride({s}).dilation({2})
          .padding(Padding::uniform(400)).mode(m).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, 1, {4000, 3}).kernel(2, {31, 3}).stride({s, 1})
          .padding(Padding::lo_hi({{5, 7}, {1, 1}})).mode(m).test(kAlgo, Pass::forward);
    }
  for (int threads : {1, 2, 3})
    ConvTester().input(2, 3, {4099}).kernel(2, {257}).groups(1).threads(threads)
        .layout(Layout::channels_last).dtype(DType::f64).test(kAlgo, Pass::forward);
}

TEST(FftConv, ShapeTilesLongAxes) {
  detail::Geometry g;
  g.N = g.C = g.K = 1;
  g.in = {480000};
  g.kernel = {1023};
  g.stride = g.dil = {1};
  g.lo = g.hi = {511};
  g.out = {480000};
  const detail::fft::Shape s = detail::fft::shape_for(g);
  EXPECT_GT(s.tiles, 16);
  EXPECT_GE(s.len[0], s.reach[0]);
  EXPECT_EQ(s.len[0] % 2, 0);
  EXPECT_GE(s.tiles * s.tile_out, g.out[0]);
  // 2-D: the same cut along axis 0 (the shape of TilesAlongAxisZero).
  g.in = {4000, 3};
  g.kernel = {31, 3};
  g.stride = g.dil = {1, 1};
  g.lo = {5, 1};
  g.hi = {7, 1};
  g.out = {3982, 3};
  EXPECT_GT(detail::fft::shape_for(g).tiles, 1);
  // A plane no longer than a few kernels stays whole.
  g.in = g.out = {56, 56};
  g.kernel = {31, 31};
  g.stride = g.dil = {1, 1};
  g.lo = g.hi = {15, 15};
  EXPECT_EQ(detail::fft::shape_for(g).tiles, 1);
}

// Odd and prime extents, stride larger than the kernel, 4-D, depthwise with a channel
// multiplier, padding wider than the input on one side.
TEST(FftConv, PrimesStridesRanksDepthwise) {
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    ConvTester().input(1, 3, {17, 13}).kernel(2, {3, 2}).stride({5, 4})
        .padding(Padding::lo_hi({{0, 19}, {7, 0}})).layout(l).test(kAlgo, Pass::forward);
    ConvTester().input(1, 2, {4, 5, 3, 6}).kernel(2, {2, 3, 2, 3}).dilation({1, 2, 1, 1})
        .padding(Padding::uniform(1)).mode(PadMode::replicate).layout(l).bias()
        .test(kAlgo, Pass::forward);
    ConvTester().input(2, 5, {23, 29}).kernel(10, {11, 13}).groups(5)
        .padding(Padding::same(SamePolicy::torch)).mode(PadMode::symmetric).layout(l)
        .strided_views(2).test(kAlgo, Pass::forward);
    ConvTester().input(1, 4, {7, 11, 13}).kernel(4, {5, 3, 7}).groups(4).stride({1, 2, 3})
        .padding(Padding::uniform(4)).layout(l).dtype(DType::f64).test(kAlgo, Pass::forward);
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
