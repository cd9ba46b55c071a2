// Google Benchmark of the GEMM microkernels on L1-resident operands, per ISA target (each tile
// shape: 12x32 on AVX3, 6x16 on AVX2, ...), per way of reading the operands (packed panel, A row
// pointers, A column pointers, B row pointers: gemm_bptr) and per reduction length kc: the ceiling that the convolution algorithms
// approach. Reports FLOPS and the share of the one-core FMA peak measured in the same process.
//   build/bench/kernel_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fma_peak.h"
#include "kernels/gemm_bptr.h"
#include "kernels/gemm_tile.h"

namespace {

double one_core_peak() {
  static const double peak = convnd::bench::measure_fma_peak_gflops(1);
  return peak;
}

enum Variant : int { kPacked, kRows, kCols, kBptr, kBptrNarrow };

// Runs with Highway's dispatch restricted to `target`, so the exported kernels are that ISA's.
template <class T>
void BM_GemmTile(benchmark::State& state, std::int64_t target, Variant variant) {
  hwy::SetSupportedTargetsForTest(target);
  const auto narrow = convnd::kernels::bptr_kernel<T>(convnd::kernels::BptrTile::narrow);
  const auto shape =
      variant == kBptrNarrow
          ? convnd::kernels::TileShape{narrow.mr, narrow.nr}
          : convnd::kernels::tile_shape(sizeof(T) == 4 ? convnd::DType::f32 : convnd::DType::f64);
  const std::size_t kc = static_cast<std::size_t>(state.range(0));
  std::vector<T> a(kc * shape.mr, T(0.5)), b(kc * shape.nr, T(0.25)), c(shape.mr * shape.nr, T(0));
  std::vector<const T*> rows(shape.mr), cols(kc), brows(kc);
  // Row pointers: mr runs of kc values (all inside `a`); column pointers: kc runs of mr values.
  for (std::size_t i = 0; i < shape.mr; ++i) rows[i] = a.data() + i * kc;
  for (std::size_t p = 0; p < kc; ++p) cols[p] = a.data() + p * shape.mr;
  for (std::size_t p = 0; p < kc; ++p) brows[p] = b.data() + p * shape.nr;  // gemm_bptr's B rows
  for (auto _ : state) {
    if (variant == kPacked) convnd::kernels::gemm_tile<T>(kc, a.data(), b.data(), c.data(), shape.nr);
    if (variant == kRows) convnd::kernels::gemm_tile_rows<T>(kc, rows.data(), b.data(), c.data(), shape.nr);
    if (variant == kCols) convnd::kernels::gemm_tile_cols<T>(kc, cols.data(), b.data(), c.data(), shape.nr);
    if (variant == kBptr) convnd::kernels::gemm_bptr<T>(kc, a.data(), brows.data(), c.data(), shape.nr);
    if (variant == kBptrNarrow) narrow(kc, a.data(), brows.data(), c.data(), shape.nr);
    benchmark::DoNotOptimize(c.data());
  }
  const double flops = 2.0 * static_cast<double>(kc * shape.mr * shape.nr);
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_pct"] = benchmark::Counter(
      flops * 100.0 / (one_core_peak() * 1e9), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(convnd::kernels::isa_name()) + " " + std::to_string(shape.mr) + "x" +
                 std::to_string(shape.nr));
  hwy::SetSupportedTargetsForTest(0);
}

// The one-core FMA peak, measured in the same process, to read the kernels' FLOPS against.
void FmaPeak(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(one_core_peak());
  state.counters["peak_GFLOPs_1core"] = one_core_peak();
}

// One benchmark per (dtype, target, variant): f32_igemm_12x32/AVX3/cols/256 and so on.
int register_all() {
  const char* names[] = {"packed", "rows", "cols", "bptr", "bptr_narrow"};
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    if (target == HWY_SCALAR || target == HWY_EMU128) continue;  // not a SIMD tile
    for (int v : {kPacked, kRows, kCols, kBptr, kBptrNarrow}) {
      const std::string suffix = std::string(hwy::TargetName(target)) + "/" + names[v];
      benchmark::RegisterBenchmark(("f32_gemm_tile/" + suffix).c_str(), BM_GemmTile<float>, target,
                                   static_cast<Variant>(v))
          ->Arg(16)->Arg(64)->Arg(256)->Arg(1024);
      benchmark::RegisterBenchmark(("f64_gemm_tile/" + suffix).c_str(), BM_GemmTile<double>, target,
                                   static_cast<Variant>(v))
          ->Arg(64)->Arg(256);
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK(FmaPeak)->Iterations(1);
BENCHMARK_MAIN();
