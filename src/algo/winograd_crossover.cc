// When Winograd beats the direct algorithms: rules fitted to scripts/winograd_crossover.py on
// the benchmark machine (2 threads, float32; the grids and their results are in
// docs/winograd.md). What the forward grid showed (measured after the transforms had their
// matrices compiled in and the threads took whole super blocks):
//   - With T tiles of 4^d outputs: fewer than 4 (64+ channels) or 49 (fewer channels) lose to
//     direct convolution: the transforms and the transformed weights cost more than the saved
//     multiplies.
//   - Below 64 channels direct convolution (see winograd_pays); at 64, F(2) is best with few
//     tiles (its transforms are cheapest and its tiles waste the least of small images), F(4)
//     from T = 196, F(6) from T = 256; from 128
//     channels, F(2) below 16 tiles, F(4) to 392, then F(6); transformed weights of F(4) past
//     16 MiB (C = K = 512), F(2). In 3-D, F(4) from T = 8 and 24 channels (F(6) is not
//     offered in 3-D; below 24 channels see winograd_pays). On
//     the grid this rule chose, on the geometric mean, within 4 % of the best measured variant
//     (at worst 1.7x, where the timings of neighbours disagree).
//   - 1-D (tcn_dil8: 64 channels, 4096 samples, batch 8) ran 1.3x slower than implicit_gemm
//     with F(4) (1.5x fewer multiplies in 1-D, against 4x in 2-D): 1-D stays direct.
//   - Fewer than 16 channels per group: the GEMMs are too narrow for the 12x32 microkernel.
#include <algorithm>
#include <string>

#include "algo/winograd.h"
#include "algo/winograd_weights.h"
#include "api/errors.h"

