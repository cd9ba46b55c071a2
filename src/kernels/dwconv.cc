// Highway implementation of dwconv.h. Four vectors of outputs per step keep four independent
// FMA chains in flight per tap (each tap's FMA depends on the previous one for the same output).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dwconv.cc"
#include "kernels/dwconv.h"

#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Masked partial vectors where the target has fault-free masked loads and stores (AVX2 and
// AVX-512: vmaskmov / k-masks): a row of 14-28 elements is one or two vectors, not a scalar
// tail of up to 15. Other targets (SSE4's MaskedLoad reads the whole vector) go scalar.
// Hides a pointer's value from the optimiser, so that a run of loads `step` apart advances it by
// one add each: otherwise GCC keeps every multiple of a run-time step in its own register, runs
// out of them, and parks offsets in vector registers (a vmovq before each load; dw_channels_taps
// ran at 30 % of peak in L1 that way).
#ifndef CONVND_DW_OPAQUE
#if defined(__GNUC__)
#define CONVND_DW_OPAQUE(p) asm("" : "+r"(p))
#else
#define CONVND_DW_OPAQUE(p) (void)(p)
#endif
#endif

#undef CONVND_DW_MASKED
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#define CONVND_DW_MASKED 1
#else
#define CONVND_DW_MASKED 0
#endif

template <class T>
HWY_INLINE void Channels(std::size_t taps, const T* const* in, const T* w, std::size_t w_stride,
                         const T* bias, T* out, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t c = 0;
  for (; c + 4 * N <= count; c += 4 * N) {
    auto a0 = bias ? hn::LoadU(d, bias + c) : hn::Zero(d);
    auto a1 = bias ? hn::LoadU(d, bias + c + N) : hn::Zero(d);
    auto a2 = bias ? hn::LoadU(d, bias + c + 2 * N) : hn::Zero(d);
    auto a3 = bias ? hn::LoadU(d, bias + c + 3 * N) : hn::Zero(d);
    for (std::size_t t = 0; t < taps; ++t) {
      const T* x = in[t] + c;
      const T* wt = w + t * w_stride + c;
      a0 = hn::MulAdd(hn::LoadU(d, wt), hn::LoadU(d, x), a0);
      a1 = hn::MulAdd(hn::LoadU(d, wt + N), hn::LoadU(d, x + N), a1);
      a2 = hn::MulAdd(hn::LoadU(d, wt + 2 * N), hn::LoadU(d, x + 2 * N), a2);
      a3 = hn::MulAdd(hn::LoadU(d, wt + 3 * N), hn::LoadU(d, x + 3 * N), a3);
    }
    hn::StoreU(a0, d, out + c);
    hn::StoreU(a1, d, out + c + N);
    hn::StoreU(a2, d, out + c + 2 * N);
    hn::StoreU(a3, d, out + c + 3 * N);
  }
  for (; c + N <= count; c += N) {
    auto a = bias ? hn::LoadU(d, bias + c) : hn::Zero(d);
    for (std::size_t t = 0; t < taps; ++t)
      a = hn::MulAdd(hn::LoadU(d, w + t * w_stride + c), hn::LoadU(d, in[t] + c), a);
    hn::StoreU(a, d, out + c);
  }
  for (; c < count; ++c) {  // scalar tail: no load may reach past `count`
    T a = bias ? bias[c] : T(0);
    for (std::size_t t = 0; t < taps; ++t) a += w[t * w_stride + c] * in[t][c];
    out[c] = a;
  }
}

// # Channel vectors on aligned addresses
// Callers' tensors are rarely 64-byte aligned (malloc's blocks start 16 bytes into a page), and
// with channels-last rows of C * 4 bytes every vector load of a position then straddles two cache
// lines: 1.5x the time of the same call on aligned data (mbv2 3x3, C 144). So the channel
// vectors start where the input's loads are aligned (`first`, from the first input pointer;
// every position shares it when the row pitch is a multiple of the vector). Where the target
// has fault-free masked loads (CONVND_DW_MASKED) the channels before `first` and after the last
// full vector are masked vectors on the same aligned grid (lanes outside [0, count) neither read
// nor written); elsewhere they are whole vectors at 0 and ending at `count`, overlapping their
// neighbours (each lane's sum is the same FMA sequence whichever vector holds it, so an overlap
// writes equal values). Either way the result does not depend on the alignment. Needs count >= N.
template <class T>
HWY_INLINE std::size_t AlignedFirst(const T* p, std::size_t N) {
  const std::size_t bytes = std::min<std::size_t>(N * sizeof(T), 64);
  const std::size_t mis = reinterpret_cast<std::uintptr_t>(p) % bytes;
  if (mis == 0 || mis % sizeof(T) != 0) return 0;
  return (bytes - mis) / sizeof(T);
}

// Loads and stores of a block's vectors: whole, or only the lanes of mask m.
template <bool kMasked, class D, class T>
HWY_INLINE hn::Vec<D> LoadLanes(D d, hn::Mask<D> m, const T* p) {
  if constexpr (kMasked)
    return hn::MaskedLoad(m, d, p);
  else
    return hn::LoadU(d, p);
}
template <bool kMasked, class D, class T>
HWY_INLINE void StoreLanes(hn::Vec<D> v, D d, hn::Mask<D> m, T* p) {
  if constexpr (kMasked)
    hn::BlendedStore(v, m, d, p);
  else
    hn::StoreU(v, d, p);
}

// Calls block(c, std::integral_constant<int, V>, std::bool_constant<masked>, mask) for vectors
// covering channels [0, count) (see above): from `first`, pairs of vectors (where Pairs) and
// single ones, with the head before `first` and the tail after the last full vector.
template <bool Pairs, class D, class F>
HWY_INLINE void ChannelVectors(D d, std::size_t count, std::size_t first, F&& block) {
  const std::size_t N = hn::Lanes(d);
  using One = std::integral_constant<int, 1>;
  const auto all = hn::FirstN(d, N);
#if CONVND_DW_MASKED
  if (first > 0)
    block(static_cast<std::ptrdiff_t>(first) - static_cast<std::ptrdiff_t>(N), One(),
          std::true_type(), hn::Not(hn::FirstN(d, N - first)));
#else
  if (first > 0) block(std::ptrdiff_t{0}, One(), std::false_type(), all);
#endif
  std::size_t c = first;
  if constexpr (Pairs)
    for (; c + 2 * N <= count; c += 2 * N)
      block(static_cast<std::ptrdiff_t>(c), std::integral_constant<int, 2>(), std::false_type(),
            all);
  for (; c + N <= count; c += N)
    block(static_cast<std::ptrdiff_t>(c), One(), std::false_type(), all);
#if CONVND_DW_MASKED
  if (c < count)
    block(static_cast<std::ptrdiff_t>(c), One(), std::true_type(), hn::FirstN(d, count - c));
#else
  if (c < count) block(static_cast<std::ptrdiff_t>(count - N), One(), std::false_type(), all);
#endif
}

