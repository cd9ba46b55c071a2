// # Implicit GEMM over a padded, stride-phase-split copy of the input
//
// implicit_gemm (implicit_gemm.cc) reads a channels-first input in place only where mr
// consecutive outputs read mr consecutive samples: the interior of a stride-1 row. Everywhere
// else (padding, stride > 1, tiles that straddle two output rows) it gathers one scalar per
// (row, reduction index), and on a 3x3/2 layer that gather costs as much as the FMAs.
//
// This algorithm instead copies each (image, channel) plane once per run into a buffer where
// the padding is already applied (every padding mode, through map_padded_index) and every axis
// is split into its `stride` phases: padded coordinate p = phase + stride * j lands at
// [phase_0..phase_d-1][j_0..j_d-1]. Output o and tap t then read phase (t*dil) % stride at grid
// index o + (t*dil) / stride: for a fixed tap, consecutive outputs read consecutive elements,
// across output rows too, if the GEMM's rows run over the phase grid (pitch L = ceil(P / s)
// instead of O). The L - O extra positions per row are computed and thrown away (3.4 % on a
// 56-wide 3x3 layer, 22 % on a 7-wide one). Every column of every tile is then a pointer into
// the buffer: no gather at all, and the microkernel (gemm_tile_cols) runs on dense data.
//
// The copy costs O(input) against O(input * K * taps / stride^d) for the GEMM. 1x1 stride-1
// layers without padding (pointwise.cc) and 1-D stride-1 layers gain nothing from it and are
// rejected; for channels-last inputs with >= 64 channels per group implicit_gemm's in-place row
// pointers are faster, and pays() leaves those to it, so that the plan names what runs.
//
// With zero padding and >= 64 channels per group, the reduction runs tap by tap and a tap
// that reads only padding for a whole tile is skipped (as oneDNN does; nominal FLOPs count it).
//
// # Two orientations of the tile
//
// Positions as rows (gemm_tile_cols_seeded: mr positions x nr output channels, each column of A
// a pointer into the buffer) suits many output channels and a channels-last output, where a
// tile of mr consecutive outputs is summed in y itself (the kernel seeds it with the bias on the
// first depth slice), and only the other tiles go through the accumulators and a store.
// Output channels as rows (gemm_bptr's narrow tile: 8 channels x 48 positions on AVX-512,
// weights broadcast, each B row a pointer to 48 consecutive grid positions of one (channel,
// tap)) suits
//   - few output channels per group (resnext's 8, a 3-D U-Net's 16), which would fill 8 or 16
//     of a positions-as-rows tile's 32 columns, and
//   - a channels-first output, whose channel rows it stores with memcpy where the other
//     orientation transposes every element (docs/measurements.md).
// Its loop keeps one strip of B rows (kc x 48 values, kc sized from the L1 cache) in L1 while
// every block of output channels passes over it; the weights (8 x kc per block) come from L2.
//
// The blocking, weight packing, bias seeds, stores, task list and workspace layout come from the
// GEMM middle-end (gemm_driver.h); this file owns the copy, its tables and the two sweeps.
//
// Determinism: the copy is a copy; each output element is summed by one task in a fixed
// (c, tap) or (tap, c) order chosen from the problem, whatever the thread count.
#include "algo/padded_igemm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "algo/gemm_driver.h"
#include "algo/implicit_gemm.h"
#include "algo/odometer.h"
#include "api/checked.h"
#include "kernels/gemm_bptr.h"
#include "kernels/gemm_tile.h"
#include "kernels/transpose.h"
#include "runtime/cache_sizes.h"

namespace convnd::detail {
namespace {

constexpr std::size_t kTilesPerTask = 8;
// Planes copied together from a channels-last input (one transpose per line).
constexpr dim_t kCopyChannels = 16;
// Planes copied together from a channels-last input at most (resnext_g32_b1: 64 against 16,
// 0.94x its one-thread time).
constexpr dim_t kMaxCopyChannelsLast = 64;
// Copy tasks wanted at least, when a channels-first input's planes are copied several per task.
constexpr dim_t kMinCopyTasks = 16;
// Channels-first planes copied in blocks only up to this size: measured faster at 900 elements
// (resnext_g32_b1), 1.05-1.10x slower (within the noise, not ruled out) at 17576 (unet3d_c16_b2).
constexpr dim_t kBlockedPlaneElems = 4096;
// Output channels per group up to which channels are the tile's rows whatever the layout.
constexpr dim_t kNarrowChannels = 16;

// Whether output channels are the tile's rows (see the file comment).
bool channel_rows(const Geometry& g) {
  return g.Kg() <= kNarrowChannels || g.layout == Layout::channels_first;
}
// Channels per group from which the reduction runs tap by tap, so that taps lying wholly in
// the zero padding can be skipped; below, kernel calls of C/groups steps would be too short.
constexpr dim_t kTapMajorChannels = 64;
// Channels per group from which a channels-last input is left to implicit_gemm (see pays()).
constexpr dim_t kInPlaceChannels = 64;
// Copies larger than this many elements are left to implicit_gemm (256 MiB of f32).
constexpr dim_t kMaxBufferElems = dim_t{1} << 26;

constexpr dim_t kMaxPlaneElems = dim_t{1} << 26;
constexpr dim_t kMaxAxisEntries = dim_t{1} << 22;  // bounds planning time (tables per axis)

// Shapes of the phase-split buffer, shared by reject() and the executor.
struct PhaseGrid {
  std::vector<dim_t> len;    // L_a = ceil(P_a / s_a), P_a = (O_a - 1) s_a + (k_a - 1) dil_a + 1
  std::vector<dim_t> pitch;  // prod_{b > a} L_b
  dim_t grid = 1;            // prod L_a: one phase block
  dim_t plane = 1;           // prod s_a L_a: one (image, channel)
  dim_t rows = 0;            // GEMM rows per image: O_0 * pitch_0
  dim_t valid = 1;           // prod O_a: rows that are real outputs

