// # The reference convolution
// Plain N-D loops, every product and sum in double, no blocking, no SIMD, no threads: short
// enough to check by reading, and the single oracle of the test suite. Padding modes enter only
// through input_offset(): the input coordinate read by output position o and kernel tap t (or
// -1 for a zero sample), so the three operations share one definition of which input sample
// meets which weight:
//   fwd          y[n,k,o]   = sum_{c,t} w[k,c,t] * x[n,c,map(o,t)]        (+ bias[k])
//   bwd_data     dx[n,c,i]  = sum_{k,o,t : map(o,t) = i} w[k,c,t] * dy[n,k,o]  (+ bias[c])
//   bwd_weights  dw[k,c,t]  = sum_{n,o} x[n,c,map(o,t)] * dy[n,k,o]
// where c runs over the channels of k's group.
#include "algo/reference.h"

#include <vector>

#include "algo/odometer.h"
#include "api/checked.h"

namespace convnd::detail {
namespace {

dim_t count(const std::vector<dim_t>& ext) {
  dim_t p = 1;
  for (dim_t e : ext) p *= e;
  return p;
}

// Offset (in elements) of the input sample read by output position o and kernel tap t, or
// kNoSample when it is a zero-padding sample. Computed per call rather than tabulated: a table of
// out * k entries per axis can be far larger than any tensor of the problem.
dim_t input_offset(const Geometry& g, const std::vector<dim_t>& o, const std::vector<dim_t>& t,
                   const std::vector<dim_t>& strides) {
  dim_t off = 0;
  for (int a = 0; a < g.rank(); ++a) {
    const dim_t m = map_padded_index(o[a] * g.stride[a] - g.lo[a] + t[a] * g.dil[a], g.in[a], g.mode);
    if (m < 0) return kNoSample;
    off += m * strides[2 + a];
  }
  return off;
}

dim_t spatial_offset(const std::vector<dim_t>& idx, const std::vector<dim_t>& strides) {
  dim_t off = 0;
  for (std::size_t a = 0; a < idx.size(); ++a) off += idx[a] * strides[2 + a];
  return off;
}

template <class T>
class ReferenceExecutor final : public Executor {
 public:
  ReferenceExecutor(const Geometry& g, Op op) : g_(g), op_(op) {
    // bwd_data scatters into one double plane of dx at a time. A float32 plane's element count
    // fits in int64, but 8 bytes each need not: then no workspace can hold it (out of memory).
    if (op == Op::bwd_data)
      workspace_bytes_ = static_cast<std::size_t>(checked_mul(
          checked_product(g.in, "workspace"), static_cast<dim_t>(sizeof(double)), "workspace"));
  }

  std::size_t workspace_bytes() const override { return workspace_bytes_; }

  void run(const OpArgs& args, void* workspace, int /*threads*/) const override {
    switch (op_) {
      case Op::fwd: forward(args); break;
      case Op::bwd_data: backward_data(args, static_cast<double*>(workspace)); break;
      case Op::bwd_weights: backward_weights(args); break;
    }
  }

 private:
  static const T* cptr(const ConstTensorView& v) { return static_cast<const T*>(v.data); }

  void forward(const OpArgs& args) const {
    const T* x = cptr(args.a);
    const T* w = cptr(args.b);
    T* y = static_cast<T*>(args.out.data);
    const auto &xs = args.a.strides, &ws = args.b.strides, &ys = args.out.strides;
    const int d = g_.rank();
    std::vector<dim_t> o(d), t(d);
    for (dim_t n = 0; n < g_.N; ++n)
      for (dim_t k = 0; k < g_.K; ++k) {
        const dim_t c0 = (k / g_.Kg()) * g_.Cg();
        std::fill(o.begin(), o.end(), 0);
        do {
          double acc = args.bias ? static_cast<double>(cptr(*args.bias)[k * args.bias->strides[0]])
                                 : 0.0;
          for (dim_t c = 0; c < g_.Cg(); ++c) {
            std::fill(t.begin(), t.end(), 0);
            do {
              const dim_t xo = input_offset(g_, o, t, xs);
              if (xo == kNoSample) continue;
              const double xv = x[n * xs[0] + (c0 + c) * xs[1] + xo];
              const double wv = w[k * ws[0] + c * ws[1] + spatial_offset(t, ws)];
              acc += xv * wv;
            } while (next_index(t, g_.kernel));
          }
          y[n * ys[0] + k * ys[1] + spatial_offset(o, ys)] = static_cast<T>(acc);
        } while (next_index(o, g_.out));
      }
  }

