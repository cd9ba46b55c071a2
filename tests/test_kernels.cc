// Kernel-level tests: every GEMM microkernel variant (packed panel, row pointers, column
// pointers, and gemm_bptr's B row pointers in its wide and narrow tiles) against a scalar loop,
// once per ISA that this build compiled and this CPU runs, for reduction lengths around the unroll
// and blocking edges (1..17, 31..33, 255..257) and for accumulator rows wider than the tile (ldc >
// nr, as the algorithms use them).
//
// Data are small integers ((r % 17) - 8), so every product and partial sum is exact in f32 and
// f64: the kernel must match the scalar loop bit for bit, whatever order it sums in.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/gemm_bptr.h"
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

enum class Variant { packed, rows, cols, bptr, bptr_narrow, bptr_offsets, bptr_table, bptr_seeded };
const char* name(Variant v) {
  switch (v) {
    case Variant::packed:
      return "packed";
    case Variant::rows:
      return "rows";
    case Variant::cols:
      return "cols";
    case Variant::bptr:
      return "bptr";
    case Variant::bptr_narrow:
      return "bptr_narrow";
    case Variant::bptr_offsets:
      return "bptr_offsets";
    case Variant::bptr_table:
      return "bptr_table";
    case Variant::bptr_seeded:
      return "bptr_seeded";
  }
  return "?";
}

// The tile a variant runs: gemm_tile's for the first three, the bound kernel's for gemm_bptr.
template <class T>
TileShape shape_of(Variant v) {
  if (v == Variant::bptr || v == Variant::bptr_narrow || v == Variant::bptr_offsets ||
      v == Variant::bptr_table || v == Variant::bptr_seeded) {
    const BptrKernel<T> k = bptr_kernel<T>(v == Variant::bptr ? BptrTile::wide : BptrTile::narrow);
    return {k.mr, k.nr};
  }
  return tile_shape(sizeof(T) == 4 ? DType::f32 : DType::f64);
}

