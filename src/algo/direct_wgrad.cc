// # The weight gradient as a direct GEMM
//
// dw[k, c, t] = sum over rows r = (n, o) of x[n, c, in(o, t)] * dy[n, k, o], where in(o, t) is
// the input position that output o reads through tap t (padding modes applied; a zero-padding
// position reads zeros). For one tap that is the GEMM dW_t[Cg x Kg] = X_t^T . DY over the
// R = N * prod(out) rows, and with both tensors channels-last a row of X_t is one position's Cg
// contiguous channels and a row of DY one position's Kg contiguous channels. The microkernel
// (kernels::gemm_tile_outer) reads both in place through one pointer per row: mr input channels
// broadcast against nr output-gradient channels, the mr x nr tile of dW_t held in registers over
// a whole chunk of rows. Nothing is gathered or packed except the last, partial tile of channels.
//
// bwd_weights_as_fwd (via_forward.cc) computes the same sums as a forward convolution with the
// batch as its channels; its reduction runs over (image, output-sized window) pairs that its GEMM
// gathers sample by sample, and that is where its time goes (mnist_5x5_b64: 0.25x oneDNN).
//
// # Work split and determinism
// The rows are cut into `parts` and the (tap, channel tile) rows of dW into `blocks`; a task is
// one (part, group, block) and sums its rows, chunk by chunk, into its own partial copy of its
// block. A last phase adds the partials in part order and stores dw in its layout. Parts and
// blocks depend on the problem only, so every element of dw is the same sum in the same order for
// any thread count. Inside a chunk the loop goes tap by tap over the same rows of dy, which stay
// in L2 for all the taps of the block.
//
// Channels-first tensors are copied channels-last once per run: O(input) against the
// O(input * K * taps) of the GEMM.
#include "algo/direct_wgrad.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "algo/layout_copy.h"
#include "api/checked.h"
#include "kernels/gemm_tile.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxTaps = dim_t{1} << 16;
// Bytes of accumulators per block: with the chunk's rows of x and dy they should stay in a
// core's L2 (1 MiB on Zen 4, 2 MiB on Sapphire Rapids).
constexpr dim_t kBlockBytes = dim_t{256} << 10;
// A chunk has as many rows as make about this many bytes of dy, within [64, 512] rows: long
// enough that the tile's load and store are a few percent of the kernel call.
constexpr dim_t kChunkBytes = dim_t{128} << 10;
// Tasks wanted per run, so that a thread the OS deschedules holds up only a small share.
constexpr dim_t kTasksWanted = 16;
// Fewest rows per part: adding one more partial costs a pass over a copy of dW.
constexpr dim_t kMinPartRows = 1024;
// Workspace beyond which the algorithm declines (the copies of x and dy are most of it).
constexpr dim_t kMaxWorkspace = dim_t{1} << 40;

std::size_t align64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

