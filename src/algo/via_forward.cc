// # Backward passes as forward convolutions
//
// Both gradients of a convolution are themselves convolutions; with views of arbitrary strides
// (negative ones included) they need no copies, only different index maps over the same memory.
//
// bwd_data (dil = 1 or stride = 1 per axis): along an axis with stride s, the input
// positions i with (i + lo) = r (mod s) receive only the kernel taps t = r (mod s). Each such
// *phase* r is a dense stride-1 correlation of dy with the sub-sampled, reversed kernel
//     w_r[u] = w[r + s*(M_r - 1 - u)],  M_r = ceil((k - r) / s),
// writing every s-th element of dx. Over d axes that is prod(s) forward problems, none of which
// multiplies by an inserted zero (a "zero-insertion" transposed conv wastes (s^d - 1)/s^d of its
// multiplies). The weight view swaps the channel axes (w_r is (C/groups, K/groups, M..)) and runs
// the taps backwards with a negative stride; groups become separate sub-problems because the
// swapped channel axis is not affine in the channel index across groups. With a padding mode
// other than zeros, the gradient is first computed for the padded input (extent
// (O-1)*s + dil*(k-1) + 1 from coordinate -lo, zero padding) into the workspace, then folded
// back: each padded position adds into the input sample the mode maps it to, in a fixed order.
//
// bwd_weights (every padding mode): dw[k, c, t] = sum_{n, o} x[n, c, map(o*s - lo + t*dil)]
// dy[n, k, o] is a forward convolution whose batch is C, whose channels are N, whose kernel is dy
// (extents O) and whose output extents are the kernel extents k, with stride dil and dilation s.
//
// The sub-problems run on the best forward algorithm that accepts them. When that is only the
// reference (no fast forward path for them), these algorithms reject the problem, so the
// reference runs the pass directly; CONVND_COMPOSE_WITH_REFERENCE=1 lifts that, which the tests
// use to check the decomposition itself on the reference.
#include "algo/via_forward.h"

#include <cstdlib>
#include <vector>

#include "algo/layout_copy.h"
#include "api/checked.h"
#include "dispatch/registry.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxPhases = 256;

bool compose_with_reference() {
  const char* env = std::getenv("CONVND_COMPOSE_WITH_REFERENCE");
  return env && env[0] == '1';
}

// A view shifted by `offset_elems` with a new shape and strides.
ConstTensorView reshape(const ConstTensorView& v, dim_t offset_elems, std::vector<dim_t> shape,
                        std::vector<dim_t> strides) {
  const auto* base = static_cast<const char*>(v.data);
  return ConstTensorView(base + offset_elems * static_cast<dim_t>(dtype_size(v.dtype)), v.dtype,
                         std::move(shape), std::move(strides));
}

TensorView reshape(const TensorView& v, dim_t offset_elems, std::vector<dim_t> shape,
                   std::vector<dim_t> strides) {
  auto* base = static_cast<char*>(v.data);
  return TensorView(base + offset_elems * static_cast<dim_t>(dtype_size(v.dtype)), v.dtype,
                    std::move(shape), std::move(strides));
}

// ---------------------------------------------------------------------------------------------
// bwd_data by stride phases.

// One axis of one phase.
struct AxisPhase {
  dim_t r = 0;      // the phase: taps t = r (mod s)
  dim_t taps = 0;   // M_r
  dim_t i0 = 0;     // first dx position of the phase
  dim_t count = 0;  // dx positions of the phase: i0, i0 + s, ...
  dim_t start = 0;  // dy position read by output 0 and reversed tap 0 (may be negative)
};