// One kernel call on an accumulator block that starts non-zero (the kernel adds to C), compared
// with the scalar loop c[i][j] += sum_p a(p, i) * b[p][j].
template <class T>
void check_tile(Variant variant, std::size_t kc, std::size_t ldc_extra) {
  const TileShape ts = shape_of<T>(variant);
  const std::size_t mr = ts.mr, nr = ts.nr, ldc = nr + ldc_extra;
  // A as (p, i) values; the three variants read the same values from different layouts.
  const std::vector<T> a = integers<T>(kc * mr, 1);
  const std::vector<T> b = integers<T>(kc * nr, 2);
  std::vector<T> c = integers<T>(mr * ldc, 3);
  std::vector<T> want = c;
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nr; ++j) {
      T s = want[i * ldc + j];
      for (std::size_t p = 0; p < kc; ++p) s += a[p * mr + i] * b[p * nr + j];
      want[i * ldc + j] = s;
    }

  switch (variant) {
    case Variant::packed: gemm_tile<T>(kc, a.data(), b.data(), c.data(), ldc); break;
    case Variant::rows: {
      // Row i: kc values a(., i), each row its own allocation (no overlap with its neighbours).
      std::vector<std::vector<T>> rows(mr, std::vector<T>(kc));
      std::vector<const T*> ptr(mr);
      for (std::size_t i = 0; i < mr; ++i) {
        for (std::size_t p = 0; p < kc; ++p) rows[i][p] = a[p * mr + i];
        ptr[i] = rows[i].data();
      }
      gemm_tile_rows<T>(kc, ptr.data(), b.data(), c.data(), ldc);
      break;
    }
    case Variant::cols: {
      std::vector<const T*> ptr(kc);
      for (std::size_t p = 0; p < kc; ++p) ptr[p] = a.data() + p * mr;
      gemm_tile_cols<T>(kc, ptr.data(), b.data(), c.data(), ldc);
      break;
    }
    case Variant::bptr:
    case Variant::bptr_narrow: {
      // B rows through pointers, each row its own allocation, visited in reverse memory order.
      std::vector<std::vector<T>> rows(kc, std::vector<T>(nr));
      std::vector<const T*> ptr(kc);
      for (std::size_t p = 0; p < kc; ++p) {
        std::vector<T>& row = rows[kc - 1 - p];
        for (std::size_t j = 0; j < nr; ++j) row[j] = b[p * nr + j];
        ptr[p] = row.data();
      }
      if (variant == Variant::bptr) {
        gemm_bptr<T>(kc, a.data(), ptr.data(), c.data(), ldc);  // dispatched per call
      } else {
        bptr_kernel<T>(BptrTile::narrow)(kc, a.data(), ptr.data(), c.data(), ldc);
      }
      break;
    }
    case Variant::bptr_offsets: {
      // The narrow tile's three vectors of row p out of order and apart inside one row buffer:
      // vector 0 at lanes + 1 + 2 lanes + 2, vector 1 at 0, vector 2 at lanes + 1.
      const auto lanes = static_cast<std::ptrdiff_t>(nr / 3);
      const std::ptrdiff_t voff[3] = {2 * lanes + 3, 0, lanes + 1};
      std::vector<std::vector<T>> rows(kc, std::vector<T>(3 * nr, T(-99)));
      std::vector<const T*> ptr(kc);
      for (std::size_t p = 0; p < kc; ++p) {
        for (std::size_t j = 0; j < nr; ++j)
          rows[p][static_cast<std::size_t>(voff[j / lanes]) + j % lanes] = b[p * nr + j];
        ptr[p] = rows[p].data();
      }
      bptr_kernel<T>(BptrTile::narrow)(kc, a.data(), ptr.data(), voff, c.data(), ldc);
      break;
    }
    case Variant::bptr_table: {
      // Rows at base + row_off[p] inside one buffer, in reverse order and 5 values apart.
      std::vector<T> store(kc * (nr + 5) + 1, T(-99));
      std::vector<std::ptrdiff_t> row_off(kc);
      for (std::size_t p = 0; p < kc; ++p) {
        row_off[p] = static_cast<std::ptrdiff_t>((kc - 1 - p) * (nr + 5) + 1);
        for (std::size_t j = 0; j < nr; ++j)
          store[static_cast<std::size_t>(row_off[p]) + j] = b[p * nr + j];
      }
      bptr_kernel<T>(BptrTile::narrow)(kc, a.data(), static_cast<const T*>(store.data()),
                                       row_off.data(), nullptr, c.data(), ldc);
      break;
    }
    case Variant::bptr_seeded: {
      // The table form with a seed: C's first column supplies each row's start, which the
      // kernel must use in every column instead of C's values (overwritten with garbage here).
      std::vector<T> store(kc * nr + 1, T(-99));
      std::vector<std::ptrdiff_t> row_off(kc);
      for (std::size_t p = 0; p < kc; ++p) {
        row_off[p] = static_cast<std::ptrdiff_t>(p * nr);
        for (std::size_t j = 0; j < nr; ++j) store[p * nr + j] = b[p * nr + j];
      }
      std::vector<T> seed(mr);
      for (std::size_t i = 0; i < mr; ++i) {
        seed[i] = c[i * ldc];
        for (std::size_t j = 0; j < nr; ++j) {
          want[i * ldc + j] += seed[i] - c[i * ldc + j];
          c[i * ldc + j] = T(12345);
        }
      }
      bptr_kernel<T>(BptrTile::narrow)(kc, a.data(), static_cast<const T*>(store.data()),
                                       row_off.data(), seed.data(), c.data(), ldc);
      break;
    }
  }

  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < mr * ldc; ++i)
    if (c[i] != want[i] && bad++ == 0) first = i;
  EXPECT_EQ(bad, 0u) << isa_name() << " " << name(variant) << " " << mr << "x" << nr
                     << " kc=" << kc << " ldc=" << ldc << ": first bad at row " << first / ldc
                     << " col " << first % ldc << " got " << c[first] << " want " << want[first];
}

std::vector<std::size_t> reduction_lengths() {
  std::vector<std::size_t> kcs;
  for (std::size_t kc = 1; kc <= 17; ++kc) kcs.push_back(kc);
  for (std::size_t kc : {31, 32, 33, 255, 256, 257}) kcs.push_back(kc);
  return kcs;
}

template <class T>
void check_all_variants() {
  for (std::int64_t target : targets()) {
    const OnlyTarget only(target);
    SCOPED_TRACE(hwy::TargetName(target));
    EXPECT_STREQ(isa_name(), hwy::TargetName(target));
    const TileShape ts = tile_shape(sizeof(T) == 4 ? DType::f32 : DType::f64);
    // The tile must fit the registers of the target (see gemm_tile.cc): at most 12 rows of two
    // vectors, and nr is exactly two vectors.
    EXPECT_GE(ts.mr, 1u);
    EXPECT_LE(ts.mr, 12u);
    EXPECT_EQ(ts.nr % 2, 0u);
    for (Variant v :
         {Variant::packed, Variant::rows, Variant::cols, Variant::bptr, Variant::bptr_narrow,
          Variant::bptr_offsets, Variant::bptr_table, Variant::bptr_seeded})
      for (std::size_t kc : reduction_lengths())
        for (std::size_t extra : {std::size_t{0}, ts.nr, std::size_t{3}}) check_tile<T>(v, kc, extra);
  }
}

TEST(Kernels, GemmTileF32MatchesScalarOnEveryTarget) { check_all_variants<float>(); }
TEST(Kernels, GemmTileF64MatchesScalarOnEveryTarget) { check_all_variants<double>(); }

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

}  // namespace
}  // namespace convnd::kernels
