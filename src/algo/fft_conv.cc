// # Forward convolution by FFT (large kernels)
//
// Direct summation costs k products per output (k = kernel volume); by transforms, a plane
// costs O(L log L) however large the kernel. Per image n, with the outputs cut into overlap-save
// tiles along axis 0 (fft_shape.h):
//
//   0. each kernel (k, c): the taps placed at t_d dil_d in a zero box of the transform extents
//      L_d, transformed: W_kc (kept across runs with constant weights, made once per run, or
//      made in the one task that reads it: fft_shape.h kernel_spectra);
//   1. each tile and input channel c: the padded box the tile's outputs read (every padding mode
//      applied through map_padded_index, so no mode needs a case of its own), zero-extended to
//      L_d, transformed: X_tc;
//   2. each tile and output channel k: Y = sum_c X_tc conj(W_kc) over the channels of k's group
//      (the channel reduction, per frequency), inverse transform, outputs read at o_d stride_d,
//      divided by prod L, plus the bias.
//
// Why L >= R suffices: the product of transforms is a cyclic correlation of period L,
// z[p] = sum_t x[(p + t dil) mod L] w[t], and every position an output reads (p = o stride,
// p + t dil <= R - 1 < L) is free of wrap-around.
//
// The transforms (fft_batch.h): real input, so the last axis is a real transform of half the
// length, kRowLanes rows side by side (transposed into a small buffer, so a single image plane
// is vector work too); the leading axes are complex transforms over the interleaved columns of
// the half spectrum, in place. Spectra are stored split (real part, then imaginary part), rows
// padded to kRowLanes bins.
//
// Scope: the forward operation (the backward ones and transposed convolution reach it through
// bwd_data_phases and bwd_weights_as_fwd, composed.cc); any rank, groups, stride and
// dilation, both layouts (views are canonical), float32 and float64 (transforms in the
// tensor's type). When dispatch chooses it: fft_crossover.cc; docs/fft.md.
//
// Determinism: each transform, each frequency's channel sum (c ascending) and each output is
// computed inside one task; tasks are fixed by the problem (kernels, tiles x channels), not the
// thread count, and each thread works in its own slot of the workspace.
#include "algo/fft_conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "algo/fft_batch.h"
#include "algo/fft_crossover.h"
#include "algo/fft_shape.h"
#include "algo/weight_cache.h"
#include "api/checked.h"
#include "api/errors.h"
#include "kernels/fft_spectra.h"
#include "kernels/transpose.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

using fft::kRowLanes;

constexpr std::size_t kMaxWorkspaceBytes = std::size_t{1} << 30;

// # Lanes on channels (channels-last, >= kRowLanes channels)
// The last-axis transforms run kRowLanes sequences side by side. Channels-first, those are
// kRowLanes rows of one channel, moved into the lanes by a transpose. Channels-last, a row of one
// channel is a gather at a stride of C samples (a cache line per sample, 1/16 of it used), so
// the lanes take kRowLanes adjacent channels of one row instead: each sample position is one
// contiguous copy in (and, for the outputs, out), and no transpose is needed. A task then
// serves kRowLanes channels of one tile (inputs) or kRowLanes output channels of one tile
// (their spectra accumulated side by side in the slot). With fewer channels on either side,
// lanes would sit idle: the rows path stays.
bool lanes_on_channels(const Geometry& g) {
  return g.layout == Layout::channels_last && g.C >= kRowLanes && g.K >= kRowLanes;
}

// Tiles per task, and spectra accumulated per task (one per tile, or per output channel).
dim_t tiles_in_task(const Geometry& g, const fft::Shape& s) {
  return lanes_on_channels(g) ? 1 : fft::tiles_per_task(s);
}
dim_t acc_spectra(const Geometry& g, const fft::Shape& s) {
  return lanes_on_channels(g) ? kRowLanes : fft::tiles_per_task(s);
}

// fft_shape.h's choice, except that with one tile per task several tasks read each kernel
// spectrum as soon as there are several tiles: made once then (kept), not once per task.
fft::KernelSpectra spectra_source(const Geometry& g, const fft::Shape& s) {
  const fft::KernelSpectra k = fft::kernel_spectra(g, s);
  if (k == fft::KernelSpectra::on_the_fly && s.tiles > tiles_in_task(g, s))
    return fft::KernelSpectra::kept;
  return k;
}

// Values of one thread's slot: acc_spectra accumulated spectra and one kernel spectrum (2
// parts each), the row-block buffers of the last axis (z: n rows, X: n + 1 rows, two parts
// each) and a scratch for either transform (2 max(n kRowLanes, spectrum)). Saturating (Fits).
dim_t slot_values(const Geometry& g, const fft::Shape& s, Fits& f) {
  const dim_t n = s.bins - 1;
  const dim_t spectra = f.mul(f.mul(f.add(acc_spectra(g, s), 1), 2), s.spectrum);
  const dim_t blocks = f.mul(f.add(f.mul(n, 2), f.mul(s.bins, 2)), kRowLanes);
  const dim_t scratch = f.mul(2, std::max(f.mul(n, kRowLanes), s.spectrum));
  return f.add(f.add(spectra, blocks), scratch);
}

