// Highway implementation of transpose.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/transpose.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/cache_control.h>
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

#if HWY_TARGET <= HWY_AVX3 && HWY_ARCH_X86
// AVX-512: whole-register blocks, 16 x 16 of f32 (8 x 8 of f64): 16 loads, 64 shuffles and 16
// stores where sixteen 4 x 4 blocks take 64, 128 and 64. A channel block of depthwise.cc's
// tiles (16 channels of a plane) was ~80 % transpose with the 4 x 4 blocks.
// u[g][c] (g, c < 4) hold, in 128-bit block b, column 4 b + c of rows 4 g .. 4 g + 3; output
// row 4 b + c gathers block b of u[0..3][c] (two rounds of 128-bit block shuffles).
HWY_INLINE void Gather4x4Blocks(const __m512 (&u)[4], float* HWY_RESTRICT dst, int64_t ds) {
  const __m512 v_lo = _mm512_shuffle_f32x4(u[0], u[1], 0x44), v_hi = _mm512_shuffle_f32x4(u[0], u[1], 0xEE);
  const __m512 w_lo = _mm512_shuffle_f32x4(u[2], u[3], 0x44), w_hi = _mm512_shuffle_f32x4(u[2], u[3], 0xEE);
  _mm512_storeu_ps(dst, _mm512_shuffle_f32x4(v_lo, w_lo, 0x88));
  _mm512_storeu_ps(dst + 4 * ds, _mm512_shuffle_f32x4(v_lo, w_lo, 0xDD));
  _mm512_storeu_ps(dst + 8 * ds, _mm512_shuffle_f32x4(v_hi, w_hi, 0x88));
  _mm512_storeu_ps(dst + 12 * ds, _mm512_shuffle_f32x4(v_hi, w_hi, 0xDD));
}

HWY_INLINE void Block16(const float* HWY_RESTRICT src, int64_t ss, float* HWY_RESTRICT dst,
                        int64_t ds) {
  __m512 u[4][4];
  for (int g = 0; g < 4; ++g) {
    const __m512 r0 = _mm512_loadu_ps(src + (4 * g) * ss), r1 = _mm512_loadu_ps(src + (4 * g + 1) * ss);
    const __m512 r2 = _mm512_loadu_ps(src + (4 * g + 2) * ss), r3 = _mm512_loadu_ps(src + (4 * g + 3) * ss);
    // Per 128-bit block: the 4 x 4 transpose of rows 4 g .. 4 g + 3.
    const __m512d t0 = _mm512_castps_pd(_mm512_unpacklo_ps(r0, r1));
    const __m512d t1 = _mm512_castps_pd(_mm512_unpackhi_ps(r0, r1));
    const __m512d t2 = _mm512_castps_pd(_mm512_unpacklo_ps(r2, r3));
    const __m512d t3 = _mm512_castps_pd(_mm512_unpackhi_ps(r2, r3));
    u[g][0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[g][1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[g][2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[g][3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 col[4] = {u[0][c], u[1][c], u[2][c], u[3][c]};
    Gather4x4Blocks(col, dst + c * ds, ds);
  }
}

// 8 x 8 of f64: t[2 k + c] holds, in 128-bit block b, column 2 b + c of rows 2 k, 2 k + 1;
// output row 2 b + c gathers block b of t[c], t[2 + c], t[4 + c], t[6 + c].
HWY_INLINE void Block8(const double* HWY_RESTRICT src, int64_t ss, double* HWY_RESTRICT dst,
                       int64_t ds) {
  __m512d t[8];
  for (int k = 0; k < 4; ++k) {
    const __m512d r0 = _mm512_loadu_pd(src + (2 * k) * ss), r1 = _mm512_loadu_pd(src + (2 * k + 1) * ss);
    t[2 * k] = _mm512_unpacklo_pd(r0, r1);
    t[2 * k + 1] = _mm512_unpackhi_pd(r0, r1);
  }
  for (int c = 0; c < 2; ++c) {
    const __m512d v_lo = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x44), v_hi = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xEE);
    const __m512d w_lo = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x44), w_hi = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xEE);
    _mm512_storeu_pd(dst + c * ds, _mm512_shuffle_f64x2(v_lo, w_lo, 0x88));
    _mm512_storeu_pd(dst + (2 + c) * ds, _mm512_shuffle_f64x2(v_lo, w_lo, 0xDD));
    _mm512_storeu_pd(dst + (4 + c) * ds, _mm512_shuffle_f64x2(v_hi, w_hi, 0x88));
    _mm512_storeu_pd(dst + (6 + c) * ds, _mm512_shuffle_f64x2(v_hi, w_hi, 0xDD));
  }
}