// Sums that degenerate paddings and extents (near 2^63) can overflow are computed with `f`.
std::vector<AxisPhase> axis_phases(const Geometry& g, int a, Fits& f) {
  const dim_t s = g.stride[a], k = g.kernel[a], lo = g.lo[a], S = g.in[a], dil = g.dil[a];
  std::vector<AxisPhase> out;
  for (dim_t r = 0; r < s; ++r) {
    AxisPhase p;
    p.r = r;
    p.taps = r < k ? (k - r - 1) / s + 1 : 0;  // ceil((k - r) / s), without k - r + s overflowing
    p.i0 = ((r - lo) % s + s) % s;
    p.count = p.i0 < S ? (S - 1 - p.i0) / s + 1 : 0;
    const dim_t q0 = f.sub(f.add(p.i0, lo), r) / s;  // exact: (i0 + lo - r) = 0 (mod s), >= 0
    p.start = f.sub(q0, f.mul(dil, p.taps - 1));     // s > 1 implies dil == 1
    out.push_back(p);
  }
  return out;
}

// One phase over all axes: the forward geometry, and where its views start.
struct Phase {
  Geometry sub;
  bool empty = false;  // no tap or no dy sample reaches it: its dx elements are 0 (+ bias)
  std::vector<AxisPhase> axes;
  std::vector<dim_t> dy_skip;  // leading dy elements cropped per axis (when start > 0)
};

bool keeps_groups(const Geometry& g) { return g.Cg() == 1; }

// The phases of g; `f` turns false when some sub-problem size does not fit in int64 (the phases
// are then not to be used: reject() refuses such a problem).
std::vector<Phase> make_phases(const Geometry& g, Fits& f) {
  const int d = g.rank();
  std::vector<std::vector<AxisPhase>> per_axis;
  for (int a = 0; a < d; ++a) per_axis.push_back(axis_phases(g, a, f));
  std::vector<Phase> phases;
  std::vector<std::size_t> idx(d, 0);
  for (;;) {
    Phase ph;
    ph.sub.N = g.N;
    // With one input channel per group the swapped weight view stays affine across groups (its
    // channel c is w's group c), so one sub-problem covers every group: a depthwise backward
    // pass is again depthwise. Otherwise each group is its own sub-problem.
    const bool whole = keeps_groups(g);
    ph.sub.C = whole ? g.K : g.Kg();
    ph.sub.K = whole ? g.C : g.Cg();
    ph.sub.groups = whole ? g.groups : 1;
    ph.sub.mode = PadMode::zeros;
    ph.sub.dtype = g.dtype;
    ph.sub.precision = g.precision;
    ph.sub.layout = g.layout;
    bool skip = false;
    for (int a = 0; a < d; ++a) {
      const AxisPhase& p = per_axis[a][idx[a]];
      ph.axes.push_back(p);
      if (p.count == 0) skip = true;  // no dx element in this phase at all
      const dim_t dil = g.stride[a] == 1 ? g.dil[a] : 1;
      const dim_t lo = p.start < 0 ? f.sub(0, p.start) : 0;
      const dim_t skip_elems = p.start > 0 ? p.start : 0;
      const dim_t in = g.out[a] - skip_elems;
      if (p.taps == 0 || in <= 0) ph.empty = true;
      ph.dy_skip.push_back(skip_elems);
      ph.sub.in.push_back(in);
      ph.sub.out.push_back(p.count);
      ph.sub.kernel.push_back(p.taps);
      ph.sub.stride.push_back(1);
      ph.sub.dil.push_back(dil);
      ph.sub.lo.push_back(lo);
      // Checked: with extents and paddings near 2^62 this sum overflowed (found by fuzz_spec).
      const dim_t reach = f.add(f.add(p.count - 1, f.mul(dil, p.taps - 1)), 1);
      ph.sub.hi.push_back(std::max<dim_t>(0, f.sub(f.sub(reach, lo), in)));
    }
    if (!skip) phases.push_back(std::move(ph));
    int a = d - 1;
    while (a >= 0 && ++idx[a] == per_axis[a].size()) idx[a--] = 0;
    if (a < 0) break;
  }
  return phases;
}

