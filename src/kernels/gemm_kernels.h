// # The GEMM kernel list
// Every GEMM microkernel is one line of gemm_kernels.inc: dtype, body, form, tile. This header
// turns the list into ids; gemm_kernel(id) hands out the kernel of the ISA that Highway
// dispatches to now, with its tile, as a function pointer of its form's signature. Tests and
// benchmarks loop over kGemmKernels, so a kernel cannot be added without both; algorithms take
// the kernels they use bound together with their tile (TileKernel in gemm_tile.h, BptrKernel in
// gemm_bptr.h), built from the same entries.
//
// Every kernel computes C[mr x nr] += A^T . B[kc x nr] (A is kc x mr): element (p, i) of A times
// element (p, j) of B, summed over p < kc, added to row i, column j of C (row i at c + i * ldc,
// ldc >= nr). The form says where A and B live (gemm_operands.h lays them out for each).
#pragma once

#include <cassert>
#include <cstddef>
#include <type_traits>

#include "convnd/convnd.h"

namespace convnd::kernels {

// How a kernel reads its operands: one signature per form.
enum class GemmForm {
  packed,       // a: packed panel, (p, i) at a[p * mr + i]; b: packed rows, (p, j) at b[p * nr + j]
  a_rows,       // a: mr row pointers, (p, i) at a[i][p]; b packed
  a_cols,       // a: kc column pointers, (p, i) at a[p][i]; b packed
  b_rows,       // a packed; b: kc row pointers, (p, j) at b[p][j]
  b_rows_voff,  // a packed; b: kc row pointers, vector v of row p at b[p] + voff[v]
  b_table,      // a packed; b: row p at base + row_off[p]; an optional seed per row replaces C
  ab_rows,      // a: mr row pointers, (p, i) at a[i][p]; b: kc row pointers (both in place); an
                // optional seed per row replaces C
  batch_a_rows,   // a sum over n pairs, kc each: pair q's A as a_rows (a[q * mr + i]), its B
                  // packed at b[q]; an optional seed per column replaces C
  a_cols_seeded,  // a_cols with an optional seed per column (nr values) that replaces C's rows
  b_rows_seeded,  // b_rows with an optional seed per row (mr values) that replaces C
  a_rows_seeded,  // a_rows with an optional seed per column, as a_cols_seeded
};

template <GemmForm F, class T>
struct GemmSignature;
template <class T>
struct GemmSignature<GemmForm::packed, T> {
  using type = void (*)(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::a_rows, T> {
  using type = void (*)(std::size_t kc, const T* const* a, const T* b, T* c, std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::a_cols, T> : GemmSignature<GemmForm::a_rows, T> {};
template <class T>
struct GemmSignature<GemmForm::b_rows, T> {
  using type = void (*)(std::size_t kc, const T* a, const T* const* b, T* c, std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::b_rows_voff, T> {
  using type = void (*)(std::size_t kc, const T* a, const T* const* b, const std::ptrdiff_t* voff,
                        T* c, std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::b_table, T> {
  // With a seed, row i starts at seed[i] in every column and C is only written.
  using type = void (*)(std::size_t kc, const T* a, const T* base, const std::ptrdiff_t* row_off,
                        const T* seed, T* c, std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::ab_rows, T> {
  // With a seed, row i starts at seed[i] in every column and C is only written.
  using type = void (*)(std::size_t kc, const T* const* a, const T* const* b, const T* seed, T* c,
                        std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::batch_a_rows, T> {
  // With a seed, column j starts at seed[j] in every row and C is only written.
  using type = void (*)(std::size_t n, std::size_t kc, const T* const* a, const T* const* b,
                        const T* seed, T* c, std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::a_cols_seeded, T> {
  // With a seed, every row starts at seed[0..nr) and C is only written.
  using type = void (*)(std::size_t kc, const T* const* a, const T* b, const T* seed, T* c,
                        std::size_t ldc);
};
template <class T>
struct GemmSignature<GemmForm::a_rows_seeded, T> : GemmSignature<GemmForm::a_cols_seeded, T> {};
template <class T>
struct GemmSignature<GemmForm::b_rows_seeded, T> {
  // With a seed, row i starts at seed[i] in every column and C is only written.
  using type = void (*)(std::size_t kc, const T* a, const T* const* b, const T* seed, T* c,
                        std::size_t ldc);
};
template <GemmForm F, class T>
using GemmFn = typename GemmSignature<F, T>::type;

template <class T>
inline constexpr DType kDTypeOf = std::is_same_v<T, float> ? DType::f32 : DType::f64;

enum class GemmKernelId {
#define CONVND_GEMM_KERNEL(dtype, op, form, rows, vectors) dtype##_##op,
#include "kernels/gemm_kernels.inc"
#undef CONVND_GEMM_KERNEL
};

// Every kernel of the list, in its order.
inline constexpr GemmKernelId kGemmKernels[] = {
#define CONVND_GEMM_KERNEL(dtype, op, form, rows, vectors) GemmKernelId::dtype##_##op,
#include "kernels/gemm_kernels.inc"
#undef CONVND_GEMM_KERNEL
};

// "<dtype>_<op>", e.g. "f32_gemm_tile_cols" (no dispatch: the same on every ISA).
inline const char* gemm_kernel_name(GemmKernelId id) {
  switch (id) {
#define CONVND_GEMM_KERNEL(dtype, op, form, rows, vectors) \
  case GemmKernelId::dtype##_##op:                         \
    return #dtype "_" #op;
#include "kernels/gemm_kernels.inc"
#undef CONVND_GEMM_KERNEL
  }
  return "?";
}

// The id of op's kernel for C type T, e.g. CONVND_GEMM_ID(T, gemm_tile).
#define CONVND_GEMM_ID(T, op)                                           \
  (std::is_same_v<T, float> ? ::convnd::kernels::GemmKernelId::f32_##op \
                            : ::convnd::kernels::GemmKernelId::f64_##op)

// One kernel of the list as compiled for one ISA.
struct GemmKernel {
  GemmKernelId id{};
  const char* name = "";  // "<dtype>_<op>", e.g. "f32_gemm_tile_cols"
  DType dtype = DType::f32;
  GemmForm form = GemmForm::packed;
  std::size_t mr = 0, nr = 0;
  std::size_t lanes = 0;  // of the ISA's vectors for dtype; nr is a multiple
  const char* isa = "";   // the ISA it was compiled for, e.g. "AVX3"
  void (*erased)() = nullptr;

  // The function, as the signature of its form (checked against form and dtype).
  template <GemmForm F, class T>
  GemmFn<F, T> fn() const {
    assert(form == F && dtype == kDTypeOf<T>);
    return reinterpret_cast<GemmFn<F, T>>(erased);
  }
};

// The kernel `id` of the ISA that Highway dispatches to now.
GemmKernel gemm_kernel(GemmKernelId id);

}  // namespace convnd::kernels
