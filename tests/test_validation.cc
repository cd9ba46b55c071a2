// Every validation rule gives an Error naming the argument, the axis and the rule, and a failed
// call leaves the output untouched.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

Spec base() {
  Spec s;
  s.N = 2;
  s.C = 4;
  s.K = 6;
  s.groups = 2;
  s.input = {7, 8};
  s.kernel = {3, 3};
  return s;
}

// Expects resolving `s` to fail with a message containing every fragment.
void expect_error(const Spec& s, std::initializer_list<const char*> fragments) {
  SCOPED_TRACE(s.to_string());
  try {
    output_extents(s);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const char* f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg << "\n  missing: " << f;
  }
}

TEST(Validation, SpecRules) {
  Spec s = base();
  s.kernel = {3};
  expect_error(s, {"'kernel'", "one extent per spatial axis", "2 (got 1)"});
  s = base();
  s.input = {};
  s.kernel = {};
  expect_error(s, {"'input'", "rank d >= 1"});
  s = base();
  s.stride = {1, 2, 3};
  expect_error(s, {"'stride'", "1 or 2 values"});
  s = base();
  s.groups = 3;
  expect_error(s, {"'groups'", "divide the input channels", "C = 4, groups = 3"});
  s = base();
  s.K = 5;
  expect_error(s, {"'groups'", "output channels", "K = 5"});
  s = base();
  s.stride = {1, 0};
  expect_error(s, {"'stride', axis 1", ">= 1 (got 0)"});
  s = base();
  s.dilation = {-1};
  expect_error(s, {"'dilation', axis 0", ">= 1 (got -1)"});
  s = base();
  s.padding = Padding::lo_hi({{0, 0}, {1, -2}});
  expect_error(s, {"'padding', axis 1", ">= 0", "hi = -2"});
  s = base();
  s.kernel = {3, 9};
  expect_error(s, {"'kernel', axis 1", "output extent would be < 1", "8 + 0 + 0 = 8", "= 9"});
  s = base();
  s.stride = {2};
  s.padding = Padding::same(SamePolicy::torch);
  expect_error(s, {"'padding', axis 0", "'same'", "stride 1", "got stride 2"});
  s = base();
  s.stride = {2};
  s.strict = true;
  expect_error(s, {"'stride', axis 1", "Stride and kernel dimensions are incompatible", "5 / 2"});
  s = base();
  s.C = 0;
  expect_error(s, {"'C'", ">= 1"});
  s = base();
  s.input = {7, 0};
  expect_error(s, {"'input', axis 1", ">= 1 (got 0)"});
  s = base();
  s.output_padding = {1};
  expect_error(s, {"'output_padding'", "transposed"});
}

TEST(Validation, TransposedRules) {
  Spec s = base();
  s.transposed = true;
  s.stride = {2, 3};
  s.output_padding = {1, 3};
  expect_error(s, {"'output_padding', axis 1", "max(stride, dilation) = 3", "got 3"});
  s.output_padding = {};
  s.output_size = {20, 20};
  expect_error(s, {"'output_size', axis 0", "outside the reachable range [15, 16]"});
  s.output_size = {};
  s.padding = Padding::same();
  expect_error(s, {"'padding'", "not defined for a transposed"});
  s.padding = Padding::uniform(6);
  s.stride = {1};
  expect_error(s, {"'padding', axis 0", "is < 1"});
}

TEST(Validation, Overflow) {
  Spec s = base();
  s.N = dim_t{1} << 40;
  s.C = 1 << 20;
  s.groups = 1;
  s.K = 1;
  expect_error(s, {"'input'", "overflows int64"});
  s = base();
  s.input = {dim_t{1} << 62, 8};
  s.kernel = {1, 1};
  s.padding = Padding::lo_hi({{dim_t{1} << 62, 0}, {0, 0}});
  expect_error(s, {"overflows int64"});
  // Found by fuzz_spec: a transposed output extent whose padding subtraction overflowed.
  s = base();
  s.transposed = true;
  s.padding = Padding::lo_hi({{std::numeric_limits<dim_t>::max() - 5, dim_t{1} << 54}, {0, 0}});
  expect_error(s, {"'padding'", "overflows int64"});
  s = base();
  s.transposed = true;
  s.output_size = {std::numeric_limits<dim_t>::min() + 1, 9};
  expect_error(s, {"'output_size'", "overflows int64"});
  // Found by fuzz_spec: ceil(S / stride) computed as (S + stride - 1) / stride overflowed.
  s = base();
  s.input = {std::numeric_limits<dim_t>::max() - 1, 8};
  s.stride = {4, 1};
  s.padding = Padding::same(SamePolicy::tf);
  expect_error(s, {"overflows int64"});
  s = base();
  s.kernel = {std::numeric_limits<dim_t>::max(), 1};
  s.dilation = {2};
  expect_error(s, {"'kernel'", "overflows int64"});
}

