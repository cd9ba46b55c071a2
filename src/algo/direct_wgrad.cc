// # The weight gradient as a direct GEMM
//
// dw[k, c, t] = sum over rows r = (n, o) of x[n, c, in(o, t)] * dy[n, k, o], where in(o, t) is
// the input position that output o reads through tap t (padding modes applied; a zero-padding
// position reads zeros). For one tap that is the GEMM dW_t[Cg x Kg] = X_t^T . DY over the
// R = N * prod(out) rows. With both tensors channels-last a row of X_t is one position's Cg
// contiguous channels and a row of DY one position's Kg contiguous channels.
//
// bwd_weights_as_fwd (via_forward.cc) computes the same sums as a forward convolution with the
// batch as its channels; its reduction runs over (image, output-sized window) pairs that its GEMM
// gathers sample by sample, and that is where its time goes (mnist_5x5_b64: 0.25x oneDNN).
//
// # Panels
// The rows are taken a chunk at a time. The chunk's rows of dy are packed once into mr-wide
// panels (mr output channels each); then, tap by tap, the chunk's rows of x that the tap reads
// into nr-wide panels (nr input channels each), and the packed microkernel (kernels::gemm_tile)
// adds dy_panel^T . x_panel into each mr x nr accumulator tile of dW_t[k][c]. x is the side
// packed again for every tap, so it gets the wide side: one nr-value copy per row and panel
// (an earlier version packed it mr values at a time, and on mnist_5x5_b64 the copies took a
// third of the time). Packing is what lets the kernel run at its L1 speed: read in place
// through row pointers (the version before that), the rows are scattered, one position's
// channels every C elements, and the same FMAs ran at 55-60 % of the peak.
//
// # Work split and determinism
// The columns of dW_t for all taps, (tap, input channel) flattened, are cut into units of nr:
// a unit is a column of tiles over all output channels. With few channels (Cg = 16) one unit
// spans several taps, so that the tiles stay full. The rows are cut into `parts` and the units
// into `blocks`; a task is one (part, group, block) and sums its rows, chunk by chunk, into its
// own partial copy of its block. A last phase adds the partials in part order and stores dw in
// its layout. Parts and blocks depend on the problem only, so every element of dw is the same
// sum in the same order for any thread count.
//
// Rows whose taps all read inside x (the interior) find tap t's input row at tap 0's plus a
// fixed offset; only the border rows map each coordinate through the padding mode.
//
// Channels-first tensors are copied channels-last once per run: O(input) against the
// O(input * K * taps) of the GEMM.
#include "algo/direct_wgrad.h"
#include "algo/via_forward.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "algo/layout_copy.h"
#include "api/checked.h"
#include "kernels/gemm_tile.h"
#include "kernels/pack_rows.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxTaps = dim_t{1} << 16;
// Bytes of accumulators per block: with the chunk's rows of x and dy they should stay in a
// core's L2 (1 MiB on Zen 4, 2 MiB on Sapphire Rapids).
constexpr dim_t kBlockBytes = dim_t{256} << 10;
// A chunk has as many rows as make one panel of x (kc x nr) about this size: that panel stays
// in L1 (32 KiB on Zen 4, 48 KiB on Sapphire Rapids) while the kc x mr panels of dy go by, one
// kernel call each, and a call stays long enough that loading and storing its accumulator tile
// costs a few percent (measured: 12 KiB and 8 KiB panels were not faster).
constexpr dim_t kPanelBytes = dim_t{16} << 10;
// Tasks wanted per run, so that a thread the OS deschedules holds up only a small share.
constexpr dim_t kTasksWanted = 16;
// Fewest rows per part: adding one more partial costs a pass over a copy of dW.
constexpr dim_t kMinPartRows = 1024;
// Output channels per task of the last phase (the partials added and stored).
constexpr dim_t kStoreChannels = 16;
// Workspace beyond which the algorithm declines (the copies of x and dy are most of it).
constexpr dim_t kMaxWorkspace = dim_t{1} << 40;

