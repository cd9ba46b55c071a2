// Highway implementation of gemm_bptr.h, compiled once per target by foreach_target.h.
//
// Register budget (32 vector registers on AVX-512, 16 on AVX2/SSE4):
//   wide   12 x 2 vectors: 24 accumulators + 2 B vectors + 1 broadcast = 27 (6 x 2 = 15 on 16);
//   narrow  8 x 3 vectors: 24 accumulators + 3 B vectors + 1 broadcast = 28 (4 x 3 = 16 on 16).
// Per reduction step the wide tile loads 2 vectors and broadcasts 12 values for 24 FMAs, the
// narrow one loads 3 and broadcasts 8 for the same 24.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_bptr.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/gemm_bptr.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr std::size_t kWideRows = 12;
constexpr std::size_t kNarrowRows = 8;
#else
constexpr std::size_t kWideRows = 6;
constexpr std::size_t kNarrowRows = 4;
#endif

// The wide tile prefetches B rows this many steps ahead: pointwise.cc reads each row from another
// channel's plane, too many streams for the hardware prefetchers to follow. The narrow tile
// does not: its callers read B rows that the previous channel block or tap already brought into
// L1 or L2, and there the prefetch instructions only cost issue slots. (Both measured:
// docs/measurements.md.)
constexpr std::size_t kAhead = 8;

#define CONVND_BPTR_ROWS_4(X) X(0) X(1) X(2) X(3)
#define CONVND_BPTR_ROWS_6(X) CONVND_BPTR_ROWS_4(X) X(4) X(5)
#define CONVND_BPTR_ROWS_8(X) CONVND_BPTR_ROWS_6(X) X(6) X(7)
#define CONVND_BPTR_ROWS_12(X) CONVND_BPTR_ROWS_8(X) X(8) X(9) X(10) X(11)

// Prefetches the B row kAhead steps on (its first two cache lines; a 3-vector f32 row on
// AVX-512 spans up to four, the rest follow the first into the line fill buffers soon enough).
template <class T, class RowAt>
HWY_INLINE void PrefetchAhead(const RowAt& row_at, std::size_t p, std::size_t kc) {
  const T* ahead = row_at(p + kAhead < kc ? p + kAhead : p);
  __builtin_prefetch(ahead);
  __builtin_prefetch(ahead + 64 / sizeof(T));
}

template <class T>
HWY_INLINE void TileWide(std::size_t kc, const T* HWY_RESTRICT a, const T* const* HWY_RESTRICT b,
                         T* HWY_RESTRICT c, std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
#define CONVND_LOAD(i)                        \
  auto acc0_##i = hn::LoadU(d, c + i * ldc); \
  auto acc1_##i = hn::LoadU(d, c + i * ldc + N);
#define CONVND_FMA(i)                                 \
  {                                                   \
    const auto ai = hn::Set(d, a[p * kWideRows + i]); \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i);          \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i);          \
  }
