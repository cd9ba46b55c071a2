#include "algo/fft_transform.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace convnd::detail::fft {
namespace {

// The textbook product: std::complex's operator* also handles infinities (C99 Annex G), which
// GCC does in a library call per product without -ffast-math; finite data need none of it.
template <class T>
inline std::complex<T> mul(std::complex<T> a, std::complex<T> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

}  // namespace

bool is_fast_length(dim_t n) {
  if (n < 1) return false;
  for (dim_t p : {2, 3, 5})
    while (n % p == 0) n /= p;
  return n == 1;
}

dim_t next_fast_length(dim_t n) {
  if (n <= 1) return 1;
  while (!is_fast_length(n)) ++n;  // fast lengths are dense enough: a few steps at most
  return n;
}

template <class T>
Fft1d<T>::Fft1d(dim_t n) : n_(n) {
  assert(is_fast_length(n));
  dim_t rest = n;
  for (int p : {5, 3, 4, 2})
    while (rest % p == 0) {
      factors_.push_back(p);
      rest /= p;
    }
  twiddle_.resize(static_cast<std::size_t>(n));
  const double step = -2.0 * M_PI / static_cast<double>(n);
  for (dim_t e = 0; e < n; ++e) {
    // In double then rounded: the table is the transform's main source of error.
    const double a = step * static_cast<double>(e);
    twiddle_[static_cast<std::size_t>(e)] =
        std::complex<T>(static_cast<T>(std::cos(a)), static_cast<T>(std::sin(a)));
  }
}

template <class T>
void Fft1d<T>::run(const std::complex<T>* in, dim_t in_stride, std::complex<T>* out,
                   bool inverse) const {
  if (n_ == 1) {
    out[0] = in[0];
    return;
  }
  rec(in, in_stride, out, n_, 0, inverse);
}

template <class T>
void Fft1d<T>::rec(const std::complex<T>* in, dim_t in_stride, std::complex<T>* out, dim_t n,
                   std::size_t level, bool inverse) const {
  const int p = factors_[level];
  const dim_t m = n / p;
  if (m == 1) {
    for (int j = 0; j < p; ++j) out[j] = in[j * in_stride];
  } else {
    for (int j = 0; j < p; ++j)
      rec(in + j * in_stride, in_stride * p, out + j * m, m, level + 1, inverse);
  }
  const dim_t scale = n_ / n;  // w_n^e = w_N^(e * scale)
  const std::complex<T>* tw = twiddle_.data();
  // w_p^(j r) for j, r < p, conjugated for the inverse.
  std::complex<T> root[5][5];
  for (int j = 0; j < p; ++j)
    for (int r = 0; r < p; ++r) {
      const std::complex<T> w = tw[static_cast<dim_t>((j * r) % p) * (n_ / p)];
      root[j][r] = inverse ? std::conj(w) : w;
    }
  std::complex<T> t[5];
  for (dim_t q = 0; q < m; ++q) {
    t[0] = out[q];
    for (int j = 1; j < p; ++j) {
      // j q scale < p m scale = N: no reduction needed.
      std::complex<T> w = tw[static_cast<dim_t>(j) * q * scale];
      if (inverse) w = std::conj(w);
      t[j] = mul(out[j * m + q], w);
    }
    for (int r = 0; r < p; ++r) {
      std::complex<T> acc = t[0];
      for (int j = 1; j < p; ++j) acc += mul(t[j], root[j][r]);
      out[r * m + q] = acc;
    }
  }
}

template <class T>
FftNd<T>::FftNd(const std::vector<dim_t>& ext) : ext_(ext) {
  for (dim_t e : ext_) {
    axes_.emplace_back(e);
    size_ *= e;
    max_len_ = std::max(max_len_, e);
  }
}

template <class T>
void FftNd<T>::run(std::complex<T>* data, bool inverse, std::complex<T>* scratch) const {
  const int d = static_cast<int>(ext_.size());
  dim_t inner = size_;  // elements per step of axis a (row-major): product of later extents
  for (int a = 0; a < d; ++a) {
    const dim_t len = ext_[a];
    inner /= len;
    if (len == 1) continue;
    const dim_t outer = size_ / (len * inner);
    for (dim_t o = 0; o < outer; ++o)
      for (dim_t i = 0; i < inner; ++i) {
        std::complex<T>* base = data + o * len * inner + i;
        axes_[a].run(base, inner, scratch, inverse);  // the line read in place, by stride
        for (dim_t j = 0; j < len; ++j) base[j * inner] = scratch[j];
      }
  }
}

template class Fft1d<float>;
template class Fft1d<double>;
template class FftNd<float>;
template class FftNd<double>;

}  // namespace convnd::detail::fft
