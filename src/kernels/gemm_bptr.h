// A GEMM microkernel whose B rows are read in place through pointers (Highway, dispatched per
// ISA): C[mr x nr] += A^T . B with
//   a: a packed panel, element (p, i) at a[p * mr + i] (mr weights of one reduction index);
//   b: kc row pointers, row p = nr contiguous values at b[p] (e.g. nr consecutive positions of
//      one input channel in a channels-first tensor: read in place, never packed);
//   c: mr rows of nr values, row i at c + i * ldc, read, added to, written back.
// The roles are the transpose of gemm_tile's: rows are output channels, columns output
// positions, so a channels-first output is written in place too.
//
// Two tile shapes per ISA:
//   wide:   the tile of gemm_tile.h (12 rows x 2 vectors with 32 registers, 6 x 2 with 16), for
//           many output channels;
//   narrow: fewer rows, more columns (8 x 3 vectors with 32 registers, 4 x 3 with 16), for
//           layers whose output channels per group are few (8 or 16): the rows wasted on a
//           12-row tile are gone, and each reduction step loads 3 vectors of B per 8
//           broadcasts of A, the better ratio of loads to FMAs.
//
// The narrow tile also reads its B rows as vectors at offsets of their own: vector v of row p at
// b[p] + voff[v] (v < 3). One pointer per row then serves columns from several places, e.g. the
// weight gradient's 48 columns = 3 taps x 16 channels of one input position: b[p] is the
// position, voff the taps' distances from it (the plain call is voff = {0, lanes, 2 lanes}).
//
// The wide tile also reads A through mr row pointers (row i: output channel i's weights, read
// in place where the reduction runs along a weight row), so weights that change with every call
// need no packing.
//
// And it reads B row p at base + row_off[p] from a fixed table of offsets (the reduction
// indices' (channel, tap) columns in padded_igemm's buffer), so one table serves every strip of
// positions without a pointer array written per strip. That form also takes a seed: when not
// null, row i starts at seed[i] (the bias) instead of at C, which it then only writes, so the
// first slice of a reduction needs no pass that fills C and can write straight to the output.
//
// A caller takes a BptrKernel once, when it plans: the tile shape and the function that runs it
// come from the same ISA, so they cannot disagree later (a plan made before Highway's target
// changes keeps running the kernel its tile was sized for). The functions are entries of the GEMM
// kernel list (gemm_kernels.inc: gemm_bptr, gemm_bptr_narrow, gemm_bptr_narrow_voff,
// gemm_bptr_narrow_table); tests and benchmarks reach each through gemm_kernel(id).
#pragma once

#include <cstddef>

namespace convnd::kernels {

enum class BptrTile { wide, narrow };

template <class T>
struct BptrKernel {
  using Fn = void (*)(std::size_t kc, const T* a, const T* const* b, T* c, std::size_t ldc);
  using FnOffsets = void (*)(std::size_t kc, const T* a, const T* const* b,
                             const std::ptrdiff_t* voff, T* c, std::size_t ldc);
  using FnTable = void (*)(std::size_t kc, const T* a, const T* base, const std::ptrdiff_t* row_off,
                           const T* seed, T* c, std::size_t ldc);
  using FnARows = void (*)(std::size_t kc, const T* const* a, const T* const* b, const T* seed,
                           T* c, std::size_t ldc);
  using FnSeeded = void (*)(std::size_t kc, const T* a, const T* const* b, const T* seed, T* c,
                            std::size_t ldc);
  std::size_t mr = 0, nr = 0;
  Fn fn = nullptr;
  FnOffsets fn_offsets = nullptr;  // the narrow tile only (nr / 3 lanes per offset)
  FnTable fn_table = nullptr;      // the narrow tile only
  FnSeeded fn_seeded = nullptr;    // the wide tile only: rows start at a seed (null: at C)
  FnARows fn_arows = nullptr;      // the wide tile only: A as mr row pointers, read in place

  void operator()(std::size_t kc, const T* a, const T* const* b, T* c, std::size_t ldc) const {
    fn(kc, a, b, c, ldc);
  }
  void operator()(std::size_t kc, const T* a, const T* const* b, const std::ptrdiff_t* voff, T* c,
                  std::size_t ldc) const {
    fn_offsets(kc, a, b, voff, c, ldc);
  }
  void operator()(std::size_t kc, const T* a, const T* base, const std::ptrdiff_t* row_off,
                  const T* seed, T* c, std::size_t ldc) const {
    fn_table(kc, a, base, row_off, seed, c, ldc);
  }
  void operator()(std::size_t kc, const T* const* a, const T* const* b, const T* seed, T* c,
                  std::size_t ldc) const {
    fn_arows(kc, a, b, seed, c, ldc);
  }
  void operator()(std::size_t kc, const T* a, const T* const* b, const T* seed, T* c,
                  std::size_t ldc) const {
    fn_seeded(kc, a, b, seed, c, ldc);
  }
};

// The kernel of shape `tile` on the ISA that Highway dispatches to now.
BptrKernel<float> bptr_kernel_f32(BptrTile tile);
BptrKernel<double> bptr_kernel_f64(BptrTile tile);

template <class T>
BptrKernel<T> bptr_kernel(BptrTile tile) {
  if constexpr (sizeof(T) == 4)
    return bptr_kernel_f32(tile);
  else
    return bptr_kernel_f64(tile);
}

}  // namespace convnd::kernels
