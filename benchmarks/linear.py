"""Cost of neurons with a synaptic current (issue 12): lif_exp against the delta LIF, per spike,
ratios measured in one run, medians of `repeat` (the two networks of each N timed in rotation).

The LIF network of benchmarks/engine.py (N neurons, K = 100 fixed out-degree, drive 1.5, tau
10 ms, w = -0.1, about 8 Hz) and the same network of lif_exp neurons (tau_m 10 ms, tau_s 2 ms)
with w = -0.1 x tau_m / tau_s = -0.5 on the current, so that an input moves v by the same
total amount. Both run by the sparse engine (lif: the phase engine; lif_exp: keyed by a lower
bound of each neuron's next crossing, refined and made exact at the heap's root).

    python benchmarks/linear.py [--sizes 1e3,1e4,1e5,1e6] [--repeat 5]
"""
import argparse

import sparseprop as spp
from engine import per_spike_alternating

K = 100
DRIVE, TAU_M, TAU_S, W = 1.5, 10.0, 2.0, -0.1


def spike_costs(n, repeat, log=print):
    """((lif s/spike, rate Hz), (lif_exp s/spike, rate Hz)) at N = n, the two networks timed
    in rotation (engine.per_spike_alternating)."""
    spikes = 200_000 if n >= 10**4 else 50_000
    lif = spp.load_model("lif", I=DRIVE, tau=TAU_M)
    lif_exp = spp.load_model("lif_exp", Ie=DRIVE, tau_m=TAU_M, tau_s=TAU_S)
    nets = [spp.Network(model, n, spp.fixed_outdegree(K, w, seed=1), seed=2)
            for model, w in ((lif, W), (lif_exp, W * TAU_M / TAU_S))]
    out = per_spike_alternating(nets, spikes, repeat)
    (a, ra), (b, rb) = out
    log(f"N = {n:.0e}: lif {a * 1e6:.2f} us/spike ({ra:.1f} Hz), lif_exp {b * 1e6:.2f} us/spike "
        f"({rb:.1f} Hz): {b / a:.2f}x")
    return out


def table(rows, repeat):
    """Markdown: per-spike costs by N, ratio, growth."""
    lines = [f"| N | lif, delta synapses (us/spike) | lif_exp, current tau_s = {TAU_S:g} ms "
             f"(us/spike) | ratio |", "|---|---|---|---|"]
    for n, (a, ra), (b, rb) in rows:
        lines.append(f"| {n:.0e} | {a * 1e6:.2f} ({ra:.1f} Hz) | {b * 1e6:.2f} ({rb:.1f} Hz) | "
                     f"{b / a:.2f}x |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        lines += ["", f"Per-spike growth N = {first[0]:.0e} -> {last[0]:.0e}: lif "
                  f"{last[1][0] / first[1][0]:.2f}x, lif_exp {last[2][0] / first[2][0]:.2f}x "
                  f"(medians of {repeat})."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    rows = [(n, *spike_costs(n, args.repeat)) for n in sizes]
    print()
    print(table(rows, args.repeat))


if __name__ == "__main__":
    main()