template <class T>
void fill_phase(const TensorView& out, const std::optional<ConstTensorView>& bias) {
  // out: (N, Cg, count..) strided; every element gets bias[c] or 0.
  T* base = static_cast<T*>(out.data);
  const int nd = static_cast<int>(out.shape.size());
  std::vector<dim_t> idx(nd, 0);
  dim_t total = 1;
  for (dim_t e : out.shape) total *= e;
  for (dim_t i = 0; i < total; ++i) {
    dim_t off = 0;
    for (int a = 0; a < nd; ++a) off += idx[a] * out.strides[a];
    base[off] = bias ? static_cast<const T*>(bias->data)[idx[1] * bias->strides[0]] : T(0);
    for (int a = nd - 1; a >= 0 && ++idx[a] == out.shape[a]; --a) idx[a] = 0;
  }
}

class PhasesExecutor final : public Executor {
 public:
  PhasesExecutor(const Geometry& g, std::vector<Phase> phases,
                 std::vector<std::unique_ptr<Executor>> subs)
      : g_(g), phases_(std::move(phases)), subs_(std::move(subs)) {}

  std::size_t workspace_bytes() const override {
    std::size_t w = 0;
    for (const auto& e : subs_)
      if (e) w = std::max(w, e->workspace_bytes());
    return w;
  }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    const int d = g_.rank();
    const auto &dys = args.a.strides, &ws = args.b.strides, &dxs = args.out.strides;
    const bool whole = keeps_groups(g_);
    const dim_t parts = whole ? 1 : g_.groups;
    const dim_t c_count = whole ? g_.C : g_.Cg(), k_count = whole ? g_.K : g_.Kg();
    for (dim_t grp = 0; grp < parts; ++grp)
      for (std::size_t p = 0; p < phases_.size(); ++p) {
        const Phase& ph = phases_[p];
        // dx elements of this phase: (N, channels, count..), every s-th element from i0.
        std::vector<dim_t> o_shape{g_.N, c_count}, o_strides{dxs[0], dxs[1]};
        dim_t o_off = grp * g_.Cg() * dxs[1];
        for (int a = 0; a < d; ++a) {
          o_shape.push_back(ph.axes[a].count);
          o_strides.push_back(g_.stride[a] * dxs[2 + a]);
          o_off += ph.axes[a].i0 * dxs[2 + a];
        }
        OpArgs sub;
        sub.out = reshape(args.out, o_off, o_shape, o_strides);
        if (args.bias)
          sub.bias = reshape(*args.bias, grp * g_.Cg() * args.bias->strides[0], {c_count},
                             {args.bias->strides[0]});
        if (ph.empty) {
          if (g_.dtype == DType::f32)
            fill_phase<float>(sub.out, sub.bias);
          else
            fill_phase<double>(sub.out, sub.bias);
          continue;
        }
        // dy cropped to what the phase reads: (N, channels, in'..).
        std::vector<dim_t> a_shape{g_.N, k_count}, a_strides{dys[0], dys[1]};
        dim_t a_off = grp * g_.Kg() * dys[1];
        // w_r as (C, Kg, M..) or per group (Cg, Kg, M..): channel axes swapped, taps reversed
        // and sub-sampled. For whole groups, channel c of w_r is w's output channels c*Kg + k.
        std::vector<dim_t> b_shape{c_count, g_.Kg()};
        std::vector<dim_t> b_strides{whole ? g_.Kg() * ws[0] : ws[1], ws[0]};
        dim_t b_off = grp * g_.Kg() * ws[0];
        for (int a = 0; a < d; ++a) {
          a_shape.push_back(ph.sub.in[a]);
          a_strides.push_back(dys[2 + a]);
          a_off += ph.dy_skip[a] * dys[2 + a];
          const dim_t step = g_.stride[a] == 1 ? 1 : g_.stride[a];
          b_shape.push_back(ph.axes[a].taps);
          b_strides.push_back(-step * ws[2 + a]);
          b_off += (ph.axes[a].r + step * (ph.axes[a].taps - 1)) * ws[2 + a];
        }
        sub.a = reshape(args.a, a_off, a_shape, a_strides);
        sub.b = reshape(args.b, b_off, b_shape, b_strides);
        subs_[p]->run(sub, workspace, threads);
      }
  }

 private:
  Geometry g_;
  std::vector<Phase> phases_;
  std::vector<std::unique_ptr<Executor>> subs_;
};