  bool too_large = false;    // some size does not fit the limits below: reject, never build
  dim_t axis_entries = 0;    // sum (s_a + k_a) L_a: the executor's per-axis tables

  // Sizes are computed saturating: a degenerate spec (strides near 2^63, found by the Python
  // tests) must be rejected, not wrap around into a division by zero.
  explicit PhaseGrid(const Geometry& g) {
    const int d = g.rank();
    len.assign(d, 1);
    pitch.assign(d, 1);
    Fits f;
    for (int a = 0; a < d && !too_large; ++a) {
      const dim_t P =
          f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.kernel[a] - 1, g.dil[a])), 1);
      if (!f) {
        too_large = true;
        break;
      }
      len[a] = P / g.stride[a] + (P % g.stride[a] != 0);
      const dim_t ext = f.mul(len[a], g.stride[a]);
      // The executor's tables for this axis: tap_valid_ (len x kernel) and the grid's (ext).
      axis_entries = f.add(f.add(axis_entries, f.mul(len[a], g.kernel[a])), ext);
      grid = f.mul(grid, len[a]);
      plane = f.mul(plane, ext);
      valid = f.mul(valid, g.out[a]);
      too_large = !f || plane > kMaxPlaneElems || axis_entries > kMaxAxisEntries;
    }
    if (too_large) return;
    for (int a = d - 2; a >= 0; --a) pitch[a] = pitch[a + 1] * len[a + 1];
    rows = g.out[0] * pitch[0];
  }
};

template <class T>
class PaddedExecutor final : public Executor {
 public:
  explicit PaddedExecutor(const Geometry& g) : g_(g), pg_(g) {
    // Sizes and offsets checked although reject() bounds them: a wrapped size would
    // under-allocate the workspace.
    const char* ws = "workspace";
    taps_ = checked_product(g.kernel, "kernel");
    depth_ = checked_mul(g.Cg(), taps_, "kernel");
    channel_rows_ = channel_rows(g);
    dim_t tiles_per_task = static_cast<dim_t>(kTilesPerTask);
    if (channel_rows_) {
      rows_kernel_ = kernels::bptr_kernel<T>(kernels::BptrTile::narrow);
      mr_ = static_cast<dim_t>(rows_kernel_.mr);
      nr_ = static_cast<dim_t>(rows_kernel_.nr);
      pos_tile_ = nr_, ch_tile_ = mr_;
      ch_blocks_ = (g.Kg() + ch_tile_ - 1) / ch_tile_;
      // A strip of B rows (kc x nr values) stays in L1 while the channel blocks pass over it.
      kc_max_ = gemm_blocking(mr_, nr_, depth_, sizeof(T), Resident::vector_panel).kc;
      // The task's accumulators (all its channels x its positions) stay within a quarter of L2.
      const dim_t strip_bytes = checked_bytes64(
          checked_mul(checked_mul(ch_blocks_, ch_tile_, ws), nr_, ws), sizeof(T), ws);
      tiles_per_task = std::clamp<dim_t>(static_cast<dim_t>(cache_sizes().l2 / 4) / strip_bytes, 1,
                                         tiles_per_task);
    } else {
      tile_kernel_ = kernels::tile_kernel<T>();
      mr_ = static_cast<dim_t>(tile_kernel_.mr);
      nr_ = static_cast<dim_t>(tile_kernel_.nr);
      pos_tile_ = mr_, ch_tile_ = nr_;
      ch_blocks_ = (g.Kg() + ch_tile_ - 1) / ch_tile_;
      // The A panel (mr column pointers' worth of kc values) stays in L1.
      kc_max_ = gemm_blocking(mr_, nr_, depth_, sizeof(T), Resident::broadcast_panel).kc;
    }
    rows_per_task_ = pos_tile_ * tiles_per_task;
    chunks_ = (pg_.rows + rows_per_task_ - 1) / rows_per_task_;
    // Few row tasks (7x7 layers at batch 1): the channel blocks are split too (16 wanted).
    grid_ = TaskGrid(g.N, g.groups, chunks_, ch_blocks_, 16);

    // The last tile of an image reads up to rows_per_task_ rows past its grid, and garbage rows
    // read past their phase block: slack after the last plane keeps every read inside the buffer.
    // (The largest column offset is that of the last channel at the tap of largest offset; the
    // column table itself is built by the first run.)
    const int d = g.rank();
    dim_t max_off = 0;
    std::vector<dim_t> t(d, 0);
    for (dim_t tap = 0; tap < taps_; ++tap) {
      max_off =
          std::max(max_off, checked_add(checked_mul(g.Cg() - 1, pg_.plane, ws), tap_column(t), ws));
      next_index(t, g.kernel, d);
    }
    const dim_t image_elems = checked_mul(g.C, pg_.plane, ws);
    const dim_t group_base = checked_mul(checked_mul(g.groups - 1, g.Cg(), ws), pg_.plane, ws);
    const dim_t reach = checked_add(checked_add(group_base, max_off, ws),
                                    checked_mul(chunks_, rows_per_task_, ws), ws);
    slack_ = std::max<dim_t>(0, reach - image_elems) + 64;
    buffer_elems_ = checked_add(checked_mul(g.N, image_elems, ws), slack_, ws);

    weights_.init(g, depth_, ch_tile_);
    // Accumulator rows one cache line longer than the tile needs: with K = 512 a row is 2 KiB,
    // and 96 rows 2 KiB apart fall into 2 of the 64 L1 sets (a store reading them column-wise
    // touches all of them); the extra line spreads them over all sets.
    acc_rows_ = channel_rows_ ? checked_mul(ch_blocks_, ch_tile_, ws) : rows_per_task_;
    ldc_ = checked_add(channel_rows_ ? rows_per_task_ : checked_mul(ch_blocks_, ch_tile_, ws),
                       static_cast<dim_t>(64 / sizeof(T)), ws);
    ws_.size([&](Carve& c) { return carve_shared(c); }, [&](Carve& c) { return carve_slot(c); },
             thread_slots());
  }

