// # Mixed-radix complex FFT (lengths 2^a 3^b 5^c), 1-D and N-D
//
// Convnd's own transform for the FFT convolution (fft_conv.cc): no dependency (FFTW's GPL
// would bind every user). Cooley-Tukey, decimation in time, out of place and recursive: a
// length n = p m transform is p transforms of length m over the inputs j, j+p, j+2p, ..
// (j < p), then m radix-p butterflies
//   X[q + r m] = sum_j w_n^(j q) Y_j[q] w_p^(j r),   q < m, r < p,
// with the twiddles w_N^e = exp(-2 pi i e / N) taken from one table of the full length N
// (w_n^e = w_N^(e N / n)). Radices are taken largest first (5, 3, 4, 2), so a power of two
// runs mostly radix 4. The inverse is unnormalised (the caller divides by the length).
//
// Plain scalar code, compiled per element type: correct first; a Highway version vectorised
// across many transforms at once is the way to make it fast (TODO(#18)).
#pragma once

#include <complex>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::detail::fft {

// True for n = 2^a 3^b 5^c (n >= 1).
bool is_fast_length(dim_t n);
// The smallest fast length >= n.
dim_t next_fast_length(dim_t n);

template <class T>
class Fft1d {
 public:
  explicit Fft1d(dim_t n);
  dim_t size() const { return n_; }
  // out[0..n) = DFT of in[0..n) (in read with stride `in_stride`); inverse: conjugate
  // twiddles, no 1/n. in and out must not overlap.
  void run(const std::complex<T>* in, dim_t in_stride, std::complex<T>* out, bool inverse) const;

 private:
  void rec(const std::complex<T>* in, dim_t in_stride, std::complex<T>* out, dim_t n,
           std::size_t level, bool inverse) const;
  dim_t n_;
  std::vector<int> factors_;
  std::vector<std::complex<T>> twiddle_;  // w_N^e, e < N
};

// An N-D transform over a dense row-major array of extents `ext`: 1-D transforms along every
// axis, each line read in place by its stride and its transform copied back.
template <class T>
class FftNd {
 public:
  explicit FftNd(const std::vector<dim_t>& ext);
  dim_t size() const { return size_; }
  // Scratch it needs, in complex elements.
  dim_t scratch_elems() const { return max_len_; }
  void run(std::complex<T>* data, bool inverse, std::complex<T>* scratch) const;

 private:
  std::vector<dim_t> ext_;
  std::vector<Fft1d<T>> axes_;
  dim_t size_ = 1, max_len_ = 1;
};

}  // namespace convnd::detail::fft
