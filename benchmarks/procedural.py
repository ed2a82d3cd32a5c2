"""Procedural connectivity at scale: cost per spike, build time and peak memory from N = 10^3
to 10^8 beside the stored table where it fits, and long runs at 10^8 and 10^9; writes
benchmarks/RESULTS-procedural.md.

    python benchmarks/procedural.py [--sizes 1e3,1e4,1e5,1e6,1e7,1e8] [--stored 1e3,1e4,1e5,1e6]
                                    [--repeat 5] [--spikes 200000] [--long 1e8:1e7,1e9:1e6]

The peers' network (LIF, tau 10 ms, I = 1.5, K = 100, w = -0.1, about 8.4 Hz), one thread,
each size in a fresh process (its peak RSS is the process's): build, a warm-up run of 20,000
spikes, then --repeat timed runs of --spikes spikes (medians). --long N:S adds one run of S
spikes at N (issue 16: 10^8 neurons / 10^7 spikes, 10^9 / 10^6), timed once, without a
warm-up; a size that does not fit in the available memory is reported and skipped.
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import machine  # noqa: E402

K, W, DRIVE, SEED = 100, -0.1, 1.5, 1


def one(n, procedural, repeat, spikes, warm=True):
    """In this process: build, warm up (unless not `warm`: a long run, its model compiled by
    earlier processes), time; returns a dict of the figures."""
    import sparseprop as spp
    began = time.perf_counter()
    net = spp.Network("lif", n, spp.fixed_outdegree(K, W, seed=SEED, procedural=procedural),
                      seed=2, parameters={"I": DRIVE, "tau": 10.0})
    build = time.perf_counter() - began
    if warm:
        net.run(max_spikes=20_000)
    costs, calls, rate = [], [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = net.run(max_spikes=spikes)
        calls.append(time.perf_counter() - began)
        costs.append(result.wall_time / result.n_spikes)
        rate = result.n_spikes / n / ((result.t_end - result.t_start) / 1000.0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"n": n, "procedural": procedural, "build_s": build,
            "us_per_spike": 1e6 * statistics.median(costs), "runs": [1e6 * c for c in costs],
            "call_s": calls, "rate_hz": rate, "peak_rss": rss, "spikes": spikes}


def measure(n, procedural, repeat, spikes, log=print, warm=True):
    """`one` in a fresh process."""
    code = (f"import sys, json; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
            f"import procedural; print(json.dumps(procedural.one({n}, {procedural}, "
            f"{repeat}, {spikes}, {warm})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:   # e.g. a ModelError: the network does not fit in memory here
        log(f"N = {n:.0e}: failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        return None
    row = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"N = {n:.0e} {'procedural' if procedural else 'stored'}: "
        f"{row['us_per_spike']:.2f} us/spike, build {row['build_s']:.1f} s, "
        f"peak RSS {row['peak_rss'] / 2**20:.0f} MiB")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6,1e7,1e8")
    parser.add_argument("--stored", default="1e3,1e4,1e5,1e6")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--spikes", type=int, default=200_000)
    parser.add_argument("--long", default="1e8:1e7,1e9:1e6")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    stored = [int(float(s)) for s in args.stored.split(",") if s]
    rows = {}
    for n in sizes:
        rows[n, True] = measure(n, True, args.repeat, args.spikes)
        if n in stored:
            rows[n, False] = measure(n, False, args.repeat, args.spikes)
    long = []
    for item in filter(None, args.long.split(",")):
        n, s = (int(float(v)) for v in item.split(":"))
        long.append(measure(n, True, 1, s, warm=False))
    first = rows[sizes[0], True]["us_per_spike"]
    text = [
        "# Procedural connectivity at scale",
        "",
        f"Command: `python benchmarks/procedural.py --sizes {args.sizes} --stored {args.stored} "
        f"--repeat {args.repeat} --spikes {args.spikes} --long {args.long}`  ",
        f"Machine: {machine()}; one thread; each size in a fresh process.",
        "",
        f"The peers' network: LIF (tau 10 ms, I = {DRIVE}), fixed out-degree K = {K}, w = {W}; "
        f"medians of {args.repeat} runs of {args.spikes:,} spikes after a warm-up of 20,000.",
        "",
        "| N | table | us per spike | vs smallest N | synaptic events/s | rate (Hz) | build (s) "
        "| peak RSS (MiB) | bytes per neuron (peak RSS / N) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (n, procedural), row in rows.items():
        if row is None:
            continue
        text.append(
            f"| {n:.0e} | {'procedural' if procedural else 'stored'} | "
            f"{row['us_per_spike']:.2f} | {row['us_per_spike'] / first:.2f}x | "
            f"{K / row['us_per_spike'] * 1e6:.3g} | {row['rate_hz']:.2f} | "
            f"{row['build_s']:.1f} | {row['peak_rss'] / 2**20:.0f} | "
            f"{row['peak_rss'] / n:.0f} |")
    for row in filter(None, long):
        text += ["", f"Long run (no warm-up): N = {row['n']:.0e}, {row['spikes']:,} spikes in "
                     f"{row['runs'][0] * row['spikes'] / 1e6:.1f} s ({row['us_per_spike']:.2f} us "
                     f"per spike; the whole run call, with compiled code loaded and the end "
                     f"state made, {row['call_s'][0]:.1f} s), rate {row['rate_hz']:.2f} Hz, "
                     f"build {row['build_s']:.1f} s, peak RSS {row['peak_rss'] / 2**30:.2f} GiB "
                     f"({row['peak_rss'] / row['n']:.1f} bytes per neuron)."]
    path = Path(__file__).resolve().parent / "RESULTS-procedural.md"
    path.write_text("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
