"""Engine speed: median wall time per network spike, sparse (SparseProp) and reference (O(N)).

LIF at the SparseProp reference defaults (DESIGN.md 3.4): tau 10 ms, I = 1.1, K = 100,
w = -1/sqrt(K), fixed out-degree without autapses, uniform initial phases. For each N the
network is built, run for a warm-up (compilation, transient), then timed `repeat` times over a
fixed number of spikes; the median is reported.

    python benchmarks/engine.py [--sizes 1e3,1e4,1e5,1e6] [--sparse-only 1e7] [--repeat 5]
"""
import argparse
import statistics
import time

import sparseprop as spp

K = 100


def per_spike(net, engine, spikes, repeat):
    """Median seconds per spike over `repeat` runs of `spikes` spikes (after one warm-up run)."""
    return per_spike_alternating([net], spikes, repeat, engine)[0][0]


def per_spike_alternating(nets, spikes, repeat, engine="sparse"):
    """[(median seconds per spike, median rate in Hz)] of `engine` for each network of `nets`,
    timed in rotation: after one warm-up run each, `repeat` rounds of one run of `spikes`
    spikes per network, so that the ratios between them compare the same minutes of a shared
    machine (timed one network after the other, the machine's speed can change between them
    by more than the difference measured)."""
    for net in nets:
        net.run(max_spikes=spikes, engine=engine, progress=False)
    times, rates = [[] for _ in nets], [[] for _ in nets]
    for _ in range(repeat):
        for net, t, r in zip(nets, times, rates):
            start = time.perf_counter()
            result = net.run(max_spikes=spikes, engine=engine, progress=False)
            t.append((time.perf_counter() - start) / result.n_spikes)
            r.append(result.rate)
    return [(statistics.median(t), statistics.median(r)) for t, r in zip(times, rates)]


def measure(sizes, sparse_only, repeat, log=print):
    """Rows (n, sparse s/spike, reference s/spike or None, build s)."""
    rows = []
    for n in sizes + sparse_only:
        start = time.perf_counter()
        net = spp.Network("lif", n, spp.fixed_outdegree(K, -1 / K ** 0.5, seed=1), seed=2)
        build = time.perf_counter() - start
        sparse = per_spike(net, "sparse", 200_000, repeat)
        reference = None
        if n not in sparse_only:
            reference = per_spike(net, "reference", max(200, min(100_000, int(3e8 / n))), repeat)
        rows.append((n, sparse, reference, build))
        log(f"N = {n:.0e}: sparse {sparse * 1e6:.3f} us/spike, reference "
            f"{'-' if reference is None else f'{reference * 1e6:.1f} us/spike'}, build {build:.1f} s")
    return rows


def measure_time_keyed(sizes, repeat, log=print):
    """Rows (n, phase engine s/spike, time-keyed s/spike): the same homogeneous network, its
    parameters once shared and once given per neuron (one row of parameters and one period per
    neuron, as a heterogeneous network has)."""
    import numpy as np
    rows = []
    for n in sizes:
        conn = spp.fixed_outdegree(K, -1 / K ** 0.5, seed=1).build(n)
        shared = spp.Network("lif", n, conn, seed=2)
        keyed = spp.Network("lif", n, conn, seed=2, parameters={"I": np.full(n, 1.1)})
        rows.append((n, per_spike(shared, "sparse", 200_000, repeat),
                     per_spike(keyed, "sparse", 200_000, repeat)))
        log(f"N = {n:.0e}: phase {rows[-1][1] * 1e6:.3f} us/spike, time-keyed "
            f"{rows[-1][2] * 1e6:.3f} us/spike")
    return rows


def time_keyed_table(rows, repeat):
    """Markdown table of the time-keyed measurements."""
    lines = ["| N | phase engine (us/spike) | time-keyed (us/spike) | ratio | time-keyed vs N = "
             "%.0e |" % rows[0][0], "|---|---|---|---|---|"]
    for n, phase, keyed in rows:
        lines.append(f"| {n:.0e} | {phase * 1e6:.3f} | {keyed * 1e6:.3f} | {keyed / phase:.2f} | "
                     f"{keyed / rows[0][2]:.2f}x |")
    lines += ["", f"Medians of {repeat} runs of 200000 spikes after a warm-up run; target: ratio "
              f"<= 1.5."]
    return "\n".join(lines)


def brunel_network(n, seed=4):
    """The E/I network of tutorials/04 at n neurons (4:1), every neuron with 160 E and 40 I
    inputs (fixed in-degree), drives mu ~ Normal(20 mV, 3 mV) around the 20 mV threshold (about
    half subthreshold), 2 ms refractory period, g = 12."""
    import numpy as np
    model = spp.NeuronModel("dv/dt = (mu - v)/tau : 1", threshold="v >= 20", reset="v = 10",
                            parameters={"mu": 22.0, "tau": 20.0}, refractory=2.0,
                            name="brunel_lif")
    rng = np.random.default_rng(seed)
    n_e, n_i, J, g = 4 * n // 5, n // 5, 0.2, 12.0
    pops = [spp.Population("E", n_e, parameters={"mu": rng.normal(20.0, 3.0, n_e)}),
            spp.Population("I", n_i, parameters={"mu": rng.normal(20.0, 3.0, n_i)})]
    projections = [spp.Projection("E", "E", spp.fixed_indegree(160, J, seed=1)),
                   spp.Projection("E", "I", spp.fixed_indegree(160, J, seed=2)),
                   spp.Projection("I", "E", spp.fixed_indegree(40, -g * J, seed=3)),
                   spp.Projection("I", "I", spp.fixed_indegree(40, -g * J, seed=4))]
    return spp.build_network(model, pops, projections, seed=5)


