#pragma once

// # Depthwise convolution (groups == C == K): forward, weight gradient, and backward data on
// # channels-first planes
//
// Each output channel reads one input channel, so there is no reduction over channels for a GEMM
// to block: a GEMM would fill 1 of its 32 lanes. Instead the outputs themselves are vectorised:
//  - channels-last input (channel stride 1): for each output position, the channel vectors of
//    the samples its taps read are combined with tap-major weights; taps that fall in zero
//    padding are left out. Along a row, the positions whose taps all read inside the input
//    form a run: kernels::dw_channels_taps (a kernel row's 3, 5 or 7 taps sharing their input
//    vectors across 8 positions) or dw_channels_run; the border positions one at a time
//    (kernels::dw_gather).
//  - otherwise, per (image, channel) plane: the plane is copied once, padded (every padding mode)
//    and with its last two axes split into `stride` phases, so that the samples any tap reads for
//    consecutive outputs are consecutive in memory. The last axis's phases are separate
//    sub-planes and the row axis's phases separate blocks of rows, so consecutive output rows of
//    a tap read consecutive stored rows of J = ceil(padded / stride) samples. Rows of more than
//    16 outputs go straight into the output (kernels::dw_rows: 8 rows per weight broadcast, the
//    row's last vector masked); shorter ones (a stride-2 layer's 14) make a 2-D slice one run of
//    (rows - 1) * J + cols outputs with J - cols throw-away values per row (kernels::dw_row),
//    then copied out.
//    The copy is table-driven and vectorised (kernels::strided_copy_rows per phase; at stride 2
//    over dense rows kernels::deinterleave_rows splits each row into both phases in one pass);
//    with zero padding the padded samples are written once per run, not per plane. Copying each
//    sample one at a time through a table, with allocations per plane, was most of a stride-2
//    layer's time (planes of ~900 samples).
//  - channels-first with 16 or more channels and a stride above 1 (whose planes' rows of 14-28
//    outputs leave vectors half idle): tiles of 16-64 channels of one image (run_tiles), copied
//    channels-last into the thread's slot by 16 x 16 register transposes, run through the
//    channels-last path above and transposed back.
// The weight gradient uses the same two layouts of work: channels-last accumulates channel
// vectors of sample * gradient per tap (kernels::dw_accumulate); otherwise each tap's rows of
// the padded plane are dotted with the output-gradient rows (kernels::dw_dots, 8 taps per pass).
// Channels-first with 16 or more channels at a stride above 1, the weight gradient runs on
// tiles as the forward pass does (weights_tiles: x and dy transposed, then
// kernels::dw_weights_taps along each output row), tasks split over groups of images.
// Backward data on channels-first planes: see run_bwd_data (1-D and 2-D).
// Tasks are fixed chunks of positions (channels-last), planes, taps or channels: each output is
// computed by one task, in one order, whatever the thread count.
//
// Few channels (an image's 1-4, up to kChannelVectorMin - 1) run on planes in either layout: a
// channel vector that short is all scalar tail, and the per-position pointer set-up costs more
// than the arithmetic (an RGB image, 11x11 taps, was 17x slower channels-last than channels-first
// through the channel-vector path). build_plane gathers a channels-last plane through its strides
// (C apart) once per (image, channel), and the rows are written back C apart.
//
// The executor's members are defined by job: depthwise_planes.cc (the planes' layout shared by
// the plane paths: constructor, prepare_slot, build_plane), depthwise_fwd_channels_last.cc,
// depthwise_fwd_planes.cc, depthwise_fwd_tiles.cc (run_tiles), depthwise_bwd_data_planes.cc,
// depthwise_wgrad_planes.cc; depthwise.cc holds the Algorithm and run()'s choice of path.

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "algo/algorithm.h"
#include "algo/odometer.h"
#include "api/checked.h"
#include "kernels/dwconv.h"
#include "kernels/transpose.h"
#include "runtime/threads.h"

