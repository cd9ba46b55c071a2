// One pass of a Stockham autosort FFT over many interleaved sequences (Highway, dispatched at
// run time per ISA); algo/fft_batch.cc strings the passes together.
//
// # Why Stockham, and why interleaved
// A transform of length n = p m, radix p, maps x to y by
//   a_j = x[q + s (pp + j m)],                       j < p
//   y[q + s (p pp + r)] = w_n^(pp r) sum_j a_j w_p^(j r),   r < p
// for pp < m and q < s; the next pass is a transform of length m over s p sequences, and the
// last (m = 1) leaves the spectra in natural order: no bit reversal, and every access runs along
// q. With q the index of one of s sequences stored interleaved (sample i of sequence q at
// q + s i), the inner loop is s contiguous values: the vector lanes run across transforms,
// never across one transform's butterflies, so every radix and every length vectorises alike.
//
// Split format: real parts in one array, imaginary parts in another. The inverse transform is
// the forward one with the two arrays swapped (DFT(i conj x) = i conj(IDFT x)); no second
// twiddle table.
//
// tw_re/tw_im hold w_n^(pp r) at [pp (p - 1) + r - 1] for pp < m, 1 <= r < p. p is 2, 3, 4
// or 5. x and y must not overlap.
#pragma once

#include <cstddef>

namespace convnd::kernels {

void fft_pass_f32(int p, std::size_t m, std::size_t s, const float* tw_re, const float* tw_im,
                  const float* x_re, const float* x_im, float* y_re, float* y_im);
void fft_pass_f64(int p, std::size_t m, std::size_t s, const double* tw_re, const double* tw_im,
                  const double* x_re, const double* x_im, double* y_re, double* y_im);

template <class T>
inline void fft_pass(int p, std::size_t m, std::size_t s, const T* tw_re, const T* tw_im,
                     const T* x_re, const T* x_im, T* y_re, T* y_im) {
  if constexpr (sizeof(T) == 4)
    fft_pass_f32(p, m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
  else
    fft_pass_f64(p, m, s, tw_re, tw_im, x_re, x_im, y_re, y_im);
}

}  // namespace convnd::kernels
