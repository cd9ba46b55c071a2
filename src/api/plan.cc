// Plan: resolve the spec once, map (spec, pass) onto an operation of a forward-equivalent
// geometry (geometry.cc), choose the algorithm, then on each run check the views and execute.
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <utility>

#include "algo/bias_grad.h"
#include "api/errors.h"
#include "api/geometry.h"
#include "api/resolve.h"
#include "api/views.h"
#include "dispatch/registry.h"
#include "runtime/buffer.h"
#include "runtime/threads.h"
#include "runtime/workspace_cache.h"

namespace convnd {

using detail::Op;
using detail::ViewRole;

struct Plan::Impl {
  Spec spec;
  detail::Resolved resolved;
  Pass pass;
  Shapes shapes;
  detail::Geometry geometry;
  Op op;
  std::unique_ptr<detail::Executor> executor;
  std::string algorithm;
  std::vector<std::string> rejections;
  double error_bound = 0;
  int threads = 1;

  void require_pass(Pass wanted) const {
    if (pass != wanted)
      detail::fail("pass", detail::kNoAxis,
                   detail::rule("this plan was made for pass ", to_string(pass),
                                ", not ", to_string(wanted)));
  }

  ConstTensorView check(const ConstTensorView& v, const char* arg,
                        const std::vector<dim_t>& expected, ViewRole role, bool is_output) const {
    return detail::canonical_view(v, arg, expected, spec.dtype, role, spec.layout, is_output);
  }

  // Runs `body` (the executor, the bias gradient); an allocation failure anywhere inside
  // becomes convnd::Error (if it is not one already), and the outputs, which the executor may have written in part, are
  // filled with NaN throughout, so that no partly written result looks valid. (All argument
  // checks happen before: an Error from them leaves the outputs untouched.)
  template <class Body>
  void guarded(std::initializer_list<const TensorView*> outputs, Body&& body) const {
    try {
      body();
    } catch (const Error& e) {  // a buffer that could not be allocated (AlignedBuffer)
      for (const TensorView* out : outputs)
        if (out) fill_nan(*out);
      if (e.kind() != Error::Kind::memory) throw;
      throw Error(std::string(e.what()) + ", running " + running(), Error::Kind::memory);
    } catch (const std::bad_alloc&) {
      for (const TensorView* out : outputs)
        if (out) fill_nan(*out);
      throw Error("convnd: out of memory while running " + running(), Error::Kind::memory);
    }
  }

  // The plan, for a message: which problem, pass and algorithm an allocation failed in.
  std::string running() const {
    return spec.to_string() + " (" + to_string(pass) + ", algorithm " + algorithm + ")";
  }

  // A caller's workspace must be large enough, aligned as the kernels assume, and apart from
  // every argument (the run writes it while reading them).
  void check_workspace(
      const Workspace& ws,
      std::initializer_list<std::pair<const ConstTensorView*, const char*>> args_in) const {
    if (ws.data == nullptr) return;
    const std::size_t need = executor->workspace_bytes();
    if (ws.bytes < need)
      detail::fail("workspace", detail::kNoAxis,
                   detail::rule("holds ", ws.bytes, " bytes; this plan needs ", need,
                                " (Plan::workspace_bytes())"));
    if (reinterpret_cast<std::uintptr_t>(ws.data) % detail::AlignedBuffer::kAlignment != 0)
      detail::fail("workspace", detail::kNoAxis,
                   detail::rule("must be ", detail::AlignedBuffer::kAlignment,
                                "-byte aligned (std::aligned_alloc(64, bytes))"));
    if (need == 0) return;
    // The workspace as a flat float32 view, so that the views' overlap check applies.
    ConstTensorView flat;
    flat.data = ws.data;
    flat.dtype = DType::f32;
    flat.shape = {static_cast<dim_t>((need + 3) / 4)};
    flat.strides = {1};
    for (const auto& [view, name] : args_in)
      if (view != nullptr) detail::check_disjoint(flat, "workspace", *view, name);
  }

  // The caller's workspace, or the calling thread's (runtime/workspace_cache.h).
  void execute(const detail::OpArgs& args, const Workspace& given) const {
    detail::wake_helpers(threads);
    if (given.data != nullptr) {
      executor->run(args, given.data, threads);
      return;
    }
    const detail::WorkspaceLease workspace(executor->workspace_bytes());
    executor->run(args, workspace.data(), threads);
  }

