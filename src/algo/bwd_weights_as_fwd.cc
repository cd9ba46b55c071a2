// # The weight gradient as a forward convolution
//
// Every padding mode: dw[k, c, t] = sum_{n, o} x[n, c, map(o*s - lo + t*dil)]
// dy[n, k, o] is a forward convolution whose batch is C, whose channels are N, whose kernel is dy
// (extents O) and whose output extents are the kernel extents k, with stride dil and dilation s.
#include "algo/bwd_weights_as_fwd.h"

#include <stdexcept>
#include <vector>

#include "algo/composed.h"
#include "algo/layout_copy.h"
#include "algo/reference.h"
#include "api/checked.h"

namespace convnd::detail {
namespace {

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
    const dim_t reach =
        f.add(f.add(f.mul(g.dil[a], g.kernel[a] - 1), f.mul(g.stride[a], g.out[a] - 1)), 1);
    s.hi.push_back(std::max<dim_t>(0, f.sub(f.sub(reach, g.in[a]), g.lo[a])));
  }
  s.mode = g.mode;
  s.dtype = g.dtype;
  s.precision = g.precision;
  s.layout = g.layout;
  return s;
}

std::size_t dense_bytes(dim_t lead, const std::vector<dim_t>& spatial, DType t) {
  for (dim_t e : spatial) lead *= e;
  return (static_cast<std::size_t>(lead) * dtype_size(t) + 63) / 64 * 64;
}

// The workspace of the channels-last copies of x and dy (both 0 when there are none).
struct Copies {
  std::size_t x_bytes = 0, dy_bytes = 0;
  std::size_t total() const { return x_bytes + dy_bytes; }
};

Copies copies(const Geometry& g) {
  // A channels-first x is first copied channels-last: the sub-problem's images are then x's
  // channels, adjacent in memory, and its GEMM reads them in place (image-fastest rows of
  // implicit_gemm) instead of gathering one sample at a time; dy likewise, so that packing it
  // reads K contiguously. Costs one copy of each, and pays only when a tile's worth of
  // channels per group exists and the output is large (the gather's tables grow with it):
  // docs/measurements.md has the layers where the copies win and lose.
  dim_t positions = 1;
  for (dim_t o : g.out) positions *= o;
  Copies c;
  if (g.Cg() >= 12 && positions >= 4096) {
    c.x_bytes = dense_bytes(g.N * g.C, g.in, g.dtype);
    c.dy_bytes = dense_bytes(g.N * g.K, g.out, g.dtype);
  }
  return c;
}

class WeightsExecutor final : public Executor {
 public:
  WeightsExecutor(const Geometry& g, std::unique_ptr<Executor> sub) : g_(g), sub_(std::move(sub)) {
    const Copies c = copies(g);
    x_bytes_ = c.x_bytes;
    copy_bytes_ = c.total();
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
  // v itself when its channels are already contiguous, else a dense channels-last copy in `buf`.
  ConstTensorView channels_last(const ConstTensorView& v, void* buf, int threads) const {
    if (g_.dtype == DType::f32) return channels_last_view(v, static_cast<float*>(buf), threads);
    return channels_last_view(v, static_cast<double*>(buf), threads);
  }

  Geometry g_;
  std::unique_ptr<Executor> sub_;
  std::size_t x_bytes_ = 0, copy_bytes_ = 0;
};

class BwdWeightsAsFwd final : public Algorithm {
 public:
  explicit BwdWeightsAsFwd(const SubProblems& forward) : forward_(forward) {}

  const char* name() const override { return "bwd_weights_as_fwd"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::bwd_weights) return "only the backward-weights pass";
    if (g.N == 0) return "empty batch";
    Fits f;
    const Geometry sub = weights_geometry(g, f);
    if (!f) return "the sub-problem's padding overflows int64";
    std::string why;
    if (!forward_.first_accepting(sub, why)) return why;
    return {};
  }

  // A gradient that only the reference would run as a forward convolution costs more that way
  // than on the reference's own backward-weights loops.
  std::string pays(const Geometry& g, Op) const override {
    if (weight_gradient_forward_algorithm(g, forward_) == &reference_algorithm())
      return "no fast forward algorithm accepts the sub-problem";
    return {};
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    Fits f;
    Geometry sub = weights_geometry(g, f);
    if (!f) throw_overflow("padding");
    sub.workspace_limit = remaining_limit(g.workspace_limit, copies(g).total());
    SubChoice c = forward_.first_fit(sub);
    // reject() found an algorithm for the sub-problem, and first_fit asks the same list.
    if (!c.algorithm) throw std::logic_error("bwd_weights_as_fwd: no forward algorithm");
    return std::make_unique<WeightsExecutor>(g, std::move(c.executor));
  }

  // The sub-problem's sums are the gradient's (same products, same error measure), so its
  // algorithm's bound is the gradient's: direct summation's n u, or the FFT's.
  double error_bound(const Geometry& g, Op op) const override {
    Fits f;
    const Geometry sub = weights_geometry(g, f);
    std::string why;
    const Algorithm* a = f ? forward_.first_accepting(sub, why) : nullptr;
    return a ? std::max(a->error_bound(sub, Op::fwd), Algorithm::error_bound(g, op))
             : Algorithm::error_bound(g, op);
  }

 private:
  const SubProblems& forward_;
};
}  // namespace

std::unique_ptr<Algorithm> make_bwd_weights_as_fwd(const SubProblems& forward) {
  return std::make_unique<BwdWeightsAsFwd>(forward);
}

const Algorithm* weight_gradient_forward_algorithm(const Geometry& g, const SubProblems& forward) {
  if (g.N == 0) return nullptr;
  Fits f;
  const Geometry sub = weights_geometry(g, f);
  if (!f) return nullptr;
  std::string why;
  return forward.first_accepting(sub, why);
}

}  // namespace convnd::detail
