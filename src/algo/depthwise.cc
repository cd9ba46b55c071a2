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
// TODO(#16): this file holds four jobs (channels-last, planes forward, planes backward data,
// weight gradients); the planes' layout (constructor, prepare_slot, build_plane) is what they
// share, and could move to a header of its own.
#include "algo/depthwise.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "algo/odometer.h"
#include "api/checked.h"
#include "kernels/dwconv.h"
#include "kernels/transpose.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxTaps = 4096;
constexpr dim_t kPositionsPerTask = 64;
constexpr dim_t kMaxPlane = dim_t{1} << 22;
// Fewest channels for which channels-last runs along channel vectors rather than on planes.
constexpr dim_t kChannelVectorMin = 16;
// Channels-first forward through channel-blocked tiles (run_tiles): a tile is this many
// channels of one image (a cache line of them, one AVX-512 vector of f32), and its input and
// output channels-last take at most kMaxTileBytes of a thread's slot (L2-sized).
constexpr std::size_t kTileBytes = 64;
constexpr std::size_t kMaxTileBytes = std::size_t{1} << 20;
// Outputs of one wide dw_row call (32 KiB of float32).
constexpr dim_t kWideElems = 8192;

std::size_t align64(std::size_t b) { return (b + 63) / 64 * 64; }

// Spare bytes of the shared workspace for placing the weights and the bias at an offset within
// a cache line: up to 63 each, and the bias's start rounded up past the weights.
constexpr std::size_t kAlignSlack = 192;

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
dim_t padded_extent(const Geometry& g, int a, Fits& f) {
  return f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.kernel[a] - 1, g.dil[a])), 1);
}
dim_t padded_extent(const Geometry& g, int a) {
  Fits f;
  const dim_t e = padded_extent(g, a, f);
  if (!f) throw_overflow("padding");
  return e;
}

