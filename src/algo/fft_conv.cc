// # Forward convolution by FFT (large kernels)
//
// Direct summation costs k products per output (k = kernel volume); by transforms, a plane
// costs O(L log L) however large the kernel. Per image n and group g:
//
//   1. each input channel c: the padded box the outputs read (R_d = (O_d - 1) stride_d +
//      (k_d - 1) dil_d + 1 samples per axis, every padding mode applied through
//      map_padded_index, so no mode needs a case of its own), zero-extended to a fast length
//      L_d >= R_d, transformed: X_c;
//   2. each kernel (k, c): the taps placed at t_d dil_d in a zero array of the same extents,
//      transformed once per run: W_kc;
//   3. each output channel k: Y_k = sum_c X_c conj(W_kc) (the channel reduction, per
//      frequency: a complex GEMM with one column), inverse transform, outputs read at
//      o_d stride_d, divided by prod L, plus the bias.
//
// Why L >= R suffices: the product of transforms is a cyclic correlation of period L,
// z[p] = sum_t x[(p + t dil) mod L] w[t], and every position an output reads (p = o stride,
// p + t dil <= R - 1 < L) is free of wrap-around.
//
// Scope: the forward operation (a transposed spec is the backward-data operation, not served
// yet); any rank, groups, stride and dilation, both layouts
// (views are canonical), float32 and float64 (transforms in the tensor's type). Not yet: the
// backward operations and overlap-add tiling of large planes (TODO(#18)); the workspace holds
// every spectrum of one image, and plans whose workspace would pass kMaxWorkspaceBytes are
// rejected with the number. Complex transforms of real data: a real-input transform would halve
// the work (TODO(#18)).
//
// Determinism: each transform, each frequency's channel sum (c ascending) and each output is
// computed inside one task; tasks are fixed by the problem, not the thread count.
#include "algo/fft_conv.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <memory>

#include "algo/fft_transform.h"
#include "api/checked.h"
#include "api/errors.h"
#include "runtime/threads.h"

namespace convnd::detail {
namespace {

constexpr std::size_t kMaxWorkspaceBytes = std::size_t{1} << 30;

struct FftShape {
  std::vector<dim_t> reach;  // R_d: padded samples the outputs read
  std::vector<dim_t> len;    // L_d: transform length
  dim_t total = 1;           // prod L_d
};

// Longest transform along one axis. Past it the spectra could not fit the workspace bound
// anyway, and the search for the next 2-3-5 length (a linear scan) stays short.
constexpr dim_t kMaxAxisLength = dim_t{1} << 28;

// Whether every axis's reach, (out-1)*stride + (k-1)*dil + 1, is at most kMaxAxisLength;
// computed checked, as user extents near 2^63 overflow it (found by fuzz_spec).
bool axes_fit(const Geometry& g) {
  for (int a = 0; a < g.rank(); ++a) {
    Fits f;
    const dim_t r = f.add(f.add(f.mul(g.out[a] - 1, g.stride[a]), f.mul(g.kernel[a] - 1, g.dil[a])), 1);
    if (!f || r > kMaxAxisLength) return false;
  }
  return true;
}

// Only for a geometry that axes_fit().
FftShape fft_shape(const Geometry& g) {
  FftShape s;
  for (int a = 0; a < g.rank(); ++a) {
    const dim_t r = (g.out[a] - 1) * g.stride[a] + (g.kernel[a] - 1) * g.dil[a] + 1;
    s.reach.push_back(r);
    s.len.push_back(fft::next_fast_length(r));
    Fits f;  // saturates: reject() turns a huge total away by its workspace size
    s.total = f.mul(s.total, s.len.back());
    if (!f) s.total = std::numeric_limits<dim_t>::max();
  }
  return s;
}

// Workspace in bytes: the spectra of all kernels, of one image's input channels, and per
// thread slot one output spectrum and one transform line. Saturates at the int64 limit instead
// of overflowing (reject() compares it with kMaxWorkspaceBytes).
std::size_t workspace_for(const Geometry& g, const FftShape& s, std::size_t elem, int slots) {
  Fits f;
  const dim_t L = s.total;
  dim_t max_len = 1;
  for (dim_t l : s.len) max_len = std::max(max_len, l);
  const dim_t elems =
      f.add(f.add(f.mul(f.mul(L, g.K), g.Cg()), f.mul(L, g.Cg())), f.mul(slots, f.add(L, max_len)));
  return static_cast<std::size_t>(f.add(f.mul(elems, 2 * static_cast<dim_t>(elem)), 64 * 8));
}

// Advances an N-D index over `ext` (last axis fastest); false after the last index.
bool next_index(std::vector<dim_t>& idx, const std::vector<dim_t>& ext) {
  for (int a = static_cast<int>(ext.size()) - 1; a >= 0; --a) {
    if (++idx[a] < ext[a]) return true;
    idx[a] = 0;
  }
  return false;
}

template <class T>
class FftExecutor final : public Executor {
  using C = std::complex<T>;

