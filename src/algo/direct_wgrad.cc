// # The weight gradient as a direct GEMM
//
// dw[k, c, t] = sum over rows r = (n, o) of x[n, c, in(o, t)] * dy[n, k, o], where in(o, t) is
// the input position that output o reads through tap t (padding modes applied; a zero-padding
// position reads zeros). For one tap that is the GEMM dW_t[Cg x Kg] = X_t^T . DY over the
// R = N * prod(out) rows.
//
// bwd_weights_as_fwd (bwd_weights_as_fwd.cc) computes the same sums as a forward convolution with
// the batch as its channels; its reduction runs over (image, output-sized window) pairs that its
// GEMM gathers sample by sample, and that is where its time goes (docs/measurements.md).
//
// # The padded copy of x
// x is copied once per run, channels-last, with the padding applied (every mode, through
// map_padded_index) over the box the outputs read: P_a = (O_a - 1) s_a + (k_a - 1) dil_a + 1
// positions per axis. Each group's channels are rounded up to whole vectors with zeros. In the
// copy every row is interior: output o reads tap t's channels at
//   base(o) + delta(t),  base(o) = sum_a o_a s_a pitch_a,  delta(t) = sum_a t_a dil_a pitch_a,
// so no row maps coordinates through the padding modes, and none is packed. (The version
// before mapped the border rows tap by tap and packed them, a large share of a 16-channel
// layer's run: docs/measurements.md.) The copy costs O(input) against the GEMM's
// O(input * K * taps); a padded box much larger than x and y together (huge dilations) is
// declined, and bwd_weights_as_fwd serves it.
//
// # The GEMM
// The columns of dW_t for all taps, (tap, channel) flattened, are cut into units of nr (48 on
// AVX-512): a unit is a column of tiles over all output channels. The microkernel is
// gemm_bptr's narrow tile (8 output channels x 48 columns), which reads its B row p as three
// vectors at b[p] + voff[v]: b[p] is row p's base in the copy, voff the three vectors' tap
// deltas plus channels. dy is packed a chunk of rows at a time into 8-wide panels that the
// kernel broadcasts; a chunk's panels are contiguous and stay in L2 while the units of a
// block go by. With one block per group a sweep packs its chunks into its own scratch just
// before using them; with several, each chunk is packed once per run into a shared copy that
// every block reads (packing per block repeated the work once per block: 5 times on
// r50_res4_1x1_b16). So x is read in place, whole vectors at a time, for every tap; 16
// channels make three taps per unit and keep the tiles full.
//
// # Work split and determinism
// The rows are cut into `parts` and the units into `blocks`; a task is one (part, group, block)
// and sums its rows, chunk by chunk, into its own partial copy of its block. A last phase adds
// the partials in part order and stores dw in its layout. Parts and blocks depend on the
// problem only, so every element of dw is the same sum in the same order for any thread count.
#include "algo/direct_wgrad.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "algo/bwd_weights_as_fwd.h"
#include "algo/fft_conv.h"
#include "algo/layout_copy.h"
#include "algo/odometer.h"
#include "algo/workspace_layout.h"
#include "api/checked.h"
#include "kernels/gemm_bptr.h"
#include "kernels/transpose.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxTaps = dim_t{1} << 16;
// Bytes of accumulators per block: with the chunk's rows of x and dy they should stay in a
// core's L2 (1 MiB on Zen 4, 2 MiB on Sapphire Rapids).
constexpr dim_t kBlockBytes = dim_t{256} << 10;
// A chunk has as many rows as make one unit's reads of x (kc x nr) about this size, so that a
// kernel call stays long enough that loading and storing its accumulator tile costs a few
// percent (measured: 12 KiB and 8 KiB were not faster).
constexpr dim_t kPanelBytes = dim_t{16} << 10;
// Tasks wanted per run, so that a thread the OS deschedules holds up only a small share.
constexpr dim_t kTasksWanted = 16;
// Fewest rows per part: adding one more partial costs a pass over a copy of dW.
constexpr dim_t kMinPartRows = 1024;
// Output channels per task of the last phase (the partials added and stored).
constexpr dim_t kStoreChannels = 16;
// The widest tile a weight-gradient kernel has (nr: 48 floats on AVX-512).
constexpr dim_t kMaxNr = 64;
// Workspace beyond which the algorithm declines (the copies of x and dy are most of it).
constexpr std::size_t kMaxWorkspace = std::size_t{1} << 40;
// The padded copy may be this many times larger than x and y together (plus a constant for
// tiny tensors) before the algorithm declines.
constexpr dim_t kMaxCopyRatio = 16;

