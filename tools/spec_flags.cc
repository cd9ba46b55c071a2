#include "spec_flags.h"

namespace convnd::tool {

void SpecFlags::add_to(CLI::App& cmd, bool shape_flags) {
  if (shape_flags) {
    cmd.add_option("-n,--batch", N, "batch size N")->capture_default_str();
    cmd.add_option("-c,--in-channels", C, "input channels C")->capture_default_str();
    cmd.add_option("-k,--out-channels", K, "output channels K")->capture_default_str();
    cmd.add_option("--input", input, "spatial extents of x, e.g. --input 224 224")->required();
    cmd.add_option("--kernel", kernel, "kernel extents, e.g. --kernel 3 3")->required();
  }
  cmd.add_option("-g,--groups", groups, "groups (C and K multiples of it)")->capture_default_str();
  cmd.add_option("--stride", stride, "stride per axis (one value = all axes)");
  cmd.add_option("--dilation", dilation, "dilation per axis, 1 = dense");
  cmd.add_option("--padding", padding,
                 "int, 'a,b' per axis, 'lo:hi,lo:hi', valid, full, causal, same, same:POLICY")
      ->capture_default_str();
  cmd.add_option("--same-policy", same_policy, "policy of 'same': torch tf tf_lower numpy_ml scipy");
  cmd.add_option("--mode", mode, "padding mode: zeros reflect symmetric replicate circular")
      ->capture_default_str();
  cmd.add_option("--layout", layout, "channels_first or channels_last")->capture_default_str();
  if (shape_flags)
    cmd.add_option("--dtype", dtype, "float32 or float64")->capture_default_str();
  cmd.add_flag("--bias", bias, "the convolution has a bias");
  cmd.add_flag("--transposed", transposed, "transposed convolution");
  cmd.add_option("--output-padding", output_padding, "transposed: extra output on the high side");
  cmd.add_option("--output-size", output_size, "transposed: requested spatial output size");
  cmd.add_flag("--strict", strict, "reject a stride that does not fit exactly (MyGrad's rule)");
}

Spec SpecFlags::to_spec() const {
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
      throw Error("convnd: argument 'same_policy': only applies to padding 'same'");
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
