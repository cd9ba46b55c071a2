// The flags that describe one convolution, shared by `explain` and `run`: they fill a Spec.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::tool {

struct SpecFlags {
  std::vector<dim_t> input, kernel, stride, dilation, output_padding, output_size;
  dim_t N = 1, C = 1, K = 1, groups = 1;
  std::string padding = "0", same_policy, mode = "zeros", layout = "channels_first",
              dtype = "float32";
  bool bias = false, transposed = false, strict = false;

  // shape_flags: whether N, C, K and the extents are flags (explain) or come from files (run).
  void add_to(CLI::App& cmd, bool shape_flags);
  Spec to_spec() const;
};

}  // namespace convnd::tool
