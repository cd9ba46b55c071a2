"""The Python examples of the docs run and their asserts hold."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run_example(name, timeout):
    import convnd
    env = dict(os.environ)
    # The package the tests import, wherever it came from (build tree or site-packages).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(convnd.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_parent, env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)],
                            env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_python_example_runs():
    out = _run_example("python_example.py", 120)
    assert "conv: [0. 1. 2. 3. 4. 5. 5. 4. 3. 2. 1. 0.]" in out


def test_torch_example_runs():
    """examples/torch_conv4d.py trains a 4-D model and asserts that it removes the noise."""
    pytest.importorskip("torch")
    assert "denoised: test mse" in _run_example("torch_conv4d.py", 300)
