"""Distributed runs (sparseprop.distributed, DESIGN.md 6): the same spikes to the last bit in 1,
2 and 4 processes under mpiexec; the one-process windowed run against the plain engine; errors
and failures that end every process. The mpiexec tests need the `mpi` extra (mpi4py, mpich)
and are skipped, with the reason, without it."""
import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mpi_runs
from expect import expect
from sparseprop import (PoissonSource, Population, Projection, SpikeSource, build_network,
                        fixed_indegree, fixed_outdegree, load_result)
from sparseprop.shard import global_senders, local_rows, shard_of, shard_table

HERE = os.path.dirname(os.path.abspath(__file__))


def _mpiexec():
    """The mpiexec beside this Python (the mpich wheel's) or on PATH, if mpi4py imports."""
    if importlib.util.find_spec("mpi4py") is None:
        return None
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason="the mpi extra is not installed (pip "
                               "install 'sparseprop[mpi]': mpi4py and mpich)")


def mpirun(size, *args, timeout=240):
    """Run tests/mpi_runs.py with `args` in `size` processes: the CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    return subprocess.run([MPIEXEC, "-n", str(size), sys.executable,
                           os.path.join(HERE, "mpi_runs.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=HERE)


# -- one process --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mixed", "lif_exp"])
def test_the_windowed_run_equals_the_plain_engine(name, tmp_path):
    """distributed=True alone: windows of just under the smallest delay, every spike queued
    after its window; the same spikes as the plain engine, times to 1e-12 relative (the plain
    engine renormalises its frame, the windowed run keeps one)."""
    _, a, b = mpi_runs.run(name, distributed=True)
    plain = mpi_runs.NETWORKS[name](False)
    c, d = (plain.run(duration) for duration in mpi_runs.DURATIONS[name])
    for x, y in ((a, c), (b, d)):
        assert x.n_spikes > 300
        np.testing.assert_array_equal(x.i, y.i)
        np.testing.assert_allclose(x.t, y.t, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(x.source_i, y.source_i)
        np.testing.assert_allclose(x.source_t, y.source_t, rtol=1e-12, atol=0)
        whole = x.gather()
        np.testing.assert_array_equal(whole.i, x.i)       # one process: all of them
    assert a.save(tmp_path / "run.npz").name == "run.part0of1.npz"
    back = load_result(tmp_path / "run.npz")              # the set of parts (one), as one
    np.testing.assert_array_equal(back.t, a.t)
    np.testing.assert_array_equal(back.source_t, a.source_t)
    b.part = (1, 2, 0, 200)   # (as if process 1 of 2 had written it)
    b.save(tmp_path / "two.npz")
    expect(lambda: load_result(tmp_path / "two.npz"), "not those of one run of 2 processes")
    expect(lambda: load_result([tmp_path / "run.part0of1.npz", tmp_path / "run.part0of1.npz"]),
           "each once")
    for bad in ((0, 1, 0), (2, 1, 0, 10), ("a", 1, 0, 10), (0, 1, 5, 5000)):
        b.part = bad
        expect(lambda: b.save(tmp_path / "bad.npz"), "is not a process's (rank, size")


def test_a_shard_numbers_its_senders_and_keeps_its_columns():
    shard = shard_of(1, 3, 10, {"A": slice(0, 10)})
    assert (shard.lo, shard.hi) == (3, 6)
    rows = local_rows(shard, 2)              # neurons 0..9, then 2 sources
    assert rows.tolist() == [5, 6, 7, 0, 1, 2, 8, 9, 10, 11, 3, 4]
    assert global_senders(shard, 2, rows).tolist() == list(range(12))
    net = build_network("lif", [Population("A", 10), SpikeSource("s", 2, [0], [1.0])],
                        [Projection("A", "A", fixed_indegree(4, 0.1, seed=1, delay=1.0)),
                         Projection("s", "A", fixed_outdegree(5, 0.2, seed=2, delay=2.0))],
                        distributed=False)
    part = shard_table(net.csr.columns(3, 6), shard, 2)
    whole = net.csr
    for g in range(12):      # each sender's synapses into neurons 3..5, in their order
        mine = whole.indices[whole.indptr[g]:whole.indptr[g + 1]]
        r = rows[g]
        np.testing.assert_array_equal(part.indices[part.indptr[r]:part.indptr[r + 1]],
                                      mine[(mine >= 3) & (mine < 6)] - 3)


def test_distributed_runs_refuse_what_they_cannot_do():
    pop = Population("A", 20, {"I": 1.2})

    def net(delay=1.0, inputs=None):
        return build_network("lif", [pop], [Projection("A", "A", fixed_indegree(
            3, 0.1, seed=1, delay=delay))], seed=2, inputs=inputs, distributed=True)
    expect(lambda: net(delay=0.0), "smallest delay is 0 ms")
    expect(lambda: build_network("lif", [pop], distributed=True), "give build_network a seed")
    expect(lambda: build_network("lif", [pop], [Projection("A", "A", fixed_indegree(3, 0.1))],
                                 seed=1, distributed=True), "projection A -> A's recipe a seed")
    ok = net()
    expect(lambda: ok.run(max_spikes=10), "needs duration")
    expect(lambda: ok.run(10.0, max_spikes=10), "needs duration")
    expect(lambda: ok.run(10.0, record_tape=True), "record_tape")
    expect(lambda: ok.run(10.0, engine="reference"), "engine")
    expect(lambda: ok.run(10.0, record={"v": True, "dt": 1.0}), "record")
    expect(lambda: ok.run(-1.0), "duration = -1")
    expect(lambda: build_network("lif", [pop], distributed="yes"), "give True, False")
    expect(lambda: shard_of(0, 30, 20, {}), "run fewer processes")
    assert ok.run(10.0).n_spikes > 0      # (refusals leave it usable)


# -- several processes ---------------------------------------------------------------------------

def _same(reference, path):
    got = np.load(path)
    for key, value in (("i", reference[1].i), ("t", reference[1].t),
                       ("si", reference[1].source_i), ("st", reference[1].source_t),
                       ("i2", reference[2].i), ("t2", reference[2].t)):
        whole = value if key.startswith("s") else None
        if whole is None:   # the reference's own order: by time, then neuron (as gather)
            run = reference[1] if key in ("i", "t") else reference[2]
            order = np.lexsort((run.i, run.t))
            whole = (run.i if key.startswith("i") else run.t)[order]
        np.testing.assert_array_equal(got[key], whole, err_msg=key)   # to the last bit


@needs_mpi
@pytest.mark.parametrize("name, sizes", [("brunel", (2, 4)), ("mixed", (2, 4)),
                                         ("lif_exp", (2, 4))])
def test_several_processes_give_the_spikes_of_one_to_the_last_bit(name, sizes, tmp_path):
    """Brunel's network (N = 10^4, delay 1.5 ms, Poisson drive); the delay tests' network
    (per-synapse delays 0.1..3 ms, mixed signs, refractory and subthreshold neurons, a
    SpikeSource, a PoissonSource, a PoissonInput) with lif, and with lif_exp and a Stimulus
    of E's drive: two runs each."""
    reference = mpi_runs.run(name)
    assert reference[1].n_spikes > 500
    for size in sizes:
        out = tmp_path / f"{name}-{size}.npz"
        done = mpirun(size, name, out)
        assert done.returncode == 0, done.stderr[-2000:]
        assert int(np.load(out)["size"]) == size
        _same(reference, out)
        parts = load_result(tmp_path / f"{name}-{size}-parts.npz")   # the parts, as one
        np.testing.assert_array_equal(parts.i, np.load(out)["i"])
        np.testing.assert_array_equal(parts.t, np.load(out)["t"])