// dst[0, width) = src[0, real) followed by zeros. The panels' widths (mr, nr: 6 to 32) as
// fixed-size copies, which the compiler turns into a few vector moves: a library memmove call per
// 12-value row cost 12 % of mnist_5x5_b64's weight gradient.
template <class T>
inline void copy_row(T* dst, const T* src, dim_t real, dim_t width) {
  if (real == width) {
    switch (width) {
      case 6: std::memcpy(dst, src, 6 * sizeof(T)); return;
      case 8: std::memcpy(dst, src, 8 * sizeof(T)); return;
      case 12: std::memcpy(dst, src, 12 * sizeof(T)); return;
      case 16: std::memcpy(dst, src, 16 * sizeof(T)); return;
      case 32: std::memcpy(dst, src, 32 * sizeof(T)); return;
      default: break;
    }
  }
  for (dim_t m = 0; m < real; ++m) dst[m] = src[m];
  for (dim_t m = real; m < width; ++m) dst[m] = T(0);
}

// Everything sized from the problem, shared by reject() and the executor. Computed with Fits:
// a caller tests the flag before trusting any field.
struct Sizes {
  dim_t mr = 0, nr = 0, taps = 0, positions = 0, rows = 0;
  dim_t ktiles = 0, kpad = 0;  // mr-tiles of Kg
  dim_t columns = 0;      // per group: taps * Cg, the (tap, channel) pairs
  dim_t units = 0;        // per group: nr-wide units of columns, kpad x nr accumulators each
  dim_t unit_elems = 0;   // kpad * nr
  dim_t block_units = 0;  // units per block
  dim_t block_taps = 0;   // the most taps the units of one block touch
  dim_t blocks = 0;       // per group
  dim_t parts = 0, chunk = 0;
  dim_t partial_elems = 0;  // accumulators of one part, all groups
  dim_t x_elems = 0, dy_elems = 0;
  dim_t workspace = 0;  // an upper bound, for reject(); the executor carves the exact size
};

Sizes sizes(const Geometry& g, Fits& f) {
  const kernels::TileShape ts = kernels::tile_shape(g.dtype);
  const dim_t elem = static_cast<dim_t>(dtype_size(g.dtype));
  Sizes s;
  s.mr = static_cast<dim_t>(ts.mr);
  s.nr = static_cast<dim_t>(ts.nr);
  s.taps = f.product(g.kernel);
  s.positions = f.product(g.out);
  s.rows = f.mul(g.N, s.positions);
  s.ktiles = g.Kg() / s.mr + (g.Kg() % s.mr != 0);
  s.kpad = f.mul(s.ktiles, s.mr);
  s.columns = f.mul(s.taps, g.Cg());
  s.units = s.columns / s.nr + (s.columns % s.nr != 0);
  s.unit_elems = f.mul(s.kpad, s.nr);
  const dim_t unit_bytes = std::max<dim_t>(1, f.mul(s.unit_elems, elem));
  s.block_units = std::clamp<dim_t>(kBlockBytes / unit_bytes, 1, std::max<dim_t>(1, s.units));
  s.blocks = s.units / s.block_units + (s.units % s.block_units != 0);
  s.block_taps = std::min(s.taps, f.mul(s.block_units, s.nr) / std::max<dim_t>(1, g.Cg()) + 2);
  const dim_t all_blocks = std::max<dim_t>(1, f.mul(g.groups, s.blocks));
  const dim_t wanted = kTasksWanted / all_blocks + (kTasksWanted % all_blocks != 0);
  s.parts = std::clamp<dim_t>(std::min(wanted, s.rows / kMinPartRows), 1, kTasksWanted);
  s.chunk = std::clamp<dim_t>(kPanelBytes / (s.nr * elem), 64, 512);
  s.partial_elems = f.mul(f.mul(g.groups, s.units), s.unit_elems);
  s.x_elems = f.mul(f.mul(g.N, g.C), f.product(g.in));
  s.dy_elems = f.mul(f.mul(g.N, g.K), s.positions);
  // Shared: the copies and the partials; per thread: one chunk's row pointers, coordinates and
  // panels. Each array rounded up by a cache line.
  const dim_t shared = f.add(f.mul(f.add(f.add(s.x_elems, s.dy_elems),
                                         f.mul(s.parts, s.partial_elems)),
                                   elem),
                             3 * 64);
  const dim_t slot = f.add(f.add(f.mul(f.mul(s.chunk, f.add(s.block_taps, g.rank() + 2)), 8),
                                 f.mul(f.mul(s.chunk, f.add(s.nr, s.kpad)), elem)),
                           5 * 64);
  s.workspace = f.add(shared, f.mul(hardware_threads(), slot));
  return s;
}

