// The depthwise kernels of dwconv.h (dw_channels, dw_channels_run, dw_channels_taps, dw_row, dw_rows, dw_gather,
// dw_accumulate, dw_weights, dw_dots, dw_pair_rows, dot, strided_copy_rows, deinterleave_rows,
// interleave_rows) against scalar loops, once per Highway target this build
// compiled and this CPU runs, for
// counts around the vector widths (1..17, 31..33, 63..65: four-vector steps, single vectors and
// scalar tails on every width up to AVX-512's 16 floats) and tap counts around dw_weights'
// 8-tap groups. Every operand lives in its own allocation sized exactly to `count`, so a load
// past the end shows under AddressSanitizer. Data are small integers: every sum is exact, so
// the kernels must match bit for bit whatever order they sum in.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
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

      // dw_channels_run: runs of every length up to 8 (blocks of 1, 2 and 4, one or two of
      // them overlapping) and past it (blocks of 8, the last overlapping the one before), input
      // and output rows `step` apart; each tap's run its own exact-size allocation.
      for (std::size_t positions : {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 15, 16, 21}) {
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

      // dw_rows: 1..11 rows (the 8-, 4-, 2- and 1-row blocks), input rows `in_pitch` apart and
      // output rows `out_pitch` apart; each tap's rows one exact-size allocation, so a lane past
      // `count` in the last row shows under AddressSanitizer, and the gaps between output rows
      // must keep their sentinel.
      for (std::size_t rows : {1, 3, 8, 11, 15}) {
        const std::size_t in_pitch = count + 2, out_pitch = count + 5;
        const std::size_t in_span = (rows - 1) * in_pitch + count;
        const std::size_t out_span = (rows - 1) * out_pitch + count;
        const Rows<T> rin(taps, in_span, 30);
        std::vector<T> rout(out_span, T(-99)), rwant(out_span, T(-99));
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t j = 0; j < count; ++j) {
            T a = T(3);
            for (std::size_t t = 0; t < taps; ++t) a += w1[t] * rin.ptr[t][r * in_pitch + j];
            rwant[r * out_pitch + j] = a;
          }
        dw_rows<T>(taps, rin.ptr.data(), w1.data(), T(3), rows,
                   static_cast<std::ptrdiff_t>(in_pitch), rout.data(),
                   static_cast<std::ptrdiff_t>(out_pitch), count);
        EXPECT_EQ(rout, rwant) << "dw_rows rows=" << rows;
      }

      // dw_pair_rows: 1, 2 and 7 rows (the 4-, 2- and 1-row blocks), `taps` even-column taps
      // and taps - 1 odd-column ones; each tap's rows an exact-size allocation (ceil(count / 2)
      // and floor(count / 2) samples in the last row), output rows apart with sentinels.
      for (std::size_t rows : {1, 2, 7}) {
        const std::size_t in_pitch = count + 1, out_pitch = count + 3;
        const std::size_t na = (count + 1) / 2, nb = count / 2;
        const Rows<T> pa(taps, (rows - 1) * in_pitch + na, 80), pb(taps, (rows - 1) * in_pitch + nb, 81);
        const std::vector<T> wb = integers<T>(taps, 6);
        std::vector<T> pout((rows - 1) * out_pitch + count, T(-99)), pwant = pout;
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t e = 0; e < count; ++e) {
            T a = T(3);
            const std::size_t k = r * in_pitch + e / 2;
            if (e % 2 == 0)
              for (std::size_t t = 0; t < taps; ++t) a += w1[t] * pa.ptr[t][k];
            else
              for (std::size_t t = 0; t + 1 < taps; ++t) a += wb[t] * pb.ptr[t][k];
            pwant[r * out_pitch + e] = a;
          }
        dw_pair_rows<T>(taps, pa.ptr.data(), w1.data(), taps - 1, pb.ptr.data(), wb.data(), T(3),
                        rows, static_cast<std::ptrdiff_t>(in_pitch), pout.data(),
                        static_cast<std::ptrdiff_t>(out_pitch), count);
        EXPECT_EQ(pout, pwant) << "dw_pair_rows rows=" << rows;
      }

      // dw_dots: 1 and 3 rows, tap rows `in_pitch` apart and g rows `g_pitch` apart, each
      // operand an exact-size allocation; a non-zero accumulator per tap.
      for (std::size_t rows : {1, 3}) {
        const std::size_t in_pitch = count + 3, g_pitch = count + 1;
        const Rows<T> din(taps, (rows - 1) * in_pitch + count, 50);
        const std::vector<T> gg = integers<T>((rows - 1) * g_pitch + count, 60);
        std::vector<T> dacc = integers<T>(taps, 13), dwant = dacc;
        for (std::size_t t = 0; t < taps; ++t) {
          T sum = 0;
          for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < count; ++j)
              sum += din.ptr[t][r * in_pitch + j] * gg[r * g_pitch + j];
          dwant[t] += sum;
        }
        dw_dots<T>(taps, din.ptr.data(), static_cast<std::ptrdiff_t>(in_pitch), gg.data(),
                   static_cast<std::ptrdiff_t>(g_pitch), rows, count, dacc.data());
        EXPECT_EQ(dacc, dwant) << "dw_dots rows=" << rows;
      }

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

