// Highway implementation of gemm_tile.h, compiled once per target by foreach_target.h.
//
// # Tile size
// Zen 4 runs 2 FMA per cycle with 4 cycles latency, so >= 8 independent accumulators keep both
// pipes busy; more hide the broadcast loads. With 32 vector registers (AVX-512) a 12 x 2-vector
// tile holds 24 accumulators + 2 B vectors + 1 broadcast = 27 registers. With 16 registers
// (AVX2, SSE4) 24 accumulators spill, so those targets use 6 x 2 vectors (12 + 3 = 15).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_tile.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/gemm_tile.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr std::size_t kRows = 12;
#else
constexpr std::size_t kRows = 6;
#endif

// Row i of the tile: acc0_i, acc1_i (two vectors of nr / 2 lanes each).
#define CONVND_ROWS_6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define CONVND_ROWS_12(X) CONVND_ROWS_6(X) X(6) X(7) X(8) X(9) X(10) X(11)

// A is read through `at(p, i)`: element (reduction index p, row i). The three public variants
// differ only in where A lives: a packed panel, mr row pointers, or kc column pointers.
template <class T, class AAt>
HWY_INLINE void Tile(std::size_t kc, AAt at, const T* HWY_RESTRICT b, T* HWY_RESTRICT c,
                     std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
#define CONVND_LOAD(i)                        \
  auto acc0_##i = hn::LoadU(d, c + i * ldc); \
  auto acc1_##i = hn::LoadU(d, c + i * ldc + N);
#define CONVND_FMA(i)                            \
  {                                              \
    const auto ai = hn::Set(d, at(p, i));        \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i);     \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i);     \
  }
#define CONVND_STORE(i)                  \
  hn::StoreU(acc0_##i, d, c + i * ldc); \
  hn::StoreU(acc1_##i, d, c + i * ldc + N);
  if constexpr (kRows == 12) {
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
HWY_INLINE void TilePacked(std::size_t kc, const T* HWY_RESTRICT a, const T* b, T* c,
                           std::size_t ldc) {
  Tile<T>(kc, [a](std::size_t p, std::size_t i) { return a[p * kRows + i]; }, b, c, ldc);
}
template <class T>
HWY_INLINE void TileRows(std::size_t kc, const T* const* HWY_RESTRICT rows, const T* b, T* c,
                         std::size_t ldc) {
  Tile<T>(kc, [rows](std::size_t p, std::size_t i) { return rows[i][p]; }, b, c, ldc);
}
template <class T>
HWY_INLINE void TileCols(std::size_t kc, const T* const* HWY_RESTRICT cols, const T* b, T* c,
                         std::size_t ldc) {
  Tile<T>(kc, [cols](std::size_t p, std::size_t i) { return cols[p][i]; }, b, c, ldc);
}

void GemmTileF32(std::size_t kc, const float* a, const float* b, float* c, std::size_t ldc) {
  TilePacked<float>(kc, a, b, c, ldc);
}
void GemmTileF64(std::size_t kc, const double* a, const double* b, double* c, std::size_t ldc) {
  TilePacked<double>(kc, a, b, c, ldc);
}
void GemmTileRowsF32(std::size_t kc, const float* const* a, const float* b, float* c,
                     std::size_t ldc) {
  TileRows<float>(kc, a, b, c, ldc);
}
void GemmTileRowsF64(std::size_t kc, const double* const* a, const double* b, double* c,
                     std::size_t ldc) {
  TileRows<double>(kc, a, b, c, ldc);
}
void GemmTileColsF32(std::size_t kc, const float* const* a, const float* b, float* c,
                     std::size_t ldc) {
  TileCols<float>(kc, a, b, c, ldc);
}
void GemmTileColsF64(std::size_t kc, const double* const* a, const double* b, double* c,
                     std::size_t ldc) {
  TileCols<double>(kc, a, b, c, ldc);
}
// This target's three kernels with their tile (gemm_tile.h: TileKernel).
TileKernel<float> TileKernelF32() {
  return {kRows, 2 * hn::Lanes(hn::ScalableTag<float>()), &GemmTileF32, &GemmTileRowsF32,
          &GemmTileColsF32};
}
TileKernel<double> TileKernelF64() {
  return {kRows, 2 * hn::Lanes(hn::ScalableTag<double>()), &GemmTileF64, &GemmTileRowsF64,
          &GemmTileColsF64};
}
std::size_t RowsPerTile() { return kRows; }
std::size_t LanesF32() { return hn::Lanes(hn::ScalableTag<float>()); }
std::size_t LanesF64() { return hn::Lanes(hn::ScalableTag<double>()); }
const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(GemmTileF32);
HWY_EXPORT(GemmTileF64);
HWY_EXPORT(GemmTileRowsF32);
HWY_EXPORT(GemmTileRowsF64);
HWY_EXPORT(GemmTileColsF32);
HWY_EXPORT(GemmTileColsF64);
HWY_EXPORT(TileKernelF32);
HWY_EXPORT(TileKernelF64);
HWY_EXPORT(RowsPerTile);
HWY_EXPORT(LanesF32);
HWY_EXPORT(LanesF64);
HWY_EXPORT(TargetName);

TileShape tile_shape(DType dtype) {
  const std::size_t lanes = dtype == DType::f32 ? HWY_DYNAMIC_DISPATCH(LanesF32)()
                                                : HWY_DYNAMIC_DISPATCH(LanesF64)();
  return {HWY_DYNAMIC_DISPATCH(RowsPerTile)(), 2 * lanes};
}

const char* isa_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

TileKernel<float> tile_kernel_f32() { return HWY_DYNAMIC_DISPATCH(TileKernelF32)(); }
TileKernel<double> tile_kernel_f64() { return HWY_DYNAMIC_DISPATCH(TileKernelF64)(); }

void gemm_tile_f32(std::size_t kc, const float* a, const float* b, float* c, std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmTileF32)(kc, a, b, c, ldc);
}
void gemm_tile_f64(std::size_t kc, const double* a, const double* b, double* c, std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmTileF64)(kc, a, b, c, ldc);
}
void gemm_tile_rows_f32(std::size_t kc, const float* const* a, const float* b, float* c,
                        std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmTileRowsF32)(kc, a, b, c, ldc);
}
void gemm_tile_rows_f64(std::size_t kc, const double* const* a, const double* b, double* c,
                        std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmTileRowsF64)(kc, a, b, c, ldc);
}
void gemm_tile_cols_f32(std::size_t kc, const float* const* a, const float* b, float* c,
                        std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmTileColsF32)(kc, a, b, c, ldc);
}
void gemm_tile_cols_f64(std::size_t kc, const double* const* a, const double* b, double* c,
                        std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmTileColsF64)(kc, a, b, c, ldc);
}

}  // namespace convnd::kernels
#endif