// R positions [j, j + R) of V channel vectors from c (the lanes of m if kMasked, then V = 1):
// R * V accumulators, each weight vector loaded once per term for R FMAs.
template <int R, int V, bool kMasked, class D, class T = hn::TFromD<D>>
HWY_INLINE void RunBlock(D d, std::size_t terms, const T* const* in, const T* const* w,
                         std::ptrdiff_t in_step, const T* bias, T* out, std::ptrdiff_t out_step,
                         std::ptrdiff_t j, std::ptrdiff_t c, hn::Mask<D> m) {
  const std::size_t N = hn::Lanes(d);
  hn::Vec<D> acc[R * V];
  for (int v = 0; v < V; ++v) {
    const auto b = bias ? LoadLanes<kMasked>(d, m, bias + c + v * N) : hn::Zero(d);
    for (int r = 0; r < R; ++r) acc[v * R + r] = b;
  }
  for (std::size_t i = 0; i < terms; ++i) {
    const T* x = in[i] + j * in_step + c;
    for (int v = 0; v < V; ++v) {
      const auto wv = LoadLanes<kMasked>(d, m, w[i] + c + v * N);
      for (int r = 0; r < R; ++r)
        acc[v * R + r] =
            hn::MulAdd(wv, LoadLanes<kMasked>(d, m, x + r * in_step + v * N), acc[v * R + r]);
    }
  }
  T* o = out + j * out_step + c;
  for (int v = 0; v < V; ++v)
    for (int r = 0; r < R; ++r) StoreLanes<kMasked>(acc[v * R + r], d, m, o + r * out_step + v * N);
}

// R positions [j, j + R) of every full channel vector, the channel vectors innermost: a block's
// reads sweep each input position's channels in order (consecutive lines, which the prefetchers
// follow), where channel vectors outermost swept every position once per vector, a line each
// 4-8 positions apart. Two vectors at a time where the target has 32 registers (16
// accumulators: each chain of `terms` dependent FMAs is then hidden behind twice the work).
template <int R, class T>
HWY_INLINE void RunBlocks(std::size_t terms, const T* const* in, const T* const* w,
                          std::ptrdiff_t in_step, const T* bias, T* out, std::ptrdiff_t out_step,
                          std::ptrdiff_t j, std::size_t count, std::size_t first) {
  const hn::ScalableTag<T> d;
  ChannelVectors<HWY_TARGET <= HWY_AVX3>(
      d, count, first, [&](std::ptrdiff_t c, auto v, auto masked, auto m) {
        RunBlock<R, decltype(v)::value, decltype(masked)::value>(d, terms, in, w, in_step, bias,
                                                                 out, out_step, j, c, m);
      });
}

// 8 positions of one channel vector in registers: each weight vector, loaded once per term,
// serves 8 FMAs (dw_channels loads a weight for every FMA), and 8 independent chains cover the
// FMA latency (2 ports x 4 cycles). The positions past the last full 8 run in at most one block
// each of 4, 2 and 1 (they ran one by one, one weight load per FMA; a last block of 8
// overlapping the one before measured slower on stride-2 rows of 12-13, a third recomputed).
template <class T>
HWY_INLINE void ChannelsRun(std::size_t terms, const T* const* in, const T* const* w,
                            std::ptrdiff_t in_step, const T* bias, T* out, std::ptrdiff_t out_step,
                            std::size_t positions, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  const auto P = static_cast<std::ptrdiff_t>(positions);
  const std::size_t vec_end = count < N ? 0 : count;  // fewer channels than a vector: scalar
  if (vec_end > 0) {
    const std::size_t first = terms > 0 ? AlignedFirst(in[0], N) : 0;
    std::ptrdiff_t j = 0;
    for (; j + 8 <= P; j += 8)
      RunBlocks<8>(terms, in, w, in_step, bias, out, out_step, j, count, first);
    if (j + 4 <= P)
      RunBlocks<4>(terms, in, w, in_step, bias, out, out_step, j, count, first), j += 4;
    if (j + 2 <= P)
      RunBlocks<2>(terms, in, w, in_step, bias, out, out_step, j, count, first), j += 2;
    if (j < P) RunBlocks<1>(terms, in, w, in_step, bias, out, out_step, j, count, first);
  }
  for (std::size_t c = vec_end; c < count; ++c)  // scalar tail: no load may reach past `count`
    for (std::ptrdiff_t j = 0; j < P; ++j) {
      T a = bias ? bias[c] : T(0);
      for (std::size_t i = 0; i < terms; ++i) a += w[i][c] * in[i][j * in_step + c];
      out[j * out_step + c] = a;
    }
}

// Calls f(std::integral_constant<int, I>()) for each I in order.
template <class F, int... I>
HWY_INLINE void ForEachIndex(std::integer_sequence<int, I...>, F&& f) {
  (f(std::integral_constant<int, I>()), ...);
}

// # dw_channels_taps: a kernel row's taps share their input vectors
// Along a kernel row the taps read the input KW samples apart by `tap_step`, and consecutive
// positions `in_step` apart. With in_step = S * tap_step (stride S, dilation 1), position r's
// tap kc reads sample r * S + kc of the run, so R positions of a KW-tap row read only
// (R - 1) * S + KW distinct vectors, not R * KW: each is loaded once and feeds every
// (position, tap) pair that reads it (7x7, stride 1, 8 positions: 14 loads for 56 FMAs where
// dw_channels_run loads 56), with the row's KW weight vectors in registers. The FMAs of each
// position still run over rows, then taps, in order: the same sums, bit for bit, as
// dw_channels_run over the same terms.
template <int R, int KW, int S, int V, bool kMasked, class D, class T = hn::TFromD<D>>
HWY_INLINE void TapsBlock(D d, std::size_t rows, const T* const* in, const T* const* w,
                          std::size_t w_step, std::ptrdiff_t tap_step, std::ptrdiff_t in_step,
                          const T* bias, T* out, std::ptrdiff_t out_step, std::ptrdiff_t j,
                          std::ptrdiff_t c, hn::Mask<D> lanes) {
  const std::size_t N = hn::Lanes(d);
  constexpr int kSamples = (R - 1) * S + KW;
  hn::Vec<D> acc[V][R];
  for (int v = 0; v < V; ++v) {
    const auto b = bias ? LoadLanes<kMasked>(d, lanes, bias + c + v * N) : hn::Zero(d);
    for (int r = 0; r < R; ++r) acc[v][r] = b;
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const T* x = in[i] + j * in_step + c;
    hn::Vec<D> wv[V][KW];
    const T* wk = w[i] + c;
    for (int k = 0; k < KW; ++k) {
      for (int v = 0; v < V; ++v) wv[v][k] = LoadLanes<kMasked>(d, lanes, wk + v * N);
      wk += w_step;
    }
    if constexpr (S == 2) {
      // Unrolled by a fold over compile-time indices: every accumulator and weight index is a
      // constant, so they stay in registers also for blocks of 12 (a loop unrolled by pragma
      // left them on the stack there). At stride 1 the pragma's loop measured faster
      // (mbv2_dw3x3_b1 0.89x with the fold).
      ForEachIndex(std::make_integer_sequence<int, kSamples>(), [&](auto m) {
        CONVND_DW_OPAQUE(x);
        for (int v = 0; v < V; ++v) {
          const auto xv = LoadLanes<kMasked>(d, lanes, x + v * N);
          ForEachIndex(std::make_integer_sequence<int, R>(), [&](auto r) {
            constexpr int k = decltype(m)::value - decltype(r)::value * S;
            if constexpr (k >= 0 && k < KW) acc[v][r] = hn::MulAdd(wv[v][k], xv, acc[v][r]);
          });
        }
        x += tap_step;
      });
    } else {
#pragma GCC unroll 32
      for (int m = 0; m < kSamples; ++m) {
        CONVND_DW_OPAQUE(x);
        for (int v = 0; v < V; ++v) {
          const auto xv = LoadLanes<kMasked>(d, lanes, x + v * N);
#pragma GCC unroll 16
          for (int r = 0; r < R; ++r) {
            const int k = m - r * S;
            if (k >= 0 && k < KW) acc[v][r] = hn::MulAdd(wv[v][k], xv, acc[v][r]);
          }
        }
        x += tap_step;
      }
    }
  }
  T* o = out + j * out_step + c;
  for (int v = 0; v < V; ++v)
    for (int r = 0; r < R; ++r) StoreLanes<kMasked>(acc[v][r], d, lanes, o + r * out_step + v * N);
}

