// Image files for `convnd filter`: PNG (8 and 16 bits per sample), JPEG and BMP in, the same out.
// Decoding is stb_image's, limited to those three formats (the other decoders stb carries are
// code no user asked to run on untrusted files), from memory, after a header check: an image of
// more than kMaxImagePixels is refused before anything is decoded (a small file can declare a
// huge image: a decompression bomb). 16-bit PNGs are written by encode_png16, since
// stb_image_write writes 8 bits only. tests/fuzz/fuzz_image.cc fuzzes decoding and the 16-bit round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convnd::tool {

// 2^28 pixels (e.g. 16384 x 16384): the filter then holds ~4 GiB of float samples for an RGBA
// image. Larger images are refused before decoding.
constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 28;

struct Image {
  int width = 0, height = 0, channels = 0;  // channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  int bits = 8;                             // 8 or 16 per sample
  std::vector<std::uint16_t> samples;       // row-major, interleaved (H, W, C)

  std::size_t sample_count() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
           static_cast<std::size_t>(channels);
  }
  int max_value() const { return (1 << bits) - 1; }
};

enum class ImageFormat { png, jpeg, bmp };

// The format an output path asks for, by its extension (case-insensitive: .png, .jpg, .jpeg,
// .bmp). Throws convnd::Error naming `argument` for any other.
ImageFormat output_format(const std::string& path, const std::string& argument);

// Throws convnd::Error naming `name` for a file that is not a PNG, JPEG or BMP image, is
// malformed, or declares more than max_pixels pixels.
Image decode_image(const unsigned char* data, std::size_t size, const std::string& name,
                   std::int64_t max_pixels = kMaxImagePixels);
Image read_image(const std::string& path);

// PNG keeps 16 bits; JPEG and BMP hold 8 bits, so a 16-bit image is scaled to 8 bits for them
// (`*narrowed` tells the caller it happened). Throws convnd::Error when encoding fails.
std::vector<unsigned char> encode_image(const Image& image, ImageFormat format,
                                        const std::string& name, bool* narrowed = nullptr);
void write_image(const std::string& path, const Image& image, ImageFormat format,
                 bool* narrowed = nullptr);

// A 16-bit PNG (colour type by channel count, no interlace, filter 0), its IDAT compressed by
// stb_image_write's deflate. Defined in image_io.cc, beside the stb implementation it uses.
std::vector<unsigned char> encode_png16(const Image& image, const std::string& name);

}  // namespace convnd::tool
