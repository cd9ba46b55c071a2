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
                         std::size_t len, T* HWY_RESTRICT dst, std::size_t dst_stride) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  for (std::size_t i = 0; i < count; ++i, dst += dst_stride) {
    const T* src = rows[i];
    if (src == nullptr) {
      for (std::size_t m = 0; m < len; m += N) hn::StoreU(zero, d, dst + m);
      continue;
    }
    src += offset;
    for (std::size_t m = 0; m < len; m += N) hn::StoreU(hn::LoadU(d, src + m), d, dst + m);
  }
}

void PackRowsF32(std::size_t count, const float* const* rows, std::size_t offset,
                 std::size_t len, float* dst, std::size_t dst_stride) {
  PackRows<float>(count, rows, offset, len, dst, dst_stride);
}
void PackRowsF64(std::size_t count, const double* const* rows, std::size_t offset,
                 std::size_t len, double* dst, std::size_t dst_stride) {
  PackRows<double>(count, rows, offset, len, dst, dst_stride);
}
std::size_t PackLanes(std::size_t elem_bytes) {
  return elem_bytes == 4 ? hn::Lanes(hn::ScalableTag<float>()) : hn::Lanes(hn::ScalableTag<double>());
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(PackRowsF32);
HWY_EXPORT(PackRowsF64);
HWY_EXPORT(PackLanes);

void pack_rows_f32(std::size_t count, const float* const* rows, std::size_t offset,
                   std::size_t len, float* dst, std::size_t dst_stride) {
  HWY_DYNAMIC_DISPATCH(PackRowsF32)(count, rows, offset, len, dst, dst_stride);
}
void pack_rows_f64(std::size_t count, const double* const* rows, std::size_t offset,
                   std::size_t len, double* dst, std::size_t dst_stride) {
  HWY_DYNAMIC_DISPATCH(PackRowsF64)(count, rows, offset, len, dst, dst_stride);
}
std::size_t pack_lanes(std::size_t elem_bytes) { return HWY_DYNAMIC_DISPATCH(PackLanes)(elem_bytes); }

}  // namespace convnd::kernels
#endif
