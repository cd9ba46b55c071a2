// Google Benchmark of the FFT convolution's transforms (algo/fft_batch.h), float32, one thread,
// on the work the convolution gives them: 16 real rows of length L at once (the last axis), and
// a complex transform of length n over 256 interleaved columns (a leading axis). Reports the
// time per transform (items/s = transforms/s); scripts/fft_vs_numpy.py times numpy.fft
// (pocketfft) on the same arrays and prints both.
//   build/bench/kernel_bench --benchmark_filter=Fft
#include <benchmark/benchmark.h>

#include <vector>

#include "algo/fft_batch.h"

namespace {

using convnd::detail::fft::BatchFft;
using convnd::detail::fft::RealFft;

void BM_FftReal16Rows(benchmark::State& state) {
  const std::size_t L = static_cast<std::size_t>(state.range(0)), n = L / 2, s = 16;
  RealFft<float> f(static_cast<convnd::dim_t>(L));
  std::vector<float> z(2 * n * s, 0.5f), X(2 * (n + 1) * s), scratch(2 * n * s);
  for (auto _ : state) {
    f.forward(z.data(), z.data() + n * s, s, X.data(), X.data() + (n + 1) * s, scratch.data());
    benchmark::DoNotOptimize(X.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s));
}

void BM_FftComplexColumns(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0)), s = 256;
  BatchFft<float> f(static_cast<convnd::dim_t>(n));
  std::vector<float> re(n * s, 0.5f), im(n * s, 0.25f), scratch(2 * n * s);
  for (auto _ : state) {
    f.run(re.data(), im.data(), s, scratch.data(), false);
    benchmark::DoNotOptimize(re.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s));
}

BENCHMARK(BM_FftReal16Rows)->Arg(90)->Arg(256)->Arg(512)->Arg(1024)->Arg(4096)->Arg(16384);
BENCHMARK(BM_FftComplexColumns)->Arg(45)->Arg(90)->Arg(256)->Arg(512)->Arg(1000);

}  // namespace
