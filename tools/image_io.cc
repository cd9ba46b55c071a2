#include "image_io.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "convnd/convnd.h"
#include "stb_guard.h"

// Only the decoders of the formats the tool documents; no stdio in either library, so that the
// memory paths below are the only ones (and the ones the fuzzer runs).
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace convnd::tool {
namespace {

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw Error("convnd: file '" + name + "': " + why);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

struct Freer {
  void operator()(void* p) const { stbi_image_free(p); }
};

void append_u32(std::vector<unsigned char>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

// CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320).
std::uint32_t crc32(const unsigned char* p, std::size_t n) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void append_chunk(std::vector<unsigned char>& out, const char type[4], const unsigned char* data,
                  std::size_t size) {
  append_u32(out, static_cast<std::uint32_t>(size));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  if (size) out.insert(out.end(), data, data + size);
  append_u32(out, crc32(out.data() + start, size + 4));
}

void sink(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<unsigned char>*>(context);
  const auto* p = static_cast<const unsigned char*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

ImageFormat output_format(const std::string& path, const std::string& argument) {
  const std::size_t dot = path.rfind('.');
  const std::size_t slash = path.rfind('/');
  const std::string ext =
      dot == std::string::npos || (slash != std::string::npos && dot < slash) ? ""
                                                                              : lower(path.substr(dot));
  if (ext == ".png") return ImageFormat::png;
  if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::jpeg;
  if (ext == ".bmp") return ImageFormat::bmp;
  throw Error("convnd: argument '" + argument + "': cannot write '" + path + "': " +
              (ext.empty() ? std::string("no file extension") : "extension '" + ext + "'") +
              " names no format this tool writes (.png, .jpg, .jpeg or .bmp)");
}

Image decode_image(const unsigned char* data, std::size_t size, const std::string& name,
                   std::int64_t max_pixels) {
  if (size > static_cast<std::size_t>(INT_MAX))
    bad(name, "larger than 2 GiB; the image decoder takes files up to 2 GiB");
  const int len = static_cast<int>(size);
  check_before_stb(data, size, name);  // before stb reads any marker or chunk
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &c))
    bad(name, std::string("not a PNG, JPEG or BMP image (") + stbi_failure_reason() + ")");
  const std::int64_t pixels = std::int64_t{w} * h;
  if (w <= 0 || h <= 0)
    bad(name, "the header declares a " + std::to_string(w) + " x " + std::to_string(h) + " image");
  if (pixels > max_pixels)
    bad(name, "the header declares " + std::to_string(w) + " x " + std::to_string(h) + " = " +
                  std::to_string(pixels) + " pixels, more than the limit of " +
                  std::to_string(max_pixels) + "; not decoded (a decompression bomb?)");
  Image im;
  im.bits = stbi_is_16_bit_from_memory(data, len) ? 16 : 8;
  int dw = 0, dh = 0, dc = 0;
  if (im.bits == 16) {
    std::unique_ptr<stbi_us, Freer> p(stbi_load_16_from_memory(data, len, &dw, &dh, &dc, 0));
    if (!p) bad(name, std::string("cannot decode the image (") + stbi_failure_reason() + ")");
    im.width = dw, im.height = dh, im.channels = dc;
    if (dw != w || dh != h || dc < 1 || dc > 4) bad(name, "the decoded image differs from its header");
    im.samples.assign(p.get(), p.get() + im.sample_count());
  } else {
    std::unique_ptr<stbi_uc, Freer> p(stbi_load_from_memory(data, len, &dw, &dh, &dc, 0));
    if (!p) bad(name, std::string("cannot decode the image (") + stbi_failure_reason() + ")");
    im.width = dw, im.height = dh, im.channels = dc;
    if (dw != w || dh != h || dc < 1 || dc > 4) bad(name, "the decoded image differs from its header");
    im.samples.assign(p.get(), p.get() + im.sample_count());
  }
  return im;
}

Image read_image(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) bad(path, "is a folder, not an image");
  std::ifstream f(path, std::ios::binary);
  if (!f) bad(path, std::string("cannot open (") + std::strerror(errno) + ")");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) bad(path, "cannot read its size");
  if (size > INT_MAX) bad(path, "larger than 2 GiB; the image decoder takes files up to 2 GiB");
  f.seekg(0);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (!f.read(reinterpret_cast<char*>(bytes.data()), size)) bad(path, "cannot read");
  return decode_image(bytes.data(), bytes.size(), path);
}