  // Writes NaN into every element of a (validated) view; allocates nothing, since it runs after
  // an allocation failure.
  static void fill_nan(const TensorView& v) {
    if (v.dtype == DType::f32)
      fill_axes(static_cast<float*>(v.data), v, 0, std::numeric_limits<float>::quiet_NaN());
    else
      fill_axes(static_cast<double*>(v.data), v, 0, std::numeric_limits<double>::quiet_NaN());
  }
  template <class T>
  static void fill_axes(T* p, const TensorView& v, std::size_t axis, T value) {
    if (axis == v.shape.size()) {
      *p = value;
      return;
    }
    for (dim_t i = 0; i < v.shape[axis]; ++i) fill_axes(p + i * v.strides[axis], v, axis + 1, value);
  }
};

// Converts an allocation failure during argument checks (before any output is written) into
// convnd::Error.
template <class Body>
void checked_alloc(const char* what, Body&& body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    throw Error(std::string("convnd: out of memory while ") + what, Error::Kind::memory);
  }
}

Plan::Plan(const Spec& spec, Pass pass, PlanOptions options) {
  // Every allocation of planning (the spec's copies, the algorithm's sizes and executor) may
  // fail: that is an Error too, and the partly made plan is freed.
  try {
    auto impl = std::make_unique<Impl>();
    impl->spec = spec;
    impl->resolved = detail::resolve(spec);
    impl->pass = pass;
    impl->shapes = shapes(spec);
    detail::Problem problem = detail::plan_problem(impl->resolved, pass, options);
    impl->geometry = std::move(problem.geometry);
    impl->op = problem.op;
    detail::Choice choice = detail::choose(impl->geometry, impl->op, options.algorithm);
    impl->executor = std::move(choice.executor);
    impl->algorithm = choice.algorithm->name();
    impl->rejections = std::move(choice.rejections);
    impl->error_bound = choice.algorithm->error_bound(impl->geometry, impl->op);
    if (options.threads < 0)
      detail::fail("threads", detail::kNoAxis,
                   detail::rule("must be >= 0 (0 = all cores), got ", options.threads));
    impl->threads = detail::resolve_threads(options.threads);
    impl_ = std::move(impl);
  } catch (const std::bad_alloc&) {
    throw Error("convnd: out of memory while planning " + spec.to_string(), Error::Kind::memory);
  }
}

Plan::~Plan() = default;
Plan::Plan(Plan&&) noexcept = default;
Plan& Plan::operator=(Plan&&) noexcept = default;

const Spec& Plan::spec() const { return impl_->spec; }
Pass Plan::pass() const { return impl_->pass; }
const std::string& Plan::algorithm() const { return impl_->algorithm; }
double Plan::error_bound() const { return impl_->error_bound; }
std::size_t Plan::workspace_bytes() const { return impl_->executor->workspace_bytes(); }
const std::vector<std::string>& Plan::rejections() const { return impl_->rejections; }

void Plan::forward(ConstTensorView x, ConstTensorView w, std::optional<ConstTensorView> bias,
                   TensorView y, Workspace workspace) const {
  const Impl& p = *impl_;
  detail::OpArgs args;
  checked_alloc("checking the arguments", [&] {
    p.require_pass(Pass::forward);
    if (bias.has_value() != p.spec.bias)
      detail::fail("bias", detail::kNoAxis,
                   p.spec.bias ? "the spec has bias = true but no bias view was given"
                               : "a bias view was given but the spec has bias = false");
    args.a = p.check(x, "x", p.shapes.x, ViewRole::activation, false);
    args.b = p.check(w, "w", p.shapes.w, ViewRole::weight, false);
    if (bias) args.bias = p.check(*bias, "bias", p.shapes.bias, ViewRole::vector, false);
    args.out = detail::as_mutable(p.check(y, "y", p.shapes.y, ViewRole::activation, true));
    detail::check_disjoint(args.out, "y", args.a, "x");
    detail::check_disjoint(args.out, "y", args.b, "w");
    if (args.bias) detail::check_disjoint(args.out, "y", *args.bias, "bias");
    const ConstTensorView yc = args.out;
    p.check_workspace(workspace, {{&args.a, "x"}, {&args.b, "w"},
                                  {args.bias ? &*args.bias : nullptr, "bias"}, {&yc, "y"}});
  });
  p.guarded({&args.out}, [&] { p.execute(args, workspace); });
}

