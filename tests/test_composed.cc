// The composed backward algorithms on shapes the small random specs do not reach: large
// outputs (bwd_weights copies x and dy channels-last first, dense or through strides), groups,
// every padding mode, transposed specs, f32 and f64.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

TEST(Composed, WeightGradientWithChannelsLastCopies) {
  for (DType t : {DType::f32, DType::f64})
    for (dim_t gap : {0, 3}) {  // dense planes (blocked transpose) and strided ones
      ConvTester()
          .input(2, 12, {64, 64})
          .kernel(3, {3, 3})
          .padding(Padding::uniform(1))
          .dtype(t)
          .strided_views(gap)
          .bias()
          .test("bwd_weights_as_fwd", Pass::backward_weights);
      ConvTester()
          .input(1, 24, {20, 16, 14})
          .kernel(4, {3, 1, 2})
          .groups(2)
          .mode(PadMode::reflect)
          .padding(Padding::uniform(1))
          .dtype(t)
          .strided_views(gap)
          .test("bwd_weights_as_fwd", Pass::backward_weights);
    }
}

TEST(Composed, DataGradientPhases) {
  for (PadMode m : {PadMode::zeros, PadMode::circular})
    for (Layout l : {Layout::channels_first, Layout::channels_last}) {
      ConvTester()
          .input(2, 6, {15, 13})
          .kernel(10, {4, 3})
          .stride({3, 2})
          .padding(Padding::uniform(2))
          .mode(m)
          .layout(l)
          .test("bwd_data_phases", Pass::backward_data);
      ConvTester()
          .input(1, 8, {9, 9})
          .kernel(8, {3, 3})
          .groups(8)
          .stride({2})
          .padding(Padding::uniform(1))
          .mode(m)
          .layout(l)
          .test("bwd_data_phases", Pass::backward_data);
      ConvTester()
          .input(2, 16, {8, 8})
          .kernel(8, {4, 4})
          .stride({2})
          .padding(Padding::uniform(1))
          .layout(l)
          .transposed({1})
          .bias()
          .test("bwd_data_phases", Pass::forward);
    }
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// The composed algorithms hand their sub-problems what they leave of the plan's workspace limit,
// and dispatch picks the sub-problems' algorithms under it: a plan made under a limit never needs
// more, whatever runs its parts.
TEST(Composed, SubProblemsKeepToTheWorkspaceLimit) {
  int under = 0;  // plans made under a limit below what the same plan needs unlimited
  Spec s;
  s.N = 2;
  s.C = 32;
  s.K = 32;
  // 1-D: its sub-problems' first choice (padded_igemm) needs more workspace than the next
  // (implicit_gemm). (In 2-D with 32 channels the first choice is brgemm_direct, already the
  // leanest, so no limit makes it give way.)
  s.input = {64};
  s.kernel = {3};
  s.stride = {2};
  s.padding = Padding::uniform(1);
  for (PadMode m : {PadMode::zeros, PadMode::reflect})
    for (Pass p : {Pass::backward_data, Pass::backward_weights}) {
      s.pad_mode = m;
      const char* algo = p == Pass::backward_data ? "bwd_data_phases" : "bwd_weights_as_fwd";
      PlanOptions free;
      free.algorithm = algo;
      const std::size_t need = Plan(s, p, free).workspace_bytes();
      for (std::size_t limit : {need, need / 2, std::size_t{0}}) {
        SCOPED_TRACE(s.to_string() + " " + algo + " limit " + std::to_string(limit));
        PlanOptions o = free;
        o.workspace_limit = limit;
        try {
          const Plan plan(s, p, o);
          EXPECT_LE(plan.workspace_bytes(), limit);
          if (limit < need) ++under;
        } catch (const Error& e) {
          // Refused only for the limit (its own buffers alone may exceed it).
          EXPECT_NE(std::string(e.what()).find("workspace"), std::string::npos) << e.what();
        }
      }
    }
  // Somewhere a sub-problem's algorithm gave way to one that needs less workspace.
  EXPECT_GT(under, 0);
}

}  // namespace
}  // namespace convnd::testing
