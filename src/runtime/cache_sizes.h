// The data cache sizes of the CPU this process runs on, read once at run time, so that GEMM
// blocking follows the machine (Zen 4: 32 KiB L1d, 1 MiB L2; Intel Xeon: 48 KiB, 2 MiB) instead
// of constants tuned on one of them.
#pragma once

#include <cstddef>

namespace convnd::detail {

struct CacheSizes {
  std::size_t l1d = 0;  // bytes of level-1 data cache per core
  std::size_t l2 = 0;   // bytes of level-2 cache per core
};

// From the C library (sysconf), which reads CPUID or sysfs. Virtual machines sometimes report 0
// or absurd values: anything outside [16 KiB, 256 KiB] for L1d or [128 KiB, 8 MiB] for L2 is
// replaced by the smallest size of the machines this project runs on (32 KiB, 1 MiB), which
// blocks correctly, if a little conservatively, everywhere.
const CacheSizes& cache_sizes();

}  // namespace convnd::detail
