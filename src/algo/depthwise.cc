// # Depthwise convolution (groups == C == K): the `depthwise` algorithm
//
// What it accepts and when it is chosen (the Algorithm below), and the forward pass's choice of
// path (DepthwiseExecutor::run). The executor and its design: depthwise_executor.h; its paths
// live one per file (depthwise_planes.cc, depthwise_fwd_*.cc, depthwise_bwd_data_planes.cc,
// depthwise_wgrad_planes.cc).
#include "algo/depthwise.h"

#include "algo/depthwise_executor.h"

namespace convnd::detail {
namespace depthwise {

template <class T>
void DepthwiseExecutor<T>::run(const OpArgs& args, void* workspace, int threads) const {
  // The padding table is built by the first run, not by the plan (planning stays cheap);
  // call_once because runs of one plan may be concurrent.
  std::call_once(table_once_, [this] { build_table(); });
  if (op_ == Op::bwd_weights) return run_weights(args, workspace, threads);
  if (op_ == Op::bwd_data) return run_bwd_data(args, workspace, threads);
  auto* ws = static_cast<char*>(workspace);
  const bool channels_last = args.a.strides[1] == 1 && g_.C >= kChannelVectorMin;
  const bool tiled = !channels_last && tile_bytes_ > 0 &&
                     dense_planes(args.a.shape, args.a.strides) &&
                     dense_planes(args.out.shape, args.out.strides);
  // Channels-last kernels align their input loads (a caller's tensor is rarely 64-byte
  // aligned, and a load across two cache lines costs two); the weight and bias vectors of the
  // same channels are then aligned too if they sit at the input's offset within a line.
  // (Tiles start on a line: their weights do too.)
  const std::size_t shift = channels_last ? line_offset<T>(args.a.data) : 0;
  const bool tap_major = channels_last || tiled;
  T* wt = reinterpret_cast<T*>(ws + shift);
  T* bias = reinterpret_cast<T*>(ws + align64(sizeof(T) * g_.C * taps_) + 64 + shift);
  // Weights tap-major (w[t][c]) for channels-last, channel-major (w[c][t]) otherwise.
  const T* w = static_cast<const T*>(args.b.data);
  const std::vector<dim_t> tap_off = tap_offsets(g_, args.b.strides);
  for (dim_t c = 0; c < g_.C; ++c)
    for (dim_t t = 0; t < taps_; ++t)
      wt[tap_major ? t * g_.C + c : c * taps_ + t] = w[c * args.b.strides[0] + tap_off[t]];
  const T* b = args.bias ? static_cast<const T*>(args.bias->data) : nullptr;
  for (dim_t c = 0; c < g_.C; ++c) bias[c] = b ? b[c * args.bias->strides[0]] : T(0);
  const int n_threads = std::min(threads, slots_);
  auto slot = [&] {
    return ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
  };
  if (tiled) {
    run_tiles(args, wt, bias, n_threads, ws);
  } else if (channels_last) {
    // A task is whole output rows (as many as make up to kPositionsPerTask positions) or a
    // segment of kPositionsPerTask positions of one long row: chunks that crossed rows cut
    // the rows' runs into shorter ones, with more tails.
    const dim_t W = g_.out.back(), rows = positions_ / W;
    const dim_t per = std::max<dim_t>(1, kPositionsPerTask / W);             // rows per task
    const dim_t segments = (W + kPositionsPerTask - 1) / kPositionsPerTask;  // per row
    const dim_t groups = (rows + per - 1) / per;
    const dim_t tasks = per > 1 ? groups : rows * segments;
    parallel_tasks(g_.N * tasks, n_threads, [&](dim_t task) {
      const dim_t n = task / tasks, k = task % tasks;
      dim_t p0, p1;
      if (per > 1) {
        p0 = k * per * W;
        p1 = std::min(rows, (k + 1) * per) * W;
      } else {
        const dim_t row = k / segments, seg = k % segments;
        p0 = row * W + seg * kPositionsPerTask;
        p1 = std::min(row * W + W, p0 + kPositionsPerTask);
      }
      run_channels_last(static_cast<const T*>(args.a.data) + n * args.a.strides[0], args.a.strides,
                        static_cast<T*>(args.out.data) + n * args.out.strides[0], args.out.strides,
                        wt, bias, 0, g_.C, p0, p1, slot());
    });
  } else {
    // Each thread fills its slot's last-axis offset table once per run (its own entry of
    // `filled`: no entry is shared between threads).
    std::vector<char> filled(static_cast<std::size_t>(slots_), 0);
    const dim_t planes = g_.N * g_.C, per = planes_per_task_;  // see the constructor
    parallel_tasks((planes + per - 1) / per, n_threads, [&](dim_t task) {
      char* sl = slot();
      char& mine = filled[static_cast<std::size_t>(thread_index())];
      if (!mine)
        prepare_slot(args.a.strides, args.out.strides, reinterpret_cast<dim_t*>(sl + ptr_bytes()),
                     reinterpret_cast<T*>(sl + ptr_bytes() + row_bytes_));
      mine = 1;
      for (dim_t p = task * per; p < std::min(planes, (task + 1) * per); ++p)
        run_plane(args, wt, bias, p / g_.C, p % g_.C, sl);
    });
  }
}

// run() for both element types (the other members: the files named in depthwise_executor.h).
template void DepthwiseExecutor<float>::run(const OpArgs& args, void* workspace, int threads) const;
template void DepthwiseExecutor<double>::run(const OpArgs& args, void* workspace,
                                             int threads) const;

}  // namespace depthwise

namespace {

using depthwise::kMaxPlane;
using depthwise::kMaxTaps;
using depthwise::padded_extent;

class Depthwise final : public Algorithm {
 public:
  const char* name() const override { return "depthwise"; }

