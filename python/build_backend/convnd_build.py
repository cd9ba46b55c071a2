"""A small in-tree PEP 517 build backend: `pip install .` / `pip wheel .` build with CMake.

Why not setuptools or scikit-build-core: the extension is built by the project's own CMake
(python/CMakeLists.txt), and Debian 12 ships no scikit-build-core. This backend configures
the project with only the Python module enabled, installs the CMake component "python" into
a staging folder and zips it as a wheel. It needs nothing beyond the standard library, so it
also works offline with build isolation.
"""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "convnd"


def _version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        for line in f:
            if line.startswith("project(") and " VERSION " in line:
                return line.split(" VERSION ")[1].split()[0]
    raise RuntimeError("no project VERSION in CMakeLists.txt")


def _tag():
    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{impl}-{impl}-{plat}"


def _metadata(version):
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\n"
            f"Summary: N-dimensional convolution on the CPU (NumPy API over a C++ core)\n"
            f"License: Apache-2.0\nClassifier: License :: OSI Approved :: Apache Software "
            f"License\nRequires-Python: >=3.9\nRequires-Dist: numpy\n")


def _cmake_build(stage):
    build = os.path.join(tempfile.mkdtemp(prefix="convnd-wheel-"), "build")
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
    subprocess.check_call([
        "cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
        "-DCONVND_BUILD_TESTS=OFF", "-DCONVND_BUILD_TOOLS=OFF", "-DCONVND_BUILD_BENCH=OFF",
        "-DCONVND_BUILD_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}",
        f"-DCONVND_PYTHON_INSTALL_DIR={stage}"])
    subprocess.check_call(["cmake", "--build", build, "--target", "convnd_python", "-j", jobs])
    subprocess.check_call(["cmake", "--install", build, "--component", "python"])
    shutil.rmtree(os.path.dirname(build), ignore_errors=True)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    tag = _tag()
    stage = tempfile.mkdtemp(prefix="convnd-stage-")
    try:
        _cmake_build(stage)
        dist_info = f"{NAME}-{version}.dist-info"
        files = {}
        for folder, _, names in os.walk(os.path.join(stage, NAME)):
            for name in sorted(names):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    files[os.path.relpath(path, stage).replace(os.sep, "/")] = f.read()
        files[f"{dist_info}/METADATA"] = _metadata(version).encode()
        with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
            files[f"{dist_info}/LICENSE"] = f.read()
        files[f"{dist_info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: convnd_build\n"
                                       f"Root-Is-Purelib: false\nTag: {tag}\n").encode()
        record = [_record_line(k, v) for k, v in files.items()] + [f"{dist_info}/RECORD,,"]
        files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
        wheel_name = f"{NAME}-{version}-{tag}.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                             zipfile.ZIP_DEFLATED) as zf:
            for arcname, data in files.items():
                zf.writestr(arcname, data)
        return wheel_name
    finally:
        shutil.rmtree(stage, ignore_errors=True)
