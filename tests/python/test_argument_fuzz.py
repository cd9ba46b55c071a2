"""Fuzz of the Python argument layer: every public function, arguments of every type.

Hypothesis draws a value for one argument of one public function at a time (ints at the int64
edges and beyond, floats, None, strings, bytes, nested sequences, arrays of odd dtypes and
shapes) while the others stay valid. A call must return, or raise ValueError or TypeError
whose message starts with "convnd" (or, for the drop-in modules, the exception the original
raised): never another exception, never a binding's internals, never a crash.

The draws run in a child process, which writes each call to a log before making it, so a crash
(a signal) fails this test with the call that caused it instead of killing pytest.
"""

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(r'''
    import sys, traceback
    import numpy as np
    import hypothesis
    from hypothesis import strategies as st
    import convnd

    log = open(sys.argv[1], "w", buffering=1)
    x = np.ones((1, 2, 7, 6), np.float32)
    w = np.ones((3, 2, 3, 3), np.float32)
    y = convnd.conv(x, w)

    BIG = [0, 1, -1, 2, 3, 2**31, 2**62, 2**63 - 1, 2**63, -(2**63), 2**64, 10**30]
    scalar = st.one_of(st.sampled_from(BIG), st.integers(-5, 9), st.floats(allow_nan=True),
                       st.none(), st.booleans(), st.text(max_size=6), st.binary(max_size=4),
                       st.sampled_from(["same", "same:tf", "same:bogus", "valid", "full",
                                        "causal", "reflect", "zeros", "channels_last",
                                        "float64", "highest", "reference", "1:2,0"]))
    value = st.one_of(scalar, st.lists(scalar, max_size=4),
                      st.lists(st.tuples(scalar, scalar), max_size=3),
                      st.tuples(st.lists(scalar, max_size=2)))
    array = st.one_of(
        st.sampled_from([np.float32, np.float64, np.int32, np.float16, np.complex64, bool,
                         object]).flatmap(lambda dt: st.lists(st.integers(0, 4), min_size=0,
                                                              max_size=5).map(
            lambda shape: np.zeros(shape, dtype=dt))),
        value)

    KEYWORDS = ["stride", "padding", "dilation", "groups", "padding_mode", "same_policy",
                "layout", "algorithm", "threads", "precision", "strict"]
    CALLS = {
        "conv": (lambda **k: convnd.conv(x, w, **k), KEYWORDS + ["out"]),
        "conv_transpose": (lambda **k: convnd.conv_transpose(y, w.transpose(1, 0, 2, 3).copy(), **k),
                           ["stride", "padding", "dilation", "groups", "output_padding",
                            "output_size", "padding_mode", "layout", "algorithm", "threads"]),
        "conv_backward_data": (lambda **k: convnd.conv_backward_data(y, w, x.shape, **k),
                               KEYWORDS[:-1]),
        "conv_backward_weight": (lambda **k: convnd.conv_backward_weight(x, y, w.shape, **k),
                                 KEYWORDS[:-1]),
        "output_shape": (lambda **k: convnd.output_shape(x.shape, w.shape, **k),
                         ["stride", "padding", "dilation", "groups", "same_policy", "layout",
                          "transposed", "output_padding", "output_size"]),
        "Plan": (lambda **k: convnd.Plan(x.shape, w.shape, **k),
                 KEYWORDS + ["op", "dtype", "bias", "workspace_limit", "constant_weights"]),
    }
    POSITIONAL = {
        "conv.x": lambda v: convnd.conv(v, w), "conv.w": lambda v: convnd.conv(x, v),
        "conv.bias": lambda v: convnd.conv(x, w, v),
        "conv_backward_data.input_shape": lambda v: convnd.conv_backward_data(y, w, v),
        "conv_backward_weight.weight_shape": lambda v: convnd.conv_backward_weight(x, y, v),
        "Plan.input_shape": lambda v: convnd.Plan(v, w.shape),
        "conv_backward_bias.grad_out": lambda v: convnd.conv_backward_bias(v),
    }

    def check(what, call):
        log.write(what + "\n")
        try:
            call()
        except (ValueError, TypeError) as e:
            text = str(e)
            assert text.startswith("convnd"), f"{what}: message not convnd's: {text!r}"
            for internal in ("incompatible", "Unable to cast", "_core."):
                assert internal not in text, f"{what}: binding internals: {text!r}"
        except MemoryError:
            pass  # asking for 2**62 elements is allowed to fail this way

    @hypothesis.settings(max_examples=int(sys.argv[2]), deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.data())
    def fuzz(data):
        if data.draw(st.booleans()):
            name = data.draw(st.sampled_from(sorted(CALLS)))
            fn, keys = CALLS[name]
            key = data.draw(st.sampled_from(keys))
            v = data.draw(array if key == "out" else value)
            check(f"{name}({key}={v!r})", lambda: fn(**{key: v}))
        else:
            name = data.draw(st.sampled_from(sorted(POSITIONAL)))
            v = data.draw(array)
            check(f"{name} = {v!r}", lambda: POSITIONAL[name](v))

    fuzz()
    print("fuzzed", sys.argv[2])
''')


def test_public_functions_survive_any_argument(tmp_path):
    log = tmp_path / "calls.log"
    examples = os.environ.get("CONVND_ARG_FUZZ_EXAMPLES", "400")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", CHILD, str(log), examples],
                            capture_output=True, text=True, env=env, timeout=600)
    last = log.read_text().splitlines()[-1:] if log.exists() else []
    assert result.returncode == 0, (f"exit {result.returncode}; last call: {last}\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    assert "fuzzed" in result.stdout
