"""Building a stored network: wall time of `recipe.build(n)` for fixed out- and in-degree,
K = 100 (the compiled samplers plus the table's checks), medians of `repeat` after one warm-up.

    python benchmarks/construction.py [--sizes 1e5,1e6] [--repeat 3]
"""
import argparse
import statistics
import time

import sparseprop as spp

K = 100
RECIPES = {"fixed_outdegree": spp.fixed_outdegree, "fixed_indegree": spp.fixed_indegree}


def measure(sizes, repeat, log=print):
    """[(recipe, n, seconds)] for each recipe and size."""
    for recipe in RECIPES.values():
        recipe(K, -0.1, seed=1).build(2 * K)   # compile (or load) the samplers
    rows = []
    for name, recipe in RECIPES.items():
        for n in sizes:
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                csr = recipe(K, -0.1, seed=1).build(n)
                times.append(time.perf_counter() - start)
                del csr
            rows.append((name, n, statistics.median(times)))
            log(f"{name}({K}) at N = {n:.0e}: {rows[-1][2]:.2f} s "
                f"({rows[-1][2] / (n * K) * 1e9:.0f} ns per synapse)")
    return rows


def table(rows, repeat):
    """Markdown: build times by recipe and size."""
    lines = ["| recipe | N | build (s) | ns per synapse |", "|---|---|---|---|"]
    for name, n, seconds in rows:
        lines.append(f"| {name}({K}) | {n:.0e} | {seconds:.2f} | {seconds / (n * K) * 1e9:.0f} |")
    lines.append("")
    lines.append(f"Medians of {repeat}, one thread.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = measure([int(float(s)) for s in args.sizes.split(",")], args.repeat)
    print()
    print(table(rows, args.repeat))


if __name__ == "__main__":
    main()
