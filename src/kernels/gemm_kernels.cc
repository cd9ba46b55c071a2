// The GEMM kernel list compiled once per target (foreach_target.h): gemm_kernels.inc expanded
// into one table per ISA of function pointers to the bodies (gemm_tile-inl.h, gemm_bptr-inl.h)
// with their tiles, and the bound kernels of gemm_tile.h and gemm_bptr.h taken from it.
//
// # Why one table, not one export per kernel
// Highway 1.0 exports only plain functions (no HWY_EXPORT_T for templates), so exporting each
// kernel took a per-dtype shim, an HWY_EXPORT and a dispatch wrapper: ~6 lines per kernel per
// dtype. One exported function that returns the table entry for an id needs none: the list line
// instantiates the body template for its C type, and the cast to its form's signature checks at
// compile time that body and form agree.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_kernels.cc"
#include "kernels/gemm_kernels.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/gemm_bptr.h"
#include "kernels/gemm_tile.h"
// The bodies, per target (after highway.h, as -inl.h headers must be).
#include "kernels/gemm_batch-inl.h"
#include "kernels/gemm_bptr-inl.h"
#include "kernels/gemm_tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convnd::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <DType D>
using CType = std::conditional_t<D == DType::f32, float, double>;

// This target's entry of the list for `id`.
GemmKernel Describe(GemmKernelId id) {
  switch (id) {
#define CONVND_GEMM_KERNEL(dtype, op, form_, rows, vectors)    \
  case GemmKernelId::dtype##_##op: {                           \
    using T = CType<DType::dtype>;                             \
    const GemmFn<GemmForm::form_, T> fn = &op<T>;              \
    const std::size_t lanes = hn::Lanes(hn::ScalableTag<T>()); \
    return {id,                                                \
            gemm_kernel_name(id),                              \
            DType::dtype,                                      \
            GemmForm::form_,                                   \
            rows,                                              \
            (vectors)*lanes,                                   \
            lanes,                                             \
            hwy::TargetName(HWY_TARGET),                       \
            reinterpret_cast<void (*)()>(fn)};                 \
  }
#include "kernels/gemm_kernels.inc"
#undef CONVND_GEMM_KERNEL
  }
  return {};
}

// gemm_tile.h's three kernels of this target, bound with their one tile.
template <class T>
TileKernel<T> BindTile() {
  const GemmKernel packed = Describe(CONVND_GEMM_ID(T, gemm_tile));
  const GemmKernel rows = Describe(CONVND_GEMM_ID(T, gemm_tile_rows));
  const GemmKernel cols = Describe(CONVND_GEMM_ID(T, gemm_tile_cols));
  const GemmKernel seeded = Describe(CONVND_GEMM_ID(T, gemm_tile_cols_seeded));
  const GemmKernel rows_seeded = Describe(CONVND_GEMM_ID(T, gemm_tile_rows_seeded));
  // One tile for the five: algorithms size their panels once for all of them.
  assert(rows.mr == packed.mr && rows.nr == packed.nr);
  assert(cols.mr == packed.mr && cols.nr == packed.nr);
  assert(seeded.mr == packed.mr && seeded.nr == packed.nr);
  assert(rows_seeded.mr == packed.mr && rows_seeded.nr == packed.nr);
  return {packed.mr,
          packed.nr,
          packed.fn<GemmForm::packed, T>(),
          rows.fn<GemmForm::a_rows, T>(),
          cols.fn<GemmForm::a_cols, T>(),
          seeded.fn<GemmForm::a_cols_seeded, T>(),
          rows_seeded.fn<GemmForm::a_rows_seeded, T>()};
}
TileKernel<float> TileKernelF32() { return BindTile<float>(); }
TileKernel<double> TileKernelF64() { return BindTile<double>(); }

// gemm_bptr.h's kernels of this target for one tile shape.
template <class T>
BptrKernel<T> BindBptr(BptrTile tile) {
  if (tile == BptrTile::wide) {
    const GemmKernel wide = Describe(CONVND_GEMM_ID(T, gemm_bptr));
    const GemmKernel seeded = Describe(CONVND_GEMM_ID(T, gemm_bptr_seeded));
    const GemmKernel arows = Describe(CONVND_GEMM_ID(T, gemm_bptr_arows));
    assert(seeded.mr == wide.mr && seeded.nr == wide.nr);
    assert(arows.mr == wide.mr && arows.nr == wide.nr);
    return {wide.mr,
            wide.nr,
            wide.fn<GemmForm::b_rows, T>(),
            nullptr,
            nullptr,
            seeded.fn<GemmForm::b_rows_seeded, T>(),
            arows.fn<GemmForm::ab_rows, T>()};
  }
  const GemmKernel narrow = Describe(CONVND_GEMM_ID(T, gemm_bptr_narrow));
  const GemmKernel voff = Describe(CONVND_GEMM_ID(T, gemm_bptr_narrow_voff));
  const GemmKernel table = Describe(CONVND_GEMM_ID(T, gemm_bptr_narrow_table));
  assert(voff.mr == narrow.mr && voff.nr == narrow.nr);
  assert(table.mr == narrow.mr && table.nr == narrow.nr);
  return {narrow.mr,
          narrow.nr,
          narrow.fn<GemmForm::b_rows, T>(),
          voff.fn<GemmForm::b_rows_voff, T>(),
          table.fn<GemmForm::b_table, T>(),
          nullptr};
}
BptrKernel<float> BptrKernelF32(BptrTile tile) { return BindBptr<float>(tile); }
BptrKernel<double> BptrKernelF64(BptrTile tile) { return BindBptr<double>(tile); }

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace convnd::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convnd::kernels {

HWY_EXPORT(Describe);
HWY_EXPORT(TileKernelF32);
HWY_EXPORT(TileKernelF64);
HWY_EXPORT(BptrKernelF32);
HWY_EXPORT(BptrKernelF64);
HWY_EXPORT(TargetName);

GemmKernel gemm_kernel(GemmKernelId id) { return HWY_DYNAMIC_DISPATCH(Describe)(id); }

TileShape tile_shape(DType dtype) {
  const GemmKernel k =
      gemm_kernel(dtype == DType::f32 ? GemmKernelId::f32_gemm_tile : GemmKernelId::f64_gemm_tile);
  return {k.mr, k.nr};
}

const char* isa_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

TileKernel<float> tile_kernel_f32() { return HWY_DYNAMIC_DISPATCH(TileKernelF32)(); }
TileKernel<double> tile_kernel_f64() { return HWY_DYNAMIC_DISPATCH(TileKernelF64)(); }

BptrKernel<float> bptr_kernel_f32(BptrTile tile) {
  return HWY_DYNAMIC_DISPATCH(BptrKernelF32)(tile);
}
BptrKernel<double> bptr_kernel_f64(BptrTile tile) {
  return HWY_DYNAMIC_DISPATCH(BptrKernelF64)(tile);
}

}  // namespace convnd::kernels
#endif