// Workspace bytes as reject() estimates them (the executor carves the same amounts, checked).
std::size_t workspace_estimate(const Geometry& g, const fft::Shape& s, std::size_t elem,
                               int slots) {
  Fits f;
  const dim_t spectra =
      f.add(spectra_source(g, s) == fft::KernelSpectra::kept ? f.mul(g.K, g.Cg()) : 0,
            f.mul(s.tiles, g.C));
  const dim_t values =
      f.add(f.mul(spectra, f.mul(2, s.spectrum)), f.mul(slots, slot_values(g, s, f)));
  return static_cast<std::size_t>(f.add(f.mul(values, static_cast<dim_t>(elem)), 64 * 16));
}

// Advances an N-D index over `ext` (last axis fastest); false after the last index.
bool next_index(std::vector<dim_t>& idx, const std::vector<dim_t>& ext) {
  for (int a = static_cast<int>(ext.size()) - 1; a >= 0; --a) {
    if (++idx[a] < ext[a]) return true;
    idx[a] = 0;
  }
  return false;
}

// The step s with off(q) = off(0) + q s for every q < nr (any s when nr == 1), or kNoSample:
// whether a block's rows can move through one strided transpose.
template <class Off>
dim_t equal_step(dim_t nr, Off&& off) {
  if (nr < 2) return 0;
  const dim_t o0 = off(0), step = off(1) - o0;
  for (dim_t q = 2; q < nr; ++q)
    if (off(q) - o0 != q * step) return kNoSample;
  return step;
}

// A row (all axes but the last fixed) of one tile's transform box.
struct Row {
  dim_t tile = 0;  // within the task's group of tiles
  dim_t row = 0;   // row index in the box: sum_a i_a prod_(a < b < d-1) L_b
  dim_t src = 0;   // element offset of the row's samples (input, weights) or of its outputs
};