// Runs `call`, expecting an Error containing `fragment`, and that y kept its sentinel values.
template <class Call>
void expect_call_error(Call call, const Tensor& y, const char* fragment, Error::Kind kind = Error::Kind::value) {
  const auto before = y.raw();
  try {
    call();
    ADD_FAILURE() << "no error; expected: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), kind) << e.what();
  }
  EXPECT_TRUE(before == y.raw()) << "output changed by a failed call";
}

TEST(Validation, ViewRules) {
  const Spec s = base();
  const Shapes sh = shapes(s);
  Tensor x(DType::f32, sh.x), w(DType::f32, sh.w), y(DType::f32, sh.y);
  x.fill_integers(1);
  w.fill_integers(2);
  y.fill(42);
  const Plan plan(s, Pass::forward);
  Tensor x64(DType::f64, sh.x);
  expect_call_error([&] { plan.forward(x64.view(), w.view(), std::nullopt, y.view()); }, y,
                    "'x': dtype float64 does not match the plan's dtype float32", Error::Kind::type);
  Tensor xbad(DType::f32, {2, 3, 7, 8});
  expect_call_error([&] { plan.forward(xbad.view(), w.view(), std::nullopt, y.view()); }, y,
                    "'x', axis 1: extent 3 where the channel count must be 4");
  Tensor x3(DType::f32, {2, 4, 7});
  expect_call_error([&] { plan.forward(x3.view(), w.view(), std::nullopt, y.view()); }, y,
                    "'x': expected 4 dimensions");
  Tensor wbad(DType::f32, {6, 4, 3, 3});
  expect_call_error([&] { plan.forward(x.view(), wbad.view(), std::nullopt, y.view()); }, y,
                    "'w', axis 1: extent 4 where the input channels per group must be 2");
  // A view whose strides reach past the buffer it declares.
  ConstTensorView xv = x.view();
  xv.capacity_elems -= 1;
  expect_call_error([&] { plan.forward(xv, w.view(), std::nullopt, y.view()); }, y,
                    "outside the buffer");
  // Output overlapping an input.
  TensorView alias(const_cast<void*>(x.view().data), DType::f32, sh.y);
  expect_call_error([&] { plan.forward(x.view(), w.view(), std::nullopt, alias); }, y,
                    "'y': output memory overlaps the memory of input 'x'");
  // Bias given to a spec without one; a plan used for another pass.
  Tensor b(DType::f32, {6});
  expect_call_error([&] { plan.forward(x.view(), w.view(), b.view(), y.view()); }, y,
                    "'bias': a bias view was given but the spec has bias = false");
  expect_call_error([&] { plan.backward_data(y.view(), w.view(), x.view()); }, y,
                    "made for pass fwd, not bwd_data");
  // Zero stride on an output axis would write one element many times.
  TensorView yz = y.view();
  yz.strides = {0, 1, 1, 1};
  expect_call_error([&] { plan.forward(x.view(), w.view(), std::nullopt, yz); }, y,
                    "'y', axis 0: output view has stride 0");
  // Strides that make two (n, k, h, w) name the same element.
  TensorView yo = y.view();
  yo.strides = {1, 1, 1, 1};
  expect_call_error([&] { plan.forward(x.view(), w.view(), std::nullopt, yo); }, y,
                    "output view's elements may overlap");
}

TEST(Validation, UnknownAlgorithmAndWorkspaceLimit) {
  PlanOptions o;
  o.algorithm = "nope";
  EXPECT_THROW(Plan(base(), Pass::forward, o), Error);
  // The reference needs workspace for backward_data (one double plane); a limit below it fails.
  PlanOptions tight;
  tight.workspace_limit = 8;
  tight.algorithm = "reference";
  try {
    Plan p(base(), Pass::backward_data, tight);
    ADD_FAILURE() << "plan made despite the workspace limit";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("workspace"), std::string::npos) << e.what();
  }
  const Plan fits(base(), Pass::backward_data, PlanOptions{SIZE_MAX, 0, "reference"});
  EXPECT_EQ(fits.workspace_bytes(), 7u * 8u * sizeof(double));
}

}  // namespace
}  // namespace convnd::testing
