// The body of the batch-reduce kernel (gemm_batch_rows of gemm_kernels.inc), included once per
// target by gemm_kernels.cc; the guard below lets each target's pass in.
//
// # Why a batch-reduce form
// A direct convolution is, per tile of mr output positions and nr output channels, a sum over
// (kernel tap, channel block) pairs of A_i^T . B_i: A_i the mr input rows that tap reads (in
// place, channels-last), B_i that tap's packed weights. gemm_tile_rows runs one pair per call,
// so the accumulators go through memory once per pair (9 taps x 2 slices = 18 loads and stores
// of C on a 3x3, 512-channel layer). Here the tile stays in registers for the whole list, and C
// is written once (after libxsmm's and oneDNN's BRGEMM, Georganas et al., IPDPS 2020).
//
// The tile is gemm_tile's (kTileRows x 2 vectors: 27 of 32 registers on AVX-512, 15 of 16 on
// AVX2); the mr row pointers of a pair are loaded into general registers once per pair.
#if defined(CONVND_KERNELS_GEMM_BATCH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVND_KERNELS_GEMM_BATCH_INL_H_
#undef CONVND_KERNELS_GEMM_BATCH_INL_H_
#else
#define CONVND_KERNELS_GEMM_BATCH_INL_H_
#endif

#include <hwy/highway.h>