// The padded-domain geometry of a non-zeros-mode bwd_data: every position the taps touch, with
// zero padding.
Geometry padded_geometry(const Geometry& g, Fits& f) {
  Geometry p = g;
  p.mode = PadMode::zeros;
  for (int a = 0; a < g.rank(); ++a) {
    p.in[a] = f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.dil[a], g.kernel[a] - 1)), 1);
    p.lo[a] = 0;
    p.hi[a] = 0;
  }
  return p;
}

// The plain forms, for the executors: they are made only for problems that reject() accepted,
// so an overflow here is a bug of reject(), reported as an Error instead of run on wrapped sizes.
Geometry padded_geometry(const Geometry& g) {
  Fits f;
  Geometry p = padded_geometry(g, f);
  if (!f) throw_overflow("padding");
  return p;
}

std::vector<Phase> make_phases(const Geometry& g) {
  Fits f;
  std::vector<Phase> phases = make_phases(g, f);
  if (!f) throw_overflow("stride");
  return phases;
}

// Elements of the padded gradient (N, C, padded extents..) that the folding executor keeps in
// its workspace; saturated (and `f` false) when that does not fit in int64.
dim_t padded_elems(const Geometry& g, const Geometry& pg, Fits& f) {
  return f.mul(f.mul(g.N, g.C), f.product(pg.in));
}

template <class T>
void fold_padded(const Geometry& g, const Geometry& pg, const T* padded, const TensorView& dx,
                 const std::optional<ConstTensorView>& bias) {
  const int d = g.rank();
  dim_t plane = 1;
  for (dim_t e : pg.in) plane *= e;
  T* out = static_cast<T*>(dx.data);
  const auto& xs = dx.strides;
  std::vector<dim_t> i(d);
  for (dim_t n = 0; n < g.N; ++n)
    for (dim_t c = 0; c < g.C; ++c) {
      const dim_t base = n * xs[0] + c * xs[1];
      // dx = bias (or 0), then every padded position adds into the sample it maps to.
      const T init = bias ? static_cast<const T*>(bias->data)[c * bias->strides[0]] : T(0);
      std::fill(i.begin(), i.end(), 0);
      for (bool more = true; more;) {
        dim_t off = base;
        for (int a = 0; a < d; ++a) off += i[a] * xs[2 + a];
        out[off] = init;
        more = false;
        for (int a = d - 1; a >= 0; --a) {
          if (++i[a] < g.in[a]) { more = true; break; }
          i[a] = 0;
        }
      }
      const T* src = padded + (n * g.C + c) * plane;
      std::fill(i.begin(), i.end(), 0);
      for (dim_t p = 0; p < plane; ++p) {
        dim_t off = base;
        bool zero = false;
        for (int a = 0; a < d; ++a) {
          const dim_t m = map_padded_index(i[a] - g.lo[a], g.in[a], g.mode);
          if (m < 0) zero = true;
          off += m * xs[2 + a];
        }
        if (!zero) out[off] += src[p];
        for (int a = d - 1; a >= 0 && ++i[a] == pg.in[a]; --a) i[a] = 0;
      }
    }
}

