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
// layers without padding gain nothing from it and are left to implicit_gemm.
//
// Determinism: the copy is a copy; each output element is summed by one task in a fixed
// (c, tap) order, whatever the thread count.
#include "algo/padded_igemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/gemm_tile.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr std::size_t kTilesPerTask = 8;
// Copies larger than this many elements are left to implicit_gemm (256 MiB of f32).
constexpr dim_t kMaxBufferElems = dim_t{1} << 26;

std::size_t align64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

// Shapes of the phase-split buffer, shared by reject() and the executor.
struct PhaseGrid {
  std::vector<dim_t> len;    // L_a = ceil(P_a / s_a), P_a = (O_a - 1) s_a + (k_a - 1) dil_a + 1
  std::vector<dim_t> pitch;  // prod_{b > a} L_b
  dim_t grid = 1;            // prod L_a: one phase block
  dim_t plane = 1;           // prod s_a L_a: one (image, channel)
  dim_t rows = 0;            // GEMM rows per image: O_0 * pitch_0
  dim_t valid = 1;           // prod O_a: rows that are real outputs

  explicit PhaseGrid(const Geometry& g) {
    const int d = g.rank();
    len.resize(d);
    pitch.assign(d, 1);
    for (int a = 0; a < d; ++a) {
      const dim_t P = (g.out[a] - 1) * g.stride[a] + (g.kernel[a] - 1) * g.dil[a] + 1;
      len[a] = (P + g.stride[a] - 1) / g.stride[a];
      grid *= len[a];
      plane *= len[a] * g.stride[a];
      valid *= g.out[a];
    }
    for (int a = d - 2; a >= 0; --a) pitch[a] = pitch[a + 1] * len[a + 1];
    rows = g.out[0] * pitch[0];
  }
};

template <class T>
class PaddedExecutor final : public Executor {
 public:
  explicit PaddedExecutor(const Geometry& g) : g_(g), pg_(g) {
    const kernels::TileShape ts = kernels::tile_shape(g.dtype);
    mr_ = static_cast<dim_t>(ts.mr);
    nr_ = static_cast<dim_t>(ts.nr);
    taps_ = 1;
    for (dim_t k : g.kernel) taps_ *= k;
    depth_ = g.Cg() * taps_;
    kc_max_ = std::min<dim_t>(depth_, sizeof(T) == 4 ? 256 : 128);
    col_blocks_ = (g.Kg() + nr_ - 1) / nr_;
    rows_per_task_ = mr_ * static_cast<dim_t>(kTilesPerTask);
    chunks_ = (pg_.rows + rows_per_task_ - 1) / rows_per_task_;
    const dim_t row_tasks = g.N * g.groups * chunks_;
    // Few row tasks (7x7 layers at batch 1): split the column blocks too, so both cores work.
    // The split depends on the problem only, never on the thread count.
    parts_ = row_tasks >= 16 ? 1 : std::min(col_blocks_, (16 + row_tasks - 1) / row_tasks);
    per_part_ = (col_blocks_ + parts_ - 1) / parts_;

    // Offset of every (c, tap) column from the start of an image's buffer, for group 0.
    const int d = g.rank();
    col_off_.resize(depth_);
    std::vector<dim_t> t(d, 0);
    for (dim_t tap = 0; tap < taps_; ++tap) {
      dim_t block = 0, shift = 0;
      for (int a = 0; a < d; ++a) {
        const dim_t p = t[a] * g.dil[a];
        block = block * g.stride[a] + p % g.stride[a];
        shift += (p / g.stride[a]) * pg_.pitch[a];
      }
      for (dim_t c = 0; c < g.Cg(); ++c) col_off_[c * taps_ + tap] = c * pg_.plane + block * pg_.grid + shift;
      for (int a = d - 1; a >= 0 && ++t[a] == g.kernel[a]; --a) t[a] = 0;
    }
    // The last tile of an image reads up to rows_per_task_ rows past its grid, and garbage rows
    // read past their phase block: slack after the last plane keeps every read inside the buffer.
    dim_t max_off = 0;
    for (dim_t off : col_off_) max_off = std::max(max_off, off);
    const dim_t image_elems = g.C * pg_.plane;
    const dim_t group_base = (g.groups - 1) * g.Cg() * pg_.plane;
    slack_ = std::max<dim_t>(0, group_base + max_off + chunks_ * rows_per_task_ - image_elems) + 64;
    buffer_elems_ = g.N * image_elems + slack_;

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

    slots_ = hardware_threads();
    weights_bytes_ = align64(sizeof(T) * g.groups * col_blocks_ * depth_ * nr_);
    buffer_bytes_ = align64(sizeof(T) * static_cast<std::size_t>(buffer_elems_));
    slot_bytes_ = align64(sizeof(T) * rows_per_task_ * col_blocks_ * nr_) +
                  align64(sizeof(const T*) * kc_max_) + align64(sizeof(dim_t) * rows_per_task_);
  }