#include "kernels/gemm_tile-inl.h"  // kTileRows, CONVND_ROWS_*

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// C[mr x nr] (+)= sum over pairs q < n of A_q^T . B_q, A_q's row i at a[q * mr + i] (kc values),
// B_q at b[q] (kc rows of nr). seed: null (C is read and added to) or nr values that every row
// starts at (C is only written).
template <class T>
void gemm_batch_rows(std::size_t n, std::size_t kc, const T* const* HWY_RESTRICT a,
                     const T* const* HWY_RESTRICT b, const T* HWY_RESTRICT seed, T* c,
                     std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
#define CONVND_LOAD(i)                                           \
  auto acc0_##i = seed ? s0 : hn::LoadU(d, c + i * ldc);        \
  auto acc1_##i = seed ? s1 : hn::LoadU(d, c + i * ldc + N);
#define CONVND_ROW(i) const T* HWY_RESTRICT r##i = rows[i];
#define CONVND_FMA(i)                        \
  {                                          \
    const auto ai = hn::Set(d, r##i[p]);     \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i); \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i); \
  }
#define CONVND_STORE(i)                 \
  hn::StoreU(acc0_##i, d, c + i * ldc); \
  hn::StoreU(acc1_##i, d, c + i * ldc + N);
#define CONVND_BATCH(ROWS)                                  \
  ROWS(CONVND_LOAD)                                         \
  for (std::size_t q = 0; q < n; ++q) {                     \
    const T* const* rows = a + q * kTileRows;               \
    ROWS(CONVND_ROW)                                        \
    const T* HWY_RESTRICT bq = b[q];                        \
    for (std::size_t p = 0; p < kc; ++p) {                  \
      const auto b0 = hn::LoadU(d, bq + p * 2 * N);         \
      const auto b1 = hn::LoadU(d, bq + p * 2 * N + N);     \
      ROWS(CONVND_FMA)                                      \
    }                                                       \
  }                                                         \
  ROWS(CONVND_STORE)
  const auto s0 = seed ? hn::LoadU(d, seed) : hn::Zero(d);
  const auto s1 = seed ? hn::LoadU(d, seed + N) : hn::Zero(d);
  if constexpr (kTileRows == 12) {
    CONVND_BATCH(CONVND_ROWS_12)
  } else {
    CONVND_BATCH(CONVND_ROWS_6)
  }
#undef CONVND_LOAD
#undef CONVND_ROW
#undef CONVND_FMA
#undef CONVND_STORE
#undef CONVND_BATCH
}

// The narrow tile: kBatchNarrowRows x 3 vectors (7 x 3 = 21 accumulators + 3 B vectors + 1
// broadcast = 25 of 32 registers on AVX-512; 3 x 3 = 13 of 16 elsewhere), for layers whose
// positions a 12-row tile would leave partly empty: a 7x7 output is 7 tiles of 7 rows, against 5
// of 12 with 11 rows of padding. Written with accumulator arrays over compile-time loops, which
// the compiler unrolls and keeps in registers.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr std::size_t kBatchNarrowRows = 7;
#else
constexpr std::size_t kBatchNarrowRows = 3;
#endif

template <class T>
void gemm_batch_rows_narrow(std::size_t n, std::size_t kc, const T* const* HWY_RESTRICT a,
                            const T* const* HWY_RESTRICT b, const T* HWY_RESTRICT seed, T* c,
                            std::size_t ldc) {
  constexpr std::size_t R = kBatchNarrowRows, V = 3;
  const hn::ScalableTag<T> d;
  using Vec = hn::Vec<decltype(d)>;
  const std::size_t N = hn::Lanes(d);
  Vec acc[R][V];
#pragma GCC unroll 8
  for (std::size_t i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v)
      acc[i][v] = seed ? hn::LoadU(d, seed + v * N) : hn::LoadU(d, c + i * ldc + v * N);
  for (std::size_t q = 0; q < n; ++q) {
    const T* HWY_RESTRICT r[R];
#pragma GCC unroll 8
    for (std::size_t i = 0; i < R; ++i) r[i] = a[q * R + i];
    const T* HWY_RESTRICT bq = b[q];
    for (std::size_t p = 0; p < kc; ++p) {
      Vec bv[V];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) bv[v] = hn::LoadU(d, bq + p * V * N + v * N);
#pragma GCC unroll 8
      for (std::size_t i = 0; i < R; ++i) {
        const Vec ai = hn::Set(d, r[i][p]);
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[i][v] = hn::MulAdd(ai, bv[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) hn::StoreU(acc[i][v], d, c + i * ldc + v * N);
}

// The single-vector tile: kBatchSingleRows x 1 vector (24 accumulators + 1 B vector of 32
// registers on AVX-512; 12 of 16 elsewhere), for groups of at most one vector of output
// channels: 16 channels per group (unet3d_c16) fill every lane of it, where the 2-vector tiles
// leave half of their lanes empty. The rows go in three bands of 8 per kernel step, so the row
// pointers of a band fit the general registers and each B vector is loaded once per band
// (9 loads for 8 FMAs). kernel_bench, AVX-512, kc 256: 75 % of the FMA peak (the wide tile 93 %),
// so 1.6x the wide tile's useful work where that one is half empty.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr std::size_t kBatchSingleRows = 24;
#else
constexpr std::size_t kBatchSingleRows = 12;
#endif

template <class T>
void gemm_batch_rows_single(std::size_t n, std::size_t kc, const T* const* HWY_RESTRICT a,
                            const T* const* HWY_RESTRICT b, const T* HWY_RESTRICT seed, T* c,
                            std::size_t ldc) {
  constexpr std::size_t R = kBatchSingleRows, kBand = R / 3;
  const hn::ScalableTag<T> d;
  using Vec = hn::Vec<decltype(d)>;
  const std::size_t N = hn::Lanes(d);
  Vec acc[R];
#pragma GCC unroll 24
  for (std::size_t i = 0; i < R; ++i)
    acc[i] = seed ? hn::LoadU(d, seed) : hn::LoadU(d, c + i * ldc);
  for (std::size_t q = 0; q < n; ++q) {
    const T* HWY_RESTRICT bq = b[q];
#pragma GCC unroll 3
    for (std::size_t band = 0; band < 3; ++band) {
      const T* HWY_RESTRICT r[kBand];
#pragma GCC unroll 8
      for (std::size_t i = 0; i < kBand; ++i) r[i] = a[q * R + band * kBand + i];
      for (std::size_t p = 0; p < kc; ++p) {
        const Vec bv = hn::LoadU(d, bq + p * N);
#pragma GCC unroll 8
        for (std::size_t i = 0; i < kBand; ++i)
          acc[band * kBand + i] = hn::MulAdd(hn::Set(d, r[i][p]), bv, acc[band * kBand + i]);
      }
    }
  }
#pragma GCC unroll 24
  for (std::size_t i = 0; i < R; ++i) hn::StoreU(acc[i], d, c + i * ldc);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#endif  // CONVND_KERNELS_GEMM_BATCH_INL_H_