// Blocks of R positions over every full channel vector: two at a time at stride 1 where the
// target has 32 registers and the row's weights leave room (2 * (R + KW) + 2 <= 32); at stride
// 2 a row reads (R - 1) * 2 + KW samples per vector and one vector at a time measured faster.
template <int R, int KW, int S, class T>
HWY_INLINE void TapsBlocks(std::size_t rows, const T* const* in, const T* const* w,
                           std::size_t w_step, std::ptrdiff_t tap_step, std::ptrdiff_t in_step,
                           const T* bias, T* out, std::ptrdiff_t out_step, std::ptrdiff_t j,
                           std::size_t count, std::size_t first) {
  const hn::ScalableTag<T> d;
  constexpr bool kPairs = HWY_TARGET <= HWY_AVX3 && S == 1 && 2 * (R + KW) + 2 <= 32;
  ChannelVectors<kPairs>(d, count, first, [&](std::ptrdiff_t c, auto v, auto masked, auto m) {
    TapsBlock<R, KW, S, decltype(v)::value, decltype(masked)::value>(
        d, rows, in, w, w_step, tap_step, in_step, bias, out, out_step, j, c, m);
  });
}

// The run's positions in blocks of 12 (stride 2, 32 registers) or 8, then at most one block each
// of 4, 2 and 1.
template <int KW, int S, class T>
HWY_INLINE void TapsRun(std::size_t rows, const T* const* in, const T* const* w, std::size_t w_step,
                        std::ptrdiff_t tap_step, const T* bias, T* out, std::ptrdiff_t out_step,
                        std::size_t positions, std::size_t count) {
  const std::ptrdiff_t in_step = S * tap_step;
  const auto P = static_cast<std::ptrdiff_t>(positions);
  const std::size_t first = AlignedFirst(in[0], hn::Lanes(hn::ScalableTag<T>()));
  std::ptrdiff_t j = 0;
#if HWY_TARGET <= HWY_AVX3
  // Stride 2 runs one channel vector at a time, so 32 registers hold 12 positions (12
  // accumulators, KW weights, a sample): a row of 12-13 outputs (stride-2 layers of 28 inputs)
  // is one block, not 8 + 4 (a block of 4 reloads the row's weights for a third of the FMAs).
  if constexpr (S == 2)
    for (; j + 12 <= P; j += 12)
      TapsBlocks<12, KW, S>(rows, in, w, w_step, tap_step, in_step, bias, out, out_step, j, count,
                            first);
#endif
  for (; j + 8 <= P; j += 8)
    TapsBlocks<8, KW, S>(rows, in, w, w_step, tap_step, in_step, bias, out, out_step, j, count,
                         first);
  if (j + 4 <= P) {
    TapsBlocks<4, KW, S>(rows, in, w, w_step, tap_step, in_step, bias, out, out_step, j, count,
                         first);
    j += 4;
  }
  if (j + 2 <= P) {
    TapsBlocks<2, KW, S>(rows, in, w, w_step, tap_step, in_step, bias, out, out_step, j, count,
                         first);
    j += 2;
  }
  if (j < P)
    TapsBlocks<1, KW, S>(rows, in, w, w_step, tap_step, in_step, bias, out, out_step, j, count,
                         first);
}

template <class T>
HWY_INLINE void ChannelsTaps(std::size_t rows, const T* const* in, const T* const* w,
                             std::size_t taps, std::size_t w_step, std::ptrdiff_t tap_step,
                             std::ptrdiff_t in_step, const T* bias, T* out, std::ptrdiff_t out_step,
                             std::size_t positions, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  const std::size_t vec_end = count < N ? 0 : count;  // fewer channels than a vector: scalar
  const int S = in_step == tap_step ? 1 : in_step == 2 * tap_step ? 2 : 0;
  bool vectors = false;  // whether a vector path covered every channel
#define CONVND_DW_TAPS(KW, STRIDE)                                                             \
  if (!vectors && vec_end > 0 && rows > 0 && taps == KW && S == STRIDE) {                      \
    TapsRun<KW, STRIDE>(rows, in, w, w_step, tap_step, bias, out, out_step, positions, count); \
    vectors = true;                                                                            \
  }
  CONVND_DW_TAPS(2, 1)
  CONVND_DW_TAPS(3, 1)
  CONVND_DW_TAPS(3, 2)
  CONVND_DW_TAPS(5, 1)
  CONVND_DW_TAPS(5, 2)
  CONVND_DW_TAPS(7, 1)
  CONVND_DW_TAPS(7, 2)
#undef CONVND_DW_TAPS
  // Any other row length or step, or fewer channels than a vector: every position and tap in
  // turn (callers use dw_channels_run for those shapes).
  const std::size_t c0 = vectors ? count : 0;
  const auto P = static_cast<std::ptrdiff_t>(positions);
  for (std::size_t c = c0; c < count; ++c)  // scalar: nothing past `count` read
    for (std::ptrdiff_t j = 0; j < P; ++j) {
      T a = bias ? bias[c] : T(0);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t k = 0; k < taps; ++k)
          a += w[i][k * w_step + c] *
               in[i][j * in_step + static_cast<std::ptrdiff_t>(k) * tap_step + c];
      out[j * out_step + c] = a;
    }
  (void)d;
}

