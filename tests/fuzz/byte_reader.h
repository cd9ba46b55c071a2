// Turns fuzzer bytes into bounded integers. Running out of bytes yields zeros, so every input,
// however short, decodes to some spec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace convnd::fuzz {

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // An int in [lo, hi].
  std::int64_t in_range(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(u64() % span);
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
  // Mostly small values, sometimes the int64 edges and negatives: what shape bugs hide behind.
  std::int64_t extent() {
    switch (byte() % 8) {
      case 0: return static_cast<std::int64_t>(u64());  // anything, incl. negative and huge
      case 1: return INT64_MAX - in_range(0, 3);
      case 2: return -in_range(0, 3);
      case 3: return std::int64_t{1} << in_range(20, 62);
      default: return in_range(0, 12);
    }
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace convnd::fuzz