  void backward_data(const OpArgs& args, double* plane) const {
    const T* dy = cptr(args.a);
    const T* w = cptr(args.b);
    T* dx = static_cast<T*>(args.out.data);
    const auto &dys = args.a.strides, &ws = args.b.strides, &dxs = args.out.strides;
    const int d = g_.rank();
    // Contiguous strides of the double plane, in the (N, C, spatial) convention of the helpers.
    std::vector<dim_t> ps(2 + d, 0);
    ps[1 + d] = 1;
    for (int a = d - 1; a > 0; --a) ps[1 + a] = ps[2 + a] * g_.in[a];
    const dim_t plane_size = count(g_.in);
    std::vector<dim_t> o(d), t(d), i(d);
    for (dim_t n = 0; n < g_.N; ++n)
      for (dim_t c = 0; c < g_.C; ++c) {
        const double init =
            args.bias ? static_cast<double>(cptr(*args.bias)[c * args.bias->strides[0]]) : 0.0;
        std::fill(plane, plane + plane_size, init);
        const dim_t group = c / g_.Cg(), cg = c % g_.Cg();
        for (dim_t k = group * g_.Kg(); k < (group + 1) * g_.Kg(); ++k) {
          std::fill(o.begin(), o.end(), 0);
          do {
            const double g = dy[n * dys[0] + k * dys[1] + spatial_offset(o, dys)];
            std::fill(t.begin(), t.end(), 0);
            do {
              const dim_t po = input_offset(g_, o, t, ps);
              if (po == kNoSample) continue;
              plane[po] += g * static_cast<double>(w[k * ws[0] + cg * ws[1] + spatial_offset(t, ws)]);
            } while (next_index(t, g_.kernel));
          } while (next_index(o, g_.out));
        }
        std::fill(i.begin(), i.end(), 0);
        do {
          dx[n * dxs[0] + c * dxs[1] + spatial_offset(i, dxs)] =
              static_cast<T>(plane[spatial_offset(i, ps)]);
        } while (next_index(i, g_.in));
      }
  }

  void backward_weights(const OpArgs& args) const {
    const T* x = cptr(args.a);
    const T* dy = cptr(args.b);
    T* dw = static_cast<T*>(args.out.data);
    const auto &xs = args.a.strides, &dys = args.b.strides, &dws = args.out.strides;
    const int d = g_.rank();
    std::vector<dim_t> o(d), t(d);
    for (dim_t k = 0; k < g_.K; ++k) {
      const dim_t c0 = (k / g_.Kg()) * g_.Cg();
      for (dim_t c = 0; c < g_.Cg(); ++c) {
        std::fill(t.begin(), t.end(), 0);
        do {
          double acc = 0;
          for (dim_t n = 0; n < g_.N; ++n) {
            std::fill(o.begin(), o.end(), 0);
            do {
              const dim_t xo = input_offset(g_, o, t, xs);
              if (xo == kNoSample) continue;
              acc += static_cast<double>(x[n * xs[0] + (c0 + c) * xs[1] + xo]) *
                     static_cast<double>(dy[n * dys[0] + k * dys[1] + spatial_offset(o, dys)]);
            } while (next_index(o, g_.out));
          }
          dw[k * dws[0] + c * dws[1] + spatial_offset(t, dws)] = static_cast<T>(acc);
        } while (next_index(t, g_.kernel));
      }
    }
  }

  Geometry g_;
  Op op_;
  std::size_t workspace_bytes_ = 0;
};

class Reference final : public Algorithm {
 public:
  const char* name() const override { return "reference"; }
  std::string reject(const Geometry&, Op) const override { return {}; }
  std::unique_ptr<Executor> make_executor(const Geometry& g, Op op) const override {
    return make_for_dtype<ReferenceExecutor>(g, op);
  }
};

}  // namespace

const Algorithm& reference_algorithm() {
  static const Reference instance;
  return instance;
}

}  // namespace convnd::detail