// dst[0, width) = src[0, real) followed by zeros. dy's panel width (mr: 4 or 8) as a
// fixed-size copy, which the compiler turns into vector moves: a library memmove call per row
// cost 12 % of mnist_5x5_b64's weight gradient.
template <class T>
inline void copy_row(T* dst, const T* src, dim_t real, dim_t width) {
  if (real == width) {
    switch (width) {
      case 4:
        std::memcpy(dst, src, 4 * sizeof(T));
        return;
      case 8:
        std::memcpy(dst, src, 8 * sizeof(T));
        return;
      default:
        break;
    }
  }
  for (dim_t m = 0; m < real; ++m) dst[m] = src[m];
  for (dim_t m = real; m < width; ++m) dst[m] = T(0);
}

// The kernel and its tile, bound together (gemm_bptr.h).
template <class T>
kernels::BptrKernel<T> wgrad_kernel() {
  return kernels::bptr_kernel<T>(kernels::BptrTile::narrow);
}

// Everything sized from the problem, shared by reject() and the executor. Computed with Fits:
// a caller tests the flag before trusting any field.
struct Sizes {
  dim_t mr = 0, nr = 0, lanes = 0, taps = 0, positions = 0, rows = 0;
  dim_t ktiles = 0, kpad = 0;  // mr-tiles of Kg
  dim_t cgp = 0;               // channels per group in the copy: Cg rounded up to whole vectors
  dim_t row_len = 0;           // groups * cgp, perhaps plus a line: one position of the copy
  std::vector<dim_t> box;      // P_a: the padded positions the outputs read, per axis
  dim_t copy_elems = 0;        // N * prod(P) * row_len
  dim_t columns = 0;           // per group: taps * cgp, the (tap, channel) pairs
  dim_t units = 0;             // per group: nr-wide units of columns, kpad x nr accumulators each
  dim_t unit_elems = 0;        // kpad * nr
  dim_t block_units = 0;       // units per block
  dim_t blocks = 0;            // per group
  dim_t parts = 0, chunk = 0;
  dim_t part_chunks = 0;    // chunks in the longest part
  dim_t partial_elems = 0;  // accumulators of one part, all groups
  dim_t dy_elems = 0;
  bool pack_once = false;  // several blocks: dy packed once per run, shared (else per sweep)
  dim_t panel_elems = 0;   // the shared packed dy (groups x rows x kpad), or 0
  bool copy_too_large = false;
};