namespace convnd::detail::depthwise {

inline constexpr dim_t kMaxTaps = 4096;
inline constexpr dim_t kPositionsPerTask = 64;
inline constexpr dim_t kMaxPlane = dim_t{1} << 22;
// Fewest channels for which channels-last runs along channel vectors rather than on planes.
inline constexpr dim_t kChannelVectorMin = 16;
// Channels-first forward through channel-blocked tiles (run_tiles): a tile is this many
// channels of one image (a cache line of them, one AVX-512 vector of f32), and its input and
// output channels-last take at most kMaxTileBytes of a thread's slot (L2-sized).
inline constexpr std::size_t kTileBytes = 64;
inline constexpr std::size_t kMaxTileBytes = std::size_t{1} << 20;
// Outputs of one wide dw_row call (32 KiB of float32).
inline constexpr dim_t kWideElems = 8192;

inline std::size_t align64(std::size_t b) { return (b + 63) / 64 * 64; }

// Spare bytes of the shared workspace for placing the weights and the bias at an offset within
// a cache line: up to 63 each, and the bias's start rounded up past the weights.
inline constexpr std::size_t kAlignSlack = 192;

// Offset of a tensor within its cache line in bytes (0 if not a multiple of sizeof(T)).
template <class T>
std::size_t line_offset(const void* p) {
  const std::size_t b = reinterpret_cast<std::uintptr_t>(p) % 64;
  return b % sizeof(T) == 0 ? b : 0;
}

// d indices without a heap allocation for d <= 8 (the per-plane loops allocated ~4 vectors
// per plane, a measurable share of a stride-2 plane of ~900 samples).
class SmallIndex {
 public:
  explicit SmallIndex(int d)
      : p_(d <= 8 ? buf_ : (heap_.resize(static_cast<std::size_t>(d)), heap_.data())) {}
  SmallIndex(const SmallIndex&) = delete;
  SmallIndex& operator=(const SmallIndex&) = delete;
  dim_t* data() { return p_; }

 private:
  dim_t buf_[8];
  std::vector<dim_t> heap_;
  dim_t* p_;
};

// Extent of the padded region the taps read along axis a: (out-1)*stride + (k-1)*dil + 1.
// reject() computes it saturating (`f` flags an overflow); the executor, made only for a problem
// that reject() bounded, uses the throwing form (an overflow there is a gap in reject()).
inline dim_t padded_extent(const Geometry& g, int a, Fits& f) {
  return f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.kernel[a] - 1, g.dil[a])), 1);
}
inline dim_t padded_extent(const Geometry& g, int a) {
  Fits f;
  const dim_t e = padded_extent(g, a, f);
  if (!f) throw_overflow("padding");
  return e;
}

template <class T>
class DepthwiseExecutor final : public Executor {
 public:
  DepthwiseExecutor(const Geometry& g, Op op);  // depthwise_planes.cc
  std::size_t workspace_bytes() const override { return workspace_bytes_; }
  // Forward: the weights and bias laid out, then tiles, channels-last or planes (depthwise.cc).
  void run(const OpArgs& args, void* workspace, int threads) const override;

 private:
  // depthwise_planes.cc
  void build_table() const;
  void prepare_slot(const std::vector<dim_t>& xs, const std::vector<dim_t>& ys, dim_t* tables,
                    T* plane) const;
  void build_plane(const T* x, dim_t last_stride, const dim_t* tables, T* plane) const;
  // depthwise_fwd_tiles.cc (plan_tiles: the tiles of the forward pass and of the weight gradient)
  void plan_tiles(const Geometry& g, Op op);
  void run_tiles(const OpArgs& args, const T* wt, const T* bias, int n_threads, char* ws) const;
  // depthwise_fwd_channels_last.cc
  void run_channels_last(const T* x, const std::vector<dim_t>& xs, T* y,
                         const std::vector<dim_t>& ys, const T* wt, const T* bias, dim_t c0,
                         dim_t cn, dim_t p0, dim_t p1, char* slot) const;
  // depthwise_fwd_planes.cc
  void run_plane(const OpArgs& args, const T* wc, const T* bias, dim_t n, dim_t c,
                 char* slot) const;
  // depthwise_bwd_data_planes.cc
  void plan_bwd_data(const Geometry& g);
  void run_bwd_data(const OpArgs& args, void* workspace, int threads) const;
  void prepare_bwd_data(const std::vector<dim_t>& ys, const std::vector<dim_t>& xs,
                        char* slot) const;
  void bwd_data_plane(const OpArgs& args, const T* wc, const T* bias, dim_t n, dim_t c,
                      char* slot) const;
  // depthwise_wgrad_planes.cc
  void run_weights(const OpArgs& args, void* workspace, int threads) const;
  void weights_channels_last(const OpArgs& args, const T* zeros, dim_t tap, char* slot) const;
  void weights_plane(const OpArgs& args, dim_t c0, dim_t c1, char* slot) const;
  // depthwise_wgrad_tiles.cc
  // Channels [block * tile_channels_, + tile_channels_) summed over image group `group` into
  // acc (taps x tile_channels_).
  void weights_tiles(const OpArgs& args, dim_t block, dim_t group, T* acc, char* slot) const;

  // Input coordinate of padded coordinate q along axis a (-1: a zero sample).
  dim_t pad_index(int a, dim_t q) const { return pad_table_[a][q]; }

  // Whether each (image, channel) plane of a view is one dense run (strides of the spatial axes
  // those of a C-order array).
  static bool dense_planes(const std::vector<dim_t>& shape, const std::vector<dim_t>& strides) {
    dim_t run = 1;
    for (std::size_t a = shape.size(); a-- > 2;) {
      if (shape[a] != 1 && strides[a] != run) return false;
      run *= shape[a];
    }
    return true;
  }

