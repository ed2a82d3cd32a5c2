"""Code-generation latency: import sparseprop, load the LIF, compile it, call its PTC.

Each measurement is a fresh `python -c` process (wall time of the whole process, so imports
count). Cold: an empty cache folder (SymPy derivation, rendering, numba compilation). Warm: the
same folder again (generated module and numba machine code from disk). Prints medians of
--repeat runs (benchmarks/run.py puts them into RESULTS.md).

    python benchmarks/latency.py [--repeat 5] [--model lif]
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

SNIPPET = ("import sparseprop; k = sparseprop.load_model({model!r}).compile(); "
           "print(k.ptc(0.5 * k.period(), -0.1))")


def one_run(model, cache):
    env = dict(os.environ, SPARSEPROP_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", SNIPPET.format(model=model)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(model="lif", repeat=5):
    """Markdown table of cold and warm latency (medians of `repeat` fresh processes)."""
    cold, warm = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(one_run(model, cache))
            warm.append(one_run(model, cache))
    return "\n".join([
        f"Whole fresh process: import sparseprop, load the {model} model, compile it, call its "
        f"PTC; medians of {repeat} runs.",
        "",
        "| cache | median wall time (s) | min | max | target |",
        "|---|---|---|---|---|",
        f"| empty (cold) | {statistics.median(cold):.2f} | {min(cold):.2f} | {max(cold):.2f} | <= 5 |",
        f"| warm | {statistics.median(warm):.2f} | {min(warm):.2f} | {max(warm):.2f} | <= 1 |",
        "",
        f"SciPy importable: {importlib.util.find_spec('scipy') is not None} (numba imports "
        f"scipy.linalg when it loads cached machine code, if SciPy is installed)",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default="lif")
    args = parser.parse_args()
    print(measure(args.model, args.repeat))


if __name__ == "__main__":
    main()
