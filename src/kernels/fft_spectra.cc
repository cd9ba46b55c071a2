// Highway implementation of fft_spectra.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/fft_spectra.cc"
#include "kernels/fft_spectra.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One vector (or one value, for the tail) of frequencies: the same operations in the same order
// either way, so a frequency's result does not depend on where the vector boundaries fall.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void MulConj(D d, std::size_t i, const T* HWY_RESTRICT x_re,
                        const T* HWY_RESTRICT x_im, const T* HWY_RESTRICT w_re,
                        const T* HWY_RESTRICT w_im, T* HWY_RESTRICT acc_re,
                        T* HWY_RESTRICT acc_im, bool first) {
  const auto xr = hn::LoadU(d, x_re + i), xi = hn::LoadU(d, x_im + i);
  const auto wr = hn::LoadU(d, w_re + i), wi = hn::LoadU(d, w_im + i);
  // x conj(w) = (xr wr + xi wi) + i (xi wr - xr wi)
  auto re = hn::MulAdd(xi, wi, hn::Mul(xr, wr));
  auto im = hn::NegMulAdd(xr, wi, hn::Mul(xi, wr));
  if (!first) {
    re = hn::Add(hn::LoadU(d, acc_re + i), re);
    im = hn::Add(hn::LoadU(d, acc_im + i), im);
  }
  hn::StoreU(re, d, acc_re + i);
  hn::StoreU(im, d, acc_im + i);
}

template <class T>
HWY_INLINE void MulConjAll(std::size_t n, const T* x_re, const T* x_im, const T* w_re,
                           const T* w_im, T* acc_re, T* acc_im, bool first) {
  const hn::ScalableTag<T> d;
  const hn::CappedTag<T, 1> d1;
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) MulConj(d, i, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
  for (; i < n; ++i) MulConj(d1, i, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
}

void MulConjF32(std::size_t n, const float* x_re, const float* x_im, const float* w_re,
                const float* w_im, float* acc_re, float* acc_im, bool first) {
  MulConjAll<float>(n, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
}
void MulConjF64(std::size_t n, const double* x_re, const double* x_im, const double* w_re,
                const double* w_im, double* acc_re, double* acc_im, bool first) {
  MulConjAll<double>(n, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(MulConjF32);
HWY_EXPORT(MulConjF64);

void fft_mul_conj_f32(std::size_t n, const float* x_re, const float* x_im, const float* w_re,
                      const float* w_im, float* acc_re, float* acc_im, bool first) {
  HWY_DYNAMIC_DISPATCH(MulConjF32)(n, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
}
void fft_mul_conj_f64(std::size_t n, const double* x_re, const double* x_im, const double* w_re,
                      const double* w_im, double* acc_re, double* acc_im, bool first) {
  HWY_DYNAMIC_DISPATCH(MulConjF64)(n, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
}

}  // namespace convnd::kernels
#endif  // HWY_ONCE
