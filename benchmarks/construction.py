"""Building a stored network: wall time of `recipe.build(n)` for fixed out- and in-degree,
K = 100, and Erdos-Renyi with p = 100 / n (the compiled samplers plus the table's checks),
medians of `repeat` after one warm-up, on every core the process may use (the builders'
default) and on one thread; and the peak
memory of one more build on every core (tracemalloc, which sees numpy's and numba's arrays)
over the size of the table it made (indices and row pointers; issue 16 asks <= 1.5).

    python benchmarks/construction.py [--sizes 1e5,1e6] [--repeat 3] [--heterogeneous 1e6]

--heterogeneous N instead times `Network("lif", N, ...)` with one drive per neuron, uniform in
[0.5, 1.5] (half the neurons subthreshold), K = 1: the per-neuron parameter rows, periods and
initial states, medians of `repeat`.
"""
import argparse
import statistics
import time
import tracemalloc

import numpy as np

import sparseprop as spp
import sparseprop.connectivity as connectivity

K = 100
RECIPES = {f"fixed_outdegree({K})": lambda n: spp.fixed_outdegree(K, -0.1, seed=1),
           f"fixed_indegree({K})": lambda n: spp.fixed_indegree(K, -0.1, seed=1),
           f"erdos_renyi({K}/N)": lambda n: spp.erdos_renyi(K / n, -0.1, seed=1)}


def measure(sizes, repeat, log=print):
    """[(recipe, n, seconds on every core, seconds on one thread, cores, peak memory / table,
    synapses)] for each recipe and size."""
    for recipe in RECIPES.values():
        recipe(2 * K).build(2 * K)   # compile (or load) the samplers
    every = connectivity._threads_for
    rows = []
    for name, recipe in RECIPES.items():
        for n in sizes:
            seconds = []
            for threads in (every, lambda nnz: 1):
                connectivity._threads_for = threads
                times = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    csr = recipe(n).build(n)
                    times.append(time.perf_counter() - start)
                    del csr
                seconds.append(statistics.median(times))
            connectivity._threads_for = every
            tracemalloc.start()
            csr = recipe(n).build(n)
            peak = tracemalloc.get_traced_memory()[1] / (csr.indices.nbytes + csr.indptr.nbytes)
            tracemalloc.stop()
            nnz = csr.nnz
            cores = every(nnz)       # the threads of the default build of this table
            del csr
            rows.append((name, n, *seconds, cores, peak, nnz))
            log(f"{name} at N = {n:.0e}: {seconds[0]:.2f} s on {cores} core(s), "
                f"{seconds[1]:.2f} s on one ({seconds[1] / nnz * 1e9:.0f} ns per synapse), "
                f"peak memory {peak:.2f}x the table")
    return rows


def table(rows, repeat):
    """Markdown: build times and peak memory by recipe and size."""
    lines = ["| recipe | N | build (s), all cores | build (s), one thread | ns per synapse, one "
             "thread | peak memory / table |", "|---|---|---|---|---|---|"]
    for name, n, seconds, alone, cores, peak, nnz in rows:
        lines.append(f"| {name} | {n:.0e} | {seconds:.2f} ({cores} core{'s' * (cores > 1)}) | "
                     f"{alone:.2f} | {alone / nnz * 1e9:.0f} | {peak:.2f} |")
    lines.append("")
    lines.append(f"Medians of {repeat}.")
    return "\n".join(lines)


def heterogeneous(n, repeat, log=print):
    """Median seconds of building a LIF Network of n neurons with one drive each."""
    drives = np.random.default_rng(1).uniform(0.5, 1.5, n)
    spp.Network("lif", 100, spp.fixed_outdegree(1, 0.0, seed=1), parameters={"I": drives[:100]})
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        net = spp.Network("lif", n, spp.fixed_outdegree(1, 0.0, seed=1), seed=2,
                          parameters={"I": drives})
        times.append(time.perf_counter() - start)
        del net
    log(f"Network('lif', {n:.0e}, parameters={{'I': one per neuron}}): "
        f"{statistics.median(times):.2f} s (median of {repeat}: {times})")
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--heterogeneous", type=float, default=None)
    args = parser.parse_args()
    if args.heterogeneous:
        return heterogeneous(int(args.heterogeneous), args.repeat)
    rows = measure([int(float(s)) for s in args.sizes.split(",")], args.repeat)
    print()
    print(table(rows, args.repeat))


if __name__ == "__main__":
    main()
