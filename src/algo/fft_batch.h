// # Batched transforms for the FFT convolution: many sequences per pass, real input halved
//
// BatchFft runs the Stockham passes of kernels/fft_pass.h over `s` sequences stored
// interleaved (sample i of sequence q at q + s i, real and imaginary parts in separate arrays):
// one sweep of vector loads per pass for all of them, whatever the length or radix. The N-D
// convolution uses it two ways:
//   - along a leading axis of a row-major plane, the sequences are the plane's columns, already
//     interleaved: s = the product of the later extents;
//   - along the last axis, blocks of kRows rows are transposed into the interleaved form first
//     (RealFft below), so that one row at a time never runs scalar.
//
// RealFft: a real sequence x of even length L = 2n is transformed as the complex sequence
// z_j = x_2j + i x_2j+1 of length n (half the work of a complex transform of x), and the
// half spectrum X_k, k <= n (the rest is conj X_(L-k)), recovered from Z = DFT_n(z) by
//   E_k = (Z_k + conj Z_(n-k)) / 2,  O_k = (Z_k - conj Z_(n-k)) / (2i),  X_k = E_k + w_L^k O_k.
// The inverse undoes it: Z'_k = (X_k + conj X_(n-k)) + i conj(w_L^k) (X_k - conj X_(n-k)), whose
// unnormalised inverse DFT_n is L (x_2j + i x_2j+1). Inverses are unnormalised throughout.
#pragma once

#include <cstddef>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::detail::fft {

template <class T>
class BatchFft {
 public:
  explicit BatchFft(dim_t n);
  dim_t size() const { return n_; }
  // Transforms s interleaved sequences of length n in place (re/im: n s values each); scratch
  // holds 2 n s values. inverse: unnormalised (conjugate twiddles).
  void run(T* re, T* im, std::size_t s, T* scratch, bool inverse) const;
  // The passes alone, ping-ponging between a (the input, n s values per part) and b (as
  // large, distinct): true when the result is in b (an odd pass_count()), false in a. Lets a
  // caller read the result where it lies instead of run() copying it back.
  bool passes(T* a_re, T* a_im, T* b_re, T* b_im, std::size_t s, bool inverse) const;
  std::size_t pass_count() const { return passes_.size(); }

 private:
  struct Pass {
    int p;
    std::size_t m;
    std::vector<T> tw_re, tw_im;  // w_(p m)^(pp r), [pp (p - 1) + r - 1]
  };
  dim_t n_;
  std::vector<Pass> passes_;
};

template <class T>
class RealFft {
 public:
  // L even, L / 2 a fast length.
  explicit RealFft(dim_t L);
  dim_t length() const { return 2 * half_.size(); }
  dim_t bins() const { return half_.size() + 1; }  // n + 1
  // Forward: z_re/z_im ([n][s], z_j = x_2j + i x_2j+1, overwritten) to X_re/X_im ([n + 1][s]).
  // scratch: 2 n s values.
  void forward(T* z_re, T* z_im, std::size_t s, T* X_re, T* X_im, T* scratch) const;
  // Inverse: X ([n + 1][s], read only) to z ([n][s]) with z_j = L (x_2j + i x_2j+1).
  void inverse(const T* X_re, const T* X_im, std::size_t s, T* z_re, T* z_im, T* scratch) const;

 private:
  BatchFft<T> half_;
  std::vector<T> w_re_, w_im_;  // w_L^k, k <= n
};

}  // namespace convnd::detail::fft