template <class T>
class FftExecutor final : public Executor {
 public:
  explicit FftExecutor(const Geometry& g)
      : g_(g),
        s_(fft::shape_for(g)),
        slots_(thread_slots()),
        group_(tiles_in_task(g, s_)),
        lanes_(lanes_on_channels(g)),
        acc_(acc_spectra(g, s_)),
        wsource_(spectra_source(g, s_)),
        last_(s_.len.back()) {
    const int d = g.rank();
    for (int a = 0; a + 1 < d; ++a) lead_.emplace_back(s_.len[a]);
    // Row strides of the box (rows) and of a spectrum (values), per leading axis.
    row_stride_.assign(static_cast<std::size_t>(d), 1);
    spec_stride_.assign(static_cast<std::size_t>(d), s_.pitch);
    for (int a = d - 3; a >= 0; --a) {
      row_stride_[a] = row_stride_[a + 1] * s_.len[a + 1];
      spec_stride_[a] = spec_stride_[a + 1] * s_.len[a + 1];
    }
    // Checked although reject() bounds the total: a size that wrapped would under-allocate.
    const char* ws = "workspace";
    const dim_t part = s_.spectrum;
    const dim_t w_values = checked_mul(checked_mul(g.K, g.Cg(), ws), checked_mul(2, part, ws), ws);
    if (wsource_ == fft::KernelSpectra::kept) w_values_ = w_values;
    if (wsource_ == fft::KernelSpectra::cached)
      w_cached_bytes_ = checked_bytes64(w_values, sizeof(T), ws);
    x_values_ = checked_mul(checked_mul(s_.tiles, g.C, ws), checked_mul(2, part, ws), ws);
    Fits f;
    slot_values_ = slot_values(g, s_, f);
    if (!f) throw_overflow(ws);
    Carve sizing;
    carve(sizing);
    if (!sizing.ok()) throw_overflow(ws);
    workspace_bytes_ = sizing.bytes();
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int threads_in) const override {
    const int threads = std::min(threads_in, slots_);  // one workspace slot per thread
    Carve c(workspace);
    const Layout lay = carve(c);
    const dim_t part = s_.spectrum, Cg = g_.Cg(), Kg = g_.Kg(), tiles = s_.tiles;
    const dim_t groups = (tiles + group_ - 1) / group_;
    auto slot = [&](int i) { return lay.slots + static_cast<std::size_t>(i) * slot_values_; };
    auto work_of = [&](T* sl) { return sl + (acc_ + 1) * 2 * part; };  // after acc and wbuf
    const bool on_the_fly = wsource_ == fft::KernelSpectra::on_the_fly;
    const T* wspec = lay.w;
    if (wsource_ == fft::KernelSpectra::cached)  // made on the first run (weight_cache.h)
      wspec = w_cache_.get(true, args.b, 0, w_cached_bytes_, static_cast<T*>(nullptr),
                           [&](T* out) {
        parallel_tasks(g_.K * Cg, threads, [&](std::int64_t task) {
          kernel_spectrum(args.b, task / Cg, task % Cg, out + task * 2 * part,
                          work_of(slot(thread_index())));
        });
      });
    // Lanes on channels needs the channels adjacent in memory (a strided view may not have them).
    const bool lanes = lanes_ && args.a.strides[1] == 1 && args.out.strides[1] == 1;
    const dim_t cblocks = (g_.C + kRowLanes - 1) / kRowLanes;
    const dim_t kblocks = (g_.K + kRowLanes - 1) / kRowLanes;
    for (dim_t n = 0; n < g_.N; ++n) {
      const bool phase0 = n == 0 && wsource_ == fft::KernelSpectra::kept;
      const dim_t in_tasks = (lanes ? cblocks : g_.C) * groups;
      const dim_t out_tasks = (lanes ? kblocks : g_.K) * groups;
      parallel_phases(
          {phase0 ? g_.K * Cg : 0, in_tasks, out_tasks}, threads,
          [&](int phase, std::int64_t task) {
            T* sl = slot(thread_index());
            T* wbuf = sl + acc_ * 2 * part;  // a kernel spectrum made where it is used
            T* work = wbuf + 2 * part;
            if (phase == 0) {  // kernel (k, c), c within k's group
              kernel_spectrum(args.b, task / Cg, task % Cg, lay.w + task * 2 * part, work);
              return;
            }
            const dim_t t0 = task % groups * group_;
            const dim_t nt = std::min(group_, tiles - t0);
            if (lanes && phase == 1) {  // (kRowLanes channels, tile)
              const dim_t c0 = task / groups * kRowLanes, nl = std::min(kRowLanes, g_.C - c0);
              input_spectra(args.a, n, c0, t0, 1, lay.x + (c0 * tiles + t0) * 2 * part, work, nl);
            } else if (lanes) {  // (kRowLanes output channels, tile)
              const dim_t k0 = task / groups * kRowLanes, nk = std::min(kRowLanes, g_.K - k0);
              for (dim_t j = 0; j < nk; ++j) {
                const dim_t k = k0 + j, grp = k / Kg;
                for (dim_t c = 0; c < Cg; ++c) {  // c ascending: one summation order
                  const T* w = wspec + (k * Cg + c) * 2 * part;
                  if (on_the_fly) {
                    kernel_spectrum(args.b, k, c, wbuf, work);
                    w = wbuf;
                  }
                  multiply(lay.x + ((grp * Cg + c) * tiles + t0) * 2 * part, w, c == 0,
                           sl + j * 2 * part);
                }
              }
              outputs(args, n, k0, t0, 1, sl, work, nk);
            } else if (phase == 1) {  // (channel, group of tiles)
              const dim_t ch = task / groups;
              input_spectra(args.a, n, ch, t0, nt, lay.x + (ch * tiles + t0) * 2 * part, work);
            } else {  // (output channel, group of tiles)
              const dim_t k = task / groups, grp = k / Kg;
              T* acc = sl;
              for (dim_t c = 0; c < Cg; ++c) {  // c ascending: one summation order
                const T* w = wspec + (k * Cg + c) * 2 * part;
                if (on_the_fly) {
                  kernel_spectrum(args.b, k, c, wbuf, work);
                  w = wbuf;
                }
                for (dim_t t = 0; t < nt; ++t)
                  multiply(lay.x + ((grp * Cg + c) * tiles + t0 + t) * 2 * part, w, c == 0,
                           acc + t * 2 * part);
              }
              outputs(args, n, k, t0, nt, acc, work);
            }
          });
    }
  }

 private:
  struct Layout {
    T* w = nullptr;      // kernel spectra, (k, c) in order
    T* x = nullptr;      // input spectra of one image, (channel, tile) in order
    T* slots = nullptr;  // per thread: slot_values_
  };

  // One sequence of take() for sizing and for the run (runtime/carve.h).
  Layout carve(Carve& c) const {
    Layout l;
    l.w = c.take<T>(static_cast<std::size_t>(w_values_));
    l.x = c.take<T>(static_cast<std::size_t>(x_values_));
    std::size_t all = 0;
    if (__builtin_mul_overflow(static_cast<std::size_t>(slots_),
                               static_cast<std::size_t>(slot_values_), &all))
      all = SIZE_MAX;
    l.slots = c.take<T>(all);
    return l;
  }

