// Spec::parse: reads back the problem string that Spec::to_string() prints.
//
// # The grammar
//   n<N>c<C>k<K>[g<groups>]s<input>k<kernel>[t<stride>][d<dilation>]p<padding>( <flag>)*
// where <input>, <kernel>, <stride>, <dilation> are ints joined by 'x' (e.g. 56x56; an empty
// list is allowed, so that an invalid spec prints and reads back too), <padding> is what
// Padding::to_string() prints (valid, full, causal, same:POLICY, or per-axis 'v' / 'lo:hi'
// joined by ','), and each flag is one of
//   mode=<pad mode>  channels_last  channels_first  f64  f32  bias  transposed
//   op=<ints joined by x>  out=<ints joined by x>  strict
// The fields come in to_string()'s order; the flags in any order, each at most once. The
// letters are benchdnn's idea (mb, ic, oc, ih...), shortened: n N, c C, k K (the first k is the
// channel count, the second the kernel), g groups, s spatial input, t stride, d dilation, p pad.
//
// Errors name the argument 'spec', the character position (0-based, as an index into the
// string) and what was expected there, so a hand-typed string can be fixed without the source.
#include <charconv>
#include <string>

#include "api/errors.h"
#include "convnd/convnd.h"

namespace convnd {
namespace {

class SpecReader {
 public:
  explicit SpecReader(std::string_view text) : text_(text) {}

  Spec read() {
    Spec s;
    s.N = field('n', "the batch size N, e.g. 'n1'");
    s.C = field('c', "the input channels C, e.g. 'c64'");
    s.K = field('k', "the output channels K, e.g. 'k64'");
    if (peek() == 'g') s.groups = field('g', "the group count, e.g. 'g2'");
    s.input = list_field('s', "the spatial input extents, e.g. 's56x56'");
    s.kernel = list_field('k', "the kernel extents, e.g. 'k3x3'");
    if (peek() == 't') s.stride = list_field('t', "the strides, e.g. 't2x2'");
    if (peek() == 'd') s.dilation = list_field('d', "the dilations, e.g. 'd1x2'");
    expect('p', "the padding, e.g. 'p1', 'p1:2,0', 'pvalid' or 'psame:tf'");
    s.padding = padding();
    flags(s);
    return s;
  }

 private:
  static constexpr const char* kFlags =
      "mode=MODE, channels_last, channels_first, f64, f32, bias, transposed, op=AxB, out=AxB, "
      "strict";

  [[noreturn]] void fail_at(std::size_t pos, const std::string& what) const {
    std::string shown(text_);
    detail::fail("spec", detail::kNoAxis,
                 detail::rule("cannot read '", shown, "' at character ", pos, " (",
                              pos < text_.size() ? "'" + std::string(1, text_[pos]) + "'"
                                                 : std::string("the end"),
                              "): ", what));
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end_of_field() const { return pos_ == text_.size() || text_[pos_] == ' '; }
  bool at_int() const {
    const char c = peek();
    return c == '-' || (c >= '0' && c <= '9');
  }

  void expect(char letter, const char* what) {
    if (peek() != letter) fail_at(pos_, std::string("expected '") + letter + "' and " + what);
    ++pos_;
  }

  dim_t integer(const char* what) {
    const char* begin = text_.data() + pos_;
    const char* end = text_.data() + text_.size();
    dim_t v = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, v);
    if (ec == std::errc::result_out_of_range)
      fail_at(pos_, std::string(what) + ": the number does not fit in a signed 64-bit int");
    if (ec != std::errc() || ptr == begin) fail_at(pos_, std::string("expected ") + what);
    pos_ += static_cast<std::size_t>(ptr - begin);
    return v;
  }

  dim_t field(char letter, const char* what) {
    expect(letter, what);
    return integer(what);
  }

  // Ints joined by 'x'; empty when the next character does not start an int.
  std::vector<dim_t> list(const char* what) {
    std::vector<dim_t> v;
    if (!at_int()) return v;
    v.push_back(integer(what));
    while (peek() == 'x') {
      ++pos_;
      v.push_back(integer(what));
    }
    return v;
  }

