// The benchmark's layers are checked, not only timed: every case of the embedded suite
// (bench/suite.json), at batch 1, in both layouts and every pass it lists, through every
// algorithm that accepts it, against the reference on integer data. The dense layers are the
// ones the fast paths are tuned on, so a wrong answer there would otherwise be fast and unseen.
//
// The reference is plain loops: to keep this test at seconds, the largest spatial axes of a
// layer are halved until one pass is at most a budget (25 MFLOP). Channels, groups, kernel,
// stride, dilation and padding stay the layer's own, and so do the algorithms dispatch and
// the forced runs pick (they depend on those far more than on the extents).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "../conv_tester.h"
#include "suite.h"

namespace convnd::testing {
namespace {

// CONVND_SUITE_REFERENCE_FLOPS overrides the budget (the sanitizer build in CI uses a smaller
// one: its reference runs ~20x slower).
double reference_budget() {
  if (const char* env = std::getenv("CONVND_SUITE_REFERENCE_FLOPS")) return std::atof(env);
  return 25e6;
}

bool valid(const Spec& s) {
  try {
    (void)output_extents(s);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Batch 1 and spatial extents halved (largest first) while a pass costs more than the budget;
// a halving that would leave no output (or a single one where the layer had more) is skipped.
Spec batch1_within_budget(Spec s) {
  s.N = 1;
  const double budget = reference_budget();
  while (bench::pass_flops(s) > budget) {
    std::vector<int> order(s.input.size());
    for (std::size_t a = 0; a < order.size(); ++a) order[a] = static_cast<int>(a);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return s.input[a] > s.input[b]; });
    bool shrunk = false;
    for (int a : order) {
      if (s.input[a] < 4) continue;
      Spec t = s;
      t.input[a] /= 2;
      if (!valid(t) || output_extents(t)[a] < std::min<dim_t>(2, output_extents(s)[a])) continue;
      s = t;
      shrunk = true;
      break;
    }
    if (!shrunk) break;
  }
  return s;
}

TEST(SuiteLayers, EveryAcceptingAlgorithmMatchesTheReference) {
  const auto cases = bench::parse_suite(bench::embedded_suite(), "embedded suite");
  ASSERT_GE(cases.size(), 20u);
  int compared = 0;
  for (const bench::Case& c : cases) {
    for (Layout layout : {Layout::channels_first, Layout::channels_last}) {
      Spec s = batch1_within_budget(c.spec);
      s.layout = layout;
      s.bias = true;
      for (Pass p : c.passes) {
        SCOPED_TRACE(c.name + " " + s.to_string() + " pass=" + to_string(p));
        const PassShapes sh = pass_shapes(s, p);
        Tensor a(s.dtype, sh.a), b(s.dtype, sh.b), bias(s.dtype, {s.K});
        a.fill_integers(3);
        b.fill_integers(5);
        bias.fill_integers(7);
        PlanOptions ref;
        ref.algorithm = "reference";
        const PassResult want = run_pass(s, p, a, b, &bias, ref);
        const double direct_bound = Plan(s, p, ref).error_bound();
        int accepted = 0;
        for (const std::string& algo : algorithms()) {
          if (algo == "reference" || !accepts(s, p, algo)) continue;
          ++accepted;
          ++compared;
          PlanOptions o;
          o.algorithm = algo;
          const PassResult got = run_pass(s, p, a, b, &bias, o);
          // Exact on integer data, unless the plan's error bound is above direct summation's:
          // then Winograd runs inside it (composed algorithms pick it for sub-problems).
          const bool winograd_inside = Plan(s, p, o).error_bound() > direct_bound;
          const double tol =
              integer_data_tolerance(winograd_inside ? "winograd" : algo, s, p, a, b);
          EXPECT_TRUE(all_near(got.out, want.out, tol, 0, algo)) << algo;
          if (p == Pass::backward_weights) {
            EXPECT_TRUE(all_near(got.dbias, want.dbias, 0, 0, algo + " dbias"));
          }
        }
        EXPECT_GE(accepted, 1) << "no fast algorithm accepts this suite layer";
      }
    }
  }
  std::printf("  %d (layer, layout, pass, algorithm) runs compared\n", compared);
}

}  // namespace
}  // namespace convnd::testing
