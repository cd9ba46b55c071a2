// The flags that describe one convolution, shared by `explain`, `run` and `bench`: they fill a
// Spec, or `--spec STRING` gives the whole problem string (Spec::to_string's format) instead.
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
  std::string spec_string;             // --spec
  std::vector<CLI::Option*> options;   // every flag above; --spec excludes them all

  // shape_flags: whether N, C, K and the extents are flags (explain) or come from files (run).
  void add_to(CLI::App& cmd, bool shape_flags);
  // `--spec STRING`, exclusive with every option in `options` (call after adding them all).
  void add_spec_option(CLI::App& cmd);
  // need_extents: --input and --kernel must be given when --spec is not.
  Spec to_spec(bool need_extents) const;
};

// Spec::parse for the `--spec` flag: its errors name '--spec', as the user typed it.
Spec parse_spec_flag(const std::string& text);

}  // namespace convnd::tool
