// The frequency-domain step of the FFT convolution (Highway, dispatched at run time per ISA):
// the channel reduction, one channel at a time, over split spectra (real parts, then
// imaginary parts):
//   acc = x conj(w)         (first channel)
//   acc = acc + x conj(w)   (the others)
// n values per part. Compiled for the baseline alone, this loop ran 4 lanes wide (SSE2) and was
// the largest cost of a 64-channel 7x7 layer; here it runs at the CPU's full width.
#pragma once

#include <cstddef>

namespace convnd::kernels {

void fft_mul_conj_f32(std::size_t n, const float* x_re, const float* x_im, const float* w_re,
                      const float* w_im, float* acc_re, float* acc_im, bool first);
void fft_mul_conj_f64(std::size_t n, const double* x_re, const double* x_im, const double* w_re,
                      const double* w_im, double* acc_re, double* acc_im, bool first);

template <class T>
inline void fft_mul_conj(std::size_t n, const T* x_re, const T* x_im, const T* w_re,
                         const T* w_im, T* acc_re, T* acc_im, bool first) {
  if constexpr (sizeof(T) == 4)
    fft_mul_conj_f32(n, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
  else
    fft_mul_conj_f64(n, x_re, x_im, w_re, w_im, acc_re, acc_im, first);
}

}  // namespace convnd::kernels