  // The buffers of the last axis, after the slot's spectra.
  struct Blocks {
    T *z_re, *z_im, *X_re, *X_im, *scratch;
  };
  Blocks blocks(T* work) const {
    const dim_t n = s_.bins - 1;
    Blocks b;
    b.z_re = work;
    b.z_im = b.z_re + n * kRowLanes;
    b.X_re = b.z_im + n * kRowLanes;
    b.X_im = b.X_re + s_.bins * kRowLanes;
    b.scratch = b.X_im + s_.bins * kRowLanes;
    return b;
  }

  // Spectra of `nt` tiles (2 parts each, consecutive from `spec`) from the rows that are not
  // all zero: fill(rows, nr, z_re, z_im, tmp) writes the samples of rows[q], q < nr, into lane q
  // of z (sample 2j in z_re, 2j + 1 in z_im, at j kRowLanes + q; z is zero on entry); tmp holds
  // 2 (bins - 1) kRowLanes values free for it. Every other row's spectrum is 0.
  template <class Fill>
  void forward(const std::vector<Row>& rows, dim_t nt, T* spec, T* work, Fill&& fill) const {
    const dim_t n = s_.bins - 1, part = s_.spectrum;
    std::fill(spec, spec + nt * 2 * part, T(0));
    const Blocks b = blocks(work);
    for (std::size_t i0 = 0; i0 < rows.size(); i0 += kRowLanes) {
      const dim_t nr = std::min<dim_t>(kRowLanes, static_cast<dim_t>(rows.size() - i0));
      std::fill(b.z_re, b.z_re + 2 * n * kRowLanes, T(0));  // z_re and z_im
      fill(rows.data() + i0, nr, b.z_re, b.z_im, b.scratch);
      last_.forward(b.z_re, b.z_im, kRowLanes, b.X_re, b.X_im, b.scratch);
      const Row* rs = rows.data() + i0;
      auto at = [&](dim_t q) { return rs[q].tile * 2 * part + rs[q].row * s_.pitch; };
      from_lanes(b.X_re, nr, at, spec);
      from_lanes(b.X_im, nr, at, spec + part);
    }
    for (dim_t t = 0; t < nt; ++t) leading(spec + t * 2 * part, work, false);
  }

  // Lanes on channels: the spectra of channels 0.. nl - 1 from `base` (channel stride 1), one
  // tile, whose rows (not all zero) are `rows` with last-axis offsets `lo`; channel q's
  // spectrum at spec + q tiles 2 spectrum. A sample position of a row is nl adjacent values.
  void forward_lanes(const std::vector<Row>& rows, const std::vector<dim_t>& lo, const T* base,
                     dim_t nl, T* spec, T* work) const {
    const dim_t n = s_.bins - 1, part = s_.spectrum, cstride = s_.tiles * 2 * part;
    const dim_t len = static_cast<dim_t>(lo.size());
    const std::size_t bytes = static_cast<std::size_t>(nl) * sizeof(T);
    for (dim_t q = 0; q < nl; ++q)
      std::fill(spec + q * cstride, spec + q * cstride + 2 * part, T(0));
    const Blocks b = blocks(work);
    for (const Row& r : rows) {
      std::fill(b.z_re, b.z_re + 2 * n * kRowLanes, T(0));  // z_re and z_im
      const T* src = base + r.src;
      // Even and odd positions in separate loops (see input_spectra).
      for (dim_t p = 0; p < len; p += 2)
        if (lo[p] != kNoSample) std::memcpy(b.z_re + p / 2 * kRowLanes, src + lo[p], bytes);
      for (dim_t p = 1; p < len; p += 2)
        if (lo[p] != kNoSample) std::memcpy(b.z_im + p / 2 * kRowLanes, src + lo[p], bytes);
      last_.forward(b.z_re, b.z_im, kRowLanes, b.X_re, b.X_im, b.scratch);
      auto at = [&](dim_t q) { return q * cstride + r.row * s_.pitch; };
      from_lanes(b.X_re, nl, at, spec);
      from_lanes(b.X_im, nl, at, spec + part);
    }
    for (dim_t q = 0; q < nl; ++q) leading(spec + q * cstride, work, false);
  }

  // base[at(q) + f] = lanes[f kRowLanes + q] for f < bins, q < nr. The rows of a block are
  // usually equally spaced (consecutive rows of a tile), so they leave the lanes through one
  // transpose (kernels/transpose.h: 4 x 4 blocks in registers), not bins x nr scalar copies.
  template <class At>
  void from_lanes(const T* lanes, dim_t nr, At&& at, T* base) const {
    const auto bins = static_cast<std::size_t>(s_.bins);
    const dim_t step = equal_step(nr, at);
    if (step != kNoSample) {
      kernels::transpose<T>(bins, static_cast<std::size_t>(nr), lanes, kRowLanes, base + at(0),
                            step);
      return;
    }
    for (dim_t q = 0; q < nr; ++q)
      kernels::transpose<T>(bins, 1, lanes + q, kRowLanes, base + at(q), 0);
  }

