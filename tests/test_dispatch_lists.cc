// Dispatch keeps one candidate list per pass: a plan's rejections name only algorithms that
// compute its pass, naming an algorithm for a pass it does not compute says so and lists the
// ones that do, and every algorithm of the build is in some pass's list (with the reference
// last in each).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "convnd/convnd.h"
#include "dispatch/registry.h"

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

}  // namespace
}  // namespace convnd::testing