void Plan::backward_data(ConstTensorView dy, ConstTensorView w, TensorView dx,
                         Workspace workspace) const {
  const Impl& p = *impl_;
  detail::OpArgs args;
  checked_alloc("checking the arguments", [&] {
    p.require_pass(Pass::backward_data);
    args.a = p.check(dy, "dy", p.shapes.y, ViewRole::activation, false);
    args.b = p.check(w, "w", p.shapes.w, ViewRole::weight, false);
    args.out = detail::as_mutable(p.check(dx, "dx", p.shapes.x, ViewRole::activation, true));
    detail::check_disjoint(args.out, "dx", args.a, "dy");
    detail::check_disjoint(args.out, "dx", args.b, "w");
    const ConstTensorView dxc = args.out;
    p.check_workspace(workspace, {{&args.a, "dy"}, {&args.b, "w"}, {&dxc, "dx"}});
  });
  p.guarded({&args.out}, [&] { p.execute(args, workspace); });
}

void Plan::backward_weights(ConstTensorView x, ConstTensorView dy, TensorView dw,
                            std::optional<TensorView> dbias, Workspace workspace) const {
  const Impl& p = *impl_;
  ConstTensorView xc, dyc;
  detail::OpArgs args;
  std::optional<TensorView> dbc;
  checked_alloc("checking the arguments", [&] {
    p.require_pass(Pass::backward_weights);
    xc = p.check(x, "x", p.shapes.x, ViewRole::activation, false);
    dyc = p.check(dy, "dy", p.shapes.y, ViewRole::activation, false);
    // For a transposed spec the forward-equivalent input is the transposed spec's dy.
    args.a = p.spec.transposed ? dyc : xc;
    args.b = p.spec.transposed ? xc : dyc;
    args.out = detail::as_mutable(p.check(dw, "dw", p.shapes.w, ViewRole::weight, true));
    detail::check_disjoint(args.out, "dw", xc, "x");
    detail::check_disjoint(args.out, "dw", dyc, "dy");
    if (dbias) {
      dbc = detail::as_mutable(p.check(*dbias, "dbias", p.shapes.bias, ViewRole::vector, true));
      detail::check_disjoint(*dbc, "dbias", xc, "x");
      detail::check_disjoint(*dbc, "dbias", dyc, "dy");
      detail::check_disjoint(*dbc, "dbias", args.out, "dw");
    }
    const ConstTensorView dwc = args.out;
    std::optional<ConstTensorView> dbcc;
    if (dbc) dbcc = ConstTensorView(*dbc);
    p.check_workspace(workspace, {{&xc, "x"}, {&dyc, "dy"}, {&dwc, "dw"},
                                  {dbcc ? &*dbcc : nullptr, "dbias"}});
  });
  // dw and dbias are one result: a failure in either leaves both NaN.
  p.guarded({&args.out, dbc ? &*dbc : nullptr}, [&] {
    p.execute(args, workspace);
    if (dbc) detail::bias_gradient(dyc, *dbc);
  });
}

void forward(const Spec& spec, ConstTensorView x, ConstTensorView w,
             std::optional<ConstTensorView> bias, TensorView y, PlanOptions options) {
  Plan(spec, Pass::forward, std::move(options)).forward(x, w, bias, y);
}

void backward_data(const Spec& spec, ConstTensorView dy, ConstTensorView w, TensorView dx,
                   PlanOptions options) {
  Plan(spec, Pass::backward_data, std::move(options)).backward_data(dy, w, dx);
}

void backward_weights(const Spec& spec, ConstTensorView x, ConstTensorView dy, TensorView dw,
                      std::optional<TensorView> dbias, PlanOptions options) {
  Plan(spec, Pass::backward_weights, std::move(options)).backward_weights(x, dy, dw, dbias);
}

std::vector<std::string> algorithms() {
  std::vector<std::string> names;
  for (const auto* a : detail::candidates()) names.emplace_back(a->name());
  return names;
}

const char* version() { return CONVND_VERSION; }

}  // namespace convnd