template <class T>
class DirectWgradExecutor final : public Executor {
 public:
  explicit DirectWgradExecutor(const Geometry& g) : g_(g) {
    Fits f;
    s_ = sizes(g, f);
    if (!f || s_.workspace > kMaxWorkspace) throw_overflow("weight-gradient workspace");
    Carve shared, slot;
    carve_shared(shared);
    carve_slot(slot);
    if (!shared.ok() || !slot.ok()) throw_overflow("weight-gradient workspace");
    shared_bytes_ = shared.bytes();
    slot_bytes_ = slot.bytes();
    slots_ = hardware_threads();
    lanes_ = static_cast<dim_t>(kernels::pack_lanes(sizeof(T)));
  }

  std::size_t workspace_bytes() const override {
    return shared_bytes_ + static_cast<std::size_t>(slots_) * slot_bytes_;
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // Tables are built by the first run, so that planning stays cheap (see implicit_gemm.cc).
    std::call_once(tables_once_, [this] { build_tables(); });
    threads = std::min(threads, slots_);
    Carve carve(workspace);
    const Shared sh = carve_shared(carve);
    char* slots = static_cast<char*>(workspace) + shared_bytes_;
    const ConstTensorView x = channels_last_view(args.a, sh.x_copy, threads);
    const ConstTensorView dy = channels_last_view(args.b, sh.dy_copy, threads);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.out.strides);
    // Offset of each tap from tap 0 in x, for the rows whose taps all read inside x. Saturating:
    // with a dilation that reaches past x no row is interior and the values go unused.
    std::vector<dim_t> tap_delta(static_cast<std::size_t>(s_.taps), 0);
    Fits f;
    for (dim_t tap = 0; tap < s_.taps; ++tap)
      for (int a = 0; a < g_.rank(); ++a) {
        dim_t& d = tap_delta[static_cast<std::size_t>(tap)];
        d = f.add(d, f.mul(f.mul(tap_coords_[static_cast<std::size_t>(tap * g_.rank() + a)],
                                 g_.dil[a]),
                           x.strides[2 + a]));
      }
    const dim_t sweeps = s_.parts * g_.groups * s_.blocks;
    const dim_t store_blocks = (g_.Kg() + kStoreChannels - 1) / kStoreChannels;
    parallel_phases({sweeps, g_.groups * store_blocks}, threads, [&](int phase, dim_t task) {
      if (phase == 0) {
        const dim_t block = task % s_.blocks, grp = (task / s_.blocks) % g_.groups;
        const dim_t part = task / (s_.blocks * g_.groups);
        Carve slot(slots + static_cast<std::size_t>(thread_index()) * slot_bytes_);
        sweep(x, dy, tap_delta, part, grp, block, sh.partials, carve_slot(slot));
      } else {
        const dim_t grp = task / store_blocks, k0 = (task % store_blocks) * kStoreChannels;
        store(sh.partials, grp, k0, std::min(g_.Kg(), k0 + kStoreChannels), tap_off, args.out);
      }
    });
  }

 private:
  struct Shared {
    T *x_copy, *dy_copy, *partials;
  };
  struct Slot {
    const T** a_rows;  // per tap of the block, the chunk's rows of x through it (nullptr: a
                       // zero-padding row)
    dim_t* coords;     // per row: image, then output coordinates
    dim_t* interior;   // per row: input offset of tap 0 when every tap reads inside x, else
                       // kNoSample
    T* dy_panels;      // ktiles panels of chunk x mr: the chunk's rows of dy
    T* x_panel;        // chunk x nr: one unit's input channels through its tap
  };

  Shared carve_shared(Carve& c) const {
    Shared sh;
    sh.x_copy = c.take<T>(static_cast<std::size_t>(s_.x_elems));
    sh.dy_copy = c.take<T>(static_cast<std::size_t>(s_.dy_elems));
    sh.partials = c.take<T>(static_cast<std::size_t>(s_.parts * s_.partial_elems));
    return sh;
  }
  Slot carve_slot(Carve& c) const {
    const auto chunk = static_cast<std::size_t>(s_.chunk);
    Slot sl;
    sl.a_rows = c.take<const T*>(chunk * static_cast<std::size_t>(s_.block_taps));
    sl.coords = c.take<dim_t>(chunk * static_cast<std::size_t>(g_.rank() + 1));
    sl.interior = c.take<dim_t>(chunk);
    sl.dy_panels = c.take<T>(chunk * static_cast<std::size_t>(s_.kpad));
    sl.x_panel = c.take<T>(chunk * static_cast<std::size_t>(s_.nr));
    return sl;
  }

  // First row of part q: the rows are split as evenly as integers allow.
  dim_t part_begin(dim_t q) const {
    return q * (s_.rows / s_.parts) + std::min(q, s_.rows % s_.parts);
  }

  // Adds rows [part_begin(part), part_begin(part + 1)) into the part's copy of one block.
  void sweep(const ConstTensorView& x, const ConstTensorView& dy,
             const std::vector<dim_t>& tap_delta, dim_t part, dim_t grp, dim_t block, T* partials,
             const Slot& sl) const {
    const dim_t mr = s_.mr, nr = s_.nr, chunk = s_.chunk, rank = g_.rank();
    const dim_t Cg = g_.Cg(), Kg = g_.Kg();
    const dim_t u0 = block * s_.block_units, u1 = std::min(s_.units, u0 + s_.block_units);
    T* acc = partials + part * s_.partial_elems + (grp * s_.units + u0) * s_.unit_elems;
    std::fill(acc, acc + (u1 - u0) * s_.unit_elems, T(0));
    const T* dyg = static_cast<const T*>(dy.data) + grp * Kg;
    const auto& ys = dy.strides;
    std::vector<dim_t> o(static_cast<std::size_t>(rank));

    const dim_t r_end = part_begin(part + 1);
    for (dim_t r0 = part_begin(part); r0 < r_end; r0 += chunk) {
      const dim_t kc = std::min(chunk, r_end - r0);
      // Coordinates (image, output position) of the chunk's rows, and their rows of dy packed
      // into the mr-wide panels: panel j holds channels [j * mr, (j + 1) * mr), zeros past Kg.
      dim_t n = r0 / s_.positions;
      unflatten(r0 % s_.positions, o);
      for (dim_t i = 0; i < kc; ++i) {
        dim_t* ci = sl.coords + i * (rank + 1);
        ci[0] = n;
        dim_t off = n * ys[0];
        for (dim_t a = 0; a < rank; ++a) ci[1 + a] = o[a], off += o[a] * ys[2 + a];
        // Interior rows: every tap inside x, so tap t reads at (tap 0's offset) + tap_delta[t].
        bool interior = true;
        dim_t x_off = n * x.strides[0];
        for (dim_t a = 0; a < rank; ++a) {
          const dim_t first = o[a] * g_.stride[a] - g_.lo[a];
          interior &= first >= 0 && reach_[a] < g_.in[a] - first;
          x_off += std::max<dim_t>(std::min(first, g_.in[a] - 1), 0) * x.strides[2 + a];
        }
        sl.interior[i] = interior ? x_off : kNoSample;
        const T* row = dyg + off;
        for (dim_t k0 = 0; k0 < s_.kpad; k0 += mr)
          copy_row(sl.dy_panels + k0 * kc + i * mr, row + k0, std::min(mr, Kg - k0), mr);
        if (advance(o)) ++n;
      }
      // The rows of x through every tap the block's units touch; then unit by unit, its
      // panel of x (nr columns: one tap's channels, or the end of one tap's and the start of
      // the next's), and one kernel call per panel of dy.
      const dim_t tap0 = u0 * nr / Cg, tap1 = std::min(s_.taps, (u1 * nr - 1) / Cg + 1);
      for (dim_t tap = tap0; tap < tap1; ++tap)
        input_rows(tap, kc, sl, tap_delta[static_cast<std::size_t>(tap)], grp, x,
                   sl.a_rows + (tap - tap0) * chunk);
      for (dim_t u = u0; u < u1; ++u) {
        const dim_t f0 = u * nr, f1 = std::min(s_.columns, f0 + nr);
        const T* const* first_rows = sl.a_rows + (f0 / Cg - tap0) * chunk;
        if (f1 - f0 == nr && f0 / Cg == (f1 - 1) / Cg) {
          kernels::pack_rows<T>(static_cast<std::size_t>(kc), first_rows,
                                static_cast<std::size_t>(f0 % Cg), static_cast<std::size_t>(nr),
                                sl.x_panel, static_cast<std::size_t>(nr));
        } else {
          // Segment by segment: (tap, channels [c, c + len)) at panel column f - f0; whole
          // vectors through the pack kernel (16 channels: one vector per row and tap).
          for (dim_t f = f0; f < f1;) {
            const dim_t tap = f / Cg, c = f % Cg, len = std::min(Cg - c, f1 - f);
            const T* const* rows = sl.a_rows + (tap - tap0) * chunk;
            T* dst = sl.x_panel + (f - f0);
            if (len % lanes_ == 0) {
              kernels::pack_rows<T>(static_cast<std::size_t>(kc), rows, static_cast<std::size_t>(c),
                                    static_cast<std::size_t>(len), dst, static_cast<std::size_t>(nr));
            } else {
              for (dim_t i = 0; i < kc; ++i)
                copy_row(dst + i * nr, rows[i] ? rows[i] + c : dst, rows[i] ? len : 0, len);
            }
            f += len;
          }
          if (f1 - f0 < nr)
            for (dim_t i = 0; i < kc; ++i)
              copy_row(sl.x_panel + i * nr + (f1 - f0), sl.x_panel, 0, nr - (f1 - f0));
        }
        T* unit = acc + (u - u0) * s_.unit_elems;
        for (dim_t k0 = 0; k0 < s_.kpad; k0 += mr)
          kernels::gemm_tile<T>(static_cast<std::size_t>(kc), sl.dy_panels + k0 * kc, sl.x_panel,
                                unit + k0 * nr, static_cast<std::size_t>(nr));
      }
    }
  }

  // rows[i] = where row i reads the channels of group grp through `tap`; nullptr for a
  // zero-padding sample. Interior rows add the tap's offset; the others map each coordinate
  // (padding modes) through the per-axis tables.
  void input_rows(dim_t tap, dim_t kc, const Slot& sl, dim_t delta, dim_t grp,
                  const ConstTensorView& x, const T** rows) const {
    const int rank = g_.rank();
    const auto& xs = x.strides;
    const T* xg = static_cast<const T*>(x.data) + grp * g_.Cg();
    const dim_t* t = tap_coords_.data() + tap * rank;
    for (dim_t i = 0; i < kc; ++i) {
      if (sl.interior[i] != kNoSample) {
        rows[i] = xg + sl.interior[i] + delta;
        continue;
      }
      // Without branches on the padding (they mispredicted along every border): a zero
      // sample (m = -1) only clears `inside`, and its offset is computed from m = 0, unused.
      const dim_t* ci = sl.coords + i * (rank + 1);
      dim_t off = ci[0] * xs[0];
      bool inside = true;
      for (int a = 0; a < rank; ++a) {
        const dim_t m = input_index(a, ci[1 + a], t[a]);
        inside &= m >= 0;
        off += std::max<dim_t>(m, 0) * xs[2 + a];
      }
      rows[i] = inside ? xg + off : nullptr;
    }
  }

  // dw for one group and output channels [k0, k1), every tap: the partials added in part
  // order, stored in dw's layout. Channel by channel, so that the partials are read in runs
  // of nr (one unit's columns) and a dense dw is written nearly in order.
  void store(const T* partials, dim_t grp, dim_t k0, dim_t k1, const std::vector<dim_t>& tap_off,
             const TensorView& out) const {
    T* dw = static_cast<T*>(out.data);
    const auto& ws = out.strides;
    const dim_t nr = s_.nr;
    const T* first = partials + grp * s_.units * s_.unit_elems;
    for (dim_t k = k0; k < k1; ++k) {
      T* dwk = dw + (grp * g_.Kg() + k) * ws[0];
      for (dim_t tap = 0; tap < s_.taps; ++tap) {
        T* dwt = dwk + tap_off[static_cast<std::size_t>(tap)];
        for (dim_t c = 0; c < g_.Cg(); ++c) {
          const dim_t f = tap * g_.Cg() + c;  // its column: unit f / nr, column f % nr there
          const T* p = first + (f / nr) * s_.unit_elems + k * nr + f % nr;
          T sum = p[0];
          for (dim_t q = 1; q < s_.parts; ++q) sum += p[q * s_.partial_elems];
          dwt[c * ws[1]] = sum;
        }
      }
    }
  }

  void build_tables() const {
    const int rank = g_.rank();
    std::vector<dim_t> coords(static_cast<std::size_t>(s_.taps * rank));
    std::vector<dim_t> t(static_cast<std::size_t>(rank), 0);
    for (dim_t tap = 0; tap < s_.taps; ++tap) {
      std::copy(t.begin(), t.end(), coords.begin() + tap * rank);
      for (int a = rank - 1; a >= 0 && ++t[a] == g_.kernel[a]; --a) t[a] = 0;
    }
    // Per-axis input coordinates, unless degenerate extents would make them large (then
    // input_index() maps each one as it goes).
    Fits f;
    dim_t entries = 0;
    for (int a = 0; a < rank; ++a) entries = f.add(entries, f.mul(g_.out[a], g_.kernel[a]));
    std::vector<std::vector<dim_t>> tables;
    if (f && entries <= (dim_t{1} << 20)) {
      tables.resize(static_cast<std::size_t>(rank));
      for (int a = 0; a < rank; ++a)
        for (dim_t o = 0; o < g_.out[a]; ++o)
          for (dim_t k = 0; k < g_.kernel[a]; ++k)
            tables[a].push_back(map_padded_index(o * g_.stride[a] - g_.lo[a] + k * g_.dil[a],
                                                 g_.in[a], g_.mode));
    }
    // Per axis, how far the last tap reads past the first: (k - 1) * dilation, saturated (a
    // reach past int64 is past every input).
    std::vector<dim_t> reach(static_cast<std::size_t>(rank));
    for (int a = 0; a < rank; ++a) {
      Fits r;
      reach[a] = r.mul(g_.kernel[a] - 1, g_.dil[a]);
    }
    reach_ = std::move(reach);
    tap_coords_ = std::move(coords);  // assigned whole: a throw above leaves the old state
    axis_index_ = std::move(tables);
  }

  dim_t input_index(int a, dim_t o, dim_t t) const {
    if (!axis_index_.empty()) return axis_index_[a][o * g_.kernel[a] + t];
    return map_padded_index(o * g_.stride[a] - g_.lo[a] + t * g_.dil[a], g_.in[a], g_.mode);
  }

  void unflatten(dim_t p, std::vector<dim_t>& o) const {
    for (int a = g_.rank() - 1; a >= 0; --a) {
      o[a] = p % g_.out[a];
      p /= g_.out[a];
    }
  }
  // Next output position; true when it wrapped around to the next image.
  bool advance(std::vector<dim_t>& o) const {
    for (int a = g_.rank() - 1; a >= 0; --a) {
      if (++o[a] < g_.out[a]) return false;
      o[a] = 0;
    }
    return true;
  }

  Geometry g_;
  Sizes s_;
  std::size_t shared_bytes_ = 0, slot_bytes_ = 0;
  int slots_ = 1;
  dim_t lanes_ = 1;  // vector length of the pack kernel
  mutable std::once_flag tables_once_;
  mutable std::vector<dim_t> tap_coords_;                // [tap * rank + a]
  mutable std::vector<dim_t> reach_;                     // [a]: (kernel - 1) * dilation
  mutable std::vector<std::vector<dim_t>> axis_index_;  // [axis][o * k + t], or empty
};

