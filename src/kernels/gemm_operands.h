// Operands of a GEMM kernel laid out as its form reads them (gemm_kernels.h: GemmForm), from
// plain matrices: the one place that knows each form's layout, so that the per-kernel tests
// (tests/test_kernels.cc) and benchmarks (bench/gemm_tile_bench.cc) need nothing per kernel.
//
// The layouts are the awkward ones a caller may hand a kernel: rows that are separate
// allocations, visited in reverse memory order, vectors of a row out of order and apart, and
// filler (-99) wherever a kernel that read the wrong place would pick it up.
#pragma once

#include <cassert>
#include <cstddef>
#include <vector>

#include "kernels/gemm_kernels.h"

namespace convnd::kernels {

template <class T>
class GemmOperands {
 public:
  // a: kc x mr, element (p, i) at a[p * mr + i]; b: kc x nr, element (p, j) at b[p * nr + j]
  // (mr, nr: the kernel's tile).
  GemmOperands(const GemmKernel& k, std::size_t kc, const std::vector<T>& a,
               const std::vector<T>& b)
      : k_(k), kc_(kc), a_(a), b_(b) {
    assert(k.dtype == kDTypeOf<T>);
    assert(a.size() == kc * k.mr && b.size() == kc * k.nr);
    const std::size_t mr = k.mr, nr = k.nr;
    switch (k.form) {
      case GemmForm::packed:
        break;
      case GemmForm::a_rows:
      case GemmForm::a_rows_seeded:
        // Row i: the kc values a(., i), each row its own allocation.
        rows_.assign(mr, std::vector<T>(kc));
        for (std::size_t i = 0; i < mr; ++i) {
          for (std::size_t p = 0; p < kc; ++p) rows_[i][p] = a[p * mr + i];
          ptr_.push_back(rows_[i].data());
        }
        break;
      case GemmForm::a_cols:
      case GemmForm::a_cols_seeded:
        for (std::size_t p = 0; p < kc; ++p) ptr_.push_back(a_.data() + p * mr);
        break;
      case GemmForm::ab_rows:
        // A as a_rows (each row its own allocation, in aptr_), B as b_rows below.
        a_rows_.assign(mr, std::vector<T>(kc));
        for (std::size_t i = 0; i < mr; ++i) {
          for (std::size_t p = 0; p < kc; ++p) a_rows_[i][p] = a[p * mr + i];
          aptr_.push_back(a_rows_[i].data());
        }
        [[fallthrough]];
      case GemmForm::b_rows:
      case GemmForm::b_rows_seeded:
        // Each row its own allocation, row p in allocation kc - 1 - p.
        rows_.assign(kc, std::vector<T>(nr));
        ptr_.resize(kc);
        for (std::size_t p = 0; p < kc; ++p) {
          std::vector<T>& row = rows_[kc - 1 - p];
          for (std::size_t j = 0; j < nr; ++j) row[j] = b[p * nr + j];
          ptr_[p] = row.data();
        }
        break;
      case GemmForm::b_rows_voff: {
        // Vector v of each row in slot (v + 1) % vectors of its buffer, slots a lane apart: with
        // 3 vectors, vector 0 in the middle, vector 1 last, vector 2 first.
        const std::size_t lanes = k.lanes, vectors = nr / lanes;
        for (std::size_t v = 0; v < vectors; ++v)
          voff_.push_back(static_cast<std::ptrdiff_t>((v + 1) % vectors * (lanes + 1)));
        rows_.assign(kc, std::vector<T>(vectors * (lanes + 1), T(-99)));
        for (std::size_t p = 0; p < kc; ++p) {
          for (std::size_t j = 0; j < nr; ++j)
            rows_[p][static_cast<std::size_t>(voff_[j / lanes]) + j % lanes] = b[p * nr + j];
          ptr_.push_back(rows_[p].data());
        }
        break;
      }
      case GemmForm::b_table:
        // Rows at base + row_off[p] inside one buffer, in reverse order and 5 values apart.
        store_.assign(kc * (nr + 5) + 1, T(-99));
        for (std::size_t p = 0; p < kc; ++p) {
          row_off_.push_back(static_cast<std::ptrdiff_t>((kc - 1 - p) * (nr + 5) + 1));
          for (std::size_t j = 0; j < nr; ++j)
            store_[static_cast<std::size_t>(row_off_[p]) + j] = b[p * nr + j];
        }
        break;
      case GemmForm::batch_a_rows: {
        // kc cut into n pairs of kc / n (n = 3, 2 or 1, the most that divides kc). Pair q's A
        // rows are separate allocations made in reverse order; its B a copy of rows
        // [q * step, (q + 1) * step) of b in its own allocation.
        pairs_ = kc % 3 == 0 ? 3 : kc % 2 == 0 ? 2 : 1;
        const std::size_t step = kc / pairs_;
        rows_.assign(pairs_ * mr + pairs_, {});
        ptr_.resize(pairs_ * mr);
        for (std::size_t q = 0; q < pairs_; ++q) {
          for (std::size_t i = 0; i < mr; ++i) {
            std::vector<T>& row = rows_[pairs_ * mr - 1 - (q * mr + i)];
            for (std::size_t p = 0; p < step; ++p) row.push_back(a[(q * step + p) * mr + i]);
            ptr_[q * mr + i] = row.data();
          }
          std::vector<T>& panel = rows_[pairs_ * mr + q];
          panel.assign(b.begin() + static_cast<std::ptrdiff_t>(q * step * nr),
                       b.begin() + static_cast<std::ptrdiff_t>((q + 1) * step * nr));
          bptr_.push_back(panel.data());
        }
        break;
      }
    }
  }