def measure_ei(sizes, repeat, spikes=200_000, log=print):
    """Rows (n, s/spike, synapses per spike, Hz, share of subthreshold neurons, build s) of the
    E/I network with per-neuron drives, subthreshold neurons and refractory periods, after a
    200 ms transient."""
    rows = []
    for n in sizes:
        start = time.perf_counter()
        net = brunel_network(n)
        build = time.perf_counter() - start
        net.run(duration=200.0, progress=False)
        times, rates = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            result = net.run(max_spikes=spikes, progress=False)
            times.append((time.perf_counter() - start) / result.n_spikes)
            rates.append(result.rate)
        rows.append((n, statistics.median(times), net.csr.nnz / n, statistics.median(rates),
                     float(net.subthreshold.mean()), build))
        log(f"N = {n:.0e}: E/I network {rows[-1][1] * 1e6:.2f} us/spike, "
            f"{rows[-1][3]:.2f} Hz, build {build:.1f} s")
    return rows


def ei_table(rows, repeat):
    """Markdown table of the E/I network measurements."""
    lines = ["| N | sparse (us/spike) | vs N = %.0e | synapses per spike | synaptic events/s | "
             "rate (Hz) | subthreshold neurons | network build (s) |" % rows[0][0],
             "|---|---|---|---|---|---|---|---|"]
    for n, per_spike, k, rate, sub, build in rows:
        lines.append(f"| {n:.0e} | {per_spike * 1e6:.2f} | {per_spike / rows[0][1]:.2f}x | "
                     f"{k:.0f} | {k / per_spike:.3g} | {rate:.2f} | {sub:.0%} | {build:.1f} |")
    lines += ["", f"Medians of {repeat} runs of 200000 spikes after a 200 ms transient."]
    return "\n".join(lines)


def measure_backward(sizes, repeat, spikes=100_000, log=print):
    """Rows (n, forward s/spike with tape, backward s/spike, tape bytes/spike): a loss that
    weights every spike time (dense adjoints, the costliest case for the reverse sweep)."""
    import numpy as np
    rows = []
    for n in sizes:
        net = spp.Network("lif", n, spp.fixed_outdegree(K, -1 / K ** 0.5, seed=1), seed=2)
        net.run(max_spikes=spikes, progress=False)              # warm-up and transient
        forward, backward = [], []
        for _ in range(repeat + 1):                              # the first round compiles
            start = time.perf_counter()
            result = net.run(max_spikes=spikes, record_tape=True, progress=False)
            forward.append((time.perf_counter() - start) / result.n_spikes)
            dloss_dt = np.random.default_rng(0).normal(size=result.n_spikes)
            start = time.perf_counter()
            result.backward(dloss_dt)
            backward.append((time.perf_counter() - start) / result.n_spikes)
        tape = (result.tape.nbytes + result.i.nbytes + result.t.nbytes) / result.n_spikes
        rows.append((n, statistics.median(forward[1:]), statistics.median(backward[1:]), tape))
        log(f"N = {n:.0e}: forward+tape {rows[-1][1] * 1e6:.2f} us/spike, backward "
            f"{rows[-1][2] * 1e6:.2f} us/spike, tape {tape:.0f} B/spike")
    return rows


def backward_table(rows, repeat):
    """Markdown table of the backward measurements."""
    lines = ["| N | forward with tape (us/spike) | backward (us/spike) | backward / forward | "
             "backward vs N = %.0e | tape (bytes/spike) |" % rows[0][0],
             "|---|---|---|---|---|---|"]
    for n, forward, backward, tape in rows:
        lines.append(f"| {n:.0e} | {forward * 1e6:.2f} | {backward * 1e6:.2f} | "
                     f"{backward / forward:.2f} | {backward / rows[0][2]:.2f}x | {tape:.0f} |")
    lines += ["", f"Medians of {repeat} runs of 100000 spikes; the loss weights every spike time "
              f"(every adjoint non-zero). Tape = pre-jump phases (8 bytes per synaptic event) plus "
              f"the spikes themselves (12 bytes); target <= (K + 2) x 12 = {(K + 2) * 12} bytes."]
    return "\n".join(lines)


def table(rows, repeat):
    """Markdown table of the rows with speed-ups and synaptic events per second."""
    base = rows[0][1]
    lines = [
        f"| N | sparse (us/spike) | vs N = {rows[0][0]:.0e} | synaptic events/s (sparse) | "
        f"reference (us/spike) | speed-up | network build (s) |",
        "|---|---|---|---|---|---|---|"]
    for n, sparse, reference, build in rows:
        ref = "-" if reference is None else f"{reference * 1e6:.1f}"
        speedup = "-" if reference is None else f"{reference / sparse:.0f}x"
        lines.append(f"| {n:.0e} | {sparse * 1e6:.3f} | {sparse / base:.2f}x | {K / sparse:.3g} | "
                     f"{ref} | {speedup} | {build:.1f} |")
    lines.append("")
    lines.append(f"Medians of {repeat} timed runs per cell (200000 spikes for the sparse engine, "
                 f"up to 100000 for the reference), after a warm-up run; one thread. Both engines "
                 f"are compiled numba loops using the same generated PTC kernel.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6")
    parser.add_argument("--sparse-only", default="1e7")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    parse = lambda text: [int(float(x)) for x in text.split(",") if x]  # noqa: E731
    rows = measure(parse(args.sizes), parse(args.sparse_only), args.repeat)
    print(table(rows, args.repeat))


if __name__ == "__main__":
    main()
