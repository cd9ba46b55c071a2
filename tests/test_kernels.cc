// Kernel-level tests: every kernel of the GEMM list (src/kernels/gemm_kernels.inc) against a
// scalar loop, once per ISA that this build compiled and this CPU runs (one test each, e.g.
// GemmKernels/GemmKernelTest.MatchesScalarLoop/AVX3_f32_gemm_tile_cols), for reduction lengths
// around the unroll and blocking edges (1..17, 31..33, 255..257) and for accumulator rows wider
// than the tile (ldc > nr, as the algorithms use them). The operands are laid out as each form
// reads them by gemm_operands.h, so a kernel added to the list is tested with no edit here.
//
// Data are small integers ((r % 17) - 8), so every product and partial sum is exact in f32 and
// f64: the kernel must match the scalar loop bit for bit, whatever order it sums in.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/gemm_bptr.h"
#include "kernels/gemm_kernels.h"
#include "kernels/gemm_operands.h"
#include "kernels/gemm_tile.h"
#include "only_target.h"

namespace convnd::kernels {
namespace {

// Every target compiled into the library that this CPU can run (AVX3, AVX2, SSE4, ... ).
std::vector<std::int64_t> targets() { return hwy::SupportedAndGeneratedTargets(); }

template <class T>
std::vector<T> integers(std::size_t n, std::uint32_t seed) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<T>(static_cast<int>((i * 7 + seed * 13) % 17) - 8);
  return v;
}

std::vector<std::size_t> reduction_lengths() {
  std::vector<std::size_t> kcs;
  for (std::size_t kc = 1; kc <= 17; ++kc) kcs.push_back(kc);
  for (std::size_t kc : {31, 32, 33, 255, 256, 257}) kcs.push_back(kc);
  return kcs;
}

// One kernel call on an accumulator block that starts non-zero (the kernel adds to C), compared
// with the scalar loop c[i][j] += sum_p a(p, i) * b(p, j). Seeded: C's first column supplies
// each row's start, which the kernel must use in every column instead of C's values
// (overwritten with garbage here); or, for forms seeded per column, C's first row supplies each
// column's start, used in every row.
template <class T>
void check_call(const GemmKernel& k, std::size_t kc, std::size_t ldc_extra, bool seeded) {
  const std::size_t mr = k.mr, nr = k.nr, ldc = nr + ldc_extra;
  const std::vector<T> a = integers<T>(kc * mr, 1);
  const std::vector<T> b = integers<T>(kc * nr, 2);
  std::vector<T> c = integers<T>(mr * ldc, 3);
  std::vector<T> want = c;
  std::vector<T> seed;
  const bool per_column = GemmOperands<T>::seeds_columns(k.form);
  if (seeded) {
    if (per_column)
      for (std::size_t j = 0; j < nr; ++j) seed.push_back(c[j]);
    else
      for (std::size_t i = 0; i < mr; ++i) seed.push_back(c[i * ldc]);
    for (std::size_t i = 0; i < mr; ++i)
      for (std::size_t j = 0; j < nr; ++j) {
        want[i * ldc + j] = per_column ? seed[j] : seed[i];
        c[i * ldc + j] = T(12345);
      }
  }
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nr; ++j) {
      T s = want[i * ldc + j];
      for (std::size_t p = 0; p < kc; ++p) s += a[p * mr + i] * b[p * nr + j];
      want[i * ldc + j] = s;
    }

  GemmOperands<T>(k, kc, a, b).run(c.data(), ldc, seeded ? seed.data() : nullptr);

  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < mr * ldc; ++i)
    if (c[i] != want[i] && bad++ == 0) first = i;
  EXPECT_EQ(bad, 0u) << k.isa << " " << k.name << " " << mr << "x" << nr << " kc=" << kc
                     << " ldc=" << ldc << (seeded ? " seeded" : "") << ": " << bad << " of "
                     << mr * ldc << " wrong, the first at row " << first / ldc << " col "
                     << first % ldc << " got " << c[first] << " want " << want[first];
}

template <class T>
void check_kernel(const GemmKernel& k) {
  for (std::size_t kc : reduction_lengths())
    for (std::size_t extra : {std::size_t{0}, k.nr, std::size_t{3}}) {
      check_call<T>(k, kc, extra, false);
      if (GemmOperands<T>::takes_seed(k.form)) check_call<T>(k, kc, extra, true);
    }
}

using TargetAndKernel = std::tuple<std::int64_t, GemmKernelId>;

}  // namespace

// For gtest's messages: the kernel's name rather than its bytes.
void PrintTo(GemmKernelId id, std::ostream* os) { *os << gemm_kernel_name(id); }

