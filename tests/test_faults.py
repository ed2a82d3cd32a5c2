"""Bad inputs and faults at the simulation entry points (issue "Reliability"): every one ends in
a ModelError that names the offending value and what would work, or in the correct result;
none hangs (the cases that used to hang run in a subprocess under a timeout), and a run stopped
by Ctrl-C keeps its spikes. (Model language and derivation faults: test_errors.py and
test_derivation_faults.py; the kernel cache: test_cache_faults.py.)"""
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sparseprop as spp
from sparseprop.engine import driver
from expect import expect
from sparseprop import ModelError, Network, fixed_outdegree, train
from sparseprop.connectivity import CSR

LIF = spp.load_model("lif")
pytestmark = pytest.mark.timeout(120)   # none of these may hang (pytest-timeout fails it)


def small(n=20, k=3, w=-0.1, **kwargs):
    return Network(LIF, n, fixed_outdegree(k, w, seed=1), seed=2, **kwargs)


# -- 1. runs that used to hang ---------------------------------------------------------------

@pytest.mark.parametrize("t", [float("nan"), float("inf"), -float("inf"), "1", None])
def test_set_state_refuses_a_time_that_is_not_finite(t):
    net = small()
    before = net.phase.copy()
    expect(lambda: net.set_state(np.zeros(20), t=t), f"t = {t!r}", "finite")
    assert net.t == 0.0 and np.array_equal(net.phase, before)   # nothing changed


