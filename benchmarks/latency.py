"""Code-generation latency: import sparseprop, load the LIF, compile it, call its PTC.

Each measurement is a fresh `python -c` process (wall time of the whole process, so imports
count). Cold: an empty cache folder (SymPy derivation, rendering, numba compilation). Warm: the
same folder again (generated module and numba machine code from disk). Prints medians of
--repeat runs and writes them to benchmarks/RESULTS-latency.md.

    python benchmarks/latency.py [--repeat 5] [--model lif]
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNIPPET = ("import sparseprop; k = sparseprop.load_model({model!r}).compile(); "
           "print(k.ptc(0.5 * k.period(), -0.1))")


def one_run(model, cache):
    env = dict(os.environ, SPARSEPROP_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", SNIPPET.format(model=model)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default="lif")
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(one_run(args.model, cache))
            warm.append(one_run(args.model, cache))
    lines = [
        f"# Code-generation latency ({args.model})",
        "",
        f"Command: `python benchmarks/latency.py --repeat {args.repeat} --model {args.model}`; "
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Whole fresh process: import sparseprop, load the model, compile it, call its PTC.",
        "",
        "| cache | median wall time (s) | min | max | target |",
        "|---|---|---|---|---|",
        f"| empty (cold) | {statistics.median(cold):.2f} | {min(cold):.2f} | {max(cold):.2f} | <= 10 |",
        f"| warm | {statistics.median(warm):.2f} | {min(warm):.2f} | {max(warm):.2f} | <= 1.5 |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (Path(__file__).parent / "RESULTS-latency.md").write_text(text)


if __name__ == "__main__":
    main()
