#include "stb_guard.h"

#include <cstdint>
#include <cstring>

#include "convnd/convnd.h"

namespace convnd::tool {
namespace {

// A scan header (SOS at byte m, as stbi__process_scan_header reads it): length, component
// count, per component its id and (DC table << 4 | AC table), then spectral start, end and the
// successive-approximation bits. stb decodes with the tables a scan names whether or not a DHT
// segment defined them, and an undefined table has no end marker in its code-length limits
// (maxcode[17]), so its decoder reads far past the table (UBSan: index 16712944 out of bounds
// for 'stbi_uc[256]', found by fuzz_image). A scan is refused unless every table it will use is
// defined: DC tables for a baseline scan and a progressive first DC scan, AC tables for a
// baseline scan and a progressive AC scan.
template <class Byte>
void check_scan_tables(const Byte& byte, std::size_t m, const bool (&defined)[2][4],
                       bool progressive, const std::string& name) {
  const std::size_t p = m + 4;  // after the marker and the 2-byte length
  const unsigned components = byte(p);
  const std::size_t tail = p + 1 + 2 * static_cast<std::size_t>(components);
  const unsigned spectral_start = byte(tail), approx_high = byte(tail + 2) >> 4;
  const bool needs_dc = !progressive || (spectral_start == 0 && approx_high == 0);
  const bool needs_ac = !progressive || spectral_start != 0;
  for (unsigned c = 0; c < components && c < 4; ++c) {
    const unsigned tables = byte(p + 2 + 2 * static_cast<std::size_t>(c));
    const unsigned dc = tables >> 4, ac = tables & 15;
    const bool dc_missing = needs_dc && (dc > 3 || !defined[0][dc]);
    const bool ac_missing = needs_ac && (ac > 3 || !defined[1][ac]);
    if (dc_missing || ac_missing)
      throw Error("convnd: file '" + name + "': malformed JPEG: the scan at byte " +
                  std::to_string(m) + " uses Huffman table " + (dc_missing ? "DC " : "AC ") +
                  std::to_string(dc_missing ? dc : ac) +
                  ", which no DHT segment before it defines");
  }
}

void check_jpeg_huffman_tables(const unsigned char* data, std::size_t size,
                               const std::string& name) {
  // stb's reads past the end yield 0; so do these.
  auto byte = [&](std::size_t i) -> unsigned { return i < size ? data[i] : 0u; };
  // Tables defined so far, [class: 0 DC, 1 AC][id], in the order stb meets the segments.
  bool defined[2][4] = {};
  bool progressive = false;
  for (std::size_t m = 0; m + 1 < size; ++m) {
    if (data[m] != 0xFF) continue;
    if (data[m + 1] == 0xC2) progressive = true;
    if (data[m + 1] == 0xDA) {
      check_scan_tables(byte, m, defined, progressive, name);
      continue;
    }
    if (data[m + 1] != 0xC4) continue;
    // The segment as stbi__process_marker walks it: length L (counting itself), then tables of
    // class/id, 16 counts and n = sum(counts) symbols, while L > 0.
    std::size_t p = m + 2;
    long L = static_cast<long>(byte(p) << 8 | byte(p + 1)) - 2;
    p += 2;
    while (L > 0) {
      const unsigned cls = byte(p) >> 4, id = byte(p) & 15;
      if (cls < 2 && id < 4) defined[cls][id] = true;  // stb refuses any other (class, id)
      ++p;
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
