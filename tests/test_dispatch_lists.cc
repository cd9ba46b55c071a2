// Dispatch keeps one candidate list per pass: a plan's rejections name only algorithms that
// compute its pass, naming an algorithm for a pass it does not compute says so and lists the
// ones that do, and every algorithm of the build is in some pass's list (with the reference
// last in each). And the lists agree with the algorithms: one that a pass's list leaves out
// rejects that pass, and one it holds takes a problem through the list (a plan forcing it) exactly
// when its own reject() accepts it.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "api/geometry.h"
#include "convnd/convnd.h"
#include "dispatch/registry.h"
#include "random_spec.h"

namespace convnd::testing {
namespace {

Spec layer() {
  Spec s;
  s.C = 20;
  s.K = 24;
  s.input = {9, 10};
  s.kernel = {3, 3};
  s.padding = Padding::uniform(1);
  return s;
}

TEST(DispatchLists, RejectionsNameOnlyThePassesOwnAlgorithms) {
  for (Pass p : {Pass::backward_data, Pass::backward_weights}) {
    PlanOptions o;
    o.algorithm = "reference";  // every better candidate of the pass appears, with its reason
    const Plan plan(layer(), p, o);  // (named: rejections() refers into the plan)
    for (const std::string& r : plan.rejections()) {
      EXPECT_EQ(r.find("forward pass only"), std::string::npos) << r;
      EXPECT_NE(r.rfind("padded_igemm", 0), 0u) << r;
    }
  }
}

TEST(DispatchLists, NamingAnAlgorithmForAnotherPassSaysWhichDo) {
  PlanOptions o;
  o.algorithm = "padded_igemm";
  try {
    Plan(layer(), Pass::backward_weights, o);
    ADD_FAILURE() << "padded_igemm planned a weight gradient";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("does not compute the bwd_weights pass"), std::string::npos) << what;
    EXPECT_NE(what.find("direct_wgrad"), std::string::npos) << what;
  }
}

TEST(DispatchLists, EveryAlgorithmInSomePassReferenceLast) {
  for (detail::Op op : {detail::Op::fwd, detail::Op::bwd_data, detail::Op::bwd_weights}) {
    const auto& list = detail::candidates(op);
    ASSERT_FALSE(list.empty());
    EXPECT_STREQ(list.back()->name(), "reference");
  }
  const auto& all = detail::candidates();
  EXPECT_STREQ(all.back()->name(), "reference");
  for (const detail::Algorithm* a : all) {
    bool listed = false;
    for (detail::Op op : {detail::Op::fwd, detail::Op::bwd_data, detail::Op::bwd_weights}) {
      const auto& list = detail::candidates(op);
      listed = listed || std::find(list.begin(), list.end(), a) != list.end();
    }
    EXPECT_TRUE(listed) << a->name();
  }
}

// Layers that reach the special-purpose algorithms (depthwise, 1x1, Winograd's 3x3, the FFT's
// long kernel, transposed), then seeded random ones (every rank, layout, padding mode, groups).
std::vector<Spec> agreement_specs() {
  std::vector<Spec> specs;
  auto add = [&](dim_t C, dim_t K, dim_t groups, std::vector<dim_t> in, std::vector<dim_t> k,
                 std::vector<dim_t> stride, dim_t pad, Layout layout, bool transposed) {
    Spec s;
    s.N = 2;
    s.C = C, s.K = K, s.groups = groups;
    s.input = std::move(in), s.kernel = std::move(k), s.stride = std::move(stride);
    s.padding = Padding::uniform(pad);
    s.layout = layout;
    s.transposed = transposed;
    specs.push_back(s);
  };
  for (Layout l : {Layout::channels_first, Layout::channels_last}) {
    add(16, 16, 16, {12, 12}, {3, 3}, {1}, 1, l, false);  // depthwise
    add(16, 16, 16, {12, 12}, {3, 3}, {2}, 1, l, false);  // depthwise, stride 2
    add(32, 24, 1, {9, 9}, {1, 1}, {1}, 0, l, false);     // 1x1
    add(20, 24, 1, {14, 14}, {3, 3}, {1}, 1, l, false);   // Winograd's 3x3
    add(64, 64, 1, {8, 8}, {3, 3}, {2}, 1, l, false);     // 64 channels, stride 2
    add(8, 8, 1, {300}, {65}, {1}, 0, l, false);          // long 1-D kernel
    add(12, 8, 2, {6, 7}, {4, 4}, {2}, 1, l, true);       // transposed, grouped
  }
  RandomSpecs gen(20261203);
  for (int i = 0; specs.size() < 45; ++i)
    specs.push_back(gen.next(i % 2 ? DType::f32 : DType::f64));
  return specs;
}

TEST(DispatchLists, ListsAndRejectAgree) {
  using detail::Op;
  int accepted = 0;
  for (const Spec& s : agreement_specs())
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
      const detail::Problem problem = detail::plan_problem(detail::resolve(s), p, PlanOptions());
      const auto& list = detail::candidates(problem.op);
      for (const detail::Algorithm* a : detail::candidates()) {
        SCOPED_TRACE(s.to_string() + " " + to_string(p) + " " + a->name());
        const std::string why = a->reject(problem.geometry, problem.op);
        if (std::find(list.begin(), list.end(), a) == list.end()) {
          EXPECT_NE(why, "") << "left out of the pass's list, yet accepts it";
          continue;
        }
        PlanOptions o;
        o.algorithm = a->name();
        bool planned = true;
        std::string error;
        try {
          const Plan plan(s, p, o);
        } catch (const Error& e) {
          planned = false;
          error = e.what();
        }
        EXPECT_EQ(planned, why.empty()) << "through the list: " << (planned ? "planned" : error)
                                        << "; reject(): " << (why.empty() ? "accepts" : why);
        accepted += planned;
      }
    }
  // The specs reach more than the reference.
  EXPECT_GT(accepted, 45 * 3);
}

}  // namespace
}  // namespace convnd::testing