class FoldingExecutor final : public Executor {
 public:
  FoldingExecutor(const Geometry& g, std::unique_ptr<Executor> padded)
      : g_(g), pg_(padded_geometry(g)), padded_(std::move(padded)) {
    // Checked: a wrapped size here under-allocates the workspace (found by fuzz_spec: 4328521728
    // * 737354031824903). reject() already refuses such problems.
    Fits f;
    elems_ = f.mul(padded_elems(g, pg_, f), static_cast<dim_t>(dtype_size(g.dtype))) /
             static_cast<dim_t>(dtype_size(g.dtype));
    if (!f) throw_overflow("workspace");
    workspace_bytes_ = checked_size_add(checked_bytes64(elems_, dtype_size(g.dtype), "workspace"),
                                        padded_->workspace_bytes(), "workspace");
  }
  std::size_t workspace_bytes() const override { return workspace_bytes_; }
  void run(const OpArgs& args, void* workspace, int threads) const override {
    auto* buf = static_cast<char*>(workspace);
    const std::size_t bytes = align(static_cast<std::size_t>(elems_) * dtype_size(g_.dtype));
    // The padded gradient, contiguous (N, C, padded extents..).
    std::vector<dim_t> shape{g_.N, g_.C}, strides(2 + g_.rank());
    shape.insert(shape.end(), pg_.in.begin(), pg_.in.end());
    strides.back() = 1;
    for (int a = static_cast<int>(shape.size()) - 2; a >= 0; --a) strides[a] = strides[a + 1] * shape[a + 1];
    OpArgs sub = args;
    sub.bias.reset();
    sub.out = TensorView(buf, g_.dtype, shape, strides);
    padded_->run(sub, buf + bytes, threads);
    if (g_.dtype == DType::f32)
      fold_padded<float>(g_, pg_, reinterpret_cast<const float*>(buf), args.out, args.bias);
    else
      fold_padded<double>(g_, pg_, reinterpret_cast<const double*>(buf), args.out, args.bias);
  }

 private:
  static std::size_t align(std::size_t b) { return (b + 63) / 64 * 64; }
  Geometry g_, pg_;
  std::unique_ptr<Executor> padded_;
  dim_t elems_ = 0;
  std::size_t workspace_bytes_ = 0;
};

// The best forward algorithm for a sub-problem, or null with `why` set. Only asks reject():
// planning must stay cheap, so executors are made once, by make_executor.
const Algorithm* forward_algorithm(const Geometry& sub, std::string& why) {
  for (const Algorithm* a : candidates(Op::fwd)) {
    if (!a->reject(sub, Op::fwd).empty() || !a->pays(sub, Op::fwd).empty()) continue;
    if (std::string(a->name()) == "reference" && !compose_with_reference()) {
      why = "no fast forward algorithm accepts the sub-problem";
      return nullptr;
    }
    return a;
  }
  why = "no forward algorithm accepts the sub-problem";
  return nullptr;
}

std::unique_ptr<Executor> forward_executor(const Geometry& sub) {
  std::string why;
  const Algorithm* a = forward_algorithm(sub, why);
  return a ? a->make_executor(sub, Op::fwd) : nullptr;
}

