// Highway implementation of transpose.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/transpose.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/transpose.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using std::int64_t;
using std::size_t;

#if HWY_TARGET == HWY_SCALAR
// No 128-bit vectors on this target: the blocks element by element.
template <class T, size_t B>
HWY_INLINE void BlockScalar(const T* HWY_RESTRICT src, int64_t ss, T* HWY_RESTRICT dst,
                            int64_t ds) {
  for (size_t i = 0; i < B; ++i)
    for (size_t j = 0; j < B; ++j)
      dst[static_cast<int64_t>(j) * ds + static_cast<int64_t>(i)] =
          src[static_cast<int64_t>(i) * ss + static_cast<int64_t>(j)];
}
HWY_INLINE void Block4(const float* src, int64_t ss, float* dst, int64_t ds) {
  BlockScalar<float, 4>(src, ss, dst, ds);
}
HWY_INLINE void Block2(const double* src, int64_t ss, double* dst, int64_t ds) {
  BlockScalar<double, 2>(src, ss, dst, ds);
}
#else
// The 4 x 4 block at src (rows src_stride apart) into dst (rows dst_stride apart).
HWY_INLINE void Block4(const float* HWY_RESTRICT src, int64_t ss, float* HWY_RESTRICT dst,
                       int64_t ds) {
  const hn::Full128<float> d;
  const auto r0 = hn::LoadU(d, src), r1 = hn::LoadU(d, src + ss);
  const auto r2 = hn::LoadU(d, src + 2 * ss), r3 = hn::LoadU(d, src + 3 * ss);
  const auto t0 = hn::InterleaveLower(d, r0, r1);  // r0[0] r1[0] r0[1] r1[1]
  const auto t1 = hn::InterleaveLower(d, r2, r3);  // r2[0] r3[0] r2[1] r3[1]
  const auto t2 = hn::InterleaveUpper(d, r0, r1);  // r0[2] r1[2] r0[3] r1[3]
  const auto t3 = hn::InterleaveUpper(d, r2, r3);  // r2[2] r3[2] r2[3] r3[3]
  hn::StoreU(hn::ConcatLowerLower(d, t1, t0), d, dst);
  hn::StoreU(hn::ConcatUpperUpper(d, t1, t0), d, dst + ds);
  hn::StoreU(hn::ConcatLowerLower(d, t3, t2), d, dst + 2 * ds);
  hn::StoreU(hn::ConcatUpperUpper(d, t3, t2), d, dst + 3 * ds);
}

HWY_INLINE void Block2(const double* HWY_RESTRICT src, int64_t ss, double* HWY_RESTRICT dst,
                       int64_t ds) {
  const hn::Full128<double> d;
  const auto r0 = hn::LoadU(d, src), r1 = hn::LoadU(d, src + ss);
  hn::StoreU(hn::InterleaveLower(d, r0, r1), d, dst);
  hn::StoreU(hn::InterleaveUpper(d, r0, r1), d, dst + ds);
}
#endif

template <class T, size_t B, class BlockFn>
HWY_INLINE void Transpose(size_t rows, size_t cols, const T* src, int64_t ss, T* dst, int64_t ds,
                          BlockFn block) {
  const size_t rows_b = rows / B * B, cols_b = cols / B * B;
  // Bands of B source rows; across a band, the B-wide strips of dst rows it writes stay in L1.
  for (size_t i = 0; i < rows_b; i += B) {
    const T* s = src + static_cast<int64_t>(i) * ss;
    for (size_t j = 0; j < cols_b; j += B)
      block(s + j, ss, dst + static_cast<int64_t>(j) * ds + static_cast<int64_t>(i), ds);
    for (size_t j = cols_b; j < cols; ++j)
      for (size_t r = i; r < i + B; ++r)
        dst[static_cast<int64_t>(j) * ds + static_cast<int64_t>(r)] =
            src[static_cast<int64_t>(r) * ss + static_cast<int64_t>(j)];
  }
  for (size_t i = rows_b; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j)
      dst[static_cast<int64_t>(j) * ds + static_cast<int64_t>(i)] =
          src[static_cast<int64_t>(i) * ss + static_cast<int64_t>(j)];
}

void TransposeF32(size_t rows, size_t cols, const float* src, int64_t ss, float* dst, int64_t ds) {
  Transpose<float, 4>(rows, cols, src, ss, dst, ds, Block4);
}
void TransposeF64(size_t rows, size_t cols, const double* src, int64_t ss, double* dst,
                  int64_t ds) {
  Transpose<double, 2>(rows, cols, src, ss, dst, ds, Block2);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(TransposeF32);
HWY_EXPORT(TransposeF64);

void transpose_f32(std::size_t rows, std::size_t cols, const float* src, std::int64_t src_stride,
                   float* dst, std::int64_t dst_stride) {
  HWY_DYNAMIC_DISPATCH(TransposeF32)(rows, cols, src, src_stride, dst, dst_stride);
}
void transpose_f64(std::size_t rows, std::size_t cols, const double* src, std::int64_t src_stride,
                   double* dst, std::int64_t dst_stride) {
  HWY_DYNAMIC_DISPATCH(TransposeF64)(rows, cols, src, src_stride, dst, dst_stride);
}

}  // namespace convnd::kernels
#endif
