// Highway implementation of gemm_bptr.h, compiled once per target by foreach_target.h.
//
// Same register tile as gemm_tile.cc (12 rows x 2 vectors with 32 vector registers: 24
// accumulators + 2 B vectors + 1 broadcast = 27; 6 x 2 with 16 registers), so that both
// families agree on tile_shape(). Per reduction step: 2 vector loads of B through one pointer,
// mr broadcasts of A from one 48-byte run, 2 * mr FMAs.
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
constexpr std::size_t kBptrRows = 12;
#else
constexpr std::size_t kBptrRows = 6;
#endif

// B rows this many steps ahead are prefetched: each row is another channel's plane, too many
// streams for the hardware prefetchers to follow.
constexpr std::size_t kAhead = 8;

#define CONVND_BPTR_ROWS_6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define CONVND_BPTR_ROWS_12(X) CONVND_BPTR_ROWS_6(X) X(6) X(7) X(8) X(9) X(10) X(11)

template <class T>
HWY_INLINE void TileBptr(std::size_t kc, const T* HWY_RESTRICT a, const T* const* HWY_RESTRICT b,
                         T* HWY_RESTRICT c, std::size_t ldc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
#define CONVND_LOAD(i)                        \
  auto acc0_##i = hn::LoadU(d, c + i * ldc); \
  auto acc1_##i = hn::LoadU(d, c + i * ldc + N);
#define CONVND_FMA(i)                                     \
  {                                                       \
    const auto ai = hn::Set(d, a[p * kBptrRows + i]);     \
    acc0_##i = hn::MulAdd(ai, b0, acc0_##i);              \
    acc1_##i = hn::MulAdd(ai, b1, acc1_##i);              \
  }
#define CONVND_STORE(i)                  \
  hn::StoreU(acc0_##i, d, c + i * ldc); \
  hn::StoreU(acc1_##i, d, c + i * ldc + N);
  if constexpr (kBptrRows == 12) {
    CONVND_BPTR_ROWS_12(CONVND_LOAD)
    for (std::size_t p = 0; p < kc; ++p) {
      const T* ahead = b[p + kAhead < kc ? p + kAhead : p];
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64 / sizeof(T));
      const T* bp = b[p];
      const auto b0 = hn::LoadU(d, bp);
      const auto b1 = hn::LoadU(d, bp + N);
      CONVND_BPTR_ROWS_12(CONVND_FMA)
    }
    CONVND_BPTR_ROWS_12(CONVND_STORE)
  } else {
    CONVND_BPTR_ROWS_6(CONVND_LOAD)
    for (std::size_t p = 0; p < kc; ++p) {
      const T* ahead = b[p + kAhead < kc ? p + kAhead : p];
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64 / sizeof(T));
      const T* bp = b[p];
      const auto b0 = hn::LoadU(d, bp);
      const auto b1 = hn::LoadU(d, bp + N);
      CONVND_BPTR_ROWS_6(CONVND_FMA)
    }
    CONVND_BPTR_ROWS_6(CONVND_STORE)
  }
#undef CONVND_LOAD
#undef CONVND_FMA
#undef CONVND_STORE
}

void GemmBptrF32(std::size_t kc, const float* a, const float* const* b, float* c, std::size_t ldc) {
  TileBptr<float>(kc, a, b, c, ldc);
}
void GemmBptrF64(std::size_t kc, const double* a, const double* const* b, double* c,
                 std::size_t ldc) {
  TileBptr<double>(kc, a, b, c, ldc);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(GemmBptrF32);
HWY_EXPORT(GemmBptrF64);

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
