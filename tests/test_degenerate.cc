// Degenerate but valid specs must plan quickly and in bounded memory: planning cost may not grow
// with extents, strides or dilations (only running may, with the tensors' sizes).
#include "conv_tester.h"

namespace convnd::testing {
namespace {

// Found by fuzz_spec: bwd_data planning enumerated one sub-problem per stride phase.
TEST(Degenerate, HugeStrideAndDilationPlanInstantly) {
  Spec s;
  s.input = {dim_t{1} << 40, 3};
  s.kernel = {2, 2};
  s.stride = {dim_t{1} << 39, 1};
  s.dilation = {1, dim_t{1} << 20};
  s.padding = Padding::lo_hi({{0, 0}, {dim_t{1} << 20, 0}});
  for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
    const Plan plan(s, p);
    EXPECT_FALSE(plan.algorithm().empty());
  }
}

// Kernel as large as the padded input, output extent 1, every mode, every pass.
TEST(Degenerate, KernelCoversPaddedInput) {
  for (PadMode m : {PadMode::zeros, PadMode::reflect, PadMode::symmetric, PadMode::replicate,
                    PadMode::circular})
    for (DType t : {DType::f32, DType::f64})
      ConvTester().input(2, 3, {4, 1}).kernel(2, {8, 5}).padding(Padding::uniform(2)).mode(m)
          .dtype(t).bias().test_all_passes("reference");
}

}  // namespace
}  // namespace convnd::testing
