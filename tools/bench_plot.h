// `convnd bench --plot FILE.png`: the run's rows as a bar chart. The drawing is
// scripts/plot_bench.py (matplotlib), compiled into the tool as text so that the flag works from
// any folder and after install, and run with $CONVND_PYTHON (default /usr/bin/python3).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace convnd::tool {

// Throws convnd::Error naming '--plot' when the interpreter cannot start or lacks matplotlib, or
// png_path's folder is not writable. Called before the timing starts, so that a missing package
// or a mistyped path costs no benchmark run.
void check_bench_plot(const std::string& png_path);

// rows: the array that `--format json` prints. Throws convnd::Error when the script fails.
void write_bench_plot(const nlohmann::json& rows, double peak_gflops, const std::string& title,
                      const std::string& png_path);

// The text of scripts/plot_bench.py (generated from bench_plot_script.cc.in).
const std::string& plot_bench_script();

}  // namespace convnd::tool
