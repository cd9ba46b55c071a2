// # Implicit-GEMM forward convolution
//
// Per group, the forward pass is the product Y[R x K] = A[R x D] . W[D x K], where the rows R are
// (image, output position) pairs, D = (C/groups) * taps is the reduction, and A the im2col
// matrix. A is never built in full: a task (group, chunk of RC rows) tabulates, for each of its
// rows and each kernel tap, the offset of the input sample it reads (padding modes fold into
// that table; kNoSample marks a zero), then packs mr-row panels of A for one kc-slice of
// D at a time and multiplies them with the weights, which are packed once per run into nr-column
// panels. The microkernel (kernels/gemm_tile.h) only ever sees dense, zero-filled tiles.
//
// Reduction order: D is ordered (tap, c) when the input's channels are contiguous (channels-last:
// a panel row then reads consecutive memory) and (c, tap) otherwise. Every output element is
// summed by one task in a fixed order, so results do not depend on the thread count.
//
// Blocking, the weight packing, the bias-seeded accumulators, the store, the task list and the
// workspace come from the GEMM middle-end (gemm_driver.h): kc keeps the A panel (mr x kc) in L1
// while the weight panels of that slice stream from L2; RC = 8 tiles of rows bounds the task's
// accumulator block (RC x K) to a few hundred KiB of L2.
#include "algo/implicit_gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "algo/gemm_driver.h"
#include "algo/odometer.h"
#include "api/checked.h"
#include "kernels/gemm_tile.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxTaps = 1 << 16;
constexpr std::size_t kTilesPerTask = 8;
enum ColumnKind : std::uint8_t { kGather, kDense, kTwoRuns };

template <class T>
class IgemmExecutor final : public Executor {
 public:
  IgemmExecutor(const Geometry& g) : g_(g), tk_(kernels::tile_kernel<T>()) {
    mr_ = static_cast<dim_t>(tk_.mr);
    nr_ = static_cast<dim_t>(tk_.nr);
    const char* ws = "workspace";
    taps_ = checked_product(g.kernel, "kernel");
    positions_ = checked_product(g.out, "output");
    depth_ = checked_mul(g.Cg(), taps_, "kernel");
    kc_max_ = gemm_blocking(mr_, nr_, depth_, sizeof(T), Resident::broadcast_panel).kc;
    weights_.init(g, depth_, nr_);
    col_blocks_ = weights_.blocks();
    // Accumulator rows one cache line longer than their columns: with K = 512 a row is 2 KiB and
    // the rows of a tile would share a few L1 sets (measured on padded_igemm, nearly 2x on a
    // 512-channel layer: docs/measurements.md).
    ldc_ = col_blocks_ * nr_ + static_cast<dim_t>(64 / sizeof(T));
    rows_per_task_ = mr_ * static_cast<dim_t>(kTilesPerTask);
    const dim_t rows = checked_mul(g.N, positions_, ws);
    // Rows of the GEMM are (image, output position) pairs, so that small outputs (7x7 layers,
    // the 1x1-output sub-problems of bwd_weights) still fill whole tiles. With few row chunks
    // the column blocks are split too (16 tasks wanted).
    grid_ = TaskGrid(1, g.groups, (rows + rows_per_task_ - 1) / rows_per_task_, col_blocks_, 16);
    ws_.size([&](Carve& c) { return carve_shared(c); }, [&](Carve& c) { return carve_slot(c); },
             thread_slots());
  }

  // The packed weights; then one thread's scratch.
  T* carve_shared(Carve& c) const { return c.take<T>(weights_.elems()); }

