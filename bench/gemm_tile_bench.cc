// Google Benchmark of the GEMM microkernel on L1-resident packed panels, per reduction length kc:
// the ceiling that the convolution algorithms approach. Reports FLOPS per kernel and the one-core
// FMA peak measured in the same process.
//   build/bench/kernel_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <vector>

#include "fma_peak.h"
#include "kernels/gemm_tile.h"

namespace {

double one_core_peak() {
  static const double peak = convnd::bench::measure_fma_peak_gflops(1);
  return peak;
}

template <class T>
void BM_GemmTile(benchmark::State& state) {
  const auto shape = convnd::kernels::tile_shape(sizeof(T) == 4 ? convnd::DType::f32 : convnd::DType::f64);
  const std::size_t kc = static_cast<std::size_t>(state.range(0));
  std::vector<T> a(kc * shape.mr, T(0.5)), b(kc * shape.nr, T(0.25)), c(shape.mr * shape.nr, T(0));
  for (auto _ : state) {
    convnd::kernels::gemm_tile<T>(kc, a.data(), b.data(), c.data(), shape.nr);
    benchmark::DoNotOptimize(c.data());
  }
  const double flops = 2.0 * static_cast<double>(kc * shape.mr * shape.nr);
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(convnd::kernels::isa_name()) + " " + std::to_string(shape.mr) + "x" +
                 std::to_string(shape.nr));
}

// The one-core FMA peak, measured in the same process, to read the kernels' FLOPS against.
void FmaPeak(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(one_core_peak());
  state.counters["peak_GFLOPs_1core"] = one_core_peak();
}

}  // namespace

BENCHMARK(BM_GemmTile<float>)->Arg(16)->Arg(64)->Arg(256)->Arg(1024);
BENCHMARK(BM_GemmTile<double>)->Arg(16)->Arg(64)->Arg(256)->Arg(1024);
BENCHMARK(FmaPeak)->Iterations(1);
BENCHMARK_MAIN();