template <class T>
class DepthwiseExecutor final : public Executor {
 public:
  DepthwiseExecutor(const Geometry& g, Op op) : g_(g), op_(op), slots_(thread_slots()) {
    const int d = g.rank();
    // Sizes checked although reject() bounds them: a size that wrapped would under-allocate.
    const char* ws = "workspace";
    taps_ = checked_product(g.kernel, "kernel");
    positions_ = checked_product(g.out, "output");
    // Stored layout of a plane: [last-axis phase][outer rows][J], the outer rows in padded order
    // except the row axis (d - 2), stored phase by phase (Jr rows each).
    const int last = d - 1;
    ra_ = d >= 2 ? d - 2 : -1;
    const dim_t e_last = padded_extent(g, last);  // ceil(e / s) without e + s - 1 overflowing
    J_ = e_last / g.stride[last] + (e_last % g.stride[last] != 0);
    stored_.resize(d);
    for (int a = 0; a < last; ++a) {
      const dim_t e = padded_extent(g, a);
      stored_[a] =
          a == ra_ ? checked_mul(g.stride[a], e / g.stride[a] + (e % g.stride[a] != 0), ws) : e;
    }
    row_stride_.assign(d, 0);
    dim_t rows = 1;
    for (int a = last - 1; a >= 0; --a) {
      row_stride_[a] = rows;
      rows = checked_mul(rows, stored_[a], ws);
    }
    phase_size_ = checked_mul(rows, J_, ws);
    // Per last-axis phase p, the stored columns [jl, jr) whose padded coordinate p + s * j lies
    // inside the input, [max(lo, 0), min(E, lo + S)): identity-mapped whatever the mode.
    {
      const dim_t s = g.stride[last], lo = g.lo[last], S = g.in[last];
      const dim_t q0 = std::max<dim_t>(lo, 0);
      const dim_t q1 = lo >= e_last ? q0 : (S >= e_last - lo ? e_last : lo + S);
      interior_q0_ = q0;
      interior_count_ = q1 - q0;
      for (dim_t p = 0; p < s; ++p) {
        const dim_t jl = q0 <= p ? 0 : (q0 - p + s - 1) / s;
        const dim_t jr = q1 <= p ? 0 : std::min(J_, (q1 - p + s - 1) / s);
        interior_.push_back(jl);
        interior_.push_back(std::max(jl, jr));
      }
    }
    plane_ = checked_mul(phase_size_, g.stride[last], ws);
    for (int a = 0; a < d; ++a) E_.push_back(padded_extent(g, a));
    // Stored rows that no padded coordinate fills: row-axis phase p holds ceil((E - p) / sr)
    // rows of its Jr, for every combination of the axes before the row axis.
    if (ra_ >= 0 && E_[ra_] != stored_[ra_]) {
      const dim_t sr = g.stride[ra_], Jr = stored_[ra_] / sr;
      dim_t combos = 1;
      for (int a = 0; a < ra_; ++a) combos *= E_[a];
      for (dim_t k = 0; k < combos; ++k) {
        dim_t base = 0, rem = k;
        for (int a = ra_ - 1; a >= 0; --a) base += (rem % E_[a]) * row_stride_[a], rem /= E_[a];
        for (dim_t p = 0; p < sr; ++p)
          for (dim_t idx = (E_[ra_] - p + sr - 1) / sr; idx < Jr; ++idx)
            tail_rows_.push_back(base + p * Jr + idx);
      }
    }
    // Where each tap's run starts in the plane for the first output of a slice (see run_plane).
    {
      std::vector<dim_t> t(d, 0);
      for (dim_t tap = 0; tap < taps_; ++tap) {
        dim_t R = 0;
        for (int a = 0; a < last; ++a)
          R = checked_add(
              R, checked_mul(stored_row(a, checked_mul(t[a], g.dil[a], ws)), row_stride_[a], ws),
              ws);
        tap_off_.push_back(run_start(R, checked_mul(t[last], g.dil[last], ws)));
        next_index(t, g.kernel, d);
      }
    }
    // (+ kAlignSlack: channels-last places the weights and the bias at the input's offset within
    // a cache line, see run())
    shared_bytes_ = checked_size_add(
        checked_size_add(checked_bytes64(checked_mul(g.C, taps_, ws), sizeof(T), ws),
                         checked_size_mul(2, checked_bytes64(g.C, sizeof(T), ws), ws), ws),
        kAlignSlack, ws);
    // The row buffer doubles as build_plane's tables (prepare_slot): a padded row of last-axis
    // offsets and two entries per padded outer row (at most `rows`, the stored ones).
    const dim_t last_row = checked_mul(g.stride.back(), J_, ws);
    outer_rows_ = 1;
    for (int a = 0; a < last; ++a) outer_rows_ = checked_mul(outer_rows_, E_[a], ws);
    row_bytes_ = std::max(
        checked_bytes64(std::max(g.C, g.out.back()), sizeof(T), ws),
        checked_bytes64(checked_add(checked_add(last_row, checked_mul(2, outer_rows_, ws), ws),
                                    checked_mul(2, d >= 2 ? g.out[d - 2] : 1, ws), ws),
                        sizeof(dim_t), ws));
    valid_rows_ = 0;
    {
      std::vector<dim_t> e(d, 0);
      for (dim_t r = 0; r < outer_rows_; ++r) {
        bool inside = true;
        for (int a = 0; a < last; ++a)
          inside = inside && map_padded_index(e[a] - g.lo[a], g.in[a], g.mode) >= 0;
        valid_rows_ += inside;
        next_index(e, E_, last);
      }
    }
    plane_bytes_ = checked_bytes64(std::max(plane_, taps_), sizeof(T), ws);
    // The plane, then the wide output of a group of a slice's rows: a few L1-sized runs rather
    // than the whole slice, so the copy-out reads from cache and a large image's workspace is
    // one plane, not two (fresh pages cost a fault each).
    wide_elems_ = std::max(kWideElems, g.out.back());
    // Rows longer than one AVX-512 vector go straight to the output (kernels::dw_rows); shorter
    // ones (a stride-2 layer's 14) are one wide run and a copy-out, measured a little faster
    // there (docs/measurements.md), where a row is one masked vector with 2 of 16 lanes idle.
    direct_rows_ = g.out.back() > 16;
    // Channels-last runs whose kernel rows share input vectors between taps and positions
    // (kernels::dw_channels_taps: 3, 5 or 7 taps along the row, stride 1 or 2 times the
    // dilation); other rows list every tap for dw_channels_run.
    {
      const dim_t kw = g.kernel[last], s = g.stride[last], dil = g.dil[last];
      taps_rows_ = (kw == 3 || kw == 5 || kw == 7) && (s == dil || s == 2 * dil);
    }
    // Consecutive planes per task: a thread then streams ~32K samples of input and output in
    // order, where one plane per task had two threads taking every other plane (nearly 2x on a
    // stride-2 layer: docs/measurements.md); at least 16 tasks remain
    // for the threads to balance. A function of the problem only, never of the thread count.
    {
      dim_t in_plane = 1;
      for (dim_t e : g.in) in_plane = std::min<dim_t>(checked_mul(in_plane, e, ws), dim_t{1} << 20);
      const dim_t planes = checked_mul(g.N, g.C, ws);
      planes_per_task_ = std::clamp<dim_t>(dim_t{32768} / std::max<dim_t>(in_plane, 1), 1, 64);
      planes_per_task_ = std::max<dim_t>(1, std::min(planes_per_task_, planes / 16));
      // The weight gradient's tasks are channels (each summing over every image): blocks of
      // as many, keeping 16 tasks.
      channels_per_task_ = std::clamp<dim_t>(std::min(planes_per_task_, g.C / 16), 1, 64);
    }
    if (op == Op::bwd_data) {
      // run_bwd_data: dy behind a margin of max off'_t, Jr rows of J_ (zero past dy's), then a
      // padded row and a dx row; the fold's lists of padded rows per input row.
      const dim_t sc = g.stride[last], sr = d == 2 ? g.stride[0] : 1;
      const dim_t Jr = d == 2 ? stored_[0] / sr : 1;
      bwd_margin_ = checked_add(
          checked_mul(d == 2 ? checked_mul(g.kernel[0] - 1, g.dil[0], ws) / sr : 0, J_, ws),
          checked_mul(g.kernel[last] - 1, g.dil[last], ws) / sc, ws);
      bwd_dy_elems_ = checked_add(bwd_margin_, checked_mul(Jr, J_, ws), ws);
      const dim_t fold_rows = checked_add(checked_mul(sc, J_, ws), g.in[last], ws);
      wide_elems_ = std::max(wide_elems_, checked_add(bwd_dy_elems_, fold_rows, ws));
      // Taps of each phase (pc * sr + pr): (off'_t, tap), in tap order.
      for (dim_t pc = 0; pc < sc; ++pc)
        for (dim_t pr = 0; pr < sr; ++pr) {
          bwd_phase_start_.push_back(static_cast<dim_t>(bwd_phase_taps_.size() / 2));
          for (dim_t tap = 0; tap < taps_; ++tap) {
            const dim_t qc = checked_mul(tap % g.kernel[last], g.dil[last], ws);
            const dim_t qr = d == 2 ? checked_mul(tap / g.kernel[last], g.dil[0], ws) : 0;
            if (qc % sc != pc || qr % sr != pr) continue;
            bwd_phase_taps_.push_back(checked_add(checked_mul(qr / sr, J_, ws), qc / sc, ws));
            bwd_phase_taps_.push_back(tap);
          }
        }
      bwd_phase_start_.push_back(static_cast<dim_t>(bwd_phase_taps_.size() / 2));
      // Padded columns outside the input that the mode folds onto one: (q, input index).
      for (dim_t q = 0; q < E_[last]; ++q) {
        if (q - g.lo[last] >= 0 && q - g.lo[last] < g.in[last]) continue;
        const dim_t m = map_padded_index(q - g.lo[last], g.in[last], g.mode);
        if (m >= 0) fold_cols_.insert(fold_cols_.end(), {q, m});
      }
      if (d == 2) {
        std::vector<std::vector<dim_t>> lists(static_cast<std::size_t>(g.in[0]));
        for (dim_t q = 0; q < E_[0]; ++q) {
          const dim_t m = map_padded_index(q - g.lo[0], g.in[0], g.mode);
          if (m >= 0) lists[m].push_back(q);
        }
        fold_row_start_.push_back(0);
        for (const auto& l : lists) {
          fold_rows_.insert(fold_rows_.end(), l.begin(), l.end());
          fold_row_start_.push_back(static_cast<dim_t>(fold_rows_.size()));
        }
      }
      // Zero padding: input rows [0, bwd_rows_) get one padded row each, the rest none.
      fold_single_ = g.mode == PadMode::zeros;
      bwd_rows_ = d == 2 ? std::clamp<dim_t>(E_[0] - g.lo[0], 0, g.in[0]) : 1;
      const dim_t tables =
          checked_add(checked_mul(2, d == 2 ? g.out[0] : 1, ws), checked_mul(2, bwd_rows_, ws), ws);
      row_bytes_ = std::max(row_bytes_, checked_bytes64(tables, sizeof(dim_t), ws));
    }
    // Then weights_plane's per-tap sums of a block of channels.
    slot_bytes_ = checked_size_add(
        checked_size_add(checked_size_add(ptr_bytes(), row_bytes_, ws), plane_bytes_, ws),
        checked_bytes64(checked_add(wide_elems_, checked_mul(taps_, channels_per_task_, ws), ws),
                        sizeof(T), ws),
        ws);
    plan_tiles(g, op);
    slot_bytes_ = checked_size_add(slot_bytes_, tile_bytes_, ws);
    workspace_bytes_ = checked_size_add(
        shared_bytes_, checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  // Channels-first forward with enough channels for a vector (see pays()): run_tiles' channel
  // block, the dense channels-last strides of its input and output tiles, and their bytes.
  void plan_tiles(const Geometry& g, Op op) {
    // At stride 1 the planes' rows are as long as the input's and fill their vectors: measured
    // (1 thread, ms, planes / tiles) mbv2_dw3x3_b1 0.14 / 0.18, convnext_dw7_b1 0.35 / 0.37;
    // strided, mbv2_dw3x3s2_b16 0.9-1.05 / 0.48-0.55, effnet_dw5s2_b8 0.50-0.58 / 0.39.
    bool strided = false;
    for (dim_t s : g.stride) strided = strided || s > 1;
    if (op != Op::fwd || g.layout != Layout::channels_first || g.C < kChannelVectorMin || !strided)
      return;
    const int d = g.rank();
    // 1, 2 or 4 lines of channels: the channels-last kernels' per-position set-up (pointers,
    // border taps) is then shared by 2 or 4 vectors; as many as keep 8 tasks and fit the tile.
    dim_t in_positions = 1;
    for (dim_t e : g.in) in_positions = std::min<dim_t>(in_positions * std::min<dim_t>(e, dim_t{1} << 20), dim_t{1} << 40);
    dim_t cb = static_cast<dim_t>(kTileBytes / sizeof(T));
    for (dim_t k : {4, 2}) {
      const dim_t wide = k * cb;
      if (g.N * ((g.C + wide - 1) / wide) >= 8 &&
          wide * (in_positions + positions_) * static_cast<dim_t>(sizeof(T)) <= static_cast<dim_t>(kMaxTileBytes / 2)) {
        cb = wide;
        break;
      }
    }
    tile_channels_ = cb;
    tile_in_strides_.assign(d + 2, 0);
    tile_out_strides_.assign(d + 2, 0);
    tile_in_strides_[1] = tile_out_strides_[1] = 1;
    Fits f;
    dim_t pin = cb, pout = cb;
    for (int a = d - 1; a >= 0; --a) {
      tile_in_strides_[2 + a] = pin;
      tile_out_strides_[2 + a] = pout;
      pin = f.mul(pin, g.in[a]);
      pout = f.mul(pout, g.out[a]);
    }
    const dim_t elems = f.add(f.add(pin, pout), cb);  // + cb: the output tile starts on a line
    if (!f || elems > static_cast<dim_t>(kMaxTileBytes / sizeof(T))) return;
    tile_in_elems_ = pin;
    tile_bytes_ = static_cast<std::size_t>(elems) * sizeof(T) + kTileBytes;
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // The padding table is built by the first run, not by the plan (planning stays cheap);
    // call_once because runs of one plan may be concurrent.
    std::call_once(table_once_, [this] { build_table(); });
    if (op_ == Op::bwd_weights) return run_weights(args, workspace, threads);
    if (op_ == Op::bwd_data) return run_bwd_data(args, workspace, threads);
    auto* ws = static_cast<char*>(workspace);
    const bool channels_last = args.a.strides[1] == 1 && g_.C >= kChannelVectorMin;
    const bool tiled = !channels_last && tile_bytes_ > 0 && dense_planes(args.a.shape, args.a.strides) &&
                       dense_planes(args.out.shape, args.out.strides);
    // Channels-last kernels align their input loads (a caller's tensor is rarely 64-byte
    // aligned, and a load across two cache lines costs two); the weight and bias vectors of the
    // same channels are then aligned too if they sit at the input's offset within a line.
    // (Tiles start on a line: their weights do too.)
    const std::size_t shift = channels_last ? line_offset<T>(args.a.data) : 0;
    const bool tap_major = channels_last || tiled;
    T* wt = reinterpret_cast<T*>(ws + shift);
    T* bias = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_) + 64 + shift);
    // Weights tap-major (w[t][c]) for channels-last, channel-major (w[c][t]) otherwise.
    const T* w = static_cast<const T*>(args.b.data);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.b.strides);
    for (dim_t c = 0; c < g_.C; ++c)
      for (dim_t t = 0; t < taps_; ++t)
        wt[tap_major ? t * g_.C + c : c * taps_ + t] = w[c * args.b.strides[0] + tap_off[t]];
    const T* b = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    for (dim_t c = 0; c < g_.C; ++c) bias[c] = b ? b[c * args.bias->strides[0]] : T(0);
    const int n_threads = std::min(threads, slots_);
    auto slot = [&] { return ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_; };
    if (tiled) {
      run_tiles(args, wt, bias, n_threads, ws);
    } else if (channels_last) {
      // A task is whole output rows (as many as make up to kPositionsPerTask positions) or a
      // segment of kPositionsPerTask positions of one long row: chunks that crossed rows cut
      // the rows' runs into shorter ones, with more tails.
      const dim_t W = g_.out.back(), rows = positions_ / W;
      const dim_t per = std::max<dim_t>(1, kPositionsPerTask / W);  // rows per task
      const dim_t segments = (W + kPositionsPerTask - 1) / kPositionsPerTask;  // per row
      const dim_t groups = (rows + per - 1) / per;
      const dim_t tasks = per > 1 ? groups : rows * segments;
      parallel_tasks(g_.N * tasks, n_threads, [&](dim_t task) {
        const dim_t n = task / tasks, k = task % tasks;
        dim_t p0, p1;
        if (per > 1) {
          p0 = k * per * W;
          p1 = std::min(rows, (k + 1) * per) * W;
        } else {
          const dim_t row = k / segments, seg = k % segments;
          p0 = row * W + seg * kPositionsPerTask;
          p1 = std::min(row * W + W, p0 + kPositionsPerTask);
        }
        run_channels_last(static_cast<const T*>(args.a.data) + n * args.a.strides[0],
                          args.a.strides, static_cast<T*>(args.out.data) + n * args.out.strides[0],
                          args.out.strides, wt, bias, 0, g_.C, p0, p1, slot());
      });
    } else {
      // Each thread fills its slot's last-axis offset table once per run (its own entry of
      // `filled`: no entry is shared between threads).
      std::vector<char> filled(static_cast<std::size_t>(slots_), 0);
      const dim_t planes = g_.N * g_.C, per = planes_per_task_;  // see the constructor
      parallel_tasks((planes + per - 1) / per, n_threads, [&](dim_t task) {
        char* sl = slot();
        char& mine = filled[static_cast<std::size_t>(thread_index())];
        if (!mine)
          prepare_slot(args.a.strides, args.out.strides, reinterpret_cast<dim_t*>(sl + ptr_bytes()),
                       reinterpret_cast<T*>(sl + ptr_bytes() + row_bytes_));
        mine = 1;
        for (dim_t p = task * per; p < std::min(planes, (task + 1) * per); ++p)
          run_plane(args, wt, bias, p / g_.C, p % g_.C, sl);
      });
    }
  }

 private:
  void build_table() const {
    std::vector<std::vector<dim_t>> table(g_.rank());  // assigned whole: a throw leaves none
    for (int a = 0; a < g_.rank(); ++a) {
      const dim_t e = padded_extent(g_, a);
      table[a].reserve(static_cast<std::size_t>(e));
      for (dim_t q = 0; q < e; ++q)
        table[a].push_back(map_padded_index(q - g_.lo[a], g_.in[a], g_.mode));
    }
    pad_table_ = std::move(table);
  }

  // Input coordinate of padded coordinate q along axis a (-1: a zero sample).
  dim_t pad_index(int a, dim_t q) const { return pad_table_[a][q]; }

  // The tables build_plane and run_plane read, in a slot's row area; they depend on the
  // geometry and the views' strides only, so a thread fills them once per run (a stride-2
  // plane is ~900 samples, and per-plane index arithmetic was most of its build):
  //  - last_src[s * J_]: the source offset of every padded coordinate along the last axis
  //    (kNoSample: zero), in the phase-split order;
  //  - row_src[outer_rows_], row_dst[outer_rows_]: the padded outer rows that read the input
  //    first (valid_rows_ of them: source offset, stored row times J_), then the zero rows
  //    (row_dst only);
  //  - wide_off[out rows], y_off[out rows]: row r of a wide run and of the output.
  // With zero padding every sample outside the input is a zero in every plane, so the plane is
  // zeroed here once and build_plane copies only the samples inside the input.
  void prepare_slot(const std::vector<dim_t>& xs, const std::vector<dim_t>& ys, dim_t* tables,
                    T* plane) const {
    const int d = g_.rank(), last = d - 1;
    const dim_t s = g_.stride[last];
    dim_t* last_src = tables;
    for (dim_t q = 0; q < E_[last]; ++q) {
      const dim_t m = pad_index(last, q);
      last_src[(q % s) * J_ + q / s] = m < 0 ? kNoSample : m * xs[2 + last];
    }
    for (dim_t j = E_[last]; j < s * J_; ++j) last_src[(j % s) * J_ + j / s] = kNoSample;
    dim_t* row_src = tables + s * J_;
    dim_t* row_dst = row_src + outer_rows_;
    SmallIndex e_buf(d);
    dim_t* e = e_buf.data();
    for (int a = 0; a < d; ++a) e[a] = 0;
    dim_t valid = 0, zero = valid_rows_;
    for (dim_t r = 0; r < outer_rows_; ++r) {
      dim_t base = 0, R = 0;
      for (int a = 0; a < last && base != kNoSample; ++a) {
        const dim_t m = pad_index(a, e[a]);
        base = m < 0 ? kNoSample : base + m * xs[2 + a];
      }
      for (int a = 0; a < last; ++a) R += stored_row(a, e[a]) * row_stride_[a];
      const dim_t k = base == kNoSample ? zero++ : valid++;
      row_src[k] = base;
      row_dst[k] = R * J_;
      next_index(e, E_, last);
    }
    const int ra = d >= 2 ? d - 2 : last;
    const dim_t out_rows = d >= 2 ? g_.out[ra] : 1;
    dim_t* wide_off = row_dst + outer_rows_;
    dim_t* y_off = wide_off + out_rows;
    for (dim_t r = 0; r < out_rows; ++r) {
      wide_off[r] = r * J_;
      y_off[r] = d >= 2 ? r * ys[2 + ra] : 0;
    }
    if (g_.mode == PadMode::zeros) std::fill_n(plane, plane_, T(0));
  }

  // Copies plane x (one image and channel) into `plane`, padded by the mode to the extents the
  // taps read, in the stored layout (see the constructor): last-axis phases as sub-planes of
  // phase_size_ samples, the row axis's phases as blocks of rows. `tables` and `plane` were
  // prepared by prepare_slot() in this run.
  void build_plane(const T* x, dim_t last_stride, const dim_t* tables, T* plane) const {
    const int last = g_.rank() - 1;
    const dim_t s = g_.stride[last];
    const dim_t* last_src = tables;
    const dim_t* row_src = tables + s * J_;
    const dim_t* row_dst = row_src + outer_rows_;
    const bool zeros = g_.mode == PadMode::zeros;  // then only the inside changes
    if (!zeros) {
      // Stored rows that no padded coordinate fills (the row axis's last phases may be shorter)
      // are zeroed, so the throw-away outputs of a wide run read defined values.
      for (dim_t R : tail_rows_)
        for (dim_t q = 0; q < s; ++q) std::fill_n(plane + q * phase_size_ + R * J_, J_, T(0));
    }
    const auto step = static_cast<std::ptrdiff_t>(s * last_stride);
    // Stride 2 over dense rows: both phases from one pass over each row (the samples from
    // padded coordinate q0 on: even ones to phase q0 % 2, odd ones to the other).
    const bool pairs = s == 2 && last_stride == 1 && interior_count_ > 0;
    if (pairs) {
      const dim_t p0 = interior_q0_ % 2, p1 = 1 - p0;
      kernels::deinterleave_rows<T>(x + last_src[p0 * J_ + interior_[2 * p0]], row_src,
                                    plane + p0 * phase_size_ + interior_[2 * p0],
                                    plane + p1 * phase_size_ + interior_[2 * p1], row_dst,
                                    static_cast<std::size_t>(valid_rows_),
                                    static_cast<std::size_t>(interior_count_));
    }
    for (dim_t p = 0; p < s; ++p) {
      // The samples inside the input are every s-th of each source row: one strided copy per
      // phase over all rows (vector copies at s = 1 and 2); with a padding mode other than
      // zeros the padded ends of each row come from the offset table.
      const dim_t* off = last_src + p * J_;
      const dim_t jl = interior_[2 * p], jr = interior_[2 * p + 1];
      T* phase = plane + p * phase_size_;
      if (jr > jl && !pairs)
        kernels::strided_copy_rows<T>(x + off[jl], row_src, step, phase + jl, row_dst,
                                      static_cast<std::size_t>(valid_rows_),
                                      static_cast<std::size_t>(jr - jl));
      if (zeros) continue;
      for (dim_t r = 0; r < valid_rows_; ++r) {
        const T* src = x + row_src[r];
        T* dst = phase + row_dst[r];
        for (dim_t j = 0; j < jl; ++j) dst[j] = off[j] == kNoSample ? T(0) : src[off[j]];
        for (dim_t j = jr; j < J_; ++j) dst[j] = off[j] == kNoSample ? T(0) : src[off[j]];
      }
      for (dim_t r = valid_rows_; r < outer_rows_; ++r) std::fill_n(phase + row_dst[r], J_, T(0));
    }
  }

  // Positions [p0, p1) of image n, channels-last. Along each output row,
  // the run of positions whose taps all read inside the input along the last axis goes to
  // Channels-first forward by tiles: a task is a block of tile_channels_ channels of
  // one image. It transposes the block's planes into a channels-last tile in its slot
  // (kernels::transpose), runs the channels-last kernels over the tile (every padding mode: the
  // border positions map their taps as on a caller's channels-last tensor) and transposes the
  // output tile back into the planes. The rows of 14-28 outputs that leave the planes' vectors
  // half idle (a stride-2 layer's) are then runs of channel vectors.
  void run_tiles(const OpArgs& args, const T* wt, const T* bias, int n_threads, char* ws) const {
    const dim_t cb = tile_channels_;
    const dim_t blocks = (g_.C + cb - 1) / cb;
    const dim_t pin = tile_in_elems_ / cb;
    const auto &xs = args.a.strides, &ys = args.out.strides;
    parallel_tasks(g_.N * blocks, n_threads, [&](dim_t task) {
      const dim_t n = task / blocks, c0 = task % blocks * cb, cn = std::min(cb, g_.C - c0);
      char* sl = ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
      char* tiles = sl + (slot_bytes_ - tile_bytes_);
      tiles += (kTileBytes - reinterpret_cast<std::uintptr_t>(tiles) % kTileBytes) % kTileBytes;
      T* xin = reinterpret_cast<T*>(tiles);
      T* yout = xin + tile_in_elems_ + (cb - tile_in_elems_ % cb) % cb;
      kernels::transpose<T>(static_cast<std::size_t>(cn), static_cast<std::size_t>(pin),
                            static_cast<const T*>(args.a.data) + n * xs[0] + c0 * xs[1], xs[1], xin,
                            cb);
      run_channels_last(xin, tile_in_strides_, yout, tile_out_strides_, wt, bias, c0, cn, 0,
                        positions_, sl);
      kernels::transpose<T>(static_cast<std::size_t>(positions_), static_cast<std::size_t>(cn),
                            yout, cb, static_cast<T*>(args.out.data) + n * ys[0] + c0 * ys[1],
                            ys[1]);
    });
  }

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

  // kernels::dw_channels_taps or dw_channels_run (taps in zero-padded rows dropped, the others
  // stepping by stride * channel stride); the border positions, one at a time, to dw_gather
  // with only the taps inside the input. Which path a position takes depends on the geometry
  // and the fixed task only, never on the thread count.
  // x, y: image n's input and output, channels-last (xs[1] == 1; ys[1] == 1 or not) with
  // strides xs, ys; channels [c0, c0 + cn) of wt and bias (the tiles of run_tiles pass a block
  // of channels, the others all of them).
  void run_channels_last(const T* x, const std::vector<dim_t>& xs, T* y,
                         const std::vector<dim_t>& ys, const T* wt, const T* bias, dim_t c0,
                         dim_t cn, dim_t p0, dim_t p1, char* slot) const {
    const int d = g_.rank(), last = d - 1;
    const T** ptrs = reinterpret_cast<const T**>(slot);
    const T** wptrs = ptrs + taps_;
    // Per kernel row (every tap of the outer axes): the input offset of its samples' outer
    // coordinates for the current output row, kNoSample where they fall in zero padding. Built
    // once per output row: building every tap's offset over every axis for each border
    // position was a quarter of a 7x7 layer's time.
    dim_t* row_off = reinterpret_cast<dim_t*>(ptrs + 2 * taps_);
    T* row = reinterpret_cast<T*>(slot + ptr_bytes());
    wt += c0;
    bias += c0;
    const dim_t s = g_.stride[last], lo = g_.lo[last], dil = g_.dil[last];
    const dim_t KW = g_.kernel[last], kernel_rows = taps_ / KW, xl = xs[2 + last];
    // Output columns [jl, jr) read only inside the input along the last axis.
    const dim_t jl = (lo + s - 1) / s;
    const dim_t right = g_.in[last] - 1 + lo - (KW - 1) * dil;
    const dim_t jr = right < 0 ? 0 : std::min(g_.out[last], right / s + 1);
    SmallIndex o_buf(d), t_buf(d);  // no heap allocation per task
    dim_t *o = o_buf.data(), *t = t_buf.data();
    dim_t rem = p0;
    for (int a = d - 1; a >= 0; --a) o[a] = rem % g_.out[a], rem /= g_.out[a];
    auto fill_rows = [&] {
      std::fill_n(t, d, dim_t{0});
      for (dim_t r = 0; r < kernel_rows; ++r) {
        dim_t off = 0;
        for (int a = 0; a < last && off != kNoSample; ++a) {
          const dim_t m = map_padded_index(o[a] * g_.stride[a] - g_.lo[a] + t[a] * g_.dil[a],
                                           g_.in[a], g_.mode);
          off = m < 0 ? kNoSample : off + m * xs[2 + a];
        }
        row_off[r] = off;
        next_index(t, g_.kernel, last);
      }
    };
    fill_rows();
    for (dim_t p = p0; p < p1;) {
      dim_t yo = 0;
      for (int a = 0; a < d; ++a) yo += o[a] * ys[2 + a];
      const dim_t run = ys[1] == 1 && o[last] >= jl && o[last] < jr
                            ? std::min(jr - o[last], p1 - p) : 0;
      const dim_t q0 = o[last] * s - lo;  // padded coordinate of the position's first tap
      if (run > 1) {
        // Every tap of a kept kernel row reads inside the input along the last axis; taps in
        // zero-padded rows are dropped (the sums run over the kept taps in tap order).
        std::size_t terms = 0;
        for (dim_t r = 0; r < kernel_rows; ++r) {
          if (row_off[r] == kNoSample) continue;
          const T* base = x + row_off[r] + q0 * xl;
          if (taps_rows_) {
            // One pointer per kernel row, its taps dil * channel stride apart
            // (kernels::dw_channels_taps).
            ptrs[terms] = base;
            wptrs[terms++] = wt + r * KW * g_.C;
            continue;
          }
          for (dim_t k = 0; k < KW; ++k) {
            ptrs[terms] = base + k * dil * xl;
            wptrs[terms++] = wt + (r * KW + k) * g_.C;
          }
        }
        if (taps_rows_) {
          dw_.dw_channels_taps(terms, ptrs, wptrs, static_cast<std::size_t>(KW),
                                       static_cast<std::size_t>(g_.C),
                                       static_cast<std::ptrdiff_t>(dil * xl),
                                       static_cast<std::ptrdiff_t>(s * xl), bias, y + yo,
                                       static_cast<std::ptrdiff_t>(ys[2 + last]),
                                       static_cast<std::size_t>(run), static_cast<std::size_t>(cn));
        } else {
          dw_.dw_channels_run(terms, ptrs, wptrs, static_cast<std::ptrdiff_t>(s * xl),
                                      bias, y + yo, static_cast<std::ptrdiff_t>(ys[2 + last]),
                                      static_cast<std::size_t>(run), static_cast<std::size_t>(cn));
        }
        p += run;
        o[last] += run;
        if (o[last] == g_.out[last]) {
          o[last] = 0;
          next_index(o, g_.out, last);
          fill_rows();
        }
        continue;
      }
      // One position: only the taps that read inside the input, each with its weight vector
      // (taps in zero padding contribute nothing; multiplying a zero vector for them was up to
      // 40 % of a border position's FMAs at 5x5).
      std::size_t terms = 0;
      for (dim_t r = 0; r < kernel_rows; ++r) {
        if (row_off[r] == kNoSample) continue;
        for (dim_t k = 0; k < KW; ++k) {
          const dim_t m = map_padded_index(q0 + k * dil, g_.in[last], g_.mode);
          if (m < 0) continue;
          ptrs[terms] = x + row_off[r] + m * xl;
          wptrs[terms++] = wt + (r * KW + k) * g_.C;
        }
      }
      T* out = ys[1] == 1 ? y + yo : row;
      dw_.dw_gather(terms, ptrs, wptrs, bias, out, static_cast<std::size_t>(cn));
      if (out == row)
        for (dim_t c = 0; c < cn; ++c) y[yo + c * ys[1]] = row[c];
      ++p;
      if (++o[last] == g_.out[last]) {
        o[last] = 0;
        next_index(o, g_.out, last);
        fill_rows();
      }
    }
  }

  void run_plane(const OpArgs& args, const T* wc, const T* bias, dim_t n, dim_t c,
                 char* slot) const {
    const int d = g_.rank(), last = d - 1;
    const T** shifted = reinterpret_cast<const T**>(slot);
    const auto* tables = reinterpret_cast<const dim_t*>(slot + ptr_bytes());
    T* plane = reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_);
    const auto &xs = args.a.strides, &ys = args.out.strides;
    const T* x = static_cast<const T*>(args.a.data) + n * xs[0] + c * xs[1];
    build_plane(x, xs[2 + last], tables, plane);
    SmallIndex o_buf(d);
    dim_t* o = o_buf.data();
    T* y = static_cast<T*>(args.out.data) + n * ys[0] + c * ys[1];
    // With two or more axes, all output rows of a 2-D slice are one dw_row call over a "wide"
    // output: tap t reads output (r, j) at plane + tap_off_[t] + r * J + j (consecutive output
    // rows read consecutive stored rows of the tap's phases), so one contiguous run covers the
    // slice, computing J - cols throw-away values between the rows' ends instead of one short
    // call, mostly a scalar tail, per row. Then the valid columns are copied out. One axis: one
    // row.
    const int ra = d >= 2 ? d - 2 : last;  // the axis whose rows a call covers
    const dim_t rows = d >= 2 ? g_.out[ra] : 1, cols = g_.out[last];
    const dim_t pitch = J_;
    const dim_t group = std::min(rows, 1 + (wide_elems_ - cols) / pitch);  // rows per dw_row call
    T* wide = plane + plane_bytes_ / sizeof(T);
    const dim_t* wide_off = tables + g_.stride[last] * J_ + 2 * outer_rows_;
    const dim_t* y_off = wide_off + rows;
    const dim_t slices = positions_ / (rows * cols);
    const int outer_axes = d >= 2 ? d - 2 : 0;
    for (int a = 0; a < d; ++a) o[a] = 0;
    for (dim_t sl = 0; sl < slices; ++sl) {
      // The slice's first stored row, for output rows o of the outer axes: tap_off_ is linear in
      // the stored row (run_start), so the slice only shifts every tap's run.
      const auto [R, yo] = slice_start(o, outer_axes, ys);
      if (direct_rows_ && ys[2 + last] == 1) {
        // Straight into the output, row by row (see direct_rows_).
        for (dim_t tap = 0; tap < taps_; ++tap) shifted[tap] = plane + R * pitch + tap_off_[tap];
        dw_.dw_rows(static_cast<std::size_t>(taps_), shifted, wc + c * taps_, bias[c],
                            static_cast<std::size_t>(rows), static_cast<std::ptrdiff_t>(pitch),
                            y + yo, static_cast<std::ptrdiff_t>(d >= 2 ? ys[2 + ra] : 0),
                            static_cast<std::size_t>(cols));
        next_index(o, g_.out, outer_axes);
        continue;
      }
      for (dim_t r0 = 0; r0 < rows; r0 += group) {
        const dim_t nr = std::min(group, rows - r0);
        const T* base = plane + (R + r0) * pitch;
        for (dim_t tap = 0; tap < taps_; ++tap) shifted[tap] = base + tap_off_[tap];
        dw_.dw_row(static_cast<std::size_t>(taps_), shifted, wc + c * taps_, bias[c], wide,
                           static_cast<std::size_t>((nr - 1) * pitch + cols));
        T* y0 = y + yo + (d >= 2 ? r0 * ys[2 + ra] : 0);
        if (ys[2 + last] == 1) {
          kernels::strided_copy_rows<T>(wide, wide_off, 1, y0, y_off, static_cast<std::size_t>(nr),
                                        static_cast<std::size_t>(cols));
        } else {
          for (dim_t r = 0; r < nr; ++r)
            for (dim_t j = 0; j < cols; ++j) y0[y_off[r] + j * ys[2 + last]] = wide[r * pitch + j];
        }
      }
      next_index(o, g_.out, outer_axes);
    }
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

  // # Backward data on planes (1-D and 2-D)
  // dx[i] = sum over the padded coordinates q that the mode maps onto i of dxp[q], and
  // dxp[q] = sum over (tap t, output o) with o * s + t * dil = q of w[t] * dy[o]. dxp is kept
  // in the forward plane's stored layout (phase-split rows and columns), where each stride
  // phase (pr, pc) is a dense correlation of dy with the taps of that phase: stored position P'
  // of the phase reads dy at P' - off'_t, off'_t = floor(t_r dil_r / s_r) J + floor(t_c dil_c /
  // s_c). So dy is laid out with the plane's row pitch J (zero columns past its rows) behind a
  // zero margin of max off'_t, and each phase is one kernels::dw_row run over it: no
  // zero-inserted multiplies, every dxp a sum over its own taps in tap order. Then each dx row
  // folds its padded rows and columns (zeros: one each), in ascending q: a fixed order.
  void run_bwd_data(const OpArgs& args, void* workspace, int threads) const {
    auto* ws = static_cast<char*>(workspace);
    T* wc = reinterpret_cast<T*>(ws);
    T* bias = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_));
    const T* w = static_cast<const T*>(args.b.data);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.b.strides);
    for (dim_t c = 0; c < g_.C; ++c)
      for (dim_t t = 0; t < taps_; ++t) wc[c * taps_ + t] = w[c * args.b.strides[0] + tap_off[t]];
    const T* b = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    for (dim_t c = 0; c < g_.C; ++c) bias[c] = b ? b[c * args.bias->strides[0]] : T(0);
    const int n_threads = std::min(threads, slots_);
    auto slot = [&] {
      return ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
    };
    // Each thread zeroes its dy layout (margin and gaps stay zero) and fills its row offsets
    // once per run (its own entry of `filled`).
    std::vector<char> filled(static_cast<std::size_t>(slots_), 0);
    const dim_t planes = g_.N * g_.C, per = planes_per_task_;  // see the constructor
    parallel_tasks((planes + per - 1) / per, n_threads, [&](dim_t task) {
      char* sl = slot();
      char& mine = filled[static_cast<std::size_t>(thread_index())];
      if (!mine) prepare_bwd_data(args.a.strides, args.out.strides, sl);
      mine = 1;
      for (dim_t p = task * per; p < std::min(planes, (task + 1) * per); ++p)
        bwd_data_plane(args, wc, bias, p / g_.C, p % g_.C, sl);
    });
  }

  // Slot layout of the backward-data pass: pointer area (tap pointers, then their weights), row
  // area (source and destination offsets of the dy rows), plane area (dxp), wide area (dy laid
  // out behind its margin, then one padded row and one dx row for the fold).
  T* bwd_dy(char* slot) const {
    return reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_) + plane_bytes_ / sizeof(T);
  }

  void prepare_bwd_data(const std::vector<dim_t>& ys, const std::vector<dim_t>& xs,
                        char* slot) const {
    const int d = g_.rank();
    auto* off = reinterpret_cast<dim_t*>(slot + ptr_bytes());
    const dim_t rows = d == 2 ? g_.out[0] : 1;
    for (dim_t r = 0; r < rows; ++r) {
      off[r] = d == 2 ? r * ys[2] : 0;
      off[rows + r] = bwd_margin_ + r * J_;
    }
    // Input rows [0, bwd_rows_) each reached by one padded row (fold_single_): its stored row
    // and the dx row.
    dim_t* io = off + 2 * rows;
    for (dim_t i = 0; i < bwd_rows_; ++i) {
      io[i] = d == 2 ? stored_row(0, fold_rows_[fold_row_start_[i]]) * J_ : 0;
      io[bwd_rows_ + i] = d == 2 ? i * xs[2] : 0;
    }
    std::fill_n(bwd_dy(slot), bwd_dy_elems_, T(0));
  }

  void bwd_data_plane(const OpArgs& args, const T* wc, const T* bias, dim_t n, dim_t c,
                      char* slot) const {
    const int d = g_.rank(), last = d - 1;
    const auto &ys = args.a.strides, &xs = args.out.strides;
    const T* dy = static_cast<const T*>(args.a.data) + n * ys[0] + c * ys[1];
    T* dx = static_cast<T*>(args.out.data) + n * xs[0] + c * xs[1];
    const auto* off = reinterpret_cast<const dim_t*>(slot + ptr_bytes());
    T* plane = reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_);
    T* dyl = bwd_dy(slot);
    T* padded = dyl + bwd_dy_elems_;  // one padded row in order: s * J_ samples
    T* acc = padded + g_.stride[last] * J_;
    const T** ptrs = reinterpret_cast<const T**>(slot);
    T* wl = reinterpret_cast<T*>(ptrs + taps_);
    const dim_t rows = d == 2 ? g_.out[0] : 1, cols = g_.out[last];
    kernels::strided_copy_rows<T>(dy, off, static_cast<std::ptrdiff_t>(ys[2 + last]), dyl,
                                  off + rows, static_cast<std::size_t>(rows),
                                  static_cast<std::size_t>(cols));
    const dim_t sc = g_.stride[last], sr = d == 2 ? g_.stride[0] : 1;
    const dim_t Jr = d == 2 ? stored_[0] / sr : 1;
    const T* wch = wc + c * taps_;
    const dim_t S = g_.in[last], lo = g_.lo[last], Ec = E_[last];
    const dim_t i0 = std::min(S, std::max<dim_t>(0, -lo)), i1 = std::max(i0, std::min(S, Ec - lo));
    const bool dense = xs[2 + last] == 1;
    dim_t first_row = 0;
    if (dense && sc == 2 && fold_cols_.empty() && fold_single_) {
      // Zero padding at stride 2 over dense rows: each dx row that a padded row reaches is that
      // row's two column phases interleaved, computed from dy straight into dx
      // (kernels::dw_pair_rows), the rows of one row phase per call; no dxp plane.
      const T** pa = reinterpret_cast<const T**>(slot);
      const T** pb = pa + taps_;
      T* wa = reinterpret_cast<T*>(pb + taps_);
      T* wb = wa + taps_;
      const dim_t lr = d == 2 ? g_.lo[0] : 0;
      const dim_t q0 = i0 + lo;  // padded column of dx column i0: phase q0 % 2, index q0 / 2
      const dim_t pA = q0 % 2, pB = 1 - pA;
      for (dim_t pr = 0; pr < sr; ++pr) {
        const dim_t i_first = ((pr - lr) % sr + sr) % sr;  // first dx row of this row phase
        if (i_first >= bwd_rows_) continue;
        const dim_t n_rows = (bwd_rows_ - 1 - i_first) / sr + 1;
        const dim_t base = bwd_margin_ + (i_first + lr) / sr * J_;
        std::size_t na = 0, nb = 0;
        for (dim_t k = bwd_phase_start_[pA * sr + pr]; k < bwd_phase_start_[pA * sr + pr + 1];
             ++k) {
          pa[na] = dyl + base + q0 / 2 - bwd_phase_taps_[2 * k];
          wa[na++] = wch[bwd_phase_taps_[2 * k + 1]];
        }
        for (dim_t k = bwd_phase_start_[pB * sr + pr]; k < bwd_phase_start_[pB * sr + pr + 1];
             ++k) {
          pb[nb] = dyl + base + (q0 + 1) / 2 - bwd_phase_taps_[2 * k];
          wb[nb++] = wch[bwd_phase_taps_[2 * k + 1]];
        }
        const dim_t row_pitch = d == 2 ? xs[2] : 0;
        dw_.dw_pair_rows(na, pa, wa, nb, pb, wb, bias[c], static_cast<std::size_t>(n_rows),
                                 static_cast<std::ptrdiff_t>(J_), dx + i_first * row_pitch + i0,
                                 static_cast<std::ptrdiff_t>(sr * row_pitch),
                                 static_cast<std::size_t>(i1 - i0));
      }
      const T bc = bias[c];
      for (dim_t i = 0; i < bwd_rows_; ++i) {
        T* out = dx + (d == 2 ? i * xs[2] : 0);
        for (dim_t m = 0; m < i0; ++m) out[m] = bc;
        for (dim_t m = i1; m < S; ++m) out[m] = bc;
      }
      first_row = bwd_rows_;
    }
    // dxp, phase by phase.
    for (dim_t pc = 0; pc < sc && first_row == 0; ++pc)
      for (dim_t pr = 0; pr < sr; ++pr) {
        const dim_t ph = pc * sr + pr;
        std::size_t nt = 0;
        for (dim_t k = bwd_phase_start_[ph]; k < bwd_phase_start_[ph + 1]; ++k, ++nt) {
          ptrs[nt] = dyl + bwd_margin_ - bwd_phase_taps_[2 * k];
          wl[nt] = wch[bwd_phase_taps_[2 * k + 1]];
        }
        T* region = plane + pc * phase_size_ + pr * Jr * J_;
        if (nt == 0)
          std::fill_n(region, Jr * J_, T(0));
        else
          dw_.dw_row(nt, ptrs, wl, T(0), region, static_cast<std::size_t>(Jr * J_));
      }
    // The fold, one dx row at a time: the padded rows that fold onto it in ascending order;
    // of each, the sample at i + lo, then the padded columns the mode folds (fold_cols_).
    const dim_t in_rows = d == 2 ? g_.in[0] : 1;
    for (dim_t i = first_row; i < in_rows; ++i) {
      const dim_t k0 = d == 2 ? fold_row_start_[i] : 0, k1 = d == 2 ? fold_row_start_[i + 1] : 1;
      T* out = dx + (d == 2 ? i * xs[2] : 0);
      // One padded row and no folded columns (zero padding): written straight to dx.
      const bool straight = dense && k1 - k0 == 1 && fold_cols_.empty();
      T* sum = straight ? out : acc;
      for (dim_t k = k0; k < k1; ++k) {
        const dim_t R = d == 2 ? stored_row(0, fold_rows_[k]) : 0;
        // The padded row in order (phases interleaved back).
        const T* row;
        if (sc == 1) {
          row = plane + R * J_;
        } else if (sc == 2) {
          const std::int64_t from = R * J_, to = 0;
          kernels::interleave_rows<T>(plane, plane + phase_size_, &from, padded, &to, 1,
                                      static_cast<std::size_t>(Ec));
          row = padded;
        } else {
          for (dim_t q = 0; q < Ec; ++q)
            padded[q] = plane[(q % sc) * phase_size_ + R * J_ + q / sc];
          row = padded;
        }
        const T* src = row + lo;
        if (k == k0) {
          const T bc = bias[c];
          for (dim_t m = 0; m < i0; ++m) sum[m] = bc;
          for (dim_t m = i0; m < i1; ++m) sum[m] = bc + src[m];
          for (dim_t m = i1; m < S; ++m) sum[m] = bc;
        } else {
          for (dim_t m = i0; m < i1; ++m) sum[m] += src[m];
        }
        for (std::size_t f = 0; f < fold_cols_.size(); f += 2)
          sum[fold_cols_[f + 1]] += row[fold_cols_[f]];
      }
      if (k1 == k0)  // no padded row reaches this input row
        for (dim_t m = 0; m < S; ++m) sum[m] = bias[c];
      if (sum == out) continue;
      if (dense)
        std::copy(acc, acc + S, out);
      else
        for (dim_t m = 0; m < S; ++m) out[m * xs[2 + last]] = acc[m];
    }
  }

  // dw[c, t] = sum over images and output positions of dy[n, c, o] * x[n, c, sample(o, t)].
  void run_weights(const OpArgs& args, void* workspace, int threads) const {
    auto* ws = static_cast<char*>(workspace);
    T* zeros = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_));
    std::fill(zeros, zeros + g_.C, T(0));
    const int n_threads = std::min(threads, slots_);
    auto slot = [&] { return ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_; };
    if (args.a.strides[1] == 1 && args.b.strides[1] == 1 && g_.C >= kChannelVectorMin) {
      // Channels-last: one task per tap, vectorised over channels.
      parallel_tasks(taps_, n_threads, [&](dim_t tap) { weights_channels_last(args, zeros, tap, slot()); });
    } else {
      // Blocks of consecutive channels, image by image: a thread streams the block's planes in
      // order (see channels_per_task_); each channel's sums still run over images in order.
      const dim_t per = channels_per_task_;
      parallel_tasks((g_.C + per - 1) / per, n_threads, [&](dim_t task) {
        weights_plane(args, task * per, std::min(g_.C, (task + 1) * per), slot());
      });
    }
  }

  void weights_channels_last(const OpArgs& args, const T* zeros, dim_t tap, char* slot) const {
    const int d = g_.rank();
    const T** a_ptr = reinterpret_cast<const T**>(slot);
    const T** b_ptr = a_ptr + kPositionsPerTask;
    T* acc = reinterpret_cast<T*>(slot + ptr_bytes());  // the row area: C elements
    std::fill(acc, acc + g_.C, T(0));
    std::vector<dim_t> t(d), o(d);
    dim_t rem = tap;
    for (int a = d - 1; a >= 0; --a) t[a] = rem % g_.kernel[a], rem /= g_.kernel[a];
    const auto &xs = args.a.strides, &ys = args.b.strides;
    for (dim_t n = 0; n < g_.N; ++n) {
      const T* x = static_cast<const T*>(args.a.data) + n * xs[0];
      const T* dy = static_cast<const T*>(args.b.data) + n * ys[0];
      std::fill(o.begin(), o.end(), 0);
      for (dim_t p0 = 0; p0 < positions_; p0 += kPositionsPerTask) {
        const dim_t count = std::min(kPositionsPerTask, positions_ - p0);
        for (dim_t i = 0; i < count; ++i) {
          dim_t xo = 0, yo = 0;
          for (int a = 0; a < d; ++a) {
            const dim_t m = xo == kNoSample ? -1 : map_padded_index(o[a] * g_.stride[a] - g_.lo[a] + t[a] * g_.dil[a], g_.in[a], g_.mode);
            xo = m < 0 ? kNoSample : xo + m * xs[2 + a];
            yo += o[a] * ys[2 + a];
          }
          a_ptr[i] = xo == kNoSample ? zeros : x + xo;
          b_ptr[i] = dy + yo;
          next_index(o, g_.out, d);
        }
        dw_.dw_accumulate(static_cast<std::size_t>(count), a_ptr, b_ptr, acc,
                                  static_cast<std::size_t>(g_.C));
      }
    }
    T* dw = static_cast<T*>(args.out.data);
    dim_t wo = 0;
    for (int a = 0; a < d; ++a) wo += t[a] * args.out.strides[2 + a];
    for (dim_t c = 0; c < g_.C; ++c) dw[c * args.out.strides[0] + wo] = acc[c];
  }

  // dw[c, t] for one channel: per image, the plane is built as for the forward pass, and each
  // 2-D slice's taps are dotted with its output-gradient rows (kernels::dw_dots: a tap's rows
  // read the plane J_ apart, as run_plane's; 8 taps per pass over dy), adding into acc[t] in
  // image and slice order.
  void weights_plane(const OpArgs& args, dim_t c0, dim_t c1, char* slot) const {
    const int d = g_.rank(), last = d - 1;
    const T** shifted = reinterpret_cast<const T**>(slot);
    auto* tables = reinterpret_cast<dim_t*>(slot + ptr_bytes());
    T* plane = reinterpret_cast<T*>(slot + ptr_bytes() + row_bytes_);
    T* dense = plane + plane_bytes_ / sizeof(T);  // dy rows when the view's rows are strided
    T* accs = dense + wide_elems_;                // taps_ sums per channel of the block
    std::fill_n(accs, (c1 - c0) * taps_, T(0));
    const auto &xs = args.a.strides, &ys = args.b.strides;
    const int ra = d >= 2 ? d - 2 : last;
    const dim_t rows = d >= 2 ? g_.out[ra] : 1, cols = g_.out[last];
    const dim_t group = std::min(rows, std::max<dim_t>(1, wide_elems_ / cols));
    const int outer_axes = d >= 2 ? d - 2 : 0;
    const dim_t slices = positions_ / (rows * cols);
    SmallIndex o_buf(d);
    dim_t* o = o_buf.data();
    prepare_slot(xs, ys, tables, plane);
    for (dim_t nc = 0; nc < g_.N * (c1 - c0); ++nc) {  // image by image, channels in order
      const dim_t n = nc / (c1 - c0), c = c0 + nc % (c1 - c0);
      T* acc = accs + (c - c0) * taps_;
      build_plane(static_cast<const T*>(args.a.data) + n * xs[0] + c * xs[1], xs[2 + last], tables,
                  plane);
      const T* dy = static_cast<const T*>(args.b.data) + n * ys[0] + c * ys[1];
      for (int a = 0; a < d; ++a) o[a] = 0;
      for (dim_t sl = 0; sl < slices; ++sl) {
        const auto [R, yo] = slice_start(o, outer_axes, ys);
        for (dim_t r0 = 0; r0 < rows; r0 += group) {
          const dim_t nr = std::min(group, rows - r0);
          const T* base = plane + (R + r0) * J_;
          for (dim_t tap = 0; tap < taps_; ++tap) shifted[tap] = base + tap_off_[tap];
          const T* g = dy + yo + (d >= 2 ? r0 * ys[2 + ra] : 0);
          dim_t g_pitch = d >= 2 ? ys[2 + ra] : 0;
          if (ys[2 + last] != 1) {  // gather the rows densely first
            for (dim_t r = 0; r < nr; ++r)
              for (dim_t j = 0; j < cols; ++j)
                dense[r * cols + j] = g[r * g_pitch + j * ys[2 + last]];
            g = dense;
            g_pitch = cols;
          }
          dw_.dw_dots(static_cast<std::size_t>(taps_), shifted,
                              static_cast<std::ptrdiff_t>(J_), g,
                              static_cast<std::ptrdiff_t>(g_pitch), static_cast<std::size_t>(nr),
                              static_cast<std::size_t>(cols), acc);
        }
        next_index(o, g_.out, outer_axes);
      }
    }
    SmallIndex t_buf(d);
    dim_t* t = t_buf.data();
    for (dim_t c = c0; c < c1; ++c) {
      T* dw = static_cast<T*>(args.out.data) + c * args.out.strides[0];
      for (int a = 0; a < d; ++a) t[a] = 0;
      for (dim_t tap = 0; tap < taps_; ++tap) {
        dim_t wo = 0;
        for (int a = 0; a < d; ++a) wo += t[a] * args.out.strides[2 + a];
        dw[wo] = accs[(c - c0) * taps_ + tap];
        next_index(t, g_.kernel, d);
      }
    }
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
  int ra_ = -1;                                 // the row axis (d - 2), -1 in 1-D
  dim_t J_ = 1, phase_size_ = 1;                // stored row length; one last-axis phase
  std::vector<dim_t> stored_, row_stride_;      // stored extents and row strides, outer axes
  dim_t valid_rows_ = 0;                        // outer rows that read the input (not zero rows)
  dim_t outer_rows_ = 1;                        // padded rows of the outer axes (prod E_[a < last])
  std::vector<dim_t> tail_rows_;                // stored rows no padded coordinate fills
  dim_t bwd_margin_ = 0, bwd_dy_elems_ = 0;     // run_bwd_data's dy layout
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
  std::size_t tile_bytes_ = 0;                  // run_tiles' part of a slot (0: no tiles)
  dim_t tile_in_elems_ = 0;                     // elements of an input tile
  dim_t tile_channels_ = 1;                     // channels of a tile (1, 2 or 4 lines)
  std::vector<dim_t> tile_in_strides_, tile_out_strides_;  // a tile's channels-last strides
};

