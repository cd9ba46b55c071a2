#include "stb_guard.h"

#include <cstdint>
#include <cstring>

#include "convnd/convnd.h"

namespace convnd::tool {
namespace {

void check_jpeg_huffman_tables(const unsigned char* data, std::size_t size,
                               const std::string& name) {
  // stb's reads past the end yield 0; so do these.
  auto byte = [&](std::size_t i) -> unsigned { return i < size ? data[i] : 0u; };
  for (std::size_t m = 0; m + 1 < size; ++m) {
    if (data[m] != 0xFF || data[m + 1] != 0xC4) continue;
    // The segment as stbi__process_marker walks it: length L (counting itself), then tables of
    // class/id, 16 counts and n = sum(counts) symbols, while L > 0.
    std::size_t p = m + 2;
    long L = static_cast<long>(byte(p) << 8 | byte(p + 1)) - 2;
    p += 2;
    while (L > 0) {
      ++p;  // class and table id
      unsigned n = 0;
      for (int i = 0; i < 16; ++i) n += byte(p++);
      if (n > 256)
        throw Error("convnd: file '" + name + "': malformed JPEG: a Huffman table (DHT segment at "
                    "byte " + std::to_string(m) + ") lists " + std::to_string(n) +
                    " codes; a table holds at most 256");
      p += n;
      L -= 17 + static_cast<long>(n);
    }
  }
}

// Chunks: 4-byte big-endian length, 4-byte type, data, 4-byte CRC; stb reads up to IEND.
void check_png_chunk_lengths(const unsigned char* data, std::size_t size, const std::string& name) {
  std::size_t p = 8;
  while (p + 8 <= size) {
    const std::uint32_t length = std::uint32_t{data[p]} << 24 | std::uint32_t{data[p + 1]} << 16 |
                                 std::uint32_t{data[p + 2]} << 8 | data[p + 3];
    const std::string type(reinterpret_cast<const char*>(data + p + 4), 4);
    if (length > size - p - 8)
      throw Error("convnd: file '" + name + "': malformed PNG: the chunk at byte " +
                  std::to_string(p) + " declares " + std::to_string(length) + " bytes of data, but " +
                  std::to_string(size - p - 8) + " bytes follow it (truncated file?)");
    if (type == "IEND") return;
    p += 12 + static_cast<std::size_t>(length);
  }
}

}  // namespace

void check_before_stb(const unsigned char* data, std::size_t size, const std::string& name) {
  static constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size > 0 && data[0] == 0xFF) check_jpeg_huffman_tables(data, size, name);
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) check_png_chunk_lengths(data, size, name);
}

}  // namespace convnd::tool
