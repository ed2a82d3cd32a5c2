"""Cost of a state monitor (issue 14): a run of the LIF network of benchmarks/engine.py (N = 10^5,
K = 100, drive 1.5, w = -0.1, about 8 Hz) with and without recording v of 1000 neurons at 1000
times (dt = 0.1 ms over 100 ms), alternately, from the same stored state; medians of `repeat`
(run wall time, compilation excluded). Also lif_exp recording v and I.

    python benchmarks/monitor.py [--n 1e5] [--repeat 3]
"""
import argparse
import statistics

import numpy as np

import sparseprop as spp

K, DRIVE, TAU_M, TAU_S, W = 100, 1.5, 10.0, 2.0, -0.1
DURATION, DT, RECORDED = 100.0, 0.1, 1000


def costs(model, w, n, repeat, variables, log=print):
    """(seconds without, seconds with the monitor, samples, spikes): medians of `repeat`."""
    net = spp.Network(model, n, spp.fixed_outdegree(K, w, seed=1), seed=2)
    net.run(duration=50.0, progress=False)          # compilation and transient
    who = np.random.default_rng(3).choice(n, RECORDED, replace=False)
    record = {v: who for v in variables}
    record["dt"] = DT
    net.store()
    net.run(duration=1.0, record=record, progress=False)   # the monitor's compilation
    plain, monitored = [], []
    for _ in range(repeat):
        net.restore()
        a = net.run(duration=DURATION, progress=False)
        net.restore()
        b = net.run(duration=DURATION, record=record, progress=False)
        assert np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
        plain.append(a.wall_time)
        monitored.append(b.wall_time)
    without, with_ = statistics.median(plain), statistics.median(monitored)
    log(f"{model.name} N = {n:.0e}: {a.n_spikes} spikes in {DURATION:g} ms; without monitor "
        f"{without:.3f} s, recording {', '.join(variables)} of {RECORDED} neurons at "
        f"{b.state_times.size} times {with_:.3f} s: {with_ / without:.2f}x")
    return without, with_, b.state_times.size, a.n_spikes


def table(rows, repeat):
    """Markdown: run time without and with the monitor, by model."""
    lines = ["| model, recorded | spikes | without (s) | with (s) | ratio |", "|---|---|---|---|---|"]
    for name, (without, with_, samples, spikes) in rows:
        lines.append(f"| {name}, {RECORDED} neurons x {samples} times | {spikes} | "
                     f"{without:.3f} | {with_:.3f} | {with_ / without:.2f}x |")
    lines += ["", f"Medians of {repeat}, alternating runs from one stored state."]
    return "\n".join(lines)


def measure(n, repeat, log=print):
    """[(label, costs)] for lif (v) and lif_exp (v and I)."""
    return [("lif, v", costs(spp.load_model("lif", I=DRIVE, tau=TAU_M), W, n, repeat, ["v"],
                             log)),
            ("lif_exp, v and I", costs(spp.load_model("lif_exp", Ie=DRIVE, tau_m=TAU_M,
                                                      tau_s=TAU_S), W * TAU_M / TAU_S, n,
                                       repeat, ["v", "I"], log))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1e5")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = measure(int(float(args.n)), args.repeat)
    print()
    print(table(rows, args.repeat))


if __name__ == "__main__":
    main()
