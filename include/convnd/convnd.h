// convnd: N-dimensional convolution (cross-correlation, no kernel flip) on the CPU.
//
// The whole public C++ API is in this header:
//   Spec        what one convolution is: shapes, stride, dilation, padding, mode, layout, dtype
//   TensorView  pointer + dtype + shape + strides (in elements, any sign, any order)
//   Plan        a Spec + Pass resolved once, with its algorithm chosen, run many times
//   Error       the one exception type; its message names the argument, the axis and the rule
//
// Shapes are given in logical order whatever the memory layout:
//   forward      x (N, C, S0..), w (K, C/groups, k0..), y (N, K, O0..), bias (K)
//   transposed   x (N, C, S0..), w (C, K/groups, k0..), y (N, K, O0..), bias (K)
// With Layout::channels_last the views of x and y are (N, S0.., C) and (N, O0.., K) instead.
// The weight is always logical (K, C/groups, k..) (or (C, K/groups, k..) when transposed); its
// strides may describe any memory order (e.g. HWIO is a permuted view of OIHW).
//
// A transposed Spec is the backward-data pass of its matching forward Spec, and its gradients are
// that Spec's forward and backward-weights passes: one implementation serves the three uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace convnd {

using dim_t = std::int64_t;

// The single error type. kind() tells a dtype problem (TypeError in Python) from a value problem
// (ValueError), and both from memory that could not be allocated (MemoryError): a workspace, a
// packed-weight buffer or planning's own tables. The last is no fault of the arguments: the same
// call may succeed with more memory free, a smaller workspace_limit or fewer threads.
class Error : public std::invalid_argument {
 public:
  enum class Kind { value, type, memory };
  explicit Error(const std::string& what, Kind kind = Kind::value)
      : std::invalid_argument(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

enum class DType { f32, f64 };
enum class Layout { channels_first, channels_last };

// How samples outside the input are produced, for every pass. For an input 'a b c d':
//   zeros      0 0 | a b c d | 0 0
//   reflect    c b | a b c d | c b   (mirror, edge not repeated; numpy "reflect", ndimage "mirror")
//   symmetric  b a | a b c d | d c   (mirror, edge repeated; numpy "symmetric", ndimage "reflect")
//   replicate  a a | a b c d | d d   (numpy "edge", ndimage "nearest")
//   circular   c d | a b c d | a b   (numpy/ndimage "wrap")
// Any padding size works: reflect and symmetric repeat periodically as numpy.pad does.
enum class PadMode { zeros, reflect, symmetric, replicate, circular };

// How `same` padding splits its total. See resolve_padding() and the README's table.
enum class SamePolicy {
  torch,     // stride 1 only; total = dil*(k-1); extra element on the high side
  tf,        // out = ceil(S/stride); extra element on the high side
  tf_lower,  // out = ceil(S/stride); extra element on the low side
  numpy_ml,  // out = S for any stride (numpy-ml's calc_pad_dims_2D); extra on the high side
  scipy,     // total = dil*(k-1); extra element on the low side (scipy.ndimage origin 0)
};

enum class Pass { forward, backward_data, backward_weights };

// What a Plan may trade for speed. standard: algorithms with a documented error bound
// (Winograd for 3x3 stride-1 layers, within 64x direct summation's, docs/winograd.md; the FFT
// for large float32 kernels, docs/fft.md); Plan::error_bound() reports the chosen one's.
// highest: direct summation only.
enum class Precision { standard, highest };

// Parsers accept the canonical names printed by to_string() and the documented synonyms.
PadMode parse_pad_mode(std::string_view name);
SamePolicy parse_same_policy(std::string_view name);
Pass parse_pass(std::string_view name);
DType parse_dtype(std::string_view name);
Layout parse_layout(std::string_view name);
Precision parse_precision(std::string_view name);
const char* to_string(PadMode);
const char* to_string(SamePolicy);
const char* to_string(Pass);
const char* to_string(DType);
const char* to_string(Layout);
const char* to_string(Precision);
std::size_t dtype_size(DType);

// A padding request, resolved per axis by resolve_padding().
struct Padding {
  enum class Kind { explicit_pairs, valid, full, causal, same };
  Kind kind = Kind::explicit_pairs;
  // explicit_pairs: one (lo, hi) pair for every axis, or a single pair used for all axes.
  std::vector<std::pair<dim_t, dim_t>> pairs{{0, 0}};
  SamePolicy policy = SamePolicy::torch;  // used by Kind::same only

  static Padding uniform(dim_t p) { return lo_hi({{p, p}}); }
  static Padding per_axis(const std::vector<dim_t>& p);
  static Padding lo_hi(std::vector<std::pair<dim_t, dim_t>> pairs);
  static Padding valid() { return {Kind::valid, {}, SamePolicy::torch}; }
  static Padding full() { return {Kind::full, {}, SamePolicy::torch}; }
  // All of dil*(k-1) on the low side of every axis (a causal filter for 1-D sequences).
  static Padding causal() { return {Kind::causal, {}, SamePolicy::torch}; }
  static Padding same(SamePolicy policy = SamePolicy::torch) { return {Kind::same, {}, policy}; }
  // "3", "1,2", "1:2,0:1" (lo:hi per axis), "valid", "full", "causal", "same", "same:tf", ...
  static Padding parse(std::string_view text);
  std::string to_string() const;
};

// One convolution. Vectors of per-axis values (stride, dilation, output_padding) may hold a
// single value that is used for every axis, or be empty for the default.
struct Spec {
  dim_t N = 1;       // batch
  dim_t C = 1;       // channels of x
  dim_t K = 1;       // channels of y
  dim_t groups = 1;  // C and K must both be multiples of it; groups == C is depthwise
  std::vector<dim_t> input;   // spatial extents of x; its size is the rank d >= 1
  std::vector<dim_t> kernel;  // spatial extents of w, size d
  std::vector<dim_t> stride;  // default 1
  std::vector<dim_t> dilation;  // 1-based: 1 is a dense kernel; default 1
  Padding padding;
  PadMode pad_mode = PadMode::zeros;
  Layout layout = Layout::channels_first;
  DType dtype = DType::f32;
  bool bias = false;
  // Transposed convolution. output_padding (< max(stride, dilation) per axis) adds elements on
  // the high side; alternatively output_size (spatial, size d) asks for an exact output size.
  bool transposed = false;
  std::vector<dim_t> output_padding;
  std::vector<dim_t> output_size;
  // MyGrad's rule: reject a forward geometry whose last window does not end exactly on the
  // padded input (a non-integer (S + lo + hi - dil*(k-1) - 1) / stride) instead of flooring.
  bool strict = false;

  int rank() const { return static_cast<int>(input.size()); }
  // One problem string, used by tests, benchmarks, the CLI and errors, e.g.
  // "n1c64k64s56x56k3x3p1", "n2c4k8g2s9x7k3x2t2x1d1x2p1:2,0 mode=reflect channels_last f64 bias"
  // (n N, c C, k K, g groups, s input, k kernel, t stride, d dilation, p padding as
  // Padding::to_string() prints it; then flags: mode=, channels_last, f64, bias, transposed,
  // op=1x0 (output_padding), out=9x7 (output_size), strict).
  std::string to_string() const;
  // Reads back what to_string() prints: parse(s.to_string()) has every field that string shows.
  // Also accepts the defaults spelled out (channels_first, f32, mode=zeros), 'same' without a
  // policy, 'lo:hi' pairs with lo == hi, and the flags in any order. Throws Error naming the
  // character position and what was expected there.
  static Spec parse(std::string_view text);
};

// Per-axis (lo, hi) padding of the spec as given (for a transposed spec: of the transposed op,
// i.e. the amount cropped from its output). Throws Error on an invalid spec.
std::vector<std::pair<dim_t, dim_t>> resolve_padding(const Spec& spec);
// Spatial extents of y.
std::vector<dim_t> output_extents(const Spec& spec);
// Output padding actually used by a transposed spec (derived from output_size when given).
std::vector<dim_t> resolve_output_padding(const Spec& spec);

// Full logical shapes of the views a pass takes, in the order of the Spec's layout.
struct Shapes {
  std::vector<dim_t> x, w, y, bias;
};
Shapes shapes(const Spec& spec);

// A few lines showing, for each axis, the output formula with the numbers filled in.
std::string explain(const Spec& spec);

// A strided view of a tensor. Strides are in elements and may be negative or zero-free in any
// order; empty strides mean C-contiguous. When capacity_elems >= 0, every element the view can
// address must lie in [data, data + capacity_elems) or the call is rejected.
template <class Ptr>
struct BasicView {
  Ptr data = nullptr;
  DType dtype = DType::f32;
  std::vector<dim_t> shape;
  std::vector<dim_t> strides;
  dim_t capacity_elems = -1;

  template <class Other>
  BasicView(const BasicView<Other>& o)  // NOLINT: mutable -> const is implicit
      : data(o.data), dtype(o.dtype), shape(o.shape), strides(o.strides),
        capacity_elems(o.capacity_elems) {}
  BasicView() = default;
  BasicView(Ptr d, DType t, std::vector<dim_t> s, std::vector<dim_t> st = {}, dim_t cap = -1)
      : data(d), dtype(t), shape(std::move(s)), strides(std::move(st)), capacity_elems(cap) {}
  BasicView(float* d, std::vector<dim_t> s) : BasicView(d, DType::f32, std::move(s)) {}
  BasicView(double* d, std::vector<dim_t> s) : BasicView(d, DType::f64, std::move(s)) {}
  BasicView(const float* d, std::vector<dim_t> s)
    requires std::is_const_v<std::remove_pointer_t<Ptr>>
      : BasicView(d, DType::f32, std::move(s)) {}
  BasicView(const double* d, std::vector<dim_t> s)
    requires std::is_const_v<std::remove_pointer_t<Ptr>>
      : BasicView(d, DType::f64, std::move(s)) {}
};
using TensorView = BasicView<void*>;
using ConstTensorView = BasicView<const void*>;

struct PlanOptions {
  std::size_t workspace_limit = SIZE_MAX;  // bytes; an algorithm needing more is not chosen
  int threads = 0;                         // 0: all cores
  std::string algorithm;                   // force one algorithm by name ("" = best)
  // A promise that every run of this plan gets the same weights, unchanged (inference). The
  // plan may then keep the weights packed after the first run instead of packing them per run.
  // Passing a different weight pointer repacks; changing the values behind the same pointer is
  // not detected.
  bool constant_weights = false;
  Precision precision = Precision::standard;
};

// Scratch memory a caller hands to a run (as XNNPACK's setup takes a workspace): at least
// Plan::workspace_bytes() bytes, 64-byte aligned, not overlapping any argument, and used by
// one run at a time. Without one, a run uses a buffer kept per calling thread.
struct Workspace {
  void* data = nullptr;
  std::size_t bytes = 0;
};

// A spec + pass, validated and resolved once; run() many times. Not copyable state beyond the
// spec; safe to run from several threads at once with distinct outputs (and distinct
// workspaces, when given).
class Plan {
 public:
  Plan(const Spec& spec, Pass pass, PlanOptions options = {});
  ~Plan();
  Plan(Plan&&) noexcept;
  Plan& operator=(Plan&&) noexcept;

  const Spec& spec() const;
  Pass pass() const;
  const std::string& algorithm() const;
  std::size_t workspace_bytes() const;
  // Why each better-ranked algorithm was not chosen, one line each.
  const std::vector<std::string>& rejections() const;
  // Bound on max |result - exact| / max (sum over the reduction of |products|) of the chosen
  // algorithm: the classic n * u of direct summation, or Winograd's measured bound.
  double error_bound() const;

  // Pass::forward:          y = conv(x, w) (+ bias)
  void forward(ConstTensorView x, ConstTensorView w, std::optional<ConstTensorView> bias,
               TensorView y, Workspace workspace = {}) const;
  // Pass::backward_data:    dx = gradient of <y, dy> with respect to x
  void backward_data(ConstTensorView dy, ConstTensorView w, TensorView dx,
                     Workspace workspace = {}) const;
  // Pass::backward_weights: dw (and dbias when given) = gradient of <y, dy> w.r.t. w (and bias)
  void backward_weights(ConstTensorView x, ConstTensorView dy, TensorView dw,
                        std::optional<TensorView> dbias, Workspace workspace = {}) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One-shot helpers: make a Plan and run it once.
void forward(const Spec& spec, ConstTensorView x, ConstTensorView w,
             std::optional<ConstTensorView> bias, TensorView y, PlanOptions options = {});
void backward_data(const Spec& spec, ConstTensorView dy, ConstTensorView w, TensorView dx,
                   PlanOptions options = {});
void backward_weights(const Spec& spec, ConstTensorView x, ConstTensorView dy, TensorView dw,
                      std::optional<TensorView> dbias, PlanOptions options = {});

// Names of the algorithms this build has, best first.
std::vector<std::string> algorithms();

const char* version();

// The SIMD target the kernels run on this CPU (Highway's name, e.g. "AVX3", "AVX2").
const char* simd_target();
// Threads a Plan with threads = 0 uses: OpenMP's default (OMP_NUM_THREADS, else every core).
int default_threads();

// Where a multi-threaded run finds its threads, for the whole process.
//  - kPool (the default): convnd's own helper threads, which sleep between runs. A helper the OS
//    has descheduled (the machine is busy) is not waited for: the threads that did show up take
//    its tasks.
//  - kOpenMP: the OpenMP runtime's team of the calling thread. Use it in a process where another
//    library runs OpenMP parallel regions between convnd's calls (PyTorch: convnd.torch selects
//    it): that library's threads busy-wait for a while after each of its regions, and convnd's
//    own helpers would then compete with them for the cores (on 2 cores, a 3-D layer's forward
//    timed between torch's own calls: 2.1-2.7 ms from the pool, 1.4-1.7 ms from the team; the
//    README's PyTorch section). On the OpenMP team the same threads serve both. The team's join waits for every thread, so on a busy machine kPool degrades
//    less.
// Results are bitwise the same with either: tasks, not threads, decide the arithmetic.
enum class ThreadSource { kPool, kOpenMP };
void set_thread_source(ThreadSource source);
ThreadSource thread_source();

}  // namespace convnd
