#include "algo/winograd_matrices.h"

#include <stdexcept>

namespace convnd::detail {
namespace {

// Coefficients (lowest power first) of prod (x - r) over the roots r.
std::vector<double> poly_from_roots(const std::vector<double>& roots) {
  std::vector<double> c{1.0};
  for (double r : roots) {
    std::vector<double> next(c.size() + 1, 0.0);
    for (std::size_t i = 0; i < c.size(); ++i) {
      next[i + 1] += c[i];
      next[i] -= r * c[i];
    }
    c = std::move(next);
  }
  return c;
}

// Correlation y = AT [(G g) (*) (BT d)] is the transpose of the Toom-Cook linear convolution
// s = C [(A g) (*) (B h)]: A and B evaluate g and h at the points (the last "point", infinity,
// takes the leading coefficient), C interpolates (Lagrange on the finite points plus the leading
// coefficient times prod (x - p)). Transposing gives AT = B^T, G = A and BT = C^T; the Lagrange
// denominators are moved from BT into G so that BT has small integer-like entries.
WinogradMatrices build(int m, int r, const std::vector<double>& points) {
  WinogradMatrices w;
  w.m = m;
  w.r = r;
  w.alpha = m + r - 1;
  const int n = w.alpha - 1;  // finite points
  if (static_cast<int>(points.size()) != n) throw std::logic_error("winograd: wrong point count");
  w.at.assign(static_cast<std::size_t>(m * w.alpha), 0.0);
  w.g.assign(static_cast<std::size_t>(w.alpha * r), 0.0);
  w.bt.assign(static_cast<std::size_t>(w.alpha * w.alpha), 0.0);
  for (int j = 0; j < n; ++j) {
    double pw = 1.0;
    for (int i = 0; i < m; ++i, pw *= points[j]) w.at[i * w.alpha + j] = pw;
    double f = 1.0;
    std::vector<double> others;
    for (int l = 0; l < n; ++l)
      if (l != j) {
        f *= points[j] - points[l];
        others.push_back(points[l]);
      }
    pw = 1.0;
    for (int k = 0; k < r; ++k, pw *= points[j]) w.g[j * r + k] = pw / f;
    const std::vector<double> nj = poly_from_roots(others);  // degree n - 1
    for (std::size_t i = 0; i < nj.size(); ++i) w.bt[j * w.alpha + static_cast<int>(i)] = nj[i];
  }
  w.at[(m - 1) * w.alpha + n] = 1.0;
  w.g[n * r + (r - 1)] = 1.0;
  const std::vector<double> mf = poly_from_roots(points);  // degree n = alpha - 1
  for (std::size_t i = 0; i < mf.size(); ++i) w.bt[n * w.alpha + static_cast<int>(i)] = mf[i];
  return w;
}

// The finite points of the m + 1 that F(m, 3) and F(3, m) use.
std::vector<double> points(int m) {
  const std::vector<double> all{0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5};
  return {all.begin(), all.begin() + m + 1};
}

}  // namespace

const WinogradMatrices& winograd_gradient_matrices(int m) {
  static const WinogradMatrices f2 = build(3, 2, points(2));
  static const WinogradMatrices f4 = build(3, 4, points(4));
  if (m == 2) return f2;
  if (m == 4) return f4;
  throw std::logic_error("winograd: no gradient matrices for this tile size");
}

const WinogradMatrices& winograd_matrices(int m) {
  static const WinogradMatrices f2 = build(2, 3, points(2));
  static const WinogradMatrices f4 = build(4, 3, points(4));
  static const WinogradMatrices f6 = build(6, 3, points(6));
  switch (m) {
    case 2:
      return f2;
    case 4:
      return f4;
    case 6:
      return f6;
  }
  throw std::logic_error("winograd: no matrices for this tile size");
}

}  // namespace convnd::detail