class Depthwise final : public Algorithm {
 public:
  const char* name() const override { return "depthwise"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (g.Cg() != 1 || g.Kg() != 1) return "not depthwise (needs groups == C == K)";
    if (op == Op::bwd_data && g.rank() > 2)
      return "backward data on planes is 1-D and 2-D (3-D composes the forward pass)";
    if (g.N == 0) return "empty batch";
    // Checked: strides and paddings near 2^63 make these sums overflow (found by fuzz_spec).
    Fits f;
    dim_t taps = 1, plane = 1;
    for (int a = 0; a < g.rank(); ++a) {
      taps = f.mul(taps, g.kernel[a]);
      if (taps > kMaxTaps) return "more than 4096 kernel taps";
      // The executor rounds the last axis up to a multiple of the stride: at most e + stride.
      const dim_t e = f.add(padded_extent(g, a, f), g.stride[a]);
      plane = f.mul(plane, e);
      if (!f || plane > kMaxPlane) return "padded plane larger than 2^22 samples";
    }
    return {};
  }

  // Backward data: channels-last views go to depthwise_bwd_data's channel vectors (in place).
  // Channels-first, measured with each forced (1 thread, Xeon AVX-512, ms, planes /
  // depthwise_bwd_data's transposes / bwd_data_phases): mbv2_dw3x3s2_b16 0.98 / 1.78 / 2.49,
  // effnet_dw5s2_b8 0.82 / 1.37 / 1.55, convnext_dw7_b1 (stride 1) 0.58 / 0.63 / 0.47: at
  // stride 1 the phases are one forward plane written straight into dx, and win.
  std::string pays(const Geometry& g, Op op) const override {
    if (op != Op::bwd_data) return {};
    if (g.layout == Layout::channels_last)
      return "channels-last backward data: depthwise_bwd_data gathers channel vectors in place";
    bool strided = false;
    for (dim_t s : g.stride) strided = strided || s > 1;
    if (!strided)
      return "backward data at stride 1: bwd_data_phases' forward plane measured faster";
    return {};
  }

  // Backward data sums, for each dx element, the taps of each padded sample the mode folds onto
  // it: at most taps x (the most padded coordinates one input index receives, per axis).
  double error_bound(const Geometry& g, Op op) const override {
    if (op != Op::bwd_data) return Algorithm::error_bound(g, op);
    const double u = g.dtype == DType::f32 ? 0x1p-24 : 0x1p-53;
    double n = 1;
    for (int a = 0; a < g.rank(); ++a) {
      const dim_t e = padded_extent(g, a);
      std::vector<dim_t> count(static_cast<std::size_t>(g.in[a]), 0);
      dim_t most = 1;
      for (dim_t q = 0; q < e; ++q) {
        const dim_t m = map_padded_index(q - g.lo[a], g.in[a], g.mode);
        if (m >= 0) most = std::max(most, ++count[static_cast<std::size_t>(m)]);
      }
      n *= static_cast<double>(g.kernel[a]) * static_cast<double>(most);
    }
    return (n + 1) * u;
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op op) const override {
    return make_for_dtype<DepthwiseExecutor>(g, op);
  }
};

}  // namespace

const Algorithm& depthwise_algorithm() {
  static const Depthwise instance;
  return instance;
}

}  // namespace convnd::detail