 public:
  explicit FftExecutor(const Geometry& g)
      : g_(g), shape_(fft_shape(g)), plan_(shape_.len), slots_(hardware_threads()) {
    const dim_t d = g.rank();
    lstride_.assign(static_cast<std::size_t>(d), 1);
    for (dim_t a = d - 2; a >= 0; --a) lstride_[a] = lstride_[a + 1] * shape_.len[a + 1];
    // Checked although reject() bounds the total: a size that wrapped would under-allocate.
    const char* ws = "workspace";
    const dim_t L = shape_.total;
    w_bytes_ = checked_bytes64(checked_mul(L, checked_mul(g.K, g.Cg(), ws), ws), sizeof(C), ws);
    x_bytes_ = checked_bytes64(checked_mul(L, g.Cg(), ws), sizeof(C), ws);
    slot_bytes_ = checked_bytes64(checked_add(L, static_cast<dim_t>(plan_.scratch_elems()), ws),
                                  sizeof(C), ws);
    workspace_bytes_ =
        checked_size_add(checked_size_add(w_bytes_, x_bytes_, ws),
                         checked_size_mul(static_cast<std::size_t>(slots_), slot_bytes_, ws), ws);
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int threads_in) const override {
    const int threads = std::min(threads_in, slots_);  // one workspace slot per thread
    char* ws = static_cast<char*>(workspace);
    C* wspec = reinterpret_cast<C*>(ws);
    C* xspec = reinterpret_cast<C*>(ws + w_bytes_);
    char* slots = ws + w_bytes_ + x_bytes_;
    const dim_t L = shape_.total, Cg = g_.Cg(), Kg = g_.Kg();
    auto slot = [&](int i) { return reinterpret_cast<C*>(slots + i * slot_bytes_); };

    // 2. Kernel spectra, all groups: task = one (k, c).
    parallel_tasks(g_.K * Cg, threads, [&](std::int64_t task) {
      const dim_t k = task / Cg, c = task % Cg;
      C* dst = wspec + task * L;
      place_kernel(args.b, k, c, dst);
      plan_.run(dst, false, slot(thread_index()) + L);
    });
    for (dim_t n = 0; n < g_.N; ++n)
      for (dim_t grp = 0; grp < g_.groups; ++grp) {
        // 1. Input spectra of this image and group: task = one channel.
        parallel_tasks(Cg, threads, [&](std::int64_t c) {
          C* dst = xspec + c * L;
          place_input(args.a, n, grp * Cg + c, dst);
          plan_.run(dst, false, slot(thread_index()) + L);
        });
        // 3. Output channels: task = one k.
        parallel_tasks(Kg, threads, [&](std::int64_t kk) {
          const dim_t k = grp * Kg + kk;
          C* acc = slot(thread_index());
          const C* wk = wspec + k * Cg * L;
          // x conj(w), written out: std::complex's operator* is a library call per product
          // (infinity handling) without -ffast-math.
          for (dim_t f = 0; f < L; ++f) acc[f] = C(0);
          for (dim_t c = 0; c < Cg; ++c) {
            const C* xc = xspec + c * L;
            const C* wc = wk + c * L;
            for (dim_t f = 0; f < L; ++f) {
              const T xr = xc[f].real(), xi = xc[f].imag(), wr = wc[f].real(), wi = wc[f].imag();
              acc[f] += C(xr * wr + xi * wi, xi * wr - xr * wi);
            }
          }
          plan_.run(acc, true, acc + L);
          store_output(args, n, k, acc);
        });
      }
  }

 private:
  // The padded box [0, R) of input channel `ch` of image n, zero-extended to L.
  void place_input(const ConstTensorView& x, dim_t n, dim_t ch, C* dst) const {
    std::fill(dst, dst + shape_.total, C(0));
    const T* base = static_cast<const T*>(x.data) + n * x.strides[0] + ch * x.strides[1];
    const int d = g_.rank();
    // Per axis, the input offset of each padded position (or kNoSample): O(sum R) memory.
    std::vector<std::vector<dim_t>> off(static_cast<std::size_t>(d));
    for (int a = 0; a < d; ++a) {
      off[a].resize(static_cast<std::size_t>(shape_.reach[a]));
      for (dim_t p = 0; p < shape_.reach[a]; ++p) {
        const dim_t m = map_padded_index(p - g_.lo[a], g_.in[a], g_.mode);
        off[a][p] = m < 0 ? kNoSample : m * x.strides[2 + a];
      }
    }
    std::vector<dim_t> p(static_cast<std::size_t>(d), 0);
    do {
      dim_t src = 0, at = 0;
      bool zero = false;
      for (int a = 0; a < d; ++a) {
        const dim_t o = off[a][p[a]];
        if (o == kNoSample) {
          zero = true;
          break;
        }
        src += o;
        at += p[a] * lstride_[a];
      }
      if (!zero) dst[at] = C(base[src]);
    } while (next_index(p, shape_.reach));
  }

