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

// Found by the Python tests: strides near INT64_MAX on an 8x8 input (output 1x1) crashed
// padded_igemm's planning (SIGFPE: its grid sizes overflowed) and made another algorithm
// report "out of memory". Every pass must plan and match the reference.
TEST(Degenerate, StridesNearInt64Max) {
  for (dim_t st : {std::numeric_limits<dim_t>::max(), dim_t{1} << 62, dim_t{1} << 40})
    for (Layout l : {Layout::channels_first, Layout::channels_last})
      for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
        const Plan plan(ConvTester().input(1, 3, {8, 8}).kernel(4, {3, 3}).stride({st}).layout(l).spec(), p);
        ConvTester().input(1, 3, {8, 8}).kernel(4, {3, 3}).stride({st}).layout(l).bias()
            .test(plan.algorithm(), p);
      }
}

}  // namespace
}  // namespace convnd::testing