// 8 taps of one channel vector in registers; the dy vector of a position loaded once for them.
// AVX2 has 16 vector registers: 8 accumulators, dy and the x operand fit without spills.
// # dw_weights_taps: a kernel row's weight gradient along a run of positions
// acc[k * acc_step + c] += sum over j of in[j * in_step + k * tap_step + c] * dy[j * dy_step + c]:
// the KW taps' accumulators of V channel vectors stay in registers for the whole run, each dy
// vector loaded once for KW FMAs and the sample addresses advanced by adds (dw_weights loads a
// pointer per sample and each position's taps from a list). Per (tap, channel) the positions
// are summed in order j = 0, 1, ...
template <int KW, int S, int V, bool kMasked, class D, class T = hn::TFromD<D>>
HWY_INLINE void WeightsTapsBlock(D d, const T* in, std::ptrdiff_t tap_step, std::ptrdiff_t in_step,
                                 const T* dy, std::ptrdiff_t dy_step, std::size_t positions, T* acc,
                                 std::size_t acc_step, std::ptrdiff_t c, hn::Mask<D> lanes) {
  const std::size_t N = hn::Lanes(d);
  hn::Vec<D> a[KW][V];
  for (int k = 0; k < KW; ++k)
    for (int v = 0; v < V; ++v)
      a[k][v] = LoadLanes<kMasked>(d, lanes, acc + k * acc_step + c + v * N);
  const T* x = in + c;
  const T* g = dy + c;
  std::size_t j = 0;
  if constexpr (S > 0 && S < KW) {
    // in_step = S * tap_step: positions overlap in the samples they read, so R positions'
    // (R - 1) * S + KW samples are each loaded once for every (position, tap) pair that reads
    // them (3 taps at stride 2: 9 loads for 12 FMAs, not 12). For each tap the positions still
    // meet its accumulator in order: the same sums, bit for bit, as one position at a time.
    // WeightsTaps takes it only for 3 taps (others get S = 0): at 5 and 7 (effnet_dw5s2_b8,
    // convnext_dw7_b1) it measured 0.78x and 0.95x of one position at a time (1 thread, Zen 5).
    constexpr int R = 4;
    constexpr int kSamples = (R - 1) * S + KW;
    for (; j + R <= positions; j += R) {
      hn::Vec<D> gv[R][V];
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v)
          gv[r][v] = LoadLanes<kMasked>(d, lanes, g + r * dy_step + v * N);
      // Unrolled by a fold over compile-time indices, so that every accumulator index is a
      // constant and the accumulators stay in registers (a loop with the tap computed from
      // the sample and the position left them on the stack).
      const T* xm = x;
      ForEachIndex(std::make_integer_sequence<int, kSamples>(), [&](auto m) {
        CONVND_DW_OPAQUE(xm);
        for (int v = 0; v < V; ++v) {
          const auto xv = LoadLanes<kMasked>(d, lanes, xm + v * N);
          ForEachIndex(std::make_integer_sequence<int, R>(), [&](auto r) {
            constexpr int k = decltype(m)::value - decltype(r)::value * S;
            if constexpr (k >= 0 && k < KW) a[k][v] = hn::MulAdd(xv, gv[r][v], a[k][v]);
          });
        }
        xm += tap_step;
      });
      x += R * in_step;
      g += R * dy_step;
    }
  }
  for (; j < positions; ++j) {
    hn::Vec<D> gv[V];
    for (int v = 0; v < V; ++v) gv[v] = LoadLanes<kMasked>(d, lanes, g + v * N);
    const T* xk = x;
    for (int k = 0; k < KW; ++k) {
      CONVND_DW_OPAQUE(xk);
      for (int v = 0; v < V; ++v)
        a[k][v] = hn::MulAdd(LoadLanes<kMasked>(d, lanes, xk + v * N), gv[v], a[k][v]);
      xk += tap_step;
    }
    x += in_step;
    g += dy_step;
  }
  for (int k = 0; k < KW; ++k)
    for (int v = 0; v < V; ++v)
      StoreLanes<kMasked>(a[k][v], d, lanes, acc + k * acc_step + c + v * N);
}

// KW taps (at most 8) over every channel: pairs of vectors where the target has 32 registers
// (2 KW + 2 + 2 of them), with the aligned grid, head and tail of ChannelVectors.
template <int KW, int S, class T>
HWY_INLINE void WeightsTapsRun(const T* in, std::ptrdiff_t tap_step, std::ptrdiff_t in_step,
                               const T* dy, std::ptrdiff_t dy_step, std::size_t positions, T* acc,
                               std::size_t acc_step, std::size_t count) {
  const hn::ScalableTag<T> d;
#if CONVND_DW_MASKED
  ChannelVectors<HWY_TARGET <= HWY_AVX3>(
      d, count, AlignedFirst(in, hn::Lanes(d)), [&](std::ptrdiff_t c, auto v, auto masked, auto m) {
        WeightsTapsBlock<KW, S, decltype(v)::value, decltype(masked)::value>(
            d, in, tap_step, in_step, dy, dy_step, positions, acc, acc_step, c, m);
      });
#else
  // Accumulators must not overlap (a lane in two vectors would be added twice): whole vectors
  // from 0, then the scalar tail.
  const std::size_t N = hn::Lanes(d);
  const auto all = hn::FirstN(d, N);
  std::size_t c = 0;
  for (; c + N <= count; c += N)
    WeightsTapsBlock<KW, S, 1, false>(d, in, tap_step, in_step, dy, dy_step, positions, acc,
                                      acc_step, static_cast<std::ptrdiff_t>(c), all);
  for (; c < count; ++c)
    for (int k = 0; k < KW; ++k) {
      T s = acc[k * acc_step + c];
      for (std::size_t j = 0; j < positions; ++j)
        s += in[static_cast<std::ptrdiff_t>(j) * in_step + k * tap_step + c] *
             dy[static_cast<std::ptrdiff_t>(j) * dy_step + c];
      acc[k * acc_step + c] = s;
    }
#endif
}

template <class T>
HWY_INLINE void WeightsTaps(std::size_t taps, const T* in, std::ptrdiff_t tap_step,
                            std::ptrdiff_t in_step, const T* dy, std::ptrdiff_t dy_step,
                            std::size_t positions, T* acc, std::size_t acc_step,
                            std::size_t count) {
  const std::size_t N = hn::Lanes(hn::ScalableTag<T>());
  if (count < N) {  // scalar: nothing past `count` read
    for (std::size_t k = 0; k < taps; ++k)
      for (std::size_t c = 0; c < count; ++c) {
        T s = acc[k * acc_step + c];
        for (std::size_t j = 0; j < positions; ++j)
          s += in[static_cast<std::ptrdiff_t>(j) * in_step +
                  static_cast<std::ptrdiff_t>(k) * tap_step + c] *
               dy[static_cast<std::ptrdiff_t>(j) * dy_step + c];
        acc[k * acc_step + c] = s;
      }
    return;
  }
  // Positions S samples apart (stride 1 or 2, dilation 1) share samples (WeightsTapsBlock);
  // with too few positions for a block of 4 that path is never taken, so S = 0 skips it.
  const int S = positions < 4 ? 0 : in_step == tap_step ? 1 : in_step == 2 * tap_step ? 2 : 0;
  // Groups of up to 8 taps (a kernel row longer than 8 runs over the positions once per group).
  for (std::size_t k0 = 0; k0 < taps; k0 += 8) {
    const T* x = in + static_cast<std::ptrdiff_t>(k0) * tap_step;
    T* a = acc + k0 * acc_step;
    switch (std::min<std::size_t>(8, taps - k0)) {
#define CONVND_DW_WT(KW)                                                                       \
  case KW:                                                                                     \
    if (KW == 3 && S == 1)                                                                     \
      WeightsTapsRun<KW, 1>(x, tap_step, in_step, dy, dy_step, positions, a, acc_step, count); \
    else if (KW == 3 && S == 2)                                                                \
      WeightsTapsRun<KW, 2>(x, tap_step, in_step, dy, dy_step, positions, a, acc_step, count); \
    else                                                                                       \
      WeightsTapsRun<KW, 0>(x, tap_step, in_step, dy, dy_step, positions, a, acc_step, count); \
    break;
      CONVND_DW_WT(1)
      CONVND_DW_WT(2)
      CONVND_DW_WT(3)
      CONVND_DW_WT(4)
      CONVND_DW_WT(5)
      CONVND_DW_WT(6)
      CONVND_DW_WT(7)
      CONVND_DW_WT(8)
#undef CONVND_DW_WT
      default:
        break;
    }
  }
}

