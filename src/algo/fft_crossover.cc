// When the FFT convolution beats direct summation: a cost estimate of each, in seconds on the
// benchmark machine (2 threads, float32), with constants read off scripts/fft_crossover.py's grid
// (docs/fft.md has the grid and what the rule chose on it).
//
//   direct = MACs / R,  R = 40 G/s depthwise (one channel per group), 35 G/s under 16
//            channels per group, 60 G/s from 16: the best rates the direct algorithms reached
//            on the grid's large kernels (so the estimate flatters direct summation);
//   fft    = a_rank * sum over transforms of L log2 L  +  b * frequencies multiplied,
//            L = prod L_d of one tile; transforms: the kernels (K Cg per run, none when a plan
//            with constant weights keeps them), each tile's C inputs and K outputs;
//            a_1 = 200 ps (1-D: the real transform's unpacking and the row transposes are a
//            larger share), a_2 = 80 ps, a_3+ = 100 ps; b = 1.2 ns per (output, input)
//            channel pair and frequency when the kernel spectra (K Cg of them, 8 bytes a
//            frequency) pass 2 MiB: the channel reduction streams them from memory, at the
//            ~8 GB/s the grid showed (docs/measurements.md);
//            0.3 ns when they stay in the caches.
// FFT is chosen when 1.25 fft < direct: a margin for the timings' noise on a shared machine,
// so that a layer near the crossover stays on direct summation.
//
// Never chosen unforced: float64 (the reference-quality path; the drop-in modules promise the
// originals' numbers to 1e-12, which an FFT's rounding, ~u log2 L times the norms, does not keep),
// precision 'highest' (direct summation only: the FFT's error bound is not direct's), and the
// other operations (not served).
#include "algo/fft_crossover.h"

#include <algorithm>
#include <cmath>

#include "algo/fft_shape.h"
#include "api/errors.h"

namespace convnd::detail {
namespace {

constexpr double kMargin = 1.25;

double direct_rate(const Geometry& g) {
  if (g.Cg() == 1) return 40e9;
  return g.Cg() < 16 ? 35e9 : 60e9;
}

double transform_cost(int rank) {
  return rank == 1 ? 200e-12 : rank == 2 ? 80e-12 : 100e-12;
}

}  // namespace

FftCosts fft_costs(const Geometry& g) {
  FftCosts c;
  double macs = static_cast<double>(g.N) * static_cast<double>(g.K) * static_cast<double>(g.Cg());
  for (int a = 0; a < g.rank(); ++a)
    macs *= static_cast<double>(g.out[a]) * static_cast<double>(g.kernel[a]);
  c.direct = macs / direct_rate(g);
  const fft::Shape s = fft::shape_for(g);
  const double N = static_cast<double>(g.N), tiles = static_cast<double>(s.tiles);
  const double pairs = static_cast<double>(g.K) * static_cast<double>(g.Cg());
  // Kernel spectra (fft_shape.h): none per run once cached (constant weights), else once.
  const double kernels = fft::kernel_spectra(g, s) == fft::KernelSpectra::cached ? 0.0 : pairs;
  const double transforms = kernels + N * tiles * static_cast<double>(g.C + g.K);
  const double per = s.total * std::log2(std::max(2.0, s.total));
  const double freqs = N * tiles * pairs * static_cast<double>(s.spectrum);
  // The reduction reads K Cg kernel spectra per tile: from memory past a few MiB, else from
  // the caches (1-D, 16 channels, 16384 samples: 0.3 MiB of spectra, reduction 4x faster).
  const double w_bytes = pairs * 2 * static_cast<double>(s.spectrum) * 4;
  const double per_freq = w_bytes > 2.0 * (1 << 20) ? 1.2e-9 : 0.3e-9;
  c.fft = transform_cost(g.rank()) * transforms * per + per_freq * freqs;
  return c;
}

std::string fft_pays(const Geometry& g, Op op) {
  if (op != Op::fwd) return "forward pass only";
  if (g.precision == Precision::highest) return "precision 'highest' keeps direct summation";
  if (g.dtype == DType::f64) return "float64 keeps direct summation";
  const FftCosts c = fft_costs(g);
  if (kMargin * c.fft < c.direct) return {};
  return rule("estimated ", c.fft * 1e3, " ms against ", c.direct * 1e3,
              " ms for direct summation (fft_crossover.cc)");
}

}  // namespace convnd::detail
