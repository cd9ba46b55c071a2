// The FFT algorithm: its batched transforms against a plain DFT (every fast length up to 128
// and some long ones, tails shorter than a vector, the real half spectrum), and the forward
// convolution against the reference: every padding mode with padding wider than the input,
// stride (also larger than the kernel), dilation, groups, depthwise, 1-D to 4-D, prime extents,
// overlap-save tiles, both layouts, strided views, bias, f32 and f64, 1 to 3 threads; within the
// algorithm's stated error bound (conv_tester.h integer_data_tolerance and
// ErrorWithinTheStatedBound); the dispatch rule and the precision contract.
#include <complex>
#include <random>

#include "algo/fft_batch.h"
#include "algo/fft_conv.h"
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
  for (dim_t n = 1; n <= 5000; ++n) {
    const dim_t f = detail::fft::next_fast_length(n);
    ASSERT_TRUE(detail::fft::is_fast_length(f)) << n;
    ASSERT_GE(f, n);
    for (dim_t m = n; m < f; ++m) ASSERT_FALSE(detail::fft::is_fast_length(m)) << n;
  }
  EXPECT_EQ(detail::fft::next_fast_length((dim_t{1} << 27) + 12345), 134369280);
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

// The real transform in float32, odd and even pass counts (the passes ping-pong between z and
// the scratch; which one ends in z depends on their number): forward then inverse gives back
// L x.
TEST(FftTransform, RealFloatRoundTrip) {
  for (dim_t L : {2, 4, 6, 12, 16, 48, 90, 250}) {
    detail::fft::RealFft<float> f(L);
    const dim_t n = L / 2;
    const std::size_t s = 7;
    std::vector<float> z_re(n * s), z_im(n * s), X_re((n + 1) * s), X_im((n + 1) * s),
        scratch(2 * n * s);
    for (std::size_t i = 0; i < z_re.size(); ++i) {
      z_re[i] = static_cast<float>(i % 5) - 2;
      z_im[i] = static_cast<float>(i % 3) - 1;
    }
    const auto re0 = z_re, im0 = z_im;
    f.forward(z_re.data(), z_im.data(), s, X_re.data(), X_im.data(), scratch.data());
    std::fill(z_re.begin(), z_re.end(), 99.f);
    std::fill(z_im.begin(), z_im.end(), 99.f);
    f.inverse(X_re.data(), X_im.data(), s, z_re.data(), z_im.data(), scratch.data());
    for (std::size_t i = 0; i < z_re.size(); ++i) {
      ASSERT_NEAR(z_re[i] / L, re0[i], 1e-5f) << "L=" << L << " i=" << i;
      ASSERT_NEAR(z_im[i] / L, im0[i], 1e-5f) << "L=" << L << " i=" << i;
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

// Found by AllAlgorithms under ASan: an input of one sample along an axis, a kernel wider than
// it and mirrored padding, channels-last.
TEST(FftConv, OneSampleAxesMirrored) {
  Spec s = Spec::parse("n1c1k3s1x2x3k3x3x2t3x2x1d1x1x2pcausal");
  ConvTester t;
  t.input(1, 1, {1, 2, 3}).kernel(3, {3, 3, 2}).stride({3, 2, 1}).dilation({1, 1, 2})
      .padding(s.padding).mode(PadMode::symmetric).layout(Layout::channels_last)
      .dtype(DType::f64);
  t.test(kAlgo, Pass::forward);
  t.strided_views(2).test(kAlgo, Pass::forward);
  t.mode(PadMode::reflect).test(kAlgo, Pass::forward);
}

// Bitwise the same result for 1, 2 and 3 threads (tasks fixed by the problem: kernels,
// channel x tile group, output channel x tile group), tiled and untiled, 1-D tiles in groups.
// Run with OMP_NUM_THREADS=3 or more for a third worker slot.
TEST(FftConv, ThreadCountIndependent) {
  for (const char* text : {"n2c4k6g2s37x41k9x7p4", "n1c3k2s5000k257p128", "n1c1k1s700x9k31x3p15"}) {
    const Spec s = Spec::parse(text);
    const PassShapes sh = pass_shapes(s, Pass::forward);
    Tensor x(s.dtype, sh.a), w(s.dtype, sh.b);
    x.fill_fractions(5);
    w.fill_fractions(6);
    std::vector<Tensor> outs;
    for (int threads : {1, 2, 3}) {
      PlanOptions o;
      o.algorithm = kAlgo;
      o.threads = threads;
      outs.push_back(run_pass(s, Pass::forward, x, w, nullptr, o).out);
    }
    EXPECT_TRUE(bitwise_equal(outs[0], outs[1])) << text;
    EXPECT_TRUE(bitwise_equal(outs[0], outs[2])) << text;
  }
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

// Lanes on channels (fft_conv.cc): channels-last with >= 16 channels on both sides runs the
// last-axis transforms across 16 adjacent channels; 16, 17 and 33 channels (a partial last
// block of lanes), odd extents, groups and depthwise, stride on the last axis, every padding
// mode, bias, f32 and f64, 1-D (tiled) to 3-D, 1 and 2 threads; strided views (channels no
// longer adjacent) take the rows path of the same executor. Channels-first beside it runs the
// transposes of the rows path (unit stride, the padded ends gathered).
TEST(FftConv, LanesOnChannels) {
  for (dim_t c : {16, 17, 33})
    for (Layout l : {Layout::channels_last, Layout::channels_first}) {
      ConvTester().input(2, c, {13, 11}).kernel(c, {7, 6}).groups(c)
          .padding(Padding::lo_hi({{3, 2}, {5, 0}})).layout(l).bias().test(kAlgo, Pass::forward);
      ConvTester().input(1, c, {15, 9}).kernel(c == 33 ? 22 : 16, {5, 4}).stride({2, 3})
          .padding(Padding::uniform(3)).mode(PadMode::reflect).layout(l).dtype(DType::f64)
          .bias().threads(2).test(kAlgo, Pass::forward);
      ConvTester().input(1, c, {301}).kernel(c, {31}).groups(c == 16 ? 4 : c)
          .padding(Padding::same(SamePolicy::scipy)).mode(PadMode::circular).layout(l)
          .test(kAlgo, Pass::forward);
      ConvTester().input(1, c, {6, 7, 5}).kernel(c, {3, 4, 3}).groups(c)
          .padding(Padding::uniform(2)).mode(PadMode::replicate).layout(l).dtype(DType::f64)
          .test(kAlgo, Pass::forward);
      ConvTester().input(2, c, {12, 10}).kernel(c, {5, 5}).groups(c).padding(Padding::uniform(2))
          .layout(l).strided_views(2).bias().test(kAlgo, Pass::forward);
    }
  // Tiled 1-D: several tiles, each one task of 16 channels; the kernel spectra kept.
  ConvTester().input(1, 16, {5000}).kernel(16, {257}).groups(16).padding(Padding::uniform(128))
      .layout(Layout::channels_last).threads(2).bias().test(kAlgo, Pass::forward);
  // Fewer than 16 channels on one side: the rows path.
  ConvTester().input(1, 16, {20, 21}).kernel(3, {9, 9}).padding(Padding::uniform(4))
      .layout(Layout::channels_last).test(kAlgo, Pass::forward);
}

// Bitwise the same result for 1 and 2 threads with lanes on channels.
TEST(FftConv, LanesOnChannelsThreadCountIndependent) {
  for (const char* text : {"n2c33k33g33s19x23k9x7p4", "n1c17k20s300k31p15"}) {
    Spec s = Spec::parse(text);
    s.layout = Layout::channels_last;
    const PassShapes sh = pass_shapes(s, Pass::forward);
    Tensor x(s.dtype, sh.a), w(s.dtype, sh.b);
    x.fill_fractions(5);
    w.fill_fractions(6);
    std::vector<Tensor> outs;
    for (int threads : {1, 2}) {
      PlanOptions o;
      o.algorithm = kAlgo;
      o.threads = threads;
      outs.push_back(run_pass(s, Pass::forward, x, w, nullptr, o).out);
    }
    EXPECT_TRUE(bitwise_equal(outs[0], outs[1])) << text;
  }
}

// constant_weights: the kernel spectra made on the first run and kept (fft_shape.h), made
// again when the weights move (w1, w1, w2, w1); one image and several (the other sources of
// spectra), both layouts, a tiled 1-D case.
TEST(FftConv, ConstantWeightsKeepTheKernelSpectra) {
  for (Layout l : {Layout::channels_first, Layout::channels_last})
    for (dim_t n : {1, 2}) {
      Spec s;
      s.N = n;
      s.C = 4;
      s.K = 6;
      s.groups = 2;
      s.input = {19, 23};
      s.kernel = {7, 9};
      s.padding = Padding::uniform(3);
      s.layout = l;
      expect_constant_weights_cached(s, kAlgo, 1e-3);
      s.input = {3000};
      s.kernel = {101};
      expect_constant_weights_cached(s, kAlgo, 1e-3);
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

// Dispatch (fft_crossover.cc): large kernels in float32 go to fft; small ones, float64 and
// precision 'highest' stay on direct summation, and the rejection says why.
Spec large_depthwise() {
  Spec s;
  s.C = s.K = s.groups = 32;
  s.input = {56, 56};
  s.kernel = {31, 31};
  s.padding = Padding::uniform(15);
  return s;
}

bool rejected_with(const Plan& p, const std::string& why) {
  for (const std::string& r : p.rejections())
    if (r.rfind("fft: ", 0) == 0 && r.find(why) != std::string::npos) return true;
  return false;
}

TEST(FftConv, DispatchChoosesItForLargeKernels) {
  EXPECT_EQ(Plan(large_depthwise(), Pass::forward).algorithm(), kAlgo);
  Spec long1d;
  long1d.input = {480000};
  long1d.kernel = {1023};
  long1d.padding = Padding::uniform(511);
  EXPECT_EQ(Plan(long1d, Pass::forward).algorithm(), kAlgo);
  Spec image;
  image.input = {512, 512};
  image.kernel = {31, 31};
  image.padding = Padding::same(SamePolicy::torch);
  EXPECT_EQ(Plan(image, Pass::forward).algorithm(), kAlgo);
}

TEST(FftConv, DispatchKeepsDirectSummationElsewhere) {
  Spec small;
  small.C = small.K = 64;
  small.input = {56, 56};
  small.kernel = {3, 3};
  small.padding = Padding::uniform(1);
  const Plan p(small, Pass::forward);
  EXPECT_NE(p.algorithm(), kAlgo);
  EXPECT_TRUE(rejected_with(p, "estimated"));
  Spec f64 = large_depthwise();
  f64.dtype = DType::f64;
  const Plan p64(f64, Pass::forward);
  EXPECT_NE(p64.algorithm(), kAlgo);
  EXPECT_TRUE(rejected_with(p64, "float64"));
  PlanOptions highest;
  highest.precision = Precision::highest;
  const Plan ph(large_depthwise(), Pass::forward, highest);
  EXPECT_NE(ph.algorithm(), kAlgo);
  EXPECT_TRUE(rejected_with(ph, "highest"));
  EXPECT_LT(ph.error_bound(), Plan(large_depthwise(), Pass::forward).error_bound());
  // Named, it runs in float64 too.
  PlanOptions named;
  named.algorithm = kAlgo;
  EXPECT_EQ(Plan(f64, Pass::forward, named).algorithm(), kAlgo);
}

// The backward passes reach the FFT through the algorithms that compose them of forward
// convolutions (composed.cc): backward data and transposed (bwd_data_phases, one forward
// problem per stride phase) and the weight gradient (bwd_weights_as_fwd, whose kernel is the
// output gradient), each chosen by dispatch for large kernels, within their reported bound.
// (With stride 2 the phases' kernels are 11x11 on 20x19 planes: direct summation there.)
TEST(FftConv, BackwardPassesThroughForwardProblems) {
  for (dim_t s : {1, 2})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester t;
      t.input(2, 8, {40, 37}).kernel(8, {21, 21}).stride({s}).padding(Padding::uniform(10))
          .layout(l);
      const Spec& spec = t.spec();
      PlanOptions ref;
      ref.algorithm = "reference";
      const double direct = Plan(spec, Pass::backward_data, ref).error_bound();
      const Plan bd(spec, Pass::backward_data);
      EXPECT_EQ(bd.algorithm(), "bwd_data_phases");
      if (s == 1) {
        EXPECT_GT(bd.error_bound(), direct) << "fft inside";
      }
      t.test("bwd_data_phases", Pass::backward_data);
      if (l == Layout::channels_first)
        t.mode(PadMode::reflect).test("bwd_data_phases", Pass::backward_data);
      if (s == 1) {
        const Plan bw(t.spec(), Pass::backward_weights);
        EXPECT_EQ(bw.algorithm(), "bwd_weights_as_fwd");
        EXPECT_GT(bw.error_bound(), Plan(t.spec(), Pass::backward_weights, ref).error_bound());
        t.test("bwd_weights_as_fwd", Pass::backward_weights);
      }
    }
  ConvTester().input(1, 6, {40}).kernel(4, {63}).transposed().padding(Padding::uniform(5))
      .test("bwd_data_phases", Pass::forward);
}

// The error measure of docs/fft.md, max |y - y_exact| / max (sum of |x w|), on random and
// adversarial float32 data: within Plan::error_bound(), and within 8x the error of direct
// summation on the same data (measured up to 3x: scripts/fft_error.py), which a transform with
// a wrong twiddle or a lost rounding step would not meet.
double scaled_error(const Spec& s, const Tensor& x, const Tensor& w, const std::string& algo) {
  PlanOptions o;
  o.algorithm = algo;
  const PassResult got = run_pass(s, Pass::forward, x, w, nullptr, o);
  Spec s64 = s;
  s64.dtype = DType::f64;
  const PassShapes sh = pass_shapes(s, Pass::forward);
  Tensor x64(DType::f64, sh.a), w64(DType::f64, sh.b), xa(DType::f64, sh.a), wa(DType::f64, sh.b);
  for (dim_t i = 0; i < x.size(); ++i) x64.set(i, x.get(i)), xa.set(i, std::fabs(x.get(i)));
  for (dim_t i = 0; i < w.size(); ++i) w64.set(i, w.get(i)), wa.set(i, std::fabs(w.get(i)));
  PlanOptions ref;
  ref.algorithm = "reference";
  const Tensor want = run_pass(s64, Pass::forward, x64, w64, nullptr, ref).out;
  const Tensor scale = run_pass(s64, Pass::forward, xa, wa, nullptr, ref).out;
  double err = 0, sc = 0;
  for (dim_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::fabs(got.out.get(i) - want.get(i)));
    sc = std::max(sc, scale.get(i));
  }
  return err / sc;
}

// Channels-last with 16 channels: the backward passes' forward sub-problems, whose views are
// rearranged (lanes on channels where the channels are adjacent, the rows path where not); and
// naming fft for a backward pass says how those passes reach it.
TEST(FftConv, LanesOnChannelsInBackwardPasses) {
  ConvTester t;
  t.input(1, 16, {30, 27}).kernel(16, {21, 21}).padding(Padding::uniform(10))
      .layout(Layout::channels_last).bias();
  t.test("bwd_data_phases", Pass::backward_data);
  t.test("bwd_weights_as_fwd", Pass::backward_weights);
  detail::Geometry g;
  g.N = g.C = g.K = 1;
  g.in = g.out = {40};
  g.kernel = {9};
  g.stride = g.dil = {1};
  g.lo = g.hi = {4};
  for (detail::Op op : {detail::Op::bwd_data, detail::Op::bwd_weights}) {
    const std::string why = detail::fft_algorithm().reject(g, op);
    EXPECT_NE(why.find("forward sub-problems"), std::string::npos) << why;
    EXPECT_EQ(why.find("TODO"), std::string::npos) << why;
  }
  EXPECT_EQ(detail::fft_algorithm().reject(g, detail::Op::fwd), "");
}

TEST(FftConv, ErrorWithinTheStatedBound) {
  std::mt19937 rng(2026);
  std::uniform_real_distribution<double> u(-1, 1), e(-8, 8);
  auto fill = [&](Tensor& t, int kind) {
    for (dim_t i = 0; i < t.size(); ++i) {
      double v = u(rng);
      if (kind == 1) v = (v < 0 ? -1 : 1) * std::exp2(e(rng));  // magnitudes 2^-8..2^8
      if (kind == 2) v = 1000.0 + v;                            // an offset to cancel
      if (kind == 3) v = (i % 2 ? -1 : 1) * (500 + 500 * std::fabs(v));  // alternating
      t.set(i, static_cast<double>(static_cast<float>(v)));
    }
  };
  for (int rank = 1; rank <= 3; ++rank)
    for (int kind = 0; kind < 4; ++kind) {
      Spec s;
      s.C = rank == 3 ? 2 : 4;
      s.K = 3;
      s.input = rank == 1 ? std::vector<dim_t>{3000} : rank == 2 ? std::vector<dim_t>{40, 37}
                                                              : std::vector<dim_t>{12, 11, 10};
      s.kernel = std::vector<dim_t>(rank, rank == 1 ? 255 : rank == 2 ? 15 : 5);
      s.padding = Padding::same(SamePolicy::torch);
      const PassShapes sh = pass_shapes(s, Pass::forward);
      Tensor x(DType::f32, sh.a), w(DType::f32, sh.b);
      fill(x, kind);
      fill(w, kind == 2 ? 0 : kind);
      PlanOptions o;
      o.algorithm = kAlgo;
      const double bound = Plan(s, Pass::forward, o).error_bound();
      const double err = scaled_error(s, x, w, kAlgo);
      const double direct = scaled_error(s, x, w, "reference");
      EXPECT_LE(err, bound) << "rank " << rank << " data " << kind;
      EXPECT_LE(err, 8 * std::max(direct, 0x1p-24)) << "rank " << rank << " data " << kind;
    }
}

}  // namespace
}  // namespace convnd::testing