def test_the_former_hang_ends_with_an_error_in_a_subprocess():
    code = ("import numpy as np, sparseprop as spp\n"
            "net = spp.Network('lif', 100, spp.fixed_outdegree(5, -0.1, seed=1), seed=1)\n"
            "try:\n    net.set_state(np.zeros(100), t=float('nan'))\n"
            "except spp.ModelError as e:\n    print('refused', e)\n"
            "print(net.run(duration=10.0).n_spikes)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.startswith("refused t = nan")
    assert int(out.stdout.split()[-1]) > 0


# -- 2. connectivity tables built by hand ----------------------------------------------------

@pytest.mark.parametrize("indptr, indices, weights, fragments", [
    ([0, 1, 2, 3], [1, 2, 3], None, ["synapse 2 targets neuron 3", "[0, 3)"]),
    ([0, 1, 2, 3], [1, 2, -1], None, ["targets neuron -1"]),
    ([0, 2, 1, 3], [1, 2, 0], None, ["non-decreasing", "indptr[1] = 2"]),
    ([0, 1, 2, 3], [1, 2, 0], [0.1, float("nan"), 0.1], ["synapse 1 is nan", "finite"]),
    ([0, 1, 2, 3], [1, 2, 0], [0.1, float("inf"), 0.1], ["synapse 1 is inf"]),
    ([0, 1, 2, 3], [1.5, 2, 0], None, ["indices must be integers"]),
    ([0, 1, 2, 3], [1, 2, 2**32 + 1], None, ["beyond int32"]),
    ([0, 1, 2, 3], ["a", "b", "c"], None, ["integers"]),
    ([0, 1, 2, 3], [1, 2, 0], ["x", 1, 2], ["weights must be numbers"]),
], ids=["out-of-range", "negative", "decreasing-indptr", "nan-weight", "inf-weight",
        "fractional-index", "wraps-int32", "strings", "string-weight"])
def test_a_bad_csr_is_refused_when_built(indptr, indices, weights, fragments):
    expect(lambda: CSR(3, indptr, indices, weights=weights, weight=1.0), *fragments)


@pytest.mark.parametrize("change, fragment", [
    (lambda c: c.indices.__setitem__(1, 7), "targets neuron 7"),
    (lambda c: c.indices.__setitem__(1, -2), "targets neuron -2"),
    (lambda c: c.weights.__setitem__(0, np.nan), "synapse 0 is nan"),
    (lambda c: c.indptr.__setitem__(1, 3), "non-decreasing"),
    (lambda c: setattr(c, "indices", c.indices.astype(np.int64)), "indices int32"),
], ids=["out-of-range", "negative", "nan-weight", "indptr", "dtype"])
def test_a_csr_changed_by_hand_is_refused_by_network(change, fragment):
    csr = CSR(3, [0, 1, 2, 3], [1, 2, 0], weights=[0.1, 0.1, 0.1])
    change(csr)
    expect(lambda: Network(LIF, 3, csr), fragment)


@pytest.mark.parametrize("connectivity", [None, 3, "fixed", [(0, 1)]])
def test_connectivity_must_be_a_recipe_or_a_table(connectivity):
    expect(lambda: Network(LIF, 3, connectivity), f"connectivity = {connectivity!r}",
           "fixed_outdegree")


# -- 3. NaN states are errors, not spikes ----------------------------------------------------

SQRT_ON_PRE = dict(threshold="v >= 1", reset="v = 0", on_pre="v = sqrt(v) + w")


@pytest.mark.parametrize("engine", ["sparse", "reference"])
@pytest.mark.parametrize("subthreshold", [False, True])
def test_an_input_that_makes_the_state_nan_stops_the_run(engine, subthreshold):
    """sqrt(v) at v < 0 is NaN: both engines (phase and flow paths) stop with the input named;
    before, the NaN PTC fired the neuron."""
    model = spp.NeuronModel("dv/dt = (I - v)/tau : 1", parameters={"I": 1.1, "tau": 10.0},
                            name="lif_sqrt", **SQRT_ON_PRE)
    drives = np.where(np.arange(50) % 2, 1.1, 0.9 if subthreshold else 1.1)
    net = Network(model, 50, fixed_outdegree(10, -0.3, seed=1), seed=1,
                  parameters={"I": drives})
    message = expect(lambda: net.run(duration=2000.0, engine=engine), "weight -0.3",
                     "made its state nan", "v = sqrt(v) + w")
    assert net.t == 0.0, message                       # the network stays where it was


def test_sqrt_on_pre_is_exact_while_the_state_stays_in_its_domain():
    """The guard changes nothing on valid inputs: the same spikes on both engines while the jump
    is defined (v > -1 here; states right after a reset may round to -1e-17, so sqrt(v) itself
    would not do)."""
    model = spp.NeuronModel("dv/dt = (I - v)/tau : 1", parameters={"I": 1.1, "tau": 10.0},
                            name="lif_sqrt_shifted", threshold="v >= 1", reset="v = 0",
                            on_pre="v = sqrt(v + 1) - 1 + w")
    a = Network(model, 40, fixed_outdegree(5, 0.01, seed=3), seed=4).run(max_spikes=500)
    b = Network(model, 40, fixed_outdegree(5, 0.01, seed=3), seed=4).run(
        max_spikes=500, engine="reference")
    assert np.array_equal(a.i, b.i)
    np.testing.assert_allclose(a.t, b.t, rtol=1e-11)


# -- 4. parameters of the other sign ---------------------------------------------------------

def test_a_negative_time_constant_for_one_neuron_is_refused():
    tau = np.full(5, 10.0)
    tau[3] = -10.0
    expect(lambda: Network(LIF, 5, fixed_outdegree(1, -0.1, seed=1), parameters={"tau": tau}),
           "neuron 3", "tau=-10", "runs away")


def test_negative_drives_per_neuron_are_valid_subthreshold_neurons():
    """LIF drives of both signs (I < 0: rest below the reset) give the reference's spikes."""
    drives = np.linspace(-0.5, 1.5, 30)
    runs = [Network(LIF, 30, fixed_outdegree(4, 0.25, seed=5), seed=6,
                    parameters={"I": drives}).run(duration=300.0, engine=engine)
            for engine in ("sparse", "reference")]
    assert runs[0].n_spikes > 100 and np.array_equal(runs[0].i, runs[1].i)
    np.testing.assert_allclose(runs[0].t, runs[1].t, rtol=1e-11)
    assert np.isin(runs[0].i, np.flatnonzero(drives < 0)).sum() > 10   # they fire too


# -- 8. tracebacks of other types ------------------------------------------------------------

@pytest.mark.parametrize("call, fragment", [
    (lambda k: k.ptc("x", 1.0), "arguments must be numbers"),
    (lambda k: k.ptc(None, 1.0), "arguments must be numbers"),
    (lambda k: k.ptc([1.0, 2.0], [1.0, 2.0, 3.0]), "arrays of one shape"),
    (lambda k: k.ptc(10**400, -0.1), "arguments must be numbers"),
    (lambda k: k.dptc_dparams("a", 1.0), "arguments must be numbers"),
    (lambda k: k.ptc(1.0, -0.1, I="a"), "I = 'a'"),
    (lambda k: k.ptc(1.0, -0.1, I=float("nan")), "I = nan: a parameter override is one finite"),
    (lambda k: k.ptc(1.0, -0.1, I=np.array([1.1, 1.2])), "one finite number"),
], ids=["string", "None", "ragged", "huge-int", "vector-kernel", "override-string",
        "override-nan", "override-array"])
def test_kernel_calls_with_arguments_of_the_wrong_kind(call, fragment):
    expect(lambda: call(LIF.compile()), fragment)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(duration=True), "duration = True"), (dict(duration="5"), "duration = '5'"),
    (dict(duration=10.0, engine=np.array(["sparse"])), "engine array"),
    (dict(duration=10.0, engine=None), "engine None"), (dict(max_spikes=2.0), "max_spikes = 2.0"),
])
def test_run_arguments_of_the_wrong_kind(kwargs, fragment):
    net = small()
    expect(lambda: net.run(**kwargs), fragment)
    assert net.t == 0.0