#define CONVND_STORE(i)                  \
  hn::StoreU(acc0_##i, d, c + i * ldc); \
  hn::StoreU(acc1_##i, d, c + i * ldc + N);
  const auto row_at = [b](std::size_t p) { return b[p]; };
#define CONVND_LOOP(ROWS)                 \
  ROWS(CONVND_LOAD)                       \
  for (std::size_t p = 0; p < kc; ++p) {  \
    PrefetchAhead<T>(row_at, p, kc);      \
    const T* bp = b[p];                   \
    const auto b0 = hn::LoadU(d, bp);     \
    const auto b1 = hn::LoadU(d, bp + N); \
    ROWS(CONVND_FMA)                      \
  }                                       \
  ROWS(CONVND_STORE)
  if constexpr (kWideRows == 12) {
    CONVND_LOOP(CONVND_BPTR_ROWS_12)
  } else {
    CONVND_LOOP(CONVND_BPTR_ROWS_6)
  }
#undef CONVND_LOOP
#undef CONVND_LOAD
#undef CONVND_FMA
#undef CONVND_STORE
}

// Vector v of B row p at row_at(p) + voff[v]. With a seed, row i of the tile starts at seed[i]
// in every column instead of at C's values (C is then only written).
template <class T, class RowAt>
HWY_INLINE void TileNarrow(std::size_t kc, const T* HWY_RESTRICT a, const RowAt& row_at,
                           const std::ptrdiff_t* voff, const T* HWY_RESTRICT seed,
                           T* HWY_RESTRICT c, std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  const std::ptrdiff_t o0 = voff[0], o1 = voff[1], o2 = voff[2];
#define CONVND_LOAD(i)                                                    \
  auto acc0_##i = seed ? hn::Set(d, seed[i]) : hn::LoadU(d, c + i * ldc); \
  auto acc1_##i = seed ? acc0_##i : hn::LoadU(d, c + i * ldc + N);        \
  auto acc2_##i = seed ? acc0_##i : hn::LoadU(d, c + i * ldc + 2 * N);
#define CONVND_FMA(i)                                   \
  {                                                     \
    const auto ai = hn::Set(d, a[p * kNarrowRows + i]); \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i);            \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i);            \
    acc2_##i = hn::MulAdd(ai, b2, acc2_##i);            \
  }