template <class T>
HWY_INLINE void Weights(std::size_t positions, std::size_t taps, const T* const* x,
                        const T* const* dy, T* acc, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t c = 0;
  for (; c + N <= count; c += N) {
    std::size_t t = 0;
    for (; t + 8 <= taps; t += 8) {
      T* a = acc + t * count + c;
      auto a0 = hn::LoadU(d, a), a1 = hn::LoadU(d, a + count), a2 = hn::LoadU(d, a + 2 * count),
           a3 = hn::LoadU(d, a + 3 * count), a4 = hn::LoadU(d, a + 4 * count),
           a5 = hn::LoadU(d, a + 5 * count), a6 = hn::LoadU(d, a + 6 * count),
           a7 = hn::LoadU(d, a + 7 * count);
      for (std::size_t p = 0; p < positions; ++p) {
        const auto g = hn::LoadU(d, dy[p] + c);
        const T* const* xp = x + p * taps + t;
        a0 = hn::MulAdd(hn::LoadU(d, xp[0] + c), g, a0);
        a1 = hn::MulAdd(hn::LoadU(d, xp[1] + c), g, a1);
        a2 = hn::MulAdd(hn::LoadU(d, xp[2] + c), g, a2);
        a3 = hn::MulAdd(hn::LoadU(d, xp[3] + c), g, a3);
        a4 = hn::MulAdd(hn::LoadU(d, xp[4] + c), g, a4);
        a5 = hn::MulAdd(hn::LoadU(d, xp[5] + c), g, a5);
        a6 = hn::MulAdd(hn::LoadU(d, xp[6] + c), g, a6);
        a7 = hn::MulAdd(hn::LoadU(d, xp[7] + c), g, a7);
      }
      hn::StoreU(a0, d, a);
      hn::StoreU(a1, d, a + count);
      hn::StoreU(a2, d, a + 2 * count);
      hn::StoreU(a3, d, a + 3 * count);
      hn::StoreU(a4, d, a + 4 * count);
      hn::StoreU(a5, d, a + 5 * count);
      hn::StoreU(a6, d, a + 6 * count);
      hn::StoreU(a7, d, a + 7 * count);
    }
    for (; t < taps; ++t) {
      auto s = hn::LoadU(d, acc + t * count + c);
      for (std::size_t p = 0; p < positions; ++p)
        s = hn::MulAdd(hn::LoadU(d, x[p * taps + t] + c), hn::LoadU(d, dy[p] + c), s);
      hn::StoreU(s, d, acc + t * count + c);
    }
  }
  for (; c < count; ++c)  // scalar tail: no load may reach past `count`
    for (std::size_t t = 0; t < taps; ++t) {
      T s = acc[t * count + c];
      for (std::size_t p = 0; p < positions; ++p) s += x[p * taps + t][c] * dy[p][c];
      acc[t * count + c] = s;
    }
}

// V channel vectors at offsets cs[v] (the lanes of ms[v] if kMasked): V independent chains of
// `terms` FMAs, each lane summing bias, then the terms in order.
template <int V, bool kMasked, class D, class T = hn::TFromD<D>>
HWY_INLINE void GatherBlock(D d, std::size_t terms, const T* const* in, const T* const* w,
                            const T* bias, T* out, const std::ptrdiff_t* cs,
                            const hn::Mask<D>* ms) {
  hn::Vec<D> acc[V];
  for (int v = 0; v < V; ++v)
    acc[v] = bias ? LoadLanes<kMasked>(d, ms[v], bias + cs[v]) : hn::Zero(d);
  for (std::size_t i = 0; i < terms; ++i) {
    const T* x = in[i];
    const T* wt = w[i];
    for (int v = 0; v < V; ++v)
      acc[v] = hn::MulAdd(LoadLanes<kMasked>(d, ms[v], wt + cs[v]),
                          LoadLanes<kMasked>(d, ms[v], x + cs[v]), acc[v]);
  }
  for (int v = 0; v < V; ++v) StoreLanes<kMasked>(acc[v], d, ms[v], out + cs[v]);
}

// One position's channels: blocks of 8, 4, 2 and 1 vectors from where the input's loads are
// aligned, the masked head and tail (see ChannelVectors) together as one block of two. Each
// term costs two loads per FMA, so 8 chains keep both load ports busy, where blocks of 4 and
// single vectors (a 5x5 border position of C 240 had three) waited on the FMA latency.
template <class T>
HWY_INLINE void Gather(std::size_t terms, const T* const* in, const T* const* w, const T* bias,
                       T* out, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  if (count < N) {
    for (std::size_t c = 0; c < count; ++c) {  // scalar: no load may reach past `count`
      T a = bias ? bias[c] : T(0);
      for (std::size_t i = 0; i < terms; ++i) a += w[i][c] * in[i][c];
      out[c] = a;
    }
    return;
  }
  using M = hn::Mask<decltype(d)>;
  const std::size_t first = terms > 0 ? AlignedFirst(in[0], N) : 0;
  const M all = hn::FirstN(d, N);
  const M alls[8] = {all, all, all, all, all, all, all, all};
  std::ptrdiff_t cs[8];
  auto from = [&](std::size_t c, int v) {
    for (int k = 0; k < v; ++k) cs[k] = static_cast<std::ptrdiff_t>(c + k * N);
  };
  std::size_t c = first;
  for (; c + 8 * N <= count; c += 8 * N)
    from(c, 8), GatherBlock<8, false>(d, terms, in, w, bias, out, cs, alls);
  if (c + 4 * N <= count)
    from(c, 4), GatherBlock<4, false>(d, terms, in, w, bias, out, cs, alls), c += 4 * N;
  if (c + 2 * N <= count)
    from(c, 2), GatherBlock<2, false>(d, terms, in, w, bias, out, cs, alls), c += 2 * N;
  if (c + N <= count)
    from(c, 1), GatherBlock<1, false>(d, terms, in, w, bias, out, cs, alls), c += N;
    // The head (before `first`) and the tail (after c).
#if CONVND_DW_MASKED
  M ms[2];
  int n = 0;
  if (first > 0) {
    cs[n] = static_cast<std::ptrdiff_t>(first) - static_cast<std::ptrdiff_t>(N);
    ms[n++] = hn::Not(hn::FirstN(d, N - first));
  }
  if (c < count) {
    cs[n] = static_cast<std::ptrdiff_t>(c);
    ms[n++] = hn::FirstN(d, count - c);
  }
  if (n == 2) GatherBlock<2, true>(d, terms, in, w, bias, out, cs, ms);
  if (n == 1) GatherBlock<1, true>(d, terms, in, w, bias, out, cs, ms);
#else
  int n = 0;
  if (first > 0) cs[n++] = 0;
  if (c < count) cs[n++] = static_cast<std::ptrdiff_t>(count - N);
  if (n == 2) GatherBlock<2, false>(d, terms, in, w, bias, out, cs, alls);
  if (n == 1) GatherBlock<1, false>(d, terms, in, w, bias, out, cs, alls);
#endif
}

