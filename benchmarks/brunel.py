"""Brunel (2000) in sparseprop beside NEST's exact iaf_psc_delta_ps: rates of E and I, mean CV
of inter-spike intervals, wall time, per regime (tutorials/05_brunel_2000.py builds the network;
benchmarks/brunel_nest.py runs NEST in its own virtual environment and writes the JSON read here).

    python benchmarks/brunel_nest.py --install                 # once: NEST into its own venv
    python benchmarks/brunel_nest.py --scale 0.1 --out benchmarks/nest/brunel_nest_scale0.1.json
    python benchmarks/brunel.py --scale 0.1 --nest benchmarks/nest/brunel_nest_scale0.1.json
    python benchmarks/brunel.py --scale 1 --regimes AI --nest benchmarks/nest/brunel_nest_full.json
"""
import argparse
import json
import runpy
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--transient", type=float, default=100.0)
    parser.add_argument("--regimes", default="SR,AI,SIfast,SIslow")
    parser.add_argument("--nest", default=None, help="JSON written by brunel_nest.py")
    args = parser.parse_args()
    tutorial = runpy.run_path(str(ROOT / "tutorials" / "05_brunel_2000.py"))
    nest = {}
    if args.nest:
        data = json.loads(Path(args.nest).read_text())
        nest = {r["regime"]: r for r in data.get("results", data.get("regimes", []))}
    print(f"scale {args.scale} (N_E = {int(round(10_000 * args.scale))}), {args.duration:g} ms, "
          f"first {args.transient:g} ms discarded")
    print("| regime | g | eta | rate E (sp / NEST) Hz | rate I (sp / NEST) Hz | mean CV (sp / NEST) "
          "| build s (sp / NEST) | simulate s (sp / NEST) |")
    print("|---|---|---|---|---|---|---|---|")
    for regime in args.regimes.split(","):
        g, eta = tutorial["REGIMES"][regime]
        start = time.perf_counter()
        net = tutorial["brunel"](g, eta, args.scale)
        build = time.perf_counter() - start
        result = net.run(duration=args.duration, progress=False)
        rates, cv, _ = tutorial["statistics"](result, args.transient)
        other = nest.get(regime, {})

        def pair(ours, key, digits=2):
            theirs = other.get(key)
            return f"{ours:.{digits}f} / " + (f"{theirs:.{digits}f}" if theirs is not None
                                               else "-")
        print(f"| {regime} | {g} | {eta} | {pair(rates['E'], 'rate_E_Hz')} | "
              f"{pair(rates['I'], 'rate_I_Hz')} | {pair(cv, 'cv_isi_mean_all', 3)} | "
              f"{pair(build, 'build_s', 1)} | {pair(result.wall_time, 'simulate_s', 1)} |",
              flush=True)


if __name__ == "__main__":
    main()
