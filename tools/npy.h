// Reading and writing NumPy .npy files (format 1.0-3.0): little-endian float32/float64 arrays in
// C order, which is what `numpy.save` writes for a contiguous array. The reader takes untrusted
// files: the header is parsed as the small Python literal it is (no field found by searching),
// every size is computed with overflow checks, and nothing is allocated beyond what the file
// holds, so a header promising 2^60 elements costs nothing. tests/fuzz/fuzz_npy.cc fuzzes it.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::tool {

struct NpyArray {
  DType dtype = DType::f32;
  std::vector<dim_t> shape;
  std::vector<unsigned char> bytes;

  NpyArray() = default;
  NpyArray(DType t, std::vector<dim_t> s);
  dim_t size() const;
  ConstTensorView view() const { return {bytes.data(), dtype, shape}; }
  TensorView view() { return {bytes.data(), dtype, shape}; }
};

// Throws convnd::Error naming the file and what is wrong with it.
NpyArray read_npy(const std::string& path);
// The same from a stream; `name` is the file named in errors.
NpyArray read_npy(std::istream& in, const std::string& name);
void write_npy(const std::string& path, const NpyArray& a);
void write_npy(std::ostream& out, const NpyArray& a);

// "(2, 3)", "(5,)", "()": shapes in errors, as NumPy prints them.
std::string shape_string(const std::vector<dim_t>& shape);

}  // namespace convnd::tool
