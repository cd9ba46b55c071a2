#include "algo/fft_transform.h"

namespace convnd::detail::fft {

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

}  // namespace convnd::detail::fft
