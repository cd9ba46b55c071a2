// Highway implementation of winograd_transform.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/winograd_transform.cc"
#include "kernels/winograd_transform.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// dst[o][r][i] = sum_c coef[r][c] * src[o][c][i] for o < outer, r < rows, i < inner.
template <class T>
HWY_INLINE void ApplyAxis(std::size_t outer, int rows, int cols, const T* HWY_RESTRICT coef,
                          std::size_t inner, const T* HWY_RESTRICT src, T* HWY_RESTRICT dst) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  for (std::size_t o = 0; o < outer; ++o) {
    const T* s = src + o * static_cast<std::size_t>(cols) * inner;
    T* t = dst + o * static_cast<std::size_t>(rows) * inner;
    for (int r = 0; r < rows; ++r) {
      const T* cr = coef + r * cols;
      T* out = t + static_cast<std::size_t>(r) * inner;
      std::size_t i = 0;
      for (; i + N <= inner; i += N) {
        auto acc = hn::Zero(d);
        for (int c = 0; c < cols; ++c)
          if (cr[c] != T(0))
            acc = hn::MulAdd(hn::Set(d, cr[c]), hn::LoadU(d, s + c * inner + i), acc);
        hn::StoreU(acc, d, out + i);
      }
      for (; i < inner; ++i) {
        T acc = T(0);
        for (int c = 0; c < cols; ++c)
          if (cr[c] != T(0)) acc += cr[c] * s[c * inner + i];
        out[i] = acc;
      }
    }
  }
}

// Axis a of the tensor: the axes before it already have `rows` samples, those after `cols`.
template <class T>
HWY_INLINE void Apply(int rank, int rows, int cols, const T* HWY_RESTRICT coef, std::size_t lanes,
                      const T* HWY_RESTRICT src, T* HWY_RESTRICT dst, T* HWY_RESTRICT tmp) {
  const T* in = src;
  for (int a = 0; a < rank; ++a) {
    std::size_t outer = 1, inner = lanes;
    for (int b = 0; b < a; ++b) outer *= static_cast<std::size_t>(rows);
    for (int b = a + 1; b < rank; ++b) inner *= static_cast<std::size_t>(cols);
    // Alternate between tmp and dst so that the last axis lands in dst.
    T* out = ((rank - 1 - a) % 2 == 0) ? dst : tmp;
    ApplyAxis(outer, rows, cols, coef, inner, in, out);
    in = out;
  }
}

template <class T, class I>
HWY_INLINE void Gather(std::size_t n, const T* HWY_RESTRICT base, const I* HWY_RESTRICT idx,
                       T* HWY_RESTRICT dst) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto iv = hn::LoadU(di, idx + i);
    const auto valid = hn::Gt(iv, hn::Set(di, -1));
    const auto v = hn::GatherIndex(d, base, hn::IfThenElseZero(valid, iv));
    hn::StoreU(hn::IfThenElseZero(hn::RebindMask(d, valid), v), d, dst + i);
  }
  for (; i < n; ++i) dst[i] = idx[i] < 0 ? T(0) : base[idx[i]];
}

void GatherF32(std::size_t n, const float* base, const std::int32_t* idx, float* dst) {
  Gather<float>(n, base, idx, dst);
}
void GatherF64(std::size_t n, const double* base, const std::int64_t* idx, double* dst) {
  Gather<double>(n, base, idx, dst);
}

template <class T>
HWY_INLINE void GatherStrided(std::size_t n, const T* HWY_RESTRICT base, std::int64_t stride,
                              T* HWY_RESTRICT dst) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using I = hn::TFromD<decltype(di)>;
  const std::size_t N = hn::Lanes(d);
  const std::int64_t span = stride < 0 ? -stride : stride;
  std::size_t i = 0;
  if (stride == 1) {
    for (; i < n; ++i) dst[i] = base[i];
    return;
  }
  if (span * static_cast<std::int64_t>(n) < (std::int64_t{1} << 31)) {
    const auto step = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<I>(stride)));
    for (; i + N <= n; i += N)
      hn::StoreU(hn::GatherIndex(d, base + static_cast<std::int64_t>(i) * stride, step), d,
                 dst + i);
  }
  for (; i < n; ++i) dst[i] = base[static_cast<std::int64_t>(i) * stride];
}

void GatherStridedF32(std::size_t n, const float* base, std::int64_t stride, float* dst) {
  GatherStrided<float>(n, base, stride, dst);
}
void GatherStridedF64(std::size_t n, const double* base, std::int64_t stride, double* dst) {
  GatherStrided<double>(n, base, stride, dst);
}

void ApplyF32(int rank, int rows, int cols, const float* coef, std::size_t lanes, const float* src,
              float* dst, float* tmp) {
  Apply<float>(rank, rows, cols, coef, lanes, src, dst, tmp);
}
void ApplyF64(int rank, int rows, int cols, const double* coef, std::size_t lanes,
              const double* src, double* dst, double* tmp) {
  Apply<double>(rank, rows, cols, coef, lanes, src, dst, tmp);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(ApplyF32);
HWY_EXPORT(ApplyF64);
HWY_EXPORT(GatherF32);
HWY_EXPORT(GatherF64);
HWY_EXPORT(GatherStridedF32);
HWY_EXPORT(GatherStridedF64);

void winograd_gather_strided_f32(std::size_t n, const float* base, std::int64_t stride,
                                 float* dst) {
  HWY_DYNAMIC_DISPATCH(GatherStridedF32)(n, base, stride, dst);
}
void winograd_gather_strided_f64(std::size_t n, const double* base, std::int64_t stride,
                                 double* dst) {
  HWY_DYNAMIC_DISPATCH(GatherStridedF64)(n, base, stride, dst);
}

void winograd_gather_f32(std::size_t n, const float* base, const std::int32_t* idx, float* dst) {
  HWY_DYNAMIC_DISPATCH(GatherF32)(n, base, idx, dst);
}
void winograd_gather_f64(std::size_t n, const double* base, const std::int64_t* idx, double* dst) {
  HWY_DYNAMIC_DISPATCH(GatherF64)(n, base, idx, dst);
}

void winograd_apply_f32(int rank, int rows, int cols, const float* coef, std::size_t lanes,
                        const float* src, float* dst, float* tmp) {
  HWY_DYNAMIC_DISPATCH(ApplyF32)(rank, rows, cols, coef, lanes, src, dst, tmp);
}
void winograd_apply_f64(int rank, int rows, int cols, const double* coef, std::size_t lanes,
                        const double* src, double* dst, double* tmp) {
  HWY_DYNAMIC_DISPATCH(ApplyF64)(rank, rows, cols, coef, lanes, src, dst, tmp);
}

}  // namespace convnd::kernels
#endif
