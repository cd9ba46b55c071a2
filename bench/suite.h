// The benchmark suite: named convolution layers (bench/suite.json, embedded at build time), each
// turned into a convnd Spec, with the passes it is timed for.
#pragma once

#include <string>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::bench {

struct Case {
  std::string name;
  Spec spec;  // float32, channels-first; the runner switches the layout
  std::vector<Pass> passes;
};

// Parses a suite file's text (the format of bench/suite.json). Throws convnd::Error.
std::vector<Case> parse_suite(const std::string& json_text, const std::string& origin);
// The suite compiled into the binary.
const std::string& embedded_suite();

// Nominal FLOPs of a pass: 2 * N * K * prod(O) * (C/groups) * prod(k) of the forward-equivalent
// convolution (the same for all three passes; taps in padding count).
double pass_flops(const Spec& spec);

}  // namespace convnd::bench