@needs_mpi
def test_a_failing_process_ends_the_run_in_every_process(tmp_path):
    """Process 1's neurons meet a fault (STOP_NAN) in a window: every process raises a
    ModelError, process 0's naming process 1 and the neuron by its global number."""
    out = tmp_path / "fail.npz"
    done = mpirun(2, "fail", out, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    first = (tmp_path / "fail.npz.error0").read_text()
    second = (tmp_path / "fail.npz.error1").read_text()
    assert first.startswith("process 1 of 2 stopped the run") and "neuron 10" in first
    assert "neuron 10 made its state NaN" in second


@needs_mpi
def test_a_killed_process_ends_every_process(tmp_path):
    """Process 1 kills itself (SIGKILL) between two runs: mpiexec ends the other one and
    returns an error, well within the time limit (no hang)."""
    done = mpirun(2, "mixed", tmp_path / "kill.npz", "--kill", timeout=120)
    assert done.returncode != 0
    assert not (tmp_path / "kill.npz").exists()


@needs_mpi
def test_the_command_line_simulates_under_mpiexec(tmp_path):
    """`sparseprop simulate --delay 1.5` in 2 processes: process 0 prints the summary and
    saves the whole network's spikes, those of the command run alone (the plain engine:
    times to 1e-12)."""
    args = ["-m", "sparseprop.cli", "simulate", "-n", "3000", "-k", "30", "--delay", "1.5",
            "--duration", "100"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, *args, "--out",
                           str(tmp_path / "two.npz")], capture_output=True, text=True,
                          timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("spikes:") == 1 and "2 processes" in done.stdout
    alone = subprocess.run([sys.executable, *args, "--out", str(tmp_path / "one.npz")],
                           capture_output=True, text=True, timeout=240, env=env)
    assert alone.returncode == 0, alone.stderr[-2000:]
    two, one = load_result(tmp_path / "two.npz"), load_result(tmp_path / "one.npz")
    assert one.n_spikes > 1000
    order = np.lexsort((one.i, one.t))
    np.testing.assert_array_equal(two.i, one.i[order])
    np.testing.assert_allclose(two.t, one.t[order], rtol=1e-12, atol=0)


def test_a_table_keeps_the_columns_asked_for_or_says_why_not():
    net = build_network("lif", [Population("A", 10)], [Projection(
        "A", "A", fixed_indegree(4, 0.1, seed=1))], distributed=False)
    part = net.csr.columns(2, 5)
    assert part.n == 10 and part.n_post == 3 and part.nnz == 12       # 3 neurons x 4 inputs
    assert net.csr.columns(0, 10).nnz == net.csr.nnz
    for lo, hi in ((5, 5), (-1, 3), (0, 11), (2.0, 5), ("a", 5), (True, 5)):
        expect(lambda: net.csr.columns(lo, hi), "CSR.columns", "columns must be (c0, c1)")


@pytest.mark.parametrize("case", ["no synapses", "sources only", "zero duration"])
def test_distributed_edge_cases_equal_the_plain_engine(case):
    """Networks without synapses (one window for the whole run), with input only from a
    Poisson source, and a run of 0 ms: the same spikes as the plain engine."""
    def make(distributed):
        pops = [Population("A", 30, {"I": 1.2} if case != "sources only" else {"I": 0.5})]
        projections = []
        if case == "sources only":
            pops.append(PoissonSource("noise", 10, 200.0))
            projections.append(Projection("noise", "A", fixed_outdegree(10, 0.3, seed=1,
                                                                        delay=0.5)))
        elif case == "zero duration":
            projections.append(Projection("A", "A", fixed_indegree(5, -0.05, seed=1,
                                                                  delay=1.0)))
        return build_network("lif", pops, projections, seed=2, distributed=distributed)
    duration = 0.0 if case == "zero duration" else 100.0
    a, b = make(True), make(False)
    ra, rb = a.run(duration), b.run(duration)
    assert case == "zero duration" or ra.n_spikes > 20
    np.testing.assert_array_equal(ra.i, rb.i)
    np.testing.assert_allclose(ra.t, rb.t, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(ra.source_i, rb.source_i)
    if case == "no synapses":
        assert a.window == np.inf and a.comm.windows == 1


def test_a_hand_made_shard_is_checked_and_a_shard_is_not_saved_as_a_network(tmp_path):
    from sparseprop import Network
    from sparseprop.connectivity import CSR
    table = CSR(10, np.zeros(11, np.int64), np.zeros(0, np.int32), weight=0.1, n_post=5,
                delay=1.0)
    good = shard_of(0, 2, 10, {})
    net = Network("lif", 5, table, seed=1, shard=good)
    assert net.run(5.0).n == 5
    expect(lambda: net.save(tmp_path / "net.npz"), "cannot be saved as a network")
    for bad in ("shard", good._replace(hi=7), good._replace(rank=2), good._replace(lo=True),
                good._replace(populations=[1])):
        expect(lambda: Network("lif", 5, table, seed=1, shard=bad), "sparseprop.shard.Shard")


def test_a_long_distributed_run_shows_its_progress(capsys, monkeypatch):
    import sparseprop.distributed as distributed
    monkeypatch.setattr(distributed, "_PROGRESS_AFTER", 0.0)
    net = mpi_runs.mixed(True)
    expect(lambda: net.run(10.0, progress="yes"), "progress = 'yes'")
    net.run(100.0, progress=True)
    line = capsys.readouterr().err
    assert "100.0%" in line and "ms simulated per s" in line
    net.run(10.0, progress=False)
    assert capsys.readouterr().err == ""