  // The converse: lanes[f kRowLanes + q] = base[at(q) + f]; lanes nr.. repeat lane nr - 1 (they
  // are transformed with the others, and a copy of real data keeps them finite and normal).
  template <class At>
  void to_lanes(const T* base, dim_t nr, At&& at, T* lanes) const {
    const auto bins = static_cast<std::size_t>(s_.bins);
    const dim_t step = equal_step(nr, at);
    if (step != kNoSample) {
      kernels::transpose<T>(static_cast<std::size_t>(nr), bins, base + at(0), step, lanes,
                            kRowLanes);
    } else {
      for (dim_t q = 0; q < nr; ++q)
        kernels::transpose<T>(1, bins, base + at(q), 0, lanes + q, kRowLanes);
    }
    for (dim_t f = 0; f < s_.bins; ++f)
      for (dim_t q = nr; q < kRowLanes; ++q)
        lanes[f * kRowLanes + q] = lanes[f * kRowLanes + nr - 1];
  }

  // The leading axes of a spectrum, each a batch of interleaved columns, in place.
  void leading(T* spec, T* scratch, bool inverse) const {
    const int d = g_.rank();
    T* re = spec;
    T* im = spec + s_.spectrum;
    for (int a = 0; a + 1 < d; ++a) {
      const dim_t len = s_.len[a], inner = spec_stride_[a];
      if (len == 1) continue;
      const dim_t outer = s_.spectrum / (len * inner);
      for (dim_t o = 0; o < outer; ++o)
        lead_[a].run(re + o * len * inner, im + o * len * inner, static_cast<std::size_t>(inner),
                     scratch, inverse);
    }
  }

  // acc (=, or += when !first) x conj(w), per frequency.
  void multiply(const T* x, const T* w, bool first, T* acc) const {
    const dim_t part = s_.spectrum;
    kernels::fft_mul_conj(static_cast<std::size_t>(part), x, x + part, w, w + part, acc,
                          acc + part, first);
  }

  dim_t tile_outputs(dim_t t) const {
    return std::min(s_.tile_out, g_.out[0] - t * s_.tile_out);
  }

  // Per axis, the offset (elements, by `strides[2 + a]`) of each padded position of tile t's
  // box, kNoSample for a zero: every padding mode through map_padded_index.
  std::vector<std::vector<dim_t>> box_offsets(const ConstTensorView& x, dim_t t) const {
    const int d = g_.rank();
    std::vector<std::vector<dim_t>> off(static_cast<std::size_t>(d));
    for (int a = 0; a < d; ++a) {
      const dim_t outs = a == 0 ? tile_outputs(t) : g_.out[a];
      const dim_t first = a == 0 ? t * s_.tile_out * g_.stride[0] : 0;
      const dim_t box = (outs - 1) * g_.stride[a] + (g_.kernel[a] - 1) * g_.dil[a] + 1;
      off[a].resize(static_cast<std::size_t>(box));
      for (dim_t p = 0; p < box; ++p) {
        const dim_t m = map_padded_index(first + p - g_.lo[a], g_.in[a], g_.mode);
        off[a][p] = m < 0 ? kNoSample : m * x.strides[2 + a];
      }
    }
    return off;
  }

