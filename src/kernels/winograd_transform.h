// The transform step of Winograd convolution (Highway, dispatched at run time per ISA).
//
// A tile is a tensor of `cols` samples along each of `rank` axes, times `lanes` independent
// tiles stored innermost (element (i0, .., i_{rank-1}, l) at ((i0 * cols + i1) * cols ..) * lanes
// + l). winograd_apply multiplies every axis in turn by the rows x cols matrix `coef` (row-major),
// giving `rows` samples per axis: the input (BT), weight (G) and output (AT) transforms are all
// this one operation. The lanes make it vector work: many tiles (input transform) or many
// output channels (output transform) at once. Zero coefficients are skipped, so the sparse
// transform matrices cost only their non-zeros.
//
// winograd_gather: dst[i] = idx[i] < 0 ? 0 : base[idx[i]] for i < n: the samples of a block of
//   tiles, with zero padding, by vector gathers (indices of the dtype's width: int32 for f32,
//   int64 for f64).
// winograd_gather_strided: dst[i] = base[i * stride] for i < n: one sample of n channels
//   `stride` apart (channels-first planes), by vector gathers when n * |stride| < 2^31, else one
//   by one.
// winograd_apply_known: winograd_apply for the matrices of winograd_tables.h, with their entries
//   compiled in (zeros skipped, +-1 as adds): the same results, bitwise, in fewer instructions.
// The kernels are listed, with their parameters, in winograd_kernels.inc.
//
// `dst` and `tmp` each hold max(rows, cols)^rank * lanes values (both carry intermediate axes);
// src, dst and tmp must not overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/winograd_tables.h"

namespace convnd::kernels {

// The gathers' index type: the dtype's width, so that one vector of indices serves one vector of
// samples.
template <class T>
using WinogradIndex = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

// One ISA's Winograd kernels for dtype T, a member per line of winograd_kernels.inc.
template <class T>
struct WinogradKernels {
#define CONVND_WINOGRAD_KERNEL(name, body, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
#include "kernels/winograd_kernels.inc"
#undef CONVND_WINOGRAD_KERNEL
};

// The table of the ISA that Highway dispatches to now.
const WinogradKernels<float>& winograd_kernels_f32();
const WinogradKernels<double>& winograd_kernels_f64();

template <class T>
const WinogradKernels<T>& winograd_kernels() {
  if constexpr (sizeof(T) == 4)
    return winograd_kernels_f32();
  else
    return winograd_kernels_f64();
}

// kernels::winograd_apply<T>(...) and the others: the kernel of the ISA dispatched to now.
#define CONVND_WINOGRAD_KERNEL(name, body, ret, ...) \
  template <class T, class... Args>                  \
  inline ret name(Args... args) {                    \
    return winograd_kernels<T>().name(args...);      \
  }
#include "kernels/winograd_kernels.inc"
#undef CONVND_WINOGRAD_KERNEL

// A compiled-in matrix, row-major, for the tests that compare it with the construction.
struct FixedView {
  const double* v = nullptr;
  int rows = 0, cols = 0;
};
FixedView winograd_fixed_matrix(WinogradMatrix which);

}  // namespace convnd::kernels