class BwdDataPhases final : public Algorithm {
 public:
  const char* name() const override { return "bwd_data_phases"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_data) return "only the backward-data pass";
    dim_t phases = 1;
    for (int a = 0; a < g.rank(); ++a) {
      if (g.stride[a] > 1 && g.dil[a] > 1) return "stride and dilation both > 1 on one axis";
      // Bounds the plan's size: one sub-problem per phase (strides this large are degenerate).
      phases *= std::min<dim_t>(g.stride[a], kMaxPhases + 1);
      if (phases > kMaxPhases) return "more than 256 stride phases";
    }
    Fits f;
    const Geometry zg = g.mode == PadMode::zeros ? g : padded_geometry(g, f);
    // The folding executor's padded gradient must have a size in bytes.
    if (g.mode != PadMode::zeros)
      f.mul(padded_elems(g, zg, f), static_cast<dim_t>(dtype_size(g.dtype)));
    const std::vector<Phase> subs = make_phases(zg, f);
    if (!f) return "a sub-problem or workspace size overflows int64";
    std::string why;
    for (const Phase& ph : subs)
      if (!ph.empty && !forward_algorithm(ph.sub, why)) return why;
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    if (g.mode != PadMode::zeros)
      return std::make_unique<FoldingExecutor>(g, zeros_executor(padded_geometry(g)));
    return zeros_executor(g);
  }

  // The largest bound of the forward algorithms that run the phases.
  double error_bound(const Geometry& g, Op) const override {
    std::string why;
    double bound = 0;
    const Geometry zg = g.mode == PadMode::zeros ? g : padded_geometry(g);
    for (const Phase& ph : make_phases(zg))
      if (!ph.empty)
        if (const Algorithm* a = forward_algorithm(ph.sub, why))
          bound = std::max(bound, a->error_bound(ph.sub, Op::fwd));
    return bound;
  }

 private:
  static std::unique_ptr<Executor> zeros_executor(const Geometry& g) {
    std::vector<Phase> phases = make_phases(g);
    std::vector<std::unique_ptr<Executor>> subs;
    for (const Phase& ph : phases) subs.push_back(ph.empty ? nullptr : forward_executor(ph.sub));
    return std::make_unique<PhasesExecutor>(g, std::move(phases), std::move(subs));
  }
};

// ---------------------------------------------------------------------------------------------
// bwd_weights as a forward convolution.

Geometry weights_geometry(const Geometry& g, Fits& f) {
  Geometry s;
  s.N = g.Cg();
  s.C = g.N;
  s.K = g.Kg();
  s.groups = 1;
  s.in = g.in;
  s.kernel = g.out;
  s.out = g.kernel;
  s.stride = g.dil;
  s.dil = g.stride;
  s.lo = g.lo;
  for (int a = 0; a < g.rank(); ++a) {
    const dim_t reach = f.add(f.add(f.mul(g.dil[a], g.kernel[a] - 1),
                                    f.mul(g.stride[a], g.out[a] - 1)), 1);
    s.hi.push_back(std::max<dim_t>(0, f.sub(f.sub(reach, g.in[a]), g.lo[a])));
  }
  s.mode = g.mode;
  s.dtype = g.dtype;
  s.precision = g.precision;
  s.layout = g.layout;
  return s;
}

class WeightsExecutor final : public Executor {
 public:
  WeightsExecutor(const Geometry& g, std::unique_ptr<Executor> sub) : g_(g), sub_(std::move(sub)) {
    // A channels-first x is first copied channels-last: the sub-problem's images are then x's
    // channels, adjacent in memory, and its GEMM reads them in place (image-fastest rows of
    // implicit_gemm) instead of gathering one sample at a time; dy likewise, so that packing it
    // reads K contiguously. Costs one copy of each, and pays only when a tile's worth of
    // channels per group exists and the output is large (the gather's tables grow with it):
    // docs/measurements.md has the layers where the copies win and lose.
    dim_t positions = 1;
    for (dim_t o : g.out) positions *= o;
    if (g.Cg() >= 12 && positions >= 4096) {
      x_bytes_ = dense_bytes(g.N * g.C, g.in, g.dtype);
      dy_bytes_ = dense_bytes(g.N * g.K, g.out, g.dtype);
      copy_bytes_ = x_bytes_ + dy_bytes_;
    }
  }
  std::size_t workspace_bytes() const override { return copy_bytes_ + sub_->workspace_bytes(); }

