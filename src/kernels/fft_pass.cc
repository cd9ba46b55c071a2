// Highway implementation of fft_pass.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/fft_pass.cc"
#include "kernels/fft_pass.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A complex vector in split form.
template <class V>
struct Cx {
  V re, im;
};

template <class V>
HWY_INLINE Cx<V> Add(Cx<V> a, Cx<V> b) {
  return {hn::Add(a.re, b.re), hn::Add(a.im, b.im)};
}
template <class V>
HWY_INLINE Cx<V> Sub(Cx<V> a, Cx<V> b) {
  return {hn::Sub(a.re, b.re), hn::Sub(a.im, b.im)};
}
// a * (w_re + i w_im)
template <class V>
HWY_INLINE Cx<V> MulW(Cx<V> a, V w_re, V w_im) {
  return {hn::NegMulAdd(a.im, w_im, hn::Mul(a.re, w_re)), hn::MulAdd(a.re, w_im, hn::Mul(a.im, w_re))};
}

// The radix-P butterfly of sequences q..q+Lanes(d) at pp, then the twiddles w_n^(pp r).
template <int P, class D, class T = hn::TFromD<D>>
HWY_INLINE void Butterfly(D d, std::size_t m, std::size_t s, std::size_t pp, std::size_t q,
                          const hn::Vec<D>* w_re, const hn::Vec<D>* w_im, bool twiddle,
                          const T* HWY_RESTRICT x_re, const T* HWY_RESTRICT x_im,
                          T* HWY_RESTRICT y_re, T* HWY_RESTRICT y_im) {
  using V = hn::Vec<D>;
  Cx<V> a[P], y[P];
  for (int j = 0; j < P; ++j) {
    const std::size_t at = q + s * (pp + static_cast<std::size_t>(j) * m);
    a[j] = {hn::LoadU(d, x_re + at), hn::LoadU(d, x_im + at)};
  }
  if constexpr (P == 2) {
    y[0] = Add(a[0], a[1]);
    y[1] = Sub(a[0], a[1]);
  } else if constexpr (P == 4) {
    const Cx<V> t0 = Add(a[0], a[2]), t1 = Sub(a[0], a[2]), t2 = Add(a[1], a[3]);
    const Cx<V> d13 = Sub(a[1], a[3]);
    const Cx<V> t3{d13.im, hn::Neg(d13.re)};  // -i (a1 - a3)
    y[0] = Add(t0, t2);
    y[2] = Sub(t0, t2);
    y[1] = Add(t1, t3);
    y[3] = Sub(t1, t3);
  } else if constexpr (P == 3) {
    // w_3 = -1/2 - i sqrt(3)/2.
    const V half = hn::Set(d, T(0.5)), s3 = hn::Set(d, T(0.86602540378443864676));
    const Cx<V> t = Add(a[1], a[2]), dd = Sub(a[1], a[2]);
    y[0] = Add(a[0], t);
    const Cx<V> mid{hn::NegMulAdd(half, t.re, a[0].re), hn::NegMulAdd(half, t.im, a[0].im)};
    y[1] = {hn::MulAdd(s3, dd.im, mid.re), hn::NegMulAdd(s3, dd.re, mid.im)};
    y[2] = {hn::NegMulAdd(s3, dd.im, mid.re), hn::MulAdd(s3, dd.re, mid.im)};
  } else {
    static_assert(P == 5);
    // w_5^j = c_j - i s_j: pairs (1, 4) and (2, 3) share cosines, sines change sign.
    const V c1 = hn::Set(d, T(0.30901699437494742410)), c2 = hn::Set(d, T(-0.80901699437494742410));
    const V s1 = hn::Set(d, T(0.95105651629515357212)), s2 = hn::Set(d, T(0.58778525229247312917));
    const Cx<V> t1 = Add(a[1], a[4]), t2 = Add(a[2], a[3]);
    const Cx<V> d1 = Sub(a[1], a[4]), d2 = Sub(a[2], a[3]);
    y[0] = Add(a[0], Add(t1, t2));
    const Cx<V> b1{hn::MulAdd(c2, t2.re, hn::MulAdd(c1, t1.re, a[0].re)),
                   hn::MulAdd(c2, t2.im, hn::MulAdd(c1, t1.im, a[0].im))};
    const Cx<V> b2{hn::MulAdd(c1, t2.re, hn::MulAdd(c2, t1.re, a[0].re)),
                   hn::MulAdd(c1, t2.im, hn::MulAdd(c2, t1.im, a[0].im))};
    const Cx<V> e1{hn::MulAdd(s2, d2.re, hn::Mul(s1, d1.re)), hn::MulAdd(s2, d2.im, hn::Mul(s1, d1.im))};
    const Cx<V> e2{hn::NegMulAdd(s1, d2.re, hn::Mul(s2, d1.re)),
                   hn::NegMulAdd(s1, d2.im, hn::Mul(s2, d1.im))};
    // b - i e = (b.re + e.im, b.im - e.re); b + i e the other signs.
    y[1] = {hn::Add(b1.re, e1.im), hn::Sub(b1.im, e1.re)};
    y[4] = {hn::Sub(b1.re, e1.im), hn::Add(b1.im, e1.re)};
    y[2] = {hn::Add(b2.re, e2.im), hn::Sub(b2.im, e2.re)};
    y[3] = {hn::Sub(b2.re, e2.im), hn::Add(b2.im, e2.re)};
  }
  for (int r = 0; r < P; ++r) {
    Cx<V> v = y[r];
    if (r > 0 && twiddle) v = MulW(v, w_re[r - 1], w_im[r - 1]);
    const std::size_t at = q + s * (P * pp + static_cast<std::size_t>(r));
    hn::StoreU(v.re, d, y_re + at);
    hn::StoreU(v.im, d, y_im + at);
  }
}

