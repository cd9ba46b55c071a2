// The C++ example of the README: MyGrad's square wave correlated with a box kernel, and the
// gradients of the summed output. Built and run by the tests (it exits non-zero on a mismatch).
#include <convnd/convnd.h>

#include <cstdio>
#include <vector>

int main() {
  convnd::Spec spec;
  spec.input = {16};  // x: (N=1, C=1, 16)
  spec.kernel = {5};  // w: (K=1, C=1, 5)
  spec.dtype = convnd::DType::f64;

  std::vector<double> x(16, 0.0), w(5, 1.0), y(12);
  for (int i = 5; i < 11; ++i) x[i] = 1.0;
  convnd::Plan fwd(spec, convnd::Pass::forward);
  fwd.forward({x.data(), {1, 1, 16}}, {w.data(), {1, 1, 5}}, std::nullopt, {y.data(), {1, 1, 12}});

  std::vector<double> dy(12, 1.0), dx(16), dw(5);  // d(sum y)/dy = 1
  convnd::backward_data(spec, {dy.data(), {1, 1, 12}}, {w.data(), {1, 1, 5}}, {dx.data(), {1, 1, 16}});
  convnd::backward_weights(spec, {x.data(), {1, 1, 16}}, {dy.data(), {1, 1, 12}},
                           {dw.data(), {1, 1, 5}}, std::nullopt);

  const std::vector<double> want_y{0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0};
  const std::vector<double> want_dx{1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 2, 1};
  const std::vector<double> want_dw{6, 6, 6, 6, 6};
  std::printf("algorithm %s\ny  =", fwd.algorithm().c_str());
  for (double v : y) std::printf(" %g", v);
  std::printf("\ndx =");
  for (double v : dx) std::printf(" %g", v);
  std::printf("\ndw =");
  for (double v : dw) std::printf(" %g", v);
  std::printf("\n");
  return (y == want_y && dx == want_dx && dw == want_dw) ? 0 : 1;
}