  // Tiles t0.. t0 + nt - 1 of input channel `ch` of image n.
  // With lanes > 0 (lanes on channels), channels ch.. ch + lanes - 1 of tile t0 (nt = 1), their
  // spectra tiles 2 spectrum values apart.
  void input_spectra(const ConstTensorView& x, dim_t n, dim_t ch, dim_t t0, dim_t nt, T* spec,
                     T* work, dim_t lanes = 0) const {
    const T* base = static_cast<const T*>(x.data) + n * x.strides[0] + ch * x.strides[1];
    const int d = g_.rank();
    std::vector<Row> rows;
    std::vector<std::vector<dim_t>> last_off(static_cast<std::size_t>(nt));
    // Per tile, the positions [first, second) of the last axis inside the input (identity
    // under every padding mode: samples at (position - lo) times the axis stride).
    std::vector<std::pair<dim_t, dim_t>> inside(static_cast<std::size_t>(nt));
    for (dim_t t = 0; t < nt; ++t) {
      auto off = box_offsets(x, t0 + t);
      last_off[t] = std::move(off[d - 1]);
      const dim_t len = static_cast<dim_t>(last_off[t].size());
      const dim_t first = d == 1 ? (t0 + t) * s_.tile_out * g_.stride[0] : 0;
      const dim_t p0 = std::clamp<dim_t>(g_.lo[d - 1] - first, 0, len);
      inside[t] = {p0, std::clamp<dim_t>(g_.lo[d - 1] - first + g_.in[d - 1], p0, len)};
      // Rows of the box whose leading positions are all samples (the others are zero rows).
      std::vector<dim_t> ext(static_cast<std::size_t>(d - 1)), p(ext.size(), 0);
      for (int a = 0; a + 1 < d; ++a) ext[a] = static_cast<dim_t>(off[a].size());
      do {
        Row r{t, 0, 0};
        bool zero = false;
        for (int a = 0; a + 1 < d; ++a) {
          if (off[a][p[a]] == kNoSample) {
            zero = true;
            break;
          }
          r.src += off[a][p[a]];
          r.row += p[a] * row_stride_[a];
        }
        if (!zero) rows.push_back(r);
      } while (next_index(p, ext));
    }
    if (lanes > 0) {
      forward_lanes(rows, last_off[0], base, lanes, spec, work);
      return;
    }
    const bool unit = x.strides[1 + d] == 1;  // channels-first: rows are contiguous runs
    forward(rows, nt, spec, work, [&](const Row* rs, dim_t nr, T* z_re, T* z_im, T* tmp) {
      // Positions [p0, p1) inside the input for every row of the block: there the rows are
      // contiguous runs, which one transpose puts into the lanes (tmp[(p - p0) kRowLanes + q]);
      // the padded ends are gathered sample by sample below.
      dim_t p0 = 0, p1 = 0;
      if (unit) {
        p1 = std::numeric_limits<dim_t>::max();
        for (dim_t q = 0; q < nr; ++q) {
          p0 = std::max(p0, inside[rs[q].tile].first);
          p1 = std::min(p1, inside[rs[q].tile].second);
        }
      }
      if (p1 - p0 >= 4) {
        auto at = [&](dim_t q) { return rs[q].src + last_off[rs[q].tile][p0]; };
        const dim_t step = equal_step(nr, at);
        if (step != kNoSample) {
          kernels::transpose<T>(static_cast<std::size_t>(nr), static_cast<std::size_t>(p1 - p0),
                                base + at(0), step, tmp, kRowLanes);
          // Sample 2j to z_re, 2j + 1 to z_im (RealFft's packing), a row of lanes at a time.
          // Two loops: one storing through `(p % 2 ? z_im : z_re)[..]` made wild stores in
          // GCC 12's -O1 ASan/UBSan build while release and valgrind were clean.
          const std::size_t bytes = static_cast<std::size_t>(nr) * sizeof(T);
          for (dim_t p = p0 + p0 % 2; p < p1; p += 2)
            std::memcpy(z_re + p / 2 * kRowLanes, tmp + (p - p0) * kRowLanes, bytes);
          for (dim_t p = p0 + 1 - p0 % 2; p < p1; p += 2)
            std::memcpy(z_im + p / 2 * kRowLanes, tmp + (p - p0) * kRowLanes, bytes);
        } else {
          p0 = p1 = 0;
        }
      } else {
        p0 = p1 = 0;
      }
      // The rest (all of a row when the transpose did not apply), sample by sample; even and
      // odd positions in separate loops, as above.
      for (dim_t q = 0; q < nr; ++q) {
        const std::vector<dim_t>& lo = last_off[rs[q].tile];
        const T* src = base + rs[q].src;
        const dim_t len = static_cast<dim_t>(lo.size());
        for (auto [from, to] : {std::pair<dim_t, dim_t>{0, p0}, {p1, len}}) {
          for (dim_t p = from + from % 2; p < to; p += 2)
            if (lo[p] != kNoSample) z_re[p / 2 * kRowLanes + q] = src[lo[p]];
          for (dim_t p = from + 1 - from % 2; p < to; p += 2)
            if (lo[p] != kNoSample) z_im[p / 2 * kRowLanes + q] = src[lo[p]];
        }
      }
    });
  }

  // Kernel (k, c) with tap t at t * dil, zero elsewhere.
  void kernel_spectrum(const ConstTensorView& w, dim_t k, dim_t c, T* spec, T* work) const {
    const T* base = static_cast<const T*>(w.data) + k * w.strides[0] + c * w.strides[1];
    const int d = g_.rank();
    std::vector<Row> rows;
    std::vector<dim_t> ext(g_.kernel.begin(), g_.kernel.end() - 1), t(ext.size(), 0);
    do {
      Row r{0, 0, 0};
      for (int a = 0; a + 1 < d; ++a) {
        r.src += t[a] * w.strides[2 + a];
        r.row += t[a] * g_.dil[a] * row_stride_[a];
      }
      rows.push_back(r);
    } while (next_index(t, ext));
    const dim_t taps = g_.kernel[d - 1], dil = g_.dil[d - 1], step = w.strides[1 + d];
    forward(rows, 1, spec, work, [&](const Row* rs, dim_t nr, T* z_re, T* z_im, T*) {
      for (dim_t q = 0; q < nr; ++q)
        for (dim_t i = 0; i < taps; ++i) {
          const dim_t at = i * dil;
          T* z = at % 2 == 0 ? z_re : z_im;
          z[at / 2 * kRowLanes + q] = base[rs[q].src + i * step];
        }
    });
  }

