// Reading and writing NumPy .npy files (format 1.0-3.0): little-endian float32/float64 arrays in
// C order, which is what `numpy.save` writes for a contiguous array.
#pragma once

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
void write_npy(const std::string& path, const NpyArray& a);

}  // namespace convnd::tool