  void run(const OpArgs& args, void* workspace, int threads) const override {
    auto* ws = static_cast<char*>(workspace);
    // dy goes channels-last too: the sub-problem packs it as its weights, K innermost.
    const ConstTensorView x = copy_bytes_ > 0 ? channels_last(args.a, ws, threads) : args.a;
    const ConstTensorView dy =
        copy_bytes_ > 0 ? channels_last(args.b, ws + x_bytes_, threads) : args.b;
    void* sub_ws = static_cast<char*>(workspace) + copy_bytes_;
    const auto &xs = x.strides, &dys = dy.strides, &dws = args.out.strides;
    for (dim_t grp = 0; grp < g_.groups; ++grp) {
      std::vector<dim_t> xa{g_.Cg(), g_.N}, xst{xs[1], xs[0]};
      std::vector<dim_t> ya{g_.Kg(), g_.N}, yst{dys[1], dys[0]};
      std::vector<dim_t> oa{g_.Cg(), g_.Kg()}, ost{dws[1], dws[0]};
      for (int a = 0; a < g_.rank(); ++a) {
        xa.push_back(g_.in[a]);
        xst.push_back(xs[2 + a]);
        ya.push_back(g_.out[a]);
        yst.push_back(dys[2 + a]);
        oa.push_back(g_.kernel[a]);
        ost.push_back(dws[2 + a]);
      }
      OpArgs sub;
      sub.a = reshape(x, grp * g_.Cg() * xs[1], xa, xst);
      sub.b = reshape(dy, grp * g_.Kg() * dys[1], ya, yst);
      sub.out = reshape(args.out, grp * g_.Kg() * dws[0], oa, ost);
      sub_->run(sub, sub_ws, threads);
    }
  }

 private:
  static std::size_t dense_bytes(dim_t lead, const std::vector<dim_t>& spatial, DType t) {
    for (dim_t e : spatial) lead *= e;
    return (static_cast<std::size_t>(lead) * dtype_size(t) + 63) / 64 * 64;
  }

  // v itself when its channels are already contiguous, else a dense channels-last copy in `buf`.
  ConstTensorView channels_last(const ConstTensorView& v, void* buf, int threads) const {
    if (g_.dtype == DType::f32) return channels_last_view(v, static_cast<float*>(buf), threads);
    return channels_last_view(v, static_cast<double*>(buf), threads);
  }

  Geometry g_;
  std::unique_ptr<Executor> sub_;
  std::size_t x_bytes_ = 0, dy_bytes_ = 0, copy_bytes_ = 0;
};

class BwdWeightsAsFwd final : public Algorithm {
 public:
  const char* name() const override { return "bwd_weights_as_fwd"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_weights) return "only the backward-weights pass";
    if (g.N == 0) return "empty batch";
    Fits f;
    const Geometry sub = weights_geometry(g, f);
    if (!f) return "the sub-problem's padding overflows int64";
    std::string why;
    if (!forward_algorithm(sub, why)) return why;
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    Fits f;
    const Geometry sub = weights_geometry(g, f);
    if (!f) throw_overflow("padding");
    return std::make_unique<WeightsExecutor>(g, forward_executor(sub));
  }

  // The sub-problem's sums are the gradient's (same products, same error measure), so its
  // algorithm's bound is the gradient's: direct summation's n u, or the FFT's.
  double error_bound(const Geometry& g, Op op) const override {
    Fits f;
    const Geometry sub = weights_geometry(g, f);
    std::string why;
    const Algorithm* a = f ? forward_algorithm(sub, why) : nullptr;
    return a ? std::max(a->error_bound(sub, Op::fwd), Algorithm::error_bound(g, op))
             : Algorithm::error_bound(g, op);
  }
};

}  // namespace

const Algorithm& bwd_data_phases_algorithm() {
  static const BwdDataPhases instance;
  return instance;
}

const Algorithm& bwd_weights_as_fwd_algorithm() {
  static const BwdWeightsAsFwd instance;
  return instance;
}

const Algorithm* weight_gradient_forward_algorithm(const Geometry& g) {
  if (g.N == 0) return nullptr;
  Fits f;
  const Geometry sub = weights_geometry(g, f);
  if (!f) return nullptr;
  std::string why;
  return forward_algorithm(sub, why);
}

}  // namespace convnd::detail
