// `convnd filter IMAGE --kernel K -o OUT.png`: convolves every channel of a PNG/JPEG/BMP image
// with one 2-D kernel (a depthwise, channels-last convolution: the HWC image is used in place as
// an (N=1, H, W, C) view), 'same' padding, any padding mode (default reflect). A 16-bit PNG stays
// 16-bit when written as PNG; the output's format follows its extension (image_io.h).
//   --kernel sobel          gradient magnitude: two kernels per channel (channel multiplier 2)
//   --kernel gaussian:S     Gaussian of standard deviation S, radius ceil(3 S)
//   --kernel laplace        absolute 4-neighbour Laplacian
//   --kernel box:K          K x K mean
//   --kernel FILE.npy       any 2-D kernel
// The Gaussian and the box are separable: they run as a column pass then a row pass (two
// depthwise convolutions of h x 1 and 1 x w taps, each padded by the same per-axis rule and
// mode, which gives the same sums as the h x w kernel: 61 + 61 taps per pixel instead of 3721
// for gaussian:10).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <iostream>
#include <memory>
#include <vector>

#include "commands.h"
#include "image_io.h"
#include "npy.h"

namespace convnd::tool {
namespace {

struct Kernel {
  dim_t h = 0, w = 0;
  std::vector<std::vector<float>> taps;  // one or more kernels per channel, row-major h x w
  bool magnitude = false;                // combine two responses as sqrt(a^2 + b^2)
  bool absolute = false;
  std::vector<float> col, row;  // when not empty: taps[0][i * w + j] == col[i] * row[j]
};

Kernel make_kernel(const std::string& name) {
  Kernel k;
  if (name == "sobel") {
    k.h = k.w = 3;
    k.taps = {{-1, 0, 1, -2, 0, 2, -1, 0, 1}, {-1, -2, -1, 0, 0, 0, 1, 2, 1}};
    k.magnitude = true;
  } else if (name == "laplace") {
    k.h = k.w = 3;
    k.taps = {{0, 1, 0, 1, -4, 1, 0, 1, 0}};
    k.absolute = true;
  } else if (name.rfind("box:", 0) == 0) {
    const std::string text = name.substr(4);
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 1001)
      throw Error("convnd: argument '--kernel': box:K needs an int K in [1, 1001] (got '" + text +
                  "')");
    k.h = k.w = n;
    k.taps = {std::vector<float>(n * n, 1.0f / static_cast<float>(n * n))};
    k.col = k.row = std::vector<float>(n, 1.0f / static_cast<float>(n));
  } else if (name.rfind("gaussian:", 0) == 0) {
    const std::string text = name.substr(9);
    char* end = nullptr;
    const double sigma = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(sigma > 0) || sigma > 100)
      throw Error("convnd: argument '--kernel': gaussian:SIGMA needs a number SIGMA in (0, 100] "
                  "(got '" + text + "')");
    const int r = static_cast<int>(std::ceil(3 * sigma));
    k.h = k.w = 2 * r + 1;
    std::vector<float> t(k.h * k.w);
    double sum = 0;
    for (int i = -r; i <= r; ++i)
      for (int j = -r; j <= r; ++j) sum += t[(i + r) * k.w + j + r] = std::exp(-(i * i + j * j) / (2 * sigma * sigma));
    for (float& v : t) v = static_cast<float>(v / sum);
    k.taps = {t};
    // The 2-D Gaussian is the product of two 1-D ones (and its sum the square of theirs).
    std::vector<double> g(k.w);
    double sum1 = 0;
    for (int i = -r; i <= r; ++i) sum1 += g[i + r] = std::exp(-(i * i) / (2 * sigma * sigma));
    for (double v : g) k.col.push_back(static_cast<float>(v / sum1));
    k.row = k.col;
  } else if (name.size() > 4 && name.substr(name.size() - 4) == ".npy") {
    const NpyArray a = read_npy(name);
    if (a.shape.size() != 2)
      throw Error("convnd: argument '--kernel': " + name + " must hold a 2-D array");
    k.h = a.shape[0];
    k.w = a.shape[1];
    std::vector<float> t(a.size());
    for (dim_t i = 0; i < a.size(); ++i)
      t[i] = a.dtype == DType::f32 ? reinterpret_cast<const float*>(a.bytes.data())[i]
                                   : static_cast<float>(reinterpret_cast<const double*>(a.bytes.data())[i]);
    k.taps = {t};
  } else {
    throw Error("convnd: argument '--kernel': unknown kernel '" + name +
                "' (sobel, gaussian:SIGMA, laplace, box:K or FILE.npy)");
  }
  return k;
}

