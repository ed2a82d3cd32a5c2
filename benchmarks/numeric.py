"""Numeric phase maps: time to build the EIF's map from an empty cache, and its measured error.

Each run is a fresh `python -c` process with an empty SPARSEPROP_CACHE_DIR that imports
sparseprop, loads the shipped EIF (its model file asks for method "numeric"; with "auto"
SymPy first looks for a closed form for about 2.5 s), compiles its kernels and calls its PTC. The process reports its stages: SymPy's
attempt plus the numeric build (derive), the numeric build alone, rendering, numba compilation.
Prints medians of --repeat runs as a Markdown table (target: whole build <= 5 s). The package's
own numba helpers (sparseprop/numeric.py, engine/heap.py) are compiled once per installation
and come from numba's cache, as for every model.

    python benchmarks/numeric.py [--repeat 5] [--model eif]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SNIPPET = """
import json, time
t0 = time.perf_counter()
import sparseprop
from sparseprop.codegen import cache
from sparseprop.kernels import Kernels
t1 = time.perf_counter()
model = sparseprop.load_model({model!r}, **{values!r})
d = model.derive()
t2 = time.perf_counter()
source = model.source()
t3 = time.perf_counter()
k = Kernels(cache.load(cache.store(cache.model_key(model.spec()), source)), model.parameters)
k.ptc(0.5 * k.period(), -0.1)
t4 = time.perf_counter()
print(json.dumps(dict(imports=t1 - t0, derive=t2 - t1, numeric=d.numeric.seconds,
                      render=t3 - t2, compile=t4 - t3, process_inner=t4 - t0,
                      method=d.method, phase_error=d.numeric.phase_error,
                      state_error=d.numeric.state_error, period=d.numeric.period)))
"""


def one_run(model, cache, values):
    """Stages of one cold build in a fresh process (seconds), and the whole process time."""
    env = dict(os.environ, SPARSEPROP_CACHE_DIR=cache)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SNIPPET.format(model=model, values=values)],
                         env=env, check=True, capture_output=True, text=True).stdout
    stages = json.loads(out.strip().splitlines()[-1])
    stages["process"] = time.perf_counter() - start
    return stages


def measure(model="eif", repeat=5, values=None):
    """Markdown table of the cold build's stages (medians of `repeat` fresh processes)."""
    runs = []
    for k in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            runs.append(one_run(model, cache, dict(values or {})))
    rows = [("whole process (import, derive, render, compile, one PTC call)", "process", "<= 5"),
            ("  import sparseprop", "imports", ""),
            ("  derive (SymPy's attempt unless method is numeric, then the numeric map)", "derive", ""),
            ("    of which the numeric map (quadrature, fit, error measurement)", "numeric", ""),
            ("  render (Jinja2)", "render", ""),
            ("  numba compilation of the kernel module", "compile", "")]
    lines = [f"Cold build of the {model} phase map (method {runs[0]['method']}), empty cache; "
             f"medians of {repeat} fresh processes.", "",
             "| stage | median (s) | min | max | target (s) |", "|---|---|---|---|---|"]
    for label, key, target in rows:
        values_ = [r[key] for r in runs]
        lines.append(f"| {label} | {statistics.median(values_):.2f} | {min(values_):.2f} | "
                     f"{max(values_):.2f} | {target} |")
    r = runs[0]
    lines += ["", f"Measured error (relative to the period T = {r['period']:.6g} ms): phase(x) "
              f"{r['phase_error']:.2g} between the fit nodes against adaptive Gauss-Legendre quadrature; state(phase) "
              f"{r['state_error']:.2g} as |phase(state(p)) - p| (target <= 1e-10)."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default="eif")
    args = parser.parse_args()
    print(measure(args.model, args.repeat))


if __name__ == "__main__":
    main()