// Everything sized from the problem, shared by reject() and the executor. Computed with Fits:
// a caller tests the flag before trusting any field.
struct Sizes {
  dim_t mr = 0, nr = 0, taps = 0, positions = 0, rows = 0;
  dim_t ctiles = 0, ktiles = 0, cpad = 0, kpad = 0, ldc = 0;
  dim_t tile_rows = 0;   // per group: taps * ctiles rows of mr x kpad accumulators
  dim_t block_rows = 0;  // tile rows per block
  dim_t blocks = 0;      // per group
  dim_t parts = 0, chunk = 0;
  dim_t partial_elems = 0;  // accumulators of one part, all groups
  dim_t x_elems = 0, dy_elems = 0, slot_bytes = 0, workspace = 0;
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
  s.ctiles = g.Cg() / s.mr + (g.Cg() % s.mr != 0);
  s.ktiles = g.Kg() / s.nr + (g.Kg() % s.nr != 0);
  s.cpad = f.mul(s.ctiles, s.mr);
  s.kpad = f.mul(s.ktiles, s.nr);
  // One cache line more than the columns: with Kg = 512 the rows of a tile would otherwise
  // fall into the same few L1 sets.
  s.ldc = f.add(s.kpad, 64 / elem);
  s.tile_rows = f.mul(s.taps, s.ctiles);
  const dim_t tile_row_bytes = std::max<dim_t>(1, f.mul(f.mul(s.mr, s.ldc), elem));
  s.block_rows = std::clamp<dim_t>(kBlockBytes / tile_row_bytes, 1, std::max<dim_t>(1, s.tile_rows));
  s.blocks = s.tile_rows / s.block_rows + (s.tile_rows % s.block_rows != 0);
  const dim_t all_blocks = std::max<dim_t>(1, f.mul(g.groups, s.blocks));
  const dim_t wanted = kTasksWanted / all_blocks + (kTasksWanted % all_blocks != 0);
  s.parts = std::clamp<dim_t>(std::min(wanted, s.rows / kMinPartRows), 1, kTasksWanted);
  s.chunk = std::clamp<dim_t>(kChunkBytes / std::max<dim_t>(1, f.mul(s.kpad, elem)), 64, 512);
  s.partial_elems = f.mul(f.mul(g.groups, s.tile_rows), f.mul(s.mr, s.ldc));
  s.x_elems = f.mul(f.mul(g.N, g.C), f.product(g.in));
  s.dy_elems = f.mul(f.mul(g.N, g.K), s.positions);
  // Per thread: four pointer arrays and the row coordinates (chunk entries each), the two
  // partial-tile panels, and a row of zeros that padding rows point at.
  const dim_t rank = g.rank();
  s.slot_bytes = f.add(f.add(f.mul(f.mul(4, s.chunk), 8), f.mul(f.mul(s.chunk, rank + 1), 8)),
                       f.mul(f.add(f.add(f.mul(s.chunk, s.mr), f.mul(s.chunk, s.nr)), s.cpad),
                             elem));
  s.slot_bytes = f.add(s.slot_bytes, 6 * 64);  // each of the six arrays starts on a cache line
  const dim_t copies = f.mul(f.add(s.x_elems, s.dy_elems), elem);
  const dim_t partials = f.mul(f.mul(s.parts, s.partial_elems), elem);
  s.workspace = f.add(f.add(copies, partials), f.mul(hardware_threads(), s.slot_bytes));
  s.workspace = f.add(s.workspace, 4 * 64);
  return s;
}

template <class T>
class DirectWgradExecutor final : public Executor {
 public:
  explicit DirectWgradExecutor(const Geometry& g) : g_(g) {
    Fits f;
    s_ = sizes(g, f);
    if (!f || s_.workspace > kMaxWorkspace) throw_overflow("weight-gradient workspace");
    x_bytes_ = align64(sizeof(T) * static_cast<std::size_t>(s_.x_elems));
    dy_bytes_ = align64(sizeof(T) * static_cast<std::size_t>(s_.dy_elems));
    partial_bytes_ = align64(sizeof(T) * static_cast<std::size_t>(s_.parts * s_.partial_elems));
    slots_ = hardware_threads();
    slot_bytes_ = align64(static_cast<std::size_t>(s_.slot_bytes));
  }

  std::size_t workspace_bytes() const override {
    return x_bytes_ + dy_bytes_ + partial_bytes_ + static_cast<std::size_t>(slots_) * slot_bytes_;
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    // Tables are built by the first run, so that planning stays cheap (see implicit_gemm.cc).
    std::call_once(tables_once_, [this] { build_tables(); });
    threads = std::min(threads, slots_);
    char* ws = static_cast<char*>(workspace);
    const ConstTensorView x = channels_last(args.a, g_.in, ws, threads);
    const ConstTensorView dy = channels_last(args.b, g_.out, ws + x_bytes_, threads);
    T* partials = reinterpret_cast<T*>(ws + x_bytes_ + dy_bytes_);
    char* slots = ws + x_bytes_ + dy_bytes_ + partial_bytes_;
    const std::vector<dim_t> tap_off = tap_offsets(g_, args.out.strides);
    const dim_t sweeps = s_.parts * g_.groups * s_.blocks;
    parallel_phases({sweeps, g_.groups * s_.taps}, threads, [&](int phase, dim_t task) {
      if (phase == 0) {
        const dim_t block = task % s_.blocks, grp = (task / s_.blocks) % g_.groups;
        const dim_t part = task / (s_.blocks * g_.groups);
        sweep(x, dy, part, grp, block, partials,
              slots + static_cast<std::size_t>(thread_index()) * slot_bytes_);
      } else {
        store(partials, task / s_.taps, task % s_.taps, tap_off, args.out);
      }
    });
  }

