#include "onednn_peer.h"

#if defined(CONVND_HAVE_ONEDNN)
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>
#endif

namespace convnd::bench {

#if !defined(CONVND_HAVE_ONEDNN)

bool onednn_available() { return false; }
std::string onednn_version() { return "not built"; }
std::optional<double> onednn_time_ms(const Spec&, Pass, int, int) { return std::nullopt; }

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

// A filled memory in oneDNN's chosen format, made by reordering from a plain buffer.
memory make_filled(const memory::desc& md, const dnnl::engine& eng, dnnl::stream& s) {
  memory m(md, eng);
  // Fill through a plain (dense, default-ordered) buffer and a reorder.
  memory::dims strides(md.dims().size(), 1);
  for (int i = static_cast<int>(strides.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * md.dims()[i + 1];
  memory src({md.dims(), dt::f32, strides}, eng);
  auto* p = static_cast<float*>(src.get_data_handle());
  const std::size_t n = src.get_desc().get_size() / sizeof(float);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8;
  dnnl::reorder(src, m).execute(s, src, m);
  s.wait();
  return m;
}

template <class Run>
double median_ms(Run&& run, dnnl::stream& s, int repeats) {
  run();
  s.wait();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    s.wait();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

bool onednn_available() { return true; }

std::string onednn_version() {
  const auto* v = dnnl::version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

std::optional<double> onednn_time_ms(const Spec& spec, Pass pass, int threads, int repeats) {
  omp_set_num_threads(threads);
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    const auto pads = resolve_padding(spec);
    const auto out = output_extents(spec);
    memory::dims strides, dil, pl, pr;
    for (int a = 0; a < spec.rank(); ++a) {
      strides.push_back(spec.stride.empty() ? 1 : spec.stride.size() == 1 ? spec.stride[0] : spec.stride[a]);
      const dim_t d = spec.dilation.empty() ? 1 : spec.dilation.size() == 1 ? spec.dilation[0] : spec.dilation[a];
      dil.push_back(d - 1);  // oneDNN counts dilation from 0
      pl.push_back(pads[a].first);
      pr.push_back(pads[a].second);
    }
    const dim_t G = spec.groups;
    // oneDNN's logical weights: (G, O/G, I/G, k..) with O the output channels of its primitive.
    memory::dims wdims;
    if (G > 1) wdims.push_back(G);
    const dim_t O = spec.K, I = spec.C;
    wdims.push_back(O / G);
    wdims.push_back(I / G);
    wdims.insert(wdims.end(), spec.kernel.begin(), spec.kernel.end());
    const memory::desc src_md(activation(spec.N, spec.C, spec.input), dt::f32, tag::any);
    const memory::desc dst_md(activation(spec.N, spec.K, out), dt::f32, tag::any);
    const memory::desc wei_md(wdims, dt::f32, tag::any);

    if (spec.transposed) {
      if (pass != Pass::forward) return std::nullopt;
      dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_training,
                                          dnnl::algorithm::deconvolution_direct, src_md, wei_md,
                                          dst_md, strides, dil, pl, pr);
      dnnl::deconvolution_forward::primitive_desc pd(d, eng);
      memory src = make_filled(pd.src_desc(), eng, s), wei = make_filled(pd.weights_desc(), eng, s);
      memory dst(pd.dst_desc(), eng);
      dnnl::deconvolution_forward prim(pd);
      return median_ms([&] { prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}}); }, s, repeats);
    }
    dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training,
                                       dnnl::algorithm::convolution_direct, src_md, wei_md, dst_md,
                                       strides, dil, pl, pr);
    dnnl::convolution_forward::primitive_desc fpd(fd, eng);
    if (pass == Pass::forward) {
      memory src = make_filled(fpd.src_desc(), eng, s), wei = make_filled(fpd.weights_desc(), eng, s);
      memory dst(fpd.dst_desc(), eng);
      dnnl::convolution_forward prim(fpd);
      return median_ms([&] { prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}}); }, s, repeats);
    }
    if (pass == Pass::backward_data) {
      dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, src_md, wei_md,
                                               dst_md, strides, dil, pl, pr);
      dnnl::convolution_backward_data::primitive_desc pd(bd, eng, fpd);
      memory ddst = make_filled(pd.diff_dst_desc(), eng, s), wei = make_filled(pd.weights_desc(), eng, s);
      memory dsrc(pd.diff_src_desc(), eng);
      dnnl::convolution_backward_data prim(pd);
      return median_ms([&] { prim.execute(s, {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_SRC, dsrc}}); }, s, repeats);
    }
    dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, src_md, wei_md,
                                                dst_md, strides, dil, pl, pr);
    dnnl::convolution_backward_weights::primitive_desc pd(wd, eng, fpd);
    memory src = make_filled(pd.src_desc(), eng, s), ddst = make_filled(pd.diff_dst_desc(), eng, s);
    memory dwei(pd.diff_weights_desc(), eng);
    dnnl::convolution_backward_weights prim(pd);
    return median_ms([&] { prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_DIFF_WEIGHTS, dwei}}); }, s, repeats);
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

#endif

}  // namespace convnd::bench
