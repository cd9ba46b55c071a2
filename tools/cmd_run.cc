// `convnd run A.npy B.npy [--bias b.npy] [flags] -o OUT.npy`: one pass on .npy files.
//   --pass fwd          A = x,  B = w   -> OUT = y
//   --pass bwd_data     A = dy, B = w   -> OUT = dx   (needs --input: spatial extents of x)
//   --pass bwd_weights  A = x,  B = dy  -> OUT = dw   (needs --kernel; --dbias FILE writes dbias)
// N, C, K and the extents are read off the arrays and the flags give the rest of the spec; or
// `--spec STRING` gives the whole problem and the arrays must match it.
#include <iostream>
#include <memory>

#include "commands.h"
#include "npy.h"
#include "spec_flags.h"

namespace convnd::tool {
namespace {

struct RunFlags {
  SpecFlags spec;
  std::string a, b, bias_file, out, dbias_out, pass = "fwd";
  int threads = 0;
  std::string algorithm;
};

// What the two files are for a pass, and how errors call them.
struct Operand {
  const NpyArray& array;
  const std::string& file;
  const char* role;  // x, w or dy
};

std::string describe(const Operand& o) {
  return "'" + o.file + "' (" + o.role + ", shape " + shape_string(o.array.shape) + ")";
}

dim_t channels(const NpyArray& t, Layout l) {
  return l == Layout::channels_first ? t.shape.at(1) : t.shape.back();
}
std::vector<dim_t> spatial(const NpyArray& t, Layout l) {
  return l == Layout::channels_first ? std::vector<dim_t>(t.shape.begin() + 2, t.shape.end())
                                     : std::vector<dim_t>(t.shape.begin() + 1, t.shape.end() - 1);
}
void need_rank(const Operand& o) {
  if (o.array.shape.size() < 3)
    throw Error("convnd: file " + describe(o) + ": " + o.role + " needs at least 3 dimensions (" +
                (std::string(o.role) == "w" ? "(K, C/groups, k..)" : "N, C and one spatial axis") +
                "); a single image needs its batch and channel axes added: x[None, None]");
}

// Both files hold the same dtype and as many spatial axes.
void check_pair(const Operand& a, const Operand& b) {
  if (a.array.dtype != b.array.dtype)
    throw Error("convnd: files '" + a.file + "' and '" + b.file + "': " + a.role + " holds " +
                to_string(a.array.dtype) + " but " + b.role + " holds " + to_string(b.array.dtype) +
                "; both must have the same dtype");
  need_rank(a);
  need_rank(b);
  if (a.array.shape.size() != b.array.shape.size())
    throw Error("convnd: files " + describe(a) + " and " + describe(b) + ": they have " +
                std::to_string(a.array.shape.size() - 2) + " and " +
                std::to_string(b.array.shape.size() - 2) +
                " spatial axes; both need one per spatial axis of the convolution");
}

// The spec from the flags, with N, C, K and the extents read off the arrays, and every
// disagreement between the two files blamed on both, with the rule.
Spec spec_from_files(const RunFlags& f, Pass pass, const Operand& a, const Operand& b) {
  Spec s = f.spec.to_spec(false);
  s.dtype = a.array.dtype;
  check_pair(a, b);
  if (pass == Pass::backward_weights) {
    s.N = a.array.shape[0];
    s.C = channels(a.array, s.layout);
    s.K = channels(b.array, s.layout);
    s.input = spatial(a.array, s.layout);
    if (s.kernel.empty())
      throw Error("convnd: argument '--kernel': bwd_weights needs the kernel extents");
    if (b.array.shape[0] != s.N)
      throw Error("convnd: files " + describe(a) + " and " + describe(b) + ": x has batch " +
                  std::to_string(s.N) + " but dy has batch " + std::to_string(b.array.shape[0]) +
                  "; dy is the gradient of y, which has x's batch");
    return s;
  }
  const NpyArray& w = b.array;
  s.N = a.array.shape[0];
  s.kernel.assign(w.shape.begin() + 2, w.shape.end());
  std::string c_rule, k_rule;
  if (!s.transposed) {
    s.C = w.shape[1] * s.groups;
    s.K = w.shape[0];
    c_rule = "C = w.shape[1] * groups = " + std::to_string(w.shape[1]) + " * " +
             std::to_string(s.groups) + " = " + std::to_string(s.C) + " (w is (K, C/groups, k..))";
    k_rule = "K = w.shape[0] = " + std::to_string(s.K) + " (w is (K, C/groups, k..))";
  } else {
    s.C = w.shape[0];
    s.K = w.shape[1] * s.groups;
    c_rule = "C = w.shape[0] = " + std::to_string(s.C) + " (a transposed w is (C, K/groups, k..))";
    k_rule = "K = w.shape[1] * groups = " + std::to_string(w.shape[1]) + " * " +
             std::to_string(s.groups) + " = " + std::to_string(s.K) +
             " (a transposed w is (C, K/groups, k..))";
  }
  const std::string axis = s.layout == Layout::channels_first ? "axis 1" : "the last axis";
  const dim_t have = channels(a.array, s.layout);
  const dim_t want = pass == Pass::forward ? s.C : s.K;
  if (have != want)
    throw Error("convnd: files " + describe(a) + " and " + describe(b) + ": " + a.role + " has " +
                std::to_string(have) + " channels (" + axis + ", " + to_string(s.layout) +
                ") but w gives " + (pass == Pass::forward ? c_rule : k_rule) +
                (s.layout == Layout::channels_first && a.array.shape.back() == want
                     ? "; is " + std::string(a.role) + " channels-last? then pass --layout channels_last"
                     : ""));
  if (pass == Pass::forward) {
    s.input = spatial(a.array, s.layout);
  } else if (s.input.empty()) {
    throw Error("convnd: argument '--input': bwd_data needs the spatial extents of x");
  }
  return s;
}

// --spec: the string gives the whole problem; the files must have its dtype and shapes.
Spec spec_from_string(const RunFlags& f, Pass pass, const Operand& a, const Operand& b) {
  const Spec s = parse_spec_flag(f.spec.spec_string);
  const Shapes sh = shapes(s);
  const auto want = [&](const Operand& o) -> const std::vector<dim_t>& {
    const std::string role = o.role;
    return role == "w" ? sh.w : role == "x" ? sh.x : sh.y;
  };
  for (const Operand* o : {&a, &b}) {
    if (o->array.dtype != s.dtype)
      throw Error("convnd: file " + describe(*o) + ": holds " + to_string(o->array.dtype) +
                  " but --spec '" + f.spec.spec_string + "' is " + to_string(s.dtype) +
                  (s.dtype == DType::f32 ? "" : " ('f64')"));
    if (o->array.shape != want(*o))
      throw Error("convnd: file " + describe(*o) + ": --spec '" + f.spec.spec_string + "' needs " +
                  o->role + " of shape " + shape_string(want(*o)));
  }
  if (pass == Pass::forward && s.bias != !f.bias_file.empty())
    throw Error(s.bias ? "convnd: argument '--bias-file': --spec '" + f.spec.spec_string +
                             "' has 'bias', so the forward pass needs --bias-file"
                       : std::string("convnd: argument '--bias-file': the --spec string has no "
                                     "'bias' flag; add it or drop --bias-file"));
  if (pass == Pass::backward_weights && !f.dbias_out.empty() && !s.bias)
    throw Error("convnd: argument '--dbias': the --spec string has no 'bias' flag; add it or drop "
                "--dbias");
  return s;
}

void run(const RunFlags& f) {
  const Pass pass = parse_pass(f.pass);
  const NpyArray a = read_npy(f.a), b = read_npy(f.b);
  const Operand oa{a, f.a, pass == Pass::backward_data ? "dy" : "x"};
  const Operand ob{b, f.b, pass == Pass::backward_weights ? "dy" : "w"};
  Spec s;
  if (!f.spec.spec_string.empty()) {
    s = spec_from_string(f, pass, oa, ob);
  } else {
    s = spec_from_files(f, pass, oa, ob);
    s.bias = !f.bias_file.empty() || !f.dbias_out.empty();
  }
  PlanOptions opts;
  opts.threads = f.threads;
  opts.algorithm = f.algorithm;
  Plan plan(s, pass, opts);
  const Shapes sh = shapes(s);
  std::cerr << "spec: " << s.to_string() << "  pass: " << to_string(pass)
            << "  algorithm: " << plan.algorithm() << "\n";
  NpyArray out;
  switch (pass) {
    case Pass::forward: {
      out = NpyArray(s.dtype, sh.y);
      std::optional<NpyArray> bias;
      if (!f.bias_file.empty()) bias = read_npy(f.bias_file);
      plan.forward(a.view(), b.view(),
                   bias ? std::optional<ConstTensorView>(bias->view()) : std::nullopt, out.view());
      break;
    }
    case Pass::backward_data:
      out = NpyArray(s.dtype, sh.x);
      plan.backward_data(a.view(), b.view(), out.view());
      break;
    case Pass::backward_weights: {
      out = NpyArray(s.dtype, sh.w);
      NpyArray dbias(s.dtype, sh.bias);
      plan.backward_weights(a.view(), b.view(), out.view(),
                            s.bias ? std::optional<TensorView>(dbias.view()) : std::nullopt);
      if (!f.dbias_out.empty()) write_npy(f.dbias_out, dbias);
      break;
    }
  }
  write_npy(f.out, out);
  std::cerr << "wrote " << f.out << " shape " << shape_string(out.shape) << "\n";
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "run one pass on .npy files");
  cmd->add_option("A", f->a, "x.npy (fwd, bwd_weights) or dy.npy (bwd_data)")->required();
  cmd->add_option("B", f->b, "w.npy (fwd, bwd_data) or dy.npy (bwd_weights)")->required();
  cmd->add_option("-o,--output", f->out, "output .npy")->required();
  cmd->add_option("--pass", f->pass, "fwd, bwd_data or bwd_weights")->capture_default_str();
  cmd->add_option("--bias-file", f->bias_file, "fwd: bias .npy of shape (K)");
  cmd->add_option("--dbias", f->dbias_out, "bwd_weights: write the bias gradient here");
  cmd->add_option("--threads", f->threads, "threads (0 = all cores)");
  cmd->add_option("--algorithm", f->algorithm, "force an algorithm (see `convnd info`)");
  f->spec.add_to(*cmd, false);
  f->spec.options.push_back(
      cmd->add_option("--input", f->spec.input, "bwd_data: spatial extents of x"));
  f->spec.options.push_back(cmd->add_option("--kernel", f->spec.kernel, "bwd_weights: kernel extents"));
  f->spec.add_spec_option(*cmd);
  cmd->callback([f] { run(*f); });
}

}  // namespace convnd::tool
