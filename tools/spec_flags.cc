#include "spec_flags.h"

namespace convnd::tool {

void SpecFlags::add_to(CLI::App& cmd, bool shape_flags) {
  auto keep = [&](CLI::Option* o) {
    options.push_back(o);
    return o;
  };
  if (shape_flags) {
    keep(cmd.add_option("-n,--batch", N, "batch size N"))->capture_default_str();
    keep(cmd.add_option("-c,--in-channels", C, "input channels C"))->capture_default_str();
    keep(cmd.add_option("-k,--out-channels", K, "output channels K"))->capture_default_str();
    keep(cmd.add_option("--input", input,
                        "spatial extents of x, e.g. --input 224 224 (required without --spec)"));
    keep(cmd.add_option("--kernel", kernel,
                        "kernel extents, e.g. --kernel 3 3 (required without --spec)"));
  }
  keep(cmd.add_option("-g,--groups", groups, "groups (C and K multiples of it)"))
      ->capture_default_str();
  keep(cmd.add_option("--stride", stride, "stride per axis (one value = all axes)"));
  keep(cmd.add_option("--dilation", dilation, "dilation per axis, 1 = dense"));
  keep(cmd.add_option("--padding", padding,
                      "int, 'a,b' per axis, 'lo:hi,lo:hi', valid, full, causal, same, same:POLICY"))
      ->capture_default_str();
  keep(cmd.add_option("--same-policy", same_policy,
                      "policy of 'same': torch tf tf_lower numpy_ml scipy"));
  keep(cmd.add_option("--mode", mode, "padding mode: zeros reflect symmetric replicate circular"))
      ->capture_default_str();
  keep(cmd.add_option("--layout", layout, "channels_first or channels_last"))->capture_default_str();
  if (shape_flags)
    keep(cmd.add_option("--dtype", dtype, "float32 or float64"))->capture_default_str();
  keep(cmd.add_flag("--bias", bias, "the convolution has a bias"));
  keep(cmd.add_flag("--transposed", transposed, "transposed convolution"));
  keep(cmd.add_option("--output-padding", output_padding,
                      "transposed: extra output on the high side"));
  keep(cmd.add_option("--output-size", output_size, "transposed: requested spatial output size"));
  keep(cmd.add_flag("--strict", strict, "reject a stride that does not fit exactly (MyGrad's rule)"));
}

void SpecFlags::add_spec_option(CLI::App& cmd) {
  CLI::Option* spec = cmd.add_option(
      "--spec", spec_string,
      "the whole problem as one string, e.g. 'n1c64k64s56x56k3x3p1' or "
      "'n2c4k8g2s9x7k3x2t2d1x2p1:2,0 mode=reflect channels_last f64 bias' (the format "
      "Spec::to_string prints; see the README); excludes the other problem flags");
  spec->type_name("STRING");
  for (CLI::Option* o : options) spec->excludes(o);
}

Spec parse_spec_flag(const std::string& text) {
  try {
    return Spec::parse(text);
  } catch (const Error& e) {
    const std::string from = "convnd: argument 'spec'";
    std::string msg = e.what();
    if (msg.rfind(from, 0) == 0) msg.replace(0, from.size(), "convnd: argument '--spec'");
    throw Error(msg, e.kind());
  }
}

Spec SpecFlags::to_spec(bool need_extents) const {
  if (!spec_string.empty()) return parse_spec_flag(spec_string);
  if (need_extents && input.empty())
    throw Error("convnd: argument '--input': required: the spatial extents of x (e.g. --input "
                "224 224), or the whole problem as --spec STRING");
  if (need_extents && kernel.empty())
    throw Error("convnd: argument '--kernel': required: the kernel extents (e.g. --kernel 3 3), "
                "or the whole problem as --spec STRING");
  Spec s;
  s.N = N;
  s.C = C;
  s.K = K;
  s.groups = groups;
  s.input = input;
  s.kernel = kernel;
  s.stride = stride;
  s.dilation = dilation;
  s.padding = Padding::parse(padding);
  if (!same_policy.empty()) {
    if (s.padding.kind != Padding::Kind::same)
      throw Error("convnd: argument '--same-policy': only applies to padding 'same'");
    s.padding.policy = parse_same_policy(same_policy);
  }
  s.pad_mode = parse_pad_mode(mode);
  s.layout = parse_layout(layout);
  s.dtype = parse_dtype(dtype);
  s.bias = bias;
  s.transposed = transposed;
  s.output_padding = output_padding;
  s.output_size = output_size;
  s.strict = strict;
  return s;
}

}  // namespace convnd::tool
