// Google Benchmark of the depthwise kernels (dwconv.h) per ISA target, on one 3x3 layer's worth
// of L1-resident operands: 64 channels for the channels-last kernels (dw_channels, a run of 8
// positions in dw_channels_run and in dw_channels_taps as 3 rows of 3 taps, the weight
// gradient's dw_weights over 64 positions and dw_weights_taps as one 3-tap row along 56), rows of 56 outputs for the channels-first ones (dw_rows over 8 rows, the weight gradient's dw_dots).
// Reports FLOPS (2 per multiply-add the kernel's contract asks for).
//   build/bench/kernel_bench --benchmark_filter=Dw
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dwconv.h"

namespace {

constexpr std::size_t kTaps = 9, kChannels = 64, kRun = 8, kRowOut = 56, kRows = 8;
constexpr std::size_t kPitch = kRowOut + 2;  // a 3-tap row reads 2 samples past its outputs

enum class DwKernel { channels, channels_run, channels_taps, rows, weights, weights_taps, dots };

void BM_Dw(benchmark::State& state, std::int64_t target, DwKernel kernel) {
  hwy::SetSupportedTargetsForTest(target);
  namespace k = convnd::kernels;
  // Plenty of room for every kernel's reads; tap t reads at offset t (rows) or t * C (channels).
  std::vector<float> in((kTaps + kRun + kRows) * kChannels * kPitch / 8, 0.5f);
  std::vector<float> w(kTaps * kChannels, 0.25f), bias(kChannels, 1.0f);
  std::vector<float> out(kRows * kPitch * kChannels, 0.0f), acc(kTaps * kChannels, 0.0f);
  std::vector<const float*> in_ptr, w_ptr, dy_ptr;
  double fmas = 0;
  switch (kernel) {
    case DwKernel::channels:
    case DwKernel::channels_run:
      for (std::size_t t = 0; t < kTaps; ++t) {
        in_ptr.push_back(in.data() + t * kChannels);
        w_ptr.push_back(w.data() + t * kChannels);
      }
      fmas = static_cast<double>(kTaps * kChannels * (kernel == DwKernel::channels ? 1 : kRun));
      break;
    case DwKernel::channels_taps:
      // 3 kernel rows of 3 taps, stride 1: a row's 8 positions read 10 channel vectors.
      for (std::size_t r = 0; r < 3; ++r) {
        in_ptr.push_back(in.data() + r * (kRun + 2) * kChannels);
        w_ptr.push_back(w.data() + r * 3 * kChannels);
      }
      fmas = static_cast<double>(kTaps * kChannels * kRun);
      break;
    case DwKernel::weights_taps:
      // One kernel row of 3 taps along 56 positions (stride 1), 64 channels.
      fmas = static_cast<double>(3 * kRowOut * kChannels);
      break;
    case DwKernel::rows:
    case DwKernel::dots:
      for (std::size_t t = 0; t < kTaps; ++t) in_ptr.push_back(in.data() + t);
      fmas = static_cast<double>(kTaps * kRows * kRowOut);
      break;
    case DwKernel::weights:
      // 64 positions, each reading kTaps channel vectors, against its output gradient.
      for (std::size_t p = 0; p < kChannels; ++p) {
        for (std::size_t t = 0; t < kTaps; ++t) in_ptr.push_back(in.data() + (p + t) * kChannels);
        dy_ptr.push_back(out.data() + p * kChannels);
      }
      fmas = static_cast<double>(kChannels * kTaps * kChannels);
      break;
  }
  for (auto _ : state) {
    switch (kernel) {
      case DwKernel::channels:
        k::dw_channels<float>(kTaps, in_ptr.data(), w.data(), kChannels, bias.data(), out.data(),
                              kChannels);
        break;
      case DwKernel::channels_run:
        k::dw_channels_run<float>(kTaps, in_ptr.data(), w_ptr.data(), kChannels, bias.data(),
                                  out.data(), kChannels, kRun, kChannels);
        break;
      case DwKernel::channels_taps:
        k::dw_channels_taps<float>(3, in_ptr.data(), w_ptr.data(), 3, kChannels, kChannels,
                                   kChannels, bias.data(), out.data(), kChannels, kRun, kChannels);
        break;
      case DwKernel::rows:
        k::dw_rows<float>(kTaps, in_ptr.data(), w.data(), 1.0f, kRows, kPitch, out.data(), kPitch,
                          kRowOut);
        break;
      case DwKernel::weights:
        k::dw_weights<float>(kChannels, kTaps, in_ptr.data(), dy_ptr.data(), acc.data(), kChannels);
        break;
      case DwKernel::weights_taps:
        k::dw_weights_taps<float>(3, in.data(), kChannels, kChannels, out.data(), kChannels, kRowOut,
                                  acc.data(), kChannels, kChannels);
        break;
      case DwKernel::dots:
        k::dw_dots<float>(kTaps, in_ptr.data(), kPitch, out.data(), kPitch, kRows, kRowOut,
                          acc.data());
        break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(acc.data());
  }
  state.counters["FLOPS"] =
      benchmark::Counter(2 * fmas, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(hwy::TargetName(target));
  hwy::SetSupportedTargetsForTest(0);
}

// DwRows/AVX3 and so on.
int register_all() {
  const struct {
    DwKernel kernel;
    const char* name;
  } kernels[] = {{DwKernel::channels, "DwChannels"},
                 {DwKernel::channels_run, "DwChannelsRun"},
                 {DwKernel::channels_taps, "DwChannelsTaps"},
                 {DwKernel::rows, "DwRows"},
                 {DwKernel::weights, "DwWeights"},
                 {DwKernel::weights_taps, "DwWeightsTaps"},
                 {DwKernel::dots, "DwDots"}};
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    if (target == HWY_SCALAR || target == HWY_EMU128) continue;
    for (const auto& kn : kernels)
      benchmark::RegisterBenchmark((std::string(kn.name) + "/" + hwy::TargetName(target)).c_str(),
                                   BM_Dw, target, kn.kernel);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
