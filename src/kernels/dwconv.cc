// Highway implementation of dwconv.h. Four vectors of outputs per step keep four independent
// FMA chains in flight per tap (each tap's FMA depends on the previous one for the same output).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dwconv.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/dwconv.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class T>
HWY_INLINE void Channels(std::size_t taps, const T* const* in, const T* w, std::size_t w_stride,
                         const T* bias, T* out, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t c = 0;
  for (; c + 4 * N <= count; c += 4 * N) {
    auto a0 = bias ? hn::LoadU(d, bias + c) : hn::Zero(d);
    auto a1 = bias ? hn::LoadU(d, bias + c + N) : hn::Zero(d);
    auto a2 = bias ? hn::LoadU(d, bias + c + 2 * N) : hn::Zero(d);
    auto a3 = bias ? hn::LoadU(d, bias + c + 3 * N) : hn::Zero(d);
    for (std::size_t t = 0; t < taps; ++t) {
      const T* x = in[t] + c;
      const T* wt = w + t * w_stride + c;
      a0 = hn::MulAdd(hn::LoadU(d, wt), hn::LoadU(d, x), a0);
      a1 = hn::MulAdd(hn::LoadU(d, wt + N), hn::LoadU(d, x + N), a1);
      a2 = hn::MulAdd(hn::LoadU(d, wt + 2 * N), hn::LoadU(d, x + 2 * N), a2);
      a3 = hn::MulAdd(hn::LoadU(d, wt + 3 * N), hn::LoadU(d, x + 3 * N), a3);
    }
    hn::StoreU(a0, d, out + c);
    hn::StoreU(a1, d, out + c + N);
    hn::StoreU(a2, d, out + c + 2 * N);
    hn::StoreU(a3, d, out + c + 3 * N);
  }
  for (; c + N <= count; c += N) {
    auto a = bias ? hn::LoadU(d, bias + c) : hn::Zero(d);
    for (std::size_t t = 0; t < taps; ++t)
      a = hn::MulAdd(hn::LoadU(d, w + t * w_stride + c), hn::LoadU(d, in[t] + c), a);
    hn::StoreU(a, d, out + c);
  }
  for (; c < count; ++c) {  // scalar tail: no load may reach past `count`
    T a = bias ? bias[c] : T(0);
    for (std::size_t t = 0; t < taps; ++t) a += w[t * w_stride + c] * in[t][c];
    out[c] = a;
  }
}

template <class T>
HWY_INLINE void Row(std::size_t taps, const T* const* in, const T* w, T bias, T* out,
                    std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t j = 0;
  for (; j + 4 * N <= count; j += 4 * N) {
    auto a0 = hn::Set(d, bias), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t t = 0; t < taps; ++t) {
      const auto wt = hn::Set(d, w[t]);
      const T* x = in[t] + j;
      a0 = hn::MulAdd(wt, hn::LoadU(d, x), a0);
      a1 = hn::MulAdd(wt, hn::LoadU(d, x + N), a1);
      a2 = hn::MulAdd(wt, hn::LoadU(d, x + 2 * N), a2);
      a3 = hn::MulAdd(wt, hn::LoadU(d, x + 3 * N), a3);
    }
    hn::StoreU(a0, d, out + j);
    hn::StoreU(a1, d, out + j + N);
    hn::StoreU(a2, d, out + j + 2 * N);
    hn::StoreU(a3, d, out + j + 3 * N);
  }
  for (; j + N <= count; j += N) {
    auto a = hn::Set(d, bias);
    for (std::size_t t = 0; t < taps; ++t)
      a = hn::MulAdd(hn::Set(d, w[t]), hn::LoadU(d, in[t] + j), a);
    hn::StoreU(a, d, out + j);
  }
  for (; j < count; ++j) {  // scalar tail: no load may reach past `count`
    T a = bias;
    for (std::size_t t = 0; t < taps; ++t) a += w[t] * in[t][j];
    out[j] = a;
  }
}

void DwChannelsF32(std::size_t taps, const float* const* in, const float* w, std::size_t ws,
                   const float* bias, float* out, std::size_t count) {
  Channels<float>(taps, in, w, ws, bias, out, count);
}
void DwChannelsF64(std::size_t taps, const double* const* in, const double* w, std::size_t ws,
                   const double* bias, double* out, std::size_t count) {
  Channels<double>(taps, in, w, ws, bias, out, count);
}
void DwRowF32(std::size_t taps, const float* const* in, const float* w, float bias, float* out,
              std::size_t count) {
  Row<float>(taps, in, w, bias, out, count);
}
void DwRowF64(std::size_t taps, const double* const* in, const double* w, double bias,
              double* out, std::size_t count) {
  Row<double>(taps, in, w, bias, out, count);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(DwChannelsF32);
HWY_EXPORT(DwChannelsF64);
HWY_EXPORT(DwRowF32);
HWY_EXPORT(DwRowF64);

void dw_channels_f32(std::size_t taps, const float* const* in, const float* w, std::size_t ws,
                     const float* bias, float* out, std::size_t count) {
  HWY_DYNAMIC_DISPATCH(DwChannelsF32)(taps, in, w, ws, bias, out, count);
}
void dw_channels_f64(std::size_t taps, const double* const* in, const double* w, std::size_t ws,
                     const double* bias, double* out, std::size_t count) {
  HWY_DYNAMIC_DISPATCH(DwChannelsF64)(taps, in, w, ws, bias, out, count);
}
void dw_row_f32(std::size_t taps, const float* const* in, const float* w, float bias, float* out,
                std::size_t count) {
  HWY_DYNAMIC_DISPATCH(DwRowF32)(taps, in, w, bias, out, count);
}
void dw_row_f64(std::size_t taps, const double* const* in, const double* w, double bias,
                double* out, std::size_t count) {
  HWY_DYNAMIC_DISPATCH(DwRowF64)(taps, in, w, bias, out, count);
}

}  // namespace convnd::kernels
#endif
