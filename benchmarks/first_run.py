"""Cold start of the event loops: a fresh process with an empty kernel cache builds a 100-neuron
LIF network with per-synapse delays and runs 100 spikes on the sparse engine (derive, render and
compile the model and its sparse loop), then a zero-delay one on the reference engine (its
loop); medians of `repeat` processes, in seconds.

    python benchmarks/first_run.py [--repeat 3]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile

CHILD = """
import json, os, sys, time
os.environ["SPARSEPROP_CACHE_DIR"] = sys.argv[1]
t0 = time.perf_counter()
import numpy as np
import sparseprop as spp
t1 = time.perf_counter()
delays = np.random.default_rng(0).uniform(0.5, 3.0, 1000)
spp.Network("lif", 100, spp.fixed_outdegree(10, -0.1, seed=1, delay=delays),
            seed=2).run(max_spikes=100, progress=False)
t2 = time.perf_counter()
spp.Network("lif", 100, spp.fixed_outdegree(10, -0.1, seed=1), seed=2).run(
    max_spikes=100, progress=False, engine="reference")
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "sparse": t2 - t1, "reference": t3 - t2}))
"""


def measure(repeat, log=print):
    """Median seconds of each stage over `repeat` fresh processes with empty caches."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            out = subprocess.run([sys.executable, "-c", CHILD, cache], check=True,
                                 capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    log(f"import {medians['import']:.1f} s, sparse first run {medians['sparse']:.1f} s, "
        f"reference first run {medians['reference']:.1f} s (medians of {repeat})")
    return medians


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    measure(parser.parse_args().repeat)


if __name__ == "__main__":
    main()