  // Spectra `acc` (nt tiles from t0, destroyed) back to the outputs of output channel k. With
  // lanes > 0 (lanes on channels; nt = 1), output channels k.. k + lanes - 1 of tile t0, their
  // spectra consecutive in acc.
  void outputs(const OpArgs& args, dim_t n, dim_t k, dim_t t0, dim_t nt, T* acc, T* work,
               dim_t lanes = 0) const {
    const dim_t part = s_.spectrum;
    const int d = g_.rank();
    const TensorView& y = args.out;
    T* ybase = static_cast<T*>(y.data) + n * y.strides[0] + k * y.strides[1];
    // The rows outputs read (index o_a stride_a along each leading axis), per tile.
    std::vector<Row> rows;
    for (dim_t t = 0; t < nt; ++t) {
      leading(acc + t * 2 * part, work, true);
      std::vector<dim_t> outs(g_.out.begin(), g_.out.end() - 1), o(outs.size(), 0);
      const dim_t first = (t0 + t) * s_.tile_out;
      if (d > 1) outs[0] = tile_outputs(t0 + t);
      do {
        Row r{t, 0, 0};
        for (int a = 0; a + 1 < d; ++a) {
          r.row += o[a] * g_.stride[a] * row_stride_[a];
          r.src += (o[a] + (a == 0 ? first : 0)) * y.strides[2 + a];
        }
        if (d == 1) r.src = first * y.strides[2];
        rows.push_back(r);
      } while (next_index(o, outs));
    }
    const double scale = 1.0 / s_.total;
    if (lanes > 0) {
      outputs_lanes(args, rows, ybase, k, t0, lanes, acc, work);
      return;
    }
    const double bias = args.bias ? static_cast<double>(static_cast<const T*>(
                                        args.bias->data)[k * args.bias->strides[0]])
                                  : 0.0;
    const dim_t st = g_.stride[d - 1], ystep = y.strides[1 + d];
    const Blocks b = blocks(work);
    for (std::size_t i0 = 0; i0 < rows.size(); i0 += kRowLanes) {
      const dim_t nr = std::min<dim_t>(kRowLanes, static_cast<dim_t>(rows.size() - i0));
      const Row* rs = rows.data() + i0;
      auto at = [&](dim_t q) { return rs[q].tile * 2 * part + rs[q].row * s_.pitch; };
      to_lanes(acc, nr, at, b.X_re);
      to_lanes(acc + part, nr, at, b.X_im);
      last_.inverse(b.X_re, b.X_im, kRowLanes, b.z_re, b.z_im, b.scratch);
      auto outs_of = [&](dim_t q) {
        return d == 1 ? tile_outputs(t0 + rs[q].tile) : g_.out[d - 1];
      };
      // Unit stride along the last axis of both the transform and y (channels-first), and
      // rows of as many outputs, equally spaced in y: the lanes, scaled, go out through one
      // transpose. tmp (the inverse's scratch, free now) holds outs kRowLanes <= L kRowLanes.
      const dim_t outs0 = outs_of(0);
      bool fast = st == 1 && ystep == 1;
      for (dim_t q = 1; q < nr && fast; ++q) fast = outs_of(q) == outs0;
      const dim_t ystep_rows = fast ? equal_step(nr, [&](dim_t q) { return rs[q].src; }) : 0;
      if (fast && ystep_rows != kNoSample) {
        T* tmp = b.scratch;
        // Output o is sample o of the lanes: z_re row o / 2 for even o, z_im for odd o.
        for (dim_t o = 0; o < outs0; o += 2)
          for (dim_t q = 0; q < kRowLanes; ++q)
            tmp[o * kRowLanes + q] =
                static_cast<T>(static_cast<double>(b.z_re[o / 2 * kRowLanes + q]) * scale + bias);
        for (dim_t o = 1; o < outs0; o += 2)
          for (dim_t q = 0; q < kRowLanes; ++q)
            tmp[o * kRowLanes + q] =
                static_cast<T>(static_cast<double>(b.z_im[o / 2 * kRowLanes + q]) * scale + bias);
        kernels::transpose<T>(static_cast<std::size_t>(outs0), static_cast<std::size_t>(nr), tmp,
                              kRowLanes, ybase + rs[0].src, ystep_rows);
        continue;
      }
      for (dim_t q = 0; q < nr; ++q) {
        const dim_t outs = outs_of(q);
        T* dst = ybase + rs[q].src;
        for (dim_t o = 0; o < outs; ++o) {
          const dim_t at = o * st;
          const T* z = at % 2 == 0 ? b.z_re : b.z_im;
          const T v = z[at / 2 * kRowLanes + q];
          dst[o * ystep] = static_cast<T>(static_cast<double>(v) * scale + bias);
        }
      }
    }
  }

