#include "api/geometry.h"

namespace convnd::detail {
namespace {

// A transposed spec runs on the geometry of its matching forward convolution: that forward
// conv's input is the transposed output (K channels, extents `out`), its output is the
// transposed input (C channels, extents `input`), and the weight (C, K/groups, k..) is already
// the forward weight (K_f = C, C_f/groups = K/groups).
Geometry make_geometry(const Resolved& r) {
  const Spec& s = r.spec;
  Geometry g;
  g.N = s.N;
  g.groups = s.groups;
  g.C = s.transposed ? s.K : s.C;
  g.K = s.transposed ? s.C : s.K;
  g.in = s.transposed ? r.out : s.input;
  g.out = s.transposed ? s.input : r.out;
  g.kernel = s.kernel;
  g.stride = s.stride;
  g.dil = s.dilation;
  for (const auto& [lo, hi] : r.pad) {
    g.lo.push_back(lo);
    g.hi.push_back(hi);
  }
  g.mode = s.pad_mode;
  g.dtype = s.dtype;
  return g;
}

Op op_for(bool transposed, Pass pass) {
  switch (pass) {
    case Pass::forward:
      return transposed ? Op::bwd_data : Op::fwd;
    case Pass::backward_data:
      return transposed ? Op::fwd : Op::bwd_data;
    case Pass::backward_weights:
      return Op::bwd_weights;
  }
  return Op::fwd;
}

}  // namespace

Problem plan_problem(const Resolved& r, Pass pass, const PlanOptions& options) {
  Problem p;
  p.geometry = make_geometry(r);
  p.geometry.constant_weights = options.constant_weights;
  p.geometry.precision = options.precision;
  p.geometry.layout = r.spec.layout;
  // Every activation of a spec (x, y and their gradients) has the spec's layout.
  p.geometry.in_channels_adjacent = r.spec.layout == Layout::channels_last;
  p.geometry.workspace_limit = options.workspace_limit;
  p.op = op_for(r.spec.transposed, pass);
  return p;
}

}  // namespace convnd::detail