std::vector<unsigned char> encode_png16(const Image& im, const std::string& name) {
  static constexpr unsigned char kColourType[5] = {0, 0, 4, 2, 6};  // by channel count
  if (im.channels < 1 || im.channels > 4 || im.width < 1 || im.height < 1)
    bad(name, "cannot encode an image of " + std::to_string(im.width) + " x " +
                  std::to_string(im.height) + " x " + std::to_string(im.channels));
  // Rows of filter byte 0 and big-endian samples. stb's deflate takes an int length.
  const std::size_t row = 1 + static_cast<std::size_t>(im.width) * im.channels * 2;
  if (row * static_cast<std::size_t>(im.height) > static_cast<std::size_t>(INT_MAX))
    bad(name, "a 16-bit PNG of more than 2 GiB of samples is not supported; write .png from an "
              "8-bit image or crop it");
  std::vector<unsigned char> raw(row * im.height);
  std::size_t i = 0, s = 0;
  for (int y = 0; y < im.height; ++y) {
    raw[i++] = 0;
    for (int x = 0; x < im.width * im.channels; ++x, ++s) {
      raw[i++] = static_cast<unsigned char>(im.samples[s] >> 8);
      raw[i++] = static_cast<unsigned char>(im.samples[s] & 0xFF);
    }
  }
  int zlen = 0;
  std::unique_ptr<unsigned char, decltype(&std::free)> z(
      stbi_zlib_compress(raw.data(), static_cast<int>(raw.size()), &zlen, 8), &std::free);
  if (!z) bad(name, "cannot compress the image");
  std::vector<unsigned char> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  unsigned char ihdr[13];
  for (int k = 0; k < 4; ++k) {
    ihdr[k] = static_cast<unsigned char>(static_cast<std::uint32_t>(im.width) >> (24 - 8 * k));
    ihdr[4 + k] = static_cast<unsigned char>(static_cast<std::uint32_t>(im.height) >> (24 - 8 * k));
  }
  ihdr[8] = 16;                         // bits per sample
  ihdr[9] = kColourType[im.channels];   // grey, grey + alpha, RGB, RGBA
  ihdr[10] = ihdr[11] = ihdr[12] = 0;   // deflate, adaptive filtering, no interlace
  append_chunk(out, "IHDR", ihdr, sizeof ihdr);
  append_chunk(out, "IDAT", z.get(), static_cast<std::size_t>(zlen));
  append_chunk(out, "IEND", nullptr, 0);
  return out;
}

std::vector<unsigned char> encode_image(const Image& im, ImageFormat format,
                                        const std::string& name, bool* narrowed) {
  if (narrowed) *narrowed = false;
  if (format == ImageFormat::png && im.bits == 16) return encode_png16(im, name);
  if (im.channels < 1 || im.channels > 4 || im.width < 1 || im.height < 1 ||
      static_cast<std::int64_t>(im.width) * im.height > kMaxImagePixels)
    bad(name, "cannot encode an image of " + std::to_string(im.width) + " x " +
                  std::to_string(im.height) + " x " + std::to_string(im.channels));
  std::vector<unsigned char> bytes(im.sample_count());
  if (im.bits == 16) {
    // JPEG and BMP hold 8 bits: round v * 255 / 65535.
    for (std::size_t k = 0; k < bytes.size(); ++k)
      bytes[k] = static_cast<unsigned char>((im.samples[k] * 255u + 32767u) / 65535u);
    if (narrowed) *narrowed = true;
  } else {
    for (std::size_t k = 0; k < bytes.size(); ++k)
      bytes[k] = static_cast<unsigned char>(im.samples[k]);
  }
  std::vector<unsigned char> out;
  int ok = 0;
  switch (format) {
    case ImageFormat::png:
      ok = stbi_write_png_to_func(sink, &out, im.width, im.height, im.channels, bytes.data(),
                                  im.width * im.channels);
      break;
    case ImageFormat::jpeg:
      ok = stbi_write_jpg_to_func(sink, &out, im.width, im.height, im.channels, bytes.data(), 95);
      break;
    case ImageFormat::bmp:
      ok = stbi_write_bmp_to_func(sink, &out, im.width, im.height, im.channels, bytes.data());
      break;
  }
  if (!ok) bad(name, "cannot encode the image");
  return out;
}

void write_image(const std::string& path, const Image& image, ImageFormat format, bool* narrowed) {
  const std::vector<unsigned char> bytes = encode_image(image, format, path, narrowed);
  std::ofstream f(path, std::ios::binary);
  if (!f) bad(path, std::string("cannot create (") + std::strerror(errno) + ")");
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) bad(path, "write failed");
}

}  // namespace convnd::tool
