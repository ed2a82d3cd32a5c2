"""Networks run in several processes by tests/test_distributed.py, under mpiexec:

    mpiexec -n R python tests/mpi_runs.py NAME OUT.npz [--kill | --fail]

builds network NAME (distributed=True), runs it twice (the second run continues the first) and
writes process 0's gathered spikes to OUT.npz, and each process's part of the first run to
OUT-parts.part<r>of<R>.npz (ShardResult.save). --kill: process 1 kills itself during the
second run; --fail: process 1's neurons are driven into a fault (a ModelError) in a window.
Run alone (no mpiexec) it is the one-process reference.
"""
import os
import signal
import sys

import numpy as np

import sparseprop as sp

DURATIONS = {"brunel": (60.0, 40.0), "mixed": (250.0, 150.0), "lif_exp": (150.0, 100.0),
             "fail": (50.0, 50.0)}


def brunel(distributed):
    """Brunel (2000) model A, AI regime (g = 5, eta = 2), N = 10^4 (8000 E, 2000 I), 10 %
    connectivity, J = 0.1 mV, delay 1.5 ms, refractory 2 ms, Poisson drive."""
    model = sp.NeuronModel("dv/dt = (mu - v)/tau : 1", threshold="v >= 20", reset="v = 10",
                           parameters={"mu": 25.0, "tau": 20.0}, refractory=2.0,
                           name="brunel2000")
    n_e, n_i, g, eta, J, D = 8000, 2000, 5.0, 2.0, 0.1, 1.5
    c_e, c_i = n_e // 10, n_i // 10
    nu_thr = 20.0 / (J * c_e * 20.0) * 1000.0
    pops = [sp.Population("E", n_e, {"mu": 0.0}), sp.Population("I", n_i, {"mu": 0.0})]
    projections = [sp.Projection(a, b, sp.fixed_indegree(c, w, seed=s, delay=D))
                   for a, b, c, w, s in (("E", "E", c_e, J, 1), ("E", "I", c_e, J, 2),
                                         ("I", "E", c_i, -g * J, 3), ("I", "I", c_i, -g * J, 4))]
    drive = [sp.PoissonInput(name, c_e, eta * nu_thr, J) for name in ("E", "I")]
    v0 = np.random.default_rng(5).uniform(0.0, 20.0, n_e + n_i)
    return sp.build_network(model, pops, projections, seed=6, inputs=drive,
                            initial_state={"v": v0}, distributed=distributed)


def mixed(distributed, model="lif"):
    """The delay tests' mixed network (tests/test_delays_engine.py): E (refractory 1 ms), Inh,
    S (subthreshold) populations, mixed-sign per-synapse weights and delays (0.1..3 ms), a
    SpikeSource and a PoissonSource projecting with delays, a PoissonInput into S; with lif_exp
    also a Stimulus changing E's drive Ie (one value per neuron) three times."""
    rng = np.random.default_rng(1)
    nE, nI, nS = 120, 50, 30
    stim = sp.SpikeSource("stim", 5, indices=rng.integers(0, 5, 200),
                          times=np.sort(rng.uniform(0, 300.0, 200)))
    drive = {"lif": "I", "lif_exp": "Ie"}[model]
    pops = [sp.Population("E", nE, parameters={drive: 1.2, "refractory": 1.0}),
            sp.Population("Inh", nI, parameters={drive: 1.1}),
            sp.Population("S", nS, parameters={drive: 0.9}),
            stim, sp.PoissonSource("noise", 20, 30.0)]

    def conn(n_pre, k, low, high, seed):
        size = n_pre * k
        delay = rng.uniform(0.1, 3.0, size)
        weight = rng.uniform(low, high, size) if low != high else low
        return sp.fixed_outdegree(k, weight, seed=seed, delay=delay)

    projections = [
        sp.Projection("E", "E", conn(nE, 10, -0.02, 0.04, 1)),
        sp.Projection("E", "Inh", conn(nE, 5, 0.0, 0.05, 2)),
        sp.Projection("E", "S", conn(nE, 5, 0.0, 0.08, 3)),
        sp.Projection("Inh", "E", conn(nI, 20, -0.15, -0.02, 4)),
        sp.Projection("Inh", "S", conn(nI, 5, -0.1, 0.0, 5)),
        sp.Projection("S", "E", conn(nS, 5, -0.1, 0.05, 6)),
        sp.Projection("stim", "E", conn(5, 20, 0.1, 0.1, 7)),
        sp.Projection("stim", "S", conn(5, 10, 0.15, 0.15, 8)),
        sp.Projection("noise", "S", conn(20, 5, 0.1, 0.1, 9)),
        sp.Projection("noise", "Inh", conn(20, 5, -0.05, -0.05, 10))]
    inputs = [sp.PoissonInput("S", 10, 20.0, 0.05)]
    if model == "lif_exp":   # and a drive that changes at given times, per neuron of E
        values = np.random.default_rng(2).uniform(0.8, 1.5, (3, nE))
        inputs.append(sp.Stimulus("E", "Ie", [50.0, 120.0, 200.0], values))
    return sp.build_network(model, pops, projections, seed=7, inputs=inputs,
                            distributed=distributed)


def fail(distributed):
    """Two populations of 10 (one per process with 2): a source drives the second population's
    neurons below the domain of on_pre 'v = sqrt(v) + w' at 20 ms (STOP_NAN there)."""
    model = sp.NeuronModel("dv/dt = (I - v)/tau : 1", threshold="v >= 1", reset="v = 0",
                           on_pre="v = sqrt(v) + w", parameters={"I": 0.5, "tau": 10.0},
                           name="sqrt_input")
    pops = [sp.Population("A", 10), sp.Population("B", 10),
            sp.SpikeSource("kick", 1, [0, 0], [20.0, 20.5])]
    projections = [sp.Projection("kick", "B", sp.fixed_outdegree(10, -5.0, seed=1, delay=1.0)),
                   sp.Projection("A", "B", sp.fixed_outdegree(2, 0.01, seed=2, delay=1.0))]
    return sp.build_network(model, pops, projections, seed=3, distributed=distributed)


NETWORKS = {"brunel": brunel, "mixed": mixed, "lif_exp": lambda d: mixed(d, "lif_exp"),
            "fail": fail}


def run(name, distributed=True, kill=False):
    """(the network, its two runs' results) of network `name`."""
    net = NETWORKS[name](distributed)
    first, second = DURATIONS[name]
    a = net.run(first)
    if kill and net.rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return net, a, net.run(second)


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    try:
        net, a, b = run(name, kill="--kill" in sys.argv)
    except sp.ModelError as exc:   # every process: the failure, named
        with open(f"{out}.error{os.environ.get('PMI_RANK', '0')}", "w") as handle:
            handle.write(str(exc))
        sys.exit(3)
    a.save(out.replace(".npz", "-parts.npz"))   # each process its part: -parts.part<r>of<R>
    a, b = a.gather(), b.gather()
    if a is not None:
        np.savez(out, i=a.i, t=a.t, si=a.source_i, st=a.source_t, i2=b.i, t2=b.t,
                 size=net.size, windows=net.comm.windows)
