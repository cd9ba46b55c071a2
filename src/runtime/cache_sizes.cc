#include "runtime/cache_sizes.h"

#include <unistd.h>

namespace convnd::detail {
namespace {

std::size_t sane(long reported, std::size_t lo, std::size_t hi, std::size_t fallback) {
  if (reported <= 0) return fallback;
  const auto bytes = static_cast<std::size_t>(reported);
  return bytes >= lo && bytes <= hi ? bytes : fallback;
}

CacheSizes read_cache_sizes() {
  CacheSizes c;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  c.l1d = sane(sysconf(_SC_LEVEL1_DCACHE_SIZE), 16 << 10, 256 << 10, 32 << 10);
  c.l2 = sane(sysconf(_SC_LEVEL2_CACHE_SIZE), 128 << 10, 8 << 20, 1 << 20);
#else
  c.l1d = 32 << 10;
  c.l2 = 1 << 20;
#endif
  return c;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = read_cache_sizes();
  return sizes;
}

}  // namespace convnd::detail
