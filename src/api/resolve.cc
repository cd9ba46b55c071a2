#include "api/resolve.h"

#include <algorithm>

#include "api/checked.h"
#include "api/errors.h"

namespace convnd::detail {
namespace {

// Expands a per-axis argument that may be empty (-> fallback) or hold one value (-> broadcast).
std::vector<dim_t> expand(const std::vector<dim_t>& v, int d, dim_t fallback, const char* arg) {
  if (v.empty()) return std::vector<dim_t>(d, fallback);
  if (v.size() == 1) return std::vector<dim_t>(d, v[0]);
  if (static_cast<int>(v.size()) != d)
    fail(arg, kNoAxis,
         rule("needs 1 or ", d, " values, one per spatial axis (got ", v.size(), ")"));
  return v;
}

void require_at_least(const std::vector<dim_t>& v, dim_t min, const char* arg) {
  for (int a = 0; a < static_cast<int>(v.size()); ++a)
    if (v[a] < min) fail(arg, a, rule("must be >= ", min, " (got ", v[a], ")"));
}

std::pair<dim_t, dim_t> same_pair(SamePolicy policy, dim_t S, dim_t ke, dim_t s, int axis) {
  dim_t total = 0;
  switch (policy) {
    case SamePolicy::torch:
      if (s != 1)
        fail("padding", axis,
             rule("'same' with same_policy 'torch' needs stride 1 (got stride ", s,
                  "); use same_policy 'tf', 'tf_lower' or 'numpy_ml' for strided 'same'"));
      total = ke - 1;
      return {total / 2, total - total / 2};
    case SamePolicy::scipy:
      total = ke - 1;
      return {total - total / 2, total / 2};
    case SamePolicy::tf:
    case SamePolicy::tf_lower: {
      const dim_t out = S / s + (S % s != 0);  // ceil(S / s), without overflowing S + s - 1
      total = std::max<dim_t>(checked_add(checked_mul(out - 1, s, "padding"), ke - S, "padding"),
                              0);
      if (policy == SamePolicy::tf) return {total / 2, total - total / 2};
      return {total - total / 2, total / 2};
    }
    case SamePolicy::numpy_ml: {
      // numpy-ml's calc_pad_dims_2D: out = S whatever the stride, p = total // 2 on each side,
      // and one more on the high side when total is odd.
      total = checked_add(checked_mul(S - 1, s, "padding"), ke - S, "padding");
      if (total < 0) total = 0;
      return {total / 2, total - total / 2};
    }
  }
  return {0, 0};
}

}  // namespace

dim_t effective_kernel(dim_t k, dim_t dil) {
  return checked_add(checked_mul(dil, k - 1, "kernel"), 1, "kernel");
}

Resolved resolve(const Spec& in) {
  Resolved r{in, {}, {}};
  Spec& sp = r.spec;
  const int d = sp.rank();
  if (d < 1) fail("input", kNoAxis, "needs at least one spatial extent (rank d >= 1)");
  if (static_cast<int>(sp.kernel.size()) != d)
    fail("kernel", kNoAxis,
         rule("needs one extent per spatial axis of the input: ", d, " (got ", sp.kernel.size(),
              ")"));
  if (sp.N < 0) fail("N", kNoAxis, rule("batch must be >= 0 (got ", sp.N, ")"));
  if (sp.C < 1) fail("C", kNoAxis, rule("channels must be >= 1 (got ", sp.C, ")"));
  if (sp.K < 1) fail("K", kNoAxis, rule("channels must be >= 1 (got ", sp.K, ")"));
  if (sp.groups < 1) fail("groups", kNoAxis, rule("must be >= 1 (got ", sp.groups, ")"));
  if (sp.C % sp.groups != 0)
    fail("groups", kNoAxis,
         rule("must divide the input channels C: C = ", sp.C, ", groups = ", sp.groups));
  if (sp.K % sp.groups != 0)
    fail("groups", kNoAxis,
         rule("must divide the output channels K: K = ", sp.K, ", groups = ", sp.groups));
  require_at_least(sp.input, 1, "input");
  require_at_least(sp.kernel, 1, "kernel");
  sp.stride = expand(sp.stride, d, 1, "stride");
  sp.dilation = expand(sp.dilation, d, 1, "dilation");
  require_at_least(sp.stride, 1, "stride");
  require_at_least(sp.dilation, 1, "dilation");
  if (!sp.transposed && (!sp.output_padding.empty() || !sp.output_size.empty()))
    fail(sp.output_padding.empty() ? "output_size" : "output_padding", kNoAxis,
         "is only meaningful for a transposed convolution");

  // Padding.
  const Padding& p = sp.padding;
  r.pad.resize(d);
  for (int a = 0; a < d; ++a) {
    const dim_t ke = effective_kernel(sp.kernel[a], sp.dilation[a]);
    const dim_t S = sp.input[a], s = sp.stride[a];
    if (sp.transposed && p.kind != Padding::Kind::explicit_pairs && p.kind != Padding::Kind::valid)
      fail("padding", kNoAxis,
           rule("'", p.to_string(),
                "' is not defined for a transposed convolution; give explicit (lo, hi) "
                "pairs, or output_size"));
    switch (p.kind) {
      case Padding::Kind::explicit_pairs:
        if (p.pairs.size() != 1 && static_cast<int>(p.pairs.size()) != d)
          fail("padding", kNoAxis,
               rule("needs 1 or ", d, " (lo, hi) pairs, one per spatial axis (got ",
                    p.pairs.size(), ")"));
        r.pad[a] = p.pairs.size() == 1 ? p.pairs[0] : p.pairs[a];
        break;
      case Padding::Kind::valid: r.pad[a] = {0, 0}; break;
      case Padding::Kind::full: r.pad[a] = {ke - 1, ke - 1}; break;
      case Padding::Kind::causal: r.pad[a] = {ke - 1, 0}; break;
      case Padding::Kind::same: r.pad[a] = same_pair(p.policy, S, ke, s, a); break;
    }
    if (r.pad[a].first < 0 || r.pad[a].second < 0)
      fail("padding", a,
           rule("must be >= 0 on both sides (got lo = ", r.pad[a].first,
                ", hi = ", r.pad[a].second, ")"));
  }

  // Output extents.
  r.out.resize(d);
  if (!sp.transposed) {
    for (int a = 0; a < d; ++a) {
      const dim_t ke = effective_kernel(sp.kernel[a], sp.dilation[a]);
      const dim_t padded = checked_add(checked_add(sp.input[a], r.pad[a].first, "padding"),
                                       r.pad[a].second, "padding");
      const dim_t num = padded - ke;
      if (num < 0)
        fail("kernel", a,
             rule("output extent would be < 1: the padded input S + lo + hi = ", sp.input[a],
                  " + ", r.pad[a].first, " + ", r.pad[a].second, " = ", padded,
                  " is smaller than the dilated kernel dil*(k-1)+1 = ", sp.dilation[a], "*(",
                  sp.kernel[a], "-1)+1 = ", ke));
      if (sp.strict && num % sp.stride[a] != 0)
        fail("stride", a,
             rule("Stride and kernel dimensions are incompatible: (S + lo + hi - dil*(k-1) - "
                  "1) / stride = ",
                  num, " / ", sp.stride[a], " is not an integer (strict mode)"));
      r.out[a] = num / sp.stride[a] + 1;
    }
  } else {
    if (!sp.output_padding.empty() && !sp.output_size.empty())
      fail("output_size", kNoAxis, "give either output_padding or output_size, not both");
    std::vector<dim_t> base(d);
    for (int a = 0; a < d; ++a) {
      const dim_t ke = effective_kernel(sp.kernel[a], sp.dilation[a]);
      base[a] = checked_sub(
          checked_sub(checked_add(checked_mul(sp.input[a] - 1, sp.stride[a], "input"), ke,
                                  "kernel"),
                      r.pad[a].first, "padding"),
          r.pad[a].second, "padding");
    }
    if (!sp.output_size.empty()) {
      if (static_cast<int>(sp.output_size.size()) != d)
        fail("output_size", kNoAxis,
             rule("needs ", d, " spatial extents (got ", sp.output_size.size(), ")"));
      sp.output_padding.resize(d);
      for (int a = 0; a < d; ++a)
        sp.output_padding[a] = checked_sub(sp.output_size[a], base[a], "output_size");
    } else {
      sp.output_padding = expand(sp.output_padding, d, 0, "output_padding");
    }
    for (int a = 0; a < d; ++a) {
      const dim_t op = sp.output_padding[a];
      const dim_t limit = std::max(sp.stride[a], sp.dilation[a]);
      if (!sp.output_size.empty() && (op < 0 || op >= limit))
        fail("output_size", a,
             rule("output_size ", sp.output_size[a], " is outside the reachable range [",
                  base[a], ", ", checked_add(base[a], limit - 1, "output_size"),
                  "] (it needs output_padding = ", op, ", and 0 <= output_padding < "
                  "max(stride, dilation) = ", limit, ")"));
      if (op < 0 || op >= limit)
        fail("output_padding", a,
             rule("must satisfy 0 <= output_padding < max(stride, dilation) = ", limit,
                  " (got ", op, ")"));
      r.out[a] = checked_add(base[a], op, "output_padding");
      if (r.out[a] < 1)
        fail("padding", a,
             rule("transposed output extent (S-1)*stride - lo - hi + dil*(k-1) + "
                  "output_padding + 1 = (",
                  sp.input[a], "-1)*", sp.stride[a], " - ", r.pad[a].first, " - ",
                  r.pad[a].second, " + ", sp.dilation[a], "*(", sp.kernel[a], "-1) + ", op,
                  " + 1 = ", r.out[a], " is < 1"));
    }
    sp.output_size.clear();
  }

  // Tensor sizes must fit in int64 (in elements and in bytes).
  const dim_t Cg = sp.transposed ? sp.K / sp.groups : sp.C / sp.groups;
  const dim_t Kw = sp.transposed ? sp.C : sp.K;
  const dim_t bytes = static_cast<dim_t>(dtype_size(sp.dtype));
  checked_mul(checked_mul(checked_mul(sp.N, sp.C, "input"), checked_product(sp.input, "input"),
                          "input"),
              bytes, "input");
  checked_mul(checked_mul(checked_mul(Kw, Cg, "kernel"), checked_product(sp.kernel, "kernel"),
                          "kernel"),
              bytes, "kernel");
  checked_mul(checked_mul(checked_mul(sp.N, sp.K, "output"), checked_product(r.out, "output"),
                          "output"),
              bytes, "output");
  return r;
}

}  // namespace convnd::detail
