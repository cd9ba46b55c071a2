// The second benchmark peer: XNNPACK (Debian's libxnnpack-dev) timing the same convolution in
// the same process, for the problems it covers: 2-D forward, not transposed, zero padding,
// float32, channels-last (its convolution2d_nhwc operator, weights packed at creation, outside
// the timing, as inference runs it). Built only when CMake finds XNNPACK and pthreadpool.
#pragma once

#include <optional>
#include <string>

#include "convnd/convnd.h"

namespace convnd::bench {

bool xnnpack_available();

// Median milliseconds of `repeats` timed runs after a warm-up, or nothing when XNNPACK is not in
// this build or does not cover the problem.
std::optional<double> xnnpack_time_ms(const Spec& spec, Pass pass, int threads, int repeats);

}  // namespace convnd::bench