  std::vector<dim_t> list_field(char letter, const char* what) {
    expect(letter, what);
    return list(what);
  }

  Padding padding() {
    const std::size_t start = pos_;
    while (!at_end_of_field()) ++pos_;
    const std::string_view word = text_.substr(start, pos_ - start);
    if (word == "valid") return Padding::valid();
    if (word == "full") return Padding::full();
    if (word == "causal") return Padding::causal();
    if (word == "same") return Padding::same();
    if (word.rfind("same:", 0) == 0) {
      try {
        return Padding::same(parse_same_policy(word.substr(5)));
      } catch (const Error&) {
        fail_at(start + 5, "expected a 'same' policy: torch, tf, tf_lower, numpy_ml or scipy");
      }
    }
    // Explicit pairs: 'v' or 'lo:hi' per axis, joined by ','; none at all is an empty list.
    pos_ = start;
    std::vector<std::pair<dim_t, dim_t>> pairs;
    const char* what =
        "a padding: an int, 'lo:hi' pairs joined by ',', valid, full, causal, same or same:POLICY";
    if (!at_end_of_field()) {
      for (;;) {
        const dim_t lo = integer(what);
        dim_t hi = lo;
        if (peek() == ':') {
          ++pos_;
          hi = integer("the high side of a 'lo:hi' padding pair");
        }
        pairs.emplace_back(lo, hi);
        if (peek() != ',') break;
        ++pos_;
      }
      if (!at_end_of_field())
        fail_at(pos_, "expected ',' and another padding, a space and a flag, or the end");
    }
    return Padding::lo_hi(std::move(pairs));
  }

  void flags(Spec& s) {
    bool seen_mode = false, seen_layout = false, seen_dtype = false, seen_bias = false,
         seen_transposed = false, seen_op = false, seen_out = false, seen_strict = false;
    while (pos_ < text_.size()) {
      if (peek() != ' ') fail_at(pos_, "expected a space before the next flag");
      while (peek() == ' ') ++pos_;
      if (pos_ == text_.size()) break;
      const std::size_t start = pos_;
      while (!at_end_of_field()) ++pos_;
      const std::string_view word = text_.substr(start, pos_ - start);
      auto once = [&](bool& seen) {
        if (seen) fail_at(start, "'" + std::string(word) + "' repeats a flag already given");
        seen = true;
      };
      auto values = [&](std::size_t prefix) {
        pos_ = start + prefix;
        std::vector<dim_t> v = list("ints joined by 'x', e.g. 1x0");
        if (v.empty() || !at_end_of_field())
          fail_at(pos_, "expected ints joined by 'x' (e.g. 1x0), then a space or the end");
        return v;
      };
      if (word.rfind("mode=", 0) == 0) {
        once(seen_mode);
        try {
          s.pad_mode = parse_pad_mode(word.substr(5));
        } catch (const Error&) {
          fail_at(start + 5, "expected a padding mode: zeros, reflect, symmetric, replicate or "
                             "circular");
        }
      } else if (word == "channels_last" || word == "channels_first") {
        once(seen_layout);
        s.layout = parse_layout(word);
      } else if (word == "f64" || word == "f32") {
        once(seen_dtype);
        s.dtype = parse_dtype(word);
      } else if (word == "bias") {
        once(seen_bias);
        s.bias = true;
      } else if (word == "transposed") {
        once(seen_transposed);
        s.transposed = true;
      } else if (word.rfind("op=", 0) == 0) {
        once(seen_op);
        s.output_padding = values(3);
      } else if (word.rfind("out=", 0) == 0) {
        once(seen_out);
        s.output_size = values(4);
      } else if (word == "strict") {
        once(seen_strict);
        s.strict = true;
      } else {
        fail_at(start, std::string("unknown flag '") + std::string(word) + "' (expected one of: " +
                           kFlags + ")");
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Spec Spec::parse(std::string_view text) { return SpecReader(text).read(); }

}  // namespace convnd
