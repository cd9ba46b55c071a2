// The FMA peak: 16 independent accumulator chains (2 FMA pipes x 4 cycles latency needs >= 8),
// register-resident, so the loop is bound by FMA throughput alone.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "fma_peak.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <omp.h>

#include <chrono>

#include "fma_peak.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::bench {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Returns FLOPs done; `sink` keeps the compiler from removing the chains.
double FmaLoop(long iterations, float* sink) {
  const hn::ScalableTag<float> d;
  // Distinct starting values: identical chains would be merged into one by the compiler.
  auto a0 = hn::Set(d, 1.00f), a1 = hn::Set(d, 1.01f), a2 = hn::Set(d, 1.02f);
  auto a3 = hn::Set(d, 1.03f), a4 = hn::Set(d, 1.04f), a5 = hn::Set(d, 1.05f);
  auto a6 = hn::Set(d, 1.06f), a7 = hn::Set(d, 1.07f), a8 = hn::Set(d, 1.08f);
  auto a9 = hn::Set(d, 1.09f), a10 = hn::Set(d, 1.10f), a11 = hn::Set(d, 1.11f);
  auto a12 = hn::Set(d, 1.12f), a13 = hn::Set(d, 1.13f), a14 = hn::Set(d, 1.14f);
  auto a15 = hn::Set(d, 1.15f);
  const auto m = hn::Set(d, 0.999999f), c = hn::Set(d, 1e-7f);
  for (long i = 0; i < iterations; ++i) {
    a0 = hn::MulAdd(a0, m, c); a1 = hn::MulAdd(a1, m, c); a2 = hn::MulAdd(a2, m, c);
    a3 = hn::MulAdd(a3, m, c); a4 = hn::MulAdd(a4, m, c); a5 = hn::MulAdd(a5, m, c);
    a6 = hn::MulAdd(a6, m, c); a7 = hn::MulAdd(a7, m, c); a8 = hn::MulAdd(a8, m, c);
    a9 = hn::MulAdd(a9, m, c); a10 = hn::MulAdd(a10, m, c); a11 = hn::MulAdd(a11, m, c);
    a12 = hn::MulAdd(a12, m, c); a13 = hn::MulAdd(a13, m, c); a14 = hn::MulAdd(a14, m, c);
    a15 = hn::MulAdd(a15, m, c);
  }
  auto s = hn::Add(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), hn::Add(hn::Add(a4, a5), hn::Add(a6, a7)));
  s = hn::Add(s, hn::Add(hn::Add(hn::Add(a8, a9), hn::Add(a10, a11)), hn::Add(hn::Add(a12, a13), hn::Add(a14, a15))));
  *sink = hn::GetLane(s);
  return 2.0 * 16.0 * static_cast<double>(hn::Lanes(d)) * static_cast<double>(iterations);
}

}  // namespace HWY_NAMESPACE
}  // namespace convnd::bench
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::bench {
HWY_EXPORT(FmaLoop);

double measure_fma_peak_gflops(int threads) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double flops = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    {
      float sink = 0;
      flops += HWY_DYNAMIC_DISPATCH(FmaLoop)(20'000'000, &sink);
      if (sink == 12345.f) flops += 1;  // never true; keeps `sink` alive
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops / s / 1e9);
  }
  return best;
}

}  // namespace convnd::bench
#endif