  // One thread's scratch, laid out by the same sequence that sizes it.
  struct Slot {
    T* apanel;            // kc_max x mr: a gathered panel of A
    T* acc;               // rows_per_task x ldc accumulators
    dim_t* table;         // rows_per_task x taps input offsets (later: the rows' output offsets)
    std::uint8_t* kinds;  // kTilesPerTask x taps ColumnKinds, then as many split points
    const T** cols;       // kc_max column pointers
    dim_t* tap_offsets;   // taps: one row's spatial offsets
    T* seeds;             // the task's columns' bias
    OutputRun* runs;      // rows_per_task runs of output rows
  };
  Slot carve_slot(Carve& c) const {
    Slot sl;
    sl.apanel = c.take<T>(static_cast<std::size_t>(kc_max_ * mr_));
    sl.acc = c.take<T>(static_cast<std::size_t>(rows_per_task_ * ldc_));
    sl.table = c.take<dim_t>(static_cast<std::size_t>(rows_per_task_ * taps_));
    sl.kinds = c.take<std::uint8_t>(static_cast<std::size_t>(2 * kTilesPerTask * taps_));
    sl.cols = c.take<const T*>(static_cast<std::size_t>(kc_max_));
    sl.tap_offsets = c.take<dim_t>(static_cast<std::size_t>(taps_));
    sl.seeds = c.take<T>(static_cast<std::size_t>(grid_.per_part() * nr_));
    sl.runs = c.take<OutputRun>(static_cast<std::size_t>(rows_per_task_));
    return sl;
  }

