// From a resolved Spec and a pass to what the algorithms see: one operation on a
// forward-equivalent geometry (algo/problem.h). The one place where "transposed" turns into the
// matching forward convolution's geometry and a pass into an operation on it.
#pragma once

#include "algo/problem.h"
#include "api/resolve.h"

namespace convnd::detail {

struct Problem {
  Geometry geometry;
  Op op = Op::fwd;
};

// The geometry of r's convolution (for a transposed spec, of its matching forward one), with
// the plan's options that dispatch reads (constant weights, precision, layout, workspace
// limit), and the operation that computes `pass` on it.
Problem plan_problem(const Resolved& r, Pass pass, const PlanOptions& options);

}  // namespace convnd::detail
