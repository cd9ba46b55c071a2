#include "onednn_peer.h"

#include <algorithm>
#include <chrono>
#include <vector>

#if defined(CONVND_HAVE_ONEDNN)
#include <omp.h>

#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#endif

namespace convnd::bench {

std::optional<double> onednn_time_ms(const Spec& spec, Pass pass, int threads, int repeats,
                                     bool per_call) {
  auto best = onednn_best(spec, pass, threads, repeats, per_call);
  if (!best) return std::nullopt;
  return best->ms;
}

#if !defined(CONVND_HAVE_ONEDNN)

bool onednn_available() { return false; }
std::string onednn_version() { return "not built"; }
std::optional<PeerRun> onednn_best(const Spec&, Pass, int, int, bool) { return std::nullopt; }

#else

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

memory::dims activation(dim_t N, dim_t C, const std::vector<dim_t>& sp) {
  memory::dims d{N, C};
  d.insert(d.end(), sp.begin(), sp.end());
  return d;
}

// The plain (dense, default-ordered) desc of these dims: goi<spatial> for weights.
memory::desc plain_desc(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(strides.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
  return memory::desc(dims, dt::f32, strides);
}

void fill(memory& m) {
  auto* p = static_cast<float*>(m.get_data_handle());
  const std::size_t n = m.get_desc().get_size() / sizeof(float);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8;
}

// A filled memory in oneDNN's chosen format, made by reordering from a plain buffer.
memory make_filled(const memory::desc& md, const dnnl::engine& eng, dnnl::stream& s) {
  memory m(md, eng);
  memory src(plain_desc(md.dims()), eng);
  fill(src);
  dnnl::reorder(src, m).execute(s, src, m);
  s.wait();
  return m;
}

// One primitive with its memories. Per call, the weights come from (or, for the weight
// gradient, go to) one of two plain buffers, alternated, through a reorder that is part of run().
struct Variant {
  std::string name;
  dnnl::engine eng;
  dnnl::stream s;
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  bool per_call = false, weights_out = false;
  int weight_arg = 0;
  memory plain[2];
  std::optional<dnnl::reorder> reorder;  // absent when the primitive takes the plain format
  int flip = 0;

  void run() {
    if (per_call && !weights_out) {
      if (reorder)
        reorder->execute(s, plain[flip], args.at(weight_arg));
      else
        args[weight_arg] = plain[flip];
    }
    prim.execute(s, args);
    if (per_call && weights_out) {
      if (reorder) reorder->execute(s, args.at(weight_arg), plain[flip]);
    }
    flip ^= 1;
    s.wait();
  }
};

// Sets up the per-call weight path of `v` for a weights memory of desc `md` in the primitive.
void setup_weights(Variant& v, const memory::desc& md, bool per_call, bool weights_out) {
  v.per_call = per_call;
  v.weights_out = weights_out;
  if (!weights_out)
    v.args[v.weight_arg] = make_filled(md, v.eng, v.s);
  else
    v.args[v.weight_arg] = memory(md, v.eng);
  if (!per_call) return;
  const memory::desc pd = plain_desc(md.dims());
  for (auto& p : v.plain) {
    p = memory(pd, v.eng);
    fill(p);
  }
  if (pd != md) {
    if (weights_out)
      v.reorder.emplace(v.args.at(v.weight_arg), v.plain[0]);
    else
      v.reorder.emplace(v.plain[0], v.args.at(v.weight_arg));
  }
}

double median_ms(Variant& v, int repeats) {
  v.run();
  std::vector<double> t;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    v.run();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Geom {
  memory::dims strides, dil, pl, pr;
};

}  // namespace

bool onednn_available() { return true; }

std::string onednn_version() {
  const auto* v = dnnl::version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

std::optional<PeerRun> onednn_best(const Spec& spec, Pass pass, int threads, int repeats,
                                   bool per_call) {
  omp_set_num_threads(threads);
  std::vector<std::shared_ptr<Variant>> variants;
  dnnl::engine eng;
  try {
    eng = dnnl::engine(dnnl::engine::kind::cpu, 0);
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
  const auto pads = resolve_padding(spec);
  const auto out = output_extents(spec);
  std::vector<dim_t> op(spec.rank(), 0);
  if (spec.transposed) op = resolve_output_padding(spec);
  Geom geo;
  for (int a = 0; a < spec.rank(); ++a) {
    geo.strides.push_back(spec.stride.empty() ? 1 : spec.stride.size() == 1 ? spec.stride[0] : spec.stride[a]);
    const dim_t d = spec.dilation.empty() ? 1 : spec.dilation.size() == 1 ? spec.dilation[0] : spec.dilation[a];
    geo.dil.push_back(d - 1);  // oneDNN counts dilation from 0
    geo.pl.push_back(pads[a].first);
    // A transposed spec's output_padding extends its output on the high side: less cropping.
    geo.pr.push_back(pads[a].second - op[a]);
  }
  const dim_t G = spec.groups;
  // oneDNN's logical weights: (G, O/G, I/G, k..), O and I the output and input channels of the
  // primitive (for a transposed spec run as convolution backward-data, those of the forward
  // convolution it transposes: O = C, I = K).
  auto weight_dims = [&](dim_t O, dim_t I) {
    memory::dims w;
    if (G > 1) w.push_back(G);
    w.push_back(O / G);
    w.push_back(I / G);
    w.insert(w.end(), spec.kernel.begin(), spec.kernel.end());
    return w;
  };
  const memory::desc x_md(activation(spec.N, spec.C, spec.input), dt::f32, tag::any);
  const memory::desc y_md(activation(spec.N, spec.K, out), dt::f32, tag::any);

  // Each attempt may fail (unsupported shape): it is then simply not among the variants.
  auto attempt = [&](const char* name, auto&& build) {
    try {
      auto v = std::make_shared<Variant>();
      v->name = name;
      v->eng = eng;
      v->s = dnnl::stream(eng);
      build(*v);
      variants.push_back(v);
    } catch (const dnnl::error&) {
    }
  };

  if (spec.transposed) {
    if (pass != Pass::forward) return std::nullopt;
    const memory::desc w_md(weight_dims(spec.K, spec.C), dt::f32, tag::any);
    for (auto prop : {dnnl::prop_kind::forward_inference, dnnl::prop_kind::forward_training}) {
      const bool inf = prop == dnnl::prop_kind::forward_inference;
      attempt(inf ? "deconvolution inference" : "deconvolution training", [&](Variant& v) {
        dnnl::deconvolution_forward::desc d(prop, dnnl::algorithm::deconvolution_direct, x_md,
                                            w_md, y_md, geo.strides, geo.dil, geo.pl, geo.pr);
        dnnl::deconvolution_forward::primitive_desc pd(d, eng);
        v.prim = dnnl::deconvolution_forward(pd);
        v.args[DNNL_ARG_SRC] = make_filled(pd.src_desc(), eng, v.s);
        v.args[DNNL_ARG_DST] = memory(pd.dst_desc(), eng);
        v.weight_arg = DNNL_ARG_WEIGHTS;
        setup_weights(v, pd.weights_desc(), per_call, false);
      });
    }
    // The transposed convolution as the backward-data pass of the convolution it transposes:
    // that convolution maps y-shaped (N, K, out) to x-shaped (N, C, in) with weights (C, K/G).
    attempt("convolution backward-data", [&](Variant& v) {
      const memory::desc w_md(weight_dims(spec.C, spec.K), dt::f32, tag::any);
      dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training,
                                         dnnl::algorithm::convolution_direct, y_md, w_md, x_md,
                                         geo.strides, geo.dil, geo.pl, geo.pr);
      dnnl::convolution_forward::primitive_desc fpd(fd, eng);
      dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, y_md, w_md,
                                               x_md, geo.strides, geo.dil, geo.pl, geo.pr);
      dnnl::convolution_backward_data::primitive_desc pd(bd, eng, fpd);
      v.prim = dnnl::convolution_backward_data(pd);
      v.args[DNNL_ARG_DIFF_DST] = make_filled(pd.diff_dst_desc(), eng, v.s);
      v.args[DNNL_ARG_DIFF_SRC] = memory(pd.diff_src_desc(), eng);
      v.weight_arg = DNNL_ARG_WEIGHTS;
      setup_weights(v, pd.weights_desc(), per_call, false);
    });
  } else {
    const memory::desc w_md(weight_dims(spec.K, spec.C), dt::f32, tag::any);
    auto forward_pd = [&](dnnl::prop_kind prop) {
      dnnl::convolution_forward::desc fd(prop, dnnl::algorithm::convolution_direct, x_md, w_md,
                                         y_md, geo.strides, geo.dil, geo.pl, geo.pr);
      return dnnl::convolution_forward::primitive_desc(fd, eng);
    };
    if (pass == Pass::forward) {
      for (auto prop : {dnnl::prop_kind::forward_inference, dnnl::prop_kind::forward_training}) {
        const bool inf = prop == dnnl::prop_kind::forward_inference;
        attempt(inf ? "forward inference" : "forward training", [&](Variant& v) {
          auto pd = forward_pd(prop);
          v.prim = dnnl::convolution_forward(pd);
          v.args[DNNL_ARG_SRC] = make_filled(pd.src_desc(), eng, v.s);
          v.args[DNNL_ARG_DST] = memory(pd.dst_desc(), eng);
          v.weight_arg = DNNL_ARG_WEIGHTS;
          setup_weights(v, pd.weights_desc(), per_call, false);
        });
      }
    } else if (pass == Pass::backward_data) {
      attempt("backward-data", [&](Variant& v) {
        dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, x_md, w_md,
                                                 y_md, geo.strides, geo.dil, geo.pl, geo.pr);
        dnnl::convolution_backward_data::primitive_desc pd(
            bd, eng, forward_pd(dnnl::prop_kind::forward_training));
        v.prim = dnnl::convolution_backward_data(pd);
        v.args[DNNL_ARG_DIFF_DST] = make_filled(pd.diff_dst_desc(), eng, v.s);
        v.args[DNNL_ARG_DIFF_SRC] = memory(pd.diff_src_desc(), eng);
        v.weight_arg = DNNL_ARG_WEIGHTS;
        setup_weights(v, pd.weights_desc(), per_call, false);
      });
    } else {
      attempt("backward-weights", [&](Variant& v) {
        dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, x_md,
                                                    w_md, y_md, geo.strides, geo.dil, geo.pl,
                                                    geo.pr);
        dnnl::convolution_backward_weights::primitive_desc pd(
            wd, eng, forward_pd(dnnl::prop_kind::forward_training));
        v.prim = dnnl::convolution_backward_weights(pd);
        v.args[DNNL_ARG_SRC] = make_filled(pd.src_desc(), eng, v.s);
        v.args[DNNL_ARG_DIFF_DST] = make_filled(pd.diff_dst_desc(), eng, v.s);
        v.weight_arg = DNNL_ARG_DIFF_WEIGHTS;
        setup_weights(v, pd.diff_weights_desc(), per_call, true);
      });
    }
  }

  std::optional<PeerRun> best;
  for (auto& v : variants) {
    double ms = 0;
    try {
      ms = median_ms(*v, repeats);
    } catch (const dnnl::error&) {
      continue;
    }
    if (!best || ms < best->ms) {
      best = PeerRun{[v] { v->run(); }, v->name, ms};
    }
  }
  return best;
}

#endif

}  // namespace convnd::bench
