// The benchmark peer: oneDNN (libdnnl) timing the same convolution in the same process, with the
// memory formats it prefers (format_tag::any) and every reorder outside the timed region.
// Built only when CMake finds oneDNN; available() says whether this build has it.
#pragma once

#include <optional>
#include <string>

#include "convnd/convnd.h"

namespace convnd::bench {

bool onednn_available();
std::string onednn_version();

// Median milliseconds of `repeats` timed runs after warm-up, or nothing when oneDNN is not in
// this build or does not support the problem.
std::optional<double> onednn_time_ms(const Spec& spec, Pass pass, int threads, int repeats);

}  // namespace convnd::bench