  // The packed weights and the phase-split copy of the input; then one thread's scratch.
  struct Shared {
    T* weights;
    T* buf;
  };
  Shared carve_shared(Carve& c) const {
    Shared sh;
    sh.weights = c.take<T>(weights_.elems());
    sh.buf = c.take<T>(static_cast<std::size_t>(buffer_elems_));
    return sh;
  }

  // One thread's scratch, laid out by the same sequence that sizes it.
  struct Slot {
    T* acc;               // acc_rows x ldc accumulators (positions or channels as rows)
    const T** col_ptr;    // kc_max column pointers of A (positions-as-rows mode)
    OutputRun* runs;      // rows_per_task runs of output rows (valid_runs)
    T* seeds;             // the task's channels' starting values (their bias)
    // Positions-as-rows mode, tiles summed in y (split_in_y): each tile's offset in y, and the
    // runs of rows left to the accumulators and of rows summed in y.
    dim_t* tile_y;
    OutputRun* acc_runs;
    OutputRun* y_runs;
  };
  Slot carve_slot(Carve& c) const {
    Slot sl;
    sl.acc = c.take<T>(static_cast<std::size_t>(acc_rows_) * static_cast<std::size_t>(ldc_));
    // Column pointers for positions as rows only.
    sl.col_ptr = c.take<const T*>(static_cast<std::size_t>(channel_rows_ ? 0 : kc_max_));
    sl.runs = c.take<OutputRun>(static_cast<std::size_t>(rows_per_task_));
    sl.seeds = c.take<T>(static_cast<std::size_t>(grid_.per_part() * ch_tile_));
    const std::size_t tiles = channel_rows_ ? 0 : static_cast<std::size_t>(rows_per_task_ / mr_);
    sl.tile_y = c.take<dim_t>(tiles);
    sl.acc_runs = c.take<OutputRun>(channel_rows_ ? 0 : static_cast<std::size_t>(rows_per_task_));
    sl.y_runs = c.take<OutputRun>(tiles);
    return sl;
  }

