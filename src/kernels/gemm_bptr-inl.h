// The bodies of gemm_bptr.h's kernels (gemm_bptr, gemm_bptr_narrow, gemm_bptr_narrow_voff,
// gemm_bptr_narrow_table of gemm_kernels.inc), included once per target by gemm_kernels.cc; the
// wide tile is gemm_tile-inl.h's (kTileRows). The guard below lets each target's pass in.
//
// Register budget (32 vector registers on AVX-512, 16 on AVX2/SSE4):
//   wide   12 x 2 vectors: 24 accumulators + 2 B vectors + 1 broadcast = 27 (6 x 2 = 15 on 16);
//   narrow  8 x 3 vectors: 24 accumulators + 3 B vectors + 1 broadcast = 28 (4 x 3 = 16 on 16).
// Per reduction step the wide tile loads 2 vectors and broadcasts 12 values for 24 FMAs, the
// narrow one loads 3 and broadcasts 8 for the same 24.
#if defined(CONVND_KERNELS_GEMM_BPTR_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVND_KERNELS_GEMM_BPTR_INL_H_
#undef CONVND_KERNELS_GEMM_BPTR_INL_H_
#else
#define CONVND_KERNELS_GEMM_BPTR_INL_H_
#endif

#include <hwy/highway.h>

#include "kernels/gemm_tile-inl.h"  // kTileRows, the wide tile's rows

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr std::size_t kNarrowRows = 8;
#else
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

// A is read through `at(p, i)`: a packed panel, or mr row pointers read in place. With a seed,
// row i of the tile starts at seed[i] in every column instead of at C's values.
template <class T, class AAt>
HWY_INLINE void TileWide(std::size_t kc, AAt at, const T* const* HWY_RESTRICT b,
                         const T* HWY_RESTRICT seed, T* HWY_RESTRICT c, std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
#define CONVND_LOAD(i)                                                    \
  auto acc0_##i = seed ? hn::Set(d, seed[i]) : hn::LoadU(d, c + i * ldc); \
  auto acc1_##i = seed ? acc0_##i : hn::LoadU(d, c + i * ldc + N);
#define CONVND_FMA(i)                        \
  {                                          \
    const auto ai = hn::Set(d, at(p, i));    \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i); \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i); \
  }
#define CONVND_STORE(i)                 \
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
  if constexpr (kTileRows == 12) {
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

// The wide tile's packed A panel, element (p, i) at a[p * kTileRows + i].
template <class T>
struct PackedA {
  const T* a;
  T operator()(std::size_t p, std::size_t i) const { return a[p * kTileRows + i]; }
};

template <class T>
void gemm_bptr(std::size_t kc, const T* a, const T* const* b, T* c, std::size_t ldc) {
  TileWide<T>(kc, PackedA<T>{a}, b, nullptr, c, ldc);
}
// gemm_bptr whose rows may start at a seed (one value per row: an output channel's bias).
template <class T>
void gemm_bptr_seeded(std::size_t kc, const T* a, const T* const* b, const T* seed, T* c,
                      std::size_t ldc) {
  TileWide<T>(kc, PackedA<T>{a}, b, seed, c, ldc);
}
// A row i through a pointer: e.g. output channel i's weights, contiguous over the reduction;
// rows may start at a seed, as gemm_bptr_seeded's.
template <class T>
void gemm_bptr_arows(std::size_t kc, const T* const* a, const T* const* b, const T* seed, T* c,
                     std::size_t ldc) {
  TileWide<T>(
      kc, [a](std::size_t p, std::size_t i) { return a[i][p]; }, b, seed, c, ldc);
}
// B row p through a pointer, its vectors contiguous.
template <class T>
void gemm_bptr_narrow(std::size_t kc, const T* a, const T* const* b, T* c, std::size_t ldc) {
  const auto N = static_cast<std::ptrdiff_t>(hn::Lanes(hn::ScalableTag<T>()));
  const std::ptrdiff_t voff[3] = {0, N, 2 * N};
  TileNarrow<T>(
      kc, a, [b](std::size_t p) { return b[p]; }, voff, nullptr, c, ldc);
}
template <class T>
void gemm_bptr_narrow_voff(std::size_t kc, const T* a, const T* const* b,
                           const std::ptrdiff_t* voff, T* c, std::size_t ldc) {
  TileNarrow<T>(
      kc, a, [b](std::size_t p) { return b[p]; }, voff, nullptr, c, ldc);
}
// B row p at base + row_off[p], its vectors contiguous: a fixed table of offsets serves every
// strip of positions (no pointer array written per strip).
template <class T>
void gemm_bptr_narrow_table(std::size_t kc, const T* a, const T* base,
                            const std::ptrdiff_t* row_off, const T* seed, T* c, std::size_t ldc) {
  const auto N = static_cast<std::ptrdiff_t>(hn::Lanes(hn::ScalableTag<T>()));
  const std::ptrdiff_t voff[3] = {0, N, 2 * N};
  TileNarrow<T>(
      kc, a, [base, row_off](std::size_t p) { return base + row_off[p]; }, voff, seed, c, ldc);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#endif  // CONVND_KERNELS_GEMM_BPTR_INL_H_