template <class T>
HWY_INLINE void Accumulate(std::size_t positions, const T* const* a, const T* const* b, T* acc,
                           std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t c = 0;
  for (; c + 2 * N <= count; c += 2 * N) {
    auto s0 = hn::LoadU(d, acc + c), s1 = hn::LoadU(d, acc + c + N);
    for (std::size_t p = 0; p < positions; ++p) {
      s0 = hn::MulAdd(hn::LoadU(d, a[p] + c), hn::LoadU(d, b[p] + c), s0);
      s1 = hn::MulAdd(hn::LoadU(d, a[p] + c + N), hn::LoadU(d, b[p] + c + N), s1);
    }
    hn::StoreU(s0, d, acc + c);
    hn::StoreU(s1, d, acc + c + N);
  }
  for (; c < count; ++c) {  // scalar tail
    T s = acc[c];
    for (std::size_t p = 0; p < positions; ++p) s += a[p][c] * b[p][c];
    acc[c] = s;
  }
}

// Four partial sums in a fixed order, then a fixed reduction: the same bits every run.
template <class T>
HWY_INLINE T Dot(const T* a, const T* b, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
  std::size_t j = 0;
  for (; j + 4 * N <= count; j += 4 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + j), hn::LoadU(d, b + j), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + j + N), hn::LoadU(d, b + j + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + j + 2 * N), hn::LoadU(d, b + j + 2 * N), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + j + 3 * N), hn::LoadU(d, b + j + 3 * N), s3);
  }
  T s = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; j < count; ++j) s += a[j] * b[j];
  return s;
}

// Step 2 deinterleaves with LoadInterleaved2 (two loads and two shuffles per vector of output,
// where the scalar loop moves one element per load and store); the full-vector loop stops
// before a load could read past in[(count - 1) * 2], and the rest is one masked step.
template <class T>
HWY_INLINE void StridedCopy(const T* in, std::ptrdiff_t step, T* out, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t j = 0;
  if (step == 1) {
    for (; j + N <= count; j += N) hn::StoreU(hn::LoadU(d, in + j), d, out + j);
#if CONVND_DW_MASKED
    if (j < count) {
      const auto m = hn::FirstN(d, count - j);
      hn::BlendedStore(hn::MaskedLoad(m, d, in + j), m, d, out + j);
      return;
    }
#endif
  } else if (step == 2) {
    for (; j + N < count; j += N) {
      hn::Vec<decltype(d)> even, odd;
      hn::LoadInterleaved2(d, in + 2 * j, even, odd);
      hn::StoreU(even, d, out + j);
    }
#if CONVND_DW_MASKED
    if (j < count) {  // 2 * (count - j) - 1 samples left to read, in two masked halves
      const std::size_t left = 2 * (count - j) - 1;
      const auto lo = hn::MaskedLoad(hn::FirstN(d, left), d, in + 2 * j);
      const auto hi = hn::MaskedLoad(hn::FirstN(d, left > N ? left - N : 0), d, in + 2 * j + N);
      hn::BlendedStore(hn::ConcatEven(d, hi, lo), hn::FirstN(d, count - j), d, out + j);
      return;
    }
#endif
  }
  // A walking pointer, not in[j * step]: GCC (12, on the scalar target) took that product for one
  // that may overflow and warned (-Waggressive-loop-optimizations).
  const T* src = in + static_cast<std::ptrdiff_t>(j) * step;
  for (; j < count; ++j, src += step) out[j] = *src;
}

template <class T>
HWY_INLINE void StridedCopyRows(const T* in, const std::int64_t* in_off, std::ptrdiff_t step,
                                T* out, const std::int64_t* out_off, std::size_t rows,
                                std::size_t count) {
  for (std::size_t r = 0; r < rows; ++r)
    StridedCopy<T>(in + in_off[r], step, out + out_off[r], count);
}

// R rows of one vector column [j, j + n) of dw_rows: inputs at in[t] + off + i * in_pitch,
// outputs at out + i * out_pitch (i < R), n <= N lanes (masked when n < N). R accumulators in
// flight: 8 cover two FMA ports' 4-cycle latency, and each weight broadcast serves R FMAs;
// AVX2's 16 registers hold 8 accumulators, the weight and the operand.
template <int R, class D, class T = hn::TFromD<D>>
HWY_INLINE void RowsColumn(D d, std::size_t taps, const T* const* in, const T* w, T bias,
                           std::ptrdiff_t off, std::ptrdiff_t in_pitch, T* out,
                           std::ptrdiff_t out_pitch, std::size_t n) {
  const std::size_t N = hn::Lanes(d);
  hn::Vec<D> acc[R];
  for (int i = 0; i < R; ++i) acc[i] = hn::Set(d, bias);
  if (n == N) {
    for (std::size_t t = 0; t < taps; ++t) {
      const auto wt = hn::Set(d, w[t]);
      const T* x = in[t] + off;
      for (int i = 0; i < R; ++i) acc[i] = hn::MulAdd(wt, hn::LoadU(d, x + i * in_pitch), acc[i]);
    }
    for (int i = 0; i < R; ++i) hn::StoreU(acc[i], d, out + i * out_pitch);
    return;
  }
#if CONVND_DW_MASKED
  const auto m = hn::FirstN(d, n);
  for (std::size_t t = 0; t < taps; ++t) {
    const auto wt = hn::Set(d, w[t]);
    const T* x = in[t] + off;
    for (int i = 0; i < R; ++i)
      acc[i] = hn::MulAdd(wt, hn::MaskedLoad(m, d, x + i * in_pitch), acc[i]);
  }
  for (int i = 0; i < R; ++i) hn::BlendedStore(acc[i], m, d, out + i * out_pitch);
#else
  for (int i = 0; i < R; ++i)  // scalar tail: no load may reach past the row's `count`
    for (std::size_t j = 0; j < n; ++j) {
      T s = bias;
      for (std::size_t t = 0; t < taps; ++t)
        s += w[t] * in[t][off + i * in_pitch + static_cast<std::ptrdiff_t>(j)];
      out[i * out_pitch + static_cast<std::ptrdiff_t>(j)] = s;
    }
#endif
}

// Blocks of R rows (8, 4, 2, 1: a lone row is one FMA chain per column, latency-bound), each
// column by column; returns the first row not done.
template <int R, class T>
HWY_INLINE std::size_t RowsBlocks(std::size_t r, std::size_t taps, const T* const* in, const T* w,
                                  T bias, std::size_t rows, std::ptrdiff_t in_pitch, T* out,
                                  std::ptrdiff_t out_pitch, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  for (; r + R <= rows; r += R)
    for (std::size_t j = 0; j < count; j += N) {
      const auto rr = static_cast<std::ptrdiff_t>(r), jj = static_cast<std::ptrdiff_t>(j);
      RowsColumn<R>(d, taps, in, w, bias, rr * in_pitch + jj, in_pitch, out + rr * out_pitch + jj,
                    out_pitch, std::min(N, count - j));
    }
  return r;
}

