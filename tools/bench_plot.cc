// `convnd bench --plot`: writes the rows to a temporary JSON file and runs the embedded
// plot_bench.py on it, as `$CONVND_PYTHON -c SCRIPT rows.json FILE.png --peak P --title T`.
// posix_spawnp with an argument vector: no shell, so no quoting of paths or titles.
#include "bench_plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include "convnd/convnd.h"

extern char** environ;

namespace convnd::tool {
namespace {

constexpr int kMissingMatplotlib = 3;  // plot_bench.py's exit status without matplotlib

std::string interpreter() {
  const char* env = std::getenv("CONVND_PYTHON");
  return env && *env ? env : "/usr/bin/python3";
}

// Runs `python -c SCRIPT args...` and returns its exit status (128 + signal if killed).
int run_script(const std::vector<std::string>& args) {
  const std::string py = interpreter();
  std::vector<std::string> all{py, "-c", plot_bench_script()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, py.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0)
    throw Error("convnd: argument '--plot': cannot run '" + py + "': " + std::strerror(rc) +
                " (set CONVND_PYTHON to a Python 3 with matplotlib)");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      throw Error(std::string("convnd: argument '--plot': waitpid: ") + std::strerror(errno));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

void check_bench_plot(const std::string& png_path) {
  const std::size_t slash = png_path.rfind('/');
  std::string dir = ".";
  if (slash == 0)
    dir = "/";
  else if (slash != std::string::npos)
    dir = png_path.substr(0, slash);
  if (access(dir.c_str(), W_OK) != 0)
    throw Error("convnd: argument '--plot': cannot write into '" + dir +
                "': " + std::strerror(errno));
  const int rc = run_script({"--check"});
  if (rc == kMissingMatplotlib)
    throw Error("convnd: argument '--plot': '" + interpreter() +
                "' cannot import matplotlib (Debian: apt-get install python3-matplotlib; or set "
                "CONVND_PYTHON to an interpreter that has it)");
  if (rc != 0)
    throw Error("convnd: argument '--plot': '" + interpreter() + "' failed (exit status " +
                std::to_string(rc) + ") checking for matplotlib");
}

void write_bench_plot(const nlohmann::json& rows, double peak_gflops, const std::string& title,
                      const std::string& png_path) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/convnd-bench-XXXXXX.json";
  const int fd = mkstemps(path.data(), 5);
  if (fd < 0)
    throw Error("convnd: argument '--plot': cannot create '" + path + "': " + std::strerror(errno));
  const std::string text = rows.dump() + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  int rc = -1;
  if (written) {
    try {
      rc = run_script({path, png_path, "--peak", std::to_string(peak_gflops), "--title", title});
    } catch (...) {
      std::remove(path.c_str());
      throw;
    }
  }
  std::remove(path.c_str());
  if (!written) throw Error("convnd: argument '--plot': cannot write '" + path + "'");
  if (rc != 0)
    throw Error("convnd: argument '--plot': plot_bench.py exited with status " +
                std::to_string(rc) + " writing '" + png_path + "'");
}

}  // namespace convnd::tool