  std::size_t workspace_bytes() const override {
    return weights_bytes_ + buffer_bytes_ + static_cast<std::size_t>(slots_) * slot_bytes_;
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    auto* ws = static_cast<char*>(workspace);
    T* packed_w = reinterpret_cast<T*>(ws);
    T* buf = reinterpret_cast<T*>(ws + weights_bytes_);
    const int th = std::min(threads, slots_);
    pack_weights(args.b, packed_w, th);
    copy_input(args.a, buf, th);
    parallel_tasks(g_.N * g_.groups * chunks_ * parts_, th, [&](dim_t task) {
      char* slot = ws + weights_bytes_ + buffer_bytes_ +
                   static_cast<std::size_t>(thread_index()) * slot_bytes_;
      const dim_t part = task % parts_;
      const dim_t chunk = (task / parts_) % chunks_;
      const dim_t grp = (task / (parts_ * chunks_)) % g_.groups;
      const dim_t n = task / (parts_ * chunks_ * g_.groups);
      run_task(args, packed_w, buf, n, grp, chunk * rows_per_task_, part * per_part_,
               std::min(col_blocks_, (part + 1) * per_part_), slot);
    });
  }

 private:
  // W[group][col block][d][nr], d = c * taps + tap; zero columns past Kg. Each task packs one
  // panel, reading one output channel's weights in memory order at a time.
  void pack_weights(const ConstTensorView& w, T* out, int threads) const {
    const T* src = static_cast<const T*>(w.data);
    const int d = g_.rank();
    std::vector<dim_t> tap_off(taps_, 0), t(d, 0);
    for (dim_t i = 0; i < taps_; ++i) {
      for (int a = 0; a < d; ++a) tap_off[i] += t[a] * w.strides[2 + a];
      for (int a = d - 1; a >= 0 && ++t[a] == g_.kernel[a]; --a) t[a] = 0;
    }
    parallel_tasks(g_.groups * col_blocks_, threads, [&](dim_t task) {
      const dim_t grp = task / col_blocks_, b = task % col_blocks_;
      T* panel = out + task * depth_ * nr_;
      for (dim_t j = 0; j < nr_; ++j) {
        const dim_t k = b * nr_ + j;
        if (k >= g_.Kg()) {
          for (dim_t i = 0; i < depth_; ++i) panel[i * nr_ + j] = T(0);
          continue;
        }
        const T* wk = src + (grp * g_.Kg() + k) * w.strides[0];
        for (dim_t c = 0; c < g_.Cg(); ++c)
          for (dim_t tap = 0; tap < taps_; ++tap)
            panel[(c * taps_ + tap) * nr_ + j] = wk[c * w.strides[1] + tap_off[tap]];
      }
    });
  }