 private:
  // v itself when its channels are contiguous, else a dense channels-last copy in `buf`.
  ConstTensorView channels_last(const ConstTensorView& v, const std::vector<dim_t>& spatial,
                                void* buf, int threads) const {
    if (v.strides[1] == 1) return v;
    std::vector<dim_t> st(v.shape.size());
    st[1] = 1;
    dim_t run = v.shape[1];
    for (int a = g_.rank() - 1; a >= 0; --a) st[2 + a] = run, run *= spatial[a];
    st[0] = run;
    copy_to_channels_last(v, static_cast<T*>(buf), st, threads);
    return ConstTensorView(buf, g_.dtype, v.shape, st);
  }

  // First row of part q: the rows are split as evenly as integers allow.
  dim_t part_begin(dim_t q) const {
    return q * (s_.rows / s_.parts) + std::min(q, s_.rows % s_.parts);
  }

  // Adds rows [part_begin(part), part_begin(part + 1)) into the part's copy of one block.
  void sweep(const ConstTensorView& x, const ConstTensorView& dy, dim_t part, dim_t grp,
             dim_t block, T* partials, char* slot) const {
    const dim_t Cg = g_.Cg(), Kg = g_.Kg(), mr = s_.mr, nr = s_.nr, ldc = s_.ldc;
    const dim_t chunk = s_.chunk, rank = g_.rank();
    const dim_t tr0 = block * s_.block_rows, tr1 = std::min(s_.tile_rows, tr0 + s_.block_rows);
    T* acc = partials + part * s_.partial_elems + (grp * s_.tile_rows + tr0) * mr * ldc;
    std::fill(acc, acc + (tr1 - tr0) * mr * ldc, T(0));

    // The slot, carved in the order sizes() counted it.
    auto take = [&slot](std::size_t bytes) {
      char* p = slot;
      slot += align64(bytes);
      return p;
    };
    const auto n_chunk = static_cast<std::size_t>(chunk);
    const T** a_rows = reinterpret_cast<const T**>(take(sizeof(T*) * n_chunk));
    const T** b_rows = reinterpret_cast<const T**>(take(sizeof(T*) * n_chunk));
    const T** a_tail_rows = reinterpret_cast<const T**>(take(sizeof(T*) * n_chunk));
    const T** b_tail_rows = reinterpret_cast<const T**>(take(sizeof(T*) * n_chunk));
    dim_t* coords = reinterpret_cast<dim_t*>(take(sizeof(dim_t) * n_chunk * (rank + 1)));
    T* a_tail = reinterpret_cast<T*>(take(sizeof(T) * n_chunk * static_cast<std::size_t>(mr)));
    T* b_tail = reinterpret_cast<T*>(take(sizeof(T) * n_chunk * static_cast<std::size_t>(nr)));
    T* zeros = reinterpret_cast<T*>(slot);
    std::fill(zeros, zeros + s_.cpad, T(0));

    const T* xg = static_cast<const T*>(x.data) + grp * Cg;
    const T* dyg = static_cast<const T*>(dy.data) + grp * Kg;
    const auto& xs = x.strides;
    const auto& ys = dy.strides;
    const dim_t k_tail0 = Kg % nr != 0 ? (s_.ktiles - 1) * nr : -1;  // first column of the tail
    std::vector<dim_t> o(static_cast<std::size_t>(rank));

    const dim_t r_end = part_begin(part + 1);
    for (dim_t r0 = part_begin(part); r0 < r_end; r0 += chunk) {
      const dim_t kc = std::min(chunk, r_end - r0);
      // Coordinates (image, output position) of the chunk's rows, and their rows of dy.
      dim_t n = r0 / s_.positions;
      unflatten(r0 % s_.positions, o);
      for (dim_t i = 0; i < kc; ++i) {
        dim_t* ci = coords + i * (rank + 1);
        ci[0] = n;
        dim_t off = n * ys[0];
        for (dim_t a = 0; a < rank; ++a) ci[1 + a] = o[a], off += o[a] * ys[2 + a];
        b_rows[i] = dyg + off;
        if (advance(o)) ++n;
      }
      if (k_tail0 >= 0) {
        for (dim_t i = 0; i < kc; ++i) {
          T* dst = b_tail + i * nr;
          for (dim_t j = 0; j < nr; ++j) dst[j] = k_tail0 + j < Kg ? b_rows[i][k_tail0 + j] : T(0);
          b_tail_rows[i] = dst;
        }
      }
      dim_t tap_built = -1;
      for (dim_t tr = tr0; tr < tr1; ++tr) {
        const dim_t tap = tr / s_.ctiles, c0 = (tr % s_.ctiles) * mr;
        if (tap != tap_built) {
          input_rows(tap, kc, coords, xg, xs, zeros, a_rows);
          tap_built = tap;
        }
        const T* const* a = a_rows;
        dim_t a_off = c0;
        if (c0 + mr > Cg) {  // the last tile of channels: copied, zeros past Cg
          for (dim_t i = 0; i < kc; ++i) {
            T* dst = a_tail + i * mr;
            for (dim_t m = 0; m < mr; ++m) dst[m] = c0 + m < Cg ? a_rows[i][c0 + m] : T(0);
            a_tail_rows[i] = dst;
          }
          a = a_tail_rows;
          a_off = 0;
        }
        T* c_row = acc + (tr - tr0) * mr * ldc;
        for (dim_t k0 = 0; k0 < s_.kpad; k0 += nr) {
          const bool tail = k0 == k_tail0;
          kernels::gemm_tile_outer<T>(static_cast<std::size_t>(kc), a,
                                      static_cast<std::size_t>(a_off), tail ? b_tail_rows : b_rows,
                                      static_cast<std::size_t>(tail ? 0 : k0), c_row + k0,
                                      static_cast<std::size_t>(ldc));
        }
      }
    }
  }

