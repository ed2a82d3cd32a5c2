"""The `sparseprop` command: list, explain and compile models."""
import argparse
import sys
import time

from .errors import ModelError


def _parameters(items):
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ModelError(f"--param '{item}' is not NAME=NUMBER, e.g. --param I=1.2")
    return values


def main(argv=None):
    """Entry point of the `sparseprop` command."""
    parser = argparse.ArgumentParser(prog="sparseprop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the shipped models")
    ex = sub.add_parser("explain", help="derive a model and show the derivation")
    ex.add_argument("model", help="a shipped model name (see `sparseprop models`) or a TOML file")
    ex.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a parameter")
    ex.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    ex.add_argument("--compile", action="store_true",
                    help="also generate and compile the kernels; print the cache file and PTC(T/2, w)")
    ex.add_argument("--w", type=float, default=-0.1, help="weight for the --compile check (-0.1)")
    args = parser.parse_args(argv)
    from . import list_models, load_model
    try:
        if args.command == "models":
            for name, description in list_models():
                print(f"{name:8s} {description}")
            return 0
        start = time.perf_counter()
        model = load_model(args.model, **_parameters(args.param))
        explanation = model.explain()
        print(explanation.latex if args.latex else explanation.text)
        if args.compile:
            kernels = model.compile()
            half = kernels.period() / 2
            print(f"kernels: {kernels.path}")
            print(f"PTC(T/2 = {half:.10g}, w = {args.w:g}) = {kernels.ptc(half, args.w):.17g}")
        print(f"({time.perf_counter() - start:.2f} s)", file=sys.stderr)
    except ModelError as exc:
        print(f"sparseprop: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