// The plane-building copies: strided_copy_rows (steps 1, 2, 3) and deinterleave_rows, for row
// lengths around the vector widths; every source row its own exact-size allocation (a load past
// its end shows under AddressSanitizer), destination rows apart with sentinels between them.
template <class T>
void check_copies(const char* target) {
  for (std::size_t count : counts()) {
    SCOPED_TRACE(::testing::Message() << target << " count=" << count);
    const std::size_t rows = 3, pitch = count + 4;
    for (std::ptrdiff_t step : {1, 2, 3}) {
      const std::size_t src_len = (count - 1) * static_cast<std::size_t>(step) + 1;
      const Rows<T> src(rows, src_len, 7);
      // One base pointer and offsets: rows laid out in reverse order in one buffer, so the
      // offsets are not monotonic.
      std::vector<T> flat(rows * src_len);
      std::vector<std::int64_t> in_off(rows), out_off(rows);
      for (std::size_t r = 0; r < rows; ++r) {
        std::copy(src.data[r].begin(), src.data[r].end(), flat.begin() + (rows - 1 - r) * src_len);
        in_off[r] = static_cast<std::int64_t>((rows - 1 - r) * src_len);
        out_off[r] = static_cast<std::int64_t>(r * pitch);
      }
      std::vector<T> out(rows * pitch, T(-99)), want = out;
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < count; ++j)
          want[r * pitch + j] = src.data[r][j * static_cast<std::size_t>(step)];
      strided_copy_rows<T>(flat.data(), in_off.data(), step, out.data(), out_off.data(), rows, count);
      EXPECT_EQ(out, want) << "strided_copy_rows step=" << step;
    }
    // deinterleave_rows: each row exactly `count` samples, its own allocation.
    const Rows<T> src(1, count, 9);
    const std::int64_t zero = 0;
    std::vector<T> even(pitch, T(-99)), odd(pitch, T(-99));
    std::vector<T> even_want = even, odd_want = odd;
    for (std::size_t j = 0; 2 * j < count; ++j) even_want[j] = src.data[0][2 * j];
    for (std::size_t j = 0; 2 * j + 1 < count; ++j) odd_want[j] = src.data[0][2 * j + 1];
    deinterleave_rows<T>(src.ptr[0], &zero, even.data(), odd.data(), &zero, 1, count);
    EXPECT_EQ(even, even_want) << "deinterleave_rows even";
    EXPECT_EQ(odd, odd_want) << "deinterleave_rows odd";
    // interleave_rows, the inverse: 2 rows of `count` samples from phase arrays `pitch` apart,
    // each destination row its own exact-size allocation (a store past its end shows under
    // AddressSanitizer).
    const std::size_t half = (count + 1) / 2;
    const Rows<T> ev(1, pitch + half, 11), od(1, pitch + half, 12);
    const std::int64_t in_off[2] = {0, static_cast<std::int64_t>(pitch)};
    std::vector<T> joined(pitch + count, T(-99)), joined_want = joined;
    const std::int64_t out_off[2] = {0, static_cast<std::int64_t>(pitch)};
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t k = 0; k < count; ++k)
        joined_want[r * pitch + k] = (k % 2 ? od : ev).data[0][r * pitch + k / 2];
    interleave_rows<T>(ev.ptr[0], od.ptr[0], in_off, joined.data(), out_off, 2, count);
    EXPECT_EQ(joined, joined_want) << "interleave_rows";
  }
}