template <int P, class T>
HWY_INLINE void Pass(std::size_t m, std::size_t s, const T* HWY_RESTRICT tw_re,
                     const T* HWY_RESTRICT tw_im, const T* HWY_RESTRICT x_re,
                     const T* HWY_RESTRICT x_im, T* HWY_RESTRICT y_re, T* HWY_RESTRICT y_im) {
  const hn::ScalableTag<T> d;
  const hn::CappedTag<T, 1> d1;  // the tail, one sequence at a time
  const std::size_t N = hn::Lanes(d);
  hn::Vec<decltype(d)> w_re[P > 1 ? P - 1 : 1], w_im[P > 1 ? P - 1 : 1];
  hn::Vec<decltype(d1)> w1_re[P > 1 ? P - 1 : 1], w1_im[P > 1 ? P - 1 : 1];
  for (std::size_t pp = 0; pp < m; ++pp) {
    // w_n^0 = 1: the first butterfly of every pass, and every one of the last, skip the product.
    const bool twiddle = pp > 0;
    for (int r = 1; r < P; ++r) {
      const std::size_t at = pp * (P - 1) + static_cast<std::size_t>(r - 1);
      w_re[r - 1] = hn::Set(d, tw_re[at]);
      w_im[r - 1] = hn::Set(d, tw_im[at]);
      w1_re[r - 1] = hn::Set(d1, tw_re[at]);
      w1_im[r - 1] = hn::Set(d1, tw_im[at]);
    }
    std::size_t q = 0;
    for (; q + N <= s; q += N)
      Butterfly<P>(d, m, s, pp, q, w_re, w_im, twiddle, x_re, x_im, y_re, y_im);
    for (; q < s; ++q) Butterfly<P>(d1, m, s, pp, q, w1_re, w1_im, twiddle, x_re, x_im, y_re, y_im);
  }
}

template <class T>
HWY_INLINE void PassAny(int p, std::size_t m, std::size_t s, const T* tw_re, const T* tw_im,
                        const T* x_re, const T* x_im, T* y_re, T* y_im) {
  switch (p) {
    case 2: return Pass<2>(m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
    case 3: return Pass<3>(m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
    case 4: return Pass<4>(m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
    default: return Pass<5>(m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
  }
}

void PassF32(int p, std::size_t m, std::size_t s, const float* tw_re, const float* tw_im,
             const float* x_re, const float* x_im, float* y_re, float* y_im) {
  PassAny<float>(p, m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
}
void PassF64(int p, std::size_t m, std::size_t s, const double* tw_re, const double* tw_im,
             const double* x_re, const double* x_im, double* y_re, double* y_im) {
  PassAny<double>(p, m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(PassF32);
HWY_EXPORT(PassF64);

void fft_pass_f32(int p, std::size_t m, std::size_t s, const float* tw_re, const float* tw_im,
                  const float* x_re, const float* x_im, float* y_re, float* y_im) {
  HWY_DYNAMIC_DISPATCH(PassF32)(p, m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
}
void fft_pass_f64(int p, std::size_t m, std::size_t s, const double* tw_re, const double* tw_im,
                  const double* x_re, const double* x_im, double* y_re, double* y_im) {
  HWY_DYNAMIC_DISPATCH(PassF64)(p, m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
}

}  // namespace convnd::kernels
#endif  // HWY_ONCE