#define CONVND_STORE(i)                     \
  hn::StoreU(acc0_##i, d, c + i * ldc);     \
  hn::StoreU(acc1_##i, d, c + i * ldc + N); \
  hn::StoreU(acc2_##i, d, c + i * ldc + 2 * N);
#define CONVND_LOOP(ROWS)                  \
  ROWS(CONVND_LOAD)                        \
  for (std::size_t p = 0; p < kc; ++p) {   \
    const T* bp = row_at(p);               \
    const auto b0 = hn::LoadU(d, bp + o0); \
    const auto b1 = hn::LoadU(d, bp + o1); \
    const auto b2 = hn::LoadU(d, bp + o2); \
    ROWS(CONVND_FMA)                       \
  }                                        \
  ROWS(CONVND_STORE)
  if constexpr (kNarrowRows == 8) {
    CONVND_LOOP(CONVND_BPTR_ROWS_8)
  } else {
    CONVND_LOOP(CONVND_BPTR_ROWS_4)
  }
#undef CONVND_LOOP
#undef CONVND_LOAD
#undef CONVND_FMA
#undef CONVND_STORE
}

void GemmBptrF32(std::size_t kc, const float* a, const float* const* b, float* c, std::size_t ldc) {
  TileWide<float>(kc, a, b, c, ldc);
}
void GemmBptrF64(std::size_t kc, const double* a, const double* const* b, double* c,
                 std::size_t ldc) {
  TileWide<double>(kc, a, b, c, ldc);
}
// B row p through a pointer, its vectors contiguous.
template <class T>
HWY_INLINE void TileNarrowContiguous(std::size_t kc, const T* a, const T* const* b, T* c,
                                     std::size_t ldc) {
  const auto N = static_cast<std::ptrdiff_t>(hn::Lanes(hn::ScalableTag<T>()));
  const std::ptrdiff_t voff[3] = {0, N, 2 * N};
  TileNarrow<T>(
      kc, a, [b](std::size_t p) { return b[p]; }, voff, nullptr, c, ldc);
}
// B row p at base + row_off[p], its vectors contiguous: a fixed table of offsets serves every
// strip of positions (no pointer array written per strip).
template <class T>
HWY_INLINE void TileNarrowTable(std::size_t kc, const T* a, const T* base,
                                const std::ptrdiff_t* row_off, const T* seed, T* c,
                                std::size_t ldc) {
  const auto N = static_cast<std::ptrdiff_t>(hn::Lanes(hn::ScalableTag<T>()));
  const std::ptrdiff_t voff[3] = {0, N, 2 * N};
  TileNarrow<T>(
      kc, a, [base, row_off](std::size_t p) { return base + row_off[p]; }, voff, seed, c, ldc);
}
void GemmBptrNarrowF32(std::size_t kc, const float* a, const float* const* b, float* c,
                       std::size_t ldc) {
  TileNarrowContiguous<float>(kc, a, b, c, ldc);
}
void GemmBptrNarrowF64(std::size_t kc, const double* a, const double* const* b, double* c,
                       std::size_t ldc) {
  TileNarrowContiguous<double>(kc, a, b, c, ldc);
}
void GemmBptrNarrowOffsetsF32(std::size_t kc, const float* a, const float* const* b,
                              const std::ptrdiff_t* voff, float* c, std::size_t ldc) {
  TileNarrow<float>(
      kc, a, [b](std::size_t p) { return b[p]; }, voff, nullptr, c, ldc);
}
void GemmBptrNarrowOffsetsF64(std::size_t kc, const double* a, const double* const* b,
                              const std::ptrdiff_t* voff, double* c, std::size_t ldc) {
  TileNarrow<double>(
      kc, a, [b](std::size_t p) { return b[p]; }, voff, nullptr, c, ldc);
}
void GemmBptrNarrowTableF32(std::size_t kc, const float* a, const float* base,
                            const std::ptrdiff_t* row_off, const float* seed, float* c,
                            std::size_t ldc) {
  TileNarrowTable<float>(kc, a, base, row_off, seed, c, ldc);
}
void GemmBptrNarrowTableF64(std::size_t kc, const double* a, const double* base,
                            const std::ptrdiff_t* row_off, const double* seed, double* c,
                            std::size_t ldc) {
  TileNarrowTable<double>(kc, a, base, row_off, seed, c, ldc);
}

// This target's kernels with their shapes, handed out together (gemm_bptr.h: BptrKernel).
template <class T>
BptrKernel<T> Bound(BptrTile tile, typename BptrKernel<T>::Fn wide,
                    typename BptrKernel<T>::Fn narrow,
                    typename BptrKernel<T>::FnOffsets narrow_offsets,
                    typename BptrKernel<T>::FnTable narrow_table) {
  const std::size_t lanes = hn::Lanes(hn::ScalableTag<T>());
  if (tile == BptrTile::narrow)
    return {kNarrowRows, 3 * lanes, narrow, narrow_offsets, narrow_table};
  return {kWideRows, 2 * lanes, wide, nullptr, nullptr};
}
BptrKernel<float> BptrKernelF32(BptrTile tile) {
  return Bound<float>(tile, &GemmBptrF32, &GemmBptrNarrowF32, &GemmBptrNarrowOffsetsF32,
                      &GemmBptrNarrowTableF32);
}
BptrKernel<double> BptrKernelF64(BptrTile tile) {
  return Bound<double>(tile, &GemmBptrF64, &GemmBptrNarrowF64, &GemmBptrNarrowOffsetsF64,
                       &GemmBptrNarrowTableF64);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(GemmBptrF32);
HWY_EXPORT(GemmBptrF64);
HWY_EXPORT(BptrKernelF32);
HWY_EXPORT(BptrKernelF64);

BptrKernel<float> bptr_kernel_f32(BptrTile tile) {
  return HWY_DYNAMIC_DISPATCH(BptrKernelF32)(tile);
}
BptrKernel<double> bptr_kernel_f64(BptrTile tile) {
  return HWY_DYNAMIC_DISPATCH(BptrKernelF64)(tile);
}
void gemm_bptr_f32(std::size_t kc, const float* a, const float* const* b, float* c,
                   std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmBptrF32)(kc, a, b, c, ldc);
}
void gemm_bptr_f64(std::size_t kc, const double* a, const double* const* b, double* c,
                   std::size_t ldc) {
  HWY_DYNAMIC_DISPATCH(GemmBptrF64)(kc, a, b, c, ldc);
}

}  // namespace convnd::kernels
#endif
