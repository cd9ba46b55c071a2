// Names of the enums, with the synonyms of numpy.pad, scipy.ndimage and TensorFlow accepted.
#include <array>
#include <string>
#include <utility>

#include "api/errors.h"
#include "convnd/convnd.h"

namespace convnd {
namespace {

template <class E, std::size_t M>
E lookup(std::string_view name, const std::array<std::pair<const char*, E>, M>& table,
         const char* argument, const char* choices) {
  for (const auto& [key, value] : table)
    if (name == key) return value;
  detail::fail(argument, detail::kNoAxis,
               detail::rule("unknown name '", name, "' (expected one of: ", choices, ")"));
}

}  // namespace

PadMode parse_pad_mode(std::string_view name) {
  static constexpr std::array<std::pair<const char*, PadMode>, 11> table{{
      {"zeros", PadMode::zeros},
      {"zero", PadMode::zeros},
      {"constant", PadMode::zeros},
      {"reflect", PadMode::reflect},
      {"mirror", PadMode::reflect},  // scipy.ndimage's name for numpy's reflect
      {"symmetric", PadMode::symmetric},
      {"replicate", PadMode::replicate},
      {"edge", PadMode::replicate},
      {"nearest", PadMode::replicate},
      {"circular", PadMode::circular},
      {"wrap", PadMode::circular},
  }};
  // scipy.ndimage calls numpy's "symmetric" "reflect"; that name is taken by PyTorch's meaning,
  // so ndimage users write "symmetric" (or "grid-mirror", ndimage's own alias of it).
  if (name == "grid-mirror") return PadMode::symmetric;
  if (name == "grid-wrap") return PadMode::circular;
  return lookup(name, table, "padding_mode",
                "zeros, reflect, symmetric, replicate, circular; synonyms constant, mirror, "
                "grid-mirror, edge, nearest, wrap, grid-wrap");
}

SamePolicy parse_same_policy(std::string_view name) {
  static constexpr std::array<std::pair<const char*, SamePolicy>, 5> table{{
      {"torch", SamePolicy::torch},
      {"tf", SamePolicy::tf},
      {"tf_lower", SamePolicy::tf_lower},
      {"numpy_ml", SamePolicy::numpy_ml},
      {"scipy", SamePolicy::scipy},
  }};
  return lookup(name, table, "same_policy", "torch, tf, tf_lower, numpy_ml, scipy");
}

Pass parse_pass(std::string_view name) {
  static constexpr std::array<std::pair<const char*, Pass>, 6> table{{
      {"fwd", Pass::forward},
      {"forward", Pass::forward},
      {"bwd_data", Pass::backward_data},
      {"backward_data", Pass::backward_data},
      {"bwd_weights", Pass::backward_weights},
      {"backward_weights", Pass::backward_weights},
  }};
  return lookup(name, table, "pass", "fwd, bwd_data, bwd_weights");
}

DType parse_dtype(std::string_view name) {
  static constexpr std::array<std::pair<const char*, DType>, 4> table{{
      {"f32", DType::f32}, {"float32", DType::f32}, {"f64", DType::f64}, {"float64", DType::f64}}};
  return lookup(name, table, "dtype", "float32, float64");
}

Layout parse_layout(std::string_view name) {
  static constexpr std::array<std::pair<const char*, Layout>, 6> table{{
      {"channels_first", Layout::channels_first},
      {"ncx", Layout::channels_first},
      {"nchw", Layout::channels_first},
      {"channels_last", Layout::channels_last},
      {"nxc", Layout::channels_last},
      {"nhwc", Layout::channels_last},
  }};
  return lookup(name, table, "layout", "channels_first, channels_last");
}

Precision parse_precision(std::string_view name) {
  static constexpr std::array<std::pair<const char*, Precision>, 3> table{{
      {"standard", Precision::standard},
      {"default", Precision::standard},
      {"highest", Precision::highest},
  }};
  return lookup(name, table, "precision", "standard (or default), highest");
}

const char* to_string(PadMode m) {
  switch (m) {
    case PadMode::zeros: return "zeros";
    case PadMode::reflect: return "reflect";
    case PadMode::symmetric: return "symmetric";
    case PadMode::replicate: return "replicate";
    case PadMode::circular: return "circular";
  }
  return "?";
}

const char* to_string(SamePolicy p) {
  switch (p) {
    case SamePolicy::torch: return "torch";
    case SamePolicy::tf: return "tf";
    case SamePolicy::tf_lower: return "tf_lower";
    case SamePolicy::numpy_ml: return "numpy_ml";
    case SamePolicy::scipy: return "scipy";
  }
  return "?";
}

const char* to_string(Pass p) {
  switch (p) {
    case Pass::forward: return "fwd";
    case Pass::backward_data: return "bwd_data";
    case Pass::backward_weights: return "bwd_weights";
  }
  return "?";
}

const char* to_string(DType t) { return t == DType::f32 ? "float32" : "float64"; }
const char* to_string(Layout l) {
  return l == Layout::channels_first ? "channels_first" : "channels_last";
}
const char* to_string(Precision p) { return p == Precision::standard ? "standard" : "highest"; }
std::size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }

}  // namespace convnd