def test_cli_checks_run_arguments_before_building(capsys):
    from sparseprop.cli import main
    assert main(["simulate", "-n", "100", "-k", "5", "--duration", "nan"]) == 2
    captured = capsys.readouterr()
    assert "duration = nan" in captured.err and "set-up" not in captured.out


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(duration=5.0, progress="no"), "progress = 'no'"),
    (dict(duration=5.0, record_tape=1), "record_tape = 1"),
])
def test_run_flags_must_be_booleans(kwargs, fragment):
    expect(lambda: small().run(**kwargs), fragment, "True or False")


@pytest.mark.parametrize("seed", ["x", -1, 1.5, {}])
def test_network_seed_of_the_wrong_kind(seed):
    expect(lambda: Network(LIF, 5, fixed_outdegree(1, -0.1, seed=1), seed=seed),
           f"got {seed!r}")


@pytest.mark.parametrize("name", [["a"], None, 1.5])
def test_stored_state_names_are_strings(name):
    net = small()
    expect(lambda: net.store(name), "must be a string")
    expect(lambda: net.restore(name), "must be a string")


def test_populations_set_by_hand_are_checked_before_the_run():
    net = small()
    net.populations = {"E": slice(0, 30)}
    expect(lambda: net.run(duration=10.0), "population 'E'", "n = 20")
    assert net.t == 0.0


def test_a_recipe_whose_build_returns_no_table():
    class Broken(spp.connectivity.Connectivity):
        def build(self, n):
            return None
    expect(lambda: Network(LIF, 5, Broken("broken", {}, lambda *a: None)),
           "returned None, not a CSR")


def test_max_spikes_zero_is_an_empty_run():
    net = small()
    result = net.run(max_spikes=0)
    assert result.n_spikes == 0 and net.t == 0.0 and result.t_end == 0.0


@pytest.mark.parametrize("phase, fragment", [
    ([0.1, "x", 0.2], "is not numbers"), ([[0.1]] * 3, "shape"), ({"a": 1}, "not numbers"),
    ([0.1, float("nan"), 0.2], "initial_phase[1] = nan"), ([0.1, -1.0, 0.2], "outside"),
])
def test_initial_phase_of_the_wrong_kind(phase, fragment):
    expect(lambda: Network(LIF, 3, fixed_outdegree(1, -0.1, seed=1), initial_phase=phase),
           fragment)