  // buf[n][c][phase block][grid] from x (any strides, either layout); slack zeroed.
  void copy_input(const ConstTensorView& x, T* buf, int threads) const {
    const T* src = static_cast<const T*>(x.data);
    const int d = g_.rank();
    const dim_t last_len = g_.stride[d - 1] * pg_.len[d - 1];
    const dim_t lines = pg_.plane / last_len;  // (phase, j) tuples of the leading axes
    parallel_tasks(g_.N * g_.C, threads, [&](dim_t task) {
      const dim_t n = task / g_.C, c = task % g_.C;
      const T* xc = src + n * x.strides[0] + c * x.strides[1];
      T* plane = buf + task * pg_.plane;
      const std::vector<dim_t>& last = src_index_[d - 1];
      const dim_t xs_last = x.strides[2 + d - 1];
      // Lines in buffer order: phases of the leading axes outer, then their grid indices; the
      // last axis's phases and grid form one line of s * L elements.
      std::vector<dim_t> ph(d, 0), j(d, 0);
      for (dim_t line = 0; line < lines; ++line) {
        // Decompose: line = ((ph_0..ph_{d-2}) block, (j_0..j_{d-2}) grid) in buffer order.
        dim_t rest = line;
        for (int a = d - 2; a >= 0; --a) {
          j[a] = rest % pg_.len[a];
          rest /= pg_.len[a];
        }
        for (int a = d - 2; a >= 0; --a) {
          ph[a] = rest % g_.stride[a];
          rest /= g_.stride[a];
        }
        dim_t off = 0;
        bool zero = false;
        for (int a = 0; a < d - 1 && !zero; ++a) {
          const dim_t i = src_index_[a][ph[a] * pg_.len[a] + j[a]];
          zero = i < 0;
          off += i * x.strides[2 + a];
        }
        // Line `line` holds, for each last-axis phase, L elements; the buffer's layout puts
        // the last axis's phase inside the block index, so scatter per phase.
        for (dim_t pl = 0; pl < g_.stride[d - 1]; ++pl) {
          T* dst = plane + block_of(ph, pl) * pg_.grid + grid_of(j);
          const dim_t* idx = last.data() + pl * pg_.len[d - 1];
          if (zero) {
            std::fill(dst, dst + pg_.len[d - 1], T(0));
            continue;
          }
          const T* xl = xc + off;
          for (dim_t q = 0; q < pg_.len[d - 1]; ++q) dst[q] = idx[q] >= 0 ? xl[idx[q] * xs_last] : T(0);
        }
      }
    });
    std::fill(buf + g_.N * g_.C * pg_.plane, buf + buffer_elems_, T(0));
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
  void run_task(const OpArgs& args, const T* packed_w, const T* buf, dim_t n, dim_t grp, dim_t q0,
                dim_t b0, dim_t b1, char* slot) const {
    const dim_t rows = std::min(rows_per_task_, pg_.rows - q0);
    const dim_t tiles = (rows + mr_ - 1) / mr_;
    const dim_t ldc = col_blocks_ * nr_;
    T* acc = reinterpret_cast<T*>(slot);
    const T** col_ptr =
        reinterpret_cast<const T**>(slot + align64(sizeof(T) * rows_per_task_ * ldc));
    dim_t* row_off = reinterpret_cast<dim_t*>(slot + align64(sizeof(T) * rows_per_task_ * ldc) +
                                              align64(sizeof(const T*) * kc_max_));

    const dim_t k_begin = b0 * nr_, k_end = std::min(b1 * nr_, g_.Kg());
    const T* bias = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
    for (dim_t r = 0; r < tiles * mr_; ++r)
      for (dim_t k = k_begin; k < b1 * nr_; ++k)
        acc[r * ldc + k] = (bias && k < g_.Kg() && r < rows)
                               ? bias[(grp * g_.Kg() + k) * args.bias->strides[0]]
                               : T(0);

    const T* image = buf + (n * g_.C + grp * g_.Cg()) * pg_.plane;
    for (dim_t k0 = 0; k0 < depth_; k0 += kc_max_) {
      const dim_t kc = std::min(kc_max_, depth_ - k0);
      for (dim_t tile = 0; tile < tiles; ++tile) {
        const T* base = image + q0 + tile * mr_;
        for (dim_t p = 0; p < kc; ++p) col_ptr[p] = base + col_off_[k0 + p];
        for (dim_t b = b0; b < b1; ++b)
          kernels::gemm_tile_cols<T>(static_cast<std::size_t>(kc), col_ptr,
                                     packed_w + ((grp * col_blocks_ + b) * depth_ + k0) * nr_,
                                     acc + tile * mr_ * ldc + b * nr_,
                                     static_cast<std::size_t>(ldc));
      }
    }

    // Store the rows that are real outputs: grid coordinates below O on every axis.
    T* y = static_cast<T*>(args.out.data);
    const auto& ys = args.out.strides;
    const int d = g_.rank();
    for (dim_t r = 0; r < rows; ++r) {
      dim_t q = q0 + r, off = n * ys[0] + grp * g_.Kg() * ys[1];
      for (int a = d - 1; a >= 0 && off >= 0; --a) {
        const dim_t o = a == 0 ? q : q % pg_.len[a];
        if (a > 0) q /= pg_.len[a];
        off = o < g_.out[a] ? off + o * ys[2 + a] : -1;
      }
      row_off[r] = off;
    }
    if (ys[1] == 1) {
      for (dim_t r = 0; r < rows; ++r)
        if (row_off[r] >= 0)
          std::memcpy(y + row_off[r] + k_begin, acc + r * ldc + k_begin,
                      sizeof(T) * (k_end - k_begin));
    } else {
      for (dim_t k = k_begin; k < k_end; ++k) {
        T* yk = y + k * ys[1];
        for (dim_t r = 0; r < rows; ++r)
          if (row_off[r] >= 0) yk[row_off[r]] = acc[r * ldc + k];
      }
    }
  }

  Geometry g_;
  PhaseGrid pg_;
  std::vector<dim_t> col_off_;                // [c * taps + tap]
  std::vector<std::vector<dim_t>> src_index_;  // [axis][phase * L + j]
  dim_t mr_ = 0, nr_ = 0, taps_ = 0, depth_ = 0, kc_max_ = 0, col_blocks_ = 0;
  dim_t rows_per_task_ = 0, chunks_ = 0, parts_ = 1, per_part_ = 1, slack_ = 0, buffer_elems_ = 0;
  int slots_ = 1;
  std::size_t weights_bytes_ = 0, buffer_bytes_ = 0, slot_bytes_ = 0;
};

class PaddedIgemm final : public Algorithm {
 public:
  const char* name() const override { return "padded_igemm"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward pass only";
    if (g.N == 0) return "empty batch";
    bool pointwise = true;
    dim_t taps = 1;
    for (int a = 0; a < g.rank(); ++a) {
      pointwise = pointwise && g.kernel[a] == 1 && g.stride[a] == 1 && g.lo[a] == 0;
      taps *= g.kernel[a];
      if (taps > (1 << 16)) return "more than 65536 kernel taps";
    }
    if (pointwise) return "1x1 stride-1 layer without padding: implicit_gemm reads it in place";
    const PhaseGrid pg(g);
    // Rows computed on the grid but thrown away (L - O per row) must stay a minority.
    if (pg.rows * pg.grid / std::max<dim_t>(1, pg.grid) > 2 * pg.valid)
      return "more than half of the grid rows would be discarded (kernel much wider than output)";
    dim_t elems = 0;
    if (__builtin_mul_overflow(g.N * g.C, pg.plane, &elems) || elems > kMaxBufferElems)
      return "padded input copy over 2^26 elements";
    dim_t wbytes = 0;
    if (__builtin_mul_overflow(g.groups * (g.Kg() + 64), g.Cg() * taps, &wbytes) ||
        wbytes > (dim_t{1} << 30))
      return "packed weights over 2^30 elements";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    if (g.dtype == DType::f32) return std::make_unique<PaddedExecutor<float>>(g);
    return std::make_unique<PaddedExecutor<double>>(g);
  }
};

}  // namespace

const Algorithm& padded_igemm_algorithm() {
  static const PaddedIgemm instance;
  return instance;
}

}  // namespace convnd::detail
