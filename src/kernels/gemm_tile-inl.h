// The bodies of gemm_tile.h's kernels (gemm_tile, gemm_tile_rows, gemm_tile_cols of
// gemm_kernels.inc), included once per target by gemm_kernels.cc; the guard below lets each
// target's pass in, as Highway's -inl.h headers do.
//
// # Tile size
// Zen 4 runs 2 FMA per cycle with 4 cycles latency, so >= 8 independent accumulators keep both
// pipes busy; more hide the broadcast loads. With 32 vector registers (AVX-512) a 12 x 2-vector
// tile holds 24 accumulators + 2 B vectors + 1 broadcast = 27 registers. With 16 registers
// (AVX2, SSE4) 24 accumulators spill, so those targets use 6 x 2 vectors (12 + 3 = 15).
#if defined(CONVND_KERNELS_GEMM_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVND_KERNELS_GEMM_TILE_INL_H_
#undef CONVND_KERNELS_GEMM_TILE_INL_H_
#else
#define CONVND_KERNELS_GEMM_TILE_INL_H_
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr std::size_t kTileRows = 12;
#else
constexpr std::size_t kTileRows = 6;
#endif

// Row i of the tile: acc0_i, acc1_i (two vectors of nr / 2 lanes each).
#define CONVND_ROWS_6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define CONVND_ROWS_12(X) CONVND_ROWS_6(X) X(6) X(7) X(8) X(9) X(10) X(11)

// A is read through `at(p, i)`: element (reduction index p, row i). The three kernels differ
// only in where A lives: a packed panel, mr row pointers, or kc column pointers. With a seed
// (nr values, one per column), every row starts at it instead of at C's values, and C is only
// written: a reduction's first slice needs no pass that fills C with the bias first.
template <class T, class AAt>
HWY_INLINE void Tile(std::size_t kc, AAt at, const T* HWY_RESTRICT b, const T* HWY_RESTRICT seed,
                     T* HWY_RESTRICT c, std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
#define CONVND_LOAD(i)                                                   \
  auto acc0_##i = seed ? hn::LoadU(d, seed) : hn::LoadU(d, c + i * ldc); \
  auto acc1_##i = seed ? hn::LoadU(d, seed + N) : hn::LoadU(d, c + i * ldc + N);
#define CONVND_FMA(i)                        \
  {                                          \
    const auto ai = hn::Set(d, at(p, i));    \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i); \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i); \
  }
#define CONVND_STORE(i)                 \
  hn::StoreU(acc0_##i, d, c + i * ldc); \
  hn::StoreU(acc1_##i, d, c + i * ldc + N);
  if constexpr (kTileRows == 12) {
    CONVND_ROWS_12(CONVND_LOAD)
    for (std::size_t p = 0; p < kc; ++p) {
      const auto b0 = hn::LoadU(d, b + p * 2 * N);
      const auto b1 = hn::LoadU(d, b + p * 2 * N + N);
      CONVND_ROWS_12(CONVND_FMA)
    }
    CONVND_ROWS_12(CONVND_STORE)
  } else {
    CONVND_ROWS_6(CONVND_LOAD)
    for (std::size_t p = 0; p < kc; ++p) {
      const auto b0 = hn::LoadU(d, b + p * 2 * N);
      const auto b1 = hn::LoadU(d, b + p * 2 * N + N);
      CONVND_ROWS_6(CONVND_FMA)
    }
    CONVND_ROWS_6(CONVND_STORE)
  }
#undef CONVND_LOAD
#undef CONVND_FMA
#undef CONVND_STORE
}

template <class T>
void gemm_tile(std::size_t kc, const T* HWY_RESTRICT a, const T* b, T* c, std::size_t ldc) {
  Tile<T>(
      kc, [a](std::size_t p, std::size_t i) { return a[p * kTileRows + i]; }, b, nullptr, c, ldc);
}
template <class T>
void gemm_tile_rows(std::size_t kc, const T* const* HWY_RESTRICT rows, const T* b, T* c,
                    std::size_t ldc) {
  Tile<T>(
      kc, [rows](std::size_t p, std::size_t i) { return rows[i][p]; }, b, nullptr, c, ldc);
}
template <class T>
void gemm_tile_cols(std::size_t kc, const T* const* HWY_RESTRICT cols, const T* b, T* c,
                    std::size_t ldc) {
  Tile<T>(
      kc, [cols](std::size_t p, std::size_t i) { return cols[p][i]; }, b, nullptr, c, ldc);
}
// gemm_tile_rows and gemm_tile_cols with a seed per column (null: C's values).
template <class T>
void gemm_tile_rows_seeded(std::size_t kc, const T* const* HWY_RESTRICT rows, const T* b,
                           const T* seed, T* c, std::size_t ldc) {
  Tile<T>(
      kc, [rows](std::size_t p, std::size_t i) { return rows[i][p]; }, b, seed, c, ldc);
}
template <class T>
void gemm_tile_cols_seeded(std::size_t kc, const T* const* HWY_RESTRICT cols, const T* b,
                           const T* seed, T* c, std::size_t ldc) {
  Tile<T>(
      kc, [cols](std::size_t p, std::size_t i) { return cols[p][i]; }, b, seed, c, ldc);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#endif  // CONVND_KERNELS_GEMM_TILE_INL_H_
