"""The Python example of the docs runs and its asserts hold."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_python_example_runs():
    import convnd
    env = dict(os.environ)
    # The package the tests import, wherever it came from (build tree or site-packages).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(convnd.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_parent, env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python_example.py")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "conv: [0. 1. 2. 3. 4. 5. 5. 4. 3. 2. 1. 0.]" in result.stdout


def test_torch_example_runs():
    """examples/torch_conv4d.py trains a 4-D model and asserts that it removes the noise."""
    import pytest
    pytest.importorskip("torch")
    import convnd
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(convnd.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_parent, env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "torch_conv4d.py")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "denoised: test mse" in result.stdout
