// Subcommands of the `convnd` tool. Each lives in its own cmd_*.cc and registers itself on the
// CLI11 app; main.cc only lists them.
#pragma once

#include <CLI/CLI.hpp>

namespace convnd::tool {

void add_explain_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_filter_command(CLI::App& app);
void add_bench_command(CLI::App& app);

}  // namespace convnd::tool
