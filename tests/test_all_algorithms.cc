// Property test over every algorithm of the build: seeded random specs (ranks 1-4, both layouts,
// groups, stride, dilation, every padding form and mode, transposed, f32 and f64), every pass.
// Each algorithm that accepts a problem must match the reference, and give bitwise-identical
// results with 1 and 2 threads (from the pool, and for every fourth spec from the OpenMP team).
// CONVND_PROPERTY_SPECS sets the count (default 2000 here; the documented long run uses 1000000).
// Forced by name, an algorithm is not asked whether it pays, so the composed algorithms
// (backward passes as forward convolutions) run even where only the reference takes their
// sub-problems: the decompositions are checked there too.
#include <cstdlib>
#include <map>

#include "conv_tester.h"
#include "random_spec.h"

namespace convnd::testing {
namespace {

int spec_count() {
  if (const char* env = std::getenv("CONVND_PROPERTY_SPECS")) return std::atoi(env);
  return 2000;
}

TEST(AllAlgorithms, MatchReferenceAndAreThreadCountIndependent) {
  RandomSpecs gen(20261122);
  const auto algos = algorithms();
  std::map<std::string, int> runs;
  for (int i = 0; i < spec_count(); ++i) {
    const Spec s = gen.next(i % 2 ? DType::f32 : DType::f64);
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
      SCOPED_TRACE(s.to_string() + " pass=" + to_string(p));
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a, i % 3 == 0 ? 2 : 0), b(s.dtype, sh.b), bias(s.dtype, {s.K});
      a.fill_integers(i);
      b.fill_integers(i + 7);
      bias.fill_integers(i + 13);
      const Tensor* bp = s.bias ? &bias : nullptr;
      PlanOptions ref;
      ref.algorithm = "reference";
      const PassResult want = run_pass(s, p, a, b, bp, ref);
      for (const std::string& algo : algos) {
        if (algo == "reference" || !accepts(s, p, algo)) continue;
        ++runs[algo];
        PlanOptions one, two;
        one.algorithm = two.algorithm = algo;
        one.threads = 1;
        two.threads = 2;
        const PassResult r1 = run_pass(s, p, a, b, bp, one);
        const PassResult r2 = run_pass(s, p, a, b, bp, two);
        // Integer data: f64 is exact; f32 sums of integers below 2^24 are exact too (except
        // for Winograd's fractions).
        ASSERT_TRUE(all_near(r1.out, want.out, integer_data_tolerance(algo, s, p, a, b), 0, algo)) << algo;
        ASSERT_TRUE(bitwise_equal(r1.out, r2.out)) << algo << ": 1 vs 2 threads differ";
        if (i % 4 == 0) {  // the same two threads taken from the OpenMP team
          set_thread_source(ThreadSource::kOpenMP);
          const PassResult r3 = run_pass(s, p, a, b, bp, two);
          set_thread_source(ThreadSource::kPool);
          ASSERT_TRUE(bitwise_equal(r1.out, r3.out)) << algo << ": OpenMP team differs";
        }
        if (p == Pass::backward_weights && s.bias) {
          ASSERT_TRUE(all_near(r1.dbias, want.dbias, 0, 0, algo + " dbias"));
        }
      }
    }
  }
  for (const auto& [algo, n] : runs) std::printf("  %s: %d problems compared\n", algo.c_str(), n);
}

}  // namespace
}  // namespace convnd::testing