namespace convnd::detail {
namespace {

// Tiles of m outputs along every axis (per dilation phase, as winograd.cc cuts them), times N.
double tiles(const Geometry& g, int m) {
  double t = static_cast<double>(g.N);
  for (int a = 0; a < g.rank(); ++a) {
    const dim_t dil = std::min(g.dil[a], g.out[a]);
    // Phases p < dil hold ceil((out - p) / dil) outputs each; the sum of their tile counts
    // is at most out / m + dil.
    double along = 0;
    for (dim_t p = 0; p < dil && p < 4096; ++p) {
      const dim_t n = (g.out[a] - p + g.dil[a] - 1) / g.dil[a];
      along += static_cast<double>((n + m - 1) / m);
    }
    if (dil > 4096) along = static_cast<double>(g.out[a]);  // one output per phase
    t *= along;
  }
  return t;
}

// Bytes of F(4)'s transformed float32 weights: 6^d floats per (output, input) channel pair.
double f4_weight_bytes(const Geometry& g) {
  double b = 4.0 * static_cast<double>(g.groups) * static_cast<double>(g.Cg()) *
             static_cast<double>(g.Kg());
  for (int a = 0; a < g.rank(); ++a) b *= 6;
  return b;
}

// # What a one-off call pays
// The rules above were measured with constant weights: the transformed weights U made once per
// Plan. Without that promise (a one-off convnd.conv, or training, where the weights change every
// step) every run transforms them again, alpha^d values per (output, input) channel pair, while
// direct convolution only repacks its k^d. On r50_res4_3x3_b1 (C = K = 256, 14x14, batch 1) that
// made a per-call F(4) 3.3 ms against 0.70 with constant weights, where direct convolution takes
// about 1.1. So, per run, in multiply-add equivalents of the direct algorithm:
//   direct    = MACs + kPackCost * C K k^d / groups
//   Winograd  = MACs / speedup(m, d) + kTransformCost * C K alpha^d / groups
// and Winograd is kept only when it is cheaper. kTransformCost (~1 ns per transformed value, in
// double, at ~100 GMAC/s of direct convolution on 2 threads) and kPackCost (a strided copy) come
// from the per-call timings of the machine; speedup(m, d) is a conservative reading of
// the constant-weight grid in docs/winograd.md (2-D: F(2) 1.6x, F(4) 2.2x, F(6) 2.5x; 3-D F(4)
// 3x, F(2) 2x).
constexpr double kTransformCost = 110;
constexpr double kPackCost = 20;

double winograd_speedup(int m, int rank) {
  if (rank == 3) return m == 2 ? 2.0 : 3.0;
  return m == 2 ? 1.6 : m == 4 ? 2.2 : 2.5;
}

}  // namespace

std::string winograd_weight_transform_pays(const Geometry& g, int m) {
  if (g.constant_weights) return {};
  double macs = static_cast<double>(g.N) * static_cast<double>(g.groups) *
                static_cast<double>(g.Cg()) * static_cast<double>(g.Kg());
  double pairs = static_cast<double>(g.groups) * static_cast<double>(g.Cg()) *
                 static_cast<double>(g.Kg());
  double taps = 1, values = 1;
  for (int a = 0; a < g.rank(); ++a) {
    macs *= static_cast<double>(g.out[a]) * static_cast<double>(g.kernel[a]);
    taps *= static_cast<double>(g.kernel[a]);
    values *= m + 2;
  }
  const double direct = macs + kPackCost * pairs * taps;
  const double winograd = macs / winograd_speedup(m, g.rank()) + kTransformCost * pairs * values;
  if (winograd < direct) return {};
  return rule("weights not constant: transforming them every run (", pairs * values,
              " values) would cost more than F(", m, ") saves; direct convolution measured "
              "faster per call (PlanOptions::constant_weights keeps them transformed)");
}

std::string winograd_pays(const Geometry& g, Op op, int m) {
  if (op != Op::fwd) return "forward pass only";
  // float64 is the reference-quality path (and the drop-in modules' promise of the originals'
  // numbers to 1e-12): direct summation unless Winograd is asked for by name.
  if (g.dtype == DType::f64) return "float64 keeps direct summation";
  if (g.rank() == 1) return "1-D: measured slower than the direct algorithms";
  if (g.Cg() < 16 || g.Kg() < 16)
    return rule("under 16 channels per group (", g.Cg(), " in, ", g.Kg(), " out)");
  const double t4 = tiles(g, 4);
  const dim_t c = std::min(g.Cg(), g.Kg());
  const double weights4 = f4_weight_bytes(g);
  int best = 0;
  if (g.rank() == 3) {
    // Since padded_igemm's channel-rows tile (8 output channels x 48 positions), direct
    // convolution wins below 24 channels (docs/winograd.md).
    best = c >= 24 && t4 >= 8 ? 4 : 0;
  } else if (weights4 > 16.0 * (1 << 20)) {
    best = 2;  // F(4)'s transformed weights (36 C K floats) past 16 MiB: F(2)'s are 16 C K
  } else if (c >= 128) {
    best = t4 < 16 ? 2 : t4 < 392 ? 4 : 6;
  } else if (c < 64) {
    // Since padded_igemm's channel-rows tile, direct convolution wins below 64 channels in
    // 2-D too; at 64 F(4) still wins (docs/winograd.md).
    best = 0;
  } else {
    best = t4 < 4 ? 0 : t4 < 196 ? 2 : t4 < 256 ? 4 : 6;
  }
  if (best == 0)
    return rule(t4, " tiles of 4^", g.rank(), " outputs: direct convolution measured faster");
  if (std::string why = winograd_weight_transform_pays(g, best); !why.empty()) return why;
  // 2-D layers with 32+ channels per group run on brgemm_direct, which measured faster (one
  // thread, CPU time, median of 3-5) where F(2) is chosen for F(4)'s weight size
  // (r50_res5_3x3_b1, C = K = 512 at 7x7: channels-last 1.15 ms against F(2)'s 1.39,
  // channels-first 0.87 against 1.06) and on dilated layers, whose tiles are cut per dilation
  // phase (aspp_dil6_b1: channels-last 4.74 against F(4)'s 6.42, channels-first 4.59 against
  // 4.86). Elsewhere Winograd stayed ahead (r50_res4_3x3_b1: F(4) 0.73, brgemm_direct 0.95;
  // n1c256k256s8x8 F(2) 0.29, brgemm_direct 0.33).
  if (g.Cg() >= 32 && g.rank() == 2) {
    const bool dilated = std::any_of(g.dil.begin(), g.dil.end(), [](dim_t d) { return d > 1; });
    if (dilated || weights4 > 16.0 * (1 << 20))
      return "brgemm_direct measured faster (dilated, or F(4)'s weights past 16 MiB)";
  }
  if (m != best) return rule("F(", best, ") measured faster here");
  return {};
}

// The weight gradient (scripts/winograd_crossover.py --pass bwd_weights; docs/winograd.md).
// Winograd pays only with many tiles of 4^d outputs and enough channels (2-D: 196 tiles and 64
// channels; 3-D: 8 tiles channels-first, 64 channels-last, and 24 channels); transformed
// weights past 8 MiB (C = K = 256 in 2-D): the direct gradient was faster everywhere measured.
// (The history, F(3, 2) included, is in docs/winograd.md.)
std::string winograd_weights_pays(const Geometry& g, Op op, int m) {
  if (op != Op::bwd_weights) return "backward-weights pass only";
  if (g.dtype == DType::f64) return "float64 keeps direct summation";
  if (g.rank() == 1) return "1-D: measured slower than the direct algorithms";
  if (g.Cg() < 16 || g.Kg() < 16)
    return rule("under 16 channels per group (", g.Cg(), " in, ", g.Kg(), " out)");
  const double t4 = tiles(g, 4);
  const bool three_d = g.rank() == 3, cl = g.layout == Layout::channels_last;
  const double c = static_cast<double>(std::min(g.Cg(), g.Kg()));
  const double weights4 = f4_weight_bytes(g);
  const double mib = 1 << 20;
  // Since the direct gradient became direct_wgrad (a GEMM over positions, not a forward
  // convolution), F(3, 2) no longer wins anywhere measured: `convnd bench --spec S --pass
  // bwd_weights` with each algorithm forced (Xeon, AVX-512, 2 threads, ms, direct / F(3,2) /
  // F(3,4)): n8c16k16s56x56k3x3p1 2.7 / 5.3 / 4.0; n2c16k16s24x24x24k3x3x3p1 9.0 / 14.3 / 7.4;
  // n4c24k24s16x16x16k3x3x3p1 7.1 / 8.3 / 5.0; n8c32k32s28x28k3x3p1 1.15 / 1.81 / 1.05.
  // With interior rows stepped per tap (direct / F(3,4)): n2c16k16s24x24x24k3x3x3p1 5.6 / 7.6;
  // n4c24k24s16x16x16k3x3x3p1 6.0 / 5.2; n2c32k32s32x32x32k3x3x3p1 31.7 / 26.4.
  // The other F(3, 4) rules are the earlier measurements against the old direct algorithm.
  int best = 0;  // 0: direct
  if (weights4 > 8 * mib) {
    best = 0;
  } else if (three_d) {
    best = c >= 24 && t4 >= (cl ? 64 : 8) ? 4 : 0;
  } else {
    // 2-D: from 64 channels; at 32 direct_wgrad with the narrow tile measured faster
    // (docs/winograd.md).
    best = t4 >= 196 && c >= 64 ? 4 : 0;
  }
  if (best == 0)
    return rule(t4, " tiles of 4^", g.rank(), " outputs: the direct gradient measured faster");
  if (m != best) return rule("F(3, ", best, ") measured faster here");
  return {};
}

}  // namespace convnd::detail
