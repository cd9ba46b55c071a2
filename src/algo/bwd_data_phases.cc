// # Backward data as forward convolutions over stride phases
//
// Where dil = 1 or stride = 1 on every axis: along an axis with stride s, the input
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
#include "algo/bwd_data_phases.h"

#include <stdexcept>
#include <vector>

#include "algo/composed.h"
#include "algo/reference.h"
#include "api/checked.h"

namespace convnd::detail {
namespace {

constexpr dim_t kMaxPhases = 256;

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
    // The phases run one after another in the same workspace.
    ph.sub.workspace_limit = g.workspace_limit;
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
          if (++i[a] < g.in[a]) {
            more = true;
            break;
          }
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

// The bytes of the padded gradient that the folding executor keeps at the start of its
// workspace (64-byte aligned, so the sub-problem's workspace after it is too).
std::size_t padded_bytes(const Geometry& g, const Geometry& pg) {
  // Checked: a wrapped size here under-allocates the workspace (found by fuzz_spec: 4328521728
  // * 737354031824903). reject() already refuses such problems.
  Fits f;
  const dim_t elems = f.mul(padded_elems(g, pg, f), static_cast<dim_t>(dtype_size(g.dtype))) /
                      static_cast<dim_t>(dtype_size(g.dtype));
  if (!f) throw_overflow("workspace");
  const std::size_t bytes = checked_bytes64(elems, dtype_size(g.dtype), "workspace");
  return checked_size_add(bytes, (64 - bytes % 64) % 64, "workspace");
}

class FoldingExecutor final : public Executor {
 public:
  FoldingExecutor(const Geometry& g, const Geometry& pg, std::unique_ptr<Executor> padded)
      : g_(g), pg_(pg), padded_(std::move(padded)), bytes_(padded_bytes(g, pg)) {
    workspace_bytes_ = checked_size_add(bytes_, padded_->workspace_bytes(), "workspace");
  }
  std::size_t workspace_bytes() const override { return workspace_bytes_; }
  void run(const OpArgs& args, void* workspace, int threads) const override {
    auto* buf = static_cast<char*>(workspace);
    // The padded gradient, contiguous (N, C, padded extents..).
    std::vector<dim_t> shape{g_.N, g_.C}, strides(2 + g_.rank());
    shape.insert(shape.end(), pg_.in.begin(), pg_.in.end());
    strides.back() = 1;
    for (int a = static_cast<int>(shape.size()) - 2; a >= 0; --a)
      strides[a] = strides[a + 1] * shape[a + 1];
    OpArgs sub = args;
    sub.bias.reset();
    sub.out = TensorView(buf, g_.dtype, shape, strides);
    padded_->run(sub, buf + bytes_, threads);
    if (g_.dtype == DType::f32)
      fold_padded<float>(g_, pg_, reinterpret_cast<const float*>(buf), args.out, args.bias);
    else
      fold_padded<double>(g_, pg_, reinterpret_cast<const double*>(buf), args.out, args.bias);
  }

 private:
  Geometry g_, pg_;
  std::unique_ptr<Executor> padded_;
  std::size_t bytes_ = 0, workspace_bytes_ = 0;
};

class BwdDataPhases final : public Algorithm {
 public:
  explicit BwdDataPhases(const SubProblems& forward) : forward_(forward) {}

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
      if (!ph.empty && !forward_.first_accepting(ph.sub, why)) return why;
    return {};
  }

  // Phases that only the reference would run cost more than the reference running the pass
  // directly (the same sums, plus the views and a fold).
  std::string pays(const Geometry& g, Op) const override {
    const Geometry zg = g.mode == PadMode::zeros ? g : padded_geometry(g);
    std::string why;
    for (const Phase& ph : make_phases(zg))
      if (!ph.empty && forward_.first_accepting(ph.sub, why) == &reference_algorithm())
        return "no fast forward algorithm accepts the sub-problem";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    if (g.mode != PadMode::zeros) {
      Geometry pg = padded_geometry(g);
      pg.workspace_limit = remaining_limit(g.workspace_limit, padded_bytes(g, pg));
      return std::make_unique<FoldingExecutor>(g, pg, zeros_executor(pg));
    }
    return zeros_executor(g);
  }

  // The largest bound of the forward algorithms that run the phases.
  double error_bound(const Geometry& g, Op) const override {
    std::string why;
    double bound = 0;
    const Geometry zg = g.mode == PadMode::zeros ? g : padded_geometry(g);
    for (const Phase& ph : make_phases(zg))
      if (!ph.empty)
        if (const Algorithm* a = forward_.first_accepting(ph.sub, why))
          bound = std::max(bound, a->error_bound(ph.sub, Op::fwd));
    return bound;
  }

 private:
  std::unique_ptr<Executor> zeros_executor(const Geometry& g) const {
    std::vector<Phase> phases = make_phases(g);
    std::vector<std::unique_ptr<Executor>> subs;
    for (const Phase& ph : phases) {
      if (ph.empty) {
        subs.push_back(nullptr);
        continue;
      }
      SubChoice c = forward_.first_fit(ph.sub);
      // reject() found an algorithm for every phase, and first_fit asks the same list.
      if (!c.algorithm) throw std::logic_error("bwd_data_phases: a phase without an algorithm");
      subs.push_back(std::move(c.executor));
    }
    return std::make_unique<PhasesExecutor>(g, std::move(phases), std::move(subs));
  }

  const SubProblems& forward_;
};

}  // namespace

std::unique_ptr<Algorithm> make_bwd_data_phases(const SubProblems& forward) {
  return std::make_unique<BwdDataPhases>(forward);
}

}  // namespace convnd::detail