@pytest.mark.parametrize("n", [np.array([3, 4]), "10", 1e3, True, None])
def test_n_of_the_wrong_kind(n):
    expect(lambda: Network(LIF, n, fixed_outdegree(1, -0.1, seed=1)), f"n = {n!r}")


@pytest.mark.parametrize("weights, fragment", [
    (["x"] * 60, "60 numbers"), (np.full(59, 0.1), "shape (59,)"), (np.full(60, np.nan), "finite"),
])
def test_set_weights_of_the_wrong_kind(weights, fragment):
    net = small()
    before = net.csr.weight_array()
    expect(lambda: net.set_weights(weights), fragment)
    assert np.array_equal(net.csr.weight_array(), before)


def test_model_of_the_wrong_kind():
    expect(lambda: Network(3, 10, fixed_outdegree(1, -0.1, seed=1)), "model = 3", "NeuronModel")


def _saved(tmp_path, changes):
    """A saved result with some fields replaced (changes: a dict, or fields -> dict)."""
    path = tmp_path / "r.npz"
    small().run(duration=20.0).save(path)
    fields = dict(np.load(path))
    fields.update(changes(fields) if callable(changes) else changes)
    np.savez(path, **fields)
    return path


@pytest.mark.parametrize("changes, fragment", [
    (lambda f: {"i": np.where(np.arange(f["i"].size) == 0, 1000, f["i"])}, "indices outside"),
    (lambda f: {"i": np.where(np.arange(f["i"].size) == 0, -1, f["i"])}, "indices outside"),
    (dict(n=np.array([3, 4])), "'n' holds 2 values"),
    (dict(n=np.array(-4)), "n = -4"),
    (lambda f: {"t": f["t"][::-1]}, "not finite and sorted"),
    (lambda f: {"t": np.where(np.arange(f["t"].size) == 2, np.nan, f["t"])}, "not finite"),
    (dict(i=np.array(["a"])), "not a 1-D array of numbers"),
], ids=["index-high", "index-negative", "n-array", "n-negative", "unsorted", "nan-time",
        "strings"])
def test_a_damaged_result_file_is_refused_on_load(tmp_path, changes, fragment):
    expect(lambda: spp.load_result(_saved(tmp_path, changes)), fragment)


def test_a_text_file_is_not_a_result(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    message = expect(lambda: spp.load_result(path), "not an .npz file")
    assert "pickle" not in message


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(steps=-1), "steps = -1"), (dict(steps=0), "steps = 0"), (dict(steps=2.5), "steps"),
    (dict(lr=float("nan")), "lr = nan"), (dict(lr=-1e-3), "lr = -0.001"),
    (dict(decay=0.0), "decay = 0.0"), (dict(clip=float("inf")), "clip = inf"),
    (dict(duration=float("nan")), "duration = nan"), (dict(train="nothing"), "'nothing'"),
], ids=["steps<0", "steps=0", "steps-float", "lr-nan", "lr<0", "decay", "clip", "duration",
        "train"])
def test_fit_refuses_bad_settings_before_training(kwargs, fragment):
    net = small()
    weights = net.csr.weight_array()
    args = dict(duration=20.0, steps=2)
    args.update(kwargs)
    duration = args.pop("duration")
    expect(lambda: train.fit(net, train.SpikeTimeLoss([0, 1], [5.0, 6.0]), duration, **args),
           fragment)
    assert np.array_equal(net.csr.weight_array(), weights)   # nothing trained


@pytest.mark.filterwarnings("ignore:neurons .* have no spike")
def test_an_error_during_fit_keeps_the_steps_taken_and_the_initial_state():
    net = small()
    start, weights = net.phase.copy(), net.csr.weight_array()
    inner, calls = train.SpikeTimeLoss([0, 1], [5.0, 6.0]), []

    def loss(result, network):
        calls.append(1)
        if len(calls) == 3:
            raise ModelError("stop here")
        return inner(result, network)

    expect(lambda: train.fit(net, loss, 20.0, steps=5, lr=1e-2), "stop here")
    assert np.array_equal(net.phase, start) and net.t == 0.0 and not net._stored
    assert not np.array_equal(net.csr.weight_array(), weights)   # two steps were taken