// dw_channels_taps: kernel rows of 2, 3, 5 and 7 taps (the unrolled forms; 2 only at step 1) and
// 1, 4 (scalar forms), position steps of 1, 2 (unrolled) and 3 times the tap step, runs of every length up
// to 8 and past it (the overlapping last block), 1 or 3 rows, counts around the vector widths.
// Each row's run of samples and of weights is its own exact-size allocation.
template <class T>
void check_taps(const char* target) {
  for (std::size_t count : {1, 5, 16, 17, 31, 32, 33, 64, 65})
    for (std::size_t taps : {1, 2, 3, 4, 5, 7})
      for (std::size_t S : {1, 2, 3})
        for (std::size_t rows : {1, 3})
          for (std::size_t positions : {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 21}) {
            SCOPED_TRACE(::testing::Message() << target << " count=" << count << " taps=" << taps
                                              << " S=" << S << " rows=" << rows
                                              << " positions=" << positions);
            const std::size_t tap_step = count + 2, in_step = S * tap_step;
            const std::size_t span = (positions - 1) * in_step + (taps - 1) * tap_step + count;
            const Rows<T> in(rows, span, 5), w(rows, (taps - 1) * count + count, 50);
            const std::vector<T> bias = integers<T>(count, 7);
            const std::size_t out_step = count + 1, out_span = (positions - 1) * out_step + count;
            std::vector<T> out(out_span, T(-99)), want(out_span, T(-99));
            for (std::size_t j = 0; j < positions; ++j)
              for (std::size_t c = 0; c < count; ++c) {
                T a = bias[c];
                for (std::size_t i = 0; i < rows; ++i)
                  for (std::size_t k = 0; k < taps; ++k)
                    a += w.ptr[i][k * count + c] * in.ptr[i][j * in_step + k * tap_step + c];
                want[j * out_step + c] = a;
              }
            dw_channels_taps<T>(rows, in.ptr.data(), w.ptr.data(), taps, count,
                                static_cast<std::ptrdiff_t>(tap_step),
                                static_cast<std::ptrdiff_t>(in_step), bias.data(), out.data(),
                                static_cast<std::ptrdiff_t>(out_step), positions, count);
            ASSERT_EQ(out, want);
          }
}

// dw_weights_taps: kernel rows of 1..9 and 17 taps (groups of 8 and a rest), position steps of 1
// and 2 times the tap step (blocks of 4 positions sharing samples) and 3 (none shared), runs of
// 1..13 positions (whole blocks of 4 and a rest), counts around the vector widths; the input
// run, dy and the accumulators each an exact-size allocation (acc rows acc_step apart, with
// sentinels between them).
template <class T>
void check_weights_taps(const char* target) {
  for (std::size_t count : {1, 5, 15, 16, 17, 31, 33, 64, 65})
    for (std::size_t taps : {1, 2, 3, 4, 5, 6, 7, 8, 9, 17})
      for (std::size_t S : {1, 2, 3})
        for (std::size_t positions : {1, 2, 4, 5, 8, 13}) {
          SCOPED_TRACE(::testing::Message() << target << " count=" << count << " taps=" << taps
                                            << " S=" << S << " positions=" << positions);
          const std::size_t tap_step = count + 1, in_step = S * tap_step, dy_step = count + 3;
          const std::vector<T> in = integers<T>((positions - 1) * in_step + (taps - 1) * tap_step + count, 8);
          const std::vector<T> dy = integers<T>((positions - 1) * dy_step + count, 9);
          const std::size_t acc_step = count + 2;
          std::vector<T> acc = integers<T>((taps - 1) * acc_step + count, 10), want = acc;
          for (std::size_t k = 0; k < taps; ++k)
            for (std::size_t c = 0; c < count; ++c) {
              T a = want[k * acc_step + c];
              for (std::size_t j = 0; j < positions; ++j)
                a += in[j * in_step + k * tap_step + c] * dy[j * dy_step + c];
              want[k * acc_step + c] = a;
            }
          dw_weights_taps<T>(taps, in.data(), static_cast<std::ptrdiff_t>(tap_step),
                             static_cast<std::ptrdiff_t>(in_step), dy.data(),
                             static_cast<std::ptrdiff_t>(dy_step), positions, acc.data(), acc_step,
                             count);
          ASSERT_EQ(acc, want);
        }
}

