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

// A workspace that cannot be allocated is an Error, not an abort: an empty batch keeps every
// tensor empty while the reference's backward-data plane (one double per input position of one
// image, 2^45 positions = 256 TiB) cannot exist.
TEST(Workspace, AllocationFailureIsAnError) {
  Spec s;
  s.N = 0;
  s.input = {dim_t{1} << 45};
  s.kernel = {1};
  s.dtype = DType::f64;
  const Shapes sh = shapes(s);
  const Plan plan(s, Pass::backward_data, PlanOptions{SIZE_MAX, 1, "reference"});
  ASSERT_EQ(plan.workspace_bytes(), (std::size_t{1} << 45) * sizeof(double));
  double one = 1;
  try {
    plan.backward_data(ConstTensorView(&one, DType::f64, sh.y), ConstTensorView(&one, DType::f64, sh.w),
                       TensorView(nullptr, DType::f64, sh.x));
    ADD_FAILURE() << "a 256 TiB workspace was allocated";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allocate"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("workspace"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Error::Kind::memory) << e.what();
  }
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

// Runs reuse one workspace per calling thread: a second run of a plan allocates nothing. (Fresh
// per-run buffers came from fresh mmap pages, and their first touch made the first ~10 runs
// of a layer in a new process 4-6x slower than the later ones.)
TEST(Workspace, RepeatedRunsReuseTheThreadsWorkspace) {
  Spec s;
  s.N = 1;
  s.C = 16;
  s.K = 16;
  s.input = {24, 24};
  s.kernel = {3, 3};
  s.padding = Padding::lo_hi({{1, 1}, {1, 1}});
  s.dtype = DType::f32;
  for (const std::string algo : {"padded_igemm", "implicit_gemm"}) {
    SCOPED_TRACE(algo);
    PlanOptions o;
    o.algorithm = algo;
    o.threads = 1;
    o.constant_weights = true;
    const Plan plan(s, Pass::forward, o);
    ASSERT_GT(plan.workspace_bytes(), 0u);
    const PassShapes sh = pass_shapes(s, Pass::forward);
    Tensor x(s.dtype, sh.a), w(s.dtype, sh.b), y(s.dtype, sh.out);
    x.fill_integers(1);
    w.fill_integers(2);
    plan.forward(x.view(), w.view(), std::nullopt, y.view());
    detail::BufferStats::reset_peak();
    const std::size_t before = detail::BufferStats::live();
    plan.forward(x.view(), w.view(), std::nullopt, y.view());
    EXPECT_EQ(detail::BufferStats::peak(), before);
  }
}

}  // namespace
}  // namespace convnd::testing

namespace convnd::testing {
namespace {

Spec workspace_seam_spec() {
  Spec s;
  s.N = 2;
  s.C = 8;
  s.K = 12;
  s.input = {13, 11};
  s.kernel = {3, 3};
  s.stride = {2, 1};
  s.padding = Padding::lo_hi({{1, 1}, {2, 0}});
  s.dtype = DType::f32;
  return s;
}

// A caller's workspace gives the same result as the plan's own, in every pass and algorithm.
TEST(Workspace, CallerWorkspaceGivesTheSameResult) {
  const Spec s = workspace_seam_spec();
  for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights})
    for (const std::string& algo : algorithms()) {
      PlanOptions o;
      o.algorithm = algo;
      std::optional<Plan> plan;
      try {
        plan.emplace(s, p, o);
      } catch (const Error&) {
        continue;
      }
      SCOPED_TRACE(algo + " " + to_string(p));
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a), b(s.dtype, sh.b), own(s.dtype, sh.out), given(s.dtype, sh.out);
      a.fill_integers(4);
      b.fill_integers(5);
      detail::AlignedBuffer ws(plan->workspace_bytes() + 64, "test workspace");
      const Workspace w{ws.data(), ws.size()};
      switch (p) {
        case Pass::forward:
          plan->forward(a.view(), b.view(), std::nullopt, own.view());
          plan->forward(a.view(), b.view(), std::nullopt, given.view(), w);
          break;
        case Pass::backward_data:
          plan->backward_data(a.view(), b.view(), own.view());
          plan->backward_data(a.view(), b.view(), given.view(), w);
          break;
        case Pass::backward_weights:
          plan->backward_weights(a.view(), b.view(), own.view(), std::nullopt);
          plan->backward_weights(a.view(), b.view(), given.view(), std::nullopt, w);
          break;
      }
      EXPECT_TRUE(bitwise_equal(own, given));
    }
}

template <class Call>
void expect_error(Call call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Workspace, CallerWorkspaceIsChecked) {
  const Spec s = workspace_seam_spec();
  PlanOptions o;
  o.algorithm = "implicit_gemm";
  const Plan plan(s, Pass::forward, o);
  ASSERT_GT(plan.workspace_bytes(), 64u);
  const PassShapes sh = pass_shapes(s, Pass::forward);
  Tensor x(s.dtype, sh.a), w(s.dtype, sh.b), y(s.dtype, sh.out);
  detail::AlignedBuffer ws(plan.workspace_bytes() + 64, "test workspace");
  auto* base = static_cast<char*>(ws.data());
  expect_error([&] {
    plan.forward(x.view(), w.view(), std::nullopt, y.view(), {base, plan.workspace_bytes() - 1});
  }, "argument 'workspace': holds");
  expect_error([&] {
    plan.forward(x.view(), w.view(), std::nullopt, y.view(), {base + 4, plan.workspace_bytes()});
  }, "argument 'workspace': must be 64-byte aligned");
  // The input's own memory as the workspace: refused before anything is written.
  const std::size_t x_bytes = static_cast<std::size_t>(numel(sh.a)) * 4;
  detail::AlignedBuffer big(std::max(x_bytes, plan.workspace_bytes()), "overlap");
  ConstTensorView xv(static_cast<const float*>(big.data()), sh.a);
  expect_error([&] {
    plan.forward(xv, w.view(), std::nullopt, y.view(), {big.data(), big.size()});
  }, "argument 'workspace': output memory overlaps the memory of input 'x'");
}

}  // namespace
}  // namespace convnd::testing