class DirectWgrad final : public Algorithm {
 public:
  const char* name() const override { return "direct_wgrad"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_weights) return "backward-weights pass only";
    if (g.N == 0) return "empty batch";
    if (g.Cg() == 0 || g.Kg() == 0) return "no channels";
    Fits f;
    if (f.product(g.kernel) > kMaxTaps) return "more than 65536 kernel taps";
    const Sizes s = sizes(g, f);
    if (!f || s.workspace > kMaxWorkspace) return "workspace would exceed 1 TiB";
    return {};
  }

  // Large output extents are the kernel of the gradient as a forward convolution; where the
  // FFT takes that one (its own crossover rule, fft_crossover.cc), bwd_weights_as_fwd runs it:
  // n1c16k16s128x128k31x31p15 measured 25 ms that way against 380 ms here.
  std::string pays(const Geometry& g, Op) const override {
    const Algorithm* a = weight_gradient_forward_algorithm(g);
    if (a && std::string(a->name()) == "fft")
      return "as a forward convolution (bwd_weights_as_fwd) the gradient runs on fft, faster";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<DirectWgradExecutor>(g);
  }
};

}  // namespace

const Algorithm& direct_wgrad_algorithm() {
  static const DirectWgrad instance;
  return instance;
}

}  // namespace convnd::detail
