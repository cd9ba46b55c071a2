#include "algo/fft_transform.h"

#include <algorithm>

namespace convnd::detail::fft {

bool is_fast_length(dim_t n) {
  if (n < 1) return false;
  for (dim_t p : {2, 3, 5})
    while (n % p == 0) n /= p;
  return n == 1;
}

// For each 3^b 5^c below the answer, the smallest 3^b 5^c 2^a >= n: O(log^2 n) steps, where
// a scan n, n + 1, .. took ~10^5 steps near 2^27 (planning must stay cheap, fuzz_spec).
dim_t next_fast_length(dim_t n) {
  if (n <= 1) return 1;
  dim_t best = 1;
  while (best < n) best *= 2;  // a power of two always qualifies
  for (dim_t p5 = 1; p5 < best; p5 *= 5)
    for (dim_t p35 = p5; p35 < best; p35 *= 3) {
      dim_t c = p35;
      while (c < n) c *= 2;
      best = std::min(best, c);
    }
  return best;
}

}  // namespace convnd::detail::fft
