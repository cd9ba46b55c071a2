// kernels::transpose (transpose.h) against a scalar loop, once per Highway target this build
// compiled and this CPU runs: rows and columns around the register blocks (4 x 4 of f32 and
// 2 x 2 of f64 on 128-bit targets, 16 x 16 and 8 x 8 on AVX-512) with every tail, row strides
// wider than a row on both sides, and the destination's gaps left untouched (a store past a
// row's end shows as a changed sentinel). run_tiles (algo/depthwise_fwd_tiles.cc) transposes
// from positions that are not multiples of a block: offsets into the rows are tested too.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "kernels/transpose.h"
#include "only_target.h"

namespace convnd::kernels {
namespace {

template <class T>
void check_target(const char* target) {
  const std::size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 49, 64, 65};
  for (std::size_t rows : sizes)
    for (std::size_t cols : sizes)
      for (std::int64_t pad : {0, 3})
        for (std::size_t off : {0, 1, 4, 8}) {
        SCOPED_TRACE(::testing::Message() << target << " rows=" << rows << " cols=" << cols
                                          << " pad=" << pad << " off=" << off);
        const std::int64_t ss = static_cast<std::int64_t>(cols) + pad;
        const std::int64_t ds = static_cast<std::int64_t>(rows) + 2 * pad + 1;
        // Allocated on a cache line, read from `off` elements past it: rows a whole number of
        // lines apart (pad 0, cols 16 or 32) start at every offset within a line (the first
        // columns up to the line take the 128-bit blocks, the rest whole lines).
        T* const line = static_cast<T*>(std::aligned_alloc(64, (rows * static_cast<std::size_t>(ss) + off) * sizeof(T) / 64 * 64 + 64));
        std::vector<T> src(rows * static_cast<std::size_t>(ss));
        for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<T>(i % 1009) - T(500);
        const T sentinel = T(-12345);
        std::vector<T> want(cols * static_cast<std::size_t>(ds), sentinel), got = want;
        for (std::size_t i = 0; i < rows; ++i)
          for (std::size_t j = 0; j < cols; ++j)
            want[j * static_cast<std::size_t>(ds) + i] = src[i * static_cast<std::size_t>(ss) + j];
        std::copy(src.begin(), src.end(), line + off);
        transpose<T>(rows, cols, line + off, ss, got.data(), ds);
        std::free(line);
        ASSERT_EQ(got, want);
      }
}

template <class T>
void check_every_target() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    const OnlyTarget only(target);
    check_target<T>(hwy::TargetName(target));
  }
}

TEST(TransposeKernel, F32MatchesScalarOnEveryTarget) { check_every_target<float>(); }
TEST(TransposeKernel, F64MatchesScalarOnEveryTarget) { check_every_target<double>(); }

}  // namespace
}  // namespace convnd::kernels
