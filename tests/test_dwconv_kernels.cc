// The depthwise kernels of dwconv.h (dw_channels, dw_channels_run, dw_row, dw_gather,
// dw_accumulate, dw_weights, dot) against scalar loops, once per Highway target this build
// compiled and this CPU runs, for
// counts around the vector widths (1..17, 31..33, 63..65: four-vector steps, single vectors and
// scalar tails on every width up to AVX-512's 16 floats) and tap counts around dw_weights'
// 8-tap groups. Every operand lives in its own allocation sized exactly to `count`, so a load
// past the end shows under AddressSanitizer. Data are small integers: every sum is exact, so
// the kernels must match bit for bit whatever order they sum in.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <vector>

#include "kernels/dwconv.h"
#include "only_target.h"

namespace convnd::kernels {
namespace {

template <class T>
std::vector<T> integers(std::size_t n, std::uint32_t seed) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<T>(static_cast<int>((i * 7 + seed * 13) % 17) - 8);
  return v;
}

std::vector<std::size_t> counts() {
  std::vector<std::size_t> c;
  for (std::size_t n = 1; n <= 17; ++n) c.push_back(n);
  for (std::size_t n : {31, 32, 33, 63, 64, 65}) c.push_back(n);
  return c;
}

// `rows` vectors of `count` elements, each its own allocation.
template <class T>
struct Rows {
  std::vector<std::vector<T>> data;
  std::vector<const T*> ptr;
  Rows(std::size_t rows, std::size_t count, std::uint32_t seed) {
    for (std::size_t r = 0; r < rows; ++r) data.push_back(integers<T>(count, seed + r));
    for (auto& v : data) ptr.push_back(v.data());
  }
};

template <class T>
void check_target(const char* target) {
  for (std::size_t count : counts())
    for (std::size_t taps : {1, 3, 7, 8, 9, 17}) {
      SCOPED_TRACE(::testing::Message() << target << " count=" << count << " taps=" << taps);
      const Rows<T> in(taps, count, 1), wrows(taps, count, 40);
      const std::vector<T> w = integers<T>(taps * count, 2), bias = integers<T>(count, 3);
      std::vector<T> want(count), got(count);

      // dw_channels: tap-major weights with stride `count`, with and without bias.
      for (bool with_bias : {true, false}) {
        for (std::size_t c = 0; c < count; ++c) {
          T a = with_bias ? bias[c] : T(0);
          for (std::size_t t = 0; t < taps; ++t) a += w[t * count + c] * in.ptr[t][c];
          want[c] = a;
        }
        dw_channels<T>(taps, in.ptr.data(), w.data(), count, with_bias ? bias.data() : nullptr,
                       got.data(), count);
        EXPECT_EQ(got, want) << "dw_channels bias=" << with_bias;
      }

      // dw_gather: a weight pointer per term.
      for (std::size_t c = 0; c < count; ++c) {
        T a = bias[c];
        for (std::size_t t = 0; t < taps; ++t) a += wrows.ptr[t][c] * in.ptr[t][c];
        want[c] = a;
      }
      dw_gather<T>(taps, in.ptr.data(), wrows.ptr.data(), bias.data(), got.data(), count);
      EXPECT_EQ(got, want) << "dw_gather";
      dw_gather<T>(0, in.ptr.data(), wrows.ptr.data(), nullptr, got.data(), count);
      EXPECT_EQ(got, std::vector<T>(count, T(0))) << "dw_gather with no terms";

      // dw_channels_run: runs of 1, 8 and 11 positions (the 8-position block and its tail),
      // input and output rows `step` apart; each tap's run its own exact-size allocation.
      for (std::size_t positions : {1, 8, 11}) {
        const std::size_t step = count + 3, span = (positions - 1) * step + count;
        const Rows<T> run(taps, span, 20);
        std::vector<T> out(span, T(-99)), out_want(span, T(-99));
        for (std::size_t j = 0; j < positions; ++j)
          for (std::size_t c = 0; c < count; ++c) {
            T a = bias[c];
            for (std::size_t t = 0; t < taps; ++t) a += wrows.ptr[t][c] * run.ptr[t][j * step + c];
            out_want[j * step + c] = a;
          }
        dw_channels_run<T>(taps, run.ptr.data(), wrows.ptr.data(), step, bias.data(), out.data(),
                           step, positions, count);
        EXPECT_EQ(out, out_want) << "dw_channels_run positions=" << positions;
      }

      // dw_row: one weight per tap, runs of `count` samples.
      const std::vector<T> w1 = integers<T>(taps, 5);
      for (std::size_t j = 0; j < count; ++j) {
        T a = T(3);
        for (std::size_t t = 0; t < taps; ++t) a += w1[t] * in.ptr[t][j];
        want[j] = a;
      }
      dw_row<T>(taps, in.ptr.data(), w1.data(), T(3), got.data(), count);
      EXPECT_EQ(got, want) << "dw_row";

      // dw_accumulate: `taps` positions of products added to a non-zero accumulator.
      const Rows<T> b(taps, count, 70);
      std::vector<T> acc = integers<T>(count, 9), acc_want = acc;
      for (std::size_t c = 0; c < count; ++c)
        for (std::size_t p = 0; p < taps; ++p) acc_want[c] += in.ptr[p][c] * b.ptr[p][c];
      dw_accumulate<T>(taps, in.ptr.data(), b.ptr.data(), acc.data(), count);
      EXPECT_EQ(acc, acc_want) << "dw_accumulate";

      // dw_weights: 5 positions, x[p * taps + t] (rows reused across positions in a scrambled
      // order), a non-zero accumulator of taps x count.
      const std::size_t positions = 5;
      const Rows<T> g(positions, count, 90), xs(positions * taps, count, 110);
      std::vector<T> wacc = integers<T>(taps * count, 11), wacc_want = wacc;
      for (std::size_t t = 0; t < taps; ++t)
        for (std::size_t c = 0; c < count; ++c)
          for (std::size_t p = 0; p < positions; ++p)
            wacc_want[t * count + c] += xs.ptr[p * taps + t][c] * g.ptr[p][c];
      dw_weights<T>(positions, taps, xs.ptr.data(), g.ptr.data(), wacc.data(), count);
      EXPECT_EQ(wacc, wacc_want) << "dw_weights";

      // dot.
      T s = 0;
      for (std::size_t j = 0; j < count; ++j) s += in.ptr[0][j] * b.ptr[0][j];
      EXPECT_EQ(dot<T>(in.ptr[0], b.ptr[0], count), s) << "dot";
    }
}

template <class T>
void check_every_target() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    const OnlyTarget only(target);
    check_target<T>(hwy::TargetName(target));
  }
}

TEST(DwconvKernels, F32MatchScalarOnEveryTarget) { check_every_target<float>(); }
TEST(DwconvKernels, F64MatchScalarOnEveryTarget) { check_every_target<double>(); }

}  // namespace
}  // namespace convnd::kernels
