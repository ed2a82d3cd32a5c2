"""Cost of delays and Poisson input (issue 11): ratios measured in one run, medians of `repeat`.

Per spike, the LIF network of benchmarks/engine.py (N neurons, K = 100, w = -0.1, I = 1.1,
tau 10 ms) with: no delay; one shared delay of 1.5 ms (a FIFO of spikes in flight); a delay per
synapse, uniform in [0.5, 3] ms (rows sorted by delay, a heap of (arrival, spike, first synapse
of one delay) entries). Per Poisson input event: N subthreshold LIF neurons (I = 0, tau 10 ms)
and no synapses, each driven by PoissonInput(n = 1000, 10 Hz, w = 0.001): the wall time of a run
divided by its input events (N x 10^4 per second of simulated time).

    python benchmarks/delays.py [--sizes 1e3,1e4,1e5,1e6] [--repeat 5] [--poisson-n 1e5]
"""
import argparse
import statistics
import time

import numpy as np

import sparseprop as spp
from engine import per_spike_alternating

K = 100


def spike_costs(n, repeat, log=print):
    """(no delay, shared delay, per-synapse delays) seconds per spike at N = n, the three
    networks timed in rotation (engine.per_spike_alternating)."""
    rng = np.random.default_rng(3)
    spikes = 200_000 if n >= 10**4 else 50_000
    nets = [spp.Network("lif", n, spp.fixed_outdegree(K, -0.1, seed=1, delay=delay), seed=2)
            for delay in (0.0, 1.5, rng.uniform(0.5, 3.0, n * K))]
    costs = [cost for cost, _ in per_spike_alternating(nets, spikes, repeat)]
    del nets
    log(f"N = {n:.0e}: no delay {costs[0] * 1e6:.2f} us/spike, shared delay "
        f"{costs[1] * 1e6:.2f} ({costs[1] / costs[0]:.2f}x), per-synapse delays "
        f"{costs[2] * 1e6:.2f} ({costs[2] / costs[0]:.2f}x)")
    return costs


def poisson_cost(n, repeat, log=print):
    """Seconds per Poisson input event at N = n (median of `repeat` runs of 100 ms)."""
    model = spp.NeuronModel("dv/dt = (I - v)/tau : 1", "v >= 1", "v = 0",
                            parameters={"I": 0.0, "tau": 10.0}, name="lif_quiet")
    drive = spp.PoissonInput(None, 1000, 10.0, 0.001)
    net = spp.Network(model, n, spp.fixed_outdegree(0, 0.0, seed=1), seed=2, inputs=[drive],
                      initial_state={"v": 0.0})
    duration = 100.0
    net.run(duration=duration, progress=False)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        net.run(duration=duration, progress=False)
        times.append(time.perf_counter() - start)
    events = n * 1000 * 10.0 * duration / 1000.0
    cost = statistics.median(times) / events
    log(f"N = {n:.0e}: Poisson input {cost * 1e9:.0f} ns/event (mean v {net.state.mean():.3f}, "
        f"shot-noise mean {10.0 * 1000 * 10.0 / 1000 * 0.001:.3f})")
    return cost


def table(rows, poisson, poisson_n, repeat):
    """Markdown: per-spike costs by N with ratios, growth, Poisson input cost."""
    lines = ["| N | no delay (us/spike) | shared delay 1.5 ms | per-synapse delays U(0.5, 3) ms |",
             "|---|---|---|---|"]
    for n, zero, shared, per in rows:
        lines.append(f"| {n:.0e} | {zero * 1e6:.2f} | {shared * 1e6:.2f} ({shared / zero:.2f}x) | "
                     f"{per * 1e6:.2f} ({per / zero:.2f}x) |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        lines.append("")
        lines.append(f"Per-spike growth N = {first[0]:.0e} -> {last[0]:.0e}: no delay "
                     f"{last[1] / first[1]:.2f}x, shared delay {last[2] / first[2]:.2f}x, "
                     f"per-synapse delays {last[3] / first[3]:.2f}x.")
    lines.append("")
    lines.append(f"Poisson input (PoissonInput, N = {poisson_n:.0e} subthreshold LIF neurons, no "
                 f"synapses): {poisson * 1e9:.0f} ns per input event (median of {repeat}).")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--poisson-n", type=float, default=1e5)
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    rows = [(n, *spike_costs(n, args.repeat)) for n in sizes]
    poisson = poisson_cost(int(args.poisson_n), args.repeat)
    print()
    print(table(rows, poisson, int(args.poisson_n), args.repeat))


if __name__ == "__main__":
    main()