template <class T>
HWY_INLINE void Rows(std::size_t taps, const T* const* in, const T* w, T bias, std::size_t rows,
                     std::ptrdiff_t in_pitch, T* out, std::ptrdiff_t out_pitch, std::size_t count) {
  std::size_t r = RowsBlocks<8>(0, taps, in, w, bias, rows, in_pitch, out, out_pitch, count);
  r = RowsBlocks<4>(r, taps, in, w, bias, rows, in_pitch, out, out_pitch, count);
  r = RowsBlocks<2>(r, taps, in, w, bias, rows, in_pitch, out, out_pitch, count);
  RowsBlocks<1>(r, taps, in, w, bias, rows, in_pitch, out, out_pitch, count);
}

// One run of `count` outputs: its whole vectors as rows of one vector each (8 independent
// accumulators per weight broadcast, where 4 left the FMA ports half idle), then the tail as
// one masked row.
template <class T>
HWY_INLINE void Row(std::size_t taps, const T* const* in, const T* w, T bias, T* out,
                    std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  const std::size_t whole = count / N;
  const auto P = static_cast<std::ptrdiff_t>(N);
  std::size_t r = RowsBlocks<8>(0, taps, in, w, bias, whole, P, out, P, N);
  r = RowsBlocks<4>(r, taps, in, w, bias, whole, P, out, P, N);
  r = RowsBlocks<2>(r, taps, in, w, bias, whole, P, out, P, N);
  RowsBlocks<1>(r, taps, in, w, bias, whole, P, out, P, N);
  if (count % N == 0) return;
  const std::size_t j = whole * N;
  const hn::ScalableTag<T> dt;
  RowsColumn<1>(dt, taps, in, w, bias, static_cast<std::ptrdiff_t>(j), 0, out + j, 0, count - j);
}

// G taps of dw_dots: G vector accumulators over every row and column, one g load per G FMAs,
// then each reduced across lanes and added to acc[t].
template <int G, class T>
HWY_INLINE void DotsGroup(const T* const* in, std::ptrdiff_t in_pitch, const T* g,
                          std::ptrdiff_t g_pitch, std::size_t rows, std::size_t count, T* acc) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  hn::Vec<decltype(d)> s[G];
  for (int k = 0; k < G; ++k) s[k] = hn::Zero(d);
  T tail[G] = {};
  for (std::size_t r = 0; r < rows; ++r) {
    const auto ri = static_cast<std::ptrdiff_t>(r) * in_pitch;
    const T* gr = g + static_cast<std::ptrdiff_t>(r) * g_pitch;
    std::size_t j = 0;
    for (; j + N <= count; j += N) {
      const auto gv = hn::LoadU(d, gr + j);
      for (int k = 0; k < G; ++k) s[k] = hn::MulAdd(hn::LoadU(d, in[k] + ri + j), gv, s[k]);
    }
    if (j == count) continue;
#if CONVND_DW_MASKED
    const auto m = hn::FirstN(d, count - j);
    const auto gv = hn::MaskedLoad(m, d, gr + j);
    for (int k = 0; k < G; ++k) s[k] = hn::MulAdd(hn::MaskedLoad(m, d, in[k] + ri + j), gv, s[k]);
#else
    for (; j < count; ++j)  // scalar tail, summed apart from the lanes in a fixed order
      for (int k = 0; k < G; ++k) tail[k] += in[k][ri + static_cast<std::ptrdiff_t>(j)] * gr[j];
#endif
  }
  for (int k = 0; k < G; ++k) acc[k] += hn::GetLane(hn::SumOfLanes(d, s[k])) + tail[k];
}

template <class T>
HWY_INLINE void Dots(std::size_t taps, const T* const* in, std::ptrdiff_t in_pitch, const T* g,
                     std::ptrdiff_t g_pitch, std::size_t rows, std::size_t count, T* acc) {
  std::size_t t = 0;
  for (; t + 8 <= taps; t += 8) DotsGroup<8>(in + t, in_pitch, g, g_pitch, rows, count, acc + t);
  for (; t + 4 <= taps; t += 4) DotsGroup<4>(in + t, in_pitch, g, g_pitch, rows, count, acc + t);
  for (; t < taps; ++t) DotsGroup<1>(in + t, in_pitch, g, g_pitch, rows, count, acc + t);
}

// StoreInterleaved2 for whole pairs of vectors; the last partial pair through a buffer (no
// store reaches past out[count - 1]).
template <class T>
HWY_INLINE void Interleave2(const T* even, const T* odd, T* out, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t j = 0;
  for (; 2 * (j + N) <= count; j += N)
    hn::StoreInterleaved2(hn::LoadU(d, even + j), hn::LoadU(d, odd + j), d, out + 2 * j);
#if CONVND_DW_MASKED
  if (2 * j < count) {
    const std::size_t left = count - 2 * j;  // < 2N
    alignas(HWY_MAX_BYTES) T buf[2 * HWY_MAX_BYTES / sizeof(T)];
    hn::StoreInterleaved2(hn::MaskedLoad(hn::FirstN(d, (left + 1) / 2), d, even + j),
                          hn::MaskedLoad(hn::FirstN(d, left / 2), d, odd + j), d, buf);
    hn::BlendedStore(hn::Load(d, buf), hn::FirstN(d, left), d, out + 2 * j);
    if (left > N)
      hn::BlendedStore(hn::Load(d, buf + N), hn::FirstN(d, left - N), d, out + 2 * j + N);
    return;
  }
#endif
  for (; 2 * j < count; ++j) {
    out[2 * j] = even[j];
    if (2 * j + 1 < count) out[2 * j + 1] = odd[j];
  }
}

template <class T>
HWY_INLINE void InterleaveRows(const T* even, const T* odd, const std::int64_t* in_off, T* out,
                               const std::int64_t* out_off, std::size_t rows, std::size_t count) {
  for (std::size_t r = 0; r < rows; ++r)
    Interleave2<T>(even + in_off[r], odd + in_off[r], out + out_off[r], count);
}

