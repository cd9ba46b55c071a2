// Every algorithm honours a Plan's workspace limit: the plan either reports a workspace within
// the limit and never holds more aligned memory than that while running, or refuses to be made.
#include "conv_tester.h"
#include "random_spec.h"
#include "runtime/buffer.h"

namespace convnd::testing {
namespace {

TEST(Workspace, EveryAlgorithmStaysWithinTheLimit) {
  RandomSpecs gen(99);
  for (int i = 0; i < 300; ++i) {
    const Spec s = gen.next(i % 2 ? DType::f32 : DType::f64);
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a), b(s.dtype, sh.b), bias(s.dtype, {s.K});
      a.fill_integers(i);
      b.fill_integers(i + 1);
      for (const std::string& algo : algorithms())
        for (std::size_t limit : {std::size_t{0}, std::size_t{64}, std::size_t{4096}, SIZE_MAX}) {
          SCOPED_TRACE(s.to_string() + " pass=" + to_string(p) + " algo=" + algo +
                       " limit=" + std::to_string(limit));
          PlanOptions o;
          o.algorithm = algo;
          o.workspace_limit = limit;
          std::optional<Plan> plan;
          try {
            plan.emplace(s, p, o);
          } catch (const Error&) {
            continue;  // rejected, or needs more than the limit: both honour it
          }
          ASSERT_LE(plan->workspace_bytes(), limit);
          Tensor out(s.dtype, sh.out), dbias(s.dtype, {s.K});
          detail::BufferStats::reset_peak();
          const std::size_t before = detail::BufferStats::live();
          switch (p) {
            case Pass::forward:
              plan->forward(a.view(), b.view(),
                            s.bias ? std::optional<ConstTensorView>(bias.view()) : std::nullopt,
                            out.view());
              break;
            case Pass::backward_data: plan->backward_data(a.view(), b.view(), out.view()); break;
            case Pass::backward_weights:
              plan->backward_weights(a.view(), b.view(), out.view(),
                                     s.bias ? std::optional<TensorView>(dbias.view()) : std::nullopt);
              break;
          }
          // Memory the plan already held is not counted; what a run adds must fit the report.
          EXPECT_LE(detail::BufferStats::peak() - before, plan->workspace_bytes());
        }
    }
  }
}

}  // namespace
}  // namespace convnd::testing
