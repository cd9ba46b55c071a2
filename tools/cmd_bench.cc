// `convnd bench`: times the suite (embedded, or --suite FILE) case by case and pass by pass, in
// both layouts, against oneDNN at its best in the same run when the build has it, and prints ms,
// GFLOP/s, the fraction of this machine's FMA peak (measured here), the peer's time and the ratio.
// --per-call times both as one-off calls (new weights every call; convnd: a fresh Plan per call,
// as convnd.conv makes one; oneDNN: its weight reorder timed), --load N times each row again
// beside N busy processes and reports the slowdown against the quiet run.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "bench_plot.h"
#include "busy_load.h"
#include "commands.h"
#include "fma_peak.h"
#include "onednn_peer.h"
#include "spec_flags.h"
#include "suite.h"
#include "xnnpack_peer.h"

namespace convnd::tool {
namespace {

struct BenchFlags {
  std::string suite_file, pass, layout = "both", format = "text", plot;
  std::string spec;            // --spec: one problem instead of the suite
  bool layout_given = false;   // --layout on the command line (else --spec's layout is kept)
  std::vector<std::string> cases;
  int threads = 0, repeats = 0, load = 0;
  double min_time = 0.3;
  bool no_peer = false, per_call = false;
  std::string clock = "wall";  // --clock: wall, or cpu (the process's CPU time)
};

struct Row {
  std::string name, pass, layout, algorithm;
  int threads = 0;
  double ms = 0, gflops = 0, peak_pct = 0;
  std::optional<double> onednn_ms;
  std::optional<double> xnnpack_ms;  // the second peer, where it covers the problem
  std::string onednn_primitive;
  // --load: the same timings beside the busy processes.
  std::optional<double> load_ms, onednn_load_ms;
};

std::vector<float> filled(const std::vector<dim_t>& shape) {
  dim_t n = 1;
  for (dim_t e : shape) n *= e;
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8;
  return v;
}

// Milliseconds on the clock --clock names: the wall clock, or the CPU time of the whole process
// (all its threads), which on a busy machine counts the work done and not the time spent
// waiting for a core: with --threads 1 it is the run's own time.
double now_ms(const BenchFlags& f) {
  if (f.clock == "cpu") {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Median of timed runs after one warm-up: at least 5 runs (or --repeats), and more while the
// total stays under --min-time seconds (at most 100).
template <class Run>
double median_ms(Run&& run, const BenchFlags& f) {
  run();
  std::vector<double> t;
  double total = 0;
  while (t.size() < 100) {
    const double t0 = now_ms(f);
    run();
    const double ms = now_ms(f) - t0;
    t.push_back(ms);
    total += ms / 1e3;
    const std::size_t want = f.repeats > 0 ? static_cast<std::size_t>(f.repeats) : 5;
    if (t.size() >= want && (f.repeats > 0 || total >= f.min_time)) break;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// One timed call of convnd on `spec`: with a Plan made once (the forward pass as inference,
// weights packed once per plan, as oneDNN's weights are reordered outside its timing), or per
// call: a fresh Plan every call on one of two weight buffers, alternated.
struct ConvndRun {
  std::function<void()> run;
  std::string algorithm;
};

ConvndRun convnd_runner(Spec spec, Pass pass, int threads, bool per_call) {
  PlanOptions opts;
  opts.threads = threads;
  opts.constant_weights = pass == Pass::forward && !per_call;
  auto plan = std::make_shared<Plan>(spec, pass, opts);
  const Shapes sh = shapes(spec);
  auto x = std::make_shared<std::vector<float>>(filled(sh.x));
  auto y = std::make_shared<std::vector<float>>(filled(sh.y));
  auto w = std::make_shared<std::vector<std::vector<float>>>(2, filled(sh.w));
  for (float& v : (*w)[1]) v = -v;
  auto flip = std::make_shared<int>(0);
  ConvndRun r;
  r.algorithm = plan->algorithm();
  r.run = [=] {
    std::optional<Plan> fresh;
    if (per_call) fresh.emplace(spec, pass, opts);
    const Plan& p = per_call ? *fresh : *plan;
    float* wd = (*w)[static_cast<std::size_t>(*flip)].data();
    if (per_call) *flip ^= 1;
    switch (pass) {
      case Pass::forward:
        p.forward({x->data(), sh.x}, {wd, sh.w}, std::nullopt, {y->data(), sh.y});
        break;
      case Pass::backward_data:
        p.backward_data({y->data(), sh.y}, {wd, sh.w}, {x->data(), sh.x});
        break;
      case Pass::backward_weights:
        p.backward_weights({x->data(), sh.x}, {y->data(), sh.y}, {wd, sh.w}, std::nullopt);
        break;
    }
  };
  return r;
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

double geomean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

nlohmann::json to_json(const std::vector<Row>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json j{{"case", r.name},       {"pass", r.pass},     {"layout", r.layout},
                     {"algorithm", r.algorithm}, {"threads", r.threads}, {"ms", r.ms},
                     {"gflops", r.gflops},   {"peak_pct", r.peak_pct}};
    j["onednn_ms"] = r.onednn_ms ? nlohmann::json(*r.onednn_ms) : nlohmann::json(nullptr);
    j["xnnpack_ms"] = r.xnnpack_ms ? nlohmann::json(*r.xnnpack_ms) : nlohmann::json(nullptr);
    j["speedup_vs_onednn"] =
        r.onednn_ms ? nlohmann::json(*r.onednn_ms / r.ms) : nlohmann::json(nullptr);
    if (!r.onednn_primitive.empty()) j["onednn_primitive"] = r.onednn_primitive;
    if (r.load_ms) {
      j["load_ms"] = *r.load_ms;
      j["load_slowdown"] = *r.load_ms / r.ms;
      if (r.onednn_load_ms && r.onednn_ms) {
        j["onednn_load_ms"] = *r.onednn_load_ms;
        j["onednn_load_slowdown"] = *r.onednn_load_ms / *r.onednn_ms;
      }
    }
    out.push_back(j);
  }
  return out;
}

// What the rows time, for the header and the plot title.
std::string mode_line(const BenchFlags& f) {
  std::string m = f.per_call ? "per call (new weights every call, a fresh Plan each; oneDNN's "
                               "weight reorder timed)"
                             : "fwd with constant weights";
  if (f.load > 0) m += "; --load " + std::to_string(f.load) + " busy process(es)";
  return m;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void print(const std::vector<Row>& rows, const BenchFlags& f, double peak, int threads) {
  std::vector<double> ratios, gflops, slow, peer_slow;
  for (const Row& r : rows) {
    gflops.push_back(r.gflops);
    if (r.onednn_ms) ratios.push_back(*r.onednn_ms / r.ms);
    if (r.load_ms) slow.push_back(*r.load_ms / r.ms);
    if (r.onednn_load_ms && r.onednn_ms) peer_slow.push_back(*r.onednn_load_ms / *r.onednn_ms);
  }
  if (f.format == "json") {
    std::cout << to_json(rows).dump(1) << "\n";
    return;
  }
  const bool md = f.format == "markdown", load = f.load > 0;
  const auto slowdown = [](const std::optional<double>& loaded, const std::optional<double>& quiet) {
    return loaded && quiet ? fixed(*loaded / *quiet, 2) : std::string("-");
  };
  std::cout << (md ? "" : "# ") << "convnd " << version() << ", " << threads
            << " threads, float32, " << mode_line(f) << "; FMA peak measured " << fixed(peak, 1)
            << " GFLOP/s; oneDNN "
            << bench::onednn_version() << "\n\n";
  if (md) {
    std::cout << "| case | pass | layout | algorithm | ms | GFLOP/s | % peak | oneDNN ms | vs oneDNN | XNNPACK ms |"
              << (load ? " loaded ms | slowdown | oneDNN slowdown |" : "") << "\n"
              << "|---|---|---|---|---:|---:|---:|---:|---:|---:|" << (load ? "---:|---:|---:|" : "")
              << "\n";
    for (const Row& r : rows) {
      std::cout << "| " << r.name << " | " << r.pass << " | " << r.layout << " | " << r.algorithm
                << " | " << fixed(r.ms, 3) << " | " << fixed(r.gflops, 1) << " | "
                << fixed(r.peak_pct, 0) << " | "
                << (r.onednn_ms ? fixed(*r.onednn_ms, 3) : "-") << " | "
                << (r.onednn_ms ? fixed(*r.onednn_ms / r.ms, 2) + "x" : "-") << " | "
                << (r.xnnpack_ms ? fixed(*r.xnnpack_ms, 3) : "-") << " |";
      if (load)
        std::cout << " " << (r.load_ms ? fixed(*r.load_ms, 3) : "-") << " | "
                  << slowdown(r.load_ms, r.ms) << " | " << slowdown(r.onednn_load_ms, r.onednn_ms)
                  << " |";
      std::cout << "\n";
    }
  } else {
    std::cout << std::left << std::setw(20) << "case" << std::setw(12) << "pass" << std::setw(15)
              << "layout" << std::setw(20) << "algorithm" << std::right << std::setw(10) << "ms"
              << std::setw(9) << "GFLOP/s" << std::setw(7) << "%peak" << std::setw(11)
              << "oneDNN ms" << std::setw(8) << "ratio" << std::setw(12) << "XNNPACK ms";
    if (load) std::cout << std::setw(11) << "loaded ms" << std::setw(7) << "slow" << std::setw(8) << "dnnl sl";
    std::cout << "\n";
    for (const Row& r : rows) {
      std::cout << std::left << std::setw(20) << r.name << std::setw(12) << r.pass << std::setw(15)
                << r.layout << std::setw(20) << r.algorithm << std::right << std::setw(10)
                << fixed(r.ms, 3) << std::setw(9) << fixed(r.gflops, 1) << std::setw(7)
                << fixed(r.peak_pct, 0) << std::setw(11)
                << (r.onednn_ms ? fixed(*r.onednn_ms, 3) : "-") << std::setw(8)
                << (r.onednn_ms ? fixed(*r.onednn_ms / r.ms, 2) : "-") << std::setw(12)
                << (r.xnnpack_ms ? fixed(*r.xnnpack_ms, 3) : "-");
      if (load)
        std::cout << std::setw(11) << (r.load_ms ? fixed(*r.load_ms, 3) : "-") << std::setw(7)
                  << slowdown(r.load_ms, r.ms) << std::setw(8)
                  << slowdown(r.onednn_load_ms, r.onednn_ms);
      std::cout << "\n";
    }
  }
  std::cout << "\ngeomean: " << fixed(geomean(gflops), 1) << " GFLOP/s";
  if (!ratios.empty()) std::cout << ", " << fixed(geomean(ratios), 2) << "x oneDNN";
  std::cout << " over " << rows.size() << " case-pass-layouts\n";
  if (!slow.empty()) {
    std::cout << "under --load " << f.load << ": median slowdown " << fixed(median(slow), 2)
              << "x (worst " << fixed(*std::max_element(slow.begin(), slow.end()), 2) << "x)";
    if (!peer_slow.empty())
      std::cout << "; oneDNN median " << fixed(median(peer_slow), 2) << "x (worst "
                << fixed(*std::max_element(peer_slow.begin(), peer_slow.end()), 2) << "x)";
    std::cout << "\n";
  }
}

// "a, b, c" broken into lines of about 80 characters, each starting with `indent`.
std::string wrapped_names(const std::vector<bench::Case>& cases, const std::string& indent) {
  std::string out = indent, line;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string item = cases[i].name + (i + 1 < cases.size() ? "," : "");
    if (!line.empty() && indent.size() + line.size() + 1 + item.size() > 80) {
      out += line + "\n" + indent;
      line.clear();
    }
    line += (line.empty() ? "" : " ") + item;
  }
  return out + line;
}

// `--spec STRING`: one case named by its problem string, timed for --pass (default: all three).
bench::Case spec_case(const BenchFlags& f) {
  bench::Case c;
  c.spec = parse_spec_flag(f.spec);
  c.name = c.spec.to_string();
  if (c.spec.dtype != DType::f32)
    throw Error("convnd: argument '--spec': `convnd bench` times float32 only (drop 'f64')");
  (void)shapes(c.spec);  // an invalid problem fails here, before the FMA peak is measured
  c.passes = {Pass::forward, Pass::backward_data, Pass::backward_weights};
  return c;
}

int bench(const BenchFlags& f) {
  const std::string text = f.suite_file.empty() ? bench::embedded_suite() : [&] {
    std::ifstream in(f.suite_file);
    if (!in) throw Error("convnd: file '" + f.suite_file + "': cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  std::vector<bench::Case> cases = bench::parse_suite(text, f.suite_file.empty() ? "embedded" : f.suite_file);
  if (!f.cases.empty()) {
    std::vector<bench::Case> keep;
    for (const auto& name : f.cases) {
      auto it = std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.name == name; });
      if (it == cases.end())
        throw Error("convnd: argument '--case': no case named '" + name + "' in the suite; its cases:\n" +
                    wrapped_names(cases, "  "));
      keep.push_back(*it);
    }
    cases = keep;
  }
  if (!f.spec.empty()) cases = {spec_case(f)};
  std::vector<Layout> layouts;
  if (!f.spec.empty() && !f.layout_given)
    layouts = {cases[0].spec.layout};
  else if (f.layout == "both")
    layouts = {Layout::channels_first, Layout::channels_last};
  else
    layouts = {parse_layout(f.layout)};
  std::optional<Pass> only;
  if (!f.pass.empty()) only = parse_pass(f.pass);
  const int threads = f.threads > 0 ? f.threads : [] {
    int n = 1;
#pragma omp parallel
#pragma omp single
    n = omp_get_num_threads();
    return n;
  }();

  if (!f.plot.empty()) check_bench_plot(f.plot);

  const bool tty = isatty(2);
  if (tty) std::cerr << "measuring the FMA peak ...\r" << std::flush;
  const double peak = bench::measure_fma_peak_gflops(threads);
  int total = 0, done = 0;
  for (const auto& c : cases)
    for (Pass p : c.passes)
      if (!only || *only == p) total += static_cast<int>(layouts.size());
  std::vector<Row> rows;
  for (const auto& c : cases)
    for (Pass p : c.passes) {
      if (only && *only != p) continue;
      std::optional<bench::PeerRun> peer;
      std::optional<double> xnn;
      // The peers know zero padding only; another mode would time a different problem.
      if (!f.no_peer && c.spec.pad_mode == PadMode::zeros) {
        peer = bench::onednn_best(c.spec, p, threads, 10, f.per_call);
        xnn = bench::xnnpack_time_ms(c.spec, p, threads, 10);
      }
      std::optional<double> peer_loaded;
      for (Layout l : layouts) {
        ++done;
        if (tty)
          std::cerr << "\r[" << std::setw(3) << done << "/" << total << "] " << std::left
                    << std::setw(20) << c.name << std::setw(12) << to_string(p)
                    << std::setw(15) << to_string(l) << std::right << std::flush;
        Spec s = c.spec;
        s.layout = l;
        const ConvndRun run = convnd_runner(s, p, threads, f.per_call);
        Row r;
        r.name = c.name;
        r.pass = to_string(p);
        r.layout = to_string(l);
        r.algorithm = run.algorithm;
        r.threads = threads;
        r.ms = median_ms(run.run, f);
        r.gflops = bench::pass_flops(s) / (r.ms * 1e6);
        r.peak_pct = 100.0 * r.gflops / peak;
        r.xnnpack_ms = xnn;
        if (peer) {
          r.onednn_ms = peer->ms;
          r.onednn_primitive = peer->primitive;
        }
        if (f.load > 0) {
          // The busy processes run only while this row is timed again: the quiet timings of
          // the other rows stay quiet.
          const bench::BusyLoad load(f.load);
          r.load_ms = median_ms(run.run, f);
          if (peer && !peer_loaded) peer_loaded = median_ms(peer->run, f);
          r.onednn_load_ms = peer_loaded;
        }
        rows.push_back(r);
      }
    }
  if (tty) std::cerr << "\r" << std::string(72, ' ') << "\r";
  print(rows, f, peak, threads);
  if (!f.plot.empty()) {
    const bool peer =
        std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.onednn_ms.has_value(); });
    write_bench_plot(to_json(rows), peak,
                     "convnd " + std::string(version()) + ", " + std::to_string(threads) +
                         " threads, float32, " + mode_line(f) +
                         (peer ? "; oneDNN " + bench::onednn_version() : ""),
                     f.plot);
    std::cerr << "wrote the chart to " << f.plot << "\n";
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "time the benchmark suite (and oneDNN beside it)");
  cmd->add_option("--suite", f->suite_file, "suite JSON file (default: the embedded suite)");
  cmd->add_option("--case", f->cases, "only these cases (repeatable; the list is below)");
  cmd->add_option("--spec", f->spec,
                  "time this one problem instead of the suite: a problem string such as "
                  "'n1c64k64s56x56k3x3p1' (all three passes unless --pass; its layout unless "
                  "--layout)")
      ->type_name("STRING")
      ->excludes("--case")
      ->excludes("--suite");
  cmd->add_option("--pass", f->pass, "only this pass: fwd, bwd_data, bwd_weights");
  CLI::Option* layout =
      cmd->add_option("--layout", f->layout, "channels_first, channels_last or both")->capture_default_str();
  cmd->add_option("--threads", f->threads, "threads (0 = all cores)");
  cmd->add_option("--format", f->format, "text, markdown or json")
      ->check(CLI::IsMember({"text", "markdown", "json"}))
      ->capture_default_str();
  cmd->add_option("--repeats", f->repeats, "timed runs per measurement (default: adaptive)");
  cmd->add_option("--min-time", f->min_time, "seconds of timed runs per measurement")->capture_default_str();
  cmd->add_flag("--no-peer", f->no_peer, "skip oneDNN");
  cmd->add_option("--clock", f->clock,
                  "wall, or cpu: convnd's runs timed by the process's CPU time, for comparing "
                  "builds on a busy machine with --threads 1 (needs --no-peer: the peers keep "
                  "the wall clock)")
      ->check(CLI::IsMember({"wall", "cpu"}))
      ->capture_default_str();
  cmd->add_flag("--per-call", f->per_call,
                "time one-off calls: new weights every call and a fresh Plan per call (as "
                "convnd.conv), oneDNN with its weight reorder inside the timing");
  cmd->add_option("--load", f->load,
                  "also time every row beside N busy processes and report the slowdown")
      ->check(CLI::Range(0, 64))
      ->type_name("N");
  cmd->add_option("--plot", f->plot,
                  "also write a bar chart (GFLOP/s, FMA peak) to this PNG; needs matplotlib for "
                  "$CONVND_PYTHON (default /usr/bin/python3)")
      ->type_name("FILE.png");
  cmd->footer("Cases of the embedded suite (--case NAME):\n" +
              wrapped_names(bench::parse_suite(bench::embedded_suite(), "embedded"), "  "));
  cmd->callback([f, layout] {
    f->layout_given = layout->count() > 0;
    if (f->clock == "cpu" && !f->no_peer)
      throw CLI::ValidationError("--clock", "cpu times convnd only: add --no-peer");
    bench(*f);
  });
}

}  // namespace convnd::tool
