// For the kernel tests: restricts Highway's dispatch to one target for the scope of the object,
// so that the exported kernels run that target's code; restores the CPU's own set afterwards.
// Loop over hwy::SupportedAndGeneratedTargets() to test every ISA this build has and this CPU
// runs (AVX3, AVX2, SSE4, ...).
#pragma once

#include <hwy/targets.h>

#include <cstdint>

namespace convnd::kernels {

class OnlyTarget {
 public:
  explicit OnlyTarget(std::int64_t target) { hwy::SetSupportedTargetsForTest(target); }
  ~OnlyTarget() { hwy::SetSupportedTargetsForTest(0); }
  OnlyTarget(const OnlyTarget&) = delete;
  OnlyTarget& operator=(const OnlyTarget&) = delete;
};

}  // namespace convnd::kernels
