// The layout kernels against plain loops, once per ISA that this build compiled and this CPU
// runs: kernels/transpose.h over shapes around its 4 x 4 (f32) and 2 x 2 (f64) blocks and the AVX-512
// 16 x 16 (8 x 8) ones, with padded and negative strides; kernels/pack_rows.h with zero rows and offsets.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <vector>

#include "kernels/gemm_tile.h"
#include "kernels/pack_rows.h"
#include "kernels/transpose.h"
#include "only_target.h"

namespace convnd::kernels {
namespace {

template <class T>
void check_transpose() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    const OnlyTarget only(target);
    SCOPED_TRACE(hwy::TargetName(target));
    for (std::size_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 32, 33, 47})
      for (std::size_t cols : {1, 2, 3, 4, 5, 6, 8, 13, 16, 17, 31, 32, 49})
        for (bool reversed : {false, true}) {
          // Source rows padded by 3, destination rows by 2; `reversed`: both walked backwards.
          const std::int64_t ss = static_cast<std::int64_t>(cols + 3);
          const std::int64_t ds = static_cast<std::int64_t>(rows + 2);
          std::vector<T> src(rows * (cols + 3)), dst(cols * (rows + 2), T(-1)), want = dst;
          for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<T>(i) + T(0.25);
          const T* s = reversed ? src.data() + (rows - 1) * static_cast<std::size_t>(ss) : src.data();
          T* d = reversed ? dst.data() + (cols - 1) * static_cast<std::size_t>(ds) : dst.data();
          T* w = reversed ? want.data() + (cols - 1) * static_cast<std::size_t>(ds) : want.data();
          const std::int64_t sss = reversed ? -ss : ss, dss = reversed ? -ds : ds;
          for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j)
              w[static_cast<std::int64_t>(j) * dss + static_cast<std::int64_t>(i)] =
                  s[static_cast<std::int64_t>(i) * sss + static_cast<std::int64_t>(j)];
          transpose<T>(rows, cols, s, sss, d, dss);
          ASSERT_EQ(dst, want) << rows << " x " << cols << (reversed ? " reversed" : "");
        }
  }
}

TEST(LayoutKernels, TransposeF32) { check_transpose<float>(); }
TEST(LayoutKernels, TransposeF64) { check_transpose<double>(); }

template <class T>
void check_pack_rows() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    const OnlyTarget only(target);
    SCOPED_TRACE(hwy::TargetName(target));
    const std::size_t width = tile_shape(sizeof(T) == 4 ? DType::f32 : DType::f64).nr;
    for (std::size_t len : {pack_lanes(sizeof(T)), width})
      for (std::size_t count : {1, 2, 7, 64})
        for (std::size_t offset : {0, 3}) {
          std::vector<T> data(count * 50 + width + offset);
          for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<T>(i % 97) - T(40);
          std::vector<const T*> rows(count);
          for (std::size_t i = 0; i < count; ++i)
            rows[i] = i % 3 == 1 ? nullptr : data.data() + i * 50;
          // Rows of `width` in the panel, of which the first `len` are written.
          std::vector<T> got(count * width, T(7)), want(count * width, T(7));
          for (std::size_t i = 0; i < count; ++i)
            for (std::size_t m = 0; m < len; ++m)
              want[i * width + m] = rows[i] ? rows[i][offset + m] : T(0);
          pack_rows<T>(count, rows.data(), offset, len, got.data(), width);
          ASSERT_EQ(got, want) << count << " rows of " << len << ", offset " << offset;
        }
  }
}

TEST(LayoutKernels, PackRowsF32) { check_pack_rows<float>(); }
TEST(LayoutKernels, PackRowsF64) { check_pack_rows<double>(); }

}  // namespace
}  // namespace convnd::kernels