constexpr size_t kPrefetchAhead = 4;

// The B x B register blocks over the largest multiple of B in both directions, then the
// 128-bit blocks over the two remaining strips.
template <class T, size_t B, size_t B0, class BigFn, class SmallFn>
HWY_INLINE void TransposeBlocks(size_t rows, size_t cols, const T* src, int64_t ss, T* dst,
                                int64_t ds, BigFn big, SmallFn small) {
  const size_t rows_b = rows / B * B, cols_b = cols / B * B;
  for (size_t i = 0; i < rows_b; i += B) {
    const T* s = src + static_cast<int64_t>(i) * ss;
    for (size_t j = 0; j < cols_b; j += B) {
      // B source rows are B streams, more than the hardware prefetcher follows: each row's
      // line kPrefetchAhead blocks on is asked for now.
      if (j + kPrefetchAhead * B < cols)
        for (size_t r = 0; r < B; ++r)
          hwy::Prefetch(s + static_cast<int64_t>(r) * ss + j + kPrefetchAhead * B);
      big(s + j, ss, dst + static_cast<int64_t>(j) * ds + static_cast<int64_t>(i), ds);
    }
  }
  Transpose<T, B0>(rows_b, cols - cols_b, src + cols_b, ss, dst + static_cast<int64_t>(cols_b) * ds,
                   ds, small);
  Transpose<T, B0>(rows - rows_b, cols, src + static_cast<int64_t>(rows_b) * ss, ss,
                   dst + static_cast<int64_t>(rows_b), ds, small);
}

// Source rows a whole number of cache lines apart that start inside a line (a caller's tensor
// from malloc is 16 bytes past one): the first columns up to the line go through the 128-bit
// blocks, and every B x B block's row loads are then whole, aligned lines. Loads across two
// lines cost two: measured, 64 x 784 f32 (run_tiles' input at 64 channels of 28 x 28, into
// its aligned tile, L2-resident) from 16 bytes past a line ran at 50 GB/s, 59 with the peel
// (65 from an aligned source).
template <class T, size_t B, size_t B0, class BigFn, class SmallFn>
HWY_INLINE void TransposeWide(size_t rows, size_t cols, const T* src, int64_t ss, T* dst,
                              int64_t ds, BigFn big, SmallFn small) {
  constexpr int64_t kLine = 64 / sizeof(T);
  const size_t bytes = reinterpret_cast<std::uintptr_t>(src) % 64;
  size_t peel = 0;
  if (ss % kLine == 0 && bytes % sizeof(T) == 0 && cols >= 2 * B)
    peel = (64 - bytes) % 64 / sizeof(T);
  Transpose<T, B0>(rows, peel, src, ss, dst, ds, small);
  TransposeBlocks<T, B, B0>(rows, cols - peel, src + peel, ss,
                            dst + static_cast<int64_t>(peel) * ds, ds, big, small);
}

void TransposeF32(size_t rows, size_t cols, const float* src, int64_t ss, float* dst, int64_t ds) {
  TransposeWide<float, 16, 4>(rows, cols, src, ss, dst, ds, Block16, Block4);
}
void TransposeF64(size_t rows, size_t cols, const double* src, int64_t ss, double* dst,
                  int64_t ds) {
  TransposeWide<double, 8, 2>(rows, cols, src, ss, dst, ds, Block8, Block2);
}
#else
void TransposeF32(size_t rows, size_t cols, const float* src, int64_t ss, float* dst, int64_t ds) {
  Transpose<float, 4>(rows, cols, src, ss, dst, ds, Block4);
}
void TransposeF64(size_t rows, size_t cols, const double* src, int64_t ss, double* dst,
                  int64_t ds) {
  Transpose<double, 2>(rows, cols, src, ss, dst, ds, Block2);
}
#endif

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