  // Lanes on channels: output channels k0.. k0 + nk - 1 of tile t (their spectra consecutive in
  // acc; the first already through leading() in outputs), `rows` the rows outputs read. An
  // output position is nk adjacent values of y.
  void outputs_lanes(const OpArgs& args, const std::vector<Row>& rows, T* ybase, dim_t k0, dim_t t,
                     dim_t nk, T* acc, T* work) const {
    const dim_t part = s_.spectrum;
    const int d = g_.rank();
    for (dim_t j = 1; j < nk; ++j) leading(acc + j * 2 * part, work, true);
    const double scale = 1.0 / s_.total;
    double bias[kRowLanes] = {};
    if (args.bias)
      for (dim_t j = 0; j < nk; ++j)
        bias[j] = static_cast<double>(
            static_cast<const T*>(args.bias->data)[(k0 + j) * args.bias->strides[0]]);
    const dim_t st = g_.stride[d - 1], ystep = args.out.strides[1 + d];
    const dim_t outs = d == 1 ? tile_outputs(t) : g_.out[d - 1];
    const Blocks b = blocks(work);
    for (const Row& r : rows) {
      auto at = [&](dim_t j) { return j * 2 * part + r.row * s_.pitch; };
      to_lanes(acc, nk, at, b.X_re);
      to_lanes(acc + part, nk, at, b.X_im);
      last_.inverse(b.X_re, b.X_im, kRowLanes, b.z_re, b.z_im, b.scratch);
      T* dst = ybase + r.src;
      for (dim_t o = 0; o < outs; ++o) {
        const dim_t p = o * st;
        const T* z = (p % 2 == 0 ? b.z_re : b.z_im) + p / 2 * kRowLanes;
        T* out = dst + o * ystep;
        for (dim_t j = 0; j < nk; ++j)
          out[j] = static_cast<T>(static_cast<double>(z[j]) * scale + bias[j]);
      }
    }
  }

  Geometry g_;
  fft::Shape s_;
  int slots_;
  dim_t group_;  // tiles per task
  bool lanes_;   // lanes_on_channels(g_): sized for it, used when the views allow
  dim_t acc_;    // accumulated spectra per slot
  fft::KernelSpectra wsource_;
  std::size_t w_cached_bytes_ = 0;
  PackedWeightsCache w_cache_;
  fft::RealFft<T> last_;
  std::vector<fft::BatchFft<T>> lead_;
  std::vector<dim_t> row_stride_, spec_stride_;
  dim_t w_values_ = 0, x_values_ = 0, slot_values_ = 0;
  std::size_t workspace_bytes_ = 0;
};

class FftAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "fft"; }

  std::string reject(const Geometry& g, Op op) const override {
    // The backward passes are served by rewriting them as forward problems, which then choose
    // this algorithm like any other forward one (composed.cc).
    if (op != Op::fwd)
      return "computes the forward pass; backward-data, backward-weights and transposed "
             "convolution reach it as forward sub-problems (bwd_data_phases, "
             "bwd_weights_as_fwd)";
    if (g.dtype != DType::f32 && g.dtype != DType::f64) return "float32 and float64 only";
    if (!fft::axes_fit(g))
      return rule("an axis longer than ", fft::kMaxAxisLength, " padded samples");
    const fft::Shape s = fft::shape_for(g);
    const std::size_t elem = g.dtype == DType::f32 ? 4 : 8;
    const std::size_t bytes = workspace_estimate(g, s, elem, thread_slots());
    if (bytes > kMaxWorkspaceBytes)
      return rule("the spectra need ", bytes, " bytes (more than ", kMaxWorkspaceBytes, ")");
    return {};
  }

  std::string pays(const Geometry& g, Op op) const override { return fft_pays(g, op); }

  // A transform of length L in precision u has error about u log2(L) (relative, in the 2-norm);
  // three transforms and the channel sum give, for each output,
  //   |y - exact| <= c u log2(L) sum_c ||x_c||_2 ||w_kc||_2
  // and ||x_c||_2 ||w_kc||_2 <= sqrt(R k) max|x| max|w| while max (sum of |products|) >=
  // max|x| max|w| when the largest sample meets the largest tap. Hence the (loose) bound
  // 4 u log2(L) sqrt(R k) Cg, with R = prod R_d of a tile and k = prod k_d.
  double error_bound(const Geometry& g, Op) const override {
    const double u = g.dtype == DType::f32 ? 0x1p-24 : 0x1p-53;
    const fft::Shape s = fft::shape_for(g);
    double r = 1, k = 1;
    for (dim_t v : s.reach) r *= static_cast<double>(v);
    for (dim_t v : g.kernel) k *= static_cast<double>(v);
    return 4.0 * u * std::max(1.0, std::log2(s.total)) * std::sqrt(r * k) *
           static_cast<double>(g.Cg());
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<FftExecutor>(g);
  }
};

}  // namespace

const Algorithm& fft_algorithm() {
  static const FftAlgorithm algo;
  return algo;
}

}  // namespace convnd::detail