namespace {

class GemmKernelTest : public ::testing::TestWithParam<TargetAndKernel> {};

TEST_P(GemmKernelTest, MatchesScalarLoop) {
  const auto [target, id] = GetParam();
  const OnlyTarget only(target);
  const GemmKernel k = gemm_kernel(id);
  EXPECT_STREQ(k.isa, hwy::TargetName(target));
  EXPECT_STREQ(isa_name(), hwy::TargetName(target));
  // The tile must fit the target's registers (gemm_tile-inl.h, gemm_bptr-inl.h,
  // gemm_batch-inl.h): at most 12 rows of two or more vectors, 24 of one, nr whole vectors.
  ASSERT_GE(k.mr, 1u);
  ASSERT_LE(k.mr, k.nr == k.lanes ? 24u : 12u);
  ASSERT_GE(k.lanes, 1u);
  ASSERT_EQ(k.nr % k.lanes, 0u);
  if (k.dtype == DType::f32)
    check_kernel<float>(k);
  else
    check_kernel<double>(k);
}

INSTANTIATE_TEST_SUITE_P(GemmKernels, GemmKernelTest,
                         ::testing::Combine(::testing::ValuesIn(targets()),
                                            ::testing::ValuesIn(kGemmKernels)),
                         [](const ::testing::TestParamInfo<TargetAndKernel>& info) {
                           // (std::get, not a structured binding: its comma would split the macro's
                           // arguments)
                           return std::string(hwy::TargetName(std::get<0>(info.param))) + "_" +
                                  gemm_kernel_name(std::get<1>(info.param));
                         });

// The tile shape differs per target (12 rows with 32 vector registers, 6 with 16); algorithms
// read it at run time, so the reported shape must follow the dispatched target.
TEST(Kernels, TileShapeFollowsTarget) {
  for (std::int64_t target : targets()) {
    const OnlyTarget only(target);
    const TileShape ts = tile_shape(DType::f32);
    std::printf("  %s: f32 tile %zux%zu\n", hwy::TargetName(target), ts.mr, ts.nr);
    const bool avx3 = target == HWY_AVX3 || target == HWY_AVX3_DL;
    if (avx3) {
      EXPECT_EQ(ts.mr, 12u) << hwy::TargetName(target);
    } else {
      EXPECT_LE(ts.mr, 6u) << hwy::TargetName(target);
    }
    // The wide bptr tile is gemm_tile's (pointwise.cc sizes by tile_shape()); the narrow one
    // has fewer rows and three vectors.
    const BptrKernel<float> wide = bptr_kernel<float>(BptrTile::wide);
    const BptrKernel<float> narrow = bptr_kernel<float>(BptrTile::narrow);
    EXPECT_EQ(wide.mr, ts.mr);
    EXPECT_EQ(wide.nr, ts.nr);
    EXPECT_LT(narrow.mr, wide.mr);
    EXPECT_EQ(narrow.nr * 2, wide.nr * 3);
  }
}

// The bound kernels that algorithms take are the list's entries of the same target, so the
// tests above cover what the algorithms run.
template <class T>
void check_bound_kernels_are_listed() {
  const auto erased = [](auto fn) { return reinterpret_cast<void (*)()>(fn); };
  for (std::int64_t target : targets()) {
    const OnlyTarget only(target);
    SCOPED_TRACE(hwy::TargetName(target));
    const TileKernel<T> tile = tile_kernel<T>();
    EXPECT_EQ(erased(tile.packed), gemm_kernel(CONVND_GEMM_ID(T, gemm_tile)).erased);
    EXPECT_EQ(erased(tile.rows), gemm_kernel(CONVND_GEMM_ID(T, gemm_tile_rows)).erased);
    EXPECT_EQ(erased(tile.cols), gemm_kernel(CONVND_GEMM_ID(T, gemm_tile_cols)).erased);
    EXPECT_EQ(erased(tile.cols_seeded),
              gemm_kernel(CONVND_GEMM_ID(T, gemm_tile_cols_seeded)).erased);
    EXPECT_EQ(erased(tile.rows_seeded),
              gemm_kernel(CONVND_GEMM_ID(T, gemm_tile_rows_seeded)).erased);
    const BptrKernel<T> wide = bptr_kernel<T>(BptrTile::wide);
    EXPECT_EQ(erased(wide.fn), gemm_kernel(CONVND_GEMM_ID(T, gemm_bptr)).erased);
    EXPECT_EQ(erased(wide.fn_seeded), gemm_kernel(CONVND_GEMM_ID(T, gemm_bptr_seeded)).erased);
    const BptrKernel<T> narrow = bptr_kernel<T>(BptrTile::narrow);
    const GemmKernel listed = gemm_kernel(CONVND_GEMM_ID(T, gemm_bptr_narrow));
    EXPECT_EQ(erased(narrow.fn), listed.erased);
    EXPECT_EQ(narrow.mr, listed.mr);
    EXPECT_EQ(narrow.nr, listed.nr);
    EXPECT_EQ(erased(narrow.fn_offsets),
              gemm_kernel(CONVND_GEMM_ID(T, gemm_bptr_narrow_voff)).erased);
    EXPECT_EQ(erased(narrow.fn_table),
              gemm_kernel(CONVND_GEMM_ID(T, gemm_bptr_narrow_table)).erased);
  }
}
TEST(Kernels, BoundKernelsAreListedF32) { check_bound_kernels_are_listed<float>(); }
TEST(Kernels, BoundKernelsAreListedF64) { check_bound_kernels_are_listed<double>(); }

}  // namespace
}  // namespace convnd::kernels
