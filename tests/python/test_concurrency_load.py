"""Concurrency under load: many Python threads share Plans and make new ones while two busy
processes load the machine; every result must be bitwise equal to a quiet single-threaded run,
whatever `threads=` each Plan was made with (1 to 4x the core count). Also: a Plan run on inputs
that NumPy has since resized gets a clear error, never a read of freed memory. A few seconds."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import convnd

CORES = os.cpu_count() or 1
RNG = np.random.default_rng(20261202)

# (op, x shape, w shape, keyword arguments): every algorithm family and pass.
PROBLEMS = [
    ("forward", (2, 8, 12, 12), (8, 8, 3, 3), dict(padding=1, dtype="float32")),  # Winograd
    ("forward", (2, 6, 11, 9), (6, 3, 3, 2), dict(stride=2, groups=2, padding_mode="reflect",
                                                 padding=1, dtype="float64")),
    ("forward", (1, 8, 9, 9), (8, 1, 3, 3), dict(groups=8, padding=1, dtype="float32")),
    ("forward", (2, 16, 7, 7), (12, 16, 1, 1), dict(dtype="float32")),
    ("backward_data", (2, 4, 10, 9), (6, 4, 3, 3), dict(stride=2, padding=1, dtype="float64")),
    ("backward_weight", (2, 4, 9, 8), (5, 4, 3, 3), dict(padding=1, dtype="float32")),
    ("forward", (1, 3, 13), (4, 3, 5), dict(dilation=2, padding="same", dtype="float64")),
]


def operands(op, xs, ws, kw):
    dt = np.dtype(kw["dtype"])
    x = (RNG.integers(-8, 9, size=xs)).astype(dt)
    w = (RNG.integers(-3, 4, size=ws)).astype(dt)
    plan = convnd.Plan(xs, ws, op=op, threads=1, **kw)
    dy = (RNG.integers(-8, 9, size=plan.output_shape)).astype(dt)
    return x, w, dy


def run(plan, op, x, w, dy):
    if op == "forward":
        return plan.forward(x, w)
    if op == "backward_data":
        return plan.backward_data(dy, w)
    return plan.backward_weight(x, dy)


@pytest.fixture
def busy_machine():
    # Two processes that only spin: the threads' tasks get preempted at arbitrary points.
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for p in procs:
        p.kill()
        p.wait()


def test_shared_and_new_plans_under_load_match_a_quiet_run(busy_machine):
    data = [operands(*p) for p in PROBLEMS]
    # The quiet single-threaded results (the busy processes are already running, but one thread
    # with threads=1 is as deterministic as it gets).
    quiet = [run(convnd.Plan(xs, ws, op=op, threads=1, **kw), op, *d)
             for (op, xs, ws, kw), d in zip(PROBLEMS, data)]
    counts = sorted({1, 2, CORES, 2 * CORES, 4 * CORES})
    shared = [[convnd.Plan(xs, ws, op=op, threads=t, **kw) for t in counts]
              for op, xs, ws, kw in PROBLEMS]
    errors = []

    def worker(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(25):
                i = int(rng.integers(len(PROBLEMS)))
                op, xs, ws, kw = PROBLEMS[i]
                if rng.integers(2):
                    plan = shared[i][int(rng.integers(len(counts)))]
                else:  # a new plan, made while others run
                    plan = convnd.Plan(xs, ws, op=op, threads=int(rng.choice(counts)), **kw)
                got = run(plan, op, *data[i])
                if not np.array_equal(got, quiet[i]):
                    errors.append(f"problem {i}, threads={counts}: results differ")
        except Exception as e:  # noqa: BLE001 - reported below with the thread's seed
            errors.append(f"seed {seed}: {e!r}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_up_to_four_times_the_cores_are_bitwise_equal():
    op, xs, ws, kw = PROBLEMS[0]
    x, w, dy = operands(op, xs, ws, kw)
    want = run(convnd.Plan(xs, ws, op=op, threads=1, **kw), op, x, w, dy)
    for t in range(1, 4 * CORES + 1):
        got = run(convnd.Plan(xs, ws, op=op, threads=t, **kw), op, x, w, dy)
        assert np.array_equal(got, want), t


def test_plan_on_inputs_resized_by_numpy_is_a_clear_error():
    op, xs, ws, kw = PROBLEMS[1]
    x, w, _ = operands(op, xs, ws, kw)
    plan = convnd.Plan(xs, ws, op=op, **kw)
    want = plan.forward(x, w)
    # Resizing in place frees the old buffer; the Plan holds no pointer to it (it takes the
    # arrays at each call), and the new shape is refused by name.
    x.resize((xs[0], xs[1], xs[2] - 3, xs[3]), refcheck=False)
    with pytest.raises(ValueError, match="'x'"):
        plan.forward(x, w)
    w2 = w.copy()
    w2.resize((ws[0] * 2,) + ws[1:], refcheck=False)
    x.resize(xs, refcheck=False)
    with pytest.raises(ValueError, match="'w'"):
        plan.forward(x, w2)
    # Grown back (new memory, zero-filled past the kept part): runs on the new contents.
    x[...] = 0
    assert np.array_equal(plan.forward(x, w), np.zeros_like(want))
    del x, w2
