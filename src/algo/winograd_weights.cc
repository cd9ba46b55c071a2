// # The weight gradient of 3-tap stride-1 convolutions by Winograd F(3, m)
//
// dw[k][c][r] = sum over images and output positions o of dy[k][o] x[c][o + r dil]. Cut the
// outputs into the forward pass's tiles (winograd_tiles.h): per tile, the 3 taps are a 3-output
// correlation of the tile's alpha = m + 2 inputs with its m output gradients as the filter,
// i.e. Winograd F(3, m):  dw_tile = AT [(G dy_tile) (*) (BT x_tile)]. AT is linear, so the sum
// over tiles moves inside:
//     W[xi](K x C) = sum over tiles D[xi](tiles x K)^T . X[xi](tiles x C),   dw = AT W A
// with X = BT x B (the forward input transform) and D = G dy GT: per frequency xi one GEMM whose
// reduction runs over the tiles, on the existing microkernel (rows: 12 output channels from a
// packed D panel; columns: 32 input channels of X). Direct summation spends m^d 3^d multiplies
// per tile and channel pair; this spends alpha^d: 4x fewer for F(3x3, 4x4), 8x in 3-D.
//
// Tiles run in super blocks (X and D of one fit the caches), accumulated into W in block order
// (into two partial sums over alternate super blocks, each on one thread with its own buffers,
// added at the end, when there are several); within a super block every W tile is one
// microkernel call over all its tiles. The order of the sums is fixed by the problem, so
// results do not depend on the thread count.
// Padding modes and dilation come with the tile tables; the bias gradient is the Plan's own
// sweep. Precision: as for the forward pass, bounds measured (docs/winograd.md).
#include "algo/winograd_weights.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "algo/layout_copy.h"
#include "algo/winograd.h"
#include "algo/winograd_matrices.h"
#include "algo/winograd_tiles.h"
#include "api/checked.h"
#include "api/errors.h"
#include "kernels/gemm_tile.h"
#include "kernels/winograd_transform.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kBlockTiles = 48;             // tiles per transform (a multiple of every mr)
constexpr dim_t kDyPanels = 4;                // k panels of mr per dy transform (the lanes)
constexpr std::size_t kSuperBytes = 6 << 20;  // X + D of one super block

std::size_t align64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

