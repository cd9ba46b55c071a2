// Views with negative strides (NumPy's x[..., ::-1]): every algorithm must read them in place.
// Regression: offsets were once compared with 0 to detect padding samples, so any sample at a
// negative offset from the view's first element was taken for padding and read as zero.
#include "conv_tester.h"
#include "random_spec.h"

namespace convnd::testing {
namespace {

// A copy of t whose view runs backwards along every axis (data points at the last element of
// the buffer; all strides negative).
struct Reversed {
  std::vector<double> f64;
  std::vector<float> f32;
  ConstTensorView view;

  explicit Reversed(const Tensor& t) {
    const auto& sh = t.shape();
    std::vector<dim_t> strides(sh.size());
    dim_t s = 1;
    for (int a = static_cast<int>(sh.size()) - 1; a >= 0; --a) strides[a] = -s, s *= sh[a];
    const dim_t n = t.size();
    // Logical element i lives at buffer index n - 1 - i.
    if (t.dtype() == DType::f32) {
      f32.resize(static_cast<std::size_t>(std::max<dim_t>(n, 1)));
      for (dim_t i = 0; i < n; ++i) f32[n - 1 - i] = static_cast<float>(t.get(i));
      view = ConstTensorView(f32.data() + std::max<dim_t>(n - 1, 0), DType::f32, sh, strides);
    } else {
      f64.resize(static_cast<std::size_t>(std::max<dim_t>(n, 1)));
      for (dim_t i = 0; i < n; ++i) f64[n - 1 - i] = t.get(i);
      view = ConstTensorView(f64.data() + std::max<dim_t>(n - 1, 0), DType::f64, sh, strides);
    }
  }
};

TEST(NegativeStrides, EveryAlgorithmReadsReversedViews) {
  RandomSpecs gen(777);
  for (int i = 0; i < 150; ++i) {
    const Spec s = gen.next(i % 2 ? DType::f32 : DType::f64);
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a), b(s.dtype, sh.b), bias(s.dtype, {s.K});
      a.fill_integers(i);
      b.fill_integers(i + 1);
      bias.fill_integers(i + 2);
      const Reversed ar(a), br(b);
      PlanOptions ref;
      ref.algorithm = "reference";
      const Tensor want = run_pass(s, p, a, b, s.bias ? &bias : nullptr, ref).out;
      for (const std::string& algo : algorithms()) {
        PlanOptions o;
        o.algorithm = algo;
        std::optional<Plan> plan;
        try {
          plan.emplace(s, p, o);
        } catch (const Error&) {
          continue;
        }
        SCOPED_TRACE(s.to_string() + " pass=" + to_string(p) + " algo=" + algo);
        Tensor got(s.dtype, sh.out), dbias(s.dtype, {s.K});
        switch (p) {
          case Pass::forward:
            plan->forward(ar.view, br.view,
                          s.bias ? std::optional<ConstTensorView>(bias.view()) : std::nullopt,
                          got.view());
            break;
          case Pass::backward_data: plan->backward_data(ar.view, br.view, got.view()); break;
          case Pass::backward_weights:
            plan->backward_weights(ar.view, br.view, got.view(),
                                   s.bias ? std::optional<TensorView>(dbias.view()) : std::nullopt);
            break;
        }
        ASSERT_TRUE(all_near(got, want, integer_data_tolerance(algo, s, p, a, b), 0, algo));
      }
    }
  }
}

}  // namespace
}  // namespace convnd::testing
