"""Strong scaling of distributed runs (issue 15): 1 and 2 processes (mpiexec) on one network.

The peers' network with a delay: N LIF neurons (I = 1.5, tau 10 ms), fixed in-degree K = 100,
w = -0.1, delay 1.5 ms. For each number of processes R: the build time, then `repeat` runs of
`duration` ms (after a warm-up run of the same length); per run the wall time per simulated
second, the share of it spent in the exchange (MPI_Allgatherv and its handshake, process 0),
the windows and the bytes process 0 sent and received; per process its peak RSS and the bytes
of its synapse table. Medians of `repeat`; every figure from one invocation.

    python benchmarks/distributed.py [-n 1e6] [--duration 100] [--repeat 3] [--ranks 1,2]
        [--out benchmarks/RESULTS-distributed.md]

Needs the mpi extra (pip install '.[mpi]'). The spikes of R processes equal R = 1's to the
last bit (tests/test_distributed.py); this script checks the spike counts agree.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

K, W, DELAY, DRIVE = 100, -0.1, 1.5, 1.5


def worker(n, duration, repeat, out):
    """Under mpiexec: build, warm up, time `repeat` runs; process 0 writes a JSON line per
    process (gathered)."""
    import sparseprop as spp
    start = time.perf_counter()
    net = spp.build_network("lif", [spp.Population("N", n, {"I": DRIVE})], [spp.Projection(
        "N", "N", spp.fixed_indegree(K, W, seed=1, delay=DELAY))], seed=2, distributed=True)
    built = time.perf_counter() - start
    csr = net.local.csr
    table = csr.indices.nbytes + csr.indptr.nbytes
    net.run(duration)   # warm-up: compilation, transient
    runs = []
    for _ in range(repeat):
        comm = net.comm
        w0, b0, s0 = comm.windows, comm.bytes, comm.seconds
        start = time.perf_counter()
        result = net.run(duration)
        wall = time.perf_counter() - start
        spikes = result.gather()
        runs.append({"wall": wall, "exchange": comm.seconds - s0, "windows": comm.windows - w0,
                     "bytes": comm.bytes - b0, "spikes": None if spikes is None else
                     spikes.n_spikes})
    me = {"rank": net.rank, "size": net.size, "build": built, "table_bytes": table,
          "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "runs": runs}
    everyone = net.comm.gather(me)
    if everyone is not None:
        with open(out, "w") as handle:
            json.dump(everyone, handle)


def measure(size, n, duration, repeat):
    """Run the worker in `size` processes; its per-process records."""
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        subprocess.run([mpiexec, "-n", str(size), sys.executable, os.path.abspath(__file__),
                        "--worker", "-n", str(n), "--duration", str(duration), "--repeat",
                        str(repeat), "--out", out], check=True)
        with open(out) as handle:
            return json.load(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=float, default=1e6)
    parser.add_argument("--duration", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = int(args.n)
    if args.worker:
        worker(n, args.duration, args.repeat, args.out)
        return
    rows, spikes = [], {}
    for size in map(int, args.ranks.split(",")):
        records = measure(size, n, args.duration, args.repeat)
        zero = records[0]["runs"]
        per_second = statistics.median(r["wall"] for r in zero) / (args.duration / 1000.0)
        share = statistics.median(r["exchange"] / r["wall"] for r in zero)
        spikes[size] = [r["spikes"] for r in zero]
        rows.append((size, per_second, share, zero[0]["windows"], zero[0]["bytes"],
                     max(r["build"] for r in records),
                     [r["peak_rss"] / 2**20 for r in records],
                     [r["table_bytes"] / 2**20 for r in records]))
        print(rows[-1], flush=True)
    base = rows[0][1]
    lines = [f"N = {n:,}, K = {K}, w = {W}, delay {DELAY} ms, LIF I = {DRIVE}: {args.repeat} "
             f"runs of {args.duration:g} ms per process count (medians); spikes of each "
             f"run: {spikes} (the same for every process count: "
             f"{len({tuple(v) for v in spikes.values()}) == 1})", "",
             "| processes | s per simulated s | speed-up | exchange share (process 0) | "
             "windows per run | bytes exchanged per run (process 0) | build s | peak RSS "
             "per process (MiB) | synapse table per process (MiB) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for size, per_second, share, windows, sent, built, rss, table in rows:
        lines.append(f"| {size} | {per_second:.1f} | {base / per_second:.2f}x | "
                     f"{100 * share:.1f} % | {windows} | {sent / 2**20:.1f} MiB | {built:.1f} | "
                     f"{', '.join(f'{x:.0f}' for x in rss)} | "
                     f"{', '.join(f'{x:.0f}' for x in table)} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write("# Distributed runs: strong scaling (benchmarks/distributed.py)\n\n"
                         + text + "\n")


if __name__ == "__main__":
    main()
