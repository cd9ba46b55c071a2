// Highway implementation of pack_rows.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/pack_rows.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/pack_rows.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class T>
HWY_INLINE void PackRows(std::size_t count, const T* const* HWY_RESTRICT rows, std::size_t offset,
                         std::size_t width, T* HWY_RESTRICT dst) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  for (std::size_t i = 0; i < count; ++i, dst += width) {
    const T* src = rows[i];
    if (src == nullptr) {
      for (std::size_t m = 0; m < width; m += N) hn::StoreU(zero, d, dst + m);
      continue;
    }
    src += offset;
    for (std::size_t m = 0; m < width; m += N) hn::StoreU(hn::LoadU(d, src + m), d, dst + m);
  }
}

void PackRowsF32(std::size_t count, const float* const* rows, std::size_t offset,
                 std::size_t width, float* dst) {
  PackRows<float>(count, rows, offset, width, dst);
}
void PackRowsF64(std::size_t count, const double* const* rows, std::size_t offset,
                 std::size_t width, double* dst) {
  PackRows<double>(count, rows, offset, width, dst);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(PackRowsF32);
HWY_EXPORT(PackRowsF64);

void pack_rows_f32(std::size_t count, const float* const* rows, std::size_t offset,
                   std::size_t width, float* dst) {
  HWY_DYNAMIC_DISPATCH(PackRowsF32)(count, rows, offset, width, dst);
}
void pack_rows_f64(std::size_t count, const double* const* rows, std::size_t offset,
                   std::size_t width, double* dst) {
  HWY_DYNAMIC_DISPATCH(PackRowsF64)(count, rows, offset, width, dst);
}

}  // namespace convnd::kernels
#endif
