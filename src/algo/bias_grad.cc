#include "algo/bias_grad.h"

#include <vector>

namespace convnd::detail {
namespace {

template <class T>
void bias_gradient_typed(const ConstTensorView& dy, const TensorView& dbias) {
  const T* g = static_cast<const T*>(dy.data);
  T* db = static_cast<T*>(dbias.data);
  const int nd = static_cast<int>(dy.shape.size());
  std::vector<dim_t> idx(nd);
  for (dim_t k = 0; k < dy.shape[1]; ++k) {
    double acc = 0;
    std::fill(idx.begin(), idx.end(), 0);
    idx[1] = k;
    bool more = dy.shape[0] > 0;
    while (more) {
      dim_t off = 0;
      for (int a = 0; a < nd; ++a) off += idx[a] * dy.strides[a];
      acc += static_cast<double>(g[off]);
      more = false;
      for (int a = nd - 1; a >= 0; --a) {
        if (a == 1) continue;
        if (++idx[a] < dy.shape[a]) {
          more = true;
          break;
        }
        idx[a] = 0;
      }
    }
    db[k * dbias.strides[0]] = static_cast<T>(acc);
  }
}

}  // namespace

void bias_gradient(const ConstTensorView& dy, const TensorView& dbias) {
  if (dy.dtype == DType::f32)
    bias_gradient_typed<float>(dy, dbias);
  else
    bias_gradient_typed<double>(dy, dbias);
}

}  // namespace convnd::detail