  // For output rows o of the outer axes: the slice's first stored row of the plane, and its
  // offset in the output of strides ys.
  std::pair<dim_t, dim_t> slice_start(const dim_t* o, int outer_axes,
                                      const std::vector<dim_t>& ys) const {
    dim_t row = 0, y = 0;
    for (int a = 0; a < outer_axes; ++a) {
      row += o[a] * g_.stride[a] * row_stride_[a];
      y += o[a] * ys[2 + a];
    }
    return {row, y};
  }

  // Slot layout of the backward-data pass: pointer area (tap pointers, then their weights), row
  // area (source and destination offsets of the dy rows), plane area (dxp), wide area (dy laid
  // out behind its margin, then one padded row and one dx row for the fold).
  T* bwd_dy(char* slot) const {
    return reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_) + plane_bytes_ / sizeof(T);
  }

  // The pointer area at the start of a slot: two lists of taps (run_plane's tap pointers, and
  // shifted by a row group; bwd_data_plane's two phases' pointers and weights) or two blocks
  // of positions (weights_channels_last).
  std::size_t ptr_bytes() const {
    return align64(sizeof(void*) * std::max(4 * taps_, 2 * kPositionsPerTask));
  }

  // Stored row of padded coordinate q along outer axis a (the row axis is phase-split).
  dim_t stored_row(int a, dim_t q) const {
    if (a != ra_) return q;
    const dim_t s = g_.stride[a], Jr = stored_[a] / s;
    return (q % s) * Jr + q / s;
  }
  // Start of the stored run that a tap reads for output 0 along the last axis, in row R.
  dim_t run_start(dim_t R, dim_t q0) const {
    const dim_t s = g_.stride.back();
    return (q0 % s) * phase_size_ + R * J_ + q0 / s;
  }

  Geometry g_;
  // The depthwise kernels of the ISA dispatched to when the plan was made, bound once.
  const kernels::DwKernels<T>& dw_ = kernels::dw_kernels<T>();
  Op op_;
  mutable std::once_flag table_once_;
  mutable std::vector<std::vector<dim_t>> pad_table_;  // [axis][padded coordinate]
  dim_t wide_elems_ = 0;
  bool direct_rows_ = true;
  bool taps_rows_ = false;  // channels-last runs through kernels::dw_channels_taps
  dim_t planes_per_task_ = 1, channels_per_task_ = 1;
  int ra_ = -1;                              // the row axis (d - 2), -1 in 1-D
  dim_t J_ = 1, phase_size_ = 1;             // stored row length; one last-axis phase
  std::vector<dim_t> stored_, row_stride_;   // stored extents and row strides, outer axes
  dim_t valid_rows_ = 0;                     // outer rows that read the input (not zero rows)
  dim_t outer_rows_ = 1;                     // padded rows of the outer axes (prod E_[a < last])
  std::vector<dim_t> tail_rows_;             // stored rows no padded coordinate fills
  dim_t bwd_margin_ = 0, bwd_dy_elems_ = 0;  // run_bwd_data's dy layout
  std::vector<dim_t> fold_rows_, fold_row_start_;  // padded rows folding onto each input row
  std::vector<dim_t> fold_cols_;                   // (padded column, input column) outside pairs
  bool fold_single_ = false;                       // zero padding: one padded row per input row
  dim_t bwd_rows_ = 0;                             // input rows that a padded row reaches
  std::vector<dim_t> bwd_phase_taps_, bwd_phase_start_;  // per phase: (off'_t, tap) pairs
  std::vector<dim_t> E_;                                 // padded extents the taps read, per axis
  std::vector<dim_t> tap_off_;                  // per tap: run start for a slice's output 0
  dim_t interior_q0_ = 0, interior_count_ = 0;  // the padded coordinates inside the input
  std::vector<dim_t> interior_;                 // per last-axis phase: [jl, jr) copied strided
  int slots_ = 1;
  dim_t taps_ = 1, positions_ = 1, plane_ = 1;
  std::size_t shared_bytes_ = 0, slot_bytes_ = 0, row_bytes_ = 0, plane_bytes_ = 0;
  std::size_t workspace_bytes_ = 0;
  std::size_t tile_bytes_ = 0;  // run_tiles' part of a slot (0: no tiles)
  dim_t tile_in_elems_ = 0;     // elements of an input tile
  dim_t tile_channels_ = 1;     // channels of a tile (1, 2 or 4 lines)
  std::vector<dim_t> tile_in_strides_, tile_out_strides_;  // a tile's channels-last strides
  dim_t wgrad_groups_ = 1;          // weights_tiles: groups of images per block of channels
  std::size_t wgrad_partials_ = 0;  // their partial sums' offset in the shared workspace
};

}  // namespace convnd::detail::depthwise
