#include "xnnpack_peer.h"

#if defined(CONVND_HAVE_XNNPACK)
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <vector>
#endif

namespace convnd::bench {

#if !defined(CONVND_HAVE_XNNPACK)

bool xnnpack_available() { return false; }
std::optional<double> xnnpack_time_ms(const Spec&, Pass, int, int) { return std::nullopt; }

#else

namespace {

std::vector<float> filled(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8;
  return v;
}

}  // namespace

bool xnnpack_available() { return true; }

std::optional<double> xnnpack_time_ms(const Spec& spec, Pass pass, int threads, int repeats) {
  if (pass != Pass::forward || spec.transposed || spec.input.size() != 2 ||
      spec.pad_mode != PadMode::zeros || spec.dtype != DType::f32)
    return std::nullopt;
  static const bool initialised = xnn_initialize(nullptr) == xnn_status_success;
  if (!initialised) return std::nullopt;
  const auto pads = resolve_padding(spec);
  const auto out = output_extents(spec);
  const dim_t Cg = spec.C / spec.groups, Kg = spec.K / spec.groups;
  auto u32 = [](dim_t v) { return static_cast<std::uint32_t>(v); };
  // Weights (K, kh, kw, C/groups): XNNPACK's OHWI; their values do not matter for the timing.
  const std::vector<float> w = filled(static_cast<std::size_t>(spec.K * spec.kernel[0] * spec.kernel[1] * Cg));
  const std::vector<float> b(static_cast<std::size_t>(spec.K), 0.0f);
  xnn_operator_t op = nullptr;
  if (xnn_create_convolution2d_nhwc_f32(
          u32(pads[0].first), u32(pads[1].second), u32(pads[0].second), u32(pads[1].first),
          u32(spec.kernel[0]), u32(spec.kernel[1]), u32(spec.stride[0]), u32(spec.stride[1]),
          u32(spec.dilation[0]), u32(spec.dilation[1]), u32(spec.groups), Cg, Kg,
          static_cast<std::size_t>(spec.C), static_cast<std::size_t>(spec.K), w.data(), b.data(),
          -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), 0,
          &op) != xnn_status_success)
    return std::nullopt;
  const std::unique_ptr<xnn_operator, decltype(&xnn_delete_operator)> owned(op, xnn_delete_operator);
  const std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(
      pthreadpool_create(static_cast<std::size_t>(threads)), pthreadpool_destroy);
  const std::vector<float> x = filled(static_cast<std::size_t>(spec.N * spec.input[0] * spec.input[1] * spec.C));
  std::vector<float> y(static_cast<std::size_t>(spec.N * out[0] * out[1] * spec.K));
  if (xnn_setup_convolution2d_nhwc_f32(op, static_cast<std::size_t>(spec.N),
                                       static_cast<std::size_t>(spec.input[0]),
                                       static_cast<std::size_t>(spec.input[1]), x.data(), y.data(),
                                       pool.get()) != xnn_status_success)
    return std::nullopt;
  if (xnn_run_operator(op, pool.get()) != xnn_status_success) return std::nullopt;
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    xnn_run_operator(op, pool.get());
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

#endif

}  // namespace convnd::bench
