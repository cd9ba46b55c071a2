// `convnd demo [--dir DIR]`: a worked example, end to end. It writes a small example to .npy
// files (MyGrad's square wave and box kernel; a 2-channel 6x7 image and two 3x3 edge kernels),
// explains each spec, runs every pass through a Plan, prints the results and checks the square
// wave against its documented values. The files can be fed to `convnd run` afterwards.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "npy.h"

namespace convnd::tool {
namespace {

void print(const char* name, const NpyArray& a) {
  std::cout << "  " << name << " =";
  const auto* v = reinterpret_cast<const double*>(a.bytes.data());
  for (dim_t i = 0; i < a.size(); ++i) std::cout << " " << v[i];
  std::cout << "\n";
}

int demo(const std::string& dir) {
  std::filesystem::create_directories(dir);
  // 1-D: the square wave of MyGrad's documentation.
  Spec wave;
  wave.input = {16};
  wave.kernel = {5};
  wave.dtype = DType::f64;
  NpyArray x(DType::f64, {1, 1, 16}), w(DType::f64, {1, 1, 5}), y(DType::f64, {1, 1, 12});
  auto* xv = reinterpret_cast<double*>(x.bytes.data());
  auto* wv = reinterpret_cast<double*>(w.bytes.data());
  for (int i = 5; i < 11; ++i) xv[i] = 1;
  for (int i = 0; i < 5; ++i) wv[i] = 1;
  std::cout << "== 1-D: square wave * box (MyGrad's example)\n" << explain(wave);
  const Plan fwd(wave, Pass::forward);
  fwd.forward(x.view(), w.view(), std::nullopt, y.view());
  NpyArray ones(DType::f64, {1, 1, 12}), dx(DType::f64, {1, 1, 16}), dw(DType::f64, {1, 1, 5});
  for (dim_t i = 0; i < 12; ++i) reinterpret_cast<double*>(ones.bytes.data())[i] = 1;
  backward_data(wave, ones.view(), w.view(), dx.view());
  backward_weights(wave, x.view(), ones.view(), dw.view(), std::nullopt);
  std::cout << "  algorithm " << fwd.algorithm() << "\n";
  print("y", y);
  print("d(sum y)/dx", dx);
  print("d(sum y)/dw", dw);
  const auto* yv = reinterpret_cast<const double*>(y.bytes.data());
  const double want[12] = {0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0};
  for (int i = 0; i < 12; ++i)
    if (yv[i] != want[i]) {
      std::cerr << "demo: square wave result differs from MyGrad's documented output\n";
      return 1;
    }
  write_npy(dir + "/wave_x.npy", x);
  write_npy(dir + "/wave_w.npy", w);

  // 2-D: a 2-channel image, reflect padding, two edge kernels (horizontal and vertical).
  Spec img;
  img.C = 2;
  img.K = 2;
  img.input = {6, 7};
  img.kernel = {3, 3};
  img.padding = Padding::same();
  img.pad_mode = PadMode::reflect;
  img.dtype = DType::f32;
  NpyArray ix(DType::f32, {1, 2, 6, 7}), iw(DType::f32, {2, 2, 3, 3});
  auto* ixv = reinterpret_cast<float*>(ix.bytes.data());
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 7; ++j) ixv[(c * 6 + i) * 7 + j] = static_cast<float>(c == 0 ? j >= 3 : i >= 3);
  auto* iwv = reinterpret_cast<float*>(iw.bytes.data());
  const float sobel[9] = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
  for (int t = 0; t < 9; ++t) {
    iwv[0 * 9 + t] = sobel[t];                      // k0 <- c0: d/dx
    iwv[3 * 9 + t] = sobel[(t % 3) * 3 + t / 3];    // k1 <- c1: d/dy
  }
  std::cout << "\n== 2-D: edges of a 2-channel image, 'same' padding, reflect mode\n"
            << explain(img);
  NpyArray iy(DType::f32, shapes(img).y);
  forward(img, ix.view(), iw.view(), std::nullopt, iy.view());
  write_npy(dir + "/image_x.npy", ix);
  write_npy(dir + "/image_w.npy", iw);
  write_npy(dir + "/image_y.npy", iy);
  std::cout << "  row 0 of y[0, 0] (vertical edge at column 3):";
  for (int j = 0; j < 7; ++j) std::cout << " " << reinterpret_cast<float*>(iy.bytes.data())[j];
  std::cout << "\n\nwrote " << dir << "/{wave_x,wave_w,image_x,image_w,image_y}.npy; try\n"
            << "  convnd run " << dir << "/image_x.npy " << dir
            << "/image_w.npy --padding same --mode reflect -o " << dir << "/y.npy\n";
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>("convnd-demo");
  CLI::App* cmd = app.add_subcommand("demo", "a worked example, end to end (writes .npy files)");
  cmd->add_option("--dir", *dir, "where to write the example .npy files")->capture_default_str();
  cmd->callback([dir] {
    if (demo(*dir) != 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace convnd::tool