Sizes sizes(const Geometry& g, Fits& f) {
  const kernels::BptrKernel<float> k32 = wgrad_kernel<float>();
  const kernels::BptrKernel<double> k64 = wgrad_kernel<double>();
  const bool f32 = g.dtype == DType::f32;
  const dim_t elem = static_cast<dim_t>(dtype_size(g.dtype));
  Sizes s;
  s.mr = static_cast<dim_t>(f32 ? k32.mr : k64.mr);
  s.nr = static_cast<dim_t>(f32 ? k32.nr : k64.nr);
  s.lanes = s.nr / 3;
  s.taps = f.product(g.kernel);
  s.positions = f.product(g.out);
  s.rows = f.mul(g.N, s.positions);
  s.ktiles = g.Kg() / s.mr + (g.Kg() % s.mr != 0);
  s.kpad = f.mul(s.ktiles, s.mr);
  s.cgp = f.mul(g.Cg() / s.lanes + (g.Cg() % s.lanes != 0), s.lanes);
  s.row_len = f.mul(g.groups, s.cgp);
  // A kernel call reads a chunk of consecutive positions, three vectors each. Positions a
  // multiple of 512 bytes apart put those vectors in a few L1 sets, where they evict each
  // other before the next mr-tile of dy reads them again; one cache line more per position
  // (never read: columns stop at cgp) spreads them over all sets.
  if (f.mul(s.row_len, elem) % 512 == 0) s.row_len = f.add(s.row_len, 64 / elem);
  s.copy_elems = f.mul(g.N, s.row_len);
  for (int a = 0; a < g.rank(); ++a) {
    // (An axis without outputs reads nothing: an empty box.)
    s.box.push_back(
        g.out[a] == 0
            ? 0
            : f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.kernel[a] - 1, g.dil[a])), 1));
    s.copy_elems = f.mul(s.copy_elems, s.box.back());
  }
  const dim_t x_elems = f.mul(f.mul(g.N, g.C), f.product(g.in));
  s.dy_elems = f.mul(f.mul(g.N, g.K), s.positions);
  s.copy_too_large =
      s.copy_elems > f.add(f.mul(kMaxCopyRatio, f.add(x_elems, s.dy_elems)), dim_t{1} << 16);
  s.columns = f.mul(s.taps, s.cgp);
  s.units = s.columns / s.nr + (s.columns % s.nr != 0);
  s.unit_elems = f.mul(s.kpad, s.nr);
  const dim_t unit_bytes = std::max<dim_t>(1, f.mul(s.unit_elems, elem));
  s.block_units = std::clamp<dim_t>(kBlockBytes / unit_bytes, 1, std::max<dim_t>(1, s.units));
  s.blocks = s.units / s.block_units + (s.units % s.block_units != 0);
  const dim_t all_blocks = std::max<dim_t>(1, f.mul(g.groups, s.blocks));
  const dim_t wanted = kTasksWanted / all_blocks + (kTasksWanted % all_blocks != 0);
  s.parts = std::clamp<dim_t>(std::min(wanted, s.rows / kMinPartRows), 1, kTasksWanted);
  s.chunk = std::clamp<dim_t>(kPanelBytes / (s.nr * elem), 64, 512);
  const dim_t longest_part = s.rows / s.parts + (s.rows % s.parts != 0);
  s.part_chunks = longest_part / s.chunk + (longest_part % s.chunk != 0);
  s.partial_elems = f.mul(f.mul(g.groups, s.units), s.unit_elems);
  s.pack_once = s.blocks > 1;
  s.panel_elems = s.pack_once ? f.mul(f.mul(g.groups, s.kpad), s.rows) : 0;
  return s;
}

// The workspace: shared, the copies, dy's panels and the partials; per thread, one chunk's row
// bases (and its panels, where sweeps pack their own). One description, used to size it (by
// reject() and the executor) and to lay it out in run().
template <class T>
struct WgradShared {
  T *x_pad, *dy_copy, *dy_panels, *partials;
};
template <class T>
struct WgradSlot {
  const T** bases;  // per row of the chunk: its base in the copy (the group's channel 0)
  T* dy_panels;     // without pack_once: the chunk's packed rows of dy
};

template <class T>
WgradShared<T> carve_shared(const Sizes& s, Carve& c) {
  WgradShared<T> sh;
  sh.x_pad = c.take<T>(static_cast<std::size_t>(s.copy_elems));
  sh.dy_copy = c.take<T>(static_cast<std::size_t>(s.dy_elems));
  sh.dy_panels = c.take<T>(static_cast<std::size_t>(s.panel_elems));
  sh.partials = c.take<T>(static_cast<std::size_t>(s.parts * s.partial_elems));
  return sh;
}
template <class T>
WgradSlot<T> carve_slot(const Sizes& s, Carve& c) {
  const auto chunk = static_cast<std::size_t>(s.chunk);
  WgradSlot<T> sl;
  sl.bases = c.take<const T*>(chunk);
  sl.dy_panels = c.take<T>(s.pack_once ? 0 : chunk * static_cast<std::size_t>(s.kpad));
  return sl;
}

// The workspace of a problem whose sizes fit (Fits ok), in bytes; SIZE_MAX if over size_t.
std::size_t workspace_bytes_of(const Sizes& s, DType t) {
  const auto of = [&](auto zero) {
    using T = decltype(zero);
    return WorkspaceLayout::bytes_of([&](Carve& c) { return carve_shared<T>(s, c); },
                                     [&](Carve& c) { return carve_slot<T>(s, c); }, thread_slots());
  };
  return t == DType::f32 ? of(float{}) : of(double{});
}