  // Whether the form takes a seed (run's last argument), and whether it is one per column
  // (nr values, every row starts at them) rather than one per row (mr values).
  static bool takes_seed(GemmForm form) {
    return form == GemmForm::b_table || form == GemmForm::a_cols_seeded ||
           form == GemmForm::b_rows_seeded || form == GemmForm::a_rows_seeded ||
           form == GemmForm::batch_a_rows || form == GemmForm::ab_rows;
  }
  static bool seeds_columns(GemmForm form) {
    return form == GemmForm::a_cols_seeded || form == GemmForm::a_rows_seeded ||
           form == GemmForm::batch_a_rows;
  }

  // One kernel call on c (mr rows of nr, row i at c + i * ldc). seed: null, or the values that
  // replace C's (forms that take one only; see seeds_columns).
  void run(T* c, std::size_t ldc, const T* seed = nullptr) const {
    assert(seed == nullptr || takes_seed(k_.form));
    switch (k_.form) {
      case GemmForm::packed:
        k_.fn<GemmForm::packed, T>()(kc_, a_.data(), b_.data(), c, ldc);
        break;
      case GemmForm::a_rows:
        k_.fn<GemmForm::a_rows, T>()(kc_, ptr_.data(), b_.data(), c, ldc);
        break;
      case GemmForm::a_cols:
        k_.fn<GemmForm::a_cols, T>()(kc_, ptr_.data(), b_.data(), c, ldc);
        break;
      case GemmForm::b_rows:
        k_.fn<GemmForm::b_rows, T>()(kc_, a_.data(), ptr_.data(), c, ldc);
        break;
      case GemmForm::b_rows_voff:
        k_.fn<GemmForm::b_rows_voff, T>()(kc_, a_.data(), ptr_.data(), voff_.data(), c, ldc);
        break;
      case GemmForm::b_table:
        k_.fn<GemmForm::b_table, T>()(kc_, a_.data(), store_.data(), row_off_.data(), seed, c, ldc);
        break;
      case GemmForm::ab_rows:
        k_.fn<GemmForm::ab_rows, T>()(kc_, aptr_.data(), ptr_.data(), seed, c, ldc);
        break;
      case GemmForm::batch_a_rows:
        k_.fn<GemmForm::batch_a_rows, T>()(pairs_, kc_ / pairs_, ptr_.data(), bptr_.data(), seed, c,
                                           ldc);
        break;
      case GemmForm::a_cols_seeded:
        k_.fn<GemmForm::a_cols_seeded, T>()(kc_, ptr_.data(), b_.data(), seed, c, ldc);
        break;
      case GemmForm::b_rows_seeded:
        k_.fn<GemmForm::b_rows_seeded, T>()(kc_, a_.data(), ptr_.data(), seed, c, ldc);
        break;
      case GemmForm::a_rows_seeded:
        k_.fn<GemmForm::a_rows_seeded, T>()(kc_, ptr_.data(), b_.data(), seed, c, ldc);
        break;
    }
  }

 private:
  GemmKernel k_;
  std::size_t kc_;
  std::vector<T> a_, b_;              // packed
  std::vector<std::vector<T>> rows_;  // a_rows(_seeded), b_rows(_seeded), b_rows_voff, batch_a_rows
  std::vector<const T*> ptr_;         // a_rows/a_cols(_seeded), b_rows(_seeded), b_rows_voff,
                                      // batch_a_rows
  std::vector<const T*> bptr_;        // batch_a_rows: each pair's B
  std::size_t pairs_ = 1;             // batch_a_rows
  std::vector<std::ptrdiff_t> voff_;  // b_rows_voff
  std::vector<std::ptrdiff_t> row_off_;  // b_table
  std::vector<T> store_;                 // b_table
  std::vector<std::vector<T>> a_rows_;   // ab_rows: A's rows
  std::vector<const T*> aptr_;           // ab_rows: A's row pointers
};

}  // namespace convnd::kernels
