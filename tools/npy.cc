#include "npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace convnd::tool {
namespace {

[[noreturn]] void bad(const std::string& path, const std::string& why) {
  throw Error("convnd: file '" + path + "': " + why);
}

// Value of `key` in the header dict, e.g. 'descr': '<f4' -> <f4.
std::string header_field(const std::string& header, const std::string& key,
                         const std::string& path) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) bad(path, "npy header has no '" + key + "'");
  auto colon = header.find(':', k);
  auto start = header.find_first_not_of(' ', colon + 1);
  if (header[start] == '(') return header.substr(start, header.find(')', start) - start + 1);
  if (header[start] == '\'') return header.substr(start + 1, header.find('\'', start + 1) - start - 1);
  return header.substr(start, header.find_first_of(",}", start) - start);
}

}  // namespace

NpyArray::NpyArray(DType t, std::vector<dim_t> s) : dtype(t), shape(std::move(s)) {
  bytes.assign(static_cast<std::size_t>(size()) * dtype_size(t), 0);
}

dim_t NpyArray::size() const {
  dim_t n = 1;
  for (dim_t e : shape) n *= e;
  return n;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) bad(path, "cannot open");
  char magic[8];
  if (!f.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) bad(path, "not an .npy file");
  const int major = static_cast<unsigned char>(magic[6]);
  std::size_t header_len = 0;
  unsigned char len[4] = {0, 0, 0, 0};
  if (major == 1) {
    if (!f.read(reinterpret_cast<char*>(len), 2)) bad(path, "truncated header");
    header_len = len[0] | (len[1] << 8);
  } else {
    if (!f.read(reinterpret_cast<char*>(len), 4)) bad(path, "truncated header");
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<std::size_t>(len[3]) << 24);
  }
  if (header_len > (1u << 20)) bad(path, "header too long");
  std::string header(header_len, '\0');
  if (!f.read(header.data(), static_cast<std::streamsize>(header_len))) bad(path, "truncated header");
  const std::string descr = header_field(header, "descr", path);
  NpyArray a;
  if (descr == "<f4")
    a.dtype = DType::f32;
  else if (descr == "<f8")
    a.dtype = DType::f64;
  else
    bad(path, "dtype '" + descr + "' is not supported (float32 '<f4' or float64 '<f8')");
  if (header_field(header, "fortran_order", path) != "False")
    bad(path, "Fortran-order arrays are not supported; save a C-order array");
  const std::string shape = header_field(header, "shape", path);
  std::stringstream ss(shape.substr(1, shape.size() - 2));
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    try {
      a.shape.push_back(std::stoll(item));
    } catch (...) {
      bad(path, "cannot read shape " + shape);
    }
    if (a.shape.back() < 0) bad(path, "negative extent in shape " + shape);
  }
  dim_t n = 1;
  for (dim_t e : a.shape)
    if (__builtin_mul_overflow(n, e, &n) || n > (dim_t{1} << 40)) bad(path, "shape too large");
  a.bytes.resize(static_cast<std::size_t>(n) * dtype_size(a.dtype));
  if (!f.read(reinterpret_cast<char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size())))
    bad(path, "file is shorter than its shape " + shape + " says");
  return a;
}

void write_npy(const std::string& path, const NpyArray& a) {
  std::string shape = "(";
  for (dim_t e : a.shape) shape += std::to_string(e) + ", ";
  if (a.shape.size() > 1) shape.resize(shape.size() - 2);
  if (a.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = std::string("{'descr': '") + (a.dtype == DType::f32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) bad(path, "cannot create");
  const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                static_cast<unsigned char>(header.size() >> 8)};
  f.write("\x93NUMPY\x01\x00", 8);
  f.write(reinterpret_cast<const char*>(len), 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size()));
  if (!f) bad(path, "write failed");
}

}  // namespace convnd::tool