template <class T>
class WeightsExecutor final : public Executor {
 public:
  WeightsExecutor(const Geometry& g, int m) : g_(g), grid_(g, m) {
    const WinogradMatrices& w = winograd_gradient_matrices(m);
    alpha_ = w.alpha;
    rank_ = g.rank();
    E_ = grid_.samples();
    bt_id_ = m == 2 ? kernels::WinogradMatrix::bt2 : kernels::WinogradMatrix::bt4;
    gw_id_ = m == 2 ? kernels::WinogradMatrix::gw2 : kernels::WinogradMatrix::gw4;
    at_.assign(w.at.begin(), w.at.end());
    m_ = m;
    tk_ = kernels::tile_kernel<T>();
    wk_ = &kernels::winograd_kernels<T>();
    mr_ = static_cast<dim_t>(tk_.mr);
    nr_ = static_cast<dim_t>(tk_.nr);
    // Sizes checked although reject() bounds them: a wrapped size would under-allocate.
    const char* ws = "workspace";
    kpanels_ = (g.Kg() + mr_ - 1) / mr_;
    cblocks_ = (g.Cg() + nr_ - 1) / nr_;
    kpad_ = kpanels_ * mr_;
    cpad_ = cblocks_ * nr_;
    total_ = grid_.total();
    block_ = std::min(kBlockTiles, (total_ + mr_ - 1) / mr_ * mr_);
    const dim_t blocks = (total_ + block_ - 1) / block_;
    const dim_t lanes = checked_mul(E_, g.groups, ws);  // transform lanes of one tile, all groups
    const std::size_t per_block = checked_bytes64(
        checked_mul(checked_mul(lanes, block_, ws), checked_add(cpad_, kpad_, ws), ws), sizeof(T),
        ws);
    sb_blocks_ = std::clamp<dim_t>(static_cast<dim_t>(kSuperBytes / per_block), 1, blocks);
    sb_tiles_ = sb_blocks_ * block_;
    supers_ = (blocks + sb_blocks_ - 1) / sb_blocks_;
    w_bytes_ =
        checked_bytes64(checked_mul(checked_mul(lanes, kpad_, ws), cpad_, ws), sizeof(T), ws);
    x_bytes_ =
        checked_bytes64(checked_mul(checked_mul(lanes, cpad_, ws), sb_tiles_, ws), sizeof(T), ws);
    d_bytes_ =
        checked_bytes64(checked_mul(checked_mul(lanes, kpad_, ws), sb_tiles_, ws), sizeof(T), ws);
    slots_ = thread_slots();
    // Copies pay for large planes only: the 32 planes one gather reads then overflow L2; small
    // ones stay cached and the copy is pure cost (docs/measurements.md).
    const dim_t plane = checked_product(g.in, "input");
    if (g.layout == Layout::channels_first && plane >= (32 << 10) / static_cast<dim_t>(sizeof(T))) {
      const dim_t xin = checked_mul(checked_mul(g.N, g.C, ws), plane, ws);
      const dim_t yout =
          checked_mul(checked_mul(g.N, g.K, ws), checked_product(g.out, "output"), ws);
      x_copy_bytes_ = checked_bytes64(xin, sizeof(T), ws);
      copy_bytes_ = checked_size_add(x_copy_bytes_, checked_bytes64(yout, sizeof(T), ws), ws);
    }
    // Two partial sums over alternate super blocks when there are several and W is small
    // (fixed by the problem, so the result does not depend on the thread count).
    parts_ = supers_ >= 2 && w_bytes_ <= (std::size_t{16} << 20) ? 2 : 1;
    values_ = checked_mul(E_, std::max({cpad_, kDyPanels * mr_, nr_}), ws);  // transform lanes
    slot_bytes_ = align64(2 * sizeof(dim_t) * static_cast<std::size_t>(E_ * kBlockTiles)) +
                  checked_size_mul(3, checked_bytes64(values_, sizeof(T), ws), ws);
    const std::size_t part =
        checked_size_add(checked_size_add(w_bytes_, x_bytes_, ws), d_bytes_, ws);
    workspace_bytes_ = checked_size_add(
        checked_size_add(copy_bytes_, checked_size_mul(static_cast<std::size_t>(parts_), part, ws),
                         ws),
        checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args_in, void* workspace, int threads) const override {
    OpArgs args = args_in;
    char* ws = static_cast<char*>(workspace);
    // Channels-first x and dy are first copied channels-last: the transforms gather a vector
    // of channels per sample, which channels-first spreads over as many planes (and cache
    // lines, and pages) as there are lanes; measured 2x slower than the copy and the rest.
    const int th = std::min(threads, slots_);
    if (copy_bytes_ && (args.a.strides[1] != 1 || args.b.strides[1] != 1)) {
      args.a = channels_last_copy(args.a, reinterpret_cast<T*>(ws), th);
      args.b = channels_last_copy(args.b, reinterpret_cast<T*>(ws + x_copy_bytes_), th);
    }
    ws += copy_bytes_;
    char* slots = ws + static_cast<std::size_t>(parts_) * part_bytes();
    const dim_t welems = E_ * g_.groups * kpad_ * cpad_;
    const auto w_of = [&](dim_t p) {
      return reinterpret_cast<T*>(ws + static_cast<std::size_t>(p) * part_bytes());
    };
    if (parts_ == 1) {
      std::fill(w_of(0), w_of(0) + welems, T(0));
      for (dim_t s = 0; s < supers_; ++s) sweep(args, s, ws, slots, th);
    } else {
      // Each partial sum takes every parts_-th super block, with its own X, D and W, on one
      // thread: nothing is shared until the sum. (Shared super blocks ran 2x slower in about
      // half of the processes on this machine, as if the two vCPUs did not share a cache.)
      parallel_tasks(parts_, th, [&](dim_t p) {
        char* part = ws + static_cast<std::size_t>(p) * part_bytes();
        std::fill(w_of(p), w_of(p) + welems, T(0));
        for (dim_t s = p; s < supers_; s += parts_) sweep(args, s, part, slots, 1);
      });
      // W = partial 0 + partial 1 + ..., in that order for every element.
      const dim_t chunk = 4096, chunks = (welems + chunk - 1) / chunk;
      parallel_tasks(chunks, th, [&](dim_t c) {
        T* w0 = w_of(0);
        for (dim_t p = 1; p < parts_; ++p) {
          const T* wp = w_of(p);
          for (dim_t i = c * chunk; i < std::min(welems, (c + 1) * chunk); ++i) w0[i] += wp[i];
        }
      });
    }
    const std::vector<dim_t> taps = tap_offsets(g_, args.out.strides);
    parallel_tasks(g_.groups * g_.Kg(), th, [&](dim_t task) {
      write_weights(args.out, taps, task / g_.Kg(), task % g_.Kg(), w_of(0),
                    slots + static_cast<std::size_t>(thread_index()) * slot_bytes_);
    });
  }

 private:
  std::size_t part_bytes() const { return w_bytes_ + x_bytes_ + d_bytes_; }

  // A dense channels-last copy of a canonical activation view (N, C, S..) in `dst`.
  ConstTensorView channels_last_copy(const ConstTensorView& v, T* dst, int threads) const {
    const std::vector<dim_t> st = dense_channels_last_strides(v.shape);
    copy_to_channels_last(v, dst, st, threads);
    return ConstTensorView(dst, g_.dtype, v.shape, st);
  }

  // Super block s into the W of `part` (W, then X and D), on `threads` threads.
  void sweep(const OpArgs& args, dim_t s, char* part, char* slots, int threads) const {
    T* wacc = reinterpret_cast<T*>(part);
    T* xt = reinterpret_cast<T*>(part + w_bytes_);
    T* dt = reinterpret_cast<T*>(part + w_bytes_ + x_bytes_);
    const dim_t dpanels = (kpanels_ + kDyPanels - 1) / kDyPanels;
    const dim_t t0 = s * sb_tiles_;
    const dim_t tiles = std::min(sb_tiles_, total_ - t0);
    const dim_t blocks = (tiles + block_ - 1) / block_;
    const dim_t kc = blocks * block_;  // the reduction: whole blocks (zeros past the end)
    // X and D of the super block's tiles; task = (group, block, X's c block or D's panels).
    const dim_t per = cblocks_ + dpanels;
    parallel_tasks(g_.groups * blocks * per, threads, [&](dim_t task) {
      const dim_t which = task % per, b = (task / per) % blocks, grp = task / (per * blocks);
      char* sl = slots + static_cast<std::size_t>(thread_index()) * slot_bytes_;
      if (which < cblocks_)
        transform_x(args.a, grp, t0, b, which, xt, sl);
      else
        transform_dy(args.b, grp, t0, b, (which - cblocks_) * kDyPanels, dt, sl);
    });
    // W[xi][group] += D^T X, one microkernel call per W tile over the block's tiles.
    parallel_tasks(E_ * g_.groups * kpanels_ * cblocks_, threads, [&](dim_t task) {
      const dim_t cb = task % cblocks_, kp = (task / cblocks_) % kpanels_;
      const dim_t eg = task / (cblocks_ * kpanels_);  // xi * groups + group
      tk_.packed(static_cast<std::size_t>(kc), dt + (eg * kpanels_ + kp) * sb_tiles_ * mr_,
                 xt + (eg * cblocks_ + cb) * sb_tiles_ * nr_,
                 wacc + (eg * kpad_ + kp * mr_) * cpad_ + cb * nr_,
                 static_cast<std::size_t>(cpad_));
    });
  }

  T* values(char* s, int which) const {
    return reinterpret_cast<T*>(
        s + align64(2 * sizeof(dim_t) * static_cast<std::size_t>(E_ * kBlockTiles)) +
        which * align64(sizeof(T) * static_cast<std::size_t>(values_)));
  }

  // X[xi][group][c block][tile][nr] = (BT x B)[xi] of block b's tiles, the nr channels of c
  // block cb as the vector lanes: each tile's transforms land as whole rows of X (a transform
  // over tiles would scatter them with a stride of nr, measured at a third of the run).
  void transform_x(const ConstTensorView& x, dim_t grp, dim_t t0, dim_t b, dim_t cb, T* xt,
                   char* s) const {
    dim_t* offs = reinterpret_cast<dim_t*>(s);
    T* gathered = values(s, 0);
    T* transformed = values(s, 1);
    T* tmp = values(s, 2);
    const dim_t c0 = cb * nr_, cn = std::min(nr_, g_.Cg() - c0);
    const T* xc = static_cast<const T*>(x.data) + (grp * g_.Cg() + c0) * x.strides[1];
    for (dim_t j = 0; j < block_; ++j) {
      const dim_t t = t0 + b * block_ + j;
      grid_.input_offsets(x.strides, t, 1, offs);
      for (dim_t e = 0; e < E_; ++e) {
        T* dst = gathered + e * nr_;
        if (offs[e] == kNoSample) {
          std::fill(dst, dst + nr_, T(0));
          continue;
        }
        wk_->winograd_gather_strided(static_cast<std::size_t>(cn), xc + offs[e], x.strides[1], dst);
        std::fill(dst + cn, dst + nr_, T(0));
      }
      wk_->winograd_apply_known(bt_id_, rank_, static_cast<std::size_t>(nr_), gathered, transformed,
                                tmp);
      for (dim_t xi = 0; xi < E_; ++xi)
        std::copy(
            transformed + xi * nr_, transformed + (xi + 1) * nr_,
            xt + (((xi * g_.groups + grp) * cblocks_ + cb) * sb_tiles_ + b * block_ + j) * nr_);
    }
  }

  // D[xi][group][k panel][tile][mr] = (G dy GT)[xi] of block b's tiles, the output channels of
  // kDyPanels k panels from kp0 as the lanes (whole mr-runs of D per tile, as for X).
  void transform_dy(const ConstTensorView& dy, dim_t grp, dim_t t0, dim_t b, dim_t kp0, T* dt,
                    char* s) const {
    dim_t* offs = reinterpret_cast<dim_t*>(s);
    T* gathered = values(s, 0);
    T* transformed = values(s, 1);
    T* tmp = values(s, 2);
    const dim_t lanes = kDyPanels * mr_, k0 = kp0 * mr_, kn = std::min(lanes, g_.Kg() - k0);
    const dim_t panels = std::min(kDyPanels, kpanels_ - kp0);
    const T* dk = static_cast<const T*>(dy.data) + (grp * g_.Kg() + k0) * dy.strides[1];
    for (dim_t j = 0; j < block_; ++j) {
      const dim_t t = t0 + b * block_ + j;
      grid_.output_offsets(dy.strides, t, 1, offs);
      for (dim_t e = 0; e < grid_.outputs(); ++e) {
        T* dst = gathered + e * lanes;
        if (offs[e] == kNoSample) {
          std::fill(dst, dst + lanes, T(0));
          continue;
        }
        wk_->winograd_gather_strided(static_cast<std::size_t>(kn), dk + offs[e], dy.strides[1],
                                     dst);
        std::fill(dst + kn, dst + lanes, T(0));
      }
      wk_->winograd_apply_known(gw_id_, rank_, static_cast<std::size_t>(lanes), gathered,
                                transformed, tmp);
      for (dim_t xi = 0; xi < E_; ++xi)
        for (dim_t p = 0; p < panels; ++p)
          std::copy(
              transformed + xi * lanes + p * mr_, transformed + xi * lanes + (p + 1) * mr_,
              dt + (((xi * g_.groups + grp) * kpanels_ + kp0 + p) * sb_tiles_ + b * block_ + j) *
                       mr_);
    }
  }

  // dw[k][c][taps] = (AT W A) over the input channels of output channel k of a group.
  void write_weights(const TensorView& dw, const std::vector<dim_t>& taps, dim_t grp, dim_t k,
                     const T* wacc, char* s) const {
    T* gathered = values(s, 0);
    T* result = values(s, 1);
    T* tmp = values(s, 2);
    for (dim_t xi = 0; xi < E_; ++xi) {
      const T* src = wacc + ((xi * g_.groups + grp) * kpad_ + k) * cpad_;
      std::copy(src, src + cpad_, gathered + xi * cpad_);
    }
    wk_->winograd_apply(rank_, 3, alpha_, at_.data(), static_cast<std::size_t>(cpad_), gathered,
                        result, tmp);
    T* out = static_cast<T*>(dw.data) + (grp * g_.Kg() + k) * dw.strides[0];
    for (std::size_t r = 0; r < taps.size(); ++r)
      for (dim_t c = 0; c < g_.Cg(); ++c) out[c * dw.strides[1] + taps[r]] = result[r * cpad_ + c];
  }

  Geometry g_;
  kernels::TileKernel<T> tk_;  // bound once: its tile is mr_ x nr_
  // The transforms and gathers, bound with tk_ so that one plan runs one ISA's kernels.
  const kernels::WinogradKernels<T>* wk_ = nullptr;
  TileGrid grid_;
  int m_ = 0, alpha_ = 0, rank_ = 0;
  dim_t E_ = 0, mr_ = 0, nr_ = 0, kpanels_ = 0, cblocks_ = 0, kpad_ = 0, cpad_ = 0;
  dim_t total_ = 0, block_ = 0, sb_blocks_ = 0, sb_tiles_ = 0, supers_ = 0, values_ = 0;
  kernels::WinogradMatrix bt_id_{}, gw_id_{};  // x's and dy's transforms, compiled in
  std::vector<T> at_;                          // AT of F(3, m), for the final dw
  std::size_t w_bytes_ = 0, x_bytes_ = 0, d_bytes_ = 0, slot_bytes_ = 0;
  int slots_ = 1;
  dim_t parts_ = 1;
  std::size_t copy_bytes_ = 0, x_copy_bytes_ = 0;  // channels-last copies of x and dy
  std::size_t workspace_bytes_ = 0;
};

class WinogradWeights final : public Algorithm {
 public:
  WinogradWeights(int m, const char* name) : m_(m), name_(name) {}
  const char* name() const override { return name_; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_weights) return "backward-weights pass only";
    if (g.rank() > 3) return rule("rank ", g.rank(), " over 3");
    if (std::string why = winograd_shape_rejection(g, m_); !why.empty()) return why;
    // Saturating: groups x padded Kg x padded Cg need not fit in int64.
    Fits f;
    dim_t w = f.mul(f.mul(g.groups, f.add(g.Kg(), 16)), f.add(g.Cg(), 32));
    for (int a = 0; a < g.rank(); ++a) w = f.mul(w, m_ + 2);
    if (!f || f.mul(w, 8) > dim_t{1} << 40) return "transformed sizes over 2^40 bytes";
    return {};
  }

  std::string pays(const Geometry& g, Op op) const override {
    return winograd_weights_pays(g, op, m_);
  }

  double error_bound(const Geometry& g, Op op) const override {
    return winograd_bound_factor(m_, g.rank()) * Algorithm::error_bound(g, op);
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<WeightsExecutor>(g, m_);
  }

 private:
  int m_;
  const char* name_;
};

}  // namespace

const Algorithm& winograd_weights_f2_algorithm() {
  static const WinogradWeights instance(2, "winograd_wgrad_f2");
  return instance;
}
const Algorithm& winograd_weights_f4_algorithm() {
  static const WinogradWeights instance(4, "winograd_wgrad_f4");
  return instance;
}

}  // namespace convnd::detail
