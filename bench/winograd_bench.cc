// Google Benchmark of the Winograd transform kernels (winograd_transform.h) per ISA target: each
// compiled-in matrix applied along every axis of a rank-2 tile for a block of lanes (the input
// transform's tiles or the output transform's channels side by side), and the generic kernel
// with the same matrix for comparison. Reports the values produced per second.
//   build/bench/kernel_bench --benchmark_filter=Winograd
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/winograd_transform.h"

namespace {

using convnd::kernels::WinogradMatrix;

// known: the compiled-in kernel; otherwise the generic one reading the matrix as data.
void BM_WinogradApply(benchmark::State& state, std::int64_t target, WinogradMatrix which,
                      bool known) {
  hwy::SetSupportedTargetsForTest(target);
  const convnd::kernels::FixedView m = convnd::kernels::winograd_fixed_matrix(which);
  const std::vector<float> coef(m.v, m.v + m.rows * m.cols);
  const int rank = 2;
  const auto lanes = static_cast<std::size_t>(state.range(0));
  const auto side = static_cast<std::size_t>(std::max(m.rows, m.cols));
  const std::size_t n = side * side * lanes;
  std::vector<float> src(n, 0.5f), dst(n), tmp(n);
  for (auto _ : state) {
    if (known)
      convnd::kernels::winograd_apply_known<float>(which, rank, lanes, src.data(), dst.data(),
                                                   tmp.data());
    else
      convnd::kernels::winograd_apply<float>(rank, m.rows, m.cols, coef.data(), lanes, src.data(),
                                             dst.data(), tmp.data());
    benchmark::DoNotOptimize(dst.data());
  }
  state.counters["values"] =
      benchmark::Counter(static_cast<double>(m.rows * m.rows) * static_cast<double>(lanes),
                         benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(hwy::TargetName(target));
  hwy::SetSupportedTargetsForTest(0);
}

// WinogradApply/bt6/AVX3/known/64 and so on.
int register_all() {
  const struct {
    WinogradMatrix which;
    const char* name;
  } matrices[] = {{WinogradMatrix::bt2, "bt2"}, {WinogradMatrix::bt4, "bt4"},
                  {WinogradMatrix::bt6, "bt6"}, {WinogradMatrix::at2, "at2"},
                  {WinogradMatrix::at4, "at4"}, {WinogradMatrix::at6, "at6"},
                  {WinogradMatrix::gw2, "gw2"}, {WinogradMatrix::gw4, "gw4"}};
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    if (target == HWY_SCALAR || target == HWY_EMU128) continue;
    for (const auto& m : matrices)
      for (bool known : {true, false}) {
        const std::string name = std::string("WinogradApply/") + m.name + "/" +
                                 hwy::TargetName(target) + (known ? "/known" : "/generic");
        benchmark::RegisterBenchmark(name.c_str(), BM_WinogradApply, target, m.which, known)
            ->Arg(16)
            ->Arg(64);
      }
  }
  return 0;
}
const int registered = register_all();

}  // namespace
