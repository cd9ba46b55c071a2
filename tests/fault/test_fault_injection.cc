// # Fault injection: the n-th allocation fails
//
// This executable replaces the global operator new and delete (every allocation of the library
// goes through them, the workspace's aligned ones included). Armed with n, the n-th allocation
// from then on throws std::bad_alloc (or returns null, for the nothrow forms). For a set of
// problems that reaches every algorithm and every pass, each n from 1 up to the number of
// allocations that a plan and a run make is tried, and each failure must give convnd::Error
// (nothing else escapes, nothing terminates: an exception inside an OpenMP region would), leave
// every output either untouched or NaN throughout (never a partly written result that looks
// valid), and leak nothing (the ASan build of CI runs this with leak detection). When the run
// gets past the armed allocation, the result must equal the one of an unarmed run.
// A separate executable, so that the replacement operators touch no other test.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "convnd/convnd.h"

namespace {

// 0: disarmed. n > 0: the allocation that brings it from 1 to 0 fails.
std::atomic<long> g_countdown{0};

bool fail_now() {
  if (g_countdown.load(std::memory_order_relaxed) <= 0) return false;
  return g_countdown.fetch_sub(1) == 1;
}

void* allocate(std::size_t n, std::size_t align) {
  if (fail_now()) return nullptr;
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}

void* allocate_or_throw(std::size_t n, std::size_t align) {
  void* p = allocate(n, align);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return allocate_or_throw(n, 0); }
void* operator new[](std::size_t n) { return allocate_or_throw(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using convnd::dim_t;
using convnd::DType;
using convnd::Pass;
using convnd::Spec;

constexpr double kUntouched = 7.25;  // the outputs' value before a run: not a result of the data

dim_t count(const std::vector<dim_t>& shape) {
  dim_t n = 1;
  for (dim_t e : shape) n *= e;
  return n;
}

// Tensors of one problem in float64 or float32, integer-valued inputs.
struct Tensors {
  DType dtype;
  std::vector<std::vector<double>> d;  // x, w, y(dy), bias, dbias in float64
  std::vector<std::vector<float>> f;   // the same in float32
  std::vector<std::vector<dim_t>> shape;

  Tensors(const Spec& s) : dtype(s.dtype) {
    const convnd::Shapes sh = convnd::shapes(s);
    shape = {sh.x, sh.w, sh.y, sh.bias, sh.bias};
    for (const auto& e : shape) {
      std::vector<double> v(static_cast<std::size_t>(count(e)));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(static_cast<int>(i * 7 % 17) - 8);
      d.push_back(v);
      f.emplace_back(v.begin(), v.end());
    }
  }
  convnd::TensorView view(int i) {
    if (dtype == DType::f64) return convnd::TensorView(d[i].data(), shape[i]);
    return convnd::TensorView(f[i].data(), shape[i]);
  }
  void set(int i, double value) {
    std::fill(d[i].begin(), d[i].end(), value);
    std::fill(f[i].begin(), f[i].end(), static_cast<float>(value));
  }
  std::vector<double> values(int i) const {
    if (dtype == DType::f64) return d[i];
    return std::vector<double>(f[i].begin(), f[i].end());
  }
};

// The outputs of a pass: indices into Tensors.
std::vector<int> outputs(Pass p, bool bias) {
  switch (p) {
    case Pass::forward: return {2};
    case Pass::backward_data: return {0};
    case Pass::backward_weights: return bias ? std::vector<int>{1, 4} : std::vector<int>{1};
  }
  return {};
}

// Plans and runs once (the plan made inside, as its allocations are part of what may fail). The
// views and options are made before arming and moved into the calls: copying them (the API
// takes them by value) would allocate in this test's code rather than in the library.
struct Call {
  convnd::PlanOptions options;
  std::vector<convnd::TensorView> views;         // x, w, y, bias, dbias: as outputs
  std::vector<convnd::ConstTensorView> inputs;   // the same as inputs (no conversion later)
  Call(const std::string& algorithm, int threads, Tensors& t) {
    options.algorithm = algorithm;
    options.threads = threads;
    for (int i = 0; i < 5; ++i) views.push_back(t.view(i));
    for (int i = 0; i < 5; ++i) inputs.push_back(t.view(i));
  }
};

void plan_and_run(const Spec& s, Pass p, Call& c) {
  std::vector<convnd::TensorView>& v = c.views;
  std::vector<convnd::ConstTensorView>& in = c.inputs;
  const convnd::Plan plan(s, p, std::move(c.options));
  switch (p) {
    case Pass::forward: {
      std::optional<convnd::ConstTensorView> bias;
      if (s.bias) bias.emplace(std::move(in[3]));
      plan.forward(std::move(in[0]), std::move(in[1]), std::move(bias), std::move(v[2]));
      break;
    }
    case Pass::backward_data:
      plan.backward_data(std::move(in[2]), std::move(in[1]), std::move(v[0]));
      break;
    case Pass::backward_weights: {
      std::optional<convnd::TensorView> dbias;
      if (s.bias) dbias.emplace(std::move(v[4]));
      plan.backward_weights(std::move(in[0]), std::move(in[2]), std::move(v[1]), std::move(dbias));
      break;
    }
  }
}

struct Case {
  std::string name;
  Spec spec;
};

std::vector<Case> cases() {
  std::vector<Case> all;
  auto add = [&](std::string name, Spec s) { all.push_back({std::move(name), std::move(s)}); };
  Spec s;
  s.N = 2, s.C = 3, s.K = 4, s.input = {9, 8}, s.kernel = {3, 3}, s.bias = true;
  s.padding = convnd::Padding::lo_hi({{1, 1}});
  add("dense3x3_f32", s);  // Winograd F(2), F(4), F(6), padded and implicit GEMM, wgrad
  s.dtype = DType::f64;
  add("dense3x3_f64", s);
  s.dtype = DType::f32;
  s.stride = {2};
  s.pad_mode = convnd::PadMode::reflect;
  add("stride2_reflect", s);  // stride phases, folding of the padded gradient
  s = Spec{};
  s.N = 2, s.C = 4, s.K = 4, s.groups = 4, s.input = {7, 6}, s.kernel = {3, 2};
  s.layout = convnd::Layout::channels_last;
  add("depthwise", s);
  s = Spec{};
  s.N = 1, s.C = 5, s.K = 3, s.input = {6, 5}, s.kernel = {1, 1};
  add("pointwise", s);
  s = Spec{};
  s.N = 1, s.C = 2, s.K = 3, s.input = {5}, s.kernel = {3}, s.stride = {2}, s.transposed = true;
  s.padding = convnd::Padding::lo_hi({{1, 0}});
  add("transposed1d", s);
  return all;
}

bool all_equal(const std::vector<double>& v, double x) {
  for (double e : v)
    if (!(e == x)) return false;
  return true;
}
bool all_nan(const std::vector<double>& v) {
  for (double e : v)
    if (!std::isnan(e)) return false;
  return true;
}

TEST(FaultInjection, EveryAllocationOfPlanAndRunMayFail) {
  long failures = 0, cases_run = 0;
  for (const Case& c : cases())
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights})
      for (const std::string& algo : convnd::algorithms())
        for (int threads : {1, 2}) {
          const std::vector<int> outs = outputs(p, c.spec.bias);
          // The unarmed result; an algorithm that does not take the problem is skipped.
          Tensors want(c.spec);
          try {
            Call call(algo, threads, want);
            plan_and_run(c.spec, p, call);
          } catch (const convnd::Error&) {
            continue;
          }
          ++cases_run;
          SCOPED_TRACE(c.name + " " + convnd::to_string(p) + " " + algo + " threads " +
                       std::to_string(threads));
          bool reached_end = false;
          for (long n = 1; n <= 20000 && !reached_end; ++n) {
            Tensors t(c.spec);
            for (int o : outs) t.set(o, kUntouched);
            Call call(algo, threads, t);
            g_countdown.store(n);
            bool failed = false;
            try {
              plan_and_run(c.spec, p, call);
            } catch (const convnd::Error& e) {
              failed = true;
              const std::string what = e.what();
              EXPECT_TRUE(what.find("out of memory") != std::string::npos ||
                          what.find("cannot allocate") != std::string::npos)
                  << "n = " << n << ": " << what;
              EXPECT_EQ(e.kind(), convnd::Error::Kind::memory) << "n = " << n << ": " << what;
            } catch (const std::exception& e) {
              ADD_FAILURE() << "n = " << n << ": an exception other than convnd::Error: "
                            << e.what();
              failed = true;
            }
            const bool injected = g_countdown.exchange(0) <= 0;
            if (failed) {
              ++failures;
              EXPECT_TRUE(injected) << "n = " << n << ": failed without an injected fault";
              // Outputs: untouched, or NaN throughout (all of them).
              bool untouched = true, nan = true;
              for (int o : outs) {
                untouched = untouched && all_equal(t.values(o), kUntouched);
                nan = nan && all_nan(t.values(o));
              }
              EXPECT_TRUE(untouched || nan) << "n = " << n << ": a partly written output";
              if (!untouched && !nan) return;
            } else {
              reached_end = !injected;
              // Some allocations may fail harmlessly (a nothrow one that has a fallback); the
              // result must then still be right.
              for (int o : outs) EXPECT_EQ(t.values(o), want.values(o)) << "n = " << n;
            }
          }
          EXPECT_TRUE(reached_end) << "more than 20000 allocations";
        }
  EXPECT_GE(cases_run, 40);
  EXPECT_GT(failures, 1000);
  std::printf("fault injection: %ld plan+run cases, %ld injected failures\n", cases_run, failures);
}

}  // namespace
