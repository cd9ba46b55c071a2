// libFuzzer target: the image loading of `convnd filter` (stb_image's PNG, JPEG and BMP decoders
// behind the header check and the pixel limit), and its writers on what was decoded. A decoded
// image must hold width * height * channels samples within its bit depth, and a PNG written
// from it (16-bit by encode_png16, 8-bit by stb) must decode back to the same samples.
#include <cstdlib>
#include <string>

#include "convnd/convnd.h"
#include "image_io.h"

using convnd::tool::Image;
using convnd::tool::ImageFormat;

namespace {

// A declared 2^28-pixel image is refused in the tool at the same place, with the same code, as a
// 2^16-pixel one here; decoding megapixels that a 4 kB input declares would only slow the
// fuzzer down (to ~90 executions a second at 2^22).
constexpr std::int64_t kFuzzMaxPixels = std::int64_t{1} << 16;
// Re-encoding is checked on small images only, to keep executions fast.
constexpr std::int64_t kRoundTripPixels = 1 << 12;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Image im;
  try {
    im = convnd::tool::decode_image(data, size, "fuzz", kFuzzMaxPixels);
  } catch (const convnd::Error&) {
    return 0;
  }
  if (im.bits != 8 && im.bits != 16) std::abort();
  if (im.channels < 1 || im.channels > 4 || im.width < 1 || im.height < 1) std::abort();
  if (im.samples.size() != im.sample_count()) std::abort();
  for (std::uint16_t v : im.samples)
    if (v > im.max_value()) std::abort();
  if (static_cast<std::int64_t>(im.width) * im.height > kRoundTripPixels) return 0;
  const std::vector<unsigned char> png = convnd::tool::encode_image(im, ImageFormat::png, "fuzz");
  const Image back = convnd::tool::decode_image(png.data(), png.size(), "re-encoded");
  if (back.width != im.width || back.height != im.height || back.channels != im.channels ||
      back.bits != im.bits || back.samples != im.samples)
    std::abort();
  (void)convnd::tool::encode_image(im, ImageFormat::jpeg, "fuzz");
  (void)convnd::tool::encode_image(im, ImageFormat::bmp, "fuzz");
  return 0;
}