  // rows[i] = the channels (of the group) that row i reads through `tap`, or `zeros`.
  void input_rows(dim_t tap, dim_t kc, const dim_t* coords, const T* xg,
                  const std::vector<dim_t>& xs, const T* zeros, const T** rows) const {
    const int rank = g_.rank();
    const dim_t* t = tap_coords_.data() + tap * rank;
    for (dim_t i = 0; i < kc; ++i) {
      const dim_t* ci = coords + i * (rank + 1);
      dim_t off = ci[0] * xs[0];
      bool zero = false;
      for (int a = 0; a < rank; ++a) {
        const dim_t m = input_index(a, ci[1 + a], t[a]);
        if (m < 0) {
          zero = true;
          break;
        }
        off += m * xs[2 + a];
      }
      rows[i] = zero ? zeros : xg + off;
    }
  }

  // dw for one (group, tap): the partials added in part order, stored in dw's layout.
  void store(const T* partials, dim_t grp, dim_t tap, const std::vector<dim_t>& tap_off,
             const TensorView& out) const {
    T* dw = static_cast<T*>(out.data);
    const auto& ws = out.strides;
    const dim_t ldc = s_.ldc;
    const T* first = partials + ((grp * s_.tile_rows + tap * s_.ctiles) * s_.mr) * ldc;
    for (dim_t c = 0; c < g_.Cg(); ++c)
      for (dim_t k = 0; k < g_.Kg(); ++k) {
        const T* p = first + c * ldc + k;
        T sum = p[0];
        for (dim_t q = 1; q < s_.parts; ++q) sum += p[q * s_.partial_elems];
        dw[(grp * g_.Kg() + k) * ws[0] + c * ws[1] + tap_off[static_cast<std::size_t>(tap)]] = sum;
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
  std::size_t x_bytes_ = 0, dy_bytes_ = 0, partial_bytes_ = 0, slot_bytes_ = 0;
  int slots_ = 1;
  mutable std::once_flag tables_once_;
  mutable std::vector<dim_t> tap_coords_;                // [tap * rank + a]
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

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    if (g.dtype == DType::f32) return std::make_unique<DirectWgradExecutor<float>>(g);
    return std::make_unique<DirectWgradExecutor<double>>(g);
  }
};

}  // namespace

const Algorithm& direct_wgrad_algorithm() {
  static const DirectWgrad instance;
  return instance;
}

}  // namespace convnd::detail