@pytest.mark.parametrize("make, fragment", [
    (lambda: train.SpikeTimeLoss([0, 1], [float("nan"), 6.0]), "target 0 (of neuron 0) is nan"),
    (lambda: train.SpikeTimeLoss([0, 1], [5.0]), "one target time per neuron"),
    (lambda: train.SpikeTimeLoss([0], [5.0], k=0), "k = 0"),
    (lambda: train.FirstSpikeCrossEntropy([0, 1], 2), "label = 2"),
    (lambda: train.FirstSpikeCrossEntropy([0, 1], 0, tau=float("nan")), "tau = nan"),
], ids=["nan-target", "targets-shape", "k=0", "label", "tau"])
def test_losses_refuse_bad_settings(make, fragment):
    expect(make, fragment)


# -- 9. stopping -----------------------------------------------------------------------------

def _interrupt_soon(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_ctrl_c_keeps_the_spikes_and_the_run_continues_exactly(engine):
    """Ctrl-C during a run: sparseprop.Interrupted (a KeyboardInterrupt) carries the spikes so
    far, the network stands at the last of them, and a further run continues: together the
    same spikes as one uninterrupted run."""
    n = 20_000 if engine == "sparse" else 2000
    make = lambda: Network(LIF, n, fixed_outdegree(20, -0.05, seed=1), seed=2)  # noqa: E731
    net = make()
    net.run(max_spikes=1, engine=engine)                       # compiled before the timer
    timer = _interrupt_soon(0.3)
    with pytest.raises(spp.Interrupted) as info:
        net.run(duration=1e9, engine=engine)
    timer.join()
    first = info.value.result
    assert isinstance(info.value, KeyboardInterrupt) and first.n_spikes > 0
    assert net.t == first.t_end == first.t[-1]
    rest = net.run(max_spikes=1000, engine=engine)
    whole = make()
    whole.run(max_spikes=1, engine=engine)
    whole = whole.run(max_spikes=first.n_spikes + 1000, engine=engine)
    assert np.array_equal(np.concatenate([first.i, rest.i]), whole.i)
    np.testing.assert_allclose(np.concatenate([first.t, rest.t]), whole.t, rtol=1e-12)


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_the_spikes_do_not_depend_on_the_chunking(engine, monkeypatch):
    """Runs are cut into chunks (for Ctrl-C and progress); the loops carry their counters
    (renormalisation every N spikes, cascades) across calls, so one spike per call gives the
    same bits as the default chunks."""
    make = lambda: Network(LIF, 50, fixed_outdegree(5, -0.2, seed=3), seed=4)  # noqa: E731
    whole = make().run(max_spikes=400, engine=engine)
    monkeypatch.setattr(driver, "_CHUNK", 1)
    monkeypatch.setattr(driver, "chunk_work", lambda n, engine: 1)
    cut = make().run(max_spikes=400, engine=engine)
    assert np.array_equal(cut.i, whole.i) and np.array_equal(cut.t, whole.t)


def test_a_cascade_across_chunks_still_stops(monkeypatch):
    monkeypatch.setattr(driver, "_CHUNK", 1)
    monkeypatch.setattr(driver, "chunk_work", lambda n, engine: 1)
    net = Network(LIF, 10, fixed_outdegree(9, 2.0, seed=1), seed=1)
    expect(lambda: net.run(duration=100.0), "more than 10 spikes at one instant")


def test_cli_ctrl_c_saves_the_spikes_so_far(tmp_path):
    out = tmp_path / "spikes.npz"
    proc = subprocess.Popen([sys.executable, "-m", "sparseprop.cli", "simulate", "-n", "20000",
                             "-k", "20", "--duration", "1e9", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("lif: N = 20000")   # set up
    while proc.stderr.read(1) != "%":      # the first progress line: compiled, running
        assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted (Ctrl-C)" in stderr and "Traceback" not in stderr
    saved = spp.load_result(out)
    assert saved.n_spikes > 0 and f"spikes: {saved.n_spikes} " in stdout


def test_cli_checks_out_before_simulating(tmp_path, capsys):
    from sparseprop.cli import main
    assert main(["simulate", "-n", "100", "-k", "5", "--duration", "1e7",
                 "--out", str(tmp_path / "missing" / "s.npz")]) == 2
    err = capsys.readouterr()
    assert "--out" in err.err and "spikes:" not in err.out


def test_cli_engine_auto_and_compile_time_apart(capsys):
    from sparseprop.cli import main
    assert main(["simulate", "-n", "300", "-k", "5", "--duration", "50", "--engine", "auto"]) == 0
    assert "JIT compilation" in capsys.readouterr().out


# -- the fuzzer: Network construction and run arguments --------------------------------------

_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                     st.integers(-5, 5), st.sampled_from([0.0, -0.0, 1e308, -1e-308]))
_arrays = st.builds(lambda values, dtype: np.array(values, dtype=dtype),
                    st.lists(_numbers, min_size=0, max_size=7),
                    st.sampled_from([np.float64, object]))
_values = st.one_of(_numbers, _arrays, st.text(max_size=3), st.none(), st.booleans(),
                    st.lists(st.one_of(_numbers, st.text(max_size=2)), max_size=7))


@st.composite
def _csr(draw):
    n = draw(st.integers(1, 7))
    counts = draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    nnz = max(int(indptr[-1]), 0)
    indices = draw(st.lists(st.integers(-2, n + 1), min_size=nnz, max_size=nnz))
    weights = draw(st.one_of(st.none(), st.lists(_numbers, min_size=nnz, max_size=nnz)))
    return n, indptr, indices, weights, draw(_numbers)


@settings(max_examples=2000, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_network_and_run_arguments(data):
    """Any construction or run: a ModelError, or a valid result (sorted finite times inside
    the run, indices in range, the network's time at the end)."""
    n = data.draw(st.one_of(st.integers(1, 7), _values), label="n")
    try:
        if data.draw(st.booleans(), label="raw table"):
            size, *table = data.draw(_csr(), label="csr")
            connectivity = CSR(size, *table[:2], weights=table[2], weight=table[3])
        else:
            connectivity = fixed_outdegree(data.draw(st.integers(0, 3)),
                                           data.draw(st.floats(-0.5, 0.5)), seed=1)
        kwargs = {"initial_phase": data.draw(st.one_of(st.none(), _values), label="phase"),
                  "parameters": data.draw(st.one_of(st.none(), st.dictionaries(
                      st.sampled_from(["I", "tau", "refractory", "x"]), _values, max_size=2)),
                      label="parameters")}
        net = Network(LIF, n, connectivity, seed=1, **kwargs)
    except ModelError:
        return
    run = {"duration": data.draw(st.one_of(st.none(), _numbers), label="duration"),
           "max_spikes": data.draw(st.one_of(st.none(), st.integers(-2, 60), _numbers),
                                   label="max_spikes"),
           "engine": data.draw(st.sampled_from(["auto", "sparse", "reference", "x", None]))}
    if isinstance(run["duration"], float) and run["duration"] > 200:
        run["duration"] = 200.0                      # valid, and keeps the example short
    if run["max_spikes"] is None and run["duration"] is None or isinstance(
            run["max_spikes"], (int, float)) and run["max_spikes"] > 60:
        run["max_spikes"] = 60
    t0 = net.t
    try:
        result = net.run(**run)
    except ModelError:
        assert net.t == t0
        return
    assert result.t_start == t0 and net.t == result.t_end >= t0
    assert np.all(np.isfinite(result.t)) and np.all(np.diff(result.t) >= 0)
    assert np.all((result.t >= t0) & (result.t <= result.t_end))
    assert np.all((result.i >= 0) & (result.i < net.n))
