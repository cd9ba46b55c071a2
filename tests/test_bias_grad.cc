// The bias gradient (algo/bias_grad.h) against a plain sum, exact on integer data: ranks 1-4,
// channels-first and channels-last, a reversed innermost axis (negative stride), padded
// strides, an empty batch, float32 and float64. The convolution tests compare dbias with the
// reference, which calls the same function; this is its independent check.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "algo/bias_grad.h"

namespace convnd::detail {
namespace {

enum class Order { channels_first, channels_last, reversed_last, padded };

// A view of (N, K, spatial...) over `store` in the given memory order.
template <class T>
ConstTensorView make_view(const std::vector<dim_t>& shape, Order order, std::vector<T>& store) {
  const int nd = static_cast<int>(shape.size());
  // Axes from outermost to innermost in memory.
  std::vector<int> axes(static_cast<std::size_t>(nd));
  std::iota(axes.begin(), axes.end(), 0);
  if (order == Order::channels_last) {
    axes.erase(axes.begin() + 1);
    axes.push_back(1);
  }
  std::vector<dim_t> strides(static_cast<std::size_t>(nd));
  dim_t size = 1;
  for (int i = nd - 1; i >= 0; --i) {
    const int a = axes[static_cast<std::size_t>(i)];
    strides[a] = size;
    size *= shape[a] + (order == Order::padded ? 2 : 0);
  }
  store.assign(static_cast<std::size_t>(std::max<dim_t>(size, 1)), T(0));
  ConstTensorView v;
  v.data = store.data();
  v.dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
  v.shape = shape;
  v.strides = strides;
  if (order == Order::reversed_last && shape[nd - 1] > 0) {
    v.data = store.data() + (shape[nd - 1] - 1) * strides[nd - 1];
    v.strides[nd - 1] = -strides[nd - 1];
  }
  return v;
}

template <class T>
void check(const std::vector<dim_t>& shape, Order order) {
  std::vector<T> store;
  const ConstTensorView dy = make_view<T>(shape, order, store);
  const int nd = static_cast<int>(shape.size());
  const dim_t K = shape[1];
  std::vector<double> want(static_cast<std::size_t>(K), 0.0);
  // Fill every element through the view and sum per channel with an independent odometer.
  std::vector<dim_t> idx(static_cast<std::size_t>(nd), 0);
  dim_t total = 1;
  for (dim_t e : shape) total *= e;
  T* base = const_cast<T*>(static_cast<const T*>(dy.data));
  for (dim_t i = 0; i < total; ++i) {
    dim_t rest = i, off = 0;
    for (int a = nd - 1; a >= 0; --a) {
      idx[a] = rest % shape[a];
      rest /= shape[a];
      off += idx[a] * dy.strides[a];
    }
    const T v = static_cast<T>(static_cast<int>((i * 7 + 3) % 13) - 6);
    base[off] = v;
    want[static_cast<std::size_t>(idx[1])] += static_cast<double>(v);
  }
  std::vector<T> db(static_cast<std::size_t>(2 * K + 1), T(-1));
  TensorView out;
  out.data = db.data();
  out.dtype = dy.dtype;
  out.shape = {K};
  out.strides = {2};
  bias_gradient(dy, out);
  for (dim_t k = 0; k < K; ++k)
    EXPECT_EQ(static_cast<double>(db[static_cast<std::size_t>(2 * k)]), want[k])
        << "channel " << k << " of shape rank " << nd << " order " << static_cast<int>(order);
  for (dim_t k = 0; k < K; ++k) EXPECT_EQ(db[static_cast<std::size_t>(2 * k + 1)], T(-1));
}

TEST(BiasGradient, EveryLayoutAndRankExact) {
  const std::vector<std::vector<dim_t>> shapes = {
      {2, 3, 5}, {1, 16, 4, 7},  {3, 5, 2, 3, 4}, {2, 4, 1, 2, 3, 2},
      {0, 3, 4}, {2, 17, 9, 11}, {1, 1, 1},       {2, 6, 3, 0}};
  for (const auto& shape : shapes)
    for (Order order :
         {Order::channels_first, Order::channels_last, Order::reversed_last, Order::padded}) {
      check<float>(shape, order);
      check<double>(shape, order);
    }
}

}  // namespace
}  // namespace convnd::detail