  std::size_t workspace_bytes() const override { return ws_.bytes(); }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // call_once: runs of one plan may be concurrent.
    std::call_once(tables_once_, [this] { build_tables(); });
    const Shared sh = ws_.shared(workspace, [&](Carve& c) { return carve_shared(c); });
    T* buf = sh.buf;
    const int th = std::min(threads, thread_slots());
    // One job: phase 0 packs the weights (unless a constant-weights plan keeps them) and
    // copies the input planes, phase 1 is the GEMM sweep.
    // The copy: a task per block of planes, copied line by line across the block, so that each
    // line's bookkeeping (source offset, destination block, padded ends) is done once per block.
    // Channels-last: 16 to kMaxCopyChannelsLast channels (one transpose per line), two tasks
    // per thread where blocks of 16 allow. Channels-first: up to kCopyChannels small planes
    // (resnext_g32's 28 x 28, whose lines cost more in bookkeeping than in copying), kMinCopyTasks
    // tasks at least; larger planes one per task.
    const dim_t per_copy =
        args.a.strides[1] == 1
            ? std::clamp<dim_t>(g_.N * g_.C / (2 * th), kCopyChannels, kMaxCopyChannelsLast)
        : pg_.plane > kBlockedPlaneElems
            ? 1
            : std::clamp<dim_t>(g_.N * g_.C / kMinCopyTasks, 1, kCopyChannels);
    const dim_t copy_blocks = (g_.C + per_copy - 1) / per_copy;
    const dim_t copies = g_.N * copy_blocks;
    run_gemm_job(
        g_, weights_, args.b, tap_major_, sh.weights, grid_, th, copies + 1,
        [&](dim_t task) {
          if (task < copies) {
            const dim_t n = task / copy_blocks, c0 = task % copy_blocks * per_copy;
            return copy_planes(args.a, buf, n, c0, std::min(g_.C, c0 + per_copy));
          }
          std::fill(buf + g_.N * g_.C * pg_.plane, buf + buffer_elems_, T(0));
        },
        [&](const T* weights, const GemmTask& t) {
          const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
          if (channel_rows_)
            run_task_channel_rows(args, weights, buf, t.n, t.grp, t.block * rows_per_task_, t.b0,
                                  t.b1, sl);
          else
            run_task(args, weights, buf, t.n, t.grp, t.block * rows_per_task_, t.b0, t.b1, sl);
        });
  }

 private:
  // Planes c0 <= c < c1 of image n of buf[n][c][phase block][grid] from x (any strides, either
  // layout). The slack after the last plane is zeroed by run().
  void copy_planes(const ConstTensorView& x, T* buf, dim_t n, dim_t c0, dim_t c1) const {
    const int d = g_.rank();
    const dim_t L = pg_.len[d - 1];
    const dim_t lines = pg_.plane / (g_.stride[d - 1] * L);  // (phase, j) of the leading axes
    const T* x0 = static_cast<const T*>(x.data) + n * x.strides[0] + c0 * x.strides[1];
    T* plane0 = buf + (n * g_.C + c0) * pg_.plane;
    const dim_t cs = x.strides[1], xs_last = x.strides[2 + d - 1];
    const dim_t step = g_.stride[d - 1] * xs_last;
    const std::vector<dim_t>& last = src_index_[d - 1];
    // Lines in buffer order: phases of the leading axes outer, then their grid indices; the
    // last axis's phases and grid form one line of s * L elements. (ph, j) is carried from
    // line to line: decomposing each line's index took four divisions per line.
    std::vector<dim_t> ph(d, 0), j(d, 0);
    for (dim_t line = 0; line < lines; ++line) {
      if (line > 0) next_line(ph, j);
      dim_t off = 0;
      bool zero = false;
      for (int a = 0; a < d - 1 && !zero; ++a) {
        const dim_t i = src_index_[a][ph[a] * pg_.len[a] + j[a]];
        zero = i < 0;
        off += i * x.strides[2 + a];
      }
      // Line `line` holds, for each last-axis phase, L elements; the buffer's layout puts the
      // last axis's phase inside the block index, so scatter per phase.
      for (dim_t pl = 0; pl < g_.stride[d - 1]; ++pl) {
        T* dst0 = plane0 + block_of(ph, pl) * pg_.grid + grid_of(j);
        const dim_t* idx = last.data() + pl * L;
        const Run& run = runs_[pl];
        for (dim_t c = 0; c < c1 - c0; ++c) {
          T* dst = dst0 + c * pg_.plane;
          if (zero) {
            std::fill(dst, dst + L, T(0));
            continue;
          }
          // Grid index q inside the run reads input sample first + s * (q - begin); the padded
          // ends go through the table.
          const T* xl = x0 + c * cs + off;
          for (dim_t q = 0; q < run.begin; ++q) dst[q] = idx[q] >= 0 ? xl[idx[q] * xs_last] : T(0);
          for (dim_t q = run.end; q < L; ++q) dst[q] = idx[q] >= 0 ? xl[idx[q] * xs_last] : T(0);
          if (c1 - c0 > 1 && cs == 1) continue;  // the run: one transpose below
          const T* xr = xl + run.first * xs_last;
          if (step == 1) {
            std::memcpy(dst + run.begin, xr, sizeof(T) * (run.end - run.begin));
          } else {
            for (dim_t q = run.begin; q < run.end; ++q) dst[q] = xr[(q - run.begin) * step];
          }
        }
        // Channels contiguous (channels-last): the run of every channel of the block at once,
        // a (positions x channels) transpose in 4 x 4 register blocks, where copying plane by
        // plane read one sample per cache line (half of resnext_g32's channels-last time).
        if (!zero && c1 - c0 > 1 && cs == 1 && run.end > run.begin)
          kernels::transpose<T>(static_cast<std::size_t>(run.end - run.begin),
                                static_cast<std::size_t>(c1 - c0), x0 + off + run.first * xs_last,
                                step, dst0 + run.begin, pg_.plane);
      }
    }
  }

  // The line after (ph, j) of the leading axes: grid indices j fastest (the last leading axis
  // first), then the phases.
  void next_line(std::vector<dim_t>& ph, std::vector<dim_t>& j) const {
    if (!next_index(j, pg_.len, g_.rank() - 1)) next_index(ph, g_.stride, g_.rank() - 1);
  }

  // Position of (c, tap) in the reduction.
  dim_t dindex(dim_t c, dim_t tap) const { return tap_major_ ? tap * g_.Cg() + c : c * taps_ + tap; }

  // Builds the column offsets, skip and source tables: by the first run, not by the plan, so that
  // planning stays cheap (the skip analysis alone may visit 2^24 tile-tap pairs) also for the
  // candidates that are sized and then not chosen.
  void build_tables() const {
    const Geometry& g = g_;
    const int d = g.rank();
    // Reduction order: (tap, c) when whole taps may be skipped (below), else (c, tap), which
    // keeps kernel calls long when C/groups is small (3 channels x 49 taps on r50_conv1).
    tap_major_ = false;  // decided below, once the skip tables exist
    // Every table starts empty: a build that threw (bad_alloc) is redone whole by the next run.
    col_off_.assign(depth_, 0);
    tap_valid_.assign(d, {});
    tap_coord_.clear();
    col_off_tm_.clear();
    src_index_.assign(d, {});
    runs_.clear();
    // Offset of every (c, tap) column from the start of an image's buffer, for group 0.
    std::vector<dim_t> t(d, 0);
    for (dim_t tap = 0; tap < taps_; ++tap) {
      const dim_t column = tap_column(t);
      for (dim_t c = 0; c < g.Cg(); ++c) col_off_[dindex(c, tap)] = c * pg_.plane + column;
      next_index(t, g.kernel, d);
    }
    // Per axis and tap coordinate: which grid indices read a sample inside the input (not the
    // zero padding, not a discarded grid position), and every tap's coordinates.
    tap_valid_.resize(d);
    for (int a = 0; a < d; ++a)
      for (dim_t j = 0; j < pg_.len[a]; ++j)
        for (dim_t t = 0; t < g.kernel[a]; ++t) {
          const dim_t i = j * g.stride[a] + t * g.dil[a] - g.lo[a];
          tap_valid_[a].push_back(j < g.out[a] && i >= 0 && i < g.in[a]);
        }
    std::fill(t.begin(), t.end(), 0);
    for (dim_t tap = 0; tap < taps_; ++tap) {
      for (int a = 0; a < d; ++a) tap_coord_.push_back(t[a]);
      next_index(t, g.kernel, d);
    }

    // Tap by tap only where it pays: the (c, tap) order makes fewer, longer kernel calls, so
    // the skipped share of one image's (tile, tap) pairs must reach 5 % (c3d_conv2: 8 %, 8 %
    // faster; r50_res2_3x3: 1 %, 12 % slower tap by tap).
    // (Skipped for shapes where the analysis itself would cost more than planning should.)
    if (!channel_rows_ && g.mode == PadMode::zeros && g.Cg() >= kTapMajorChannels &&
        pg_.rows / mr_ <= (dim_t{1} << 24) / taps_) {
      dim_t skipped = 0, total = 0;
      for (dim_t q0 = 0; q0 < pg_.rows; q0 += rows_per_task_) {
        const dim_t rows = std::min(rows_per_task_, pg_.rows - q0);
        const dim_t tiles = (rows + mr_ - 1) / mr_;
        for (std::uint8_t sk : skipped_taps(q0, rows, tiles)) skipped += sk;
        total += tiles * taps_;
      }
      if (skipped * 20 >= total) {
        tap_major_ = true;
        for (dim_t tap = 0; tap < taps_; ++tap)  // col_off_ was laid out (c, tap): reorder
          for (dim_t c = 0; c < g.Cg(); ++c) col_off_tm_.push_back(col_off_[c * taps_ + tap]);
        col_off_.swap(col_off_tm_);
        col_off_tm_.clear();
      }
    }

    // Per axis: which input coordinate each (phase, j) of the grid holds (-1: a zero).
    src_index_.resize(d);
    for (int a = 0; a < d; ++a) {
      const dim_t P = (g.out[a] - 1) * g.stride[a] + (g.kernel[a] - 1) * g.dil[a] + 1;
      for (dim_t ph = 0; ph < g.stride[a]; ++ph)
        for (dim_t j = 0; j < pg_.len[a]; ++j) {
          const dim_t p = ph + g.stride[a] * j;
          src_index_[a].push_back(p < P ? map_padded_index(p - g.lo[a], g.in[a], g.mode) : -1);
        }
    }

    // Per last-axis phase: the longest stretch of grid indices whose samples are inside the
    // input (no padding mode involved), where consecutive q read samples s apart.
    {
      const dim_t s_last = g.stride[d - 1], L = pg_.len[d - 1];
      runs_.resize(s_last);
      for (dim_t pl = 0; pl < s_last; ++pl) {
        const dim_t* idx = src_index_[d - 1].data() + pl * L;
        Run best;
        for (dim_t q = 0; q < L;) {
          if (idx[q] < 0 || pl + s_last * q - g.lo[d - 1] != idx[q]) {
            ++q;
            continue;
          }
          dim_t e = q + 1;
          while (e < L && idx[e] >= 0 && pl + s_last * e - g.lo[d - 1] == idx[e]) ++e;
          if (e - q > best.end - best.begin) best = Run{q, e, idx[q]};
          q = e;
        }
        runs_[pl] = best;
      }
    }

  }

  // Offset of tap t's column (channel 0) from the start of an image's buffer, for group 0: the
  // phase block its coordinates fall in and the shift inside the block.
  dim_t tap_column(const std::vector<dim_t>& t) const {
    dim_t block = 0, shift = 0;
    for (int a = 0; a < g_.rank(); ++a) {
      const dim_t p = t[a] * g_.dil[a];
      block = block * g_.stride[a] + p % g_.stride[a];
      shift += (p / g_.stride[a]) * pg_.pitch[a];
    }
    return block * pg_.grid + shift;
  }

  // skip[tile * taps + tap]: 1 when no row of the tile reads a real sample for that tap.
  std::vector<std::uint8_t> skipped_taps(dim_t q0, dim_t rows, dim_t tiles) const {
    const int d = g_.rank();
    std::vector<dim_t> coord(static_cast<std::size_t>(rows) * d);
    for (dim_t r = 0; r < rows; ++r) {
      dim_t q = q0 + r;
      for (int a = d - 1; a > 0; --a) {
        coord[r * d + a] = q % pg_.len[a];
        q /= pg_.len[a];
      }
      coord[r * d] = q;
    }
    std::vector<std::uint8_t> skip(static_cast<std::size_t>(tiles * taps_), 1);
    for (dim_t tile = 0; tile < tiles; ++tile)
      for (dim_t tap = 0; tap < taps_; ++tap) {
        const dim_t* tc = tap_coord_.data() + tap * d;
        for (dim_t r = tile * mr_; r < std::min(rows, (tile + 1) * mr_); ++r) {
          bool valid = true;
          for (int a = 0; a < d && valid; ++a)
            valid = tap_valid_[a][coord[r * d + a] * g_.kernel[a] + tc[a]] != 0;
          if (valid) {
            skip[tile * taps_ + tap] = 0;
            break;
          }
        }
      }
    return skip;
  }

  // Phase-block index of leading phases ph[0..d-2] and last-axis phase pl.
  dim_t block_of(const std::vector<dim_t>& ph, dim_t pl) const {
    const int d = g_.rank();
    dim_t block = 0;
    for (int a = 0; a < d - 1; ++a) block = block * g_.stride[a] + ph[a];
    return block * g_.stride[d - 1] + pl;
  }
  // Grid offset of leading grid indices j[0..d-2] (last-axis index 0).
  dim_t grid_of(const std::vector<dim_t>& j) const {
    dim_t off = 0;
    for (int a = 0; a < g_.rank() - 1; ++a) off += j[a] * pg_.pitch[a];
    return off;
  }

  // Grid rows [q0, q0 + rows_per_task_) of image n, group grp, column blocks [b0, b1).
  //
  // With channels adjacent in y (channels-last), a tile whose mr rows are mr consecutive outputs
  // is summed in y itself: its rows of whole channel blocks are seeded there and the kernel
  // adds to them, so that those outputs skip the accumulators and the store pass (the store
  // was a third of w2v_conv0's channels-last time). The other tiles (garbage rows of the grid,
  // a line's end) and a group's last, partial block use the accumulators as before.
  void run_task(const OpArgs& args, const T* packed_w, const T* buf, dim_t n, dim_t grp, dim_t q0,
                dim_t b0, dim_t b1, const Slot& sl) const {
    const dim_t rows = std::min(rows_per_task_, pg_.rows - q0);
    const dim_t tiles = (rows + mr_ - 1) / mr_;
    const dim_t ldc = ldc_;
    T* acc = sl.acc;
    const T** col_ptr = sl.col_ptr;
    const auto& ys = args.out.strides;
    const dim_t step = ys[2 + g_.rank() - 1];
    T* y = static_cast<T*>(args.out.data);

    const dim_t k_begin = b0 * nr_, k_end = std::min(b1 * nr_, g_.Kg());
    dim_t nruns = valid_runs(ys, n, grp, q0, rows, sl.runs);
    // Blocks [b0, y_end) are summed in y by the tiles that can be.
    const dim_t y_end = ys[1] == 1 && step > 0 ? std::clamp(g_.Kg() / nr_, b0, b1) : b0;
    const dim_t y_tiles = split_in_y(sl.runs, nruns, tiles, y_end > b0, step, sl);
    // Accumulators start at the bias: the kernel's seed on the first depth slice (c, tap order),
    // else a pass that fills them first (tap by tap, where a tile's first call is not known).
    bias_values(args.bias, grp, g_.Kg(), k_begin, b1 * nr_, sl.seeds);
    const bool seed_pass = tap_major_ || depth_ == 0;
    for (dim_t tile = 0; tile < tiles && seed_pass; ++tile) {
      const dim_t in_y = sl.tile_y[tile];
      const dim_t from = in_y == kNoSample ? b0 : y_end;
      if (in_y != kNoSample)
        seed_position_rows(y + in_y + k_begin, step, mr_, (y_end - b0) * nr_, sl.seeds);
      if (from < b1)
        seed_position_rows(acc + tile * mr_ * ldc + from * nr_, ldc, mr_, (b1 - from) * nr_,
                           sl.seeds + (from - b0) * nr_);
    }
    // The tile's C for column block b: in y or in the accumulators.
    const auto tile_c = [&](dim_t tile, dim_t b, std::size_t& c_ld) {
      const dim_t in_y = sl.tile_y[tile];
      if (in_y != kNoSample && b < y_end) {
        c_ld = static_cast<std::size_t>(step);
        return y + in_y + b * nr_;
      }
      c_ld = static_cast<std::size_t>(ldc);
      return acc + tile * mr_ * ldc + b * nr_;
    };

    const T* image = buf + (n * g_.C + grp * g_.Cg()) * pg_.plane;
    std::size_t c_ld = 0;
    if (tap_major_) {
      // Zero padding: a tap whose samples lie in the padding (or in discarded grid positions)
      // for every row of a tile adds only zeros, and is skipped for that tile, as oneDNN does
      // (nominal FLOPs still count it). On aspp_dil6 (dilation 6, 33x33) 23 % of the work.
      const std::vector<std::uint8_t> skip = skipped_taps(q0, rows, tiles);
      for (dim_t tap = 0; tap < taps_; ++tap)
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += kc_max_) {
          const dim_t kc = std::min(kc_max_, g_.Cg() - c0);
          const dim_t d0 = tap * g_.Cg() + c0;
          dim_t at = -1;  // tile the column pointers point into
          for (dim_t tile = 0; tile < tiles; ++tile) {
            if (skip[tile * taps_ + tap]) continue;
            if (at < 0) {
              const T* base = image + q0 + tile * mr_;
              for (dim_t p = 0; p < kc; ++p) col_ptr[p] = base + col_off_[d0 + p];
            } else {
              const dim_t step_rows = (tile - at) * mr_;
              for (dim_t p = 0; p < kc; ++p) col_ptr[p] += step_rows;
            }
            at = tile;
            for (dim_t b = b0; b < b1; ++b) {
              T* c = tile_c(tile, b, c_ld);
              tile_kernel_.cols(static_cast<std::size_t>(kc), col_ptr,
                                weights_.panel(packed_w, grp, b, d0), c, c_ld);
            }
          }
        }
    }
    for (dim_t k0 = 0; k0 < depth_ && !tap_major_; k0 += kc_max_) {
      const dim_t kc = std::min(kc_max_, depth_ - k0);
      // Column pointers of the first tile; each next tile starts mr samples further on.
      const T* base = image + q0;
      for (dim_t p = 0; p < kc; ++p) col_ptr[p] = base + col_off_[k0 + p];
      for (dim_t tile = 0; tile < tiles; ++tile) {
        if (tile > 0)
          for (dim_t p = 0; p < kc; ++p) col_ptr[p] += mr_;
        for (dim_t b = b0; b < b1; ++b) {
          T* c = tile_c(tile, b, c_ld);
          tile_kernel_.cols_seeded(static_cast<std::size_t>(kc), col_ptr,
                                   weights_.panel(packed_w, grp, b, k0),
                                   k0 == 0 ? sl.seeds + (b - b0) * nr_ : nullptr, c, c_ld);
        }
      }
    }

    // Store the rows that are real outputs and were not summed in y: all their channels, and
    // for the tiles summed in y the channels of a last, partial block.
    store_position_rows(acc + k_begin, ldc, k_end - k_begin, sl.acc_runs, nruns, step,
                        y + k_begin * ys[1], ys[1]);
    const dim_t y_k = y_end * nr_;
    if (y_tiles > 0 && y_k < k_end)
      store_position_rows(acc + y_k, ldc, k_end - y_k, sl.y_runs, y_tiles, step, y + y_k * ys[1],
                          ys[1]);
  }

  // Which tiles of a task are summed in y (any, when `wanted`): those whose mr rows lie in one
  // run of valid_runs. Sets sl.tile_y[tile] (their y offset, else kNoSample) and sl.y_runs (one
  // run per such tile, returned count), and the runs of the other rows into sl.acc_runs (their
  // count into nruns; at most one per row, as they are disjoint).
  dim_t split_in_y(const OutputRun* runs, dim_t& nruns, dim_t tiles, bool wanted, dim_t step,
                   const Slot& sl) const {
    std::fill(sl.tile_y, sl.tile_y + tiles, kNoSample);
    dim_t y_tiles = 0, out = 0;
    for (dim_t i = 0; i < nruns; ++i) {
      const OutputRun& run = runs[i];
      const dim_t first = wanted ? (run.r + mr_ - 1) / mr_ : 0;  // tiles wholly inside
      const dim_t last = wanted ? (run.r + run.len) / mr_ : 0;
      if (first >= last) {
        sl.acc_runs[out++] = run;
        continue;
      }
      for (dim_t tile = first; tile < last; ++tile) {
        const dim_t off = run.off + (tile * mr_ - run.r) * step;
        sl.tile_y[tile] = off;
        sl.y_runs[y_tiles++] = OutputRun{tile * mr_, off, mr_};
      }
      if (first * mr_ > run.r) sl.acc_runs[out++] = OutputRun{run.r, run.off, first * mr_ - run.r};
      const dim_t end = run.r + run.len;
      if (last * mr_ < end)
        sl.acc_runs[out++] =
            OutputRun{last * mr_, run.off + (last * mr_ - run.r) * step, end - last * mr_};
    }
    nruns = out;
    return y_tiles;
  }

  // Channel-rows mode: grid positions [q0, q0 + rows_per_task_) of image n, group grp, output
  // channel blocks [b0, b1). The accumulators are acc[channel][position]; per depth slice,
  // every channel block runs over one strip of nr positions (its kc B rows at base +
  // col_off_) while that strip is in L1.
  void run_task_channel_rows(const OpArgs& args, const T* packed_w, const T* buf, dim_t n,
                             dim_t grp, dim_t q0, dim_t b0, dim_t b1, const Slot& sl) const {
    const dim_t rows = std::min(rows_per_task_, pg_.rows - q0);
    const dim_t strips = (rows + nr_ - 1) / nr_, width = strips * nr_;
    const dim_t ldc = ldc_;
    T* acc = sl.acc;
    T* y = static_cast<T*>(args.out.data);
    const auto& ys = args.out.strides;
    const dim_t ys_last = ys[2 + g_.rank() - 1];

    // Each channel starts at its bias (zero for the padding channels of the last block): the
    // kernel's seed on the first depth slice, so no pass fills the accumulators first.
    bias_values(args.bias, grp, g_.Kg(), b0 * mr_, b1 * mr_, sl.seeds);
    if (depth_ == 0)  // (no kernel call to seed them)
      seed_channel_rows(acc + b0 * mr_ * ldc, ldc, (b1 - b0) * mr_, width, sl.seeds);

    // In 1-D with a channels-first output, grid rows are outputs and each channel's outputs
    // are contiguous: when the reduction is one depth slice, a tile of a whole channel block
    // over a strip inside the outputs is written straight into y, once (no store pass; it pays
    // where the output dwarfs the work, as w2v_conv0's 6.5 MB for 10 taps of one channel). With
    // several slices the tiles would go back and forth to y's scattered rows (slower, measured:
    // docs/measurements.md), so they use the accumulators, as do the other tiles.
    const bool direct = g_.rank() == 1 && ys_last == 1 && ys[1] != 1 && depth_ <= kc_max_;
    const dim_t direct_strips = direct ? rows / nr_ : 0;
    const dim_t direct_blocks = direct ? g_.Kg() / mr_ : 0;  // blocks [0, this) are whole
    T* y_task = y + n * ys[0] + grp * g_.Kg() * ys[1] + q0;

    // B row p of a strip is base + col_off_[k0 + p]: the kernel reads the table itself.
    static_assert(std::is_same_v<dim_t, std::ptrdiff_t>, "col_off_ serves as ptrdiff_t offsets");
    const T* image = buf + (n * g_.C + grp * g_.Cg()) * pg_.plane;
    for (dim_t k0 = 0; k0 < depth_; k0 += kc_max_) {
      const dim_t kc = std::min(kc_max_, depth_ - k0);
      for (dim_t s = 0; s < strips; ++s) {
        const T* base = image + q0 + s * nr_;
        for (dim_t b = b0; b < b1; ++b) {
          const bool to_y = s < direct_strips && b < direct_blocks;
          T* c = to_y ? y_task + b * mr_ * ys[1] + s * nr_ : acc + b * mr_ * ldc + s * nr_;
          rows_kernel_(static_cast<std::size_t>(kc),
                       packed_w + ((grp * ch_blocks_ + b) * depth_ + k0) * mr_, base,
                       col_off_.data() + k0, k0 == 0 ? sl.seeds + (b - b0) * mr_ : nullptr, c,
                       static_cast<std::size_t>(to_y ? ys[1] : ldc));
        }
      }
    }

    // Store what the kernel did not write into y already: channels-last transposed, a
    // channels-first run one copy per channel, other strides (the every-s-th outputs of a
    // stride phase, as bwd_data_phases writes a transposed convolution) element by element.
    const dim_t runs = valid_runs(ys, n, grp, q0, rows, sl.runs);
    const dim_t k_begin = b0 * mr_, k_end = std::min(b1 * mr_, g_.Kg());
    store_channel_rows(acc + k_begin * ldc, ldc, k_end - k_begin, sl.runs, runs, ys_last,
                       y + k_begin * ys[1], ys[1], std::max<dim_t>(0, direct_blocks * mr_ - k_begin),
                       direct_strips * nr_);
  }

  // The grid rows [q0, q0 + rows) of image n, group grp that are real outputs (grid
  // coordinates below O on every axis), as runs of consecutive rows that are consecutive
  // outputs along the last axis, into runs[].
  // Returns the number of runs. Line by line of the grid (L_last rows each), its leading
  // coordinates carried from one line to the next: no division per row.
  dim_t valid_runs(const std::vector<dim_t>& ys, dim_t n, dim_t grp, dim_t q0, dim_t rows,
                   OutputRun* out_runs) const {
    const int d = g_.rank();
    const dim_t L = pg_.len[d - 1], O = g_.out[d - 1], ys_last = ys[2 + d - 1];
    // Leading grid coordinates of the line holding q0 (axis 0 is never past its outputs: the
    // grid has out[0] * pitch[0] rows).
    std::vector<dim_t> c(static_cast<std::size_t>(d), 0);
    dim_t line = q0 / L;
    for (int a = d - 2; a >= 1; --a) {
      c[a] = line % pg_.len[a];
      line /= pg_.len[a];
    }
    c[0] = d > 1 ? line : 0;
    dim_t runs = 0;
    for (dim_t start = (q0 / L) * L; start < q0 + rows; start += L) {
      bool inside = true;
      dim_t off = n * ys[0] + grp * g_.Kg() * ys[1];
      for (int a = 0; a < d - 1; ++a) {
        inside = inside && c[a] < g_.out[a];
        off += c[a] * ys[2 + a];
      }
      const dim_t lo = std::max(start, q0), hi = std::min(start + O, q0 + rows);
      if (inside && hi > lo) {
        out_runs[runs++] = OutputRun{lo - q0, off + (lo - start) * ys_last, hi - lo};
      }
      for (int a = d - 2; a >= 0; --a) {
        if (a == 0 || ++c[a] < pg_.len[a]) {
          if (a == 0) ++c[0];
          break;
        }
        c[a] = 0;
      }
    }
    return runs;
  }

  // Grid indices [begin, end) of one last-axis phase that read input samples first, first + s, ..
  struct Run {
    dim_t begin = 0, end = 0, first = 0;
  };

  Geometry g_;
  PhaseGrid pg_;
  PackedWeights<T> weights_;  // W[group][channel block][d][ch_tile], d = dindex(c, tap)
  TaskGrid grid_;
  WorkspaceLayout ws_;
  // The tables, built once by the first run (build_tables).
  mutable std::once_flag tables_once_;
  mutable std::vector<Run> runs_;  // per last-axis phase
  mutable bool tap_major_ = false;
  mutable std::vector<dim_t> col_off_;                // [dindex(c, tap)]
  mutable std::vector<std::vector<std::uint8_t>> tap_valid_;  // [axis][j * k + t]
  mutable std::vector<dim_t> tap_coord_;              // [tap * rank + axis]
  mutable std::vector<dim_t> col_off_tm_;             // scratch for reordering col_off_
  mutable std::vector<std::vector<dim_t>> src_index_;  // [axis][phase * L + j]
  // The kernel's tile (mr_ rows x nr_ columns) and what its rows and columns are.
  bool channel_rows_ = false;
  kernels::BptrKernel<T> rows_kernel_;  // channel-rows mode: bound once, with its tile shape
  kernels::TileKernel<T> tile_kernel_;  // positions-as-rows mode: likewise
  dim_t mr_ = 0, nr_ = 0, pos_tile_ = 0, ch_tile_ = 0, ch_blocks_ = 0, acc_rows_ = 0;
  dim_t taps_ = 0, depth_ = 0, kc_max_ = 0;
  dim_t ldc_ = 0, rows_per_task_ = 0, chunks_ = 0, slack_ = 0, buffer_elems_ = 0;
};

