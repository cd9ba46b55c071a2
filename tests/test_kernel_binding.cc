// A plan keeps the kernels its tiles were sized for: every algorithm whose tile shape depends on
// the ISA (the GEMM tiles: 12 or 8 rows with 32 vector registers, 6 or 4 with 16) is planned on
// the CPU's best target, then run while Highway's dispatch is restricted to each other target
// this CPU runs, and must still equal the reference. Before the kernels were bound to their
// plans (kernels::TileKernel, kernels::BptrKernel), a 12-row plan ran the 6-row AVX2 kernel and
// computed half of every tile.
#include <hwy/targets.h>

#include "conv_tester.h"
#include "only_target.h"

namespace convnd::testing {
namespace {

struct Case {
  const char* algorithm;
  Pass pass;
  ConvTester tester;
};

TEST(KernelBinding, PlansRunTheirOwnTileWhateverTheTargetLater) {
  const std::vector<Case> cases = {
      {"implicit_gemm", Pass::forward,
       ConvTester().input(2, 7, {9, 8}).kernel(37, {3, 3}).padding(Padding::uniform(1))},
      {"padded_igemm", Pass::forward,  // positions as rows (channels-last, 40 channels)
       ConvTester()
           .input(2, 7, {9, 8})
           .kernel(40, {3, 3})
           .stride({2, 1})
           .layout(Layout::channels_last)},
      {"padded_igemm", Pass::forward,  // channels as rows (channels-first)
       ConvTester().input(2, 7, {9, 8}).kernel(19, {3, 3}).padding(Padding::uniform(1))},
      {"pointwise", Pass::forward, ConvTester().input(2, 40, {7, 9}).kernel(30, {1, 1})},
      {"pointwise", Pass::forward,
       ConvTester().input(2, 40, {7, 9}).kernel(30, {1, 1}).layout(Layout::channels_last)},
      {"winograd_f4", Pass::forward,
       ConvTester().input(1, 20, {10, 9}).kernel(20, {3, 3}).padding(Padding::uniform(1))},
      {"direct_wgrad", Pass::backward_weights,
       ConvTester().input(2, 16, {9, 8}).kernel(21, {3, 3}).padding(Padding::uniform(1))},
      {"winograd_wgrad_f4", Pass::backward_weights,
       ConvTester().input(1, 20, {10, 9}).kernel(20, {3, 3}).padding(Padding::uniform(1))},
  };
  for (const Case& c : cases) {
    const Spec& s = c.tester.spec();
    SCOPED_TRACE(s.to_string() + " algo=" + c.algorithm);
    const PassShapes sh = pass_shapes(s, c.pass);
    Tensor a(s.dtype, sh.a), b(s.dtype, sh.b);
    a.fill_integers(1);
    b.fill_integers(2);
    PlanOptions fast, ref;
    fast.algorithm = c.algorithm;
    ref.algorithm = "reference";
    const Plan plan(s, c.pass, fast);  // on the CPU's best target
    const Tensor want = run_pass(s, c.pass, a, b, nullptr, ref).out;
    for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
      const kernels::OnlyTarget only(target);
      SCOPED_TRACE(hwy::TargetName(target));
      const Tensor got = run_plan(plan, s, c.pass, a, b, nullptr).out;
      EXPECT_TRUE(all_near(got, want, 1e-3, 1e-3, "output"));
    }
  }
}

}  // namespace
}  // namespace convnd::testing
