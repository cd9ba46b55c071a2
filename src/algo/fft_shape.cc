#include "algo/fft_shape.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "algo/fft_transform.h"
#include "api/checked.h"

namespace convnd::detail::fft {
namespace {

// (k - 1) dil + 1: the samples one output reads along an axis.
dim_t span(const Geometry& g, int a, Fits& f) {
  return f.add(f.mul(g.kernel[a] - 1, g.dil[a]), 1);
}

dim_t reach_of(const Geometry& g, int a, dim_t outs, Fits& f) {
  return f.add(f.mul(outs - 1, g.stride[a]), span(g, a, f));
}

// The transform length for a reach along axis a: the last axis is real (even, half fast).
dim_t length_for(dim_t reach, bool last) {
  if (!last) return next_fast_length(reach);
  return 2 * next_fast_length((reach + 1) / 2);
}

}  // namespace

bool axes_fit(const Geometry& g) {
  for (int a = 0; a < g.rank(); ++a) {
    Fits f;
    const dim_t r = reach_of(g, a, g.out[a], f);
    if (!f || r > kMaxAxisLength) return false;
  }
  return true;
}

dim_t tiles_per_task(const Shape& s) {
  if (s.rows >= kRowLanes) return 1;
  return std::min(s.tiles, (kRowLanes + s.rows - 1) / s.rows);
}

KernelSpectra kernel_spectra(const Geometry& g, const Shape& s) {
  const double bytes = static_cast<double>(g.K) * static_cast<double>(g.Cg()) * 2.0 *
                       static_cast<double>(s.spectrum) * (g.dtype == DType::f32 ? 4.0 : 8.0);
  if (g.constant_weights && bytes <= kMaxCachedSpectraBytes) return KernelSpectra::cached;
  if (g.N > 1 || s.tiles > tiles_per_task(s)) return KernelSpectra::kept;
  return KernelSpectra::on_the_fly;
}

Shape shape_for(const Geometry& g) {
  Shape s;
  const int d = g.rank();
  Fits f;
  for (int a = 0; a < d; ++a) {
    s.reach.push_back(reach_of(g, a, g.out[a], f));
    s.len.push_back(length_for(s.reach.back(), a == d - 1));
  }
  // Axis 0 in tiles: try each length L_0 from one kernel span to the whole axis. The other axes'
  // share of log2 L is the same for every candidate.
  double rest = 1;
  for (int a = 1; a < d; ++a) rest *= static_cast<double>(s.len[a]);
  const dim_t full = s.len[0], sp = span(g, 0, f), O0 = g.out[0], st = g.stride[0];
  struct Candidate {
    dim_t L0, t_out, tiles;
    double cost, tasks;
  };
  std::vector<Candidate> cands;
  auto consider = [&](dim_t L0) {
    if (L0 < sp || L0 > full) return;
    const dim_t t_out = std::min(O0, (L0 - sp) / st + 1);
    const dim_t tiles = (O0 + t_out - 1) / t_out;
    const double l = static_cast<double>(L0);
    // Tasks of the input phase (fft_conv.cc): 1-D tiles go kRowLanes to a task, as the lanes
    // of one row block, so a lane left idle costs as much as a tile (4 tiles of 5120 samples
    // ran 4x under the lanes' speed: 16 tiles of 2048 cost less).
    const double per_task = d == 1 ? static_cast<double>(kRowLanes) : 1.0;
    const double lanes = d == 1 ? std::ceil(static_cast<double>(tiles) / per_task) * per_task
                                : static_cast<double>(tiles);
    // The per-tile term stands for the passes' fixed costs (a few hundred samples' worth).
    const double cost = lanes * (l * std::log2(l * rest) + 256);
    const double tasks = static_cast<double>(g.N) * static_cast<double>(g.C) *
                         std::ceil(static_cast<double>(tiles) / per_task);
    cands.push_back({L0, t_out, tiles, cost, tasks});
  };
  consider(full);
  for (dim_t p2 = 1; p2 <= full; p2 *= 2)
    for (dim_t p3 = p2; p3 <= full; p3 *= 3)
      for (dim_t p5 = p3; p5 <= full; p5 *= 5)
        if (d > 1 || p5 % 2 == 0) consider(p5);  // rank 1: axis 0 is the real, even axis
  // The cheapest; but a problem of one or two planes (one image, one channel) runs its
  // transforms as one or two tasks, one thread each: where cutting it into up to kMinTasks
  // tasks costs at most 15 % more work, cut it. (The count is the problem's, not the
  // machine's: results must not depend on the thread count.)
  constexpr double kMinTasks = 4;
  const Candidate* best = &cands[0];
  for (const Candidate& c : cands)
    if (c.cost < best->cost) best = &c;
  const double limit = best->cost * 1.15;
  for (const Candidate& c : cands)
    if (c.cost <= limit && std::min(c.tasks, kMinTasks) > std::min(best->tasks, kMinTasks))
      best = &c;
  s.len[0] = best->L0;
  s.tile_out = best->t_out;
  s.tiles = best->tiles;
  s.reach[0] = reach_of(g, 0, s.tile_out, f);

  for (int a = 0; a + 1 < d; ++a) s.rows = f.mul(s.rows, s.len[a]);
  s.bins = s.len[d - 1] / 2 + 1;
  s.pitch = (s.bins + kRowLanes - 1) / kRowLanes * kRowLanes;
  s.spectrum = f.mul(s.rows, s.pitch);
  s.total = 1;
  for (dim_t l : s.len) s.total *= static_cast<double>(l);
  return s;
}

}  // namespace convnd::detail::fft
