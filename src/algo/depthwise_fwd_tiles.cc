// Depthwise forward, channels-first with 16 or more channels and a stride above 1: tiles of
// channels transposed channels-last, through run_channels_last, and transposed back. plan_tiles
// also plans the weight gradient's tiles (depthwise_wgrad_tiles.cc).
#include "algo/depthwise_executor.h"

namespace convnd::detail::depthwise {

// Channels-first with enough channels for a vector (see pays()): forward at a stride above 1
// (run_tiles) or weight gradient (weights_tiles; at stride 1 with 4 lines of channels): the channel
// block, the dense channels-last strides of the input and output tiles, and their bytes.
template <class T>
void DepthwiseExecutor<T>::plan_tiles(const Geometry& g, Op op) {
  // At stride 1 the planes' rows are as long as the input's and fill their vectors: measured
  // (1 thread, ms, planes / tiles) mbv2_dw3x3_b1 0.14 / 0.18, convnext_dw7_b1 0.35 / 0.37;
  // strided, mbv2_dw3x3s2_b16 0.9-1.05 / 0.48-0.55, effnet_dw5s2_b8 0.50-0.58 / 0.39.
  bool strided = false;
  for (dim_t s : g.stride) strided = strided || s > 1;
  const bool wgrad = op == Op::bwd_weights;
  if (g.layout != Layout::channels_first || g.C < kChannelVectorMin) return;
  if ((op != Op::fwd && !wgrad) || (!strided && !wgrad)) return;
  const int d = g.rank();
  // 1, 2 or 4 lines of channels: the channels-last kernels' per-position set-up (pointers,
  // border taps) is then shared by 2 or 4 vectors; as many as keep 8 tasks and fit the tile.
  dim_t in_positions = 1;
  for (dim_t e : g.in)
    in_positions =
        std::min<dim_t>(in_positions * std::min<dim_t>(e, dim_t{1} << 20), dim_t{1} << 40);
  dim_t cb = static_cast<dim_t>(kTileBytes / sizeof(T));
  for (dim_t k : {4, 2}) {
    const dim_t wide = k * cb;
    // (The weight gradient's tasks split the images instead when the blocks are few.)
    if ((wgrad ? 8 : g.N) * ((g.C + wide - 1) / wide) >= 8 &&
        wide * (in_positions + positions_) * static_cast<dim_t>(sizeof(T)) <=
            static_cast<dim_t>(kMaxTileBytes / 2)) {
      cb = wide;
      break;
    }
  }
  // The weight gradient at stride 1 only with 4 lines of channels (1 thread, CPU time, ms,
  // planes / tiles, median of 7): N 8 C 96 28x28 5x5 (64 channels a tile) 0.83 / 0.57; N 1 C 144
  // 56x56 3x3 0.19 / 0.30 and convnext_dw7_b1 0.57 / 0.78 (16 channels a tile: the border and
  // call overheads are shared by one vector).
  if (wgrad && !strided && cb < 4 * static_cast<dim_t>(kTileBytes / sizeof(T))) return;
  tile_channels_ = cb;
  tile_in_strides_.assign(d + 2, 0);
  tile_out_strides_.assign(d + 2, 0);
  tile_in_strides_[1] = tile_out_strides_[1] = 1;
  Fits f;
  dim_t pin = cb, pout = cb;
  for (int a = d - 1; a >= 0; --a) {
    tile_in_strides_[2 + a] = pin;
    tile_out_strides_[2 + a] = pout;
    pin = f.mul(pin, g.in[a]);
    pout = f.mul(pout, g.out[a]);
  }
  const dim_t elems = f.add(f.add(pin, pout), cb);  // + cb: the output tile starts on a line
  if (!f || elems > static_cast<dim_t>(kMaxTileBytes / sizeof(T))) return;
  tile_in_elems_ = pin;
  tile_bytes_ = static_cast<std::size_t>(elems) * sizeof(T) + kTileBytes;
  if (wgrad) {
    // Tasks are (group of images, block of channels), at least 8 where there are images enough
    // (4-line blocks measured ~12 % faster than 2-line ones at mbv2_dw3x3s2_b16, 1 thread); each
    // sums its images into its own taps x cb partials, added over the groups in order after.
    const dim_t blocks = (g.C + cb - 1) / cb;
    wgrad_groups_ = std::clamp<dim_t>((8 + blocks - 1) / blocks, 1, g.N);
    const char* ws = "workspace";
    wgrad_partials_ = align64(shared_bytes_);
    shared_bytes_ = checked_size_add(
        wgrad_partials_,
        checked_bytes64(checked_mul(checked_mul(wgrad_groups_, blocks * cb, ws), taps_, ws),
                        sizeof(T), ws),
        ws);
  }
}

// Channels-first forward by tiles: a task is a block of tile_channels_ channels of
// one image. It transposes the block's planes into a channels-last tile in its slot
// (kernels::transpose), runs the channels-last kernels over the tile (every padding mode: the
// border positions map their taps as on a caller's channels-last tensor) and transposes the
// output tile back into the planes. The rows of 14-28 outputs that leave the planes' vectors
// half idle (a stride-2 layer's) are then runs of channel vectors.
template <class T>
void DepthwiseExecutor<T>::run_tiles(const OpArgs& args, const T* wt, const T* bias, int n_threads,
                                     char* ws) const {
  const dim_t cb = tile_channels_;
  const dim_t blocks = (g_.C + cb - 1) / cb;
  const dim_t pin = tile_in_elems_ / cb;
  const auto &xs = args.a.strides, &ys = args.out.strides;
  parallel_tasks(g_.N * blocks, n_threads, [&](dim_t task) {
    const dim_t n = task / blocks, c0 = task % blocks * cb, cn = std::min(cb, g_.C - c0);
    char* sl = ws + shared_bytes_ + static_cast<std::size_t>(thread_index()) * slot_bytes_;
    char* tiles = sl + (slot_bytes_ - tile_bytes_);
    tiles += (kTileBytes - reinterpret_cast<std::uintptr_t>(tiles) % kTileBytes) % kTileBytes;
    T* xin = reinterpret_cast<T*>(tiles);
    T* yout = xin + tile_in_elems_ + (cb - tile_in_elems_ % cb) % cb;
    kernels::transpose<T>(static_cast<std::size_t>(cn), static_cast<std::size_t>(pin),
                          static_cast<const T*>(args.a.data) + n * xs[0] + c0 * xs[1], xs[1], xin,
                          cb);
    run_channels_last(xin, tile_in_strides_, yout, tile_out_strides_, wt, bias, c0, cn, 0,
                      positions_, sl);
    kernels::transpose<T>(static_cast<std::size_t>(positions_), static_cast<std::size_t>(cn), yout,
                          cb, static_cast<T*>(args.out.data) + n * ys[0] + c0 * ys[1], ys[1]);
  });
}

// The members above for both element types (the class is declared in depthwise_executor.h).
template void DepthwiseExecutor<float>::plan_tiles(const Geometry& g, Op op);
template void DepthwiseExecutor<double>::plan_tiles(const Geometry& g, Op op);
template void DepthwiseExecutor<float>::run_tiles(const OpArgs& args, const float* wt,
                                                  const float* bias, int n_threads, char* ws) const;
template void DepthwiseExecutor<double>::run_tiles(const OpArgs& args, const double* wt,
                                                   const double* bias, int n_threads,
                                                   char* ws) const;

}  // namespace convnd::detail::depthwise