template <class T>
class DirectWgradExecutor final : public Executor {
 public:
  explicit DirectWgradExecutor(const Geometry& g) : g_(g), kernel_(wgrad_kernel<T>()) {
    Fits f;
    s_ = sizes(g, f);
    if (!f || workspace_bytes_of(s_, g.dtype) > kMaxWorkspace || s_.copy_too_large)
      throw_overflow("weight-gradient workspace");
    // store()'s run buffer holds one tile row.
    if (s_.nr > kMaxNr) throw std::logic_error("direct_wgrad: a kernel tile wider than kMaxNr");
    // The copy's pitches (elements between neighbours along each axis, then between images).
    pitch_.assign(static_cast<std::size_t>(g.rank()), s_.row_len);
    for (int a = g.rank() - 2; a >= 0; --a) pitch_[a] = pitch_[a + 1] * s_.box[a + 1];
    image_pitch_ = g.rank() > 0 ? pitch_[0] * s_.box[0] : s_.row_len;
    ws_.size([&](Carve& c) { return carve_shared<T>(s_, c); },
             [&](Carve& c) { return carve_slot<T>(s_, c); }, thread_slots(),
             "weight-gradient workspace");
  }

  std::size_t workspace_bytes() const override { return ws_.bytes(); }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // Tables are built by the first run, so that planning stays cheap (see implicit_gemm.cc).
    std::call_once(tables_once_, [this] { build_tables(); });
    threads = std::min(threads, thread_slots());
    const Shared sh = ws_.shared(workspace, [&](Carve& c) { return carve_shared<T>(s_, c); });
    const ConstTensorView dy = channels_last_view(args.b, sh.dy_copy, threads);
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.out.strides);
    // The copy: one task per image in 1-D, per (image, first coordinate) above.
    const dim_t slabs = g_.rank() == 1 ? 1 : s_.box[0];
    const dim_t copy_tasks = s_.copy_elems == 0 ? 0 : g_.N * slabs;
    const dim_t packs = s_.pack_once ? g_.groups * s_.parts * s_.part_chunks : 0;
    const dim_t sweeps = s_.parts * g_.groups * s_.blocks;
    const dim_t store_blocks = (g_.Kg() + kStoreChannels - 1) / kStoreChannels;
    parallel_phases(
        {copy_tasks + packs, sweeps, g_.groups * store_blocks}, threads,
        [&](int phase, dim_t task) {
          if (phase == 0) {
            if (task < copy_tasks) return copy_slab(args.a, sh.x_pad, task / slabs, task % slabs);
            task -= copy_tasks;
            const dim_t j = task % s_.part_chunks, part = (task / s_.part_chunks) % s_.parts;
            const dim_t grp = task / (s_.part_chunks * s_.parts);
            const dim_t r0 = part_begin(part) + j * s_.chunk, r_end = part_begin(part + 1);
            if (r0 >= r_end) return;  // a shorter part has fewer chunks
            return pack_chunk(dy, grp, r0, std::min(s_.chunk, r_end - r0),
                              shared_panels(sh, grp, r0));
          }
          if (phase == 1) {
            const dim_t block = task % s_.blocks, grp = (task / s_.blocks) % g_.groups;
            const dim_t part = task / (s_.blocks * g_.groups);
            return sweep(sh, dy, part, grp, block,
                         ws_.slot(workspace, [&](Carve& c) { return carve_slot<T>(s_, c); }));
          }
          const dim_t grp = task / store_blocks, k0 = (task % store_blocks) * kStoreChannels;
          store(sh.partials, grp, k0, std::min(g_.Kg(), k0 + kStoreChannels), tap_off, args.out);
        });
  }

 private:
  using Shared = WgradShared<T>;
  using Slot = WgradSlot<T>;

  // Where chunk r0's panels of group grp sit in the shared packed dy.
  T* shared_panels(const Shared& sh, dim_t grp, dim_t r0) const {
    return sh.dy_panels + (grp * s_.rows + r0) * s_.kpad;
  }

  // The copy's positions with first coordinate p0 of image n (every later axis; in 1-D, p0 = 0
  // and the slab is the image's one line), from x in any layout: per line of the last axis, each
  // position's row of groups * cgp values (zeros in the padding and past each group's Cg channels).
  void copy_slab(const ConstTensorView& x, T* x_pad, dim_t n, dim_t p0) const {
    const int d = g_.rank();
    const T* src = static_cast<const T*>(x.data) + n * x.strides[0];
    const dim_t cs = x.strides[1], xs_last = x.strides[2 + d - 1];
    const dim_t P = s_.box[d - 1], Cg = g_.Cg(), cgp = s_.cgp, row = s_.row_len;
    const std::vector<dim_t>& last = index_[d - 1];
    // The run of the last axis read without the padding: copy positions [q0, q1) hold samples
    // first, first + 1, ...
    const dim_t q0 = run_begin_, q1 = run_end_;
    std::vector<dim_t> p(static_cast<std::size_t>(d), 0);
    p[0] = p0;
    T* dst_line = x_pad + n * image_pitch_ + p0 * pitch_[0];
    const dim_t lines = d == 1 ? 1 : pitch_[0] / (P * row);
    for (dim_t line = 0; line < lines; ++line, dst_line += P * row) {
      if (line > 0)  // the next line: leading axes 1..d-2 as an odometer
        for (int a = d - 2; a >= 1; --a) {
          if (++p[a] < s_.box[a]) break;
          p[a] = 0;
        }
      dim_t off = 0;
      bool zero = false;
      for (int a = 0; a < d - 1 && !zero; ++a) {
        const dim_t i = index_[a][p[a]];
        zero = i < 0;
        off += i * x.strides[2 + a];
      }
      if (zero) {
        std::fill(dst_line, dst_line + P * row, T(0));
        continue;
      }
      const T* xl = src + off;
      for (dim_t q = 0; q < P; ++q) {
        T* dst = dst_line + q * row;
        const dim_t i = last[q];
        const bool in_run = q >= q0 && q < q1 && cs != 1 && xs_last == 1;
        for (dim_t grp = 0; grp < g_.groups; ++grp) {
          T* dg = dst + grp * cgp;
          std::fill(dg + Cg, dg + cgp, T(0));
          if (in_run) continue;  // transposed below
          if (i < 0) {
            std::fill(dg, dg + Cg, T(0));
            continue;
          }
          const T* xs = xl + grp * Cg * cs + i * xs_last;
          if (cs == 1) {
            std::memcpy(dg, xs, sizeof(T) * Cg);
          } else {
            for (dim_t c = 0; c < Cg; ++c) dg[c] = xs[c * cs];
          }
        }
      }
      // Channels-first with a dense last axis: the run as (channels x positions) transposes per
      // group, in 4 x 4 register blocks, kTransposeBlock positions at a time so that the
      // destination rows stay in cache while the channels go by (a whole line at once was
      // slower: docs/measurements.md).
      if (cs != 1 && xs_last == 1)
        for (dim_t b0 = q0; b0 < q1; b0 += kTransposeBlock) {
          const dim_t len = std::min(kTransposeBlock, q1 - b0);
          for (dim_t grp = 0; grp < g_.groups; ++grp)
            kernels::transpose<T>(static_cast<std::size_t>(Cg), static_cast<std::size_t>(len),
                                  xl + grp * Cg * cs + last[b0], cs,
                                  dst_line + b0 * row + grp * cgp, row);
        }
    }
  }

  // First row of part q: the rows are split as evenly as integers allow.
  dim_t part_begin(dim_t q) const {
    return q * (s_.rows / s_.parts) + std::min(q, s_.rows % s_.parts);
  }

  // Rows [r0, r0 + kc) of dy (channels-last), group grp's channels, as ktiles panels of
  // kc x mr: panel t holds channels [t * mr, (t + 1) * mr), zeros past Kg.
  void pack_chunk(const ConstTensorView& dy, dim_t grp, dim_t r0, dim_t kc, T* panels) const {
    const dim_t mr = s_.mr, Kg = g_.Kg(), rank = g_.rank();
    const T* dyg = static_cast<const T*>(dy.data) + grp * Kg;
    const auto& ys = dy.strides;
    std::vector<dim_t> o(static_cast<std::size_t>(rank));
    dim_t n = r0 / s_.positions;
    unflatten(r0 % s_.positions, o);
    for (dim_t i = 0; i < kc; ++i) {
      dim_t off = n * ys[0];
      for (dim_t a = 0; a < rank; ++a) off += o[a] * ys[2 + a];
      for (dim_t k0 = 0; k0 < s_.kpad; k0 += mr)
        copy_row(panels + k0 * kc + i * mr, dyg + off + k0, std::min(mr, Kg - k0), mr);
      if (advance(o)) ++n;
    }
  }

  // Adds rows [part_begin(part), part_begin(part + 1)) into the part's copy of one block.
  void sweep(const Shared& sh, const ConstTensorView& dy, dim_t part, dim_t grp, dim_t block,
             const Slot& sl) const {
    const dim_t mr = s_.mr, nr = s_.nr, chunk = s_.chunk, rank = g_.rank();
    const dim_t u0 = block * s_.block_units, u1 = std::min(s_.units, u0 + s_.block_units);
    T* acc = sh.partials + part * s_.partial_elems + (grp * s_.units + u0) * s_.unit_elems;
    std::fill(acc, acc + (u1 - u0) * s_.unit_elems, T(0));
    const T* xg = sh.x_pad + grp * s_.cgp;
    std::vector<dim_t> o(static_cast<std::size_t>(rank));

    const dim_t r_end = part_begin(part + 1);
    for (dim_t r0 = part_begin(part); r0 < r_end; r0 += chunk) {
      const dim_t kc = std::min(chunk, r_end - r0);
      const T* panels = sl.dy_panels;
      if (s_.pack_once)
        panels = shared_panels(sh, grp, r0);
      else
        pack_chunk(dy, grp, r0, kc, sl.dy_panels);
      // Each row's base in the copy.
      dim_t n = r0 / s_.positions;
      unflatten(r0 % s_.positions, o);
      for (dim_t i = 0; i < kc; ++i) {
        dim_t base = n * image_pitch_;
        for (dim_t a = 0; a < rank; ++a) base += o[a] * g_.stride[a] * pitch_[a];
        sl.bases[i] = xg + base;
        if (advance(o)) ++n;
      }
      for (dim_t u = u0; u < u1; ++u) {
        std::ptrdiff_t voff[3];
        vector_offsets(u * nr, voff);
        T* unit = acc + (u - u0) * s_.unit_elems;
        for (dim_t k0 = 0; k0 < s_.kpad; k0 += mr)
          kernel_(static_cast<std::size_t>(kc), panels + k0 * kc, sl.bases, voff, unit + k0 * nr,
                  static_cast<std::size_t>(nr));
      }
    }
  }

  // Vector v of the unit whose first column is f0 reads a row of the copy at base + voff[v]:
  // column f = (tap, channel) = (f / cgp, f % cgp) sits delta(tap) + channel away. A vector past
  // the last column (the last unit's tail) repeats vector 0: its accumulators are never stored,
  // and its reads stay inside the copy.
  void vector_offsets(dim_t f0, std::ptrdiff_t* voff) const {
    for (dim_t v = 0; v < 3; ++v) {
      const dim_t f = f0 + v * s_.lanes < s_.columns ? f0 + v * s_.lanes : f0;
      voff[v] = static_cast<std::ptrdiff_t>(tap_delta_[static_cast<std::size_t>(f / s_.cgp)] +
                                            f % s_.cgp);
    }
  }

  // dw for one group and output channels [k0, k1), every tap: the partials added in part
  // order, stored in dw's layout. A (channel, tap)'s Cg columns lie in runs of at most nr
  // within units; each run is added over the parts as whole vectors (a sum per element, one
  // partial at a time, in part order as before) and then stored.
  void store(const T* partials, dim_t grp, dim_t k0, dim_t k1, const std::vector<dim_t>& tap_off,
             const TensorView& out) const {
    T* dw = static_cast<T*>(out.data);
    const auto& ws = out.strides;
    const dim_t nr = s_.nr;
    const T* first = partials + grp * s_.units * s_.unit_elems;
    T sum[kMaxNr];
    for (dim_t k = k0; k < k1; ++k) {
      T* dwk = dw + (grp * g_.Kg() + k) * ws[0];
      for (dim_t tap = 0; tap < s_.taps; ++tap) {
        T* dwt = dwk + tap_off[static_cast<std::size_t>(tap)];
        for (dim_t c0 = 0; c0 < g_.Cg();) {
          const dim_t f = tap * s_.cgp + c0;  // its column: unit f / nr, column f % nr there
          const dim_t len = std::min(g_.Cg() - c0, nr - f % nr);
          const T* p = first + (f / nr) * s_.unit_elems + k * nr + f % nr;
          for (dim_t i = 0; i < len; ++i) sum[i] = p[i];
          for (dim_t q = 1; q < s_.parts; ++q) {
            const T* pq = p + q * s_.partial_elems;
            for (dim_t i = 0; i < len; ++i) sum[i] += pq[i];
          }
          for (dim_t i = 0; i < len; ++i) dwt[(c0 + i) * ws[1]] = sum[i];
          c0 += len;
        }
      }
    }
  }

  // Per axis, the input coordinate of each position of the copy (-1: a zero), the last axis's
  // run without padding, and each tap's delta in the copy. Bounded by the copy's size, which
  // reject() bounds.
  void build_tables() const {
    const int rank = g_.rank();
    std::vector<std::vector<dim_t>> index(static_cast<std::size_t>(rank));
    for (int a = 0; a < rank; ++a)
      for (dim_t p = 0; p < s_.box[a]; ++p)
        index[a].push_back(map_padded_index(p - g_.lo[a], g_.in[a], g_.mode));
    // The longest stretch of the last axis whose positions read consecutive samples.
    const std::vector<dim_t>& last = index[rank - 1];
    dim_t best_begin = 0, best_end = 0;
    for (dim_t q = 0; q < s_.box[rank - 1];) {
      dim_t e = q;
      while (e < s_.box[rank - 1] && last[e] >= 0 && last[e] == last[q] + (e - q)) ++e;
      if (e - q > best_end - best_begin) best_begin = q, best_end = e;
      q = std::max(e, q + 1);
    }
    std::vector<dim_t> delta(static_cast<std::size_t>(s_.taps), 0);
    std::vector<dim_t> t(static_cast<std::size_t>(rank), 0);
    for (dim_t tap = 0; tap < s_.taps; ++tap) {
      for (int a = 0; a < rank; ++a) delta[tap] += t[a] * g_.dil[a] * pitch_[a];
      next_index(t, g_.kernel, rank);
    }
    run_begin_ = best_begin, run_end_ = best_end;
    tap_delta_ = std::move(delta);  // assigned whole: a throw above leaves the old state
    index_ = std::move(index);
  }

  void unflatten(dim_t p, std::vector<dim_t>& o) const {
    for (int a = g_.rank() - 1; a >= 0; --a) {
      o[a] = p % g_.out[a];
      p /= g_.out[a];
    }
  }
  // Next output position; true when it wrapped around to the next image.
  bool advance(std::vector<dim_t>& o) const { return !next_index(o, g_.out, g_.rank()); }

  Geometry g_;
  kernels::BptrKernel<T> kernel_;  // its tile is s_.mr x s_.nr
  Sizes s_;
  std::vector<dim_t> pitch_;  // the copy's elements between neighbours along each axis
  dim_t image_pitch_ = 0;     // ... and between images
  WorkspaceLayout ws_;
  mutable std::once_flag tables_once_;
  mutable std::vector<std::vector<dim_t>> index_;  // [axis][position in the copy]
  mutable std::vector<dim_t> tap_delta_;           // [tap]
  mutable dim_t run_begin_ = 0, run_end_ = 0;      // of the last axis
};

