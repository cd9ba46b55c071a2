// Transform lengths of the FFT convolution: 2^a 3^b 5^c, the radices of the passes in
// kernels/fft_pass.h (algo/fft_batch.h strings them together).
#pragma once

#include "convnd/convnd.h"

namespace convnd::detail::fft {

// True for n = 2^a 3^b 5^c (n >= 1).
bool is_fast_length(dim_t n);
// The smallest fast length >= n.
dim_t next_fast_length(dim_t n);

}  // namespace convnd::detail::fft
