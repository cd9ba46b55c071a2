// The Winograd transform matrices that run in the inner loops, as compile-time constants so
// that the transform kernels skip their zeros and turn their +-1 entries into adds at compile
// time. They are the values src/algo/winograd_matrices.cc builds by the Toom-Cook construction
// (points 0, +-1, +-2, +-1/2 and infinity), which the tests check entry by entry.
#pragma once

namespace convnd::kernels {

enum class WinogradMatrix {
  bt2, bt4, bt6,  // input transforms B^T of F(2, 3), F(4, 3), F(6, 3) (and F(3, 2), F(3, 4))
  at2, at4, at6,  // output transforms A^T of F(2, 3), F(4, 3), F(6, 3)
  gw2, gw4,       // G of F(3, 2) and F(3, 4): the weight gradient's output-gradient transform
};

template <int R, int C>
struct FixedMatrix {
  static constexpr int rows = R, cols = C;
  double v[R][C];
};

inline constexpr FixedMatrix<4, 4> kBT2{{{-1, 0, 1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, -1, 0, 1}}};
inline constexpr FixedMatrix<6, 6> kBT4{{{4, 0, -5, 0, 1, 0},
                                         {0, -4, -4, 1, 1, 0},
                                         {0, 4, -4, -1, 1, 0},
                                         {0, -2, -1, 2, 1, 0},
                                         {0, 2, -1, -2, 1, 0},
                                         {0, 4, 0, -5, 0, 1}}};
inline constexpr FixedMatrix<8, 8> kBT6{{{-1, 0, 5.25, 0, -5.25, 0, 1, 0},
                                         {0, 1, 1, -4.25, -4.25, 1, 1, 0},
                                         {0, -1, 1, 4.25, -4.25, -1, 1, 0},
                                         {0, 0.5, 0.25, -2.5, -1.25, 2, 1, 0},
                                         {0, -0.5, 0.25, 2.5, -1.25, -2, 1, 0},
                                         {0, 2, 4, -2.5, -5, 0.5, 1, 0},
                                         {0, -2, 4, 2.5, -5, -0.5, 1, 0},
                                         {0, -1, 0, 5.25, 0, -5.25, 0, 1}}};
inline constexpr FixedMatrix<2, 4> kAT2{{{1, 1, 1, 0}, {0, 1, -1, 1}}};
inline constexpr FixedMatrix<4, 6> kAT4{
    {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}};
inline constexpr FixedMatrix<6, 8> kAT6{{{1, 1, 1, 1, 1, 1, 1, 0},
                                         {0, 1, -1, 2, -2, 0.5, -0.5, 0},
                                         {0, 1, 1, 4, 4, 0.25, 0.25, 0},
                                         {0, 1, -1, 8, -8, 0.125, -0.125, 0},
                                         {0, 1, 1, 16, 16, 0.0625, 0.0625, 0},
                                         {0, 1, -1, 32, -32, 0.03125, -0.03125, 1}}};
inline constexpr FixedMatrix<4, 2> kGW2{{{-1, 0}, {0.5, 0.5}, {0.5, -0.5}, {0, 1}}};
// 1 / f for the Lagrange denominators f = -6, 6, 24, 24 (and 4 for the point 0), written as the
// construction computes them (p^k / f, correctly rounded).
inline constexpr FixedMatrix<6, 4> kGW4{{{1.0 / 4, 0, 0, 0},
                                         {1.0 / -6, 1.0 / -6, 1.0 / -6, 1.0 / -6},
                                         {1.0 / -6, -1.0 / -6, 1.0 / -6, -1.0 / -6},
                                         {1.0 / 24, 2.0 / 24, 4.0 / 24, 8.0 / 24},
                                         {1.0 / 24, -2.0 / 24, 4.0 / 24, -8.0 / 24},
                                         {0, 0, 0, 1}}};

}  // namespace convnd::kernels
