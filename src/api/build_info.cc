// What this build runs on this machine, for `convnd info` and bug reports.
#include "convnd/convnd.h"
#include "kernels/gemm_tile.h"
#include "runtime/threads.h"

namespace convnd {

const char* simd_target() { return kernels::isa_name(); }

int default_threads() { return detail::hardware_threads(); }

void set_thread_source(ThreadSource source) {
  detail::set_use_openmp_team(source == ThreadSource::kOpenMP);
}

ThreadSource thread_source() {
  return detail::use_openmp_team() ? ThreadSource::kOpenMP : ThreadSource::kPool;
}

}  // namespace convnd