class PaddedIgemm final : public Algorithm {
 public:
  const char* name() const override { return "padded_igemm"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward pass only";
    if (g.N == 0) return "empty batch";
    bool pointwise = true;
    Fits f;
    dim_t taps = 1;
    for (int a = 0; a < g.rank(); ++a) {
      pointwise = pointwise && g.kernel[a] == 1 && g.stride[a] == 1 && g.lo[a] == 0;
      taps = f.mul(taps, g.kernel[a]);
      if (taps > (1 << 16)) return "more than 65536 kernel taps";
    }
    if (pointwise) return "1x1 stride-1 layer without padding: implicit_gemm reads it in place";
    // In 1-D at stride 1, implicit_gemm reads every column but the padded ends in place already;
    // with positions as rows the copy only adds its cost, while the channel-rows tile pays for
    // it (both measured on tcn_dil8_b8: docs/measurements.md).
    if (g.rank() == 1 && g.stride[0] == 1 && !channel_rows(g))
      return "1-D stride 1 with positions as rows: implicit_gemm reads it in place";
    const PhaseGrid pg(g);
    if (pg.too_large) return "phase grid of one plane over 2^26 elements (or 2^22 along the axes)";
    // Rows computed on the grid but thrown away (L - O per row) must stay a minority.
    if (pg.rows > 2 * pg.valid)
      return "more than half of the grid rows would be discarded (kernel much wider than output)";
    const dim_t elems = f.mul(f.mul(g.N, g.C), pg.plane);
    if (!f || elems > kMaxBufferElems) return "padded input copy over 2^26 elements";
    // (groups * (Kg + 64) alone passes 2^63 when K is near 2^61.)
    const dim_t wbytes = f.mul(f.mul(g.groups, f.add(g.Kg(), 64)), f.mul(g.Cg(), taps));
    if (!f || wbytes > (dim_t{1} << 30)) return "packed weights over 2^30 elements";
    return {};
  }

  // A channels-last input with >= 64 channels per group is read in place, a tap's channel run
  // per tile row, by implicit_gemm's row-pointer path. It measured faster than this file's
  // transposing copy from 64 channels; at 32 the copy wins (docs/measurements.md). Decided here,
  // at plan time, from the layout: views whose channels turn out not to be adjacent still run
  // correctly on implicit_gemm, only its gather is slower.
  std::string pays(const Geometry& g, Op op) const override {
    if (g.in_channels_adjacent && g.Cg() >= kInPlaceChannels &&
        implicit_gemm_algorithm().reject(g, op).empty())
      return "channels-last input with >= 64 channels per group: implicit_gemm reads it in place, "
             "faster";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<PaddedExecutor>(g);
  }
};

}  // namespace

const Algorithm& padded_igemm_algorithm() {
  static const PaddedIgemm instance;
  return instance;
}

}  // namespace convnd::detail
