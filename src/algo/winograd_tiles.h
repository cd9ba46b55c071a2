// How the Winograd algorithms (winograd.cc: forward; winograd_weights.cc: weight gradient) cut a
// problem into tiles, and how they gather a block of tiles' samples for a transform.
//
// Every spatial axis is cut per dilation phase p (outputs p, p + dil, ..) into runs of m
// outputs; a tile is one run per axis, and needs alpha = m + 2 inputs per axis, dil apart. The
// per-axis tables hold the output coordinate of each of a tile's m outputs (-1 past the end)
// and the input coordinate of each of its alpha inputs after the padding mode (-1 for a zero
// sample), so padding modes and dilation cost nothing in the inner loops. Tiles are numbered
// image-major, last axis fastest.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "algo/problem.h"
#include "api/checked.h"
#include "kernels/winograd_transform.h"

namespace convnd::detail {

inline dim_t ipow(dim_t b, int e) {
  dim_t r = 1;
  for (int i = 0; i < e; ++i) r *= b;
  return r;
}

// Why Winograd with tiles of m outputs cannot take this problem, or empty: the precision asked
// for, an empty batch, a kernel other than 3 or a stride other than 1 on some axis, or sizes
// that would make planning expensive (the per-axis tile tables) or overflow.
inline std::string winograd_shape_rejection(const Geometry& g, int m) {
  constexpr dim_t kMaxExtent = dim_t{1} << 30;
  if (g.precision == Precision::highest) return "precision 'highest' asks for direct summation";
  if (g.N == 0) return "empty batch";
  for (int a = 0; a < g.rank(); ++a) {
    if (g.kernel[a] != 3) return "kernel is not 3 on every axis";
    if (g.stride[a] != 1) return "stride is not 1";
    if (g.in[a] > kMaxExtent || g.out[a] > kMaxExtent || g.dil[a] > kMaxExtent ||
        g.lo[a] > kMaxExtent || g.hi[a] > kMaxExtent)
      return "an extent, dilation or padding over 2^30";
    if (static_cast<double>(g.out[a]) / m + static_cast<double>(g.dil[a]) > 1 << 18)
      return "over 2^18 tiles along an axis (planning builds a table per axis)";
  }
  return {};
}

struct AxisTiles {
  dim_t count = 0;
  std::vector<dim_t> out, in;  // count x m, count x alpha
};

class TileGrid {
 public:
  // Only counts the tiles; the per-axis tables are built on first use (planning stays cheap,
  // also for a candidate that is sized and then not chosen).
  TileGrid(const Geometry& g, int m) : g_(g), rank_(g.rank()), m_(m), alpha_(m + 2) {
    E_ = ipow(alpha_, rank_);
    outs_ = ipow(m_, rank_);
    // A tile holds at least one output, so the counts are bounded by the output's size; checked
    // all the same, as the executors size their workspaces from them.
    per_image_ = 1;
    for (int a = 0; a < rank_; ++a) {
      counts_.push_back(tile_count(g, a));
      per_image_ = checked_mul(per_image_, counts_.back(), "output");
    }
    total_ = checked_mul(g.N, per_image_, "output");
  }

  int rank() const { return rank_; }
  int m() const { return m_; }
  int alpha() const { return alpha_; }
  dim_t samples() const { return E_; }     // alpha^d inputs per tile
  dim_t outputs() const { return outs_; }  // m^d outputs per tile
  dim_t total() const { return total_; }   // tiles of the whole batch

  // Offsets in view x (strides of a canonical activation view) of the alpha^d input samples of
  // tiles [t0, t0 + lanes): offs[e * lanes + j] for sample e of tile t0 + j; kNoSample for a
  // zero sample or a tile past the end.
  void input_offsets(const std::vector<dim_t>& strides, dim_t t0, dim_t lanes, dim_t* offs) const {
    offsets(strides, t0, lanes, offs, alpha_,
            [&](int a) -> const std::vector<dim_t>& { return axes_[a].in; });
  }
  // The same for the m^d outputs of each tile (kNoSample past the end of an axis).
  void output_offsets(const std::vector<dim_t>& strides, dim_t t0, dim_t lanes, dim_t* offs) const {
    offsets(strides, t0, lanes, offs, m_,
            [&](int a) -> const std::vector<dim_t>& { return axes_[a].out; });
  }

 private:
  // Tiles along an axis: ceil(n_p / m) for each dilation phase p of n_p outputs.
  dim_t tile_count(const Geometry& g, int axis) const {
    const dim_t dil = g.dil[axis], out = g.out[axis];
    dim_t count = 0;
    // ceil(ceil((out - p) / dil) / m) per phase p, without out - p + dil - 1 overflowing.
    for (dim_t p = 0; p < std::min(dil, out); ++p) {
      const dim_t n = (out - p) / dil + ((out - p) % dil != 0);
      count += n / m_ + (n % m_ != 0);
    }
    return count;
  }

  // The tables of every axis, built once (call_once: the runs of one plan may be concurrent).
  const std::vector<AxisTiles>& axes() const {
    std::call_once(axes_once_, [this] {
      std::vector<AxisTiles> axes;  // assigned whole: a throw (bad_alloc) leaves none
      for (int a = 0; a < rank_; ++a) axes.push_back(tile_axis(g_, a));
      axes_ = std::move(axes);
    });
    return axes_;
  }