  std::string reject(const Geometry& g, Op op) const override {
    if (g.Cg() != 1 || g.Kg() != 1) return "not depthwise (needs groups == C == K)";
    if (op == Op::bwd_data && g.rank() > 2)
      return "backward data on planes is 1-D and 2-D (3-D composes the forward pass)";
    if (g.N == 0) return "empty batch";
    // Checked: strides and paddings near 2^63 make these sums overflow (found by fuzz_spec).
    Fits f;
    dim_t taps = 1, plane = 1;
    for (int a = 0; a < g.rank(); ++a) {
      taps = f.mul(taps, g.kernel[a]);
      if (taps > kMaxTaps) return "more than 4096 kernel taps";
      // The executor rounds the last axis up to a multiple of the stride: at most e + stride.
      const dim_t e = f.add(padded_extent(g, a, f), g.stride[a]);
      plane = f.mul(plane, e);
      if (!f || plane > kMaxPlane) return "padded plane larger than 2^22 samples";
    }
    return {};
  }

  // Backward data: channels-last views go to depthwise_bwd_data's channel vectors (in place).
  // Channels-first, measured with each forced (1 thread, Xeon AVX-512, ms, planes /
  // depthwise_bwd_data's transposes / bwd_data_phases): mbv2_dw3x3s2_b16 0.98 / 1.78 / 2.49,
  // effnet_dw5s2_b8 0.82 / 1.37 / 1.55, convnext_dw7_b1 (stride 1) 0.58 / 0.63 / 0.47: at
  // stride 1 the phases are one forward plane written straight into dx, and win.
  std::string pays(const Geometry& g, Op op) const override {
    if (op != Op::bwd_data) return {};
    if (g.layout == Layout::channels_last)
      return "channels-last backward data: depthwise_bwd_data gathers channel vectors in place";
    bool strided = false;
    for (dim_t s : g.stride) strided = strided || s > 1;
    if (!strided)
      return "backward data at stride 1: bwd_data_phases' forward plane measured faster";
    return {};
  }

  // Backward data sums, for each dx element, the taps of each padded sample the mode folds onto
  // it: at most taps x (the most padded coordinates one input index receives, per axis).
  double error_bound(const Geometry& g, Op op) const override {
    if (op != Op::bwd_data) return Algorithm::error_bound(g, op);
    const double u = g.dtype == DType::f32 ? 0x1p-24 : 0x1p-53;
    double n = 1;
    for (int a = 0; a < g.rank(); ++a) {
      const dim_t e = padded_extent(g, a);
      std::vector<dim_t> count(static_cast<std::size_t>(g.in[a]), 0);
      dim_t most = 1;
      for (dim_t q = 0; q < e; ++q) {
        const dim_t m = map_padded_index(q - g.lo[a], g.in[a], g.mode);
        if (m >= 0) most = std::max(most, ++count[static_cast<std::size_t>(m)]);
      }
      n *= static_cast<double>(g.kernel[a]) * static_cast<double>(most);
    }
    return (n + 1) * u;
  }

  std::unique_ptr<Executor> make_executor(const Geometry& g, Op op) const override {
    return make_for_dtype<depthwise::DepthwiseExecutor>(g, op);
  }
};

}  // namespace

const Algorithm& depthwise_algorithm() {
  static const Depthwise instance;
  return instance;
}

}  // namespace convnd::detail
