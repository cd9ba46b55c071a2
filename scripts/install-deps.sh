#!/usr/bin/env bash
# Installs the Debian packages convnd builds and tests with (root, or sudo when present).
# Packages already installed are skipped, so a second run costs nothing. With --sanitizers it
# also installs clang and LLVM's OpenMP runtime (for the fuzz and ThreadSanitizer builds); with
# --docs, doxygen, Sphinx and MyST (for scripts/docs.sh; CI does not build the docs).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libhwy-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libstb-dev
  libdnnl-dev ocl-icd-opencl-dev  # dnnl-config.cmake requires OpenCL; libdnnl-dev only recommends it
  libxnnpack-dev libpthreadpool-dev  # the bench's second peer (bench/xnnpack_peer.cc)
  python3 python3-dev python3-numpy python3-pytest python3-hypothesis pybind11-dev python3-venv
  python3-matplotlib
  python3-torch python3-dask python3-distributed python3-scipy  # scipy: the oracle of the ndimage/signal tests
)
for flag in "$@"; do
  case "$flag" in
    --sanitizers) packages+=(clang-14 libclang-rt-14-dev libomp-14-dev) ;;
    --docs) packages+=(doxygen python3-sphinx python3-myst-parser) ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
