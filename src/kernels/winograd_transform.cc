// Highway implementation of winograd_transform.h, compiled once per target by foreach_target.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/winograd_transform.cc"
#include <utility>

#include "kernels/winograd_tables.h"
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

// The same transform for a matrix known at compile time: per vector of lanes, the C inputs are
// loaded once and every row is a sum over its non-zero entries, +-1 entries as adds and
// subtracts (bitwise the same as ApplyAxis: a fused multiply-add by +-1 rounds once, as an add
// does). Tails of `inner` that fill no vector go through the scalar loop.
// The entry is named by its matrix and indices rather than passed as a double template
// argument, which clang 14 (the sanitizer and fuzzing builds) does not take.
template <class T, const auto& M, std::size_t r, std::size_t c, class D, class V>
HWY_INLINE V Term(D d, V x, V acc) {
  constexpr double K = M.v[r][c];
  if constexpr (K == 0.0)
    return acc;
  else if constexpr (K == 1.0)
    return hn::Add(acc, x);
  else if constexpr (K == -1.0)
    return hn::Sub(acc, x);
  else
    return hn::MulAdd(hn::Set(d, static_cast<T>(K)), x, acc);
}

template <class T, const auto& M, std::size_t r, class D, class V, std::size_t... c>
HWY_INLINE V FixedRow(D d, const V* x, std::index_sequence<c...>) {
  V acc = hn::Zero(d);
  ((acc = Term<T, M, r, c>(d, x[c], acc)), ...);
  return acc;
}

template <class T, const auto& M, class D, class V, std::size_t... r>
HWY_INLINE void FixedRows(D d, const V* x, T* HWY_RESTRICT out, std::size_t inner,
                          std::index_sequence<r...>) {
  using Cols = std::make_index_sequence<std::remove_reference_t<decltype(M)>::cols>;
  (hn::StoreU(FixedRow<T, M, r>(d, x, Cols{}), d, out + r * inner), ...);
}

template <class T, const auto& M>
HWY_INLINE void FixedAxis(std::size_t outer, std::size_t inner, const T* HWY_RESTRICT src,
                          T* HWY_RESTRICT dst) {
  constexpr int R = std::remove_reference_t<decltype(M)>::rows;
  constexpr int C = std::remove_reference_t<decltype(M)>::cols;
  const hn::ScalableTag<T> d;
  using V = hn::Vec<decltype(d)>;
  const std::size_t N = hn::Lanes(d);
  for (std::size_t o = 0; o < outer; ++o) {
    const T* s = src + o * C * inner;
    T* t = dst + o * R * inner;
    std::size_t i = 0;
    for (; i + N <= inner; i += N) {
      V x[C];
      for (int c = 0; c < C; ++c) x[c] = hn::LoadU(d, s + c * inner + i);
      FixedRows<T, M>(d, x, t + i, inner, std::make_index_sequence<R>{});
    }
    for (; i < inner; ++i)
      for (int r = 0; r < R; ++r) {
        T acc = T(0);
        for (int c = 0; c < C; ++c)
          if (M.v[r][c] != 0.0) acc += static_cast<T>(M.v[r][c]) * s[c * inner + i];
        t[r * inner + i] = acc;
      }
  }
}

template <class T, const auto& M>
HWY_INLINE void FixedApply(int rank, std::size_t lanes, const T* HWY_RESTRICT src,
                           T* HWY_RESTRICT dst, T* HWY_RESTRICT tmp) {
  constexpr std::size_t R = std::remove_reference_t<decltype(M)>::rows;
  constexpr std::size_t C = std::remove_reference_t<decltype(M)>::cols;
  const T* in = src;
  for (int a = 0; a < rank; ++a) {
    std::size_t outer = 1, inner = lanes;
    for (int b = 0; b < a; ++b) outer *= R;
    for (int b = a + 1; b < rank; ++b) inner *= C;
    T* out = ((rank - 1 - a) % 2 == 0) ? dst : tmp;
    FixedAxis<T, M>(outer, inner, in, out);
    in = out;
  }
}

template <class T>
HWY_INLINE void ApplyKnown(WinogradMatrix which, int rank, std::size_t lanes, const T* src, T* dst,
                           T* tmp) {
  switch (which) {
    case WinogradMatrix::bt2: return FixedApply<T, kBT2>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::bt4: return FixedApply<T, kBT4>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::bt6: return FixedApply<T, kBT6>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::at2: return FixedApply<T, kAT2>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::at4: return FixedApply<T, kAT4>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::at6: return FixedApply<T, kAT6>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::gw2: return FixedApply<T, kGW2>(rank, lanes, src, dst, tmp);
    case WinogradMatrix::gw4: return FixedApply<T, kGW4>(rank, lanes, src, dst, tmp);
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

// This target's kernels, one table per dtype (winograd_kernels.inc).
template <class T>
constexpr WinogradKernels<T> kWinogradTable{
#define CONVND_WINOGRAD_KERNEL(name, body, ret, ...) .name = &body<T>,
#include "kernels/winograd_kernels.inc"
#undef CONVND_WINOGRAD_KERNEL
};
const WinogradKernels<float>* WinogradTableF32() { return &kWinogradTable<float>; }
const WinogradKernels<double>* WinogradTableF64() { return &kWinogradTable<double>; }

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(WinogradTableF32);
HWY_EXPORT(WinogradTableF64);

const WinogradKernels<float>& winograd_kernels_f32() {
  return *HWY_DYNAMIC_DISPATCH(WinogradTableF32)();
}
const WinogradKernels<double>& winograd_kernels_f64() {
  return *HWY_DYNAMIC_DISPATCH(WinogradTableF64)();
}

FixedView winograd_fixed_matrix(WinogradMatrix which) {
  const auto view = [](const auto& m) {
    return FixedView{&m.v[0][0], std::remove_reference_t<decltype(m)>::rows,
                     std::remove_reference_t<decltype(m)>::cols};
  };
  switch (which) {
    case WinogradMatrix::bt2: return view(kBT2);
    case WinogradMatrix::bt4: return view(kBT4);
    case WinogradMatrix::bt6: return view(kBT6);
    case WinogradMatrix::at2: return view(kAT2);
    case WinogradMatrix::at4: return view(kAT4);
    case WinogradMatrix::at6: return view(kAT6);
    case WinogradMatrix::gw2: return view(kGW2);
    case WinogradMatrix::gw4: return view(kGW4);
  }
  return {};
}

}  // namespace convnd::kernels
#endif