  std::size_t workspace_bytes() const override { return ws_.bytes(); }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // Tables are built by the first run, not by the plan: planning stays cheap for every spec,
    // also for the candidates that are sized and then not chosen. call_once: runs of one plan
    // may be concurrent; a failed build (bad_alloc) is retried by the next run.
    std::call_once(tables_once_, [this] { build_tables(); });
    const bool tap_major = args.a.strides[1] == 1;  // channels-last input: order D as (tap, c)
    const int th = std::min(threads, thread_slots());
    T* own_w = ws_.shared(workspace, [&](Carve& c) { return carve_shared(c); });
    // Rows are ordered image-fastest when images are adjacent in memory (batch stride 1, as in
    // the re-strided input of a channels-last weight gradient): then a tile's rows at one
    // position read consecutive samples and its columns are read in place.
    const bool batch_fastest = args.a.strides[0] == 1 && g_.N >= mr_;
    run_gemm_job(g_, weights_, args.b, tap_major, own_w, grid_, th, 0, [](dim_t) {},
                 [&](const T* packed_w, const GemmTask& t) {
                   const Slot sl = ws_.slot(workspace, [&](Carve& c) { return carve_slot(c); });
                   run_task(args, tap_major, batch_fastest, packed_w, t.grp,
                            t.block * rows_per_task_, t.b0, t.b1, sl);
                 });
  }

  // Rows [row0, row0 + rows_per_task_) and column blocks [b0, b1) of group grp.
  void run_task(const OpArgs& args, bool tap_major, bool batch_fastest, const T* packed_w,
                dim_t grp, dim_t row0, dim_t b0, dim_t b1, const Slot& sl) const {
    const dim_t rows = std::min(rows_per_task_, g_.N * positions_ - row0);
    const dim_t ldc = ldc_;
    T* apanel = sl.apanel;
    T* acc = sl.acc;
    dim_t* table = sl.table;
    dim_t* tap_scratch = sl.tap_offsets;
    const auto& xs = args.a.strides;
    const int d = g_.rank();

    // 1. Which input sample each (row, tap) reads, as an offset from the group's first channel
    //    (image term included); kNoSample for a zero. Image-fastest rows share positions, so only the
    //    spatial offsets of the task's few positions are tabulated: sp[(p - p_first) * taps + t].
    std::vector<dim_t> o(d), t(d);
    dim_t n = 0;
    const dim_t p_first = batch_fastest ? row0 / g_.N : 0;
    if (batch_fastest) {
      const dim_t p_count = (row0 + rows - 1) / g_.N - p_first + 1;
      for (dim_t pi = 0; pi < p_count; ++pi) {
        unflatten(p_first + pi, o);
        fill_spatial_offsets(o, xs, table + pi * taps_);
      }
    } else {
      for (dim_t r = 0; r < rows; ++r) {
        row_coords(row0 + r, false, n, o);
        fill_spatial_offsets(o, xs, tap_scratch);
        for (dim_t tap = 0; tap < taps_; ++tap)
          table[tap * rows_per_task_ + r] =
              tap_scratch[tap] == kNoSample ? kNoSample : n * xs[0] + tap_scratch[tap];
      }
    }
    // Offset for row r0 + m of the task and `tap`.
    auto offset = [&](dim_t r, dim_t tap) -> dim_t {
      if (!batch_fastest) return table[tap * rows_per_task_ + r];
      const dim_t row = row0 + r;
      const dim_t sp = table[(row / g_.N - p_first) * taps_ + tap];
      return sp == kNoSample ? kNoSample : (row % g_.N) + sp;  // batch stride is 1 here
    };

    // How each (tile, tap) column can be formed: kDense when the mr rows read mr consecutive
    // samples (read in place: the interior of a stride-1 channels-first row, or mr consecutive
    // images at one position); kTwoRuns when they read two consecutive runs (a tile straddling
    // two output rows or two positions: two short copies); kGather otherwise (padding, strides).
    // For kTwoRuns, split[] holds where the second run starts.
    const dim_t tiles = (rows + mr_ - 1) / mr_;
    std::uint8_t* kind = sl.kinds;
    std::uint8_t* split = kind + kTilesPerTask * taps_;
    for (dim_t tile = 0; tile < tiles; ++tile) {
      const bool full = (tile + 1) * mr_ <= rows;
      // Image-fastest: where the tile's rows move to the next position (mr if they do not).
      dim_t wrap = mr_;
      if (batch_fastest) {
        const dim_t first = row0 + tile * mr_;
        wrap = std::min<dim_t>(mr_, g_.N - first % g_.N);
      }
      for (dim_t tap = 0; tap < taps_; ++tap) {
        const dim_t i = tile * taps_ + tap;
        kind[i] = kGather;
        if (!full) continue;
        if (batch_fastest) {
          const dim_t a = offset(tile * mr_, tap);
          const dim_t b = wrap < mr_ ? offset(tile * mr_ + wrap, tap) : 0;
          if (a == kNoSample || b == kNoSample) continue;  // N >= mr: the second run never wraps again
          kind[i] = wrap == mr_ ? kDense : kTwoRuns;
          split[i] = static_cast<std::uint8_t>(wrap);
          continue;
        }
        const dim_t* offs = table + tap * rows_per_task_ + tile * mr_;
        if (offs[0] == kNoSample) continue;
        dim_t breaks = 0, at = 0;
        for (dim_t m = 1; m < mr_ && breaks < 2; ++m) {
          if (offs[m] == kNoSample) breaks = 2;
          else if (offs[m] != offs[m - 1] + 1) ++breaks, at = m;
        }
        if (breaks == 0) kind[i] = kDense;
        if (breaks == 1) kind[i] = kTwoRuns, split[i] = static_cast<std::uint8_t>(at);
      }
    }

    // 2. Accumulators (this task's column blocks only) start at the bias.
    const dim_t k_begin = b0 * nr_, k_end = std::min(b1 * nr_, g_.Kg());
    //    (Rows past `rows` in the last tile are computed too, and never stored.)
    bias_values(args.bias, grp, g_.Kg(), k_begin, b1 * nr_, sl.seeds);
    seed_position_rows(acc + k_begin, ldc, tiles * mr_, (b1 - b0) * nr_, sl.seeds);

    // 3. The reduction, in kc-slices, each multiplied by every column block of the weights.
    const T* x = static_cast<const T*>(args.a.data) + grp * g_.Cg() * xs[1];
    if (rows_mode(tap_major)) {
      // Contiguous channels: row m of a tile is one position's channels for one tap, read in
      // place (padding rows point at zeros): no packing at all.
      const T* zeros = reinterpret_cast<const T*>(zeros_);
      const T* row_ptr[kMaxRows];
      for (dim_t tap = 0; tap < taps_; ++tap)
        for (dim_t c0 = 0; c0 < g_.Cg(); c0 += kc_max_) {
          const dim_t kc = std::min(kc_max_, g_.Cg() - c0);
          for (dim_t tile = 0; tile < tiles; ++tile) {
            const dim_t r0 = tile * mr_;
            for (dim_t m = 0; m < mr_; ++m) {
              const dim_t off = r0 + m < rows ? offset(r0 + m, tap) : kNoSample;
              row_ptr[m] = off != kNoSample ? x + off + c0 : zeros;
            }
            for (dim_t b = b0; b < b1; ++b)
              tk_.rows(static_cast<std::size_t>(kc), row_ptr, weights_.panel(packed_w, grp, b, tap * g_.Cg() + c0),
                       acc + r0 * ldc + b * nr_, static_cast<std::size_t>(ldc));
          }
        }
    } else {
      // Column p of a tile is mr values of one (c, tap): read in place when they are mr
      // consecutive samples (stride-1 interior), else gathered into the scratch panel.
      const T** col_ptr = sl.cols;
      for (dim_t k0 = 0; k0 < depth_; k0 += kc_max_) {
        const dim_t kc = std::min(kc_max_, depth_ - k0);
        for (dim_t tile = 0; tile < tiles; ++tile) {
          const dim_t r0 = tile * mr_;
          const dim_t valid = std::min(mr_, rows - r0);
          // (c, tap) of the slice's first reduction index; then stepped without divisions.
          dim_t c = tap_major ? k0 % g_.Cg() : k0 / taps_;
          dim_t tap = tap_major ? k0 / g_.Cg() : k0 % taps_;
          const std::uint8_t* tile_kind = kind + tile * taps_;
          const std::uint8_t* tile_split = split + tile * taps_;
          for (dim_t dd = 0; dd < kc; ++dd) {
            const T* xc = x + c * xs[1];
            T* dst = apanel + dd * mr_;
            col_ptr[dd] = dst;
            if (tile_kind[tap] == kDense) {
              col_ptr[dd] = xc + offset(r0, tap);
            } else if (tile_kind[tap] == kTwoRuns) {
              const dim_t at = tile_split[tap];
              std::memcpy(dst, xc + offset(r0, tap), sizeof(T) * at);
              std::memcpy(dst + at, xc + offset(r0 + at, tap), sizeof(T) * (mr_ - at));
            } else {
              for (dim_t m = 0; m < valid; ++m) {
                const dim_t off = offset(r0 + m, tap);
                dst[m] = off != kNoSample ? xc[off] : T(0);
              }
              for (dim_t m = valid; m < mr_; ++m) dst[m] = T(0);
            }
            if (tap_major) {
              if (++c == g_.Cg()) c = 0, ++tap;
            } else if (++tap == taps_) {
              tap = 0, ++c;
            }
          }
          for (dim_t b = b0; b < b1; ++b)
            tk_.cols(static_cast<std::size_t>(kc), col_ptr,
                     weights_.panel(packed_w, grp, b, k0),
                     acc + r0 * ldc + b * nr_, static_cast<std::size_t>(ldc));
        }
      }
    }

    // 4. Store the task's rows into y, as runs of rows whose outputs are evenly spaced
    //    (consecutive positions, or consecutive images when they are the fastest).
    T* y = static_cast<T*>(args.out.data);
    const auto& ys = args.out.strides;
    dim_t* row_off = table;  // the offset table is no longer needed
    for (dim_t r = 0; r < rows; ++r) {
      row_coords(row0 + r, batch_fastest, n, o);
      dim_t off = n * ys[0] + grp * g_.Kg() * ys[1];
      for (int a = 0; a < d; ++a) off += o[a] * ys[2 + a];
      row_off[r] = off;
    }
    const dim_t step = batch_fastest ? ys[0] : ys[2 + d - 1];
    const dim_t runs = merge_runs(row_off, rows, step, sl.runs);
    store_position_rows(acc + k_begin, ldc, k_end - k_begin, sl.runs, runs, step,
                        y + k_begin * ys[1], ys[1]);
  }

  void build_tables() const {
    const Geometry& g = g_;
    // Per-axis tables of input coordinates (padding modes applied once), unless degenerate
    // extents would make them larger than the problem warrants.
    // (Checked: out * k alone can pass 2^63 for degenerate extents; saturation then skips them.)
    Fits f;
    dim_t entries = 0;
    for (int a = 0; a < g.rank(); ++a) entries = f.add(entries, f.mul(g.out[a], g.kernel[a]));
    if (entries > (dim_t{1} << 20)) return;
    std::vector<std::vector<dim_t>> tables(g.rank());  // assigned whole: a throw leaves none
    for (int a = 0; a < g.rank(); ++a) {
      tables[a].reserve(static_cast<std::size_t>(g.out[a] * g.kernel[a]));
      for (dim_t o = 0; o < g.out[a]; ++o)
        for (dim_t t = 0; t < g.kernel[a]; ++t)
          tables[a].push_back(map_padded_index(o * g.stride[a] - g.lo[a] + t * g.dil[a],
                                               g.in[a], g.mode));
    }
    axis_index_ = std::move(tables);
  }

  // Input coordinate read along axis a by output coordinate o and tap t (-1: a zero sample),
  // from the per-axis table when there is one.
  dim_t input_index(int a, dim_t o, dim_t t) const {
    if (!axis_index_.empty()) return axis_index_[a][o * g_.kernel[a] + t];
    return map_padded_index(o * g_.stride[a] - g_.lo[a] + t * g_.dil[a], g_.in[a], g_.mode);
  }

  // Spatial input offset (or kNoSample) of every tap for output coordinates o.
  void fill_spatial_offsets(const std::vector<dim_t>& o, const std::vector<dim_t>& xs,
                            dim_t* out) const {
    const int d = g_.rank();
    std::vector<dim_t> t(d, 0);
    for (dim_t tap = 0; tap < taps_; ++tap) {
      dim_t off = 0;
      for (int a = 0; a < d && off != kNoSample; ++a) {
        const dim_t m = input_index(a, o[a], t[a]);
        off = m < 0 ? kNoSample : off + m * xs[2 + a];
      }
      out[tap] = off;
      next_index(t, g_.kernel, d);
    }
  }

  // Image and output coordinates of GEMM row r.
  void row_coords(dim_t r, bool batch_fastest, dim_t& n, std::vector<dim_t>& o) const {
    if (batch_fastest) {
      n = r % g_.N;
      unflatten(r / g_.N, o);
    } else {
      n = r / positions_;
      unflatten(r % positions_, o);
    }
  }

  // Output coordinates of flat position p.
  void unflatten(dim_t p, std::vector<dim_t>& o) const {
    for (int a = g_.rank() - 1; a >= 0; --a) {
      o[a] = p % g_.out[a];
      p /= g_.out[a];
    }
  }
  // Next output position; true when it wrapped around to the next image.
  bool advance(std::vector<dim_t>& o) const { return !next_index(o, g_.out, g_.rank()); }

  // Row pointers (no packing) pay off when a tap's channel run is long enough to amortise the
  // accumulator traffic of a kernel call.
  bool rows_mode(bool tap_major) const { return tap_major && g_.Cg() >= 32; }

  static constexpr dim_t kMaxRows = 16;
  // What padding rows point at in rows mode: kc_max zeros (kc <= kMaxSlice, in doubles).
  alignas(64) static inline const double zeros_[kMaxSlice] = {};

  Geometry g_;
  kernels::TileKernel<T> tk_;  // bound once: its tile is mr_ x nr_
  PackedWeights<T> weights_;   // W[group][col block][d][nr], d in (c, tap) or (tap, c) order
  TaskGrid grid_;
  WorkspaceLayout ws_;
  mutable std::once_flag tables_once_;
  mutable std::vector<std::vector<dim_t>> axis_index_;  // [axis][o * k + t], or empty
  dim_t mr_ = 0, nr_ = 0, taps_ = 0, positions_ = 0, depth_ = 0, kc_max_ = 0;
  dim_t col_blocks_ = 0, rows_per_task_ = 0, ldc_ = 0;
};

class ImplicitGemm final : public Algorithm {
 public:
  const char* name() const override { return "implicit_gemm"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward pass only (backward passes compose it: composed.cc)";
    Fits f;
    dim_t taps = 1;
    for (dim_t k : g.kernel) {
      taps = f.mul(taps, k);
      if (taps > kMaxTaps) return "more than 65536 kernel taps";
    }
    if (g.N == 0) return "empty batch";
    // The packed weights and per-thread panels must have a size that fits comfortably.
    // (groups * (Kg + 64) alone passes 2^63 when K is near 2^61.)
    const dim_t bytes =
        f.mul(f.mul(f.mul(g.groups, f.add(g.Kg(), 64)), f.mul(g.Cg(), taps)), 64);
    if (!f || bytes > (dim_t{1} << 40)) return "packed weights would exceed 1 TiB";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<IgemmExecutor>(g);
  }
};

}  // namespace

const Algorithm& implicit_gemm_algorithm() {
  static const ImplicitGemm instance;
  return instance;
}

}  // namespace convnd::detail
