// The transform matrices of Winograd's minimal filtering algorithm F(m, 3), built by the
// Toom-Cook construction from interpolation points (0, +-1, +-2, +-1/2, ... and infinity).
//
// One output tile of m samples of a 3-tap correlation is
//     y = AT . [ (G . g) (*) (BT . d) ]
// with d the alpha = m + 2 input samples, g the 3 taps and (*) the element-wise product.
// In N-D every axis is transformed in turn (the matrices act on each axis of the tile).
// Building them from the points, in double, keeps one code path for every m and lets the tests
// check the construction itself (AT . diag(G g) . BT must be the correlation matrix).
#pragma once

#include <vector>

namespace convnd::detail {

struct WinogradMatrices {
  int m = 0, r = 3, alpha = 0;  // outputs, filter taps and inputs (m + r - 1) per tile
  std::vector<double> at;       // m x alpha, row-major
  std::vector<double> g;        // alpha x r
  std::vector<double> bt;       // alpha x alpha
};

// F(m, 3) for m in {2, 4, 6}: forward convolution, 3 taps, m outputs per tile.
const WinogradMatrices& winograd_matrices(int m);
// F(3, m) for m in {2, 4}: the weight gradient, whose "filter" is a tile of m output gradients
// and whose 3 outputs are the kernel taps; same points (and so the same BT) as F(m, 3).
const WinogradMatrices& winograd_gradient_matrices(int m);

}  // namespace convnd::detail
