// `convnd run A.npy B.npy [--bias b.npy] [flags] -o OUT.npy`: one pass on .npy files.
//   --pass fwd          A = x,  B = w   -> OUT = y
//   --pass bwd_data     A = dy, B = w   -> OUT = dx   (needs --input: spatial extents of x)
//   --pass bwd_weights  A = x,  B = dy  -> OUT = dw   (needs --kernel; --dbias FILE writes dbias)
// N, C, K and the extents are read off the arrays; the flags give the rest of the spec.
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

dim_t channels(const NpyArray& t, Layout l) {
  return l == Layout::channels_first ? t.shape.at(1) : t.shape.back();
}
std::vector<dim_t> spatial(const NpyArray& t, Layout l) {
  return l == Layout::channels_first ? std::vector<dim_t>(t.shape.begin() + 2, t.shape.end())
                                     : std::vector<dim_t>(t.shape.begin() + 1, t.shape.end() - 1);
}
void need_rank(const NpyArray& t, const std::string& file, std::size_t min_rank) {
  if (t.shape.size() < min_rank)
    throw Error("convnd: file '" + file + "': needs at least " + std::to_string(min_rank) +
                " dimensions (N, C and one spatial axis; or (K, C/groups, k..) for weights)");
}

void run(const RunFlags& f) {
  const Pass pass = parse_pass(f.pass);
  Spec s = f.spec.to_spec();
  const NpyArray a = read_npy(f.a), b = read_npy(f.b);
  s.dtype = a.dtype;
  need_rank(a, f.a, 3);
  need_rank(b, f.b, 3);
  const NpyArray& w = b;  // fwd and bwd_data
  if (pass != Pass::backward_weights) {
    s.N = a.shape[0];
    s.kernel.assign(w.shape.begin() + 2, w.shape.end());
    s.C = s.transposed ? w.shape[0] : w.shape[1] * s.groups;
    s.K = s.transposed ? w.shape[1] * s.groups : w.shape[0];
    if (pass == Pass::forward) {
      s.input = spatial(a, s.layout);
    } else if (s.input.empty()) {
      throw Error("convnd: argument '--input': bwd_data needs the spatial extents of x");
    }
  } else {
    s.N = a.shape[0];
    s.C = channels(a, s.layout);
    s.K = channels(b, s.layout);
    s.input = spatial(a, s.layout);
    if (s.kernel.empty())
      throw Error("convnd: argument '--kernel': bwd_weights needs the kernel extents");
  }
  s.bias = !f.bias_file.empty() || !f.dbias_out.empty();
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
  std::cerr << "wrote " << f.out << " shape (";
  for (std::size_t i = 0; i < out.shape.size(); ++i) std::cerr << (i ? ", " : "") << out.shape[i];
  std::cerr << ")\n";
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
  cmd->add_option("--input", f->spec.input, "bwd_data: spatial extents of x");
  cmd->add_option("--kernel", f->spec.kernel, "bwd_weights: kernel extents");
  cmd->callback([f] { run(*f); });
}

}  // namespace convnd::tool
