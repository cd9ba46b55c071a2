// Test tensors: owned storage of either dtype, integer-valued random data, views with optional
// permuted or padded (non-contiguous) strides, and comparison that prints the first bad index.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::testing {

inline dim_t numel(const std::vector<dim_t>& s) {
  return std::accumulate(s.begin(), s.end(), dim_t{1}, std::multiplies<>());
}

// A dense tensor in C order, possibly embedded in a larger buffer with a gap after every
// innermost row (so that its view is non-contiguous).
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<dim_t> shape, dim_t row_gap = 0)
      : dtype_(dtype), shape_(std::move(shape)), gap_(row_gap) {
    strides_.assign(shape_.size(), 1);
    dim_t s = 1;
    for (int a = static_cast<int>(shape_.size()) - 1; a >= 0; --a) {
      strides_[a] = s;
      s *= (a == static_cast<int>(shape_.size()) - 1) ? shape_[a] + gap_ : shape_[a];
    }
    const dim_t elems = shape_.empty() ? 1 : s;
    bytes_.assign(static_cast<std::size_t>(std::max<dim_t>(elems, 1)) * dtype_size(dtype_), 0);
  }

  const std::vector<dim_t>& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  dim_t size() const { return numel(shape_); }

  // Element i in logical C order.
  double get(dim_t i) const { return dtype_ == DType::f32 ? f32()[offset(i)] : f64()[offset(i)]; }
  void set(dim_t i, double v) {
    if (dtype_ == DType::f32)
      f32()[offset(i)] = static_cast<float>(v);
    else
      f64()[offset(i)] = v;
  }

  // Integer-valued data in [-8, 8]: exact products and sums in f64, small rounding in f32.
  Tensor& fill_integers(std::uint32_t seed) {
    std::uint32_t r = seed * 2654435761u + 12345u;
    for (dim_t i = 0; i < size(); ++i) {
      r = r * 1664525u + 1013904223u;
      set(i, static_cast<double>(static_cast<int>((r >> 8) % 17) - 8));
    }
    return *this;
  }
  // fill_integers scaled to non-integers, so that rounding depends on the order of the sums
  // (the data of the thread-count bitwise-equality tests).
  Tensor& fill_fractions(std::uint32_t seed) {
    fill_integers(seed);
    for (dim_t i = 0; i < size(); ++i) set(i, get(i) * 0.1 + 0.0037 * static_cast<double>(i % 11));
    return *this;
  }
  Tensor& fill(double v) {
    for (dim_t i = 0; i < size(); ++i) set(i, v);
    return *this;
  }

  TensorView view() {
    return TensorView(bytes_.data(), dtype_, shape_, strides_,
                      static_cast<dim_t>(bytes_.size() / dtype_size(dtype_)));
  }
  ConstTensorView view() const {
    return ConstTensorView(bytes_.data(), dtype_, shape_, strides_,
                           static_cast<dim_t>(bytes_.size() / dtype_size(dtype_)));
  }
  const std::vector<unsigned char>& raw() const { return bytes_; }

 private:
  dim_t offset(dim_t i) const {
    dim_t off = 0;
    for (int a = static_cast<int>(shape_.size()) - 1; a >= 0; --a) {
      off += (i % shape_[a]) * strides_[a];
      i /= shape_[a];
    }
    return off;
  }
  float* f32() { return reinterpret_cast<float*>(bytes_.data()); }
  double* f64() { return reinterpret_cast<double*>(bytes_.data()); }
  const float* f32() const { return reinterpret_cast<const float*>(bytes_.data()); }
  const double* f64() const { return reinterpret_cast<const double*>(bytes_.data()); }

  DType dtype_ = DType::f32;
  std::vector<dim_t> shape_, strides_;
  dim_t gap_ = 0;
  std::vector<unsigned char> bytes_;
};

// Elementwise |got - want| <= abs_tol + rel_tol * |want|; prints the first bad index and counts.
inline ::testing::AssertionResult all_near(const Tensor& got, const Tensor& want, double abs_tol,
                                           double rel_tol, const std::string& context) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << context << ": shapes differ";
  dim_t bad = 0, first = -1;
  for (dim_t i = 0; i < got.size(); ++i) {
    const double g = got.get(i), w = want.get(i);
    if (!(std::fabs(g - w) <= abs_tol + rel_tol * std::fabs(w))) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << context << ": " << bad << " of " << got.size() << " elements differ; first at flat index "
         << first << ": got " << got.get(first) << ", want " << want.get(first);
}

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (dim_t i = 0; i < a.size(); ++i) {
    const double x = a.get(i), y = b.get(i);
    if (std::memcmp(&x, &y, sizeof x) != 0) return false;
  }
  return true;
}

}  // namespace convnd::testing