class DirectWgrad final : public Algorithm {
 public:
  explicit DirectWgrad(const SubProblems& forward) : forward_(forward) {}

  const char* name() const override { return "direct_wgrad"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_weights) return "backward-weights pass only";
    if (g.N == 0) return "empty batch";
    if (g.Cg() == 0 || g.Kg() == 0) return "no channels";
    Fits f;
    if (f.product(g.kernel) > kMaxTaps) return "more than 65536 kernel taps";
    const Sizes s = sizes(g, f);
    if (!f || workspace_bytes_of(s, g.dtype) > kMaxWorkspace) return "workspace would exceed 1 TiB";
    if (s.copy_too_large)
      return "the padded copy of x (the box the outputs read) would be over 16 times the size "
             "of x and dy together (dilation or padding much larger than the input)";
    return {};
  }

  // Large output extents are the kernel of the gradient as a forward convolution; where the
  // FFT takes that one (its own crossover rule, fft_crossover.cc), bwd_weights_as_fwd runs it,
  // an order of magnitude faster on a 31x31 kernel (docs/measurements.md).
  std::string pays(const Geometry& g, Op) const override {
    if (weight_gradient_forward_algorithm(g, forward_) == &fft_algorithm())
      return "as a forward convolution (bwd_weights_as_fwd) the gradient runs on fft, faster";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<DirectWgradExecutor>(g);
  }

 private:
  const SubProblems& forward_;
};

}  // namespace

std::unique_ptr<Algorithm> make_direct_wgrad(const SubProblems& forward) {
  return std::make_unique<DirectWgrad>(forward);
}

}  // namespace convnd::detail