// The channel-vector kernels align their loads to the input (dwconv.cc: a masked head before the
// first aligned vector and a masked tail, or overlapping whole vectors where masks are not
// fault-free): every start offset within a 64-byte line, with the weights and the output at the
// input's offset (as depthwise.cc places them) and at another one, counts around the widths.
// Output slots outside [0, count) of each position hold sentinels that must survive.
template <class T>
void check_alignments(const char* target) {
  constexpr std::size_t kLine = 64 / sizeof(T);
  const std::size_t positions = 11, taps = 3, S = 1;
  for (std::size_t count : {8, 15, 16, 17, 20, 31, 33, 47, 144})
    for (std::size_t shift = 0; shift < kLine; ++shift)
      for (std::size_t other : {std::size_t{0}, shift}) {
        SCOPED_TRACE(::testing::Message() << target << " count=" << count << " shift=" << shift
                                          << " weights/output shift=" << other);
        const std::size_t pitch = count + 2 * kLine;  // channels-last position pitch
        auto buf = [&](std::size_t n, std::uint32_t seed) {
          std::vector<T> v = integers<T>(n + 2 * kLine, seed);
          return v;
        };
        // Aligned starts: the vectors' own data rounded up to a line.
        std::vector<T> xb = buf((positions * S + taps) * pitch, 3), wb = buf(taps * pitch, 4),
                       bb = buf(count, 5), ob(positions * pitch + 2 * kLine, T(-99));
        auto line = [&](std::vector<T>& v, std::size_t off) {
          const auto a = reinterpret_cast<std::uintptr_t>(v.data());
          return v.data() + ((64 - a % 64) % 64) / sizeof(T) + off;
        };
        const T* x = line(xb, shift);
        const T* w = line(wb, other);
        const T* bias = line(bb, other);
        T* out = line(ob, other);
        std::vector<T> want(ob);
        T* want_out = want.data() + (out - ob.data());
        for (std::size_t j = 0; j < positions; ++j)
          for (std::size_t c = 0; c < count; ++c) {
            T a = bias[c];
            for (std::size_t k = 0; k < taps; ++k) a += w[k * pitch + c] * x[(j * S + k) * pitch + c];
            want_out[j * pitch + c] = a;
          }
        const auto P = static_cast<std::ptrdiff_t>(pitch);
        const T* row[1] = {x};
        const T* wrow[1] = {w};
        dw_channels_taps<T>(1, row, wrow, taps, pitch, P, P, bias, out, P, positions, count);
        ASSERT_EQ(ob, want) << "dw_channels_taps";
        std::fill(ob.begin(), ob.end(), T(-99));
        const T* terms[taps];
        const T* wterms[taps];
        for (std::size_t k = 0; k < taps; ++k) terms[k] = x + k * pitch, wterms[k] = w + k * pitch;
        dw_channels_run<T>(taps, terms, wterms, P, bias, out, P, positions, count);
        ASSERT_EQ(ob, want) << "dw_channels_run";
        std::fill(ob.begin(), ob.end(), T(-99));
        for (std::size_t j = 0; j < positions; ++j) {
          const T* pterms[taps];
          for (std::size_t k = 0; k < taps; ++k) pterms[k] = terms[k] + j * pitch;
          dw_gather<T>(taps, pterms, wterms, bias, out + j * pitch, count);
        }
        ASSERT_EQ(ob, want) << "dw_gather";
      }
}

template <class T>
void check_every_target() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    const OnlyTarget only(target);
    check_target<T>(hwy::TargetName(target));
    check_copies<T>(hwy::TargetName(target));
    check_taps<T>(hwy::TargetName(target));
    check_alignments<T>(hwy::TargetName(target));
    check_weights_taps<T>(hwy::TargetName(target));
  }
}

TEST(DwconvKernels, F32MatchScalarOnEveryTarget) { check_every_target<float>(); }
TEST(DwconvKernels, F64MatchScalarOnEveryTarget) { check_every_target<double>(); }

// The kernels check_target and check_copies compare with scalar loops. A kernel added to
// dwconv_kernels.inc fails this test until it has a check above and its name here.
const char* const kChecked[] = {
    "dw_channels",      "dw_row",          "dw_accumulate",   "dot",
    "dw_weights",       "dw_weights_taps", "dw_channels_run", "dw_gather",       "dw_rows",
    "dw_dots",          "dw_pair_rows",    "interleave_rows", "deinterleave_rows",
    "strided_copy_rows", "dw_channels_taps"};

TEST(DwconvKernels, EveryListedKernelIsTested) {
  const char* const listed[] = {
#define CONVND_DW_KERNEL(name, body, ret, ...) #name,
#include "kernels/dwconv_kernels.inc"
#undef CONVND_DW_KERNEL
  };
  for (const char* name : listed)
    EXPECT_TRUE(std::any_of(std::begin(kChecked), std::end(kChecked),
                            [&](const char* c) { return std::string(c) == name; }))
        << name << " is in dwconv_kernels.inc but has no check here";
}

}  // namespace
}  // namespace convnd::kernels