// R rows of one column block [k, k + N) of dw_pair_rows: even outputs from the a taps, odd
// ones from the b taps, stored interleaved (2N outputs per row; the last block of a row through
// a buffer and masked stores, its loads masked to the lanes that count).
template <int R, class D, class T = hn::TFromD<D>>
HWY_INLINE void PairColumn(D d, std::size_t na, const T* const* a, const T* wa, std::size_t nb,
                           const T* const* b, const T* wb, T bias, std::ptrdiff_t off,
                           std::ptrdiff_t in_pitch, T* out, std::ptrdiff_t out_pitch,
                           std::size_t left) {
  const std::size_t N = hn::Lanes(d);
  hn::Vec<D> ea[R], ob[R];
  for (int i = 0; i < R; ++i) ea[i] = ob[i] = hn::Set(d, bias);
  if (left >= 2 * N) {
    for (std::size_t t = 0; t < na; ++t) {
      const auto w = hn::Set(d, wa[t]);
      for (int i = 0; i < R; ++i)
        ea[i] = hn::MulAdd(w, hn::LoadU(d, a[t] + off + i * in_pitch), ea[i]);
    }
    for (std::size_t t = 0; t < nb; ++t) {
      const auto w = hn::Set(d, wb[t]);
      for (int i = 0; i < R; ++i)
        ob[i] = hn::MulAdd(w, hn::LoadU(d, b[t] + off + i * in_pitch), ob[i]);
    }
    for (int i = 0; i < R; ++i) hn::StoreInterleaved2(ea[i], ob[i], d, out + i * out_pitch);
    return;
  }
#if CONVND_DW_MASKED
  const auto ma = hn::FirstN(d, (left + 1) / 2), mb = hn::FirstN(d, left / 2);
  for (std::size_t t = 0; t < na; ++t) {
    const auto w = hn::Set(d, wa[t]);
    for (int i = 0; i < R; ++i)
      ea[i] = hn::MulAdd(w, hn::MaskedLoad(ma, d, a[t] + off + i * in_pitch), ea[i]);
  }
  for (std::size_t t = 0; t < nb; ++t) {
    const auto w = hn::Set(d, wb[t]);
    for (int i = 0; i < R; ++i)
      ob[i] = hn::MulAdd(w, hn::MaskedLoad(mb, d, b[t] + off + i * in_pitch), ob[i]);
  }
  alignas(HWY_MAX_BYTES) T buf[2 * HWY_MAX_BYTES / sizeof(T)];
  for (int i = 0; i < R; ++i) {
    hn::StoreInterleaved2(ea[i], ob[i], d, buf);
    T* o = out + i * out_pitch;
    hn::BlendedStore(hn::Load(d, buf), hn::FirstN(d, left), d, o);
    if (left > N) hn::BlendedStore(hn::Load(d, buf + N), hn::FirstN(d, left - N), d, o + N);
  }
#else
  for (int i = 0; i < R; ++i)  // scalar: no load past the lanes that count
    for (std::size_t e = 0; e < left; ++e) {
      const std::size_t k = e / 2;
      const std::size_t n = e % 2 ? nb : na;
      const T* const* in = e % 2 ? b : a;
      const T* w = e % 2 ? wb : wa;
      T s = bias;
      for (std::size_t t = 0; t < n; ++t)
        s += w[t] * in[t][off + i * in_pitch + static_cast<std::ptrdiff_t>(k)];
      out[i * out_pitch + static_cast<std::ptrdiff_t>(e)] = s;
    }
#endif
}

template <int R, class T>
HWY_INLINE std::size_t PairBlocks(std::size_t r, std::size_t na, const T* const* a, const T* wa,
                                  std::size_t nb, const T* const* b, const T* wb, T bias,
                                  std::size_t rows, std::ptrdiff_t in_pitch, T* out,
                                  std::ptrdiff_t out_pitch, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  for (; r + R <= rows; r += R)
    for (std::size_t k = 0; 2 * k < count; k += N) {
      const auto rr = static_cast<std::ptrdiff_t>(r), kk = static_cast<std::ptrdiff_t>(k);
      PairColumn<R>(d, na, a, wa, nb, b, wb, bias, rr * in_pitch + kk, in_pitch,
                    out + rr * out_pitch + 2 * kk, out_pitch, count - 2 * k);
    }
  return r;
}

template <class T>
HWY_INLINE void PairRows(std::size_t na, const T* const* a, const T* wa, std::size_t nb,
                         const T* const* b, const T* wb, T bias, std::size_t rows,
                         std::ptrdiff_t in_pitch, T* out, std::ptrdiff_t out_pitch,
                         std::size_t count) {
  std::size_t r =
      PairBlocks<4>(0, na, a, wa, nb, b, wb, bias, rows, in_pitch, out, out_pitch, count);
  r = PairBlocks<2>(r, na, a, wa, nb, b, wb, bias, rows, in_pitch, out, out_pitch, count);
  PairBlocks<1>(r, na, a, wa, nb, b, wb, bias, rows, in_pitch, out, out_pitch, count);
}

// Both phases of each row: LoadInterleaved2 while a whole pair of vectors lies inside the row,
// then two masked halves (AVX2 / AVX-512), else scalar.
template <class T>
HWY_INLINE void DeinterleaveRows(const T* in, const std::int64_t* in_off, T* out_even, T* out_odd,
                                 const std::int64_t* out_off, std::size_t rows, std::size_t count) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* x = in + in_off[r];
    T* e = out_even + out_off[r];
    T* o = out_odd + out_off[r];
    // A stride-2 layer's rows are short (28 samples) and each plane is read once, from memory
    // (mbv2_dw3x3s2_b16's input is 9.6 MB): asking for the row 8 ahead measured 3-4 % faster.
    if (r + 8 < rows) {
      hwy::Prefetch(in + in_off[r + 8]);
      hwy::Prefetch(in + in_off[r + 8] + 64 / sizeof(T));
    }
    std::size_t j = 0;  // pairs done
    for (; 2 * (j + N) <= count; j += N) {
      hn::Vec<decltype(d)> ev, od;
      hn::LoadInterleaved2(d, x + 2 * j, ev, od);
      hn::StoreU(ev, d, e + j);
      hn::StoreU(od, d, o + j);
    }
#if CONVND_DW_MASKED
    if (2 * j < count) {
      const std::size_t left = count - 2 * j;  // < 2N samples
      const auto lo = hn::MaskedLoad(hn::FirstN(d, left), d, x + 2 * j);
      const auto hi = hn::MaskedLoad(hn::FirstN(d, left > N ? left - N : 0), d, x + 2 * j + N);
      hn::BlendedStore(hn::ConcatEven(d, hi, lo), hn::FirstN(d, (left + 1) / 2), d, e + j);
      hn::BlendedStore(hn::ConcatOdd(d, hi, lo), hn::FirstN(d, left / 2), d, o + j);
    }
#else
    for (; 2 * j < count; ++j) {
      e[j] = x[2 * j];
      if (2 * j + 1 < count) o[j] = x[2 * j + 1];
    }
#endif
  }
}

// This target's kernels, one table per dtype (dwconv_kernels.inc).
template <class T>
constexpr DwKernels<T> kDwTable{
#define CONVND_DW_KERNEL(name, body, ret, ...) .name = &body<T>,
#include "kernels/dwconv_kernels.inc"
#undef CONVND_DW_KERNEL
};
const DwKernels<float>* DwTableF32() { return &kDwTable<float>; }
const DwKernels<double>* DwTableF64() { return &kDwTable<double>; }

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(DwTableF32);
HWY_EXPORT(DwTableF64);

const DwKernels<float>& dw_kernels_f32() { return *HWY_DYNAMIC_DISPATCH(DwTableF32)(); }
const DwKernels<double>& dw_kernels_f64() { return *HWY_DYNAMIC_DISPATCH(DwTableF64)(); }

}  // namespace convnd::kernels
#endif