void filter(const std::string& in, const std::string& kernel_name, const std::string& mode,
            const std::string& out, bool direct) {
  // Every argument before any work: a mistyped extension costs no decoding.
  const ImageFormat format = output_format(out, "--output");
  const PadMode pad_mode = parse_pad_mode(mode);
  const Kernel k = make_kernel(kernel_name);
  Image im = read_image(in);
  const dim_t H = im.height, W = im.width, C = im.channels;
  std::vector<float> x(im.samples.begin(), im.samples.end());
  const dim_t mult = static_cast<dim_t>(k.taps.size());

  Spec s;
  s.C = C;
  s.K = C * mult;
  s.groups = C;  // depthwise: every channel filtered on its own
  s.input = {H, W};
  s.kernel = {k.h, k.w};
  s.padding = Padding::same(SamePolicy::scipy);
  s.pad_mode = pad_mode;
  s.layout = Layout::channels_last;
  // Weight (K = C * mult, 1, h, w): output channel c * mult + m applies kernel m to channel c.
  std::vector<float> w(static_cast<std::size_t>(s.K) * k.h * k.w);
  for (dim_t c = 0; c < C; ++c)
    for (dim_t m = 0; m < mult; ++m)
      std::copy(k.taps[m].begin(), k.taps[m].end(), w.begin() + (c * mult + m) * k.h * k.w);
  std::vector<float> y(static_cast<std::size_t>(H) * W * s.K);
  std::string algorithm;
  const auto t0 = std::chrono::steady_clock::now();
  const bool separable = !k.col.empty() && mult == 1 && !direct;
  if (separable) {
    // Column pass into `mid`, then row pass into y: each a depthwise convolution of one axis.
    std::vector<float> mid(y.size());
    for (int pass = 0; pass < 2; ++pass) {
      Spec p1 = s;
      p1.kernel = pass == 0 ? std::vector<dim_t>{k.h, 1} : std::vector<dim_t>{1, k.w};
      const std::vector<float>& taps = pass == 0 ? k.col : k.row;
      std::vector<float> w1(static_cast<std::size_t>(C) * taps.size());
      for (dim_t c = 0; c < C; ++c) std::copy(taps.begin(), taps.end(), w1.begin() + c * taps.size());
      const Plan plan(p1, Pass::forward);
      plan.forward({pass == 0 ? x.data() : mid.data(), {1, H, W, C}},
                   {w1.data(), {C, 1, p1.kernel[0], p1.kernel[1]}}, std::nullopt,
                   {pass == 0 ? mid.data() : y.data(), {1, H, W, C}});
      algorithm += (pass ? " + " : "") + plan.algorithm();
    }
  } else {
    const Plan plan(s, Pass::forward);
    plan.forward({x.data(), {1, H, W, C}}, {w.data(), {s.K, 1, k.h, k.w}}, std::nullopt,
                 {y.data(), {1, H, W, s.K}});
    algorithm = plan.algorithm();
  }
  const double conv_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  const long top = im.max_value();
  for (std::size_t p = 0; p < static_cast<std::size_t>(H) * W; ++p)
    for (dim_t c = 0; c < C; ++c) {
      const float* r = &y[p * s.K + c * mult];
      float v = k.magnitude ? std::sqrt(r[0] * r[0] + r[1] * r[1]) : r[0];
      if (k.absolute) v = std::fabs(v);
      im.samples[p * C + c] = static_cast<std::uint16_t>(std::clamp(std::lround(v), 0L, top));
    }
  bool narrowed = false;
  write_image(out, im, format, &narrowed);
  std::cerr << in << " (" << W << "x" << H << ", " << C << " channels, " << im.bits
            << "-bit) * " << kernel_name << " [" << algorithm
            << (separable ? ", separable " : ", ") << k.h << "x" << k.w << ", mode " << mode
            << ", " << conv_ms << " ms] -> " << out
            << (narrowed ? " (8-bit: JPEG and BMP hold 8 bits per sample)" : "")
            << "\n";
}

}  // namespace

void add_filter_command(CLI::App& app) {
  struct Flags {
    std::string image, kernel, mode = "reflect", out;
    bool direct = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("filter", "convolve every channel of an image with a kernel");
  cmd->add_option("IMAGE", f->image, "PNG (8 or 16 bits), JPEG or BMP file")->required();
  cmd->add_option("--kernel", f->kernel, "sobel, gaussian:SIGMA, laplace, box:K or FILE.npy")->required();
  cmd->add_option("--mode", f->mode, "padding mode")->capture_default_str();
  cmd->add_option("-o,--output", f->out, "output image: .png (keeps 16 bits), .jpg/.jpeg or .bmp (8 bits)")->required();
  cmd->add_flag("--direct", f->direct,
                "run a separable kernel (gaussian, box) as one 2-D convolution, not two 1-D passes");
  cmd->callback([f] { filter(f->image, f->kernel, f->mode, f->out, f->direct); });
}

}  // namespace convnd::tool
