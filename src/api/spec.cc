// The public face of resolution: padding parsing and printing, shapes, the problem string and
// explain().
#include <charconv>
#include <sstream>

#include "api/errors.h"
#include "api/resolve.h"
#include "convnd/convnd.h"

namespace convnd {
namespace {

std::string join(const std::vector<dim_t>& v, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += std::to_string(v[i]);
  }
  return s;
}

std::string tuple(const std::vector<dim_t>& v) {
  std::string s("(");
  s.append(join(v, ", ")).append(")");
  return s;
}

dim_t parse_int(std::string_view t, std::string_view whole) {
  dim_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size() || t.empty())
    detail::fail("padding", detail::kNoAxis,
                 detail::rule("cannot read '", whole,
                              "': expected an int, ints per axis 'a,b', lo:hi pairs 'a:b,c:d', "
                              "valid, full, causal, or same[:policy]"));
  return v;
}

}  // namespace

Padding Padding::per_axis(const std::vector<dim_t>& p) {
  std::vector<std::pair<dim_t, dim_t>> pairs;
  for (dim_t v : p) pairs.emplace_back(v, v);
  return lo_hi(std::move(pairs));
}

Padding Padding::lo_hi(std::vector<std::pair<dim_t, dim_t>> pairs) {
  return {Kind::explicit_pairs, std::move(pairs), SamePolicy::torch};
}

Padding Padding::parse(std::string_view text) {
  if (text == "valid") return valid();
  if (text == "full") return full();
  if (text == "causal") return causal();
  if (text == "same") return same();
  if (text.rfind("same:", 0) == 0) return same(parse_same_policy(text.substr(5)));
  std::vector<std::pair<dim_t, dim_t>> pairs;
  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      const dim_t v = parse_int(item, text);
      pairs.emplace_back(v, v);
    } else {
      pairs.emplace_back(parse_int(item.substr(0, colon), text),
                         parse_int(item.substr(colon + 1), text));
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return lo_hi(std::move(pairs));
}

std::string Padding::to_string() const {
  switch (kind) {
    case Kind::valid: return "valid";
    case Kind::full: return "full";
    case Kind::causal: return "causal";
    case Kind::same: return std::string("same:").append(convnd::to_string(policy));
    case Kind::explicit_pairs: break;
  }
  std::string s;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(pairs[i].first);
    if (pairs[i].second != pairs[i].first) s.append(":").append(std::to_string(pairs[i].second));
  }
  return s;
}

std::string Spec::to_string() const {
  std::ostringstream os;
  os << "n" << N << "c" << C << "k" << K;
  if (groups != 1) os << "g" << groups;
  os << "s" << join(input, "x") << "k" << join(kernel, "x");
  if (!stride.empty()) os << "t" << join(stride, "x");
  if (!dilation.empty()) os << "d" << join(dilation, "x");
  os << "p" << padding.to_string();
  if (pad_mode != PadMode::zeros) os << " mode=" << convnd::to_string(pad_mode);
  if (layout == Layout::channels_last) os << " channels_last";
  if (dtype == DType::f64) os << " f64";
  if (bias) os << " bias";
  if (transposed) os << " transposed";
  // Printed whenever given, so that a non-transposed spec that (wrongly) sets them reads back
  // as the same invalid spec; Spec::parse (spec_parse.cc) reads every field printed here.
  if (!output_padding.empty()) os << " op=" << join(output_padding, "x");
  if (!output_size.empty()) os << " out=" << join(output_size, "x");
  if (strict) os << " strict";
  return os.str();
}

std::vector<std::pair<dim_t, dim_t>> resolve_padding(const Spec& spec) {
  return detail::resolve(spec).pad;
}

std::vector<dim_t> output_extents(const Spec& spec) { return detail::resolve(spec).out; }

std::vector<dim_t> resolve_output_padding(const Spec& spec) {
  if (!spec.transposed) return {};
  return detail::resolve(spec).spec.output_padding;
}

namespace {

std::vector<dim_t> activation_shape(dim_t N, dim_t C, const std::vector<dim_t>& sp, Layout l) {
  std::vector<dim_t> s{N};
  if (l == Layout::channels_first) s.push_back(C);
  s.insert(s.end(), sp.begin(), sp.end());
  if (l == Layout::channels_last) s.push_back(C);
  return s;
}

}  // namespace

Shapes shapes(const Spec& spec) {
  const detail::Resolved r = detail::resolve(spec);
  const Spec& s = r.spec;
  Shapes out;
  out.x = activation_shape(s.N, s.C, s.input, s.layout);
  out.y = activation_shape(s.N, s.K, r.out, s.layout);
  out.w = s.transposed ? std::vector<dim_t>{s.C, s.K / s.groups}
                       : std::vector<dim_t>{s.K, s.C / s.groups};
  out.w.insert(out.w.end(), s.kernel.begin(), s.kernel.end());
  out.bias = {s.K};
  return out;
}

std::string explain(const Spec& spec) {
  const detail::Resolved r = detail::resolve(spec);
  const Spec& s = r.spec;
  const Shapes sh = shapes(spec);
  std::ostringstream os;
  os << (s.transposed ? "transposed convolution" : "convolution") << ", rank " << s.rank()
     << ", " << convnd::to_string(s.layout) << ", " << convnd::to_string(s.dtype)
     << ", groups " << s.groups << ", padding '" << s.padding.to_string() << "' mode "
     << convnd::to_string(s.pad_mode) << "\n";
  os << "  x " << tuple(sh.x) << "  w " << tuple(sh.w) << "  ->  y " << tuple(sh.y)
     << (s.bias ? std::string("  (+ bias ").append(tuple(sh.bias)).append(")") : std::string())
     << "\n";
  if (!s.transposed)
    os << "  O = floor((S + lo + hi - dil*(k-1) - 1) / stride) + 1\n";
  else
    os << "  O = (S-1)*stride - lo - hi + dil*(k-1) + output_padding + 1\n";
  for (int a = 0; a < s.rank(); ++a) {
    const dim_t S = s.input[a], k = s.kernel[a], st = s.stride[a], dl = s.dilation[a];
    const auto [lo, hi] = r.pad[a];
    os << "  axis " << a << ": S=" << S << " k=" << k << " stride=" << st << " dil=" << dl
       << " pad=(" << lo << ", " << hi << ")  ";
    if (!s.transposed) {
      os << "O = floor((" << S << " + " << lo << " + " << hi << " - " << dl << "*(" << k
         << "-1) - 1) / " << st << ") + 1 = " << r.out[a];
      const dim_t rem = (S + lo + hi - dl * (k - 1) - 1) % st;
      if (rem != 0) os << "  (last " << rem << " padded sample(s) unused)";
    } else {
      os << "O = (" << S << "-1)*" << st << " - " << lo << " - " << hi << " + " << dl << "*("
         << k << "-1) + " << s.output_padding[a] << " + 1 = " << r.out[a];
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace convnd
