// What this build runs on this machine, for `convnd info` and bug reports.
#include "convnd/convnd.h"
#include "kernels/gemm_tile.h"
#include "runtime/threads.h"

namespace convnd {

const char* simd_target() { return kernels::isa_name(); }

int default_threads() { return detail::hardware_threads(); }

}  // namespace convnd
