// # The transform box of the FFT convolution, and its overlap-save tiles
//
// A tile of T0 outputs along axis 0 (all outputs along the other axes) reads a padded box of
// R_d = (O_d - 1) stride_d + (k_d - 1) dil_d + 1 samples per axis (O_0 = T0); its transforms
// have lengths L_d >= R_d of the form 2^a 3^b 5^c, the last one even with L/2 of that form (the
// real transform halves it). Any L_0 >= R_0 is exact (fft_conv.cc): the wrap-around of the
// cyclic correlation only reaches positions no output reads, so tiles are overlap-save blocks.
//
// Why tile: a long axis (480000 samples, 1023 taps) as one transform is one sequence, which no
// vector lane can share; cut into tiles of a few thousand samples it is hundreds of sequences,
// transformed side by side, and its spectra stay in cache. The tile is chosen to minimise
// tiles * L_0 * log2(L): more, shorter tiles repeat the kernel's reach (k_0 - 1) dil_0 samples
// each, fewer and longer ones cost more per sample.
#pragma once

#include <vector>

#include "algo/problem.h"

namespace convnd::detail::fft {

// Values (floats or doubles) per vector row of the batched transforms: rows of spectra are
// padded to a multiple of it, and kRows rows are transformed side by side along the last axis.
constexpr dim_t kRowLanes = 16;

// Longest transform along one axis. Past it the spectra could not fit the workspace bound
// anyway, and the search for lengths stays short.
constexpr dim_t kMaxAxisLength = dim_t{1} << 28;

struct Shape {
  std::vector<dim_t> reach;  // R_d of a full tile (axis 0: T0 outputs)
  std::vector<dim_t> len;    // L_d
  dim_t tile_out = 1;        // T0: outputs per tile along axis 0
  dim_t tiles = 1;           // ceil(O_0 / T0)
  dim_t rows = 1;            // prod L_d for d < rank - 1
  dim_t bins = 1;            // L_last / 2 + 1
  dim_t pitch = kRowLanes;   // bins rounded up to kRowLanes
  dim_t spectrum = 1;        // rows * pitch: values of one part (real or imaginary)
  double total = 1;          // prod L_d
};

// Whether every axis's reach fits kMaxAxisLength (checked: user extents near 2^63 overflow it).
bool axes_fit(const Geometry& g);

// Tiles per task: a tile of one row (1-D) would leave kRowLanes - 1 lanes of the last-axis
// transform idle, so such tiles are taken kRowLanes / rows at a time.
dim_t tiles_per_task(const Shape& s);

// Where the kernel spectra (K Cg of them) come from in a run (fft_conv.cc):
//   cached:    made on the first run and kept by the executor, for a plan with constant weights
//              (PlanOptions::constant_weights) while they take at most kMaxCachedSpectraBytes;
//   kept:      made once per run, in a phase of their own, when several tasks read each one
//              (several images, or tiles in more than one task);
//   on the fly: otherwise, each made in the one task that reads it: the same transforms, and no
//              K Cg spectra in the workspace (for 64 dense channels, 100 MiB written and read
//              back, past the workspace cache: fresh pages every run).
enum class KernelSpectra { cached, kept, on_the_fly };
constexpr double kMaxCachedSpectraBytes = 256.0 * (1 << 20);
KernelSpectra kernel_spectra(const Geometry& g, const Shape& s);

// The transform box; only for a geometry that axes_fit(). Cheap (planning and reject() call
// it): the search runs over the ~1000 lengths 2^a 3^b 5^c up to kMaxAxisLength at most.
// Sizes saturate at the int64 limit rather than overflow (reject() compares them with a bound).
Shape shape_for(const Geometry& g);

}  // namespace convnd::detail::fft