  AxisTiles tile_axis(const Geometry& g, int axis) const {
    AxisTiles t;
    const dim_t dil = g.dil[axis], out = g.out[axis];
    for (dim_t p = 0; p < std::min(dil, out); ++p) {
      const dim_t n = (out - p + dil - 1) / dil;
      for (dim_t q = 0; q < n; q += m_) {
        for (int i = 0; i < m_; ++i) t.out.push_back(q + i < n ? p + (q + i) * dil : -1);
        for (int j = 0; j < alpha_; ++j)
          t.in.push_back(map_padded_index(p + (q + j) * dil - g.lo[axis], g.in[axis], g.mode));
        ++t.count;
      }
    }
    return t;
  }

  template <class Table>
  void offsets(const std::vector<dim_t>& strides, dim_t t0, dim_t lanes, dim_t* offs, int per_axis,
               Table&& table) const {
    const dim_t count = ipow(per_axis, rank_);
    axes();  // built on first use
    dim_t idx[3] = {0, 0, 0};
    for (dim_t j = 0; j < lanes; ++j) {
      const dim_t t = t0 + j;
      if (t >= total_) {
        for (dim_t e = 0; e < count; ++e) offs[e * lanes + j] = kNoSample;
        continue;
      }
      dim_t rem = t % per_image_;
      for (int a = rank_ - 1; a >= 0; --a) {
        idx[a] = rem % counts_[a];
        rem /= counts_[a];
      }
      const dim_t base = (t / per_image_) * strides[0];
      for (dim_t e = 0; e < count; ++e) {
        dim_t off = base, r = e;
        for (int a = rank_ - 1; a >= 0 && off != kNoSample; --a) {
          const dim_t c = table(a)[idx[a] * per_axis + r % per_axis];
          r /= per_axis;
          off = c < 0 ? kNoSample : off + c * strides[2 + a];
        }
        offs[e * lanes + j] = off;
      }
    }
  }

  Geometry g_;
  int rank_, m_, alpha_;
  dim_t E_ = 0, outs_ = 0, per_image_ = 0, total_ = 0;
  std::vector<dim_t> counts_;  // tiles per axis
  mutable std::once_flag axes_once_;
  mutable std::vector<AxisTiles> axes_;
};

// Gathers a block's samples channel by channel: made once per block from its offsets table,
// then gather() per channel. Vector gathers with indices relative to the block's first sample
// (int32 for f32, so a block must span < 2^31 elements; otherwise scalar), the next channel's
// cache lines prefetched when channels lie a cache line or more apart (channels-first planes:
// the gathers jump across the plane and defeat the hardware prefetcher; measured: half the
// gather time). `scratch` holds 2 * n dim_t; `offs` (n entries) is reused for the line list.
template <class T>
class SampleGather {
  using Index = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

 public:
  // `wk`: the plan's bound Winograd kernels (the gather is one of them).
  SampleGather(const kernels::WinogradKernels<T>& wk, dim_t* offs, dim_t n, dim_t channel_stride,
               int alpha, dim_t lanes, dim_t* scratch)
      : wk_(wk), offs_(offs), n_(n), rel_(reinterpret_cast<Index*>(scratch)) {
    dim_t hi = std::numeric_limits<dim_t>::min();
    lo_ = std::numeric_limits<dim_t>::max();
    for (dim_t i = 0; i < n; ++i)
      if (offs[i] != kNoSample) {
        lo_ = std::min(lo_, offs[i]);
        hi = std::max(hi, offs[i]);
      }
    none_ = lo_ > hi;
    narrow_ = !none_ && (sizeof(T) == 8 || hi - lo_ < (dim_t{1} << 31));
    if (!narrow_) return;
    for (dim_t i = 0; i < n; ++i)
      rel_[i] = offs[i] == kNoSample ? Index(-1) : static_cast<Index>(offs[i] - lo_);
    // The ends of each tile row along the last axis stand for the row's lines.
    constexpr dim_t per_line = 64 / static_cast<dim_t>(sizeof(T));
    if (std::abs(channel_stride) < per_line) return;
    lines_ = offs;
    for (dim_t i = 0; i < n; ++i) {
      const dim_t col = (i / lanes) % alpha;
      if (rel_[i] >= 0 && (col == 0 || col == alpha - 1))
        lines_[nlines_++] = (static_cast<dim_t>(rel_[i]) + lo_) / per_line * per_line;
    }
    std::sort(lines_, lines_ + nlines_);
    nlines_ = std::unique(lines_, lines_ + nlines_) - lines_;
  }

  // dst[i] = the block's sample i of the channel at x + coff; prefetches x + next_coff's lines.
  void gather(const T* x, dim_t coff, dim_t next_coff, bool prefetch, T* dst) const {
    if (none_) {
      std::fill(dst, dst + n_, T(0));
    } else if (narrow_) {
      if (prefetch)
        for (dim_t q = 0; q < nlines_; ++q) __builtin_prefetch(x + lines_[q] + next_coff);
      wk_.winograd_gather(static_cast<std::size_t>(n_), x + lo_ + coff, rel_, dst);
    } else {
      for (dim_t i = 0; i < n_; ++i) dst[i] = offs_[i] == kNoSample ? T(0) : x[offs_[i] + coff];
    }
  }

 private:
  const kernels::WinogradKernels<T>& wk_;
  const dim_t* offs_;
  dim_t n_;
  Index* rel_;
  dim_t lo_ = 0;
  bool none_ = true, narrow_ = false;
  dim_t* lines_ = nullptr;
  dim_t nlines_ = 0;
};

}  // namespace convnd::detail
