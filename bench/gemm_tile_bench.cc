// Google Benchmark of the GEMM microkernels on L1-resident operands: one benchmark per kernel of
// the list (src/kernels/gemm_kernels.inc) per ISA target (its tile: 12x32 f32 on AVX3, 6x16 on
// AVX2, ...) per reduction length kc, e.g. f32_gemm_tile_cols/AVX3/256: the ceiling that the
// convolution algorithms approach. The operands are laid out as each kernel's form reads them
// (gemm_operands.h), so a kernel added to the list is benchmarked with no edit here. Reports
// FLOPS and the share of the one-core FMA peak measured in the same process.
//   build/bench/kernel_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fma_peak.h"
#include "kernels/gemm_kernels.h"
#include "kernels/gemm_operands.h"

namespace {

using convnd::kernels::GemmKernel;
using convnd::kernels::GemmKernelId;

double one_core_peak() {
  static const double peak = convnd::bench::measure_fma_peak_gflops(1);
  return peak;
}

// Runs with Highway's dispatch restricted to `target`, so the kernel is that ISA's.
template <class T>
void BM_GemmKernel(benchmark::State& state, std::int64_t target, GemmKernelId id) {
  hwy::SetSupportedTargetsForTest(target);
  const GemmKernel k = convnd::kernels::gemm_kernel(id);
  const std::size_t kc = static_cast<std::size_t>(state.range(0));
  const convnd::kernels::GemmOperands<T> ops(k, kc, std::vector<T>(kc * k.mr, T(0.5)),
                                             std::vector<T>(kc * k.nr, T(0.25)));
  std::vector<T> c(k.mr * k.nr, T(0));
  for (auto _ : state) {
    ops.run(c.data(), k.nr);
    benchmark::DoNotOptimize(c.data());
  }
  const double flops = 2.0 * static_cast<double>(kc * k.mr * k.nr);
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_pct"] = benchmark::Counter(
      flops * 100.0 / (one_core_peak() * 1e9), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(k.isa) + " " + std::to_string(k.mr) + "x" + std::to_string(k.nr));
  hwy::SetSupportedTargetsForTest(0);
}

// The one-core FMA peak, measured in the same process, to read the kernels' FLOPS against.
void FmaPeak(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(one_core_peak());
  state.counters["peak_GFLOPs_1core"] = one_core_peak();
}

// One benchmark per (kernel, target): f32_gemm_tile_cols/AVX3/256 and so on.
int register_all() {
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    if (target == HWY_SCALAR || target == HWY_EMU128) continue;  // not a SIMD tile
    hwy::SetSupportedTargetsForTest(target);
    for (GemmKernelId id : convnd::kernels::kGemmKernels) {
      const GemmKernel k = convnd::kernels::gemm_kernel(id);
      const std::string name = std::string(k.name) + "/" + hwy::TargetName(target);
      if (k.dtype == convnd::DType::f32) {
        benchmark::RegisterBenchmark(name.c_str(), BM_GemmKernel<float>, target, id)
            ->Arg(16)
            ->Arg(64)
            ->Arg(256)
            ->Arg(1024);
      } else {
        benchmark::RegisterBenchmark(name.c_str(), BM_GemmKernel<double>, target, id)
            ->Arg(64)
            ->Arg(256);
      }
    }
  }
  hwy::SetSupportedTargetsForTest(0);
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK(FmaPeak)->Iterations(1);
BENCHMARK_MAIN();
