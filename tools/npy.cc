#include "npy.h"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace convnd::tool {
namespace {

[[noreturn]] void bad(const std::string& path, const std::string& why) {
  throw Error("convnd: file '" + path + "': " + why);
}

// The header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, read as the
// Python literal it is: a quoted key, ':', a quoted string, True/False or a tuple of ints.
class HeaderReader {
 public:
  HeaderReader(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  struct Fields {
    std::string descr;
    bool fortran_order = false;
    std::vector<dim_t> shape;
  };

  Fields read() {
    Fields f;
    bool have_descr = false, have_order = false, have_shape = false;
    space();
    expect('{', "the header to start with '{'");
    for (;;) {
      space();
      if (peek() == '}') break;
      const std::string key = quoted("a quoted key ('descr', 'fortran_order' or 'shape')");
      space();
      expect(':', "':' after the key '" + key + "'");
      space();
      if (key == "descr") {
        once(have_descr, key);
        f.descr = quoted("the dtype string after 'descr', e.g. '<f4'");
      } else if (key == "fortran_order") {
        once(have_order, key);
        f.fortran_order = boolean();
      } else if (key == "shape") {
        once(have_shape, key);
        f.shape = tuple();
      } else {
        fail("the header has an unknown key '" + key + "' (a .npy header holds 'descr', "
             "'fortran_order' and 'shape')");
      }
      space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      space();
      if (peek() != '}') fail("expected ',' or '}' after the value of '" + key + "'");
    }
    ++pos_;
    space();
    if (pos_ != text_.size()) fail("unexpected text after the header's closing '}'");
    if (!have_descr || !have_order || !have_shape)
      fail(std::string("the header lacks '") +
           (!have_descr ? "descr" : !have_order ? "fortran_order" : "shape") + "'");
    return f;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    bad(path_, "malformed .npy header at byte " + std::to_string(pos_) + ": " + why);
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t'))
      ++pos_;
  }
  void expect(char c, const std::string& what) {
    if (peek() != c) fail("expected " + what);
    ++pos_;
  }
  void once(bool& seen, const std::string& key) {
    if (seen) fail("the key '" + key + "' appears twice");
    seen = true;
  }
  std::string quoted(const std::string& what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected " + what);
    const std::size_t end = text_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail("a quoted string is not closed");
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }
  bool boolean() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("expected True or False after 'fortran_order'");
  }
  // (), (5,), (2, 3): non-negative ints that fit in int64.
  std::vector<dim_t> tuple() {
    std::vector<dim_t> v;
    expect('(', "a tuple of ints after 'shape', e.g. (2, 3)");
    for (;;) {
      space();
      if (peek() == ')') break;
      const char* begin = text_.data() + pos_;
      dim_t e = 0;
      const auto [ptr, ec] = std::from_chars(begin, text_.data() + text_.size(), e);
      if (ec == std::errc::result_out_of_range) fail("an extent of 'shape' does not fit in int64");
      if (ec != std::errc() || ptr == begin || *begin == '-' || *begin == '+')
        fail("expected a non-negative int in 'shape'");
      pos_ += static_cast<std::size_t>(ptr - begin);
      v.push_back(e);
      space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in 'shape'");
    }
    ++pos_;
    return v;
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

std::size_t read_up_to(std::istream& in, unsigned char* out, std::size_t n) {
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
  return static_cast<std::size_t>(in.gcount());
}

// The data: exactly `bytes` bytes. Read in chunks so that a header promising more than the file
// holds fails at the end of the file instead of allocating the promise.
void read_data(std::istream& in, std::vector<unsigned char>& out, std::size_t bytes,
               const std::string& path, const std::string& shape) {
  constexpr std::size_t kChunk = std::size_t{1} << 24;
  out.clear();
  // A file (or string stream) knows its length: compare before allocating anything.
  const std::streampos here = in.tellg();
  if (here != std::streampos(-1) && in.seekg(0, std::ios::end)) {
    const std::streamoff left = in.tellg() - here;
    in.seekg(here);
    if (left >= 0 && static_cast<std::uint64_t>(left) < bytes)
      bad(path, "the file holds " + std::to_string(left) + " bytes of data but its shape " +
                    shape + " needs " + std::to_string(bytes) + " (truncated file?)");
  }
  in.clear();
  while (out.size() < bytes) {
    const std::size_t want = std::min(kChunk, bytes - out.size());
    const std::size_t old = out.size();
    out.resize(old + want);
    const std::size_t got = read_up_to(in, out.data() + old, want);
    if (got < want)
      bad(path, "the file holds " + std::to_string(old + got) + " bytes of data but its shape " +
                    shape + " needs " + std::to_string(bytes) + " (truncated file?)");
  }
}

}  // namespace

std::string shape_string(const std::vector<dim_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

NpyArray::NpyArray(DType t, std::vector<dim_t> s) : dtype(t), shape(std::move(s)) {
  bytes.assign(static_cast<std::size_t>(size()) * dtype_size(t), 0);
}

dim_t NpyArray::size() const {
  dim_t n = 1;
  for (dim_t e : shape) n *= e;
  return n;
}

NpyArray read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) bad(path, "is a folder, not an .npy file");
  std::ifstream f(path, std::ios::binary);
  if (!f) bad(path, std::string("cannot open (") + std::strerror(errno) + ")");
  return read_npy(f, path);
}

NpyArray read_npy(std::istream& in, const std::string& path) {
  unsigned char magic[8];
  const std::size_t got = read_up_to(in, magic, 8);
  if (got < 6 || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    bad(path, "not an .npy file (it does not start with the .npy signature \\x93NUMPY; save "
              "arrays with numpy.save)");
  if (got < 8) bad(path, "truncated .npy file: it ends inside the version bytes");
  const int major = magic[6], minor = magic[7];
  if (major < 1 || major > 3)
    bad(path, "unsupported .npy format version " + std::to_string(major) + "." +
                  std::to_string(minor) + " (this reader knows 1.0, 2.0 and 3.0)");
  unsigned char len[4] = {0, 0, 0, 0};
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (read_up_to(in, len, len_bytes) < len_bytes)
    bad(path, "truncated .npy file: it ends inside the header length");
  const std::size_t header_len = len[0] | (len[1] << 8) | (std::size_t{len[2]} << 16) |
                                 (std::size_t{len[3]} << 24);
  if (header_len > (std::size_t{1} << 20))
    bad(path, "the .npy header claims " + std::to_string(header_len) +
                  " bytes; more than 1 MiB is not a real header");
  std::string header(header_len, '\0');
  if (read_up_to(in, reinterpret_cast<unsigned char*>(header.data()), header_len) < header_len)
    bad(path, "truncated .npy file: it ends inside the header");
  const HeaderReader::Fields h = HeaderReader(header, path).read();
  NpyArray a;
  if (h.descr == "<f4")
    a.dtype = DType::f32;
  else if (h.descr == "<f8")
    a.dtype = DType::f64;
  else if (h.descr == ">f4" || h.descr == ">f8")
    bad(path, "big-endian dtype '" + h.descr + "' is not supported (save a little-endian array: "
              "x.astype('<f4'))");
  else
    bad(path, "dtype '" + h.descr + "' is not supported (float32 '<f4' or float64 '<f8')");
  if (h.fortran_order) bad(path, "Fortran-order arrays are not supported; save a C-order array");
  a.shape = h.shape;
  const std::string shape = shape_string(a.shape);
  dim_t elems = 1;
  for (dim_t e : a.shape)
    if (__builtin_mul_overflow(elems, e, &elems))
      bad(path, "shape " + shape + " has more elements than fit in int64");
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<std::size_t>(elems), dtype_size(a.dtype), &bytes))
    bad(path, "shape " + shape + " needs more bytes than fit in memory");
  read_data(in, a.bytes, bytes, path, shape);
  return a;
}

void write_npy(std::ostream& f, const NpyArray& a) {
  std::string shape = shape_string(a.shape);
  std::string header = std::string("{'descr': '") + (a.dtype == DType::f32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                static_cast<unsigned char>(header.size() >> 8)};
  f.write("\x93NUMPY\x01\x00", 8);
  f.write(reinterpret_cast<const char*>(len), 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size()));
}

void write_npy(const std::string& path, const NpyArray& a) {
  std::ofstream f(path, std::ios::binary);
  if (!f) bad(path, std::string("cannot create (") + std::strerror(errno) + ")");
  write_npy(f, a);
  if (!f) bad(path, "write failed");
}

}  // namespace convnd::tool
