// The Winograd kernels of winograd_transform.h against scalar loops, once per Highway target this
// build compiled and this CPU runs (test_winograd.cc checks them on the dispatched target only,
// and one against the other):
//   winograd_apply, winograd_apply_known: every compiled-in matrix, ranks 1..3, lane counts
//     with and without a vector tail, against the axis-by-axis product in double (within
//     rounding: the matrices hold fractions), and the two kernels bitwise against each other;
//   winograd_gather, winograd_gather_strided: exact, counts around the vector widths, padding
//     indices, negative and wide strides.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "kernels/winograd_transform.h"
#include "only_target.h"

namespace convnd::kernels {
namespace {

constexpr WinogradMatrix kMatrices[] = {
    WinogradMatrix::bt2, WinogradMatrix::bt4, WinogradMatrix::bt6, WinogradMatrix::at2,
    WinogradMatrix::at4, WinogradMatrix::at6, WinogradMatrix::gw2, WinogradMatrix::gw4};

// dst = M applied along each of `rank` axes of src (cols^rank x lanes), in double; with
// `absolute`, |M| applied to |src| (the scale of the rounding error).
std::vector<double> apply_scalar(const FixedView& m, int rank, std::size_t lanes,
                                 const std::vector<double>& src, bool absolute) {
  std::vector<double> cur(src);
  if (absolute)
    for (double& v : cur) v = std::fabs(v);
  // Shape before axis a: rows^a x cols^(rank - a) x lanes.
  std::size_t outer = 1;
  for (int a = 0; a < rank; ++a) {
    std::size_t inner = lanes;
    for (int b = a + 1; b < rank; ++b) inner *= static_cast<std::size_t>(m.cols);
    const auto rows = static_cast<std::size_t>(m.rows), cols = static_cast<std::size_t>(m.cols);
    std::vector<double> next(outer * rows * inner, 0.0);
    for (std::size_t o = 0; o < outer; ++o)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
          const double k = absolute ? std::fabs(m.v[r * cols + c]) : m.v[r * cols + c];
          for (std::size_t i = 0; i < inner; ++i)
            next[(o * rows + r) * inner + i] += k * cur[(o * cols + c) * inner + i];
        }
    cur.swap(next);
    outer *= rows;
  }
  return cur;
}

template <class T>
void check_transforms(const char* target) {
  for (WinogradMatrix which : kMatrices) {
    const FixedView m = winograd_fixed_matrix(which);
    const std::vector<T> coef(m.v, m.v + m.rows * m.cols);
    for (int rank = 1; rank <= 3; ++rank)
      for (std::size_t lanes : {1u, 3u, 8u, 12u, 16u, 17u, 35u}) {
        SCOPED_TRACE(::testing::Message() << target << " matrix " << static_cast<int>(which)
                                          << " rank " << rank << " lanes " << lanes);
        std::size_t n = lanes, in = lanes, out = lanes;
        for (int a = 0; a < rank; ++a) {
          n *= static_cast<std::size_t>(std::max(m.rows, m.cols));
          in *= static_cast<std::size_t>(m.cols);
          out *= static_cast<std::size_t>(m.rows);
        }
        std::vector<T> src(n, T(0)), generic(n), known(n), t1(n), t2(n);
        std::vector<double> src_d(in);
        for (std::size_t i = 0; i < in; ++i) {
          src[i] = static_cast<T>(static_cast<int>((i * 7 + 3) % 17) - 8);
          src_d[i] = static_cast<double>(src[i]);
        }
        winograd_apply<T>(rank, m.rows, m.cols, coef.data(), lanes, src.data(), generic.data(),
                          t1.data());
        winograd_apply_known<T>(which, rank, lanes, src.data(), known.data(), t2.data());
        const std::vector<double> want = apply_scalar(m, rank, lanes, src_d, false);
        const std::vector<double> scale = apply_scalar(m, rank, lanes, src_d, true);
        // Each output is rank rounds of a sum of at most cols products (and coef in T rounded).
        const double eps = std::numeric_limits<T>::epsilon();
        const double terms = static_cast<double>(rank * (m.cols + 1));
        std::size_t bad = 0, first = 0;
        for (std::size_t i = 0; i < out; ++i) {
          ASSERT_EQ(generic[i], known[i]) << "generic and compiled-in differ at " << i;
          if (std::fabs(static_cast<double>(known[i]) - want[i]) > terms * eps * scale[i] &&
              bad++ == 0)
            first = i;
        }
        EXPECT_EQ(bad, 0u) << bad << " of " << out << " wrong, the first at " << first << ": got "
                           << known[first] << " want " << want[first];
      }
  }
}

template <class T, class Index>
void check_gathers(const char* target) {
  for (std::size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 64u, 65u}) {
    SCOPED_TRACE(::testing::Message() << target << " n " << n);
    std::vector<T> base(4 * n + 8);
    for (std::size_t i = 0; i < base.size(); ++i)
      base[i] = static_cast<T>(static_cast<int>(i % 23) - 11);
    // Indices in a scattered order, every third one padding (< 0).
    std::vector<Index> idx(n);
    for (std::size_t i = 0; i < n; ++i)
      idx[i] = i % 3 == 2 ? Index(-1) : static_cast<Index>((i * 5 + 1) % base.size());
    std::vector<T> dst(n, T(99));
    winograd_gather<T>(n, base.data(), idx.data(), dst.data());
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(dst[i], idx[i] < 0 ? T(0) : base[static_cast<std::size_t>(idx[i])]) << "at " << i;

    for (std::int64_t stride : {1, 3, -2, 4}) {
      const T* origin = stride < 0 ? base.data() + 2 * (n - 1) : base.data();
      std::vector<T> strided(n, T(99));
      winograd_gather_strided<T>(n, origin, stride, strided.data());
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(strided[i], origin[static_cast<std::int64_t>(i) * stride])
            << "stride " << stride << " at " << i;
    }
  }
}

template <class T, class Index>
void check_every_target() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    const OnlyTarget only(target);
    check_transforms<T>(hwy::TargetName(target));
    check_gathers<T, Index>(hwy::TargetName(target));
  }
}

TEST(WinogradKernels, F32MatchScalarOnEveryTarget) { check_every_target<float, std::int32_t>(); }
TEST(WinogradKernels, F64MatchScalarOnEveryTarget) { check_every_target<double, std::int64_t>(); }

// The kernels check_transforms and check_gathers compare with scalar loops. A kernel added to
// winograd_kernels.inc fails this test until it has a check above and its name here.
TEST(WinogradKernels, EveryListedKernelIsTested) {
  const std::set<std::string> checked = {"winograd_apply", "winograd_apply_known",
                                         "winograd_gather", "winograd_gather_strided"};
  const char* const listed[] = {
#define CONVND_WINOGRAD_KERNEL(name, body, ret, ...) #name,
#include "kernels/winograd_kernels.inc"
#undef CONVND_WINOGRAD_KERNEL
  };
  for (const char* name : listed)
    EXPECT_EQ(checked.count(name), 1u)
        << name << " is in winograd_kernels.inc but has no check here";
}

}  // namespace
}  // namespace convnd::kernels