  // Kernel (k, c) with tap t at t * dil, zero elsewhere.
  void place_kernel(const ConstTensorView& w, dim_t k, dim_t c, C* dst) const {
    std::fill(dst, dst + shape_.total, C(0));
    const T* base = static_cast<const T*>(w.data) + k * w.strides[0] + c * w.strides[1];
    const int d = g_.rank();
    std::vector<dim_t> t(static_cast<std::size_t>(d), 0);
    do {
      dim_t src = 0, at = 0;
      for (int a = 0; a < d; ++a) {
        src += t[a] * w.strides[2 + a];
        at += t[a] * g_.dil[a] * lstride_[a];
      }
      dst[at] = C(base[src]);
    } while (next_index(t, g_.kernel));
  }

  void store_output(const OpArgs& args, dim_t n, dim_t k, const C* z) const {
    const TensorView& y = args.out;
    T* base = static_cast<T*>(y.data) + n * y.strides[0] + k * y.strides[1];
    const double scale = 1.0 / static_cast<double>(shape_.total);
    const double bias = args.bias ? static_cast<double>(static_cast<const T*>(
                                        args.bias->data)[k * args.bias->strides[0]])
                                  : 0.0;
    const int d = g_.rank();
    std::vector<dim_t> o(static_cast<std::size_t>(d), 0);
    do {
      dim_t dst = 0, at = 0;
      for (int a = 0; a < d; ++a) {
        dst += o[a] * y.strides[2 + a];
        at += o[a] * g_.stride[a] * lstride_[a];
      }
      base[dst] = static_cast<T>(static_cast<double>(z[at].real()) * scale + bias);
    } while (next_index(o, g_.out));
  }

  Geometry g_;
  FftShape shape_;
  fft::FftNd<T> plan_;
  int slots_;
  std::vector<dim_t> lstride_;
  std::size_t w_bytes_ = 0, x_bytes_ = 0, slot_bytes_ = 0, workspace_bytes_ = 0;
};

class FftAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "fft"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (op != Op::fwd) return "forward operation only (the backward ones are TODO(#18))";
    if (g.dtype != DType::f32 && g.dtype != DType::f64) return "float32 and float64 only";
    if (!axes_fit(g)) return rule("an axis longer than ", kMaxAxisLength, " padded samples");
    const FftShape s = fft_shape(g);
    const std::size_t elem = g.dtype == DType::f32 ? 4 : 8;
    const std::size_t bytes = workspace_for(g, s, elem, hardware_threads());
    if (bytes > kMaxWorkspaceBytes)
      return rule("the spectra need ", bytes, " bytes (more than ", kMaxWorkspaceBytes,
                  "; overlap-add tiling is TODO(#18))");
    return {};
  }

  // Not chosen unforced: measured 5-30x slower than the direct algorithms on the cases it is
  // for (512x512 with 31x31 and 63x63 kernels, 480000 samples with 1023 taps, one channel,
  // float32: 350-440 ms against 55-155 ms for depthwise), as its transforms are scalar,
  // complex and recursive. It runs when named (PlanOptions::algorithm = "fft"); a dispatch
  // rule comes with vectorised real transforms (TODO(#18)). Also the answer for 'highest'.
  std::string pays(const Geometry& g, Op) const override {
    if (g.precision == Precision::highest) return "precision 'highest' keeps direct summation";
    return "measured slower than direct summation (scalar transforms): runs only when named";
  }

  // A transform of length L in precision u has error about u log2(L) (relative, in the 2-norm);
  // three transforms and the channel sum give, for each output,
  //   |y - exact| <= c u log2(L) sum_c ||x_c||_2 ||w_kc||_2
  // and ||x_c||_2 ||w_kc||_2 <= sqrt(R k) max|x| max|w| while max (sum of |products|) >=
  // max|x| max|w| when the largest sample meets the largest tap. Hence the (loose) bound
  // 4 u log2(L) sqrt(R k) Cg, with R = prod R_d and k = prod k_d.
  double error_bound(const Geometry& g, Op) const override {
    const double u = g.dtype == DType::f32 ? 0x1p-24 : 0x1p-53;
    const FftShape s = fft_shape(g);
    double r = 1, k = 1;
    for (dim_t v : s.reach) r *= static_cast<double>(v);
    for (dim_t v : g.kernel) k *= static_cast<double>(v);
    return 4.0 * u * std::max(1.0, std::log2(static_cast<double>(s.total))) * std::sqrt(r * k) *
           static_cast<double>(g.Cg());
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op) const override {
    return make_for_dtype<FftExecutor>(g);
  }

};

}  // namespace

const Algorithm& fft_algorithm() {
  static const FftAlgorithm algo;
  return algo;
}

}  // namespace convnd::detail
