#include "algo/fft_batch.h"

#include <cassert>
#include <cmath>
#include <cstring>

#include "algo/fft_transform.h"
#include "kernels/fft_pass.h"

namespace convnd::detail::fft {

template <class T>
BatchFft<T>::BatchFft(dim_t n) : n_(n) {
  assert(is_fast_length(n));
  // Radix 4 first (fewest passes over memory for powers of two), then 2, 3, 5; the Stockham
  // passes take the factors in any order.
  std::vector<int> factors;
  dim_t rest = n;
  for (int p : {4, 2, 3, 5})
    while (rest % p == 0) {
      factors.push_back(p);
      rest /= p;
    }
  dim_t len = n;
  for (int p : factors) {
    Pass pass;
    pass.p = p;
    pass.m = static_cast<std::size_t>(len / p);
    pass.tw_re.resize(pass.m * static_cast<std::size_t>(p - 1));
    pass.tw_im.resize(pass.tw_re.size());
    // In double then rounded: the twiddles are the transform's main source of error.
    const double step = -2.0 * M_PI / static_cast<double>(len);
    for (std::size_t pp = 0; pp < pass.m; ++pp)
      for (int r = 1; r < p; ++r) {
        const double a = step * static_cast<double>(pp * static_cast<std::size_t>(r));
        pass.tw_re[pp * (p - 1) + r - 1] = static_cast<T>(std::cos(a));
        pass.tw_im[pp * (p - 1) + r - 1] = static_cast<T>(std::sin(a));
      }
    passes_.push_back(std::move(pass));
    len /= p;
  }
}

template <class T>
bool BatchFft<T>::passes(T* a_re, T* a_im, T* b_re, T* b_im, std::size_t s, bool inverse) const {
  // The inverse is the forward transform with the parts swapped on the way in and out
  // (fft_pass.h): swapping both pairs of arrays leaves the result in natural orientation.
  if (inverse) {
    std::swap(a_re, a_im);
    std::swap(b_re, b_im);
  }
  std::size_t seqs = s;
  for (const Pass& pass : passes_) {
    kernels::fft_pass(pass.p, pass.m, seqs, pass.tw_re.data(), pass.tw_im.data(), a_re, a_im,
                      b_re, b_im);
    std::swap(a_re, b_re);
    std::swap(a_im, b_im);
    seqs *= static_cast<std::size_t>(pass.p);
  }
  return passes_.size() % 2 == 1;
}

template <class T>
void BatchFft<T>::run(T* re, T* im, std::size_t s, T* scratch, bool inverse) const {
  const std::size_t count = static_cast<std::size_t>(n_) * s;
  if (passes(re, im, scratch, scratch + count, s, inverse)) {  // the result is in scratch
    std::memcpy(re, scratch, count * sizeof(T));
    std::memcpy(im, scratch + count, count * sizeof(T));
  }
}

template <class T>
RealFft<T>::RealFft(dim_t L) : half_(L / 2) {
  assert(L % 2 == 0);
  const dim_t n = L / 2;
  w_re_.resize(static_cast<std::size_t>(n + 1));
  w_im_.resize(static_cast<std::size_t>(n + 1));
  for (dim_t k = 0; k <= n; ++k) {
    const double a = -2.0 * M_PI * static_cast<double>(k) / static_cast<double>(L);
    w_re_[k] = static_cast<T>(std::cos(a));
    w_im_[k] = static_cast<T>(std::sin(a));
  }
}

template <class T>
void RealFft<T>::forward(T* z_re, T* z_im, std::size_t s, T* X_re, T* X_im, T* scratch) const {
  const dim_t n = half_.size();
  // Z = DFT(z) is read once, below, from whichever buffer the last pass wrote: no copy back
  // into z after an odd number of passes (a full pass over 2 n s values).
  const std::size_t count = static_cast<std::size_t>(n) * s;
  const T* Z_re = z_re;
  const T* Z_im = z_im;
  if (half_.passes(z_re, z_im, scratch, scratch + count, s, false)) {
    Z_re = scratch;
    Z_im = scratch + count;
  }
  for (dim_t k = 0; k <= n; ++k) {
    const std::size_t a = static_cast<std::size_t>(k % n) * s;
    const std::size_t b = static_cast<std::size_t>((n - k) % n) * s;
    const T wr = w_re_[k], wi = w_im_[k];
    T* __restrict xr = X_re + k * s;
    T* __restrict xi = X_im + k * s;
    for (std::size_t q = 0; q < s; ++q) {
      const T zr = Z_re[a + q], zi = Z_im[a + q], mr = Z_re[b + q], mi = Z_im[b + q];
      // E = (Z_k + conj Z_(n-k)) / 2; O = (Z_k - conj Z_(n-k)) / (2i) = (A_im, -A_re) / 2.
      const T er = T(0.5) * (zr + mr), ei = T(0.5) * (zi - mi);
      const T orr = T(0.5) * (zi + mi), oi = T(-0.5) * (zr - mr);
      xr[q] = er + (wr * orr - wi * oi);
      xi[q] = ei + (wr * oi + wi * orr);
    }
  }
}

template <class T>
void RealFft<T>::inverse(const T* X_re, const T* X_im, std::size_t s, T* z_re, T* z_im,
                         T* scratch) const {
  const dim_t n = half_.size();
  // Z' goes where the passes start so that the last one writes z: into scratch when their
  // number is odd (ping-pong scratch -> z -> .. -> z), else into z (z -> scratch -> .. -> z).
  const std::size_t count = static_cast<std::size_t>(n) * s;
  const bool odd = half_.pass_count() % 2 == 1;
  T* p_re = odd ? scratch : z_re;
  T* p_im = odd ? scratch + count : z_im;
  T* o_re = odd ? z_re : scratch;
  T* o_im = odd ? z_im : scratch + count;
  for (dim_t k = 0; k < n; ++k) {
    const std::size_t a = static_cast<std::size_t>(k) * s;
    const std::size_t b = static_cast<std::size_t>(n - k) * s;
    const T wr = w_re_[k], wi = w_im_[k];
    T* __restrict zr = p_re + a;
    T* __restrict zi = p_im + a;
    for (std::size_t q = 0; q < s; ++q) {
      const T xr = X_re[a + q], xi = X_im[a + q], mr = X_re[b + q], mi = X_im[b + q];
      const T sr = xr + mr, si = xi - mi;  // X_k + conj X_(n-k)
      const T dr = xr - mr, di = xi + mi;  // X_k - conj X_(n-k)
      // i conj(w) d = i (wr dr + wi di + i (wr di - wi dr)) = (wi dr - wr di) + i (wr dr + wi di)
      zr[q] = sr + (wi * dr - wr * di);
      zi[q] = si + (wr * dr + wi * di);
    }
  }
  half_.passes(p_re, p_im, o_re, o_im, s, true);
}

template class BatchFft<float>;
template class BatchFft<double>;
template class RealFft<float>;
template class RealFft<double>;

}  // namespace convnd::detail::fft
